"""Forward mode covers what reverse mode covers: each op's JVP against finite
differences and against the reverse-mode gradient (<grad, v> == J v)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import jvp

rng = np.random.RandomState(42)
X = rng.rand(3, 4) + 0.5            # positive entries
S = rng.randn(3, 3)
SPD = S @ S.T + 3.0 * np.eye(3)
B = rng.randn(3)

def op_prod(x):
    return np.sum(np.prod(x, axis=0))


def op_cumprod(x):
    return np.sum(np.cumprod(x, axis=1) ** 2)


def op_cumsum(x):
    return np.sum(np.cumsum(x, axis=0) ** 2)


def op_var_std(x):
    return np.sum(np.var(x, axis=1)) + np.std(x)


def op_norm(x):
    return np.linalg.norm(x) + np.sum(np.linalg.norm(x, axis=0))


def op_ptp(x):
    return np.sum(np.ptp(x, axis=1) ** 2)


def op_max_min(x):
    return np.sum(np.max(x, axis=0) * np.min(x, axis=1)[0])


def op_sort(x):
    return np.sum(np.sort(x, axis=1) * np.arange(4.0))


def op_concatenate_stack(x):
    return np.sum(np.concatenate([x, 2.0 * x], axis=0) ** 2) + np.sum(np.stack([x, np.ones((3, 4))]) ** 3)


def op_take_roll_diff(x):
    return np.sum(np.take(x, [0, 2, 2], axis=1) ** 2) + np.sum(np.roll(x, 1, axis=0) * x) + np.sum(np.diff(x, axis=1) ** 2)


def op_transpose_reshape(x):
    return np.sum(x.T.reshape(2, 6)[:, 1:] ** 2) + np.sum(np.transpose(x) @ x)


def op_det_inv(a):
    return np.linalg.det(a) + np.sum(np.linalg.inv(a) ** 2)


def op_solve(a):
    return np.sum(np.linalg.solve(a, B) ** 2)


def op_slogdet(a):
    return np.linalg.slogdet(a)[1]


def op_cholesky(a):
    return np.sum(np.linalg.cholesky(a) ** 2)


def op_unary(x):
    return np.sum(np.log1p(x) * np.exp(-x) + np.arctan(x) * np.sqrt(x) + np.cosh(x) / np.tanh(x))


def op_where_clip(x):
    return np.sum(np.where(x > 1.0, x ** 2, np.clip(x, 0.6, 0.9)))


def op_mean_axis_keepdims(x):
    return np.sum((x - np.mean(x, axis=1, keepdims=True)) ** 2)


OPS = {
    "prod": (op_prod, X),
    "cumprod": (op_cumprod, X),
    "cumsum": (op_cumsum, X),
    "var_std": (op_var_std, X),
    "norm": (op_norm, X),
    "ptp": (op_ptp, X),
    "max_min": (op_max_min, X),
    "sort": (op_sort, X),
    "concatenate_stack": (op_concatenate_stack, X),
    "take_roll_diff": (op_take_roll_diff, X),
    "transpose_reshape": (op_transpose_reshape, X),
    "det_inv": (op_det_inv, SPD),
    "solve": (op_solve, SPD),
    "slogdet": (op_slogdet, SPD),
    "cholesky": (op_cholesky, SPD),
    "unary": (op_unary, X),
    "where_clip": (op_where_clip, X),
    "mean_axis_keepdims": (op_mean_axis_keepdims, X),
}


def fd(f, x, v, eps=1e-6):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


@pytest.mark.parametrize("name", sorted(OPS))
def test_jvp_matches_finite_differences_and_reverse_mode(name):
    f, x = OPS[name]
    v = np.random.RandomState(len(name)).randn(*x.shape)
    if name in ("det_inv", "solve", "slogdet", "cholesky"):
        v = v + v.T                       # stay symmetric for the SPD inputs
    value, d = jvp(f)(x, v)
    assert value == pytest.approx(f(x), rel=1e-12)
    assert d == pytest.approx(fd(f, x, v), rel=1e-6, abs=1e-7)
    g = s2sgrad.grad(f)(x)
    assert d == pytest.approx(np.sum(g * v), rel=1e-10, abs=1e-10)
