"""A Gaussian-process regression tutorial: the negative log marginal likelihood of an
RBF kernel's log hyperparameters, through a Cholesky factorization."""
AUTOGRAD = True
import numpy as np
from scipy.linalg import solve_triangular


def rbf_kernel(X1, X2, log_lengthscale, log_variance):
    lengthscale = np.exp(log_lengthscale)
    sqdist = (np.sum(X1 ** 2, axis=1)[:, None] + np.sum(X2 ** 2, axis=1)[None, :]
              - 2 * X1 @ X2.T)
    return np.exp(log_variance) * np.exp(-0.5 * sqdist / lengthscale ** 2)


def neg_log_marginal_likelihood(log_params, X, y):
    log_lengthscale, log_variance, log_noise = log_params[0], log_params[1], log_params[2]
    n = X.shape[0]
    K = rbf_kernel(X, X, log_lengthscale, log_variance) + (np.exp(log_noise) + 1e-6) * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = solve_triangular(L, y, lower=True)
    data_fit = 0.5 * alpha @ alpha
    complexity = np.sum(np.log(np.diag(L)))
    return data_fit + complexity + 0.5 * n * np.log(2 * np.pi)


def problem():
    rng = np.random.RandomState(0)
    X = np.sort(rng.uniform(-3, 3, size=(12, 1)), axis=0)
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(12)
    log_params = np.array([0.0, 0.0, -2.0])
    return dict(f=neg_log_marginal_likelihood, args=(log_params, X, y), wrt=0, lr=1e-2)
