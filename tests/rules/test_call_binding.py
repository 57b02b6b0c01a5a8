"""A rule reads a call's arguments as the real function does, or the call is a clear
error (issue #13): calls are bound against the function's signature (or the form its
rule declares), and a parameter the rule gives no gradient that receives a float
depending on a differentiated input is an error at the first call, never a zero."""
import inspect

import numpy as np
import pytest

import s2sgrad
from s2sgrad import S2SGradError, adjoint, grad
from gradcheck import check_grad
from rulecheck import check_expr, rand


# -- misbindings that were silent, now right or a clear error ---------------------------

def test_prod_with_initial_passed_by_position():
    # np.prod(a, axis, dtype, out, keepdims, initial): the rule read `initial` as `where`
    check_expr("np.prod(a, 0, None, None, False, 2.5)", a=rand(3, 2))
    check_expr("np.prod(a, initial=-1.5)", a=rand(4))
    check_expr("np.prod(a, axis=1, initial=2.0, where=m)", consts={"m": np.array(
        [[True, False, True], [True, True, False]])}, a=rand(2, 3))


def test_atleast_1d_of_two_arrays_binds_each_array():
    # Several arrays are split into one call each (front/desugar), so the rule's
    # one-array form never misreads the second array as another parameter.
    def f(x):
        return np.sum(np.atleast_1d(x, x * 2.0)[1] * x)

    x = rand(3)
    np.testing.assert_allclose(grad(f)(x), 4.0 * x, rtol=1e-13)


def test_meshgrid_of_four_arrays_is_a_clear_error():
    def f(x):
        return np.sum(np.meshgrid(x, x, x, x)[3])

    with pytest.raises(S2SGradError, match="meshgrid.*'copy'"):
        grad(f)(rand(2))


def test_copy_with_order_by_position_is_a_clear_error_and_by_keyword_works():
    def by_position(x):
        return np.sum(np.copy(x, "F") ** 2)

    def by_keyword(x):
        return np.sum(np.copy(x, order="F") ** 2)

    with pytest.raises(S2SGradError, match="does not match np.copy"):
        grad(by_position)(rand(2, 3))
    check_grad(by_keyword, (rand(2, 3),))


def test_reshape_second_parameter_by_either_name_and_position():
    check_expr("np.reshape(a, (3, 2))", a=rand(2, 3))
    check_expr("np.reshape(a, (3, 2), 'F')", a=rand(2, 3))
    # NumPy 2.1 renamed reshape's 'newshape' to 'shape'
    name = "shape" if "shape" in inspect.signature(np.reshape).parameters else "newshape"
    check_expr("np.reshape(a, %s=(3, 2))" % name, a=rand(2, 3))
    check_expr("np.reshape(a, -1, order='F')", a=rand(2, 3))


def test_positional_out_of_a_ufunc_is_a_clear_error():
    def f(x):
        y = np.zeros(3)
        z = np.add(x, 1.0, y)
        return np.sum(z * y)

    with pytest.raises(S2SGradError, match="does not match np.add"):
        grad(f)(rand(3))


# -- a parameter without a gradient that receives a differentiated float ---------------

TRAPEZOID = getattr(np, "trapezoid", None) or getattr(np, "trapz")


def trapezoid_dx(x, dx):
    return TRAPEZOID(x ** 2, dx=dx)


def test_float_reaching_a_parameter_without_gradient_is_an_error():
    # the gradient w.r.t. x is fine; w.r.t. dx it would have been dropped
    check_grad(trapezoid_dx, (rand(5), 0.3), wrt=0)
    with pytest.raises(S2SGradError, match="'dx' no gradient") as err:
        grad(trapezoid_dx, wrt=1)(rand(5), 0.3)
    assert "trapezoid_dx" in str(err.value) and "hint" in str(err.value)


def test_interp_fill_values_that_depend_on_the_input_are_an_error():
    xp = np.linspace(0.0, 1.0, 5)

    def f(x):
        return np.sum(np.interp(np.array([-1.0, 0.5, 2.0]), xp, x, left=x[0] * 2.0))

    with pytest.raises(S2SGradError, match="'left' no gradient"):
        grad(f)(rand(5))


def shift_by_own_entry(x):
    k = np.abs(x).astype(np.int64)[0] % 4      # an integer computed from x
    return np.sum(np.roll(x, k) * np.arange(x.shape[0]))


def test_integers_in_such_parameters_are_proved_constant_by_the_probe(monkeypatch):
    x = np.array([2.5, -1.0, 0.5, 3.0])
    check_grad(shift_by_own_entry, (x,))
    # without the probe's proof (an integer was seen there) the call is refused
    import s2sgrad.analysis.dataflow
    monkeypatch.setattr(s2sgrad.analysis.dataflow, "_proved_without_gradient",
                        lambda shapes, n: False)
    with pytest.raises(S2SGradError, match="'shift' no gradient"):
        grad(shift_by_own_entry)(np.append(x, 1.5))      # (a new signature)


def test_custom_adjoint_that_omits_a_differentiated_argument_is_an_error():
    def scaled(x, w):
        return x * w

    @adjoint(scaled)
    def _(result, x, w):
        grad[x] = grad[result] * w

    def f(x, w):
        return np.sum(scaled(x, w))

    check_grad(f, (rand(3), rand(3)), wrt=0)
    with pytest.raises(S2SGradError, match="'w' no gradient"):
        grad(f, wrt=1)(rand(3), rand(3))


def test_custom_adjoint_with_parameters_in_another_order_is_an_error():
    def affine(x, scale):
        return x * scale + 1.0

    @adjoint(affine)
    def _(result, scale, x):          # swapped: x would be read as scale
        grad[x] = grad[result] * scale
        grad[scale] = grad[result] * x

    def f(x):
        return np.sum(affine(x, 3.0))

    with pytest.raises(S2SGradError, match="reads argument 1 of .*affine as 'scale'"):
        grad(f)(rand(3))


def test_forward_mode_reports_the_same_misbinding():
    def f(x):
        return np.interp(np.array([-1.0, 0.5]), np.linspace(0.0, 1.0, 3), x, left=x[0])

    with pytest.raises(S2SGradError, match="'left' no gradient"):
        s2sgrad.jvp(f)(rand(3), rand(3))
