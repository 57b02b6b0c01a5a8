"""scipy.signal convolutions and scipy.linalg triangular solves (SciPy installed
only); they share the convolution adjoint of NumPy's np.convolve / np.correlate
(rules/numpy_linalg.py)."""
import numpy as np
from scipy import linalg as sla
from scipy import signal

from ..runtime import cholesky_adjoint, convolve_adjoint, mT, solve_adjoint_a
from .registry import grad, vjp


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
    if trans != 0 and trans != "N":
        raise NotImplementedError("solve_triangular: only trans=0 is differentiated")
    gb = sla.solve_triangular(a, grad[result], trans=1, lower=lower,
                              unit_diagonal=unit_diagonal)
    grad[b] = gb
    if lower and unit_diagonal:
        grad[a] = np.tril(solve_adjoint_a(gb, result), -1)
    elif lower:
        grad[a] = np.tril(solve_adjoint_a(gb, result))
    elif unit_diagonal:
        grad[a] = np.triu(solve_adjoint_a(gb, result), 1)
    else:
        grad[a] = np.triu(solve_adjoint_a(gb, result))


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
