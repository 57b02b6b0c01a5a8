"""Every operation of the core compiler, checked against float64 central differences.

Each test differentiates ``np.sum(op(...) * C)`` with a random upstream weight ``C``
(shaped like the op's result), so the whole vector-Jacobian product is checked, not
just its sum.  Inputs stay away from kinks (abs at 0, max/min ties).
"""
import numpy as np
import pytest

from gradcheck import check_grad

RNG = np.random.default_rng(20240501)


def rand(shape, low=-2.0, high=2.0, positive=False, away_from_zero=False):
    if shape == "py":
        v = float(RNG.uniform(0.5, 2.0) if positive else RNG.uniform(low, high))
        if away_from_zero and abs(v) < 0.3:
            v = 0.7 if v >= 0 else -0.7
        return v
    if positive:
        return RNG.uniform(0.5, 2.0, size=shape)
    v = RNG.uniform(low, high, size=shape)
    if away_from_zero:
        v = np.where(np.abs(v) < 0.3, np.sign(v) * 0.3 + v, v)
    return v


def upstream(result):
    return RNG.standard_normal(np.shape(result))


# -- binary elementwise operators over shape pairs ------------------------------------

def op_add(x, y, C):
    return np.sum((x + y) * C)


def op_sub(x, y, C):
    return np.sum((x - y) * C)


def op_mul(x, y, C):
    return np.sum((x * y) * C)


def op_div(x, y, C):
    return np.sum((x / y) * C)


def op_pow(x, y, C):
    return np.sum((x ** y) * C)


def op_maximum(x, y, C):
    return np.sum(np.maximum(x, y) * C)


def op_minimum(x, y, C):
    return np.sum(np.minimum(x, y) * C)


def op_where(x, y, C):
    return np.sum(np.where(x > y, x, y) * C)


def op_where_expr(x, y, C):
    return np.sum(np.where(x > 0.0, x * y, y - x) * C)


BINARY = {
    "add": (op_add, np.add, {}),
    "sub": (op_sub, np.subtract, {}),
    "mul": (op_mul, np.multiply, {}),
    "div": (op_div, np.divide, {"y": dict(away_from_zero=True)}),
    "pow": (op_pow, np.power, {"x": dict(positive=True)}),
    "maximum": (op_maximum, np.maximum, {}),
    "minimum": (op_minimum, np.minimum, {}),
    "where": (op_where, lambda x, y: np.where(x > y, x, y), {}),
    "where_expr": (op_where_expr, lambda x, y: np.where(x > 0.0, x * y, y - x),
                   {"x": dict(away_from_zero=True)}),
}

SHAPE_PAIRS = [
    ((), ()),
    ((3,), (3,)),
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((3, 4), ()),
    ((), (3, 4)),
    ("py", "py"),
    ((3, 4), "py"),
    ("py", (2, 3)),
]


def _make(shape, opts):
    x = rand(shape, **opts)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = np.float64(x)   # a NumPy scalar, like indexing would give
    return x


def _tie_free(x, y):
    """Nudge y so that no entry of x equals y after broadcasting (max/min/where kinks)."""
    diff = np.abs(np.asarray(x) - np.asarray(y))
    if np.any(diff < 0.05):
        y = y + 0.25 if isinstance(y, float) else np.asarray(y) + 0.25
    return y


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=lambda s: "%s&%s" % s)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, shapes):
    f, np_op, opts = BINARY[name]
    x = _make(shapes[0], opts.get("x", {}))
    y = _make(shapes[1], opts.get("y", {}))
    if name in ("maximum", "minimum", "where"):
        y = _tie_free(x, y)
    C = upstream(np_op(x, y))
    check_grad(f, (x, y, C), wrt=(0, 1))
    check_grad(f, (x, y, C), wrt=1)


# -- operators with constants, integer exponents, integer arguments ----------------------

def const_left_sub(x):
    return np.sum(3.0 - x)


def const_mul_div(x):
    return np.sum(2.0 * x / 4.0 + x * 0.5)


def const_rdiv(x):
    return np.sum(1.0 / x)


