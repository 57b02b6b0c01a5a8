"""Finite-difference checks for single derivative rules.

``check_expr("np.sum(x, axis=1)", x=arr)`` differentiates the loss
``np.sum((np.sum(x, axis=1)) * C)`` -- C a random cotangent shaped like the
expression's value -- with respect to every keyword argument given, and compares
with float64 central differences (``gradcheck.check_grad``).  Arguments passed in
``consts`` are closed over (no gradient).  The loss is real source (registered in
``linecache``), so s2sgrad reads it like any user function.
"""
from __future__ import annotations

import itertools
import linecache

import numpy as np

from gradcheck import check_grad

_COUNTER = itertools.count()
RNG = np.random.default_rng(1234)


def _namespace():
    ns = {"np": np}
    try:
        import scipy
        import scipy.linalg
        import scipy.signal
        import scipy.special
        import scipy.stats
        ns.update(scipy=scipy, special=scipy.special, stats=scipy.stats,
                  signal=scipy.signal, sla=scipy.linalg)
    except ImportError:  # pragma: no cover
        pass
    return ns


def make_loss(expr, names, consts=None):
    """A function ``loss(*names, C) = np.sum((expr) * C)`` with real source."""
    filename = "<rulecheck-%d>" % next(_COUNTER)
    src = "def rule_loss(%s):\n    return np.sum((%s) * C)\n" % (", ".join(list(names) + ["C"]),
                                                                   expr)
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = _namespace()
    ns.update(consts or {})
    exec(compile(src, filename, "exec"), ns)
    return ns["rule_loss"]


def check_expr(expr, consts=None, rtol=1e-6, atol=1e-8, eps=1e-6, forward=True, **args):
    """Check the gradient of ``expr`` w.r.t. every keyword argument; return the loss.
    ``forward=False`` skips the forward-mode (jvp) comparison."""
    names = list(args)
    ns = _namespace()
    ns.update(consts or {})
    value = eval(expr, ns, dict(args))
    C = RNG.standard_normal(np.shape(value)) if np.ndim(value) else float(RNG.standard_normal())
    loss = make_loss(expr, names, consts)
    full = tuple(args.values()) + (C,)
    wrt = tuple(range(len(names)))
    before = [np.array(a, copy=True) for a in full]
    specialized = check_grad(loss, full, wrt=wrt, rtol=rtol, atol=atol, eps=eps)
    for a, b in zip(full, before):      # gradients never write into their inputs
        np.testing.assert_array_equal(a, b)
    check_generic(loss, full, wrt, specialized)
    if forward:
        check_forward(loss, full, wrt, specialized)
    return loss


def check_forward(loss, args, wrt, grads):
    """Forward mode (tangents derived from the same rule) agrees with reverse mode:
    jvp(t) == <grad, t> for a random tangent t."""
    import s2sgrad
    tangents = [RNG.standard_normal(np.shape(args[i])) if np.ndim(args[i])
                else float(RNG.standard_normal()) for i in wrt]
    value, jv = s2sgrad.jvp(loss, wrt=tuple(wrt))(*args, tuple(tangents))
    expected = sum(float(np.sum(np.asarray(g) * t)) for g, t in zip(grads, tangents))
    np.testing.assert_allclose(float(jv), expected, rtol=1e-7, atol=1e-9)


def check_generic(loss, args, wrt, expected):
    """The generic version (no shapes known: runtime helpers instead of specialized
    NumPy) computes the same gradients as the specialized one."""
    from s2sgrad.ad.pipeline import generate_gradient
    generic = generate_gradient(loss, wrt, "grad", None, True).function(*args)
    for g, e in zip(generic, expected):
        np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(e, dtype=float),
                                   rtol=1e-10, atol=1e-12)
        assert np.shape(g) == np.shape(e)


def rand(*shape, low=-2.0, high=2.0):
    """Uniform floats; ``rand()`` is a Python float."""
    if not shape:
        return float(RNG.uniform(low, high))
    return RNG.uniform(low, high, size=shape)


def pos(*shape):
    return rand(*shape, low=0.5, high=2.0)


def spd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def numeric_hessian(f, x, eps=1e-5):
    """Central differences of s2sgrad's gradient (itself checked by the rule tests)."""
    import s2sgrad
    g = s2sgrad.grad(f)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append(np.ravel((g(x + e) - g(x - e)) / (2 * eps)))
    return np.array(cols).T.reshape(np.shape(x) * 2)


def check_hessian(f, x, rtol=1e-5, atol=1e-6):
    """s2sgrad.hessian(f)(x) against finite differences of the gradient."""
    import s2sgrad
    np.testing.assert_allclose(s2sgrad.hessian(f)(x), numeric_hessian(f, x), rtol=rtol,
                               atol=atol)
