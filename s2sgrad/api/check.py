"""``check_grads``: the generated derivatives of a function, compared element by
element with central finite differences in float64 (the Python side of the CLI's
``s2sgrad check``), and ``elementwise_grad`` (autograd's)."""
from __future__ import annotations

import inspect
import itertools
import linecache
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from s2sgrad.api.tracebacks import boundary
from s2sgrad.api.tree import tree_flatten, tree_unflatten

__all__ = ["check_grads", "elementwise_grad"]

_ULP = np.finfo(np.float64).eps
_MODES = ("fwd", "rev")


# --------------------------------------------------------------------------
# Flat float64 views of pytrees


class _Flat:
    """A pytree of floats and arrays as one float64 vector, with each entry's name."""

    def __init__(self, tree, names: Sequence[str]):
        leaves, self.treedef = tree_flatten(tree)
        self.shapes, self.kinds, self.labels = [], [], []
        for leaf, prefix in zip(leaves, names):
            if isinstance(leaf, (bool, np.bool_)) or not isinstance(
                    leaf, (int, float, np.number, np.ndarray)):
                raise TypeError("check_grads: %s is a %s, not a float or a float array"
                                % (prefix, type(leaf).__name__))
            a = np.asarray(leaf)
            self.shapes.append(a.shape)
            self.kinds.append(a.dtype if isinstance(leaf, np.ndarray) else type(leaf))
            self.labels += [prefix + ("[%s]" % ", ".join(map(str, i)) if a.ndim else "")
                            for i in itertools.product(*map(range, a.shape))]
        self.vector = np.concatenate(
            [np.ravel(np.asarray(x, dtype=np.float64)) for x in leaves]) \
            if leaves else np.zeros(0)

    def tree(self, vector: np.ndarray, dtypes: bool = False):
        """The pytree holding ``vector``: float64 arrays and Python floats (the numeric
        side), or with ``dtypes`` each leaf's own dtype (what the generated code gets)."""
        out, start = [], 0
        for shape, kind in zip(self.shapes, self.kinds):
            n = int(np.prod(shape))
            part = vector[start:start + n]
            start += n
            if isinstance(kind, np.dtype):
                dtype = kind if dtypes and kind.kind == "f" else np.float64
                out.append(part.reshape(shape).astype(dtype))
            else:
                out.append(float(part[0]))
        return tree_unflatten(self.treedef, out)


def _leaf_names(tree, prefix: str) -> List[str]:
    """``prefix['w'][0]``-style names of ``tree``'s leaves, in tree_flatten order."""
    if isinstance(tree, dict):
        leaves, treedef = tree_flatten(tree)
        keys = treedef.meta
        return [n for k in keys for n in _leaf_names(tree[k], "%s[%r]" % (prefix, k))]
    if isinstance(tree, (list, tuple)):
        return [n for k, v in enumerate(tree) for n in _leaf_names(v, "%s[%d]" % (prefix, k))]
    if tree is None:
        return []
    return [prefix]


def _flat_output(value) -> np.ndarray:
    leaves = tree_flatten(value)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(x, dtype=np.float64)) for x in leaves])


# --------------------------------------------------------------------------
# The comparison


def _compare(analytic, numeric, noise, labels, rtol, atol, what):
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError("check_grads: %s returned %d values, finite differences %d"
                             % (what, analytic.size, numeric.size))
    err = np.abs(analytic - numeric)
    bad_nan = np.isnan(analytic) != np.isnan(numeric)
    tol = atol + rtol * np.abs(numeric) + noise
    excess = np.where(bad_nan, np.inf, np.nan_to_num(err - tol, nan=0.0))
    if not np.any(excess > 0):
        return
    k = int(np.argmax(excess))
    raise AssertionError(
        "check_grads: %s disagrees with central finite differences\n"
        "  worst element %s: s2sgrad %.10g, finite differences %.10g "
        "(error %.3g > tolerance %.3g)\n"
        "  %d of %d elements outside the tolerance (rtol=%g, atol=%g)"
        % (what, labels[k], analytic[k], numeric[k], err[k], tol[k],
           int(np.sum(excess > 0)), excess.size, rtol, atol))


def _is_scalar(value) -> bool:
    return not isinstance(value, (tuple, list, dict)) and np.ndim(value) == 0


def _step(x: float, eps: float) -> float:
    return eps * max(1.0, abs(x))


