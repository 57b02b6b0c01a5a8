"""Linear algebra: products, contractions, matrix functions, decompositions.

``mT(x)`` is the transpose of the last two axes (``x.T`` for a matrix), so the
rules also hold for stacks of matrices.
"""
import operator as _operator

import gast
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import calling_form, grad, is_complex, nondifferentiable, vjp
from s2sgrad.rules.tangents import linear, tangent, tangent_rule
from s2sgrad.runtime import (cholesky_adjoint, cholesky_adjoint_vjp, convolve_adjoint,
                             convolve_window, cross_adjoint, diag_adjoint, diagonal_adjoint,
                             dot_adjoint_left, dot_adjoint_right, eig_adjoint, eigh_adjoint,
                             einsum_adjoint, kron_adjoint, lstsq_gram, lstsq_residual_gradient,
                             lstsq_residual_weights, matmul_adjoint_left, matmul_adjoint_right,
                             matrix_power_adjoint, mT, multi_dot_adjoint, pinv_adjoint,
                             polyval_adjoint, qr_adjoint, solve_adjoint_a, svd_adjoint,
                             svd_values_adjoint, svd_values_curvature, svd_values_tangent,
                             tensordot_adjoint_left, tensordot_adjoint_right, trace_adjoint,
                             unbroadcast)

# -- products ---------------------------------------------------------------------------------


@vjp(np.dot, methods=("dot",), family="linear algebra")
def dot(result, a, b):
    grad[a] = dot_adjoint_left(grad[result], a, b)
    grad[b] = dot_adjoint_right(grad[result], a, b)


@vjp(np.matmul, operator=gast.MatMult, family="linear algebra")
def matmul(result, a, b):
    grad[a] = matmul_adjoint_left(grad[result], a, b)
    grad[b] = matmul_adjoint_right(grad[result], a, b)


@vjp(np.vdot, family="linear algebra")
def vdot(result, a, b):
    # vdot conjugates its first argument: sum(conj(a) * b)
    if is_complex(a) or is_complex(b):
        grad[a] = np.reshape(np.conj(grad[result] * np.ravel(b)), np.shape(a))
        grad[b] = np.reshape(grad[result] * np.conj(np.ravel(a)), np.shape(b))
    else:
        grad[a] = np.reshape(grad[result] * np.ravel(b), np.shape(a))
        grad[b] = np.reshape(grad[result] * np.ravel(a), np.shape(b))


@vjp(np.inner, family="linear algebra")
def inner(result, a, b):
    grad[a] = tensordot_adjoint_left(grad[result], a, b, (-1, -1))
    grad[b] = tensordot_adjoint_right(grad[result], a, b, (-1, -1))


@vjp(np.outer, family="linear algebra")
def outer(result, a, b):
    grad[a] = np.reshape(np.dot(grad[result], np.ravel(b)), np.shape(a))
    grad[b] = np.reshape(np.dot(np.ravel(a), grad[result]), np.shape(b))


@vjp(np.tensordot, family="linear algebra")
def tensordot(result, a, b, axes=2):
    grad[a] = tensordot_adjoint_left(grad[result], a, b, axes)
    grad[b] = tensordot_adjoint_right(grad[result], a, b, axes)


