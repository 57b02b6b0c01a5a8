"""``grad`` and ``value_and_grad``: the callable that binds a call's arguments, keys
them, finds or generates the code for that key (the cache, the compiler pipeline) and
dispatches later calls straight to it."""
from __future__ import annotations

import functools
import inspect
import threading
import types
import weakref
from typing import Any, Callable, Optional

from s2sgrad.api import dispatch
from s2sgrad.api.nesting import cached, concrete, registered
from s2sgrad.api.signature import (_MAX_VALUE_VARIANTS, _TYPE_KEYED, _VALUE_KEYED, Wrt,
                                   _check_differentiable, _key_of, _located, _loose_signature,
                                   _ndarray, _reduced, _resolve_wrt, _signature, _with_values,
                                   _choose_wrt, arity, _holds_object, _shifted)
from s2sgrad.api.tracebacks import boundary, filtering, hide_frames
from s2sgrad.objects import is_object
from s2sgrad.back import cache
from s2sgrad.callables import is_static_value
from s2sgrad.errors import SourceUnavailableError, WrtError

# How many signatures one dispatcher checks inline; more go through the general path.
_DISPATCH_LIMIT = 8
# Held while a dispatcher is replaced (rare: a signature's second call, a code edit).
_dispatch_lock = threading.Lock()


_partial = functools.partial


def _uninitialized(*args, **kwargs):
    raise TypeError("this GradientFunction was not initialized")


