"""Which integer arguments the generated code must be specialized on, by value.

An int argument that only enters arithmetic (``loss / (1.0 + step)``,
``np.exp(-k * x)``) changes no shape, no trip count, no branch and no index: the
code generated for one value is the code for every value, so the argument is a
*runtime value* and a new value must not generate new code.  An int that reaches
a shape (``np.zeros(n)``), a loop bound (``range(n)``), a branch test, an index
(``x[k]``, ``x[:n]``), a container operation (``[x] * n``) or anything this
analysis does not understand (a call that is not a NumPy ufunc, an attribute)
is *static*: the code is specialized on its value.

The analysis is a forward dataflow over the primal trace: the names an argument
flows into (through assignments, element writes and loops, to a fixed point),
and whether one of them is read in a structural position.  Unknown is static.
"""
from __future__ import annotations

import math
from typing import Any, FrozenSet, Optional, Sequence, Set

import gast
import numpy

from s2sgrad import astutil as A

# calls whose result's shape and type do not depend on their arguments' values
_NUMERIC_BUILTINS = (float, abs)
_NUMPY_SHAPE_STABLE = ("sum", "mean", "prod", "max", "min", "amax", "amin", "std", "var",
                       "dot", "matmul", "inner", "outer", "vdot", "where", "clip", "trace",
                       "cumsum", "cumprod", "nansum", "nanmean", "average", "einsum")
_METHODS = frozenset(["sum", "mean", "prod", "max", "min", "std", "var", "dot", "copy",
                      "cumsum", "cumprod", "clip"])


def _shape_stable(fn) -> bool:
    if isinstance(fn, numpy.ufunc) or fn in _NUMERIC_BUILTINS:
        return True
    if any(fn is getattr(numpy, n, None) for n in _NUMPY_SHAPE_STABLE) or \
            fn is numpy.linalg.norm:
        return True
    return (callable(fn) and getattr(fn, "__module__", None) == "math"
            and getattr(math, getattr(fn, "__name__", ""), None) is fn
            and fn.__name__ not in ("factorial", "comb", "perm", "isqrt", "gcd", "lcm",
                                    "floor", "ceil", "trunc", "prod", "fsum"))


def _int_like(value) -> bool:
    return isinstance(value, (int, numpy.integer)) and not isinstance(value, (bool, numpy.bool_))


def dynamic_int_params(trace, env, shapes, args: Optional[Sequence[Any]]) -> FrozenSet[int]:
    """Positions of the int arguments of ``args`` that only enter arithmetic."""
    if args is None:
        return frozenset()
    out = set()
    for k, (p, a) in enumerate(zip(trace.params, args)):
        if _int_like(a) and not _structural(trace, env, shapes, p):
            out.add(k)
    return frozenset(out)


def _structural(trace, env, shapes, param: str) -> bool:
    """Whether a value computed from ``param`` reaches a structural position."""
    stmts = list(A.statements(trace.node))
    tainted = {param}
    changed = True
    while changed:                      # loops: a later statement may feed an earlier one
        changed = False
        for s in stmts:
            if isinstance(s, gast.Assign):
                if A.names_loaded(s.value) & tainted:
                    new = A.names_stored(s.targets[0]) - tainted
                    tgt = s.targets[0]
                    if isinstance(tgt, gast.Subscript):
                        new = {A.root_name(tgt)} - tainted
                    if new:
                        tainted |= new
                        changed = True
            elif isinstance(s, gast.For) and A.names_loaded(s.iter) & tainted:
                return True
            elif isinstance(s, gast.Expr) and A.names_loaded(s.value) & tainted:
                call = s.value
                if (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
                        and call.func.attr == "append" and len(call.args) == 1
                        and not call.keywords and isinstance(call.func.value, gast.Name)):
                    target = call.func.value.id
                    if target not in tainted:
                        tainted.add(target)
                        changed = True
    for s in stmts:
        if isinstance(s, (gast.FunctionDef, gast.Return)):
            if isinstance(s, gast.Return) and s.value is not None and \
                    A.names_loaded(s.value) & tainted:
                if _uses(s.value, tainted, env, shapes):
                    return True
            continue
        if isinstance(s, (gast.If, gast.While)):
            if A.names_loaded(s.test) & tainted:
                return True
        elif isinstance(s, gast.For):
            if A.names_loaded(s.iter) & tainted:
                return True
        elif isinstance(s, gast.Assign):
            tgt = s.targets[0]
            if isinstance(tgt, gast.Subscript) and A.names_loaded(tgt.slice) & tainted:
                return True
            if not isinstance(tgt, (gast.Name, gast.Subscript, gast.Tuple, gast.List)):
                return True
            if A.names_loaded(s.value) & tainted and _uses(s.value, tainted, env, shapes):
                return True
        elif isinstance(s, gast.Expr):
            if A.names_loaded(s.value) & tainted:
                call = s.value
                if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
                        and call.func.attr == "append" and len(call.args) == 1
                        and not call.keywords
                        and not _uses(call.args[0], tainted, env, shapes)):
                    return True
        elif isinstance(s, (gast.Pass, gast.Break, gast.Continue)):
            continue
        elif A.names_loaded(s) & tainted:
            return True                 # a statement this analysis does not know
    return False


