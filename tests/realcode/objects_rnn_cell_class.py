"""A recurrent model written as classes: an RNNCell object applied over time by a
SequenceModel (self.cell(x_t, h) in a loop), then a readout; differentiated with
respect to the whole model (wrt="self": the gradient has the model's attributes)."""
import numpy as np


class RNNCell:
    def __init__(self, input_size, hidden_size, rng):
        self.W_xh = rng.randn(input_size, hidden_size) / np.sqrt(input_size)
        self.W_hh = rng.randn(hidden_size, hidden_size) / np.sqrt(hidden_size)
        self.b_h = np.zeros(hidden_size)

    def __call__(self, x_t, h):
        return np.tanh(x_t @ self.W_xh + h @ self.W_hh + self.b_h)


class SequenceModel:
    def __init__(self, input_size, hidden_size, output_size, seed=0):
        rng = np.random.RandomState(seed)
        self.hidden_size = hidden_size
        self.cell = RNNCell(input_size, hidden_size, rng)
        self.W_out = rng.randn(hidden_size, output_size) / np.sqrt(hidden_size)
        self.b_out = np.zeros(output_size)

    def forward(self, xs):
        batch, steps, _ = xs.shape
        h = np.zeros((batch, self.hidden_size))
        for t in range(steps):
            h = self.cell(xs[:, t, :], h)
        return h @ self.W_out + self.b_out

    def loss(self, xs, ys):
        pred = self.forward(xs)
        return np.mean((pred - ys) ** 2)


def problem():
    rng = np.random.RandomState(1)
    model = SequenceModel(3, 5, 2)
    xs = rng.randn(4, 6, 3)
    ys = rng.randn(4, 2)
    return dict(f=SequenceModel.loss, args=(model, xs, ys), wrt="self", lr=0.1)
