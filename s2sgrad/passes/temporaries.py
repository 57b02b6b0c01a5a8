"""Single-use temporaries: negations absorbed by their reader, arrays (and scalars in
loops) inlined into their one reader so that they are freed at once."""
from __future__ import annotations

from typing import Dict, Set

import gast

from .. import astutil as A
from .common import (ShapeOracle, _Substitute, _is_neg, _live_after, _load_count, _num,
                     _pure_expr, _reads, _stored_anywhere, _substitute_loads,
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
        for parent in gast.walk(stmt):
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
                             window: int = 3) -> gast.FunctionDef:
    """``h0 = X @ W1`` read once, a statement or two later (``h1 = h0 + b1``), becomes
    ``h1 = X @ W1 + b1``: the intermediate array is freed as soon as it is used, as in
    code written by hand, instead of living until the function returns.  Arrays, and
    scalars inside loops, one operation each; the name must be dead after its reader
    (liveness, loops included: ``x1 = a * x`` in a loop body, read once, recomputed in
    the reversed loop)."""
    live_after: Dict[int, Set[str]] = {}
    _live_after(fn.body, set(), live_after)

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
                    or t not in oracle.floating
                    or not (_one_operation(s.value) or (oracle.shape(t) == ()
                                                        and _scalar_arithmetic(s.value)))
                    or not _pure_expr(s.value, numpy_name)):
                i += 1
                continue
            reads = A.names_loaded(s.value)
            done = False
            for j in range(i + 1, min(len(stmts), i + 1 + window)):
                u = stmts[j]
                if isinstance(u, (gast.If, gast.For, gast.While)):
                    break
                if t in _reads(u):
                    uses = sum(1 for n in gast.walk(u) if isinstance(n, gast.Name)
                               and n.id == t and isinstance(n.ctx, gast.Load))
                    target = u.targets[0] if isinstance(u, gast.Assign) else \
                        getattr(u, "target", None)
                    if (isinstance(u, (gast.Assign, gast.AugAssign))
                            and (isinstance(target, gast.Name) or (
                                isinstance(target, gast.Subscript) and oracle.shape(t)
                                and t not in A.names_loaded(target)))
                            and uses == 1 and t not in live_after.get(id(u), {t})):
                        u.value = _Substitute({t: s.value}).visit(u.value)
                        del stmts[i]
                        done = True
                    break
                if (reads | {t}) & _stored_anywhere(u):
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
                if g in _reads(u) | _stored_anywhere(u) or reads & _stored_anywhere(u):
                    break
            if not merged:
                i += 1
        return stmts

    fn.body = run(fn.body)
    return fn
