"""The conventions JAX / autograd users reach for first, tested the way JAX's own API
tests do: has_aux with pytrees, argnums, tree utilities round trips, ravel_pytree with
scipy.optimize, check_grads catching a deliberately wrong custom adjoint,
elementwise_grad.  Every gradient is compared with central finite differences."""
import collections
import doctest

import numpy as np
import pytest

import s2sgrad
from gradcheck import numeric_grad
from s2sgrad import (adjoint, check_grads, elementwise_grad, grad, ravel_pytree, stop_gradient,
                     tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten,
                     value_and_grad, vjp)
from s2sgrad.errors import UnsupportedSyntaxError, WrtError

RNG = np.random.default_rng(7)


def fd_grad_tree(f, args, i, eps=1e-6):
    """Central differences of scalar f w.r.t. every leaf of pytree argument i."""
    flat, unravel = ravel_pytree(args[i])
    out = np.zeros_like(flat)
    for k in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += eps
        minus[k] -= eps
        a, b = list(args), list(args)
        a[i], b[i] = unravel(plus), unravel(minus)
        out[k] = (float(f(*a)) - float(f(*b))) / (2 * eps)
    return unravel(out)


def assert_tree_close(a, b, rtol=1e-6, atol=1e-8):
    la, ta = tree_flatten(a)
    lb, tb = tree_flatten(b)
    assert ta == tb, (ta, tb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------
# has_aux


def model(params, x, y):
    h = np.tanh(x @ params["w"] + params["b"])
    pred = h @ params["v"]
    err = pred - y
    loss = np.mean(err ** 2)
    return loss, {"pred": pred, "stats": (np.mean(h), [np.max(np.abs(err))])}


def model_loss(params, x, y):
    h = np.tanh(x @ params["w"] + params["b"])
    return np.mean((h @ params["v"] - y) ** 2)


def model_aux(params, x, y):
    return model(params, x, y)[1]


def _model_args():
    params = {"w": RNG.standard_normal((3, 4)), "b": RNG.standard_normal(4),
              "v": RNG.standard_normal(4)}
    return params, RNG.standard_normal((5, 3)), RNG.standard_normal(5)


def test_grad_has_aux_pytree_aux_depends_on_inputs():
    args = _model_args()
    g, aux = grad(model, has_aux=True)(*args)
    assert_tree_close(g, fd_grad_tree(model_loss, args, 0), rtol=1e-6, atol=1e-9)
    assert_tree_close(aux, model_aux(*args), rtol=1e-14, atol=0)
    # the aux is returned as a value: the generated code has no adjoint for it
    src = grad(model, has_aux=True).source
    assert "grad_pred " not in src.split("# Backward pass")[0]
    assert "return grad_params, aux" in src.replace("(", "").replace(")", "") or \
        src.rstrip().splitlines()[-1].strip().endswith("aux")


def test_value_and_grad_has_aux_matches_jax_layout():
    args = _model_args()
    (value, aux), g = value_and_grad(model, has_aux=True)(*args)
    np.testing.assert_allclose(value, model_loss(*args), rtol=1e-14)
    assert_tree_close(aux, model_aux(*args), rtol=1e-14, atol=0)
    assert_tree_close(g, fd_grad_tree(model_loss, args, 0), rtol=1e-6, atol=1e-9)


def test_has_aux_with_tuple_argnums():
    def f(a, b):
        z = a * np.sin(b)
        return np.sum(z ** 2), z
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    (ga, gb), z = grad(f, argnums=(0, 1), has_aux=True)(a, b)
    np.testing.assert_allclose(z, a * np.sin(b), rtol=1e-15)
    scalar = lambda a, b: f(a, b)[0]        # noqa: E731
    np.testing.assert_allclose(ga, numeric_grad(scalar, (a, b), 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gb, numeric_grad(scalar, (a, b), 1), rtol=1e-6, atol=1e-9)


def test_vjp_has_aux():
    def f(x):
        y = np.tanh(x) * 3.0
        return y, {"norm": np.sqrt(np.sum(y ** 2))}
    x = RNG.standard_normal(4)
    y, pullback, aux = vjp(f, has_aux=True)(x)
    np.testing.assert_allclose(y, np.tanh(x) * 3.0, rtol=1e-15)
    np.testing.assert_allclose(aux["norm"], np.linalg.norm(np.tanh(x) * 3.0), rtol=1e-14)
    ct = RNG.standard_normal(4)
    expected = numeric_grad(lambda x: np.sum(ct * f(x)[0]), (x,), 0)
    np.testing.assert_allclose(pullback(ct), expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(pullback(2 * ct), 2 * expected, rtol=1e-6, atol=1e-9)


def test_has_aux_through_early_returns():
    def f(x, flag):
        if flag > 0:
            return np.sum(x ** 2), x * 3.0
        return np.sum(x ** 3), x * 4.0
    x = RNG.standard_normal(3)
    g1, aux1 = grad(f, has_aux=True)(x, 1)
    g2, aux2 = grad(f, has_aux=True)(x, -1)
    np.testing.assert_allclose(g1, 2 * x, rtol=1e-14)
    np.testing.assert_allclose(g2, 3 * x ** 2, rtol=1e-14)
    np.testing.assert_allclose(aux1, 3 * x, rtol=1e-15)
    np.testing.assert_allclose(aux2, 4 * x, rtol=1e-15)


def test_has_aux_returned_pair_by_name():
    def f(x):
        pair = (np.sum(np.exp(x)), np.exp(x))
        return pair
    x = RNG.standard_normal(3)
    g, aux = grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, np.exp(x), rtol=1e-14)
    np.testing.assert_allclose(aux, np.exp(x), rtol=1e-15)


def test_has_aux_wrong_arity_is_an_error_naming_the_line():
    def f(x):
        return np.sum(x), x, x
    with pytest.raises(UnsupportedSyntaxError, match="returns 3 values"):
        grad(f, has_aux=True)(np.ones(2))


def test_without_has_aux_a_pair_is_still_not_a_scalar():
    def f(x):
        return np.sum(x), x
    with pytest.raises(s2sgrad.NonScalarOutputError, match="has_aux=True"):
        grad(f)(np.ones(2))


# --------------------------------------------------------------------------
# argnums


def test_argnums_is_wrt():
    def f(a, b, c):
        return np.sum(a * b ** 2 + c)
    args = tuple(RNG.standard_normal(3) for _ in range(3))
    for spec in (0, 1, (0, 2), ("b", 0)):
        got = grad(f, argnums=spec)(*args)
        ref = grad(f, wrt=spec)(*args)
        assert_tree_close(got, ref, rtol=0, atol=0)
    np.testing.assert_allclose(grad(f, argnums=1)(*args), 2 * args[0] * args[1], rtol=1e-14)
    value, g = value_and_grad(f, argnums=(1,))(*args)
    np.testing.assert_allclose(g[0], 2 * args[0] * args[1], rtol=1e-14)
    jac = s2sgrad.jacobian(lambda x: x ** 2, argnums=0)(args[0])
    np.testing.assert_allclose(jac, np.diag(2 * args[0]), rtol=1e-14)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "jvp", "jacobian",
                                       "hessian", "hvp", "elementwise_grad"])
