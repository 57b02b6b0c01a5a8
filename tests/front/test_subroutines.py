"""Calls to the user's own functions are inlined and differentiated: module-level
functions, other modules, nested defs, lambdas, closures, keyword arguments,
defaults, early returns inside the callee, calls inside loops; recursion is
rejected with the call's location."""
import numpy as np
import pytest

from s2sgrad import grad
from s2sgrad.errors import UnsupportedSyntaxError
from gradcheck import check_grad

import subroutine_helpers
from subroutine_helpers import scaled_softplus

rng = np.random.default_rng(7)


def sq(t):
    return t * t


def affine(x, a=2.0, b=1.0):
    if np.sum(x) > 0:
        return a * x + b
    return x * x


def two_outputs(x):
    return np.sin(x), np.cos(x)


def uses_helpers(x):
    return np.sum(sq(x) + affine(x, b=3.0) + affine(sq(x), a=-1.0))


def uses_tuple_result(x):
    s, c = two_outputs(x)
    return np.sum(s * c)


def uses_other_module(x):
    return np.sum(scaled_softplus(x)) + np.sum(subroutine_helpers.softplus(x, beta=2.0))


def uses_nested_def_and_lambda(x, w):
    def inner(v):
        return np.tanh(v * w)       # reads w from the enclosing function
    g = lambda u: u * u + w
    s = 0.0
    for i in range(3):
        s = s + np.sum(inner(x) * g(x))
    return s


def callee_with_loop(x, n):
    for i in range(n):
        x = np.sin(x) * 1.5
    return x


def calls_in_loop(x):
    y = x
    for k in range(2):
        y = callee_with_loop(y, 2) + sq(y)
    return np.sum(y)


def fact(n, x):
    if n <= 1:
        return x
    return x * fact(n - 1, x)


def uses_recursion(x, n):
    return fact(n, x)


def uses_bounded_recursion(x):
    return fact(4, x)


def tree(depth, x):
    if depth == 0:
        return np.sin(x)
    return tree(depth - 1, x) * 0.5 + tree(depth - 1, x * x)


def uses_tree_recursion(x):
    return np.sum(tree(2, x))


def test_module_functions_keywords_defaults_and_early_return():
    check_grad(uses_helpers, (rng.normal(size=4) + 1.0,))
    check_grad(uses_helpers, (rng.normal(size=4) - 1.0,))


def test_callee_returning_a_tuple():
    check_grad(uses_tuple_result, (rng.normal(size=3),))


def test_functions_from_another_module():
    check_grad(uses_other_module, (rng.normal(size=3),))
    g = grad(uses_other_module)
    g(rng.normal(size=3))
    src = g.source
    assert "xp." not in src            # the callee's numpy alias becomes the caller's
    assert "(softplus, line" in src    # comments point into the callee


def test_nested_def_lambda_and_closure():
    check_grad(uses_nested_def_and_lambda, (rng.normal(size=3), 0.7), wrt=(0, 1))


def test_callee_with_a_loop_called_in_a_loop():
    check_grad(calls_in_loop, (rng.normal(size=3) * 0.5,))


def test_generated_code_is_flat():
    g = grad(uses_helpers)
    g(np.ones(3))
    src = g.source
    assert "sq(" not in src and "affine(" not in src
    assert "sq_result = x * x" in src


def test_recursion_bounded_by_a_constant_argument_is_unrolled():
    g = check_grad(uses_bounded_recursion, (1.3,))
    assert abs(g - 4 * 1.3 ** 3) < 1e-12
    check_grad(uses_tree_recursion, (rng.normal(size=3),))


def test_unbounded_recursion_is_rejected_with_location():
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(uses_recursion)(1.5, 3)
    msg = str(info.value)
    assert "recursive call to 'fact'" in msg
    assert "test_subroutines.py" in msg


def test_small_model_matches_autograd():
    autograd = pytest.importorskip("autograd")
    import os
    import tempfile
    import importlib.util
    import autograd.numpy as anp
    from model_e2e import SOURCE
    # s2sgrad needs the source in a file: write the model as a module
    path = os.path.join(tempfile.mkdtemp(), "model_e2e_np.py")
    with open(path, "w") as fh:
        fh.write("import numpy as np\n" + SOURCE)
    spec = importlib.util.spec_from_file_location("model_e2e_np", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ns = {"np": anp}
    exec(SOURCE, ns)
    params = {"Ws": [rng.normal(size=(4, 5)) * .5, rng.normal(size=(5, 3)) * .5],
              "bs": [rng.normal(size=5), rng.normal(size=3)]}
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    got = grad(mod.model)(params, X, y, 3)
    want = autograd.grad(ns["model"])(params, X, y, 3)
    for key in ("Ws", "bs"):
        for a, b in zip(got[key], want[key]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def norm2(v):
    return np.sum(v * v)


def call_in_while_condition(x):
    y = x
    while norm2(y) > 0.5:
        y = y * 0.8
    return np.sum(y * x)


def test_call_in_a_while_condition():
    check_grad(call_in_while_condition, (np.array([0.9, 0.8, 0.3]),))
    g = grad(call_in_while_condition)
    g(np.array([0.9, 0.8, 0.3]))
    assert "norm2(" not in g.source and "while not broke:" in g.source


def _shared_helper(x, scale=2.0):
    return np.tanh(x) * scale


def _caller_one(x):
    return np.sum(_shared_helper(x) + _shared_helper(2.0 * x, scale=0.5))


def _caller_two(w, x):
    return np.sum(_shared_helper(w * x) ** 2)


def test_a_callee_is_parsed_once_for_every_caller(monkeypatch):
    import s2sgrad.front.parse as parse_module
    seen = []
    real = parse_module.parse_function

    def counting(fn):
        seen.append(getattr(fn, "__name__", "?"))
        return real(fn)

    monkeypatch.setattr(parse_module, "parse_function", counting)
    x = np.array([0.3, -0.7, 1.1])
    check_grad(_caller_one, (x,), wrt=0)
    check_grad(_caller_two, (np.array([0.5, 1.5, -1.0]), x), wrt=(0, 1))
    assert seen.count("_shared_helper") <= 1, seen
