"""Shape, joining, splitting and indexing: the gradient is the upstream gradient
moved back to where each input element went (reshaped, transposed, sliced,
summed over copies)."""
import builtins
import operator

import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import calling_form, grad, no_gradient, nondifferentiable, vjp
from s2sgrad.rules.tangents import linear, tangent, tangent_rule
from s2sgrad.runtime import (astype_adjoint, block_adjoint, diff_adjoint, diff_window,
                             diff_window_adjoint, gather_source, gradient_adjoint,
                             index_concatenate_adjoint, interp_fp_adjoint, interp_slope,
                             inverse_permutation, join_adjoint, linspace_adjoint, meshgrid_adjoint,
                             pad_adjoint, repeat_adjoint, rollaxis_adjoint, scatter_source,
                             sliding_window_adjoint, source_index, split_adjoint, take_adjoint,
                             take_along_axis_adjoint, tile_adjoint, unbroadcast)

# -- same elements, new shape (reshape back) ------------------------------------------------


@vjp(np.reshape, family="shape")
def reshape(result, a, newshape=None, order="C", shape=None, copy=None):
    grad[a] = np.reshape(grad[result], np.shape(a), order=order)


# (NumPy 2.1 renamed the second parameter: both spellings, the rule's positions)
calling_form(np.reshape, "a, newshape=None, order='C', *, shape=None, copy=None")


@vjp(methods=("reshape",), family="shape")
def reshape_method(result, a, *shape, order="C"):
    grad[a] = np.reshape(grad[result], np.shape(a), order=order)


@vjp(np.ravel, methods=("ravel", "flatten"), family="shape")
def ravel(result, a, order="C"):
    grad[a] = np.reshape(grad[result], np.shape(a), order=order)


@vjp(np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d,
     methods=("squeeze",), family="shape")
def squeeze(result, a, axis=None):
    grad[a] = np.reshape(grad[result], np.shape(a))


# (np.atleast_1d(a, b) returns a list: the rule differentiates the one-array form)
for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    calling_form(_f, "a, /")


@vjp(np.broadcast_to, family="shape")
def broadcast_to(result, array, shape, subok=False):
    grad[array] = unbroadcast(grad[result], array)


@vjp(np.array, np.asarray, np.asanyarray, np.ascontiguousarray, np.copy, np.real,
     np.real_if_close, float, methods=("copy",), attributes=("real",), family="shape")
def identity(result, a, dtype=None, *args, copy=None, order=None, subok=None, ndmin=0,
             like=None, casting=None, tol=None):
    if ndmin != 0:
        grad[a] = np.reshape(grad[result], np.shape(a))
    else:
        grad[a] = grad[result]


# (the forms whose second positional parameter is not the rule's dtype)
calling_form(np.copy, "a, /, *, order='K', subok=False")
calling_form(np.real_if_close, "a, /, *, tol=100")


