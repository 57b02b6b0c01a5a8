"""grad(grad(f)) through loops, branches, while loops, list appends and np.add.at
(issue #13: the generated code's own stacks -- push, pop, reversed iteration -- are
differentiated): against central differences of the analytic first derivative and
against s2sgrad.hessian (forward over reverse)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, hessian
from gradcheck import numeric_grad


def loop_carried(x):
    s = 0.0
    for i in range(3):
        s = s + np.sin(x * s + x)
    return s


def loop_with_branch(x):
    s = 0.5
    for i in range(4):
        if s > 0.8:
            s = np.sin(s * x)
        else:
            s = s * x + np.cos(s)
    return s


def nested_loops(x):
    s = x
    for i in range(2):
        for j in range(3):
            s = np.tanh(s * x + j)
    return s


def while_with_branch(x):
    s = x
    k = 0
    while s < 3.0 and k < 10:
        if k % 2 == 0:
            s = s * 1.5 + np.sin(s)
        else:
            s = s + x * x
        k += 1
    return s


def branch_only(x):
    if x > 0.5:
        y = x ** 3
    else:
        y = np.cos(x)
    return y * x


def appended(x):
    ys = []
    for i in range(3):
        ys.append(np.sin(x * i + x))
    return ys[0] + ys[1] * ys[2]


def popped(x):
    ys = [x, x * x]
    for i in range(3):
        ys.append(np.sin(ys[-1] * x))
    a = ys.pop()
    b = ys.pop()
    return a * b + ys[-1]


def gradient_only_through_the_next_trip(x):
    # grad_s of one trip is what reaches x in the trip before (first order was 0.0)
    s = 0.0
    u = 0.0
    for i in range(3):
        u = u + s * s
        s = x * 2.0 + np.sin(x)
    return u


SCALAR_CASES = [(loop_carried, 0.3), (loop_with_branch, 0.9), (loop_with_branch, 0.3),
                (nested_loops, 0.4), (while_with_branch, 0.7), (while_with_branch, 2.9),
                (branch_only, 0.7), (branch_only, 0.2), (appended, 0.6), (popped, 0.8),
                (gradient_only_through_the_next_trip, 0.3)]


@pytest.mark.parametrize("f,x", SCALAR_CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_grad_of_grad_matches_differences_of_the_gradient_and_hessian(f, x):
    g = grad(f)
    second = grad(g)(x)
    num = numeric_grad(g, [x], 0)
    assert abs(second - num) <= 1e-6 * (1.0 + abs(num))
    assert abs(second - hessian(f)(x)) <= 1e-10 * (1.0 + abs(second))


def test_first_order_gradient_through_the_next_trip():
    x = 0.3
    num = numeric_grad(gradient_only_through_the_next_trip, [x], 0)
    assert abs(grad(gradient_only_through_the_next_trip)(x) - num) <= 1e-7 * (1.0 + abs(num))
    assert abs(num) > 1.0


def popped_user_list(x):
    ys = [x, 2.0 * x, x * x]
    ys.pop()
    last = ys.pop()
    ys.append(np.sin(last))
    return np.sum(np.array(ys) ** 2) + last


def test_pop_in_user_code_is_differentiated():
    for x in (0.3, -1.2):
        num = numeric_grad(popped_user_list, [x], 0)
        assert abs(grad(popped_user_list)(x) - num) <= 1e-7 * (1.0 + abs(num))
        g = grad(popped_user_list)
        assert abs(grad(g)(x) - numeric_grad(g, [x], 0)) <= 1e-6


W4 = np.array([0.5, -1.0, 2.0, 1.5])


def scatter(x):
    y = np.zeros(3)
    np.add.at(y, [0, 0, 2], x[:3] ** 2)
    return np.sum(y * x[1:4] ** 2)


SCATTER_GRAD = grad(scatter)


def scatter_directional(x):
    return np.sum(SCATTER_GRAD(x) * W4)


def loop_vector(x):
    h = x
    for i in range(3):
        h = np.tanh(h * x[::-1] + 0.1 * i)
    return np.sum(h ** 2)


LOOP_GRAD = grad(loop_vector)


def loop_directional(x):
    return np.sum(LOOP_GRAD(x) * W4)


def rows_appended(x):
    ys = []
    for i in range(4):
        ys.append(np.sin(x[i] * x[(i + 1) % 4]))
    return np.sum(np.array(ys) ** 2)


ROWS_GRAD = grad(rows_appended)


def rows_directional(x):
    return np.sum(ROWS_GRAD(x) * W4)


@pytest.mark.parametrize("f,directional", [(scatter, scatter_directional),
                                           (loop_vector, loop_directional),
                                           (rows_appended, rows_directional)],
                         ids=["add_at", "loop", "appended_rows"])
def test_reverse_over_reverse_of_arrays(f, directional):
    x = np.array([0.3, -0.5, 0.7, 0.9])
    rr = grad(directional)(x)
    num = numeric_grad(directional, [x], 0)
    np.testing.assert_allclose(rr, num, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(rr, hessian(f)(x) @ W4, rtol=1e-10, atol=1e-12)
