"""Derivative rules for what *generated* code calls, so generated code can be
differentiated again (grad of grad, Hessians, HVPs).

Gradient code calls the runtime helpers (``unbroadcast``, ``unreduce``, the dot
and matmul adjoints, ...) and, once specialized, ``np.broadcast_to``,
``np.expand_dims``, ``np.outer``, ``np.array``.  All of them are linear (or
bilinear) in the gradient they carry, so their adjoints are short; their
tangents come from the ``linear`` marks in ``tangents.py``.

A rule is registered here only when the core table has none for that object,
so a rule added to the core table always wins.  Everything here is in the
"runtime" family, which the generated list of supported functions leaves out
(it is built without importing this module).
"""
import numpy as np

from s2sgrad import runtime
from s2sgrad.runtime import (dot_adjoint_left, dot_adjoint_right, expand_reduced,
                             extremum_item_adjoint, extremum_item_tangent,
                             matmul_adjoint_left, matmul_adjoint_right, unbroadcast)
from s2sgrad.rules.registry import grad, lookup, nondifferentiable, vjp


def _vjp_if_missing(*objs, **kw):
    missing = tuple(o for o in objs if lookup(o) is None)

    def deco(fn):
        if missing:
            return vjp(*missing, **kw)(fn)
        return fn
    return deco


def _nondifferentiable_if_missing(*objs):
    missing = tuple(o for o in objs if lookup(o) is None)
    if missing:
        nondifferentiable(*missing, family="runtime")


# -- NumPy calls that appear in specialized gradient code ------------------------


@_vjp_if_missing(np.array, np.copy, np.ascontiguousarray, family="runtime")
def array(result, x, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    grad[x] = grad[result]


@_vjp_if_missing(np.broadcast_to, family="runtime")
def broadcast_to(result, array, shape, subok=False):
    grad[array] = unbroadcast(grad[result], array)


@_vjp_if_missing(np.expand_dims, family="runtime")
def expand_dims(result, a, axis):
    grad[a] = np.reshape(grad[result], np.shape(a))


@_vjp_if_missing(np.outer, family="runtime")
def outer(result, a, b):
    grad[a] = np.dot(grad[result], np.ravel(b))
    grad[b] = np.dot(np.ravel(a), grad[result])


# -- the runtime helpers ------------------------------------------------------------


if hasattr(runtime, "own_gradient"):
    @_vjp_if_missing(runtime.own_gradient, family="runtime")
    def own_gradient_rule(result, g):
        grad[g] = grad[result]


@_vjp_if_missing(runtime.copy_argument, family="runtime")
def copy_argument_rule(result, x):
    grad[x] = grad[result]


@_vjp_if_missing(runtime.unbroadcast, family="runtime")
def unbroadcast_rule(result, g, like):
    grad[g] = np.broadcast_to(grad[result], np.shape(g))


@_vjp_if_missing(runtime.as_gradient, family="runtime")
def as_gradient_rule(result, g, like):
    grad[g] = unbroadcast(grad[result], g)


# The builtins' helpers: linear in the gradient (or tangents) they carry; the items
# decide only shapes and which item the extremum picked.
@_vjp_if_missing(runtime.sum_items_adjoint, family="runtime")
def sum_items_adjoint_rule(result, g, items):
    grad[g] = unbroadcast(sum(grad[result]), g)


@_vjp_if_missing(runtime.extremum_item_adjoint, family="runtime")
def extremum_item_adjoint_rule(result, g, items, extremum):
    grad[g] = extremum_item_tangent(grad[result], items, extremum)


@_vjp_if_missing(runtime.extremum_item_tangent, family="runtime")
def extremum_item_tangent_rule(result, tangents, items, extremum):
    grad[tangents] = extremum_item_adjoint(grad[result], items, extremum)


@_vjp_if_missing(runtime.expand_reduced, family="runtime")
def expand_reduced_rule(result, g, like, axis, keepdims):
    grad[g] = np.reshape(grad[result], np.shape(g))


@_vjp_if_missing(runtime.unreduce, family="runtime")
def unreduce_rule(result, g, like, axis=None, keepdims=False):
    grad[g] = np.reshape(unbroadcast(grad[result], expand_reduced(g, like, axis, keepdims)),
                         np.shape(g))


@_vjp_if_missing(runtime.route_to_extremum, family="runtime")
def route_to_extremum_rule(result, g, like, extremum, axis=None, keepdims=False):
    # route_to_extremum is linear in g (the tie pattern is locally constant)
    hits = like == expand_reduced(extremum, like, axis, keepdims)
    grad[g] = (np.sum(grad[result] * hits, axis=axis, keepdims=keepdims)
               / np.sum(hits, axis=axis, keepdims=keepdims))


# <G, dot_adjoint_left(g, a, b)> = <g, dot(G, b)>: bilinear in (g, b)
@_vjp_if_missing(runtime.dot_adjoint_left, family="runtime")
def dot_adjoint_left_rule(result, g, a, b):
    grad[g] = np.dot(grad[result], b)
    grad[b] = dot_adjoint_right(g, grad[result], b)


# <G, dot_adjoint_right(g, a, b)> = <g, dot(a, G)>: bilinear in (g, a)
@_vjp_if_missing(runtime.dot_adjoint_right, family="runtime")
def dot_adjoint_right_rule(result, g, a, b):
    grad[g] = np.dot(a, grad[result])
    grad[a] = dot_adjoint_left(g, a, grad[result])


@_vjp_if_missing(runtime.matmul_adjoint_left, family="runtime")
def matmul_adjoint_left_rule(result, g, a, b):
    grad[g] = unbroadcast(np.matmul(grad[result], b), g)
    grad[b] = matmul_adjoint_right(g, grad[result], b)


@_vjp_if_missing(runtime.matmul_adjoint_right, family="runtime")
def matmul_adjoint_right_rule(result, g, a, b):
    grad[g] = unbroadcast(np.matmul(a, grad[result]), g)
    grad[a] = matmul_adjoint_left(g, a, grad[result])


_nondifferentiable_if_missing(runtime.reduced_count, runtime.check_scalar_output,
                              runtime.zeros_like_grad, runtime.inverse_permutation)
