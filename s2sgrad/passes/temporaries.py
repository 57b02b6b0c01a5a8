"""Single-use temporaries: negations absorbed by their reader, arrays (and scalars in
loops) inlined into their one reader so that they are freed at once."""
from __future__ import annotations

from typing import Dict, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.back.emit import Comment
from s2sgrad.passes.common import (ShapeOracle, _EffectsOf, _Substitute, _effects, _is_neg,
                                   _live_after, _load_count, _name_counts, _num, _number,
                                   _pure_expr, _stored_anywhere, _substitute_loads,
                                   _written_in_place)


def forward_negations(fn: gast.FunctionDef, numpy_name: str = "np") -> gast.FunctionDef:
    """``a = -b`` whose only reader (later in the same block, with neither name
    rebound in between) can absorb the sign: the reader gets ``-b`` and the
    simplifier turns ``x + -b`` into ``x - b``, ``2.0 * -b`` into ``-2.0 * b``,
    ``g += -b`` into ``g -= b``, ``np.sum(-b)`` into ``-np.sum(b)``."""
    counts = _load_count(fn)
    written = _written_in_place(fn)

    def absorbs(parent, child) -> bool:
        if isinstance(parent, gast.BinOp):
            if isinstance(parent.op, (gast.Add, gast.Sub)):
                return True
            if isinstance(parent.op, (gast.Mult, gast.Div)):
                other = parent.right if parent.left is child else parent.left
                return _num(other) is not None or _is_neg(other)
        if isinstance(parent, gast.UnaryOp) and isinstance(parent.op, gast.USub):
            return True
        if isinstance(parent, gast.Call) and parent.args and parent.args[0] is child:
            return A.dotted(parent.func) == numpy_name + ".sum"
        return False

    def find_use(stmt, name):
        """(parent, field setter) of the single load of ``name`` in ``stmt``."""
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)) \
                and isinstance(stmt.value, gast.Name) and stmt.value.id == name:
            return True
        for parent in A.walk(stmt):
            for field, value in gast.iter_fields(parent):
                kids = value if isinstance(value, list) else [value]
                for k in kids:
                    if isinstance(k, gast.Name) and k.id == name \
                            and isinstance(k.ctx, gast.Load):
                        return absorbs(parent, k)
        return False

    def run(stmts):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = run(s.body), run(s.orelse)
            elif (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                  and _is_neg(s.value) and isinstance(s.value.operand, gast.Name)
                  and counts.get(s.targets[0].id, 0) == 1
                  and s.targets[0].id not in written):
                a, b = s.targets[0].id, s.value.operand.id
                for j in range(i + 1, len(stmts)):
                    t = stmts[j]
                    if isinstance(t, (gast.If, gast.For, gast.While)):
                        break
                    if a in A.names_loaded(t):
                        if isinstance(t, gast.Return) or not find_use(t, a):
                            break
                        if isinstance(t, gast.AugAssign) and isinstance(t.target, gast.Name) \
                                and t.target.id == b:
                            break
                        _substitute_loads(t, {a: s.value})
                        del stmts[i]
                        i -= 1
                        break
                    if {a, b} & _stored_anywhere(t):
                        break
            i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


def _one_operation(expr) -> bool:
    """One operation on names, constants and attributes (``X @ W1``, ``np.dot(g, W.T)``)."""
    def leaf(n):
        return (isinstance(n, (gast.Name, gast.Constant)) or _num(n) is not None
                or (isinstance(n, gast.Attribute) and leaf(n.value)))
    if isinstance(expr, gast.BinOp):
        return leaf(expr.left) and leaf(expr.right)
    if isinstance(expr, gast.UnaryOp):
        # -x, and the negation of one operation (-np.abs(z), -(g * t5))
        return leaf(expr.operand) or (isinstance(expr.op, gast.USub)
                                      and not isinstance(expr.operand, gast.UnaryOp)
                                      and _one_operation(expr.operand))
    if isinstance(expr, gast.Compare):
        return leaf(expr.left) and all(leaf(c) for c in expr.comparators)
    if isinstance(expr, gast.Call):
        return all(leaf(a) for a in expr.args) and all(leaf(k.value) for k in expr.keywords)
    return False


