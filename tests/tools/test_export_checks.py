"""A specialized export checks, on every call, the shapes, dtypes, structure and
int values it was generated for, and says so in its header; the shape-generic
export (no example arguments) gives right gradients for any batch size."""
import importlib
import sys

import numpy as np
import pytest

from s2sgrad.tools.export import export_source
from gradcheck import numeric_grad

MODEL = '''
import numpy as np


def loss(W, X):
    return np.mean((X @ W) ** 2)


def scheduled(W, X, step, n):
    return np.mean((X[:n] @ W) ** 2) / (1.0 + step)


def layers(params, X):
    h = X
    for W, b in params:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2)


def writes(x):
    x[0] = 10.0 * x[1]
    return np.sum(x * x)
'''


@pytest.fixture
def load(tmp_path, monkeypatch):
    (tmp_path / "checks_model.py").write_text(MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def load(text, name):
        (tmp_path / (name + ".py")).write_text(text)
        made.append(name)
        return importlib.import_module(name)
    model = importlib.import_module("checks_model")
    yield model, load
    for name in made + ["checks_model"]:
        sys.modules.pop(name, None)


def test_batch_of_another_size_is_a_clear_error_not_a_wrong_gradient(load):
    """The issue's repro: 1/(N*D) was folded in for N=5 and a batch of 7 got a wrong
    gradient, silently."""
    model, load = load
    rng = np.random.RandomState(0)
    W, X5, X7 = rng.randn(3, 2), rng.randn(5, 3), rng.randn(7, 3)
    text = export_source(model.loss, args=[W, X5])
    assert "# Specialized for: W: float64[3, 2], X: float64[5, 3]" in text
    assert "raises ValueError for other shapes" in text
    mod = load(text, "loss_grad_5")
    np.testing.assert_allclose(mod.loss_grad(W, X5), numeric_grad(model.loss, (W, X5), 0),
                               rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match=r"exported for W: float64\[3, 2\], X: float64\[5, 3\]"
                                         r".*argument 'X' is float64\[7, 3\]"):
        mod.loss_grad(W, X7)
    with pytest.raises(ValueError, match=r"argument 'W' is float32\[3, 2\]"):
        mod.loss_grad(W.astype(np.float32), X5)
    with pytest.raises(ValueError, match="argument 'X' is list"):
        mod.loss_grad(W, X5.tolist())


def test_generic_export_is_right_for_any_batch(load):
    model, load = load
    rng = np.random.RandomState(1)
    W = rng.randn(3, 2)
    text = export_source(model.loss)
    assert "Generic version: valid for any argument shapes." in text
    assert "_check_arguments" not in text
    mod = load(text, "loss_grad_any")
    for n in (5, 7, 1):
        X = rng.randn(n, 3)
        np.testing.assert_allclose(mod.loss_grad(W, X), numeric_grad(model.loss, (W, X), 0),
                                   rtol=1e-6, atol=1e-9)


def test_ints_are_checked_by_value_only_where_the_code_depends_on_it(load):
    model, load = load
    rng = np.random.RandomState(2)
    W, X = rng.randn(3, 2), rng.randn(6, 3)
    mod = load(export_source(model.scheduled, args=[W, X, 3, 4]), "scheduled_grad_mod")
    for step in (3, 0, 17):                 # the step counter only enters arithmetic
        np.testing.assert_allclose(mod.scheduled_grad(W, X, step, 4),
                                   numeric_grad(model.scheduled, (W, X, step, 4), 0),
                                   rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match=r"n: int 4 .*argument 'n' is int 3"):
        mod.scheduled_grad(W, X, 3, 3)      # a slice bound: the code depends on it
    with pytest.raises(ValueError, match="argument 'step' is float"):
        mod.scheduled_grad(W, X, 3.0, 4)


def test_containers_are_checked_item_by_item(load):
    model, load = load
    rng = np.random.RandomState(3)
    params = [(rng.randn(3, 4), rng.randn(4)), (rng.randn(4, 2), rng.randn(2))]
    X = rng.randn(5, 3)
    mod = load(export_source(model.layers, args=[params, X]), "layers_grad_mod")
    got = mod.layers_grad(params, X)
    for k, (W, b) in enumerate(params):
        def at_W(v, k=k):
            p = list(params)
            p[k] = (v, params[k][1])
            return model.layers(p, X)
        np.testing.assert_allclose(got[k][0], numeric_grad(at_W, (W,), 0), rtol=1e-6,
                                   atol=1e-9)
    with pytest.raises(ValueError, match="argument 'params' is list"):
        mod.layers_grad(params[:1], X)
    wider = [(rng.randn(3, 5), rng.randn(5)), params[1]]
    with pytest.raises(ValueError, match="argument 'params'"):
        mod.layers_grad(wider, X)


def test_exported_code_never_writes_into_the_callers_array(load):
    model, load = load
    x = np.array([1.0, 2.0, 3.0])
    mod = load(export_source(model.writes, args=[x.copy()]), "writes_grad_mod")
    generic = load(export_source(model.writes), "writes_grad_generic")
    want = numeric_grad(lambda v: model.writes(v.copy()), (x,), 0)
    for f in (mod.writes_grad, generic.writes_grad):
        got = f(x)
        np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
