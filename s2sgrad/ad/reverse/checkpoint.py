"""Checkpointing of long loops: ``grad(f, checkpoint=True)`` trades time for memory.

Reverse mode saves, on every trip of a loop, what its backward pass needs (the
``h_stack.append(h)`` lines): a 100k-step RNN keeps 100k states.  With checkpointing,
the forward loop runs in segments of ``K`` trips and saves only the loop's *state* at
the start of each segment (the names a trip reads before it assigns them).  The
backward pass walks the segments from the last: it restores a segment's state,
**recomputes** the segment's trips (this time saving what the backward pass needs),
then runs their backward trips.  Memory: ``T / K`` checkpoints plus the saves of one
segment; time: the forward loop twice.  ``K = sqrt(T)`` (``checkpoint=True``) keeps
about ``2 sqrt(T)`` states instead of ``T``; ``checkpoint=K`` fixes the segment length.

The pass works on the finished gradient function (after the optimizer), where a loop
of the forward pass and its backward loop stand at the top level:

    for t in range(T):                       for t in reversed(range(T)):
        ...                                      ...
        h_stack.append(h)                        h = h_stack.pop()
        h = np.tanh(...)                         ...

Recomputing a trip must give the same values and change nothing else, so the forward
loop may only assign names (pure right-hand sides: no random draws, no in-place
writes, no appends to a list of the user's); anything else is an error naming the
loop, never a silently different recomputation.
"""
from __future__ import annotations

from typing import Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.back.emit import Comment
from s2sgrad.errors import UnsupportedSyntaxError
from s2sgrad.analysis.effects import pure_expr as _pure_expr

__all__ = ["checkpoint_loops"]

# builtins a trip may call: they compute values, nothing else
_PURE_BUILTINS = frozenset(["range", "len", "int", "float", "bool", "abs", "min", "max",
                            "reversed", "enumerate", "zip", "list", "tuple", "divmod",
                            "round", "pow", "sum", "isinstance", "complex"])


def checkpoint_loops(fn: gast.FunctionDef, segment: int, info, numpy_name: str = "np",
                     helpers: Set[str] = frozenset()) -> gast.FunctionDef:
    """Every top-level loop of the forward pass that saves values for its backward
    loop, checkpointed (``segment`` 0: sqrt of the trip count, else that many trips)."""
    names = A.NameAllocator(A.all_names(fn))
    helpers = frozenset(helpers) | _PURE_BUILTINS
    body = list(fn.body)
    end = next((k for k, s in enumerate(body) if isinstance(s, Comment)
                and s.text.strip().lstrip("#").strip() == "Backward pass"), len(body))
    i = 0
    while i < end:
        loop = body[i]
        if isinstance(loop, gast.For):
            saves = _appended_lists(loop.body)
            if saves and not _batched(loop, body[:i]):
                j = _backward_loop(body, i, loop)
                if j is None:
                    raise _error(info, loop, "its backward pass is not one loop over the "
                                             "same trips in reverse")
                for name in sorted(saves):
                    if not _only_saved(name, body, loop, body[j]):
                        raise _error(info, loop, "a trip appends to the list %r, which the "
                                                 "function reads: recomputing the trip "
                                                 "would append again" % name)
                _check_recomputable(loop, body[j], saves, info, numpy_name, helpers)
                forward, backward = _rewrite(loop, body[j], saves, segment, names,
                                             _exposed(body[j + 1:]))
                body[j:j + 1] = backward
                body[i:i + 1] = forward
                i += len(forward)
                end += len(forward) - 1
                continue
        i += 1
    fn.body = body
    return fn


# --------------------------------------------------------------------------
# what the loops look like


def _appended_lists(stmts) -> Set[str]:
    found = set()
    for s in _all_statements(stmts):
        name = _appended(s)
        if name is not None:
            found.add(name)
    return found


def _batched(loop, before) -> bool:
    """The loop writes its saves into a buffer made for them (``g_stack[t] = g``: a
    short loop with a literal trip count whose weight gradients are summed after the
    backward loop, passes/batching.py): bounded, and left as it is."""
    buffers = {s.targets[0].id for s in before
               if isinstance(s, gast.Assign) and len(s.targets) == 1
               and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Call)
               and (A.dotted(s.value.func) or "").endswith(".empty")}
    return any(isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript)
               and isinstance(s.targets[0].value, gast.Name)
               and s.targets[0].value.id in buffers for s in _all_statements(loop.body))