def _check_rev(f, args, idx, wrt, flat, name, rng, eps, rtol, atol, order):
    from s2sgrad.api.gradient import grad
    from s2sgrad.api.transforms import vjp
    value = f(*args)
    out = _flat_output(value)
    scalar = _is_scalar(value)
    if scalar:
        u = np.ones(1)
        g = grad(f, wrt=wrt)(*args)
        what = "reverse mode (grad) of %s" % name
    else:
        u = rng.standard_normal(out.size)
        cotangent = _Flat(value, _leaf_names(value, "out")).tree(u, dtypes=True)
        _, pullback = vjp(f, wrt=wrt)(*args)
        g = pullback(cotangent)
        what = "reverse mode (vjp) of %s" % name
    if not isinstance(wrt, tuple):
        g = (g,)
    analytic = _flat_output(tuple(g))
    if analytic.size != flat.vector.size:
        raise AssertionError("check_grads: %s returned %d gradient entries for %d inputs"
                             % (what, analytic.size, flat.vector.size))

    def phi(vector):
        call = list(args)
        for i, x in zip(idx, flat.tree(vector)):
            call[i] = x
        return float(np.dot(u, _flat_output(f(*call))))

    numeric, noise = np.empty(flat.vector.size), np.empty(flat.vector.size)
    for j, xj in enumerate(flat.vector):
        h = _step(xj, eps)
        plus, minus = flat.vector.copy(), flat.vector.copy()
        plus[j] += h
        minus[j] -= h
        fp, fm = phi(plus), phi(minus)
        numeric[j] = (fp - fm) / (2 * h)
        noise[j] = 8 * _ULP * (abs(fp) + abs(fm) + 1e-300) / (2 * h)
    _compare(analytic, numeric, noise, flat.labels, rtol, atol,
             what + (", order %d," % order if order > 1 else ""))


def _check_fwd(f, args, idx, wrt, flat, name, rng, eps, rtol, atol, order):
    from s2sgrad.api.transforms import jvp
    v = rng.standard_normal(flat.vector.size)
    tangent = tuple(flat.tree(v, dtypes=True))
    value, t = jvp(f, wrt=wrt)(*args, tangent if isinstance(wrt, tuple) else tangent[0])
    analytic = _flat_output(t)
    h = eps * max(1.0, float(np.max(np.abs(flat.vector), initial=0.0)))

    def at(vector):
        call = list(args)
        for i, x in zip(idx, flat.tree(vector)):
            call[i] = x
        return _flat_output(f(*call))

    fp, fm = at(flat.vector + h * v), at(flat.vector - h * v)
    numeric = (fp - fm) / (2 * h)
    noise = 8 * _ULP * (np.abs(fp) + np.abs(fm)) / (2 * h)
    labels = _Flat(value, _leaf_names(value, "output")).labels
    _compare(analytic, numeric, noise, labels, rtol, atol,
             "forward mode (jvp) of %s%s" % (name, ", order %d," % order if order > 1 else ""))


def _projection(f, u_tree, params: List[str]):
    """``lambda params: <u, f(params)>``, as a Python function with readable source
    (s2sgrad differentiates it, inlining ``f``).  Registered in ``linecache``."""
    args = ", ".join(params)
    filename = "<s2sgrad check_grads projection of %s %d>" % (
        getattr(f, "__name__", "f"), id(u_tree))
    source = "def projected(%s):\n    y = _f(%s)\n    return %s\n" % (
        args, args, _sum_products_source(u_tree, "_u", "y"))
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"_f": f, "_u": u_tree, "np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["projected"]


def _sum_products_source(u, uname: str, yname: str) -> str:
    """``np.sum(_u[0] * y[0]) + ...`` over the leaves of the output's structure."""
    if isinstance(u, dict):
        keys = tree_flatten(u)[1].meta
        return " + ".join(_sum_products_source(u[k], "%s[%r]" % (uname, k),
                                               "%s[%r]" % (yname, k)) for k in keys)
    if isinstance(u, (list, tuple)):
        return " + ".join(_sum_products_source(v, "%s[%d]" % (uname, k), "%s[%d]" % (yname, k))
                          for k, v in enumerate(u))
    return "np.sum(%s * %s)" % (uname, yname)


