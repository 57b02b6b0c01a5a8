"""Shape, joining, splitting and indexing rules (rules/numpy_shape.py)."""
import numpy as np
import pytest

from gradcheck import check_grad
from rulecheck import check_expr, rand

X = rand(2, 3, 4)

EXPRS = [
    "np.reshape(x, (6, 4))", "np.reshape(x, (4, -1), order='F')", "x.reshape(6, 4)",
    "x.reshape((3, 8))", "x.reshape(-1)", "np.ravel(x)", "x.ravel()", "x.flatten()",
    "np.transpose(x)", "np.transpose(x, (1, 2, 0))", "x.transpose(2, 0, 1)",
    "x.transpose((2, 0, 1))", "x.transpose()", "x.T", "np.swapaxes(x, 0, 2)",
    "x.swapaxes(1, -1)", "np.moveaxis(x, 0, -1)", "np.moveaxis(x, (0, 1), (2, 0))",
    "np.expand_dims(x, 1)", "np.expand_dims(x, (0, -1))", "np.squeeze(x[:, :1])",
    "np.squeeze(x[:1], axis=0)", "x[:, :1].squeeze()", "np.broadcast_to(x[:, :1], (5, 2, 3, 4))",
    "np.atleast_1d(x)", "np.atleast_2d(x[0, 0])", "np.atleast_3d(x[0])",
    "np.flip(x)", "np.flip(x, 1)", "np.flip(x, (0, 2))", "np.fliplr(x)", "np.flipud(x)",
    "np.roll(x, 2)", "np.roll(x, -1, axis=1)", "np.roll(x, (1, 2), axis=(0, 2))",
    "np.rot90(x)", "np.rot90(x, 2)", "np.rot90(x, -1, axes=(1, 2))",
    "np.tile(x, 2)", "np.tile(x, (2, 1, 1))", "np.tile(x[0], (3, 1, 2))",
    "np.repeat(x, 2)", "np.repeat(x, 3, axis=1)", "x.repeat(2, axis=-1)",
    "np.repeat(x, [1, 0, 2], axis=1)",
    "np.pad(x, 1)", "np.pad(x, ((0, 1), (2, 0), (1, 1)))", "np.pad(x, (1, 2), mode='constant')",
    "np.array(x)", "np.asarray(x)", "np.copy(x)", "x.copy()", "x.astype(float)",
    "x.astype(np.float64)",
    "x[0]", "x[:, 1]", "x[..., 2]", "x[1, :, ::2]", "x[None]", "x[:, np.newaxis]",
    "x[..., None, 1]", "x[-1, ::-1]", "x[[0, 1, 0]]", "x[:, [2, 0, 2]]", "x[x > 0]",
    "x[0][[1, 1], [3, 3]]", "x[:, [True, False, True]]",
    "np.take(x, [0, 2, 2], axis=1)", "np.take(x, [5, 1, 5])", "x.take([3, 3], axis=-1)",
    "np.take_along_axis(x, np.argsort(x, axis=1), axis=1)",
    "np.take_along_axis(x, np.array([[[0, 0, 3, 1]]]), axis=2)",
    "np.diff(x)", "np.diff(x, axis=0)", "np.diff(x, n=1, axis=1)",
    "np.append(x, x[:1] * 2, axis=0)", "np.append(x[0], x[1, 0])",
    "np.lib.stride_tricks.sliding_window_view(x, (2, 2, 3))",
    "np.lib.stride_tricks.sliding_window_view(x, (2, 3), axis=(1, 2))",
    "np.lib.stride_tricks.sliding_window_view(x, 3, axis=-1).max(axis=-1)",
    "np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(2, 2))",
]


@pytest.mark.parametrize("expr", EXPRS)
def test_shape_op(expr):
    check_expr(expr, x=rand(2, 3, 4))


JOINS = [
    "np.concatenate([x, y])", "np.concatenate((x, y), axis=1)", "np.concatenate([x, y], axis=None)",
    "np.concatenate([x, 2 * x, y], axis=-1)", "np.stack([x, x * y])", "np.stack((x, y), axis=2)",
    "np.stack([x, y], axis=-1)", "np.hstack([x, y])", "np.vstack((x, y))", "np.dstack([x, y])",
    "np.column_stack([x, y])", "np.concatenate([x])", "np.stack([x, 1.0 + y, x])",
]


@pytest.mark.parametrize("expr", JOINS)
def test_join(expr):
    check_expr(expr, x=rand(3, 4), y=rand(3, 4))