def _operations(expr) -> int:
    """How many operations an expression of names, constants and attributes performs
    (``-2.0`` is a number, not an operation; a call is one)."""
    if isinstance(expr, (gast.Name, gast.Constant)) or _num(expr) is not None:
        return 0
    if isinstance(expr, gast.Attribute):
        return _operations(expr.value)
    if isinstance(expr, gast.BinOp):
        return 1 + _operations(expr.left) + _operations(expr.right)
    if isinstance(expr, gast.UnaryOp):
        return 1 + _operations(expr.operand)
    if isinstance(expr, gast.Compare) and len(expr.comparators) == 1:
        return 1 + _operations(expr.left) + _operations(expr.comparators[0])
    if isinstance(expr, gast.Call) and isinstance(expr.func, (gast.Name, gast.Attribute)):
        return 1 + sum(_operations(a) for a in expr.args) + sum(
            _operations(k.value) for k in expr.keywords)
    return 99


def _source_length(expr) -> int:
    """About how many characters ``expr`` prints as (parentheses left out), without
    running the printer."""
    n = 0
    for node in A.nodes(expr):
        if isinstance(node, gast.Name):
            n += len(node.id)
        elif isinstance(node, gast.Constant):
            n += len(repr(node.value))
        elif isinstance(node, gast.Attribute):
            n += len(node.attr) + 1
        elif isinstance(node, (gast.BinOp, gast.Compare)):
            n += 3
        elif isinstance(node, gast.UnaryOp):
            n += 1
        elif isinstance(node, gast.Call):
            n += 2 * max(1, len(node.args) + len(node.keywords))
        elif isinstance(node, gast.keyword):
            n += len(node.arg or "") + 1
        elif isinstance(node, (gast.Subscript, gast.Tuple)):
            n += 2 + (2 * (len(node.elts) - 1) if isinstance(node, gast.Tuple) else 0)
    return n


def _scalar_arithmetic(expr, depth: int = 2) -> bool:
    """A small arithmetic expression (two levels at most) of names and constants: cheap
    to read inline (``grad_x * (a * x)``)."""
    if isinstance(expr, (gast.Name, gast.Constant)) or _num(expr) is not None:
        return True
    if depth == 0:
        return False
    if isinstance(expr, gast.BinOp):
        return _scalar_arithmetic(expr.left, depth - 1) and _scalar_arithmetic(expr.right,
                                                                               depth - 1)
    if isinstance(expr, gast.UnaryOp):
        return _scalar_arithmetic(expr.operand, depth - 1)
    return False


