"""Black-box variational inference for Bayesian logistic regression, the Monte Carlo
noise passed as an argument: a mean-field Gaussian (mean, log std) packed in one
vector and unpacked with slicing, the ELBO averaged over samples."""
import numpy as np


def unpack(var_params, D):
    return var_params[:D], var_params[D:]


def log_likelihood(w, X, t):
    logits = X @ w
    return np.sum(t * logits - np.logaddexp(0.0, logits))


def log_prior(w, sigma=2.0):
    return -0.5 * np.sum(w ** 2) / sigma ** 2


def negative_elbo(var_params, X, t, noise):
    D = X.shape[1]
    mean, log_std = unpack(var_params, D)
    samples = noise * np.exp(log_std) + mean
    total = 0.0
    for s in range(samples.shape[0]):
        total = total + log_likelihood(samples[s], X, t) + log_prior(samples[s])
    entropy = np.sum(log_std) + 0.5 * D * (1.0 + np.log(2 * np.pi))
    return -(total / samples.shape[0] + entropy)


def problem():
    rng = np.random.RandomState(11)
    X = np.hstack([rng.randn(15, 2), np.ones((15, 1))])
    t = (X[:, 0] - X[:, 1] + 0.3 * rng.randn(15) > 0).astype(float)
    var_params = np.concatenate([np.zeros(3), -np.ones(3)])
    noise = rng.randn(5, 3)
    return dict(f=negative_elbo, args=(var_params, X, t, noise), wrt=0, lr=0.02)
