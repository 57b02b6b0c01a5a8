"""Callables as values: lambdas (several on one line, in dicts, as defaults), functions
passed as arguments, held in dicts and lists, returned by factories (closures over
differentiated values), chosen by a string argument, functools.partial, map,
functools.reduce, getattr(np, name), bound methods as values.  The code is specialized
on which callable an argument holds: another one generates other code.  A call whose
function cannot be known when the code is generated, reached by a differentiated
value, is an error naming the function, file, line and source line -- never a zero.

Every gradient is checked against float64 central differences (tests/gradcheck.py),
and against autograd where it runs.
"""
import functools
import types

import numpy as np
import pytest

from gradcheck import check_grad, numeric_grad
import s2sgrad
from s2sgrad import grad, value_and_grad
from s2sgrad.errors import S2SGradError, SourceUnavailableError, UnsupportedCallError

try:
    import autograd
    import autograd.numpy as anp
except ImportError:          # (an optional test dependency)
    autograd = anp = None

X = np.array([0.3, -0.7, 1.1])
RNG = np.random.default_rng(7)


def with_autograd(f, args, wrt=0, swap=()):
    """autograd's gradient of ``f`` with its module global ``np`` read as autograd.numpy
    (and the NumPy functions among ``args`` at the positions ``swap`` swapped for
    autograd's)."""
    if autograd is None:
        return None
    g = dict(f.__globals__, np=anp)
    h = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
    args = list(args)
    for i in swap:
        args[i] = _ag(args[i])
    return autograd.grad(h, wrt)(*args)


def _ag(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_ag(v) for v in value)
    if isinstance(value, dict):
        return {k: _ag(v) for k, v in value.items()}
    if isinstance(value, np.ufunc) or getattr(value, "__module__", "").startswith("numpy"):
        return getattr(anp, value.__name__)
    if isinstance(value, types.FunctionType) and value.__globals__.get("np") is np:
        return types.FunctionType(value.__code__, dict(value.__globals__, np=anp),
                                  value.__name__, value.__defaults__, value.__closure__)
    return value


def agrees(f, args, wrt=0, swap=()):
    """s2sgrad's gradient equals finite differences, and autograd's where it runs."""
    got = check_grad(f, args, wrt=wrt)
    for i, g in zip((wrt,) if isinstance(wrt, int) else wrt,
                    (got,) if isinstance(wrt, int) else got):
        ref = with_autograd(f, args, i, swap)
        if ref is not None:
            np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-13)
    return got


# -- lambdas --------------------------------------------------------------------------


f_sq, f_cube = (lambda x: np.sum(x ** 2)), (lambda x: np.sum(x ** 3))
LOSSES = {"mse": lambda p: np.mean(p ** 2), "soft": lambda p: np.sum(np.sqrt(p * p + 1.0))}
spread = (lambda x,
          y=2.0: np.sum(x * y + np.sin(x)))


def test_two_lambdas_on_one_line_each_differentiates_itself():
    # (the first lambda of the line was taken for both: [0, 0] for f_sq before)
    np.testing.assert_allclose(grad(f_sq)(X), 2 * X, rtol=1e-14)
    np.testing.assert_allclose(grad(f_cube)(X), 3 * X ** 2, rtol=1e-14)
    assert "** 2" in grad(f_sq).source or "x * x" in grad(f_sq).source or "2" in grad(f_sq).source


def test_lambdas_of_a_dict():
    np.testing.assert_allclose(grad(LOSSES["mse"])(X), 2 * X / 3, rtol=1e-14)
    np.testing.assert_allclose(grad(LOSSES["soft"])(X), X / np.sqrt(X * X + 1), rtol=1e-14)


def test_lambda_over_two_lines_with_a_default():
    agrees(spread, (X,))
    np.testing.assert_allclose(grad(spread)(X), 2.0 + np.cos(X), rtol=1e-14)


def _closures(a):
    return (lambda x: x * a), (lambda x: x + a * x * x)


def test_lambdas_closing_over_a_variable_on_one_line():
    times, poly = _closures(3.0)
    assert grad(times)(1.5) == pytest.approx(3.0, rel=1e-14)
    assert grad(poly)(1.5) == pytest.approx(1.0 + 2 * 3.0 * 1.5, rel=1e-14)


