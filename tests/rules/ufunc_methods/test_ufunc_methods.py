"""Methods of ufuncs: outer, reduce, accumulate (cumulative extrema: the running record
gets the gradient), against finite differences, forward mode, Hessians and grad of grad."""
import numpy as np
import pytest

import s2sgrad
from gradcheck import check_grad
from rulecheck import check_expr, check_hessian, numeric_hessian, rand


_V = np.array([0.7, -1.3, 0.4, 2.1])


# -- cumulative extrema ---------------------------------------------------------------------


@pytest.mark.parametrize("func", ["np.maximum.accumulate", "np.minimum.accumulate"])
@pytest.mark.parametrize("shape,axis", [((6,), 0), ((6,), None), ((3, 4), 0), ((3, 4), 1),
                                        ((2, 3, 4), -1), ((2, 3, 4), 1)], ids=str)
def test_cumulative_extrema(func, shape, axis):
    call = "%s(x)" % func if axis is None else "%s(x, axis=%d)" % (func, axis)
    check_expr(call, x=rand(*shape))
    if len(shape) == 1:
        check_expr("%s(x, axis=None)" % func, x=rand(*shape))


def test_cumulative_extrema_ties_go_to_the_earliest_record():
    x = np.array([1.0, 3.0, 2.0, 3.0, 5.0, 5.0, 0.0])
    g = s2sgrad.grad(lambda x: np.sum(np.maximum.accumulate(x) * np.arange(1.0, 8.0)))(x)
    # records: 1 (entry 0), 3 (entry 1, held through the tie at entry 3), 5 (entry 4)
    np.testing.assert_array_equal(g, [1.0, 2 + 3 + 4, 0.0, 0.0, 5 + 6 + 7, 0.0, 0.0])
    g = s2sgrad.grad(lambda x: np.sum(np.minimum.accumulate(x) ** 2))(-x)
    # running minima -1, -3 (x3), -5 (x3): 2 r summed over each record's run
    np.testing.assert_array_equal(g, [-2.0, -18.0, 0.0, 0.0, -30.0, 0.0, 0.0])


def running_max_f(x):
    m = np.outer(x, x[::-1])
    return np.sum(np.maximum.accumulate(m, axis=1) ** 3) + np.sum(
        np.minimum.accumulate(np.sin(x)) ** 2)


_D_RUNNING_MAX = s2sgrad.grad(running_max_f)


def rr_running_max(x):
    return np.sum(_D_RUNNING_MAX(x) * _V)


@pytest.mark.parametrize("expr", [
    "np.add.outer(x, y)", "np.subtract.outer(x, y)", "np.multiply.outer(x, y)",
    "np.divide.outer(x, y + 3.0)", "np.subtract.outer(X, y)", "np.multiply.outer(x, X)",
    "np.add.reduce(X)", "np.add.reduce(X, axis=1, keepdims=True)", "np.add.reduce(X, None)",
    "np.multiply.reduce(X)", "np.maximum.reduce(X, axis=1)", "np.minimum.reduce(X)",
    "np.logaddexp.reduce(X, axis=-1)", "np.add.accumulate(X)", "np.add.accumulate(X, 1)",
    "np.multiply.accumulate(X, axis=1)"])
def test_ufunc_methods(expr):
    check_expr(expr, x=rand(3), y=rand(4), X=rand(3, 4))


def pairwise_sq_distances(x, y):
    d = np.subtract.outer(x, y)
    return np.sum(np.exp(-d ** 2))


def test_pairwise_kernel():
    check_grad(pairwise_sq_distances, (rand(5), rand(4)), wrt=(0, 1))


@pytest.mark.parametrize("rr,f", [(rr_running_max, running_max_f)],
                         ids=lambda f: f.__name__)
def test_grad_of_grad(rr, f):
    x = rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3
    np.testing.assert_allclose(s2sgrad.grad(rr)(x), numeric_hessian(f, x) @ _V, rtol=1e-5,
                               atol=1e-6)


def test_running_max_hessian():
    check_hessian(running_max_f, rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3)
