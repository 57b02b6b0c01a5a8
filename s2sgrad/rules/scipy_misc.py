"""scipy.signal convolutions and scipy.linalg solves and factorizations (SciPy installed
only); they share the convolution adjoint of NumPy's np.convolve / np.correlate
(rules/numpy_linalg.py)."""
import numpy as np
from scipy import linalg as sla
from scipy import signal

from s2sgrad import runtime
from s2sgrad.rules.registry import grad, is_static, vjp
from s2sgrad.rules.tangents import tangent, tangent_rule
from s2sgrad.runtime import (banded_matvec, banded_outer_adjoint, banded_transpose,
                             cho_solve_adjoint, cho_solve_adjoint_vjp, cholesky_adjoint,
                             convolve_adjoint, lu_factor_adjoint, lu_solve_adjoint, mT,
                             solve_adjoint_a)


@vjp(signal.convolve, signal.fftconvolve, family="signal")
def convolve(result, in1, in2, mode="full", method="auto"):
    grad[in1] = convolve_adjoint(grad[result], in1, in2, mode, 0)
    grad[in2] = convolve_adjoint(grad[result], in1, in2, mode, 1)


@vjp(signal.correlate, family="signal")
def correlate(result, in1, in2, mode="full", method="auto"):
    grad[in1] = convolve_adjoint(grad[result], in1, in2, mode, 0, True)
    grad[in2] = convolve_adjoint(grad[result], in1, in2, mode, 1, True)


@vjp(sla.solve_triangular, family="linear algebra")
def solve_triangular(result, a, b, trans=0, lower=False, unit_diagonal=False,
                     overwrite_b=False, check_finite=True):
    # trans=0 solves a x = b; trans=1 / 2 ('T' / 'C', real input) solve a.T x = b
    if not is_static(trans):
        raise NotImplementedError("solve_triangular: trans must be a constant")
    if trans == 0 or trans == "N":
        gb = sla.solve_triangular(a, grad[result], trans=1, lower=lower,
                                  unit_diagonal=unit_diagonal)
        ga = solve_adjoint_a(gb, result)
    else:
        gb = sla.solve_triangular(a, grad[result], trans=0, lower=lower,
                                  unit_diagonal=unit_diagonal)
        ga = mT(solve_adjoint_a(gb, result))
    grad[b] = gb
    if lower and unit_diagonal:
        grad[a] = np.tril(ga, -1)
    elif lower:
        grad[a] = np.tril(ga)
    elif unit_diagonal:
        grad[a] = np.triu(ga, 1)
    else:
        grad[a] = np.triu(ga)


@vjp(sla.cho_factor, family="linear algebra")
def cho_factor(result, a, lower=False, overwrite_a=False, check_finite=True):
    # result is (c, lower): c holds the Cholesky factor in one triangle and a's own
    # entries in the other (SciPy does not clear them)
    if lower:
        grad[a] = (cholesky_adjoint(np.tril(grad[result][0]), np.tril(result[0]))
                   + np.triu(grad[result][0], 1))
    else:
        grad[a] = (cholesky_adjoint(mT(np.triu(grad[result][0])), mT(np.triu(result[0])))
                   + np.tril(grad[result][0], -1))


@vjp(sla.cho_solve, family="linear algebra")
def cho_solve(result, c_and_lower, b, overwrite_b=False, check_finite=True):
    gb = sla.cho_solve(c_and_lower, grad[result])
    grad[b] = gb
    grad[c_and_lower] = cho_solve_adjoint(gb, result, c_and_lower)


@vjp(sla.lu_factor, family="linear algebra")
def lu_factor(result, a, overwrite_a=False, check_finite=True):
    # result is (lu, piv): L (unit diagonal, strict lower triangle) and U packed in lu
    grad[a] = lu_factor_adjoint(grad[result][0], result)


