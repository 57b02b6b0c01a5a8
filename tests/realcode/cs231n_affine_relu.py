"""CS231n layer_utils: the affine - relu sandwich layer."""
import numpy as np
from _layers import affine_forward, affine_backward, relu_forward, relu_backward


def affine_relu_forward(x, w, b):
    """Convenience layer that performs an affine transform followed by a ReLU."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def sandwich_check(x, w, b, dout):
    out, cache = affine_relu_forward(x, w, b)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    x = np.random.randn(2, 3, 4)
    w = np.random.randn(12, 10)
    b = np.random.randn(10)
    dout = np.random.randn(2, 10)

    def reference(x, w, b, dout):
        return affine_relu_backward(dout, affine_relu_forward(x, w, b)[1])
    return dict(f=sandwich_check, args=(x, w, b, dout), wrt=(0, 1, 2), reference=reference)
