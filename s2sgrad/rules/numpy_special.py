"""NumPy's special functions, floating-point decompositions and histograms: np.i0 (its
derivative I1 comes from the runtime: NumPy has none), np.modf, np.frexp, np.histogram
(counts are piecewise constant in the data; the edges and weights carry gradients)."""
import numpy as np

from s2sgrad.runtime import bessel_i1, histogram_edges_adjoint, histogram_weights_adjoint
from s2sgrad.rules.registry import (elementwise, grad, is_static, no_gradient,
                                    nondifferentiable, vjp)


@elementwise(np.i0, family="special functions")
def i0(result, x):
    grad[x] = grad[result] * bessel_i1(x)


@vjp(np.modf, family="special functions")
def modf(result, x):
    # (fractional part, integral part): x - trunc(x) moves with x, trunc(x) is constant
    grad[x] = grad[result][0]


@vjp(np.frexp, family="special functions")
def frexp(result, x):
    # (mantissa, exponent) with x = mantissa * 2**exponent: the exponent is constant
    # between powers of two, so the mantissa moves as x * 2**-exponent (exact: a power
    # of two; the exponent's own gradient, read by nobody, is dropped)
    grad[x] = grad[result][0] * np.exp2(-result[1])


# the distance to the next float is constant between powers of two
nondifferentiable(np.spacing, family="special functions")


@vjp(np.histogram, family="special functions")
def histogram(result, a, bins=10, range=None, density=None, weights=None):
    # result is (counts, edges)
    if density:
        raise NotImplementedError("np.histogram(density=True) is not differentiated")
    if is_static(bins) and bins in ("auto", "fd", "doane", "scott", "stone", "rice",
                                    "sturges", "sqrt"):
        raise NotImplementedError("np.histogram: a bin estimator (bins='auto', ...) is not "
                                  "differentiated: give a number of bins or the edges")
    grad[a] = histogram_edges_adjoint(grad[result][1], a, bins, range)
    grad[bins] = np.reshape(grad[result][1], np.shape(bins))
    grad[weights] = histogram_weights_adjoint(grad[result][0], a, result[1])
    grad[range] = no_gradient("np.histogram: no derivative with respect to range")
