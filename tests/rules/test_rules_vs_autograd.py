"""Cross-check a sample of rules against autograd (optional test dependency)."""
import numpy as np
import pytest

ag = pytest.importorskip("autograd")
import autograd.numpy as anp  # noqa: E402

import s2sgrad  # noqa: E402
from rulecheck import make_loss, rand  # noqa: E402

EXPRS = [
    ("np.tanh(x) * np.exp(-x ** 2)", (3, 4)),
    ("np.sum(x, axis=0, keepdims=True) / np.prod(x ** 2 + 1.0, axis=1, keepdims=True)", (3, 4)),
    ("np.max(x, axis=1)", (3, 4)),
    ("np.std(x, axis=0, ddof=1)", (3, 4)),
    ("np.cumsum(x, axis=1)", (3, 4)),
    ("np.linalg.norm(x, axis=1)", (3, 4)),
    ("np.dot(x, x.T)", (3, 4)),
    ("np.einsum('ij,kj->ik', x, x)", (3, 4)),
    ("np.tensordot(x, x, ([1], [1]))", (3, 4)),
    ("np.linalg.inv(x @ x.T + np.eye(3))", (3, 4)),
    ("np.linalg.det(x @ x.T + np.eye(3))", (3, 4)),
    ("np.concatenate([x, x ** 2], axis=1)", (3, 4)),
    ("np.stack([x, np.sin(x)], axis=-1)", (3, 4)),
    ("np.where(x > 0, x, 0.1 * x)", (3, 4)),
    ("np.clip(x, -0.5, 0.5)", (3, 4)),
    ("np.sort(x)", (7,)),
    ("np.reshape(x, (2, 6)).T", (3, 4)),
    ("np.tile(x, (2, 1))", (3, 4)),
    ("np.roll(x, 1, axis=1)", (3, 4)),
    ("np.trace(x[:, :3])", (3, 4)),
    ("np.kron(x[:2, :2], x[1:, 2:])", (3, 4)),
    ("np.var(x) + np.mean(x ** 3)", (3, 4)),
    ("np.logaddexp(x, -x)", (3, 4)),
    ("np.arctan2(x, 1.5 + x ** 2)", (3, 4)),
]


@pytest.mark.parametrize("expr,shape", EXPRS, ids=[e for e, _ in EXPRS])
def test_matches_autograd(expr, shape):
    x = rand(*shape)
    value = eval(expr, {"np": np, "x": x})
    C = np.random.default_rng(3).standard_normal(np.shape(value))
    ours = s2sgrad.grad(make_loss(expr, ["x"]))(x, C)
    theirs = ag.grad(lambda x: anp.sum(eval(expr, {"np": anp, "x": x}) * C))(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
