"""Helpers of the rules in ``rules/numpy_reductions.py``: products, norms, averages,
quantiles, trapezoids, covariances, the extremum routing of max / min, and their second
derivatives.  NumPy only."""
import numpy as np

from s2sgrad.runtime.core import _conj, _normalize_axis, expand_reduced, unbroadcast

__all__ = ["reduced_count", "route_to_extremum", "prod_adjoint", "cumprod_adjoint", "norm_adjoint",
           "average_weights", "quantile_adjoint", "trapezoid_adjoint", "cov_adjoint", "cov_cross",
           "prod_curvature", "cumprod_tangent", "cumprod_curvature"]


def reduced_count(like, axis=None):
    """How many elements each output of a reduction over ``axis`` combined."""
    shape = np.shape(like)
    count = 1
    for a in _normalize_axis(axis, len(shape)):
        count *= shape[a]
    return count


def route_to_extremum(g, like, result, axis=None, keepdims=False):
    """Max/min gate: the gradient goes to the extremal entries, shared equally by ties."""
    hits = like == expand_reduced(result, like, axis, keepdims)
    share = expand_reduced(g, like, axis, keepdims) / np.sum(hits, axis=axis, keepdims=True)
    return hits * share


def _moved_last(a, axis):
    """``a`` with ``axis`` (int, tuple or None) flattened into one last axis."""
    a = np.asarray(a)
    axes = _normalize_axis(axis, a.ndim)
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, rest + list(axes))
    return moved.reshape(moved.shape[:len(rest)] + (-1,)), rest + list(axes), moved.shape


def prod_adjoint(g, a, axis=None, keepdims=False):
    """Gradient of np.prod: the product of all the other entries (exact with zeros)."""
    if np.ndim(a) == 0:
        return g
    flat, order, moved_shape = _moved_last(a, axis)
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved_shape)
    others = np.transpose(others, np.argsort(order))
    return expand_reduced(g, a, axis, keepdims) * others


def cumprod_adjoint(g, a, axis=None):
    """Gradient of np.cumprod along one axis (exact with zeros)."""
    a = np.asarray(a)
    if axis is None:
        return np.reshape(cumprod_adjoint(np.ravel(g), np.ravel(a), 0), a.shape)
    x = np.moveaxis(a, axis, -1)
    gm = np.moveaxis(np.asarray(g, dtype=np.result_type(g, float)), axis, -1)
    n = x.shape[-1]
    out = np.zeros(np.broadcast_shapes(x.shape, gm.shape), dtype=np.result_type(gm, x, float))
    for k in range(n):
        # d result_j / d x_k = prod_{i <= j, i != k} x_i for j >= k
        y = x.copy()
        y[..., k] = 1.0
        part = np.cumprod(y, axis=-1)[..., k:]
        out[..., k] = np.sum(gm[..., k:] * part, axis=-1)
    return np.moveaxis(out, -1, axis)


def norm_adjoint(g, x, result, ord=None, axis=None, keepdims=False, kind=None):
    """Gradient of np.linalg.norm for vector norms (any ord) and the matrix
    'fro', 'nuc', 1, -1, inf, -inf, 2 and -2 norms (``kind``: 'vector' or 'matrix'
    for np.linalg.vector_norm / matrix_norm, else NumPy's rule for np.linalg.norm)."""
    x = np.asarray(x)
    if axis is None:
        matrix = x.ndim == 2 and ord is not None
        axes = tuple(range(x.ndim))
    else:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        matrix = len(axes) == 2
    if kind is not None:
        matrix = kind == "matrix"
    axes = tuple(a % max(x.ndim, 1) for a in axes)
    if not keepdims:
        g = np.expand_dims(g, axes) if x.ndim else g
        result = np.expand_dims(result, axes) if x.ndim else result
    sign = _sign_conj(x)     # d|x| = Re(sign * dx): sign(x) for reals, conj(x)/|x| else
    if not matrix:
        if ord is None or ord == 2 or ord == "fro":
            return g * _conj(x) / np.where(result == 0, 1.0, result)
        if ord == 1:
            return g * sign
        if ord == np.inf or ord == -np.inf:
            ax = np.abs(x)
            hits = ax == result
            return g * sign * hits / np.sum(hits, axis=axes, keepdims=True)
        if ord == 0:
            return np.zeros_like(x, dtype=float)
        return g * sign * (np.abs(x) / result) ** (ord - 1)
    if ord is None or ord == "fro":
        return g * _conj(x) / np.where(result == 0, 1.0, result)
    # Matrix norms on two axes: move them last.
    xm = np.moveaxis(x, axes, (-2, -1))
    gm = np.moveaxis(g, axes, (-2, -1))
    if ord in (1, -1, np.inf, -np.inf):
        sum_axis = -2 if ord in (1, -1) else -1
        sums = np.sum(np.abs(xm), axis=sum_axis, keepdims=True)
        pick = sums == (np.max if ord > 0 else np.min)(sums, axis=-1 if sum_axis == -2 else -2,
                                                       keepdims=True)
        out = gm * _sign_conj(xm) * pick / np.sum(pick, axis=(-2, -1), keepdims=True)
    elif ord in (2, -2, "nuc"):
        u, s, vt = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            out = gm * _conj(np.matmul(u, vt))
        elif ord == 2:
            out = gm * _conj(u[..., :, :1] * vt[..., :1, :])
        else:
            out = gm * _conj(u[..., :, -1:] * vt[..., -1:, :])
    else:
        raise ValueError("s2sgrad: no gradient for matrix norm ord=%r" % (ord,))
    return np.moveaxis(out, (-2, -1), axes)


