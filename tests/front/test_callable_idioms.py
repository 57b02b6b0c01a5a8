"""The callable idioms issue #14 lists, each against finite differences or a closed
form: map, functools.reduce, sorted(..., key=...) on data that is not differentiated,
getattr(np, name), a loop over zip(*f(params)) (autograd's GMM), f(*xs) of a list
display, and the clear error where zip(*pairs) of differentiated values is used as
a value."""
import functools

import numpy as np
import pytest

from s2sgrad import grad
from s2sgrad.errors import S2SGradError
from gradcheck import check_grad

rng = np.random.default_rng(9)


def with_map(x):
    return sum(map(np.sum, [x, x * 2.0, np.sin(x)]))


def with_reduce(x):
    return functools.reduce(lambda a, b: a * b, [x[0], x[1], x[2]]) + \
        functools.reduce(np.add, [x, x ** 2, x ** 3]).sum()


def with_sorted_key(x, names):
    total = 0.0
    for k, name in enumerate(sorted(names, key=lambda s: len(s))):
        total = total + x[len(name) - 1] * (k + 1)
    return total


def with_getattr(x, name):
    return np.sum(getattr(np, name)(x))


def unpack(params):
    return np.tanh(params['a']), params['b'], params['c']


def zip_of_a_starred_call(a, b, c):
    params = {'a': a, 'b': b, 'c': c}
    total = 0.0
    for a, b, c in zip(*unpack(params)):
        total = total + a * b - np.sin(c)
    return total


def spread_list(x):
    parts = [x[0], x[1] * 2.0, x[2] ** 2]
    return _three(*parts) + np.hypot(*(parts[0], parts[1]))


def _three(a, b, c):
    return a * b * c


def test_map_reduce():
    check_grad(with_map, (rng.normal(size=4),))
    check_grad(with_reduce, (rng.normal(size=3),))


def test_sorted_with_a_key_on_data_that_is_not_differentiated():
    x = rng.normal(size=3)
    g = grad(with_sorted_key)(x, ["abc", "a", "ab"])
    np.testing.assert_allclose(g, [1.0, 2.0, 3.0])
    check_grad(with_sorted_key, (x, ["abc", "a", "ab"]), wrt=0)


@pytest.mark.parametrize("name", ["sin", "exp", "tanh"])
def test_getattr_of_numpy(name):
    x = rng.normal(size=3)
    check_grad(with_getattr, (x, name), wrt=0)


def test_a_loop_over_zip_of_a_starred_call():
    check_grad(zip_of_a_starred_call, tuple(rng.normal(size=(3, 3))), wrt=(0, 1, 2))


def test_a_list_display_spread_as_arguments():
    check_grad(spread_list, (rng.normal(size=3),))


def zip_of_pairs_as_a_value(x):
    pairs = [(x[0], x[1]), (x[1], x[2])]
    firsts, seconds = zip(*pairs)
    return firsts[0] * seconds[1]


def test_zip_of_differentiated_pairs_as_a_value_is_a_clear_error():
    with pytest.raises(S2SGradError, match="zip"):
        grad(zip_of_pairs_as_a_value)(rng.normal(size=3))
