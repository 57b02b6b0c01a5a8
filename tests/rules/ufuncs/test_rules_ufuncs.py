"""Elementwise rules (rules/numpy_ufuncs.py) against finite differences, over
Python-scalar, vector, matrix and broadcast shapes."""
import math
import warnings

import numpy as np
import pytest

from rulecheck import check_expr, pos, rand

SHAPES = [(), (5,), (3, 4)]

# name -> (expression in x, low, high)
UNARY = {
    "neg": ("-x", -2, 2), "pos": ("+x", -2, 2), "np.negative": ("np.negative(x)", -2, 2),
    "np.positive": ("np.positive(x)", -2, 2),
    "np.abs": ("np.abs(x)", 0.3, 2), "np.absolute": ("np.absolute(-x)", 0.3, 2),
    "np.fabs": ("np.fabs(x)", -2, -0.3), "abs": ("abs(x)", -2, -0.3),
    "np.exp": ("np.exp(x)", -2, 2), "np.exp2": ("np.exp2(x)", -2, 2),
    "np.expm1": ("np.expm1(x)", -2, 2), "np.log": ("np.log(x)", 0.5, 3),
    "np.log2": ("np.log2(x)", 0.5, 3), "np.log10": ("np.log10(x)", 0.5, 3),
    "np.log1p": ("np.log1p(x)", -0.5, 3), "np.sqrt": ("np.sqrt(x)", 0.5, 3),
    "np.cbrt": ("np.cbrt(x)", 0.5, 3), "np.cbrt-neg": ("np.cbrt(x)", -3, -0.5),
    "np.square": ("np.square(x)", -2, 2), "np.reciprocal": ("np.reciprocal(x)", 0.5, 2),
    "np.sin": ("np.sin(x)", -3, 3), "np.cos": ("np.cos(x)", -3, 3),
    "np.tan": ("np.tan(x)", -1.2, 1.2), "np.arcsin": ("np.arcsin(x)", -0.9, 0.9),
    "np.arccos": ("np.arccos(x)", -0.9, 0.9), "np.arctan": ("np.arctan(x)", -3, 3),
    "np.sinh": ("np.sinh(x)", -2, 2), "np.cosh": ("np.cosh(x)", -2, 2),
    "np.tanh": ("np.tanh(x)", -2, 2), "np.arcsinh": ("np.arcsinh(x)", -2, 2),
    "np.arccosh": ("np.arccosh(x)", 1.2, 3), "np.arctanh": ("np.arctanh(x)", -0.9, 0.9),
    "np.deg2rad": ("np.deg2rad(x)", -2, 2), "np.radians": ("np.radians(x)", -2, 2),
    "np.rad2deg": ("np.rad2deg(x)", -2, 2), "np.degrees": ("np.degrees(x)", -2, 2),
    "np.sinc": ("np.sinc(x)", 0.1, 2.5),
    "np.floor+x": ("np.floor(x) + x", 0.1, 0.9), "np.ceil*x": ("np.ceil(x) * x", 0.1, 0.9),
    "np.round+x": ("np.round(x) + x", 0.1, 0.4), "np.rint+x": ("np.rint(x) + x", 0.1, 0.4),
    "np.trunc+x": ("np.trunc(x) + x", 0.1, 0.9), "np.sign*x": ("np.sign(x) * x", 0.3, 2),
    "np.fix+x": ("np.fix(x) + x", 0.1, 0.9),
}