def _numeric(e, tainted: Set[str], shapes) -> bool:
    """An operand of arithmetic known to be a number or a numeric array (not a
    list, tuple, string or anything unknown, where ``+`` and ``*`` mean other things)."""
    if isinstance(e, gast.Constant):
        return isinstance(e.value, (int, float)) and not isinstance(e.value, bool)
    if isinstance(e, gast.Name):
        vi = shapes.get(e.id) if shapes is not None else None
        if vi is None or shapes.is_container(e.id):
            return False
        kind = numpy.dtype(vi.dtype).kind
        # (an integer array of another width may change dtype with the int's value:
        # NumPy 1.x casts by value)
        return kind == "f" or (kind in "biu" and (not vi.is_array
                                                 or numpy.dtype(vi.dtype) == numpy.int64))
    return True     # a nested expression: checked by _uses on its own


def _uses(e, tainted: Set[str], env, shapes) -> bool:
    """Whether expression ``e`` reads a tainted name in a structural position."""
    if not (A.names_loaded(e) & tainted):
        return False
    if isinstance(e, gast.Name):
        return False
    if isinstance(e, gast.BinOp):
        if not (_numeric(e.left, tainted, shapes) and _numeric(e.right, tainted, shapes)):
            return True
        return _uses(e.left, tainted, env, shapes) or _uses(e.right, tainted, env, shapes)
    if isinstance(e, gast.UnaryOp):
        return _uses(e.operand, tainted, env, shapes)
    if isinstance(e, gast.Compare):
        parts = [e.left] + list(e.comparators)
        if not all(isinstance(op, (gast.Lt, gast.LtE, gast.Gt, gast.GtE, gast.Eq, gast.NotEq))
                   for op in e.ops):
            return True
        return any(not _numeric(p, tainted, shapes) or _uses(p, tainted, env, shapes)
                   for p in parts)
    if isinstance(e, (gast.Tuple, gast.List)):
        return any(_uses(x, tainted, env, shapes) for x in e.elts)
    if isinstance(e, gast.Call):
        if any(A.names_loaded(k.value) & tainted for k in e.keywords):
            return True                 # an axis, a dtype, a shape
        func = e.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and \
                func.value.id in tainted:
            # a method of a value computed from the int (x.sum(), x.max(axis=0))
            if func.attr not in _METHODS or not _numeric(func.value, tainted, shapes):
                return True
        else:
            path = A.dotted(func)
            fn = env.resolve(path) if path else None
            if not _shape_stable(fn):
                return True
        return any(not _numeric(x, tainted, shapes) or _uses(x, tainted, env, shapes)
                   for x in e.args)
    if isinstance(e, gast.Attribute) and e.attr == "T":
        return _uses(e.value, tainted, env, shapes)
    return True                         # subscripts, other attributes, conditionals, ...
