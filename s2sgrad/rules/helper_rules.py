"""Rules for the runtime helpers that the rules in this package call, so that code
generated from them can be differentiated again (Hessians, grad of grad).

Each helper below is linear in the gradient ``g`` it carries; the other array
arguments either enter bilinearly (tensordot, solve) or only through their shape
or ordering (locally constant), so the rule is exact.
"""
import numpy as np

from s2sgrad import runtime
from s2sgrad.runtime import (banded_matvec, banded_outer_adjoint, banded_transpose,
                             cho_solve_adjoint_vjp, cholesky_adjoint_vjp, convolve_adjoint,
                             cross_adjoint, diff_window, diff_window_adjoint, fft_adjoint,
                             fft_apply, convolve_window, cov_adjoint, cov_cross,
                             cumprod_adjoint, cumprod_curvature, cumprod_tangent,
                             expand_reduced, gather_source, histogram_edges_adjoint,
                             histogram_edges_tangent, lstsq_residual_gradient,
                             lstsq_residual_weights, mT, mvn_entropy_adjoint,
                             mvn_entropy_curvature, mvn_logpdf_curvature, prod_adjoint,
                             prod_curvature, scatter_source, svd_values_curvature,
                             svd_values_tangent, tensordot_adjoint_left,
                             tensordot_adjoint_right, unbroadcast)
from s2sgrad.rules.registry import (elementwise, grad, is_complex, no_gradient,
                                    nondifferentiable, vjp)


@vjp(runtime.mT, family="runtime")
def mT_rule(result, x):
    grad[x] = np.swapaxes(grad[result], -1, -2)


@vjp(runtime.sort_adjoint, family="runtime")
def sort_adjoint_rule(result, g, a, axis=-1):
    # sort_adjoint scatters g through a's sorting permutation; its adjoint gathers
    if axis is None:
        grad[g] = np.reshape(np.take(np.ravel(grad[result]),
                                     np.argsort(np.ravel(a), kind="stable")), np.shape(g))
    else:
        grad[g] = np.take_along_axis(grad[result], np.argsort(a, axis=axis, kind="stable"),
                                     axis)


@vjp(runtime.take_adjoint, family="runtime")
def take_adjoint_rule(result, g, a, indices, axis=None):
    grad[g] = np.take(grad[result], indices, axis)


@vjp(runtime.take_along_axis_adjoint, family="runtime")
def take_along_axis_adjoint_rule(result, g, a, indices, axis):
    grad[g] = np.take_along_axis(grad[result], indices, axis)


@vjp(runtime.pad_adjoint, family="runtime")
def pad_adjoint_rule(result, g, a, pad_width):
    grad[g] = np.pad(grad[result], pad_width)


@vjp(runtime.tile_adjoint, family="runtime")
def tile_adjoint_rule(result, g, a, reps):
    grad[g] = np.tile(grad[result], reps)


@vjp(runtime.repeat_adjoint, family="runtime")
def repeat_adjoint_rule(result, g, a, repeats, axis=None):
    if axis is None:
        grad[g] = np.reshape(np.repeat(np.ravel(grad[result]), repeats), np.shape(g))
    else:
        grad[g] = np.repeat(grad[result], repeats, axis)


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


# join_adjoint splits g into the pieces of a joined list; its adjoint joins them again
@vjp(runtime.join_adjoint, family="runtime")
def join_adjoint_rule(result, g, arrays, kind="concatenate", axis=0):
    if kind == "concatenate":
        grad[g] = np.concatenate(grad[result], axis)
    elif kind == "stack":
        grad[g] = np.stack(grad[result], axis)
    elif kind == "hstack":
        grad[g] = np.hstack(grad[result])
    elif kind == "vstack":
        grad[g] = np.vstack(grad[result])
    elif kind == "dstack":
        grad[g] = np.dstack(grad[result])
    else:
        grad[g] = np.column_stack(grad[result])


