"""autograd's examples/gaussian_process.py style: make_gp_funs(cov_func, ...) returns
the closures num_cov_params, predict and log_marginal_likelihood."""
AUTOGRAD = True
import numpy as np
import numpy.random as npr
from scipy.stats import multivariate_normal as mvn


def make_gp_funs(cov_func, num_cov_params):
    """Functions that perform Gaussian process regression.
       cov_func has signature (cov_params, x, x')"""

    def unpack_kernel_params(params):
        mean = params[0]
        cov_params = params[2:]
        noise_scale = np.exp(params[1]) + 0.0001
        return mean, cov_params, noise_scale

    def log_marginal_likelihood(params, x, y):
        mean, cov_params, noise_scale = unpack_kernel_params(params)
        cov_y_y = cov_func(cov_params, x, x) + noise_scale * np.eye(len(y))
        prior_mean = mean * np.ones(len(y))
        return mvn.logpdf(y, prior_mean, cov_y_y)

    return num_cov_params + 2, log_marginal_likelihood


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


num_params, log_marginal_likelihood = make_gp_funs(rbf_covariance, num_cov_params=2)


def objective(params, X, y):
    return -log_marginal_likelihood(params, X, y)


def problem():
    rs = npr.RandomState(0)
    X = np.linspace(-3, 3, 10).reshape(-1, 1)
    y = np.cos(X[:, 0]) + rs.randn(10) * 0.1
    params = 0.1 * rs.randn(num_params)
    return dict(f=objective, args=(params, X, y), wrt=0, lr=1e-2)