def test_join_vectors():
    check_expr("np.hstack([x, y])", x=rand(3), y=rand(2))
    check_expr("np.vstack([x, y])", x=rand(3), y=rand(3))
    check_expr("np.column_stack((x, y))", x=rand(3), y=rand(3, 2))
    check_expr("np.dstack([x, y])", x=rand(3), y=rand(3))
    check_expr("np.concatenate([x, np.zeros(2), y])", x=rand(3), y=rand(2))


def split_sum(x, C):
    a, b, c = np.split(x, 3, axis=1)
    return np.sum(a * C) + np.sum(b * c)


def array_split_first(x, C):
    return np.sum(np.array_split(x, 3)[0] * C[0, 0])


def hsplit_vsplit(x, C):
    a, b = np.hsplit(x, 2)
    c, d = np.vsplit(x, [1])
    return np.sum(a * C[0, 0]) + np.sum(d * d) + np.sum(b)


def unused_piece(x, C):
    a, b = np.split(x, [2])
    return np.sum(b * b)


def dsplit_loss(x, C):
    a, b = np.dsplit(x, 2)
    return np.sum(a * b)


@pytest.mark.parametrize("fn", [split_sum, array_split_first, hsplit_vsplit, unused_piece])
def test_split(fn):
    check_grad(fn, (rand(4, 6), rand(4, 2)), wrt=0)


def test_dsplit():
    check_grad(dsplit_loss, (rand(2, 2, 4), 0.0), wrt=0)


def test_fancy_index_repeated_indices_add_up():
    import s2sgrad
    g = s2sgrad.grad(lambda x: np.sum(x[[0, 0, 2]]))(np.ones(3))
    assert np.allclose(g, [2.0, 0.0, 1.0])


def test_pad_other_modes_are_errors():
    import s2sgrad

    def f(x):
        return np.sum(np.pad(x, 1, mode="linear_ramp"))

    with pytest.raises(s2sgrad.UnsupportedCallError, match="modes 'constant', 'edge'"):
        s2sgrad.grad(f)(rand(3))


@pytest.mark.parametrize("expr", [
    "np.r_[x, y]", "np.r_[x, y * 2.0, x]", "np.r_[x, s]", "np.r_[X, X * 2.0]",
    "np.c_[x, y]", "np.c_[x, y, x * y]", "np.c_[X, x]", "np.c_[X, X]",
    # slice notation: ranges (and a complex step: a linspace) joined with the arrays
    "np.r_[x, 1:4]", "np.r_[0:2, x, y * 2.0]", "np.r_[x, 0:1:4j, s]", "np.c_[x, 1:4]",
    "np.r_[x, 1:7:2, :3]",
])
def test_index_tricks(expr):
    check_expr(expr, x=rand(3), y=rand(3), s=rand(), X=rand(3, 2))


def test_index_trick_directive_strings_are_errors():
    import s2sgrad

    def f(x):
        return np.sum(np.r_["0,2", x, x] ** 2)

    with pytest.raises(s2sgrad.UnsupportedCallError, match="directive string"):
        s2sgrad.grad(f)(rand(3))


@pytest.mark.parametrize("expr", [
    "np.gradient(x)", "np.gradient(x, 0.5)", "np.gradient(x, edge_order=2)",
    "np.gradient(X, axis=0)", "np.gradient(X, 2.0, axis=1)", "np.gradient(X)[1]",
    "np.gradient(X)[0] * np.gradient(X)[1]",
])
def test_np_gradient(expr):
    check_expr(expr, x=rand(6), X=rand(4, 5))


def test_array_of_active_scalars():
    check_expr("np.array([x[0] * 2.0, x[1], x[0] * x[2]])", x=rand(3))
    check_expr("np.stack([x[0], x[1] ** 2])", x=rand(3))


def list_used_twice(x, y, C):
    parts = [x, y * 2.0]
    a = np.concatenate(parts)
    b = np.stack(parts)
    return np.sum(a * C[0]) + np.sum(b * np.reshape(C[1], (2, 4)))


def pieces_used_twice(x, C):
    a, b = np.split(x, 2)
    c, d = np.split(x * x, 2)
    return np.sum(a * b * C[0, :2]) + np.sum(c + d * C[0, 2:])


def test_sequences_used_twice_add_item_by_item():
    check_grad(list_used_twice, (rand(4), rand(4), rand(2, 8)), wrt=(0, 1))
    check_grad(pieces_used_twice, (rand(4), rand(2, 4)), wrt=0)


def test_astype_to_integer_has_no_gradient():
    check_expr("x.astype(int) * x + x.astype('float64') + x.astype(np.float64)",
               x=rand(4) * 3, rtol=1e-5)
    check_expr("x.astype(float)", x=rand(3))


def test_array_ndmin():
    check_expr("np.array(x, ndmin=2) * 2.0", x=rand(3))
