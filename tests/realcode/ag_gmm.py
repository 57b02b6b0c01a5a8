"""autograd's examples/gmm.py style: log-proportions, means and Cholesky factors
unpacked from a dict, the clusters iterated with zip(*unpack_params(params))."""
import numpy as np
import numpy.random as npr
from scipy.special import logsumexp
from scipy.stats import multivariate_normal as mvn


def init_gmm_params(num_components, D, scale, rs=npr.RandomState(0)):
    return {'log proportions': rs.randn(num_components) * scale,
            'means': rs.randn(num_components, D) * scale,
            'lower triangles': np.zeros((num_components, D, D)) + np.eye(D)}


def log_normalize(x):
    return x - logsumexp(x)


def unpack_gmm_params(params):
    normalized_log_proportions = log_normalize(params['log proportions'])
    return normalized_log_proportions, params['means'], params['lower triangles']


def gmm_log_likelihood(params, data):
    cluster_lls = []
    for log_proportion, mean, cov_sqrt in zip(*unpack_gmm_params(params)):
        cov = np.dot(cov_sqrt.T, cov_sqrt)
        cluster_lls.append(log_proportion + mvn.logpdf(data, mean, cov))
    return np.sum(logsumexp(np.vstack(cluster_lls), axis=0))


def objective(params, data):
    return -gmm_log_likelihood(params, data)


def problem():
    rs = npr.RandomState(1)
    data = np.concatenate([rs.randn(10, 2) + 2, rs.randn(10, 2) - 2])
    params = init_gmm_params(num_components=2, D=2, scale=0.1)
    return dict(f=objective, args=(params, data), wrt=0, lr=1e-3)