def _sign_conj(x):
    """The gradient of |x|: sign(x) for reals, conj(x) / |x| (0 at 0) for complex values."""
    if not np.iscomplexobj(x):
        return np.sign(x)
    ax = np.abs(x)
    return np.conj(x) / np.where(ax == 0, 1.0, ax)


def average_weights(weights, like, axis=None):
    """``weights`` of np.average reshaped to broadcast against ``like``."""
    w = np.asarray(weights)
    if axis is None or w.shape == np.shape(like):
        return w
    shape = [1] * np.ndim(like)
    shape[axis % np.ndim(like)] = w.size
    return w.reshape(shape)


def quantile_adjoint(g, a, q, axis=None, keepdims=False):
    """Gradient of np.quantile(a, q, axis) (method='linear'): each quantile is a mix of
    two order statistics, whose entries receive the gradient back through the sort."""
    a = np.asarray(a, dtype=float)
    if axis is None:
        return np.reshape(quantile_adjoint(g, np.ravel(a), q, 0, False), a.shape)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    if len(axes) > 1:
        flat, order, moved_shape = _moved_last(a, axes)
        gm = g if keepdims is False else np.squeeze(g, axis=tuple(x % a.ndim for x in axes))
        out = quantile_adjoint(gm, flat, q, -1, False)
        return np.transpose(np.reshape(out, moved_shape), np.argsort(order))
    axis = axis % a.ndim
    n = a.shape[axis]
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    pos = qs * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    gm = np.asarray(g, dtype=float)
    if keepdims:
        gm = np.squeeze(gm, axis=axis + (1 if np.ndim(q) else 0))
    gm = np.reshape(gm, (len(qs),) + a.shape[:axis] + a.shape[axis + 1:])
    sorted_grad = np.zeros((n,) + a.shape[:axis] + a.shape[axis + 1:])
    for k in range(len(qs)):
        sorted_grad[lo[k]] += gm[k] * (1.0 - frac[k])
        sorted_grad[hi[k]] += gm[k] * frac[k]
    perm = np.argsort(a, axis=axis, kind="stable")
    out = np.zeros(a.shape)
    np.put_along_axis(out, perm, np.moveaxis(sorted_grad, 0, axis), axis=axis)
    return out


def trapezoid_adjoint(g, y, x=None, dx=1.0, axis=-1, which=0):
    """Gradient of np.trapezoid(y, x, dx, axis) with respect to y (which=0) or x (1)."""
    y = np.asarray(y, dtype=float)
    axis = axis % y.ndim
    n = y.shape[axis]
    shape = [1] * y.ndim
    shape[axis] = n
    if x is None:
        d = np.full(n - 1, float(dx))
    else:
        xs = np.asarray(x, dtype=float)
        d = np.diff(xs, axis=axis if xs.ndim > 1 else 0)
    gm = np.expand_dims(g, axis)
    if which == 0:
        if np.ndim(d) == 1:
            w = np.zeros(n)
            w[:-1] += 0.5 * d
            w[1:] += 0.5 * d
            w = np.reshape(w, shape)
        else:
            zero = np.zeros_like(np.take(d, [0], axis=axis))
            w = 0.5 * (np.concatenate([d, zero], axis) + np.concatenate([zero, d], axis))
        return gm * w
    # d area / d x_i = (y_{i-1} + y_i)/2 - (y_i + y_{i+1})/2 with the missing ends dropped
    mid = 0.5 * (np.take(y, np.arange(1, n), axis) + np.take(y, np.arange(n - 1), axis))
    zero = np.zeros_like(np.take(mid, [0], axis=axis))
    dx_grad = gm * (np.concatenate([zero, mid], axis) - np.concatenate([mid, zero], axis))
    xs = np.asarray(x)
    if xs.ndim == 1 and y.ndim > 1:
        return np.sum(dx_grad, axis=tuple(i for i in range(y.ndim) if i != axis))
    return unbroadcast(dx_grad, xs)


