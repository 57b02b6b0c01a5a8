"""An MLP built from a config dict, as experiment scripts do: layer sizes and
activation names in the config, the activation looked up in a dict of functions or
on NumPy by name (getattr(np, name)), the forward pass under np.errstate, a
functools.reduce over the layers and a sorted() of the parameter names for the L2
term."""
NEEDS = "a call inlined in one branch of a conditional expression (activation(names[i])(z) if i < len(names) else z) is evaluated whatever the test says: an IndexError in the probe"
import functools

import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def softplus(x):
    return np.logaddexp(0.0, x)


ACTIVATIONS = {'relu': relu, 'softplus': softplus}


def activation(name):
    return ACTIVATIONS[name] if name in ACTIVATIONS else getattr(np, name)


def init(config, seed=0):
    rng = np.random.RandomState(seed)
    sizes = config['sizes']
    params = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        params['W%d' % i] = rng.randn(m, n) / np.sqrt(m)
        params['b%d' % i] = np.zeros(n)
    return params


def forward(params, x, config):
    names = config['activations']

    def layer(h, i):
        z = h @ params['W%d' % i] + params['b%d' % i]
        return activation(names[i])(z) if i < len(names) else z

    with np.errstate(over='raise', invalid='raise'):
        return functools.reduce(layer, range(len(config['sizes']) - 1), x)


def objective(params, x, y, config):
    pred = forward(params, x, config)
    names = sorted(params, key=lambda k: (k[0], int(k[1:])))
    weights = [params[k] for k in names if k.startswith('W')]
    return np.mean((pred[:, 0] - y) ** 2) + config['l2'] * sum(np.sum(w * w) for w in weights)


def problem():
    config = {'sizes': [3, 6, 5, 1], 'activations': ['tanh', 'softplus'], 'l2': 1e-3}
    rng = np.random.RandomState(10)
    x = rng.randn(8, 3)
    y = np.cos(x[:, 0]) * x[:, 2]
    return dict(f=objective, args=(init(config), x, y, config), wrt=0, lr=0.05)
