"""Backward liveness over structured statements: one fixed point for every client.

A name is *live* at a point when some path from there reads it before binding it
again.  The statements are the structured trees the compiler makes (blocks,
``if``/``else``, ``for`` and ``while`` loops, and nested lists of statements, which
count as their items in order); the loops are solved by iterating their body to a
fixed point.  A client says what a simple statement reads and binds (``transfer``),
what a test or a loop's iterable reads (``reads``), and may watch each statement
with the names live right after it (``after``): the optimizer's temporaries, the
restores of the reverse pass and the front end's check of writes through views all
ask this one analysis.

Semantics of the loops (Python's):
* ``for t in it: body`` -- ``it`` is read once, before the first trip; each trip binds
  ``t`` and runs the body; after the last trip (or none) the ``else`` block runs.
* ``while test: body`` -- ``test`` is read before every trip and once more at the end.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Set

import gast

from s2sgrad import astutil as A

Transfer = Callable[[gast.stmt, Set[str]], Set[str]]


class Liveness:
    """``live_in = Liveness(transfer, reads).block(stmts, live_out)``.

    ``transfer(s, live_after)`` gives the names live before a simple statement ``s``
    (it must return a new set, or ``live_after`` itself unchanged); ``reads(expr)``
    the names a test or an iterable reads; ``after(s, live)``, if given, is called once
    per statement visit with the names live right after it (a loop's body is visited
    once per round of its fixed point: the last visit has the final answer).
    ``kill_targets``: a ``for`` loop's target is bound at each trip's start (False
    keeps it live through the loop, as a client that rewrites loops may want)."""

    def __init__(self, transfer: Transfer, reads: Callable[[gast.expr], Set[str]],
                 after: Optional[Callable[[gast.stmt, Set[str]], None]] = None,
                 kill_targets: bool = True, rounds: int = 8):
        self.transfer = transfer
        self.reads = reads
        self.after = after
        self.kill_targets = kill_targets
        self.rounds = rounds

    def block(self, stmts: List, live: Set[str]) -> Set[str]:
        """The names live before ``stmts`` when ``live`` are live after them."""
        for s in reversed(stmts):
            if isinstance(s, list):
                live = self.block(s, live)
                continue
            if self.after is not None:
                self.after(s, live)
            cls = s.__class__
            if cls is gast.If:
                live = self.block(s.body, live) | self.block(s.orelse, live) | \
                    self.reads(s.test)
            elif cls is gast.For or cls is gast.While:
                live = self.loop(s, live)
            else:
                live = self.transfer(s, live)
        return live

    def loop(self, s, live: Set[str]) -> Set[str]:
        # (a ``break`` leaves without the ``else`` block: what is live after the loop
        # stays live through it too)
        exit_live = self.block(s.orelse, live) | live if s.orelse else live
        is_for = s.__class__ is gast.For
        bound = A.names_stored(s.target) if is_for and self.kill_targets else set()
        head = set(exit_live) if is_for else exit_live | self.reads(s.test)
        for _ in range(self.rounds):
            body_in = self.block(s.body, head)
            more = (body_in - bound) - head
            if not more:
                break
            head = head | more
        else:
            raise AssertionError("liveness: no fixed point after %d rounds" % self.rounds)
        return head | self.reads(s.iter) if is_for else head


def live_in(stmts: List, live_out: Set[str], transfer: Transfer,
            reads: Callable[[gast.expr], Set[str]], **options) -> Set[str]:
    """The names live before ``stmts`` (see ``Liveness``)."""
    return Liveness(transfer, reads, **options).block(stmts, set(live_out))