# norm_adjoint for the 2-norm / Frobenius norm: expand(g) * x / expand(r)
@vjp(runtime.norm_adjoint, family="runtime")
def norm_adjoint_rule(result, g, x, r, ord=None, axis=None, keepdims=False, kind=None):
    if is_complex(x):
        # (the transpose in g, for forward mode: Re(sum(G * conj(x))) / r for the 2-norm)
        if ord is None or ord == "fro" or (ord == 2 and (kind == "vector" or (
                axis is not None and not isinstance(axis, tuple)))):
            grad[g] = np.sum(grad[result] * np.conj(x), axis=axis, keepdims=keepdims) / r
        else:
            grad[g] = no_gradient("forward mode of this norm of a complex value is not "
                                  "supported")
        grad[x] = no_gradient("second derivatives of norms of complex values are not supported")
        grad[r] = no_gradient("second derivatives of norms of complex values are not supported")
    elif ord is None or ord == "fro" or (ord == 2 and (kind == "vector" or (
            axis is not None and not isinstance(axis, tuple)))):
        ge = expand_reduced(g, x, axis, keepdims)
        re = expand_reduced(r, x, axis, keepdims)
        grad[g] = np.sum(grad[result] * x, axis=axis, keepdims=keepdims) / r
        grad[x] = grad[result] * ge / re
        grad[r] = -np.sum(grad[result] * ge * x, axis=axis, keepdims=keepdims) / (r * r)
    else:
        grad[g] = no_gradient("second derivatives of this norm are not supported")
        grad[x] = no_gradient("second derivatives of this norm are not supported")
        grad[r] = no_gradient("second derivatives of this norm are not supported")


# copies of input entries: scatter_source and gather_source are each other's adjoint;
# the positions (source_index, accumulate_source) are piecewise constant
@vjp(runtime.scatter_source, family="runtime")
def scatter_source_rule(result, g, like, source):
    grad[g] = unbroadcast(gather_source(grad[result], source), g)


@vjp(runtime.gather_source, family="runtime")
def gather_source_rule(result, x, source):
    grad[x] = scatter_source(grad[result], x, source)


@vjp(runtime.diff_adjoint, family="runtime")
def diff_adjoint_rule(result, g, n=1, axis=-1):
    grad[g] = np.diff(grad[result], n, axis)


nondifferentiable(runtime.source_index, runtime.accumulate_source, family="runtime")


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


# choose_adjoint and block_adjoint split g into the choices' / blocks' gradients; their
# adjoints put the pieces together again
@vjp(runtime.choose_adjoint, family="runtime")
def choose_adjoint_rule(result, g, a, choices, mode="raise"):
    grad[g] = unbroadcast(np.choose(a, grad[result], mode=mode), g)


@vjp(runtime.block_adjoint, family="runtime")
def block_adjoint_rule(result, g, arrays):
    grad[g] = np.block(grad[result])


# cov_adjoint(g, m) is bilinear in (g, m): (g + g.T) @ centred(m) / (n - ddof)
@vjp(runtime.cov_adjoint, family="runtime")
def cov_adjoint_rule(result, g, m, rowvar=True, bias=False, ddof=None):
    cross = cov_cross(grad[result], m, rowvar, bias, ddof)
    grad[g] = np.reshape(cross + mT(cross), np.shape(g))
    grad[m] = cov_adjoint(g, grad[result], rowvar, bias, ddof)


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


# prod_adjoint(g, a) = g * (product of the other entries): linear in g; how it moves
# with a is prod_curvature, a symmetric map (its own adjoint)
@vjp(runtime.prod_adjoint, family="runtime")
def prod_adjoint_rule(result, g, a, axis=None, keepdims=False):
    grad[g] = np.sum(grad[result] * prod_adjoint(1.0, a, axis, True), axis=axis,
                     keepdims=keepdims)
    grad[a] = prod_curvature(grad[result] * expand_reduced(g, a, axis, keepdims), a, axis)


@vjp(runtime.prod_curvature, family="runtime")
def prod_curvature_rule(result, w, a, axis=None):
    grad[w] = prod_curvature(grad[result], a, axis)
    grad[a] = no_gradient("third derivatives of np.prod are not supported")


