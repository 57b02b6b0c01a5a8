"""Forward mode (jvp): generated tangent code against closed forms and finite differences."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import jvp


def fd_directional(f, args, wrt, tangent, eps=1e-6):
    """Central difference of f along ``tangent`` (float64)."""
    wrt = (wrt,) if isinstance(wrt, int) else wrt
    tangent = (tangent,) if len(wrt) == 1 else tangent
    plus, minus = list(args), list(args)
    for i, t in zip(wrt, tangent):
        plus[i] = args[i] + eps * np.asarray(t) if isinstance(args[i], np.ndarray) \
            else args[i] + eps * t
        minus[i] = args[i] - eps * np.asarray(t) if isinstance(args[i], np.ndarray) \
            else args[i] - eps * t
    fp, fm = f(*plus), f(*minus)
    if isinstance(fp, tuple):
        return tuple((np.asarray(a) - np.asarray(b)) / (2 * eps) for a, b in zip(fp, fm))
    return (np.asarray(fp) - np.asarray(fm)) / (2 * eps)


# -- the forward-mode example of seed 000 --------------------------------------


def seed000(x):
    return (np.log(x) * (x + 3) + x ** 2) / np.sin(x)


def seed000_derivative(x):
    u = np.log(x) * (x + 3) + x ** 2
    du = (x + 3) / x + np.log(x) + 2 * x
    return (du * np.sin(x) - u * np.cos(x)) / np.sin(x) ** 2


@pytest.mark.parametrize("x", [0.3, 1.0, 1.3, 2.0, 2.9, 4.2])
def test_seed000_against_analytic_derivative(x):
    value, deriv = jvp(seed000)(x, 1.0)
    assert value == pytest.approx(seed000(x), rel=1e-14)
    assert deriv == pytest.approx(seed000_derivative(x), rel=1e-12)


def test_seed000_source_is_flat_and_readable():
    f = jvp(seed000)
    f(1.3, 1.0)
    src = f.source
    assert src.startswith("def seed000_jvp(x, dot_x):")
    assert "dot_t0 = dot_x / x" in src
    assert "dot_out = dot_t4 / t5 - dot_t5 * out / t5" in src
    lines = [l.strip() for l in src.splitlines()]
    # tangents interleaved with the primal: each dot_ line follows its primal line
    assert lines.index("dot_t5 = dot_x * np.cos(x)") == lines.index("t5 = np.sin(x)") + 1
    assert "for " not in src and "helper" not in src


def test_tangent_scales_linearly():
    _, d1 = jvp(seed000)(1.7, 1.0)
    _, d3 = jvp(seed000)(1.7, -3.0)
    assert d3 == pytest.approx(-3.0 * d1, rel=1e-14)


# -- coverage: elementwise, broadcasting, reductions, linear algebra, shapes ----


def mlp_loss(W, b, x):
    h = np.tanh(W @ x + b)
    return np.sum(h ** 2) / h.shape[0] + 0.1 * np.mean(np.exp(-W * W))


def shapes_fn(A):
    B = A.reshape(6, 2).T
    return np.sum(B[:, 1:4] * np.sqrt(A.ravel()[:3] + 1.0)) + np.max(A, axis=1).sum() \
        + np.min(A) + np.abs(A).mean()


def broadcast_fn(s, v):
    return np.sum(s + v) + np.sum(s * v) + np.sum(np.maximum(v, s))


def where_fn(x):
    return np.sum(np.where(x > 0.0, x ** 3, -x)) + np.dot(x, x)


def cases():
    rng = np.random.RandomState(0)
    W, b, x = rng.randn(4, 3), rng.randn(4), rng.randn(3)
    A = rng.rand(3, 4) + 0.1
    v = rng.randn(5)
    return [
        (mlp_loss, (W, b, x), 0, rng.randn(4, 3)),
        (mlp_loss, (W, b, x), (0, 1, 2), (rng.randn(4, 3), rng.randn(4), rng.randn(3))),
        (shapes_fn, (A,), 0, rng.randn(3, 4)),
        (broadcast_fn, (0.7, v), 0, 1.0),
        (broadcast_fn, (0.7, v), (0, 1), (0.5, rng.randn(5))),
        (where_fn, (rng.randn(6),), 0, rng.randn(6)),
    ]


@pytest.mark.parametrize("k", range(6))
def test_jvp_matches_finite_differences(k):
    f, args, wrt, tangent = cases()[k]
    value, deriv = jvp(f, wrt=wrt)(*args, tangent)
    assert value == pytest.approx(f(*args), rel=1e-13)
    assert deriv == pytest.approx(fd_directional(f, args, wrt, tangent), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("k", range(6))
def test_jvp_agrees_with_reverse_mode(k):
    f, args, wrt, tangent = cases()[k]
    _, deriv = jvp(f, wrt=wrt)(*args, tangent)
    g = s2sgrad.grad(f, wrt=wrt)(*args)
    if not isinstance(wrt, tuple):
        g, tangent = (g,), (tangent,)
    expected = sum(np.sum(np.asarray(gi) * np.asarray(ti)) for gi, ti in zip(g, tangent))
    assert deriv == pytest.approx(expected, rel=1e-12, abs=1e-12)


def vector_fn(x, A):
    y = np.tanh(A @ x)
    return y * x[0]


def test_vector_output_tangent_has_output_shape():
    rng = np.random.RandomState(1)
    x, A = rng.randn(4), rng.randn(3, 4)
    t = rng.randn(4)
    value, deriv = jvp(vector_fn)(x, A, t)
    assert deriv.shape == (3,)
    assert np.allclose(deriv, fd_directional(vector_fn, (x, A), 0, t), rtol=1e-7, atol=1e-9)


def scalar_into_vector(s, v):
    return v * s + s


def test_broadcast_tangent_takes_result_shape():
    v = np.arange(4.0)
    _, d = jvp(scalar_into_vector)(2.0, v, 1.0)
    assert np.shape(d) == (4,)
    assert np.allclose(d, v + 1.0)


def loop_fn(x, n):
    s = 0.0
    y = x
    for i in range(n):
        y = np.sin(y) * x
        s = s + np.sum(y) * (i + 1)
    return s


def test_loop_carried_tangents():
    x = np.array([0.3, -0.8, 1.1])
    t = np.array([1.0, 0.5, -2.0])
    _, d = jvp(loop_fn)(x, 4, t)
    assert d == pytest.approx(fd_directional(loop_fn, (x, 4), 0, t), rel=1e-7)
    assert "for i in range(n):" in jvp(loop_fn).source


def branch_fn(x):
    if x > 1.0:
        y = x * x
    else:
        y = np.exp(x)
    return y * 3.0


@pytest.mark.parametrize("x", [0.5, 2.0])
def test_branches(x):
    _, d = jvp(branch_fn)(x, 1.0)
    expected = 6.0 * x if x > 1.0 else 3.0 * np.exp(x)
    assert d == pytest.approx(expected, rel=1e-13)


def two_outputs(x):
    return np.sin(x), x * x


def test_tuple_outputs():
    value, deriv = jvp(two_outputs)(0.4, 1.0)
    assert deriv[0] == pytest.approx(np.cos(0.4), rel=1e-14)
    assert deriv[1] == pytest.approx(0.8, rel=1e-14)


def test_tuple_wrt_needs_tuple_tangent():
    f = jvp(mlp_loss, wrt=(0, 1))
    W, b, x = np.ones((2, 2)), np.ones(2), np.ones(2)
    with pytest.raises(ValueError):
        f(W, b, x, (np.ones((2, 2)),))


def test_source_before_a_call_is_generic_but_valid():
    src = jvp(mlp_loss).source
    assert src.startswith("def mlp_loss_jvp(W, b, x, dot_W):")
    compile(src, "<test>", "exec")


# -- custom adjoints in forward mode ---------------------------------------------------

from s2sgrad import adjoint, tangent_rule  # noqa: E402
from s2sgrad.rules.registry import grad  # noqa: E402  (template notation)
from s2sgrad.rules.tangents import tangent  # noqa: E402


def soft_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@adjoint(soft_sigmoid)
def _soft_sigmoid_adjoint(result, x):
    grad[x] = grad[result] * result * (1.0 - result)


def uses_custom(x):
    return np.sum(soft_sigmoid(x) * x)


def test_custom_adjoint_composes_with_forward_mode_by_transposition():
    x = np.array([0.2, -1.0, 3.0])
    t = np.array([1.0, -2.0, 0.5])
    value, d = jvp(uses_custom)(x, t)
    s = 1.0 / (1.0 + np.exp(-x))
    assert d == pytest.approx(np.sum((s * (1 - s) * x + s) * t), rel=1e-13)
    src = jvp(uses_custom).source
    assert "transposed" in src                      # derived from the adjoint template


def scaled_softplus(x):
    return np.log1p(np.exp(x))


@adjoint(scaled_softplus)
def _softplus_adjoint(result, x):
    grad[x] = grad[result] / (1.0 + np.exp(-x))


@tangent_rule(scaled_softplus)
def _softplus_tangent(result, x):
    tangent[result] = tangent[x] / (1.0 + np.exp(-x))


def uses_softplus(x):
    return np.sum(scaled_softplus(x) ** 2)


def test_explicit_tangent_rule_wins_over_transposition():
    x = np.array([0.5, -0.3])
    t = np.array([2.0, 1.0])
    _, d = jvp(uses_softplus)(x, t)
    sp = np.log1p(np.exp(x))
    assert d == pytest.approx(np.sum(2 * sp / (1 + np.exp(-x)) * t), rel=1e-13)
    src = jvp(uses_softplus).source
    assert "dot_t0 = dot_x / (1.0 + np.exp(-x))" in src and "transposed" not in src


# -- while loops, break, early return (normalized control flow) -----------------------


def while_break(x, n):
    i = 0
    y = x
    while i < n:
        y = np.sin(y) + x
        i += 1
        if np.sum(y) > 100.0:
            break
    return np.sum(y * y)


def early_return(x):
    for i in range(5):
        if np.sum(x) > 3.0:
            return np.sum(x ** 2)
        x = x * 1.5
    return np.sum(x)


@pytest.mark.parametrize("f,args", [(while_break, (np.array([0.5, 0.2]), 4)),
                                    (early_return, (np.array([0.5, 0.2]),)),
                                    (early_return, (np.array([2.5, 0.7]),))])
def test_normalized_control_flow(f, args):
    t = np.array([1.0, -0.5])
    _, d = jvp(f)(*args, t)
    assert d == pytest.approx(np.sum(s2sgrad.grad(f)(*args) * t), rel=1e-12)
    assert d == pytest.approx(fd_directional(f, args, 0, t), rel=1e-6)


# -- containers ---------------------------------------------------------------------------


def layers(Ws, x):
    h = x
    for W in Ws:
        h = np.tanh(W @ h)
    return np.sum(h ** 2)


def test_list_of_weights_tangent_is_a_list():
    rng = np.random.RandomState(7)
    Ws, x = [rng.randn(4, 3), rng.randn(2, 4)], rng.randn(3)
    Ts = [rng.randn(4, 3), rng.randn(2, 4)]
    _, d = jvp(layers)(Ws, x, Ts)
    eps = 1e-6
    fd = (layers([W + eps * T for W, T in zip(Ws, Ts)], x)
          - layers([W - eps * T for W, T in zip(Ws, Ts)], x)) / (2 * eps)
    assert d == pytest.approx(fd, rel=1e-7)
    Hv = s2sgrad.hvp(layers)(Ws, x, Ts)
    g = s2sgrad.grad(layers)
    plus = g([W + eps * T for W, T in zip(Ws, Ts)], x)
    minus = g([W - eps * T for W, T in zip(Ws, Ts)], x)
    for h, p, m in zip(Hv, plus, minus):
        assert np.allclose(h, (p - m) / (2 * eps), rtol=1e-6, atol=1e-8)


def identity_like(x):
    return x


def broadcast_sum(s, v):
    return s + v


def test_returned_tangent_owns_its_memory():
    t = np.array([1.0, 2.0])
    _, d = jvp(identity_like)(np.zeros(2), t)
    assert np.array_equal(d, t) and not np.shares_memory(d, t)
    _, d = jvp(broadcast_sum)(1.0, np.zeros(3), 2.0)
    assert d.flags.writeable and np.array_equal(d, np.full(3, 2.0))
