"""math-module functions and builtins over scalars and sequences (checked against
central differences, closed forms and SciPy where it is installed)."""
import math

import numpy as np
import pytest

import s2sgrad
from gradcheck import check_grad, numeric_grad
from s2sgrad.runtime import digamma, trigamma


def hypot_and_logs(x, y):
    return math.hypot(x, y) + math.log(x, 3.0) + math.log(y) * math.log(x + y, y + 2.0)


def error_functions(x, y):
    return math.erf(x * y) - 2.0 * math.erfc(x - y)


def gammas(x, y):
    return math.lgamma(x + 2.0) * y + math.gamma(y + 0.5) - math.lgamma(0.3 - x)


def powers(x, y):
    return pow(x, y) + pow(y, 3) + pow(2.0, x)


def remainder(x, y):
    q, r = divmod(x, 0.3 * y)
    return r * y + divmod(y, 0.7)[1] ** 2


def sequences(x, y):
    return math.fsum([x, y * y, x * y]) * math.prod([x, y, 3.0], start=0.5) \
        + math.dist([x, y], [1.0, 2.0 * x])


def casts(x, y):
    return np.float64(x) * y + 2.0 * float(y) ** 2 + float(np.float32(0.5)) * x


def test_narrow_float_casts_pass_the_gradient_through():
    def narrow(x):
        return float(np.float32(x)) * 3.0 + float(np.float16(x))

    g = s2sgrad.grad(narrow)(0.75)           # 0.75 is exact in both formats
    assert g == 4.0


@pytest.mark.skipif(not hasattr(math, "exp2"), reason="math.exp2 is new in Python 3.11")
def test_math_exp2():
    def two_to(x, y):
        return math.exp2(x * y) + math.exp2(-x)

    check_grad(two_to, (0.3, 1.7), wrt=(0, 1), rtol=1e-7, atol=1e-9)


SCALAR_FUNCTIONS = [hypot_and_logs, error_functions, gammas, powers, remainder, sequences, casts]
POINTS = [(0.7, 1.3), (1.9, 0.45), (2.6, 2.2)]


@pytest.mark.parametrize("f", SCALAR_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", POINTS)
def test_scalar_functions_match_finite_differences(f, point):
    check_grad(f, point, wrt=(0, 1), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f", SCALAR_FUNCTIONS, ids=lambda f: f.__name__)
def test_forward_mode_agrees(f):
    x, y = POINTS[1]
    value, tangent = s2sgrad.jvp(f, wrt=(0, 1))(x, y, (0.4, -1.1))
    assert value == pytest.approx(f(x, y), rel=1e-15)
    expected = 0.4 * numeric_grad(f, (x, y), 0) - 1.1 * numeric_grad(f, (x, y), 1)
    assert tangent == pytest.approx(expected, rel=1e-7, abs=1e-9)


def test_second_derivatives_of_lgamma_use_trigamma():
    def lg(x):
        return math.lgamma(x)

    for x in (0.3, 2.5, 11.0, -1.5):
        assert s2sgrad.grad(s2sgrad.grad(lg))(x) == pytest.approx(trigamma(x), rel=1e-13)
        h = (digamma(x + 1e-6) - digamma(x - 1e-6)) / 2e-6
        assert trigamma(x) == pytest.approx(h, rel=1e-7)


def test_digamma_and_trigamma_against_scipy():
    special = pytest.importorskip("scipy.special")
    for x in (1e-3, 0.1, 0.5, 1.0, 1.7, 3.3, 9.99, 10.0, 25.0, 1e4, -0.5, -2.3, -7.9):
        assert digamma(x) == pytest.approx(special.digamma(x), rel=4e-15, abs=4e-15)
        assert trigamma(x) == pytest.approx(special.polygamma(1, x), rel=4e-15)
    assert math.isnan(digamma(-2.0)) and math.isnan(trigamma(0.0))


def test_prod_gradient_is_exact_at_a_zero_item():
    def p(x, y):
        return math.prod([x, y, 4.0])

    assert s2sgrad.grad(p, wrt=(0, 1))(0.0, 2.5) == (10.0, 0.0)


def test_list_and_tuple_of_an_array_give_its_rows_back():
    def rows(a):
        first, second = tuple(a)
        items = list(a * 2.0)
        return np.sum(first * second) + np.sum(items[1] ** 2)

    a = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    g = check_grad(rows, (a,))
    np.testing.assert_allclose(g, [a[1], a[0] + 8.0 * a[1]], rtol=1e-15)


def test_list_of_a_list_argument():
    def firsts(xs):
        ys = list(xs)
        return ys[0] * ys[2]

    assert list(s2sgrad.grad(firsts)([2.0, 5.0, 3.0])) == [3.0, 0.0, 2.0]


def test_f_strings_carry_no_gradient_and_are_allowed():
    def labelled(x, w):
        label = f"n={x.shape[0]} w={w:.3f}"
        if len(label) > 80:
            raise ValueError(f"label too long: {label!r}")
        return np.sum(x * w) * len(label)

    x = np.array([0.5, 1.5, -2.0])
    g = check_grad(labelled, (x, 0.25), wrt=(0, 1))
    n = len("n=3 w=0.250")
    np.testing.assert_allclose(g[0], 0.25 * n * np.ones(3), rtol=1e-15)
    assert g[1] == pytest.approx(np.sum(x) * n, rel=1e-15)
