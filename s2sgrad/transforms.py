"""The derived transforms: jvp, vjp (split mode), jacobian, hessian, hvp,
stop_gradient -- and nesting (grad of grad, jvp of grad).

Every transform generates source.  Nesting works on *generated* code: when the
function handed to a transform is itself an s2sgrad function, it is first
specialized for the arguments of the call, and the generated function (whose
source is registered in ``linecache``) is what gets differentiated.  So
``grad(grad(f)).source`` is ordinary reverse-mode code over the code of
``grad(f).source``, and ``hvp(f).source`` is forward mode over it.
"""
from __future__ import annotations

import copy
import inspect
import linecache
import weakref
import zlib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import gast
import numpy as np

from . import astutil as A
from . import cache
from .errors import S2SGradError
from .rules import nondifferentiable
from .rules import runtime_rules  # noqa: F401  (rules for what generated code calls)


# --------------------------------------------------------------------------
# stop_gradient


def stop_gradient(x):
    """The value passes unchanged; no derivative flows through it (in either mode)."""
    return x


nondifferentiable(stop_gradient, family="custom")   # "custom": not in docs/supported.md


# --------------------------------------------------------------------------
# grad_of: user code in the backward pass


class _GradOfBlock:
    """What ``with grad_of(x) as g:`` does when the function runs undifferentiated:
    ``g`` is bound to ``x`` and the block's result is discarded."""

    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


def grad_of(value):
    """Insert code into the backward pass where ``value``'s gradient is known::

        for t in range(T):
            h = np.tanh(W @ h + xs[t])
            with s2sgrad.grad_of(h) as g:
                g = np.clip(g, -1.0, 1.0)

    In generated gradient code the block's body runs, verbatim, at the point of
    the backward pass where the gradient of ``h`` is complete (all later uses
    of ``h`` have contributed), with ``g`` bound to that gradient; whatever ``g``
    holds at the end replaces it.  Forward mode ignores the block.  Called
    normally, the function runs the block on ``h`` itself and discards it.
    """
    return _GradOfBlock(value)


def _grad_of_marker(value, key):
    """Stands for a ``with grad_of(...)`` block in the primal trace; does nothing."""
    return None


grad_of.at = _grad_of_marker


class _Hook:
    def __init__(self, var: str, body, origin, label: str, target: str = ""):
        self.var = var            # the name bound by 'as'
        self.body = body
        self.origin = origin
        self.label = label
        self.target = target      # the variable named in grad_of(...)


_HOOKS: Dict[int, _Hook] = {}
_HOOK_KEYS: Dict[tuple, int] = {}      # one key per block (file, line, text)


def rewrite_grad_of(parsed):
    """Replace ``with grad_of(x) as g: ...`` blocks by markers the passes keep.

    Returns ``parsed`` itself when the function has no such block.
    """
    from .analysis import Environment
    from .errors import UnsupportedSyntaxError
    from .normalize import local_names_of

    env = Environment(parsed.globals, parsed.closure, local_names_of(parsed.node))
    register_called_transforms(parsed.node, env)
    if not any(isinstance(n, gast.With) for n in gast.walk(parsed.node)):
        return parsed
    info = parsed.info

    def is_grad_of(w):
        if len(w.items) != 1 or not isinstance(w.items[0].context_expr, gast.Call):
            return False
        path = A.dotted(w.items[0].context_expr.func)
        return path is not None and env.resolve(path) is grad_of

    def rewrite(stmts):
        out = []
        for st in stmts:
            if isinstance(st, gast.With) and is_grad_of(st):
                call = st.items[0].context_expr
                var = st.items[0].optional_vars
                if len(call.args) != 1 or not isinstance(call.args[0], gast.Name) or \
                        call.keywords:
                    raise info.error(UnsupportedSyntaxError,
                                     "grad_of() takes one variable name", st,
                                     hint="assign the value to a variable first: "
                                          "h = ...; with grad_of(h) as g: ...")
                if not isinstance(var, gast.Name):
                    raise info.error(UnsupportedSyntaxError,
                                     "grad_of() needs 'as NAME' to bind the gradient", st,
                                     hint="with grad_of(h) as g: g = np.clip(g, -1.0, 1.0)")
                loc = (info.filename, info.absolute_line(st), getattr(st, "col_offset", 0),
                       gast.dump(st))
                key = _HOOK_KEYS.setdefault(loc, len(_HOOK_KEYS))
                label = "with %s(%s) as %s:" % (A.dotted(call.func), call.args[0].id, var.id)
                _HOOKS[key] = _Hook(var.id, copy.deepcopy(st.body), st, label, call.args[0].id)
                func = gast.Attribute(value=copy.deepcopy(call.func), attr="at", ctx=gast.Load())
                marker = gast.Expr(value=A.call(func, [A.load(call.args[0].id), A.const(key)]))
                out.append(gast.copy_location(marker, st))
                continue
            for field_name in ("body", "orelse"):
                sub = getattr(st, field_name, None)
                if isinstance(sub, list):
                    setattr(st, field_name, rewrite(sub))
            out.append(st)
        return out

    import dataclasses
    node = copy.deepcopy(parsed.node)
    node.body = rewrite(node.body)
    return dataclasses.replace(parsed, node=node)


