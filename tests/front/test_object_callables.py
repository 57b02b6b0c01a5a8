"""Functions held by objects: ``self.act = np.tanh`` in a layer class, a dict of
activations on a model, a loss function chosen at construction, a namespace object
(``types.SimpleNamespace``) standing for a module.  What an object's attribute holds
when it is a function is known at the first call (the signature keys it): the call is
specialized on it, and another function there generates other code.

Every gradient is checked against float64 central differences (tests/gradcheck.py).
"""
import types

import numpy as np
import pytest

from gradcheck import check_grad, numeric_grad
from s2sgrad import grad
from s2sgrad.errors import S2SGradError

RNG = np.random.default_rng(3)
X = RNG.normal(size=(4, 3))
W = RNG.normal(size=(3, 3)) * 0.5


def relu(z):
    return np.maximum(z, 0.0)


def leaky(z, slope=0.1):
    return np.where(z > 0, z, slope * z)


class Dense:
    def __init__(self, W, act):
        self.W = W
        self.act = act

    def __call__(self, x):
        return self.act(x @ self.W)


def loss_layer(x, layer):
    return np.sum(layer(x) ** 2)


@pytest.mark.parametrize("act", [np.tanh, np.sin, relu, leaky, lambda z: z * z + z],
                         ids=["tanh", "sin", "relu", "leaky", "lambda"])
def test_a_layer_calls_the_function_it_holds(act):
    layer = Dense(W, act)
    check_grad(loss_layer, (X, layer), wrt=0)


def test_another_function_in_the_same_object_generates_other_code():
    g = grad(loss_layer)
    layer = Dense(W, np.tanh)
    for act in (np.tanh, np.sin, relu, np.tanh):
        layer.act = act
        np.testing.assert_allclose(g(X, layer), numeric_grad(loss_layer, (X, layer), 0),
                                   rtol=1e-6, atol=1e-8)


class Model:
    """Parameters in self.params, activations by name, the loss chosen by a string."""

    def __init__(self, kind):
        self.params = {"W1": RNG.normal(size=(3, 5)) * 0.4, "W2": RNG.normal(size=(5, 2))}
        self.acts = {"relu": relu, "tanh": np.tanh}
        self.kind = kind
        self.loss_fn = (lambda s: np.mean(s ** 2)) if kind == "mse" else \
            (lambda s: np.mean(np.log1p(np.exp(s))))

    def forward(self, x):
        h = self.acts["tanh" if self.kind == "mse" else "relu"](x @ self.params["W1"])
        return h @ self.params["W2"]

    def loss(self, x):
        return self.loss_fn(self.forward(x))


@pytest.mark.parametrize("kind", ["mse", "softplus"])
def test_a_model_with_functions_in_its_attributes(kind):
    m = Model(kind)
    g = grad(Model.loss, wrt="self.params")(m, X)

    def f(W1, W2):
        m2 = Model(kind)
        m2.params = {"W1": W1, "W2": W2}
        return m2.loss(X)

    for name in ("W1", "W2"):
        args = (m.params["W1"], m.params["W2"])
        ref = numeric_grad(f, args, ("W1", "W2").index(name))
        np.testing.assert_allclose(g[name], ref, rtol=1e-6, atol=1e-8)


def namespace_relu(z):
    return np.maximum(z, 0.0)


def test_a_function_whose_np_is_a_namespace_object():
    # the same code with other globals, where np is an object holding functions (on
    # Python 3.13 a SimpleNamespace no longer customizes attribute access, so it reads as
    # a plain object: its functions must still be resolved, not read as data)
    other = types.FunctionType(namespace_relu.__code__, {"np": types.SimpleNamespace(
        maximum=np.minimum)}, "namespace_relu")

    def loss_act(x, act):
        return np.sum(act(x) ** 2)

    x = np.array([-1.0, 0.5, 2.0])
    g = grad(loss_act)
    np.testing.assert_allclose(g(x, namespace_relu), 2 * np.maximum(x, 0.0), rtol=1e-14)
    np.testing.assert_allclose(g(x, other), 2 * np.minimum(x, 0.0), rtol=1e-14)


class Rebinds(Dense):
    def __call__(self, x):
        self.act = np.sin
        return self.act(x @ self.W)


def test_a_function_the_method_rebinds_is_an_error_not_a_guess():
    with pytest.raises(S2SGradError, match="cannot tell which function"):
        grad(loss_layer)(X, Rebinds(W, np.tanh))
