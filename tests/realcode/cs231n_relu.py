"""CS231n: ReLU layer against relu_backward."""
import numpy as np
from _layers import relu_forward, relu_backward


def relu_check(x, dout):
    out, _ = relu_forward(x)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    x = np.random.randn(10, 10)
    dout = np.random.randn(*x.shape)
    return dict(f=relu_check, args=(x, dout), wrt=0,
                reference=lambda x, dout: relu_backward(dout, relu_forward(x)[1]))
