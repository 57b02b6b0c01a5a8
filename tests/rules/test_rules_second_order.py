"""Second derivatives through the helpers the rules call (their rules: in each family module):
s2sgrad.hessian against finite differences of s2sgrad.grad."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import numeric_hessian, rand

W = rand(4, 4)


def sort_f(x):
    return np.sum(np.sort(x * x) * np.arange(5.0))


def sort_axis_f(x):
    return np.sum(np.sort(np.reshape(x, (5, 1)) * x, axis=0) ** 2 * np.arange(5.0)[:, None])


def take_f(x):
    return np.sum(np.take(x, [0, 2, 2, 4]) ** 3)


def take_along_f(x):
    return np.sum(np.take_along_axis(np.outer(x, x), np.array([[1, 0, 3, 3, 2]]).T, axis=1) ** 2)


def pad_tile_repeat_f(x):
    return np.sum(np.pad(x, 1) ** 2 * 0.5) + np.sum(np.tile(x, 2) ** 3) + np.sum(
        np.repeat(x, 2) * np.repeat(x ** 2, 2))


def diag_trace_f(x):
    m = np.outer(x, x)
    return np.sum(np.diag(m) ** 2) + np.trace(m @ m) + np.sum(np.diagonal(m, 1) ** 3) + \
        np.sum(np.diag(x) @ m)


def tensordot_f(x):
    m = np.reshape(np.concatenate([x, x * 2.0, x ** 2]), (3, 5))[:, :4]
    return np.sum(np.tensordot(m, m, ([0], [0])) ** 2)


def solve_f(x):
    a = np.outer(x[:4], x[:4]) + 4.0 * np.eye(4)
    return np.sum(np.linalg.solve(a, x[1:]) ** 2)


def inv_batched_f(x):
    a = np.reshape(np.concatenate([x, x[::-1], x * x, x[:1]]), (1, 4, 4)) + 3.0 * np.eye(4)
    return np.sum(np.linalg.inv(a))


def norm_f(x):
    m = np.reshape(np.concatenate([x, x ** 2, np.sin(x)]), (3, 5))
    return np.linalg.norm(x) ** 3 + np.sum(np.linalg.norm(m, axis=1) ** 2 * np.arange(3.0)) \
        + np.linalg.norm(m) + np.sum(np.linalg.norm(m, ord=2, axis=0, keepdims=True))


FUNCS = [norm_f, sort_f, sort_axis_f, take_f, take_along_f, pad_tile_repeat_f, diag_trace_f,
         tensordot_f, solve_f, inv_batched_f]


@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
def test_hessian(f):
    x = rand(5) + np.array([0.0, 0.1, 0.2, 0.3, 0.4]) * 3
    h = s2sgrad.hessian(f)(x)
    np.testing.assert_allclose(h, numeric_hessian(f, x), rtol=1e-5, atol=1e-6)


def join_f(x):
    return np.sum(np.stack([x, x ** 2]) ** 3) + np.sum(np.concatenate([x * x, x]) ** 2)


def test_hessian_stack_concatenate():
    x = rand(5)
    np.testing.assert_allclose(s2sgrad.hessian(join_f)(x), numeric_hessian(join_f, x),
                               rtol=1e-5, atol=1e-6)
