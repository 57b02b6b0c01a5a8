"""CS231n BatchNormalization notebook: batchnorm_forward in train mode (running
averages written into bn_param) against batchnorm_backward_alt."""
import numpy as np
from _layers import batchnorm_forward, batchnorm_backward_alt


def bn_check(x, gamma, beta, dout, bn_param):
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)
    bn_param = {'mode': 'train'}

    def reference(x, gamma, beta, dout, bn_param):
        _, cache = batchnorm_forward(x, gamma, beta, dict(bn_param))
        return batchnorm_backward_alt(dout, cache)
    return dict(f=bn_check, args=(x, gamma, beta, dout, bn_param), wrt=(0, 1, 2),
                reference=reference)
