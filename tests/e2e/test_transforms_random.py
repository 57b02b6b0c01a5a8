"""Randomized differential testing of the derived transforms on progen's random
NumPy programs: jvp against <grad, v>, the vjp pullback against grad, hvp against
central differences of the gradient.  ``python tests/progen.py SEED`` shows a program."""
import os
import sys

import numpy as np
import pytest

import s2sgrad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import progen  # noqa: E402

SEEDS = range(0, 600, 10)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("S2SGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tr-cache"))


def _case(seed):
    prog = progen.generate(seed)
    f = prog.function()
    try:
        grads = s2sgrad.grad(f, wrt=prog.wrt)(*prog.fresh_args())
    except s2sgrad.S2SGradError:
        pytest.skip("reverse mode refuses this program")
    args = prog.fresh_args()
    rng = np.random.RandomState(seed)
    tangents = tuple(rng.randn(*np.shape(args[i])) if isinstance(args[i], np.ndarray)
                     else float(rng.randn()) for i in prog.wrt)
    return prog, f, grads, tangents


@pytest.mark.parametrize("seed", SEEDS)
def test_jvp_and_vjp_agree_with_grad(seed):
    prog, f, grads, tangents = _case(seed)
    expected = sum(float(np.sum(np.asarray(g) * np.asarray(t))) for g, t in zip(grads, tangents))
    value, d = s2sgrad.jvp(f, wrt=prog.wrt)(*prog.fresh_args(), tangents)
    assert np.allclose(value, f(*prog.fresh_args()), rtol=1e-12, atol=1e-12), prog
    assert np.allclose(d, expected, rtol=1e-8, atol=1e-9 * max(1.0, abs(expected))), prog
    _, pullback = s2sgrad.vjp(f, wrt=prog.wrt)(*prog.fresh_args())
    for a, b in zip(pullback(1.0), grads):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12), prog


@pytest.mark.parametrize("seed", SEEDS[::2])
def test_hvp_matches_finite_differences_of_grad(seed):
    prog, f, _, tangents = _case(seed)
    hv = s2sgrad.hvp(f, wrt=prog.wrt)(*prog.fresh_args(), tangents)
    g = s2sgrad.grad(f, wrt=prog.wrt)
    eps = 1e-5
    plus, minus = list(prog.fresh_args()), list(prog.fresh_args())
    for i, t in zip(prog.wrt, tangents):
        plus[i] = plus[i] + eps * t
        minus[i] = minus[i] - eps * t
    for h, p, m in zip(hv, g(*plus), g(*minus)):
        fd = (p - m) / (2 * eps)
        assert np.allclose(h, fd, rtol=1e-4, atol=1e-5 * max(1.0, float(np.max(np.abs(fd))))), \
            prog
