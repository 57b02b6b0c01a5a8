"""Methods of ufuncs: np.add.outer, np.subtract.outer (pairwise differences),
np.add.reduce, np.add.accumulate, np.maximum.reduce ... with the same gradients as
the functions they stand for."""
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import grad, nondifferentiable, vjp
from s2sgrad.runtime import (accumulate_source, cumprod_adjoint, expand_reduced, outer_adjoint,
                             prod_adjoint, route_to_extremum, take_along_axis_adjoint, unbroadcast,
                             unreduce)


@vjp(np.add.outer, family="ufunc methods")
def add_outer(result, A, B):
    grad[A] = outer_adjoint(grad[result], A, B, "add", 0)
    grad[B] = outer_adjoint(grad[result], A, B, "add", 1)


@vjp(np.subtract.outer, family="ufunc methods")
def subtract_outer(result, A, B):
    grad[A] = outer_adjoint(grad[result], A, B, "subtract", 0)
    grad[B] = outer_adjoint(grad[result], A, B, "subtract", 1)


@vjp(np.multiply.outer, family="ufunc methods")
def multiply_outer(result, A, B):
    grad[A] = outer_adjoint(grad[result], A, B, "multiply", 0)
    grad[B] = outer_adjoint(grad[result], A, B, "multiply", 1)


@vjp(np.divide.outer, family="ufunc methods")
def divide_outer(result, A, B):
    grad[A] = outer_adjoint(grad[result], A, B, "divide", 0)
    grad[B] = outer_adjoint(grad[result], A, B, "divide", 1)


@vjp(np.add.reduce, family="ufunc methods")
def add_reduce(result, array, axis=0, dtype=None, out=None, keepdims=False):
    grad[array] = unreduce(grad[result], array, axis, keepdims)


@vjp(np.multiply.reduce, family="ufunc methods")
def multiply_reduce(result, array, axis=0, dtype=None, out=None, keepdims=False):
    grad[array] = prod_adjoint(grad[result], array, axis, keepdims)


@vjp(np.maximum.reduce, np.minimum.reduce, family="ufunc methods")
def extremum_reduce(result, array, axis=0, dtype=None, out=None, keepdims=False):
    grad[array] = route_to_extremum(grad[result], array, result, axis, keepdims)


@vjp(np.logaddexp.reduce, family="ufunc methods")
def logaddexp_reduce(result, array, axis=0, dtype=None, out=None, keepdims=False):
    grad[array] = expand_reduced(grad[result], array, axis, keepdims) * np.exp(
        array - expand_reduced(result, array, axis, keepdims))


@vjp(np.add.accumulate, family="ufunc methods")
def add_accumulate(result, array, axis=0, dtype=None, out=None):
    grad[array] = np.flip(np.cumsum(np.flip(grad[result], axis), axis), axis)


@vjp(np.maximum.accumulate, np.minimum.accumulate, family="ufunc methods")
def extremum_accumulate(result, array, axis=0, dtype=None, out=None):
    # each running record's gradient goes to the entry that set it (ties: the earliest)
    grad[array] = take_along_axis_adjoint(grad[result], array, accumulate_source(result, axis),
                                          axis)


@vjp(np.multiply.accumulate, family="ufunc methods")
def multiply_accumulate(result, array, axis=0, dtype=None, out=None):
    grad[array] = cumprod_adjoint(grad[result], array, axis)


# np.add.at(y, index, v) is traced as y[...] = add_at(y, index, v) (see
# normalize.ThreeAddress.scatter_add): y passes its gradient through, and each
# value gets the gradient of the entries it was added to (summed over repeats).
@vjp(runtime.add_at, family="ufunc methods")
def add_at(result, a, indices, b):
    grad[a] = grad[result]
    grad[b] = unbroadcast(grad[result][indices], b)


@vjp(runtime.subtract_at, family="ufunc methods")
def subtract_at(result, a, indices, b):
    grad[a] = grad[result]
    grad[b] = -unbroadcast(grad[result][indices], b)


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


nondifferentiable(runtime.accumulate_source, family="runtime")
