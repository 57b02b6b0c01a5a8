"""Lists, tuples and dicts: built and indexed inside the function, passed as
arguments (the gradient has the argument's structure), tuple unpacking, swaps,
np.array / np.stack of active scalars, list comprehensions."""
import copy

import numpy as np
import pytest

import s2sgrad

from s2sgrad import grad
from gradcheck import check_grad

rng = np.random.default_rng(5)


def _leaves(tree, path=()):
    if isinstance(tree, dict):
        for k in tree:
            yield from _leaves(tree[k], path + (k,))
    elif isinstance(tree, (list, tuple)):
        for k, v in enumerate(tree):
            yield from _leaves(v, path + (k,))
    else:
        yield path, tree


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def _set(tree, path, value):
    """A copy of ``tree`` with the leaf at ``path`` replaced (tuples rebuilt)."""
    if not path:
        return value
    k = path[0]
    if isinstance(tree, tuple):
        items = list(tree)
        items[k] = _set(items[k], path[1:], value)
        return tuple(items)
    tree = copy.copy(tree)
    tree[k] = _set(tree[k], path[1:], value)
    return tree


def check_container_grad(f, args, i=0, eps=1e-6, rtol=1e-6, atol=1e-8):
    """Gradient w.r.t. a container argument against central differences, leaf by leaf."""
    g = grad(f, wrt=i)(*args)
    arg = args[i]
    assert type(g) is type(arg)
    for path, leaf in _leaves(arg):
        got = np.asarray(_get(g, path), dtype=float)
        leaf = np.asarray(leaf, dtype=float)
        assert got.shape == leaf.shape, path
        num = np.zeros(leaf.shape)
        for k in range(leaf.size):
            for sign in (1, -1):
                bumped = leaf.copy()
                bumped.flat[k] += sign * eps
                value = bumped if bumped.ndim else float(bumped)
                call = list(args)
                call[i] = _set(arg, path, value)
                num.flat[k] += sign * f(*call) / (2 * eps)
        np.testing.assert_allclose(got, num, rtol=rtol, atol=atol, err_msg=str(path))
    return g


# -- built and indexed inside the function ------------------------------------------------


def list_literal(a):
    b = [1.0, a * a, 2.0]
    return np.sum(b) * a


def tuple_indexed_in_loop(a, b, c):
    x = a, b, c
    s = 0.0
    for i in range(3):
        s = s + x[i] * x[i] * (i + 1)
    return s


def dict_literal(a, b):
    val = {'a': a, 'b': b * 2.0}
    return val['a'] * val['b'] + np.sin(val['a'])


def unpack_and_swap(a, b):
    p = (a * 2.0, b)
    u, v = p
    u, v = v, u
    return u * v * v


def unpack_in_loop(a, b):
    for i in range(3):
        a, b = b, a * b
    return a + b


def array_of_scalars(a, b):
    v = np.array([a * b, a + b, 3.0])
    w = np.stack([a, b * b])
    return np.sum(v * v) + np.sum(w * w)


def comprehension(x):
    ys = [np.sin(x[i]) * i for i in range(x.shape[0])]
    zs = [r * r for r in x]
    return np.sum(ys) + np.sum(np.stack([z * 2.0 for z in zs]))


def append_in_loop(x):
    ys = []
    for i in range(x.shape[0]):
        ys.append(np.sin(x[i]) * x[i])
    return np.sum(np.stack(ys) ** 2)


def append_reading_earlier_items(x, n):
    hs = [x]
    for t in range(n):
        hs.append(np.tanh(hs[t] * 1.5 + x))
    return np.sum(hs[-1]) + np.sum(hs[1])


def test_list_append_in_a_loop():
    check_grad(append_in_loop, (rng.normal(size=4),))


def test_append_reading_earlier_items():
    check_grad(append_reading_earlier_items, (rng.normal(size=3), 3))
    g = grad(append_reading_earlier_items)
    g(rng.normal(size=3), 3)
    assert "hs.pop()" in g.source


def test_list_literal():
    check_grad(list_literal, (1.5,))


def test_tuple_indexed_in_a_loop():
    check_grad(tuple_indexed_in_loop, (1.0, -2.0, 0.5), wrt=(0, 1, 2))


def test_dict_literal():
    check_grad(dict_literal, (1.5, -0.3), wrt=(0, 1))


