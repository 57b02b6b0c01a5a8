"""Shift-invariant idioms on the primal trace: log-softmax, softmax, logsumexp.

The numerically stable spellings subtract a shift before exponentiating::

    m = np.max(x, axis=1, keepdims=True)
    z = x - m
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))      # log-softmax
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)       # softmax
    lse = m + np.log(np.sum(np.exp(z), axis=1, keepdims=True))     # logsumexp

Each result is unchanged when ``m`` moves by any amount that is constant along the
summed axes, so the gradient that reaches ``m`` through these statements adds up to
exactly zero (in exact arithmetic; the reverse pass would compute it as a rounding
error, plus a tie-splitting ``np.max`` adjoint).  ``mark_shift_invariance`` proves
the invariance on the trace and marks the statements that read ``m`` there
(``stmt.s2s_no_gradient_to``): ``analysis.activity`` and the reverse pass then treat
``m`` as a constant in them.  ``m`` keeps the gradient of its other uses.

The proof is a small abstract interpretation.  Move ``m`` by ``d`` (any array of
``m``'s shape).  Every value computed from it is then tracked as either
``v + c*D`` ("add") or ``v * exp(c*D)`` ("mul"), with ``c`` an integer and ``D``
``d`` laid out in ``v``'s axes (``pattern``: ``d``'s shape, padded to ``v``'s rank,
broadcast to ``v``'s shape).  ``exp`` turns add into mul, ``log`` mul into add,
``+``/``-`` combine adds and ``*``/``/`` muls of equal patterns, a sum keeps a mul
(and a mean, max or min either kind) when ``D`` is constant along its axes, and
reshapes keep an unbroadcast ``D``.  A value whose ``c`` comes to 0 does not depend
on ``d``.  The shift's gradient is dropped only when every other tracked value is
read by such operations and nothing else (not returned, not in a loop's next
trip, not by an unknown call): otherwise nothing is marked.  The check needs the
probe's shapes; without them (generic code) nothing is marked.
"""
from __future__ import annotations

import ast
import math
import operator
from collections import Counter
from typing import Dict, List, Optional, Set, Tuple

import gast
import numpy

from s2sgrad import astutil as A
from s2sgrad.analysis.dataflow import Environment, classify
from s2sgrad.back.emit import to_source
from s2sgrad.rules.templates import bind

# add: v + c*D; mul: v * exp(c*D).  (kind, c, pattern)
Value = Tuple[str, int, Tuple[int, ...]]

_FUNCTIONS = {
    "exp": (numpy.exp, math.exp), "log": (numpy.log, math.log),
    "sum": (numpy.sum,), "mean": (numpy.mean,),
    "max": (numpy.max, numpy.amax, numpy.min, numpy.amin),
    "reshape": (numpy.reshape, numpy.expand_dims, numpy.squeeze),
    "add": (numpy.add,), "subtract": (numpy.subtract,), "multiply": (numpy.multiply,),
    "divide": (numpy.divide, numpy.true_divide), "negative": (numpy.negative,),
    "getitem": (operator.getitem,),
}
_METHODS = {"sum": "sum", "mean": "mean", "max": "max", "min": "max",
            "reshape": "reshape", "squeeze": "reshape"}
_BINOPS = {gast.Add: "add", gast.Sub: "subtract", gast.Mult: "multiply", gast.Div: "divide"}


