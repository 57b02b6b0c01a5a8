"""CS231n: layer normalization against layernorm_backward."""
import numpy as np
from _layers import layernorm_forward, layernorm_backward


def ln_check(x, gamma, beta, dout):
    ln_param = {}
    out, cache = layernorm_forward(x, gamma, beta, ln_param)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    N, D = 4, 5
    x = 5 * np.random.randn(N, D) + 12
    gamma = np.random.randn(D)
    beta = np.random.randn(D)
    dout = np.random.randn(N, D)

    def reference(x, gamma, beta, dout):
        return layernorm_backward(dout, layernorm_forward(x, gamma, beta, {})[1])
    return dict(f=ln_check, args=(x, gamma, beta, dout), wrt=(0, 1, 2), reference=reference)