def inline_single_use_arrays(fn: gast.FunctionDef, oracle: ShapeOracle,
                             protected: Set[str], numpy_name: str = "np",
                             window: int = 4) -> gast.FunctionDef:
    """``h0 = X @ W1`` read once, a statement or two later (``h1 = h0 + b1``), becomes
    ``h1 = X @ W1 + b1``: the intermediate array is freed as soon as it is used, as in
    code written by hand, instead of living until the function returns.  Arrays, and
    scalars inside loops, one operation each -- arrays up to three when the reader stays
    under 80 characters; the name must be dead after its reader (liveness, loops
    included: ``x1 = a * x`` in a loop body, read once, recomputed in the reversed
    loop).  ``window`` statements at most between the two (section comments not
    counted)."""
    live_after: Dict[int, Set[str]] = {}
    _live_after(fn.body, set(), live_after)
    effects = _EffectsOf()

    def run(stmts, in_loop=False):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                inner = in_loop or not isinstance(s, gast.If)
                s.body, s.orelse = run(s.body, inner), run(s.orelse, inner)
                i += 1
                continue
            if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
                i += 1
                continue
            t = s.targets[0].id
            # scalars only in loops (per trip it adds up); straight-line scalar code keeps
            # every name the user gave (the seeds' flat neuron reads like the notes)
            if (t in protected or not (oracle.shape(t) or (in_loop and oracle.shape(t) == ()))
                    or t not in oracle.floating):
                i += 1
                continue
            one = _one_operation(s.value)
            if (not (one or (oracle.shape(t) and _operations(s.value) <= 3)
                     or (oracle.shape(t) == () and _scalar_arithmetic(s.value)))
                    or not _pure_expr(s.value, numpy_name)):
                i += 1
                continue
            reads = A.names_loaded(s.value)
            # a few operations of arrays go into a reader that stays short (hand-written
            # code has lines like ``-2.0 * gap * head - 2.0 * (1.0 - head)``)
            ops = 0 if one else _operations(s.value)
            done = False
            steps = 0
            for j in range(i + 1, len(stmts)):
                u = stmts[j]
                if isinstance(u, Comment):
                    continue
                steps += 1
                if steps > window or isinstance(u, (gast.If, gast.For, gast.While)):
                    break
                if t in effects(u)[0]:
                    uses = sum(1 for n in A.node_list(u) if n.__class__ is gast.Name
                               and n.id == t and n.ctx.__class__ is gast.Load)
                    target = u.targets[0] if isinstance(u, gast.Assign) else \
                        getattr(u, "target", None)
                    if (isinstance(u, (gast.Assign, gast.AugAssign))
                            and (isinstance(target, gast.Name) or (
                                isinstance(target, gast.Subscript) and oracle.shape(t)
                                and t not in A.names_loaded(target)))
                            and uses == 1 and t not in live_after.get(id(u), {t})
                            and (not ops or ops + _operations(u.value) <= 6)):
                        if not ops or (_source_length(u.value) - len(t)
                                       + _source_length(s.value) + 2 <= 80):
                            u.value = _Substitute({t: s.value}).visit(u.value)
                            effects.forget(u)
                            del stmts[i]
                            done = True
                    break
                if (reads | {t}) & effects(u)[1]:
                    break
            if not done:
                i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


def merge_scalar_accumulations(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """A scalar gradient assigned and then accumulated, ``g = -b`` ... ``g += c * a``
    with nothing reading ``g`` or changing ``b`` in between, becomes one statement,
    ``g = c * a - b`` (a scalar has no buffer worth updating in place; in loops this
    saves a statement per trip).  Arrays keep their in-place update."""
    effects = _EffectsOf()           # (statements are replaced, never edited in place)

    def run(stmts):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = run(s.body), run(s.orelse)
                i += 1
                continue
            if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                    and oracle.shape(s.targets[0].id) == ()
                    and s.targets[0].id in oracle.floating):
                i += 1
                continue
            g = s.targets[0].id
            reads = A.names_loaded(s.value)
            merged = False
            for j in range(i + 1, len(stmts)):
                u = stmts[j]
                if isinstance(u, (gast.If, gast.For, gast.While)):
                    break
                if (isinstance(u, gast.AugAssign) and isinstance(u.target, gast.Name)
                        and u.target.id == g and isinstance(u.op, (gast.Add, gast.Sub))
                        and g not in A.names_loaded(u.value)):
                    op = gast.Add() if isinstance(u.op, gast.Add) else gast.Sub()
                    new = gast.Assign(targets=[A.store(g)], type_comment=None,
                                      value=gast.BinOp(left=s.value, op=op, right=u.value))
                    comments = [c for c in (getattr(s, "s2s_comment", None),
                                            getattr(u, "s2s_comment", None)) if c]
                    if comments:
                        new.s2s_comment = "; ".join(dict.fromkeys(comments))
                    stmts[j] = new
                    del stmts[i]
                    merged = True
                    break
                u_reads, u_stored = effects(u)
                if g in u_reads or g in u_stored or reads & u_stored:
                    break
            if not merged:
                i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


def _same_target(a, b) -> bool:
    return type(a) is type(b) and A.dump_key(a) == A.dump_key(b)


def _plain_step(u, numpy_name: str) -> bool:
    """A statement a value may be moved across (given its names are not stored there):
    no block, no call with effects (a stack pop, a user function)."""
    return (isinstance(u, (gast.Assign, gast.AugAssign))
            and _pure_expr(u, numpy_name))


