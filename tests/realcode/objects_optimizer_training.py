"""A small framework as people write one: a model class with a params dict and a
loss, an SGD-with-momentum optimizer class that updates the same dict in place, and a
Trainer whose fit() loops over epochs and minibatches calling grad on the model's
bound loss method."""
import numpy as np
from s2sgrad import value_and_grad


class SoftmaxRegression:
    def __init__(self, n_features, n_classes, l2=1e-3, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {'W': 0.01 * rng.randn(n_features, n_classes),
                       'b': np.zeros(n_classes)}
        self.l2 = l2

    def scores(self, X):
        return X @ self.params['W'] + self.params['b']

    def loss(self, X, y):
        s = self.scores(X)
        s = s - s.max(axis=1, keepdims=True)
        log_probs = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        nll = -np.mean(log_probs[np.arange(X.shape[0]), y])
        return nll + 0.5 * self.l2 * np.sum(self.params['W'] ** 2)


class SGD:
    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        for k in self.params:
            self.velocity[k] = self.momentum * self.velocity[k] - self.lr * grads[k]
            self.params[k] += self.velocity[k]


class Trainer:
    def __init__(self, model, optimizer, batch_size=16, epochs=10, seed=0):
        self.model = model
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.epochs = epochs
        self.rng = np.random.RandomState(seed)
        self.history = []

    def fit(self, X, y):
        loss_and_grad = value_and_grad(self.model.loss, wrt="self.params")
        for epoch in range(self.epochs):
            order = self.rng.permutation(len(X))
            total = 0.0
            for start in range(0, len(X), self.batch_size):
                idx = order[start:start + self.batch_size]
                loss, grads = loss_and_grad(X[idx], y[idx])
                self.optimizer.step(grads)
                total += loss * len(idx)
            self.history.append(total / len(X))
        return self


def problem():
    rng = np.random.RandomState(0)
    centers = rng.randn(3, 4) * 3
    y = rng.randint(3, size=60)
    X = centers[y] + rng.randn(60, 4)
    model = SoftmaxRegression(4, 3)
    trainer = Trainer(model, SGD(model.params, lr=0.05)).fit(X, y)
    assert trainer.history[-1] < 0.5 * trainer.history[0]
    fresh = SoftmaxRegression(4, 3, seed=1)
    return dict(f=fresh.loss, args=(X[:10], y[:10]), wrt="self.params", lr=0.1)
