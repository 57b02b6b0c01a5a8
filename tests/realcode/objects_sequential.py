"""A PyTorch-flavoured MLP in plain NumPy: layer objects with __call__, held in a list
that the model's forward iterates (objects of different classes: the loop is unrolled);
differentiated with respect to the layers (wrt="self.layers")."""
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, rng):
        bound = 1.0 / np.sqrt(in_features)
        self.weight = rng.uniform(-bound, bound, size=(in_features, out_features))
        self.bias = rng.uniform(-bound, bound, size=out_features)

    def __call__(self, x):
        return x @ self.weight + self.bias


class ReLU:
    def __call__(self, x):
        return np.maximum(x, 0.0)


class Tanh:
    def __call__(self, x):
        return np.tanh(x)


class Sequential:
    def __init__(self, *layers):
        self.layers = list(layers)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Model:
    def __init__(self, rng):
        self.net = Sequential(Linear(4, 16, rng), ReLU(), Linear(16, 8, rng), Tanh(),
                              Linear(8, 3, rng))

    def loss(self, x, target):
        logits = self.net(x)
        logits = logits - logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return -np.mean(log_probs[np.arange(len(target)), target])


def problem():
    rng = np.random.RandomState(0)
    model = Model(rng)
    x = rng.randn(6, 4)
    target = rng.randint(3, size=6)
    return dict(f=model.loss, args=(x, target), wrt="self.net", lr=0.1)
