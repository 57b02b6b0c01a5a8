"""Forward-mode (tangent) knowledge, kept beside the reverse table.

Forward mode needs, for each primitive, how input tangents ``dot_x`` turn into
the result's tangent.  Most of that is *derived* from the reverse table rather
than written twice (JAX's JVP/transpose view):

* ``@elementwise`` rules: each contribution ``grad[x] = grad[result] * LOCAL``
  is linear in ``grad[result]`` and the local Jacobian is diagonal, hence
  self-transposed; the tangent is the sum over active inputs of the same
  expression with ``grad[result]`` replaced by ``dot_x``.  Nothing to write.
* *Linear* operations (sum, mean, reshape, transpose, indexing, ...): the
  tangent is the operation itself applied to the tangent -- ``dot_r =
  np.sum(dot_a, axis=0)``.  Multilinear ones (dot, matmul, outer) sum one such
  term per active argument (the product rule).  Mark them with :func:`linear`,
  giving the linear argument positions (0 = first positional argument, or the
  receiver of a method / attribute).
* Anything else gets an explicit ``@tangent_rule`` template, written like a
  reverse template but with ``tangent[x]`` for the tangent of input ``x`` and
  ``tangent[result] = ...`` (or ``+= ...``) for the result's tangent.  A term
  that reads the tangent of an input that carries none is dropped.

A ``@vjp`` rule with neither a linear mark nor a ``@tangent_rule`` is handled
by forward mode through transposition of its template (see ``ad/forward.py``).
"""
from __future__ import annotations

import builtins
import math
import operator as _operator
from typing import Any, Dict, Optional, Tuple

import gast
import numpy as np

from s2sgrad import runtime
from s2sgrad.runtime import expand_reduced, extremum_item_tangent
from s2sgrad.rules.registry import Rule


class _TangentNotation:
    """``tangent[x]`` inside a tangent template: the tangent of input ``x``."""

    def __getitem__(self, item):  # pragma: no cover - templates are never executed
        raise RuntimeError("tangent templates are compiled, not called")


tangent = _TangentNotation()


class Linear:
    """The operation is linear in each of the arguments at ``positions``."""

    def __init__(self, positions: Tuple[int, ...]):
        self.positions = tuple(positions)

    def __repr__(self):
        return "<Linear in %s>" % (self.positions,)


# key -> Rule (kind 'tangent') or Linear.  Keys: ('obj', id), ('method', name),
# ('attr', name), ('op', type).
_TABLE: Dict[tuple, Any] = {}
_OBJECTS: Dict[int, Any] = {}      # keep registered objects alive (ids stay valid)


def _keys(objs, methods, attributes, operator):
    keys = []
    for o in objs:
        if o is None:          # an optional function this NumPy/SciPy version lacks
            continue
        _OBJECTS[id(o)] = o
        keys.append(("obj", id(o)))
    keys += [("method", m) for m in methods]
    keys += [("attr", a) for a in attributes]
    if operator is not None:
        for op in operator if isinstance(operator, tuple) else (operator,):
            keys.append(("op", op))
    return keys


def tangent_rule(*objs, methods=(), attributes=(), operator=None):
    """Register a forward-mode (tangent) template for the given functions / methods.

    Written like an :func:`adjoint` template, with ``tangent[x]`` the tangent of
    input ``x`` and ``tangent[result] = ...`` the result's; a term reading the
    tangent of an input that carries none is dropped.  Without one, forward mode
    derives the tangent from the reverse rule (reading elementwise rules forwards,
    transposing the others).

    Example:
        >>> import numpy as np
        >>> from s2sgrad import adjoint, jvp, tangent_rule
        >>> def softplus2(x):
        ...     return np.log1p(np.exp(x))
        >>> @adjoint(softplus2)
        ... def _(result, x):
        ...     grad[x] = grad[result] / (1.0 + np.exp(-x))
        >>> @tangent_rule(softplus2)
        ... def _(result, x):
        ...     tangent[result] = tangent[x] / (1.0 + np.exp(-x))
        >>> def f(x):
        ...     return softplus2(x)
        >>> jvp(f)(np.array([0.0]), np.array([2.0]))[1]
        array([1.])
    """
    def deco(fn):
        rule = Rule(fn, "tangent", fn.__name__)
        for k in _keys(objs, methods, attributes, operator):
            _TABLE[k] = rule
        return rule
    return deco


