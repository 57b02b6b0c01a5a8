"""SciPy rules (rules/scipy_special.py, scipy_stats.py, scipy_misc.py)."""
import numpy as np
import pytest

scipy = pytest.importorskip("scipy")

import s2sgrad  # noqa: E402
from gradcheck import check_grad  # noqa: E402
from rulecheck import check_expr, pos, rand  # noqa: E402

SHAPES = [(), (4,), (2, 3)]

UNARY = {
    "expit": ("special.expit(x)", -3, 3), "logit": ("special.logit(x)", 0.1, 0.9),
    "log_expit": ("special.log_expit(x)", -3, 3),
    "erf": ("special.erf(x)", -2, 2), "erfc": ("special.erfc(x)", -2, 2),
    "erfinv": ("special.erfinv(x)", -0.9, 0.9), "erfcinv": ("special.erfcinv(x)", 0.1, 1.9),
    "ndtr": ("special.ndtr(x)", -2, 2), "log_ndtr": ("special.log_ndtr(x)", -3, 3),
    "ndtri": ("special.ndtri(x)", 0.1, 0.9),
    "gamma": ("special.gamma(x)", 0.5, 3), "gammaln": ("special.gammaln(x)", 0.5, 3),
    "rgamma": ("special.rgamma(x)", 0.5, 3), "digamma": ("special.digamma(x)", 0.5, 3),
    "psi": ("special.psi(x)", 0.5, 3), "polygamma": ("special.polygamma(2, x)", 0.5, 3),
    "multigammaln": ("special.multigammaln(x, 3)", 2.0, 4.0),
    "j0": ("special.j0(x)", -3, 3), "j1": ("special.j1(x)", -3, 3),
    "jn": ("special.jn(2, x)", -3, 3), "jv": ("special.jv(1.5, x)", 0.5, 3),
    "y0": ("special.y0(x)", 0.5, 3), "y1": ("special.y1(x)", 0.5, 3),
    "yn": ("special.yn(2, x)", 0.5, 3), "yv": ("special.yv(0.5, x)", 0.5, 3),
    "i0": ("special.i0(x)", -2, 2), "i1": ("special.i1(x)", -2, 2),
    "iv": ("special.iv(1.5, x)", 0.5, 3), "ive": ("special.ive(2, x)", -3, 3),
    "i0e": ("special.i0e(x)", -3, 3), "i1e": ("special.i1e(x)", -3, 3),
    "kv": ("special.kv(1.5, x)", 0.5, 3), "entr": ("special.entr(x)", 0.2, 2),
    "gammainc": ("special.gammainc(2.5, x)", 0.5, 3),
    "gammaincc": ("special.gammaincc(2.5, x)", 0.5, 3),
    "betainc": ("special.betainc(2.0, 3.0, x)", 0.1, 0.9),
}

# multigammaln takes a scalar
SCALAR_ONLY = {"multigammaln"}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_special_unary(name, shape):
    if name in SCALAR_ONLY and shape:
        pytest.skip("scalar function")
    expr, low, high = UNARY[name]
    check_expr(expr, x=rand(*shape, low=low, high=high), rtol=1e-5)


@pytest.mark.parametrize("expr", ["special.beta(x, y)", "special.betaln(x, y)",
                                  "special.xlogy(x, y)", "special.xlog1py(x, y)"])
@pytest.mark.parametrize("shapes", [((), ()), ((3,), ()), ((2, 3), (3,))], ids=str)
def test_special_binary(expr, shapes):
    check_expr(expr, x=pos(*shapes[0]), y=pos(*shapes[1]), rtol=1e-5)


@pytest.mark.parametrize("axis,keep", [(None, False), (0, False), (1, True), (-1, False),
                                       ((0, 1), True)], ids=str)
def test_logsumexp(axis, keep):
    check_expr("special.logsumexp(x, axis=%r, keepdims=%r)" % (axis, keep), x=rand(3, 4))
    check_expr("special.logsumexp(x, axis=%r, b=w, keepdims=%r)" % (axis, keep),
               consts={"w": pos(3, 4)}, x=rand(3, 4))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_softmax(axis):
    check_expr("special.softmax(x, axis=%r)" % (axis,), x=rand(3, 4))
    check_expr("special.log_softmax(x, axis=%r)" % (axis,), x=rand(3, 4))


def test_no_gradient_parameters_are_errors():
    def f(n, x):
        return np.sum(scipy.special.polygamma(n, x))

    assert np.isfinite(s2sgrad.grad(f, wrt=1)(2.0, 1.5))
    with pytest.raises(s2sgrad.UnsupportedCallError, match="with respect to the order n"):
        s2sgrad.grad(f, wrt=0)(2.0, 1.5)


# -- scipy.stats ------------------------------------------------------------------------------