_TRANSFORM_RULES: Dict[int, Any] = {}


def register_called_transforms(node, env) -> None:
    """Derivative rules for calls to s2sgrad functions (``grad(f)`` called inside a
    function being differentiated): the adjoint is the pullback of ``vjp`` of that
    function, the tangent its ``jvp`` -- both generated code, differentiating the
    callee's generated code once more."""
    for call in gast.walk(node):
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


def grad_of_marker(stmt, env) -> Optional[Tuple[str, _Hook]]:
    """(variable, hook) when ``stmt`` is a grad_of marker, else None."""
    info = getattr(stmt, "s2s_backward_hook", None)
    if info is not None:
        return info
    if not (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)):
        return None
    call = stmt.value
    path = A.dotted(call.func)
    if not path or not path.endswith(".at") or env.resolve(path) is not _grad_of_marker:
        return None
    if len(call.args) != 2 or not isinstance(call.args[0], gast.Name):
        return None
    return call.args[0].id, _HOOKS[call.args[1].value]


def backward_hook(rb, stmt) -> List[gast.stmt]:
    """The reverse pass reached a grad_of marker: emit the user's block there."""
    from .emit import Comment
    found = grad_of_marker(stmt, rb.env)
    if found is None:
        return []
    var, hook = found
    if getattr(stmt, "s2s_backward_hook", None) is None:
        # In the forward pass the marker becomes a comment.
        stmt.__class__ = Comment
        stmt.text = "%s  (runs in the backward pass)" % hook.label
        stmt.s2s_backward_hook = found
    if var not in rb.active or var not in rb.defined:
        return []
    g = rb.grad_name(var)
    line = rb.info.absolute_line(hook.origin)
    # A copy: the block may update g in place, and a plain alias would let the
    # optimizer fold the block into its surroundings (it must stay verbatim).
    vi = rb.shapes.get(var) if rb.shapes is not None else None
    if vi is not None and not vi.is_array:
        enter = A.assign(hook.var, A.call(A.load("float"), [A.load(g)]))
    else:
        enter = A.assign(hook.var, A.call(rb.np("array"), [A.load(g)]))
    enter.s2s_comment = "%s  (line %d)" % (hook.label, line) if line else hook.label
    leave = A.assign(g, A.load(hook.var))
    leave.s2s_comment = "end of the grad_of block: the new gradient of %s" % var
    rb.private.discard(var)
    body = copy.deepcopy(hook.body)
    if hook.target and var != hook.target and hook.target != hook.var:
        # the variable was renamed by the trace (x, x_1, ...): the block reads this version
        body = [A.rename(st, {hook.target: var}) for st in body]
    return [enter] + body + [leave]


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
            if fn._nparams >= 0 and len(args) != fn._nparams:
                args = fn._bind(args, {})
            key = api._signature(args)
            fn._specialize(args, key)
            gen = fn._last
        return _registered(gen)
    if isinstance(fn, (Transform, _Derived)):
        raise S2SGradError(
            "cannot differentiate the result of s2sgrad.%s directly"
            % getattr(fn, "kind", type(fn).__name__.replace("Function", "").lower()),
            function=getattr(fn, "__name__", None),
            hint="nest through grad: hvp(f) is jvp(grad(f)); hessian(f) is "
                 "jacobian(grad(f), mode='forward'); grad(grad(f)) works for scalar f")
    return fn


