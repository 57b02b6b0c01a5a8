"""Hygiene: user names never collide with generated ones; generated code does not
write into the caller's arrays; returned gradients own their memory.

The functions below are module-level (s2sgrad reads their source); their local
names deliberately copy the compiler's own vocabulary.
"""
import numpy
import numpy as onp
import pytest

import s2sgrad
from gradcheck import check_grad
from s2sgrad import grad, value_and_grad

np = onp
RNG = onp.random.default_rng(7)


def rand(*shape):
    return RNG.uniform(-1.0, 1.0, size=shape)


# -- names ----------------------------------------------------------------------------------

def internals_as_locals(x, y):
    grad_x = x * y
    _stack = onp.sin(grad_x)
    t0 = _stack * x
    out = t0 + y
    upstream = onp.tanh(out)
    record = upstream * grad_x
    x_stack = record + t0
    unbroadcast = x_stack * x_stack
    s2sgrad = onp.sum(unbroadcast)
    grad_out = s2sgrad * 2.0
    return grad_out + onp.sum(record)


def internals_as_params(grad_x, upstream, t0, x_stack):
    out = grad_x * upstream + onp.exp(t0) * x_stack
    return onp.sum(out * out)


def internals_in_control_flow(x, grad_x):
    out = x * 1.0
    x_stack = 0.0
    for i in range(3):
        upstream = onp.tanh(out * grad_x)
        out = out + upstream
        if onp.sum(out) > 0.0:
            x_stack = x_stack + onp.sum(out * out)
        else:
            x_stack = x_stack - onp.sum(out)
    cond0 = x_stack * 1.0
    return cond0 + onp.sum(out)


def numbered_names(x, x0, x1, x_1, t1, z0):
    x2 = x * x0
    x3 = x2 + x1
    x = x3 * x_1
    x = x * t1 + z0
    t0 = x * x
    return onp.sum(t0)


def np_is_a_local(x):
    np = x * 2.0            # a user variable named np: numpy is onp here
    numpy = np + 1.0
    return onp.sum(numpy * np)


def helper_names_as_locals(x, y):
    unreduce = onp.sum(x, axis=0)
    reduced_count = onp.mean(y, axis=1)
    route_to_extremum = onp.max(x * y, axis=1)
    dot_adjoint_left = onp.dot(x, y.T)
    as_gradient = onp.sum(dot_adjoint_left * dot_adjoint_left)
    zeros_like_grad = onp.sum(unreduce) + onp.sum(reduced_count * route_to_extremum)
    return as_gradient + zeros_like_grad


CASES = [
    (internals_as_locals, lambda: (rand(3), rand(3)), (0, 1)),
    (internals_as_params, lambda: (rand(2, 3), rand(3), rand(2, 1), rand(2, 3)), (0, 1, 2, 3)),
    (internals_in_control_flow, lambda: (rand(3), rand(3)), (0, 1)),
    (numbered_names, lambda: (rand(3), rand(3), rand(3), rand(3), 0.7, rand(3)), (0, 1, 2, 3, 4, 5)),
    (np_is_a_local, lambda: (rand(2, 2),), 0),
    (helper_names_as_locals, lambda: (rand(2, 3), rand(2, 3)), (0, 1)),
]


