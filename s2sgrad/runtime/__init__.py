"""The few helpers generated code may call.

Generated gradients are plain NumPy; when the compiler knows the shapes involved
(it specializes on the shapes seen at the first call) these helpers are replaced
by the NumPy expression they stand for.  They remain for the generic version and
for the cases a shape alone cannot decide.  Everything here is importable with
NumPy alone, so exported gradient modules can carry a copy of this file.
"""
import copy
import dataclasses
import math
import types

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
    if np.ndim(value) != 0 and np.size(value) != 1:
        raise ValueError(
            "s2sgrad: grad() needs a function with a scalar output, but %r returned a value "
            "of shape %s; use s2sgrad.vjp or s2sgrad.jacobian for non-scalar outputs, or reduce "
            "the output (e.g. np.sum)" % (function_name, np.shape(value)))


# Objects (s2sgrad/objects.py): here, for exported code needs them without the package.
_PLAIN = (np.ndarray, np.generic, list, tuple, dict, int, float, complex, str, bytes,
          bool, type(None), set, frozenset, range, slice)


def is_object(x) -> bool:
    """An instance of a user class (not an array, number, string, container, module,
    function or class): its attributes are items, its methods are inlined."""
    if isinstance(x, _PLAIN) or isinstance(x, (types.ModuleType, type, types.FunctionType,
                                               types.BuiltinFunctionType, types.MethodType,
                                               np.ufunc)):
        return False
    module = getattr(type(x), "__module__", "") or ""
    if module.split(".")[0] in ("numpy", "scipy", "builtins", "s2sgrad", "functools"):
        return False
    return hasattr(x, "__dict__") and not callable(getattr(type(x), "__getitem__", None))


class ObjectGradient(dict):
    """The gradient of an object: its attributes' gradients, by name; read and written
    as attributes (``grad_self.params['W1']``) or as items (``g['params']``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __repr__(self):
        return "ObjectGradient(%s)" % dict.__repr__(self)


def zeros_like_grad(x):
    """A zero gradient shaped like ``x``: float zeros for arrays, 0.0 for scalars."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (list, tuple)):
        # a list even for tuples: the backward pass adds into items (grad_t[1] += ...)
        return [zeros_like_grad(v) for v in x]
    if isinstance(x, dict):
        return {k: zeros_like_grad(v) for k, v in x.items()}
    if is_object(x):
        # an object: its attributes' gradients (objects.py)
        return ObjectGradient((k, zeros_like_grad(v)) for k, v in vars(x).items())
    return 0.0


def index_add(buffer, index, value):
    """``buffer[index] += value`` that also counts repeated indices; an item of a list
    or dict gradient is added item by item (a tuple is not concatenated)."""
    if isinstance(buffer, (list, dict)):
        buffer[index] = add_gradients(buffer[index], value)
    else:
        np.add.at(buffer, index, value)
    return buffer


__all__ += ["own_gradient", "add_gradients", "copy_argument"]