def _only_saved(name: str, body, loop, back) -> bool:
    """``name`` is a stack of the backward pass: pushed by ``loop``, popped by ``back``,
    read nowhere else (not a list of the user's the loop fills)."""
    def uses(nodes, attr):
        return sum(1 for n in nodes if isinstance(n, gast.Attribute) and n.attr == attr
                   and isinstance(n.value, gast.Name) and n.value.id == name)
    everywhere = sum(1 for s in body for n in A.nodes(s) if isinstance(n, gast.Name)
                     and n.id == name and isinstance(n.ctx, gast.Load))
    return everywhere == uses(list(A.nodes(loop)), "append") + uses(list(A.nodes(back)),
                                                                       "pop")


def _appended(s) -> Optional[str]:
    v = s.value if isinstance(s, gast.Expr) else None
    if isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) and \
            v.func.attr == "append" and isinstance(v.func.value, gast.Name) and \
            len(v.args) == 1 and not v.keywords:
        return v.func.value.id
    return None


def _popped(stmts) -> Set[str]:
    found = set()
    for s in _all_statements(stmts):
        for n in A.nodes(s):
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and \
                    n.func.attr == "pop" and isinstance(n.func.value, gast.Name) and \
                    not n.args:
                found.add(n.func.value.id)
    return found


def _all_statements(stmts):
    for s in stmts:
        yield s
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list):
                yield from _all_statements(inner)


def _backward_loop(body, i, loop) -> Optional[int]:
    """The index of ``for <target> in reversed(<iter>)`` after ``body[i]``."""
    want = A.dump_key(gast.Call(func=A.load("reversed"), args=[loop.iter], keywords=[]))
    target = A.dump_key(loop.target)
    for j in range(i + 1, len(body)):
        s = body[j]
        if isinstance(s, gast.For) and A.dump_key(s.iter) == want and \
                A.dump_key(s.target) == target:
            return j
    return None


def _check_recomputable(loop, back, saves, info, numpy_name, helpers):
    if loop.orelse or back.orelse:
        raise _error(info, loop, "it has an else: clause")
    popped = _popped(back.body)
    for name in sorted(saves - popped):
        raise _error(info, loop, "the list %r it appends to is read elsewhere than in its "
                                 "backward loop" % name)
    if not _pure_expr(loop.iter, numpy_name, helpers):
        raise _error(info, loop, "its trips are not a pure expression")
    for s in _all_statements(loop.body):
        if isinstance(s, (Comment, gast.Pass)):
            continue
        if _appended(s) in saves:
            if not _pure_expr(s.value.args[0], numpy_name, helpers):
                raise _error(info, s, "a value it saves is not a pure expression")
            continue
        if isinstance(s, gast.Assign) and all(_names_only(t) for t in s.targets):
            if not _pure_expr(s.value, numpy_name, helpers):
                raise _error(info, s, "a trip has effects (a random draw, an in-place "
                                      "write, a call with side effects): recomputing it "
                                      "would not give the same values")
            continue
        if isinstance(s, gast.If) and _pure_expr(s.test, numpy_name, helpers):
            continue
        if isinstance(s, gast.For) and _names_only(s.target) and not s.orelse and \
                _pure_expr(s.iter, numpy_name, helpers):
            continue
        raise _error(info, s, "a trip does more than assign names (%s): recomputing it "
                              "would do it twice" % type(s).__name__)


def _names_only(target) -> bool:
    if isinstance(target, gast.Name):
        return True
    if isinstance(target, (gast.Tuple, gast.List)):
        return all(_names_only(e) for e in target.elts)
    return False


def _assigned(stmts) -> Set[str]:
    out: Set[str] = set()
    for s in _all_statements(stmts):
        if isinstance(s, gast.Assign):
            for t in s.targets:
                out |= A.names_stored(t)
        elif isinstance(s, gast.For):
            out |= A.names_stored(s.target)
    return out


