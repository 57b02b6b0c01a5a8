"""Elementwise functions: arithmetic, unary ufuncs, binary ufuncs.

Every rule here is ``elementwise``: the contribution it writes has the result's
shape and the compiler sums it back to each input's shape (broadcasting).
Read each one as upstream gradient ``grad[result]`` times local gradient.
"""
import builtins
import math
import operator as _operator

import gast
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import (elementwise, grad, is_complex, is_static, no_gradient,
                                    nondifferentiable, vjp)
from s2sgrad.rules.tangents import linear, tangent, tangent_rule
from s2sgrad.runtime import (digamma, dist_adjoint, extremum_item_adjoint, extremum_item_tangent,
                             prod_items_adjoint, sequence_adjoint, sum_items_adjoint, trigamma,
                             unbroadcast)

# -- arithmetic (add distributes, mul swaps) --------------------------------------


@elementwise(np.add, operator=gast.Add, family="arithmetic")
def add(result, x, y):
    grad[x] = grad[result]
    grad[y] = grad[result]


@elementwise(np.subtract, operator=gast.Sub, family="arithmetic")
def subtract(result, x, y):
    grad[x] = grad[result]
    grad[y] = -grad[result]


@elementwise(np.multiply, operator=gast.Mult, family="arithmetic")
def multiply(result, x, y):
    grad[x] = grad[result] * y
    grad[y] = grad[result] * x


@elementwise(np.true_divide, np.divide, operator=gast.Div, family="arithmetic")
def divide(result, x, y):
    grad[x] = grad[result] / y
    grad[y] = -grad[result] * result / y


@elementwise(np.power, builtins.pow, operator=gast.Pow, family="arithmetic")
def power(result, x, y):
    if not is_static(y):
        grad[x] = grad[result] * y * x ** np.where(y == 0, 1, y - 1)
    elif y == 0:
        pass
    elif y == 1:
        grad[x] = grad[result]
    elif y == 2:
        grad[x] = 2.0 * grad[result] * x
    else:
        grad[x] = grad[result] * y * x ** (y - 1)
    grad[y] = grad[result] * result * np.log(np.where(x == 0, 1.0, x))


@elementwise(np.float_power, math.pow, family="arithmetic")
def float_power(result, x, y):
    grad[x] = grad[result] * y * np.float_power(x, y - 1)
    grad[y] = grad[result] * result * np.log(np.where(x == 0, 1.0, x))


@elementwise(np.negative, operator=gast.USub, family="arithmetic")
def negative(result, x):
    grad[x] = -grad[result]


@elementwise(np.positive, operator=gast.UAdd, family="arithmetic")
def positive(result, x):
    grad[x] = grad[result]


@elementwise(np.remainder, math.remainder, operator=gast.Mod, family="arithmetic")
def remainder(result, x, y):
    grad[x] = grad[result]
    grad[y] = -grad[result] * np.floor_divide(x, y)


@elementwise(np.ldexp, math.ldexp, family="arithmetic")
def ldexp(result, x, i):
    grad[x] = grad[result] * np.exp2(i)
    grad[i] = no_gradient("ldexp: the exponent is an integer")


@elementwise(np.fmod, math.fmod, family="arithmetic")
def fmod(result, x, y):
    grad[x] = grad[result]
    grad[y] = -grad[result] * np.trunc(x / y)


# -- exponentials and logarithms -----------------------------------------------------


@elementwise(np.exp, math.exp, family="exponents and logarithms")
def exp(result, x):
    grad[x] = grad[result] * result


@elementwise(np.exp2, *[f for f in (getattr(math, "exp2", None),) if f is not None],
             family="exponents and logarithms")
def exp2(result, x):
    grad[x] = grad[result] * result * math.log(2.0)


@elementwise(np.expm1, math.expm1, family="exponents and logarithms")
def expm1(result, x):
    grad[x] = grad[result] * (result + 1.0)


@elementwise(np.log, family="exponents and logarithms")
def log(result, x):
    grad[x] = grad[result] / x