def linear(*objs, methods=(), attributes=(), operator=None, positions=(0,)):
    """Mark operations whose tangent is the operation applied to the tangent."""
    entry = Linear(positions)
    for k in _keys(objs, methods, attributes, operator):
        _TABLE[k] = entry


def lookup_tangent(key: tuple):
    return _TABLE.get(key)


# -- linear and multilinear operations ----------------------------------------

linear(builtins.float, np.asarray, np.array, np.ascontiguousarray, np.copy,
       np.sum, np.mean, np.reshape, np.transpose, np.ravel, np.squeeze, np.expand_dims,
       np.broadcast_to, np.moveaxis, np.swapaxes, np.cumsum, np.trace, np.diagonal,
       np.diag, np.flip, np.fliplr, np.flipud, np.rot90, np.atleast_1d, np.atleast_2d,
       np.real, np.tile, np.repeat, np.triu, np.tril, np.lib.stride_tricks.sliding_window_view,
       _operator.getitem, _operator.neg, _operator.pos,
       runtime.unbroadcast, runtime.unreduce, runtime.expand_reduced,
       runtime.route_to_extremum, runtime.as_gradient,
       *[getattr(runtime, h) for h in ("own_gradient", "copy_argument")
         if hasattr(runtime, h)],
       methods=("sum", "mean", "reshape", "transpose", "ravel", "flatten", "squeeze",
                "copy", "cumsum", "trace", "diagonal", "swapaxes", "repeat"),
       attributes=("T", "real", "imag"))

linear(np.roll, np.take, np.take_along_axis, np.concatenate, np.stack,
       np.hstack, np.vstack, getattr(np, "row_stack", None), np.dstack, np.column_stack,
       np.split, np.array_split,
       np.hsplit, np.vsplit, np.dsplit,
       methods=("item", "take"))
# np.append is jointly linear (a concatenation), not bilinear: its tangent comes from
# transposing the reverse rule
linear(np.vdot, np.convolve, np.correlate, positions=(0, 1))

linear(np.dot, np.matmul, np.outer, np.inner, np.tensordot, np.kron, np.cross,
       _operator.matmul, methods=("dot",), operator=gast.MatMult, positions=(0, 1))
linear(np.einsum, positions=tuple(range(1, 13)))
linear(runtime.sum_items_adjoint, runtime.extremum_item_adjoint, runtime.extremum_item_tangent,
       runtime.sequence_adjoint, np.float64, np.float32, np.float16, builtins.list,
       builtins.tuple)
linear(runtime.dot_adjoint_left, runtime.matmul_adjoint_left, positions=(0, 2))
linear(runtime.dot_adjoint_right, runtime.matmul_adjoint_right, positions=(0, 1))
# operations that copy entries of their input (and the helpers their rules call)
linear(np.resize, np.delete, runtime.scatter_source, runtime.gather_source,
       runtime.diff_adjoint, runtime.diff_window, runtime.diff_window_adjoint)
linear(np.compress, np.extract, np.choose, positions=(1,))
linear(np.block, runtime.choose_adjoint, runtime.block_adjoint, np.fft.fftshift, np.fft.ifftshift)
# the Fourier transforms are (real-)linear, and so are their transposes in g
linear(np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft, np.fft.hfft, np.fft.ihfft,
       np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft2, np.fft.rfftn,
       np.fft.irfft2, np.fft.irfftn, runtime.fft_adjoint, runtime.fft_apply)
linear(runtime.cov_adjoint, runtime.cov_cross, runtime.lstsq_residual_gradient,
       runtime.lstsq_residual_weights, positions=(0, 1))
linear(runtime.histogram_edges_adjoint, runtime.histogram_edges_tangent,
       runtime.histogram_weights_adjoint)


