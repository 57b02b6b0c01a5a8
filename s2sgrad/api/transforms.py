"""The derived transforms -- jvp, vjp, jacobian, hessian, hvp -- and nesting.

Every transform generates source.  Nesting works on *generated* code: when the
function handed to a transform is itself an s2sgrad function, it is first
specialized for the arguments of the call, and the generated function (whose
source is registered in ``linecache``) is what gets differentiated.  So
``grad(grad(f)).source`` is ordinary reverse-mode code over the code of
``grad(f).source``, and ``hvp(f).source`` is forward mode over it.

How an s2sgrad function is nested is in ``nesting.py``; split-mode code generation is
in ``ad/vjp.py``, ``stop_gradient`` and ``grad_of`` in
``ad/gradient_control.py``, forward mode through rules with no tangent in
``ad/forward_by_transpose.py``; their public names are re-exported here.
"""
from __future__ import annotations

import inspect
import linecache
from typing import Any, Callable, Dict, Optional

import gast
import numpy as np

from s2sgrad import astutil as A
from s2sgrad.ad import gradient_control
from s2sgrad.ad.forward import generate_jvp
from s2sgrad.ad.forward_by_transpose import transpose_linear, transpose_vjp_rule  # noqa: F401
from s2sgrad.ad.gradient_control import (backward_hook, grad_of, grad_of_marker,  # noqa: F401
                                         rewrite_grad_of, stop_gradient)
from s2sgrad.ad.vjp import generate_vjp  # noqa: F401
from s2sgrad.api import signature as api
from s2sgrad.api.tracebacks import boundary
from s2sgrad.api.nesting import cached, concrete, is_transform, registered  # noqa: F401
from s2sgrad.errors import S2SGradError
from s2sgrad.front import desugar
from s2sgrad.rules.registry import Rule, _register
from s2sgrad.rules.tangents import tangent_rule


def _cannot_nest(fn, args):
    """What concrete() says of a transform whose generated code has other parameters
    than the call (vjp, jacobian, hessian, hvp, a tuple jvp)."""
    raise S2SGradError(
        "cannot differentiate the result of s2sgrad.%s directly"
        % getattr(fn, "kind", type(fn).__name__.replace("Function", "").lower()),
        function=getattr(fn, "__name__", None),
        hint="nest through grad: hvp(f) is jvp(grad(f)); hessian(f) is "
             "jacobian(grad(f), mode='forward'); grad(grad(f)) works for scalar f")


# --------------------------------------------------------------------------
# The transform objects


def _signature(args):
    return api._signature(args)


class Transform:
    """An s2sgrad-generated callable, specialized per argument signature."""

    kind = "transform"
    _s2sgrad_function = True       # (nesting.is_transform)
    _s2sgrad_concrete = _cannot_nest

    def __init__(self, fn: Callable, wrt, kind: Optional[str] = None):
        if not callable(fn):
            raise TypeError("s2sgrad.%s expects a function, got %r" % (kind or self.kind, fn))
        self._fn = fn
        self._wrt, self._tuple = api._resolve_wrt(fn, wrt)
        self._specs: Dict[Any, Any] = {}
        self._gens: Dict[Any, Any] = {}
        self._last = None
        try:
            sig = inspect.signature(fn)
            self._nparams = api.arity(sig)
            self._sig = sig
        except (TypeError, ValueError):
            self._nparams, self._sig = -1, None
        self.__name__ = getattr(fn, "__name__", "function")
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def _bind(self, args):
        if self._sig is None or len(args) == self._nparams:
            return tuple(args)
        try:
            bound = self._sig.bind(*args)
        except TypeError as exc:        # as the function itself would say it
            raise TypeError("%s(): %s" % (self.__name__, exc)) from None
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def _generate(self, target, args):  # pragma: no cover - overridden
        raise NotImplementedError

    def _generated(self, args):
        key = _signature(args) if args is not None else None
        gen = self._gens.get(key)
        if gen is None:
            if args is not None:
                api._check_differentiable(self._fn, self._wrt, args)
            target = concrete(self._fn, args)
            gen = cached(self._fn, (self.kind, self._wrt, self._tuple, key),
                         lambda: self._generate(target, args),
                         disk=self.kind in ("vjp", "vjp+aux"))
            self._gens[key] = gen
        self._last = gen
        return gen

    def _compiled_for(self, args):
        key = _signature(args)
        f = self._specs.get(key)
        if f is None:
            f = self._generated(args).function
            self._specs[key] = f
        return f

    @property
    @boundary
    def source(self) -> str:
        """The generated code (for the last argument signature seen)."""
        if self._last is None:
            self._generated(None)
        return self._last.source

    @property
    def _compiled(self):
        if self._last is None:
            self.source
        return self._last.function

    def __repr__(self):
        return "<s2sgrad %s of %s wrt %s>" % (self.kind, self.__qualname__,
                                             self._wrt if self._tuple else self._wrt[0])


