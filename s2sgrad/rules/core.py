"""Rules for what the compiler itself emits, so that generated code can be
differentiated again (grad of grad, Hessians, HVPs): the helpers of
``runtime/core.py`` (``unbroadcast``, ``unreduce``, ``as_gradient``, ...) and the NumPy
calls specialized gradient code makes (``np.broadcast_to``, ``np.expand_dims``,
``np.outer``, ``np.array``).  All of them are linear in the gradient they carry, so
their adjoints are short and their tangents are ``linear`` marks.

A rule for a NumPy function is registered here only when no family has one (this
module is imported after the families), so a family's rule always wins.  Everything
here is in the "runtime" family, which the generated list of supported functions
leaves out.
"""
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import grad, lookup, nondifferentiable, vjp
from s2sgrad.rules.tangents import linear, tangent, tangent_rule
from s2sgrad.runtime import expand_reduced, unbroadcast


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


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


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


@_vjp_if_missing(runtime.own_gradient, family="runtime")
def own_gradient_rule(result, g):
    grad[g] = grad[result]


@_vjp_if_missing(runtime.copy_argument, family="runtime")
def copy_argument_rule(result, x):
    grad[x] = grad[result]


@_vjp_if_missing(runtime.private_copy, family="runtime")
def private_copy_rule(result, x, pairs):
    grad[x] = grad[result]


@_vjp_if_missing(runtime.unbroadcast, family="runtime")
def unbroadcast_rule(result, g, like):
    grad[g] = np.broadcast_to(grad[result], np.shape(g))


@_vjp_if_missing(runtime.as_gradient, family="runtime")
def as_gradient_rule(result, g, like):
    grad[g] = unbroadcast(grad[result], g)


@_vjp_if_missing(runtime.expand_reduced, family="runtime")
def expand_reduced_rule(result, g, like, axis, keepdims):
    grad[g] = np.reshape(grad[result], np.shape(g))


@_vjp_if_missing(runtime.unreduce, family="runtime")
def unreduce_rule(result, g, like, axis=None, keepdims=False):
    grad[g] = np.reshape(unbroadcast(grad[result], expand_reduced(g, like, axis, keepdims)),
                         np.shape(g))


_nondifferentiable_if_missing(runtime.check_scalar_output, runtime.zeros_like_grad,
                              runtime.inverse_permutation, runtime.write_back,
                              runtime.redo_writes)


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(runtime.unbroadcast, runtime.unreduce, runtime.expand_reduced, runtime.as_gradient,
       runtime.own_gradient, runtime.copy_argument, runtime.private_copy)


@tangent_rule(runtime.add_at)
def tangent_add_at(result, a, indices, b):
    # jointly linear in (a, b): one term each, so a missing tangent drops only its own
    tangent[result] = tangent[a]
    tangent[result] += runtime.add_at(np.zeros(np.shape(result)), indices, tangent[b])


@tangent_rule(runtime.subtract_at)
def tangent_subtract_at(result, a, indices, b):
    tangent[result] = tangent[a]
    tangent[result] += runtime.subtract_at(np.zeros(np.shape(result)), indices, tangent[b])