@vjp(math.log, family="exponents and logarithms")
def math_log(result, x, base=None):
    # math.log(x, base) is log(x) / log(base)
    if base is None:
        grad[x] = grad[result] / x
    else:
        grad[x] = grad[result] / (x * math.log(base))
        grad[base] = -grad[result] * result / (base * math.log(base))


@elementwise(np.log2, math.log2, family="exponents and logarithms")
def log2(result, x):
    grad[x] = grad[result] / (x * math.log(2.0))


@elementwise(np.log10, math.log10, family="exponents and logarithms")
def log10(result, x):
    grad[x] = grad[result] / (x * math.log(10.0))


@elementwise(np.log1p, math.log1p, family="exponents and logarithms")
def log1p(result, x):
    grad[x] = grad[result] / (1.0 + x)


@elementwise(np.logaddexp, family="exponents and logarithms")
def logaddexp(result, x, y):
    grad[x] = grad[result] * np.exp(x - result)
    grad[y] = grad[result] * np.exp(y - result)


@elementwise(np.logaddexp2, family="exponents and logarithms")
def logaddexp2(result, x, y):
    grad[x] = grad[result] * np.exp2(x - result)
    grad[y] = grad[result] * np.exp2(y - result)


# -- powers and roots --------------------------------------------------------------


@elementwise(np.sqrt, math.sqrt, family="powers")
def sqrt(result, x):
    grad[x] = grad[result] / (2.0 * result)


@elementwise(np.cbrt, getattr(math, "cbrt", None), family="powers")
def cbrt(result, x):
    grad[x] = grad[result] / (3.0 * result * result)


@elementwise(np.square, family="powers")
def square(result, x):
    grad[x] = 2.0 * grad[result] * x


@elementwise(np.reciprocal, family="powers")
def reciprocal(result, x):
    grad[x] = -grad[result] * result * result


@elementwise(np.abs, np.absolute, np.fabs, builtins.abs, math.fabs, family="powers")
def absolute(result, x):
    if is_complex(x):
        # |z| is not holomorphic: d|z| = Re(conj(z) dz) / |z| (docs/complex.md); 0 at z = 0
        grad[x] = grad[result] * np.conj(x) / np.where(result == 0, 1.0, result)
    else:
        grad[x] = grad[result] * np.sign(x)


@elementwise(np.hypot, math.hypot, family="powers")
def hypot(result, x, y):
    grad[x] = grad[result] * x / result
    grad[y] = grad[result] * y / result


@elementwise(np.copysign, math.copysign, family="powers", zero_gradient=("y",))
def copysign(result, x, y):
    grad[x] = grad[result] * np.copysign(1.0, x) * np.copysign(1.0, y)


# -- trigonometric and hyperbolic --------------------------------------------------------


@elementwise(np.sin, math.sin, family="trigonometric")
def sin(result, x):
    grad[x] = grad[result] * np.cos(x)


@elementwise(np.cos, math.cos, family="trigonometric")
def cos(result, x):
    grad[x] = -grad[result] * np.sin(x)


@elementwise(np.tan, math.tan, family="trigonometric")
def tan(result, x):
    grad[x] = grad[result] * (1.0 + result * result)


@elementwise(np.arcsin, math.asin, family="trigonometric")
def arcsin(result, x):
    grad[x] = grad[result] / np.sqrt(1.0 - x * x)


@elementwise(np.arccos, math.acos, family="trigonometric")
def arccos(result, x):
    grad[x] = -grad[result] / np.sqrt(1.0 - x * x)


@elementwise(np.arctan, math.atan, family="trigonometric")
def arctan(result, x):
    grad[x] = grad[result] / (1.0 + x * x)


@elementwise(np.arctan2, math.atan2, family="trigonometric")
def arctan2(result, y, x):
    grad[y] = grad[result] * x / (x * x + y * y)
    grad[x] = -grad[result] * y / (x * x + y * y)


