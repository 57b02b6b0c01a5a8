"""SciPy rules with broadcasting arguments, forward mode and second derivatives
(rules/scipy_special.py, scipy_stats.py, scipy_misc.py): norm.isf,
multivariate_normal.entropy, gammasgn, solve_triangular with trans, cho_factor /
cho_solve and lu_factor / lu_solve, second derivatives of the multivariate normal
and of the factorizations."""
import numpy as np
import pytest

scipy = pytest.importorskip("scipy")

import s2sgrad  # noqa: E402
from rulecheck import RNG, check_expr, make_loss, pos, rand  # noqa: E402

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


# -- scipy.linalg -------------------------------------------------------------------------------


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower,unit", [(False, False), (True, False), (True, True),
                                        (False, True)])
def test_solve_triangular_trans(trans, lower, unit):
    t = rand(3, 3) + 3 * np.eye(3)
    expr = "sla.solve_triangular(t, b, trans=%r, lower=%r, unit_diagonal=%r)" % (
        trans, lower, unit)
    check_expr(expr, t=t, b=rand(3, 2))
    check_expr(expr, t=t, b=rand(3))
    check_hvp(expr, t=t, b=rand(3, 2))


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_cho_solve(lower):
    check_expr("sla.cho_solve(sla.cho_factor(%s, lower=%r), b)" % (SYM, lower), a=rand(3, 3),
               b=rand(3, 2))
    check_expr("sla.cho_solve(sla.cho_factor(%s, lower=%r), b)" % (SYM, lower), a=rand(3, 3),
               b=rand(3))
    check_expr("sla.cho_solve((sla.cholesky(%s, lower=%r), %r), b)" % (SYM, lower, lower),
               a=rand(3, 3), b=rand(3, 2))


@pytest.mark.parametrize("lower", [False, True])
def test_factor_matrices_themselves(lower):
    # cho_factor's other triangle holds a's entries; lu packs L and U
    check_expr("sla.cho_factor(%s, lower=%r)[0]" % (SYM, lower), a=rand(3, 3))
    check_expr("sla.lu_factor(a)[0]", a=rand(4, 4) + np.diag([0.1, 3.0, -2.0, 0.5]))


def test_cho_factor_unpacked():
    def f(a, b):
        c, low = scipy.linalg.cho_factor(a @ a.T + 3.0 * np.eye(3))
        return np.sum(scipy.linalg.cho_solve((c, low), b) ** 2)

    from gradcheck import check_grad
    check_grad(f, (rand(3, 3), rand(3, 2)), wrt=(0, 1))


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_factor_lu_solve(trans):
    a = rand(4, 4) + np.diag([0.1, 3.0, -2.0, 0.5])      # pivoting happens
    expr = "sla.lu_solve(sla.lu_factor(a), b, trans=%r)" % trans
    check_expr(expr, a=a, b=rand(4, 2))
    check_expr(expr, a=a, b=rand(4))
    check_expr("sla.lu_solve(sla.lu_factor(a), b)", consts={"b": rand(4)}, a=a)


@pytest.mark.parametrize("expr", [
    "np.linalg.cholesky(%s)" % SYM, "sla.cholesky(%s)" % SYM,
    "sla.cholesky(%s, lower=True)" % SYM, "sla.cho_factor(%s)[0]" % SYM,
    "sla.cho_solve(sla.cho_factor(%s), b)" % SYM,
    "sla.cho_solve(sla.cho_factor(%s, lower=True), b)" % SYM])
def test_cholesky_second_derivatives(expr):
    args = dict(a=rand(3, 3))
    if "b)" in expr:
        args["b"] = rand(3, 2)
    check_hvp(expr, **args)


@pytest.mark.parametrize("lower", [False, True])
def test_cho_solve_second_derivatives_in_the_factor(lower):
    tri = np.tril if lower else np.triu
    c = tri(rand(3, 3)) + 3 * np.eye(3)
    check_hvp("sla.cho_solve((c, %r), b)" % lower, c=c, b=rand(3))


def test_cho_solve_grad_of_grad():
    from gradcheck import check_grad

    def f(a, b):
        return np.sum(scipy.linalg.cho_solve(scipy.linalg.cho_factor(a @ a.T + 3.0 * np.eye(3)),
                                             b) ** 2)

    df = s2sgrad.grad(f, wrt=0)
    w = rand(3, 3)

    def g(a, b):
        return np.sum(df(a, b) * w)

    check_grad(g, (rand(3, 3), rand(3, 2)), wrt=(0, 1), rtol=1e-5)


ROWS = np.eye(4)[[2, 0, 3, 1]]


def pivoted():
    """A well-conditioned 4x4 matrix (condition number below 10) whose rows lu_factor
    must swap: finite differences of second derivatives stay accurate whatever the
    random draw."""
    return ROWS @ (0.5 * rand(4, 4) + 3.0 * np.eye(4))


@pytest.mark.parametrize("trans", [0, 1])
def test_lu_second_derivatives(trans):
    expr = "sla.lu_solve(sla.lu_factor(a), b, trans=%r)" % trans
    check_hvp(expr, a=pivoted(), b=rand(4, 2))
    check_hvp(expr, a=pivoted(), b=rand(4))
    check_hvp("sla.lu_factor(a)[0]", a=pivoted())
    assert not np.array_equal(scipy.linalg.lu_factor(pivoted())[1], np.arange(4))


def test_lu_grad_of_grad_is_a_clear_error():
    # forward over reverse (HVPs, Hessians) is supported; reverse over reverse is not
    def f(a, b):
        return np.sum(scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b) ** 2)

    df = s2sgrad.grad(f, wrt=0)

    def g(a, b):
        return np.sum(df(a, b))

    with pytest.raises(s2sgrad.UnsupportedCallError, match="no derivative rule"):
        s2sgrad.grad(g, wrt=0)(rand(3, 3) + 3 * np.eye(3), rand(3))