_NESTED: "weakref.WeakKeyDictionary[Any, Dict[Any, Any]]" = weakref.WeakKeyDictionary()


def cached(fn, key, generate):
    """``cache.get_or_generate``, in memory only when ``fn`` is an s2sgrad function."""
    if not is_transform(fn):
        return cache.get_or_generate(fn, key, generate)
    per_fn = _NESTED.setdefault(fn, {})
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
            self._nparams = len(sig.parameters)
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
        bound = self._sig.bind(*args)
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
                         lambda: self._generate(target, args))
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
        t = np.asarray(t, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
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
        e = np.zeros(x.shape, dtype=x.dtype if x.dtype.kind == "f" else float)
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
    arr = np.array([np.asarray(c, dtype=float).reshape(np.shape(value)) for c in cols])
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
    arr = np.array([np.asarray(r, dtype=float).reshape(np.shape(x)) for r in rows])
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


# --------------------------------------------------------------------------
# Split-mode reverse generation


def generate_vjp(fn, wrt: Sequence[int], example_args=None, tuple_output: bool = True):
    from . import runtime
    from .analysis import Environment, activity
    from .emit import Comment, compile_function, emit_stmts
    from .normalize import build_primal_trace
    from .optimize import eliminate_dead_forward, simplify_function
    from .parse import parse_function
    from .pipeline import Generated, choose_bindings, final_gradient, insert_restores, probe_shapes
    from .reverse import ReverseBuilder

    parsed = rewrite_grad_of(parse_function(fn))
    params = [a.id for a in parsed.node.args.posonlyargs + parsed.node.args.args]
    wrt_names = [params[i] for i in wrt]
    trace = build_primal_trace(parsed, wrt_names)
    from .pipeline import _with_extra
    env = Environment(_with_extra(parsed.globals, trace), parsed.closure, trace.local_names)
    bindings, extra = choose_bindings(parsed, trace)
    extra.update(trace.extra_globals)       # globals of inlined functions from other modules
    shapes = None
    if example_args is not None:
        shapes, _ = probe_shapes(parsed, trace, example_args)
        from .shapes import describe
        shapes.params = {p: describe(a) for p, a in zip(trace.params, example_args)}
    body = trace.node.body
    forward = body[:-1]
    out = trace.output
    rb = ReverseBuilder(trace, wrt_names, env, shapes, bindings)
    ct = rb.grad_name(out)
    elements = None
    last = forward[-1] if forward else None
    if isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name) and \
            last.targets[0].id == out and isinstance(last.value, (gast.Tuple, gast.List)):
        elements = last.value.elts
        active = set()
        for e in elements:
            if isinstance(e, gast.Name):
                active |= activity(body, wrt_names, e.id, env)
        rb.active = active
    backward: List[gast.stmt] = []
    if elements is not None:
        for k, e in enumerate(elements):
            if isinstance(e, gast.Name) and e.id in rb.active:
                value = gast.Subscript(value=A.load(ct), slice=A.const(k), ctx=gast.Load())
                backward += rb.accumulate(e.id, value, "cotangent of output %d" % k)
        backward += rb.backward(forward[:-1])
    elif out in rb.active:
        rb.defined.add(out)
        backward += rb.backward(forward)
    forward = insert_restores(rb, forward, backward)
    results = [final_gradient(rb, p, backward) for p in wrt_names]
    grads = results[0] if not tuple_output else gast.Tuple(elts=results, ctx=gast.Load())
    from .optimize import flatten
    backward = flatten(backward)
    live = A.names_loaded(gast.Module(body=backward, type_ignores=[])) | A.names_loaded(grads) \
        | {out}
    forward = eliminate_dead_forward(forward, live, env)

    # The pullback may run several times: names the backward sweep re-assigns
    # (restored values, stacks) get pullback-local copies.
    forward = flatten(forward)
    fwd_names = set(params) | A.names_stored(gast.Module(body=forward, type_ignores=[]))
    bwd_assigned = set()
    for node in _walk(backward):
        if isinstance(node, gast.Assign):
            bwd_assigned |= A.names_stored(node.targets[0])
        elif isinstance(node, gast.AugAssign):
            bwd_assigned |= A.names_stored(node.target)
    shared = sorted((bwd_assigned & fwd_names) - {ct})
    stacks = {s.targets[0].id for s in _flatten(forward) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.List)
              and not s.value.elts}
    shared = sorted(set(shared) | (stacks & A.names_loaded(gast.Module(body=backward,
                                                                       type_ignores=[]))))
    mapping = {n: trace.names.fresh(n + "_pb") for n in shared}
    read_first = _read_before_written(backward)
    prologue = []
    for n in shared:
        if n not in stacks and n not in read_first:
            continue                       # assigned before any read: no copy needed
        value = A.call(A.load("list"), [A.load(n)]) if n in stacks else A.load(n)
        s = A.assign(mapping[n], value)
        s.s2s_comment = "the backward sweep updates %s: work on a copy" % n
        prologue.append(s)
    pb_body = prologue + [A.rename(s, mapping) for s in backward]
    grads = A.rename(grads, mapping)

    fn_name = trace.info.function_name.replace("<lambda>", "lambda_") + "_vjp"
    pb_name = trace.names.fresh("pullback")
    fwd_fn = gast.FunctionDef(name=fn_name, args=trace.node.args, body=forward + [gast.Pass()],
                              decorator_list=[], returns=None, type_comment=None)
    fwd_fn.body = flatten(fwd_fn.body)        # primal code stays exactly as traced
    bwd_fn = gast.FunctionDef(name=pb_name, args=None, body=pb_body + [gast.Return(value=grads)],
                              decorator_list=[], returns=None, type_comment=None)
    bwd_fn = simplify_function(bwd_fn)
    args = ", ".join(params)
    lines = ["def %s(%s):" % (fn_name, args)]
    emit_stmts([Comment("Forward sweep (runs now)")] + fwd_fn.body[:-1], 1, lines)
    lines.append("")
    lines.append("    def %s(%s):" % (pb_name, ct))
    emit_stmts([Comment("Backward sweep (runs when called with the cotangent of %s)" % out)]
               + bwd_fn.body, 2, lines)
    lines.append("    return %s, %s" % (out, pb_name))
    source = "\n".join(lines) + "\n"
    for h in sorted(bindings.used_helpers):
        extra[bindings.helper_names[h]] = getattr(runtime, h)
    extra.update(getattr(bindings, "extra", {}))
    filename = "<s2sgrad %s %s>" % (fn_name, zlib.crc32(source.encode()) & 0xffffffff)
    compiled = compile_function(source, fn_name, parsed.globals, parsed.closure, extra, filename)
    compiled.__doc__ = "Split-mode reverse (VJP) of %s, generated by s2sgrad." \
        % trace.info.function_name
    return Generated(source, compiled, fn_name, shapes is not None)


