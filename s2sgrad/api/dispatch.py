"""The per-call fast path of ``GradientFunction``: a generated dispatcher.

``grad(f)(*args)`` has to find the code generated for the signature of ``args``
(types, shapes, dtypes; values of ints, bools, strings) and call it.  Building the
signature key and looking it up in a dict costs more than the gradient of a small
scalar function, so once a signature has code, each ``GradientFunction`` gets a
small Python function that checks the signatures it has seen inline and calls
their code directly::

    def neuron(w0, x0, w1, x1, w2):
        if _fn.__code__ is _code:
            if type(w0) is _float and type(x0) is _float and ...:
                return _f0(w0, x0, w1, x1, w2)
            if type(W) is _ndarray and W.shape == (64, 32) and (W.dtype is _c0 or ...):
                return _f1(...)
        return _slow(w0, x0, w1, x1, w2)

It has the user function's parameters (names, defaults, positional-only marks),
so keywords and defaults are bound by Python itself, and a wrong call raises the
same ``TypeError`` the user function would.  Anything it does not recognize --
a new signature, a container argument, code replaced in place (``fn.__code__ =
...``, what IPython's autoreload does) -- goes to ``_slow``, the general path,
which generates code if needed and then regenerates the dispatcher.

Each guard implies that ``api._signature(args)`` equals the key the code was
generated for: a dispatcher never calls code generated for another signature.
"""
from __future__ import annotations

import ast
import functools
import inspect
import keyword
import re
import types
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

_ndarray = np.ndarray

# Value-keyed types (api._VALUE_KEYED) with one object per value: a guard tests identity.
_BY_IDENTITY = (bool, type(None))


def dispatchable(sig: Optional[inspect.Signature]) -> bool:
    """Whether a dispatcher can take the parameters of ``sig``: plain positional
    parameters only (``*args``, ``**kwargs`` and keyword-only ones take the general
    path, which binds them with ``inspect``)."""
    if sig is None:
        return False
    return all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               and p.name.isidentifier() and not keyword.iskeyword(p.name)
               for p in sig.parameters.values())


class _Names:
    """Closure names for the dispatcher: a prefix no parameter name starts with."""

    def __init__(self, params: Sequence[str]):
        prefix = "_"
        while any(p.startswith(prefix) for p in params):
            prefix += "_"
        self.prefix = prefix
        self.values: Dict[str, Any] = {}

    def fixed(self, name: str, value: Any) -> str:
        full = self.prefix + name
        self.values[full] = value
        return full

    def const(self, value: Any) -> str:
        return self.fixed("c%d" % len(self.values), value)


def _guard(name: str, key: Any, names: _Names, key_of: Callable,
           value_keyed: frozenset) -> Optional[List[str]]:
    """Conditions (to be joined with ``and``) under which argument ``name`` has
    signature element ``key`` (an element of ``api._signature``); None if there are
    none to write."""
    type_ = names.fixed("type", type)
    if isinstance(key, type):
        if key is int or issubclass(key, np.integer):
            # an int that only enters arithmetic: any value (api._reduced)
            return ["%s(%s) is %s" % (type_, name, names.const(key))]
        if key in value_keyed:
            return None        # a value-keyed type without its value (unhashable)
        # keyed by type alone: floats, NumPy scalars, objects, ndarray subclasses
        if key is float:
            return ["%s(%s) is %s" % (type_, name, names.fixed("float", float))]
        return ["%s(%s) is %s" % (type_, name, names.const(key))]
    if type(key) is tuple and len(key) == 2 and isinstance(key[1], np.dtype) \
            and type(key[0]) is tuple:
        # an ndarray: (shape, dtype); equal dtypes are usually the same object
        # (not after unpickling: then ``==`` decides)
        shape, dtype = key
        if not all(type(n) is int for n in shape):
            return None
        d = names.const(dtype)
        return ["%s(%s) is %s" % (type_, name, names.fixed("ndarray", _ndarray)),
                "%s.shape == %r" % (name, shape),
                "(%s.dtype is %s or %s.dtype == %s)" % (name, d, name, d)]
    if type(key) is tuple and len(key) == 2 and isinstance(key[0], type):
        t, value = key
        if getattr(t, "s2s_identity", False):
            # a callable argument (api.Callable_): this very object
            return ["%s is %s" % (name, names.const(value))]
        if t in (list, dict, tuple, functools.partial, types.MethodType,
                 types.BuiltinMethodType, types.FunctionType) or (
                type(value) is tuple and t not in value_keyed):
            # a container: its structure and leaves; an object: its class and its
            # attributes' structure (api._key_of, objects.signature_of)
            return ["%s(%s) == %s" % (names.fixed("key_of", key_of), name, names.const(key))]
        if t in _BY_IDENTITY:
            return ["%s is %s" % (name, names.const(value))]
        # an int / str / NumPy integer keyed by value
        return ["%s(%s) is %s" % (type_, name, names.const(t)),
                "%s == %s" % (name, names.const(value))]
    return None


