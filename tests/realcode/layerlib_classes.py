"""A small layer library as people write it for a course or a blog post: each layer
a class with forward(x) caching what backward(dout) needs, a Net that chains them and
a softmax cross-entropy at the end. The library's own backward is the reference."""
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)
        self.cache = None

    def forward(self, x):
        self.cache = x
        return x.dot(self.W) + self.b

    def backward(self, dout):
        x = self.cache
        self.dW = x.T.dot(dout)
        self.db = dout.sum(axis=0)
        return dout.dot(self.W.T)


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


class SoftmaxCrossEntropy:
    def forward(self, scores, y):
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        self.probs, self.y = probs, y
        N = scores.shape[0]
        return -np.sum(np.log(probs[np.arange(N), y])) / N

    def backward(self):
        N = self.probs.shape[0]
        d = self.probs.copy()
        d[np.arange(N), self.y] -= 1
        return d / N


class Net:
    def __init__(self, sizes, seed=0):
        rng = np.random.RandomState(seed)
        self.layers = []
        for i in range(len(sizes) - 1):
            self.layers.append(Linear(sizes[i], sizes[i + 1], rng))
            if i < len(sizes) - 2:
                self.layers.append(ReLU() if i % 2 == 0 else Tanh())
        self.criterion = SoftmaxCrossEntropy()

    def loss(self, X, y):
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        return self.criterion.forward(out, y)

    def gradients(self, X, y):
        self.loss(X, y)
        dout = self.criterion.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return [{'W': l.dW, 'b': l.db} if isinstance(l, Linear) else {}
                for l in self.layers]


def problem():
    rng = np.random.RandomState(3)
    X = rng.randn(7, 5)
    y = rng.randint(4, size=7)
    net = Net([5, 8, 6, 4])
    return dict(f=net.loss, args=(X, y), wrt="self.layers",
                reference=lambda X, y: net.gradients(X, y), lr=0.05)
