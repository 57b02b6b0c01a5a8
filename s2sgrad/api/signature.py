"""Signatures and ``wrt``: which argument a gradient is taken with respect to, whether
it can carry one, and the key of a call's arguments (what the generated code is
specialized on).  One place for every s2sgrad callable."""
from __future__ import annotations

import functools
import inspect
import types
from typing import Callable, Sequence, Tuple, Union

import numpy as np

from s2sgrad.api.nesting import is_transform
from s2sgrad.callables import STATIC_TYPES
from s2sgrad.errors import WrtError
from s2sgrad.objects import is_object, signature_of
from s2sgrad.runtime.duck import duck_key, has_unknown_shape, is_duck_array

Wrt = Union[int, str, Sequence[Union[int, str]]]

_ndarray = np.ndarray


# Non-float scalars (ints, bools, None, strings, tuples of those) typically act as
# static configuration -- a slice bound, an axis, a reshape size -- and the generated
# code is specialized on the shapes they produce, so their *value* is part of the key.
_VALUE_KEYED = frozenset([int, bool, str, type(None), tuple, np.int64, np.int32, np.intp,
                          np.bool_])


class Callable_:
    """Marks a signature element ``(Callable_, f)``: the argument is the callable f
    (compared by identity; a partial by its function and its arguments' keys)."""

    s2s_identity = True     # (dispatch.py tests it with 'is')


_LITERAL = frozenset([int, float, bool, str, type(None), complex])


def _callable_key(a):
    if type(a) is functools.partial:      # (not a subclass: a grad object is by identity)
        # its function by identity, its bound arguments as any argument (the generated
        # code reads them from the partial when it runs)
        return (functools.partial, (_key_of(a.func), tuple(_key_of(v) for v in a.args),
                                    tuple(sorted((k, _key_of(v)) for k, v in
                                                 a.keywords.items()))))
    if type(a) is types.FunctionType and a.__closure__ is None and not a.__kwdefaults__ \
            and all(type(d) in _LITERAL for d in a.__defaults__ or ()):
        # a function without closure cells: by its code (the code inlined), module and
        # defaults, so a lambda made anew at each call of a training loop has one code
        return (types.FunctionType, (a.__code__, a.__globals__.get("__name__"),
                                     id(a.__globals__), a.__defaults__))
    # a bound method: its function, and its object as any argument (read when it runs;
    # a method object is made anew at each attribute access)
    if isinstance(a, types.MethodType):
        return (types.MethodType, (a.__func__, _key_of(a.__self__)))
    owner = getattr(a, "__self__", None)
    if isinstance(a, types.BuiltinMethodType) and owner is not None \
            and not isinstance(owner, types.ModuleType):
        return (types.BuiltinMethodType, (type(owner), a.__name__, _key_of(owner)))
    return (Callable_, a)


def _key_of(a, values=True):
    t = type(a)
    if t is _ndarray:
        return (a.shape, a.dtype)
    if t is list or t is dict or t is tuple:
        # containers (params dicts, lists of weights, axis tuples, (w, b) float pairs):
        # their structure and leaves -- ints by value, floats by type, arrays by shape
        items = a.items() if t is dict else enumerate(a)
        return (t, tuple((k, _key_of(v, values)) for k, v in items))
    if isinstance(a, STATIC_TYPES):
        return _callable_key(a)
    if t not in _TYPE_KEYED and is_duck_array(a):
        # a Dask (or other __array_function__) array: specialized on its shape and
        # dtype as an ndarray is (runtime/duck.py)
        if has_unknown_shape(a):
            raise WrtError(
                "an argument is a %s.%s of unknown shape %s: s2sgrad specializes the "
                "generated code on the shapes of the first call"
                % (t.__module__.split(".")[0], t.__name__, a.shape),
                hint="give it known chunk sizes first (Dask: x.compute_chunk_sizes(), "
                     "or build it with known chunks)")
        return duck_key(a)
    if values and t in _VALUE_KEYED:
        try:
            hash(a)
        except TypeError:
            return t
        return (t, a)
    if t not in _TYPE_KEYED and is_object(a):
        # an object: its class and its attributes' structure (see objects.py)
        return signature_of(a, _key_of, values)
    return t


def _loose_signature(args) -> tuple:
    """The signature without argument values: types, shapes and dtypes only."""
    return tuple([(a.shape, a.dtype) if type(a) is _ndarray else _key_of(a, False)
                  for a in args])


# After this many value-specializations of one loose signature (an int argument that
# changes on every call: a step counter, a batch index), further values use the generic,
# shape-agnostic version instead of generating code once per value.
_MAX_VALUE_VARIANTS = 8


