"""Helpers of the rules in ``rules/numpy_special.py``: the modified Bessel function I1 and
np.histogram's edges and weights.  NumPy only."""
import numpy as np

from s2sgrad.runtime.numpy_reductions import route_to_extremum

__all__ = ["bessel_i1", "histogram_edges_adjoint", "histogram_edges_tangent",
           "histogram_weights_adjoint"]


def bessel_i1(x):
    """The modified Bessel function I1 (the derivative of np.i0), with NumPy alone: the
    power series (positive terms, no cancellation) for |x| <= 30, the asymptotic
    expansion beyond (its error there is below e**-60)."""
    x = np.asarray(x, dtype=float)
    ax = np.abs(x)
    small = np.minimum(ax, 30.0)
    term = small / 2.0
    total = term
    quarter = small * small / 4.0
    for k in range(1, 90):
        term = term * quarter / (k * (k + 1))
        total = total + term
    big = np.maximum(ax, 30.0)
    mu = 4.0
    coef = np.ones_like(big)
    series = np.ones_like(big)
    for k in range(1, 25):
        coef = -coef * (mu - (2 * k - 1) ** 2) / (k * 8.0 * big)
        series = series + coef
    with np.errstate(over="ignore"):
        asymptotic = np.exp(big) / np.sqrt(2.0 * np.pi * big) * series
    return np.sign(x) * np.where(ax <= 30.0, total, asymptotic)


def _histogram_edge_weights(a, bins, range):
    """For edges np.linspace(min(a), max(a), bins + 1) (an int ``bins``, no ``range``):
    how much each edge moves with min(a) and with max(a); None when the edges do not
    depend on ``a``."""
    if np.ndim(bins) != 0 or range is not None or np.size(a) == 0:
        return None
    k = np.arange(int(bins) + 1) / int(bins)
    return 1.0 - k, k


def histogram_edges_adjoint(g, a, bins=10, range=None):
    """Gradient with respect to ``a`` of the bin edges np.histogram returns: with an int
    ``bins`` and no ``range`` they run from min(a) to max(a), which get it (ties share)."""
    weights = _histogram_edge_weights(a, bins, range)
    if weights is None:
        return np.zeros(np.shape(a))
    flat = np.ravel(a)
    low = route_to_extremum(np.sum(g * weights[0]), flat, np.min(flat))
    high = route_to_extremum(np.sum(g * weights[1]), flat, np.max(flat))
    return np.reshape(low + high, np.shape(a))


def histogram_edges_tangent(t, a, bins=10, range=None):
    """Tangent of np.histogram's bin edges for a tangent ``t`` of ``a`` (the transpose
    of histogram_edges_adjoint)."""
    weights = _histogram_edge_weights(a, bins, range)
    if weights is None:
        return np.zeros(np.size(bins) if np.ndim(bins) else int(bins) + 1)
    flat, tf = np.ravel(a), np.ravel(t)
    low_hits, high_hits = flat == np.min(flat), flat == np.max(flat)
    low = np.sum(tf * low_hits) / np.sum(low_hits)
    high = np.sum(tf * high_hits) / np.sum(high_hits)
    return weights[0] * low + weights[1] * high


def histogram_weights_adjoint(g, a, edges):
    """Gradient of np.histogram's counts with respect to ``weights``: each entry gets the
    gradient of the bin it falls in (none outside the edges; the last bin is closed)."""
    flat = np.ravel(a)
    n = np.size(edges) - 1
    index = np.searchsorted(edges, flat, side="right") - 1
    index = np.where(flat == edges[-1], n - 1, index)
    inside = (index >= 0) & (index < n) & (flat >= edges[0])
    return np.reshape(np.where(inside, np.take(g, np.clip(index, 0, n - 1)), 0.0),
                      np.shape(a))