@vjp(sla.lu_solve, family="linear algebra")
def lu_solve(result, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    if not is_static(trans):
        raise NotImplementedError("lu_solve: trans must be a constant")
    if trans == 0:
        gb = sla.lu_solve(lu_and_piv, grad[result], trans=1)
    else:
        gb = sla.lu_solve(lu_and_piv, grad[result], trans=0)
    grad[b] = gb
    grad[lu_and_piv] = lu_solve_adjoint(gb, result, lu_and_piv, trans)


@vjp(sla.expm, family="linear algebra")
def expm(result, A):
    # the Frechet derivative: the upper-right block of expm([[A.T, G], [0, A.T]])
    n = np.shape(A)[-1]
    block = sla.expm(np.block([[mT(A), grad[result]], [np.zeros((n, n)), mT(A)]]))
    grad[A] = block[:n, n:]


@vjp(sla.inv, family="linear algebra")
def sla_inv(result, a, overwrite_a=False, check_finite=True):
    grad[a] = -np.matmul(np.matmul(mT(result), grad[result]), mT(result))


@vjp(sla.det, family="linear algebra")
def sla_det(result, a, overwrite_a=False, check_finite=True):
    grad[a] = np.expand_dims(grad[result] * result, (-2, -1)) * mT(np.linalg.inv(a))


@vjp(sla.solve, family="linear algebra")
def sla_solve(result, a, b, lower=False, overwrite_a=False, overwrite_b=False,
              check_finite=True, assume_a=None):
    gb = np.linalg.solve(mT(a), grad[result])
    grad[b] = gb
    grad[a] = solve_adjoint_a(gb, result)


@vjp(sla.cholesky, family="linear algebra")
def sla_cholesky(result, a, lower=False, overwrite_a=False, check_finite=True):
    # lower=False (the default) returns the upper factor U = L.T
    if lower:
        grad[a] = cholesky_adjoint(grad[result], result)
    else:
        grad[a] = cholesky_adjoint(mT(grad[result]), mT(result))


@vjp(sla.sqrtm, family="linear algebra")
def sqrtm(result, A, disp=True, blocksize=64):
    # S @ S = A: the adjoint solves S.T X + X S.T = G
    grad[A] = sla.solve_sylvester(mT(result), mT(result), grad[result])


@vjp(sla.solve_sylvester, family="linear algebra")
def solve_sylvester(result, a, b, q):
    # a X + X b = q: the adjoint Y solves a.T Y + Y b.T = G
    y = sla.solve_sylvester(mT(a), mT(b), grad[result])
    grad[q] = y
    grad[a] = -np.matmul(y, mT(result))
    grad[b] = -np.matmul(mT(result), y)


@vjp(sla.solve_banded, family="linear algebra")
def solve_banded(result, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False,
                 check_finite=True):
    # A x = b with A in band storage: gb solves A.T gb = g (A.T's bandwidths are (u, l))
    gb = sla.solve_banded(l_and_u[::-1], banded_transpose(l_and_u, ab), grad[result])
    grad[b] = gb
    grad[ab] = banded_outer_adjoint(l_and_u, ab, gb, result)


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


@vjp(runtime.cho_solve_adjoint, family="runtime")
def cho_solve_adjoint_rule(result, gb, x, c_and_lower):
    grad[gb] = cho_solve_adjoint_vjp(grad[result], gb, x, c_and_lower, 0)
    grad[x] = cho_solve_adjoint_vjp(grad[result], gb, x, c_and_lower, 1)
    grad[c_and_lower] = cho_solve_adjoint_vjp(grad[result], gb, x, c_and_lower, 2)


# band storage: banded_transpose is a partial permutation (its adjoint is its inverse,
# the transpose back); banded_outer_adjoint (-gb x^T on the band) and banded_matvec are
# bilinear and each other's adjoints
@vjp(runtime.banded_transpose, family="runtime")
def banded_transpose_rule(result, l_and_u, ab):
    grad[ab] = banded_transpose(l_and_u[::-1], grad[result])


@vjp(runtime.banded_outer_adjoint, family="runtime")
def banded_outer_adjoint_rule(result, l_and_u, ab, gb, x):
    grad[gb] = -banded_matvec(l_and_u, grad[result], x)
    grad[x] = -banded_matvec(l_and_u[::-1], banded_transpose(l_and_u, grad[result]), gb)


@vjp(runtime.banded_matvec, family="runtime")
def banded_matvec_rule(result, l_and_u, ab, x):
    grad[ab] = -banded_outer_adjoint(l_and_u, ab, grad[result], x)
    grad[x] = banded_matvec(l_and_u[::-1], banded_transpose(l_and_u, ab), grad[result])


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


@tangent_rule(sla.cho_factor)
def tangent_cho_factor(result, a, lower=False, overwrite_a=False, check_finite=True):
    tangent[result] = runtime.cho_factor_tangent(tangent[a], result)


@tangent_rule(sla.cho_solve)
def tangent_cho_solve(result, c_and_lower, b, overwrite_b=False, check_finite=True):
    tangent[result] = runtime.cho_solve_tangent(tangent[c_and_lower], 0.0, c_and_lower, result)
    tangent[result] += runtime.cho_solve_tangent(0.0, tangent[b], c_and_lower, result)


@tangent_rule(sla.lu_factor)
def tangent_lu_factor(result, a, overwrite_a=False, check_finite=True):
    tangent[result] = runtime.lu_factor_tangent(tangent[a], result)


@tangent_rule(sla.lu_solve)
def tangent_lu_solve(result, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    tangent[result] = runtime.lu_solve_tangent(tangent[lu_and_piv], 0.0, lu_and_piv, result,
                                               trans)
    tangent[result] += runtime.lu_solve_tangent(0.0, tangent[b], lu_and_piv, result, trans)


@tangent_rule(runtime.cho_solve_adjoint)
def tangent_cho_solve_adjoint(result, gb, x, c_and_lower):
    # a list result (factor, flag): the terms add item by item
    tangent[result] = runtime.cho_solve_adjoint_tangent(tangent[gb], 0.0, 0.0, gb, x,
                                                        c_and_lower)
    tangent[result] += runtime.cho_solve_adjoint_tangent(0.0, tangent[x], 0.0, gb, x,
                                                         c_and_lower)
    tangent[result] += runtime.cho_solve_adjoint_tangent(0.0, 0.0, tangent[c_and_lower], gb,
                                                         x, c_and_lower)


@tangent_rule(runtime.lu_solve_adjoint)
def tangent_lu_solve_adjoint(result, gb, x, lu_and_piv, trans=0):
    tangent[result] = runtime.lu_solve_adjoint_tangent(tangent[gb], 0.0, 0.0, gb, x,
                                                       lu_and_piv, trans)
    tangent[result] += runtime.lu_solve_adjoint_tangent(0.0, tangent[x], 0.0, gb, x,
                                                        lu_and_piv, trans)
    tangent[result] += runtime.lu_solve_adjoint_tangent(0.0, 0.0, tangent[lu_and_piv], gb, x,
                                                        lu_and_piv, trans)


@tangent_rule(runtime.lu_factor_adjoint)
def tangent_lu_factor_adjoint(result, g, lu_and_piv):
    tangent[result] = runtime.lu_factor_adjoint_tangent(tangent[g], 0.0, g, lu_and_piv)
    tangent[result] += runtime.lu_factor_adjoint_tangent(0.0, tangent[lu_and_piv], g,
                                                         lu_and_piv)
