"""NumPy's special functions (np.i0, np.modf, np.frexp, np.spacing) and np.histogram's
edges and weights: against finite differences, SciPy, Hessians."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, check_hessian, rand


def _loss(expr):
    from rulecheck import make_loss
    f = make_loss(expr, ["x"])
    return lambda x: f(x, 1.0)


# -- np.i0, np.modf, np.frexp, np.spacing ------------------------------------------------------


def test_bessel_i1_matches_scipy():
    special = pytest.importorskip("scipy.special")
    from s2sgrad.runtime import bessel_i1
    x = np.concatenate([np.linspace(-40.0, 40.0, 801), [0.0, 1e-300, 29.99, 30.0, 30.01,
                                                         100.0, 300.0, 700.0, -700.0]])
    np.testing.assert_allclose(bessel_i1(x), special.i1(x), rtol=1e-14, atol=1e-300)


def test_i0():
    check_expr("np.i0(x)", x=rand(3, 4, low=-3.0, high=3.0), rtol=1e-6)
    check_expr("np.i0(x) * y", x=rand(4, low=-3.0, high=3.0), y=rand(3, 1))


def i0_weighted(x, y):
    return np.sum(np.i0(x) * y)


@pytest.mark.parametrize("low,high", [(20.0, 45.0), (-45.0, -20.0)])
def test_i0_far_from_zero(low, high):
    # NumPy < 2's np.i0 is accurate here but not smooth to 1e-11, so its finite
    # differences are no reference (1e-5 off on NumPy 1.24-1.26): d/dx i0 = i1 is.
    special = pytest.importorskip("scipy.special")
    import s2sgrad
    x, y = rand(3, 4, low=low, high=high), rand(3, 4)
    gx, gy = s2sgrad.grad(i0_weighted, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, special.i1(x) * y, rtol=1e-13)
    np.testing.assert_allclose(gy, np.i0(x), rtol=1e-15)


def i0_f(x):
    return np.sum(np.i0(x * np.array([1.0, 2.0, -3.0, 0.0])) ** 2) + np.sum(np.i0(x[::-1] * x))


def test_i0_hessian():
    check_hessian(i0_f, rand(4))


def modf_frexp_f(x):
    frac, whole = np.modf(x * 3.0)
    mantissa, exponent = np.frexp(x * x + 0.1)
    return np.sum(frac ** 2 * whole) + np.sum(mantissa ** 3 * exponent)


def test_modf_frexp():
    check_expr("np.modf(x)[0]", x=rand(3, 4, low=-5.0, high=5.0))
    check_expr("np.modf(x)[0] * np.modf(x)[1]", x=rand(5, low=-5.0, high=5.0))
    check_expr("np.frexp(x)[0]", x=np.array([0.3, -1.7, 5.5, 100.25, -0.011]))
    check_expr("np.frexp(x)[0] * np.frexp(x)[1]", x=np.array([0.3, -1.7, 5.5, 100.25]))
    x = np.array([0.3, -1.7, 0.55, 1.3])
    check_hessian(modf_frexp_f, x)


def test_spacing_has_no_gradient():
    x = rand(4)
    g = s2sgrad.grad(lambda x: np.sum(np.spacing(x) * x))(x)
    np.testing.assert_array_equal(g, np.spacing(x))


# -- np.histogram: counts are piecewise constant; edges and weights carry gradients -----------


@pytest.mark.parametrize("expr", [
    "np.histogram(x)[1]", "np.histogram(x, 4)[1] * 2.0", "np.histogram(x, bins=3)[1]",
    "np.histogram(x, 4, weights=w)[0]", "np.histogram(x, bins=e, weights=w)[0]",
    "np.histogram(x, 3, range=(-1.0, 1.0), weights=w)[0]",
    "np.histogram(x, bins=e)[1]", "np.histogram(x, 5, weights=w)[0] * np.histogram(x, 5)[1][1:]",
])
def test_histogram(expr):
    x = np.array([[0.31, -1.2, 1.73, 0.05], [-0.44, 0.9, -1.05, 1.31], [0.62, -0.2, 0.11, 1.5]])
    args = {"x": x}
    if "w" in expr.replace("weights", "").replace("np.", ""):
        args["w"] = rand(3, 4)
    if "bins=e" in expr:
        args["e"] = np.array([-1.5, -0.3, 0.4, 0.8, 2.0])
    check_expr(expr, **args)


def test_histogram_counts_have_no_gradient_and_estimators_are_rejected():
    x = rand(6)
    g = s2sgrad.grad(lambda x: np.sum(np.histogram(x, 3)[0] * 1.0) + np.sum(x))(x)
    np.testing.assert_array_equal(g, np.ones(6))
    f = _loss("np.histogram(x, 'auto')[1]")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="bin estimator"):
        s2sgrad.grad(f)(x)
    f = _loss("np.histogram(x, 3, density=True)[0]")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="density"):
        s2sgrad.grad(f)(x)


def histogram_f(x):
    counts, edges = np.histogram(np.sin(x), 3, weights=x ** 2)
    return np.sum(counts ** 2) + np.sum(edges ** 3)


def test_histogram_hessian():
    check_hessian(histogram_f, np.array([0.3, -1.1, 0.7, 1.4]))