class GradientFunction(functools.partial):
    """A callable returning gradients; ``.source`` shows the generated code.

    A ``functools.partial`` of no arguments, for speed only: calling one is a C-level
    call of its target (``_dispatch``, the partial's ``func``) -- the general path
    ``_call`` until a signature is called a second time, then a generated dispatcher
    (``dispatch.py``).  No Python-level ``__call__`` runs in between.
    ``GradientFunction.__call__(g, *args, **kwargs)`` calls the target too, and
    assigning ``GradientFunction.__call__`` overrides it, as for any class."""

    def __new__(cls, *args, **kwargs):
        # the target is set by __init__ (the partial's own arguments are not ours)
        return _partial.__new__(cls, _uninitialized)

    @property
    def _dispatch(self):
        """What a call runs: ``_call`` or a dispatcher."""
        return self.func

    @_dispatch.setter
    def _dispatch(self, function):
        # the one way to retarget a partial; its state's last item is its __dict__
        _partial.__setstate__(self, (function, (), None, self.__dict__))

    @_dispatch.deleter
    def _dispatch(self):
        self._dispatch = self._call

    def __init__(self, fn: Callable, wrt: Wrt, mode: str, static=(), has_aux: bool = False,
                 checkpoint=None):
        if not callable(fn):
            raise TypeError("s2sgrad.%s expects a function, got %r" % (mode, fn))
        self.__wrapped__ = fn
        self._made_from = (fn, wrt)
        self._static_spec = static
        self._bound = None
        if inspect.ismethod(fn) and inspect.isfunction(fn.__func__):
            # a bound method (model.loss): its function, called with the object first;
            # wrt indices count the arguments the caller passes, 'self.params' names
            # an attribute of the object
            self._bound = (fn.__self__,)
            fn = fn.__func__
            wrt = _shifted(wrt)
            static = _shifted(static)
        self._fn = fn
        self._mode = mode
        self._has_aux = bool(has_aux)
        # what the caches key the generated code on (has_aux changes what it returns)
        self._checkpoint = check_checkpoint(checkpoint)
        self._kind = (mode + "+aux" if has_aux else mode) + (
            "" if self._checkpoint is None else "+checkpoint%d" % self._checkpoint)
        self._wrt, self._tuple = _resolve_wrt(fn, wrt)
        self._static = _resolve_static(fn, static)
        # int arguments that only enter arithmetic: keyed by type, not value (the
        # first signature's analysis, staticargs.py)
        self._dynamic: frozenset = frozenset()
        self._specs: dict = {}
        self._gens: dict = {}                   # key -> generated (source and function)
        self._code = getattr(fn, "__code__", None)   # to notice fn.__code__ = ... (autoreload)
        self._variants: dict = {}
        self._last = None
        try:
            sig = inspect.signature(fn)
            # (-1 with *args or **kwargs: every call binds, so the generated code gets
            # their tuple and dict as arguments of their own)
            self._nparams = arity(sig)
            self._sig = sig
        except (TypeError, ValueError):
            self._nparams = -1
            self._sig = None
        self._dispatch = self._call             # a generated dispatcher after a 2nd call
        self._dispatched: tuple = ()            # the keys the dispatcher checks
        self._dispatchable = dispatch.dispatchable(self._sig) and self._bound is None
        # updated=(): never copy the wrapped object's __dict__ (an s2sgrad function's
        # own state when this is grad of grad)
        functools.update_wrapper(self, fn, updated=())
        self.__wrapped__ = self._made_from[0]

    _s2sgrad_function = True       # (nesting.is_transform)

    def _s2sgrad_concrete(self, args):
        """The generated function for ``args`` (nesting.concrete: grad of this)."""
        if args is None:
            gen = self._last
            if gen is None:
                self.source
                gen = self._last
        else:
            args = tuple(args)
            if len(args) != self._nparams:
                args = self._bind(args, {})
            self._specialize(args, self._key(args))
            gen = self._last
        return registered(gen)

    def _call(self, *args, **kwargs):
        """The general path: bind, build the signature key, look it up, generate.
        An exception leaves it without s2sgrad's frames (tracebacks.py)."""
        try:
            if self._bound is not None:
                args = self._bound + args
            if kwargs or len(args) != self._nparams:
                args = self._bind(args, kwargs)
            # _signature(args), inlined; floats only (the common scalar case): their types
            key = tuple(map(type, args))
            if not _TYPE_KEYED.issuperset(key):
                key = tuple([(a.shape, a.dtype) if (t := type(a)) is _ndarray
                             else t if t in _TYPE_KEYED else _key_of(a) for a in args])
            if self._static:
                key = _with_values(key, args, self._static)
            if self._dynamic:
                key = _reduced(key, self._dynamic)
            compiled = self._specs.get(key)
            if compiled is None or (self._code is not None
                                    and self._fn.__code__ is not self._code):
                compiled = self._respecialize(args, key)
            elif self._dispatchable and key not in self._dispatched \
                    and len(self._dispatched) < _DISPATCH_LIMIT:
                # a signature called again: from now on the dispatcher checks it inline
                self._redispatch(key)
            return compiled(*args)
        except Exception as exc:
            if filtering():
                hide_frames(exc)
            raise

    def __reduce__(self):
        """Copies and pickles are new grad objects of the same function (their code
        is generated again, or found in the cache)."""
        return (GradientFunction, self._made_from + (self._mode, self._static_spec,
                                                     self._has_aux, self._checkpoint))

    def _key(self, args) -> tuple:
        """The key the code for ``args`` is kept under (what ``_call`` computes)."""
        if self._bound is not None:
            args = self._bound + tuple(args)
        key = _signature(args)
        if self._static:
            key = _with_values(key, args, self._static)
        if self._dynamic:
            key = _reduced(key, self._dynamic)
        return key

    def _redispatch(self, key):
        with _dispatch_lock:
            if key in self._dispatched or key not in self._specs:
                return
            keys = self._dispatched + (key,)
            code = self._code
            fn = self._fn if code is not None else None
            name = getattr(self._fn, "__name__", "dispatch")
            built = None
            gen = self._gens.get(key)
            if len(keys) == 1 and gen is not None and gen.function is self._specs[key]:
                # one signature: the generated code itself, its test as a first line
                built = dispatch.guarded(name, self._sig, key, gen.function, gen.source,
                                         self._call, _key_of, _VALUE_KEYED, fn, code)
            if built is None:
                entries = [(k, self._specs[k]) for k in keys if k in self._specs]
                built = dispatch.build(name, self._sig, entries, self._call, _key_of,
                                       _VALUE_KEYED, fn, code)
            if built is None:             # a key with no inline test: stay general
                self._dispatchable = False
                del self._dispatch
                return
            self._dispatched = keys
            self._dispatch = built

    def _respecialize(self, args, key):
        if self._code is not None and self._fn.__code__ is not self._code:
            with _dispatch_lock:
                # the function was edited in place: forget its old code
                del self._dispatch
                self._dispatched = ()
                self._specs.clear()
                self._gens.clear()
                self._last = None
                self._code = self._fn.__code__
        return self._specialize(args, key)

    def __get__(self, obj, objtype=None):
        """``@grad(wrt='x')`` on a method: ``obj.method(x)`` passes ``obj`` as ``self``."""
        if obj is None:
            return self
        return types.MethodType(self, obj)

    def _bind(self, args, kwargs):
        if self._sig is None:
            return args
        try:
            bound = self._sig.bind(*args, **kwargs)
        except TypeError as exc:        # as the function itself would say it
            raise TypeError("%s(): %s" % (getattr(self._fn, "__name__", "function"), exc)) \
                from None
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def _require_source(self):
        """Builtins and C functions (np.exp, len) fail here with SourceUnavailableError,
        before the cache (which cannot even hold a weak reference to them)."""
        fn = self._fn
        if inspect.isfunction(fn) or inspect.ismethod(fn):
            return
        if not inspect.isfunction(inspect.unwrap(fn)):
            # (gast only on this error path: `import s2sgrad` stays light)
            from s2sgrad.front.parse import parse_function
            parse_function(fn)                  # raises, saying why
        try:
            weakref.ref(fn)
            return                              # a decorator object around a Python function
        except TypeError:
            pass
        name = getattr(fn, "__name__", repr(fn))
        raise SourceUnavailableError(
            "cannot differentiate %r: it is a builtin or C-level callable (%s), not a Python "
            "function" % (name, type(fn).__name__), function=name,
            hint="differentiate a Python function that calls it, e.g.\n"
                 "    def f(x):\n        return np.%s(x)\n    s2sgrad.grad(f)" % name)

    def _specialize(self, args, key):
        self._require_source()
        _check_differentiable(self._fn, self._wrt, args)
        full = _signature(args)
        if self._static:
            full = _with_values(full, args, self._static)
        loose = _loose_signature(args)
        # which int arguments the code depends on by value, once known for this
        # signature (by this object or another grad of the same function)
        memo = (self._kind, self._wrt, self._tuple, "dynamic", loose,
                tuple(sorted(self._static)))
        dynamic = cache.recall(self._fn, memo)
        gen_key = full if dynamic is None else _reduced(full, dynamic)
        if loose != gen_key and not _FORCE_GENERIC and not any(
                is_object(a) or isinstance(a, (list, tuple, dict)) and _holds_object(a)
                for a in args):
            # some argument is keyed by its value (objects are not: their methods are
            # resolved on the first call's object, which the generic version has not)
            seen = self._variants.setdefault(loose, set())
            if gen_key not in seen and len(seen) >= _MAX_VALUE_VARIANTS:
                gen = self._generic(args)
                key = _reduced(full, self._dynamic)
                if len(self._specs) < 4096:
                    self._gens[key] = gen
                    self._specs[key] = gen.function
                self._last = gen
                return gen.function
            seen.add(gen_key)
        if _FORCE_GENERIC:
            gen = self._generic(args)
        else:
            gen = _get_or_generate(
                self._fn, (self._kind, self._wrt, self._tuple, gen_key),
                lambda: _generate(_target(self._fn, args), self._wrt, self._mode, args,
                                  self._tuple, has_aux=self._has_aux,
                                  checkpoint=self._checkpoint))
        if dynamic is None:
            dynamic = frozenset(getattr(gen, "dynamic", ())) - self._static
            cache.remember(self._fn, memo, dynamic)
        if not self._specs and not self._dynamic:
            self._dynamic = dynamic             # the first signature decides
        elif not self._dynamic <= dynamic:
            # an argument that is arithmetic only for one signature but structural for
            # this one: key it by value from now on
            with _dispatch_lock:
                self._dynamic = self._dynamic & dynamic
                del self._dispatch
                self._dispatched = ()
                self._specs.clear()
                self._gens.clear()
        key = _reduced(full, self._dynamic)
        self._gens[key] = gen
        self._specs[key] = gen.function
        self._last = gen
        return gen.function

    def _generic(self, args=None):
        """The version generated without a probe (no shape specialization), for the
        callables and strings among ``args`` (it is specialized on those)."""
        statics, key = None, None
        if args is not None and self._sig is not None:
            names = list(self._sig.parameters)
            found = [i for i, a in enumerate(args) if i not in self._wrt and i < len(names)
                     and (type(a) is str or is_static_value(a))]
            if found:
                statics = {names[i]: args[i] for i in found}
                key = ("static",) + tuple((i, _key_of(args[i])) for i in found)
        options = (self._kind, self._wrt, self._tuple, None) if key is None else \
            (self._kind, self._wrt, self._tuple, key, None)
        return _get_or_generate(
            self._fn, options,
            lambda: _generate(_target(self._fn, None), self._wrt, self._mode, None,
                              self._tuple, statics, self._has_aux, self._checkpoint))

    @property
    @boundary
    def source(self) -> str:
        """The generated gradient code (for the last argument signature seen)."""
        if self._last is None:
            self._require_source()
            self._last = self._generic()
        return self._last.source

    @property
    def _compiled(self):
        """The generated function for the last signature (for benchmarks)."""
        if self._last is None:
            self.source
        return self._last.function

    def __repr__(self):
        return "<s2sgrad %s of %s wrt %s>" % (self._mode, getattr(self._fn, "__qualname__", "?"),
                                             self._wrt if self._tuple else self._wrt[0])


