"""Benchmark workloads: primal functions, hand-written gradients, inputs.

Each primal is a plain module-level NumPy function in the style s2sgrad
accepts (``np.*`` calls, arithmetic, ``for i in range(n)`` loops, no in-place
updates, one positional argument per array).  Its hand-written gradient is the
"limit": flat NumPy a careful person would write, using the same primitives as
the primal so that a ratio to it measures the cost of differentiating, not a
change of library.  A hand-written gradient returns exactly what
``s2sgrad.grad(f, wrt)`` returns: one gradient per index in ``wrt`` (a tuple),
or a single gradient when ``wrt`` is an int.

The reference columns (autograd, JAX) run these same primal functions with
``np`` rebound to ``autograd.numpy`` / ``jax.numpy``; see ``references.py``.
"""

from dataclasses import dataclass
from typing import Callable, Tuple, Union

import numpy as np


# --- (a) the seed neuron: five Python floats ---------------------------------

def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


def neuron_grad(w0, x0, w1, x1, w2):
    out = 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))
    grad_s = out * (1.0 - out)
    return grad_s * x0, grad_s * w0, grad_s * x1, grad_s * w1, grad_s


def neuron_inputs():
    return (2.0, -1.0, -3.0, -2.0, -3.0)  # the CS231n/micrograd example


# --- (b) 200-step scalar logistic map ----------------------------------------

def logistic_map(a, x0):
    x = x0
    for i in range(200):
        x = a * x * (1.0 - x)
    return x


def logistic_map_grad(a, x0):
    trajectory = []
    x = x0
    for i in range(200):
        trajectory.append(x)
        x = a * x * (1.0 - x)
    grad_a = 0.0
    grad_x = 1.0
    for x in reversed(trajectory):
        grad_a += grad_x * x * (1.0 - x)
        grad_x = grad_x * a * (1.0 - 2.0 * x)
    return grad_a, grad_x


def logistic_map_inputs():
    # a = 3.2 settles on a stable period-2 orbit: derivatives stay finite and
    # reproducible (a chaotic a would make them depend on rounding order).
    return (3.2, 0.3)


# --- (c) logistic regression, 256 x 20 ---------------------------------------

def logreg(w, b, X, y):
    z = X @ w + b
    # mean binary cross-entropy of sigmoid(z), in its overflow-free form
    return np.mean(np.maximum(z, 0.0) - z * y + np.log(1.0 + np.exp(-np.abs(z))))


def logreg_grad(w, b, X, y):
    z = X @ w + b
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0.0, 1.0, e) / (1.0 + e)  # sigmoid(z), stably
    grad_z = (p - y) / z.shape[0]
    return X.T @ grad_z, np.sum(grad_z)


def logreg_inputs():
    rng = np.random.default_rng(3)
    n, d = 256, 20
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = (X @ w_true + 0.5 * rng.standard_normal(n) > 0.0).astype(np.float64)
    w = 0.1 * rng.standard_normal(d)
    b = 0.05
    return (w, b, X, y)


# --- (d) two-layer MLP with softmax cross-entropy ----------------------------

def mlp(W1, b1, W2, b2, X, Y):
    h = np.maximum(X @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def mlp_grad(W1, b1, W2, b2, X, Y):
    pre = X @ W1 + b1
    h = np.maximum(pre, 0.0)
    logits = h @ W2 + b2
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    # softmax - onehot, valid because every row of Y sums to one
    grad_logits = (e / np.sum(e, axis=1, keepdims=True) - Y) / X.shape[0]
    grad_pre = (grad_logits @ W2.T) * (pre > 0.0)
    return (X.T @ grad_pre, np.sum(grad_pre, axis=0),
            h.T @ grad_logits, np.sum(grad_logits, axis=0))


def mlp_inputs_maker(batch, n_in, n_hidden, n_out, seed):
    def make():
        rng = np.random.default_rng(seed)
        W1 = rng.standard_normal((n_in, n_hidden)) * np.sqrt(2.0 / n_in)
        b1 = 0.01 * rng.standard_normal(n_hidden)
        W2 = rng.standard_normal((n_hidden, n_out)) * np.sqrt(1.0 / n_hidden)
        b2 = 0.01 * rng.standard_normal(n_out)
        X = rng.standard_normal((batch, n_in))
        Y = np.eye(n_out)[rng.integers(0, n_out, size=batch)]
        return (W1, b1, W2, b2, X, Y)
    return make


# --- (e) tanh RNN, 20 steps, batch 16, 32 inputs, 64 hidden --------------------

def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(20):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh) + b)
    return 0.5 * np.sum(h ** 2)