def test_wrt_and_argnums_together_is_an_error(transform):
    def f(x):
        return np.sum(x ** 2)
    with pytest.raises(WrtError, match="both wrt=0 and argnums=0"):
        getattr(s2sgrad, transform)(f, wrt=0, argnums=0)


# --------------------------------------------------------------------------
# tree utilities

Point = collections.namedtuple("Point", "x y")


TREES = [
    1.0,
    np.arange(3.0),
    {"b": 1.0, "a": [np.ones(2), (2.0, np.zeros((2, 2)))]},
    [1.0, None, {"z": 3.0}],
    (Point(1.0, np.ones(2)), []),
    {},
]


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_tree_flatten_unflatten_roundtrip(tree):
    leaves, treedef = tree_flatten(tree)
    back = tree_unflatten(treedef, leaves)
    assert tree_structure(back) == treedef
    assert type(back) is type(tree)
    for a, b in zip(tree_leaves(back), leaves):
        assert a is b
    assert treedef.num_leaves == len(leaves)


def test_tree_flatten_order_and_structure():
    leaves, treedef = tree_flatten({"w": [1.0, 2.0], "b": 3.0})
    assert leaves == [3.0, 1.0, 2.0]            # sorted keys, as JAX
    assert repr(treedef) == "PyTreeDef({'b': *, 'w': [*, *]})"
    # dicts built in another key order have the same structure
    assert tree_structure({"b": 0.0, "w": [0.0, 0.0]}) == treedef
    assert tree_structure({"b": 0.0, "w": (0.0, 0.0)}) != treedef
    assert tree_structure(Point(1.0, 2.0)) != tree_structure((1.0, 2.0))


