"""The few helpers generated code may call.

Generated gradients are plain NumPy; when the compiler knows the shapes involved
(it specializes on the shapes seen at the first call) these helpers are replaced
by the NumPy expression they stand for.  They remain for the generic version and
for the cases a shape alone cannot decide.  Everything here is importable with
NumPy alone, so exported gradient modules can carry a copy of this file.
"""
import numpy as np

__all__ = ["unbroadcast", "unreduce", "reduced_count", "dot_adjoint_left",
           "dot_adjoint_right", "matmul_adjoint_left", "matmul_adjoint_right",
           "inverse_permutation", "check_scalar_output", "zeros_like_grad",
           "index_add", "route_to_extremum", "expand_reduced", "as_gradient"]


def unbroadcast(g, like):
    """Sum ``g`` over the axes along which ``like`` was broadcast."""
    shape = np.shape(like)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if ones:
        g = np.sum(g, axis=ones, keepdims=True)
    return g


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(a % ndim for a in axis))
    return (axis % ndim,)


def expand_reduced(g, like, axis, keepdims):
    """Re-insert the axes a reduction removed, so ``g`` broadcasts against ``like``."""
    if keepdims or axis is None or np.ndim(like) == 0:
        return g
    return np.expand_dims(g, _normalize_axis(axis, np.ndim(like)))


def unreduce(g, like, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction back to the reduced input's shape."""
    return np.broadcast_to(expand_reduced(g, like, axis, keepdims), np.shape(like))


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


def dot_adjoint_left(g, a, b):
    """Gradient of np.dot(a, b) with respect to a."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0:
        return np.sum(g * b)
    if nb == 0:
        return g * b
    if nb == 1:
        return np.multiply.outer(g, b)
    # g has shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    axes_g = list(range(na - 1, np.ndim(g)))
    axes_b = list(range(nb - 2)) + [nb - 1]
    return np.tensordot(g, b, (axes_g, axes_b))


def dot_adjoint_right(g, a, b):
    """Gradient of np.dot(a, b) with respect to b."""
    na, nb = np.ndim(a), np.ndim(b)
    if nb == 0:
        return np.sum(g * a)
    if na == 0:
        return g * a
    if na == 1 and nb == 1:
        return g * a
    # a: (..., k), b: (..., k, m); g: a.shape[:-1] + b.shape[:-2] + (m,)
    lead = list(range(na - 1))
    res = np.tensordot(a, g, (lead, lead))          # (k,) + b.shape[:-2] + (m,)
    return np.moveaxis(res, 0, nb - 2) if nb > 1 else res


def matmul_adjoint_left(g, a, b):
    """Gradient of a @ b with respect to a (batch dimensions broadcast)."""
    na, nb = np.ndim(a), np.ndim(b)
    if nb == 1:
        ga = np.multiply.outer(g, b)
    elif na == 1:
        ga = np.matmul(np.expand_dims(g, -2), np.swapaxes(b, -1, -2))[..., 0, :]
    else:
        ga = np.matmul(g, np.swapaxes(b, -1, -2))
    return unbroadcast(ga, a)


def matmul_adjoint_right(g, a, b):
    """Gradient of a @ b with respect to b (batch dimensions broadcast)."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 1 and nb == 1:
        gb = g * a
    elif na == 1:
        gb = np.expand_dims(a, -1) * np.expand_dims(g, -2)
    elif nb == 1:
        gb = np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0]
    else:
        gb = np.matmul(np.swapaxes(a, -1, -2), g)
    return unbroadcast(gb, b)


def inverse_permutation(axes):
    """The axes that undo ``np.transpose(x, axes)``."""
    return tuple(int(i) for i in np.argsort(axes))


def check_scalar_output(value, function_name):
    """Raise a clear error when ``grad`` is applied to a non-scalar function."""
    if type(value) is float:
        return
    if np.ndim(value) != 0:
        raise ValueError(
            "s2sgrad: grad() needs a function with a scalar output, but %r returned a value "
            "of shape %s; use s2sgrad.vjp or s2sgrad.jacobian for non-scalar outputs, or reduce "
            "the output (e.g. np.sum)" % (function_name, np.shape(value)))


def zeros_like_grad(x):
    """A zero gradient shaped like ``x``: float zeros for arrays, 0.0 for scalars."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (list, tuple)):
        return type(x)(zeros_like_grad(v) for v in x)
    if isinstance(x, dict):
        return {k: zeros_like_grad(v) for k, v in x.items()}
    return 0.0


def index_add(buffer, index, value):
    """``buffer[index] += value`` that also counts repeated indices."""
    np.add.at(buffer, index, value)
    return buffer


def as_gradient(g, like):
    """Give a gradient the shape, float dtype and own memory of its argument."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        out = np.array(np.broadcast_to(g, like.shape), dtype=dtype)
        return out
    if isinstance(like, (float, int)) and not isinstance(like, bool):
        return float(g) if np.ndim(g) == 0 else g
    return g
