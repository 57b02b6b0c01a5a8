"""``np.broadcast_to`` dropped where every reader broadcasts anyway."""
from __future__ import annotations

from typing import Dict, List, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.passes.common import (ShapeOracle, _ELEMENTWISE, _FIELDS_OF, _bcast,
                                   _const_shape, _effects, _num, _protected, is_weak)


_LAZY_CALLS = ("broadcast_to", "expand_dims")     # (the NumPy functions ``lower`` reads)


def elide_broadcasts(fn: gast.FunctionDef, oracle: ShapeOracle,
                     protected: Optional[Set[str]] = None) -> gast.FunctionDef:
    """Top-level straight-line code: ``g = np.broadcast_to(e, S)`` keeps ``g = e``
    (a *lazy* value: broadcasting it gives the true one) as long as every reader
    broadcasts anyway -- an elementwise operation whose result has the same shape
    either way, an in-place ``+=``, ``np.expand_dims`` of a lazy scalar.  Any other
    reader, a block, or the result gets ``np.broadcast_to(g, S)`` back."""
    np_name = oracle.numpy_name
    written = _protected(fn) if protected is None else protected
    lazy: Dict[str, tuple] = {}          # name -> its true shape
    actual: Dict[str, Optional[tuple]] = {}
    # the statement being lowered assigns a float32 / float16 value (a gradient of a
    # float32 primal): a broadcast Python number in it stands for a float32 one
    narrow_target = [False]
    weak_lazy: Set[str] = set()          # lazy names broadcasting a Python number

    def weak(node):
        return is_weak(node, weak_lazy)

    def shape_of(node):
        if isinstance(node, gast.Name):
            if node.id in actual:
                return actual[node.id]
            return oracle.shape(node.id)
        if _num(node) is not None:
            return ()
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
            return _bcast(shape_of(node.left), shape_of(node.right))
        if isinstance(node, gast.UnaryOp):
            return shape_of(node.operand)
        if isinstance(node, gast.Compare) and len(node.comparators) == 1:
            return _bcast(shape_of(node.left), shape_of(node.comparators[0]))
        if isinstance(node, gast.Call):
            path = A.dotted(node.func)
            if path == np_name + ".broadcast_to" and len(node.args) == 2:
                return _const_shape(node.args[1])
            if path == np_name + ".sum" and len(node.args) == 1 and not node.keywords:
                return ()
        return None

    def materialize(expr, true_shape):
        node = A.call(A.parse_expr(np_name + ".broadcast_to"),
                      [expr, A.parse_expr(repr(tuple(true_shape)))])
        node.s2s_materialized = True        # a later round must not elide it again
        return node

    def lower(node, strict=False):
        """(new node, true shape if lazy else None).  ``strict``: the node's own
        value must come out true-shaped and fresh (it is updated in place later)."""
        cls = node.__class__
        if cls is gast.Constant:
            return node, None
        if cls is gast.Name and isinstance(node.ctx, gast.Load):
            return node, lazy.get(node.id)
        if cls is gast.Call and not node.keywords \
                and isinstance(node.func, gast.Attribute) and node.func.attr in _LAZY_CALLS:
            path = A.dotted(node.func)
            if path == np_name + ".broadcast_to" and len(node.args) == 2 \
                    and not getattr(node, "s2s_materialized", False):
                target = _const_shape(node.args[1])
                inner, t = lower(node.args[0])
                s = shape_of(inner)
                if target is not None and s is not None and _bcast(s, target) == target:
                    return inner, (None if (t is None and s == target) else target)
                node.args[0] = inner if t is None else materialize(inner, t)
                return node, None
            if path == np_name + ".expand_dims" and len(node.args) == 2:
                inner, t = lower(node.args[0])
                k = _num(node.args[1])
                if t is not None and shape_of(inner) == () and isinstance(k, int) \
                        and -len(t) - 1 <= k <= len(t):
                    k = k % (len(t) + 1)
                    return inner, tuple(t[:k]) + (1,) + tuple(t[k:])
                node.args[0] = inner if t is None else materialize(inner, t)
                return node, None
        if cls is gast.BinOp and isinstance(node.op, _ELEMENTWISE):
            la, ta = lower(node.left)
            lb, tb = lower(node.right)
            node.left, node.right = la, lb
            if ta is None and tb is None:
                return node, None
            sa, sb = shape_of(la), shape_of(lb)
            true_a = ta if ta is not None else sa
            true_b = tb if tb is not None else sb
            narrowing = (ta is None and not oracle.is_wide(la)) or (
                tb is None and not oracle.is_wide(lb))
            if narrowing and narrow_target[0] and (
                    (tb is None and ta is not None and weak(la))
                    or (ta is None and tb is not None and weak(lb))):
                # a Python number broadcast, combined with a float32 array, in float32
                # code: dropping the broadcast keeps the float32 the statement computes
                narrowing = False
            t_out, a_out = _bcast(true_a, true_b), _bcast(sa, sb)
            if not (sa is None or sb is None or true_a is None or true_b is None
                    or narrowing or t_out is None):
                if t_out == a_out:
                    return node, None           # the operation broadcasts by itself
                if not strict:
                    return node, t_out
            if ta is not None:
                node.left = materialize(la, ta)
            if tb is not None:
                node.right = materialize(lb, tb)
            return node, None
        if cls is gast.UnaryOp and isinstance(node.op, (gast.USub, gast.UAdd)):
            inner, t = lower(node.operand)
            if strict and t is not None:
                node.operand = materialize(inner, t)
                return node, None
            node.operand = inner
            return node, t
        # any other reader needs the true value
        fields = _FIELDS_OF(cls)
        if fields is None:
            fields = A._name_fields(cls)
        for field in fields:                # (contexts and operators hold no reader)
            value = getattr(node, field, None)
            if isinstance(value, gast.expr):
                new, t = lower(value)
                setattr(node, field, new if t is None else materialize(new, t))
            elif isinstance(value, list):
                new_list = []
                for v in value:
                    if isinstance(v, gast.expr):
                        new, t = lower(v)
                        v = new if t is None else materialize(new, t)
                    elif isinstance(v, gast.keyword):
                        new, t = lower(v.value)
                        v.value = new if t is None else materialize(new, t)
                    new_list.append(v)
                setattr(node, field, new_list)
        return node, None

    def restore(names) -> List[gast.stmt]:
        out = []
        for n in sorted(names):
            if n in lazy:
                s = A.assign(n, materialize(A.load(n), lazy.pop(n)))
                actual.pop(n, None)
                out.append(s)
        return out

    body: List[gast.stmt] = []
    for s in fn.body:
        narrow_target[0] = isinstance(s, (gast.Assign, gast.AugAssign)) and (
            A.root_name(s.targets[0] if isinstance(s, gast.Assign) else s.target)
            in oracle.narrow)
        if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Name):
            a = s.targets[0].id
            new, t = lower(s.value, strict=a in written)
            if t is not None and (a in written or shape_of(new) is None):
                new, t = materialize(new, t), None
            s.value = new
            lazy.pop(a, None)
            actual.pop(a, None)
            weak_lazy.discard(a)
            if t is not None:
                lazy[a] = t
                actual[a] = shape_of(new)
                if weak(new):
                    weak_lazy.add(a)
            body.append(s)
        elif isinstance(s, gast.AugAssign) and isinstance(s.op, _ELEMENTWISE) \
                and A.root_name(s.target) not in lazy:
            # in place: the target's buffer broadcasts the value
            body += restore(A.names_loaded(s.target))
            s.value, _ = lower(s.value)
            body.append(s)
        elif isinstance(s, gast.Assign) and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Subscript) \
                and A.root_name(s.targets[0]) not in lazy:
            body += restore(A.names_loaded(s.targets[0]))
            s.value, _ = lower(s.value)         # y[i] = v broadcasts v
            body.append(s)
        else:
            # (the names it loads or binds, and the roots it updates in place)
            reads, stored = _effects(s)
            body += restore(reads | stored)
            for n in stored:
                actual.pop(n, None)
            body.append(s)
    fn.body = body
    return fn