def _reduced(key: tuple, positions) -> tuple:
    """``key`` without the values of the int arguments at ``positions`` (ints that
    only enter arithmetic: staticargs.py): ``(int, 5)`` becomes ``int``."""
    return tuple([k[0] if i in positions and type(k) is tuple and len(k) == 2
                  and isinstance(k[0], type) and k[0] not in (list, dict, tuple) else k
                  for i, k in enumerate(key)])


def _with_values(key: tuple, args, positions) -> tuple:
    """``key`` with the values of the arguments at ``positions`` (``static=``)."""
    out = list(key)
    for i in positions:
        if i < len(args):
            a = args[i]
            try:
                hash(a)
            except TypeError:
                raise TypeError("a static argument must be hashable (it keys the generated "
                                "code); argument %d is a %s" % (i, type(a).__name__)) from None
            out[i] = (type(a), a) if type(a) not in (list, dict, tuple) else out[i]
    return tuple(out)


# Keyed by their type alone, tested before the call to _key_of (the hot path).
_TYPE_KEYED = frozenset([float, np.float64, np.float32])


def _signature(args) -> tuple:
    """What the generated code is specialized on: types, shapes and dtypes (values of
    int/bool/None/str/tuple arguments).  GradientFunction.__call__ inlines this."""
    return tuple([(a.shape, a.dtype) if (t := type(a)) is _ndarray
                  else t if t in _TYPE_KEYED else _key_of(a) for a in args])