def check_checkpoint(checkpoint) -> Optional[int]:
    """``checkpoint=`` of grad: None/False (off), True (segments of sqrt(trips): 0
    here) or a segment length (an int >= 1)."""
    if checkpoint is None or checkpoint is False:
        return None
    if checkpoint is True:
        return 0
    if type(checkpoint) is int and checkpoint >= 1:
        return checkpoint
    raise ValueError("checkpoint= must be True (segments of sqrt(trips) trips), a segment "
                     "length (an int >= 1), or False/None; got %r" % (checkpoint,))


def _resolve_static(fn: Callable, static) -> frozenset:
    """``static=`` (parameter names or positions, one or a tuple) as positions."""
    if static is None or static == ():
        return frozenset()
    items = [static] if isinstance(static, (int, str)) else list(static)
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    out = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise WrtError("static entries must be ints or parameter names; got %r" % (item,),
                           **_located(fn), hint="for example static=('n',) or static=1")
        if isinstance(item, str):
            if item not in params:
                raise WrtError("static=%r is not a parameter of %s; its parameters are %s"
                               % (item, getattr(fn, "__name__", "function"),
                                  ", ".join(params) or "(none)"),
                               **_located(fn), hint="use one of the parameter names")
            item = params.index(item)
        elif params and not 0 <= item < len(params):
            raise WrtError("static=%d is out of range: %s has %d positional parameter(s)"
                           % (item, getattr(fn, "__name__", "function"), len(params)),
                           **_located(fn), hint="use an index from 0 to %d" % (len(params) - 1))
        out.add(item)
    return frozenset(out)


