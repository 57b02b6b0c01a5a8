"""A training script as tutorials write it: minibatch SGD over epochs on a linear
model, the loss a plain function of (w, b, X, y)."""
import numpy as np
from s2sgrad import value_and_grad


def mse(w, b, X, y):
    pred = X.dot(w) + b
    err = pred - y
    return np.mean(err ** 2)


def main(epochs=20, batch_size=10, lr=0.05, seed=0):
    rng = np.random.default_rng(seed)
    true_w = np.array([2.0, -3.4, 1.2])
    X = rng.normal(size=(100, 3))
    y = X @ true_w + 4.2 + 0.01 * rng.normal(size=100)
    w = np.zeros(3)
    b = 0.0
    step = value_and_grad(mse, wrt=(0, 1))
    losses = []
    for epoch in range(epochs):
        perm = rng.permutation(len(X))
        epoch_loss = 0.0
        for i in range(0, len(X), batch_size):
            batch = perm[i:i + batch_size]
            loss, (dw, db) = step(w, b, X[batch], y[batch])
            w = w - lr * dw
            b = b - lr * db
            epoch_loss += loss
        losses.append(epoch_loss)
    return w, b, losses


def problem():
    w, b, losses = main()
    assert losses[-1] < losses[0] and abs(b - 4.2) < 0.05
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 3))
    y = rng.normal(size=12)
    w0 = rng.normal(size=3)
    b0 = np.array(0.5)

    def reference(w, b, X, y):
        err = X.dot(w) + b - y
        return 2 * X.T.dot(err) / len(y), 2 * np.mean(err)
    return dict(f=mse, args=(w0, b0, X, y), wrt=(0, 1), reference=reference)
