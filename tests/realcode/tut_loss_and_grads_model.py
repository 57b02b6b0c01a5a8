"""A tutorial-style model: weights in self.params, loss(X, y) returning (loss, grads)
with the gradients computed by hand next to the loss (the CS231n / blog-post style).
The user differentiates the loss part of their own method; their hand-written grads
are the reference."""
import numpy as np


class SoftmaxMLP(object):
    def __init__(self, input_dim, hidden_dim, num_classes, reg=0.0, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {
            'W1': 0.1 * rng.randn(input_dim, hidden_dim), 'b1': np.zeros(hidden_dim),
            'W2': 0.1 * rng.randn(hidden_dim, num_classes), 'b2': np.zeros(num_classes),
        }
        self.reg = reg

    def loss(self, X, y):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N = X.shape[0]
        z1 = X.dot(W1) + b1
        a1 = np.maximum(0, z1)
        scores = a1.dot(W2) + b2
        scores -= np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(scores)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads['W2'] = a1.T.dot(dscores) + self.reg * W2
        grads['b2'] = np.sum(dscores, axis=0)
        da1 = dscores.dot(W2.T)
        da1[z1 <= 0] = 0
        grads['W1'] = X.T.dot(da1) + self.reg * W1
        grads['b1'] = np.sum(da1, axis=0)
        return loss, grads


def data_loss(model, X, y):
    loss, _ = model.loss(X, y)
    return loss


def problem():
    rng = np.random.RandomState(1)
    X = rng.randn(9, 6)
    y = rng.randint(3, size=9)
    model = SoftmaxMLP(6, 10, 3, reg=0.05)
    return dict(f=data_loss, args=(model, X, y), wrt="model.params",
                reference=lambda model, X, y: model.loss(X, y)[1], lr=0.1)
