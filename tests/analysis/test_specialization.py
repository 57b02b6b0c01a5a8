"""Specialization on int arguments: an int that only enters arithmetic is a runtime
value (one generation for every value), an int that changes a shape, a loop, a branch
or an index keys the code by value; ``static=`` forces keying by value.  Every
gradient is checked against central finite differences."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad.back import cache
from s2sgrad import grad, value_and_grad
from s2sgrad.errors import WrtError
from gradcheck import numeric_grad


def count():
    return cache.generation_count


def net(params, X, it):
    h = X
    for W, b in params:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2) / (1.0 + it)


def _params(seed=0):
    rng = np.random.RandomState(seed)
    return [(rng.randn(3, 4), rng.randn(4)), (rng.randn(4, 2), rng.randn(2))]


def _numeric_params_grad(f, params, *rest):
    """Finite differences leaf by leaf of a list of (W, b) tuples."""
    out = []
    for k, pair in enumerate(params):
        leaves = []
        for j in range(len(pair)):
            def at(v, k=k, j=j):
                p = [list(q) for q in params]
                p[k][j] = v
                return f([tuple(q) for q in p], *rest)
            leaves.append(numeric_grad(at, (pair[j],), 0))
        out.append(tuple(leaves))
    return out


def _assert_params_close(got, want):
    assert isinstance(got, list) and len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, tuple) and len(g) == len(w)
        for a, b in zip(g, w):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_training_loop_with_a_step_counter_generates_once():
    """The issue's repro: 20+ steps of a training loop whose int argument changes every
    call; before, the 9th value took a broken generic path (np.add.at on a list)."""
    params = _params()
    X = np.random.RandomState(1).randn(5, 3)
    g = grad(net)
    n0 = count()
    lr = 0.1
    for it in range(25):
        got = g(params, X, it)
        if it % 6 == 0 or it > 20:
            _assert_params_close(got, _numeric_params_grad(net, params, X, it))
        params = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, got)]
    assert count() - n0 == 1


def test_step_counter_is_a_runtime_value_in_value_and_grad():
    params = _params(2)
    X = np.random.RandomState(3).randn(4, 3)
    vg = value_and_grad(net)
    n0 = count()
    for it in (0, 7, 3, 100, 12345):
        value, got = vg(params, X, it)
        assert value == pytest.approx(net(params, X, it), rel=1e-12)
        _assert_params_close(got, _numeric_params_grad(net, params, X, it))
    assert count() - n0 == 1


def decay(x, k):
    return np.sum(np.exp(-k * x) * x) + k * 0.5


def decay_grad(x, k):
    """The closed form of grad(decay)."""
    return np.exp(-k * x) * (1.0 - k * x)


def test_int_in_a_ufunc_and_arithmetic_is_not_keyed_by_value():
    x = np.linspace(0.1, 1.0, 6)
    g = grad(decay)
    n0 = count()
    for k in range(1, 15):
        np.testing.assert_allclose(g(x, k), decay_grad(x, k), rtol=1e-12, atol=1e-15)
    assert count() - n0 == 1
    assert g._dynamic == frozenset([1])


def prefix(x, n):
    return np.sum(x[:n] ** 2) * n


def repeat_loop(x, n):
    s = 0.0
    for _ in range(n):
        s = s + np.sin(x) * s + x
    return np.sum(s)


def zero_padded(x, n):
    z = np.zeros(n)
    z[:3] = x
    return np.sum(z * np.arange(n))


def branch(x, n):
    if n > 2:
        return np.sum(x ** 3)
    return np.sum(np.cos(x))


def pick(x, n):
    return x[n] * np.sum(x)


@pytest.mark.parametrize("f,values", [
    (prefix, [1, 2, 5, 3]),            # a slice bound
    (repeat_loop, [0, 1, 3, 2]),       # a trip count
    (zero_padded, [3, 4, 6]),          # a shape
    (branch, [1, 3, 2, 5]),            # a branch test
    (pick, [0, 2, 1]),                 # an index
])
def test_structural_ints_key_the_code_by_value(f, values):
    x = np.array([0.3, -0.7, 1.1])
    g = grad(f)
    n0 = count()
    for n in values:
        np.testing.assert_allclose(g(x, n), numeric_grad(f, (x, n), 0), rtol=1e-6, atol=1e-9)
    assert g._dynamic == frozenset()
    assert count() - n0 == len(set(values))


def test_static_forces_keying_by_value():
    x = np.linspace(0.1, 1.0, 4)
    g = grad(decay, static=("k",))
    n0 = count()
    for k in (1, 2, 1, 3):
        np.testing.assert_allclose(g(x, k), decay_grad(x, k), rtol=1e-12, atol=1e-15)
    assert count() - n0 == 3
    g1 = grad(decay, static=1)
    np.testing.assert_allclose(g1(x, 4), decay_grad(x, 4), rtol=1e-12, atol=1e-15)
    assert g1._static == frozenset([1])


def test_static_on_a_float_argument_keys_by_its_value():
    def f(x, scale):
        return np.sum(np.sin(x) * scale)
    x = np.linspace(0.1, 1.0, 4)
    g = grad(f, static="scale")
    n0 = count()
    for s in (1.5, 2.5, 1.5):
        np.testing.assert_allclose(g(x, s), s * np.cos(x), rtol=1e-12)
    assert count() - n0 == 2


def test_static_errors_name_the_problem():
    with pytest.raises(WrtError, match="not a parameter"):
        grad(decay, static="q")
    with pytest.raises(WrtError, match="out of range"):
        grad(decay, static=5)
    with pytest.raises(WrtError, match="ints or parameter names"):
        grad(decay, static=(1.5,))

    def f(x, table):
        return np.sum(x) * len(table)
    with pytest.raises(TypeError, match="static argument must be hashable"):
        grad(f, static="table")(np.ones(2), [1, 2])


def test_a_new_grad_object_reuses_what_the_first_learned():
    x = np.linspace(0.1, 1.0, 5)
    grad(decay)(x, 1)
    n0 = count()
    for k in (2, 3, 4):
        np.testing.assert_allclose(grad(decay)(x, k), decay_grad(x, k), atol=1e-15,
                                   rtol=1e-12)
    assert count() - n0 == 1      # one generation for "any k", shared by every grad object


def test_dispatcher_calls_the_shared_code_for_every_value():
    x = np.linspace(0.1, 1.0, 5)
    g = grad(decay)
    for k in range(6):
        np.testing.assert_allclose(g(x, k), decay_grad(x, k), rtol=1e-12, atol=1e-15)
    assert g._dispatched, "the dispatcher should check the signature inline"
    for k in range(6, 40, 7):       # through the dispatcher, no general path
        np.testing.assert_allclose(g(x, k), decay_grad(x, k), rtol=1e-12, atol=1e-15)
    # a bool is not an int here: it takes its own signature
    np.testing.assert_allclose(g(x, True), decay_grad(x, 1), rtol=1e-12, atol=1e-15)


def mixed(x, it, n):
    return np.sum(x[:n] ** 2) / (1.0 + it)


def test_only_the_structural_one_of_two_ints_is_keyed():
    x = np.linspace(-1.0, 1.0, 6)
    g = grad(mixed)
    n0 = count()
    for it in range(5):
        for n in (2, 4):
            np.testing.assert_allclose(g(x, it, n), numeric_grad(mixed, (x, it, n), 0),
                                       rtol=1e-6, atol=1e-10)
    assert g._dynamic == frozenset([1])
    assert count() - n0 == 2


def test_int_used_in_a_container_display_or_call_stays_keyed():
    def through_call(x, n):
        return np.sum(np.tile(x, n))
    x = np.array([0.5, 1.5])
    g = grad(through_call)
    for n in (1, 2, 3):
        np.testing.assert_allclose(g(x, n), numeric_grad(through_call, (x, n), 0), rtol=1e-6)
    assert g._dynamic == frozenset()


def test_generic_path_adds_container_gradients_item_by_item(monkeypatch):
    """The version generated without a probe: a list of (W, b) tuples gets its
    gradient item by item (no tuple concatenation, no np.add.at on a list)."""
    params = _params(4)
    X = np.random.RandomState(5).randn(3, 3)
    g = grad(net)
    got = g._generic().function(params, X, 2)
    _assert_params_close(got, _numeric_params_grad(net, params, X, 2))
    assert "np.add.at(grad_params" not in g._generic().source