def copy_argument(x):
    """A private copy of an argument the function writes into (the caller's arrays,
    lists and dicts are never changed): arrays copied, containers copied item by item
    (a tuple stays a tuple), anything else (numbers, strings) returned as is."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list):
        return [copy_argument(v) for v in x]
    if isinstance(x, tuple):
        return tuple([copy_argument(v) for v in x])
    if isinstance(x, dict):
        return {k: copy_argument(v) for k, v in x.items()}
    return x


def object_gradient(g, like):
    """The gradient of object ``like`` from its attributes' gradients ``g``: for a
    dataclass, an instance of the same class (its other fields as they are); for any
    other object, an ObjectGradient (attribute access, like the object's)."""
    items = {k: as_gradient(g[k], v) for k, v in vars(like).items()
             if k in g and not isinstance(v, (str, bytes, int, type(None)))}
    if dataclasses.is_dataclass(like):
        out = copy.copy(like)
        for k, v in items.items():
            object.__setattr__(out, k, v)
        return out
    return ObjectGradient(items)


def add_gradients(a, b):
    """``a + b`` for gradients of lists, tuples and dicts: item by item."""
    if isinstance(a, dict):
        return type(a)((k, add_gradients(a[k], b[k]) if k in b else a[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return [add_gradients(u, v) for u, v in zip(a, b)]
    return a + b


def own_gradient(g):
    """A copy of gradient ``g`` that may be updated in place: arrays are copied,
    lists and tuples become lists, dicts are copied (items copied the same way)."""
    if isinstance(g, (list, tuple)):
        return [own_gradient(v) for v in g]
    if isinstance(g, dict):
        return type(g)((k, own_gradient(v)) for k, v in g.items())
    return np.array(g)


def as_gradient(g, like):
    """Give a gradient the shape, float dtype and own memory of its argument."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        out = np.array(np.broadcast_to(g, like.shape), dtype=dtype)
        return out
    if isinstance(like, (float, int)) and not isinstance(like, bool):
        # (a real argument's gradient is real: the real part, docs/complex.md)
        return float(np.real(g)) if np.ndim(g) == 0 else g
    if isinstance(like, (list, tuple)) and isinstance(g, (list, tuple)):
        # the argument's structure, item by item (a list of (W, b) pairs stays one)
        items = [as_gradient(a, b) for a, b in zip(g, like)]
        return tuple(items) if isinstance(like, tuple) else items
    if isinstance(like, dict) and isinstance(g, dict):
        return {k: as_gradient(g[k], v) if k in g else g.get(k) for k, v in like.items()}
    if isinstance(g, dict) and is_object(like):
        return object_gradient(g, like)
    return g


# ---------------------------------------------------------------------------
# Helpers of the rules in s2sgrad/rules/ (reductions, linear algebra, shapes).
# Each takes the upstream gradient ``g`` first and returns the contribution to
# one input, shaped like that input.

__all__ += ["GradientList", "mT", "prod_adjoint", "cumprod_adjoint", "norm_adjoint", "average_weights",
            "tensordot_adjoint_left", "tensordot_adjoint_right", "einsum_adjoint",
            "trace_adjoint", "diag_adjoint", "diagonal_adjoint", "kron_adjoint",
            "cholesky_adjoint", "eigh_adjoint", "pinv_adjoint", "svd_values_adjoint",
            "tile_adjoint", "repeat_adjoint", "pad_adjoint", "take_adjoint",
            "take_along_axis_adjoint", "sort_adjoint", "join_adjoint", "split_adjoint",
            "select_adjoint", "select_default_adjoint", "solve_adjoint_a",
            "convolve_adjoint", "mvn_logpdf_adjoint", "index_concatenate_adjoint",
            "gradient_adjoint", "linspace_adjoint", "rollaxis_adjoint", "partition_adjoint",
            "multi_dot_adjoint", "matrix_power_adjoint", "sum_items_adjoint", "written_part", "item_before_write", "forget_absent", "digamma", "trigamma", "prod_items_adjoint", "dot_items", "dist_adjoint", "sequence_adjoint",
            "add_at", "subtract_at", "extremum_index", "extremum_item_adjoint",
            "extremum_item_tangent", "interp_slope",
            "interp_fp_adjoint", "svd_adjoint", "qr_adjoint", "meshgrid_adjoint",
            "quantile_adjoint", "trapezoid_adjoint", "polyval_adjoint", "cov_adjoint",
            "outer_adjoint", "astype_adjoint"]


class GradientList(list):
    """The gradient of a list or tuple value: one gradient per item.  Adding two of
    them (a list used twice) adds item by item instead of concatenating."""

    def __add__(self, other):
        return GradientList(a + b for a, b in zip(self, other))

    __radd__ = __add__
    __iadd__ = __add__


def mT(x):
    """Matrix transpose of the last two axes (``x.T`` for a matrix)."""
    return np.swapaxes(x, -1, -2)


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


def _conj(x):
    """conj(x), without a copy for real values."""
    return np.conj(x) if np.iscomplexobj(x) else x


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


def _tensordot_axes(axes, na, nb):
    if na == 0 or nb == 0:
        # only np.inner's rule names an axis of a 0-d operand: it is a product then
        return [], []
    if np.ndim(axes) == 0:
        n = int(axes)
        return list(range(na - n, na)), list(range(n))
    ax_a, ax_b = axes
    ax_a = [ax_a] if np.ndim(ax_a) == 0 else list(ax_a)
    ax_b = [ax_b] if np.ndim(ax_b) == 0 else list(ax_b)
    return [int(i) % na for i in ax_a], [int(i) % nb for i in ax_b]


def tensordot_adjoint_left(g, a, b, axes=2):
    """Gradient of np.tensordot(a, b, axes) with respect to a."""
    na, nb = np.ndim(a), np.ndim(b)
    ax_a, ax_b = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    nfa = len(free_a)
    ga = np.tensordot(g, b, (list(range(nfa, nfa + len(free_b))), free_b))
    order = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
    return np.transpose(ga, np.argsort(order))


def tensordot_adjoint_right(g, a, b, axes=2):
    """Gradient of np.tensordot(a, b, axes) with respect to b."""
    na, nb = np.ndim(a), np.ndim(b)
    ax_a, ax_b = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    gb = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    order = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
    return np.transpose(gb, np.argsort(order))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_spec(subscripts, operands):
    """Explicit (inputs, output) letter strings, with '...' spelled out."""
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        ins, out = subs.split("->")
    else:
        ins, out = subs, None
    ins = ins.split(",")
    used = set(subs)
    free = [c for c in _LETTERS if c not in used]
    nell = 0
    for s, op in zip(ins, operands):
        if "..." in s:
            nell = max(nell, np.ndim(op) - (len(s) - 3))
    ell = "".join(free[:nell])
    new_ins = []
    for s, op in zip(ins, operands):
        if "..." in s:
            k = np.ndim(op) - (len(s) - 3)
            s = s.replace("...", ell[nell - k:] if k else "")
        new_ins.append(s)
    if out is None:
        counts = {}
        for s in new_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_ins, out


def einsum_adjoint(g, subscripts, which, *operands):
    """Gradient of np.einsum(subscripts, *operands) with respect to operand ``which``
    (repeated operands, implicit outputs, '...', traces and diagonals included)."""
    operands = [o for o in operands if o is not None]
    ins, out = _einsum_spec(subscripts, operands)
    target = ins[which]
    x = np.asarray(operands[which])
    others = [(s, o) for i, (s, o) in enumerate(zip(ins, operands)) if i != which]
    sizes = dict(zip(target, x.shape))
    unique = "".join(dict.fromkeys(target))
    present = set(out) | {c for s, _ in others for c in s}
    reach = "".join(c for c in unique if c in present)
    spec = ",".join([out] + [s for s, _ in others]) + "->" + reach
    h = np.einsum(spec, g, *[o for _, o in others])
    # letters only this operand sums over: the gradient is constant along them
    if len(reach) < len(unique):
        h = np.reshape(h, tuple(sizes[c] if c in present else 1 for c in unique))
        h = np.array(np.broadcast_to(h, tuple(sizes[c] for c in unique)))
    if len(unique) == len(target):
        return np.transpose(h, [unique.index(c) for c in target])
    res = np.zeros(x.shape, dtype=np.result_type(h, float))
    np.einsum(target + "->" + unique, res)[...] = h    # writeable diagonal view
    return res


def trace_adjoint(g, a, offset=0, axis1=0, axis2=1):
    """Gradient of np.trace: the upstream gradient on the (offset) diagonal."""
    shape = np.shape(a)
    eye = np.eye(shape[axis1], shape[axis2], k=offset)
    out = np.multiply.outer(g, eye)            # (...rest, n, m)
    return np.moveaxis(out, (-2, -1), (axis1, axis2))


def diagonal_adjoint(g, a, offset=0, axis1=0, axis2=1):
    """Gradient of np.diagonal: the upstream gradient written back on the diagonal."""
    shape = np.shape(a)
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    rest = [shape[i] for i in range(nd) if i not in (a1, a2)]
    out = np.zeros(rest + [shape[a1], shape[a2]], dtype=np.result_type(g, float))
    i = np.arange(np.shape(g)[-1])
    out[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return np.moveaxis(out, (-2, -1), (a1, a2))


def diag_adjoint(g, v, k=0):
    """Gradient of np.diag(v, k) for a vector (builds a matrix) or a matrix (reads one)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_adjoint(g, v, k, 0, 1)


def kron_adjoint(g, a, b, which):
    """Gradient of np.kron(a, b) with respect to a (which=0) or b (which=1)."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    inter = tuple(n for pair in zip(sa, sb) for n in pair)
    g4 = np.reshape(g, inter)
    if which == 0:
        other = np.reshape(b, sb)
        out = np.sum(g4 * np.reshape(other, tuple(n for m in sb for n in (1, m))),
                     axis=tuple(range(1, 2 * nd, 2)))
        return np.reshape(out, np.shape(a))
    other = np.reshape(a, sa)
    out = np.sum(g4 * np.reshape(other, tuple(n for m in sa for n in (m, 1))),
                 axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(out, np.shape(b))


def solve_adjoint_a(gb, x):
    """Gradient of np.linalg.solve(a, b) with respect to a, given gb = solve(a.T, g)."""
    if np.ndim(x) == 1:
        return -np.multiply.outer(gb, x)
    return -np.matmul(gb, mT(x))


def cholesky_adjoint(g, L):
    """Gradient of np.linalg.cholesky (symmetric; Murray 2016)."""
    phi = np.tril(np.matmul(mT(L), g))
    phi = phi - 0.5 * np.eye(L.shape[-1]) * phi
    s = np.linalg.solve(mT(L), mT(np.linalg.solve(mT(L), mT(phi))))
    return 0.5 * (s + mT(s))


def eigh_adjoint(g, result):
    """Gradient of np.linalg.eigh (symmetric); ``g`` is (gw, gv), either may be zero."""
    w, v = result
    gw, gv = g
    n = w.shape[-1]
    vt = mT(v)
    vc = _conj(v)          # Hermitian a: dw_i = v_i^H da v_i, so conj(v) on the left
    out = np.matmul(vc * np.expand_dims(np.broadcast_to(gw, w.shape), -2), vt)
    if np.any(gv != 0):
        diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        off = np.ones((n, n)) - np.eye(n)
        f = off / (diff + np.eye(n))
        out = out + np.matmul(np.matmul(vc, f * np.matmul(vt, gv)), vt)
    return 0.5 * (out + _conj(mT(out)))


def pinv_adjoint(g, a, result):
    """Gradient of np.linalg.pinv (full-rank matrices)."""
    p, pt = result, mT(result)
    gt = mT(g)
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    out = -np.matmul(np.matmul(pt, g), pt)
    out = out + np.matmul(np.matmul(np.eye(m) - np.matmul(a, p), gt), np.matmul(p, pt))
    out = out + np.matmul(np.matmul(pt, p), np.matmul(gt, np.eye(n) - np.matmul(p, a)))
    return out


def svd_values_adjoint(g, a):
    """Gradient of the singular values np.linalg.svd(a, compute_uv=False)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    # ds_i = Re(u_i^H da v_i): the conjugate of u diag(g) vh for complex a
    return _conj(np.matmul(u * np.expand_dims(g, -2), vt))


def tile_adjoint(g, a, reps):
    """Gradient of np.tile: sum the copies."""
    shape = np.shape(a)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    nd = max(len(shape), len(reps))
    shape1 = (1,) * (nd - len(shape)) + tuple(shape)
    reps = (1,) * (nd - len(reps)) + reps
    split = tuple(n for pair in zip(reps, shape1) for n in pair)
    out = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(out, shape)


def repeat_adjoint(g, a, repeats, axis=None):
    """Gradient of np.repeat: sum each run of repeated entries."""
    shape = np.shape(a)
    if axis is None:
        return np.reshape(repeat_adjoint(g, np.ravel(a), repeats, 0), shape)
    axis = axis % len(shape)
    if np.ndim(repeats) == 0:
        n = shape[axis]
        split = shape[:axis] + (n, int(repeats)) + shape[axis + 1:]
        return np.sum(np.reshape(g, split), axis=axis + 1)
    starts = np.concatenate([[0], np.cumsum(repeats)[:-1]]).astype(int)
    out = np.add.reduceat(g, starts, axis=axis) if np.shape(g)[axis] else np.zeros(shape)
    zero = np.asarray(repeats) == 0
    if np.any(zero):
        idx = [slice(None)] * len(shape)
        idx[axis] = zero
        out[tuple(idx)] = 0.0
    return out


def pad_adjoint(g, a, pad_width):
    """Gradient of np.pad(a, pad_width) in constant mode: the unpadded window."""
    # (np.pad's own rule: 3, (3,), (1, 2), ((1, 2),) and one pair per axis all broadcast)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(a), 2))
    return np.array(g[tuple(slice(lo, lo + n) for (lo, _), n in zip(pw, np.shape(a)))])


def take_adjoint(g, a, indices, axis=None):
    """Gradient of np.take: scatter-add back (repeated indices add up)."""
    shape = np.shape(a)
    out = np.zeros(shape, dtype=np.result_type(g, float))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % len(shape)
    index = (slice(None),) * axis + (indices,)
    np.add.at(out, index, g)
    return out


def take_along_axis_adjoint(g, a, indices, axis):
    """Gradient of np.take_along_axis: scatter-add back along ``axis``."""
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    nd = np.ndim(a)
    axis = axis % nd
    shape = list(np.shape(a))
    shape[axis] = np.shape(indices)[axis]
    shape = np.broadcast_shapes(tuple(shape), np.shape(indices))
    idx = list(np.ix_(*[np.arange(n) for n in shape]))
    idx[axis] = np.broadcast_to(indices, shape)
    np.add.at(out, tuple(np.broadcast_arrays(*idx)), g)
    return out


def sort_adjoint(g, a, axis=-1):
    """Gradient of np.sort: each entry's gradient follows it back through the permutation."""
    if axis is None:
        return np.reshape(sort_adjoint(g, np.ravel(a), 0), np.shape(a))
    perm = np.argsort(a, axis=axis, kind="stable")
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    np.put_along_axis(out, perm, g, axis=axis)
    return out


def join_adjoint(g, arrays, kind="concatenate", axis=0):
    """Gradient of concatenate/stack/hstack/vstack/dstack/column_stack: the pieces of
    ``g``, each shaped like its array."""
    shapes = [np.shape(x) for x in arrays]
    if kind == "stack":
        return GradientList(np.take(g, i, axis=axis) for i in range(len(shapes)))
    if kind == "concatenate" and axis is None:
        sizes = [int(np.prod(s)) for s in shapes]
        return GradientList(np.reshape(p, s) for p, s in
                            zip(np.split(g, np.cumsum(sizes)[:-1]), shapes))
    if kind == "vstack":
        lifted, axis = [np.atleast_2d(np.empty(s)).shape for s in shapes], 0
    elif kind == "hstack":
        lifted = [np.atleast_1d(np.empty(s)).shape for s in shapes]
        axis = 0 if len(lifted[0]) == 1 else 1
    elif kind == "dstack":
        lifted, axis = [np.atleast_3d(np.empty(s)).shape for s in shapes], 2
    elif kind == "column_stack":
        lifted = [(s[0], 1) if len(s) == 1 else s for s in shapes]
        axis = 1
    else:
        lifted = shapes
    sizes = [s[axis] for s in lifted]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    return GradientList(np.reshape(p, s) for p, s in zip(pieces, shapes))


def split_adjoint(g, a, axis=0, indices_or_sections=None):
    """Gradient of np.split/array_split/hsplit/vsplit/dsplit: join the pieces' gradients
    (a piece no gradient reached may be a scalar zero)."""
    if axis == "hsplit":
        axis = 0 if np.ndim(a) == 1 else 1
    if indices_or_sections is None:
        shapes = [np.shape(p) for p in g]
    else:
        shapes = [p.shape for p in np.array_split(np.empty(np.shape(a), dtype=bool),
                                                  indices_or_sections, axis)]
    return np.concatenate([np.broadcast_to(p, s) for p, s in zip(g, shapes)], axis=axis)


def select_adjoint(g, condlist, choicelist):
    """Gradient of np.select with respect to each choice: where it was selected."""
    taken = np.zeros(np.shape(g), dtype=bool)
    out = []
    for c in condlist:
        pick = np.logical_and(c, ~taken)
        taken = taken | pick
        out.append(np.where(pick, g, 0.0))
    return GradientList(unbroadcast(o, x) for o, x in zip(out, choicelist))


def select_default_adjoint(g, condlist, default):
    """Gradient of np.select with respect to ``default``: where no condition held."""
    hit = np.zeros(np.shape(g), dtype=bool)
    for c in condlist:
        hit = hit | c
    return unbroadcast(np.where(hit, 0.0, g), default)


def _correlate_valid(big, small):
    """n-D 'valid' cross-correlation (NumPy only)."""
    windows = np.lib.stride_tricks.sliding_window_view(big, np.shape(small))
    nd = np.ndim(small)
    return np.tensordot(windows, small, (list(range(windows.ndim - nd, windows.ndim)),
                                         list(range(nd))))


def _window_starts(full, shape, a, v, correlate):
    """Where a convolution's ``shape``-sized output sits in the full result: centred,
    rounding down -- except np.correlate(a, v) with a shorter a, which NumPy computes
    as the reversed correlation of (v, a) and so rounds up."""
    if correlate == "numpy" and np.size(a) < np.size(v):
        return tuple((f - n + 1) // 2 for f, n in zip(full, shape))
    return tuple((f - n) // 2 for f, n in zip(full, shape))


def convolve_adjoint(g, a, v, mode="full", which=0, correlate=False):
    """Gradient of a convolution (np.convolve, scipy.signal.convolve) or, with
    ``correlate=True`` (``"numpy"`` for np.correlate), a cross-correlation, with respect
    to ``a`` (which=0) or ``v``; the output's size (the mode) is read from ``g``."""
    a, v = np.asarray(a, dtype=float), np.asarray(v, dtype=float)
    starts = _window_starts(tuple(n + m - 1 for n, m in zip(np.shape(a), np.shape(v))),
                            np.shape(g), a, v, correlate)
    if correlate:
        v = np.flip(v)
    g = np.asarray(g, dtype=float)
    full = tuple(n + m - 1 for n, m in zip(np.shape(a), np.shape(v)))
    padded = np.zeros(full)
    padded[tuple(slice(s, s + n) for s, n in zip(starts, g.shape))] = g
    if which == 0:
        return _correlate_valid(padded, v)
    out = _correlate_valid(padded, a)
    return np.flip(out) if correlate else out


def mvn_dimension(mean, cov):
    """The dimension scipy.stats.multivariate_normal infers: the size of mean, else the
    side of cov, else 1 (a 1-D x is then a list of points, not one point)."""
    if mean is not None:
        return int(np.size(mean))
    return 1 if np.ndim(cov) == 0 else int(np.shape(cov)[0])


def mvn_logpdf_adjoint(g, x, mean, cov, which):
    """Gradient of the multivariate normal log-density (rows of ``x`` are points) with
    respect to x (which=0), mean (1) or cov (2)."""
    x = np.asarray(x, dtype=float)
    cov = np.asarray(cov, dtype=float)
    cov_ndim = cov.ndim
    d = mvn_dimension(mean, cov)
    if cov.ndim == 0:
        cov = cov * np.eye(d)
    elif cov.ndim == 1:
        cov = np.diag(cov)
    diff = x - (0.0 if mean is None else mean)
    sol = np.linalg.solve(cov, np.reshape(diff, (-1, d)).T).T          # (n, d)
    gs = np.reshape(g, (-1, 1))
    if which == 0:
        return np.reshape(-gs * sol, x.shape)
    if which == 1:
        return np.reshape(np.sum(gs * sol, axis=0), np.shape(mean))
    inv = np.linalg.inv(cov)
    out = 0.5 * (np.einsum("n,ni,nj->ij", gs[:, 0], sol, sol) - np.sum(gs) * inv)
    if cov_ndim == 0:
        return np.trace(out)
    return np.diagonal(out).copy() if cov_ndim == 1 else out


def index_concatenate_adjoint(g, kind, which, *items):
    """Gradient of np.r_[a, b, ...] (kind 'r': joined along the first axis, scalars
    count as length 1) or np.c_[a, b, ...] (kind 'c': vectors become columns, joined
    along the last axis) with respect to item ``which``."""
    shapes = [np.shape(x) for x in items if x is not None]
    if kind == "r":
        sizes = [s[0] if len(s) else 1 for s in shapes]
        start = sum(sizes[:which])
        return np.array(np.reshape(g[start:start + sizes[which]], shapes[which]))
    sizes = [s[-1] if len(s) >= 2 else 1 for s in shapes]
    start = sum(sizes[:which])
    return np.array(np.reshape(g[..., start:start + sizes[which]], shapes[which]))


def gradient_adjoint(g, f, spacing=(), axis=None, edge_order=1):
    """Gradient of np.gradient (linear in f): apply the transposed difference stencil
    along each axis.  ``g`` is one array (1-D f or one axis) or the list of the
    per-axis gradients."""
    f = np.asarray(f)
    axes = list(range(f.ndim)) if axis is None else (
        [axis % f.ndim] if np.ndim(axis) == 0 else [a % f.ndim for a in axis])
    gs = [g] if len(axes) == 1 else list(g)
    spacing = list(spacing)
    if len(spacing) == 1 and len(axes) > 1:
        spacing = spacing * len(axes)
    out = np.zeros(f.shape)
    for k, (ax, gk) in enumerate(zip(axes, gs)):
        n = f.shape[ax]
        h = spacing[k:k + 1] if spacing else []
        stencil = np.gradient(np.eye(n), *h, axis=0, edge_order=edge_order)   # y = D @ f
        gk = np.broadcast_to(gk, f.shape)
        out = out + np.moveaxis(np.tensordot(stencil, np.moveaxis(gk, ax, 0), (0, 0)), 0, ax)
    return out


def linspace_adjoint(g, start, stop, num=50, endpoint=True, axis=0, which=0):
    """Gradient of np.linspace with respect to start (which=0) or stop (which=1)."""
    div = (num - 1) if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    g = np.moveaxis(np.asarray(g, dtype=float), axis, 0)
    w = t if which else 1.0 - t
    out = np.tensordot(w, g, (0, 0))
    return unbroadcast(out, start if which == 0 else stop)


def rollaxis_adjoint(g, a, axis, start=0):
    """Gradient of np.rollaxis: move the axis back."""
    nd = np.ndim(a)
    order = list(range(nd))
    axis = axis % nd
    start = start % (nd + 1) if start < 0 else start
    moved = order.pop(axis)
    order.insert(start if start <= axis else start - 1, moved)
    return np.array(np.transpose(g, np.argsort(order)))


def partition_adjoint(g, a, kth, axis=-1):
    """Gradient of np.partition: each entry's gradient follows it back."""
    if axis is None:
        return np.reshape(partition_adjoint(g, np.ravel(a), kth, 0), np.shape(a))
    perm = np.argpartition(a, kth, axis=axis)
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    np.put_along_axis(out, perm, g, axis=axis)
    return out


def multi_dot_adjoint(g, arrays):
    """Gradient of np.linalg.multi_dot with respect to each array."""
    mats = [np.atleast_2d(x) if np.ndim(x) == 2 else x for x in arrays]
    if np.ndim(mats[0]) == 1:
        mats[0] = mats[0][None, :]
    if np.ndim(mats[-1]) == 1:
        mats[-1] = mats[-1][:, None]
    g2 = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    out = []
    for i in range(len(mats)):
        left = np.eye(mats[0].shape[0])
        for m in mats[:i]:
            left = left @ m
        right = np.eye(mats[-1].shape[1])
        for m in reversed(mats[i + 1:]):
            right = m @ right
        out.append(np.reshape(left.T @ g2 @ right.T, np.shape(arrays[i])))
    return GradientList(out)


def matrix_power_adjoint(g, a, n):
    """Gradient of np.linalg.matrix_power(a, n) for an integer n >= 0 (n < 0 via inv)."""
    if n < 0:
        inv = np.linalg.inv(a)
        gi = matrix_power_adjoint(g, inv, -n)
        return -np.matmul(np.matmul(mT(inv), gi), mT(inv))
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(1, n):
        powers.append(np.matmul(powers[-1], a))
    out = np.zeros(np.shape(a))
    for k in range(n):
        out = out + np.matmul(np.matmul(mT(powers[k]), g), mT(powers[n - 1 - k]))
    return out


def written_part(g, index):
    """``g[index]`` for the adjoint of a write ``y[index] = v``: where an advanced index
    names one element several times, y keeps only the last value written (NumPy's
    assignment order), so the earlier occurrences get a zero gradient."""
    if isinstance(g, (dict, list, tuple)):
        # a container's item (d[key] = v): written once, a gradient of its own
        part = g[index]
        if isinstance(part, (np.ndarray, float, np.floating)):
            return np.array(part, dtype=np.result_type(part, np.float64))
        return part
    part = np.array(g[index], dtype=np.result_type(g, np.float64))
    basic = (int, np.integer, slice, type(None), type(Ellipsis))
    if isinstance(index, basic) or (isinstance(index, tuple)
                                    and all(isinstance(i, basic) for i in index)):
        return part                     # basic indexing names each element once
    ids = np.arange(part.size).reshape(part.shape)
    owner = np.full(np.shape(g), -1)
    owner[index] = ids
    part[owner[index] != ids] = 0.0
    return part


class _Absent:
    """What ``item_before_write`` saves for a dict key the write adds."""

    def __repr__(self):
        return "ABSENT"


ABSENT = _Absent()


def item_before_write(container, key):
    """A copy of ``container[key]`` saved before a write replaces it (for the backward
    pass); ``ABSENT`` when a dict has no such key yet: the write adds it, and the
    restore takes it out again (``forget_absent``)."""
    if isinstance(container, dict) and key not in container:
        return ABSENT
    if is_object(container):
        # an attribute (objects.py): None when the write adds it
        value = getattr(container, key, None)
        return value.copy() if isinstance(value, np.ndarray) else value
    item = container[key]
    if isinstance(item, (list, dict)):
        import copy
        return copy.deepcopy(item)
    if isinstance(item, tuple) or not isinstance(item, np.ndarray):
        return item             # immutable (a float, an int, a tuple of arrays)
    return np.copy(item)


def forget_absent(container, key):
    """After ``d[k] = <saved>`` restored a key the write had added: remove it."""
    if isinstance(container, dict) and container.get(key, None) is ABSENT:
        del container[key]


def add_at(a, indices, b):
    """``np.add.at(a, indices, b)`` on a copy of ``a`` (repeated indices add up): what
    the trace computes for that in-place call, as ``a[...] = add_at(a, indices, b)``."""
    out = np.array(a, copy=True)
    np.add.at(out, indices, b)
    return out


def subtract_at(a, indices, b):
    """``np.subtract.at(a, indices, b)`` on a copy of ``a`` (see add_at)."""
    out = np.array(a, copy=True)
    np.subtract.at(out, indices, b)
    return out


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


def _interp_segments(x, xp):
    xp = np.asarray(xp)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    inside = (np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1])
    return j, inside


def interp_slope(x, xp, fp):
    """d np.interp(x, xp, fp) / dx: the slope of the segment holding x (0 outside)."""
    j, inside = _interp_segments(x, xp)
    xp, fp = np.asarray(xp), np.asarray(fp)
    return np.where(inside, (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]), 0.0)


def interp_fp_adjoint(g, x, xp, fp, left=None, right=None):
    """Gradient of np.interp with respect to the values fp (linear weights; the end
    values for points outside [xp[0], xp[-1]] unless ``left`` / ``right`` replace them)."""
    x = np.asarray(x, dtype=float)
    xp = np.asarray(xp, dtype=float)
    j, inside = _interp_segments(x, xp)
    t = np.clip((x - xp[j]) / (xp[j + 1] - xp[j]), 0.0, 1.0)
    g = np.broadcast_to(g, x.shape)
    if left is not None:
        g = np.where(x < xp[0], 0.0, g)
    if right is not None:
        g = np.where(x > xp[-1], 0.0, g)
    out = np.zeros(np.shape(fp))
    np.add.at(out, j, g * (1.0 - t))
    np.add.at(out, j + 1, g * t)
    return out


def svd_adjoint(g, a, result, full_matrices=True):
    """Gradient of u, s, vh = np.linalg.svd(a) (distinct nonzero singular values); ``g`` is
    (gu, gs, gvh), any of them possibly zero.  Full matrices only for square ``a``."""
    u, s, vh = result
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    k = min(m, n)
    if full_matrices and m != n:
        raise ValueError("s2sgrad: the gradient of np.linalg.svd(a) with u and vh needs "
                         "full_matrices=False for a non-square matrix")
    gu, gs, gvh = (np.broadcast_to(gi, np.shape(r)) for gi, r in zip(g, result))
    v, gv = mT(vh), mT(gvh)
    eye = np.eye(k)
    s_row, s_col = s[..., None, :], s[..., :, None]
    f = 1.0 / (s_row ** 2 - s_col ** 2 + eye)         # 1 / (s_j^2 - s_i^2) off the diagonal
    f = f - eye
    utgu = np.matmul(mT(u), gu)
    vtgv = np.matmul(mT(v), gv)
    inner = (f * (utgu - mT(utgu))) * s_row + eye * gs[..., :, None] \
        + s_col * (f * (vtgv - mT(vtgv)))
    out = np.matmul(np.matmul(u, inner), vh)
    if m > n:
        out = out + np.matmul(np.eye(m) - np.matmul(u, mT(u)), gu / s_row) @ vh
    elif m < n:
        out = out + np.matmul(u, mT(gv / s_row) @ (np.eye(n) - np.matmul(v, vh)))
    return out


def qr_adjoint(g, a, result):
    """Gradient of q, r = np.linalg.qr(a) (reduced, m >= n, full rank); ``g`` is
    (gq, gr), either possibly zero."""
    q, r = result
    gq, gr = (np.broadcast_to(gi, np.shape(x)) for gi, x in zip(g, result))
    if np.shape(a)[-2] < np.shape(a)[-1]:
        raise ValueError("s2sgrad: the gradient of np.linalg.qr needs a matrix with at "
                         "least as many rows as columns")
    m = np.matmul(r, mT(gr)) - np.matmul(mT(gq), q)
    m = np.tril(m) + mT(np.tril(m, -1))             # copy the lower triangle up
    b = gq + np.matmul(q, m)
    return mT(np.linalg.solve(r, mT(b)))             # b @ inv(r).T


def meshgrid_adjoint(g, which, indexing, *xs):
    """Gradient of np.meshgrid(*xs, indexing=...) with respect to xs[which]."""
    xs = [x for x in xs if x is not None]
    nd = len(xs)
    gk = np.asarray(g[which], dtype=float)
    axis = which
    if indexing == "xy" and nd >= 2 and which < 2:
        axis = 1 - which
    out = np.sum(gk, axis=tuple(i for i in range(nd) if i != axis))
    return np.reshape(out, np.shape(xs[which]))


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


def polyval_adjoint(g, p, x, which):
    """Gradient of np.polyval(p, x) with respect to the coefficients p (which=0) or x."""
    p = np.asarray(p, dtype=float)
    if which == 1:
        return g * np.polyval(np.polyder(p), x) if len(p) > 1 else np.zeros(np.shape(x))
    n = len(p)
    powers = np.power.outer(np.asarray(x, dtype=float), np.arange(n - 1, -1, -1))
    return np.reshape(np.tensordot(np.broadcast_to(g, np.shape(x)), powers, np.ndim(x)), p.shape)


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


def outer_adjoint(g, a, b, op, which):
    """Gradient of np.<op>.outer(a, b) (op: add, subtract, multiply, divide) with
    respect to a (which=0) or b (which=1)."""
    na, nb = np.ndim(a), np.ndim(b)
    a_ = np.reshape(a, np.shape(a) + (1,) * nb)
    lead, trail = tuple(range(na)), tuple(range(na, na + nb))
    if op == "add" or (op == "subtract" and which == 0):
        local = g
    elif op == "subtract":
        local = -g
    elif op == "multiply":
        local = g * (b if which == 0 else a_)
    elif op == "divide":
        local = g / b if which == 0 else -g * a_ / (b * b)
    else:
        raise ValueError("s2sgrad: no gradient for np.%s.outer" % op)
    return np.sum(local, axis=trail) if which == 0 else np.sum(local, axis=lead)


def astype_adjoint(g, dtype):
    """Gradient of x.astype(dtype): passed through for float and complex types, zero
    for integer and boolean casts (piecewise constant)."""
    if np.dtype(dtype).kind in "fc":
        return np.array(g)          # a private copy: callers may add into it in place
    return np.zeros(np.shape(g))


# -- copies of input entries (pad modes, resize, delete, compress, ...) and cumulative
#    extrema: the result gathers input entries, so the gradient scatters back ------------
__all__ += ["source_index", "gather_source", "scatter_source", "accumulate_source",
            "diff_adjoint"]


def source_index(like):
    """The flat position of every entry of ``like``, shaped like it.  Running a copying
    operation (np.pad(mode='edge'), np.resize, np.delete, ...) on it tells where each
    entry of the result came from; -1 marks an entry that came from elsewhere."""
    return np.reshape(np.arange(np.size(like)), np.shape(like))


def gather_source(x, source):
    """``x.flat[source]`` with 0 where ``source`` is -1 (the adjoint of scatter_source)."""
    source = np.asarray(source)
    taken = np.take(np.ravel(x), np.maximum(source, 0))
    return np.where(source >= 0, taken, 0.0)


def scatter_source(g, like, source):
    """Gradient of an operation whose result entry k is ``like.flat[source[k]]`` (no
    entry where source is -1): each entry's gradient goes back to the entry it copies,
    summed over the copies."""
    source = np.asarray(source)
    kept = source >= 0
    out = np.zeros(np.size(like), dtype=np.result_type(g, float))
    np.add.at(out, source[kept], np.broadcast_to(g, np.shape(source))[kept])
    return np.reshape(out, np.shape(like))


def accumulate_source(result, axis=0):
    """Where each entry of np.maximum.accumulate / np.minimum.accumulate (``result``)
    came from along ``axis``: the index of the entry that set the running record.  A tie
    with the record does not replace it (the earliest entry keeps the gradient)."""
    r = np.moveaxis(np.asarray(result), 0 if axis is None else axis, -1)
    new = np.ones(np.shape(r), dtype=bool)
    new[..., 1:] = r[..., 1:] != r[..., :-1]        # a strictly better entry arrived
    start = np.where(new, np.arange(np.shape(r)[-1]), 0)
    return np.moveaxis(np.maximum.accumulate(start, axis=-1), -1, 0 if axis is None else axis)


def diff_adjoint(g, n=1, axis=-1):
    """Gradient of np.diff(a, n, axis): the transposed difference applied n times."""
    for _ in range(n):
        moved = np.moveaxis(np.asarray(g, dtype=np.result_type(g, float)), axis, -1)
        out = np.zeros(np.shape(moved)[:-1] + (np.shape(moved)[-1] + 1,), dtype=moved.dtype)
        out[..., :-1] -= moved
        out[..., 1:] += moved
        g = np.moveaxis(out, -1, axis)
    return g


__all__ += ["convolve_window"]


def convolve_window(a, v, shape, correlate=False):
    """The ``shape``-sized window of the full convolution (or correlation) of ``a`` and
    ``v`` that convolve_adjoint reads: the transpose of convolve_adjoint in its
    gradient argument (second derivatives of convolutions)."""
    a, v = np.asarray(a, dtype=float), np.asarray(v, dtype=float)
    full = tuple(n + m - 1 for n, m in zip(np.shape(a), np.shape(v)))
    starts = _window_starts(full, shape, a, v, correlate)
    if not correlate:
        v = np.flip(v)
    padded = np.pad(a, [(m - 1, m - 1) for m in np.shape(v)])
    out = _correlate_valid(padded, v)
    return np.array(out[tuple(slice(s, s + n) for s, n in zip(starts, shape))])


__all__ += ["choose_adjoint", "block_adjoint", "cov_cross"]


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


def choose_adjoint(g, a, choices, mode="raise"):
    """Gradient of np.choose(a, choices, mode=mode) with respect to the choices (a list
    of gradients, or an array for an array of choices): each entry's gradient goes to
    the choice it was taken from, summed back to that choice's shape."""
    n = len(choices)
    picked = np.broadcast_to(np.choose(a, np.arange(n), mode=mode), np.shape(g))
    parts = [unbroadcast(np.where(picked == k, g, 0.0), choices[k]) for k in range(n)]
    if isinstance(choices, np.ndarray):
        return np.stack([np.broadcast_to(p, np.shape(choices)[1:]) for p in parts])
    return GradientList(parts)


def _leaves(arrays):
    if isinstance(arrays, list):
        return [leaf for item in arrays for leaf in _leaves(item)]
    return [arrays]


def _nested_like(arrays, leaves):
    if isinstance(arrays, list):
        return GradientList(_nested_like(item, leaves) for item in arrays)
    return leaves.pop(0)


def _plain_lists(nested):
    """``nested`` with its lists as plain ``list`` (NumPy < 2 nests np.block only in
    lists of exactly that type; a GradientList would be read as one ragged array)."""
    if isinstance(nested, list):
        return [_plain_lists(item) for item in nested]
    return nested


def block_adjoint(g, arrays):
    """Gradient of np.block(arrays) (nested lists of arrays): np.block run on each
    leaf's positions (offset per leaf) says which entries of the result each leaf
    became; the gradient has the nesting of ``arrays``."""
    leaves = _leaves(arrays)
    starts = np.cumsum([0] + [np.size(x) for x in leaves])
    positions = _nested_like(arrays, [source_index(x) + s for x, s in zip(leaves, starts)])
    source = np.block(_plain_lists(positions))
    parts = [scatter_source(g, x, np.where((source >= s) & (source < s + np.size(x)),
                                           source - s, -1))
             for x, s in zip(leaves, starts)]
    return _nested_like(arrays, parts)


__all__ += ["bessel_i1"]


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


__all__ += ["histogram_edges_adjoint", "histogram_edges_tangent", "histogram_weights_adjoint"]


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


__all__ += ["lstsq_gram", "lstsq_residual_gradient", "lstsq_residual_weights",
            "lstsq_tangent", "svd_values_tangent", "svd_values_curvature"]


def lstsq_gram(a, rank):
    """``a.T @ a`` for the gradient of np.linalg.lstsq(a, b), which needs full column
    rank (m >= n and rank n: then the solution is unique)."""
    m, n = np.shape(a)
    if rank != n:
        raise ValueError("s2sgrad: the gradient of np.linalg.lstsq needs a of full column "
                         "rank (a is %d x %d of rank %d)" % (m, n, rank))
    return np.matmul(mT(a), a)


def lstsq_residual_gradient(g, r):
    """Gradient with respect to the residual vectors ``r`` of the residuals (squared norms
    per column) np.linalg.lstsq returns; none when it returned none (an empty array)."""
    if np.size(g) == 0:
        return np.zeros(np.shape(r))
    return 2.0 * r * (np.reshape(g, ()) if np.ndim(r) == 1 else g)


def lstsq_residual_weights(g, r, like):
    """The adjoint of lstsq_residual_gradient(like, r) in its first argument: 2 <g, r>
    per column, shaped like ``like`` (the residuals; empty when lstsq returned none)."""
    if np.size(like) == 0:
        return np.zeros(np.shape(like))
    return np.reshape(2.0 * np.sum(g * r, axis=0), np.shape(like))


def lstsq_tangent(ta, tb, a, b, result):
    """Tangent of (x, residuals, rank, s) = np.linalg.lstsq(a, b) (full column rank) for
    tangents ``ta`` of a and ``tb`` of b (0.0 for none): a GradientList, so the terms of
    a and b add item by item."""
    x, residuals, rank, _ = result
    ta = np.zeros(np.shape(a)) if np.ndim(ta) == 0 else ta
    tb = np.zeros(np.shape(b)) if np.ndim(tb) == 0 else tb
    r = b - np.matmul(a, x)
    moved = tb - np.matmul(ta, x)                 # how b - a x moves at fixed x
    dx = np.linalg.solve(lstsq_gram(a, rank), np.matmul(mT(ta), r) + np.matmul(mT(a), moved))
    if np.size(residuals) == 0:
        dres = np.zeros(np.shape(residuals))
    else:
        dres = np.reshape(2.0 * np.sum(r * moved, axis=0), np.shape(residuals))
    return GradientList([dx, dres, 0.0, svd_values_tangent(ta, a)])


def svd_values_tangent(t, a):
    """Tangent of the singular values of ``a`` for a tangent ``t`` of a: u_i^T t v_i
    (distinct singular values); also the adjoint of svd_values_adjoint in its g."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    if np.iscomplexobj(a):          # Re(u_i^H t v_i), v = vh^H
        return np.real(np.sum(np.conj(u) * np.matmul(t, np.conj(mT(vt))), axis=-2))
    return np.sum(u * np.matmul(t, mT(vt)), axis=-2)


def svd_values_curvature(g, a):
    """The second-order part of svd_values_adjoint(g, a) (how it moves with a): zero when
    g is zero (the singular values went unused, as in most np.linalg.lstsq calls); it
    needs the singular vectors' derivative otherwise, which s2sgrad does not have."""
    if np.any(g != 0):
        raise NotImplementedError("s2sgrad: second derivatives of singular values are not "
                                  "supported")
    return np.zeros(np.shape(a))


__all__ += ["prod_curvature", "cumprod_tangent", "cumprod_curvature"]


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


# -- SciPy helpers: multivariate normal entropy, Cholesky and LU solves ----------------------
__all__ += ["mvn_entropy_adjoint", "mvn_entropy_curvature", "cho_solve_adjoint",
            "cho_factor_tangent", "cho_solve_tangent", "lu_permutation", "lu_solve_adjoint",
            "lu_factor_adjoint", "lu_factor_tangent", "lu_solve_tangent",
            "mvn_logpdf_curvature", "cholesky_adjoint_vjp", "cho_solve_adjoint_vjp",
            "cho_solve_adjoint_tangent", "lu_solve_adjoint_tangent", "lu_factor_adjoint_tangent"]


def mvn_entropy_adjoint(g, mean, cov):
    """Gradient of scipy.stats.multivariate_normal.entropy(mean, cov) (half the
    log-determinant of 2 pi e cov) with respect to cov: ``0.5 g inv(cov).T`` for a
    matrix, ``0.5 g / cov`` for a diagonal given as a vector, ``0.5 g d / cov`` for one
    variance (``d`` the dimension, the size of ``mean``)."""
    cov = np.asarray(cov, dtype=float)
    if cov.ndim == 2:
        return 0.5 * g * mT(np.linalg.inv(cov))
    if cov.ndim == 1:
        return 0.5 * g / cov
    dim = 1 if mean is None else np.size(mean)
    return 0.5 * g * dim / cov


def mvn_entropy_curvature(w, g, mean, cov):
    """How ``<w, mvn_entropy_adjoint(g, mean, cov)>`` moves with cov (second derivatives
    of the entropy): ``-0.5 g inv(cov).T w.T inv(cov).T`` for a matrix."""
    cov = np.asarray(cov, dtype=float)
    if cov.ndim == 2:
        inv_t = mT(np.linalg.inv(cov))
        return -0.5 * g * np.matmul(np.matmul(inv_t, mT(w)), inv_t)
    dim = 1 if cov.ndim == 1 or mean is None else np.size(mean)
    return -0.5 * g * dim * w / (cov * cov)


def cho_solve_adjoint(gb, x, c_and_lower):
    """Gradient of scipy.linalg.cho_solve((c, lower), b) with respect to ``(c, lower)``,
    given ``gb = cho_solve((c, lower), g)`` and the solution ``x``: the factor's
    triangle gets ``sym @ L`` (lower, a = L L.T) or ``U @ sym`` (upper, a = U.T U), with
    ``sym`` the symmetrized gradient with respect to a; the flag gets none."""
    c, lower = c_and_lower
    ga = solve_adjoint_a(gb, x)
    sym = ga + mT(ga)
    if lower:
        return GradientList([np.tril(np.matmul(sym, np.tril(c))), 0.0])
    return GradientList([np.triu(np.matmul(np.triu(c), sym)), 0.0])


def lu_permutation(piv):
    """The row order of LAPACK's pivots (scipy.linalg.lu_factor): row i was swapped with
    row piv[i], in turn, so ``a[perm] == L @ U``."""
    perm = np.arange(len(piv))
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


def _lu_parts(lu):
    """The unit lower factor L and the upper factor U packed in lu_factor's matrix."""
    if np.ndim(lu) != 2 or lu.shape[0] != lu.shape[1]:
        raise ValueError("s2sgrad: scipy.linalg.lu_factor / lu_solve are differentiated "
                         "for a square matrix only")
    return np.tril(lu, -1) + np.eye(lu.shape[0]), np.triu(lu)


def lu_solve_adjoint(gb, x, lu_and_piv, trans=0):
    """Gradient of scipy.linalg.lu_solve((lu, piv), b, trans) with respect to
    ``(lu, piv)``, given ``gb`` (b's gradient) and the solution ``x``: with ``ga`` the
    gradient with respect to a = P L U, L's strict lower triangle gets
    ``(P.T ga) U.T`` and U's triangle ``L.T (P.T ga)``; the pivots get none."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    ga = solve_adjoint_a(gb, x)
    if trans not in (0, "N"):
        ga = mT(ga)                    # x solves a.T x = b
    pga = ga[lu_permutation(piv)]
    return GradientList([np.tril(np.matmul(pga, mT(up)), -1)
                         + np.triu(np.matmul(mT(low), pga)), 0.0])


def lu_factor_adjoint(g, lu_and_piv):
    """Gradient of scipy.linalg.lu_factor(a) with respect to a, given ``g``, the gradient
    of the packed ``lu`` matrix: ``P L^-T (tril(L.T g, -1) + triu(g U.T)) U^-T``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    g = np.broadcast_to(g, lu.shape)
    inner = np.tril(np.matmul(mT(low), g), -1) + np.triu(np.matmul(g, mT(up)))
    ga = mT(np.linalg.solve(up, mT(np.linalg.solve(mT(low), inner))))
    out = np.empty_like(ga)
    out[lu_permutation(piv)] = ga
    return out


def _factor_tangent(t):
    """The tangent of the factor in a (factor, flag) pair: the first item of a list
    tangent, None for no tangent (a plain zero)."""
    if isinstance(t, (list, tuple)):
        t = t[0]
    return None if np.ndim(t) == 0 else np.asarray(t)


def cho_factor_tangent(ta, c_and_lower):
    """Tangent of scipy.linalg.cho_factor(a) for a tangent ``ta`` of a (taken as
    symmetric, like the gradient): ``dL = L Phi(L^-1 S L^-T)``, Phi the lower triangle
    with half the diagonal; upper factors are transposed; the other triangle of c holds
    a's entries and moves with them.  A GradientList (c, flag)."""
    c, lower = c_and_lower
    low = np.tril(c) if lower else mT(np.triu(c))
    sym = 0.5 * (ta + mT(ta))
    inner = np.linalg.solve(low, mT(np.linalg.solve(low, sym)))
    phi = np.tril(inner) - 0.5 * np.diag(np.diagonal(inner))
    dlow = np.matmul(low, phi)
    if lower:                          # the other triangle holds a's own entries
        return GradientList([dlow + np.triu(ta, 1), 0.0])
    return GradientList([mT(dlow) + np.tril(ta, -1), 0.0])


def cho_solve_tangent(tc, tb, c_and_lower, x):
    """Tangent of x = scipy.linalg.cho_solve((c, lower), b) for tangents ``tc`` of the
    factor pair and ``tb`` of b (0.0 for none): ``a^-1 (db - da x)``."""
    c, lower = c_and_lower
    low = np.tril(c) if lower else mT(np.triu(c))
    a = np.matmul(low, mT(low))
    moved = np.zeros(np.shape(x)) if np.ndim(tb) == 0 else tb
    dc = _factor_tangent(tc)
    if dc is not None:
        dlow = np.tril(dc) if lower else mT(np.triu(dc))
        da = np.matmul(dlow, mT(low)) + np.matmul(low, mT(dlow))
        moved = moved - np.matmul(da, x)
    return np.linalg.solve(a, moved)


def lu_factor_tangent(ta, lu_and_piv):
    """Tangent of scipy.linalg.lu_factor(a) for a tangent ``ta`` of a: with
    ``F = L^-1 P.T da U^-1``, ``dL = L tril(F, -1)`` and ``dU = triu(F) U``, packed like
    lu.  A GradientList (lu, pivots)."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    moved = np.broadcast_to(ta, lu.shape)[lu_permutation(piv)]
    f = mT(np.linalg.solve(mT(up), mT(np.linalg.solve(low, moved))))
    return GradientList([np.matmul(low, np.tril(f, -1)) + np.matmul(np.triu(f), up), 0.0])


def lu_solve_tangent(tlu, tb, lu_and_piv, x, trans=0):
    """Tangent of x = scipy.linalg.lu_solve((lu, piv), b, trans) for tangents ``tlu`` of
    the factor pair and ``tb`` of b (0.0 for none): ``a^-1 (db - da x)``, with a.T for
    trans=1 / 2 and ``da = P (dL U + L dU)``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    perm = lu_permutation(piv)
    a = np.empty(lu.shape)
    a[perm] = np.matmul(low, up)
    moved = np.zeros(np.shape(x)) if np.ndim(tb) == 0 else tb
    dlu = _factor_tangent(tlu)
    if dlu is not None:
        da = np.empty(lu.shape)
        da[perm] = np.matmul(np.tril(dlu, -1), up) + np.matmul(low, np.triu(dlu))
        if trans not in (0, "N"):
            a, da = mT(a), mT(da)
        moved = moved - np.matmul(da, x)
    elif trans not in (0, "N"):
        a = mT(a)
    return np.linalg.solve(a, moved)


def mvn_logpdf_curvature(w, g, x, mean, cov, which, wrt):
    """How ``<w, mvn_logpdf_adjoint(g, x, mean, cov, which)>`` moves with g (wrt=0),
    x (1), mean (2) or cov (3): second derivatives of the multivariate normal
    log-density.  With ``s_n = cov^-1 (x_n - mean)`` that inner product is
    ``sum_n g_n v_n . s_n`` for which=0 (``v_n = -w_n``) and which=1 (``v_n = w``), and
    ``0.5 sum_n g_n s_n.T W s_n - 0.5 sum(g) <W, cov^-1>`` for which=2 (``W`` is w
    as a matrix: ``w I`` for one variance, ``diag(w)`` for a vector of them)."""
    x = np.asarray(x, dtype=float)
    cov = np.asarray(cov, dtype=float)
    d = mvn_dimension(mean, cov)
    full = cov * np.eye(d) if cov.ndim == 0 else np.diag(cov) if cov.ndim == 1 else cov
    inv = np.linalg.inv(full)
    s = np.matmul(np.reshape(x - (0.0 if mean is None else mean), (-1, d)), inv)   # (n, d)
    gs = np.reshape(g, (-1,))
    if which in (0, 1):
        v = -np.reshape(w, (-1, d)) if which == 0 else np.broadcast_to(
            np.reshape(w, (1, d)), s.shape)
        v_inv = np.matmul(v, inv)
        dg = np.sum(v * s, axis=1)
        dr = gs[:, None] * v_inv
        dcov = -np.einsum("n,ni,nj->ij", gs, v_inv, s)
    else:
        w = np.asarray(w, dtype=float)
        wm = w * np.eye(d) if w.ndim == 0 else np.diag(w) if w.ndim == 1 else w
        dg = 0.5 * np.einsum("ni,ij,nj->n", s, wm, s) - 0.5 * np.sum(wm * inv)
        dr = 0.5 * gs[:, None] * np.matmul(np.matmul(s, wm + mT(wm)), inv)
        dcov = (-0.5 * (np.einsum("n,ni,nj->ij", gs, s, np.matmul(s, np.matmul(mT(wm), inv)))
                        + np.einsum("n,ni,nj->ij", gs, np.matmul(s, np.matmul(wm, inv)), s))
                + 0.5 * np.sum(gs) * np.matmul(np.matmul(inv, wm), inv))
    if wrt == 0:
        return np.reshape(dg, np.shape(g))
    if wrt == 1:
        return np.reshape(dr, x.shape)
    if wrt == 2:
        return np.reshape(-np.sum(dr, axis=0), np.shape(mean))
    if cov.ndim == 0:
        return np.trace(dcov)
    return np.diagonal(dcov).copy() if cov.ndim == 1 else dcov


def _half_diagonal_tril(p):
    """The lower triangle of p with half its diagonal (Phi of the Cholesky adjoint; it
    is its own adjoint)."""
    low = np.tril(p)
    return low - 0.5 * np.eye(p.shape[-1]) * low


def cholesky_adjoint_vjp(w, g, L, wrt):
    """The gradient of ``<w, cholesky_adjoint(g, L)>`` with respect to g (wrt=0) or L
    (wrt=1): second derivatives of the Cholesky factorization.  With ``M = L^-1``,
    ``phi = Phi(L.T g)`` and ``ws`` the symmetric part of w, the adjoint is
    ``sym(M.T phi M)``, so g gets ``L Phi(M ws M.T)`` and L gets
    ``g Phi(M ws M.T).T - M.T (phi + phi.T) M ws M.T``."""
    inv = np.linalg.inv(L)
    ws = 0.5 * (w + mT(w))
    inner = np.matmul(np.matmul(inv, ws), mT(inv))
    cp = _half_diagonal_tril(inner)
    if wrt == 0:
        return np.matmul(L, cp)
    phi = _half_diagonal_tril(np.matmul(mT(L), g))
    through_inverse = np.matmul(np.matmul(mT(inv), phi + mT(phi)), inner)
    return np.matmul(g, mT(cp)) - through_inverse


def cho_solve_adjoint_vjp(w, gb, x, c_and_lower, wrt):
    """The gradient of ``<w[0], cho_solve_adjoint(gb, x, (c, lower))[0]>`` with respect to
    gb (wrt=0), x (1) or the factor pair (2, a GradientList): the factor's gradient is
    ``tril(sym @ L)`` (or ``triu(U @ sym)``) with ``sym = ga + ga.T``, ``ga = -gb x.T``."""
    c, lower = c_and_lower
    w0 = w[0] if isinstance(w, (list, tuple)) else w
    ga = solve_adjoint_a(gb, x)
    if lower:
        tri = np.tril(w0)
        cot_sym = np.matmul(tri, mT(np.tril(c)))
    else:
        tri = np.triu(w0)
        cot_sym = np.matmul(mT(np.triu(c)), tri)
    cot_ga = cot_sym + mT(cot_sym)
    if wrt == 0:
        return -np.matmul(cot_ga, x)
    if wrt == 1:
        return -np.matmul(mT(cot_ga), gb)
    sym = ga + mT(ga)
    if lower:
        return GradientList([np.tril(np.matmul(sym, tri)), 0.0])
    return GradientList([np.triu(np.matmul(tri, sym)), 0.0])


def cho_solve_adjoint_tangent(tgb, tx, tc, gb, x, c_and_lower):
    """Tangent of ``cho_solve_adjoint(gb, x, (c, lower))`` for tangents of gb, x and the
    factor pair (0.0 for none): ``tril(dsym L + sym dL)`` (lower) or
    ``triu(dU sym + U dsym)`` (upper).  A GradientList, like the adjoint."""
    c, lower = c_and_lower
    dc = _factor_tangent(tc)
    tri = np.tril if lower else np.triu
    factor = tri(c)
    ga = solve_adjoint_a(gb, x)
    sym = ga + mT(ga)
    dga = 0.0
    if np.ndim(tgb) != 0:
        dga = dga + solve_adjoint_a(tgb, x)
    if np.ndim(tx) != 0:
        dga = dga + solve_adjoint_a(gb, tx)
    out = np.zeros(np.shape(c))
    if np.ndim(dga) != 0:
        dsym = dga + mT(dga)
        out = out + (np.matmul(dsym, factor) if lower else np.matmul(factor, dsym))
    if dc is not None:
        out = out + (np.matmul(sym, tri(dc)) if lower else np.matmul(tri(dc), sym))
    return GradientList([tri(out), 0.0])


def lu_solve_adjoint_tangent(tgb, tx, tlu, gb, x, lu_and_piv, trans=0):
    """Tangent of ``lu_solve_adjoint(gb, x, (lu, piv), trans)`` for tangents of gb, x and
    the factor pair (0.0 for none): with ``pga`` the permuted gradient with respect to a,
    ``tril(dpga U.T + pga dU.T, -1) + triu(dL.T pga + L.T dpga)``.  A GradientList."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    perm = lu_permutation(piv)
    dlu = _factor_tangent(tlu)
    transposed = trans not in (0, "N")
    dga = 0.0
    if np.ndim(tgb) != 0:
        dga = dga + solve_adjoint_a(tgb, x)
    if np.ndim(tx) != 0:
        dga = dga + solve_adjoint_a(gb, tx)
    out = np.zeros(lu.shape)
    if np.ndim(dga) != 0:
        dpga = (mT(dga) if transposed else dga)[perm]
        out = out + np.tril(np.matmul(dpga, mT(up)), -1) + np.triu(np.matmul(mT(low), dpga))
    if dlu is not None:
        ga = solve_adjoint_a(gb, x)
        pga = (mT(ga) if transposed else ga)[perm]
        out = out + (np.tril(np.matmul(pga, mT(np.triu(dlu))), -1)
                     + np.triu(np.matmul(mT(np.tril(dlu, -1)), pga)))
    return GradientList([out, 0.0])


def lu_factor_adjoint_tangent(tg, tlu, g, lu_and_piv):
    """Tangent of ``lu_factor_adjoint(g, (lu, piv))`` for tangents of g and the factor
    pair (0.0 for none).  With ``X = L^-T M U^-T`` (the adjoint before the row
    permutation): ``dX = L^-T (dM - dL.T X U.T - L.T X dU.T) U^-T``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    g = np.broadcast_to(g, lu.shape)
    dlu = _factor_tangent(tlu)
    dm = np.zeros(lu.shape)
    if np.ndim(tg) != 0:
        tg = np.broadcast_to(tg, lu.shape)
        dm = dm + np.tril(np.matmul(mT(low), tg), -1) + np.triu(np.matmul(tg, mT(up)))
    if dlu is not None:
        dlow, dup = np.tril(dlu, -1), np.triu(dlu)
        inner = np.tril(np.matmul(mT(low), g), -1) + np.triu(np.matmul(g, mT(up)))
        x = mT(np.linalg.solve(up, mT(np.linalg.solve(mT(low), inner))))
        dm = (dm + np.tril(np.matmul(mT(dlow), g), -1) + np.triu(np.matmul(g, mT(dup)))
              - np.matmul(np.matmul(mT(dlow), x), mT(up))
              - np.matmul(np.matmul(mT(low), x), mT(dup)))
    dx = mT(np.linalg.solve(up, mT(np.linalg.solve(mT(low), dm))))
    out = np.empty_like(dx)
    out[lu_permutation(piv)] = dx
    return out


# -- np.cross with axisa/axisb/axisc/axis and 2-component vectors, np.inner of scalars --------
__all__ += ["cross_adjoint"]


def _cross_parts(a, b, axisa, axisb, axisc, axis):
    """a and b with their vector axis last, zero-padded to 3 components, the
    component counts, and the result's vector axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a_ = np.moveaxis(np.asarray(a), axisa, -1)
    b_ = np.moveaxis(np.asarray(b), axisb, -1)
    na, nb = a_.shape[-1], b_.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    pad = lambda x, n: x if n == 3 else np.concatenate(      # noqa: E731
        [x, np.zeros(x.shape[:-1] + (1,), dtype=x.dtype)], -1)
    return a_, b_, pad(a_, na), pad(b_, nb), na, nb, axisa, axisb, axisc


def cross_adjoint(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    """Gradient of np.cross(a, b, axisa, axisb, axisc, axis) with respect to a
    (``which=0``) or b (``which=1``); 2-component vectors are 3-vectors with a zero
    third component (their cross product, the scalar z-component, when both are)."""
    a_, b_, a3, b3, na, nb, axisa, axisb, axisc = _cross_parts(a, b, axisa, axisb, axisc, axis)
    g = np.asarray(g)
    if na == 2 and nb == 2:
        z = np.zeros_like(g)
        g3 = np.stack([z, z, g], -1)
    else:
        g3 = np.moveaxis(g, axisc, -1)
    if which == 0:
        r = np.cross(b3, g3)[..., :na]
        return np.moveaxis(unbroadcast(r, a_), -1, axisa)
    r = np.cross(g3, a3)[..., :nb]
    return np.moveaxis(unbroadcast(r, b_), -1, axisb)


__all__ += ["diff_window_adjoint", "diff_window"]


def _diff_pad_length(pad, axis):
    return 0 if pad is None else (1 if np.ndim(pad) == 0 else np.shape(pad)[axis])


def diff_window_adjoint(g, a, n=1, axis=-1, prepend=None, append=None):
    """Gradient of np.diff(a, n, axis, prepend=..., append=...) with respect to a: the
    difference's adjoint, cut to a's entries of the joined array."""
    full = diff_adjoint(g, n, axis)
    k = _diff_pad_length(prepend, axis)
    return np.take(full, np.arange(k, k + np.shape(a)[axis]), axis)


def diff_window(g, n=1, axis=-1, prepend=None, append=None):
    """The transpose of diff_window_adjoint in g: np.diff of g between zeros shaped
    like the padding."""
    kw = {}
    if prepend is not None:
        kw["prepend"] = np.zeros_like(prepend, dtype=np.result_type(g, float))
    if append is not None:
        kw["append"] = np.zeros_like(append, dtype=np.result_type(g, float))
    return np.diff(g, n, axis, **kw)


# -- scipy.linalg.solve_banded: band storage ab[u + i - j, j] = A[i, j] ----------------------
__all__ += ["banded_transpose", "banded_outer_adjoint"]


def _band_index(l_and_u, ab):
    """Row, column and matrix row of every entry of the band storage, and which of
    them lie inside the matrix (solve_banded ignores the others)."""
    lower, upper = (int(v) for v in l_and_u)
    rows, n = np.shape(ab)[0], np.shape(ab)[1]
    k = np.arange(rows)[:, None]
    j = np.arange(n)[None, :]
    i = j + k - upper
    inside = (i >= 0) & (i < n)
    return lower, upper, np.broadcast_to(k, (rows, n)), np.broadcast_to(j, (rows, n)), i, inside


def banded_transpose(l_and_u, ab):
    """The band storage of A.T (bandwidths (u, l)) from that of A: abT[l + i - j, j] =
    A[j, i] = ab[u + j - i, i]."""
    ab = np.asarray(ab)
    lower, upper = (int(v) for v in l_and_u)
    rows, n = ab.shape[0], ab.shape[1]
    out = np.zeros_like(ab, dtype=np.result_type(ab, float))
    k = np.arange(rows)[:, None]
    j = np.arange(n)[None, :]
    i = j + k - lower                   # row of A.T stored at out[k, j]
    inside = np.broadcast_to((i >= 0) & (i < n), out.shape)
    src_k = np.broadcast_to(upper + j - i, out.shape)
    src_j = np.broadcast_to(i, out.shape)
    out[inside] = ab[src_k[inside], src_j[inside]]
    return out


def banded_outer_adjoint(l_and_u, ab, gb, x):
    """Gradient of solve_banded's band storage: -gb x^T at the stored entries of A (summed
    over right-hand sides), zero at the storage's unused corners."""
    lower, upper, k, j, i, inside = _band_index(l_and_u, ab)
    gb, x = np.asarray(gb), np.asarray(x)
    if gb.ndim == 1:
        gb, x = gb[:, None], x[:, None]
    out = np.zeros(np.shape(ab), dtype=np.result_type(gb, x, float))
    ii = np.where(inside, i, 0)
    prod = np.sum(gb[ii] * x[j], axis=-1)
    out[inside] = -prod[inside]
    return out


__all__ += ["banded_matvec"]


def banded_matvec(l_and_u, ab, x):
    """A @ x for A given in band storage (the unused corners of the storage ignored)."""
    lower, upper, k, j, i, inside = _band_index(l_and_u, ab)
    n = np.shape(ab)[1]
    ab = np.asarray(ab)
    dense = np.zeros((n, n), dtype=np.result_type(ab, float))
    dense[i[inside], j[inside]] = ab[inside]
    return np.matmul(dense, x)


# -- the discrete Fourier transforms (np.fft) -------------------------------------------------
#
# Under the transpose convention of docs/complex.md a linear transform's gradient is its
# transpose (not its conjugate transpose).  The DFT matrix is symmetric, so the gradient
# of fft is fft of the upstream gradient (the same norm), cut or zero-padded back to the
# input's length where n= resized it; rfft, irfft, hfft and ihfft add the half-spectrum's
# embedding and weights.
__all__ += ["fft_adjoint", "fft_apply"]

_SWAP_NORM = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _resize(a, n, axis):
    """``a`` cut or zero-padded to length ``n`` along ``axis`` (what n= does to the input)."""
    a = np.asarray(a)
    m = a.shape[axis]
    if m == n:
        return a
    if m > n:
        return np.take(a, np.arange(n), axis)
    pad = [(0, 0)] * a.ndim
    pad[axis % a.ndim] = (0, n - m)
    return np.pad(a, pad)


def _fft_plan(name, x, n, axes):
    """(steps, axes) of the transform ``name`` on x: the 1-D transforms it is made of, in
    order, each (kind, length n along the axis, axis), as numpy.fft runs them."""
    shape = np.shape(x)
    nd = len(shape)
    if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        axis = -1 if axes is None else axes
        if name in ("irfft", "hfft"):
            length = n if n is not None else 2 * (shape[axis] - 1)
        else:
            length = n if n is not None else shape[axis]
        return [(name, length, axis % nd)]
    if axes is None:
        if name in ("fft2", "ifft2", "rfft2", "irfft2"):
            axes = (-2, -1)
        else:
            axes = tuple(range(-len(n), 0)) if n is not None else tuple(range(-nd, 0))
    axes = [a % nd for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
    if n is None:
        s = [shape[a] for a in axes]
        if name in ("irfftn", "irfft2"):
            s[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        s = list(n)
    base = name.rstrip("n2")
    if base == "fft" or base == "ifft":
        return [(base, length, a) for length, a in zip(s, axes)]
    if base == "rfft":           # rfft along the last axis, then fft along the others
        return [("rfft", s[-1], axes[-1])] + [("fft", length, a)
                                               for length, a in zip(s[:-1], axes[:-1])]
    # irfftn: ifft along the others, then irfft along the last axis
    return [("ifft", length, a) for length, a in zip(s[:-1], axes[:-1])] + [
        ("irfft", s[-1], axes[-1])]


def _half_weights(n, m, axis, ndim):
    """Weights of irfft's half spectrum (length m = n//2 + 1): 1 for the zero frequency
    (and for n/2, n even), 2 for the others, which stand for a conjugate pair."""
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = m
    return w.reshape(shape)


def _step_adjoint(g, kind, length, axis, in_length, norm):
    """The transpose of one 1-D step (input of length in_length along axis)."""
    if kind in ("fft", "ifft"):
        t = np.fft.fft if kind == "fft" else np.fft.ifft
        return _resize(t(g, None, axis, norm), in_length, axis)
    if kind == "rfft":
        full = _resize(g, length, axis)               # the half spectrum, zeros after it
        return _resize(np.fft.fft(full, None, axis, norm), in_length, axis)
    if kind == "irfft":
        m = length // 2 + 1
        half = np.take(np.fft.ifft(g, None, axis, norm), np.arange(m), axis)
        return _resize(half * _half_weights(length, m, axis, np.ndim(g)), in_length, axis)
    if kind == "hfft":                # hfft(a) = irfft(conj(a)) with the norm swapped
        return np.conj(_step_adjoint(g, "irfft", length, axis, in_length, _SWAP_NORM[norm]))
    # ihfft(a) = conj(rfft(a)) with the norm swapped
    return _step_adjoint(np.conj(g), "rfft", length, axis, in_length, _SWAP_NORM[norm])


def fft_adjoint(g, x, name, n=None, axes=None, norm=None):
    """Gradient of ``np.fft.<name>(x, n or s, axis or axes, norm)``: the transposes of its
    1-D steps, last step first; real where x is real."""
    steps = _fft_plan(name, x, n, axes)
    lengths = []                      # the input length of every step
    shape = list(np.shape(x))
    for kind, length, axis in steps:
        lengths.append(shape[axis])
        shape[axis] = length // 2 + 1 if kind in ("rfft", "ihfft") else length
    for (kind, length, axis), in_length in zip(reversed(steps), reversed(lengths)):
        g = _step_adjoint(g, kind, length, axis, in_length, norm)
    if not np.iscomplexobj(x):
        g = np.real(g)
    return g


def fft_apply(g, x, name, n=None, axes=None, norm=None):
    """``np.fft.<name>(g, n or s, axis or axes, norm)``: the transpose of fft_adjoint in g
    (a transform is linear; the transpose of its transpose is itself)."""
    fn = getattr(np.fft, name)
    if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        return fn(g, n, -1 if axes is None else axes, norm)
    return fn(g, n, axes, norm)


__all__ += ["eigh_tangent"]


def eigh_tangent(t, result):
    """Tangent of np.linalg.eigh (a taken as Hermitian, as eigh_adjoint takes it: the
    tangent's Hermitian part moves it): dw = Re diag(V^H dA V), dV = V (F o V^H dA V)
    with F_ij = 1 / (w_j - w_i) off the diagonal (distinct eigenvalues)."""
    w, v = result
    n = w.shape[-1]
    t = np.asarray(t)
    t = 0.5 * (t + _conj(mT(t)))
    inner = np.matmul(np.matmul(_conj(mT(v)), t), v)
    dw = np.real(np.diagonal(inner, 0, -2, -1)).copy()
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = (np.ones((n, n)) - np.eye(n)) / (diff + np.eye(n))
    return GradientList([dw, np.matmul(v, f * inner)])


# -- np.linalg.eig (general matrices; distinct eigenvalues) ------------------------------------
__all__ += ["eig_adjoint", "eig_tangent"]


def _eig_f(w):
    """F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it."""
    n = w.shape[-1]
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    return (np.ones((n, n)) - np.eye(n)) / (diff + np.eye(n))


def eig_adjoint(g, result, a):
    """Gradient of ``w, v = np.linalg.eig(a)`` (distinct eigenvalues; eigenvectors of unit
    norm, as LAPACK returns them; a loss of v must not depend on their phases).  With
    u = v: a_bar = u^-T (diag(gw) + F o (u^T gv) - F o (u^T conj(u) Re(diag(u^T gv)))) u^T,
    real for a real a."""
    w, u = result
    gw, gv = g
    n = w.shape[-1]
    ut = mT(u)
    inner = np.zeros(np.shape(u), dtype=np.result_type(u, complex if np.iscomplexobj(w)
                                                      else float))
    if np.ndim(gw) != 0 or np.any(gw != 0):
        inner = inner + np.broadcast_to(gw, w.shape)[..., None] * np.eye(n)
    if np.ndim(gv) != 0 or np.any(gv != 0):
        f = _eig_f(w)
        utgv = np.matmul(ut, gv)
        inner = inner + f * utgv
        inner = inner - f * np.matmul(np.matmul(ut, np.conj(u)),
                                      np.real(utgv * np.eye(n)))
    out = np.matmul(np.linalg.solve(ut, inner), ut)
    return out if np.iscomplexobj(a) else np.real(out)


def eig_tangent(t, result):
    """Tangent of ``np.linalg.eig`` for a tangent t of a: dw = diag(u^-1 t u); the
    eigenvectors move by u (F o u^-1 t u), minus the part that changes their norm."""
    w, u = result
    inner = np.linalg.solve(u, np.matmul(t, u))
    dw = np.diagonal(inner, 0, -2, -1).copy()
    du = np.matmul(u, _eig_f(w) * inner)
    du = du - u * np.real(np.sum(np.conj(u) * du, axis=-2, keepdims=True))
    return GradientList([dw, du])


# -- derivatives of the regularized incomplete gamma and beta functions in their shape
# parameters (the gamma, chi2, beta and t distribution functions), by term-wise
# differentiated power series: every term of P(a, x) = sum_k x^(a+k) e^-x / Gamma(a+k+1)
# and of I_x(a, b) = sum_k Gamma(a+b+k) / (Gamma(a+k+1) Gamma(b)) x^(a+k) (1-x)^b is
# positive, its logarithmic derivative a sum of digammas; summed to double precision.
__all__ += ["gammainc_da", "betainc_da", "betainc_db", "t_cdf_ddf"]

_lgamma = np.vectorize(math.lgamma, otypes=[float])
_digamma = np.vectorize(digamma, otypes=[float])


def _series_length(limit):
    return int(min(max(limit, 60.0), 200000.0))


def gammainc_da(a, x):
    """d/da of the regularized lower incomplete gamma function P(a, x) (x >= 0, a > 0):
    sum_k t_k (log x - psi(a + k + 1)), t_k = x^(a+k) e^-x / Gamma(a + k + 1)."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    shape = a.shape
    a, x = a.reshape(-1, 1), x.reshape(-1, 1)
    if a.size == 0:
        return np.zeros(shape)
    safe = np.where(x > 0, x, 1.0)
    n = _series_length(np.max(safe) + 15.0 * np.sqrt(np.max(safe)) + 60.0)
    j = np.arange(1, n)[None, :]
    logx = np.log(safe)
    steps = np.concatenate([np.zeros_like(a), logx - np.log(a + j)], axis=1)
    logt = a * logx - safe - _lgamma(a + 1.0) + np.cumsum(steps, axis=1)
    psi = _digamma(a + 1.0) + np.concatenate([np.zeros_like(a), np.cumsum(1.0 / (a + j),
                                                                          axis=1)], axis=1)
    out = np.sum(np.exp(logt) * (logx - psi), axis=1)
    return np.where(x[:, 0] > 0, out, 0.0).reshape(shape)


def _betainc_series(a, b, x):
    """(dI/da, dI/db) of I_x(a, b) from its power series at x (small x: the caller
    reflects x > (a + 1) / (a + b + 2) to 1 - x)."""
    safe = np.clip(x, 1e-300, 1.0 - 1e-16)
    n = _series_length(200.0 + 40.0 * np.max(a + b) + 40.0 / max(1e-3, 1.0 - np.max(safe)))
    k = np.arange(n)[None, :]
    logx, log1mx = np.log(safe), np.log1p(-safe)
    steps = np.concatenate([np.zeros_like(a), logx + np.log(a + b + k[:, :-1])
                            - np.log(a + k[:, :-1] + 1.0)], axis=1)
    logt = (_lgamma(a + b) - _lgamma(a + 1.0) - _lgamma(b) + a * logx + b * log1mx
            + np.cumsum(steps, axis=1))
    psi_ab = _digamma(a + b) + np.concatenate(
        [np.zeros_like(a), np.cumsum(1.0 / (a + b + k[:, :-1]), axis=1)], axis=1)
    psi_a1 = _digamma(a + 1.0) + np.concatenate(
        [np.zeros_like(a), np.cumsum(1.0 / (a + k[:, 1:]), axis=1)], axis=1)
    t = np.exp(logt)
    da = np.sum(t * (psi_ab - psi_a1 + logx), axis=1)
    db = np.sum(t * (psi_ab - _digamma(b) + log1mx), axis=1)
    edge = (x <= 0) | (x >= 1)
    return np.where(edge[:, 0], 0.0, da), np.where(edge[:, 0], 0.0, db)


def _betainc_dab(a, b, x):
    a, b, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                  np.asarray(x, dtype=float))
    shape = a.shape
    a, b, x = a.reshape(-1, 1), b.reshape(-1, 1), x.reshape(-1, 1)
    if a.size == 0:
        return np.zeros(shape), np.zeros(shape)
    flip = x > (a + 1.0) / (a + b + 2.0)          # I_x(a, b) = 1 - I_(1-x)(b, a) there
    da = np.zeros(a.shape[0])
    db = np.zeros(a.shape[0])
    direct = ~flip[:, 0]
    if np.any(direct):
        da[direct], db[direct] = _betainc_series(a[direct], b[direct], x[direct])
    if np.any(~direct):
        fb, fa = _betainc_series(b[~direct], a[~direct], 1.0 - x[~direct])
        da[~direct], db[~direct] = -fa, -fb
    return da.reshape(shape), db.reshape(shape)


def betainc_da(a, b, x):
    """d/da of the regularized incomplete beta function I_x(a, b)."""
    return _betainc_dab(a, b, x)[0]


def betainc_db(a, b, x):
    """d/db of the regularized incomplete beta function I_x(a, b)."""
    return _betainc_dab(a, b, x)[1]


def t_cdf_ddf(z, df):
    """d/d(df) of Student's t distribution function at the standardized point z:
    F = I_w(df/2, 1/2) / 2 for z < 0 (1 minus that for z > 0), w = df / (df + z^2)."""
    z, df = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(df, dtype=float))
    w = df / (df + z * z)
    a = 0.5 * df
    dI = 0.5 * betainc_da(a, 0.5, w)
    log_density = ((a - 1.0) * np.log(w) - 0.5 * np.log1p(-np.where(w < 1, w, 0.0))
                   - (_lgamma(a) + math.lgamma(0.5) - _lgamma(a + 0.5)))
    dw = np.where(w < 1, np.exp(log_density), 0.0) * z * z / (df + z * z) ** 2
    return np.where(z < 0, 0.5, -0.5) * (dI + dw)


# -- Bessel functions in their order: d/dv of jv, yv, kv (Schlaefli's integrals, differentiated
# under the integral sign, by Gauss-Legendre quadrature) and of iv, ive (the power series,
# positive terms); x > 0.
__all__ += ["bessel_dv"]


_GAUSS: dict = {}


def _quad(f, lo, hi, n):
    n = int(n)
    if n not in _GAUSS:
        _GAUSS[n] = np.polynomial.legendre.leggauss(n)
    nodes, weights = _GAUSS[n]
    half = 0.5 * (hi - lo)
    t = lo[..., None] + half[..., None] * (nodes + 1.0)
    return np.sum(weights * f(t), axis=-1) * half


def _tail_end(x, v):
    """An upper limit T past which exp(-x sinh t + |v| t) is below 1e-300."""
    t = np.full(np.shape(x), 10.0)
    for _ in range(4):
        t = np.arcsinh((700.0 + np.abs(v) * t) / x)
    return t + 1.0


def _iv_dv_series(v, x, scaled):
    """d/dv of I_v(x) (times exp(-x) when scaled), v > -1, x > 0."""
    n = _series_length(np.max(x) + 15.0 * np.sqrt(np.max(x)) + 40.0)
    k = np.arange(n)
    v_, x_ = v[..., None], x[..., None]
    logh = np.log(0.5 * x_)
    logt = (v_ + 2 * k) * logh - _lgamma(k + 1.0) - _lgamma(v_ + k + 1.0)
    if scaled:
        logt = logt - x_
    psi = _digamma(v_ + 1.0) + np.concatenate(
        [np.zeros(np.shape(v_)), np.cumsum(1.0 / (v_ + k[1:]), axis=-1)], axis=-1)
    return np.sum(np.exp(logt) * (logh - psi), axis=-1)


def _kv_and_dv(v, x):
    """K_v(x) = int_0^inf exp(-x cosh t) cosh(v t) dt and its v-derivative."""
    end = np.maximum(np.arccosh(np.maximum(1.0, (700.0 + 50.0 * np.abs(v)) / x)), 1.0) + 1.0
    value = _quad(lambda t: np.exp(-x[..., None] * np.cosh(t)) * np.cosh(v[..., None] * t),
                  np.zeros_like(x), end, 400)
    deriv = _quad(lambda t: t * np.exp(-x[..., None] * np.cosh(t)) * np.sinh(v[..., None] * t),
                  np.zeros_like(x), end, 400)
    return value, deriv


def bessel_dv(kind, v, x):
    """d/dv of scipy.special.<kind>(v, x) for kind in jv, yv, iv, ive, kv (x > 0; NaN
    elsewhere, where SciPy's values are not real)."""
    v, x = np.broadcast_arrays(np.asarray(v, dtype=float), np.asarray(x, dtype=float))
    shape = v.shape
    v, x = v.reshape(-1), x.reshape(-1)
    ok = x > 0
    xs = np.where(ok, x, 1.0)
    pi = np.pi
    if kind in ("jv", "yv"):
        n = 64 * int(min(64, 2 + (4 * np.max(xs) + 4 * np.max(np.abs(v))) // 64))
        zero, top = np.zeros_like(xs), np.full(xs.shape, pi)
        end = _tail_end(xs, v)
        e_minus = lambda t: np.exp(-xs[..., None] * np.sinh(t) - v[..., None] * t)  # noqa
        if kind == "jv":
            osc = _quad(lambda th: th * np.sin(v[..., None] * th - xs[..., None] * np.sin(th)),
                        zero, top, n)
            out = (-osc / pi - np.cos(v * pi) * _quad(e_minus, zero, end, 600)
                   + np.sin(v * pi) / pi * _quad(lambda t: t * e_minus(t), zero, end, 600))
        else:
            osc = _quad(lambda th: th * np.cos(xs[..., None] * np.sin(th) - v[..., None] * th),
                        zero, top, n)

            def tail(t):
                decay = np.exp(-xs[..., None] * np.sinh(t))
                vt = v[..., None] * t
                return decay * (t * np.exp(vt) - t * np.exp(-vt) * np.cos(v[..., None] * pi)
                                - pi * np.exp(-vt) * np.sin(v[..., None] * pi))
            out = -osc / pi - _quad(tail, zero, end, 600) / pi
    elif kind == "kv":
        out = _kv_and_dv(v, xs)[1]
    elif kind in ("iv", "ive"):
        scaled = kind == "ive"
        out = np.empty_like(xs)
        pos_ = v > -1.0
        if np.any(pos_):
            out[pos_] = _iv_dv_series(v[pos_], xs[pos_], scaled)
        if np.any(~pos_):
            # I_v = I_m + (2 / pi) sin(m pi) K_m with m = -v
            m, xm = -v[~pos_], xs[~pos_]
            k_val, k_dv = _kv_and_dv(m, xm)
            scale = np.exp(-xm) if scaled else 1.0
            out[~pos_] = -(_iv_dv_series(m, xm, scaled) + scale * (
                2.0 * np.cos(m * pi) * k_val + 2.0 / pi * np.sin(m * pi) * k_dv))
    else:
        raise ValueError("s2sgrad: no order derivative for scipy.special.%s" % kind)
    return np.where(ok, out, np.nan).reshape(shape)


__all__ += ["sliding_window_adjoint"]


def sliding_window_adjoint(g, x, window_shape, axis=None):
    """The gradient of ``np.lib.stride_tricks.sliding_window_view(x, window_shape,
    axis)``: each window's gradient added back where the window reads ``x`` (one
    shifted slice per position in the window, so overlapping windows add up)."""
    window = tuple(window_shape) if np.iterable(window_shape) else (window_shape,)
    shape = np.shape(x)
    if axis is None:
        axes = tuple(range(len(shape)))
    else:
        axes = tuple(axis) if np.iterable(axis) else (axis,)
    axes = tuple(a % len(shape) for a in axes)
    g = np.asarray(g)
    out = np.zeros(shape, dtype=np.result_type(g.dtype, np.float64)
                   if g.dtype.kind != "f" else g.dtype)
    span = list(shape)
    for a, w in zip(axes, window):
        span[a] -= w - 1
    for offset in np.ndindex(*window):
        start = [0] * len(shape)
        for a, o in zip(axes, offset):
            start[a] += o
        target = tuple(slice(s, s + n) for s, n in zip(start, span))
        out[target] += g[(Ellipsis,) + offset]
    return out
