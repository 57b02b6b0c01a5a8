"""Bayesian linear regression by black-box variational inference: a Gaussian
variational posterior over the weights, the reparameterized ELBO estimated with fixed
standard-normal draws (common random numbers), and its gradient w.r.t. the
variational mean and log standard deviation."""
AUTOGRAD = True
import numpy as np


def log_likelihood(w, X, y, noise_std):
    preds = X @ w.T                      # (N, S): one column per posterior sample
    return -0.5 * np.sum((preds - y[:, None]) ** 2, axis=0) / noise_std ** 2


def log_prior(w, prior_std):
    return -0.5 * np.sum(w ** 2, axis=1) / prior_std ** 2


def gaussian_entropy(log_std):
    return 0.5 * log_std.shape[0] * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)


def negative_elbo(var_params, X, y, draws, noise_std=0.5, prior_std=2.0):
    mean, log_std = var_params[0], var_params[1]
    samples = draws * np.exp(log_std) + mean          # (S, D)
    expected = np.mean(log_likelihood(samples, X, y, noise_std) + log_prior(samples, prior_std))
    return -(expected + gaussian_entropy(log_std))


def problem():
    rng = np.random.RandomState(0)
    X = np.hstack([rng.randn(20, 2), np.ones((20, 1))])
    y = X @ np.array([1.5, -0.7, 0.3]) + 0.5 * rng.randn(20)
    draws = rng.randn(10, 3)
    var_params = np.stack([np.zeros(3), -np.ones(3)])
    return dict(f=negative_elbo, args=(var_params, X, y, draws), wrt=0, lr=1e-3)
