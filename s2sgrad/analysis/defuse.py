"""Definitions and uses of names, with memory shared through views.

A statement defines the names it binds; it also *changes* every name whose object it
writes into (``y[i] = v``, ``y += v`` on an array, ``ys.append(v)``), and with it every
name that may share that object's memory (``v = y[0]``, ``v = y.T``,
``v = np.reshape(y, s)``: the views of ``analysis/effects.py``'s table).  The passes
that substitute, merge or reuse values read these facts from here, so that one
notion of "what may change this value" holds everywhere.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.effects import MUTATING_METHODS, is_view_call


def view_sources(value: gast.expr) -> Set[str]:
    """The names whose memory the value of ``value`` may share (``b`` for ``b``,
    ``b[i]``, ``b.T``, ``b.reshape(s)``, ``np.reshape(b, s)``, ``np.einsum('ij->ji', b)``)."""
    if isinstance(value, gast.Name):
        return {value.id}
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        return view_sources(value.value)
    if isinstance(value, gast.Call) and is_view_call(value):
        f = value.func
        found = view_sources(f.value) if isinstance(f, gast.Attribute) else set()
        if value.args:
            operand = value.args[-1] if getattr(f, "attr", getattr(f, "id", "")) == "einsum" \
                else value.args[0]
            found = found | view_sources(operand)
        return found
    return set()


def views(stmts: List[gast.stmt], local_names: Optional[Set[str]] = None
          ) -> Dict[str, Set[str]]:
    """name -> the names whose memory it may share, through any chain of views
    assigned anywhere in ``stmts`` (at any depth).  ``local_names``: the names that
    hold the function's values (others, such as ``np`` in ``np.reshape(y, s)``, are
    not counted); None counts every name."""
    out: Dict[str, Set[str]] = {}
    for s in A.nodes(gast.Module(body=stmts, type_ignores=[])):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            found = view_sources(s.value) - {s.targets[0].id}
            if local_names is not None:
                found &= local_names
            if found:
                out.setdefault(s.targets[0].id, set()).update(found)
    changed = True
    while changed:
        changed = False
        for k, roots in out.items():
            more = set().union(*[out.get(r, set()) for r in roots]) - roots - {k}
            if more:
                roots |= more
                changed = True
    return out


def written_in_place(stmts: Iterable[gast.stmt]) -> Set[str]:
    """Names whose object some statement (at any depth) writes into: ``y[i] = v``,
    ``y += v``, ``y.fill(0.0)``, ``ys.append(v)``."""
    out: Set[str] = set()
    for s in A.nodes(gast.Module(body=list(stmts), type_ignores=[])):
        if isinstance(s, gast.AugAssign):
            out.add(A.root_name(s.target))
        elif isinstance(s, gast.Assign):
            for t in s.targets:
                if isinstance(t, (gast.Subscript, gast.Attribute)):
                    out.add(A.root_name(t))
        elif isinstance(s, gast.Call) and isinstance(s.func, gast.Attribute) \
                and s.func.attr in MUTATING_METHODS:
            out.add(A.root_name(s.func))
    out.discard(None)
    return out


def _written(s) -> List[str]:
    """The names whose object the simple statement ``s`` writes into."""
    if isinstance(s, gast.AugAssign):
        return [A.root_name(s.target)]
    if isinstance(s, gast.Assign):
        return [A.root_name(t) for t in s.targets
                if isinstance(t, (gast.Subscript, gast.Attribute))]
    if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and \
            isinstance(s.value.func, gast.Attribute) and s.value.func.attr in MUTATING_METHODS:
        return [A.root_name(s.value.func)]
    return []


def views_at_writes(stmts: List, local_names: Set[str]) -> Dict[int, Set[str]]:
    """id(statement) -> the names that, when that statement writes into an object in
    place (``y[i] = v``, ``y += v``, ``ys.append(v)``), may share the object's memory
    (other than the name written through): their value changes there although no
    statement binds them.  Flow-sensitive (a name re-bound to a new array shares
    nothing any more), over the structured statements (a loop's body twice, both
    branches); writes that change no other name are left out."""
    out: Dict[int, Set[str]] = {}

    def merge(a, b):
        return {n: a.get(n, frozenset()) | b.get(n, frozenset()) for n in set(a) | set(b)}

    def shared_by(value, roots, fresh):
        src = view_sources(value) & local_names
        if not src:
            return frozenset([fresh])
        return frozenset().union(*[roots.get(n, frozenset([n])) for n in src])

    def walk(stmts, roots):
        for s in stmts:
            if isinstance(s, list):
                roots = walk(s, roots)
                continue
            if isinstance(s, gast.If):
                roots = merge(walk(s.body, dict(roots)), walk(s.orelse, dict(roots)))
                continue
            if isinstance(s, (gast.For, gast.While)):
                entry = dict(roots)
                if isinstance(s, gast.For):
                    for n in A.names_stored(s.target):
                        entry[n] = shared_by(s.iter, roots, (id(s), n))
                once = walk(s.body, dict(entry))
                twice = walk(s.body, merge(entry, once))
                roots = walk(s.orelse, merge(roots, merge(once, twice)))
                continue
            for y in _written(s):
                if y is None:
                    continue
                mine = roots.get(y, frozenset([y]))
                shared = {n for n, r in roots.items() if n != y and not r.isdisjoint(mine)}
                if shared:
                    out.setdefault(id(s), set()).update(shared)
            if isinstance(s, gast.Assign):
                for t in s.targets:
                    if isinstance(t, (gast.Subscript, gast.Attribute)):
                        continue
                    for n in A.names_stored(t):
                        roots[n] = shared_by(s.value, roots, (id(s), n))
        return roots

    walk(stmts, {})
    return out