class JVPFunction(Transform):
    """``(*args, tangent) -> (value, directional derivative)``; forward mode."""

    kind = "jvp"

    def _s2sgrad_concrete(self, args):
        if self._tuple:
            _cannot_nest(self, args)
        # jvp(jvp(f)), grad(tangent of f): the generated (*args, dot_x) function has
        # the same parameters as the call (*args, tangent)
        if args is None:
            return registered(self._generated(None))
        primal = self._bind(tuple(args)[:-1])
        return registered(self._generated(primal))

    def __init__(self, fn: Callable, wrt, kind: Optional[str] = None):
        super().__init__(fn, wrt, kind)
        if self._sig is not None and not self._tuple:
            # (*args, tangent): what a transform of this one sees
            params = list(self._sig.parameters.values())
            name = "tangent"
            while name in self._sig.parameters:
                name = "_" + name
            self.__signature__ = self._sig.replace(
                parameters=params + [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)])

    @boundary
    def __call__(self, *args):
        if not args:
            raise TypeError("%s: expected the function's arguments followed by a tangent"
                            % self.__name__)
        *primal, tangent = args
        primal = self._bind(primal)
        if self._tuple:
            tangent = tuple(tangent)
            if len(tangent) != len(self._wrt):
                raise ValueError("jvp with wrt=%r needs a tuple of %d tangents, got %d"
                                 % (self._wrt, len(self._wrt), len(tangent)))
        else:
            tangent = (tangent,)
        tangent = tuple(_tangent_like(t, primal[i]) for t, i in zip(tangent, self._wrt))
        return self._compiled_for(primal)(*primal, *tangent)

    def _generate(self, target, args):
        return generate_jvp(target, self._wrt, args)