def test_lambdas_that_compile_alike_but_read_differently_are_an_error():
    # the compiler folds 1.0 + 1.0: both lambdas have the same code, and which one the
    # function object is cannot be told from it
    a, b = (lambda x: x * (1.0 + 1.0)), (lambda x: x * 2.0)
    with pytest.raises(SourceUnavailableError) as err:
        grad(a)(1.0)
    assert "cannot tell which of the lambdas" in str(err.value)
    assert err.value.lineno == a.__code__.co_firstlineno
    assert "def" in err.value.hint


def test_lambdas_alike_but_for_their_defaults_each_use_their_own():
    # (defaults come from the function object, so the same code means the same function)
    one, two = (lambda x, a=1.0: x * a), (lambda x, a=2.0: x * a)
    assert grad(one)(1.0) == 1.0 and grad(two)(1.0) == 2.0


def loss_with_default_act(x, act=lambda z: np.cos(z)):
    return np.sum(act(x) ** 2)


def _cubed(z, act=lambda q: q ** 3):
    return act(z)


def uses_a_default_lambda(x):
    return np.sum(_cubed(x) * 2.0)


def test_lambda_as_a_default_argument():
    agrees(loss_with_default_act, (X,))
    agrees(uses_a_default_lambda, (X,))
    np.testing.assert_allclose(grad(uses_a_default_lambda)(X), 6 * X ** 2, rtol=1e-14)


# -- functions as arguments ---------------------------------------------------------------


def loss_act(x, act):
    return np.sum(act(x) ** 2)


def relu(z):
    return np.maximum(z, 0.0)


def apply(f, x):
    return f(x)


def test_a_function_argument_is_inlined_and_specializes_the_code():
    g = grad(loss_act)
    for act in (np.tanh, relu, lambda z: np.exp(-z * z), np.tanh, relu):
        got = g(X, act)
        np.testing.assert_allclose(got, numeric_grad(loss_act, (X, act), 0), rtol=1e-7)
    # each callable has its own code: np.tanh's derivative, relu's mask
    sources = {gen.source for gen in g._gens.values()}
    assert len(sources) == 3
    assert any("tanh" in s for s in sources)
    assert any("maximum" in s or ">=" in s for s in sources)


def test_the_dispatcher_tells_callables_apart():
    g = grad(loss_act)
    for _ in range(3):
        for act, d in ((np.tanh, lambda z: 2 * np.tanh(z) / np.cosh(z) ** 2),
                       (np.sin, lambda z: 2 * np.sin(z) * np.cos(z))):
            np.testing.assert_allclose(g(X, act), d(X), rtol=1e-13)
    assert g._dispatch is not g._call      # a generated dispatcher checks them inline


def test_a_lambda_made_anew_at_each_call_has_one_code():
    g = grad(loss_act)
    for k in range(12):
        got = g(X, lambda z: z ** 2 + np.sin(z))
    np.testing.assert_allclose(got, 2 * (X ** 2 + np.sin(X)) * (2 * X + np.cos(X)),
                               rtol=1e-14)
    assert len(g._gens) == 1


def test_closures_and_rebound_globals_are_told_apart():
    g = grad(loss_act)
    for a in (0.5, 2.0, -1.5):
        # (the same code each time, another cell value: another function)
        np.testing.assert_allclose(g(X, lambda z: a * z), np.full(3, 2 * a * a) * X,
                                   rtol=1e-14)
    # the same code object with other globals (np meaning something else) is another
    # function too
    other = types.FunctionType(relu.__code__, {"np": types.SimpleNamespace(
        maximum=np.minimum)}, "relu")
    np.testing.assert_allclose(g(X, relu), 2 * np.maximum(X, 0.0), rtol=1e-14)
    np.testing.assert_allclose(g(X, other), 2 * np.minimum(X, 0.0), rtol=1e-14)


def test_numpy_function_argument_against_autograd():
    agrees(loss_act, (X, np.tanh), swap=(1,))
    agrees(loss_act, (X, relu), swap=(1,))


def test_apply_with_a_function_argument():
    assert grad(apply, wrt=1)(np.sin, 1.0) == pytest.approx(np.cos(1.0), rel=1e-14)
    assert grad(apply, wrt=1)(f_cube, X) is not None
    np.testing.assert_allclose(grad(apply, wrt=1)(f_cube, X), 3 * X ** 2, rtol=1e-14)


