"""CS231n assignment 2, FullyConnectedNets notebook: the affine layer, checked the
notebook's way (an upstream gradient dout, compared with affine_backward)."""
import numpy as np
from _layers import affine_forward, affine_backward


def affine_check(x, w, b, dout):
    out, _ = affine_forward(x, w, b)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    x = np.random.randn(10, 2, 3)
    w = np.random.randn(6, 5)
    b = np.random.randn(5)
    dout = np.random.randn(10, 5)

    def reference(x, w, b, dout):
        _, cache = affine_forward(x, w, b)
        return affine_backward(dout, cache)
    return dict(f=affine_check, args=(x, w, b, dout), wrt=(0, 1, 2), reference=reference)