def mark_shift_invariance(trace, env: Environment, shapes) -> Dict[str, str]:
    """Mark the trace statements whose shift operand gets no gradient.  Returns, per
    shift name, the idiom found ("log-softmax", "logsumexp", "softmax", or
    "shift-invariant")."""
    if shapes is None:
        return {}
    body = trace.node.body
    found: Dict[str, str] = {}
    stores: Counter = Counter({p: 1 for p in trace.params})
    loads: Counter = Counter()
    for n in A.node_list(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Name):
            (loads if isinstance(n.ctx, gast.Load) else stores)[n.id] += 1
    defs = {s.targets[0].id: s for s in A.statements(gast.Module(body=body, type_ignores=[]))
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)}
    for block in _blocks(body):
        for stmt in block:
            m = _subtracted(stmt, env)
            proof, tried = None, set()
            while m is not None and m not in found and m not in tried:
                tried.add(m)
                proof = _prove(block, m, env, shapes, stores, loads, defs.get(m))
                if proof is not None:
                    break
                # x - m[:, None]: the shift may be the value m[:, None] was made from
                m = _reshaped_from(defs.get(m), env)
            if proof is None:
                continue
            sites, idiom = proof
            for s in sites:
                s.s2s_no_gradient_to = no_gradient_to(s) | {m}
            found[m] = idiom
    return found


def no_gradient_to(stmt) -> Set[str]:
    """The names a trace statement passes no gradient to (see mark_shift_invariance)."""
    return getattr(stmt, "s2s_no_gradient_to", frozenset())


def _reshaped_from(stmt, env) -> Optional[str]:
    """``m`` when ``stmt`` is ``t = m[:, None]`` / ``np.expand_dims(m, 1)`` / a reshape."""
    if stmt is None:
        return None
    v = stmt.value
    if isinstance(v, gast.Name):
        return v.id
    op = classify(v, env)
    name = _callee(op)
    if name == "getitem" and not _is_reshaping_index(op.args[1]):
        return None
    if name in ("reshape", "getitem") and op.args and isinstance(op.args[0], gast.Name):
        return op.args[0].id
    return None


def _blocks(body):
    yield body
    for s in body:
        for field in ("body", "orelse"):
            sub = getattr(s, field, None)
            if isinstance(sub, list) and sub:
                yield from _blocks(sub)


def _subtracted(stmt, env) -> Optional[str]:
    """``m`` in ``z = x - m`` (or ``np.subtract(x, m)``)."""
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return None
    v = stmt.value
    if isinstance(v, gast.BinOp) and isinstance(v.op, gast.Sub):
        right = v.right
    elif isinstance(v, gast.Call) and len(v.args) == 2 and not v.keywords \
            and _callee(classify(v, env)) == "subtract":
        right = v.args[1]
    else:
        return None
    return right.id if isinstance(right, gast.Name) else None


def _prove(block, m, env, shapes, stores, loads, definition=None):
    """(statements reading m that get no gradient, idiom name), or None.
    (``definition``: the assignment ``m = ...`` of the trace, if any.)"""
    if stores[m] > 1 or shapes.get(m) is None:
        return None
    # From m's definition on when this block makes it; from the top when an enclosing
    # block (or the caller) does: m is then fixed while this block runs.
    start = 0
    at = next((k for k, s in enumerate(block) if s is definition), None) \
        if definition is not None else None
    if at is not None:
        start = at + 1                    # (m's only store: nothing else in block sets m)
    else:
        for k, s in enumerate(block):
            if m in A.names_stored(s):
                if not (isinstance(s, gast.Assign) and m in A.names_stored(s.targets[0])):
                    return None           # made in a nested block: the reads may differ
                start = k + 1
    tracked: Dict[str, Value] = {m: ("add", 1, tuple(shapes.shape(m)))}
    seen: Counter = Counter()
    sites: List[gast.stmt] = []
    kinds: Set[str] = set()
    for stmt in block[start:]:
        reads = A.names_loaded(stmt) & set(tracked)
        if not reads:
            continue
        ok = isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
        result = _transfer(stmt.value, stmt.targets[0].id, tracked, env, shapes) \
            if ok else None
        if result is None:
            if reads == {m}:
                continue                 # an ordinary use of m: it keeps its gradient
            return None
        target = stmt.targets[0].id
        if stores[target] != 1 or target in tracked:
            return None
        for n in A.nodes(stmt.value):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in tracked:
                seen[n.id] += 1
        if m in reads:
            sites.append(stmt)
        value, kind = result
        if value is None:
            kinds.add(kind)
        else:
            tracked[target] = value
    if not sites or not kinds:
        return None
    for v in tracked:
        if v != m and seen[v] != loads[v]:
            return None                  # read somewhere the proof did not follow
    for name in ("log-softmax", "logsumexp", "softmax"):
        if name in kinds:
            return sites, name
    return sites, "shift-invariant"


