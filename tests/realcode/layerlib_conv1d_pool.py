"""A 1-D convolutional layer library written with loops, as in a from-scratch
tutorial: Conv1D with forward/backward methods over (N, C, L) signals, MaxPool1D
remembering its argmax, a Dense head; the library's own backward is the reference."""
import numpy as np


class Conv1D:
    def __init__(self, c_in, c_out, k, rng):
        self.w = rng.randn(c_out, c_in, k) * 0.3
        self.b = np.zeros(c_out)

    def forward(self, x):
        N, C, L = x.shape
        F, _, K = self.w.shape
        out = np.zeros((N, F, L - K + 1))
        for i in range(L - K + 1):
            window = x[:, :, i:i + K]
            out[:, :, i] = np.tensordot(window, self.w, axes=([1, 2], [1, 2])) + self.b
        self.x = x
        return out

    def backward(self, dout):
        x = self.x
        K = self.w.shape[2]
        self.dw = np.zeros_like(self.w)
        self.db = dout.sum(axis=(0, 2))
        dx = np.zeros_like(x)
        for i in range(dout.shape[2]):
            self.dw += np.tensordot(dout[:, :, i], x[:, :, i:i + K], axes=([0], [0]))
            dx[:, :, i:i + K] += np.tensordot(dout[:, :, i], self.w, axes=([1], [0]))
        return dx


class MaxPool1D:
    def __init__(self, size):
        self.size = size

    def forward(self, x):
        N, C, L = x.shape
        s = self.size
        out = np.zeros((N, C, L // s))
        for j in range(L // s):
            out[:, :, j] = x[:, :, j * s:(j + 1) * s].max(axis=2)
        self.x, self.out = x, out
        return out

    def backward(self, dout):
        s = self.size
        dx = np.zeros_like(self.x)
        for j in range(dout.shape[2]):
            window = self.x[:, :, j * s:(j + 1) * s]
            hit = window == self.out[:, :, j][:, :, None]
            dx[:, :, j * s:(j + 1) * s] += hit * dout[:, :, j][:, :, None]
        return dx


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.randn(n_in, n_out) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class ConvNet:
    def __init__(self, seed=0):
        rng = np.random.RandomState(seed)
        self.conv = Conv1D(2, 3, 3, rng)
        self.pool = MaxPool1D(2)
        self.head = Dense(3 * 3, 1, rng)

    def loss(self, x, y):
        h = np.maximum(self.conv.forward(x), 0)
        h = self.pool.forward(h)
        pred = self.head.forward(h.reshape(h.shape[0], -1))[:, 0]
        self.pred, self.relu_mask = pred, None
        return 0.5 * np.mean((pred - y) ** 2)

    def gradients(self, x, y):
        pre = self.conv.forward(x)
        h = np.maximum(pre, 0)
        p = self.pool.forward(h)
        pred = self.head.forward(p.reshape(p.shape[0], -1))[:, 0]
        dpred = (pred - y) / len(y)
        dp = self.head.backward(dpred[:, None]).reshape(p.shape)
        dh = self.pool.backward(dp) * (pre > 0)
        self.conv.backward(dh)
        return {'conv': {'w': self.conv.dw, 'b': self.conv.db},
                'head': {'W': self.head.dW, 'b': self.head.db}}


def problem():
    rng = np.random.RandomState(9)
    x = rng.randn(4, 2, 8)
    y = rng.randn(4)
    net = ConvNet()
    return dict(f=net.loss, args=(x, y), wrt=("self.conv", "self.head"),
                reference=lambda x, y: tuple(net.gradients(x, y)[k] for k in ('conv', 'head')),
                lr=0.05)