@boundary
def check_grads(f: Callable, args: Sequence[Any], order: int = 2,
                modes: Sequence[str] = _MODES, *, wrt: Any = None, argnums: Any = None,
                eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6,
                seed: int = 0) -> None:
    """Check the generated derivatives of ``f`` at ``args`` against central finite
    differences (in float64), up to ``order``; raise ``AssertionError`` if they differ.

    ``"rev"`` compares the reverse-mode gradient (``grad`` for a scalar output, else
    the ``vjp`` pullback of a random cotangent) with the finite differences of each
    input entry; ``"fwd"`` compares the ``jvp`` along a random direction with the
    finite difference along it, output entry by output entry.  ``order=2`` checks
    the derivatives of the generated gradient too (forward- and reverse-over-reverse,
    on the generated code).  The error names the worst element, its value in
    s2sgrad and by finite differences.  ``wrt`` / ``argnums`` as in :func:`grad`;
    arguments may be pytrees (dicts, lists, tuples of float arrays).  An entry passes
    when ``|s2sgrad - fd| <= atol + rtol * |fd| + round-off of the difference quotient``.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import check_grads
        >>> def f(x):
        ...     return np.sum(np.sin(x) * x)
        >>> check_grads(f, (np.array([0.1, 0.2, 0.3]),), order=2)   # passes: None
    """
    from s2sgrad.api.signature import _choose_wrt, _resolve_wrt
    if not isinstance(args, (tuple, list)):
        raise TypeError("check_grads expects the arguments as a tuple, e.g. "
                        "check_grads(f, (x,)); got %s" % type(args).__name__)
    unknown = set(modes) - set(_MODES)
    if unknown or not modes:
        raise ValueError("check_grads: modes must be a non-empty subset of ('fwd', 'rev'); "
                         "got %r" % (tuple(modes),))
    if not isinstance(order, int) or order < 1:
        raise ValueError("check_grads: order must be an int >= 1, got %r" % (order,))
    wrt = _choose_wrt(f, wrt, argnums, "check_grads")
    idx, tuple_wrt = _resolve_wrt(f, wrt)
    args = tuple(args)
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [params[i] if i < len(params) else "args[%d]" % i for i in idx]
    xs = tuple(args[i] for i in idx)
    flat = _Flat(xs, [n for x, name in zip(xs, names) for n in _leaf_names(x, name)])
    spec = tuple(idx) if tuple_wrt else idx[0]
    name = getattr(f, "__name__", "f")
    rng = np.random.default_rng(seed)
    _check(f, args, idx, spec, flat, name, rng, order, modes, eps, rtol, atol, params, 1)


def _check(f, args, idx, wrt, flat, name, rng, order, modes, eps, rtol, atol, params, level):
    if "rev" in modes:
        _check_rev(f, args, idx, wrt, flat, name, rng, eps, rtol, atol, level)
    if "fwd" in modes:
        _check_fwd(f, args, idx, wrt, flat, name, rng, eps, rtol, atol, level)
    if order <= 1:
        return
    from s2sgrad.api.gradient import grad
    value = f(*args)
    if _is_scalar(value):
        inner = f
    else:
        if len(params) != len(args):
            raise TypeError("check_grads: order > 1 of a non-scalar function needs its "
                            "parameters listed explicitly (no *args)")
        u = _Flat(value, _leaf_names(value, "out")).tree(
            rng.standard_normal(_flat_output(value).size), dtypes=True)
        inner = _projection(f, u, params)
    derivative = grad(inner, wrt=wrt)
    _check(derivative, args, idx, wrt, flat, "grad(%s)" % name, rng, order - 1, modes,
           eps, rtol, atol, params, level + 1)


# --------------------------------------------------------------------------
# elementwise_grad


class ElementwiseGradFunction:
    """``elementwise_grad(f)``: the vjp of ``f`` with a cotangent of ones."""

    def __init__(self, fn: Callable, wrt):
        from s2sgrad.api.transforms import VJPFunction
        self._vjp = VJPFunction(fn, wrt)
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "function")
        self.__doc__ = getattr(fn, "__doc__", None)

    @boundary
    def __call__(self, *args):
        value, pullback = self._vjp(*args)
        ones = tree_unflatten(*_ones_like(value))
        return pullback(ones)

    @property
    @boundary
    def source(self) -> str:
        """The generated split-mode code (the pullback is called with ones)."""
        return self._vjp.source

    def __repr__(self):
        return "<s2sgrad elementwise_grad of %s>" % getattr(self.__wrapped__, "__qualname__", "?")


def _ones_like(value) -> Tuple[Any, list]:
    leaves, treedef = tree_flatten(value)
    ones = [np.ones_like(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
            if isinstance(x, np.ndarray) else 1.0 for x in leaves]
    return treedef, ones


@boundary
def elementwise_grad(f: Optional[Callable] = None, *, wrt: Any = None,
                     argnums: Any = None) -> Any:
    """The sum over the outputs of their gradients: ``vjp`` with a cotangent of ones.

    For a function applied entry by entry (``np.tanh(x)``, ``x ** 2 + 1``) this is
    the derivative at every entry, with ``x``'s shape (autograd's
    ``elementwise_grad``).  For other functions it is the gradient of
    ``np.sum(f(x))``.  ``wrt`` / ``argnums`` as in :func:`grad`.  ``.source``
    shows the generated split-mode code.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import elementwise_grad
        >>> def f(x):
        ...     return np.tanh(x)
        >>> elementwise_grad(f)(np.array([0.0, 1.0])).round(4)     # 1 - tanh(x)**2
        array([1.  , 0.42])
    """
    from s2sgrad.api.signature import _choose_wrt
    if f is None:
        return lambda fn: ElementwiseGradFunction(fn, _choose_wrt(fn, wrt, argnums,
                                                                  "elementwise_grad"))
    return ElementwiseGradFunction(f, _choose_wrt(f, wrt, argnums, "elementwise_grad"))
