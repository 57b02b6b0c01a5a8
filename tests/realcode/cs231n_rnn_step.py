"""CS231n RNN_Captioning notebook: one vanilla RNN step."""
import numpy as np
from _rnn_layers import rnn_step_forward, rnn_step_backward


def step_check(x, h, Wx, Wh, b, dnext_h):
    out, _ = rnn_step_forward(x, h, Wx, Wh, b)
    return np.sum(out * dnext_h)


def problem():
    np.random.seed(231)
    N, D, H = 4, 5, 6
    x = np.random.randn(N, D)
    h = np.random.randn(N, H)
    Wx = np.random.randn(D, H)
    Wh = np.random.randn(H, H)
    b = np.random.randn(H)
    dnext_h = np.random.randn(N, H)

    def reference(x, h, Wx, Wh, b, dnext_h):
        return rnn_step_backward(dnext_h, rnn_step_forward(x, h, Wx, Wh, b)[1])
    return dict(f=step_check, args=(x, h, Wx, Wh, b, dnext_h), wrt=(0, 1, 2, 3, 4),
                reference=reference)
