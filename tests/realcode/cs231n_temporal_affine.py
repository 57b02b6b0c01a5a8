"""CS231n: the temporal affine layer (an affine map at every timestep)."""
import numpy as np
from _rnn_layers import temporal_affine_forward, temporal_affine_backward


def taffine_check(x, w, b, dout):
    out, _ = temporal_affine_forward(x, w, b)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    N, T, D, M = 2, 3, 4, 5
    x = np.random.randn(N, T, D)
    w = np.random.randn(D, M)
    b = np.random.randn(M)
    dout = np.random.randn(N, T, M)

    def reference(x, w, b, dout):
        return temporal_affine_backward(dout, temporal_affine_forward(x, w, b)[1])
    return dict(f=taffine_check, args=(x, w, b, dout), wrt=(0, 1, 2), reference=reference)