@elementwise(np.sinh, math.sinh, family="trigonometric")
def sinh(result, x):
    grad[x] = grad[result] * np.cosh(x)


@elementwise(np.cosh, math.cosh, family="trigonometric")
def cosh(result, x):
    grad[x] = grad[result] * np.sinh(x)


@elementwise(np.tanh, math.tanh, family="trigonometric")
def tanh(result, x):
    grad[x] = grad[result] * (1.0 - result * result)


@elementwise(np.arcsinh, math.asinh, family="trigonometric")
def arcsinh(result, x):
    grad[x] = grad[result] / np.sqrt(x * x + 1.0)


@elementwise(np.arccosh, math.acosh, family="trigonometric")
def arccosh(result, x):
    if is_complex(x):
        # (the principal branch: sqrt(x - 1) sqrt(x + 1), not sqrt(x * x - 1))
        grad[x] = grad[result] / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0))
    else:
        grad[x] = grad[result] / np.sqrt(x * x - 1.0)


@elementwise(np.arctanh, math.atanh, family="trigonometric")
def arctanh(result, x):
    grad[x] = grad[result] / (1.0 - x * x)


@elementwise(np.deg2rad, np.radians, math.radians, family="trigonometric")
def deg2rad(result, x):
    grad[x] = grad[result] * (np.pi / 180.0)


@elementwise(np.rad2deg, np.degrees, math.degrees, family="trigonometric")
def rad2deg(result, x):
    grad[x] = grad[result] * (180.0 / np.pi)


@elementwise(np.sinc, family="trigonometric")
def sinc(result, x):
    grad[x] = grad[result] * np.where(x == 0, 0.0, (np.cos(np.pi * x) - result)
                                      / np.where(x == 0, 1.0, x))


# -- selection between two values (max routes) -------------------------------------------
# Ties route the whole gradient to the first argument.


@elementwise(np.maximum, np.fmax, family="selection")
def maximum(result, x, y):
    grad[x] = grad[result] * (x >= y)
    grad[y] = grad[result] * (x < y)


@elementwise(np.minimum, np.fmin, family="selection")
def minimum(result, x, y):
    grad[x] = grad[result] * (x <= y)
    grad[y] = grad[result] * (x > y)


# The builtins: max(x, y) returns x unless y > x; max(items) (and max(a, b, c), which
# the trace writes as max([a, b, c])) returns the first of the largest items, whose
# gradient is the whole upstream gradient.


@vjp(builtins.max, family="selection")
def builtin_max(result, x, y=None):
    if y is None:
        grad[x] = extremum_item_adjoint(grad[result], x, result)
    else:
        grad[x] = grad[result] * (x >= y)
        grad[y] = grad[result] * (x < y)


@vjp(builtins.min, family="selection")
def builtin_min(result, x, y=None):
    if y is None:
        grad[x] = extremum_item_adjoint(grad[result], x, result)
    else:
        grad[x] = grad[result] * (x <= y)
        grad[y] = grad[result] * (x > y)


# -- the error function (math.erf, math.erfc; scipy.special's are in scipy_special.py) --


@elementwise(math.erf, family="special functions")
def math_erf(result, x):
    grad[x] = grad[result] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@elementwise(math.erfc, family="special functions")
def math_erfc(result, x):
    grad[x] = -grad[result] * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@elementwise(math.lgamma, family="special functions")
def math_lgamma(result, x):
    grad[x] = grad[result] * digamma(x)


@elementwise(math.gamma, family="special functions")
def math_gamma(result, x):
    grad[x] = grad[result] * result * digamma(x)


@elementwise(digamma, family="special functions")
def digamma_rule(result, x):
    grad[x] = grad[result] * trigamma(x)


# -- builtins and math over sequences ----------------------------------------------------


@vjp(math.fsum, family="reductions")
def math_fsum(result, iterable):
    grad[iterable] = sum_items_adjoint(grad[result], iterable)


@vjp(math.prod, family="reductions")
def math_prod(result, iterable, start=1):
    grad[iterable] = prod_items_adjoint(grad[result], iterable, start)
    grad[start] = grad[result] * result / start


