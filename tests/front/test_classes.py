"""Classes and methods (s2sgrad/objects.py): model.loss(X, y) with self.params,
wrt="self.params", __call__ layers, lists of layer objects, dataclasses, attribute
writes, and the clear errors. Every gradient is checked against central finite
differences (tests/realcode/realcheck.py: sampled entries, perturbed in place)."""
import dataclasses
import os
import sys

import numpy as np
import pytest

import s2sgrad
from s2sgrad import S2SGradError, grad, value_and_grad

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "realcode"))
from realcheck import finite_difference_check  # noqa: E402


class Net:
    def __init__(self, seed=0, reg=0.1):
        rng = np.random.RandomState(seed)
        self.params = {"W1": rng.randn(3, 4), "b1": rng.randn(4),
                       "W2": rng.randn(4, 2), "b2": np.zeros(2)}
        self.reg = reg
        self.num_layers = 2
        self.calls = 0.0
        self.cache = None

    def layer(self, x, i):
        return x @ self.params["W%d" % i] + self.params["b%d" % i]

    def forward(self, x):
        h = np.tanh(self.layer(x, 1))
        self.cache = h
        return self.layer(h, 2)

    def loss(self, x, y):
        self.calls = self.calls + 1.0
        out = self.forward(x)
        reg = 0.0
        for i in range(self.num_layers):
            reg = reg + np.sum(self.params["W%d" % (i + 1)] ** 2)
        return 0.5 * np.sum((out - y) ** 2) + self.reg * reg


def _data(seed=1):
    rng = np.random.RandomState(seed)
    return rng.randn(5, 3), rng.randn(5, 2)


def test_bound_method_wrt_params_matches_finite_differences():
    net = Net()
    x, y = _data()
    g = grad(net.loss, wrt="self.params")
    grads = g(x, y)
    assert set(grads) == set(net.params)
    finite_difference_check(net.loss, (x, y), "self.params", grads)
    # the generated code reads the weights once, into a name, as a parameter
    assert "self_params = self.params" in g.source


def test_unbound_function_wrt_attribute_path_is_the_same():
    net = Net()
    x, y = _data()
    bound = grad(net.loss, wrt="self.params")(x, y)
    unbound = grad(Net.loss, wrt="self.params")(net, x, y)
    for k in net.params:
        np.testing.assert_allclose(bound[k], unbound[k], rtol=1e-12, atol=0)


def test_bound_method_wrt_index_counts_the_callers_arguments():
    net = Net()
    x, y = _data()
    gx = grad(net.loss, wrt=0)(x, y)
    assert gx.shape == x.shape
    finite_difference_check(net.loss, (x, y), 0, gx)
    gx2, gp = grad(net.loss, wrt=("x", "self.params"))(x, y)
    np.testing.assert_allclose(gx, gx2, rtol=1e-12)


def test_attribute_writes_happen_once_per_call_with_real_values():
    net = Net()
    x, y = _data()
    g = value_and_grad(net.loss, wrt="self.params")
    for k in range(1, 4):
        value, _ = g(x, y)
        assert net.calls == float(k)          # not twice on the first call (the probe)
        np.testing.assert_allclose(net.cache, np.tanh(x @ net.params["W1"] + net.params["b1"]),
                                   rtol=1e-14)
    plain = Net()
    for _ in range(3):
        expected = plain.loss(x, y)
    assert value == pytest.approx(expected, rel=1e-13)


def test_arrays_not_differentiated_are_read_at_call_time():
    net = Net()
    x, y = _data()
    g = grad(net.loss, wrt=0)
    g(x, y)             # (the first call sets net.cache: a new structure, a new key)
    first = g(x, y)
    count = len(g._specs)
    net.params["W2"] = net.params["W2"] * 2.0         # same shapes: no new code
    second = g(x, y)
    assert len(g._specs) == count
    finite_difference_check(net.loss, (x, y), 0, second)
    assert not np.allclose(first, second)


def test_running_means_written_into_a_list_of_dicts_on_self():
    class BNNet:
        def __init__(self):
            self.gamma = np.ones(3)
            self.bn_params = [{"running_mean": np.zeros(3), "momentum": 0.9}]

        def loss(self, x):
            bn_param = self.bn_params[0]
            mu = x.mean(axis=0)
            bn_param["running_mean"] = bn_param["momentum"] * bn_param["running_mean"] + \
                (1 - bn_param["momentum"]) * mu
            return np.sum(((x - mu) * self.gamma) ** 2)

    rng = np.random.RandomState(2)
    x = rng.randn(4, 3)
    ours, plain = BNNet(), BNNet()
    g = grad(ours.loss, wrt="self.gamma")
    for _ in range(3):
        gamma_grad = g(x)
        plain.loss(x)
    np.testing.assert_allclose(ours.bn_params[0]["running_mean"],
                               plain.bn_params[0]["running_mean"], rtol=1e-14)
    finite_difference_check(ours.loss, (x,), "self.gamma", gamma_grad)


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.randn(n_in, n_out) * 0.5
        self.b = rng.randn(n_out) * 0.1

    def __call__(self, x):
        return x @ self.W + self.b