def int_power(x):
    return np.sum(x ** 3)


def square(x):
    return np.sum(x ** 2)


def half_power(x):
    return np.sum(x ** 0.5)


def neg_power(x):
    return np.sum(x ** -2)


def exp_base(x):
    return np.sum(2.0 ** x)


def unary_minus(x):
    return np.sum(-x * x)


def unary_plus(x):
    return np.sum(+x * x)


def int_arg_scale(x, n):
    return np.sum(x * n + n)


def int_arg_power(x, n):
    return np.sum(x ** n)


def int_arg_index(x, i):
    return x[i] * x[i]


def int_constant_array(x, k):
    return np.sum(x * k)


CONSTANTS = [
    (const_left_sub, ()),
    (const_mul_div, ()),
    (const_rdiv, ()),
    (int_power, ()),
    (square, ()),
    (half_power, ()),
    (neg_power, ()),
    (exp_base, ()),
    (unary_minus, ()),
    (unary_plus, ()),
    (int_arg_scale, (3,)),
    (int_arg_power, (3,)),
    (int_arg_index, (2,)),
    (int_constant_array, (np.arange(5),)),
]


CONSTANT_CASES = [(kind, f, (3,) if (f is int_constant_array and kind == "py") else extra)
                  for kind in ("py", "vec") for f, extra in CONSTANTS
                  if not (f is int_arg_index and kind == "py")]


@pytest.mark.parametrize("kind,f,extra", CONSTANT_CASES,
                         ids=["%s-%s" % (k, f.__name__) for k, f, _ in CONSTANT_CASES])
def test_constants_and_integer_arguments(kind, f, extra):
    x = rand("py", positive=True) if kind == "py" else rand((5,), positive=True)
    check_grad(f, (x,) + extra, wrt=0)


# -- unary functions ------------------------------------------------------------------

def u_neg(x, C):
    return np.sum(-x * C)


def u_exp(x, C):
    return np.sum(np.exp(x) * C)


def u_log(x, C):
    return np.sum(np.log(x) * C)


def u_sqrt(x, C):
    return np.sum(np.sqrt(x) * C)


def u_sin(x, C):
    return np.sum(np.sin(x) * C)


def u_cos(x, C):
    return np.sum(np.cos(x) * C)


def u_tanh(x, C):
    return np.sum(np.tanh(x) * C)


def u_abs(x, C):
    return np.sum(np.abs(x) * C)


def u_builtin_abs(x, C):
    return np.sum(abs(x) * C)


UNARY = {
    "neg": (u_neg, np.negative, {}),
    "exp": (u_exp, np.exp, {}),
    "log": (u_log, np.log, dict(positive=True)),
    "sqrt": (u_sqrt, np.sqrt, dict(positive=True)),
    "sin": (u_sin, np.sin, {}),
    "cos": (u_cos, np.cos, {}),
    "tanh": (u_tanh, np.tanh, {}),
    "abs": (u_abs, np.abs, dict(away_from_zero=True)),
    "builtin_abs": (u_builtin_abs, np.abs, dict(away_from_zero=True)),
}