def _conditions(pnames: Sequence[str], key: tuple, names: _Names, key_of: Callable,
                value_keyed: frozenset) -> Optional[List[str]]:
    if len(key) != len(pnames):
        return None
    out: List[str] = []
    for pname, k in zip(pnames, key):
        guard = _guard(pname, k, names, key_of, value_keyed)
        if guard is None:
            return None
        out += guard
    return out


def _header(sig: inspect.Signature) -> Tuple[List[str], list]:
    """Parameter names and defaults (the function object carries the defaults)."""
    params = list(sig.parameters.values())
    defaults = [p.default for p in params if p.default is not p.empty]
    return [p.name for p in params], defaults


def _positional_only(sig: inspect.Signature) -> int:
    return sum(p.kind == p.POSITIONAL_ONLY for p in sig.parameters.values())


def build(fn_name: str, sig: inspect.Signature, entries: Sequence[Tuple[tuple, Callable]],
          slow: Callable, key_of: Callable, value_keyed: frozenset,
          fn: Any = None, code: Any = None) -> Optional[Callable]:
    """A dispatcher calling ``entries`` (signature key -> generated function) on a
    match and ``slow(*args)`` otherwise; ``fn.__code__ is code`` is checked first
    when ``code`` is given.  None when a key cannot be written as a guard."""
    pnames, defaults = _header(sig)
    names = _Names(pnames)
    call = ", ".join(pnames)
    lines = []
    pad = "    "
    if code is not None:
        lines.append("    if %s.__code__ is %s:" % (names.fixed("fn", fn), names.fixed("code", code)))
        pad = "        "
    for i, (key, function) in enumerate(entries):
        conditions = _conditions(pnames, key, names, key_of, value_keyed)
        if conditions is None:
            return None
        lines.append(pad + "if %s:" % (" and ".join(conditions) or "True"))
        lines.append(pad + "    return %s(%s)" % (names.fixed("f%d" % i, function), call))
    lines.append("    return %s(%s)" % (names.fixed("slow", slow), call))
    # named after the function, so a wrong call reads "f() missing 1 required ..."
    name = fn_name if fn_name.isidentifier() and not keyword.iskeyword(fn_name) \
        and fn_name not in names.values else "dispatch"
    npos = _positional_only(sig)
    params = pnames[:npos] + ["/"] + pnames[npos:] if npos else pnames
    source = "def %s(%s):\n" % (name, ", ".join(params)) + "\n".join(lines) + "\n"
    code_ = _compiled(source, tuple(names.values), "<s2sgrad dispatch of %s>" % name, name)
    cells = tuple(types.CellType(names.values[var]) for var in code_.co_freevars)
    dispatcher = types.FunctionType(code_, {}, name, tuple(defaults) or None, cells)
    dispatcher.__qualname__ = name
    dispatcher.__s2sgrad_source__ = source
    return dispatcher