def test_tuple_unpacking_and_swap():
    check_grad(unpack_and_swap, (1.5, 2.0), wrt=(0, 1))


def test_swap_in_a_loop():
    check_grad(unpack_in_loop, (0.9, 1.1), wrt=(0, 1))


def test_np_array_and_stack_of_active_scalars():
    check_grad(array_of_scalars, (1.5, 2.0), wrt=(0, 1))


def generator_into_sum(x):
    return sum(np.sin(v) * v for v in x) + sum(v * x[0] for v in x)


def test_generator_expression_consumed_by_sum():
    check_grad(generator_into_sum, (rng.normal(size=4),))


def filtered_and_nested_comprehensions(x):
    ys = [v * v for v in x if v > 0]
    pairs = [x[i] * x[j] for i in range(3) for j in range(i + 1)]
    return sum(ys) + sum(pairs) + sum(np.sin(v) for v in x if v < 0.5)


def test_comprehensions_with_filters_and_several_for_clauses():
    check_grad(filtered_and_nested_comprehensions, (np.array([0.3, -0.4, 0.9]),))


def test_list_comprehensions():
    check_grad(comprehension, (rng.normal(size=4),))
    g = grad(comprehension)
    g(rng.normal(size=4))
    assert "for " in g.source and "reversed(range(" in g.source


# -- containers as arguments ---------------------------------------------------------------


def mlp_loss(params, x, y):
    h = np.tanh(np.dot(x, params["W1"]) + params["b1"])
    out = np.dot(h, params["W2"]) + params["b2"]
    return np.mean((out - y) ** 2)


def list_of_weights(ws, x):
    h = x
    for W in ws:
        h = np.tanh(np.dot(h, W))
    return np.sum(h)


def tuple_of_arrays(pair):
    a, b = pair
    return np.sum(a * b) + np.sum(pair[0])


def nested_params(p):
    return np.sum(p["layer"][0] * p["layer"][1]) * p["scale"]


def iterate_dict(params, x):
    s = 0.0
    for name, W in params.items():
        s = s + np.sum(np.tanh(W * x))
    for W in params.values():
        s = s + np.sum(W * W)
    for k in params.keys():
        s = s * 0.5 + np.sum(params[k])
    return s


def iterate_dict_directly(params, x):
    local = {"u": x * 2.0, "v": np.sin(x)}
    s = 0.0
    for k in params:
        s = s + np.sum(params[k] * x)
    for k in local:
        s = s + np.sum(local[k] ** 2)
    return s


def test_for_key_in_dict():
    p = {"a": rng.normal(size=3), "b": rng.normal(size=3)}
    check_container_grad(iterate_dict_directly, (p, rng.normal(size=3)))
    check_grad(iterate_dict_directly, (p, rng.normal(size=3)), wrt=1)


def test_iterating_over_dict_items_values_keys():
    p = {"a": rng.normal(size=3), "b": rng.normal(size=3)}
    check_container_grad(iterate_dict, (p, 0.7))


def layers_loss(layers, X):
    n, d = X.shape
    h = X
    for W, b in layers:
        h = np.tanh(np.dot(h, W) + b)
    logits = h - np.max(h, axis=1, keepdims=True)
    p = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    return -np.sum(np.log(p[:, 0])) / n


def test_list_of_weight_bias_pairs():
    layers = [(rng.normal(size=(3, 4)), rng.normal(size=4)),
              (rng.normal(size=(4, 2)), rng.normal(size=2))]
    g = check_container_grad(layers_loss, (layers, rng.normal(size=(5, 3))))
    assert isinstance(g, list) and all(isinstance(pair, tuple) for pair in g)


def test_dict_params_gradient_is_a_dict():
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    g = check_container_grad(mlp_loss, (params, x, y))
    assert set(g) == set(params)


def test_list_of_weight_matrices():
    ws = [rng.normal(size=(3, 3)) * 0.5 for _ in range(3)]
    g = check_container_grad(list_of_weights, (ws, rng.normal(size=(2, 3))))
    assert isinstance(g, list) and len(g) == 3


def test_tuple_argument():
    g = check_container_grad(tuple_of_arrays, ((rng.normal(size=3), rng.normal(size=3)),))
    assert isinstance(g, tuple)


def test_nested_container_argument():
    p = {"layer": [rng.normal(size=2), rng.normal(size=2)], "scale": 1.5}
    check_container_grad(nested_params, (p,))


