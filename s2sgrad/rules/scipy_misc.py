"""scipy.signal convolutions and scipy.linalg triangular solves (SciPy installed
only); NumPy's 1-D np.convolve / np.correlate share the convolution adjoint."""
import numpy as np
from scipy import linalg as sla
from scipy import signal

from ..runtime import convolve_adjoint, solve_adjoint_a
from .registry import grad, vjp


@vjp(np.convolve, signal.convolve, signal.fftconvolve, family="signal")
def convolve(result, a, v, mode="full", method="auto"):
    grad[a] = convolve_adjoint(grad[result], a, v, mode, 0)
    grad[v] = convolve_adjoint(grad[result], a, v, mode, 1)


@vjp(np.correlate, family="signal")
def np_correlate(result, a, v, mode="valid"):
    grad[a] = convolve_adjoint(grad[result], a, v, mode, 0, True)
    grad[v] = convolve_adjoint(grad[result], a, v, mode, 1, True)


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