MATH = {
    "math.exp": ("math.exp(x)", -2, 2), "math.log": ("math.log(x)", 0.5, 3),
    "math.sqrt": ("math.sqrt(x)", 0.5, 3), "math.sin": ("math.sin(x)", -3, 3),
    "math.cos": ("math.cos(x)", -3, 3), "math.tan": ("math.tan(x)", -1, 1),
    "math.tanh": ("math.tanh(x)", -2, 2), "math.atan": ("math.atan(x)", -2, 2),
    "math.log1p": ("math.log1p(x)", -0.5, 2), "math.expm1": ("math.expm1(x)", -2, 2),
    "math.fabs": ("math.fabs(x)", 0.5, 2), "math.pow": ("math.pow(x, 2.5)", 0.5, 2),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, shape):
    expr, low, high = UNARY[name]
    with warnings.catch_warnings():
        # the user's code calls np.fix on purpose (deprecated in NumPy 2.5: the CI rows
        # turn DeprecationWarnings into errors); s2sgrad itself never calls it
        warnings.filterwarnings("ignore", "numpy.fix is deprecated", DeprecationWarning)
        check_expr(expr, x=rand(*shape, low=low, high=high), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(MATH))
def test_math_module(name):
    expr, low, high = MATH[name]
    check_expr(expr, consts={"math": math}, x=rand(low=low, high=high), rtol=1e-5)


def test_sinc_at_zero():
    check_expr("np.sinc(x)", x=np.array([0.0, 0.5, -1.5]))


PAIRS = [((), ()), ((), (3,)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3), (2, 3)),
         ((2, 1, 3), (4, 1))]

BINARY = {
    "+": ("x + y", None), "-": ("x - y", None), "*": ("x * y", None), "/": ("x / y", "y"),
    "np.add": ("np.add(x, y)", None), "np.subtract": ("np.subtract(x, y)", None),
    "np.multiply": ("np.multiply(x, y)", None), "np.divide": ("np.divide(x, y)", "y"),
    "np.true_divide": ("np.true_divide(x, y)", "y"),
    "**": ("x ** y", "xy"), "np.power": ("np.power(x, y)", "xy"),
    "np.float_power": ("np.float_power(x, y)", "xy"),
    "np.maximum": ("np.maximum(x, y)", None), "np.minimum": ("np.minimum(x, y)", None),
    "np.fmax": ("np.fmax(x, y)", None), "np.fmin": ("np.fmin(x, y)", None),
    "np.arctan2": ("np.arctan2(x, y)", None), "np.hypot": ("np.hypot(x, y)", None),
    "np.logaddexp": ("np.logaddexp(x, y)", None), "np.logaddexp2": ("np.logaddexp2(x, y)", None),
    "%": ("x % y", "y"), "np.mod": ("np.mod(x, y)", "y"), "np.remainder": ("np.remainder(x, y)", "y"),
    "np.fmod": ("np.fmod(x, y)", "y"), "np.copysign": ("np.copysign(x, y)", "xy"),
}


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, shapes):
    expr, positive = BINARY[name]
    sx, sy = shapes
    x = pos(*sx) if positive and "x" in positive else rand(*sx)
    y = pos(*sy) if positive and "y" in positive else rand(*sy)
    if name in ("%", "np.mod", "np.remainder", "np.fmod"):
        y = y * 0.7 + 0.05    # keep x / y away from integers
    if name == "np.copysign":
        y = y * np.where(rand(*sy) > 0, 1.0, -1.0) if sy else -y
    check_expr(expr, x=x, y=y, rtol=1e-5)


@pytest.mark.parametrize("n", [0, 1, 2, 3, -1, -2, 0.5])
def test_power_constant_exponents(n):
    x = rand(4) if isinstance(n, int) and n >= 0 else pos(4)
    check_expr("x ** %r + x" % n, x=x)


def test_power_negative_base_integer_exponent():
    check_expr("x ** 3", x=np.array([-1.5, -0.5, 0.7]))
    check_expr("np.power(x, n)", consts={"n": 3}, x=np.array([-1.5, -0.5, 0.7]))


def test_power_exponent_variable_with_zero():
    check_expr("x ** n", consts={"n": np.array([0, 1, 2])}, x=np.array([0.0, 0.5, -0.7]))


def test_zero_gradient_functions_are_constants():
    import s2sgrad

    def f(x):
        return np.sum(np.sign(x) + np.floor(x) + np.round(x))

    g = s2sgrad.grad(f)(rand(4))
    assert np.all(g == 0)
