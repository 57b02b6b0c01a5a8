"""CS231n: naive max pooling."""
import numpy as np
from _layers import max_pool_forward_naive, max_pool_backward_naive


def pool_check(x, dout, pool_param):
    out, _ = max_pool_forward_naive(x, pool_param)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    x = np.random.randn(2, 2, 4, 4)
    dout = np.random.randn(2, 2, 2, 2)
    pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

    def reference(x, dout, pool_param):
        return max_pool_backward_naive(dout, max_pool_forward_naive(x, pool_param)[1])
    return dict(f=pool_check, args=(x, dout, pool_param), wrt=0, reference=reference)
