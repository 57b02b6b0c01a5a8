"""Small real models built from many rules at once, against finite differences."""
import numpy as np
import pytest

from gradcheck import check_grad
from rulecheck import RNG, rand

scipy = pytest.importorskip("scipy")
from scipy import linalg as sla  # noqa: E402
from scipy import signal, special, stats  # noqa: E402

X = RNG.standard_normal((6, 2))
Y = np.sin(X[:, 0]) + 0.1 * RNG.standard_normal(6)


def gp_neg_log_marginal(log_ell, log_sf, log_sn):
    d = np.subtract.outer(X[:, 0], X[:, 0]) ** 2 + np.subtract.outer(X[:, 1], X[:, 1]) ** 2
    K = np.exp(2.0 * log_sf) * np.exp(-0.5 * d / np.exp(2.0 * log_ell))
    K = K + (np.exp(2.0 * log_sn) + 1e-6) * np.eye(6)
    L = np.linalg.cholesky(K)
    alpha = sla.solve_triangular(L, Y, lower=True)
    return 0.5 * np.dot(alpha, alpha) + np.sum(np.log(np.diag(L))) + 3.0 * np.log(2 * np.pi)


def test_gaussian_process():
    check_grad(gp_neg_log_marginal, (0.1, -0.2, -1.0), wrt=(0, 1, 2), rtol=1e-5)


def mixture_nll(means, log_sigmas, logits, data):
    lp = stats.norm.logpdf(data[:, None], means[None, :], np.exp(log_sigmas)[None, :])
    return -np.sum(special.logsumexp(lp + special.log_softmax(logits), axis=1))


def test_gaussian_mixture():
    data = RNG.standard_normal(8)
    check_grad(mixture_nll, (rand(3), rand(3) * 0.3, rand(3), data), wrt=(0, 1, 2), rtol=1e-5)


def conv_net(kernel, w, x):
    h = np.maximum(signal.convolve(x, kernel, mode="valid"), 0.0)
    pooled = np.max(np.reshape(h[:, :6], (h.shape[0], 3, 2)), axis=2)
    logits = pooled @ w
    return np.mean(np.linalg.norm(logits, axis=1) ** 2) + 0.01 * np.sum(kernel ** 2)


def test_small_conv_net():
    x = RNG.standard_normal((4, 9))
    check_grad(conv_net, (rand(2, 3), rand(3, 2), x), wrt=(0, 1), rtol=1e-5)


def attention(q, k, v):
    scores = np.einsum("id,jd->ij", q, k) / np.sqrt(q.shape[-1])
    weights = special.softmax(scores, axis=-1)
    out = weights @ v
    return np.sum(np.tanh(out) * np.arange(out.size).reshape(out.shape))


def test_attention():
    check_grad(attention, (rand(3, 4), rand(5, 4), rand(5, 2)), wrt=(0, 1, 2))


def ppca_loglik(W, log_s2, data):
    cov = W @ W.T + np.exp(log_s2) * np.eye(W.shape[0])
    sign, logdet = np.linalg.slogdet(cov)
    quad = np.sum(data * np.linalg.solve(cov, data.T).T, axis=1)
    return -0.5 * np.sum(quad + logdet)


def test_probabilistic_pca():
    data = RNG.standard_normal((7, 3))
    check_grad(ppca_loglik, (rand(3, 2), 0.2, data), wrt=(0, 1))


def robust_regression(beta, x, y):
    r = y - np.concatenate([np.ones((len(y), 1)), x], axis=1) @ beta
    return np.sum(special.huber(1.0, r)) + np.median(np.abs(r)) + np.quantile(r, 0.9)


def test_robust_regression():
    x = RNG.standard_normal((9, 2))
    y = RNG.standard_normal(9)
    check_grad(robust_regression, (rand(3), x, y), wrt=0, rtol=1e-5)