class Tanh:
    def __call__(self, x):
        return np.tanh(x)


class Stack:
    def __init__(self, layers):
        self.layers = layers

    def loss(self, x, y):
        for layer in self.layers:
            x = layer(x)
        return np.mean((x - y) ** 2)


def test_list_of_layer_objects_of_different_classes_is_unrolled():
    rng = np.random.RandomState(3)
    model = Stack([Dense(3, 5, rng), Tanh(), Dense(5, 2, rng)])
    x, y = _data()
    g = grad(model.loss, wrt="self.layers")
    grads = g(x, y)
    assert isinstance(grads, list) and len(grads) == 3 and dict(grads[1]) == {}
    assert set(grads[0]) == {"W", "b"}
    assert grads[0].W is grads[0]["W"]              # attribute access, as on the layer
    finite_difference_check(model.loss, (x, y), "self.layers", grads)
    assert "for " not in g.source.split("# Backward pass")[0]


def test_list_of_layer_objects_of_one_class_stays_a_loop():
    rng = np.random.RandomState(4)
    model = Stack([Dense(3, 3, rng) for _ in range(4)])
    x = rng.randn(5, 3)
    y = rng.randn(5, 3)
    g = grad(model.loss, wrt="self.layers")
    grads = g(x, y)
    finite_difference_check(model.loss, (x, y), "self.layers", grads)
    assert "for " in g.source.split("# Backward pass")[0]


def test_wrt_an_attribute_of_a_layer_argument():
    rng = np.random.RandomState(5)
    layer = Dense(3, 2, rng)
    x, y = _data()

    def mse(layer, x, y):
        return np.mean((layer(x) - y) ** 2)

    gW = grad(mse, wrt="layer.W")(layer, x, y)
    expected = x.T @ (2 * (x @ layer.W + layer.b - y) / y.size)
    np.testing.assert_allclose(gW, expected, rtol=1e-12)
    whole = grad(mse, wrt="layer")(layer, x, y)
    np.testing.assert_allclose(whole.W, expected, rtol=1e-12)


@dataclasses.dataclass
class Params:
    W: np.ndarray
    b: np.ndarray
    name: str = "linear"


def test_dataclass_argument_gets_a_dataclass_gradient():
    rng = np.random.RandomState(6)
    p = Params(rng.randn(3, 2), rng.randn(2))
    x, y = _data()

    def loss(p, x, y):
        return np.sum(np.tanh(x @ p.W + p.b) * y)

    gp = grad(loss)(p, x, y)
    assert isinstance(gp, Params) and gp.name == "linear"
    finite_difference_check(loss, (p, x, y), 0, gp)


def test_branches_on_non_array_attributes_are_decided_per_signature():
    class Model:
        def __init__(self, use_dropout):
            self.use_dropout = use_dropout
            self.W = np.random.RandomState(7).randn(3, 3)

        def loss(self, x):
            h = x @ self.W
            if self.use_dropout:
                # no rule for np.polyder: an error when traced, never traced when off
                h = h * np.sum(np.polyder(h[0]))
            return np.sum(h ** 2)

    x = np.random.RandomState(8).randn(4, 3)
    off = Model(False)
    g = grad(Model.loss, wrt="self.W")
    finite_difference_check(off.loss, (x,), "self.W", g(off, x))
    with pytest.raises(S2SGradError):
        g(Model(True), x)                    # another signature: the branch is traced


def test_a_loop_whose_shapes_change_from_trip_to_trip():
    def f(params, x):
        for W in params:
            out = np.dot(x, W)
            x = np.tanh(out)
        return np.sum(out ** 2)

    rng = np.random.RandomState(9)
    params = [rng.randn(3, 4), rng.randn(4, 2)]
    x = rng.randn(5, 3)
    finite_difference_check(f, (params, x), 0, grad(f)(params, x))


