"""Small helpers to build and inspect gast trees (no compiler logic here)."""
from __future__ import annotations

import copy
from typing import Iterable, List, Optional, Set

import gast


def parse_expr(src: str) -> gast.expr:
    return gast.parse(src, mode="eval").body


def parse_stmts(src: str) -> List[gast.stmt]:
    return gast.parse(src).body


def parse_stmt(src: str) -> gast.stmt:
    (stmt,) = parse_stmts(src)
    return stmt


def load(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def store(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)


def const(value) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def assign(target, value: gast.expr) -> gast.Assign:
    if isinstance(target, str):
        target = store(target)
    return gast.Assign(targets=[target], value=value, type_comment=None)


def call(func, args=(), keywords=()) -> gast.Call:
    if isinstance(func, str):
        func = parse_expr(func)
    return gast.Call(func=func, args=list(args),
                     keywords=[gast.keyword(arg=k, value=v) for k, v in keywords])


def as_load(node):
    """A deep copy of ``node`` with every context set to Load."""
    node = copy.deepcopy(node)
    for sub in gast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = gast.Load()
    return node


def as_store(node):
    node = copy.deepcopy(node)
    if hasattr(node, "ctx"):
        node.ctx = gast.Store()
    if isinstance(node, (gast.Tuple, gast.List)):
        node.elts = [as_store(e) for e in node.elts]
    return node


def names_loaded(node) -> Set[str]:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def names_stored(node) -> Set[str]:
    out = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param)):
            out.add(n.id)
    return out


def all_names(node) -> Set[str]:
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}


def dotted(node) -> Optional[str]:
    """'np.linalg.norm' for an Attribute chain of Names, else None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, gast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def root_name(node) -> Optional[str]:
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


class Renamer(gast.NodeTransformer):
    """Replace Name nodes by mapping[id] (a node or a new id)."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            new = self.mapping[node.id]
            if isinstance(new, str):
                return gast.copy_location(gast.Name(id=new, ctx=node.ctx, annotation=None,
                                                    type_comment=None), node)
            new = copy.deepcopy(new)
            if hasattr(new, "ctx") and not isinstance(node.ctx, gast.Load):
                new.ctx = node.ctx
            return new
        return node


def rename(node, mapping):
    return Renamer(mapping).visit(node)


def copy_origin(new, old):
    """Carry the source statement a trace node came from (for comments, errors)."""
    origin = getattr(old, "s2s_origin", None)
    if origin is not None:
        new.s2s_origin = origin
    return new


class NameAllocator:
    """Hands out identifiers that never collide with the user's or earlier ones."""

    def __init__(self, taken: Iterable[str] = ()):
        self.taken: Set[str] = set(taken)

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def fresh(self, base: str) -> str:
        """``base`` itself if free, else base_1, base_2, ..."""
        if base not in self.taken:
            self.taken.add(base)
            return base
        k = 1
        while "%s_%d" % (base, k) in self.taken:
            k += 1
        name = "%s_%d" % (base, k)
        self.taken.add(name)
        return name

    def numbered(self, base: str) -> str:
        """base0, base1, ... : names of the intermediates of one statement."""
        k = 0
        while "%s%d" % (base, k) in self.taken:
            k += 1
        name = "%s%d" % (base, k)
        self.taken.add(name)
        return name
