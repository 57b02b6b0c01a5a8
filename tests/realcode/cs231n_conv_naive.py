"""CS231n ConvolutionalNetworks notebook: the naive convolution (four nested loops)."""
import numpy as np
from _layers import conv_forward_naive, conv_backward_naive


def conv_check(x, w, b, dout, conv_param):
    out, _ = conv_forward_naive(x, w, b, conv_param)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    x = np.random.randn(2, 2, 4, 4)
    w = np.random.randn(2, 2, 3, 3)
    b = np.random.randn(2,)
    dout = np.random.randn(2, 2, 2, 2)
    conv_param = {'stride': 2, 'pad': 1}

    def reference(x, w, b, dout, conv_param):
        return conv_backward_naive(dout, conv_forward_naive(x, w, b, conv_param)[1])
    return dict(f=conv_check, args=(x, w, b, dout, conv_param), wrt=(0, 1, 2),
                reference=reference)
