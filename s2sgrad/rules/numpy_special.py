"""NumPy's special functions, floating-point decompositions and histograms: np.i0 (its
derivative I1 comes from the runtime: NumPy has none), np.modf, np.frexp, np.histogram
(counts are piecewise constant in the data; the edges and weights carry gradients)."""
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import (elementwise, grad, is_static, no_gradient, nondifferentiable,
                                    vjp)
from s2sgrad.rules.tangents import linear
from s2sgrad.runtime import (bessel_i1, histogram_edges_adjoint, histogram_edges_tangent,
                             histogram_weights_adjoint)


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


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


# I1' = I0 - I1 / x (1/2 at 0)
@elementwise(runtime.bessel_i1, family="runtime")
def bessel_i1_rule(result, x):
    grad[x] = grad[result] * np.where(x == 0.0, 0.5, np.i0(x) - result / np.where(
        x == 0.0, 1.0, x))


# np.histogram's helpers: linear in the gradient they carry; the data decide only which
# entry is the extremum and which bin each entry falls in
@vjp(runtime.histogram_edges_adjoint, family="runtime")
def histogram_edges_adjoint_rule(result, g, a, bins=10, range=None):
    grad[g] = histogram_edges_tangent(grad[result], a, bins, range)


@vjp(runtime.histogram_edges_tangent, family="runtime")
def histogram_edges_tangent_rule(result, t, a, bins=10, range=None):
    grad[t] = histogram_edges_adjoint(grad[result], a, bins, range)


@vjp(runtime.histogram_weights_adjoint, family="runtime")
def histogram_weights_adjoint_rule(result, g, a, edges):
    grad[g] = np.histogram(a, edges, weights=grad[result])[0]


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(runtime.histogram_edges_adjoint, runtime.histogram_edges_tangent,
       runtime.histogram_weights_adjoint)
