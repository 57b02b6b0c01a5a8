"""The compiler's entry points pause the cyclic garbage collector and restore it."""
import gc

import numpy as np
import pytest

import s2sgrad
from s2sgrad.ad.gcpause import gc_paused
from s2sgrad.ad.pipeline import generate_gradient


def _model(x, y):
    return np.sum(np.tanh(x) * y)


def test_collection_is_paused_during_generation_and_resumed_after():
    seen = []

    @gc_paused
    def step():
        seen.append(gc.isenabled())
        return 7

    assert gc.isenabled()
    assert step() == 7
    assert seen == [False] and gc.isenabled()


def test_collection_is_resumed_when_generation_raises():
    @gc_paused
    def step():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        step()
    assert gc.isenabled()


def test_a_collector_the_caller_disabled_stays_disabled():
    @gc_paused
    def step():
        return gc.isenabled()

    gc.disable()
    try:
        assert step() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_generation_leaves_the_collector_enabled_and_the_gradient_right():
    x, y = np.linspace(-1.0, 1.0, 5), np.arange(5.0)
    gen = generate_gradient(_model, (0,), "grad", (x, y))
    assert gc.isenabled()
    (gx,) = gen.function(x, y)
    np.testing.assert_allclose(gx, y * (1.0 - np.tanh(x) ** 2), rtol=1e-13, atol=0)


def test_failed_generation_leaves_the_collector_enabled():
    def unsupported(x):
        global _G
        _G = x
        return x

    with pytest.raises(s2sgrad.errors.S2SGradError):
        s2sgrad.grad(unsupported)(1.0)
    assert gc.isenabled()