def merge_slice_accumulations(fn: gast.FunctionDef, oracle: ShapeOracle,
                              numpy_name: str = "np", window: int = 8) -> gast.FunctionDef:
    """``g[s] = a`` followed by ``g[s] += b`` (the same basic slice, nothing in between
    touching ``g`` or rebinding what ``a`` reads) becomes ``g[s] = a + b``: one slice
    update instead of two (a ``+=`` on a slice reads it, adds and writes it back).
    Both ``a`` and ``b`` broadcast to the slice, so ``a + b`` does too; one of them
    must be floating (an integer sum would not be computed in the slice's dtype)."""
    def run(stmts):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = run(s.body), run(s.orelse)
                i += 1
                continue
            target = s.targets[0] if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                else None
            if not (isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name)
                    and target.value.id in oracle.floating
                    and _pure_expr(s.value, numpy_name)):
                i += 1
                continue
            g = target.value.id
            if not any(isinstance(u, gast.AugAssign) and A.root_name(u.target) == g
                       for u in stmts[i + 1:i + 1 + window]):
                i += 1
                continue
            reads = A.names_loaded(s.value) | A.names_loaded(target.slice)
            if g in reads:
                i += 1
                continue
            merged = False
            for j in range(i + 1, min(len(stmts), i + 1 + window)):
                u = stmts[j]
                if (isinstance(u, gast.AugAssign) and isinstance(u.op, (gast.Add, gast.Sub))
                        and _same_target(u.target, target)
                        and g not in A.names_loaded(u.value)
                        and (oracle.is_floating(s.value) or oracle.is_floating(u.value))):
                    op = gast.Add() if isinstance(u.op, gast.Add) else gast.Sub()
                    new = gast.Assign(targets=[target], type_comment=None,
                                      value=gast.BinOp(left=s.value, op=op, right=u.value))
                    _join_comments(new, s, u)
                    stmts[j] = new
                    del stmts[i]
                    merged = True
                    break
                if _ends_scan(u, g, reads, numpy_name):
                    break
            if not merged:
                i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


def _ends_scan(u, g: str, reads: Set[str], numpy_name: str) -> bool:
    """An accumulation into ``g`` cannot be looked for past ``u``: it is not a plain
    step, it mentions ``g``, or it rebinds a name the first statement reads."""
    if not _plain_step(u, numpy_name):
        return True
    # (one walk: a plain step deletes nothing, every name in it is read or stored)
    u_reads, u_stored = _effects(u)
    return g in u_reads or g in u_stored or bool(reads & u_stored)


def _join_comments(new, *old):
    comments = [c for c in (getattr(s, "s2s_comment", None) for s in old) if c]
    if comments:
        new.s2s_comment = "; ".join(dict.fromkeys(comments))