def _located(fn: Callable) -> dict:
    """function / file / line of ``fn``'s ``def``, for error messages."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return {"function": getattr(fn, "__name__", "function"),
            "filename": code.co_filename if code is not None else None,
            "lineno": code.co_firstlineno if code is not None else None}


def arity(sig: inspect.Signature) -> int:
    """The number of arguments a call that needs no binding passes; -1 with *args or
    **kwargs (every call binds: the generated code takes their tuple and dict as
    arguments of their own, as it takes keyword-only ones)."""
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
        return -1
    return len(sig.parameters)


def _resolve_wrt(fn: Callable, wrt: Wrt) -> Tuple[Tuple[int, ...], bool]:
    name = getattr(fn, "__name__", "function")
    try:
        params = list(inspect.signature(fn).parameters.values())
        known = True
    except (TypeError, ValueError):
        # no signature (a C callable, a ufunc of an older NumPy): a first call will say
        # what is wrong with it; an index cannot be checked here
        params, known = [], False
    # every parameter, in signature order: *args is one parameter (a tuple, its
    # gradient a tuple), keyword-only ones and **kwargs (a dict) follow
    positional = [p.name for p in params]
    single = isinstance(wrt, (int, str)) and not isinstance(wrt, bool)
    items = [wrt] if single else list(wrt) if isinstance(wrt, (tuple, list)) else None
    if items is None or not items:
        raise WrtError("wrt must be an int, a parameter name, or a non-empty tuple of those; "
                       "got %r" % (wrt,), **_located(fn),
                       hint="for example wrt=0, wrt='x' or wrt=(0, 'b')")
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise WrtError("wrt entries must be ints or parameter names; got %r" % (item,),
                           **_located(fn), hint="for example wrt=(0, 'b')")
        path = ()
        if isinstance(item, str) and "." in item:
            # an attribute path: wrt="self.params" (see objects.py)
            item, *attrs = item.split(".")
            path = tuple(attrs)
            if not all(a.isidentifier() for a in path):
                raise WrtError("wrt=%r is not an attribute path" % (".".join((item,) + path),),
                               **_located(fn), hint="for example wrt='self.params'")
        if isinstance(item, str):
            if item not in positional:
                raise WrtError("%r is not a parameter of %s; its parameters are %s"
                               % (item, name, ", ".join(positional) or "(none)"),
                               **_located(fn), hint="use one of the parameter names")
            idx = positional.index(item)
        else:
            idx = item
            if known and not 0 <= idx < len(positional):
                plain = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                            for p in params)
                raise WrtError("wrt=%d is out of range: %s has %d %sparameter(s)"
                               % (idx, name, len(positional), "positional " if plain else ""),
                               **_located(fn),
                               hint="use an index from 0 to %d" % (len(positional) - 1))
        entry = (idx, path) if path else idx
        if entry in out:
            raise WrtError("parameter %r is listed twice in wrt" % ".".join(
                (positional[idx],) + path), **_located(fn), hint="list each parameter once")
        out.append(entry)
    return tuple(out), not single


def _holds_object(a, depth=0) -> bool:
    items = a.values() if isinstance(a, dict) else a
    return depth < 3 and any(is_object(v) or isinstance(v, (list, tuple, dict))
                             and _holds_object(v, depth + 1) for v in items)


def _shifted(wrt):
    """wrt of a bound method's caller (0 is its first argument after self) as wrt of
    its function."""
    if isinstance(wrt, int) and not isinstance(wrt, bool):
        return wrt + 1
    if isinstance(wrt, (tuple, list)):
        return type(wrt)(_shifted(w) if isinstance(w, int) else w for w in wrt)
    return wrt


def _float_leaves(a) -> bool:
    """A (nested) list / tuple / dict whose leaves are all floats or float arrays."""
    items = a.values() if isinstance(a, dict) else a
    if not len(items):
        return False
    for v in items:
        if is_object(v):
            continue            # its attributes' gradients (objects.py)
        if isinstance(v, (list, tuple, dict)):
            if not _float_leaves(v):
                return False
        elif not (isinstance(v, (float, complex, np.floating, np.complexfloating)) or (
                isinstance(v, np.ndarray) and v.dtype.kind in "fc")):
            return False
    return True


def _is_transform(fn) -> bool:
    """Is ``fn`` itself an s2sgrad transform (grad of grad, jvp of grad, hessian)?"""
    return is_transform(fn)


def _check_differentiable(fn, wrt, args):
    name = getattr(fn, "__name__", "function")
    params = list(inspect.signature(fn).parameters)
    for i in wrt:
        path = ()
        if isinstance(i, tuple):
            i, path = i
        a = args[i]
        pname = params[i] if i < len(params) else str(i)
        for attr in path:
            if not is_object(a) or not hasattr(a, attr):
                raise WrtError("wrt=%r: %s has no attribute %r" % (
                    ".".join((pname,) + path), type(a).__name__, attr), **_located(fn),
                    hint="name an attribute the object holds, e.g. wrt='self.params'")
            a = getattr(a, attr)
            pname = pname + "." + attr
        if is_object(a):
            continue        # its gradient holds its attributes' (see objects.py)
        if (isinstance(a, (complex, np.complexfloating)) or (
                isinstance(a, np.ndarray) and a.dtype.kind == "c")) and _is_transform(fn):
            raise WrtError("argument %r of %s is complex: second derivatives (hessian, hvp, "
                           "grad of grad) with respect to complex values are not supported"
                           % (pname, name), **_located(getattr(fn, "__wrapped__", fn)),
                           hint="see docs/complex.md; differentiate with respect to the real "
                                "and imaginary parts as separate real arguments")
        if isinstance(a, (bool, np.bool_)) or (isinstance(a, np.ndarray) and a.dtype == bool):
            kind = "a boolean"
        elif isinstance(a, (int, np.integer)):
            kind = "an integer"
        elif isinstance(a, np.ndarray) and a.dtype.kind in "iu":
            kind = "an integer array of dtype %s" % a.dtype
        elif isinstance(a, np.ndarray) and a.dtype.kind not in "fc":
            raise WrtError("argument %r of %s is an array of dtype %s, which has no gradient"
                           % (pname, name, a.dtype), **_located(fn),
                           hint="pass a float array (e.g. x.astype(float))")
        elif isinstance(a, (float, complex, np.floating, np.complexfloating, np.ndarray)):
            continue      # complex: see docs/complex.md
        elif is_duck_array(a) and a.dtype.kind in "f":
            continue      # a Dask array (runtime/duck.py): its gradient is one too
        elif is_duck_array(a):
            raise WrtError("argument %r of %s is a %s of dtype %s, which has no gradient%s"
                           % (pname, name, type(a).__name__, a.dtype,
                              " here (complex duck arrays are not supported)"
                              if a.dtype.kind == "c" else ""), **_located(fn),
                           hint="pass a float array (e.g. x.astype(float))")
        elif isinstance(a, (list, tuple, dict)) and _float_leaves(a):
            continue      # the gradient has the same structure
        else:
            raise WrtError("argument %r of %s is a %s; gradients are taken with respect to "
                           "floats and float arrays" % (pname, name, type(a).__name__),
                           **_located(fn), hint="pass a float or a NumPy float array")
        raise WrtError("argument %r of %s is %s%s; gradients need float inputs"
                       % (pname, name, kind, " (%r)" % (a,) if np.ndim(a) == 0 else ""),
                       **_located(fn),
                       hint="pass a float value, e.g. %s(...) with %s=%s"
                            % (name, pname, "3.0" if np.ndim(a) == 0 else "x.astype(float)"))


def _choose_wrt(fn, wrt, argnums, name):
    """``argnums`` is JAX's spelling of ``wrt``; both at once is an error; neither is 0."""
    if argnums is None:
        return 0 if wrt is None else wrt
    if wrt is not None:
        raise WrtError("%s() got both wrt=%r and argnums=%r; argnums is another name for "
                       "wrt, pass one of them" % (name, wrt, argnums),
                       **(_located(fn) if fn is not None else {}),
                       hint="for example %s(f, wrt=(0, 1)) or %s(f, argnums=(0, 1))"
                            % (name, name))
    return argnums