def _read_before_written(stmts) -> set:
    """Names some path through ``stmts`` (in textual order) reads before assigning."""
    first_read = set()

    def visit(body, seen):
        seen = set(seen)
        for st in body:
            if isinstance(st, (gast.For, gast.While, gast.If)):
                head = st.iter if isinstance(st, gast.For) else st.test
                first_read.update(A.names_loaded(head) - seen)
                inner = seen | (A.names_stored(st.target) if isinstance(st, gast.For) else set())
                after_body = visit(st.body, inner)
                after_else = visit(st.orelse, seen)
                if isinstance(st, gast.If):
                    seen = after_body & after_else     # written on every path
                continue                               # a loop may run zero times
            loads = A.names_loaded(st)
            if isinstance(st, gast.AugAssign):
                loads = loads | A.names_stored(st.target)
            first_read.update(loads - seen)
            seen |= A.names_stored(st)
        return seen
    visit(stmts, set())
    return first_read


def _walk(stmts):
    for s in stmts:
        yield s
        for field_name in ("body", "orelse"):
            sub = getattr(s, field_name, None)
            if isinstance(sub, list):
                yield from _walk(sub)


def _flatten(stmts):
    out = []
    for s in stmts:
        if isinstance(s, list):
            out.extend(_flatten(s))
        else:
            out.append(s)
    return out


# --------------------------------------------------------------------------
# Forward mode through a vjp rule that has no tangent: transpose the template


