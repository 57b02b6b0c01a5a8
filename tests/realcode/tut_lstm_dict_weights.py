"""An LSTM classifier over a batch of sequences, its weights in a dict, the four gates
from one matrix product split with np.split, (h, c) carried as a tuple through the
loop, the last hidden state fed to a linear read-out."""
import numpy as np


def sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def lstm_cell(params, x_t, state):
    h, c = state
    gates = x_t @ params['W_x'] + h @ params['W_h'] + params['b']
    i, f, o, g = np.split(gates, 4, axis=1)
    i, f, o, g = sigmoid(i), sigmoid(f + 1.0), sigmoid(o), np.tanh(g)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c


def classify_loss(params, X, labels):
    N, T, D = X.shape
    H = params['W_h'].shape[0]
    state = (np.zeros((N, H)), np.zeros((N, H)))
    for t in range(T):
        state = lstm_cell(params, X[:, t, :], state)
    h_last, _ = state
    scores = h_last @ params['W_out'] + params['b_out']
    scores -= scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(N), labels])


def problem():
    rng = np.random.RandomState(4)
    N, T, D, H, C = 3, 5, 4, 6, 3
    params = {'W_x': rng.randn(D, 4 * H) * 0.2, 'W_h': rng.randn(H, 4 * H) * 0.2,
              'b': np.zeros(4 * H), 'W_out': rng.randn(H, C) * 0.2, 'b_out': np.zeros(C)}
    X = rng.randn(N, T, D)
    labels = rng.randint(C, size=N)
    return dict(f=classify_loss, args=(params, X, labels), wrt=0, lr=0.1)
