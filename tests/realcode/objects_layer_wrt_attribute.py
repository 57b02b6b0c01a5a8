"""A layer object's own weight as the variable: grad(mse, wrt="layer.W")."""
import numpy as np


class Dense:
    def __init__(self, W, b, activation=None):
        self.W = W
        self.b = b
        self.activation = activation

    def __call__(self, x):
        z = np.dot(x, self.W) + self.b
        if self.activation == "sigmoid":
            return 1.0 / (1.0 + np.exp(-z))
        return z


def mse(layer, x, y):
    return np.mean((layer(x) - y) ** 2)


def problem():
    rng = np.random.RandomState(2)
    layer = Dense(rng.randn(5, 2), np.zeros(2), activation="sigmoid")
    x = rng.randn(20, 5)
    y = rng.rand(20, 2)

    def reference(layer, x, y):
        z = x.dot(layer.W) + layer.b
        s = 1 / (1 + np.exp(-z))
        ds = 2 * (s - y) / y.size
        return x.T.dot(ds * s * (1 - s))
    return dict(f=mse, args=(layer, x, y), wrt="layer.W", reference=reference, lr=0.5)