def transpose_vjp_rule(fb, s, op, result, r):
    """Tangent of ``r = op(...)`` for a ``@vjp`` rule with no forward knowledge.

    The rule's template computes ``c_x(u) = J_x^T u`` for each input ``x``.  The
    tangent is ``sum_x J_x dot_x``, and since ``<u, J_x v> = <c_x(u), v>`` it is
    the gradient with respect to ``u`` of the scalar ``sum_x <c_x(u), dot_x>``
    -- a function built from the template and differentiated by the reverse
    pass itself.  Its gradient code is inlined here (JAX's transpose idea, run
    backwards: the JVP is the transpose of the VJP).
    """
    from . import runtime
    from .emit import compile_function, emit_function
    from .pipeline import generate_gradient
    from .templates import Temp, bind, instantiate

    rule = op.rule
    binding = bind(rule, op.args, op.keywords, fb._fail(s))
    diff = rule.differentiable_params()
    wanted = [p for p in rule.params if isinstance(binding.get(p), gast.Name)
              and binding[p].id in fb.varied and p in diff]
    if not wanted:
        return [], fb.zero_of(r)
    u = fb.names.fresh("u_" + r)
    resolver = lambda n: fb.b.resolve(n, rule, fb.names.fresh)
    try:
        pieces = instantiate(rule, binding, result, A.load(u), wanted, fb.names.fresh, resolver)
    except Exception as exc:
        raise fb.error(s, "no forward-mode rule for '%s' (%s)" % (op.label, exc),
                       hint="add a @tangent_rule for it (s2sgrad/rules/tangents.py)")
    body: List[gast.stmt] = []
    terms = []
    for piece in pieces:
        if isinstance(piece, Temp):
            body.append(piece.stmt)
            continue
        x = binding[piece.param].id
        dot = A.load(fb.dot(x))
        if piece.index is not None:
            dot = gast.Subscript(value=dot, slice=piece.index, ctx=gast.Load())
        terms.append(A.call(A.parse_expr(fb.b.numpy_name + ".sum"),
                            [gast.BinOp(left=piece.value, op=gast.Mult(), right=dot)]))
    total = terms[0]
    for t in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=t)
    body.append(gast.Return(value=total))
    stored = A.names_stored(gast.Module(body=body, type_ignores=[]))
    loaded = A.names_loaded(gast.Module(body=body, type_ignores=[]))
    dots = set(fb.dots.values())
    free = sorted(n for n in loaded - stored - {u}
                  if n in fb.env.local_names or n in dots or n == r)
    name = "transpose_" + "".join(c if c.isalnum() else "_" for c in rule.label).strip("_")
    params = [u] + free
    fn = gast.FunctionDef(
        name=name, args=gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                                       type_comment=None) for p in params],
                                       posonlyargs=[], vararg=None, kwonlyargs=[],
                                       kw_defaults=[], kwarg=None, defaults=[]),
        body=body, decorator_list=[], returns=None, type_comment=None)
    source = emit_function(fn)
    objects = {fb.b.numpy_name: np}
    objects.update({fb.b.helper_names[h]: getattr(runtime, h) for h in runtime.__all__
                    if h in fb.b.helper_names})
    objects.update(getattr(fb.b, "extra", {}))
    lin = compile_function(source, name, fb.env.globals, {}, objects,
                           "<s2sgrad %s %s>" % (name, zlib.crc32(source.encode()) & 0xffffffff))
    example = _example_args(fb, params, u, r)
    try:
        gen = None
        if example is not None:
            try:
                with np.errstate(all="ignore"):
                    gen = generate_gradient(lin, (0,), "grad", example, False)
            except S2SGradError:
                raise
            except Exception:         # the made-up example values broke the probe
                gen = None
        if gen is None:
            gen = generate_gradient(lin, (0,), "grad", None, False)
    except S2SGradError:
        # The template calls something with no derivative rule of its own (an
        # adjoint helper): evaluate the linear map on unit cotangents instead.
        return _by_unit_cotangents(fb, pieces, u, terms, r)
    return _inline(fb, s, gen, u, params, r)


def _example_args(fb, params, u, r):
    """Arguments with the probed shapes (ones), to specialize the transposed code."""
    if fb.shapes is None:
        return None
    inv = {d: v for v, d in fb.dots.items()}
    out = []
    for p in params:
        vi = fb.shapes.get(r if p == u else inv.get(p, p))
        if vi is None:
            return None
        if vi.is_array:
            dtype = vi.dtype if vi.dtype.kind == "f" or p not in inv and p != u else float
            if p == u:
                out.append(np.zeros(vi.shape, dtype=dtype))
            elif np.dtype(dtype).kind == "f":
                # well-conditioned made-up values: positive, diagonally dominant matrices
                value = np.random.RandomState(0).uniform(0.5, 1.5, vi.shape)
                if len(vi.shape) >= 2 and vi.shape[-1] == vi.shape[-2]:
                    value = value + vi.shape[-1] * np.eye(vi.shape[-1])
                out.append(value.astype(dtype))
            else:
                out.append(np.ones(vi.shape, dtype=dtype))
        elif p == u or p in inv:
            out.append(0.0 if p == u else 1.0)
        else:
            dt = vi.dtype
            out.append(dt(1) if isinstance(dt, type) else np.ones((), dtype=dt)[()])
    return out