def test_tree_map_one_line_sgd_step_on_grad_of_param_dict():
    def loss(params, x):
        return np.sum((x @ params["w"] + params["b"]) ** 2)
    params = {"w": np.array([1.0, -2.0]), "b": 0.5}
    x = np.array([[1.0, 2.0], [0.5, 0.0]])
    g = grad(loss)(params, x)
    new = tree_map(lambda p, d: p - 0.1 * d, params, g)
    ref = fd_grad_tree(loss, (params, x), 0)
    np.testing.assert_allclose(new["w"], params["w"] - 0.1 * ref["w"], rtol=1e-7)
    np.testing.assert_allclose(new["b"], params["b"] - 0.1 * ref["b"], rtol=1e-7)
    assert isinstance(new["b"], float)


def test_tree_map_errors():
    with pytest.raises(ValueError, match="structure"):
        tree_map(lambda a, b: a + b, {"a": 1.0}, {"b": 1.0})
    leaves, treedef = tree_flatten([1.0, 2.0])
    with pytest.raises(ValueError, match="2 leaves, got 3"):
        tree_unflatten(treedef, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        tree_unflatten([1.0], [1.0])


def test_ravel_pytree_roundtrip_keeps_shapes_and_dtypes():
    tree = {"a": np.arange(6.0).reshape(2, 3), "b": [1.5, np.float32(2.5)],
            "c": np.array(3.0), "d": np.ones(2, dtype=np.float32)}
    flat, unravel = ravel_pytree(tree)
    assert flat.shape == (11,) and flat.dtype == np.float64
    np.testing.assert_array_equal(flat, np.concatenate([np.arange(6.0),
                                                        [1.5, 2.5, 3.0, 1.0, 1.0]]))
    back = unravel(flat)
    assert tree_structure(back) == tree_structure(tree)
    assert type(back["b"][0]) is float
    assert back["b"][1].dtype == np.float32 and np.ndim(back["b"][1]) == 0
    assert back["c"].shape == () and isinstance(back["c"], np.ndarray)
    assert back["d"].dtype == np.float32
    assert_tree_close(back, tree, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"shape \(11,\)"):
        unravel(flat[:3])
    with pytest.raises(TypeError, match="not a number"):
        ravel_pytree({"a": "text"})


def test_ravel_pytree_with_scipy_optimize_minimize():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 3))
    true_w, true_b = np.array([1.0, -2.0, 0.5]), 0.3
    y = X @ true_w + true_b + 0.01 * rng.standard_normal(20)

    def loss(params, X, y):
        r = X @ params["w"] + params["b"] - y
        return 0.5 * np.sum(r ** 2) + 0.05 * np.sum(params["w"] ** 2)

    dloss = value_and_grad(loss)
    flat0, unravel = ravel_pytree({"w": np.zeros(3), "b": 0.0})

    def objective(v):
        value, g = dloss(unravel(v), X, y)
        return value, ravel_pytree(g)[0]

    res = optimize.minimize(objective, flat0, jac=True, method="BFGS", options={"gtol": 1e-10})
    best = unravel(res.x)
    # closed form: ridge on w (not on b), least squares on [X 1]
    A = np.hstack([X, np.ones((20, 1))])
    reg = np.diag([0.1, 0.1, 0.1, 0.0])
    exact = np.linalg.solve(A.T @ A + reg, A.T @ y)
    np.testing.assert_allclose(best["w"], exact[:3], rtol=1e-6)
    np.testing.assert_allclose(best["b"], exact[3], rtol=1e-6)


# --------------------------------------------------------------------------
# check_grads


def test_check_grads_passes_on_correct_code_orders_1_and_2():
    def f(x, W):
        return np.sum(np.tanh(W @ x) ** 2)

    def vector_out(x, W):
        return np.sin(W @ x), x * 2.0

    x, W = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    check_grads(f, (x, W), order=2, wrt=(0, 1))
    check_grads(vector_out, (x, W), order=2, argnums=(0, 1))
    check_grads(model_loss, _model_args(), order=1)
    assert check_grads(f, (x, W), order=1, modes=("rev",)) is None


def my_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@adjoint(my_sigmoid)
def _wrong_adjoint(result, x):
    grad[x] = grad[result] * result * (1.0 + result)     # noqa: F821 -- should be 1 - result