STATS = {
    "norm": ("stats.norm.{m}(x, loc, scale)", (-2, 2)),
    "t": ("stats.t.{m}(x, df, loc, scale)", (-2, 2)),
    "chi2": ("stats.chi2.{m}(x, df, loc, scale)", (0.5, 3)),
    "gamma": ("stats.gamma.{m}(x, df, loc, scale)", (0.5, 3)),
    "beta": ("stats.beta.{m}(x, df, b, loc, scale)", (0.2, 0.8)),
}
METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
HAVE = {"norm": METHODS, "t": METHODS, "chi2": METHODS, "gamma": METHODS, "beta": METHODS}
CASES = [(d, m) for d in STATS for m in HAVE[d]]


@pytest.mark.parametrize("dist,method", CASES, ids=str)
def test_stats_continuous(dist, method):
    template, (low, high) = STATS[dist]
    expr = template.format(m=method)
    x = rand(5, low=low, high=high)
    args = dict(x=x, loc=np.float64(0.1), scale=np.float64(1.3))
    if dist == "norm":
        check_expr(expr, rtol=1e-5, **args)
        check_expr("stats.norm.%s(x)" % method, x=x, rtol=1e-5)
        return
    args["loc"] = np.float64(0.0) if dist in ("chi2", "gamma", "beta") else args["loc"]
    args["scale"] = np.float64(1.0) if dist == "beta" else args["scale"]
    df = np.float64(3.5)
    consts = {"b": 2.5} if dist == "beta" else {}
    if method in ("cdf", "logcdf", "sf", "logsf"):
        consts["df"] = df
    else:
        args["df"] = df
    if dist == "beta":
        consts["b"] = 2.5
    check_expr(expr, consts=consts, rtol=1e-5, **args)


def test_stats_via_imported_name():
    from scipy.stats import norm

    def f(x, mu):
        return np.sum(norm.logpdf(x, mu, 2.0))

    check_grad(f, (rand(4), 0.3), wrt=(0, 1))


def test_poisson():
    k = np.array([0.0, 1.0, 3.0, 5.0])
    check_expr("stats.poisson.logpmf(k, mu)", consts={"k": k}, mu=pos(4))
    check_expr("stats.poisson.pmf(k, mu)", consts={"k": k}, mu=pos(4))
    check_expr("stats.poisson.cdf(k, mu)", consts={"k": k}, mu=pos(4))
    check_expr("stats.poisson.sf(k, mu)", consts={"k": k}, mu=pos(4))


def test_multivariate_normal():
    A = rand(3, 3)
    cov = A @ A.T + 3 * np.eye(3)
    # cov through a symmetric parametrization (scipy reads one triangle only)
    sym = "a @ a.T + 3.0 * np.eye(3)"
    check_expr("stats.multivariate_normal.logpdf(x, m, %s)" % sym, x=rand(5, 3), m=rand(3),
               a=A, rtol=1e-5)
    check_expr("stats.multivariate_normal.logpdf(x, m, %s)" % sym, x=rand(3), m=rand(3), a=A,
               rtol=1e-5)
    check_expr("stats.multivariate_normal.pdf(x, m, %s)" % sym, x=rand(4, 3) * 0.3,
               m=rand(3) * 0.3, a=A, rtol=1e-5)
    check_expr("stats.multivariate_normal.logpdf(x, m, c)", consts={"c": cov}, x=rand(5, 3),
               m=rand(3))
    check_expr("stats.multivariate_normal.logpdf(x, m, c)", x=rand(5, 3), m=rand(3),
               c=pos(3))
    check_expr("stats.multivariate_normal.logpdf(x, m, c)", x=rand(5, 3), m=rand(3),
               c=np.float64(1.7))
    check_expr("stats.multivariate_normal.logpdf(x, m)", x=rand(4, 3), m=rand(3))


def test_dirichlet():
    p = pos(3)
    p = p / p.sum()
    check_expr("stats.dirichlet.logpdf(x / np.sum(x), a)", x=pos(3), a=pos(3), rtol=1e-5)
    check_expr("stats.dirichlet.pdf(x / np.sum(x), a)", x=pos(3), a=pos(3), rtol=1e-5)


# -- signal and scipy.linalg ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve(mode):
    check_expr("np.convolve(a, v, mode=%r)" % mode, a=rand(7), v=rand(3))
    check_expr("np.convolve(a, v, %r)" % mode, a=rand(3), v=rand(6))
    check_expr("np.correlate(a, v, mode=%r)" % mode, a=rand(7), v=rand(3))
    check_expr("signal.convolve(a, v, mode=%r)" % mode, a=rand(7), v=rand(3))
    check_expr("signal.convolve(a, v, mode=%r)" % mode, a=rand(5, 6), v=rand(2, 3))
    check_expr("signal.correlate(a, v, mode=%r)" % mode, a=rand(5, 6), v=rand(2, 3))
    check_expr("signal.correlate(a, v, mode=%r)" % mode, a=rand(7), v=rand(4))


def test_np_correlate_default_mode():
    check_expr("np.correlate(a, v)", a=rand(6), v=rand(2))


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(lower, unit):
    a = rand(3, 3) + 3 * np.eye(3)
    expr = "sla.solve_triangular(a, b, lower=%r, unit_diagonal=%r)" % (lower, unit)
    check_expr(expr, a=a, b=rand(3))
    check_expr(expr, a=a, b=rand(3, 2))