# cumprod_adjoint(g, a): linear in g (its adjoint is the tangent of np.cumprod); how it
# moves with a is cumprod_curvature, symmetric in (w, the moved entry)
@vjp(runtime.cumprod_adjoint, family="runtime")
def cumprod_adjoint_rule(result, g, a, axis=None):
    grad[g] = np.reshape(cumprod_tangent(grad[result], a, axis), np.shape(g))
    grad[a] = cumprod_curvature(grad[result], g, a, axis)


@vjp(runtime.cumprod_tangent, family="runtime")
def cumprod_tangent_rule(result, t, a, axis=None):
    grad[t] = cumprod_adjoint(grad[result], a, axis)
    grad[a] = cumprod_curvature(t, grad[result], a, axis)


@vjp(runtime.cumprod_curvature, family="runtime")
def cumprod_curvature_rule(result, w, g, a, axis=None):
    grad[w] = cumprod_curvature(grad[result], g, a, axis)
    grad[g] = no_gradient("third derivatives of np.cumprod are not supported")
    grad[a] = no_gradient("third derivatives of np.cumprod are not supported")


# mvn_entropy_adjoint(g, mean, cov) is linear in g; its curvature in cov has a helper
@vjp(runtime.mvn_entropy_adjoint, family="runtime")
def mvn_entropy_adjoint_rule(result, g, mean, cov):
    grad[g] = np.sum(grad[result] * mvn_entropy_adjoint(1.0, mean, cov))
    grad[cov] = mvn_entropy_curvature(grad[result], g, mean, cov)


# the multivariate normal log-density's gradient: its curvature has a helper
@vjp(runtime.mvn_logpdf_adjoint, family="runtime")
def mvn_logpdf_adjoint_rule(result, g, x, mean, cov, which):
    grad[g] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 0)
    grad[x] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 1)
    grad[mean] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 2)
    grad[cov] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 3)


# second derivatives of the Cholesky factorization (np.linalg.cholesky, scipy.linalg's
# cholesky / cho_factor) and of scipy.linalg.cho_solve's factor gradient
@vjp(runtime.cholesky_adjoint, family="runtime")
def cholesky_adjoint_rule(result, g, L):
    grad[g] = cholesky_adjoint_vjp(grad[result], g, L, 0)
    grad[L] = cholesky_adjoint_vjp(grad[result], g, L, 1)


@vjp(runtime.cho_solve_adjoint, family="runtime")
def cho_solve_adjoint_rule(result, gb, x, c_and_lower):
    grad[gb] = cho_solve_adjoint_vjp(grad[result], gb, x, c_and_lower, 0)
    grad[x] = cho_solve_adjoint_vjp(grad[result], gb, x, c_and_lower, 1)
    grad[c_and_lower] = cho_solve_adjoint_vjp(grad[result], gb, x, c_and_lower, 2)


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


# diff_window_adjoint and diff_window are each other's transpose in g
@vjp(runtime.diff_window_adjoint, family="runtime")
def diff_window_adjoint_rule(result, g, a, n=1, axis=-1, prepend=None, append=None):
    grad[g] = diff_window(grad[result], n, axis, prepend, append)


@vjp(runtime.diff_window, family="runtime")
def diff_window_rule(result, g, n=1, axis=-1, prepend=None, append=None):
    grad[g] = diff_window_adjoint(grad[result], g, n, axis, prepend, append)


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


# fft_adjoint and fft_apply are each other's transpose in g (a linear map's transpose's
# transpose is the map)
@vjp(runtime.fft_adjoint, family="runtime")
def fft_adjoint_rule(result, g, x, name, n=None, axes=None, norm=None):
    grad[g] = fft_apply(grad[result], x, name, n, axes, norm)


@vjp(runtime.fft_apply, family="runtime")
def fft_apply_rule(result, g, x, name, n=None, axes=None, norm=None):
    grad[g] = fft_adjoint(grad[result], g, name, n, axes, norm)
