"""A Gaussian mixture model fitted by gradient descent on its negative log-likelihood
(unconstrained parameters: log-weights through a softmax, log standard deviations)."""
AUTOGRAD = True
import numpy as np
from scipy.special import logsumexp


def unpack_params(params):
    log_weights = params['logits'] - logsumexp(params['logits'])
    means = params['means']
    stds = np.exp(params['log_stds'])
    return log_weights, means, stds


def gmm_log_likelihood(params, data):
    log_weights, means, stds = unpack_params(params)
    # (N, K, D): each point against each diagonal Gaussian component
    diff = (data[:, None, :] - means[None, :, :]) / stds[None, :, :]
    log_norm = -0.5 * np.sum(diff ** 2, axis=2) - np.sum(np.log(stds), axis=1) \
        - 0.5 * data.shape[1] * np.log(2 * np.pi)
    return np.sum(logsumexp(log_norm + log_weights, axis=1))


def objective(params, data):
    return -gmm_log_likelihood(params, data) / data.shape[0]


def problem():
    rng = np.random.RandomState(0)
    data = np.concatenate([rng.randn(15, 2) * 0.5 + 2, rng.randn(15, 2) * 0.7 - 1])
    params = {'logits': np.zeros(3), 'means': rng.randn(3, 2), 'log_stds': np.zeros((3, 2))}
    return dict(f=objective, args=(params, data), wrt=0, lr=0.1)
