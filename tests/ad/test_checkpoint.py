"""grad(f, checkpoint=...): long loops keep their state every K trips and the backward
pass recomputes each segment.  The gradient must be exactly the one without
checkpointing (the same operations in the same order), which is itself checked
against float64 central differences; a loop whose trips cannot be recomputed
faithfully (random draws, element writes, appends to the user's lists) is an error.
"""
import os

import numpy as np
import pytest

from gradcheck import numeric_grad
from s2sgrad import grad, source, value_and_grad
from s2sgrad import runtime
from s2sgrad.errors import S2SGradError

GENERIC = os.environ.get("S2SGRAD_GENERIC", "") not in ("", "0")

RNG = np.random.default_rng(7)
WH = RNG.normal(size=(4, 4)) * 0.5
WX = RNG.normal(size=(3, 4))
H0 = RNG.normal(size=(2, 4)) * 0.1


def rnn(Wh, Wx, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
        loss = loss + np.sum(h ** 2)
    return loss


def branchy(Wh, Wx, xs, h0):
    h = h0
    loss = 0.0
    c = h0 * 0.0
    for t in range(1, xs.shape[0], 2):
        a = h @ Wh + xs[t] @ Wx
        if t % 3 == 0:
            h = np.tanh(a)
        else:
            h = np.maximum(a, 0.1 * a)
        for k in range(2):
            c = c * 0.9 + np.sin(h)
        loss = loss + np.sum(h ** 2) + np.sum(c)
    return loss


def two_loops(Wh, Wx, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
    s = np.sum(h)
    g = h
    for t in range(3):
        g = np.sin(g @ Wh) * s
    return np.sum(g ** 2)


def over_rows(Wh, Wx, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(h @ Wh + x @ Wx)
    return np.sum(h * h)


def _check(f, T, checkpoint):
    xs = RNG.normal(size=(T, 2, 3))
    args = (WH, WX, xs, H0)
    plain = grad(f, wrt=(0, 1))(*args)
    got = grad(f, wrt=(0, 1), checkpoint=checkpoint)(*args)
    for i in (0, 1):
        # the same operations in the same order: equal to the last bit
        np.testing.assert_array_equal(got[i], plain[i])
        np.testing.assert_allclose(got[i], numeric_grad(f, args, i), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("checkpoint", [True, 1, 2, 3, 7, 50])
@pytest.mark.parametrize("T", [1, 7, 12])
def test_an_rnn_checkpointed(T, checkpoint):
    _check(rnn, T, checkpoint)


@pytest.mark.parametrize("checkpoint", [True, 2])
@pytest.mark.parametrize("f", [branchy, two_loops, over_rows])
def test_branches_inner_loops_and_several_loops(f, checkpoint):
    _check(f, 9, checkpoint)


def test_no_trips():
    xs = np.zeros((0, 2, 3))
    got = grad(rnn, wrt=(0, 1), checkpoint=True)(WH, WX, xs, H0)
    np.testing.assert_array_equal(got[0], np.zeros_like(WH))


def test_value_and_grad_returns_the_forward_value():
    # (the generic code pops the loss's saved values back into its name: the value
    # returned is the one the forward pass computed, on the first call and later)
    xs = RNG.normal(size=(6, 2, 3))
    f = value_and_grad(rnn)
    for _ in range(2):
        value, g = f(WH, WX, xs, H0)
        assert value == pytest.approx(rnn(WH, WX, xs, H0), rel=1e-15)
        np.testing.assert_allclose(g, numeric_grad(rnn, (WH, WX, xs, H0), 0), rtol=1e-6,
                                   atol=1e-8)


def test_value_and_grad_checkpointed():
    xs = RNG.normal(size=(10, 2, 3))
    value, g = value_and_grad(rnn, checkpoint=4)(WH, WX, xs, H0)
    assert value == pytest.approx(rnn(WH, WX, xs, H0), rel=1e-15)
    np.testing.assert_allclose(g, numeric_grad(rnn, (WH, WX, xs, H0), 0), rtol=1e-6,
                               atol=1e-8)


def test_the_recomputation_is_in_the_source():
    g = grad(rnn, checkpoint=True)
    g(WH, WX, RNG.normal(size=(16, 2, 3)), H0)
    text = source(g)
    assert "checkpoints.append(" in text
    assert "checkpoints.pop()  # back to the checkpoint" in text
    assert "recomputed, saving what the backward pass needs" in text
    if not GENERIC:
        assert "checkpoints.append(h)" in text
        # the recomputation keeps only what the backward pass needs (not the loss sum)
        recomputed = text.split("recomputed, saving")[1].split("for t in reversed")[0]
        assert "loss" not in recomputed


def test_the_saved_states_are_bounded():
    # what the gradient keeps alive at once: the checkpoints plus one segment's saves
    T = 400
    xs = RNG.normal(size=(T, 2, 3))
    g = grad(rnn, checkpoint=True)
    g(WH, WX, xs, H0)
    text = source(g)
    probe = {}
    code = text.replace("h_stack.append(h)", "h_stack.append(h); _peak(h_stack, checkpoints)")

    def _peak(stack, kept):
        probe["max"] = max(probe.get("max", 0), len(stack) + len(kept))

    namespace = dict(vars(runtime), np=np, _peak=_peak)
    exec(compile(code, "<checkpointed>", "exec"), namespace)
    namespace["rnn_grad"](WH, WX, xs, H0)
    assert probe["max"] <= 2 * int(T ** 0.5) + 1        # sqrt(T) checkpoints + sqrt(T)


def noisy(W, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + np.random.normal(size=h.shape))
    return np.sum(h)


def collects(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + xs[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def writes(W, xs, h0):
    h = h0
    out = np.zeros((xs.shape[0],) + h0.shape)
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + xs[t])
        out[t] = h
    return np.sum(out ** 2)


@pytest.mark.parametrize("f", [noisy, collects, writes])
def test_loops_that_cannot_be_recomputed_are_errors(f):
    xs = RNG.normal(size=(5, 2, 4))
    plain = grad(f)
    if f is not noisy:
        plain(WH, xs, H0)          # (differentiable without checkpointing)
    with pytest.raises(S2SGradError, match="cannot be checkpointed"):
        grad(f, checkpoint=True)(WH, xs, H0)


def test_bad_option():
    with pytest.raises(ValueError, match="checkpoint="):
        grad(rnn, checkpoint=0)
    with pytest.raises(ValueError, match="checkpoint="):
        grad(rnn, checkpoint="yes")
