"""The derived transforms -- jvp, vjp, jacobian, hessian, hvp -- and nesting.

Every transform generates source.  Nesting works on *generated* code: when the
function handed to a transform is itself an s2sgrad function, it is first
specialized for the arguments of the call, and the generated function (whose
source is registered in ``linecache``) is what gets differentiated.  So
``grad(grad(f)).source`` is ordinary reverse-mode code over the code of
``grad(f).source``, and ``hvp(f).source`` is forward mode over it.

Split-mode code generation is in ``splitmode.py``, gradient surgery
(``stop_gradient``, ``grad_of``) in ``surgery.py``, forward mode through rules
with no tangent in ``transpose.py``; their public names are re-exported here.
"""
from __future__ import annotations

import inspect
import linecache
import weakref
from typing import Any, Callable, Dict, Optional

import gast
import numpy as np

from . import astutil as A
from . import cache
from .errors import S2SGradError
from .rules import runtime_rules  # noqa: F401  (rules for what generated code calls)
from .splitmode import generate_vjp  # noqa: F401
from .surgery import backward_hook, grad_of, grad_of_marker  # noqa: F401
from .surgery import rewrite_grad_of, stop_gradient  # noqa: F401
from .transpose import transpose_linear, transpose_vjp_rule  # noqa: F401


# --------------------------------------------------------------------------
# Nesting: the concrete function behind an s2sgrad transform


def _api():
    from . import api
    return api


def is_transform(fn) -> bool:
    api = _api()
    return isinstance(fn, (api.GradientFunction, Transform))


def concrete(fn, args):
    """The plain Python function to differentiate for a call with ``args``.

    A plain function is returned as is.  An s2sgrad function is specialized for
    ``args`` and its generated function returned, with its source re-registered
    in ``linecache`` (the compiler reads it back from there).
    """
    api = _api()
    if isinstance(fn, api.GradientFunction):
        if args is None:
            gen = fn._last
            if gen is None:
                fn.source
                gen = fn._last
        else:
            args = tuple(args)
            if len(args) != fn._nparams:
                args = fn._bind(args, {})
            fn._specialize(args, fn._key(args))
            gen = fn._last
        return _registered(gen)
    if isinstance(fn, JVPFunction) and not fn._tuple:
        # jvp(jvp(f)), grad(tangent of f): the generated (*args, dot_x) function has
        # the same parameters as the call (*args, tangent)
        if args is None:
            return _registered(fn._generated(None))
        primal = fn._bind(tuple(args)[:-1])
        return _registered(fn._generated(primal))
    if isinstance(fn, (Transform, _Derived)):
        raise S2SGradError(
            "cannot differentiate the result of s2sgrad.%s directly"
            % getattr(fn, "kind", type(fn).__name__.replace("Function", "").lower()),
            function=getattr(fn, "__name__", None),
            hint="nest through grad: hvp(f) is jvp(grad(f)); hessian(f) is "
                 "jacobian(grad(f), mode='forward'); grad(grad(f)) works for scalar f")
    return fn


_NESTED: "weakref.WeakKeyDictionary[Any, Dict[Any, Any]]" = weakref.WeakKeyDictionary()


def cached(fn, key, generate, disk: bool = True):
    """``cache.get_or_generate``; in memory only when ``fn`` is an s2sgrad function
    (the disk cache keys on the original source, shared by every order) or when
    ``disk`` is false (forward mode also depends on the tangent table, which the
    disk cache's key does not cover)."""
    if not is_transform(fn) and disk:
        return cache.get_or_generate(fn, key, generate)
    try:
        per_fn = _NESTED.setdefault(fn, {})
    except TypeError:          # not weak-referenceable
        return generate()
    hit = per_fn.get(key)
    if hit is None:
        hit = per_fn[key] = generate()
    return hit


def _registered(gen):
    f = gen.function
    filename = f.__code__.co_filename
    source = _without_augmented_assignments(gen.source)
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    return f


def _without_augmented_assignments(source: str) -> str:
    """``g += v`` -> ``g = g + (v)`` (and ``-=``, ``*=``, ``/=``), line for line.

    Generated code updates only buffers it owns in place, but the compiler,
    differentiating it again, cannot prove that and would refuse; the two forms
    compute the same values here.  Line numbers are kept.
    """
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.AugAssign)
             and isinstance(n.target, ast.Name) and type(n.op) in ops]
    if not nodes:
        return source
    lines = source.splitlines(True)
    for n in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        v = n.value
        end = lines[v.end_lineno - 1]
        lines[v.end_lineno - 1] = end[:v.end_col_offset] + ")" + end[v.end_col_offset:]
        first = lines[n.lineno - 1]
        head = "%s = %s %s (" % (n.target.id, n.target.id, ops[type(n.op)])
        if v.lineno == n.lineno:
            lines[n.lineno - 1] = first[:n.col_offset] + head + first[v.col_offset:]
        else:
            lines[n.lineno - 1] = first[:n.col_offset] + head + "\n"
            start = lines[v.lineno - 1]
            lines[v.lineno - 1] = start[:v.col_offset] + start[v.col_offset:]
    return "".join(lines)


# --------------------------------------------------------------------------
# The transform objects


def _signature(args):
    return _api()._signature(args)