def test_check_grads_catches_a_deliberately_wrong_custom_adjoint():
    def loss(x):
        return np.sum(my_sigmoid(x) * x)

    x = np.array([0.3, -1.2, 2.0])
    s = 1.0 / (1.0 + np.exp(-x))
    true_grad = s * (1 - s) * x + s                # the finite differences must find this
    wrong_grad = s * (1 + s) * x + s
    np.testing.assert_allclose(grad(loss)(x), wrong_grad, rtol=1e-14)   # the adjoint is used
    with pytest.raises(AssertionError) as info:
        check_grads(loss, (x,), order=1, modes=("rev",))
    message = str(info.value)
    worst = int(np.argmax(np.abs(wrong_grad - true_grad)))
    assert "reverse mode (grad) of loss" in message
    assert "worst element x[%d]:" % worst in message
    assert "s2sgrad %.10g" % wrong_grad[worst] in message
    fd = float(message.split("finite differences ")[1].split(" ")[0])
    np.testing.assert_allclose(fd, true_grad[worst], rtol=1e-7)
    assert len(message.splitlines()) <= 4
    with pytest.raises(AssertionError, match="forward mode \\(jvp\\) of loss"):
        check_grads(loss, (x,), order=1, modes=("fwd",))


def test_check_grads_catches_a_wrong_second_derivative_only_at_order_2():
    def cube(x):
        return x ** 3

    @adjoint(cube)
    def _(result, x):
        # right first derivative, written with a value the compiler cannot see through
        grad[x] = grad[result] * 3.0 * stop_gradient(x) ** 2

    def f(x):
        return np.sum(cube(x))

    x = np.array([0.5, -1.5])
    check_grads(f, (x,), order=1)
    with pytest.raises(AssertionError, match="worst element x\\[1\\]"):
        check_grads(f, (x,), order=2, modes=("rev",))


def test_check_grads_bad_arguments():
    def f(x):
        return np.sum(x ** 2)
    with pytest.raises(TypeError, match="as a tuple"):
        check_grads(f, np.ones(2))
    with pytest.raises(ValueError, match="modes"):
        check_grads(f, (np.ones(2),), modes=("backward",))
    with pytest.raises(ValueError, match="order"):
        check_grads(f, (np.ones(2),), order=0)


# --------------------------------------------------------------------------
# elementwise_grad


def test_elementwise_grad_matches_the_derivative_at_each_entry():
    def f(x):
        return np.tanh(x) * x ** 2
    x = RNG.standard_normal((2, 3))
    t = np.tanh(x)
    expected = (1 - t ** 2) * x ** 2 + 2 * x * t
    np.testing.assert_allclose(elementwise_grad(f)(x), expected, rtol=1e-13)
    assert "def pullback" in elementwise_grad(f).source

    def g(a, b):
        return a * np.exp(b)
    a, b = RNG.standard_normal(3), RNG.standard_normal(3)
    da, db = elementwise_grad(g, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(da, np.exp(b), rtol=1e-14)
    np.testing.assert_allclose(db, a * np.exp(b), rtol=1e-14)


# --------------------------------------------------------------------------
# the docstring examples run


PUBLIC = [n for n in s2sgrad.__all__ if n != "__version__"
          and not isinstance(getattr(s2sgrad, n), type)]


@pytest.fixture
def rules_restored():
    """The examples of adjoint / tangent_rule register rules for functions defined in
    the doctest, whose source is gone once it ends: the rule tables are put back as
    they were (a rule without source would make every later disk-cache key fail)."""
    from s2sgrad.back import cache
    from s2sgrad.rules import registry, tangents
    tables = [(registry, n) for n in ("_BY_OBJECT", "_METHODS", "_ATTRIBUTES", "_OPERATORS",
                                      "_BOUND", "_ORDER")] + \
        [(tangents, n) for n in ("_TABLE", "_OBJECTS")]
    saved = [(m, n, getattr(m, n).copy()) for m, n in tables]
    yield
    for m, n, copy in saved:
        table = getattr(m, n)
        table.clear()
        table.update(copy) if isinstance(table, dict) else table.extend(copy)
    if hasattr(cache, "clear"):
        cache.clear()          # code generated with the examples' rules


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_examples(name, rules_restored):
    obj = getattr(s2sgrad, name)
    assert ">>>" in (obj.__doc__ or ""), "%s has no example" % name
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(obj, name, globs={}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0
