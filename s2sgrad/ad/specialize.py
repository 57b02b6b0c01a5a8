"""Shape specialization: replace runtime helpers by the NumPy they stand for.

When the probe knows the shapes involved, ``unreduce(g, a, 1, False)`` becomes
``np.broadcast_to(np.expand_dims(g, 1), (64, 10))`` and ``dot_adjoint_left(g, a,
b)`` on matrices becomes ``np.dot(g, b.T)`` -- what a person writing the
backward pass by hand would type.  Anything not decidable stays a helper call.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import gast
import numpy as np

from s2sgrad import astutil as A
from s2sgrad.rules.templates import NOT_STATIC, static_value, value_node
from s2sgrad.runtime.numpy_linalg import _einsum_spec, _tensordot_axes

SPECIALIZERS: Dict[str, Callable] = {}


def specializer(name):
    def deco(fn):
        SPECIALIZERS[name] = fn
        return fn
    return deco


class _Ctx:
    def __init__(self, builder, temps=None):
        self.b = builder
        self.temps = temps

    def temp(self, base: str, value) -> Optional[gast.expr]:
        """A statement ``name = value`` emitted before the specialized expression
        (for a value it reads twice); None where the caller takes no statements."""
        if self.temps is None:
            return None
        name = self.b.names.fresh(base)
        self.temps.append(A.assign(name, value))
        return A.load(name)

    def shape(self, node):
        if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)):
            return ()
        if isinstance(node, gast.Name) and self.b.shapes is not None:
            return self.b.shapes.shape(node.id)
        return None

    def narrow(self, node) -> Optional[str]:
        """'float32' / 'float16' when the probe saw ``node`` hold such floats."""
        if isinstance(node, gast.Name) and self.b.shapes is not None:
            vi = self.b.shapes.get(node.id)
            dt = getattr(vi, "dtype", None)
            try:
                dt = np.dtype(dt)
            except TypeError:
                return None
            if dt.kind == "f" and dt.itemsize < 8:
                return dt.name
        return None

    def np(self, attr):
        return A.parse_expr("%s.%s" % (self.b.b.numpy_name, attr))

    def call(self, attr, args, kws=()):
        return A.call(self.np(attr), args, kws)


def specialize(expr: gast.expr, builder, temps=None) -> gast.expr:
    if builder.shapes is None:
        return expr
    names = builder.b.helper_names
    cached = getattr(builder.b, "_s2s_helper_of", None)
    if cached is None or cached[0] != len(names):
        # (computed once per gradient: the bindings name every helper up front)
        cached = builder.b._s2s_helper_of = (len(names), {v: k for k, v in names.items()})
    helper_of = cached[1]
    if not _calls_specialized(expr, helper_of, builder.b.numpy_name):
        return expr               # nothing to replace: the tree is left unvisited
    return _Specialize(_Ctx(builder, temps), helper_of, builder.b.numpy_name).visit(expr)


def _calls_specialized(expr, helper_of, np_name) -> bool:
    """Does ``expr`` call a helper (or ``np.shape``) that has a specializer?"""
    shape = np_name + ".shape"
    for node in A.node_list(expr):
        if node.__class__ is gast.Call and not node.keywords:
            func = node.func
            if func.__class__ is gast.Name:
                if helper_of.get(func.id) in SPECIALIZERS:
                    return True
            elif "np.shape" in SPECIALIZERS and A.dotted(func) == shape:
                return True
    return False


class _Specialize(A.Transformer):
    """Calls of runtime helpers (and ``np.shape``) replaced by their specializers'
    plain NumPy, innermost first."""

    def __init__(self, ctx, helper_of, np_name):
        self.ctx = ctx
        self.helper_of = helper_of
        self.np_name = np_name

    def visit_Call(self, node):
        self.generic_visit(node)
        name = None
        if isinstance(node.func, gast.Name) and node.func.id in self.helper_of:
            name = self.helper_of[node.func.id]
        elif A.dotted(node.func) == self.np_name + ".shape":
            name = "np.shape"
        fn = SPECIALIZERS.get(name)
        if fn is None or node.keywords:
            return node
        new = fn(self.ctx, *node.args)
        return node if new is None else new


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(a % ndim for a in axis))
    return (axis % ndim,)


@specializer("np.shape")
def _shape(ctx, a):
    s = ctx.shape(a)
    return None if s is None else value_node(tuple(s))


@specializer("reduced_count")
def _reduced_count(ctx, a, axis=None):
    s = ctx.shape(a)
    ax = static_value(axis) if axis is not None else None
    if s is None or ax is NOT_STATIC:
        return None
    n = 1
    for i in _axes(ax, len(s)):
        n *= s[i]
    return A.const(n)


@specializer("unreduce")
def _unreduce(ctx, g, a, axis=None, keepdims=None):
    s = ctx.shape(a)
    ax = static_value(axis) if axis is not None else None
    kd = static_value(keepdims) if keepdims is not None else False
    if s is None or ax is NOT_STATIC or kd is NOT_STATIC:
        return None
    if s == ():
        return g
    if not (kd or ax is None):
        axes = _axes(ax, len(s))
        g = ctx.call("expand_dims", [g, value_node(axes if len(axes) > 1 else axes[0])])
    return ctx.call("broadcast_to", [g, value_node(tuple(s))])


def _transpose(node):
    return gast.Attribute(value=node, attr="T", ctx=gast.Load())


@specializer("dot_adjoint_left")
def _dot_left(ctx, g, a, b):
    sa, sb = ctx.shape(a), ctx.shape(b)
    if sa is None or sb is None:
        return None
    na, nb = len(sa), len(sb)
    if na == 2 and nb == 2:
        return ctx.call("dot", [g, _transpose(b)])
    if na == 1 and nb == 2:
        return ctx.call("dot", [b, g])
    if na == 2 and nb == 1:
        return ctx.call("outer", [g, b])
    if na == 1 and nb == 1:
        return gast.BinOp(left=g, op=gast.Mult(), right=b)
    return None


@specializer("dot_adjoint_right")
def _dot_right(ctx, g, a, b):
    sa, sb = ctx.shape(a), ctx.shape(b)
    if sa is None or sb is None:
        return None
    na, nb = len(sa), len(sb)
    if na == 2 and nb in (1, 2):
        return ctx.call("dot", [_transpose(a), g])
    if na == 1 and nb == 2:
        return ctx.call("outer", [a, g])
    if na == 1 and nb == 1:
        return gast.BinOp(left=g, op=gast.Mult(), right=a)
    return None


@specializer("matmul_adjoint_left")
def _matmul_left(ctx, g, a, b):
    sa, sb = ctx.shape(a), ctx.shape(b)
    if sa is None or sb is None or len(sa) > 2 or len(sb) > 2 or not sa or not sb:
        return None
    return _dot_left(ctx, g, a, b)


@specializer("matmul_adjoint_right")
def _matmul_right(ctx, g, a, b):
    sa, sb = ctx.shape(a), ctx.shape(b)
    if sa is None or sb is None or len(sa) > 2 or len(sb) > 2 or not sa or not sb:
        return None
    return _dot_right(ctx, g, a, b)


# -- helpers of the rules in s2sgrad/rules/ ------------------------------------------------


def _static_args(*nodes):
    vals = [static_value(n) for n in nodes]
    return None if any(v is NOT_STATIC for v in vals) else vals


@specializer("expand_reduced")
def _expand_reduced(ctx, g, a, axis=None, keepdims=None):
    s = ctx.shape(a)
    st = _static_args(axis if axis is not None else A.const(None),
                      keepdims if keepdims is not None else A.const(False))
    if s is None or st is None:
        return None
    ax, kd = st
    if kd or ax is None or s == ():
        return g
    axes = _axes(ax, len(s))
    return ctx.call("expand_dims", [g, value_node(axes if len(axes) > 1 else axes[0])])


@specializer("route_to_extremum")
def _route_to_extremum(ctx, g, like, result, axis=None, keepdims=None):
    """hits = (a == max); g shared equally by the tied entries of each slice."""
    s = ctx.shape(like)
    st = _static_args(axis if axis is not None else A.const(None),
                      keepdims if keepdims is not None else A.const(False))
    if s is None or st is None or not s or not isinstance(like, gast.Name) \
            or not isinstance(result, gast.Name):
        return None
    ax, kd = st
    expanded = _expand_reduced(ctx, result, like, A.const(ax), A.const(kd))
    hits = ctx.temp("hits", gast.Compare(left=like, ops=[gast.Eq()], comparators=[expanded]))
    if hits is None:
        return None
    upstream = _expand_reduced(ctx, g, like, A.const(ax), A.const(kd))
    # hits is a boolean array: its .sum method (np.sum dispatches to it, slower)
    count_of = gast.Attribute(value=A.load(hits.id), attr="sum", ctx=gast.Load())
    kws = [] if ax is None else [("axis", value_node(ax)), ("keepdims", A.const(True))]
    narrow = ctx.narrow(like)
    if narrow is not None:
        # float32 code: the count a float32 array (an int64 count would make the share
        # float64; so would a float32 scalar under NumPy 1.x's scalar promotion)
        if ax is None:
            kws.append(("keepdims", A.const(True)))
        kws.append(("dtype", ctx.np(narrow)))
    count = A.call(count_of, [], kws)
    share = gast.BinOp(left=upstream, op=gast.Div(), right=count)
    return gast.BinOp(left=A.load(hits.id), op=gast.Mult(), right=share)


@specializer("mT")
def _mT(ctx, x):
    s = ctx.shape(x)
    if s is None or len(s) != 2:
        return None
    return _transpose(x)


@specializer("trace_adjoint")
def _trace_adjoint(ctx, g, a, offset=None, axis1=None, axis2=None):
    s = ctx.shape(a)
    st = _static_args(*(n if n is not None else A.const(d)
                        for n, d in ((offset, 0), (axis1, 0), (axis2, 1))))
    if s is None or st is None or len(s) != 2 or tuple(st[1:]) != (0, 1):
        return None
    args = [A.const(s[0])] if (s[0] == s[1] and st[0] == 0) else [A.const(s[0]), A.const(s[1])]
    kws = [("k", value_node(st[0]))] if st[0] else []
    return gast.BinOp(left=g, op=gast.Mult(), right=ctx.call("eye", args, kws))


@specializer("einsum_adjoint")
def _einsum_adjoint(ctx, g, subscripts, which, *operands):
    ops = [o for o in operands if not (isinstance(o, gast.Constant) and o.value is None)]
    st = _static_args(subscripts, which)
    shapes = [ctx.shape(o) for o in ops]
    if st is None or not isinstance(st[0], str) or (
            "..." in st[0] and any(s is None for s in shapes)):
        return _einsum_adjoint_call(ctx, g, subscripts, which, ops)
    # ('...' spelled out in letters from the operands' known dimensions)
    ins, out = _einsum_spec(st[0], [np.broadcast_to(0.0, s) if s is not None else None
                                    for s in shapes])
    k = st[1]
    target = ins[k]
    others = [(s, o) for i, (s, o) in enumerate(zip(ins, ops)) if i != k]
    present = set(out) | {c for s, _ in others for c in s}
    if len(set(target)) != len(target):      # a diagonal: written through a view
        return _einsum_adjoint_call(ctx, g, subscripts, which, ops)
    if set(target) <= present:
        spec = ",".join([out] + [s for s, _ in others]) + "->" + target
        return ctx.call("einsum", [A.const(spec), g] + [o for _, o in others])
    # letters only this operand sums over: the gradient is constant along them
    shape = shapes[k]
    if shape is None:
        return _einsum_adjoint_call(ctx, g, subscripts, which, ops)
    reach = "".join(c for c in target if c in present)
    spec = ",".join([out] + [s for s, _ in others]) + "->" + reach
    h = ctx.call("einsum", [A.const(spec), g] + [o for _, o in others])
    kept = tuple(n if c in present else 1 for c, n in zip(target, shape))
    return ctx.call("broadcast_to", [ctx.call("reshape", [h, value_node(kept)]),
                                     value_node(tuple(shape))])


def _einsum_adjoint_call(ctx, g, subscripts, which, ops):
    """The helper call with the operands the call has (not the rule's unused Nones)."""
    return A.call(A.load(ctx.b.b.helper("einsum_adjoint")), [g, subscripts, which] + ops)


def _tensordot_specialized(ctx, g, a, b, axes, left):
    sa, sb = ctx.shape(a), ctx.shape(b)
    st = _static_args(axes if axes is not None else A.const(2))
    if sa is None or sb is None or st is None:
        return None
    na, nb = len(sa), len(sb)
    ax_a, ax_b = _tensordot_axes(st[0], na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    if left:
        nfa = len(free_a)
        pair = (list(range(nfa, nfa + len(free_b))), free_b)
        out = ctx.call("tensordot", [g, b, value_node((pair[0], pair[1]))])
        order = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
    else:
        pair = (free_a, list(range(len(free_a))))
        out = ctx.call("tensordot", [a, g, value_node((pair[0], pair[1]))])
        order = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
    perm = sorted(range(len(order)), key=order.__getitem__)
    if perm != list(range(len(order))):
        out = ctx.call("transpose", [out, value_node(tuple(perm))])
    return out


@specializer("tensordot_adjoint_left")
def _tensordot_left(ctx, g, a, b, axes=None):
    return _tensordot_specialized(ctx, g, a, b, axes, True)


@specializer("tensordot_adjoint_right")
def _tensordot_right(ctx, g, a, b, axes=None):
    return _tensordot_specialized(ctx, g, a, b, axes, False)


_FLOAT_NAMES = {"float", "float16", "float32", "float64", "double", "single", "half",
                "longdouble", "complex", "complex64", "complex128"}


@specializer("astype_adjoint")
def _astype_adjoint(ctx, g, dtype):
    name = dtype.value if isinstance(dtype, gast.Constant) else (
        dtype.id if isinstance(dtype, gast.Name) else (
            dtype.attr if isinstance(dtype, gast.Attribute) else None))
    if isinstance(name, str) and name.lstrip("<>=") in _FLOAT_NAMES | {"f8", "f4", "f2"}:
        return g
    return None


@specializer("cross_adjoint")
def _cross_adjoint(ctx, g, a, b, axisa, axisb, axisc, axis, which):
    """3-vectors along the last axis, nothing broadcast: ``np.cross(b, g)`` for a,
    ``np.cross(g, a)`` for b."""
    sa, sb = ctx.shape(a), ctx.shape(b)       # (g is shaped like the result: like a, b)
    st = _static_args(axisa, axisb, axisc, axis, which)
    if sa is None or sb is None or st is None or not sa or sa != sb or sa[-1] != 3:
        return None
    axisa, axisb, axisc, axis, which = st
    if (axisa, axisb, axisc) != (-1, -1, -1) or axis not in (None, -1):
        return None
    return ctx.call("cross", [b, g] if which == 0 else [g, a])


@specializer("fft_adjoint")
def _fft_adjoint(ctx, g, x, name, n=None, axes=None, norm=None):
    """A complex transform that resizes nothing: its transpose is the same transform of
    the gradient (``np.fft.fft(g, None, -1, None)``)."""
    st = _static_args(name, n if n is not None else A.const(None),
                      axes if axes is not None else A.const(None),
                      norm if norm is not None else A.const(None))
    if st is None or not isinstance(x, gast.Name) or ctx.b.shapes is None \
            or ctx.b.shapes.kind(x.id) != "c" or st[1] is not None \
            or st[0] not in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn"):
        return None
    name, _, axes, norm = st
    if axes is None and name in ("fft", "ifft"):
        axes = -1
    return ctx.call("fft." + name, [g, A.const(None), value_node(axes), value_node(norm)])