@pytest.mark.parametrize("shape", ["py", (), (3,), (3, 4), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, shape):
    f, np_op, opts = UNARY[name]
    x = _make(shape, opts)
    C = upstream(np_op(x))
    if shape == "py":
        C = float(C)
    check_grad(f, (x, C), wrt=0)


def composed(x, y):
    a = np.exp(-x * y)
    b = np.log(1.0 + a)
    c = np.sqrt(b * b + 1.0)
    return np.sum(np.tanh(c) * np.sin(x) + np.cos(y) * c)


def test_composition_and_fan_out():
    check_grad(composed, (rand((3, 4)), rand((4,))), wrt=(0, 1))
    check_grad(composed, (rand("py"), rand("py")), wrt=(0, 1))


def reuse(x):
    y = x * x
    z = y + x
    return np.sum(z * y * x)


def test_variable_used_many_times():
    check_grad(reuse, (rand((4,)),), wrt=0)
    check_grad(reuse, (rand("py"),), wrt=0)


# -- reductions --------------------------------------------------------------------------

def red_sum(x, C, axis, keepdims):
    return np.sum(np.sum(x, axis=axis, keepdims=keepdims) * C)


def red_mean(x, C, axis, keepdims):
    return np.sum(np.mean(x, axis=axis, keepdims=keepdims) * C)


def red_max(x, C, axis, keepdims):
    return np.sum(np.max(x, axis=axis, keepdims=keepdims) * C)


def red_min(x, C, axis, keepdims):
    return np.sum(np.min(x, axis=axis, keepdims=keepdims) * C)


def red_sum_method(x, C, axis, keepdims):
    return np.sum(x.sum(axis=axis, keepdims=keepdims) * C)


def red_mean_method(x, C, axis, keepdims):
    return np.sum(x.mean(axis=axis, keepdims=keepdims) * C)


def red_max_method(x, C, axis, keepdims):
    return np.sum(x.max(axis=axis, keepdims=keepdims) * C)


def red_min_method(x, C, axis, keepdims):
    return np.sum(x.min(axis=axis, keepdims=keepdims) * C)


REDUCTIONS = {
    "sum": (red_sum, np.sum), "mean": (red_mean, np.mean),
    "max": (red_max, np.max), "min": (red_min, np.min),
    "sum_method": (red_sum_method, np.sum), "mean_method": (red_mean_method, np.mean),
    "max_method": (red_max_method, np.max), "min_method": (red_min_method, np.min),
}

AXES = [((5,), None), ((5,), 0), ((5,), -1),
        ((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((3, 4), (0, 1)),
        ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), -2)]


def _distinct(shape):
    """Random values with no ties (so max/min are differentiable)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 + RNG.uniform(-0.1, 0.1, size=n) - n * 0.15).reshape(shape)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions(name, shape, axis, keepdims):
    f, np_op = REDUCTIONS[name]
    x = _distinct(shape)
    C = upstream(np_op(x, axis=axis, keepdims=keepdims))
    check_grad(f, (x, C, axis, keepdims), wrt=0)


def red_literal(x):
    a = np.sum(x, axis=0)
    b = np.mean(x, axis=-1, keepdims=True)
    c = np.max(x, axis=1)
    d = x.min(axis=(0, 1))
    return np.sum(a * a) + np.sum(b * x) + np.sum(c * c) + d * np.sum(x) + x.mean()


def test_reductions_literal_axes():
    check_grad(red_literal, (_distinct((3, 4)),), wrt=0)


def red_of_scalar(x):
    return np.sum(x) * np.mean(x) + np.max(x)


def test_reductions_of_scalar():
    check_grad(red_of_scalar, (1.7,), wrt=0)
    check_grad(red_of_scalar, (np.float64(-0.3),), wrt=0)


# -- linear algebra ------------------------------------------------------------------------

def la_dot(a, b, C):
    return np.sum(np.dot(a, b) * C)


def la_dot_method(a, b, C):
    return np.sum(a.dot(b) * C)


def la_matmul(a, b, C):
    return np.sum((a @ b) * C)


def la_np_matmul(a, b, C):
    return np.sum(np.matmul(a, b) * C)


LINALG = {"dot": (la_dot, np.dot), "dot_method": (la_dot_method, np.dot),
          "matmul": (la_matmul, np.matmul), "np_matmul": (la_np_matmul, np.matmul)}

LA_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
             ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 3), (5, 3, 4))]
DOT_ONLY = [((), (3,)), ((2, 3), ()), ((2, 3), (4, 3, 2))]


LA_CASES = [(name, shapes) for name in sorted(LINALG) for shapes in LA_SHAPES + DOT_ONLY
            if (name.startswith("dot") or shapes not in DOT_ONLY)
            and not (name == "dot_method" and shapes[0] == ())]   # np.float64 has no .dot


@pytest.mark.parametrize("name,shapes", LA_CASES,
                         ids=["%s-%s&%s" % (n, a, b) for n, (a, b) in LA_CASES])
def test_linear_algebra(name, shapes):
    # (np.dot contracts with the second-to-last axis of a 3-d b: another result shape
    # than matmul, so each is checked against its own NumPy result)
    f, np_op = LINALG[name]
    a, b = rand(shapes[0]), rand(shapes[1])
    if np.ndim(a) == 0:
        a = np.float64(a)
    if np.ndim(b) == 0:
        b = np.float64(b)
    C = upstream(np_op(a, b))
    check_grad(f, (a, b, C), wrt=(0, 1))


def quadratic_form(x, A):
    return x @ A @ x


def test_quadratic_form():
    check_grad(quadratic_form, (rand((4,)), rand((4, 4))), wrt=(0, 1))


# -- shape operations and indexing -----------------------------------------------------------

def sh_reshape_fn(x, C):
    return np.sum(np.reshape(x, (4, 3)) * C)


def sh_reshape_method(x, C):
    return np.sum(x.reshape(2, 6) * C)


def sh_reshape_method_tuple(x, C):
    return np.sum(x.reshape((6, -1)) * C)


def sh_reshape_flat(x, C):
    return np.sum(x.reshape(-1) * C)


def sh_transpose_fn(x, C):
    return np.sum(np.transpose(x) * C)


def sh_transpose_axes(x, C):
    return np.sum(np.transpose(x, (1, 0)) * C)


def sh_transpose_method(x, C):
    return np.sum(x.transpose() * C)


def sh_T(x, C):
    return np.sum(x.T * C)


def ix_int(x, C):
    return x[1][2] * C[1, 2] + x[-1, 2] * C[0, 0]


def ix_pair(x, C):
    return x[1, 2] * 3.0 + x[0, 0] * x[2, 3]


def ix_row(x, C):
    return np.sum(x[1] * C[0])


def ix_slice(x, C):
    return np.sum(x[1:, :-1] * C[1:, :-1])


def ix_slice_step(x, C):
    return np.sum(x[::2] * C[::2]) + np.sum(x[:, 1:3] * C[:, 1:3])


def ix_column(x, C):
    return np.sum(x[:, 2] * C[:, 0])


def ix_same_index_twice(x, C):
    return x[0, 1] * x[0, 1] + np.sum(x[0] * C[0]) + np.sum(x[:2] * C[:2])


SHAPE_OPS = [sh_reshape_fn, sh_reshape_method, sh_reshape_method_tuple, sh_reshape_flat,
             sh_transpose_fn, sh_transpose_axes, sh_transpose_method, sh_T,
             ix_int, ix_pair, ix_row, ix_slice, ix_slice_step, ix_column, ix_same_index_twice]


@pytest.mark.parametrize("f", SHAPE_OPS, ids=lambda f: f.__name__)
def test_shape_and_indexing(f):
    x = rand((3, 4))
    C = RNG.standard_normal((4, 3)) if "reshape_fn" in f.__name__ or "transpose" in f.__name__ \
        or f is sh_T else RNG.standard_normal((3, 4))
    if f is sh_reshape_method:
        C = RNG.standard_normal((2, 6))
    elif f is sh_reshape_method_tuple:
        C = RNG.standard_normal((6, 2))
    elif f is sh_reshape_flat:
        C = RNG.standard_normal((12,))
    check_grad(f, (x, C), wrt=0)


def ix_vector(x):
    return x[0] * x[2] + np.sum(x[1:] ** 2) + x[-1]


def test_vector_indexing():
    check_grad(ix_vector, (rand((5,)),), wrt=0)


def transpose_3d(x, C):
    return np.sum(np.transpose(x, (2, 0, 1)) * C) + np.sum(x.transpose(1, 2, 0) * C[0, 0, 0])


def test_transpose_with_axes_3d():
    x = rand((2, 3, 4))
    check_grad(transpose_3d, (x, RNG.standard_normal((4, 2, 3))), wrt=0)


# -- float32 arguments: gradients keep the argument's dtype ---------------------------------

def mixed(x, y):
    return np.sum(np.tanh(x @ y) * x[:, :1])


def test_float32_arguments():
    x = rand((3, 4)).astype(np.float32)
    y = rand((4, 2)).astype(np.float32)
    gx, gy = check_grad(mixed, (x, y), wrt=(0, 1), rtol=1e-3, atol=1e-4)
    assert gx.dtype == np.float32 and gy.dtype == np.float32


# -- assorted straight-line programs -----------------------------------------------------------

def misc_tuple_assign(x):
    a, b = x * 2.0, x * 3.0
    return np.sum(a * b)


def misc_precedence(x):
    return np.sum(-x ** 2 + x ** 2.0 + (x - 1.0) ** 2)


def misc_softmax(x):
    e = np.exp(x - np.max(x))
    p = e / np.sum(e)
    return np.sum(p * np.arange(5.0))


def misc_float_asarray(x):
    return float(np.sum(np.asarray(x) * 2.0)) * 3.0


def misc_alias(x):
    y = x
    y = y * 2.0
    return np.sum(y * x)


def misc_copy(x):
    y = x.copy()
    return np.sum(y * x)


def misc_where_constant(x):
    return np.sum(np.where(x > 0, x, 0.0) ** 2)


def misc_fancy_index_repeats(x):
    return np.sum(x[[0, 2, 2]] * np.array([1.0, 2.0, 3.0]))


def misc_boolean_mask(x):
    return np.sum(x[x > 0] ** 2)


def misc_newaxis(x):
    return np.sum(x[None, :] * x[:, None] * np.arange(25.0).reshape(5, 5))


def misc_augmented(x):
    s = 0.0
    s += np.sum(x)
    s = s * s
    s -= np.sum(x * x)
    return s


def misc_norm(x):
    return np.dot(x, x) ** 0.5


def misc_size_attribute(x):
    return np.sum(np.abs(x - 0.1)) / x.size + np.sum(x) / len(x) + x.shape[0]


def misc_reduction_methods(x):
    return x.sum() * x.mean() + x.max() - x.min()


def misc_reshape_transpose_chain(x):
    return np.sum(x[:4].reshape(2, 2).T.reshape(-1) * np.arange(4.0))


def misc_reciprocals(x):
    return np.sum(2.0 / x + x / 2.0 - 1.0 / (x * x))


MISC = [misc_tuple_assign, misc_precedence, misc_softmax, misc_float_asarray, misc_alias,
        misc_copy, misc_where_constant, misc_fancy_index_repeats, misc_boolean_mask,
        misc_newaxis, misc_augmented, misc_norm, misc_size_attribute, misc_reduction_methods,
        misc_reshape_transpose_chain, misc_reciprocals]


@pytest.mark.parametrize("f", MISC, ids=lambda f: f.__name__)
def test_assorted_programs(f):
    x = RNG.uniform(0.3, 2.0, 5) * np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    if f in (misc_reciprocals, misc_norm):
        x = np.abs(x)
    check_grad(f, (x,), wrt=0)


def misc_transpose_matmul(x, y):
    return np.sum((x.T @ y) * np.arange(8.0).reshape(4, 2))


def test_transpose_then_matmul():
    check_grad(misc_transpose_matmul, (rand((3, 4)), rand((3, 2))), wrt=(0, 1))


# -- the checker itself ------------------------------------------------------------------------

def two_args(x, y):
    return np.sum(x * y)


def test_gradcheck_reports_a_wrong_gradient(monkeypatch):
    import s2sgrad
    from gradcheck import numeric_grad

    x, y = rand((2, 3)), rand((2, 3))
    np.testing.assert_allclose(numeric_grad(two_args, (x, y), 0), y, rtol=1e-8)
    assert isinstance(numeric_grad(two_args, (1.5, 2.0), 1), float)

    def wrong_grad(f, wrt=0):
        def g(*args):
            return args[1] * 1.001, args[0]
        return g

    monkeypatch.setattr(s2sgrad, "grad", wrong_grad)
    with pytest.raises(AssertionError) as info:
        check_grad(two_args, (x, y), wrt=(0, 1))
    msg = str(info.value)
    assert "two_args" in msg and "x (argument 0)" in msg and "y (argument 1)" not in msg
    assert "max abs error" in msg and "worst entry" in msg