class Transform:
    """An s2sgrad-generated callable, specialized per argument signature."""

    kind = "transform"

    def __init__(self, fn: Callable, wrt, kind: Optional[str] = None):
        if not callable(fn):
            raise TypeError("s2sgrad.%s expects a function, got %r" % (kind or self.kind, fn))
        api = _api()
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
                _api()._check_differentiable(self._fn, self._wrt, args)
            target = concrete(self._fn, args)
            gen = cached(self._fn, (self.kind, self._wrt, self._tuple, key),
                         lambda: self._generate(target, args), disk=self.kind == "vjp")
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
        from .forward import generate_jvp
        return generate_jvp(target, self._wrt, args)


def _tangent_like(t, x):
    if isinstance(x, np.ndarray):
        t = np.asarray(t, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
        if t.shape != x.shape:
            t = np.broadcast_to(t, x.shape)
        return t
    return t


class VJPFunction(Transform):
    """``(*args) -> (value, pullback)``; split-mode reverse."""

    kind = "vjp"

    def __call__(self, *args):
        args = self._bind(args)
        return self._compiled_for(args)(*args)

    def _generate(self, target, args):
        return generate_vjp(target, self._wrt, args, self._tuple)


def jvp(f: Optional[Callable] = None, *, wrt=0):
    """Forward mode: ``jvp(f)(*args, tangent) -> (f(*args), J @ tangent)``.

    With a tuple ``wrt`` the tangent is a tuple (one entry per differentiated
    argument).  ``.source`` shows the generated tangent code.
    """
    if f is None:
        return lambda fn: JVPFunction(fn, wrt)
    return JVPFunction(f, wrt)


def vjp(f: Optional[Callable] = None, *, wrt=0):
    """Split-mode reverse: ``vjp(f)(*args) -> (value, pullback)``.

    ``pullback(cotangent)`` runs only the backward sweep, on values saved by the
    forward sweep, and returns the gradient(s) of ``<cotangent, f(*args)>``.
    The cotangent has the output's shape (a tuple for tuple outputs).
    """
    if f is None:
        return lambda fn: VJPFunction(fn, wrt)
    return VJPFunction(f, wrt)


# --------------------------------------------------------------------------
# Derived transforms


class _Derived:
    """Base for transforms built from jvp/vjp at call time (their .source is theirs)."""

    def __init__(self, fn, wrt):
        self._fn = fn
        self._wrt_arg = wrt
        self.__name__ = getattr(fn, "__name__", "function")
        self.__wrapped__ = fn

    @property
    def source(self) -> str:
        return self._inner().source


class TangentFunction(JVPFunction):
    """``(*args, tangent) -> J @ tangent`` only (no primal value computed beyond need)."""

    kind = "tangent"

    def _generate(self, target, args):
        from .forward import generate_jvp
        return generate_jvp(target, self._wrt, args, tangent_only=True)


class HVPFunction(_Derived):
    """``(*args, v) -> H v``: forward mode over the reverse-mode gradient."""

    def __init__(self, fn, wrt):
        super().__init__(fn, wrt)
        api = _api()
        self._grad = api.grad(fn, wrt=wrt)
        self._jvp = TangentFunction(self._grad, wrt)

    def _inner(self):
        return self._jvp

    def __call__(self, *args):
        return self._jvp(*args)


def hvp(f: Optional[Callable] = None, *, wrt=0):
    """Hessian-vector product ``(*args, v) -> H(args) @ v`` without forming H.

    Computed forward-over-reverse: the generated gradient code is differentiated
    in forward mode (``.source`` shows that code).
    """
    if f is None:
        return lambda fn: HVPFunction(fn, wrt)
    return HVPFunction(f, wrt)


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
    return np.zeros_like(x, dtype=float) if isinstance(x, np.ndarray) else 0.0


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
    dtype = complex if any(np.iscomplexobj(c) for c in cols) else float
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
    dtype = complex if any(np.iscomplexobj(r) for r in rows) else float
    arr = np.array([np.asarray(r, dtype=dtype).reshape(np.shape(x)) for r in rows])
    return arr.reshape(np.shape(value) + np.shape(x))


def jacobian(f: Optional[Callable] = None, *, wrt=0, mode: str = "auto"):
    """The Jacobian, of shape ``f(*args).shape + x.shape``.

    ``mode="forward"`` builds it column by column with the generated JVP (one
    pass per input entry), ``mode="reverse"`` row by row with the generated
    pullback (one forward sweep, one backward sweep per output entry);
    ``"auto"`` picks forward when the input has fewer entries than the output.
    """
    if f is None:
        return lambda fn: JacobianFunction(fn, wrt, mode)
    return JacobianFunction(f, wrt, mode)


class HessianFunction(_Derived):
    def __init__(self, fn, wrt):
        super().__init__(fn, wrt)
        api = _api()
        self._grad = api.grad(fn, wrt=wrt)
        self._jac = JacobianFunction(self._grad, wrt, "forward")

    def _inner(self):
        return self._jac._jvp

    def __call__(self, *args):
        return self._jac(*args)


def hessian(f: Optional[Callable] = None, *, wrt=0):
    """The Hessian of a scalar function, forward-over-reverse (one HVP per input entry)."""
    if f is None:
        return lambda fn: HessianFunction(fn, wrt)
    return HessianFunction(f, wrt)


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


def _register_transform_rule(obj) -> None:
    from .rules.registry import Rule, _register
    from .rules.tangents import tangent_rule
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