# S2SGRAD_GENERIC=1: every call runs the generic (not shape-specialized) code, for
# testing that path as thoroughly as the specialized one.
import os as _os

_FORCE_GENERIC = _os.environ.get("S2SGRAD_GENERIC", "") not in ("", "0")


def _get_or_generate(fn, key, generate):
    """The cache, except for grad of an s2sgrad function (kept in memory only: the
    disk cache keys on the original function's source, shared by every order)."""
    if inspect.isfunction(fn):
        # a plain function: the ordinary cache; no gast import on a warm disk-cache hit
        return cache.get_or_generate(fn, key, generate)
    return cached(fn, key, generate)


def _target(fn, args):
    """What to differentiate: ``fn``, or the generated code of an s2sgrad function."""
    return concrete(fn, args)


def _generate(fn, wrt, mode, args, tuple_output, static_args=None, has_aux=False,
              checkpoint=None):
    # Imported at the first generation, to keep `import s2sgrad` light (gast, the rules,
    # the AD modules); transforms also registers the rules for calls to s2sgrad functions.
    from s2sgrad.ad.pipeline import generate_gradient
    from s2sgrad.api import transforms  # noqa: F401
    from s2sgrad.front import desugar
    if grad not in desugar.TRANSFORM_MAKERS:     # grad(f)(x) inside a differentiated function
        desugar.TRANSFORM_MAKERS.extend([grad, value_and_grad])
    return generate_gradient(fn, wrt, mode, args, tuple_output, static_args,
                             has_aux=has_aux, checkpoint=checkpoint)


def _transform(f, wrt, argnums, has_aux, static, mode, checkpoint=None):
    if f is None:
        return lambda fn: GradientFunction(fn, _choose_wrt(fn, wrt, argnums, mode), mode,
                                           static, has_aux, checkpoint)
    return GradientFunction(f, _choose_wrt(f, wrt, argnums, mode), mode, static, has_aux,
                            checkpoint)


