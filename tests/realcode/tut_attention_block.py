"""A transformer-style block as a class: single-head self-attention with a causal mask,
layer normalization written out, a residual MLP; the weights in self.params, the
block applied to a batch of sequences and trained to predict the next vector."""
import numpy as np


def layer_norm(x, gain, bias, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gain * (x - mu) / np.sqrt(var + eps) + bias


def softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


class Block:
    def __init__(self, d, d_ff, seed=0):
        rng = np.random.RandomState(seed)
        s = 1.0 / np.sqrt(d)
        self.params = {'Wq': rng.randn(d, d) * s, 'Wk': rng.randn(d, d) * s,
                       'Wv': rng.randn(d, d) * s, 'Wo': rng.randn(d, d) * s,
                       'g1': np.ones(d), 'b1': np.zeros(d), 'g2': np.ones(d),
                       'b2': np.zeros(d), 'W_ff1': rng.randn(d, d_ff) * s,
                       'W_ff2': rng.randn(d_ff, d) / np.sqrt(d_ff)}
        self.d = d

    def attention(self, x):
        p = self.params
        q, k, v = x @ p['Wq'], x @ p['Wk'], x @ p['Wv']
        T = x.shape[1]
        scores = q @ np.swapaxes(k, 1, 2) / np.sqrt(self.d)
        mask = np.triu(np.ones((T, T)), k=1) * -1e9
        return softmax(scores + mask) @ v @ p['Wo']

    def __call__(self, x):
        p = self.params
        h = x + self.attention(layer_norm(x, p['g1'], p['b1']))
        ff = np.maximum(0, layer_norm(h, p['g2'], p['b2']) @ p['W_ff1']) @ p['W_ff2']
        return h + ff

    def loss(self, x, target):
        return np.mean((self(x) - target) ** 2)


def problem():
    rng = np.random.RandomState(6)
    x = rng.randn(2, 5, 4)
    target = np.roll(x, -1, axis=1)
    block = Block(4, 8)
    return dict(f=block.loss, args=(x, target), wrt="self.params", lr=0.05)
