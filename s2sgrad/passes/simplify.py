"""Constant folding and algebraic identities on expressions."""
from __future__ import annotations

from typing import Optional, Set

import gast

from .. import astutil as A
from .common import ShapeOracle, _FOLD, _NO_ORACLE, _is_neg, _neg, _num, _number, _protected, _written_in_place, flatten


class Simplify(gast.NodeTransformer):
    """Constant folding and algebraic identities on one expression.

    ``x * 1.0`` becomes ``x`` only when ``x`` is known to be floating (an integer
    array times 1.0 is a float array)."""

    def __init__(self, oracle: Optional[ShapeOracle] = None, trust_floats: bool = True):
        self.oracle = oracle or _NO_ORACLE
        self.trust = trust_floats       # without an oracle: the historical behaviour

    def floating(self, node) -> bool:
        return self.trust or self.oracle.is_floating(node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b = _num(node.left), _num(node.right)
        op = type(node.op)
        if a is not None and b is not None and op in _FOLD:
            try:
                value = _FOLD[op](a, b)
            except (ArithmeticError, ValueError, OverflowError):
                return node
            # keep 1.0 / 256 when its value would print as 0.00390625... -- readable
            if isinstance(value, (int, float)) and abs(value) < 1e15 \
                    and len(repr(value)) <= 12:
                return _number(value)
            return node
        left, right = node.left, node.right
        if op is gast.Mult:
            if b == 1 and self.floating(left):
                return left
            if a == 1 and self.floating(right):
                return right
            if b == -1 and self.floating(left):
                return _neg(left)
            if a == -1 and self.floating(right):
                return _neg(right)
            if not (self.floating(left) and self.floating(right)):
                return node
            # c * -x -> -c * x ; -x * c -> -c * x  (a person writes the sign on the constant)
            if a is not None and _is_neg(right):
                return gast.BinOp(left=_number(-a), op=gast.Mult(), right=right.operand)
            if b is not None and _is_neg(left):
                return gast.BinOp(left=_number(-b), op=gast.Mult(), right=left.operand)
        if op is gast.Div:
            if b == 1 and self.floating(left):
                return left
            if b == -1 and self.floating(left):
                return _neg(left)
        if op is gast.Add:
            if b == 0 and self.floating(left):
                return left
            if a == 0 and self.floating(right):
                return right
            if not (self.floating(left) and self.floating(right)):
                return node
            if _is_neg(right):                         # a + -b -> a - b
                return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
            if _is_neg(left):                          # -a + b -> b - a
                return gast.BinOp(left=right, op=gast.Sub(), right=left.operand)
        if op is gast.Sub:
            if b == 0 and self.floating(left):
                return left
            if a == 0 and self.floating(right):
                return _neg(right)
            if _is_neg(right) and self.floating(left) and self.floating(right):                         # a - -b -> a + b
                return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
        if op is gast.Pow and b == 1 and self.floating(left):
            return left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            inner = node.operand
            if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                return inner.operand
            # -(c * x) -> -c * x: the sign goes on the constant, one array operation less
            if isinstance(inner, gast.BinOp) and isinstance(inner.op, (gast.Mult, gast.Div)) \
                    and _num(inner.left) is not None and self.floating(inner.right):
                return gast.BinOp(left=_number(-_num(inner.left)), op=inner.op,
                                  right=inner.right)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        # np.sum(-g, ...) -> -np.sum(g, ...): negate the (smaller) reduced array
        if (A.dotted(node.func) == self.oracle.numpy_name + ".sum" and node.args
                and _is_neg(node.args[0])):
            node.args[0] = node.args[0].operand
            return gast.UnaryOp(op=gast.USub(), operand=node)
        return node


def simplify_function(fn: gast.FunctionDef, oracle: Optional[ShapeOracle] = None,
                      protected: Optional[Set[str]] = None) -> gast.FunctionDef:
    fn.body = flatten(fn.body)
    simp = Simplify(oracle, trust_floats=oracle is None)
    # y = x * 1.0 makes a new array; y = x would make y an alias, wrong when y is
    # then written in place (y[i] = ..., y += ...) or returned.
    if protected is not None:
        written = protected
    else:
        written = _protected(fn) if oracle is not None else _written_in_place(fn)
    for stmt in gast.walk(fn):
        for field in ("value", "test", "iter"):
            child = getattr(stmt, field, None)
            if isinstance(child, gast.expr) and not isinstance(stmt, gast.expr):
                new = simp.visit(child)
                if (isinstance(new, gast.Name) and not isinstance(child, gast.Name)
                        and isinstance(stmt, gast.Assign)
                        and (A.root_name(stmt.targets[0]) in written or new.id in written)):
                    continue
                setattr(stmt, field, new)
        if isinstance(stmt, gast.AugAssign) and _is_neg(stmt.value) \
                and isinstance(stmt.op, (gast.Add, gast.Sub)):
            # g += -x  ->  g -= x
            stmt.op = gast.Sub() if isinstance(stmt.op, gast.Add) else gast.Add()
            stmt.value = stmt.value.operand
    return fn