def calls_apply_with_functions(x):
    return np.sum(apply(np.sin, x) + apply(lambda t: t * t, x) + apply(relu, x))


def test_functions_and_lambdas_passed_between_inlined_functions():
    agrees(calls_apply_with_functions, (X,))


# -- factories and closures -----------------------------------------------------------------


def make_step(a):
    def step(x):
        return x * a + np.sin(a)
    return step


def apply_factory(f, a, x):
    return f(a)(x)


def factory_in_body(a, x):
    step = make_step(a)
    return np.sum(step(x) * step(2.0 * x))


def test_a_factory_argument_with_a_differentiated_closure():
    # (0.0 before: the closure's dependence on a was lost)
    assert grad(apply_factory, wrt=1)(make_step, 0.7, 2.0) == pytest.approx(
        2.0 + np.cos(0.7), rel=1e-14)
    assert grad(apply_factory, wrt=2)(make_step, 0.7, 2.0) == pytest.approx(0.7, rel=1e-14)
    check_grad(apply_factory, (make_step, 0.7, 2.0), wrt=(1, 2))


def test_a_factory_called_in_the_body():
    agrees(factory_in_body, (0.7, X), wrt=0)
    agrees(factory_in_body, (0.7, X), wrt=1)


def apply_sum(f, x):
    return np.sum(f(x))


def test_a_closure_made_outside_is_an_argument_like_any_function():
    f = make_step(0.4)
    g = make_step(-1.3)
    d = grad(apply_sum, wrt=1)
    for _ in range(2):
        np.testing.assert_allclose(d(f, X), np.full(3, 0.4), rtol=1e-14)
        np.testing.assert_allclose(d(g, X), np.full(3, -1.3), rtol=1e-14)


# -- containers of functions, chosen by strings ------------------------------------------


def loss_kind(x, kind):
    return LOSSES[kind](x)


def loss_from_dict(x, losses, kind):
    return losses[kind](x) + 1.0


def test_dict_of_loss_lambdas_by_string_argument():
    for kind in ("mse", "soft", "mse"):
        agrees(loss_kind, (X, kind))
        agrees(loss_from_dict, (X, LOSSES, kind))
    g = grad(loss_from_dict)
    np.testing.assert_allclose(g(X, LOSSES, "mse"), 2 * X / 3, rtol=1e-14)
    np.testing.assert_allclose(g(X, LOSSES, "soft"), X / np.sqrt(X * X + 1), rtol=1e-14)


def rnn_step(h, x):
    return np.tanh(h + x)


def lstm_step(h, x):
    return np.sin(h) * x


def run_cell(h, xs, cell):
    step = rnn_step if cell == 'rnn' else lstm_step
    for t in range(xs.shape[0]):
        h = step(h, xs[t])
    return np.sum(h)


def run_cell_statement(h, xs, cell):
    if cell == 'rnn':
        step = rnn_step
    else:
        step = lstm_step
    return np.sum(step(h, xs[0]) * step(h, xs[1]))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_step_function_chosen_by_a_string(cell):
    xs = RNG.standard_normal((4, 3))
    agrees(run_cell, (X, xs, cell), wrt=(0, 1))
    agrees(run_cell_statement, (X, xs, cell), wrt=(0, 1))


def getattr_np(x, name):
    return np.sum(getattr(np, name)(x) * x)


@pytest.mark.parametrize("name", ["sin", "tanh", "exp"])
def test_getattr_of_numpy(name):
    agrees(getattr_np, (X, name))


def layers_net(x, layers):
    h = x
    for fn, W in layers:
        h = fn(W @ h)
    return np.sum(h)


def zip_net(x, params, acts):
    h = x
    for W, act in zip(params, acts):
        h = act(W @ h)
    return np.sum(h ** 2)


def enumerate_net(x, acts):
    h = x
    for k, act in enumerate(acts):
        h = act(h) * (k + 1.0)
    return np.sum(h)


def test_layer_list_of_function_and_weight_tuples():
    layers = [(np.tanh, RNG.standard_normal((3, 3))), (relu, RNG.standard_normal((2, 3))),
              (lambda z: z ** 2, RNG.standard_normal((2, 2)))]
    check_grad(layers_net, (X, layers))
    params = [RNG.standard_normal((3, 3)), RNG.standard_normal((2, 3))]
    agrees(zip_net, (X, params, [np.tanh, np.sin]), swap=(2,))
    agrees(enumerate_net, (X, [np.sin, relu, np.tanh]), swap=(1,))


