"""Derivative rules for Python operators and the core NumPy functions.

Read each rule as the seed notes draw a gate: the upstream gradient
``grad[result]`` times the local gradient gives the downstream gradient.
Ordered by family: arithmetic, unary functions, selection, reductions,
linear algebra, shape and indexing, constants.
"""
import builtins
import operator

import gast
import numpy as np

from ..runtime import (dot_adjoint_left, dot_adjoint_right, inverse_permutation,
                       matmul_adjoint_left, matmul_adjoint_right, reduced_count,
                       route_to_extremum, unreduce)
from .registry import elementwise, grad, nondifferentiable, vjp

# -- arithmetic (add distributes, mul swaps) --------------------------------


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


@elementwise(np.power, operator=gast.Pow, family="arithmetic")
def power(result, x, y):
    if not is_static(y):
        grad[x] = grad[result] * y * x ** (y - 1)
    elif y == 0:
        pass
    elif y == 1:
        grad[x] = grad[result]
    elif y == 2:
        grad[x] = 2.0 * grad[result] * x
    else:
        grad[x] = grad[result] * y * x ** (y - 1)
    grad[y] = grad[result] * result * np.log(np.where(x == 0, 1.0, x))


@elementwise(np.negative, operator=gast.USub, family="arithmetic")
def negative(result, x):
    grad[x] = -grad[result]


@elementwise(np.positive, operator=gast.UAdd, family="arithmetic")
def positive(result, x):
    grad[x] = grad[result]


# -- unary functions ---------------------------------------------------------


@elementwise(np.exp, family="unary")
def exp(result, x):
    grad[x] = grad[result] * result


@elementwise(np.log, family="unary")
def log(result, x):
    grad[x] = grad[result] / x


@elementwise(np.sqrt, family="unary")
def sqrt(result, x):
    grad[x] = grad[result] / (2.0 * result)


@elementwise(np.sin, family="unary")
def sin(result, x):
    grad[x] = grad[result] * np.cos(x)


@elementwise(np.cos, family="unary")
def cos(result, x):
    grad[x] = -grad[result] * np.sin(x)


@elementwise(np.tanh, family="unary")
def tanh(result, x):
    grad[x] = grad[result] * (1.0 - result * result)


@elementwise(np.abs, np.absolute, builtins.abs, family="unary")
def absolute(result, x):
    grad[x] = grad[result] * np.sign(x)


@vjp(builtins.float, np.asarray, family="unary")
def identity(result, x):
    grad[x] = grad[result]


# -- selection (max routes) ----------------------------------------------------
# Ties: np.maximum / np.minimum route the whole gradient to the first argument;
# the reductions np.max / np.min share it equally between tied entries.


@elementwise(np.maximum, family="selection")
def maximum(result, x, y):
    grad[x] = grad[result] * (x >= y)
    grad[y] = grad[result] * (x < y)


@elementwise(np.minimum, family="selection")
def minimum(result, x, y):
    grad[x] = grad[result] * (x <= y)
    grad[y] = grad[result] * (x > y)


@elementwise(np.where, family="selection")
def where(result, condition, x, y):
    grad[x] = np.where(condition, grad[result], 0.0)
    grad[y] = np.where(condition, 0.0, grad[result])


# -- reductions ---------------------------------------------------------------


@vjp(np.sum, methods=("sum",), family="reductions")
def sum(result, a, axis=None, dtype=None, out=None, keepdims=False):
    grad[a] = unreduce(grad[result], a, axis, keepdims)


@vjp(np.mean, methods=("mean",), family="reductions")
def mean(result, a, axis=None, dtype=None, out=None, keepdims=False):
    grad[a] = unreduce(grad[result] / reduced_count(a, axis), a, axis, keepdims)


@vjp(np.max, np.amax, np.min, np.amin, methods=("max", "min"), family="reductions")
def extremum(result, a, axis=None, out=None, keepdims=False):
    grad[a] = route_to_extremum(grad[result], a, result, axis, keepdims)


# -- linear algebra -------------------------------------------------------------


@vjp(np.dot, methods=("dot",), family="linear algebra")
def dot(result, a, b):
    grad[a] = dot_adjoint_left(grad[result], a, b)
    grad[b] = dot_adjoint_right(grad[result], a, b)


@vjp(np.matmul, operator=gast.MatMult, family="linear algebra")
def matmul(result, a, b):
    grad[a] = matmul_adjoint_left(grad[result], a, b)
    grad[b] = matmul_adjoint_right(grad[result], a, b)


# -- shape and indexing -----------------------------------------------------------


@vjp(np.reshape, family="shape")
def reshape(result, a, newshape=None, order="C", shape=None):
    grad[a] = np.reshape(grad[result], np.shape(a), order=order)


@vjp(methods=("reshape",), family="shape")
def reshape_method(result, a, *shape, order="C"):
    grad[a] = np.reshape(grad[result], np.shape(a), order=order)


@vjp(np.transpose, family="shape")
def transpose(result, a, axes=None):
    if axes is None:
        grad[a] = np.transpose(grad[result])
    else:
        grad[a] = np.transpose(grad[result], inverse_permutation(axes))


@vjp(methods=("transpose",), family="shape")
def transpose_method(result, a, *axes):
    if axes == () or axes == (None,):
        grad[a] = np.transpose(grad[result])
    else:
        grad[a] = np.transpose(grad[result], inverse_permutation(axes))


@vjp(attributes=("T",), family="shape")
def transpose_attribute(result, a):
    grad[a] = np.transpose(grad[result])


@vjp(operator.getitem, family="shape")
def getitem(result, x, index):
    grad[x][index] += grad[result]


# -- constants: no gradient flows through these -------------------------------

nondifferentiable(
    np.shape, np.ndim, np.size, builtins.len, builtins.int, builtins.bool, builtins.round,
    np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero, np.count_nonzero,
    np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like,
    np.full_like, np.arange, np.linspace, np.eye, np.identity,
    np.isfinite, np.isnan, np.isinf, np.isclose, np.allclose, np.array_equal,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.any, np.all,
    np.floor_divide,
    methods=("argmax", "argmin", "argsort", "nonzero", "any", "all"),
    attributes=("shape", "ndim", "size", "dtype"),
)