@pytest.mark.parametrize("fn, make, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_user_names_like_internals(fn, make, wrt):
    check_grad(fn, make(), wrt=wrt)
    check_grad(fn, make(), wrt=wrt)        # a second shape-specialized call


# Module globals that shadow what generated code would call.
unbroadcast = "not the helper"
zeros_like_grad = None
as_gradient = 42
record = [1, 2, 3]


def uses_shadowed_globals(x, y):
    z = x * y                       # broadcasting: the generic code needs unbroadcast
    return onp.sum(z * z) + float(len(record))


def test_shadowed_helper_names_in_module_globals():
    check_grad(uses_shadowed_globals, (rand(2, 3), rand(3)), wrt=(0, 1))
    g = grad(uses_shadowed_globals, wrt=(0, 1))
    assert "def uses_shadowed_globals_grad" in g.source   # the generic version compiles too


def closure_maker():
    np = "not numpy"
    unbroadcast = 2.0

    def inner(x, y):
        return onp.sum(x * y * unbroadcast) + len(np)
    return inner


def test_closure_variables_like_internals():
    check_grad(closure_maker(), (rand(2, 3), rand(3)), wrt=(0, 1))


# -- caller arrays are read-only to generated code -----------------------------------------------

def reads_only(x, y):
    a = x * y
    b = a + x
    b = b * b
    return onp.sum(b) + onp.sum(x[0] * y)


def element_writes(x, y):
    h = onp.zeros(x.shape)
    for i in range(x.shape[0]):
        h[i] = onp.tanh(x[i] * y[i])
    return onp.sum(h * h)


def identity_like(x, y):
    return onp.sum(x) + onp.sum(y)


def overwrites_local_copy(x, y):
    a = x * 1.0
    a += y
    a *= y
    return onp.sum(a)


def matmul_fn(x, y):
    return onp.sum(x @ y.T)


def index_fn(x, y):
    return onp.sum(x[1:] * y[:-1]) + x[0] * y[-1]


@pytest.mark.parametrize("fn", [reads_only, element_writes, identity_like,
                                overwrites_local_copy, matmul_fn, index_fn])
def test_caller_arrays_are_not_written(fn):
    shapes = {"matmul_fn": ((2, 3), (4, 3)), "element_writes": ((4,), (4,))}.get(
        fn.__name__, ((4,), (4,)))
    x, y = rand(*shapes[0]), rand(*shapes[1])
    x0, y0 = x.copy(), y.copy()
    for make in (lambda: grad(fn, wrt=(0, 1)), lambda: value_and_grad(fn, wrt=(0, 1)),
                 lambda: grad(fn, wrt=1)):
        g = make()
        g(x, y)
        g(x, y)
        assert onp.array_equal(x, x0) and onp.array_equal(y, y0), fn.__name__
    x.flags.writeable = False
    y.flags.writeable = False
    grad(fn, wrt=(0, 1))(x, y)       # read-only arguments are fine, too


def primal_writes(x, y):
    x *= 2.0                         # the primal itself updates its argument
    return onp.sum(x * y)


def test_primal_that_writes_its_argument():
    # The gradient is taken at the value passed in; whether the caller's array is then
    # updated like the primal would is not promised, but the gradient must be right.
    x, y = rand(3), rand(3)
    got = grad(primal_writes, wrt=(0, 1))(x.copy(), y)
    onp.testing.assert_allclose(got[0], 2.0 * y)
    onp.testing.assert_allclose(got[1], 2.0 * x)


# -- gradients own their memory -----------------------------------------------------------------

def same_upstream(x, y):
    return onp.sum(x + y)            # both gradients are the same upstream value


def pass_through(x, y):
    return onp.sum(x * y)            # grad_x is y, grad_y is x


def scalar_broadcast(x, s):
    return onp.sum(x * s)


@pytest.mark.parametrize("fn, make", [
    (same_upstream, lambda: (rand(3), rand(3))),
    (pass_through, lambda: (rand(2, 3), rand(2, 3))),
    (identity_like, lambda: (rand(3), rand(2, 3))),
    (scalar_broadcast, lambda: (rand(3), 0.5)),
    (reads_only, lambda: (rand(4), rand(4))),
])
def test_gradients_do_not_alias(fn, make):
    args = make()
    g = grad(fn, wrt=(0, 1))
    grads = g(*args)
    arrays = [v for v in grads if isinstance(v, onp.ndarray)]
    for k, a in enumerate(arrays):
        assert a.flags.writeable, "gradient %d is read-only" % k
        for b in list(arrays[k + 1:]) + [v for v in args if isinstance(v, onp.ndarray)]:
            assert not onp.shares_memory(a, b), "gradient %d shares memory" % k
    # Writing into a result must not change the next call's result.
    kept = [onp.copy(v) for v in grads]
    for a in arrays:
        a[...] = 1e9
    again = g(*args)
    for k, v in zip(kept, again):
        onp.testing.assert_array_equal(v, k)
    # And the next call must not overwrite the previous results.
    first = g(*args)
    snapshot = [onp.copy(v) for v in first]
    g(*make())
    for k, v in zip(snapshot, first):
        onp.testing.assert_array_equal(v, k)


def test_value_and_grad_results_do_not_alias():
    def f(x, y):
        return onp.sum(x * y)
    x, y = rand(3), rand(3)
    v, (gx, gy) = value_and_grad(f, wrt=(0, 1))(x, y)
    assert not onp.shares_memory(gx, y) and not onp.shares_memory(gy, x)
    assert not onp.shares_memory(gx, gy)


def test_numpy_name_when_np_is_not_numpy():
    assert np is onp and numpy is onp
    src = grad(np_is_a_local).source
    assert "np = " in src                          # the user's variable, kept
    check_grad(np_is_a_local, (rand(2, 2),))
