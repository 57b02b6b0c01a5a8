"""scipy.linalg (and scipy.signal.fftconvolve): solve_triangular with trans, cho_factor /
cho_solve, lu_factor / lu_solve, solve_banded, sqrtm, solve_sylvester, with second
derivatives of the factorizations: against finite differences."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import RNG, check_expr, check_hessian, make_loss, rand

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


# -- scipy.linalg.solve_banded ---------------------------------------------------------------------


def banded(lower, upper, n):
    ab = rand(lower + upper + 1, n)
    ab[upper] += 6.0                 # diagonally dominant
    return ab


@pytest.mark.parametrize("lu,n,rhs", [((1, 1), 5, ()), ((2, 1), 5, (2,)), ((0, 2), 4, ()),
                                      ((1, 0), 4, (3,)), ((0, 0), 3, ())], ids=str)
def test_solve_banded(lu, n, rhs):
    check_expr("sla.solve_banded(%r, ab, b)" % (lu,), ab=banded(lu[0], lu[1], n),
               b=rand(n, *rhs))


def test_solve_banded_hessians():
    import scipy.linalg as sla
    b = rand(5)
    ab0 = banded(1, 2, 5)

    def f(ab):
        return np.sum(sla.solve_banded((1, 2), ab, b) ** 2)

    def h(x):
        return np.sum(np.sin(sla.solve_banded((1, 2), ab0, x * x)))
    check_hessian(f, ab0, rtol=1e-4, atol=1e-6)
    check_hessian(h, rand(5))


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


def test_fftconvolve():
    pytest.importorskip("scipy")
    check_expr("signal.fftconvolve(a, v)", a=rand(6), v=rand(3), rtol=1e-5)
    check_expr("signal.fftconvolve(a, v, mode='same')", a=rand(4, 5), v=rand(2, 3), rtol=1e-5)


def test_sqrtm_sylvester():
    pytest.importorskip("scipy")
    a = rand(3, 3)
    check_expr("sla.sqrtm(x @ x.T + 3 * np.eye(3))", x=a, rtol=1e-5)
    check_expr("sla.solve_sylvester(a, b, q)", a=rand(3, 3) + 3 * np.eye(3),
               b=rand(2, 2) + 2 * np.eye(2), q=rand(3, 2), rtol=1e-5)