@boundary
def grad(f: Optional[Callable] = None, *, wrt: Optional[Wrt] = None,
         argnums: Optional[Wrt] = None, has_aux: bool = False, static=(),
         checkpoint=None) -> Any:
    """The gradient of a function with a scalar output, as generated Python code.

    ``grad(f)``, ``grad(f, wrt=(0, "b"))``, ``@grad`` and ``@grad(wrt=...)`` all work.
    The returned callable takes ``f``'s arguments and returns the gradient of ``f``
    with respect to the argument(s) named by ``wrt``; its ``.source`` is the
    generated code (reverse mode: a forward pass, then a backward pass).

    Args:
        f: a Python function whose source s2sgrad can read, returning a float
            (or a 0-d array).
        wrt: which argument(s) to differentiate: a positional index or a parameter
            name (the result is one gradient), or a tuple/list of them (a tuple of
            gradients, in that order).  Default ``0``.
        argnums: another name for ``wrt`` (JAX's); give one of the two.
        has_aux: ``f`` returns a pair ``(output, aux)``; only ``output`` is
            differentiated, and the callable returns ``(gradient, aux)``.  ``aux`` may
            be any value or container, including arrays computed from the inputs
            (returned as values: no gradient flows through them).
        static: arguments (positions or names) whose value keys the generated
            code: one version per value.  By default an int argument is keyed by
            value only when it changes a shape, a loop, a branch or an index; one
            that only enters arithmetic (a step counter in ``lr / (1 + step)``) is
            an ordinary runtime value.
        checkpoint: ``True`` trades time for memory on long loops: the forward loop
            keeps its state every sqrt(trips) trips only, and the backward pass
            recomputes each segment (an int: segments of that many trips).  The
            gradient is the same to the last bit; see docs/checkpointing.md.

    Returns:
        A callable with ``f``'s parameters.  A gradient has the shape and float
        dtype of its argument; a dict / list / tuple argument (a pytree of floats
        and float arrays) gets a gradient of the same structure.

    Raises:
        S2SGradError: (a subclass of it) on the first call, when the function uses
            something s2sgrad cannot differentiate; the message names the function,
            file, line and source line, with a hint.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import grad
        >>> def loss(w, x):
        ...     return np.sum(np.tanh(x @ w) ** 2)
        >>> dloss = grad(loss)                  # d loss / d w
        >>> dloss(np.ones(3), np.eye(3)).round(4)
        array([0.6397, 0.6397, 0.6397])
        >>> def with_stats(w, x):
        ...     y = np.tanh(x @ w)
        ...     return np.sum(y ** 2), {"mean": np.mean(y)}
        >>> g, aux = grad(with_stats, has_aux=True)(np.ones(3), np.eye(3))
        >>> round(float(aux["mean"]), 4)
        0.7616
    """
    return _transform(f, wrt, argnums, has_aux, static, "grad", checkpoint)


@boundary
def value_and_grad(f: Optional[Callable] = None, *, wrt: Optional[Wrt] = None,
                   argnums: Optional[Wrt] = None, has_aux: bool = False, static=(),
                   checkpoint=None) -> Any:
    """Like :func:`grad`, but the callable returns ``(value, gradient)``.

    The value is computed by the same forward pass as the gradient (``f`` is not
    called a second time).  With ``has_aux=True`` it returns
    ``((value, aux), gradient)``, as JAX does.  ``wrt`` / ``argnums`` / ``static`` /
    ``checkpoint`` as in :func:`grad`.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import value_and_grad
        >>> def f(x):
        ...     return np.sum(x ** 2)
        >>> value, g = value_and_grad(f)(np.array([1.0, 2.0]))
        >>> float(value), g
        (5.0, array([2., 4.]))
    """
    return _transform(f, wrt, argnums, has_aux, static, "value_and_grad", checkpoint)


@boundary
def source(obj: Any) -> str:
    """The generated source of an s2sgrad-transformed function (same as ``g.source``).

    It is the code generated for the last argument signature the function was
    called with (types, shapes, dtypes); before any call, the generic version that
    works for any shapes (with runtime helpers where shapes decide).

    Example:
        >>> import numpy as np
        >>> from s2sgrad import grad, source
        >>> def f(w, x):
        ...     y = np.tanh(w * x)
        ...     return y * y
        >>> g = grad(f)
        >>> _ = g(0.5, 2.0)
        >>> print(source(g))
        def f_grad(w, x):
            # Forward pass
            y0 = w * x
            y = np.tanh(y0)
            # Backward pass
            grad_y = y + y  # y * y  (line 3)
            grad_y0 = grad_y * (1.0 - y * y)  # y = np.tanh(y0)  (line 2)
            grad_w = grad_y0 * x  # y0 = w * x  (line 2)
            return grad_w
        <BLANKLINE>
    """
    if hasattr(obj, "source") and isinstance(getattr(type(obj), "source", None), property):
        return obj.source
    raise TypeError("s2sgrad.source expects a function returned by s2sgrad (grad, "
                    "value_and_grad, ...); got %r" % (obj,))