# -- templates for the non-linear, non-elementwise operations -----------------


@tangent_rule(np.max, np.amax, np.min, np.amin, methods=("max", "min"))
def extremum(result, a, axis=None, out=None, keepdims=False):
    # the tangent of the selected entries; ties share it equally (as the adjoint does)
    hits = a == expand_reduced(result, a, axis, keepdims)
    tangent[result] = (np.sum(hits * tangent[a], axis=axis, keepdims=keepdims)
                       / np.sum(hits, axis=axis, keepdims=keepdims))


@tangent_rule(np.diff)
def diff(result, a, n=1, axis=-1, prepend=None, append=None):
    # linear in a; the constant padding's tangent is zero
    if prepend is None and append is None:
        tangent[result] = np.diff(tangent[a], n, axis)
    else:
        tangent[result] = runtime.diff_window(tangent[a], n, axis, prepend, append)


@tangent_rule(np.linalg.eigh)
def eigh(result, a, UPLO="L"):
    tangent[result] = runtime.eigh_tangent(tangent[a], result)


@tangent_rule(np.linalg.eigvalsh)
def eigvalsh(result, a, UPLO="L"):
    # (the eigenvectors, which eigvalsh does not return, give the eigenvalues' tangent)
    tangent[result] = runtime.eigh_tangent(tangent[a], np.linalg.eigh(a))[0]


@tangent_rule(np.linalg.eig)
def eig(result, a):
    tangent[result] = runtime.eig_tangent(tangent[a], result)


@tangent_rule(np.linalg.eigvals)
def eigvals(result, a):
    tangent[result] = runtime.eig_tangent(tangent[a], np.linalg.eig(a))[0]


@tangent_rule(np.linalg.lstsq)
def lstsq(result, a, b, rcond=None):
    # one term per input (a list: the terms add item by item)
    tangent[result] = runtime.lstsq_tangent(tangent[a], 0.0, a, b, result)
    tangent[result] += runtime.lstsq_tangent(0.0, tangent[b], a, b, result)


@tangent_rule(runtime.add_at)
def add_at(result, a, indices, b):
    # jointly linear in (a, b): one term each, so a missing tangent drops only its own
    tangent[result] = tangent[a]
    tangent[result] += runtime.add_at(np.zeros(np.shape(result)), indices, tangent[b])


@tangent_rule(runtime.subtract_at)
def subtract_at(result, a, indices, b):
    tangent[result] = tangent[a]
    tangent[result] += runtime.subtract_at(np.zeros(np.shape(result)), indices, tangent[b])


@tangent_rule(builtins.sum)
def builtin_sum(result, iterable, start=0):
    # sum(items): the sum of the items' tangents (a list of them, or an array)
    tangent[result] = sum(tangent[iterable])
    tangent[result] += tangent[start]


@tangent_rule(math.fsum)
def math_fsum(result, iterable):
    tangent[result] = sum(tangent[iterable])


@tangent_rule(math.prod)
def math_prod(result, iterable, start=1):
    tangent[result] = runtime.dot_items(runtime.prod_items_adjoint(1.0, iterable, start),
                                        tangent[iterable])
    tangent[result] += tangent[start] * result / start


@tangent_rule(math.dist)
def math_dist(result, p, q):
    tangent[result] = runtime.dot_items(runtime.dist_adjoint(1.0, p, q, result), tangent[p])
    tangent[result] += -runtime.dot_items(runtime.dist_adjoint(1.0, p, q, result), tangent[q])


@tangent_rule(builtins.max)
def builtin_max(result, x, y=None):
    if y is None:       # max(items): the tangent of the item returned
        tangent[result] = extremum_item_tangent(tangent[x], x, result)
    else:               # max(x, y) returns x unless y > x
        tangent[result] = tangent[x] * (x >= y)
        tangent[result] += tangent[y] * (x < y)


@tangent_rule(builtins.min)
def builtin_min(result, x, y=None):
    if y is None:
        tangent[result] = extremum_item_tangent(tangent[x], x, result)
    else:
        tangent[result] = tangent[x] * (x <= y)
        tangent[result] += tangent[y] * (x > y)


