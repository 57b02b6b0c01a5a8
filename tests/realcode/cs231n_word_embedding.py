"""CS231n: word embedding lookup W[x] (its backward uses np.add.at)."""
import numpy as np
from _rnn_layers import word_embedding_forward, word_embedding_backward


def embed_check(x, W, dout):
    out, _ = word_embedding_forward(x, W)
    return np.sum(out * dout)


def problem():
    np.random.seed(231)
    N, T, V, D = 50, 3, 5, 6
    x = np.random.randint(V, size=(N, T))
    W = np.random.randn(V, D)
    dout = np.random.randn(N, T, D)

    def reference(x, W, dout):
        return word_embedding_backward(dout, word_embedding_forward(x, W)[1])
    return dict(f=embed_check, args=(x, W, dout), wrt=1, reference=reference, lr=1e-3)