def _popped_into(stmts) -> Set[str]:
    """Names the backward loop restores (``h = h_stack.pop()``)."""
    out: Set[str] = set()
    for s in _all_statements(stmts):
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Call) and \
                isinstance(s.value.func, gast.Attribute) and s.value.func.attr == "pop":
            for t in s.targets:
                out |= A.names_stored(t)
    return out


def _exposed(stmts, defined: Optional[Set[str]] = None) -> Set[str]:
    """Names ``stmts`` read before (definitely) assigning them."""
    defined = set() if defined is None else set(defined)
    out: Set[str] = set()
    for s in stmts:
        out |= _exposed_in(s, defined)
    return out


def _exposed_in(s, defined: Set[str]) -> Set[str]:
    """Names ``s`` reads that are not in ``defined``; ``defined`` grows by what ``s``
    assigns on every path."""
    if isinstance(s, gast.If):
        out = A.names_loaded(s.test) - defined
        d1, d2 = set(defined), set(defined)
        for inner in s.body:
            out |= _exposed_in(inner, d1)
        for inner in s.orelse:
            out |= _exposed_in(inner, d2)
        defined |= d1 & d2
        return out
    if isinstance(s, (gast.For, gast.While)):
        test = s.iter if isinstance(s, gast.For) else s.test
        out = A.names_loaded(test) - defined
        inner_defined = set(defined) | (A.names_stored(s.target)
                                        if isinstance(s, gast.For) else set())
        # (a later trip may read what an earlier one assigned: the loop's own reads
        # before its assignments count, as for the outer loop)
        for inner in s.body + s.orelse:
            out |= _exposed_in(inner, inner_defined)
        return out
    if isinstance(s, Comment):
        return set()
    if isinstance(s, gast.Assign):
        out = A.names_loaded(s.value) - defined
        for t in s.targets:
            out |= A.names_loaded(t) - defined      # (subscript targets read their base)
            defined |= A.names_stored(t)
        return out
    return A.names_loaded(s) - defined


# --------------------------------------------------------------------------
# the rewrite


def _recomputation(loop: gast.For, back: gast.For, saves: Set[str]):
    """The trips' statements the recomputation needs (what the saves and the backward
    loop read, and what later trips read of those), and the names it reads first."""
    target = A.names_stored(loop.target)
    wanted = _exposed(back.body, A.names_stored(back.target))
    live = set(wanted)
    while True:
        kept, live_in = _sweep(loop.body, live, saves)
        live_in -= target
        if live_in | wanted <= live:
            return kept, live_in
        live |= live_in


def _sweep(stmts, live: Set[str], saves: Set[str]):
    """``stmts`` without the assignments nobody reads (backwards), and the names read."""
    live = set(live)
    kept = []
    for s in reversed(stmts):
        if isinstance(s, gast.Assign) and _appended(s) is None and all(
                _names_only(t) for t in s.targets):
            stored = set()
            for t in s.targets:
                stored |= A.names_stored(t)
            if not stored & live:
                continue
            live = (live - stored) | A.names_loaded(s.value)
        else:
            live |= _exposed_in(s, set())     # (a branch or inner loop: kept whole)
        kept.append(s)
    return list(reversed(kept)), live


