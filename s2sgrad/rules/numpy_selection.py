"""Selection: where, clip, sort, select, nan_to_num.  The gradient goes where
the value came from; entries that were cut off or replaced get none."""
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import elementwise, grad, vjp
from s2sgrad.rules.tangents import linear
from s2sgrad.runtime import (choose_adjoint, partition_adjoint, scatter_source, select_adjoint,
                             select_default_adjoint, sort_adjoint, unbroadcast)


@elementwise(np.where, family="selection")
def where(result, condition, x, y):
    grad[x] = np.where(condition, grad[result], 0.0)
    grad[y] = np.where(condition, 0.0, grad[result])


@elementwise(np.clip, methods=("clip",), family="selection")
def clip(result, a, a_min=None, a_max=None, out=None, min=None, max=None):
    # np.clip(a, lo, hi) is np.minimum(np.maximum(a, lo), hi): hi wins when lo > hi.
    # NumPy 2 also names the bounds min= / max= (a.clip(min=0.0)); each branch below
    # reads one spelling of each bound.
    if min is None and max is None:
        if a_min is None:
            grad[a] = grad[result] * (a <= a_max)
            grad[a_max] = grad[result] * (a > a_max)
        elif a_max is None:
            grad[a] = grad[result] * (a >= a_min)
            grad[a_min] = grad[result] * (a < a_min)
        else:
            grad[a] = grad[result] * ((a >= a_min) & (a <= a_max))
            grad[a_min] = grad[result] * ((a < a_min) & (a_min <= a_max))
            grad[a_max] = grad[result] * ((a > a_max) | (a_min > a_max))
    elif a_min is None and a_max is None:
        if min is None:
            grad[a] = grad[result] * (a <= max)
            grad[max] = grad[result] * (a > max)
        elif max is None:
            grad[a] = grad[result] * (a >= min)
            grad[min] = grad[result] * (a < min)
        else:
            grad[a] = grad[result] * ((a >= min) & (a <= max))
            grad[min] = grad[result] * ((a < min) & (min <= max))
            grad[max] = grad[result] * ((a > max) | (min > max))
    elif a_max is None and min is None:
        # the method's x.clip(lo, max=hi): the method's first positional bound is min
        grad[a] = grad[result] * ((a >= a_min) & (a <= max))
        grad[a_min] = grad[result] * ((a < a_min) & (a_min <= max))
        grad[max] = grad[result] * ((a > max) | (a_min > max))
    else:
        raise NotImplementedError("np.clip: give each bound once, as a_min/a_max or min=/max=")


@elementwise(np.nan_to_num, family="selection")
def nan_to_num(result, x, copy=True, nan=0.0, posinf=None, neginf=None):
    grad[x] = grad[result] * np.isfinite(x)


@vjp(np.sort, family="selection")
def sort(result, a, axis=-1, kind=None, order=None, stable=None):
    grad[a] = sort_adjoint(grad[result], a, axis)


@vjp(np.select, family="selection")
def select(result, condlist, choicelist, default=0):
    grad[choicelist] = select_adjoint(grad[result], condlist, choicelist)
    grad[default] = select_default_adjoint(grad[result], condlist, default)


@vjp(np.partition, family="selection")
def partition(result, a, kth, axis=-1, kind="introselect", order=None):
    grad[a] = partition_adjoint(grad[result], a, kth, axis)


@vjp(np.choose, family="selection")
def choose(result, a, choices, out=None, mode="raise"):
    grad[choices] = choose_adjoint(grad[result], a, choices, mode)


@vjp(np.unique, family="selection")
def unique(result, ar, return_index=False, return_inverse=False, return_counts=False,
           axis=None, equal_nan=True, sorted=True):
    # each unique value is a copy of its first occurrence in ar, which gets its gradient
    # (as JAX's sort-then-keep-the-first does); the other outputs are integers
    if axis is not None:
        raise NotImplementedError("np.unique(axis=...) is not differentiated")
    if sorted:          # (sorted= is new in NumPy 2.3: passed only when given)
        first = np.unique(ar, return_index=True, equal_nan=equal_nan)[1]
    else:
        first = np.unique(ar, return_index=True, equal_nan=equal_nan, sorted=False)[1]
    if not (return_index or return_inverse or return_counts):
        grad[ar] = scatter_source(grad[result], ar, first)
    else:
        grad[ar] = scatter_source(grad[result][0], ar, first)


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


@vjp(runtime.sort_adjoint, family="runtime")
def sort_adjoint_rule(result, g, a, axis=-1):
    # sort_adjoint scatters g through a's sorting permutation; its adjoint gathers
    if axis is None:
        grad[g] = np.reshape(np.take(np.ravel(grad[result]),
                                     np.argsort(np.ravel(a), kind="stable")), np.shape(g))
    else:
        grad[g] = np.take_along_axis(grad[result], np.argsort(a, axis=axis, kind="stable"),
                                     axis)


# choose_adjoint and block_adjoint split g into the choices' / blocks' gradients; their
# adjoints put the pieces together again
@vjp(runtime.choose_adjoint, family="runtime")
def choose_adjoint_rule(result, g, a, choices, mode="raise"):
    grad[g] = unbroadcast(np.choose(a, grad[result], mode=mode), g)


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(np.choose, positions=(1,))


linear(runtime.choose_adjoint)
