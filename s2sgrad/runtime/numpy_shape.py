"""Helpers of the rules in ``rules/numpy_shape.py``: the adjoints of joins, splits, tiles,
repeats, pads, takes, diffs, blocks, interpolation, meshgrid and sliding windows, and the
source positions of functions that copy entries of their input.  NumPy only."""
import numpy as np

from s2sgrad.runtime.core import GradientList, unbroadcast

__all__ = ["tile_adjoint", "repeat_adjoint", "pad_adjoint", "take_adjoint",
           "take_along_axis_adjoint", "join_adjoint", "split_adjoint", "index_concatenate_adjoint",
           "gradient_adjoint", "linspace_adjoint", "rollaxis_adjoint", "interp_slope",
           "interp_fp_adjoint", "meshgrid_adjoint", "astype_adjoint", "source_index",
           "gather_source", "scatter_source", "diff_adjoint", "block_adjoint",
           "diff_window_adjoint", "diff_window", "sliding_window_adjoint"]


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


def astype_adjoint(g, dtype):
    """Gradient of x.astype(dtype): passed through for float and complex types, zero
    for integer and boolean casts (piecewise constant)."""
    if np.dtype(dtype).kind in "fc":
        return np.array(g)          # a private copy: callers may add into it in place
    return np.zeros(np.shape(g))


# -- copies of input entries (pad modes, resize, delete, compress, ...) and cumulative
#    extrema: the result gathers input entries, so the gradient scatters back ------------
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


def diff_adjoint(g, n=1, axis=-1):
    """Gradient of np.diff(a, n, axis): the transposed difference applied n times."""
    for _ in range(n):
        moved = np.moveaxis(np.asarray(g, dtype=np.result_type(g, float)), axis, -1)
        out = np.zeros(np.shape(moved)[:-1] + (np.shape(moved)[-1] + 1,), dtype=moved.dtype)
        out[..., :-1] -= moved
        out[..., 1:] += moved
        g = np.moveaxis(out, -1, axis)
    return g


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