def transpose_linear(fn, like):
    """The vector whose entry i is ``fn(e_i)`` (``e_i`` the unit arrays shaped like
    ``like``): for ``fn(u) = <J^T u, v>`` that is ``J v``."""
    if np.ndim(like) == 0:
        return fn(1.0)
    shape = np.shape(like)
    out = np.empty(shape)
    e = np.zeros(shape)
    for i in range(out.size):
        e.flat[i] = 1.0
        out.flat[i] = fn(e)
        e.flat[i] = 0.0
    return out


def _by_unit_cotangents(fb, pieces, u, terms, r):
    from .templates import Temp
    temps = {}
    for piece in pieces:
        if isinstance(piece, Temp):
            temps[piece.stmt.targets[0].id] = A.rename(copy.deepcopy(piece.stmt.value), temps)
    total = A.rename(copy.deepcopy(terms[0]), temps)
    for t in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=A.rename(copy.deepcopy(t), temps))
    lam = gast.Lambda(args=gast.arguments(args=[gast.Name(id=u, ctx=gast.Param(),
                                                          annotation=None, type_comment=None)],
                                          posonlyargs=[], vararg=None, kwonlyargs=[],
                                          kw_defaults=[], kwarg=None, defaults=[]),
                      body=total)
    helper = None
    for k, v in getattr(fb.b, "extra", {}).items():
        if v is transpose_linear:
            helper = k
    if helper is None:
        helper = fb.names.fresh("transpose_linear")
        fb.b.extra[helper] = transpose_linear
    return [], A.call(A.load(helper), [lam, A.load(r)])


def cells_named(cells, helper):
    from . import runtime
    fn = getattr(runtime, helper)
    return {k for k, c in cells.items() if c.cell_contents is fn}


def _inline(fb, s, gen, u, params, r):
    """The statements of a generated gradient, renamed into the forward code."""
    from . import runtime
    tree = gast.parse(gen.source).body[0]
    f = gen.function
    cells = dict(zip(f.__code__.co_freevars, f.__closure__ or ()))
    mapping = {}
    helper_of = {id(getattr(runtime, h)): h for h in runtime.__all__}
    extra_of = {id(v): k for k, v in getattr(fb.b, "extra", {}).items()}
    for var, cell in cells.items():
        obj = cell.cell_contents
        if obj is np:
            mapping[var] = fb.b.numpy_name
        elif id(obj) in helper_of:
            mapping[var] = fb.b.helper(helper_of[id(obj)])
        elif id(obj) in extra_of:
            mapping[var] = extra_of[id(obj)]
        else:
            new = fb.names.fresh(var)
            fb.b.extra[new] = obj
            mapping[var] = new
    stored = A.names_stored(gast.Module(body=tree.body, type_ignores=[]))
    for n in sorted(stored):
        if n not in params and n not in mapping:
            mapping[n] = fb.names.fresh(n)
    ret = tree.body[-1]
    assert isinstance(ret, gast.Return)
    stmts = [A.rename(st, mapping) for st in tree.body[:-1]
             if not (isinstance(st, gast.Expr) and isinstance(st.value, gast.Call)
                     and A.dotted(st.value.func) in cells_named(cells, "check_scalar_output"))]
    seed = A.assign(u, fb.zero_of(r))
    seed.s2s_comment = "any cotangent: the tangent is the gradient of a linear function of it"
    from .emit import Comment
    value = A.rename(ret.value, mapping)
    head = Comment("tangent of %s: the adjoint rule of '%s', transposed"
                   % (r, s.value.func.attr if isinstance(getattr(s.value, "func", None),
                                                         gast.Attribute)
                      else A.dotted(getattr(s.value, "func", None)) or "op"))
    return [head, seed] + stmts, value