# (the sublist form np.einsum(A, [0, 1], B, [1, 2]) is rewritten to this one by the trace;
# up to twelve operands: a call with more is a clear error)
@vjp(np.einsum, family="linear algebra")
def einsum(result, subscripts, a, b=None, c=None, d=None, e=None, f=None, g=None, h=None,
           i=None, j=None, k=None, l=None, out=None, optimize=False, dtype=None, order="K",
           casting="safe"):
    grad[a] = einsum_adjoint(grad[result], subscripts, 0, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[b] = einsum_adjoint(grad[result], subscripts, 1, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[c] = einsum_adjoint(grad[result], subscripts, 2, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[d] = einsum_adjoint(grad[result], subscripts, 3, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[e] = einsum_adjoint(grad[result], subscripts, 4, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[f] = einsum_adjoint(grad[result], subscripts, 5, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[g] = einsum_adjoint(grad[result], subscripts, 6, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[h] = einsum_adjoint(grad[result], subscripts, 7, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[i] = einsum_adjoint(grad[result], subscripts, 8, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[j] = einsum_adjoint(grad[result], subscripts, 9, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[k] = einsum_adjoint(grad[result], subscripts, 10, a, b, c, d, e, f, g, h, i, j, k, l)
    grad[l] = einsum_adjoint(grad[result], subscripts, 11, a, b, c, d, e, f, g, h, i, j, k, l)


calling_form(np.einsum, "subscripts, /, *operands, out=None, optimize=False, dtype=None, "
                        "order='K', casting='safe'")


@vjp(np.linalg.multi_dot, family="linear algebra")
def multi_dot(result, arrays, out=None):
    grad[arrays] = multi_dot_adjoint(grad[result], arrays)


@vjp(np.linalg.matrix_power, family="linear algebra")
def matrix_power(result, a, n):
    grad[a] = matrix_power_adjoint(grad[result], a, n)


@vjp(np.kron, family="linear algebra")
def kron(result, a, b):
    grad[a] = kron_adjoint(grad[result], a, b, 0)
    grad[b] = kron_adjoint(grad[result], a, b, 1)


@vjp(np.cross, family="linear algebra")
def cross(result, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    # not elementwise: the Jacobian mixes the three components
    grad[a] = cross_adjoint(grad[result], a, b, axisa, axisb, axisc, axis, 0)
    grad[b] = cross_adjoint(grad[result], a, b, axisa, axisb, axisc, axis, 1)


@vjp(np.convolve, family="signal")
def convolve(result, a, v, mode="full"):
    grad[a] = convolve_adjoint(grad[result], a, v, mode, 0)
    grad[v] = convolve_adjoint(grad[result], a, v, mode, 1)


@vjp(np.correlate, family="signal")
def correlate(result, a, v, mode="valid"):
    grad[a] = convolve_adjoint(grad[result], a, v, mode, 0, "numpy")
    grad[v] = convolve_adjoint(grad[result], a, v, mode, 1, "numpy")


@vjp(np.polyval, family="linear algebra")
def polyval(result, p, x):
    grad[p] = polyval_adjoint(grad[result], p, x, 0)
    grad[x] = polyval_adjoint(grad[result], p, x, 1)


# -- diagonals and triangles --------------------------------------------------------------------


@vjp(np.trace, methods=("trace",), family="linear algebra")
def trace(result, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    grad[a] = trace_adjoint(grad[result], a, offset, axis1, axis2)


@vjp(np.diag, family="linear algebra")
def diag(result, v, k=0):
    grad[v] = diag_adjoint(grad[result], v, k)


@vjp(np.diagonal, methods=("diagonal",), family="linear algebra")
def diagonal(result, a, offset=0, axis1=0, axis2=1):
    grad[a] = diagonal_adjoint(grad[result], a, offset, axis1, axis2)


@vjp(np.diagflat, family="linear algebra")
def diagflat(result, v, k=0):
    grad[v] = np.reshape(np.diagonal(grad[result], k), np.shape(v))


@vjp(np.triu, family="linear algebra")
def triu(result, m, k=0):
    grad[m] = np.triu(grad[result], k)


@vjp(np.tril, family="linear algebra")
def tril(result, m, k=0):
    grad[m] = np.tril(grad[result], k)


# -- matrix functions -------------------------------------------------------------------------------


@vjp(np.linalg.inv, family="linear algebra")
def inv(result, a):
    grad[a] = -np.matmul(np.matmul(mT(result), grad[result]), mT(result))


@vjp(np.linalg.solve, family="linear algebra")
def solve(result, a, b):
    gb = np.linalg.solve(mT(a), grad[result])
    grad[b] = gb
    grad[a] = solve_adjoint_a(gb, result)


@vjp(np.linalg.det, family="linear algebra")
def det(result, a):
    grad[a] = np.expand_dims(grad[result] * result, (-2, -1)) * mT(np.linalg.inv(a))


@vjp(np.linalg.slogdet, family="linear algebra")
def slogdet(result, a):
    # result is (sign, logabsdet); only logabsdet carries a gradient
    grad[a] = np.expand_dims(grad[result][1], (-2, -1)) * mT(np.linalg.inv(a))


@vjp(np.linalg.pinv, family="linear algebra")
def pinv(result, a, rcond=None, hermitian=False):
    grad[a] = pinv_adjoint(grad[result], a, result)


@vjp(np.linalg.lstsq, family="linear algebra")
def lstsq(result, a, b, rcond=None):
    # result is (x, residuals, rank, s); full column rank: x = solve(a.T a, a.T b), the
    # residuals are |b - a x|**2 per column (and a.T (b - a x) = 0), s are a's singular values
    r = b - np.matmul(a, result[0])
    z = np.linalg.solve(lstsq_gram(a, result[2]), grad[result][0])
    gr = lstsq_residual_gradient(grad[result][1], r)
    grad[a] = (matmul_adjoint_left(r, a, z) - matmul_adjoint_left(np.matmul(a, z) + gr, a,
                                                                  result[0])
               + svd_values_adjoint(grad[result][3], a))
    grad[b] = np.matmul(a, z) + gr


@vjp(np.linalg.cholesky, family="linear algebra")
def cholesky(result, a):
    grad[a] = cholesky_adjoint(grad[result], result)


@vjp(np.linalg.eigh, family="linear algebra")
def eigh(result, a, UPLO="L"):
    # result is (w, v); a is taken as symmetric
    grad[a] = eigh_adjoint(grad[result], result)


@vjp(np.linalg.eig, family="linear algebra")
def eig(result, a):
    # result is (w, v): complex for a real matrix with complex eigenvalues
    grad[a] = eig_adjoint(grad[result], result, a)


@vjp(np.linalg.eigvals, family="linear algebra")
def eigvals(result, a):
    grad[a] = eig_adjoint((grad[result], 0.0), np.linalg.eig(a), a)


@vjp(np.linalg.eigvalsh, family="linear algebra")
def eigvalsh(result, a, UPLO="L"):
    grad[a] = eigh_adjoint((grad[result], 0.0), np.linalg.eigh(a))


@vjp(np.linalg.qr, family="linear algebra")
def qr(result, a, mode="reduced"):
    if mode != "reduced":
        raise NotImplementedError("np.linalg.qr: only mode='reduced' is differentiated")
    grad[a] = qr_adjoint(grad[result], a, result)


@vjp(np.linalg.svd, family="linear algebra")
def svd(result, a, full_matrices=True, compute_uv=True, hermitian=False):
    if not compute_uv:
        grad[a] = svd_values_adjoint(grad[result], a)
    elif is_complex(a):
        raise NotImplementedError("np.linalg.svd of a complex matrix is differentiated for "
                                  "compute_uv=False (the singular values) only")
    else:
        # result is (u, s, vh); distinct nonzero singular values
        grad[a] = svd_adjoint(grad[result], a, result, full_matrices)


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


@vjp(runtime.mT, family="runtime")
def mT_rule(result, x):
    grad[x] = np.swapaxes(grad[result], -1, -2)


@vjp(runtime.diag_adjoint, family="runtime")
def diag_adjoint_rule(result, g, v, k=0):
    grad[g] = np.array(np.diag(grad[result], k))      # np.diag of a matrix is a view


@vjp(runtime.diagonal_adjoint, family="runtime")
def diagonal_adjoint_rule(result, g, a, offset=0, axis1=0, axis2=1):
    grad[g] = np.diagonal(grad[result], offset, axis1, axis2)


@vjp(runtime.trace_adjoint, family="runtime")
def trace_adjoint_rule(result, g, a, offset=0, axis1=0, axis2=1):
    grad[g] = np.trace(grad[result], offset, axis1, axis2)


# <G, tensordot_adjoint_left(g, a, b)> = <g, tensordot(G, b)>: bilinear in (g, b)
@vjp(runtime.tensordot_adjoint_left, family="runtime")
def tensordot_adjoint_left_rule(result, g, a, b, axes=2):
    grad[g] = np.tensordot(grad[result], b, axes)
    grad[b] = tensordot_adjoint_right(g, grad[result], b, axes)


@vjp(runtime.tensordot_adjoint_right, family="runtime")
def tensordot_adjoint_right_rule(result, g, a, b, axes=2):
    grad[g] = np.tensordot(a, grad[result], axes)
    grad[a] = tensordot_adjoint_left(g, a, grad[result], axes)


# solve_adjoint_a(gb, x) = -gb x^T (an outer product for a vector x)
@vjp(runtime.solve_adjoint_a, family="runtime")
def solve_adjoint_a_rule(result, gb, x):
    grad[gb] = -np.matmul(grad[result], x)
    grad[x] = -np.matmul(mT(grad[result]), gb)


# convolve_adjoint is linear in g and in the other operand; convolve_window (what the
# convolution computes, cropped to the gradient's shape) is its transpose
@vjp(runtime.convolve_adjoint, family="runtime")
def convolve_adjoint_rule(result, g, a, v, mode="full", which=0, correlate=False):
    if which == 0:
        grad[g] = convolve_window(grad[result], v, np.shape(g), correlate)
        grad[v] = convolve_adjoint(g, grad[result], v, mode, 1, correlate)
    else:
        grad[g] = convolve_window(a, grad[result], np.shape(g), correlate)
        grad[a] = convolve_adjoint(g, a, grad[result], mode, 0, correlate)


@vjp(runtime.convolve_window, family="runtime")
def convolve_window_rule(result, a, v, shape, correlate=False):
    grad[a] = convolve_adjoint(grad[result], a, v, "full", 0, correlate)
    grad[v] = convolve_adjoint(grad[result], a, v, "full", 1, correlate)


# np.linalg.lstsq's helpers: the Gram matrix a.T a (the rank only checks), and the
# residuals' gradient 2 r g, bilinear in (g, r)
@vjp(runtime.lstsq_gram, family="runtime")
def lstsq_gram_rule(result, a, rank):
    grad[a] = np.matmul(a, grad[result] + mT(grad[result]))


@vjp(runtime.lstsq_residual_gradient, family="runtime")
def lstsq_residual_gradient_rule(result, g, r):
    grad[g] = lstsq_residual_weights(grad[result], r, g)
    grad[r] = lstsq_residual_gradient(g, grad[result])


@vjp(runtime.lstsq_residual_weights, family="runtime")
def lstsq_residual_weights_rule(result, g, r, like):
    grad[g] = lstsq_residual_gradient(grad[result], r)
    grad[r] = lstsq_residual_gradient(grad[result], g)


# svd_values_adjoint(g, a) = U diag(g) V^T: the g part transposes to the singular values'
# tangent; the a part is exact only where g is zero (see svd_values_curvature)
@vjp(runtime.svd_values_adjoint, family="runtime")
def svd_values_adjoint_rule(result, g, a):
    grad[g] = svd_values_tangent(grad[result], a)
    grad[a] = svd_values_curvature(g, a)


nondifferentiable(runtime.svd_values_curvature, family="runtime")


# second derivatives of the Cholesky factorization (np.linalg.cholesky, scipy.linalg's
# cholesky / cho_factor) and of scipy.linalg.cho_solve's factor gradient
@vjp(runtime.cholesky_adjoint, family="runtime")
def cholesky_adjoint_rule(result, g, L):
    grad[g] = cholesky_adjoint_vjp(grad[result], g, L, 0)
    grad[L] = cholesky_adjoint_vjp(grad[result], g, L, 1)


# cross_adjoint(g, a, b, ..., 0) is J_a(b)^T g, bilinear in (g, b): <G, J_a(b)^T g> is
# <cross(G, b), g>; which=1 likewise with cross(a, G)
@vjp(runtime.cross_adjoint, family="runtime")
def cross_adjoint_rule(result, g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    if which == 0:
        grad[g] = unbroadcast(np.cross(grad[result], b, axisa, axisb, axisc, axis), g)
        grad[b] = cross_adjoint(g, grad[result], b, axisa, axisb, axisc, axis, 1)
    else:
        grad[g] = unbroadcast(np.cross(a, grad[result], axisa, axisb, axisc, axis), g)
        grad[a] = cross_adjoint(g, a, grad[result], axisa, axisb, axisc, axis, 0)


# <G, dot_adjoint_left(g, a, b)> = <g, dot(G, b)>: bilinear in (g, b)
@vjp(runtime.dot_adjoint_left, family="runtime")
def dot_adjoint_left_rule(result, g, a, b):
    grad[g] = np.dot(grad[result], b)
    grad[b] = dot_adjoint_right(g, grad[result], b)


# <G, dot_adjoint_right(g, a, b)> = <g, dot(a, G)>: bilinear in (g, a)
@vjp(runtime.dot_adjoint_right, family="runtime")
def dot_adjoint_right_rule(result, g, a, b):
    grad[g] = np.dot(a, grad[result])
    grad[a] = dot_adjoint_left(g, a, grad[result])


@vjp(runtime.matmul_adjoint_left, family="runtime")
def matmul_adjoint_left_rule(result, g, a, b):
    grad[g] = unbroadcast(np.matmul(grad[result], b), g)
    grad[b] = matmul_adjoint_right(g, grad[result], b)


@vjp(runtime.matmul_adjoint_right, family="runtime")
def matmul_adjoint_right_rule(result, g, a, b):
    grad[g] = unbroadcast(np.matmul(a, grad[result]), g)
    grad[a] = matmul_adjoint_left(g, a, grad[result])


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(np.trace, np.diagonal, np.diag, np.triu, np.tril, methods=("trace", "diagonal"))


# np.append is jointly linear (a concatenation), not bilinear: its tangent comes from
# transposing the reverse rule
linear(np.vdot, np.convolve, np.correlate, positions=(0, 1))


linear(np.dot, np.matmul, np.outer, np.inner, np.tensordot, np.kron, np.cross, _operator.matmul,
       methods=("dot",), operator=gast.MatMult, positions=(0, 1))


linear(np.einsum, positions=tuple(range(1, 13)))


linear(runtime.dot_adjoint_left, runtime.matmul_adjoint_left, positions=(0, 2))


linear(runtime.dot_adjoint_right, runtime.matmul_adjoint_right, positions=(0, 1))


linear(runtime.lstsq_residual_gradient, runtime.lstsq_residual_weights, positions=(0, 1))


@tangent_rule(np.linalg.eigh)
def tangent_eigh(result, a, UPLO="L"):
    tangent[result] = runtime.eigh_tangent(tangent[a], result)


@tangent_rule(np.linalg.eigvalsh)
def tangent_eigvalsh(result, a, UPLO="L"):
    # (the eigenvectors, which eigvalsh does not return, give the eigenvalues' tangent)
    tangent[result] = runtime.eigh_tangent(tangent[a], np.linalg.eigh(a))[0]


@tangent_rule(np.linalg.eig)
def tangent_eig(result, a):
    tangent[result] = runtime.eig_tangent(tangent[a], result)


@tangent_rule(np.linalg.eigvals)
def tangent_eigvals(result, a):
    tangent[result] = runtime.eig_tangent(tangent[a], np.linalg.eig(a))[0]


@tangent_rule(np.linalg.lstsq)
def tangent_lstsq(result, a, b, rcond=None):
    # one term per input (a list: the terms add item by item)
    tangent[result] = runtime.lstsq_tangent(tangent[a], 0.0, a, b, result)
    tangent[result] += runtime.lstsq_tangent(0.0, tangent[b], a, b, result)