def _callee(op) -> Optional[str]:
    if op.kind != "rule":
        return None
    if op.obj is not None:
        for name, objs in _FUNCTIONS.items():
            if any(op.obj is o for o in objs):
                return name
        return None
    if op.label == "getitem":
        return "getitem"
    if op.label.startswith(".") and op.label.endswith("()"):
        return _METHODS.get(op.label[1:-2])
    return None


def _literal(node):
    try:
        return ast.literal_eval(to_source(node).strip())
    except (ValueError, SyntaxError, TypeError):
        return _MISSING


_MISSING = object()


def _transfer(expr, target, tracked, env, shapes):
    """How ``target = expr`` moves with the shift: ((kind, c, pattern), None) while it
    still moves, (None, idiom) once it no longer does, None when unsupported."""
    shape = shapes.shape(target)
    if shape is None:
        return None
    shape = tuple(shape)
    if isinstance(expr, gast.Name):
        return _moving(tracked.get(expr.id), shape, "copy")
    if isinstance(expr, gast.BinOp) and type(expr.op) in _BINOPS:
        return _binary(_BINOPS[type(expr.op)], expr.left, expr.right, shape, tracked, shapes)
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        return _negate(expr.operand, isinstance(expr.op, gast.USub), shape, tracked)
    op = classify(expr, env)
    name = _callee(op)
    if name is None:
        return None
    args, keywords = op.args, dict(op.keywords)
    if name in ("add", "subtract", "multiply", "divide"):
        if len(args) != 2 or keywords:
            return None
        return _binary(name, args[0], args[1], shape, tracked, shapes)
    if name == "negative":
        if len(args) != 1 or keywords:
            return None
        return _negate(args[0], True, shape, tracked)
    if not args or not isinstance(args[0], gast.Name) or args[0].id not in tracked:
        return None
    x = args[0].id
    v = tracked[x]
    if any(isinstance(n, gast.Name) and n.id in tracked
           for a in list(args[1:]) + list(keywords.values()) for n in A.nodes(a)):
        return None
    if name in ("exp", "log"):
        if len(args) != 1 or keywords or v[0] != ("add" if name == "exp" else "mul"):
            return None
        return _moving(("mul" if name == "exp" else "add", v[1], v[2]), shape, name)
    if name in ("sum", "mean", "max"):
        return _reduction(name, op, v, shapes.shape(x), shape)
    if name in ("reshape", "getitem"):
        if name == "getitem" and not _is_reshaping_index(args[1] if len(args) > 1 else None):
            return None
        if name == "reshape" and any(k not in ("axis", "newshape", "shape") for k in keywords):
            return None
        xs = shapes.shape(x)
        if xs is None or tuple(v[2]) != tuple(xs) or int(numpy.prod(xs)) != int(
                numpy.prod(shape)):
            return None                   # a broadcast D, or not a reshape
        return ("add" if v[0] == "add" else "mul", v[1], shape), None
    return None


def _moving(v: Optional[Value], shape, why):
    if v is None or len(v[2]) != len(shape) or any(
            p not in (1, n) for p, n in zip(v[2], shape)):
        return None
    return v, None


def _pattern(node, tracked, rank) -> Optional[Tuple[str, int, Tuple[int, ...]]]:
    if isinstance(node, gast.Name) and node.id in tracked:
        kind, c, p = tracked[node.id]
        if len(p) > rank:
            return None
        return kind, c, (1,) * (rank - len(p)) + tuple(p)
    return "const", 0, ()