@vjp(methods=("astype",), family="shape")
def astype(result, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    # a cast to an integer or boolean type is piecewise constant: no gradient
    grad[a] = astype_adjoint(grad[result], dtype)


@vjp(methods=("item",), family="shape")
def item(result, a, *args):
    grad[a] = np.reshape(grad[result], np.shape(a))


# -- axes ------------------------------------------------------------------------------------


@vjp(np.transpose, family="shape")
def transpose(result, a, axes=None):
    if axes is None:
        grad[a] = np.transpose(grad[result])
    else:
        grad[a] = np.transpose(grad[result], inverse_permutation(axes))


@vjp(methods=("transpose",), family="shape")
def transpose_method(result, a, *axes):
    if axes == () or axes == (None,):
        grad[a] = np.transpose(grad[result])
    elif len(axes) == 1:
        grad[a] = np.transpose(grad[result], inverse_permutation(axes[0]))
    else:
        grad[a] = np.transpose(grad[result], inverse_permutation(axes))


@vjp(attributes=("T",), family="shape")
def transpose_attribute(result, a):
    grad[a] = np.transpose(grad[result])


@vjp(np.rollaxis, family="shape")
def rollaxis(result, a, axis, start=0):
    grad[a] = rollaxis_adjoint(grad[result], a, axis, start)


@vjp(np.swapaxes, methods=("swapaxes",), family="shape")
def swapaxes(result, a, axis1, axis2):
    grad[a] = np.swapaxes(grad[result], axis1, axis2)


@vjp(np.moveaxis, family="shape")
def moveaxis(result, a, source, destination):
    grad[a] = np.moveaxis(grad[result], destination, source)


@vjp(np.flip, family="shape")
def flip(result, m, axis=None):
    grad[m] = np.flip(grad[result], axis)


@vjp(np.fliplr, family="shape")
def fliplr(result, m):
    grad[m] = np.fliplr(grad[result])


@vjp(np.flipud, family="shape")
def flipud(result, m):
    grad[m] = np.flipud(grad[result])


@vjp(np.roll, family="shape")
def roll(result, a, shift, axis=None):
    grad[a] = np.roll(grad[result], np.negative(shift), axis)


@vjp(np.rot90, family="shape")
def rot90(result, m, k=1, axes=(0, 1)):
    grad[m] = np.rot90(grad[result], -k, axes)


# -- copies (sum the copies) -----------------------------------------------------------------------


@vjp(np.tile, family="shape")
def tile(result, A, reps):
    grad[A] = tile_adjoint(grad[result], A, reps)


@vjp(np.lib.stride_tricks.sliding_window_view, family="shape")
def sliding_window_view(result, x, window_shape, axis=None, subok=False, writeable=False):
    # (overlapping windows read an element several times: their gradients add up)
    grad[x] = sliding_window_adjoint(grad[result], x, window_shape, axis)


@vjp(np.repeat, methods=("repeat",), family="shape")
def repeat(result, a, repeats, axis=None):
    grad[a] = repeat_adjoint(grad[result], a, repeats, axis)


@vjp(np.pad, family="shape")
def pad(result, array, pad_width, mode="constant", constant_values=0, reflect_type="even"):
    if mode == "constant":
        grad[array] = pad_adjoint(grad[result], array, pad_width)
        # the fill's entries: pad with the positions of constant_values instead
        grad[constant_values] = scatter_source(grad[result], constant_values, np.pad(
            np.full(np.shape(array), -1), pad_width, constant_values=source_index(
                constant_values)))
    elif mode in ("edge", "reflect", "symmetric", "wrap") and reflect_type == "even":
        # the padding copies entries of array: pad their positions the same way
        grad[array] = scatter_source(grad[result], array,
                                     np.pad(source_index(array), pad_width, mode))
    else:
        raise NotImplementedError("np.pad: modes 'constant', 'edge', 'reflect', 'symmetric' "
                                  "and 'wrap' are differentiated (reflect_type='even')")


@vjp(np.resize, family="shape")
def resize(result, a, new_shape):
    grad[a] = scatter_source(grad[result], a, np.resize(source_index(a), new_shape))


# -- joining and splitting (sequences: the gradient of a list is the list of gradients) --------


@vjp(np.concatenate, family="joining")
def concatenate(result, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    grad[arrays] = join_adjoint(grad[result], arrays, "concatenate", axis)


@vjp(np.stack, family="joining")
def stack(result, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    grad[arrays] = join_adjoint(grad[result], arrays, "stack", axis)


@vjp(np.hstack, family="joining")
def hstack(result, tup, dtype=None, casting="same_kind"):
    grad[tup] = join_adjoint(grad[result], tup, "hstack")


@vjp(np.vstack, getattr(np, "row_stack", None), family="joining")   # row_stack: an alias
def vstack(result, tup, dtype=None, casting="same_kind"):
    grad[tup] = join_adjoint(grad[result], tup, "vstack")


@vjp(np.dstack, family="joining")
def dstack(result, tup):
    grad[tup] = join_adjoint(grad[result], tup, "dstack")


@vjp(np.column_stack, family="joining")
def column_stack(result, tup):
    grad[tup] = join_adjoint(grad[result], tup, "column_stack")


@vjp(np.append, family="joining")
def append(result, arr, values, axis=None):
    if axis is None:
        grad[arr] = np.reshape(grad[result][:np.size(arr)], np.shape(arr))
        grad[values] = np.reshape(grad[result][np.size(arr):], np.shape(values))
    else:
        grad[arr] = np.take(grad[result], np.arange(np.shape(arr)[axis]), axis)
        grad[values] = np.take(grad[result], np.arange(np.shape(arr)[axis],
                                                       np.shape(result)[axis]), axis)


@vjp(np.block, family="joining")
def block(result, arrays):
    grad[arrays] = block_adjoint(grad[result], arrays)


@vjp(np.meshgrid, family="joining")
def meshgrid(result, a, b=None, c=None, copy=True, sparse=False, indexing="xy"):
    if sparse:
        raise NotImplementedError("np.meshgrid(sparse=True) is not differentiated")
    grad[a] = meshgrid_adjoint(grad[result], 0, indexing, a, b, c)
    grad[b] = meshgrid_adjoint(grad[result], 1, indexing, a, b, c)
    grad[c] = meshgrid_adjoint(grad[result], 2, indexing, a, b, c)


@vjp(np.split, np.array_split, family="joining")
def split(result, ary, indices_or_sections, axis=0):
    grad[ary] = split_adjoint(grad[result], ary, axis, indices_or_sections)


@vjp(np.hsplit, family="joining")
def hsplit(result, ary, indices_or_sections):
    grad[ary] = split_adjoint(grad[result], ary, "hsplit", indices_or_sections)


@vjp(np.vsplit, family="joining")
def vsplit(result, ary, indices_or_sections):
    grad[ary] = split_adjoint(grad[result], ary, 0, indices_or_sections)


@vjp(np.dsplit, family="joining")
def dsplit(result, ary, indices_or_sections):
    grad[ary] = split_adjoint(grad[result], ary, 2, indices_or_sections)


# -- indexing (scatter back; repeated indices add up) -------------------------------------------


@vjp(np.interp, family="indexing")
def interp(result, x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise NotImplementedError("np.interp(period=...) is not differentiated")
    grad[x] = grad[result] * interp_slope(x, xp, fp)
    grad[fp] = interp_fp_adjoint(grad[result], x, xp, fp, left, right)
    grad[xp] = no_gradient("np.interp: no derivative with respect to the sample points xp")


@vjp(operator.getitem, family="indexing")
def getitem(result, x, index):
    grad[x][index] += grad[result]


@vjp(np.take, methods=("take",), family="indexing")
def take(result, a, indices, axis=None, out=None, mode="raise"):
    grad[a] = take_adjoint(grad[result], a, indices, axis)


@vjp(np.take_along_axis, family="indexing")
def take_along_axis(result, arr, indices, axis=-1):
    grad[arr] = take_along_axis_adjoint(grad[result], arr, indices, axis)


@vjp(np.diff, family="indexing")
def diff(result, a, n=1, axis=-1, prepend=None, append=None):
    grad[prepend] = no_gradient("np.diff: prepend= is not differentiated")
    grad[append] = no_gradient("np.diff: append= is not differentiated")
    if prepend is not None or append is not None:
        grad[a] = diff_window_adjoint(grad[result], a, n, axis, prepend, append)
    elif n == 0:
        grad[a] = grad[result]
    elif n == 1:
        # (the padded difference also covers an axis of length 1: an empty grad[result])
        grad[a] = -np.diff(grad[result], 1, axis, prepend=0.0, append=0.0)
    else:
        grad[a] = diff_adjoint(grad[result], n, axis)


@vjp(np.ediff1d, family="indexing")
def ediff1d(result, ary, to_end=None, to_begin=None):
    # [*to_begin, *np.diff(ary.ravel()), *to_end]
    if to_begin is None and to_end is None:
        grad[ary] = np.reshape(diff_adjoint(grad[result], 1, 0), np.shape(ary))
    elif to_begin is None:
        grad[ary] = np.reshape(diff_adjoint(grad[result][:np.size(ary) - 1], 1, 0),
                               np.shape(ary))
        grad[to_end] = np.reshape(grad[result][np.size(ary) - 1:], np.shape(to_end))
    elif to_end is None:
        grad[ary] = np.reshape(diff_adjoint(grad[result][np.size(to_begin):], 1, 0),
                               np.shape(ary))
        grad[to_begin] = np.reshape(grad[result][:np.size(to_begin)], np.shape(to_begin))
    else:
        grad[ary] = np.reshape(diff_adjoint(grad[result][np.size(to_begin):np.size(
            to_begin) + np.size(ary) - 1], 1, 0), np.shape(ary))
        grad[to_begin] = np.reshape(grad[result][:np.size(to_begin)], np.shape(to_begin))
        grad[to_end] = np.reshape(grad[result][np.size(to_begin) + np.size(ary) - 1:],
                                  np.shape(to_end))


@vjp(np.delete, family="indexing")
def delete(result, arr, obj, axis=None):
    grad[arr] = scatter_source(grad[result], arr, np.delete(source_index(arr), obj, axis))


@vjp(np.insert, family="indexing")
def insert(result, arr, obj, values, axis=None):
    # positions -1 came from the other argument
    grad[arr] = scatter_source(grad[result], arr, np.insert(source_index(arr), obj, -1, axis))
    grad[values] = scatter_source(grad[result], values, np.insert(
        np.full(np.shape(arr), -1), obj, source_index(values), axis))


@vjp(np.compress, family="indexing")
def compress(result, condition, a, axis=None):
    grad[a] = scatter_source(grad[result], a, np.compress(condition, source_index(a), axis))


@vjp(np.extract, family="indexing")
def extract(result, condition, arr):
    grad[arr] = scatter_source(grad[result], arr, np.extract(condition, source_index(arr)))


@vjp(np.r_, family="joining")
def r_(result, a, b=None, c=None, d=None):
    # np.r_[a, b, ...] of arrays and scalars (no slice notation)
    grad[a] = index_concatenate_adjoint(grad[result], "r", 0, a, b, c, d)
    grad[b] = index_concatenate_adjoint(grad[result], "r", 1, a, b, c, d)
    grad[c] = index_concatenate_adjoint(grad[result], "r", 2, a, b, c, d)
    grad[d] = index_concatenate_adjoint(grad[result], "r", 3, a, b, c, d)


@vjp(np.c_, family="joining")
def c_(result, a, b=None, c=None, d=None):
    grad[a] = index_concatenate_adjoint(grad[result], "c", 0, a, b, c, d)
    grad[b] = index_concatenate_adjoint(grad[result], "c", 1, a, b, c, d)
    grad[c] = index_concatenate_adjoint(grad[result], "c", 2, a, b, c, d)
    grad[d] = index_concatenate_adjoint(grad[result], "c", 3, a, b, c, d)


@vjp(np.gradient, family="indexing")
def gradient(result, f, *varargs, axis=None, edge_order=1):
    grad[f] = gradient_adjoint(grad[result], f, varargs, axis, edge_order)


# -- constructors filled from a value ------------------------------------------------------


@vjp(np.full, family="constructors")
def full(result, shape, fill_value, dtype=None, order="C"):
    grad[fill_value] = unbroadcast(grad[result], fill_value)


@vjp(np.full_like, family="constructors", zero_gradient=("a",))
def full_like(result, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    grad[fill_value] = unbroadcast(grad[result], fill_value)


@vjp(np.linspace, family="constructors")
def linspace(result, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if retstep:
        raise NotImplementedError("np.linspace(retstep=True) is not differentiated")
    grad[start] = linspace_adjoint(grad[result], start, stop, num, endpoint, axis, 0)
    grad[stop] = linspace_adjoint(grad[result], start, stop, num, endpoint, axis, 1)


@vjp(np.logspace, family="constructors")
def logspace(result, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    scaled = grad[result] * result * np.log(base)
    grad[start] = linspace_adjoint(scaled, start, stop, num, endpoint, axis, 0)
    grad[stop] = linspace_adjoint(scaled, start, stop, num, endpoint, axis, 1)


@vjp(np.geomspace, family="constructors")
def geomspace(result, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    scaled = grad[result] * result
    grad[start] = linspace_adjoint(scaled, start, stop, num, endpoint, axis, 0) / start
    grad[stop] = linspace_adjoint(scaled, start, stop, num, endpoint, axis, 1) / stop


@vjp(np.vander, family="constructors")
def vander(result, x, N=None, increasing=False):
    # d x**p = p x**(p - 1): the neighbouring column, times p
    if increasing:
        grad[x] = np.sum(grad[result][:, 1:] * np.arange(1.0, np.shape(result)[1])
                         * result[:, :-1], axis=1)
    else:
        grad[x] = np.sum(grad[result][:, :-1] * np.arange(np.shape(result)[1] - 1.0, 0.0, -1.0)
                         * result[:, 1:], axis=1)


@vjp(np.arange, family="constructors")
def arange(result, start, stop=None, step=None, dtype=None):
    # start + step * k: the length depends on stop only through rounding (no gradient)
    if stop is not None:
        grad[start] = np.sum(grad[result])
    if step is not None:
        grad[step] = np.sum(grad[result] * np.arange(np.size(result)))


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


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


nondifferentiable(runtime.source_index, family="runtime")


@vjp(runtime.block_adjoint, family="runtime")
def block_adjoint_rule(result, g, arrays):
    grad[g] = np.block(grad[result])


# diff_window_adjoint and diff_window are each other's transpose in g
@vjp(runtime.diff_window_adjoint, family="runtime")
def diff_window_adjoint_rule(result, g, a, n=1, axis=-1, prepend=None, append=None):
    grad[g] = diff_window(grad[result], n, axis, prepend, append)


@vjp(runtime.diff_window, family="runtime")
def diff_window_rule(result, g, n=1, axis=-1, prepend=None, append=None):
    grad[g] = diff_window_adjoint(grad[result], g, n, axis, prepend, append)


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(builtins.float, np.asarray, np.array, np.ascontiguousarray, np.copy, np.reshape,
       np.transpose, np.ravel, np.squeeze, np.expand_dims, np.broadcast_to, np.moveaxis,
       np.swapaxes, np.flip, np.fliplr, np.flipud, np.rot90, np.atleast_1d, np.atleast_2d, np.real,
       np.tile, np.repeat, np.lib.stride_tricks.sliding_window_view, operator.getitem,
       methods=("reshape", "transpose", "ravel", "flatten", "squeeze", "copy", "swapaxes", "repeat"),
       attributes=("T", "real"))


linear(np.roll, np.take, np.take_along_axis, np.concatenate, np.stack, np.hstack, np.vstack,
       getattr(np, "row_stack", None), np.dstack, np.column_stack, np.split, np.array_split,
       np.hsplit, np.vsplit, np.dsplit, methods=("item", "take"))


# operations that copy entries of their input (and the helpers their rules call)
linear(np.resize, np.delete, runtime.scatter_source, runtime.gather_source, runtime.diff_adjoint,
       runtime.diff_window, runtime.diff_window_adjoint)


linear(np.compress, np.extract, positions=(1,))


linear(np.block, runtime.block_adjoint)


@tangent_rule(np.diff)
def tangent_diff(result, a, n=1, axis=-1, prepend=None, append=None):
    # linear in a; the constant padding's tangent is zero
    if prepend is None and append is None:
        tangent[result] = np.diff(tangent[a], n, axis)
    else:
        tangent[result] = runtime.diff_window(tangent[a], n, axis, prepend, append)
