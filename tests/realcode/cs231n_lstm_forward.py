"""CS231n: an LSTM over a whole sequence."""
import numpy as np
from _rnn_layers import lstm_forward, lstm_backward


def lstm_check(x, h0, Wx, Wh, b, dout):
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    return np.sum(h * dout)


def problem():
    np.random.seed(231)
    N, D, T, H = 2, 3, 4, 5
    x = np.random.randn(N, T, D)
    h0 = np.random.randn(N, H)
    Wx = np.random.randn(D, 4 * H)
    Wh = np.random.randn(H, 4 * H)
    b = np.random.randn(4 * H)
    dout = np.random.randn(N, T, H)

    def reference(x, h0, Wx, Wh, b, dout):
        return lstm_backward(dout, lstm_forward(x, h0, Wx, Wh, b)[1])
    return dict(f=lstm_check, args=(x, h0, Wx, Wh, b, dout), wrt=(0, 1, 2, 3, 4),
                reference=reference)
