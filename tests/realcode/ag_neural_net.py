"""autograd's examples/neural_net.py style: parameters as a list of (weights, biases)
tuples, log-softmax with logsumexp, an L2-regularized log posterior."""
AUTOGRAD = True
import numpy as np
import numpy.random as npr
from scipy.special import logsumexp


def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    """Build a list of (weights, biases) tuples,
       one for each layer in the net."""
    return [(scale * rs.randn(m, n),   # weight matrix
             scale * rs.randn(n))      # bias vector
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """Implements a deep neural network for classification.
       params is a list of (weights, bias) tuples.
       inputs is an (N x D) matrix.
       returns normalized class log-probabilities."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    """Computes l2 norm of params by flattening them into a vector."""
    total = 0.0
    for W, b in params:
        total = total + np.sum(W ** 2) + np.sum(b ** 2)
    return total


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def neg_log_posterior(params, inputs, targets, L2_reg):
    return -log_posterior(params, inputs, targets, L2_reg)


def problem():
    layer_sizes = [6, 8, 5, 3]
    L2_reg = 1.0
    init_params = init_random_params(0.1, layer_sizes)
    rs = npr.RandomState(1)
    inputs = rs.randn(10, 6)
    targets = np.eye(3)[rs.randint(3, size=10)]
    return dict(f=neg_log_posterior, args=(init_params, inputs, targets, L2_reg), wrt=0,
                lr=1e-2)
