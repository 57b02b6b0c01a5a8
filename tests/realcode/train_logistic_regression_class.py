"""A scikit-learn-flavoured estimator: fit() runs epochs of minibatch gradient descent
on its own coef_ / intercept_, with s2sgrad on the bound method (wrt attribute paths)."""
import numpy as np
from s2sgrad import grad


class LogisticRegressionGD:
    def __init__(self, lr=0.1, n_epochs=10, batch_size=8, alpha=1e-3, random_state=0):
        self.lr = lr
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.random_state = random_state

    def _loss(self, X, y):
        z = X @ self.coef_ + self.intercept_
        # log(1 + exp(-y z)) written stably
        margins = -y * z
        return np.mean(np.logaddexp(0.0, margins)) + 0.5 * self.alpha * np.sum(self.coef_ ** 2)

    def fit(self, X, y):
        rng = np.random.RandomState(self.random_state)
        n_samples, n_features = X.shape
        self.coef_ = np.zeros(n_features)
        self.intercept_ = np.zeros(1)
        self.loss_curve_ = []
        loss_grad = grad(self._loss, wrt=("self.coef_", "self.intercept_"))
        for epoch in range(self.n_epochs):
            order = rng.permutation(n_samples)
            for start in range(0, n_samples, self.batch_size):
                idx = order[start:start + self.batch_size]
                g_coef, g_intercept = loss_grad(X[idx], y[idx])
                self.coef_ -= self.lr * g_coef
                self.intercept_ -= self.lr * g_intercept
            self.loss_curve_.append(self._loss(X, y))
        return self

    def predict(self, X):
        return np.where(X @ self.coef_ + self.intercept_ > 0, 1, -1)


def problem():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) + 0.3 > 0, 1.0, -1.0)
    model = LogisticRegressionGD(n_epochs=5).fit(X, y)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert np.mean(model.predict(X) == y) > 0.8

    def reference(X, y):
        z = X @ model.coef_ + model.intercept_
        s = 1.0 / (1.0 + np.exp(y * z))
        d = -y * s / len(y)
        return X.T @ d + model.alpha * model.coef_, np.array([np.sum(d)])
    return dict(f=model._loss, args=(X[:8], y[:8]), wrt=("self.coef_", "self.intercept_"),
                reference=reference, lr=0.1)