def cov_adjoint(g, m, rowvar=True, bias=False, ddof=None):
    """Gradient of np.cov(m) for one array of variables (rows by default)."""
    m = np.asarray(m, dtype=float)
    x = np.atleast_2d(m)
    if not rowvar and x.shape[0] != 1:
        x = x.T
    n = x.shape[1]
    if ddof is None:
        ddof = 0 if bias else 1
    xc = x - np.mean(x, axis=1, keepdims=True)
    gs = np.reshape(g, (x.shape[0], x.shape[0]))
    out = np.matmul(gs + gs.T, xc) / (n - ddof)
    if not rowvar and np.ndim(m) == 2 and m.shape[0] != 1:
        out = out.T
    return np.reshape(out, np.shape(m))


def cov_cross(a, b, rowvar=True, bias=False, ddof=None):
    """``A_c @ B_c.T / (n - ddof)`` for a and b laid out as np.cov reads its argument
    (centred rows of variables): half of the gradient of cov_adjoint with respect to
    its gradient argument (second derivatives of np.cov)."""
    def rows(m):
        x = np.atleast_2d(np.asarray(m, dtype=float))
        if not rowvar and x.shape[0] != 1:
            x = x.T
        return x - np.mean(x, axis=1, keepdims=True)
    xa, xb = rows(a), rows(b)
    if ddof is None:
        ddof = 0 if bias else 1
    return np.matmul(xa, xb.T) / (xa.shape[1] - ddof)


def prod_curvature(w, a, axis=None):
    """``h_j = sum over i != j of w_i * prod(a_k for k != i, j)`` along the reduced
    ``axis`` (``w`` shaped like ``a``): how prod_adjoint(g, a) moves with a, for
    w = g broadcast against a (second derivatives of np.prod, exact with zeros)."""
    a = np.asarray(a, dtype=float)
    if np.ndim(a) == 0:
        return np.zeros(np.shape(a))
    flat, order, moved_shape = _moved_last(a, axis)
    wf = _moved_last(np.broadcast_to(w, np.shape(a)), axis)[0]
    out = np.zeros(flat.shape)
    for j in range(flat.shape[-1]):
        y = flat.copy()
        y[..., j] = 1.0                     # drop a_j: the others of the rest
        others = prod_adjoint(1.0, y, -1, True)
        others[..., j] = 0.0
        out[..., j] = np.sum(wf * others, axis=-1)
    return np.transpose(out.reshape(moved_shape), np.argsort(order))


def cumprod_tangent(t, a, axis=None):
    """Tangent of np.cumprod(a, axis) for a tangent ``t`` of a (exact with zeros): entry j
    moves by the sum over k <= j of t_k times the product of a_i, i <= j, i != k.  Also
    the adjoint of cumprod_adjoint in its gradient argument."""
    a = np.asarray(a, dtype=np.result_type(a, float))
    if axis is None:
        return cumprod_tangent(np.ravel(t), np.ravel(a), 0)
    x = np.moveaxis(a, axis, -1)
    tm = np.moveaxis(np.broadcast_to(np.asarray(t, dtype=np.result_type(t, float)), a.shape),
                     axis, -1)
    out = np.zeros(x.shape, dtype=np.result_type(x, tm))
    for k in range(x.shape[-1]):
        y = x.copy()
        y[..., k] = 1.0
        out[..., k:] += tm[..., k:k + 1] * np.cumprod(y, axis=-1)[..., k:]
    return np.moveaxis(out, -1, axis)


def cumprod_curvature(w, g, a, axis=None):
    """How <w, cumprod_adjoint(g, a, axis)> moves with a (second derivatives of
    np.cumprod, exact with zeros): entry m is the sum over k != m of w_k times the sum
    over j >= max(k, m) of g_j times the product of a_i, i <= j, i != k, m."""
    a = np.asarray(a, dtype=float)
    if axis is None:
        return np.reshape(cumprod_curvature(np.ravel(w), np.ravel(g), np.ravel(a), 0),
                          a.shape)
    x = np.moveaxis(a, axis, -1)
    wm = np.moveaxis(np.broadcast_to(np.asarray(w, dtype=float), a.shape), axis, -1)
    gm = np.moveaxis(np.broadcast_to(np.asarray(g, dtype=float), a.shape), axis, -1)
    n = x.shape[-1]
    out = np.zeros(x.shape)
    for m in range(n):
        y = x.copy()
        y[..., m] = 1.0                              # drop a_m
        late = np.where(np.arange(n) >= m, gm, 0.0)  # only the j >= m move with a_m
        inner = cumprod_adjoint(late, y, -1)
        inner[..., m] = 0.0
        out[..., m] = np.sum(wm * inner, axis=-1)
    return np.moveaxis(out, -1, axis)