def _binary(name, left, right, shape, tracked, shapes):
    for node in (left, right):
        if not isinstance(node, (gast.Name, gast.Constant)):
            if any(isinstance(n, gast.Name) and n.id in tracked for n in A.nodes(node)):
                return None
    a = _pattern(left, tracked, len(shape))
    b = _pattern(right, tracked, len(shape))
    if a is None or b is None:
        return None
    kind = "add" if name in ("add", "subtract") else "mul"
    moving = [t for t in (a, b) if t[0] != "const"]
    if any(t[0] != kind for t in moving):
        return None
    if len(moving) == 2 and a[2] != b[2]:
        return None
    c = a[1] + (b[1] if name in ("add", "multiply") else -b[1])
    pattern = moving[0][2]
    if c == 0:
        if len(moving) < 2:
            return None
        idiom = {"add": "logsumexp", "subtract": "log-softmax", "divide": "softmax",
                 "multiply": "softmax"}[name]
        return None, idiom
    return _moving((kind, c, pattern), shape, name)


def _negate(node, negative, shape, tracked):
    if not (isinstance(node, gast.Name) and node.id in tracked):
        return None
    kind, c, p = tracked[node.id]
    if kind == "add" and negative:
        c = -c
    return _moving((kind, c, p), shape, "negative")


def _reduction(name, op, v, xs, shape):
    try:
        binding = bind(op.rule, op.args, op.keywords, lambda m, h: ValueError(m))
    except ValueError:
        return None
    if xs is None:
        return None
    for p, node in binding.items():
        if p in ("a", "axis", "keepdims"):
            continue
        if _literal(node) is not None:
            return None                   # dtype=, out=, initial=, where=: not followed
    axis = _literal(binding.get("axis", A.const(None)))
    keepdims = _literal(binding.get("keepdims", A.const(False)))
    if axis is _MISSING or keepdims not in (True, False):
        return None
    rank = len(xs)
    if axis is None:
        axes = tuple(range(rank))
    else:
        axes = axis if isinstance(axis, tuple) else (axis,)
        if not all(isinstance(k, int) and -rank <= k < rank for k in axes):
            return None
        axes = tuple(sorted({k % rank for k in axes}))
    kind, c, pattern = v
    if name == "sum" and kind != "mul":
        return None                       # the sum of a shifted value moves n times
    if any(pattern[k] != 1 for k in axes):
        return None                       # D varies along the reduced axes
    if keepdims:
        new = pattern
    else:
        new = tuple(n for k, n in enumerate(pattern) if k not in axes)
    return _moving((kind, c, new), shape, name)


def _is_reshaping_index(index) -> bool:
    """``[:, None]``, ``[None]``, ``[..., np.newaxis]``: adds axes, keeps the order."""
    if index is None:
        return False
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    for p in parts:
        if isinstance(p, gast.Slice) and p.lower is None and p.upper is None and p.step is None:
            continue
        if isinstance(p, gast.Constant) and (p.value is None or p.value is Ellipsis):
            continue
        if isinstance(p, gast.Attribute) and p.attr == "newaxis":
            continue
        return False
    return True


__all__ = ["mark_shift_invariance", "no_gradient_to"]


def shift_comment(trace, m: str, idiom: str) -> str:
    """'log-softmax is shift-invariant: no gradient through np.max(x, axis=1)'."""
    shown = m
    for s in A.statements(trace.node):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id == m:
            origin = getattr(s, "s2s_origin", None)
            if not (isinstance(origin, gast.Assign) and m in A.names_stored(origin.targets[0])):
                shown = to_source(s.value).strip()     # a compiler temporary: spell it out
            break
    what = "%s is shift-invariant" % idiom if idiom != "shift-invariant" else \
        "the result is shift-invariant"
    return "%s: no gradient flows back through the shift %s" % (what, shown)
