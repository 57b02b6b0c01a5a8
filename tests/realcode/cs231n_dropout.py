"""CS231n Dropout notebook: inverted dropout with a seed, as the gradient check does."""
import numpy as np
from _layers import dropout_forward, dropout_backward


def dropout_check(x, dout, dropout_param):
    out, cache = dropout_forward(x, dropout_param)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    x = np.random.randn(10, 10) + 10
    dout = np.random.randn(*x.shape)
    dropout_param = {'mode': 'train', 'p': 0.2, 'seed': 123}

    def reference(x, dout, dropout_param):
        return dropout_backward(dout, dropout_forward(x, dropout_param)[1])
    return dict(f=dropout_check, args=(x, dout, dropout_param), wrt=0, reference=reference)
