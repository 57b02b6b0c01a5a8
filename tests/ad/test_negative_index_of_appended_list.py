"""``hs[-1]`` read from a list the loop appends to (an RNN's hidden states): the item
is the last one *at the time of the read*; the backward pass, where the list is
restored step by step, sends the gradient there (it went to the final last item:
a silently wrong gradient). Checked against finite differences."""
import numpy as np
import pytest

from gradcheck import check_grad

rng = np.random.default_rng(21)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rnn_last(W, x, h0):
    hs = [h0]
    for t in range(3):
        h = np.tanh(x @ W + hs[-1])
        hs.append(h)
    return np.sum(hs[-1] ** 2)


def gated(W, x, h0):
    hs = [h0]
    for t in range(4):
        z = sigmoid(x @ W + hs[-1])
        hs.append((1 - z) * hs[-1] + z * np.tanh(x))
    return np.sum(hs[-1] ** 2) + np.sum(hs[-2])


def read_into_a_name(W, x, h0):
    hs = [h0]
    for t in range(3):
        prev = hs[-1]
        hs.append(prev * 0.5 + x @ W)
    return np.sum(hs[-1] ** 2) + np.sum(hs[1] * hs[-3])


@pytest.mark.parametrize("f", [rnn_last, gated, read_into_a_name])
def test_negative_index_of_a_list_appended_in_a_loop(f):
    check_grad(f, (rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)),
               wrt=(0, 1, 2))