def guarded(fn_name: str, sig: inspect.Signature, key: tuple, function: Callable, source: str,
            slow: Callable, key_of: Callable, value_keyed: frozenset,
            fn: Any = None, code: Any = None) -> Optional[Callable]:
    """The generated ``function`` itself, compiled again with the test of its
    signature ``key`` (and of ``fn.__code__ is code``) as a first statement that
    calls ``slow(*args)`` when it fails::

        def neuron_grad(w0, x0, w1, x1, w2):
            if not (_fn.__code__ is _code and _type(w0) is _float and ...):
                return _slow(w0, x0, w1, x1, w2)
            # Forward pass
            ...

    The dispatcher of a gradient called with one signature: no frame between the
    call and the gradient code.  It takes the user function's parameters and
    defaults, has the same globals and closure cells as ``function``, and the same
    file name and line numbers (tracebacks show the generated code).  None when
    that cannot be done; ``function`` and ``source`` (what ``.source`` shows) are
    not changed."""
    pnames, defaults = _header(sig)
    fcode = getattr(function, "__code__", None)
    if fcode is None or not isinstance(function, types.FunctionType) or function.__defaults__ \
            or function.__kwdefaults__ or fcode.co_kwonlyargcount \
            or fcode.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) \
            or list(fcode.co_varnames[:fcode.co_argcount]) != pnames:
        return None
    # guard names no identifier of the generated code starts with
    names = _Names(pnames + re.findall(r"[A-Za-z_]\w*", source))
    conditions = _conditions(pnames, key, names, key_of, value_keyed)
    if conditions is None:
        return None
    if code is not None:
        conditions.insert(0, "%s.__code__ is %s" % (names.fixed("fn", fn),
                                                    names.fixed("code", code)))
    test = " and ".join(conditions) or "True"
    guard = "if not (%s):\n    return %s(%s)\n" % (test, names.fixed("slow", slow), ", ".join(pnames))
    try:
        compiled = _compiled_guarded(source, guard, fcode.co_name, tuple(fcode.co_freevars),
                                     tuple(names.values), fcode.co_filename,
                                     _positional_only(sig))
    except SyntaxError:
        return None
    if compiled is None:
        return None
    cells = []
    own = dict(zip(fcode.co_freevars, function.__closure__ or ()))
    for var in compiled.co_freevars:
        cells.append(own[var] if var in own else types.CellType(names.values[var]))
    dispatcher = types.FunctionType(compiled, function.__globals__, fcode.co_name,
                                    tuple(defaults) or None, tuple(cells))
    dispatcher.__qualname__ = function.__qualname__
    dispatcher.__s2sgrad_source__ = guard
    return dispatcher


_CODES: Dict[tuple, Any] = {}


def _remember(key: tuple, code: Any) -> Any:
    if len(_CODES) >= 512:
        _CODES.clear()
    _CODES[key] = code
    return code


def _inner(module_code, name: str):
    factory = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    return next(c for c in factory.co_consts
                if isinstance(c, types.CodeType) and c.co_name == name)


def _compiled(source: str, free: tuple, filename: str, name: str):
    """The code of ``source``'s one ``def``, with ``free`` as its closure names;
    compiled once per text (every grad object of one function and signature has the
    same text: the values differ, they are closure cells)."""
    key = ("dispatch", source, free, filename)
    code = _CODES.get(key)
    if code is None:
        text = "def _factory(%s):\n%s    return %s\n" % (
            ", ".join(free), "".join("    " + line + "\n" for line in source.splitlines()),
            name)
        code = _remember(key, _inner(compile(text, filename, "exec"), name))
    return code


def _compiled_guarded(source: str, guard: str, name: str, own_free: tuple, free: tuple,
                      filename: str, positional_only: int):
    key = ("guarded", source, guard, name, own_free, free, filename, positional_only)
    code = _CODES.get(key)
    if code is not None:
        return code
    tree = ast.parse(source)
    fdef = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(fdef, ast.FunctionDef) or fdef.name != name or fdef.decorator_list:
        return None
    args = fdef.args
    if positional_only:
        args.posonlyargs, args.args = (args.posonlyargs + args.args)[:positional_only], \
            (args.posonlyargs + args.args)[positional_only:]
    first = 1 if fdef.body and isinstance(fdef.body[0], ast.Expr) and \
        isinstance(fdef.body[0].value, ast.Constant) and isinstance(fdef.body[0].value.value, str) else 0
    statements = ast.parse(guard).body
    for node in statements:
        for sub in ast.walk(node):
            if hasattr(sub, "lineno"):
                sub.lineno = sub.end_lineno = fdef.lineno
                sub.col_offset = sub.end_col_offset = 0
    fdef.body[first:first] = statements
    factory = ast.parse("def _factory(%s):\n    return %s\n" % (", ".join(own_free + free), name))
    factory.body[0].body.insert(0, fdef)
    code = _inner(compile(factory, filename, "exec"), name)
    # the guard adds closure names only: the generated code reads what it read before
    if not set(own_free) <= set(code.co_freevars) <= set(own_free) | set(free):
        return None
    return _remember(key, code)
