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

from s2sgrad import astutil as A

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


# --------------------------------------------------------------------------
# *args, keyword-only parameters, **kwargs: ordinary parameters


def flatten_signature(node: gast.FunctionDef) -> gast.FunctionDef:
    """``def f(x, *args, reg=0.1, **kw)`` -> ``def f(x, args, reg, kw)``, in the order of
    ``inspect.signature`` (the order ``GradientFunction`` binds a call's values in):
    ``args`` holds the tuple of extra positional arguments, ``kw`` the dict of extra
    keywords.  What each parameter was is kept in ``node.s2s_signature`` for the
    inliner, which binds a call site's arguments to them (``inline.Inliner.bind``)."""
    args = node.args
    if getattr(node, "s2s_signature", None) is not None:
        return node
    positional = len(args.posonlyargs) + len(args.args)
    node.s2s_signature = {
        "positional": positional,
        "posonly": [a.id for a in args.posonlyargs],
        "vararg": args.vararg.id if args.vararg is not None else None,
        "kwonly": [a.id for a in args.kwonlyargs],
        "kw_defaults": {a.id: d for a, d in zip(args.kwonlyargs, args.kw_defaults)
                        if d is not None},
        "kwarg": args.kwarg.id if args.kwarg is not None else None,
    }
    if args.vararg is None and args.kwarg is None and not args.kwonlyargs:
        return node
    extra = ([args.vararg] if args.vararg is not None else []) + list(args.kwonlyargs) + (
        [args.kwarg] if args.kwarg is not None else [])
    for a in extra:
        a.ctx = gast.Param()
        a.annotation = None
    args.args = list(args.args) + extra
    args.vararg, args.kwarg, args.kwonlyargs, args.kw_defaults = None, None, [], []
    return node


# --------------------------------------------------------------------------
# f(*xs) and f(**d) over displays; displays indexed by constants


def _static_key(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, (str, int)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
            and isinstance(node.operand, gast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _display_keys(node):
    """The constant keys of a dict display (None if any key is not a constant)."""
    keys = [_static_key(k) if k is not None else None for k in node.keys]
    return None if any(k is None or not isinstance(k, str) for k in keys) else keys


def _pure(elts) -> bool:
    return all(isinstance(e, (gast.Name, gast.Constant)) for e in elts)


class _Displays(A.Transformer):
    """``f(*(a, b), **{'k': v})`` -> ``f(a, b, k=v)``; ``(a, b)[0]`` -> ``a``;
    ``{'k': v}['k']`` / ``.get('k', d)`` -> ``v``; ``'k' in {'k': v}`` -> ``True``;
    ``len((a, b))`` -> ``2`` (what inlining ``*args`` and ``**kwargs`` leaves)."""

    def visit_Call(self, node):
        self.generic_visit(node)
        args = []
        for a in node.args:
            if isinstance(a, gast.Starred) and isinstance(a.value, (gast.Tuple, gast.List)):
                args.extend(a.value.elts)
            else:
                args.append(a)
        node.args = args
        keywords = []
        for k in node.keywords:
            if k.arg is None and isinstance(k.value, gast.Dict) \
                    and _display_keys(k.value) is not None:
                keywords.extend(gast.keyword(arg=key, value=v)
                                for key, v in zip(_display_keys(k.value), k.value.values))
            else:
                keywords.append(k)
        node.keywords = keywords
        func = node.func
        if A.dotted(func) == "len" and len(node.args) == 1 and not node.keywords and \
                isinstance(node.args[0], (gast.Tuple, gast.List)) and _pure(node.args[0].elts):
            return gast.copy_location(A.const(len(node.args[0].elts)), node)
        if isinstance(func, gast.Attribute) and func.attr == "get" and isinstance(
                func.value, gast.Dict) and _display_keys(func.value) is not None \
                and _pure(func.value.values) \
                and 1 <= len(node.args) <= 2 and not node.keywords:
            key = _static_key(node.args[0])
            if isinstance(key, str):
                keys = _display_keys(func.value)
                if key in keys:
                    return func.value.values[len(keys) - 1 - keys[::-1].index(key)]
                return node.args[1] if len(node.args) == 2 else A.const(None)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if not isinstance(node.ctx, gast.Load):
            return node
        key = _static_key(node.slice)
        value = node.value
        if isinstance(value, (gast.Tuple, gast.List)) and isinstance(key, int) \
                and _pure(value.elts) \
                and -len(value.elts) <= key < len(value.elts):
            return value.elts[key]
        if isinstance(value, gast.Dict) and isinstance(key, str) and _pure(value.values) \
                and _display_keys(value) is not None and key in _display_keys(value):
            keys = _display_keys(value)
            return value.values[len(keys) - 1 - keys[::-1].index(key)]
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.In, gast.NotIn)) and \
                isinstance(node.comparators[0], gast.Dict) and \
                _pure(node.comparators[0].values) and _display_keys(node.comparators[0]) is not None:
            key = _static_key(node.left)
            if isinstance(key, str):
                found = key in _display_keys(node.comparators[0])
                return gast.copy_location(A.const(
                    found if isinstance(node.ops[0], gast.In) else not found), node)
        return node


