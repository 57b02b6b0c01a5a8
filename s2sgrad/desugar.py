"""Desugaring passes: Python forms rewritten into ones the primal trace already knows.

Each pass takes and returns a list of statements (the user's tree, after inlining
and control-flow lowering) and keeps the meaning Python gives the form:

* ``split_unpacking``: tuple targets with more than names in them --
  ``a, (b, c) = t``, ``first, *mid, last = xs``, ``y[0], y[1] = u, v`` -- become
  a flat unpacking into names, or indexing, followed by one plain assignment per
  element.  (A flat ``a, b = t`` is left to the trace: the reverse pass gives ``t``
  the tuple of the targets' gradients.)
"""
from __future__ import annotations

from typing import List

import gast

from . import astutil as A

# Calls whose result is an iterator (not indexable): unpacked through list(...).
_ITERATORS = {"zip", "map", "filter", "iter", "enumerate", "reversed", "range", "sorted"}


def _loc(node, like):
    """``node`` at ``like``'s place, from the same source (an inlined callee's, too)."""
    gast.copy_location(node, like)
    for attr in ("s2s_info", "s2s_origin"):
        if hasattr(like, attr):
            setattr(node, attr, getattr(like, attr))
    return node


class _Unpacking:
    def __init__(self, names: A.NameAllocator):
        self.names = names

    def block(self, stmts: List[gast.stmt]) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        for s in stmts:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, self.block(getattr(s, field)))
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and self.needs(s.targets[0]):
                out.extend(self.split(s.targets[0], s.value, s))
            else:
                out.append(s)
        return out

    @staticmethod
    def needs(target) -> bool:
        return isinstance(target, (gast.Tuple, gast.List)) and any(
            not isinstance(e, gast.Name) for e in target.elts)

    def source(self, value, like, out: List[gast.stmt]) -> gast.expr:
        """``value`` as a name (evaluated once), a list if it is an iterator."""
        if isinstance(value, gast.Name):
            return value
        if isinstance(value, gast.Call) and A.dotted(value.func) in _ITERATORS:
            value = A.call("list", [value])
        name = self.names.fresh("seq")
        out.append(_loc(A.assign(name, value), like))
        return A.load(name)

    def split(self, target, value, like) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        elts = target.elts
        starred = [k for k, e in enumerate(elts) if isinstance(e, gast.Starred)]
        if not starred and isinstance(value, (gast.Tuple, gast.List)) \
                and len(value.elts) == len(elts) and not any(
                    isinstance(e, gast.Starred) for e in value.elts):
            # a, (b, c) = x, (y, z): every right-hand side first (a swap reads the
            # old values), then one assignment per target
            held = []
            for v in value.elts:
                if isinstance(v, gast.Constant):
                    held.append(v)
                else:
                    name = self.names.fresh("item")
                    out.append(_loc(A.assign(name, v), like))
                    held.append(A.load(name))
            for t, v in zip(elts, held):
                out.extend(self.one(t, v, like))
            return out
        seq = self.source(value, like, out)
        if not starred:
            # a, (b, c) = t  ->  a, t_1 = t; b, c = t_1
            flat, later = [], []
            for e in elts:
                if isinstance(e, gast.Name):
                    flat.append(A.store(e.id))
                else:
                    name = self.names.fresh("item")
                    flat.append(A.store(name))
                    later.append((e, A.load(name)))
            out.append(_loc(A.assign(gast.Tuple(elts=flat, ctx=gast.Store()), A.clone(seq)),
                            like))
            for e, v in later:
                out.extend(self.one(e, v, like))
            return out
        # first, *mid, last = xs  ->  first = xs[0]; mid = list(xs[1:-1]); last = xs[-1]
        k = starred[0]
        after = len(elts) - k - 1
        for i, e in enumerate(elts):
            if i < k:
                index = A.const(i)
            elif i > k:
                index = gast.UnaryOp(op=gast.USub(), operand=A.const(len(elts) - i))
            else:
                index = gast.Slice(lower=A.const(k) if k else None,
                                   upper=gast.UnaryOp(op=gast.USub(), operand=A.const(after))
                                   if after else None, step=None)
            item = gast.Subscript(value=A.clone(seq), slice=index, ctx=gast.Load())
            if i == k:
                out.extend(self.one(e.value, A.call("list", [item]), like))
            else:
                out.extend(self.one(e, item, like))
        return out

    def one(self, target, value, like) -> List[gast.stmt]:
        if self.needs(target) or (isinstance(target, (gast.Tuple, gast.List)) and any(
                isinstance(e, gast.Starred) for e in target.elts)):
            return self.split(target, value, like)
        return [_loc(A.assign(A.as_store(target), value), like)]


def split_unpacking(body: List[gast.stmt], names: A.NameAllocator) -> List[gast.stmt]:
    return _Unpacking(names).block(body)
