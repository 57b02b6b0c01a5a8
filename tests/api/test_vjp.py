"""Split-mode reverse (vjp): the pullback runs only the backward sweep."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import vjp


def fd_vjp(f, args, i, cotangent, eps=1e-6):
    """Gradient of <cotangent, f(args)> w.r.t. argument i, by central differences."""
    def scalar(*a):
        out = f(*a)
        if isinstance(out, tuple):
            return sum(np.sum(np.asarray(c) * np.asarray(o)) for c, o in zip(cotangent, out))
        return np.sum(np.asarray(cotangent) * np.asarray(out))
    x = np.array(args[i], dtype=float)
    g = np.zeros_like(x)
    for k in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[k] += eps
        xm.flat[k] -= eps
        ap, am = list(args), list(args)
        ap[i], am[i] = (xp if x.ndim else float(xp)), (xm if x.ndim else float(xm))
        g.flat[k] = (scalar(*ap) - scalar(*am)) / (2 * eps)
    return g


def layer(W, x):
    return np.tanh(W @ x) * 2.0


def test_nonscalar_output_pullback():
    rng = np.random.RandomState(0)
    W, x, ct = rng.randn(3, 4), rng.randn(4), rng.randn(3)
    value, pullback = vjp(layer, wrt=(0, 1))(W, x)
    assert np.allclose(value, layer(W, x))
    gW, gx = pullback(ct)
    assert np.allclose(gW, fd_vjp(layer, (W, x), 0, ct), rtol=1e-7, atol=1e-9)
    assert np.allclose(gx, fd_vjp(layer, (W, x), 1, ct), rtol=1e-7, atol=1e-9)


def test_pullback_is_linear_and_reusable():
    rng = np.random.RandomState(1)
    W, x = rng.randn(3, 4), rng.randn(4)
    _, pullback = vjp(layer)(W, x)
    a, b = rng.randn(3), rng.randn(3)
    ga, gb, gab = pullback(a), pullback(b), pullback(2.0 * a - b)
    assert np.allclose(gab, 2.0 * ga - gb, rtol=1e-12, atol=1e-12)
    assert np.allclose(pullback(a), ga, rtol=0, atol=0)


def test_pullback_does_not_rerun_the_forward_sweep():
    # the forward sweep is in the generated function, the backward in the pullback
    src_fn = vjp(layer)
    src_fn(np.ones((2, 2)), np.ones(2))
    src = src_fn.source
    fwd, bwd = src.split("def pullback(grad_out):")
    code = lambda part: "\n".join(l.split("#")[0] for l in part.splitlines())
    assert "np.tanh" in code(fwd) and "np.tanh" not in code(bwd)
    assert "W @ x" in code(fwd) and "W @ x" not in code(bwd)


def two_outputs(W, x):
    h = np.tanh(W @ x)
    return h * 2.0, np.sum(h ** 2)


def test_tuple_outputs():
    rng = np.random.RandomState(2)
    W, x = rng.randn(3, 4), rng.randn(4)
    ct = (rng.randn(3), 0.7)
    (y1, y2), pullback = vjp(two_outputs)(W, x)
    assert np.allclose(y1, two_outputs(W, x)[0]) and y2 == pytest.approx(two_outputs(W, x)[1])
    gW = pullback(ct)
    assert np.allclose(gW, fd_vjp(two_outputs, (W, x), 0, ct), rtol=1e-7, atol=1e-9)


def test_scalar_output_matches_grad():
    def loss(W, x):
        return np.sum(np.tanh(W @ x) ** 2)
    rng = np.random.RandomState(3)
    W, x = rng.randn(3, 4), rng.randn(4)
    value, pullback = vjp(loss)(W, x)
    assert value == pytest.approx(loss(W, x))
    assert np.allclose(pullback(1.0), s2sgrad.grad(loss)(W, x), rtol=1e-14, atol=0)
    assert np.allclose(pullback(3.0), 3.0 * s2sgrad.grad(loss)(W, x), rtol=1e-14, atol=0)


def rnn(W, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return h


def test_loops_saved_values_and_repeated_pullbacks():
    rng = np.random.RandomState(4)
    W, xs, h0 = rng.randn(3, 3) * 0.5, rng.randn(5, 3), rng.randn(3)
    ct = rng.randn(3)
    value, pullback = vjp(rnn)(W, xs, h0)
    assert np.allclose(value, rnn(W, xs, h0))
    g1 = pullback(ct)
    g2 = pullback(ct)
    assert np.allclose(g1, g2, rtol=0, atol=0)
    assert np.allclose(g1, fd_vjp(rnn, (W, xs, h0), 0, ct), rtol=1e-6, atol=1e-8)


def test_output_independent_of_input_gives_zero():
    def const(x, y):
        return y * 2.0
    _, pullback = vjp(const)(np.ones(3), np.ones(2))
    assert np.array_equal(pullback(np.ones(2)), np.zeros(3))
