"""CS231n: the temporal softmax loss with a mask over NULL-padded timesteps."""
import numpy as np
from _rnn_layers import temporal_softmax_loss


def tsm_loss(x, y, mask):
    loss, dx = temporal_softmax_loss(x, y, mask, verbose=False)
    return loss


def problem():
    np.random.seed(231)
    N, T, V = 7, 8, 9
    x = 0.001 * np.random.randn(N, T, V)
    y = np.random.randint(V, size=(N, T))
    mask = np.random.rand(N, T) > 0.5
    return dict(f=tsm_loss, args=(x, y, mask), wrt=0, lr=1.0,
                reference=lambda x, y, mask: temporal_softmax_loss(x, y, mask)[1])
