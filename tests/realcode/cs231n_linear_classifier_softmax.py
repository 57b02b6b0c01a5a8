"""CS231n assignment 1 softmax.py + linear_classifier.py: softmax_loss_naive with
explicit loops (it computes dW by hand too: that part is simply not needed), trained
by LinearClassifier.train's minibatch loop, with s2sgrad giving dW."""
from builtins import range
from builtins import object
import numpy as np
from s2sgrad import grad


def softmax_loss_naive(W, X, y, reg):
    """
    Softmax loss function, naive implementation (with loops)

    Inputs have dimension D, there are C classes, and we operate on minibatches
    of N examples.
    """
    # Initialize the loss and gradient to zero.
    loss = 0.0
    dW = np.zeros_like(W)

    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        sum_exp = np.sum(np.exp(scores))
        loss += -scores[y[i]] + np.log(sum_exp)
        for j in range(num_classes):
            p = np.exp(scores[j]) / sum_exp
            dW[:, j] += (p - (j == y[i])) * X[i]

    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W

    return loss, dW


def softmax_data_loss(W, X, y, reg):
    loss, _ = softmax_loss_naive(W, X, y, reg)
    return loss


class LinearClassifier(object):

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100,
              batch_size=200, verbose=False):
        num_train, dim = X.shape
        num_classes = np.max(y) + 1
        if self.W is None:
            # lazily initialize W
            self.W = 0.001 * np.random.randn(dim, num_classes)

        loss_grad = grad(softmax_data_loss)
        loss_history = []
        for it in range(num_iters):
            batch_indices = np.random.choice(num_train, batch_size, replace=True)
            X_batch = X[batch_indices]
            y_batch = y[batch_indices]

            loss_history.append(softmax_data_loss(self.W, X_batch, y_batch, reg))
            self.W -= learning_rate * loss_grad(self.W, X_batch, y_batch, reg)

            if verbose and it % 100 == 0:
                print('iteration %d / %d: loss %f' % (it, num_iters, loss_history[-1]))

        return loss_history


def problem():
    np.random.seed(0)
    X = np.random.randn(30, 5)
    y = np.random.randint(3, size=30)
    clf = LinearClassifier()
    history = clf.train(X, y, learning_rate=0.5, reg=1e-3, num_iters=25, batch_size=8)
    assert np.mean(history[-5:]) < np.mean(history[:5])
    W = 0.01 * np.random.randn(5, 3)
    return dict(f=softmax_data_loss, args=(W, X[:6], y[:6], 1e-2), wrt=0, lr=0.5,
                reference=lambda W, X, y, reg: softmax_loss_naive(W, X, y, reg)[1])
