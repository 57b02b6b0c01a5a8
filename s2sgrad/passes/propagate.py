"""Copy and constant propagation, and common subexpressions, in straight-line code."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.passes.common import (_Substitute, _effects, _num, _pure_expr, _stored_anywhere,
                                   _substitute_loads)


def propagate_copies(stmts: List[gast.stmt], numpy_name: str = "np",
                     helpers: Set[str] = frozenset(), keep: Set[str] = frozenset(),
                     fold: Optional[Callable] = None) -> List[gast.stmt]:
    """Forward copies (``a = b``), numeric constants (``a = 1.0``) and repeated pure
    right-hand sides through a statement list, recursively into blocks.

    A copy ``a = b`` is valid until ``a`` or ``b`` is bound again or updated in
    place; reads inside a block are rewritten only when the block stores neither.
    Names in ``keep`` (in-place written ones) are never substituted away.
    ``fold`` (a ``Simplify`` visitor) folds each right-hand side once its reads are
    substituted, so a constant it computes propagates in the same sweep.
    """
    env: Dict[str, gast.expr] = {}          # a -> b (Name) or constant
    # pure right-hand sides by a cheap signature (class, names read), each entry
    # [name holding it, names read, tree, its dump_key or None]: the dump of a tree is
    # made only when another one shares its signature (most never meet their match)
    exprs: Dict[tuple, List[list]] = {}
    # b -> the names a mapped to b since b was last killed, and name -> the exprs
    # entries holding or reading it since then: where kill looks (entries are checked
    # again, so stale ones are fine)
    aliases: Dict[str, Set[str]] = {}
    mentions: Dict[str, List] = {}

    def bind(a, v):
        env[a] = v
        if isinstance(v, gast.Name):
            aliases.setdefault(v.id, set()).add(a)

    def same(sig, v):
        """The live entry whose tree dumps as ``v`` does (at most one), its list."""
        entries = exprs.get(sig)
        if not entries:
            return None, None
        key = A.dump_key(v)
        for entry in entries:
            if entry[3] is None:
                entry[3] = A.dump_key(entry[2])
            if entry[3] == key:
                return entry, key
        return None, key

    def remember(sig, holder, reads, tree, key, old):
        entries = exprs.setdefault(sig, [])
        if old is not None:
            _drop(entries, old)
        entry = [holder, reads, tree, key]
        entries.append(entry)
        for n in (holder, *reads):
            mentions.setdefault(n, []).append((sig, entry))

    def kill(names):
        # (what kill looks at for ``n`` is dropped with it: every alias of ``n`` and
        # every entry mentioning ``n`` is dead after, nothing there to look at again)
        for n in names:
            env.pop(n, None)
            for a in aliases.pop(n, ()):
                v = env.get(a)
                if v is not None and isinstance(v, gast.Name) and v.id in names:
                    del env[a]
            for sig, entry in mentions.pop(n, ()):
                if entry[0] in names or entry[1] & names:
                    entries = exprs.get(sig)
                    if entries:
                        _drop(entries, entry)

    out = []
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            stored = _stored_anywhere(s)
            kill(stored)
            # loads inside the block that no store inside can disturb
            live_env = dict(env)
            if isinstance(s, gast.If):
                s.test = _Substitute(live_env).visit(s.test)
            elif isinstance(s, gast.For):
                s.iter = _Substitute(live_env).visit(s.iter)
            inner_before = dict(live_env)
            s.body = _propagate_inner(s.body, inner_before, numpy_name, helpers, keep, fold)
            s.orelse = _propagate_inner(s.orelse, inner_before, numpy_name, helpers, keep,
                                        fold)
            out.append(s)
            continue
        # (one walk for what the statement reads and stores.  A substitution puts
        # names and numbers where names were read, and folding drops only numbers and
        # signs: the reads change (found again if needed), the stores only when a name
        # substituted was one stored too, ``a.append(x)`` becoming ``b.append(x)``)
        reads, stored = _effects(s)
        if not env.keys().isdisjoint(reads):
            made: List[int] = []
            s = _substitute_loads(s, env, made)
            if sum(made):
                if fold is not None and isinstance(s, gast.Assign) \
                        and isinstance(s.targets[0], gast.Name):
                    new = fold(s.value)
                    if not (isinstance(new, gast.Name) and not isinstance(s.value, gast.Name)
                            and (s.targets[0].id in keep or new.id in keep)):
                        s.value = new
                if env.keys().isdisjoint(stored):
                    reads = None
                else:
                    reads, stored = _effects(s)
        kill(stored)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            a = s.targets[0].id
            v = s.value
            if a not in keep or isinstance(v, gast.Name) or _num(v) is not None:
                if isinstance(v, gast.Name) and v.id != a:
                    bind(a, v)             # an alias the program already had
                elif _num(v) is not None:
                    bind(a, v)
                elif a not in keep and isinstance(v, (gast.Subscript, gast.Call,
                                                      gast.Attribute)) \
                        and _pure_expr(v, numpy_name, helpers):
                    # (arithmetic is rarely repeated in generated code: not worth a dump)
                    if reads is None or len(s.targets) > 1:
                        reads = A.names_loaded(v)   # (else the statement's are v's)
                    if a not in reads:
                        sig = (v.__class__, frozenset(reads))
                        entry, key = same(sig, v)
                        if entry is not None and entry[0] not in keep:
                            s.value = A.load(entry[0])
                            bind(a, s.value)
                        else:
                            remember(sig, a, reads, v, key, entry)
        out.append(s)
    return out


def _drop(entries, entry):
    """Remove ``entry`` itself (not an equal one) from ``entries``, if there."""
    for i, e in enumerate(entries):
        if e is entry:
            del entries[i]
            return


def _propagate_inner(stmts, env, numpy_name, helpers, keep, fold=None):
    """Inside a block: substitute the outer copies that the block never disturbs,
    then propagate the block's own copies."""
    stmts = [_substitute_loads(s, env) if not isinstance(s, (gast.If, gast.For, gast.While))
             else s for s in stmts]
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            _Substitute(env).visit(s)
    return propagate_copies(stmts, numpy_name, helpers, keep, fold)
