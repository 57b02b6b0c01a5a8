"""Writes into arrays: y[i] = v, y[:, j] = v, y[mask] = 0, buffers from np.zeros /
zeros_like / empty, the RNN pattern h[t + 1] = f(h[t]), and writes into arguments."""
import numpy as np
import pytest

from s2sgrad import grad
from gradcheck import check_grad

rng = np.random.default_rng(11)


def rnn_loss(inputs, W, U, b):
    T = inputs.shape[0]
    h = np.zeros((T + 1, inputs.shape[1], U.shape[0]))
    for t in range(T):
        h[t + 1] = np.tanh(np.dot(inputs[t], W) + np.dot(h[t], U) + b)
    return np.sum(h[T] * h[T]) + 0.1 * np.sum(h)


def rnn_bptt(inputs, W, U, b):
    """Hand-written backpropagation through time for rnn_loss."""
    T = inputs.shape[0]
    h = np.zeros((T + 1, inputs.shape[1], U.shape[0]))
    for t in range(T):
        h[t + 1] = np.tanh(inputs[t] @ W + h[t] @ U + b)
    dh = np.full(h.shape, 0.1)
    dh[T] += 2.0 * h[T]
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    dinputs = np.zeros_like(inputs)
    for t in reversed(range(T)):
        dz = dh[t + 1] * (1.0 - h[t + 1] ** 2)
        dW += inputs[t].T @ dz
        dU += h[t].T @ dz
        db += dz.sum(axis=0)
        dinputs[t] = dz @ W.T
        dh[t] += dz @ U.T
    return dinputs, dW, dU, db


def test_rnn_100_steps_matches_hand_written_bptt():
    T, B, D, H = 100, 32, 16, 128
    inputs = rng.normal(size=(T, B, D))
    W = rng.normal(size=(D, H)) / np.sqrt(D)
    U = rng.normal(size=(H, H)) * 0.5 / np.sqrt(H)
    b = rng.normal(size=H) * 0.1
    got = grad(rnn_loss, wrt=(0, 1, 2, 3))(inputs, W, U, b)
    want = rnn_bptt(inputs, W, U, b)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)


def test_rnn_small_against_finite_differences():
    inputs = rng.normal(size=(4, 2, 3))
    W, U, b = rng.normal(size=(3, 5)) * 0.5, rng.normal(size=(5, 5)) * 0.5, rng.normal(size=5)
    check_grad(rnn_loss, (inputs, W, U, b), wrt=(0, 1, 2, 3))


def test_rnn_generated_code_is_a_loop_with_stacks():
    inputs = rng.normal(size=(4, 2, 3))
    W, U, b = rng.normal(size=(3, 5)), rng.normal(size=(5, 5)), rng.normal(size=5)
    g = grad(rnn_loss, wrt=(1, 2))
    g(inputs, W, U, b)
    src = g.source
    assert "for t in range(T):" in src and "reversed(range(T))" in src
    assert "h[t + 1] = " in src


def element_writes(x, a):
    y = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = np.sin(x[i]) * a
    return np.sum(y * y)


def column_writes(X, a):
    Y = np.zeros_like(X)
    for j in range(X.shape[1]):
        Y[:, j] = X[:, j] * a + j
    Y[0] = a              # a scalar broadcast over a row
    return np.sum(Y * X)


def empty_buffer(x):
    y = np.empty((2, x.shape[0]))
    y[0] = x * x
    y[1] = np.exp(x)
    return np.sum(y[0] * y[1])


def mask_write(x):
    y = x * 2.0
    mask = x > 0.2
    y[mask] = 0
    return np.sum(y * x)


def overwrite_argument(x, a, b):
    x[0] = a * b
    return np.sum(x * x)


def overwrite_read_then_write(x):
    y = np.zeros(3)
    y[0] = x[0]
    s = y[0] * y[0]        # reads the written value
    y[0] = s * x[1]        # overwrites it: the old value is needed by the adjoint of s
    return np.sum(y) + s


def write_in_branch(x, flag):
    y = x * 1.0
    if flag > 0:
        y[1:] = np.cos(x[1:])
    else:
        y[0] = 3.0
    return np.sum(y * y)


def test_element_writes_in_a_loop():
    check_grad(element_writes, (rng.normal(size=5), 0.7), wrt=(0, 1))


def test_column_writes_and_broadcast_scalar():
    check_grad(column_writes, (rng.normal(size=(3, 4)), 0.7), wrt=(0, 1))


def test_empty_buffer():
    check_grad(empty_buffer, (rng.normal(size=4),))


def test_mask_write():
    check_grad(mask_write, (rng.normal(size=6),))