@vjp(math.dist, family="powers")
def math_dist(result, p, q):
    grad[p] = dist_adjoint(grad[result], p, q, result)
    grad[q] = dist_adjoint(-grad[result], p, q, result)


@vjp(builtins.list, builtins.tuple, family="shape")
def sequence_of(result, iterable=()):
    # list(rows) / tuple(items): the items' gradients, back in the argument's form
    grad[iterable] = sequence_adjoint(grad[result], iterable)


@vjp(np.float64, np.float32, np.float16, family="shape")
def float_scalar(result, x=0.0):
    grad[x] = grad[result]


# -- divmod: the remainder x - q * y carries the gradient, the quotient q is a step ------


@vjp(builtins.divmod, family="arithmetic")
def builtin_divmod(result, x, y):
    grad[x] = grad[result][1]
    grad[y] = -grad[result][1] * result[0]


# -- piecewise-constant functions: zero gradient -----------------------------------------

nondifferentiable(
    np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
    np.floor_divide, np.heaviside, np.signbit, math.floor, math.ceil, math.trunc,
    methods=("round",), family="zero gradient")


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


# The builtins' helpers: linear in the gradient (or tangents) they carry; the items
# decide only shapes and which item the extremum picked.
@vjp(runtime.sum_items_adjoint, family="runtime")
def sum_items_adjoint_rule(result, g, items):
    grad[g] = unbroadcast(sum(grad[result]), g)


@vjp(runtime.extremum_item_adjoint, family="runtime")
def extremum_item_adjoint_rule(result, g, items, extremum):
    grad[g] = extremum_item_tangent(grad[result], items, extremum)


@vjp(runtime.extremum_item_tangent, family="runtime")
def extremum_item_tangent_rule(result, tangents, items, extremum):
    grad[tangents] = extremum_item_adjoint(grad[result], items, extremum)


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(_operator.neg, _operator.pos)


linear(runtime.sum_items_adjoint, runtime.extremum_item_adjoint, runtime.extremum_item_tangent,
       runtime.sequence_adjoint, np.float64, np.float32, np.float16, builtins.list, builtins.tuple)


# (here, not beside the reverse rule in numpy_reductions.py: there the name sum is that
# module's rule for np.sum, and a template reads the globals of its module)
@tangent_rule(builtins.sum)
def tangent_builtin_sum(result, iterable, start=0):
    # sum(items): the sum of the items' tangents (a list of them, or an array)
    tangent[result] = sum(tangent[iterable])
    tangent[result] += tangent[start]


@tangent_rule(math.fsum)
def tangent_math_fsum(result, iterable):
    tangent[result] = sum(tangent[iterable])


@tangent_rule(math.prod)
def tangent_math_prod(result, iterable, start=1):
    tangent[result] = runtime.dot_items(runtime.prod_items_adjoint(1.0, iterable, start),
                                        tangent[iterable])
    tangent[result] += tangent[start] * result / start


@tangent_rule(math.dist)
def tangent_math_dist(result, p, q):
    tangent[result] = runtime.dot_items(runtime.dist_adjoint(1.0, p, q, result), tangent[p])
    tangent[result] += -runtime.dot_items(runtime.dist_adjoint(1.0, p, q, result), tangent[q])


@tangent_rule(builtins.max)
def tangent_builtin_max(result, x, y=None):
    if y is None:       # max(items): the tangent of the item returned
        tangent[result] = extremum_item_tangent(tangent[x], x, result)
    else:               # max(x, y) returns x unless y > x
        tangent[result] = tangent[x] * (x >= y)
        tangent[result] += tangent[y] * (x < y)


@tangent_rule(builtins.min)
def tangent_builtin_min(result, x, y=None):
    if y is None:
        tangent[result] = extremum_item_tangent(tangent[x], x, result)
    else:
        tangent[result] = tangent[x] * (x <= y)
        tangent[result] += tangent[y] * (x > y)
