"""Dead code: assignments nobody reads (the whole function, by liveness), and dead
forward statements before the stacks are decided."""
from __future__ import annotations

from typing import Dict, List, Set, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.dataflow import Environment, pure_assignment
from s2sgrad.passes.common import _SIMPLE_STATEMENTS, _pure_expr, _reads, flatten


def eliminate_dead_code(fn: gast.FunctionDef, numpy_name: str = "np",
                        helpers: Set[str] = frozenset()) -> gast.FunctionDef:
    """Remove ``name = pure_expr`` when no later statement reads ``name`` before
    binding it again (liveness, backwards; a loop body's live-out is what is live
    after the loop plus everything the loop reads), to a fixed point."""
    # what a simple statement reads, and whether an assignment is pure, found once
    # for all the sweeps (statements are removed here, never edited)
    known: Dict[int, list] = {}             # id -> [statement, names read, pure or None]

    def facts(s, value):
        e = known.get(id(s))
        if e is None or e[0] is not s:
            e = known[id(s)] = [s, A.names_loaded(s.value) if value else _reads(s), None]
        return e

    def pure(s):
        e = facts(s, True)
        if e[2] is None:
            e[2] = _pure_expr(s.value, numpy_name, helpers)
        return e[2]

    while True:
        removed = [False]

        def sweep(stmts, live: Set[str]) -> Tuple[List[gast.stmt], Set[str]]:
            # (``live`` is this sweep's own set, updated in place: callers give a copy)
            out = []
            for s in reversed(stmts):
                if isinstance(s, (gast.For, gast.While)):
                    loop_live = live | _reads(s)
                    s.body, _ = sweep(s.body, set(loop_live))
                    s.orelse, _ = sweep(s.orelse, set(live))
                    live = live | _reads(s)
                elif isinstance(s, gast.If):
                    s.body, in_body = sweep(s.body, set(live))
                    s.orelse, in_else = sweep(s.orelse, set(live))
                    live = in_body | in_else | A.names_loaded(s.test)
                elif (isinstance(s, gast.Assign) and len(s.targets) == 1
                      and isinstance(s.targets[0], gast.Name)):
                    name = s.targets[0].id
                    if name not in live and pure(s):
                        removed[0] = True
                        continue
                    live.discard(name)
                    live |= facts(s, True)[1]
                elif isinstance(s, (gast.AugAssign, _SIMPLE_STATEMENTS)):
                    live |= facts(s, False)[1]
                else:
                    live |= _reads(s)
                out.append(s)
            out.reverse()
            return out, live

        # (straight-line code is settled in one sweep: each statement was judged on
        # what the statements kept after it read.  Not so with blocks: a loop's first
        # sweep is not, and a block emptied goes, and with it what its test read)
        blocks = any(isinstance(s, _SWEPT_BLOCKS) for s in fn.body)
        fn.body, _ = sweep(fn.body, set())
        fn.body = flatten(fn.body)
        if not removed[0] or not blocks:
            return fn


_SWEPT_BLOCKS = (gast.For, gast.While, gast.If)


def eliminate_dead_forward(forward: List[gast.stmt], live: Set[str], env: Environment,
                           helpers: Set[str] = frozenset()) -> List[gast.stmt]:
    """Drop top-level assignments nobody reads: those ``dataflow.pure_assignment``
    proves free of effects (``helpers``: runtime helpers the code may call), whose name
    is not in ``live`` nor read by a statement kept after them.  (Reverse mode's
    forward sweep before the stacks are decided, forward mode's function; a nested
    list, a slot the restores fill later, is kept as it is.)"""
    live = set(live)
    kept: List[gast.stmt] = []
    for stmt in reversed(forward):
        if isinstance(stmt, list):
            kept.append(stmt)
            continue
        if pure_assignment(stmt, env, helpers) and stmt.targets[0].id not in live:
            continue
        # (``n += 1``, a while loop's trip counter, reads n too, though its ctx is Store)
        live |= _reads(stmt)
        kept.append(stmt)
    kept.reverse()
    return kept
