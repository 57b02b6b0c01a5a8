"""Reductions: sums, means, products, extrema, moments, cumulative ops, norms.

``axis`` (None, an int, negative, or a tuple) and ``keepdims`` are constants at
the call site; ``unreduce`` / ``expand_reduced`` put the removed axes back so
the upstream gradient broadcasts against the input.
"""
import builtins

import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import grad, is_complex, no_gradient, nondifferentiable, vjp
from s2sgrad.rules.tangents import linear, tangent, tangent_rule
from s2sgrad.runtime import (average_weights, cov_adjoint, cov_cross, cumprod_adjoint,
                             cumprod_curvature, cumprod_tangent, expand_reduced, mT, norm_adjoint,
                             prod_adjoint, prod_curvature, quantile_adjoint, reduced_count,
                             route_to_extremum, sum_items_adjoint, trapezoid_adjoint, unbroadcast,
                             unreduce)

# -- sums and means (sum distributes) ------------------------------------------------------


@vjp(np.sum, methods=("sum",), family="reductions")
def sum(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    if where is None:
        grad[a] = unreduce(grad[result], a, axis, keepdims)
    else:       # where=mask: only the entries summed get a gradient
        grad[a] = unreduce(grad[result], a, axis, keepdims) * where


@vjp(builtins.sum, family="reductions")
def builtin_sum(result, iterable, start=0):
    # sum([a, b, c]): each item gets the upstream gradient, summed to its shape
    grad[iterable] = sum_items_adjoint(grad[result], iterable)
    grad[start] = unbroadcast(grad[result], start)


@vjp(np.nansum, family="reductions")
def nansum(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
           where=None):
    if where is None:
        grad[a] = unreduce(grad[result], a, axis, keepdims) * ~np.isnan(a)
    else:
        grad[a] = unreduce(grad[result], a, axis, keepdims) * (~np.isnan(a) & where)


@vjp(np.mean, methods=("mean",), family="reductions")
def mean(result, a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    if where is None:
        grad[a] = unreduce(grad[result] / reduced_count(a, axis), a, axis, keepdims)
    else:       # where=mask: the mean of the selected entries
        kept = np.broadcast_to(where, np.shape(a))
        grad[a] = expand_reduced(grad[result], a, axis, keepdims) * kept / np.sum(
            kept, axis=axis, keepdims=True)


@vjp(np.nanmean, family="reductions")
def nanmean(result, a, axis=None, dtype=None, out=None, keepdims=False):
    kept = ~np.isnan(a)
    grad[a] = expand_reduced(grad[result], a, axis, keepdims) * kept / np.sum(
        kept, axis=axis, keepdims=True)


@vjp(np.average, family="reductions")
def average(result, a, axis=None, weights=None, returned=False, keepdims=False):
    if weights is None:
        grad[a] = unreduce(grad[result] / reduced_count(a, axis), a, axis, keepdims)
    else:
        w = average_weights(weights, a, axis)
        scale = expand_reduced(grad[result], a, axis, keepdims) / np.sum(w, axis=axis,
                                                                           keepdims=True)
        grad[a] = scale * w
        grad[weights] = np.reshape(unbroadcast(scale * (a - expand_reduced(
            result, a, axis, keepdims)), w), np.shape(weights))


@vjp(np.prod, methods=("prod",), family="reductions")
def prod(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
         where=None):
    if initial is not None:     # initial * the product of a
        if where is None:
            grad[a] = prod_adjoint(grad[result] * initial, a, axis, keepdims)
        else:
            grad[a] = prod_adjoint(grad[result] * initial, np.where(where, a, 1.0), axis,
                                   keepdims) * where
    elif where is None:
        grad[a] = prod_adjoint(grad[result], a, axis, keepdims)
    else:       # where=mask: the product of np.where(mask, a, 1.0)
        grad[a] = prod_adjoint(grad[result], np.where(where, a, 1.0), axis, keepdims) * where


@vjp(np.nanprod, family="reductions")
def nanprod(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None,
            where=None):
    # NaNs count as ones
    if initial is not None:
        raise NotImplementedError("np.nanprod(initial=...) is not differentiated")
    if where is None:
        grad[a] = prod_adjoint(grad[result], np.where(np.isnan(a), 1.0, a), axis,
                               keepdims) * ~np.isnan(a)
    else:
        grad[a] = prod_adjoint(grad[result], np.where(np.isnan(a) | ~where, 1.0, a), axis,
                               keepdims) * (~np.isnan(a) & where)


# -- extrema (max routes; ties share the gradient equally) -----------------------------------


@vjp(np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin, methods=("max", "min"),
     family="reductions")
def extremum(result, a, axis=None, out=None, keepdims=False):
    grad[a] = route_to_extremum(grad[result], a, result, axis, keepdims)


@vjp(np.ptp, family="reductions")
def ptp(result, a, axis=None, out=None, keepdims=False):
    high = np.max(a, axis=axis, keepdims=keepdims)
    low = np.min(a, axis=axis, keepdims=keepdims)
    grad[a] = (route_to_extremum(grad[result], a, high, axis, keepdims)
               - route_to_extremum(grad[result], a, low, axis, keepdims))


@vjp(np.quantile, family="reductions")
def quantile(result, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    if method != "linear":
        raise NotImplementedError("np.quantile: only method='linear' is differentiated")
    grad[a] = quantile_adjoint(grad[result], a, q, axis, keepdims)
    grad[q] = no_gradient("np.quantile: no derivative with respect to q")


@vjp(np.percentile, family="reductions")
def percentile(result, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    if method != "linear":
        raise NotImplementedError("np.percentile: only method='linear' is differentiated")
    grad[a] = quantile_adjoint(grad[result], a, np.true_divide(q, 100.0), axis, keepdims)
    grad[q] = no_gradient("np.percentile: no derivative with respect to q")


@vjp(np.median, family="reductions")
def median(result, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    grad[a] = quantile_adjoint(grad[result], a, 0.5, axis, keepdims)


# -- moments -----------------------------------------------------------------------------


@vjp(np.var, methods=("var",), family="reductions")
def var(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    grad[a] = expand_reduced(grad[result], a, axis, keepdims) * centered * (
        2.0 / (reduced_count(a, axis) - ddof))


@vjp(np.std, methods=("std",), family="reductions")
def std(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    # where std is 0 every centered entry is 0: the 0 subgradient, not nan
    grad[a] = expand_reduced(grad[result] / np.where(result == 0, 1.0, result), a, axis,
                             keepdims) * centered / (
        reduced_count(a, axis) - ddof)


@vjp(np.nanvar, family="reductions")
def nanvar(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    kept = ~np.isnan(a)
    centered = np.where(kept, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    grad[a] = expand_reduced(grad[result], a, axis, keepdims) * centered * 2.0 / (
        np.sum(kept, axis=axis, keepdims=True) - ddof)


@vjp(np.nanstd, family="reductions")
def nanstd(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    kept = ~np.isnan(a)
    centered = np.where(kept, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    grad[a] = expand_reduced(grad[result] / np.where(result == 0, 1.0, result), a, axis,
                             keepdims) * centered / (np.sum(kept, axis=axis, keepdims=True) - ddof)


# -- cumulative --------------------------------------------------------------------------------


@vjp(np.cumsum, methods=("cumsum",), family="reductions")
def cumsum(result, a, axis=None, dtype=None, out=None):
    if axis is None:
        grad[a] = np.reshape(np.cumsum(np.ravel(grad[result])[::-1])[::-1], np.shape(a))
    else:
        grad[a] = np.flip(np.cumsum(np.flip(grad[result], axis), axis), axis)


@vjp(np.cumprod, methods=("cumprod",), family="reductions")
def cumprod(result, a, axis=None, dtype=None, out=None):
    grad[a] = cumprod_adjoint(grad[result], a, axis)


@vjp(np.nancumsum, family="reductions")
def nancumsum(result, a, axis=None, dtype=None, out=None):
    # NaNs count as zeros
    if axis is None:
        grad[a] = np.reshape(np.cumsum(np.ravel(grad[result])[::-1])[::-1], np.shape(a)) * (
            ~np.isnan(a))
    else:
        grad[a] = np.flip(np.cumsum(np.flip(grad[result], axis), axis), axis) * ~np.isnan(a)


@vjp(np.nancumprod, family="reductions")
def nancumprod(result, a, axis=None, dtype=None, out=None):
    # NaNs count as ones
    grad[a] = cumprod_adjoint(grad[result], np.where(np.isnan(a), 1.0, a), axis) * ~np.isnan(a)


@vjp(np.bincount, family="reductions")
def bincount(result, x, weights=None, minlength=0):
    # a sum of the weights per bin: each weight gets its bin's gradient
    grad[weights] = np.take(grad[result], x)


@vjp(np.cov, family="reductions")
def cov(result, m, y=None, rowvar=True, bias=False, ddof=None):
    if y is not None:
        raise NotImplementedError("np.cov(m, y): stack the variables into one array")
    grad[m] = cov_adjoint(grad[result], m, rowvar, bias, ddof)


@vjp(np.corrcoef, family="reductions")
def corrcoef(result, x, y=None, rowvar=True, dtype=None):
    # R = C / (s s^T), C = np.cov(x), s = sqrt(diag C); a change of C_ii moves row and
    # column i of R (NumPy's clipping of R to [-1, 1] only rounds the exact 1s)
    if y is not None:
        raise NotImplementedError("np.corrcoef(x, y): stack the variables into one array")
    g = np.atleast_2d(grad[result])
    s = np.sqrt(np.diagonal(np.atleast_2d(np.cov(x, rowvar=rowvar))))
    gr = g * np.atleast_2d(result)
    grad[x] = cov_adjoint(g / np.outer(s, s) - np.diag(
        (np.sum(gr, axis=0) + np.sum(gr, axis=1)) / (2.0 * s * s)), x, rowvar)


@vjp(getattr(np, "trapezoid", None) or getattr(np, "trapz", None), family="reductions")
def trapezoid(result, y, x=None, dx=1.0, axis=-1):
    grad[y] = trapezoid_adjoint(grad[result], y, x, dx, axis, 0)
    grad[x] = trapezoid_adjoint(grad[result], y, x, dx, axis, 1)


# -- norms ---------------------------------------------------------------------------------------


@vjp(np.linalg.norm, family="reductions")
def norm(result, x, ord=None, axis=None, keepdims=False):
    grad[x] = norm_adjoint(grad[result], x, result, ord, axis, keepdims)


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


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


# cov_adjoint(g, m) is bilinear in (g, m): (g + g.T) @ centred(m) / (n - ddof)
@vjp(runtime.cov_adjoint, family="runtime")
def cov_adjoint_rule(result, g, m, rowvar=True, bias=False, ddof=None):
    cross = cov_cross(grad[result], m, rowvar, bias, ddof)
    grad[g] = np.reshape(cross + mT(cross), np.shape(g))
    grad[m] = cov_adjoint(g, grad[result], rowvar, bias, ddof)


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


@vjp(runtime.route_to_extremum, family="runtime")
def route_to_extremum_rule(result, g, like, extremum, axis=None, keepdims=False):
    # route_to_extremum is linear in g (the tie pattern is locally constant)
    hits = like == expand_reduced(extremum, like, axis, keepdims)
    grad[g] = (np.sum(grad[result] * hits, axis=axis, keepdims=keepdims)
               / np.sum(hits, axis=axis, keepdims=keepdims))


nondifferentiable(runtime.reduced_count, family="runtime")


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(np.sum, np.mean, np.cumsum, runtime.route_to_extremum, methods=("sum", "mean", "cumsum"))


linear(runtime.cov_adjoint, runtime.cov_cross, positions=(0, 1))


@tangent_rule(np.max, np.amax, np.min, np.amin, methods=("max", "min"))
def tangent_extremum(result, a, axis=None, out=None, keepdims=False):
    # the tangent of the selected entries; ties share it equally (as the adjoint does)
    hits = a == expand_reduced(result, a, axis, keepdims)
    tangent[result] = (np.sum(hits * tangent[a], axis=axis, keepdims=keepdims)
                       / np.sum(hits, axis=axis, keepdims=keepdims))
