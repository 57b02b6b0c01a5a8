"""np.choose, np.unique, np.partition (with np.rollaxis and np.diagflat): against finite
differences, forward mode, Hessians and grad of grad."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, check_hessian, numeric_hessian, rand


def _loss(expr):
    from rulecheck import make_loss
    f = make_loss(expr, ["x"])
    return lambda x: f(x, 1.0)


_V = np.array([0.7, -1.3, 0.4, 2.1])


@pytest.mark.parametrize("expr,index", [
    ("np.choose(i, [p, q])", np.array([0, 1, 1, 0])),
    ("np.choose(i, [p, q, p * q])", np.array([[0, 2, 1, 0], [2, 2, 0, 1], [1, 0, 0, 2]])),
    ("np.choose(i, [p, q], mode='clip')", np.array([-1, 3, 1, 0])),
    ("np.choose(i, [p, q], mode='wrap')", np.array([[3, 2, 1, 0]])),
    ("np.choose(i, [p, 0.5])", np.array([1, 0, 0, 1])),
])
def test_choose(expr, index):
    check_expr(expr, consts={"i": index}, p=rand(3, 4), q=rand(4))


def test_choose_array_of_choices():
    check_expr("np.choose(i, c)", consts={"i": np.array([[0, 2], [1, 0]])}, c=rand(3, 2, 2))
    check_expr("np.choose(i, c, mode='wrap')", consts={"i": np.array([4, 0])}, c=rand(3, 2))


@pytest.mark.parametrize("shape", [(6,), (3, 2)], ids=str)
def test_unique(shape):
    # distinct values (finite differences would split a repeated one); repeats below
    x = rand(*shape)
    check_expr("np.unique(x)", x=x)
    check_expr("np.unique(x, return_counts=True)[0]", x=x)
    check_expr("np.unique(x, return_index=True, return_inverse=True)[0] * 2.0", x=x)


def test_unique_gradient_goes_to_the_first_occurrence():
    x = np.array([3.0, 1.0, 3.0, 2.0, 1.0, 5.0])
    g = s2sgrad.grad(lambda x: np.sum(np.unique(x) * np.array([1.0, 10.0, 100.0, 1000.0])))(x)
    # unique values 1, 2, 3, 5 first occur at entries 1, 3, 0, 5
    np.testing.assert_array_equal(g, [100.0, 1.0, 0.0, 10.0, 0.0, 1000.0])


@pytest.mark.skipif(tuple(int(p) for p in np.__version__.split(".")[:2]) < (2, 3),
                    reason="np.unique(sorted=) is NumPy 2.3+")
def test_unique_unsorted():
    check_expr("np.unique(x, sorted=False)", x=rand(6))
    x = np.array([3.0, 1.0, 3.0, 2.0])
    g = s2sgrad.grad(lambda x: np.sum(np.unique(x, sorted=False) ** 2))(x)
    np.testing.assert_array_equal(g, [6.0, 2.0, 0.0, 4.0])


def test_unique_axis_is_rejected():
    f = _loss("np.unique(np.reshape(x, (2, 2)), axis=0)")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="axis"):
        s2sgrad.grad(f)(rand(4))


def choose_block_unique_f(x):
    m = np.outer(x, x[::-1])
    return np.sum(np.choose(np.array([[0, 1, 1, 0]]), [m, x ** 2]) ** 2) + np.sum(
        np.block([[m, x[:, None] ** 2], [x[None, :] ** 3, x[:1, None]]]) ** 2) + np.sum(
        np.unique(np.sin(x)) ** 3) + np.sum(np.vander(x, 3) ** 2)


def test_choose_block_unique_vander_hessian():
    check_hessian(choose_block_unique_f, rand(4))


_D_CHOOSE_BLOCK = s2sgrad.grad(choose_block_unique_f)


def rr_choose_block(x):
    return np.sum(_D_CHOOSE_BLOCK(x) * _V)


def test_partition_rollaxis_diagflat():
    check_expr("np.partition(x, 2)", x=rand(6))
    check_expr("np.partition(x, (1, 3), axis=0)", x=rand(5, 3))
    check_expr("np.rollaxis(x, 2)", x=rand(2, 3, 4))
    check_expr("np.rollaxis(x, 0, 3)", x=rand(2, 3, 4))
    check_expr("np.rollaxis(x, 1, 0)", x=rand(2, 3, 4))
    check_expr("np.diagflat(v)", v=rand(3))
    check_expr("np.diagflat(v, 1)", v=rand(2, 2))


@pytest.mark.parametrize("rr,f", [(rr_choose_block, choose_block_unique_f)],
                         ids=lambda f: f.__name__)
def test_grad_of_grad(rr, f):
    x = rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3
    np.testing.assert_allclose(s2sgrad.grad(rr)(x), numeric_hessian(f, x) @ _V, rtol=1e-5,
                               atol=1e-6)
