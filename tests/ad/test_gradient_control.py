"""Gradient surgery: stop_gradient and grad_of blocks in the backward pass."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, grad_of, jvp, stop_gradient


# -- stop_gradient ------------------------------------------------------------------


def with_stop(x):
    return np.sum(x * stop_gradient(x)) + np.sum(stop_gradient(np.sin(x)) * 2.0)


def test_stop_gradient_value_passes_gradient_stops():
    x = np.array([0.3, -1.2, 2.0])
    assert with_stop(x) == pytest.approx(np.sum(x * x) + 2.0 * np.sum(np.sin(x)))
    assert np.array_equal(grad(with_stop)(x), x)          # only the unstopped factor


def test_stop_gradient_in_forward_mode():
    x = np.array([0.3, -1.2, 2.0])
    t = np.array([1.0, 2.0, 3.0])
    _, d = jvp(with_stop)(x, t)
    assert d == pytest.approx(np.sum(x * t), rel=1e-14)


def semi_gradient(w, x, target):
    # TD-style loss: the bootstrapped target does not get a gradient
    pred = np.dot(w, x)
    boot = stop_gradient(np.dot(w, target))
    return 0.5 * (pred - boot) ** 2


def test_stop_gradient_semi_gradient_loss():
    rng = np.random.RandomState(0)
    w, x, tgt = rng.randn(4), rng.randn(4), rng.randn(4)
    expected = (np.dot(w, x) - np.dot(w, tgt)) * x
    assert np.allclose(grad(semi_gradient)(w, x, tgt), expected, rtol=1e-14)


# -- grad_of -------------------------------------------------------------------------


def rnn_loss(W, V, xs, h):
    s = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        with s2sgrad.grad_of(h) as g:
            g = np.clip(g, -0.05, 0.05)
        s = s + np.sum(V @ h)
    return s


def rnn_loss_plain(W, V, xs, h):
    s = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        s = s + np.sum(V @ h)
    return s


def hand_bptt(W, V, xs, h0, clip):
    hs = [h0]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + xs[t]))
    gW, gV = np.zeros_like(W), np.zeros_like(V)
    gh = np.zeros_like(h0)
    ones = np.ones(V.shape[0])
    for t in reversed(range(xs.shape[0])):
        h, h_prev = hs[t + 1], hs[t]
        gh = gh + V.T @ ones           # direct use of h_t in the loss
        gV += np.outer(ones, h)
        if clip is not None:
            gh = np.clip(gh, -clip, clip)
        ga = gh * (1.0 - h * h)
        gW += np.outer(ga, h_prev)
        gh = W.T @ ga
    return gW, gV, gh


def _rnn_args(seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(3, 3) * 0.8, rng.randn(2, 3), rng.randn(6, 3), rng.randn(3)


def test_grad_of_clipping_matches_hand_clipped_bptt():
    W, V, xs, h0 = _rnn_args()
    gW, gV, gh0 = grad(rnn_loss, wrt=(0, 1, 3))(W, V, xs, h0)
    eW, eV, eh0 = hand_bptt(W, V, xs, h0, clip=0.05)
    assert np.allclose(gW, eW, rtol=1e-13, atol=1e-15)
    assert np.allclose(gV, eV, rtol=1e-13, atol=1e-15)
    assert np.allclose(gh0, eh0, rtol=1e-13, atol=1e-15)


def test_grad_of_changes_exactly_the_gradients_it_should():
    W, V, xs, h0 = _rnn_args(1)
    clipped = grad(rnn_loss, wrt=(0, 1, 3))(W, V, xs, h0)
    plain = grad(rnn_loss_plain, wrt=(0, 1, 3))(W, V, xs, h0)
    # the clip binds: gradients flowing back through h change ...
    assert not np.allclose(clipped[0], plain[0])
    assert not np.allclose(clipped[2], plain[2])
    # ... the readout's gradient does not pass through h's gradient: unchanged
    assert np.allclose(clipped[1], plain[1], rtol=1e-14, atol=0)
    # and the unclipped hand-written BPTT is the plain gradient
    eW, eV, eh0 = hand_bptt(W, V, xs, h0, clip=None)
    assert np.allclose(plain[0], eW, rtol=1e-13) and np.allclose(plain[2], eh0, rtol=1e-13)


def test_grad_of_code_appears_verbatim_in_the_backward_pass():
    W, V, xs, h0 = _rnn_args()
    g = grad(rnn_loss)
    g(W, V, xs, h0)
    src = g.source
    forward, backward = src.split("# Backward pass")
    assert "g = np.clip(g, -0.05, 0.05)" in backward
    assert "np.clip" not in forward
    lines = [l.strip() for l in backward.splitlines()]
    k = lines.index("g = np.clip(g, -0.05, 0.05)")
    assert lines[k - 1].startswith("g = np.array(grad_h)")     # entry: h's full gradient
    # next: the adjoint of the tanh that produced h, reading the block's g
    after = " ".join(lines[k + 1:k + 3])
    assert "(1.0 - h * h)" in after and ("g * (1.0 - h * h)" in after or "grad_h = g" in after)
    assert backward.count(" in reversed(") == 1       # one reversed loop (over h_stack)
    loop = backward.index(" in reversed(")
    assert backward.index("g = np.clip(g, -0.05, 0.05)") > loop


def test_function_with_grad_of_still_runs_normally():
    W, V, xs, h0 = _rnn_args()
    assert rnn_loss(W, V, xs, h0) == pytest.approx(rnn_loss_plain(W, V, xs, h0), rel=1e-15)


def test_forward_mode_ignores_grad_of():
    W, V, xs, h0 = _rnn_args()
    D = np.random.RandomState(3).randn(3, 3)
    _, a = jvp(rnn_loss)(W, V, xs, h0, D)
    _, b = jvp(rnn_loss_plain)(W, V, xs, h0, D)
    assert a == pytest.approx(b, rel=1e-14)


def scale_grad(x):
    y = np.sin(x)
    with grad_of(y) as gy:
        gy = gy * 10.0
    return np.sum(y * y)


def test_grad_of_straight_line_and_vjp():
    x = np.array([0.1, 0.7, -0.4])
    expected = 10.0 * 2.0 * np.sin(x) * np.cos(x)
    assert np.allclose(grad(scale_grad)(x), expected, rtol=1e-14)
    _, pullback = s2sgrad.vjp(scale_grad)(x)
    assert np.allclose(pullback(1.0), expected, rtol=1e-14)


def reassigned(x):
    h = x * 2.0
    h = np.sin(h)
    with grad_of(h) as g:
        g = g * (h > 0.0)          # reads the current h (the trace calls it h_1)
    return np.sum(h * 3.0)


def test_grad_of_reads_the_current_version_of_a_reassigned_variable():
    x = np.array([0.5, 2.0, -0.4])
    h = np.sin(2.0 * x)
    expected = 3.0 * (h > 0.0) * np.cos(2.0 * x) * 2.0
    assert np.allclose(grad(reassigned)(x), expected, rtol=1e-14)
