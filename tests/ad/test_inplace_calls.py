"""Calls that update an array in place: np.add.at / np.subtract.at are differentiated
(traced as a write into the array), every other in-place call gets a clear error
instead of a silently wrong gradient."""
import numpy as np
import pytest

import s2sgrad
from gradcheck import check_grad, numeric_grad

RNG = np.random.default_rng(7)


def scatter(x, w):
    y = np.zeros(4)
    np.add.at(y, [0, 2, 0, 3], x * w)          # index 0 twice: both add
    return np.sum(y ** 2) + np.sum(y * x[0])


def scatter_2d(a, v):
    y = a * 1.0
    np.add.at(y, (np.array([0, 1, 0]), np.array([2, 2, 2])), v)
    return np.sum(np.sin(y))


def subtract_scalar(x):
    y = np.ones(3)
    np.subtract.at(y, [0, 0, 1], x[1] * x[2])
    return np.sum(y ** 3)


def read_before_and_after(x):
    y = x * 2.0
    z = np.sum(y * y)                 # needs y's values before the update
    np.add.at(y, [1, 1], x[0] ** 2)
    return z + np.sum(np.exp(y))


def in_a_loop(x):
    y = np.zeros(3)
    for k in range(3):
        np.add.at(y, [k, 0], x * (k + 1.0))
    return np.sum(y * y)


def into_a_parameter_copy(y, x):
    y = y.copy()
    np.add.at(y, [2, 0, 2], x)
    return np.sum(y ** 2)


@pytest.mark.parametrize("seed", range(3))
def test_scatter_adds_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    x3 = rng.standard_normal(3)
    check_grad(scatter, (rng.standard_normal(4), rng.standard_normal(4)), wrt=(0, 1))
    check_grad(scatter_2d, (rng.standard_normal((2, 3)), rng.standard_normal(3)), wrt=(0, 1))
    check_grad(subtract_scalar, (x3,))
    check_grad(read_before_and_after, (x3,))
    check_grad(in_a_loop, (rng.standard_normal(2),))
    check_grad(into_a_parameter_copy, (rng.standard_normal(3), rng.standard_normal(3)),
               wrt=(0, 1))


def test_the_forward_pass_updates_in_place_like_numpy():
    x, w = RNG.standard_normal(4), RNG.standard_normal(4)
    value, _ = s2sgrad.value_and_grad(scatter, wrt=(0, 1))(x, w)
    assert value == scatter(x, w)


def test_forward_mode_and_hvp_through_a_scatter_add():
    x, w, v = RNG.standard_normal(4), RNG.standard_normal(4), RNG.standard_normal(4)
    value, tangent = s2sgrad.jvp(scatter)(x, w, v)
    assert value == scatter(x, w)
    assert tangent == pytest.approx(np.dot(numeric_grad(scatter, (x, w), 0), v), rel=1e-7)
    hv = s2sgrad.hvp(scatter)(x, w, v)
    eps = 1e-6
    g = s2sgrad.grad(scatter)
    np.testing.assert_allclose(hv, (g(x + eps * v, w) - g(x - eps * v, w)) / (2 * eps),
                               rtol=1e-6, atol=1e-8)


def test_gradient_code_with_a_scatter_add_differentiates_again():
    def fancy(x):
        return np.sum(x[[0, 0, 2]] ** 3)        # its gradient code scatters with np.add.at

    x = np.array([0.3, -1.2, 0.8])
    gg = s2sgrad.grad(lambda_free_sum(fancy))(x)
    np.testing.assert_allclose(gg, [2 * 6 * 0.3, 0.0, 6 * 0.8], rtol=1e-14)


def lambda_free_sum(f):
    g = s2sgrad.grad(f)

    def summed_gradient(x):
        return np.sum(g(x))
    return summed_gradient


def test_a_view_read_after_the_update_is_rejected():
    def through_view(x):
        y = x * 1.0
        head = y[0:2]
        np.add.at(y, [0], x[2])
        return np.sum(head * x[:2])

    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="changes 'head' too"):
        s2sgrad.grad(through_view)(RNG.standard_normal(3))


def _copyto(x):
    y = np.zeros(3)
    np.copyto(y, x * 2.0)
    return np.sum(y * y)


def _fill(x):
    y = x * 2.0
    y.fill(1.0)
    return np.sum(y * x)


def _sort(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(3.0))


def _out_statement(x):
    y = np.zeros(3)
    np.multiply(x, x, out=y)
    return np.sum(y)


def _out_value(x):
    buf = np.zeros(3)
    z = np.exp(x, out=buf)
    return np.sum(z + buf)


def _put(x):
    y = x * 1.0
    np.put(y, [0], 5.0)
    return np.sum(y * x)


def _extend(x):
    ys = [x[0]]
    ys.extend([x[1], x[2]])
    return sum(ys) * ys[2]


def _multiply_at(x):
    y = np.ones(3)
    np.multiply.at(y, [0, 1], x[:2])
    return np.sum(y)


@pytest.mark.parametrize("f, message", [
    (_copyto, r"'np.copyto\(\)' writes into its first argument"),
    (_fill, r"'.fill\(\)' changes 'y' in place"),
    (_sort, r"'.sort\(\)' changes 'y' in place"),
    (_out_statement, r"'out=' writes the result into an existing array"),
    (_out_value, r"'out=' writes the result into an existing array"),
    (_put, r"'np.put\(\)' writes into its first argument"),
    (_extend, r"'.extend\(\)' changes 'ys' in place"),
    (_multiply_at, r"'np.multiply.at\(\)' updates its first argument in place"),
])
def test_other_in_place_calls_are_rejected_with_the_line(f, message):
    x = np.array([0.3, -1.2, 0.8])
    before = x.copy()
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match=message) as info:
        s2sgrad.grad(f)(x)
    text = str(info.value)
    assert f.__name__ in text and "test_inplace_calls.py" in text
    assert "hint:" in text
    np.testing.assert_array_equal(x, before)         # the caller's array is untouched


def test_calls_without_effects_stay_allowed():
    def noisy(x):
        print("shape", x.shape)
        return np.sum(x ** 2)

    x = np.array([0.5, 2.0])
    check_grad(noisy, (x,))