def rnn_grad(Wx, Wh, b, xs, h0):
    steps, batch, n_in = xs.shape
    n_hidden = h0.shape[1]
    hs = np.empty((steps + 1, batch, n_hidden))
    hs[0] = h0
    for t in range(steps):
        hs[t + 1] = np.tanh(np.dot(xs[t], Wx) + np.dot(hs[t], Wh) + b)
    grad_pre = np.empty((steps, batch, n_hidden))
    grad_h = hs[steps]
    for t in range(steps - 1, -1, -1):
        grad_pre[t] = grad_h * (1.0 - hs[t + 1] ** 2)
        grad_h = np.dot(grad_pre[t], Wh.T)
    # the weight gradients of all steps as one matmul each
    flat_grad_pre = grad_pre.reshape(-1, n_hidden)
    grad_Wx = np.dot(xs.reshape(-1, n_in).T, flat_grad_pre)
    grad_Wh = np.dot(hs[:steps].reshape(-1, n_hidden).T, flat_grad_pre)
    return grad_Wx, grad_Wh, np.sum(flat_grad_pre, axis=0)


def rnn_inputs():
    rng = np.random.default_rng(5)
    steps, batch, n_in, n_hidden = 20, 16, 32, 64
    Wx = rng.standard_normal((n_in, n_hidden)) * (0.5 / np.sqrt(n_in))
    Wh = rng.standard_normal((n_hidden, n_hidden)) * (0.9 / np.sqrt(n_hidden))
    b = 0.1 * rng.standard_normal(n_hidden)
    xs = rng.standard_normal((steps, batch, n_in))
    h0 = np.zeros((batch, n_hidden))
    return (Wx, Wh, b, xs, h0)


# --- (f) vectorized Rosenbrock, 1,000 variables --------------------------------

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    head = x[:-1]
    gap = x[1:] - head ** 2
    grad_x = np.zeros_like(x)
    grad_x[:-1] = -400.0 * gap * head - 2.0 * (1.0 - head)
    grad_x[1:] += 200.0 * gap
    return grad_x


def rosenbrock_inputs():
    return (np.random.default_rng(7).uniform(-1.5, 1.5, size=1000),)


# --- the registry --------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    name: str
    f: Callable            # primal, plain NumPy
    hand_grad: Callable    # hand-written gradient, same return structure as grad(f, wrt)
    make_inputs: Callable[[], tuple]
    wrt: Union[int, Tuple[int, ...]]
    description: str

    @property
    def wrt_tuple(self):
        return (self.wrt,) if isinstance(self.wrt, int) else tuple(self.wrt)


WORKLOADS = [
    Workload("neuron", neuron, neuron_grad, neuron_inputs, (0, 1, 2, 3, 4),
             "sigmoid neuron on 5 Python floats"),
    Workload("logistic_map", logistic_map, logistic_map_grad, logistic_map_inputs, (0, 1),
             "200-step scalar logistic map, wrt (a, x0)"),
    Workload("logreg", logreg, logreg_grad, logreg_inputs, (0, 1),
             "logistic regression 256x20, stable BCE, wrt (w, b)"),
    Workload("mlp_8x64-32-10", mlp, mlp_grad, mlp_inputs_maker(8, 64, 32, 10, seed=11),
             (0, 1, 2, 3), "ReLU MLP + softmax CE, batch 8, 64-32-10"),
    Workload("mlp_64x64-128-10", mlp, mlp_grad, mlp_inputs_maker(64, 64, 128, 10, seed=12),
             (0, 1, 2, 3), "ReLU MLP + softmax CE, batch 64, 64-128-10"),
    Workload("mlp_256x784-256-10", mlp, mlp_grad, mlp_inputs_maker(256, 784, 256, 10, seed=13),
             (0, 1, 2, 3), "ReLU MLP + softmax CE, batch 256, 784-256-10"),
    Workload("rnn_tanh_20", rnn, rnn_grad, rnn_inputs, (0, 1, 2),
             "tanh RNN, 20 steps, batch 16, 32 in, 64 hidden, wrt (Wx, Wh, b)"),
    Workload("rosenbrock_1000", rosenbrock, rosenbrock_grad, rosenbrock_inputs, 0,
             "vectorized Rosenbrock, 1,000 variables, wrt x"),
]

BY_NAME = {w.name: w for w in WORKLOADS}


def as_tuple(gradient, wrt):
    """Gradients as a tuple whatever ``wrt`` was (an int gives one gradient)."""
    return (gradient,) if isinstance(wrt, int) else tuple(gradient)
