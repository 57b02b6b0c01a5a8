"""The public API: grad / value_and_grad / source, wrt forms, output types, naming hygiene."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, value_and_grad
from gradcheck import check_grad


def prod3(x, y, z):
    return np.sum(x * y * z)


def args3():
    rng = np.random.default_rng(7)
    return rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)


# -- the three spellings ------------------------------------------------------------------

@grad
def deco_plain(x, y):
    """Docstring kept."""
    return x * y + x


@grad(wrt=(0, "y"))
def deco_wrt(x, y):
    return x * y * y


def test_decorator_forms():
    assert deco_plain(2.0, 3.0) == 4.0
    assert deco_wrt(2.0, 3.0) == (9.0, 12.0)
    assert grad(prod3, wrt=2)(2.0, 3.0, 4.0) == 6.0
    assert deco_plain.__name__ == "deco_plain"
    assert deco_plain.__doc__ == "Docstring kept."
    assert "deco_plain" in repr(deco_plain)


def test_default_wrt_is_first_argument():
    x, y, z = args3()
    np.testing.assert_allclose(grad(prod3)(x, y, z), y * z)


@pytest.mark.parametrize("wrt,expected", [
    (0, "x"), ("y", "y"), (2, "z"), ((1,), ("y",)), (("z", 0), ("z", "x")),
    ([0, 1, 2], ("x", "y", "z")), (["y", 2], ("y", "z")), ((2, "x", "y"), ("z", "x", "y")),
])
def test_wrt_forms(wrt, expected):
    x, y, z = args3()
    partial = {"x": y * z, "y": x * z, "z": x * y}
    out = grad(prod3, wrt=wrt)(x, y, z)
    if isinstance(expected, str):
        assert isinstance(out, np.ndarray)
        np.testing.assert_allclose(out, partial[expected])
    else:
        assert isinstance(out, tuple) and len(out) == len(expected)
        for got, name in zip(out, expected):
            np.testing.assert_allclose(got, partial[name])


# -- gradients look like their arguments ------------------------------------------------------

def mixed(a, b, s):
    return np.sum(np.tanh(a @ b) * s) + s * s


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_shape_and_dtype(dtype):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal((4,)).astype(dtype)
    ga, gb, gs = grad(mixed, wrt=(0, 1, 2))(a, b, 1.5)
    assert ga.shape == a.shape and ga.dtype == dtype
    assert gb.shape == b.shape and gb.dtype == dtype
    assert isinstance(gs, float)
    assert not isinstance(ga, np.matrix)


def scalar_fn(x, y):
    return x * x * y


def test_python_float_gives_float():
    g = grad(scalar_fn, wrt=(0, 1))(3.0, 2.0)
    assert all(isinstance(v, float) for v in g)
    assert g == (12.0, 9.0)


def bcast(x, b):
    return np.sum(x * b)


def test_broadcast_argument_gets_its_own_shape():
    x = np.ones((4, 3))
    for b in (np.ones(3), np.ones((1, 3)), np.ones((4, 1)), np.float64(2.0), np.ones(())):
        gb = grad(bcast, wrt=1)(x, b)
        assert np.shape(gb) == np.shape(b)
        np.testing.assert_allclose(gb, np.sum(x) / np.size(b))


def sum_all(x):
    return np.sum(x)


def test_gradients_are_fresh_writable_arrays():
    g = grad(sum_all)
    x = np.ones((2, 3))
    g1 = g(x)
    g2 = g(x)
    assert g1.flags.writeable and g1.shape == x.shape
    g1[0, 0] = 42.0                      # writing into one result must not affect the next
    assert g2[0, 0] == 1.0
    assert g(x)[0, 0] == 1.0


# -- value_and_grad ---------------------------------------------------------------------------

def test_value_and_grad():
    x, y, z = args3()
    value, gx = value_and_grad(prod3)(x, y, z)
    assert value == pytest.approx(prod3(x, y, z), rel=1e-14)
    np.testing.assert_allclose(gx, y * z)
    value, (gx, gz) = value_and_grad(prod3, wrt=("x", "z"))(x, y, z)
    assert value == pytest.approx(prod3(x, y, z), rel=1e-14)
    np.testing.assert_allclose(gz, x * y)
    value, grads = value_and_grad(scalar_fn, wrt=[0])(3.0, 2.0)
    assert value == 18.0 and grads == (12.0,)


@value_and_grad(wrt=1)
def vg_deco(x, y):
    return x / y


def test_value_and_grad_decorator():
    assert vg_deco(3.0, 2.0) == (1.5, -0.75)


# -- source / __wrapped__ ------------------------------------------------------------------------

def test_source_and_wrapped():
    g = grad(prod3, wrt=(0, 2))
    assert g.__wrapped__ is prod3
    generic = g.source                    # before any call: the generic version
    assert generic.startswith("def prod3_grad(x, y, z):")
    g(*args3())
    src = g.source
    assert src.startswith("def prod3_grad(x, y, z):")
    assert "return grad_x, grad_z" in src
    assert s2sgrad.source(g) == src
    compile(src, "<generated>", "exec")   # valid Python
    v = value_and_grad(prod3)
    v(*args3())
    assert s2sgrad.source(v) == v.source
    with pytest.raises(TypeError):
        s2sgrad.source(prod3)


def test_generated_code_is_inspectable():
    import inspect
    g = grad(prod3)
    g(*args3())
    fn = g._compiled
    assert inspect.getsource(fn).strip() == g.source.strip()


# -- name hygiene: user names that look like ours --------------------------------------------------

def tricky_names(x, grad_x, t0, out):
    t1 = x * grad_x
    grad_t1 = t1 * t0
    return np.sum(grad_t1 + out * x)


def test_user_names_like_generated_ones():
    rng = np.random.default_rng(9)
    args = tuple(rng.standard_normal(4) for _ in range(4))
    gx, ggx, gt0, gout = grad(tricky_names, wrt=(0, 1, 2, 3))(*args)
    x, grad_x, t0, out = args
    np.testing.assert_allclose(gx, grad_x * t0 + out)
    np.testing.assert_allclose(ggx, x * t0)
    np.testing.assert_allclose(gt0, x * grad_x)
    np.testing.assert_allclose(gout, x)
    check_grad(tricky_names, args, wrt=(0, 1, 2, 3))


def shadow_np(x):
    np = 3.0
    return x * np


def local_named_out(x):
    out = x * x
    grad_out = out + 1.0
    return grad_out * x


def test_np_shadowing_local_and_out():
    assert grad(shadow_np)(2.0) == 3.0
    assert grad(local_named_out)(2.0) == pytest.approx(3 * 4.0 + 1.0)


def reassign(x):
    y = x * 2.0
    y = y * y
    y = y + x
    return y


def test_straight_line_reassignment():
    assert grad(reassign)(1.5) == pytest.approx(8 * 1.5 + 1.0)


# -- calling conventions ---------------------------------------------------------------------------

def with_defaults(x, y=4.0, scale=2.0):
    return x * y * scale


def test_keyword_arguments_and_defaults():
    g = grad(with_defaults, wrt=(0, "y"))
    assert g(2.0) == (8.0, 4.0)
    assert g(2.0, y=5.0) == (10.0, 4.0)
    assert g(x=2.0, y=5.0, scale=3.0) == (15.0, 6.0)
    assert g(2.0, 5.0, 3.0) == (15.0, 6.0)
    assert grad(with_defaults, wrt="scale")(1.0, scale=7.0) == 4.0


def int_args(x, n, k):
    return np.sum(x[:n] ** 2) * k


def test_integer_arguments_are_constants():
    g = grad(int_args)
    x = np.arange(1.0, 6.0)
    np.testing.assert_allclose(g(x, 2, 3), [6.0, 12.0, 0, 0, 0])
    np.testing.assert_allclose(g(x, 3, 1), [2.0, 4.0, 6.0, 0, 0])   # a new n, same types
    np.testing.assert_allclose(g(x, 2, 3), [6.0, 12.0, 0, 0, 0])


def in_place_user_code(x, y):
    z = x * 1.0
    z += y
    z *= y
    return np.sum(z)


def uses_args_directly(x, W):
    return np.sum(W @ x) + np.dot(x, x)


def test_callers_arrays_are_not_mutated():
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    W = rng.standard_normal((4, 4))
    saved = [a.copy() for a in (x, y, W)]
    gx, gy = grad(in_place_user_code, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x + 2 * y)
    for _ in range(2):
        gx, gW = grad(uses_args_directly, wrt=(0, 1))(x, W)
        gx += 1.0                          # writing into the results must not touch inputs
        gW += 1.0
    for a, b in zip((x, y, W), saved):
        np.testing.assert_array_equal(a, b)


def float32_scalar(x):
    return x * x


def test_numpy_scalar_arguments():
    r = grad(float32_scalar)(np.float64(3.0))
    assert r == 6.0 and np.ndim(r) == 0
    r = grad(float32_scalar)(np.float32(3.0))
    assert r == 6.0 and np.ndim(r) == 0


def _reshaped_scalar(a, b):
    return np.sum(np.reshape(a, (1,)) * b)


def test_python_float_argument_gets_a_float_through_non_ufuncs():
    # np.reshape / np.where of scalars give 0-d arrays; the gradient must still be a float
    a, b = 1.5, np.array([1.0, 2.0])
    ga = grad(_reshaped_scalar)(a, b)
    assert type(ga) is float or isinstance(ga, np.floating), type(ga)
    assert not isinstance(ga, np.ndarray)
    assert abs(ga - 3.0) < 1e-12