def test_write_into_argument_differentiates_the_original_value():
    x = rng.normal(size=4)
    gx, ga, gb = grad(overwrite_argument, wrt=(0, 1, 2))(x.copy(), 0.5, 1.5)
    want = 2.0 * x
    want[0] = 0.0
    np.testing.assert_allclose(gx, want, rtol=1e-12)
    assert abs(ga - 2 * 0.5 * 1.5 * 1.5) < 1e-12 and abs(gb - 2 * 0.5 * 1.5 * 0.5) < 1e-12


def test_reading_then_overwriting_an_element():
    check_grad(overwrite_read_then_write, (rng.normal(size=3),))


@pytest.mark.parametrize("flag", [1.0, -1.0])
def test_write_inside_a_branch(flag):
    check_grad(write_in_branch, (rng.normal(size=4), flag))


def test_gradient_function_does_not_mutate_arguments_it_only_reads():
    x = rng.normal(size=5)
    before = x.copy()
    grad(element_writes, wrt=(0, 1))(x, 0.3)
    grad(mask_write)(x)
    assert np.array_equal(x, before)


def lstm_like(x, Wf, Wi):
    T = x.shape[0]
    c = np.zeros(Wf.shape[1])
    cs = np.zeros((T, Wf.shape[1]))
    for t in range(T):
        f = 1.0 / (1.0 + np.exp(-np.dot(x[t], Wf)))
        i = np.tanh(np.dot(x[t], Wi))
        c = f * c + i
        cs[t] = c
    return np.sum(cs ** 2)


def test_gated_recurrence_writing_a_state_buffer():
    check_grad(lstm_like, (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)),
                           rng.normal(size=(3, 2))), wrt=(0, 1, 2))


def rnn_with_a_named_row(x, U):
    h = np.zeros((x.shape[0] + 1, U.shape[0]))
    for t in range(x.shape[0]):
        prev = h[t]                      # a view of h, re-assigned every trip
        h[t + 1] = np.tanh(np.dot(prev, U) + x[t])
    return np.sum(h)


def write_through_a_view(x):
    y = x * 1.0
    v = y[0:2]
    y[0] = 5.0                            # changes v too
    return np.sum(v * x[0:2])


def test_named_row_views_in_a_loop_are_fine():
    check_grad(rnn_with_a_named_row, (rng.normal(size=(3, 2)), rng.normal(size=(2, 2))),
               wrt=(0, 1))


def test_write_seen_through_a_view_is_rejected():
    from s2sgrad.errors import UnsupportedSyntaxError
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(write_through_a_view)(rng.normal(size=3))
    msg = str(info.value)
    assert "'v'" in msg and "test_array_writes.py" in msg and "y = y.copy()" in msg


# -- an advanced index naming an element twice: y keeps the last value written ------------

def repeated_add(x, v):
    y = x * 1.0
    y[[0, 0, 2]] += v                # NumPy buffers: y[0] = x[0] + v[1]
    return np.sum(y * y)


def repeated_set(x, v, idx):
    y = x * 1.0
    y[idx] = v * 2.0                 # idx = [1, 3, 1]: v[2] lands in y[1], v[0] does not
    return np.sum(y ** 3)


def repeated_rows(a, r):
    y = a * 1.0
    y[[1, 1], :] = r
    return np.sum(np.sin(y))


def test_repeated_indices_give_the_gradient_to_the_last_write():
    rng = np.random.default_rng(4)
    x, v3 = rng.normal(size=4), rng.normal(size=3)
    check_grad(repeated_add, (x, v3), wrt=(0, 1))
    gx, gv = grad(repeated_add, wrt=(0, 1))(x, v3)
    y = x.copy()
    y[[0, 0, 2]] += v3
    np.testing.assert_allclose(gv, [0.0, 2.0 * y[0], 2.0 * y[2]], rtol=1e-15)
    check_grad(repeated_set, (x, v3, np.array([1, 3, 1])), wrt=(0, 1))
    check_grad(repeated_rows, (rng.normal(size=(3, 2)), rng.normal(size=(2, 2))), wrt=(0, 1))


def test_writes_through_views_and_attributes_are_rejected():
    import s2sgrad

    def through_flat(x):
        y = x * 1.0
        y.flat[1] = x[0] * 5.0
        return np.sum(y * y)

    def through_transpose(x):
        y = x.reshape(2, 2) * 1.0
        y.T[0] = x[:2]
        return np.sum(y * y)

    for f, what in ((through_flat, "y.flat"), (through_transpose, "y.T")):
        with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="writing into '%s'" % what):
            grad(f)(np.array([0.5, -1.0, 2.0, 0.7]))
