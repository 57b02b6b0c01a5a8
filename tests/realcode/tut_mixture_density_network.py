"""A mixture density network (Bishop 1994) for the inverted sine problem: a tanh net
outputs mixture weights, means and log standard deviations; the loss is the negative
log-likelihood through logsumexp."""
AUTOGRAD = True
import numpy as np
from scipy.special import logsumexp


def init_params(layer_sizes, scale, rs):
    params = []
    for m, n in zip(layer_sizes[:-1], layer_sizes[1:]):
        params.append({'W': scale * rs.randn(m, n), 'b': scale * rs.randn(n)})
    return params


def mdn_forward(params, x):
    h = x
    for layer in params[:-1]:
        h = np.tanh(h @ layer['W'] + layer['b'])
    out = h @ params[-1]['W'] + params[-1]['b']
    K = out.shape[1] // 3
    logits, means, log_stds = out[:, :K], out[:, K:2 * K], out[:, 2 * K:]
    log_weights = logits - logsumexp(logits, axis=1, keepdims=True)
    return log_weights, means, log_stds


def mdn_nll(params, x, y):
    log_weights, means, log_stds = mdn_forward(params, x)
    z = (y - means) / np.exp(log_stds)
    log_comp = -0.5 * z ** 2 - log_stds - 0.5 * np.log(2 * np.pi)
    return -np.mean(logsumexp(log_weights + log_comp, axis=1))


def problem():
    rs = np.random.RandomState(0)
    y = rs.uniform(-1, 1, size=(16, 1))
    x = y + 0.3 * np.sin(2 * np.pi * y) + 0.05 * rs.randn(16, 1)
    params = init_params([1, 10, 3 * 3], 0.5, rs)
    return dict(f=mdn_nll, args=(params, x, y), wrt=0, lr=1e-2)