def _scaled(expr, sign: int):
    """``c * u`` (or ``u * c``) as (sign times c, u), else None."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult):
        c = _num(expr.left)
        if c is not None and _num(expr.right) is None:
            return sign * c, expr.right
        c = _num(expr.right)
        if c is not None and _num(expr.left) is None:
            return sign * c, expr.left
    return None


def combine_scaled_accumulations(fn: gast.FunctionDef, oracle: ShapeOracle,
                                 numpy_name: str = "np", window: int = 8) -> gast.FunctionDef:
    """Two accumulations into the same target scaled by the same constant (up to its
    sign), ``g -= c * u`` then ``g += c * v`` with nothing in between touching ``g``
    or rebinding what ``u`` reads, become one, ``g += c * (v - u)``: a multiplication
    and an in-place update less; ``g = c * u`` then ``g += c * v`` becomes
    ``g = c * (u + v)`` (a fresh name only when both are float64: a sum's dtype could
    differ from ``g``'s).  One of ``u``, ``v`` must be floating (two boolean masks
    cannot be subtracted)."""
    def run(stmts):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = run(s.body), run(s.orelse)
                i += 1
                continue
            first = None
            if isinstance(s, gast.AugAssign) and isinstance(s.op, (gast.Add, gast.Sub)) \
                    and A.root_name(s.target) in oracle.floating:
                first = _scaled(s.value, 1 if isinstance(s.op, gast.Add) else -1)
                target = s.target
            elif isinstance(s, gast.Assign) and len(s.targets) == 1 \
                    and isinstance(s.targets[0], (gast.Name, gast.Subscript)) \
                    and A.root_name(s.targets[0]) in oracle.floating:
                first = _scaled(s.value, 1)           # g = c * u, then g += c * v
                target = s.targets[0]
            if first is None:
                i += 1
                continue
            g = A.root_name(target)
            # (cheap look first: an update of the same name within the window)
            if not any(isinstance(u, gast.AugAssign) and A.root_name(u.target) == g
                       for u in stmts[i + 1:i + 1 + window]) \
                    or not _pure_expr(s.value, numpy_name):
                i += 1
                continue
            reads = A.names_loaded(s.value) | A.names_loaded(target)
            merged = False
            for j in range(i + 1, min(len(stmts), i + 1 + window)):
                u = stmts[j]
                second = None
                if isinstance(u, gast.AugAssign) and isinstance(u.op, (gast.Add, gast.Sub)) \
                        and _same_target(u.target, target):
                    second = _scaled(u.value, 1 if isinstance(u.op, gast.Add) else -1)
                if second is not None and abs(second[0]) == abs(first[0]) \
                        and g not in A.names_loaded(u.value) \
                        and (oracle.is_floating(first[1]) or oracle.is_floating(second[1])) \
                        and (not isinstance(s, gast.Assign) or isinstance(target, gast.Subscript)
                             or (oracle.is_wide(first[1]) and oracle.is_wide(second[1]))):
                    # (a fresh name takes the sum's dtype: float32 + float64 would widen)
                    (c1, a), (c2, b) = first, second
                    if c1 == c2:                    # g += c * a; g += c * b
                        scale, inner = c1, gast.BinOp(left=a, op=gast.Add(), right=b)
                    elif c2 > 0:                    # g -= c * a; g += c * b
                        scale, inner = c2, gast.BinOp(left=b, op=gast.Sub(), right=a)
                    else:                           # g += c * a; g -= c * b
                        scale, inner = c1, gast.BinOp(left=a, op=gast.Sub(), right=b)
                    new = gast.AugAssign(target=u.target, op=gast.Add(),
                                         value=gast.BinOp(left=_number(scale), op=gast.Mult(),
                                                          right=inner))
                    if isinstance(s, gast.Assign):
                        new = gast.Assign(targets=[target], value=new.value, type_comment=None)
                    elif scale < 0:
                        new.op = gast.Sub()
                        new.value.left = _number(-scale)
                    _join_comments(new, s, u)
                    stmts[j] = new
                    del stmts[i]
                    merged = True
                    break
                if _ends_scan(u, g, reads, numpy_name):
                    break
            if not merged:
                i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


def rename_single_use_copies(fn: gast.FunctionDef, protected: Set[str],
                             counts: Optional[tuple] = None) -> gast.FunctionDef:
    """``t = a * b`` ... ``y = t`` where ``t`` is read only there and nothing in between
    touches ``y``: the computation is bound to ``y`` directly (``y = a * b``).  Only
    arithmetic (a fresh value, never a view that ``y`` would share).  ``counts``:
    ``_name_counts(fn)`` if known (right for the names bound in ``fn``)."""
    counts, stores = _name_counts(fn) if counts is None else counts

    def run(stmts):
        defs: Dict[str, int] = {}
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = run(s.body), run(s.orelse)
                i += 1
                continue
            if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                    and isinstance(s.targets[0], gast.Name):
                x = s.targets[0].id
                if isinstance(s.value, gast.Name) and s.value.id in defs:
                    k = defs.pop(s.value.id)
                    if not any(x in A.all_names(u) for u in stmts[k + 1:i]):
                        d = stmts[k]
                        d.targets = [A.store(x)]
                        _join_comments(d, d, s)
                        del stmts[i]
                        continue
                if (isinstance(s.value, (gast.BinOp, gast.UnaryOp)) and counts.get(x) == 1
                        and stores.get(x) == 1 and x not in protected):
                    defs[x] = i
            i += 1
        return stmts

    fn.body = run(fn.body)
    return fn
