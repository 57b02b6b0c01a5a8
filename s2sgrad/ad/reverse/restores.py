"""Restores: the values the backward sweep reads that the forward sweep overwrites.

The builder (``builder.py``) leaves one *slot* per overwritten value where the backward
sweep needs it back (``ReverseBuilder.restores``: statement, slot, name, in a loop);
``insert_restores`` fills the slots it must -- a push (``x_stack.append(x)``) before the
overwrite in the forward sweep, a pop after the adjoint in the backward sweep -- and
leaves empty those the backward sweep never reads before it overwrites them (liveness
over the backward code; reading a view ``v = y[i]`` counts as reading ``y``) and first
definitions (nothing to overwrite).  An element write ``y[i] = v`` saves and restores
only the element.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.ad.reverse.builder import ReverseBuilder
from s2sgrad.analysis.defuse import views
from s2sgrad.analysis.liveness import live_in
from s2sgrad.back.emit import Comment, to_source
from s2sgrad.objects import AttrKey


def insert_restores(rb: ReverseBuilder, forward: List[gast.stmt], backward) -> List[gast.stmt]:
    """Push overwritten values the backward pass reads; pop them after their adjoint.

    A top-level first definition overwrites nothing and is skipped; an element
    write ``y[i] = v`` saves and restores only the element (``y[i]``).
    """
    if not rb.restores:         # nothing the backward pass reads is overwritten
        return forward
    first_definitions = _first_definitions(forward, set(rb.trace.params))
    loop_locals = _loop_locals(forward, set(rb.trace.params))
    candidates = []   # (stmt, slot, name, saved, pop)
    after: Dict[int, List[Tuple[str, gast.expr]]] = {}   # pushes of the value just assigned
    at_top = set()
    for stmt, slot, name, in_loop in rb.restores:
        if (id(stmt), name) in first_definitions:
            continue
        tgt = stmt.targets[0]
        if isinstance(tgt, gast.Subscript) and \
                getattr(tgt.slice, "value", None).__class__ is AttrKey:
            # obj.name = v: the backward pass reads attributes only through the names
            # the trace read them into, and the object keeps what the forward pass
            # wrote, as after a call of the function itself
            continue
        loop = loop_locals.get((id(stmt), name))
        node = getattr(loop, "s2s_backward_loop", None)
        if node is not None:
            # A value each trip computes before reading it: push it once computed and pop
            # it at the top of the reversed trip (no push of the previous trip's value).
            pop = A.assign(name, A.call(gast.Attribute(value=A.load(name + "_stack"),
                                                       attr="pop", ctx=gast.Load())))
            pop.s2s_comment = "restore %s" % name
            node.body.insert(0, pop)      # (visited last to first: ends in source order)
            at_top.add(id(pop))
            candidates.append((stmt, node.body, name, A.load(name), pop))
            continue
        if isinstance(tgt, gast.Subscript):
            saved = A.as_load(tgt)
            vi = rb.shapes.get(name) if rb.shapes is not None else None
            if vi is not None and vi.is_array:
                saved = A.call(gast.Attribute(value=saved, attr="copy", ctx=gast.Load()))
            elif (rb.shapes is None or rb.shapes.is_container(name)) and \
                    not isinstance(tgt.slice, (gast.Slice, gast.Tuple)):
                # a list or dict item: a dict key the write adds has no old value
                saved = A.call(A.load(rb.b.helper("item_before_write")),
                               [A.as_load(tgt.value), A.clone(tgt.slice)])
            else:
                saved = A.call(rb.np("copy"), [saved])
            restored = A.as_store(tgt)
        else:
            saved, restored = A.load(name), A.store(name)
        pop = A.assign(restored, A.call(gast.Attribute(value=A.load(name + "_stack"),
                                                       attr="pop", ctx=gast.Load())))
        pop.s2s_comment = "restore %s" % _expr_source(A.as_load(restored))
        slot.append(pop)
        if isinstance(tgt, gast.Subscript) and getattr(saved, "func", None) is not None and \
                getattr(saved.func, "id", None) == rb.b.helper("item_before_write"):
            # a key the write added is taken out again (the branch tests the backward
            # pass replays, 'k in d', see the dict as it was)
            forget = gast.Expr(value=A.call(A.load(rb.b.helper("forget_absent")),
                                            [A.as_load(tgt.value), A.clone(tgt.slice)]))
            pop.s2s_forget = forget
            forget.s2s_forgets = True       # (reads nothing for _live_pops: its pop's)
            slot.append(forget)
        candidates.append((stmt, slot, name, saved, pop))
    if not candidates:
        return forward
    # A pop is kept only when the backward pass reads the restored value before
    # overwriting it again (liveness over the backward sweep).
    live_pops = _live_pops(backward, {id(c[4]): c[2] for c in candidates},
                           _views(forward))
    pushes: Dict[int, List[Tuple[str, gast.expr]]] = {}
    stacks: Dict[str, str] = {}
    for stmt, slot, name, saved, pop in candidates:
        if id(pop) not in live_pops:
            slot.remove(pop)
            if hasattr(pop, "s2s_forget"):
                slot.remove(pop.s2s_forget)
            continue
        # (a name and the items written into it have stacks of their own: a loop
        # local's pop runs at the top of the reversed trip, its items' where their
        # writes were, so one stack would hand each the other's value)
        stack = name if not isinstance(stmt.targets[0], gast.Subscript) else name + "[]"
        if stack not in stacks:
            # (h_stack for the first of the two; h_items_stack for items beside h's own)
            other = name + "[]" if stack == name else name
            stacks[stack] = rb.names.fresh(name + ("_items_stack" if stack != name
                                                   and other in stacks else "_stack"))
        pop.value.func.value.id = stacks[stack]
        (after if id(pop) in at_top else pushes).setdefault(id(stmt), []).append((stack, saved))
    if not pushes and not after:
        return forward
    # Items written into a container the caller may share (bn_param = self.bn_params[i]:
    # an object's dict, not a private copy) and restored by the backward pass get the
    # forward pass's values back at its end: the objects keep what a call of the
    # function leaves in them
    shared = _input_aliases(forward, set(rb.trace.params))
    redo: Dict[int, gast.stmt] = {}
    redo_log = None
    for stmt, slot, name, saved, pop in candidates:
        tgt = stmt.targets[0]
        if id(pop) not in live_pops or not isinstance(tgt, gast.Subscript) or \
                name not in shared or id(stmt) in redo:
            continue
        if redo_log is None:
            redo_log = rb.names.fresh("forward_writes")
        record = gast.Expr(value=A.call(gast.Attribute(
            value=A.load(redo_log), attr="append", ctx=gast.Load()), [gast.Tuple(
                elts=[A.as_load(tgt.value), A.clone(tgt.slice), A.as_load(tgt)],
                ctx=gast.Load())]))
        record.s2s_comment = "%s keeps this value after the call" % _expr_source(
            A.as_load(tgt))
        redo[id(stmt)] = record
    if redo_log is not None:
        again = gast.Expr(value=A.call(A.load(rb.b.helper("redo_writes")),
                                       [A.load(redo_log)]))
        again.s2s_comment = "the containers the caller shares get the forward pass's " \
                            "writes back"
        backward.append(again)
    defined_before = set(rb.trace.params)

    def rewrite(stmts):
        out = []
        for s in stmts:
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body = rewrite(s.body)
                s.orelse = rewrite(s.orelse)
            for name, saved in pushes.get(id(s), []):
                push = gast.Expr(value=A.call(gast.Attribute(
                    value=A.load(stacks[name]), attr="append", ctx=gast.Load()), [saved]))
                push.s2s_comment = "save %s for the backward pass" % _expr_source(
                    A.as_load(s.targets[0]) if isinstance(s.targets[0], gast.Subscript)
                    else A.load(name))
                out.append(push)
            out.append(s)
            if id(s) in redo:
                out.append(redo[id(s)])
            for name, saved in after.get(id(s), []):
                push = gast.Expr(value=A.call(gast.Attribute(
                    value=A.load(stacks[name]), attr="append", ctx=gast.Load()), [saved]))
                push.s2s_comment = "save %s for the backward pass" % name
                out.append(push)
        return out

    new = []
    maybe: Dict[str, Tuple[int, gast.stmt]] = {}   # name -> where a block may first assign it
    initialized: set = set()
    for s in forward:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            # Names pushed inside a block may not exist before it first runs: None
            # before the first block that may assign them (not before a later one: the
            # value an earlier block assigned must survive)
            inner = {name for n in A.nodes(s) for name, _ in pushes.get(id(n), [])
                     if not isinstance(n.targets[0], gast.Subscript)}
            for name in sorted(inner - initialized - (defined_before - set(maybe))):
                where, block = maybe.get(name, (len(new), s))
                init = A.assign(name, A.const(None))
                init.s2s_comment = "%s is first assigned inside the %s" % (
                    name, "branch" if isinstance(block, gast.If) else "loop")
                new.insert(where, init)
                for other, (k, b) in maybe.items():
                    if k >= where:
                        maybe[other] = (k + 1, b)
                initialized.add(name)
            for name in A.names_stored(s) - defined_before:
                maybe[name] = (len(new), s)
            new.extend(rewrite([s]))
        else:
            new.extend(rewrite([s]))
            for name in A.names_stored(s):
                maybe.pop(name, None)       # assigned for sure from here on
        defined_before |= A.names_stored(s)
    inits = []
    for name in sorted(stacks, key=lambda k: (k[:-2] if k.endswith("[]") else k, k)):
        inits.append(A.assign(stacks[name], gast.List(elts=[], ctx=gast.Load())))
    if redo_log is not None:
        inits.append(A.assign(redo_log, gast.List(elts=[], ctx=gast.Load())))
    return inits + new


def _input_aliases(forward, params: set) -> set:
    """Names that may hold a container reached from an argument (not built by the
    function): assigned an item or attribute chain of an argument or of such a name."""
    found: set = set()
    assigns = [s for s in A.nodes(gast.Module(body=forward, type_ignores=[]))
               if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)]
    changed = True
    while changed:
        changed = False
        for s in assigns:
            name = s.targets[0].id
            v = s.value
            while isinstance(v, gast.Subscript):
                v = v.value
            if name not in found and v is not s.value and isinstance(v, gast.Name) and \
                    (v.id in params or v.id in found):
                found.add(name)
                changed = True
    return found


def _runs_something(stmts) -> bool:
    """Does a backward block hold a statement (not only comments)?  Its pops count:
    they are kept or dropped by their own liveness."""
    return any(not isinstance(s, Comment) for s in A.splice(stmts))


def _views(forward) -> Dict[str, set]:
    """name -> the arrays it may be a view of (v = y[i], v = y.T, v = y.reshape(...))."""
    return views(forward)


def _live_pops(backward, pops: Dict[int, str], views: Dict[str, set]) -> set:
    """The pops whose restored value some later backward statement reads (reading a
    view of an array counts as reading the array): liveness over the backward code
    (analysis/liveness.py)."""
    keep = set()
    plain_loads = A.names_loaded

    def loads(node):
        found = plain_loads(node)
        for n in list(found):
            found |= views.get(n, set())
        return found

    def transfer(s, live):
        if getattr(s, "s2s_forgets", False):
            return live         # (the key its own pop restored: not a reader of it)
        if id(s) in pops:
            name = pops[id(s)]
            if name in live:
                keep.add(id(s))
            tgt = s.targets[0]
            return live - {name} if isinstance(tgt, gast.Name) else live | loads(tgt.slice)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            return (live - {s.targets[0].id}) | loads(s.value)
        return live | loads(s)

    # (a replayed test with nothing to run -- the backward of m = d.get(k, v) on a dict
    # without gradient -- is dropped by the optimizer: it reads nothing)
    idle = set()

    def find_idle(stmts):
        for s in A.splice(stmts):
            if isinstance(s, gast.If) and not _runs_something(s.body) and \
                    not _runs_something(s.orelse):
                idle.add(id(s.test))
            for field in ("body", "orelse"):
                sub = getattr(s, field, None)
                if isinstance(sub, list):
                    find_idle(sub)

    find_idle(backward)

    def reads(node):
        return set() if id(node) in idle else loads(node)

    live_in(backward, set(), transfer, reads)
    return keep


def _loop_locals(forward, params) -> Dict[Tuple[int, str], Any]:
    """(assignment, name) -> loop, for names assigned once in the whole function, at the
    top level of a loop body, and not read in that body before the assignment."""
    stores: Dict[str, int] = {}
    for n in A.node_list(gast.Module(body=forward, type_ignores=[])):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param)):
            stores[n.id] = stores.get(n.id, 0) + 1
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            stores[n.target.id] = stores.get(n.target.id, 0) + 1
    found: Dict[Tuple[int, str], Any] = {}
    for loop in A.statements(gast.Module(body=forward, type_ignores=[])):
        if not isinstance(loop, (gast.For, gast.While)):
            continue
        read: set = set()
        for s in loop.body:
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                v = s.targets[0].id
                if stores.get(v) == 1 and v not in params and v not in read \
                        and v not in A.names_loaded(s.value):
                    found[(id(s), v)] = loop
            read |= A.names_loaded(s)
    return found


def _first_definitions(stmts, defined) -> set:
    """Assignments to a name that no earlier statement (or earlier loop trip) may
    have defined: they overwrite nothing, so there is nothing to save."""
    first, overwriting = set(), set()

    def walk(stmts, maybe):
        for s in stmts:
            if isinstance(s, gast.Assign):
                tgt = s.targets[0]
                if isinstance(tgt, (gast.Name, gast.Tuple, gast.List)):
                    for n in A.names_stored(tgt):
                        (overwriting if n in maybe else first).add((id(s), n))
                maybe = maybe | A.names_stored(tgt)
            elif isinstance(s, gast.If):
                maybe = walk(s.body, maybe) | walk(s.orelse, maybe)
            elif isinstance(s, (gast.For, gast.While)):
                entry = maybe | (A.names_stored(s.target) if isinstance(s, gast.For) else set())
                maybe = walk(s.body, entry | walk(s.body, entry))   # a second trip
            else:
                maybe = maybe | A.names_stored(s)
        return maybe

    walk(stmts, set(defined))
    return first - overwriting


def _expr_source(node) -> str:
    return to_source(node).strip()
