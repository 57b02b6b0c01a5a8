"""A user object whose method is named like an ndarray method (``model.sum(x)``,
``layer.dot(w)``, ``self.mean(...)``): the user's method is called and differentiated,
never NumPy's rule of the same name. Where the object cannot be resolved at generation
time the answer is a clear error, never a gradient of ``ndarray.sum``."""
import types

import numpy as np
import pytest

from s2sgrad import grad
from s2sgrad.errors import UnsupportedCallError
from gradcheck import check_grad

rng = np.random.default_rng(5)


class Stats:
    def __init__(self, scale):
        self.scale = scale

    def sum(self, a):
        return np.sum(a * a) * self.scale

    def mean(self, a, axis=None):
        return np.sum(np.sin(a)) * 3.0

    def dot(self, a, b):
        return np.sum(a * b) * 5.0

    def max(self, a):
        return np.sum(a ** 3)

    def reshape(self, a):
        return a * 2.0

    def copy(self, a):
        return np.exp(a)

    def clip(self, a, lo, hi):
        return a * 7.0

    def T(self, a):
        return a * 6.0


class Sub(Stats):
    pass


class Proj:
    """``dot`` as a projection: NumPy's rule for ``a.dot(w)`` would transpose ``a``."""

    def __init__(self, v):
        self.v = v

    def dot(self, w):
        return w * self.v

    @property
    def T(self):
        return self


def uses_sum(x, st):
    return st.sum(x)


def uses_mean_keyword(x, st):
    return st.mean(x, axis=0)


def uses_dot(x, st):
    return st.dot(x, np.cos(x))


def uses_max(x, st):
    return st.max(x)


def uses_reshape_copy_clip_T(x, st):
    return np.sum(st.reshape(x)) + np.sum(st.copy(x)) + np.sum(st.clip(x, 0, 1)) \
        + np.sum(st.T(x))


def array_and_object_sum(x, st):
    y = x * 1.5
    return y.sum() + st.sum(y) + y.mean()


def sum_over_objects(x, layers):
    total = 0.0
    for layer in layers:
        total = total + layer.sum(x)
    return total


def object_in_dict(x, d):
    return d['stats'].sum(x)


def unpacked_pair(w, pair):
    a, b = pair
    return np.sum(a.dot(w) ** 2) + np.sum(b.dot(w))


@pytest.mark.parametrize("f, expected", [
    (uses_sum, lambda x: 2 * x * 2.0),
    (uses_mean_keyword, lambda x: 3.0 * np.cos(x)),
    (uses_dot, lambda x: 5.0 * (np.cos(x) - x * np.sin(x))),
    (uses_max, lambda x: 3 * x ** 2),
    (uses_reshape_copy_clip_T, lambda x: 2.0 + np.exp(x) + 7.0 + 6.0),
    (array_and_object_sum, lambda x: 1.5 + 2.0 * 2 * 1.5 * 1.5 * x + 1.5 / x.size),
], ids=lambda v: getattr(v, "__name__", ""))
def test_the_users_method_is_called(f, expected):
    x = rng.normal(size=5)
    st = Stats(2.0)
    np.testing.assert_allclose(grad(f)(x, st), expected(x), rtol=1e-12, atol=1e-12)
    check_grad(f, (x, st))


def test_objects_in_lists_and_dicts():
    x = rng.normal(size=4)
    np.testing.assert_allclose(grad(sum_over_objects)(x, [Stats(1.0), Sub(3.0)]),
                               2 * x * 4.0, rtol=1e-12)
    np.testing.assert_allclose(grad(object_in_dict)(x, {'stats': Sub(1.5)}), 3.0 * x,
                               rtol=1e-12)


def test_objects_unpacked_from_a_tuple():
    w = rng.normal(size=3)
    pair = (Proj(2.0), Proj(3.0))
    np.testing.assert_allclose(grad(unpacked_pair)(w, pair), 2 * w * 4.0 + 3.0, rtol=1e-12)
    check_grad(unpacked_pair, (w, pair))


class Model:
    def __init__(self):
        self.params = {'W': rng.normal(size=3)}
        self.stats = Stats(3.0)

    def sum(self, a):
        return np.sum(a * self.params['W'])

    def mean(self, a):
        return np.sum(a ** 2) / 7.0

    def loss(self, x):
        return self.sum(x) + self.stats.sum(self.params['W']) + self.mean(self.params['W'])


def test_self_methods_named_like_ndarray_methods():
    m = Model()
    x = rng.normal(size=3)
    g = grad(m.loss, wrt="self.params")(x)
    W = m.params['W']
    np.testing.assert_allclose(g['W'], x + 6.0 * W + 2 * W / 7.0, rtol=1e-12)
    np.testing.assert_allclose(grad(m.loss)(x), W, rtol=1e-12)


def with_function_attribute(x, ns):
    return ns.sum(x) + ns.mean(x)


class Holder:
    def __init__(self):
        self.sum = lambda a: np.sum(a) * 11.0
        self.mean = np.sin     # a ufunc, not a method: NumPy's own function
        self.extra = 0

    def unused(self):
        return None


def test_functions_stored_on_the_instance():
    x = rng.normal(size=4)
    ns = types.SimpleNamespace(sum=lambda a: np.sum(a) * 9.0,
                               mean=lambda a: np.sum(a ** 2))
    np.testing.assert_allclose(grad(with_function_attribute)(x, ns), 9.0 + 2 * x,
                               rtol=1e-12)

    def only_sum(x, h):
        return h.sum(x * x)
    np.testing.assert_allclose(grad(only_sum)(x, Holder()), 22.0 * x, rtol=1e-12)


def make_stats():
    return Stats(2.0)


def from_a_factory(x):
    return make_stats().sum(x)


def chosen_at_run_time(x, a, b, flag):
    st = a if flag else b
    return st.sum(x)


class Indexable(Stats):
    """Not an 'object' for the inliner (it has __getitem__), still not an array."""

    def __getitem__(self, k):
        return self.scale


def through_indexable(x, obj):
    return obj.sum(x)


@pytest.mark.parametrize("f, args", [
    (from_a_factory, ()),
    (chosen_at_run_time, (Stats(1.0), Stats(3.0), True)),
    (through_indexable, (Indexable(2.0),)),
], ids=["factory", "run_time_choice", "indexable"])
def test_an_unresolved_object_is_a_clear_error_not_ndarray_sum(f, args):
    x = rng.normal(size=3)
    with pytest.raises(UnsupportedCallError, match=r"object whose method \.sum\(\) s2sgrad "
                                                   r"did not resolve here"):
        grad(f)(x, *args)


def test_forward_mode_too():
    from s2sgrad import jvp
    x = rng.normal(size=3)
    with pytest.raises(UnsupportedCallError, match="did not resolve here"):
        jvp(chosen_at_run_time)(x, Stats(1.0), Stats(3.0), True, np.ones(3))