def _tangent_like(t, x):
    if isinstance(x, np.ndarray):
        t = np.asarray(t, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
        if t.shape != x.shape:
            t = np.broadcast_to(t, x.shape)
        return t
    return t


class VJPFunction(Transform):
    """``(*args) -> (value, pullback)``; split-mode reverse (``(value, pullback, aux)``
    with ``has_aux=True``)."""

    kind = "vjp"

    def __init__(self, fn: Callable, wrt, kind: Optional[str] = None, has_aux: bool = False):
        super().__init__(fn, wrt, kind)
        self._has_aux = bool(has_aux)
        if has_aux:
            self.kind = "vjp+aux"           # what the caches key the code on

    @boundary
    def __call__(self, *args):
        args = self._bind(args)
        return self._compiled_for(args)(*args)

    def _generate(self, target, args):
        if self._has_aux:
            return generate_vjp(target, self._wrt, args, self._tuple, has_aux=True)
        return generate_vjp(target, self._wrt, args, self._tuple)


@boundary
def jvp(f: Optional[Callable] = None, *, wrt=None, argnums=None):
    """Forward mode: ``jvp(f)(*args, tangent) -> (f(*args), J @ tangent)``.

    The generated code computes each value and its tangent (``dot_x = ...``) side
    by side, in one pass.  With a tuple ``wrt`` the tangent is a tuple (one entry
    per differentiated argument).  ``wrt`` / ``argnums`` as in
    :func:`s2sgrad.grad`; ``.source`` shows the generated tangent code.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import jvp
        >>> def f(x):
        ...     return x ** 3
        >>> value, tangent = jvp(f)(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
        >>> tangent
        array([3., 0.])
    """
    from s2sgrad.api.signature import _choose_wrt
    if f is None:
        return lambda fn: JVPFunction(fn, _choose_wrt(fn, wrt, argnums, "jvp"))
    return JVPFunction(f, _choose_wrt(f, wrt, argnums, "jvp"))


@boundary
def vjp(f: Optional[Callable] = None, *, wrt=None, argnums=None, has_aux: bool = False):
    """Split-mode reverse: ``vjp(f)(*args) -> (value, pullback)``.

    The forward sweep runs at the call; ``pullback(cotangent)`` runs only the
    backward sweep, on the values the forward sweep saved, and returns the
    gradient(s) of ``<cotangent, f(*args)>`` (any number of times).  The cotangent
    has the output's shape (a tuple for tuple outputs).  ``wrt`` / ``argnums`` as in
    :func:`s2sgrad.grad`.  With ``has_aux=True``, ``f`` returns ``(output, aux)``
    and the call returns ``(value, pullback, aux)``, as in JAX.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import vjp
        >>> def f(x):
        ...     return np.sin(x) * 2.0
        >>> y, pullback = vjp(f)(np.array([0.0, 1.0]))
        >>> pullback(np.array([1.0, 1.0])).round(4)
        array([2.    , 1.0806])
    """
    from s2sgrad.api.signature import _choose_wrt
    if f is None:
        return lambda fn: VJPFunction(fn, _choose_wrt(fn, wrt, argnums, "vjp"),
                                      has_aux=has_aux)
    return VJPFunction(f, _choose_wrt(f, wrt, argnums, "vjp"), has_aux=has_aux)


# --------------------------------------------------------------------------
# Derived transforms


class _Derived:
    """Base for transforms built from jvp/vjp at call time (their .source is theirs)."""

    _s2sgrad_concrete = _cannot_nest

    def __init__(self, fn, wrt):
        self._fn = fn
        self._wrt_arg = wrt
        self.__name__ = getattr(fn, "__name__", "function")
        self.__wrapped__ = fn

    @property
    @boundary
    def source(self) -> str:
        return self._inner().source


class TangentFunction(JVPFunction):
    """``(*args, tangent) -> J @ tangent`` only (no primal value computed beyond need)."""

    kind = "tangent"

    def _generate(self, target, args):
        return generate_jvp(target, self._wrt, args, tangent_only=True)


class JacobianFunction(_Derived):
    def __init__(self, fn, wrt, mode):
        super().__init__(fn, wrt)
        if mode not in ("auto", "forward", "reverse"):
            raise ValueError("jacobian mode must be 'auto', 'forward' or 'reverse', got %r"
                             % (mode,))
        self.mode = mode
        self._jvp = JVPFunction(fn, wrt)
        self._vjp = VJPFunction(fn, wrt)
        self.last_mode = None

    def _inner(self):
        if self.last_mode == "reverse" or (self.last_mode is None and self.mode == "reverse"):
            return self._vjp
        return self._jvp

    @boundary
    def __call__(self, *args):
        args = self._jvp._bind(args)
        wrt, tuple_wrt = self._jvp._wrt, self._jvp._tuple
        xs = [args[i] for i in wrt]
        n_in = sum(int(np.size(x)) for x in xs)
        mode = self.mode
        value = pullback = None
        if mode != "forward":
            value, pullback = self._vjp(*args)
            if mode == "auto":
                mode = "forward" if n_in <= _total_size(value) else "reverse"
        self.last_mode = mode
        if mode == "forward":
            jacs = []
            for k, x in enumerate(xs):
                cols = []
                for j in range(int(np.size(x))):
                    e = _basis(x, j)
                    tangent = tuple(e if m == k else _zeros_like(xs[m]) for m in range(len(xs)))
                    value, col = self._jvp(*args, tangent if tuple_wrt else tangent[0])
                    cols.append(col)
                jacs.append(_stack_columns(cols, value, x))
        else:
            rows = []
            for i in range(_total_size(value)):
                rows.append(pullback(_basis_of_output(value, i)))
            jacs = []
            for k, x in enumerate(xs):
                part = [r[k] if tuple_wrt else r for r in rows]
                jacs.append(_stack_rows(part, value, x))
        if _is_tuple(value) and tuple_wrt:
            # like JAX: outputs outside, arguments inside: J[i][k] = d out_i / d x_k
            return tuple(tuple(jacs[k][i] for k in range(len(xs))) for i in range(len(value)))
        return tuple(jacs) if tuple_wrt else jacs[0]


def _is_tuple(v):
    return isinstance(v, (tuple, list))


def _total_size(v):
    if _is_tuple(v):
        return sum(int(np.size(e)) for e in v)
    return int(np.size(v))


def _zeros_like(x):
    if isinstance(x, np.ndarray):
        return np.zeros_like(x, dtype=x.dtype if x.dtype.kind in "fc" else float)
    return 0.0


def _stacked_dtype(parts):
    """The Jacobian's dtype: its columns' (float32 ones give a float32 Jacobian), at
    least float."""
    # (the distinct dtypes only: result_type takes at most 32 arguments on NumPy 1.x)
    dtypes = {np.asarray(p).dtype for p in parts}
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(float)
    return dtype if dtype.kind in "fc" else np.dtype(float)


def _basis(x, j):
    if isinstance(x, np.ndarray):
        e = np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
        e.flat[j] = 1.0
        return e
    return 1.0


def _basis_of_output(value, i):
    if _is_tuple(value):
        out = []
        for v in value:
            n = int(np.size(v))
            out.append(_basis(v, i) if 0 <= i < n and isinstance(v, np.ndarray)
                       else (1.0 if i == 0 and n == 1 and not isinstance(v, np.ndarray)
                             else _zeros_like(v) if isinstance(v, np.ndarray) else 0.0))
            i -= n
        return type(value)(out)
    return _basis(value, i)


def _stack_columns(cols, value, x):
    """Jacobian of shape out.shape + x.shape from J @ e_j columns."""
    if _is_tuple(value):
        return tuple(_stack_columns([c[n] for c in cols], value[n], x) for n in range(len(value)))
    dtype = _stacked_dtype(cols)
    arr = np.array([np.asarray(c, dtype=dtype).reshape(np.shape(value)) for c in cols])
    arr = arr.reshape(np.shape(x) + np.shape(value))
    nx = np.ndim(x)
    return np.moveaxis(arr, tuple(range(nx)), tuple(range(np.ndim(value), np.ndim(value) + nx))) \
        if nx else arr


def _stack_rows(rows, value, x):
    """Jacobian of shape out.shape + x.shape from e_i^T J rows."""
    if _is_tuple(value):
        out, start = [], 0
        for v in value:
            n = int(np.size(v))
            out.append(_stack_rows(rows[start:start + n], v, x))
            start += n
        return tuple(out)
    dtype = _stacked_dtype(rows)
    arr = np.array([np.asarray(r, dtype=dtype).reshape(np.shape(x)) for r in rows])
    return arr.reshape(np.shape(value) + np.shape(x))


@boundary
def jacobian(f: Optional[Callable] = None, *, wrt=None, argnums=None, mode: str = "auto"):
    """The Jacobian, of shape ``f(*args).shape + x.shape``.

    ``mode="forward"`` builds it column by column with the generated JVP (one
    pass per input entry), ``mode="reverse"`` row by row with the generated
    pullback (one forward sweep, one backward sweep per output entry);
    ``"auto"`` picks forward when the input has fewer entries than the output.
    ``wrt`` / ``argnums`` as in :func:`s2sgrad.grad`; with a tuple of them the
    result is a tuple of Jacobians (for tuple outputs: ``J[i][k] = d out_i / d x_k``).

    Example:
        >>> import numpy as np
        >>> from s2sgrad import jacobian
        >>> def f(x):
        ...     return np.array([x[0] * x[1], np.sin(x[0])])
        >>> jacobian(f)(np.array([0.0, 2.0]))
        array([[2., 0.],
               [1., 0.]])
    """
    from s2sgrad.api.signature import _choose_wrt
    if f is None:
        return lambda fn: JacobianFunction(fn, _choose_wrt(fn, wrt, argnums, "jacobian"), mode)
    return JacobianFunction(f, _choose_wrt(f, wrt, argnums, "jacobian"), mode)


_TRANSFORM_RULES: Dict[int, Any] = {}


def register_called_transforms(node, env) -> None:
    """Derivative rules for calls to s2sgrad functions (``grad(f)`` called inside a
    function being differentiated): the adjoint is the pullback of ``vjp`` of that
    function, the tangent its ``jvp`` -- both generated code, differentiating the
    callee's generated code once more."""
    for call in A.walk(node):
        if not isinstance(call, gast.Call):
            continue
        path = A.dotted(call.func)
        obj = env.resolve(path) if path else None
        if obj is None or not is_transform(obj) or id(obj) in _TRANSFORM_RULES:
            continue
        _register_transform_rule(obj)


gradient_control.CALLED_FUNCTION_HOOKS.append(register_called_transforms)


def _register_transform_rule(obj) -> None:
    try:
        params = list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return
    label = "%s_of_%s" % (getattr(obj, "_mode", getattr(obj, "kind", "s2sgrad")),
                          getattr(obj, "__name__", "function"))
    label = "".join(c if c.isalnum() else "_" for c in label)
    args = ", ".join(params)
    lines = ["def %s_adjoint(result, %s):" % (label, args),
             "    pullback = %s_vjp(%s)[1]" % (label, args),
             "    cotangents = pullback(grad[result])"]
    lines += ["    grad[%s] = cotangents[%d]" % (p, i) for i, p in enumerate(params)]
    lines += ["", "", "def %s_tangent(result, %s):" % (label, args)]
    lines += ["    tangent[result] += %s_jvp_%d(%s, tangent[%s])" % (label, i, args, p)
              for i, p in enumerate(params)]
    source = "\n".join(lines) + "\n"
    filename = "<s2sgrad rule %s %d>" % (label, id(obj))
    namespace = {"grad": None, "tangent": None,
                 "%s_vjp" % label: VJPFunction(obj, tuple(range(len(params))))}
    for i in range(len(params)):
        namespace["%s_jvp_%d" % (label, i)] = TangentFunction(obj, i)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    rule = Rule(namespace["%s_adjoint" % label], "vjp", label)
    _register((obj,), rule, family="custom")
    tangent_rule(obj)(namespace["%s_tangent" % label])
    _TRANSFORM_RULES[id(obj)] = (obj, rule)


# grad(f)(x), jvp(f)(x, t) called inside a differentiated function (front.desugar.
# bind_transforms builds the object at generation time; its rule is registered here)
desugar.TRANSFORM_MAKERS.extend([jvp, vjp, jacobian])
desugar.TRANSFORM_RULE_HOOKS.append(_register_transform_rule)
