"""Pass 5: clean-ups on the generated function.

* ``simplify_function``: constant folding and algebraic identities
  (``g * 1.0``, ``0.0 + g``, ``-(-g)``, ``x ** 1``), and removal of empty
  blocks left behind by passes that drop statements.
* ``eliminate_dead_forward``: forward statements whose values neither the
  backward pass nor the result needs are removed (pure operations only).
"""
from __future__ import annotations

import operator
from typing import List, Set

import gast

from . import astutil as A
from .analysis import Environment, classify

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow}


def _num(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


class Simplify(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b = _num(node.left), _num(node.right)
        op = type(node.op)
        if a is not None and b is not None and op in _FOLD:
            try:
                value = _FOLD[op](a, b)
            except (ArithmeticError, ValueError):
                return node
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                if value < 0:
                    return gast.UnaryOp(op=gast.USub(), operand=A.const(-value))
                return A.const(value)
        if op is gast.Mult:
            if b == 1:
                return node.left
            if a == 1:
                return node.right
        if op is gast.Div and b == 1:
            return node.left
        if op is gast.Add:
            if b == 0:
                return node.left
            if a == 0:
                return node.right
        if op is gast.Sub and b == 0:
            return node.left
        if op is gast.Pow and b == 1:
            return node.left
        # -g * x  ->  -(g * x) keeps the sign at the front, as a person writes it
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            inner = node.operand
            if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                return inner.operand
        return node


def flatten(stmts) -> List[gast.stmt]:
    """Splice nested statement lists and drop empty blocks."""
    out: List[gast.stmt] = []
    for s in stmts:
        if isinstance(s, list):
            out.extend(flatten(s))
            continue
        if isinstance(s, gast.If):
            s.body, s.orelse = flatten(s.body), flatten(s.orelse)
            if not s.body and not s.orelse:
                continue
            if not s.body:
                s.body = [gast.Pass()]
        elif isinstance(s, (gast.For, gast.While)):
            s.body, s.orelse = flatten(s.body), flatten(s.orelse)
            if not s.body and isinstance(s, gast.For):
                continue
            if not s.body:
                s.body = [gast.Pass()]
        out.append(s)
    return out


def simplify_function(fn: gast.FunctionDef) -> gast.FunctionDef:
    fn.body = flatten(fn.body)
    simp = Simplify()
    # y = x * 1.0 makes a new array; y = x would make y an alias, wrong when y is
    # then written in place (y[i] = ..., y += ...).
    written = {A.root_name(n.target if isinstance(n, gast.AugAssign) else n.targets[0])
               for n in gast.walk(fn)
               if isinstance(n, gast.AugAssign) or (isinstance(n, gast.Assign)
                                                    and isinstance(n.targets[0], gast.Subscript))}
    for stmt in gast.walk(fn):
        for field in ("value", "test", "iter"):
            child = getattr(stmt, field, None)
            if isinstance(child, gast.expr) and not isinstance(stmt, gast.expr):
                new = simp.visit(child)
                if (isinstance(new, gast.Name) and not isinstance(child, gast.Name)
                        and isinstance(stmt, gast.Assign)
                        and A.root_name(stmt.targets[0]) in written):
                    continue
                setattr(stmt, field, new)
    return fn


_IMPURE_PREFIXES = ("np.random", "numpy.random", "print")


def _pure(stmt, env: Environment) -> bool:
    if not isinstance(stmt, gast.Assign) or not isinstance(stmt.targets[0], gast.Name):
        return False
    for node in gast.walk(stmt.value):
        if isinstance(node, gast.Call):
            op = classify(node, env)
            path = A.dotted(node.func) or ""
            if path.startswith(_IMPURE_PREFIXES):
                return False
            if op.kind not in ("rule", "constant"):
                return False
    return True


def eliminate_dead_forward(forward: List[gast.stmt], live: Set[str],
                           env: Environment) -> List[gast.stmt]:
    """Drop top-level forward assignments nobody reads."""
    live = set(live)
    kept: List[gast.stmt] = []
    for stmt in reversed(forward):
        if isinstance(stmt, list):
            kept.append(stmt)
            continue
        if _pure(stmt, env) and stmt.targets[0].id not in live:
            continue
        live |= A.names_loaded(stmt)
        # ``n += 1`` (a while loop's trip counter) reads n too, though its ctx is Store
        live |= {n.target.id for n in gast.walk(stmt)
                 if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name)}
        kept.append(stmt)
    kept.reverse()
    return kept