def fold_displays(node):
    """``_Displays`` on one statement or expression (see there)."""
    return _Displays().visit(node)


# --------------------------------------------------------------------------
# f(*xs) where the length of xs is known before the call runs


def tuple_lengths(body: List[gast.stmt], params=(), example_args=None) -> dict:
    """Names whose length is known at generation time: parameters called with a tuple
    or list (the signature includes its length) and locals assigned a tuple display
    once, never assigned otherwise."""
    module = gast.Module(body=body, type_ignores=[])
    stored = {}
    for node in A.nodes(module):
        targets = node.targets if isinstance(node, gast.Assign) else \
            [node.target] if isinstance(node, (gast.AugAssign, gast.For, gast.AnnAssign,
                                                gast.comprehension)) else []
        for t in targets:
            for n in A.names_stored(t):
                stored.setdefault(n, []).append(
                    node.value if isinstance(node, gast.Assign) and t is node.targets[0]
                    and isinstance(t, gast.Name) and len(node.targets) == 1 else None)
    lengths = {}
    for p, a in zip(params, example_args or ()):
        if isinstance(a, (tuple, list)) and p not in stored:
            lengths[p] = len(a)
    for n, values in stored.items():
        if len(values) == 1 and isinstance(values[0], gast.Tuple) and not any(
                isinstance(e, gast.Starred) for e in values[0].elts):
            lengths[n] = len(values[0].elts)
    return lengths


class _StarredNames(A.Transformer):
    def __init__(self, lengths):
        self.lengths = lengths

    def visit_Call(self, node):
        self.generic_visit(node)
        args = []
        for a in node.args:
            if isinstance(a, gast.Starred) and isinstance(a.value, gast.Name) \
                    and a.value.id in self.lengths:
                a = gast.Starred(value=gast.Tuple(elts=[
                    gast.Subscript(value=A.load(a.value.id), slice=A.const(k), ctx=gast.Load())
                    for k in range(self.lengths[a.value.id])], ctx=gast.Load()),
                    ctx=gast.Load())
            args.append(a)
        node.args = args
        return node


def expand_starred(body: List[gast.stmt], params=(), example_args=None) -> List[gast.stmt]:
    """``f(*xs)`` -> ``f(*(xs[0], xs[1]))`` when the length of ``xs`` is known
    (``tuple_lengths``); the display is then spread by ``fold_displays`` or bound
    to ``*args`` by the inliner."""
    lengths = tuple_lengths(body, params, example_args)
    if not lengths:
        return body
    visitor = _StarredNames(lengths)
    return [visitor.visit(s) for s in body]
