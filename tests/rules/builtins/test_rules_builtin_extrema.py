"""The builtins max/min over several values or one iterable, and sum over a list, in
every mode: reverse (checked against central differences), forward, Hessians and
reverse-over-reverse (checked against closed forms)."""
import numpy as np
import pytest

import s2sgrad
from gradcheck import check_grad, numeric_grad
from s2sgrad.runtime import extremum_index


def max_of_list(x, y):
    return max([x * y, x + y, 0.5 * x * x])


def min_of_arguments(x, y):
    return min(x, y, x - y, 4.0)


def max_of_tuple_name(x, y):
    items = (x * y, np.sin(x), y - 1.0)
    return max(items) * min(items)


def extrema_of_generator(x, y):
    return max(v * v for v in [x, 2.0 * y]) + min([v + 1.0 for v in [x, -y]])


def shadowing_generator(x):
    # the iterable is evaluated outside the generator: it reads the parameter x
    return max(x * x for x in [x, 2.0 * x])


def extrema_of_array(a):
    return max(a) ** 2 + min(a[0], a[1], a[2]) * sum(a)


def appended_items(x, y):
    items = []
    for k in range(4):
        items.append(x * k - y * y)
    return max(items) - min(items)


def nested_with_arrays(a, b):
    return max(np.sum(a * b), np.sum(a), 1.5, np.dot(a, a))


SCALAR_POINTS = [(1.5, 2.0), (3.0, 2.0), (-1.2, 0.7), (0.4, -2.5)]


@pytest.mark.parametrize("f", [max_of_list, min_of_arguments, max_of_tuple_name,
                               extrema_of_generator, appended_items])
@pytest.mark.parametrize("point", SCALAR_POINTS)
def test_scalar_extrema_match_finite_differences(f, point):
    check_grad(f, point, wrt=(0, 1), rtol=1e-7, atol=1e-9)


def test_generator_over_a_shadowed_name():
    for x in (1.5, -0.8):
        check_grad(shadowing_generator, (x,), rtol=1e-7, atol=1e-9)


def test_array_items_and_array_valued_items():
    a = np.array([1.0, 3.0, 2.0, -0.5])
    check_grad(extrema_of_array, (a,), rtol=1e-7, atol=1e-9)
    rng = np.random.default_rng(3)
    for _ in range(4):
        check_grad(nested_with_arrays, (rng.standard_normal(5), rng.standard_normal(5)),
                   wrt=(0, 1), rtol=1e-7, atol=1e-9)


def test_a_list_argument_gets_a_list_gradient_for_the_item_picked():
    def top(xs):
        return max(xs) * 3.0

    xs = [1.0, 4.0, -2.0, 4.0]          # a tie: the first 4.0 is the one returned
    g = s2sgrad.grad(top)(xs)
    assert list(g) == [0.0, 3.0, 0.0, 0.0]


def test_ties_and_nans_follow_the_builtins_choice():
    assert extremum_index([1.0, 4.0, 4.0], 4.0) == 1
    assert extremum_index([2.0, float("nan"), 5.0], 5.0) == 2
    nan = float("nan")
    items = [nan, 1.0, 2.0]
    assert extremum_index(items, max(items)) == 0
    assert extremum_index(np.array([3.0, 1.0, 3.0]), 3.0) == 0
    assert extremum_index(np.array([1.0, 5.0, 5.0]), max(np.array([1.0, 5.0, 5.0]))) == 1


def test_two_values_keep_the_elementwise_rule_and_ties_go_to_the_first():
    def pair(x, y):
        return max(x, y) + min(x, 2.0 * y)

    gx, gy = s2sgrad.grad(pair, wrt=(0, 1))(1.0, 1.0)     # max(1, 1) is x; min(1, 2) is x
    assert (gx, gy) == (2.0, 0.0)


def test_jvp_matches_the_directional_derivative():
    for f in (max_of_list, min_of_arguments, max_of_tuple_name, extrema_of_generator):
        for x, y in SCALAR_POINTS:
            dx, dy = 0.3, -0.7
            value, tangent = s2sgrad.jvp(f, wrt=(0, 1))(x, y, (dx, dy))
            assert value == f(x, y)
            gx, gy = numeric_grad(f, (x, y), 0), numeric_grad(f, (x, y), 1)
            assert tangent == pytest.approx(gx * dx + gy * dy, rel=1e-7, abs=1e-9)


def test_jvp_of_builtin_sum_over_a_list():
    def total(x, y):
        return sum([x * y, x, y * y], 0.5)

    value, tangent = s2sgrad.jvp(total, wrt=(0, 1))(3.0, 2.0, (1.0, 0.5))
    assert value == 13.5
    assert tangent == pytest.approx((2.0 * 1.0 + 3.0 * 0.5) + 1.0 + 2.0 * 2.0 * 0.5, rel=1e-14)


def test_hessians_and_second_derivatives_through_the_helpers():
    # at (3, 2) max_of_list picks x * y and min_of_arguments picks x - y
    h = np.array(s2sgrad.hessian(max_of_list, wrt=(0, 1))(3.0, 2.0), dtype=float)
    np.testing.assert_allclose(h, [[0.0, 1.0], [1.0, 0.0]], atol=1e-14)
    # picks 0.5 * x * x at (4, 0.5): d2/dx2 = 1
    assert s2sgrad.grad(s2sgrad.grad(max_of_list))(4.0, 0.5) == pytest.approx(1.0, abs=1e-14)

    def cubic_sum(x, y):
        return sum([x * x * y, y ** 3, x])

    h = np.array(s2sgrad.hessian(cubic_sum, wrt=(0, 1))(1.5, 2.0), dtype=float)
    np.testing.assert_allclose(h, [[2 * 2.0, 2 * 1.5], [2 * 1.5, 6 * 2.0]], rtol=1e-13)
    assert s2sgrad.grad(s2sgrad.grad(cubic_sum))(1.5, 2.0) == pytest.approx(4.0, rel=1e-13)


def test_hvp_through_an_extremum_of_an_array():
    a, v = np.array([1.0, 3.0, 2.0]), np.array([0.1, 0.2, 0.3])

    def peak(a):
        return max(a) ** 2 + min(a[0], a[1], a[2])

    np.testing.assert_allclose(s2sgrad.hvp(peak)(a, v), [0.0, 2.0 * 0.2, 0.0], atol=1e-15)


def test_a_max_that_is_not_the_builtin_is_not_rewritten():
    max = np.clip       # noqa: A001 -- read by the closure: max(x, lo, hi) clips

    def clipped(x):
        return np.sum(max(x, -0.5, 0.5) * x)

    x = np.array([-1.0, -0.2, 0.3, 0.9])
    g = check_grad(clipped, (x,))
    np.testing.assert_allclose(g, np.clip(x, -0.5, 0.5) + x * (np.abs(x) < 0.5), rtol=1e-15)


def test_unsupported_keywords_get_a_clear_error():
    def keyed(x, y):
        return max([x, y], key=abs)

    with pytest.raises(s2sgrad.UnsupportedCallError, match="key"):
        s2sgrad.grad(keyed)(1.0, -2.0)