# -- functools.partial, map, reduce, sorted, bound methods ----------------------------------


def partial_call(x):
    f = functools.partial(np.power, x)
    return np.sum(f(3.0))


def partial_of_user(x, a):
    f = functools.partial(rnn_step, x)
    return np.sum(f(a) * a)


def partial_keyword(x):
    f = functools.partial(np.sum, axis=0)
    return f(x * x)


def partial_freezes_its_argument(x):
    f = functools.partial(np.multiply, x)
    x = x * 3.0
    return np.sum(f(x))          # x (the old one) times 3 x: 3 x^2


def partial_arg(x, f):
    return np.sum(f(x))


def test_partial_of_numpy_and_user_functions():
    # (a wrong gradient without error before)
    np.testing.assert_allclose(grad(partial_call)(X), 3 * X ** 2, rtol=1e-14)
    agrees(partial_call, (X,))
    agrees(partial_of_user, (X, 0.5), wrt=(0, 1))
    agrees(partial_keyword, (X,))
    np.testing.assert_allclose(grad(partial_freezes_its_argument)(X), 6 * X, rtol=1e-14)


def test_partial_arguments_read_their_bound_values_when_called():
    g = grad(partial_arg)
    np.testing.assert_allclose(g(X, functools.partial(np.power, 2.0)),
                               np.log(2.0) * 2.0 ** X, rtol=1e-14)
    np.testing.assert_allclose(g(X, functools.partial(np.power, 3.0)),
                               np.log(3.0) * 3.0 ** X, rtol=1e-14)
    check_grad(partial_arg, (X, functools.partial(np.clip, a_min=-0.5, a_max=0.5)))
    check_grad(partial_arg, (X, functools.partial(lstm_step, x=2.0)))
    # the same partial structure, another bound value: no new code, the right value
    before = len(g._gens)
    np.testing.assert_allclose(g(X, functools.partial(np.power, 5.0)),
                               np.log(5.0) * 5.0 ** X, rtol=1e-14)
    assert len(g._gens) == before


def use_map(x):
    ys = list(map(lambda t: t * t, x))
    return sum(ys) + sum(map(np.sin, x))


def use_map_two(x, f):
    return np.sum(np.array(list(map(f, [x, 2.0 * x]))))


def use_reduce(x):
    return functools.reduce(lambda a, b: a * b, [x[0], x[1], x[2]])


def use_reduce_init(x, fns):
    return np.sum(functools.reduce(lambda h, f: f(h), fns, x))


def use_sorted(x, names):
    order = sorted(names, key=lambda n: len(n))
    weight = {"a": 1.0, "bb": 2.0, "ccc": 3.0}
    total = 0.0
    for k in range(len(order)):
        total = total + weight[order[k]] * np.sum(x) * k
    return total


def bound_method_value(x):
    f = (x * x).sum
    return f() * 2.0


def bound_method_of_a_call(x):
    total = _cubed(x).sum
    return total() * 2.0


def test_map_reduce_sorted_and_bound_methods():
    np.testing.assert_allclose(grad(bound_method_of_a_call)(X), 6 * X ** 2, rtol=1e-14)
    agrees(use_map, (X,))
    agrees(use_map_two, (X, np.tanh), swap=(1,))
    agrees(use_reduce, (X,))
    agrees(use_reduce_init, (X, [np.sin, np.tanh]), swap=(1,))
    check_grad(use_sorted, (X, ["ccc", "a", "bb"]))
    np.testing.assert_allclose(grad(bound_method_value)(X), 4 * X, rtol=1e-14)


def nested_partial(x):
    f = functools.partial(functools.partial(np.clip, a_min=-0.5), a_max=0.9)
    return np.sum(f(x) ** 2)


def compose(f, g):
    return lambda t: f(g(t))


def use_compose(x):
    h = compose(np.sin, lambda t: t * t)
    return np.sum(h(x))


def local_dict_of_functions(x):
    fns = {"a": np.sin, "b": lambda t: t ** 3}
    return np.sum(fns["a"](x) + fns["b"](x))


def loop_over_indices_of_functions(x, fns):
    s = 0.0
    for i in range(len(fns)):
        s = s + np.sum(fns[i](x) * (i + 1.0))
    return s