def _rewrite(loop: gast.For, back: gast.For, saves: Set[str], segment: int,
             names: A.NameAllocator, read_after: Set[str]):
    target = A.names_stored(loop.target)
    recompute, reads = _recomputation(loop, back, saves)
    state = sorted((reads & _assigned(loop.body)) - saves - target)
    base = "_".join(sorted(target)) or "trip"
    trips = names.fresh(base + "_trips")
    length = names.fresh("segment")
    start = names.fresh("start")
    checkpoints = names.fresh("checkpoints")
    if loop.iter.__class__ is gast.Call and A.dotted(loop.iter.func) == "range":
        trips_value = A.clone(loop.iter)
    else:
        trips_value = gast.Call(func=A.load("list"), args=[A.clone(loop.iter)], keywords=[])
    if segment:
        length_value = A.const(segment)
    else:       # sqrt(trips), at least 1
        length_value = A.parse_expr("max(1, int(len(%s) ** 0.5))" % trips)

    def segment_trips():
        return A.parse_expr("%s[%s:%s + %s]" % (trips, start, start, length))

    def state_tuple(ctx):
        if len(state) == 1:
            return gast.Name(id=state[0], ctx=ctx(), annotation=None, type_comment=None)
        return gast.Tuple(elts=[gast.Name(id=n, ctx=ctx(), annotation=None,
                                          type_comment=None) for n in state], ctx=ctx())

    first = A.assign(A.store(trips), trips_value)
    first.s2s_comment = "checkpointing: the loop runs in segments of %s trips" % (
        segment if segment else "sqrt(trips)")
    kept = A.assign(A.store(checkpoints), gast.List(elts=[], ctx=gast.Load()))
    kept.s2s_comment = "the loop's state at the start of every segment"
    save = gast.Expr(value=A.call(gast.Attribute(value=A.load(checkpoints), attr="append",
                                                 ctx=gast.Load()), [state_tuple(gast.Load)]))
    save.s2s_comment = "checkpoint"
    inner = gast.For(target=A.clone(loop.target), iter=segment_trips(),
                     body=_without_saves(loop.body, saves), orelse=[], type_comment=None)
    outer = gast.For(target=A.store(start),
                     iter=A.parse_expr("range(0, len(%s), %s)" % (trips, length)),
                     body=[save, inner], orelse=[], type_comment=None)
    A.copy_origin(outer, loop)
    if hasattr(loop, "s2s_comment"):
        outer.s2s_comment = loop.s2s_comment
    forward = [first, A.assign(A.store(length), length_value), kept, outer]

    restore = A.assign(state_tuple(gast.Store), A.parse_expr("%s.pop()" % checkpoints))
    restore.s2s_comment = "back to the checkpoint"
    again = gast.For(target=A.clone(loop.target), iter=segment_trips(),
                     body=[A.clone(s) for s in recompute], orelse=[], type_comment=None)
    again.s2s_comment = "recomputed, saving what the backward pass needs"
    backward_trips = gast.For(target=A.clone(back.target),
                              iter=gast.Call(func=A.load("reversed"), args=[segment_trips()],
                                             keywords=[]),
                              body=back.body, orelse=[], type_comment=None)
    A.copy_origin(backward_trips, back)
    if hasattr(back, "s2s_comment"):
        backward_trips.s2s_comment = back.s2s_comment
    body = ([restore] if state else []) + [again, backward_trips]
    if not state:
        body.insert(0, gast.Expr(value=A.parse_expr("%s.pop()" % checkpoints)))
    walk = gast.For(target=A.store(start),
                    iter=A.parse_expr("reversed(range(0, len(%s), %s))" % (trips, length)),
                    body=body, orelse=[], type_comment=None)
    walk.s2s_comment = "the segments, last first"
    # what the recomputation overwrites and the code after the backward loop reads
    # (the forward pass's value, e.g. a returned loss): kept across it
    overwritten = (_assigned(recompute) | set(state)) - _assigned(back.body) - saves
    kept_names = sorted(overwritten & read_after)
    if not kept_names:
        return forward, [walk]
    held = names.fresh("forward_values")
    values = [A.load(n) for n in kept_names]
    targets = [A.store(n) for n in kept_names]
    keep = A.assign(A.store(held), values[0] if len(values) == 1 else
                    gast.Tuple(elts=values, ctx=gast.Load()))
    keep.s2s_comment = "the recomputation overwrites them"
    put_back = A.assign(targets[0] if len(targets) == 1 else
                        gast.Tuple(elts=targets, ctx=gast.Store()), A.load(held))
    return forward, [keep, walk, put_back]


def _without_saves(stmts, saves):
    out = []
    for s in stmts:
        if _appended(s) in saves:
            continue
        s = A.clone(s)
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner:
                kept = _without_saves(inner, saves)
                setattr(s, field, kept or [gast.Pass()])
        out.append(s)
    return out


def _error(info, node, why: str):
    origin = getattr(node, "s2s_origin", None) or node
    return info.error(UnsupportedSyntaxError, "checkpoint=: this loop cannot be "
                      "checkpointed: %s" % why, origin,
                      hint="checkpoint a loop whose trips only compute values (no random "
                           "draws, element writes or appends to your own lists), or "
                           "differentiate without checkpoint=")
