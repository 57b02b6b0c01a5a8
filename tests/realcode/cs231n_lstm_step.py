"""CS231n LSTM_Captioning notebook: one LSTM step (numerically stable sigmoid with
masked writes)."""
import numpy as np
from _rnn_layers import lstm_step_forward, lstm_step_backward


def lstm_step_check(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c):
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    return np.sum(next_h * dnext_h) + np.sum(next_c * dnext_c)


def problem():
    np.random.seed(231)
    N, D, H = 4, 5, 6
    x = np.random.randn(N, D)
    prev_h = np.random.randn(N, H)
    prev_c = np.random.randn(N, H)
    Wx = np.random.randn(D, 4 * H)
    Wh = np.random.randn(H, 4 * H)
    b = np.random.randn(4 * H)
    dnext_h = np.random.randn(N, H)
    dnext_c = np.random.randn(N, H)

    def reference(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c):
        cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[2]
        dx, dh, dc, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
        return dx, dh, dc, dWx, dWh, db
    return dict(f=lstm_step_check, args=(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c),
                wrt=(0, 1, 2, 3, 4, 5), reference=reference)