def make_scaled(a):
    def scaled(t):
        return t * a
    a = a + 1.0          # (the closure reads a when it is called: a + 1)
    return scaled


def two_closures_of_one_factory(x, b):
    f1 = make_scaled(x)
    f2 = make_scaled(b * x)
    return np.sum(f1(x) + f2(2.0))


def late_binding(x):
    a = x
    g = lambda t: t * a      # noqa: E731
    a = 2.0 * x
    return np.sum(g(1.0))


def test_compositions_of_callables():
    agrees(nested_partial, (X,))
    agrees(use_compose, (X,))
    agrees(local_dict_of_functions, (X,))
    agrees(loop_over_indices_of_functions, (X, [np.sin, np.exp, relu]), swap=(1,))
    agrees(two_closures_of_one_factory, (X, 0.5), wrt=(0, 1))
    np.testing.assert_allclose(grad(late_binding)(X), np.full(3, 2.0), rtol=1e-14)


# -- the styles users bring -------------------------------------------------------------------


def mlp_loss(W1, b1, W2, b2, X_, y, act, it):
    h = act(X_ @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2) / (1.0 + 0.01 * it)


def mlp_loss_rows(W1, b1, W2, b2, X_, y, act, it):
    # (it decides how many rows: the code is specialized on its value)
    h = act(X_[:1 + it % 10] @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y[:1 + it % 10]) ** 2)


def mlp_loss_params(params, X_, y, act, it):
    h = X_
    for W, b in params[:-1]:
        h = act(h @ W + b)
    W, b = params[-1]
    out = h @ W + b
    return np.mean((out - y) ** 2) / (1.0 + 0.01 * it)


def softsign(z):
    return z / (1.0 + np.abs(z))


def test_training_loop_with_an_activation_argument():
    # 30 steps: an int that changes every step, three activation functions in turn
    Xb = RNG.standard_normal((12, 3))
    y = RNG.standard_normal((12, 1))
    W1, b1 = 0.5 * RNG.standard_normal((3, 4)), np.zeros(4)
    W2, b2 = 0.5 * RNG.standard_normal((4, 1)), np.zeros(1)
    g = grad(mlp_loss, wrt=(0, 1, 2, 3))
    gp = grad(mlp_loss_params)
    gr = grad(mlp_loss_rows, wrt=(0, 1, 2, 3))
    for it in range(30):
        act = (np.tanh, relu, softsign)[it % 3]
        args = (W1, b1, W2, b2, Xb, y, act, it)
        grads = g(*args)
        rows = gr(*args)
        if it % 4 == 0 or it > 25:
            for f, got in ((mlp_loss, grads), (mlp_loss_rows, rows)):
                ref = check_grad(f, args, wrt=(0, 1, 2, 3))
                for a, r in zip(got, ref):
                    np.testing.assert_allclose(a, r, rtol=1e-13, atol=1e-15)
        # the same loss over a list of (W, b) tuples: the same gradients
        (gW1, gb1), (gW2, gb2) = gp([(W1, b1), (W2, b2)], Xb, y, act, it)
        for a, r in zip((gW1, gb1, gW2, gb2), grads):
            np.testing.assert_allclose(a, r, rtol=1e-13, atol=1e-15)
        W1, b1, W2, b2 = [p - 0.1 * d for p, d in zip((W1, b1, W2, b2), grads)]
    # one code per activation function
    assert len({gen.source for gen in g._gens.values()}) == 3
    # the row count is specialized by value: after a few values per activation the code
    # not specialized on shapes and ints ran, specialized on the activation all the same
    assert any(not gen.specialized for gen in gr._gens.values())
    assert len({gen.source for gen in gr._gens.values() if not gen.specialized}) == 3


def optimize(grad_fn, w, lr):
    for _ in range(3):
        w = w - lr * grad_fn(w)
    return np.sum(w ** 2)


def test_optimizer_taking_a_gradient_function():
    agrees(optimize, (lambda w: 2.0 * w, X, 0.1), wrt=1)
    agrees(optimize, (lambda w: 2.0 * w, X, 0.1), wrt=2)
    agrees(optimize, (np.sin, X, 0.1), wrt=1, swap=(0,))


class Layer:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        return np.tanh(self.W @ x)


def use_method(x, fwd):
    return np.sum(fwd(x) ** 2)


