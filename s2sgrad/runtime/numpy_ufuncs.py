"""Helpers of the rules in ``rules/numpy_ufuncs.py``: the math module and the builtins over
scalars and sequences (digamma, trigamma, sum / max / min / prod / dist of items).  NumPy only."""
import math

import numpy as np

from s2sgrad.runtime.core import GradientList, unbroadcast, zeros_like_grad

__all__ = ["sum_items_adjoint", "digamma", "trigamma", "prod_items_adjoint", "dot_items",
           "dist_adjoint", "sequence_adjoint", "extremum_index", "extremum_item_adjoint",
           "extremum_item_tangent"]


def digamma(x: float) -> float:
    """psi(x) = d/dx log Gamma(x) of a real number (the math module has none): the
    recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series
    (terms to x**-14: about 1e-16 relative); reflection psi(1 - x) - psi(x) =
    pi cot(pi x) for negative x; NaN at the poles 0, -1, -2, ..."""
    x = float(x)
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    if x < 0.0:
        return digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    tail = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (
        1 / 132 - f * (691 / 32760 - f / 12))))))
    return shift + math.log(x) - 0.5 / x - tail


def trigamma(x: float) -> float:
    """psi'(x), the derivative of digamma (same method: recurrence psi'(x) =
    psi'(x + 1) + 1/x**2, asymptotic series, reflection psi'(1 - x) + psi'(x) =
    pi**2 / sin(pi x)**2)."""
    x = float(x)
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    if x < 0.0:
        return (math.pi / math.sin(math.pi * x)) ** 2 - trigamma(1.0 - x)
    shift = 0.0
    while x < 10.0:
        shift += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    tail = (1 / 6 - f * (1 / 30 - f * (1 / 42 - f * (1 / 30 - f * (
        5 / 66 - f * (691 / 2730 - f * 7 / 6)))))) / (x * x * x)
    return shift + 1.0 / x + 0.5 * f + tail


def prod_items_adjoint(g, items, start=1):
    """Gradient of math.prod(items, start=start) for each item: the upstream gradient
    times the product of everything else (no division: exact at zeros)."""
    items = list(items)
    before = [start]
    for v in items[:-1]:
        before.append(before[-1] * v)
    out, after = [None] * len(items), 1
    for i in range(len(items) - 1, -1, -1):
        out[i] = unbroadcast(g * before[i] * after, items[i])
        after = after * items[i]
    return GradientList(out)


def dot_items(a, b):
    """sum(a_i * b_i) over two sequences: a tangent from per-item partial derivatives."""
    return sum(x * y for x, y in zip(a, b))


def dist_adjoint(g, p, q, result):
    """Gradient of math.dist(p, q) with respect to the points p: (p_i - q_i) / dist
    per coordinate (the zero vector at p == q, where dist is not differentiable)."""
    scale = g / result if result != 0 else 0.0
    return GradientList((a - b) * scale for a, b in zip(p, q))


def sequence_adjoint(g, like):
    """Gradient of list(x) / tuple(x): the items' gradients as an array shaped like an
    array argument (its rows), else as a list."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        return np.array([np.broadcast_to(item, like.shape[1:]) for item in g],
                        dtype=dtype).reshape(like.shape)
    return GradientList(g)


def extremum_index(items, result) -> int:
    """Which item the builtin max(items) or min(items) returned.  Both scan left to
    right and replace their pick only by a strictly larger (smaller) item, so they
    return the first item equal to the result (the first item itself when the result
    is a NaN, which no comparison replaces)."""
    if isinstance(items, np.ndarray):
        hits = np.asarray(items == result)
        return int(np.argmax(hits)) if hits.any() else 0
    for i, v in enumerate(items):
        if v is result:
            return i
    return next((i for i, v in enumerate(items) if bool(v == result)), 0)


def extremum_item_adjoint(g, items, result):
    """Gradient of the builtin max(items) or min(items): the upstream gradient for the
    item returned, zeros for the others (an array for a 1-D array, else a list)."""
    index = extremum_index(items, result)
    if isinstance(items, np.ndarray):
        out = np.zeros(items.shape, dtype=items.dtype if items.dtype.kind in "fc" else float)
        out[index] = g
        return out
    return GradientList(g if i == index else zeros_like_grad(v) for i, v in enumerate(items))


def extremum_item_tangent(tangents, items, result):
    """Tangent of the builtin max(items) or min(items): the returned item's tangent."""
    return tangents[extremum_index(items, result)]


def sum_items_adjoint(g, items):
    """Gradient of the builtin sum(items): the upstream gradient for every item."""
    return GradientList(unbroadcast(g, x) for x in items)