def test_unpacking_into_a_repeated_name():
    def parts(a, b):
        return np.sum(a * b), a * 2.0, b.reshape(2, 3)

    def f(a, b):
        loss, _, _ = parts(a, b)
        return loss

    rng = np.random.RandomState(10)
    a, b = rng.randn(6), rng.randn(6)
    ga, gb = grad(f, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(ga, b, rtol=1e-14)
    np.testing.assert_allclose(gb, a, rtol=1e-14)


def test_zero_dimensional_array_argument_gets_a_zero_dimensional_gradient():
    def f(w, b, x):
        return np.mean((x @ w + b) ** 2)

    g = grad(f, wrt=1)(np.ones(3), np.array(0.5), np.ones((4, 3)))
    assert isinstance(g, np.ndarray) and g.shape == () and g == pytest.approx(7.0)


# -- clear errors instead of silent zeros


def test_an_object_built_inside_the_function_is_an_error_not_a_zero():
    def f(W, x):
        layer = Dense.__new__(Dense)
        layer = _Wrap(W)
        return np.sum(layer(x))

    with pytest.raises(S2SGradError):
        grad(f)(np.ones((3, 2)), np.ones((4, 3)))


class _Wrap:
    def __init__(self, W):
        self.W = W

    def __call__(self, x):
        return x @ self.W


def test_a_method_of_an_unresolved_object_is_a_clear_error():
    class Sq:
        def __call__(self, x):
            return x * x

    class Cube:
        def __call__(self, x):
            return x * x * x

    class M:
        def __init__(self):
            self.fs = [Sq(), Cube()]

        def loss(self, x, k):
            f = self.fs[k]
            return np.sum(f(x))

    with pytest.raises(S2SGradError, match="Cube object whose __call__"):
        grad(M().loss)(np.ones(3), 1)


def test_writing_the_differentiated_attribute_is_an_error():
    class M:
        def __init__(self):
            self.W = np.ones(3)

        def loss(self, x):
            self.W = self.W * 2.0
            return np.sum(self.W * x)

    with pytest.raises(S2SGradError, match="assigns self.W"):
        grad(M().loss, wrt="self.W")(np.ones(3))


def test_reaching_the_differentiated_attribute_through_an_alias_is_an_error():
    class M:
        def __init__(self):
            self.params = {"W": np.ones(3)}

        def loss(self, x):
            me = self
            return np.sum(me.params["W"] * x)

    with pytest.raises(S2SGradError, match="cannot follow"):
        grad(M().loss, wrt="self.params")(np.ones(3))


def test_a_missing_attribute_in_wrt_is_an_error():
    net = Net()
    x, y = _data()
    with pytest.raises(s2sgrad.WrtError, match="no attribute 'weights'"):
        grad(net.loss, wrt="self.weights")(x, y)


def test_a_local_callable_depends_on_what_built_it():
    # (before: the call's callee was not an input of the call: a silent zero)
    def f(W, x):
        layer = _Wrap(W)
        return np.sum(layer(x))

    with pytest.raises(S2SGradError):
        grad(f)(np.ones((3, 2)), np.ones((4, 3)))


def test_the_disk_cache_notices_an_edited_method_of_a_class_in_another_file(tmp_path):
    import importlib
    import s2sgrad.back.cache
    (tmp_path / "classes_lib_mod.py").write_text(
        "import numpy as np\n\nclass Scale:\n    def __init__(self):\n        self.w = np.ones(2)\n\n"
        "    def apply(self, x):\n        return self.w * x * 2.0\n")
    (tmp_path / "classes_loss_mod.py").write_text(
        "import numpy as np\n\ndef loss(obj, x):\n    return np.sum(obj.apply(x))\n")
    sys.path.insert(0, str(tmp_path))
    try:
        lib = importlib.import_module("classes_lib_mod")
        mod = importlib.import_module("classes_loss_mod")
        x = np.array([1.0, 2.0])
        np.testing.assert_allclose(grad(mod.loss, wrt=1)(lib.Scale(), x), [2.0, 2.0])
        (tmp_path / "classes_lib_mod.py").write_text(
            "import numpy as np\n\nclass Scale:\n    def __init__(self):\n        self.w = np.ones(2)\n\n"
            "    def apply(self, x):\n        return self.w * x * 3.0\n")
        importlib.invalidate_caches()
        lib = importlib.reload(lib)
        s2sgrad.back.cache.clear()           # a new process: only the disk cache is left
        np.testing.assert_allclose(grad(mod.loss, wrt=1)(lib.Scale(), x), [3.0, 3.0])
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("classes_lib_mod", None)
        sys.modules.pop("classes_loss_mod", None)


def test_the_dispatcher_checks_an_objects_structure():
    net = Net()
    x, y = _data()
    g = grad(Net.loss, wrt="self.params")
    for _ in range(3):                  # a generated dispatcher from the second call on
        g(net, x, y)
    assert g._dispatched
    other = Net()
    other.params["W2"] = np.ones((4, 3))          # another structure: other code
    other.params["b2"] = np.zeros(3)
    grads = g(other, x, np.ones((5, 3)))
    assert grads["W2"].shape == (4, 3)
    finite_difference_check(other.loss, (x, np.ones((5, 3))), "self.params", grads)