def use_array_method(x, total):
    return total() * np.sum(x * x)


def test_bound_methods_as_arguments_read_their_object_when_called():
    g = grad(use_method)
    for k in (0.5, 2.0, -1.0):
        layer = Layer(k * np.eye(3) + 0.1)
        np.testing.assert_allclose(g(X, layer.forward),
                                   numeric_grad(use_method, (X, layer.forward), 0),
                                   rtol=1e-7)
    assert len(g._gens) == 1      # one method, three objects: one code
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(grad(use_array_method)(X, a.sum), 2 * 3.0 * X, rtol=1e-14)


# -- what cannot be known is an error ---------------------------------------------------------


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        return self.k * x


def runtime_choice(x, f, g):
    step = f
    if np.sum(x) > 0:
        step = g
    return np.sum(step(x))


def call_of_a_call_result(x, table):
    return np.sum(table.get("f")(x))


SCALE = Scale(2.0)


def inner_uses_object(z):
    w = z * 2.0
    return SCALE(w)


def outer_calls_inner(x):
    return np.sum(inner_uses_object(x)) + 1.0


def test_a_callable_object_is_inlined_by_its_class():
    # (an error before classes and methods, issue #14: its __call__ is inlined now)
    got = grad(loss_act)(X, Scale(2.0))
    np.testing.assert_allclose(got, numeric_grad(loss_act, (X, Scale(2.0)), 0),
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got, 8.0 * X, rtol=1e-13)     # d/dx sum((2x)^2)
    got = grad(outer_calls_inner)(X)
    np.testing.assert_allclose(got, numeric_grad(outer_calls_inner, (X,), 0), rtol=1e-7, atol=1e-9)


def test_a_function_chosen_at_run_time_is_an_error():
    with pytest.raises(UnsupportedCallError) as err:
        grad(runtime_choice)(X, np.sin, np.cos)
    e = err.value
    assert "cannot tell which function" in e.message
    assert e.function == "runtime_choice" and "step(x)" in e.source_line
    assert e.lineno == runtime_choice.__code__.co_firstlineno + 4
    assert "pass one" in e.hint


def reassigned_function(x):
    f = np.sin
    y = f(x)
    f = np.cos
    return np.sum(y + f(x))


def chosen_by_a_differentiated_value(x, f, g):
    h = f if np.sum(x) > 0 else g
    return np.sum(h(x))


@pytest.mark.parametrize("fn, args, line", [
    (reassigned_function, (X,), 4),
    (chosen_by_a_differentiated_value, (X, np.sin, np.cos), 2)])
def test_which_function_a_name_holds_must_be_known(fn, args, line):
    with pytest.raises(UnsupportedCallError) as err:
        grad(fn)(*args)
    assert err.value.function == fn.__name__
    assert err.value.lineno == fn.__code__.co_firstlineno + line
    assert err.value.hint


def test_a_call_of_an_unknown_value_is_an_error():
    with pytest.raises(S2SGradError) as err:
        grad(call_of_a_call_result)(X, {"f": np.sin})
    assert err.value.function == "call_of_a_call_result"
    assert "table.get" in err.value.source_line


def inner_chooses(z):
    w = z * 2.0
    h = np.sin if np.sum(w) > 0 else np.cos
    return h(w)


def outer_calls_chooser(x):
    return np.sum(inner_chooses(x)) + 1.0


def test_an_error_inside_an_inlined_function_names_that_function():
    with pytest.raises(UnsupportedCallError) as err:
        grad(outer_calls_chooser)(X)
    e = err.value
    assert e.function == "inner_chooses"
    assert e.filename == inner_chooses.__code__.co_filename
    assert e.lineno == inner_chooses.__code__.co_firstlineno + 3
    assert e.source_line == "return h(w)"


def test_a_function_argument_without_a_call_gives_its_generic_code_an_error():
    # .source before any call: which function `f` is cannot be known
    with pytest.raises(UnsupportedCallError) as err:
        grad(apply, wrt=1).source
    assert err.value.function == "apply"


def test_an_export_says_which_function_and_string_it_was_made_for():
    from s2sgrad.tools.export import export_source
    text = export_source(loss_from_dict, args=(X, LOSSES, "soft"))
    assert "kind: str 'soft'" in text
    text = export_source(loss_act, args=(X, relu))
    assert "act: function relu" in text
