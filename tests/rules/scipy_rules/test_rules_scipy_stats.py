"""scipy.stats: broadcasting location and scale, quantiles, the multivariate normal (entropy,
batches, second derivatives), frozen distributions, distribution functions in their shape
parameters: against finite differences, forward mode and second derivatives."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import RNG, check_expr, make_loss, pos, rand

scipy = pytest.importorskip("scipy")


SYM = "a @ a.T + 3.0 * np.eye(3)"      # scipy reads one triangle: a symmetric input


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


# -- frozen SciPy distributions ----------------------------------------------------------------------


@pytest.mark.parametrize("call,args", [
    ("stats.norm(m, s).logpdf(x)", dict(x=rand(4), m=rand(), s=pos())),
    ("stats.norm(loc=m, scale=s).cdf(x)", dict(x=rand(4), m=rand(), s=pos())),
    ("stats.norm(m).pdf(x)", dict(x=rand(4), m=rand())),
    ("stats.norm(m, s).ppf(x)", dict(x=rand(4, low=0.1, high=0.9), m=rand(), s=pos())),
    ("stats.norm(m, s).logsf(x)", dict(x=rand(4), m=rand(), s=pos())),
    ("stats.gamma(k, scale=s).logpdf(x)", dict(x=pos(4), k=pos(), s=pos())),
    ("stats.t(df).logpdf(x)", dict(x=rand(4), df=pos() + 2)),
    ("stats.beta(p, q).logpdf(x)", dict(x=rand(4, low=0.1, high=0.9), p=pos(), q=pos())),
    ("stats.expon(scale=s).logpdf(x)", dict(x=pos(4), s=pos())),
])
def test_frozen_distributions(call, args):
    check_expr(call, **args)


def test_frozen_distribution_matches_unfrozen_code():
    from scipy import stats

    def f(x, m, s):
        return np.sum(stats.norm(m, scale=s).logpdf(x))
    g = s2sgrad.grad(f, wrt=(0, 1, 2))
    g(rand(3), 0.3, 1.2)
    # the comment shows the call as the rule read it: the unfrozen method
    assert "stats.norm.logpdf(x, m, scale=s)" in g.source


# -- distribution functions in their shape parameters ------------------------------------------------


@pytest.mark.parametrize("expr,args", [
    ("stats.t.cdf(x, df)", lambda: dict(x=rand(5, low=-3, high=3), df=pos(5) * 3)),
    ("stats.t.logcdf(x, df, 0.5, 2.0)", lambda: dict(x=rand(5), df=pos() + 1)),
    ("stats.t.sf(x, df)", lambda: dict(x=rand(5), df=pos(5))),
    ("stats.t.logsf(x, df)", lambda: dict(x=rand(5), df=pos())),
    ("stats.gamma.cdf(x, a)", lambda: dict(x=pos(5) * 2, a=pos(5) * 2)),
    ("stats.gamma.logcdf(x, a, scale=s)", lambda: dict(x=pos(5), a=pos(), s=pos())),
    ("stats.gamma.sf(x, a)", lambda: dict(x=pos(5), a=pos(5))),
    ("stats.gamma.logsf(x, a)", lambda: dict(x=pos(5), a=pos())),
    ("stats.chi2.cdf(x, df)", lambda: dict(x=pos(5) * 2, df=pos(5) * 3)),
    ("stats.chi2.logcdf(x, df)", lambda: dict(x=pos(5) * 2, df=pos(5) * 3)),
    ("stats.chi2.sf(x, df)", lambda: dict(x=pos(5) * 2, df=pos(5) * 3)),
    ("stats.chi2.logsf(x, df)", lambda: dict(x=pos(5), df=pos())),
    ("stats.beta.cdf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(5),
                                              b=pos(5) * 2)),
    ("stats.beta.logcdf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(),
                                                 b=pos())),
    ("stats.beta.sf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(), b=pos())),
    ("stats.beta.logsf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(),
                                                b=pos())),
    ("special.gammainc(a, x)", lambda: dict(x=pos(5) * 3, a=pos(5))),
    ("special.gammaincc(a, x)", lambda: dict(x=pos(5) * 3, a=pos(5))),
    ("special.betainc(a, b, x)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(5),
                                               b=pos(5))),
    ("stats.t(df).cdf(x)", lambda: dict(x=rand(5), df=pos() + 2)),
])
def test_cdf_shape_parameters(expr, args):
    check_expr(expr, **args())


def test_cdf_shape_derivatives_are_exact():
    # against 30-digit derivatives of the regularized functions (mpmath), wide ranges
    mp = pytest.importorskip("mpmath")
    from s2sgrad.runtime import betainc_da, betainc_db, gammainc_da, t_cdf_ddf
    mp.mp.dps = 30
    for a in (0.3, 1.0, 2.5, 10.0, 40.0):
        for x in (1e-3, 0.5, 2.0, 10.0, 60.0, 300.0):
            ref = mp.diff(lambda v: mp.gammainc(v, 0, x, regularized=True), a)
            assert abs(gammainc_da(a, x) - float(ref)) < 1e-12
    for a in (0.3, 1.0, 2.5, 12.0):
        for b in (0.4, 1.0, 3.0, 20.0):
            for x in (1e-3, 0.2, 0.5, 0.8, 0.999):
                ra = mp.diff(lambda v: mp.betainc(v, b, 0, x, regularized=True), a)
                rb = mp.diff(lambda v: mp.betainc(a, v, 0, x, regularized=True), b)
                assert abs(betainc_da(a, b, x) - float(ra)) < 1e-12
                assert abs(betainc_db(a, b, x) - float(rb)) < 1e-12
    for df in (0.7, 3.0, 30.0):
        for z in (-4.0, -0.3, 0.0, 1.5):
            # F = I_w(df/2, 1/2) / 2 below 0, w = df / (df + z^2)
            def cdf(v):
                w = v / (v + z * z)
                half = mp.betainc(v / 2, 0.5, 0, w, regularized=True) / 2
                return half if z < 0 else 1 - half
            assert abs(t_cdf_ddf(z, df) - float(mp.diff(cdf, df))) < 1e-12


# -- scipy.stats with broadcasting location and scale -------------------------------------------


BROADCAST = dict(loc=rand(1, 3, low=-0.5, high=0.5), scale=pos(4, 1))


@pytest.mark.parametrize("method", ["pdf", "cdf", "sf", "logpdf", "logcdf", "logsf"])
def test_norm_broadcasting(method):
    expr = "stats.norm.%s(x, loc, scale)" % method
    check_expr(expr, x=rand(4, 3), rtol=1e-5, **BROADCAST)
    check_hvp(expr, x=rand(4, 3), **BROADCAST)
    check_expr("stats.norm.%s(x, loc=m, scale=s)" % method, x=rand(5), m=rand(), s=pos(),
               rtol=1e-5)


@pytest.mark.parametrize("method", ["ppf", "isf"])
def test_norm_quantiles(method):
    expr = "stats.norm.%s(q, loc, scale)" % method
    q = rand(4, 3, low=0.1, high=0.9)
    check_expr(expr, q=q, rtol=1e-5, **BROADCAST)
    check_hvp(expr, q=q, **BROADCAST)
    check_expr("stats.norm.%s(q)" % method, q=rand(5, low=0.1, high=0.9), rtol=1e-5)


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
def test_shape_parameters_broadcasting(method):
    check_expr("stats.t.%s(x, df, loc, scale)" % method, x=rand(4, 3), df=pos(1, 3) + 1.5,
               loc=rand(4, 1), scale=pos(1, 3), rtol=1e-5)
    check_expr("stats.beta.%s(x, a, b)" % method, x=rand(4, 3, low=0.2, high=0.8),
               a=pos(1, 3) + 1.0, b=pos(4, 1) + 1.0, rtol=1e-5)
    check_expr("stats.gamma.%s(x, a)" % method, x=pos(4, 3), a=pos(1, 3) + 1.0, rtol=1e-5)
    check_expr("stats.chi2.%s(x, df)" % method, x=pos(4, 3), df=pos(1, 3) + 1.5, rtol=1e-5)
    check_hvp("stats.beta.%s(x, a, b)" % method, x=rand(4, 3, low=0.2, high=0.8),
              a=pos(1, 3) + 1.0, b=pos(4, 1) + 1.0)


@pytest.mark.parametrize("method", ["cdf", "logcdf"])
def test_cdfs_broadcasting(method):
    check_expr("stats.t.%s(x, 3.5, loc, scale)" % method, x=rand(4, 3), rtol=1e-5,
               **BROADCAST)
    consts = {"a": pos(1, 3) + 1.0, "b": pos(4, 1) + 1.0}
    check_expr("stats.beta.%s(x, a, b)" % method, consts=consts,
               x=rand(4, 3, low=0.2, high=0.8), rtol=1e-5)
    check_expr("stats.gamma.%s(x, a)" % method, consts=consts, x=pos(4, 3), rtol=1e-5)
    check_hvp("stats.t.%s(x, 3.5, loc, scale)" % method, x=rand(4, 3), **BROADCAST)


def test_multivariate_normal_entropy():
    check_expr("stats.multivariate_normal.entropy(m, %s)" % SYM, m=rand(3), a=rand(3, 3))
    check_expr("stats.multivariate_normal.entropy(cov=%s)" % SYM, a=rand(3, 3))
    check_expr("stats.multivariate_normal.entropy(m, c)", m=rand(3), c=pos(3))
    check_expr("stats.multivariate_normal.entropy(m, c)", m=rand(3), c=pos())
    check_hvp("stats.multivariate_normal.entropy(m, %s)" % SYM, m=rand(3), a=rand(3, 3))
    check_hvp("stats.multivariate_normal.entropy(m, c)", m=rand(3), c=pos(3))
    check_hvp("stats.multivariate_normal.entropy(m, c)", m=rand(3), c=pos())


def test_multivariate_normal_batches():
    check_expr("stats.multivariate_normal.logpdf(x, mean=m, cov=%s)" % SYM,
               x=rand(2, 4, 3), m=rand(3), a=rand(3, 3), rtol=1e-5)
    check_expr("stats.multivariate_normal.pdf(x, m, c)", x=rand(5, 3) * 0.5, m=rand(3) * 0.5,
               c=pos(3), rtol=1e-5)
    # one dimension (scalar mean and variance): a 1-D x is a list of points
    check_expr("stats.multivariate_normal.logpdf(x, m, c)", x=rand(5), m=rand(), c=pos())
    check_expr("stats.multivariate_normal.pdf(x, m, c)", x=rand(5), m=rand(), c=pos(),
               rtol=1e-5)


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
def test_multivariate_normal_second_derivatives(method):
    scale = 0.5 if method == "pdf" else 1.0
    check_hvp("stats.multivariate_normal.%s(x, m, %s)" % (method, SYM), x=rand(5, 3) * scale,
              m=rand(3) * scale, a=rand(3, 3))
    check_hvp("stats.multivariate_normal.%s(x, mean=m, cov=%s)" % (method, SYM),
              x=rand(3) * scale, m=rand(3) * scale, a=rand(3, 3))
    check_hvp("stats.multivariate_normal.%s(x, m, %s)" % (method, SYM), x=rand(2, 4, 3) * scale,
              m=rand(3) * scale, a=rand(3, 3))
    check_hvp("stats.multivariate_normal.%s(x, m, c)" % method, x=rand(5, 3) * scale,
              m=rand(3) * scale, c=pos(3))
    check_hvp("stats.multivariate_normal.%s(x, m, c)" % method, x=rand(5, 3) * scale,
              m=rand(3) * scale, c=pos())
    check_hvp("stats.multivariate_normal.%s(x, m, c)" % method, x=rand(5), m=rand(), c=pos())
    check_hvp("stats.multivariate_normal.%s(x)" % method, x=rand(5, 1))
