"""scipy.special: gammasgn (no gradient), second derivatives, binary broadcasting, Bessel
functions in their order: against finite differences (and mpmath's exactness checks)."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import RNG, check_expr, make_loss, pos, rand

scipy = pytest.importorskip("scipy")
import scipy.special  # noqa: E402  (scipy.special.yn in a differentiated function)


def check_hvp(expr, consts=None, rtol=1e-5, atol=1e-7, **args):
    """s2sgrad.hvp of np.sum(expr * C) agrees with central differences of its gradient."""
    names = list(args)
    loss = make_loss(expr, names, consts)
    ns = dict(consts or {})
    value = eval(expr, {**__import__("rulecheck")._namespace(), **ns}, dict(args))
    C = RNG.standard_normal(np.shape(value))
    wrt = tuple(range(len(names)))
    vs = tuple(RNG.standard_normal(np.shape(a)) for a in args.values())
    hv = s2sgrad.hvp(loss, wrt=wrt)(*args.values(), C, vs)
    g = s2sgrad.grad(loss, wrt=wrt)
    h = 1e-5
    plus = g(*[a + h * v for a, v in zip(args.values(), vs)], C)
    minus = g(*[a - h * v for a, v in zip(args.values(), vs)], C)
    for got, p, m in zip(hv, plus, minus):
        np.testing.assert_allclose(got, (p - m) / (2 * h), rtol=rtol, atol=atol)


# -- Bessel functions in their order ------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["jv", "jn", "yv", "iv", "ive", "kv"])
@pytest.mark.parametrize("v", [-1.7, -0.4, 0.3, 2.5])
def test_bessel_order(fn, v):
    check_expr("special.%s(v, x)" % fn, v=v, x=rand(4, low=0.3, high=12.0))


@pytest.mark.parametrize("n", [0.0, 1.0, 2.3])
def test_yn_truncates_its_order(n):
    # yn(2.3, x) is yn(2, x): the argument's derivative uses the truncated order, and the
    # order itself has none
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check_expr("special.yn(n, x)", consts={"n": n}, x=rand(4, low=0.5, high=8.0))

        def f(n, x):
            return scipy.special.yn(n, x)
        with pytest.raises(s2sgrad.UnsupportedCallError, match="truncated to an integer"):
            s2sgrad.grad(f, wrt=0)(n, 1.5)


def test_bessel_order_and_argument_together():
    check_expr("special.jv(v, x) * special.kv(v, x)", v=rand(3, low=0.2, high=3.0),
               x=rand(3, low=0.5, high=4.0))


def test_bessel_order_derivatives_are_exact():
    mp = pytest.importorskip("mpmath")
    from s2sgrad.runtime import bessel_dv
    mp.mp.dps = 20
    for kind, f in (("jv", mp.besselj), ("yv", mp.bessely), ("iv", mp.besseli),
                    ("kv", mp.besselk)):
        for v, x in ((0.4, 1.0), (-0.7, 7.0), (2.5, 30.0), (-2.5, 0.3)):
            ref = float(mp.diff(lambda u: f(u, x), v))
            assert abs(bessel_dv(kind, v, x) - ref) <= 1e-11 * max(1.0, abs(ref))
    assert np.isnan(bessel_dv("jv", 0.5, -1.0))       # x <= 0: not real, NaN as SciPy


# -- scipy.special ----------------------------------------------------------------------------


def test_gammasgn_has_no_gradient():
    check_expr("special.gammasgn(x) * x", x=rand(4, 3, low=-2.5, high=3.0))


@pytest.mark.parametrize("expr,low,high", [
    ("special.logsumexp(x, axis=1, b=w, keepdims=True)", -2, 2),
    ("special.softmax(x, axis=0)", -2, 2), ("special.log_softmax(x, axis=-1)", -2, 2),
    ("special.polygamma(1, x)", 0.5, 3), ("special.rgamma(x)", 0.5, 3),
    ("special.ive(2, x)", -3, 3), ("special.jn(2, x)", -3, 3), ("special.yn(1, x)", 0.5, 3),
    ("special.erfinv(x)", -0.9, 0.9), ("special.erfcinv(x)", 0.1, 1.9),
    ("special.logit(x)", 0.1, 0.9), ("special.gammaincc(2.5, x)", 0.5, 3),
    ("special.betainc(2.0, 3.0, x)", 0.1, 0.9)])
def test_special_second_derivatives(expr, low, high):
    args = dict(x=rand(4, 3, low=low, high=high))
    consts = {"w": pos(4, 3)} if "w" in expr else None
    check_hvp(expr, consts=consts, **args)


@pytest.mark.parametrize("expr", ["special.beta(x, y)", "special.betaln(x, y)",
                                  "special.xlogy(x, y)", "special.xlog1py(x, y)"])
def test_special_binary_broadcasting(expr):
    check_expr(expr, x=pos(4, 3), y=pos(1, 3), rtol=1e-5)
    check_expr(expr, x=pos(4, 1), y=pos(), rtol=1e-5)
    check_hvp(expr, x=pos(4, 3), y=pos(1, 3))
