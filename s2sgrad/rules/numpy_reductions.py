"""Reductions: sums, means, products, extrema, moments, cumulative ops, norms.

``axis`` (None, an int, negative, or a tuple) and ``keepdims`` are constants at
the call site; ``unreduce`` / ``expand_reduced`` put the removed axes back so
the upstream gradient broadcasts against the input.
"""
import builtins

import numpy as np

from s2sgrad.runtime import (average_weights, cov_adjoint, quantile_adjoint,
                             sum_items_adjoint, trapezoid_adjoint, cumprod_adjoint,
                             expand_reduced, norm_adjoint, prod_adjoint, reduced_count,
                             route_to_extremum, unbroadcast, unreduce)
from s2sgrad.rules.registry import grad, no_gradient, vjp

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
