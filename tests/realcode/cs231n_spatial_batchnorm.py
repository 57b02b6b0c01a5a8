"""CS231n: spatial batch normalization (reshape into vanilla batchnorm)."""
import numpy as np
from _layers import spatial_batchnorm_forward, spatial_batchnorm_backward


def sbn_check(x, gamma, beta, dout, bn_param):
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    N, C, H, W = 2, 3, 4, 5
    x = 5 * np.random.randn(N, C, H, W) + 12
    gamma = np.random.randn(C)
    beta = np.random.randn(C)
    dout = np.random.randn(N, C, H, W)
    bn_param = {'mode': 'train'}

    def reference(x, gamma, beta, dout, bn_param):
        cache = spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))[1]
        return spatial_batchnorm_backward(dout, cache)
    return dict(f=sbn_check, args=(x, gamma, beta, dout, bn_param), wrt=(0, 1, 2),
                reference=reference)