def test_arguments_are_not_mutated():
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}
    before = {k: v.copy() for k, v in params.items()}
    grad(mlp_loss)(params, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    for k in params:
        assert np.array_equal(params[k], before[k])


def _weighted(params):
    return params["w"] * params["x"] + params["b"] ** 2


def dict_from_keywords(w, x, b):
    return _weighted(dict(w=w, x=x * 2.0, b=b)) + dict(c=3.0)["c"]


def test_dict_built_with_keywords():
    check_grad(dict_from_keywords, (0.7, -1.2, 0.4), wrt=(0, 1, 2))
    g = grad(dict_from_keywords, wrt=(0, 1, 2))(0.7, -1.2, 0.4)
    assert g == pytest.approx((-2.4, 1.4, 0.8), rel=1e-15)



# -- values of `or` / `and`, and list arithmetic ---------------------------------------

def value_of_or(x, w):
    y = x or w            # x unless x is zero
    z = w and x * 2.0     # x * 2 unless w is zero
    return y * y + z * w


def value_of_or_with_a_call(x):
    return (np.sin(x) or 1.0) * 3.0 + (x > 5.0 and x) * 1.0


def repeated_and_joined_displays(x, y):
    v = [x] * 3 + [y * 2.0]
    t = (x, y) + (x * y,)
    w = 2 * [y]
    return sum(v) * t[2] + sum(w)


def test_or_and_return_an_operand_and_its_gradient():
    for point in [(0.7, 1.3), (0.0, 1.3), (-0.4, 2.0)]:   # (not at w == 0: a jump)
        check_grad(value_of_or, point, wrt=(0, 1))
    check_grad(value_of_or_with_a_call, (0.4,))
    check_grad(value_of_or_with_a_call, (6.0,))
    gx, gw = grad(value_of_or, wrt=(0, 1))(0.0, 1.3)         # y is w, z is 0.0 * 2
    assert (gx, gw) == pytest.approx((2.0 * 1.3, 2.0 * 1.3))


def test_or_evaluates_its_first_operand_once():
    def f(x):
        return (np.sin(x) or 1.0) * x

    g = grad(f)
    assert g(1.5) == pytest.approx(np.sin(1.5) + 1.5 * np.cos(1.5), rel=1e-15)
    forward = g.source.split("# Backward pass")[0]
    assert forward.count("np.sin(") == 1          # a temporary, then tested and returned


def test_list_displays_repeated_and_joined_keep_each_item():
    check_grad(repeated_and_joined_displays, (0.7, -1.2), wrt=(0, 1))
    gx, gy = grad(repeated_and_joined_displays, wrt=(0, 1))(0.5, 2.0)
    # (3x + 2y) * x * y + 2y
    assert gx == pytest.approx(3 * 0.5 * 2.0 + (3 * 0.5 + 4.0) * 2.0)
    assert gy == pytest.approx(2 * 0.5 * 2.0 + (3 * 0.5 + 4.0) * 0.5 + 2.0)


def test_arithmetic_on_list_variables_is_a_clear_error():
    def repeat(x):
        ys = [x, 2.0 * x]
        v = ys * 2
        return sum(v)

    def join(x):
        a = [x]
        b = [x * 3.0]
        return sum(a + b)

    for f, op in ((repeat, r"'\*' on the list or tuple 'ys'"), (join, r"'\+' on the list")):
        with pytest.raises(s2sgrad.UnsupportedSyntaxError, match=op):
            grad(f)(0.7)


def test_a_list_times_an_array_is_numpy_arithmetic():
    def weighted(x):
        ys = [x, 2.0 * x]
        return np.sum(ys * np.array([1.0, 3.0]))

    assert grad(weighted)(0.7) == pytest.approx(7.0)


def dict_filled_by_item_writes(x):
    d = {}
    d["a"] = x * 2.0
    d["b"] = d["a"] * x
    d["a"] = d["b"] + 1.0           # an existing key written again
    return np.sum(d["a"] * d["b"])


def dict_filled_in_a_loop(x):
    d = {"start": x}
    for k in range(3):
        d[k] = np.sin(d["start"] * (k + 1.0))
    return np.sum(d[0] * d[2]) + np.sum(d[1])


def test_dict_keys_added_by_writes():
    x = np.array([0.5, -1.0, 2.0])
    check_grad(dict_filled_by_item_writes, (x,))
    check_grad(dict_filled_in_a_loop, (x,))