@pytest.mark.parametrize("expr", [
    "special.softplus(x)", "special.huber(1.0, x)", "special.pseudo_huber(0.7, x)",
    "special.dawsn(x)", "special.erfcx(x)"])
def test_special_more_unary(expr):
    check_expr(expr, x=rand(5) * 1.5, rtol=1e-5)


@pytest.mark.parametrize("expr", ["special.kl_div(x, y)", "special.rel_entr(x, y)",
                                  "special.binom(x + 3.0, y)"])
def test_special_more_binary(expr):
    check_expr(expr, x=pos(4), y=pos(4), rtol=1e-5)


@pytest.mark.parametrize("dist", ["expon", "laplace", "cauchy", "logistic"])
@pytest.mark.parametrize("method", ["pdf", "logpdf"])
def test_location_scale(dist, method):
    x = rand(5, low=0.2, high=2.0) if dist == "expon" else rand(5)
    check_expr("stats.%s.%s(x, loc, scale)" % (dist, method), x=x, loc=np.float64(0.1),
               scale=np.float64(1.3), rtol=1e-5)


def test_norm_ppf():
    check_expr("stats.norm.ppf(q, loc, scale)", q=rand(5, low=0.1, high=0.9),
               loc=np.float64(0.3), scale=np.float64(1.5), rtol=1e-5)


def test_scipy_linalg():
    a = rand(3, 3) * 0.5
    check_expr("sla.expm(a)", a=a, rtol=1e-5)
    w = rand(3, 3) + 3 * np.eye(3)
    check_expr("sla.inv(a)", a=w)
    check_expr("sla.det(a)", a=w)
    check_expr("sla.solve(a, b)", a=w, b=rand(3, 2))
    check_expr("sla.cholesky(x @ x.T + 3 * np.eye(3))", x=rand(3, 3))
    check_expr("sla.cholesky(x @ x.T + 3 * np.eye(3), lower=True)", x=rand(3, 3))


def test_binom_bernoulli():
    k = np.array([0.0, 1.0, 3.0, 5.0])
    check_expr("stats.binom.logpmf(k, 6, p)", consts={"k": k}, p=rand(4, low=0.2, high=0.8))
    check_expr("stats.binom.pmf(k, 6, p)", consts={"k": k}, p=rand(4, low=0.2, high=0.8))
    b = np.array([0.0, 1.0, 1.0])
    check_expr("stats.bernoulli.logpmf(b, p)", consts={"b": b}, p=rand(3, low=0.2, high=0.8))
    check_expr("stats.bernoulli.pmf(b, p)", consts={"b": b}, p=rand(3, low=0.2, high=0.8))


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
def test_lognorm_uniform(method):
    check_expr("stats.lognorm.%s(x, s, loc, scale)" % method, x=rand(5, low=0.5, high=3.0),
               s=np.float64(0.8), loc=np.float64(0.1), scale=np.float64(1.3), rtol=1e-5)
    check_expr("stats.uniform.%s(x, loc, scale)" % method, x=rand(5, low=0.2, high=1.2),
               loc=np.float64(0.1), scale=np.float64(1.3), rtol=1e-5)


@pytest.mark.parametrize("expr,low,high", [
    ("special.exp1(x)", 0.3, 2.0), ("special.expi(x)", 0.3, 2.0), ("special.ellipk(x)", 0.1, 0.9),
    ("special.ellipe(x)", 0.1, 0.9), ("special.spence(x)", 0.3, 2.0),
    ("special.loggamma(x)", 0.5, 3.0), ("special.zeta(3.0, x)", 0.5, 3.0)])
def test_special_integrals(expr, low, high):
    check_expr(expr, x=rand(4, low=low, high=high), rtol=1e-5)


def test_logsumexp_weights():
    check_expr("special.logsumexp(x, axis=1, b=w)", x=rand(3, 4), w=pos(3, 4))
    check_expr("special.logsumexp(x, b=w)", x=rand(3, 4), w=pos(4))


def test_more_families():
    check_expr("stats.halfnorm.logpdf(x, loc, scale)", x=rand(4, low=0.3, high=2.0),
               loc=np.float64(0.1), scale=np.float64(1.2), rtol=1e-5)
    check_expr("stats.invgamma.logpdf(x, a, loc, scale)", x=rand(4, low=0.5, high=2.0),
               a=np.float64(2.5), loc=np.float64(0.1), scale=np.float64(1.2), rtol=1e-5)
    check_expr("stats.weibull_min.logpdf(x, c, loc, scale)", x=rand(4, low=0.5, high=2.0),
               c=np.float64(1.7), loc=np.float64(0.1), scale=np.float64(1.2), rtol=1e-5)
    k = np.array([0.0, 2.0, 5.0])
    check_expr("stats.nbinom.logpmf(k, n, p)", consts={"k": k}, n=np.float64(3.5),
               p=rand(3, low=0.2, high=0.8), rtol=1e-5)
    check_expr("stats.geom.logpmf(k, p)", consts={"k": k + 1.0}, p=rand(3, low=0.2, high=0.8))
