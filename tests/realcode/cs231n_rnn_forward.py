"""CS231n: a vanilla RNN over a whole sequence (the step function called in a loop)."""
import numpy as np
from _rnn_layers import rnn_forward, rnn_backward


def rnn_check(x, h0, Wx, Wh, b, dout):
    out, cache = rnn_forward(x, h0, Wx, Wh, b)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    N, D, T, H = 2, 3, 5, 4
    x = np.random.randn(N, T, D)
    h0 = np.random.randn(N, H)
    Wx = np.random.randn(D, H)
    Wh = np.random.randn(H, H)
    b = np.random.randn(H)
    dout = np.random.randn(N, T, H)

    def reference(x, h0, Wx, Wh, b, dout):
        return rnn_backward(dout, rnn_forward(x, h0, Wx, Wh, b)[1])
    return dict(f=rnn_check, args=(x, h0, Wx, Wh, b, dout), wrt=(0, 1, 2, 3, 4),
                reference=reference)
