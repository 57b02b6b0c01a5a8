"""autograd-example style: the network's weights a list of (W, b) tuples, flattened
into one vector for the optimizer with a hand-written flatten() that returns the
vector and an unflatten() closure; the objective takes the flat vector."""
import numpy as np


def init_params(layer_sizes, scale, rs):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def flatten(params):
    shapes = []
    pieces = []
    for W, b in params:
        shapes.append((W.shape, b.shape))
        pieces.append(W.ravel())
        pieces.append(b.ravel())
    flat = np.concatenate(pieces)

    def unflatten(vector):
        out = []
        start = 0
        for w_shape, b_shape in shapes:
            nw = w_shape[0] * w_shape[1]
            W = vector[start:start + nw].reshape(w_shape)
            start += nw
            b = vector[start:start + b_shape[0]]
            start += b_shape[0]
            out.append((W, b))
        return out
    return flat, unflatten


def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - np.log(np.sum(np.exp(outputs), axis=1, keepdims=True))


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def make_objective(unflatten, inputs, targets, L2_reg):
    def objective(flat_params):
        return -log_posterior(unflatten(flat_params), inputs, targets, L2_reg)
    return objective


def problem():
    rs = np.random.RandomState(0)
    params = init_params([4, 7, 3], 0.3, rs)
    flat, unflatten = flatten(params)
    inputs = rs.randn(10, 4)
    targets = np.eye(3)[rs.randint(3, size=10)]
    objective = make_objective(unflatten, inputs, targets, 0.01)
    return dict(f=objective, args=(flat,), wrt=0, lr=1e-2)