# -- scipy.linalg factorizations (registered only when SciPy is installed) -----------------


def _scipy_linalg():
    try:
        from scipy import linalg  # SciPy is optional: only for its own functions
    except ImportError:  # pragma: no cover - SciPy is optional
        return None
    return linalg


_SLA = _scipy_linalg()


@tangent_rule(getattr(_SLA, "cho_factor", None))
def cho_factor(result, a, lower=False, overwrite_a=False, check_finite=True):
    tangent[result] = runtime.cho_factor_tangent(tangent[a], result)


@tangent_rule(getattr(_SLA, "cho_solve", None))
def cho_solve(result, c_and_lower, b, overwrite_b=False, check_finite=True):
    tangent[result] = runtime.cho_solve_tangent(tangent[c_and_lower], 0.0, c_and_lower, result)
    tangent[result] += runtime.cho_solve_tangent(0.0, tangent[b], c_and_lower, result)


@tangent_rule(getattr(_SLA, "lu_factor", None))
def lu_factor(result, a, overwrite_a=False, check_finite=True):
    tangent[result] = runtime.lu_factor_tangent(tangent[a], result)


@tangent_rule(getattr(_SLA, "lu_solve", None))
def lu_solve(result, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    tangent[result] = runtime.lu_solve_tangent(tangent[lu_and_piv], 0.0, lu_and_piv, result,
                                               trans)
    tangent[result] += runtime.lu_solve_tangent(0.0, tangent[b], lu_and_piv, result, trans)


@tangent_rule(runtime.cho_solve_adjoint)
def cho_solve_adjoint(result, gb, x, c_and_lower):
    # a list result (factor, flag): the terms add item by item
    tangent[result] = runtime.cho_solve_adjoint_tangent(tangent[gb], 0.0, 0.0, gb, x,
                                                        c_and_lower)
    tangent[result] += runtime.cho_solve_adjoint_tangent(0.0, tangent[x], 0.0, gb, x,
                                                         c_and_lower)
    tangent[result] += runtime.cho_solve_adjoint_tangent(0.0, 0.0, tangent[c_and_lower], gb,
                                                         x, c_and_lower)


@tangent_rule(runtime.lu_solve_adjoint)
def lu_solve_adjoint(result, gb, x, lu_and_piv, trans=0):
    tangent[result] = runtime.lu_solve_adjoint_tangent(tangent[gb], 0.0, 0.0, gb, x,
                                                       lu_and_piv, trans)
    tangent[result] += runtime.lu_solve_adjoint_tangent(0.0, tangent[x], 0.0, gb, x,
                                                        lu_and_piv, trans)
    tangent[result] += runtime.lu_solve_adjoint_tangent(0.0, 0.0, tangent[lu_and_piv], gb, x,
                                                        lu_and_piv, trans)


@tangent_rule(runtime.lu_factor_adjoint)
def lu_factor_adjoint(result, g, lu_and_piv):
    tangent[result] = runtime.lu_factor_adjoint_tangent(tangent[g], 0.0, g, lu_and_piv)
    tangent[result] += runtime.lu_factor_adjoint_tangent(0.0, tangent[lu_and_piv], g,
                                                         lu_and_piv)


def rule_key_for(expr: gast.expr, op) -> Optional[tuple]:
    """The table key of the primitive on a right-hand side (mirrors ``classify``)."""
    if isinstance(expr, (gast.BinOp, gast.UnaryOp)):
        return ("op", type(expr.op))
    if isinstance(expr, gast.Subscript):
        if op is not None and op.obj is not None:      # np.r_[a, b]: the object's own rule
            return ("obj", id(op.obj))
        return ("obj", id(_operator.getitem))
    if isinstance(expr, gast.Attribute):
        return ("attr", expr.attr)
    if isinstance(expr, gast.Call):
        if op.obj is not None:
            return ("obj", id(op.obj))
        if isinstance(expr.func, gast.Attribute):
            return ("method", expr.func.attr)
    return None
