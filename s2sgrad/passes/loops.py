"""Loop values recomputed in the reversed loop instead of saved on a stack."""
from __future__ import annotations

import copy
from typing import Dict, List, Set, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.passes.common import ShapeOracle, _pure_expr, _reads, _stored_anywhere


def _push_of(stmt):
    """(stack, name) for ``stack.append(name)``."""
    if (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Attribute)
            and stmt.value.func.attr == "append"
            and isinstance(stmt.value.func.value, gast.Name)
            and len(stmt.value.args) == 1 and isinstance(stmt.value.args[0], gast.Name)):
        return stmt.value.func.value.id, stmt.value.args[0].id
    return None


def _pop_of(stmt):
    """(stack, name) for ``name = stack.pop()``."""
    if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Call) and not stmt.value.args
            and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "pop"
            and isinstance(stmt.value.func.value, gast.Name)):
        return stmt.value.func.value.id, stmt.targets[0].id
    return None


def _cheap(expr, oracle: ShapeOracle, target: str, invariant: Set[str]) -> bool:
    """Cheaper to recompute than to push and pop: scalar arithmetic, or a row of a
    loop-invariant array picked by the loop counter (a view)."""
    if isinstance(expr, gast.Subscript):
        return (isinstance(expr.value, gast.Name) and expr.value.id in invariant
                and all(isinstance(n, (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp,
                                       gast.operator, gast.unaryop, gast.expr_context))
                        for n in A.walk(expr.slice))
                and A.names_loaded(expr.slice) <= invariant | {target})
    for n in A.walk(expr):
        if isinstance(n, gast.Name):
            if oracle.shape(n.id) != () and n.id != target:
                return False
        elif not isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Constant, gast.operator,
                                gast.unaryop, gast.expr_context)):
            return False
    return True


def rematerialize_loop_values(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """A loop value pushed right after it is computed (``x1 = a * x``,
    ``x1_stack.append(x1)``) is recomputed at the top of the reversed trip instead,
    when that is cheap (scalar arithmetic, ``xs[t]``) and its inputs hold the same
    values there: loop invariants, the counter, or values whose own pop can move to
    the top of the reversed trip.  Saves a push, a pop and the stack's memory."""
    top = fn.body
    for b_index, bwd in enumerate(top):
        if not (isinstance(bwd, gast.For) and isinstance(bwd.iter, gast.Call)
                and A.dotted(bwd.iter.func) == "reversed" and len(bwd.iter.args) == 1
                and isinstance(bwd.target, gast.Name)):
            continue
        target = bwd.target.id
        fwd = next((s for s in top[:b_index] if isinstance(s, gast.For)
                    and isinstance(s.target, gast.Name) and s.target.id == target
                    and gast.dump(s.iter) == gast.dump(bwd.iter.args[0])), None)
        if fwd is None or fwd.orelse or bwd.orelse:
            continue
        fbody, bbody = fwd.body, bwd.body
        stored_f = set().union(*[_stored_anywhere(s) for s in fbody]) | {target}
        stored_b = set().union(*[_stored_anywhere(s) for s in bbody])
        invariant = {n for n in A.names_loaded(gast.Module(body=fbody, type_ignores=[]))
                     if n not in stored_f and n not in stored_b}
        assigned_at: Dict[str, List[int]] = {}
        for k, s in enumerate(fbody):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                assigned_at.setdefault(s.targets[0].id, []).append(k)
            elif isinstance(s, (gast.If, gast.For, gast.While)):
                for n in _stored_anywhere(s):
                    assigned_at.setdefault(n, []).append(k)
        pushes = {}
        for k, s in enumerate(fbody):
            p = _push_of(s)
            if p is not None:
                pushes[p[1]] = (p[0], k)
        pops = {}
        for k, s in enumerate(bbody):
            p = _pop_of(s)
            if p is not None:
                pops[p[1]] = (p[0], k)
        chosen: List[Tuple[int, str]] = []         # (index of v = e in the forward body, v)
        hoist: Set[str] = set()
        def stored_elsewhere_in_backward(name):
            return any(name in _stored_anywhere(s) for s in bbody
                       if not (_pop_of(s) and _pop_of(s)[1] == name))

        for v, (stack, k) in pushes.items():
            if k == 0 or pops.get(v, (None,))[0] != stack or stored_elsewhere_in_backward(v):
                continue
            d = fbody[k - 1]
            if not (isinstance(d, gast.Assign) and isinstance(d.targets[0], gast.Name)
                    and d.targets[0].id == v and assigned_at.get(v) == [k - 1]
                    and _pure_expr(d.value, oracle.numpy_name)):
                continue
            if not _cheap(d.value, oracle, target, invariant):
                continue
            ok, need = True, set()
            for n in A.names_loaded(d.value):
                if n == target or n in invariant or any(c[1] == n for c in chosen):
                    continue
                # restored by a pop we may move up: saved before its one overwrite, which
                # comes after v is computed; nothing above its pop touches it
                if n in pushes and pops.get(n, (None,))[0] == pushes[n][0] \
                        and not stored_elsewhere_in_backward(n) \
                        and all(i > max(k, pushes[n][1]) for i in assigned_at.get(n, [])) \
                        and not any(n in _reads(s) | _stored_anywhere(s)
                                    for s in bbody[:pops[n][1]] if _pop_of(s) is None):
                    need.add(n)
                    continue
                ok = False
                break
            if ok:
                chosen.append((k - 1, v))
                hoist |= need
        if not chosen:
            continue
        names = {v for _, v in chosen}
        fwd.body = [s for s in fbody if not (_push_of(s) and _push_of(s)[1] in names)]
        moved = [s for s in bbody if _pop_of(s) and _pop_of(s)[1] in hoist]
        rest = [s for s in bbody if not (_pop_of(s) and _pop_of(s)[1] in names | hoist)]
        recomputed = []
        for k, v in sorted(chosen):
            s = copy.deepcopy(fbody[k])
            s.s2s_comment = "recomputed (cheaper than saving it)"
            recomputed.append(s)
        bwd.body = moved + recomputed + rest
    return fn
