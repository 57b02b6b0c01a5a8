"""NumPy 2 array-API spellings (np.linalg.vector_norm, np.vecdot, np.unstack,
np.cumulative_sum ...): the same gradients as their classic counterparts.
Registered only for the functions this NumPy version has."""
import numpy as np

from s2sgrad.runtime import (astype_adjoint, cumprod_adjoint, diagonal_adjoint, mT,
                             norm_adjoint, svd_values_adjoint, tensordot_adjoint_left,
                             tensordot_adjoint_right, trace_adjoint, unbroadcast)
from s2sgrad.rules.registry import grad, vjp

_linalg = np.linalg


def _np(name, module=np):
    return getattr(module, name, None)


@vjp(_np("matrix_transpose"), _np("matrix_transpose", _linalg), family="array API")
def matrix_transpose(result, x):
    grad[x] = np.swapaxes(grad[result], -1, -2)


@vjp(_np("vecdot"), _np("vecdot", _linalg), family="array API")
def vecdot(result, x1, x2, axis=-1):
    grad[x1] = unbroadcast(np.expand_dims(grad[result], axis) * x2, x1)
    grad[x2] = unbroadcast(np.expand_dims(grad[result], axis) * x1, x2)


@vjp(_np("matvec"), family="array API")
def matvec(result, x1, x2):
    grad[x1] = unbroadcast(np.expand_dims(grad[result], -1) * np.expand_dims(x2, -2), x1)
    grad[x2] = unbroadcast(np.matvec(mT(x1), grad[result]), x2)


@vjp(_np("vecmat"), family="array API")
def vecmat(result, x1, x2):
    grad[x1] = unbroadcast(np.matvec(x2, grad[result]), x1)
    grad[x2] = unbroadcast(np.expand_dims(x1, -1) * np.expand_dims(grad[result], -2), x2)


@vjp(_np("cumulative_sum"), family="array API")
def cumulative_sum(result, x, axis=None, dtype=None, out=None, include_initial=False):
    if include_initial:
        raise NotImplementedError("include_initial=True is not differentiated")
    if axis is None:
        grad[x] = np.flip(np.cumsum(np.flip(grad[result])))
    else:
        grad[x] = np.flip(np.cumsum(np.flip(grad[result], axis), axis), axis)


@vjp(_np("cumulative_prod"), family="array API")
def cumulative_prod(result, x, axis=None, dtype=None, out=None, include_initial=False):
    if include_initial:
        raise NotImplementedError("include_initial=True is not differentiated")
    grad[x] = cumprod_adjoint(grad[result], x, axis)


@vjp(_np("unstack"), family="array API")
def unstack(result, x, axis=0):
    # result is a tuple of slices; its gradient the tuple of their gradients
    grad[x] = np.stack(grad[result], axis)


@vjp(_np("astype"), family="array API")
def astype(result, x, dtype, copy=True, device=None):
    grad[x] = astype_adjoint(grad[result], dtype)


@vjp(_np("vector_norm", _linalg), family="array API")
def vector_norm(result, x, axis=None, keepdims=False, ord=2):
    grad[x] = norm_adjoint(grad[result], x, result, ord, axis, keepdims, "vector")


@vjp(_np("matrix_norm", _linalg), family="array API")
def matrix_norm(result, x, keepdims=False, ord="fro"):
    grad[x] = norm_adjoint(grad[result], x, result, ord, (-2, -1), keepdims, "matrix")


@vjp(_np("outer", _linalg), family="array API")
def linalg_outer(result, x1, x2):
    grad[x1] = np.dot(grad[result], x2)
    grad[x2] = np.dot(x1, grad[result])


@vjp(_np("matmul", _linalg), family="array API")
def linalg_matmul(result, x1, x2):
    grad[x1] = unbroadcast(np.matmul(grad[result], mT(x2)), x1)
    grad[x2] = unbroadcast(np.matmul(mT(x1), grad[result]), x2)


@vjp(_np("tensordot", _linalg), family="array API")
def linalg_tensordot(result, x1, x2, axes=2):
    grad[x1] = tensordot_adjoint_left(grad[result], x1, x2, axes)
    grad[x2] = tensordot_adjoint_right(grad[result], x1, x2, axes)


@vjp(_np("trace", _linalg), family="array API")
def linalg_trace(result, x, offset=0, dtype=None):
    grad[x] = trace_adjoint(grad[result], x, offset, -2, -1)


@vjp(_np("diagonal", _linalg), family="array API")
def linalg_diagonal(result, x, offset=0):
    grad[x] = diagonal_adjoint(grad[result], x, offset, -2, -1)


@vjp(_np("cross", _linalg), family="array API")
def linalg_cross(result, x1, x2, axis=-1):
    grad[x1] = unbroadcast(np.cross(x2, grad[result], axis=axis), x1)
    grad[x2] = unbroadcast(np.cross(grad[result], x1, axis=axis), x2)


@vjp(_np("svdvals", _linalg), family="array API")
def svdvals(result, x):
    grad[x] = svd_values_adjoint(grad[result], x)
