"""A training script with an optimizer class holding its state (Adam's moments and
step count, created on the first step), a model class with a params dict, and a
Trainer that runs epochs over mini-batches; the loss is differentiated through the
bound method, as the trainer does it."""
import numpy as np
from s2sgrad import grad


class Adam:
    def __init__(self, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        self.t += 1
        for k in params:
            if k not in self.m:
                self.m[k] = np.zeros_like(params[k])
                self.v[k] = np.zeros_like(params[k])
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * grads[k]
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * grads[k] ** 2
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            v_hat = self.v[k] / (1 - self.beta2 ** self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Regressor:
    def __init__(self, d_in, d_hidden, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {'W1': rng.randn(d_in, d_hidden) * 0.3, 'b1': np.zeros(d_hidden),
                       'w2': rng.randn(d_hidden) * 0.3, 'b2': 0.0}
        self.l2 = 1e-3

    def predict(self, X):
        return np.tanh(X @ self.params['W1'] + self.params['b1']) @ self.params['w2'] \
            + self.params['b2']

    def loss(self, X, y):
        err = self.predict(X) - y
        reg = sum(np.sum(self.params[k] ** 2) for k in ('W1', 'w2'))
        return 0.5 * np.mean(err ** 2) + self.l2 * reg


class Trainer:
    def __init__(self, model, optimizer, batch_size=4):
        self.model, self.optimizer, self.batch_size = model, optimizer, batch_size
        self.loss_grad = grad(model.loss, wrt="self.params")
        self.history = []

    def epoch(self, X, y):
        for start in range(0, len(X), self.batch_size):
            xb, yb = X[start:start + self.batch_size], y[start:start + self.batch_size]
            grads = self.loss_grad(xb, yb)
            grads['b2'] = float(grads['b2'])
            self.optimizer.step(self.model.params, grads)
        self.history.append(self.model.loss(X, y))


def problem():
    rng = np.random.RandomState(8)
    X = rng.randn(12, 3)
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    model = Regressor(3, 5)
    trainer = Trainer(model, Adam(lr=0.05))
    for _ in range(3):
        trainer.epoch(X, y)
    assert trainer.history[-1] < trainer.history[0]
    return dict(f=model.loss, args=(X[:4], y[:4]), wrt="self.params", lr=0.05)
