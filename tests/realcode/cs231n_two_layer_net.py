"""CS231n assignment 2 (2017) fc_net.py TwoLayerNet: self.params, self.reg, a
loss(X, y) method calling the layer library; differentiated as model.loss with
wrt="self.params" and compared with the course's own backward (loss_and_grads)."""
from builtins import object
import numpy as np

from _layers import affine_forward, affine_backward, relu_forward, relu_backward, softmax_loss


def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


class TwoLayerNet(object):
    """
    A two-layer fully-connected neural network with ReLU nonlinearity and
    softmax loss that uses a modular layer design. We assume an input dimension
    of D, a hidden dimension of H, and perform classification over C classes.

    The architecure should be affine - relu - affine - softmax.
    """

    def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
        self.params['W1'] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params['b1'] = np.zeros(hidden_dim)
        self.params['W2'] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params['b2'] = np.zeros(num_classes)

    def loss(self, X, y=None):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        hidden, cache_hidden = affine_relu_forward(X, W1, b1)
        scores, cache_scores = affine_forward(hidden, W2, b2)

        # If y is None then we are in test mode so just return scores
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        loss = data_loss + reg_loss
        return loss

    def loss_and_grads(self, X, y):
        """The course's version: forward, then the backward pass by hand."""
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        hidden, cache_hidden = affine_relu_forward(X, W1, b1)
        scores, cache_scores = affine_forward(hidden, W2, b2)
        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        loss = data_loss + reg_loss
        grads = {}
        dhidden, grads['W2'], grads['b2'] = affine_backward(dscores, cache_scores)
        dX, grads['W1'], grads['b1'] = affine_relu_backward(dhidden, cache_hidden)
        grads['W2'] += self.reg * W2
        grads['W1'] += self.reg * W1
        return loss, grads


def problem():
    np.random.seed(231)
    N, D, H, C = 3, 5, 50, 7
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-1,
                        reg=0.7)
    return dict(f=model.loss, args=(X, y), wrt="self.params", lr=1e-2,
                reference=lambda X, y: model.loss_and_grads(X, y)[1])
