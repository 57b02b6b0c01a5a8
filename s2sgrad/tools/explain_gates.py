"""The gates of ``explain``'s graph view: one operation of the primal trace with its values
and gradients (``Gate``), a loop's trips and the folded ones (``LoopRun``, ``Fold``), a
variable's versions (``Variable``), and how an operation is labelled (``_label_and_pattern``:
``*``, ``max``, ``x[i]``, ...) and its numbers printed."""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import gast
import numpy as np


@dataclass
class Gate:
    """One operation of the primal trace: ``target = expr``."""
    index: int
    target: str
    expr: str
    label: str                        # the gate's symbol: '+', '*', 'exp(x)', ...
    pattern: str                      # 'add distributes', 'mul swaps', 'max routes', ''
    line: Optional[int]
    inputs: List[str]                 # local names read, in order
    active: List[str]                 # the inputs that get a gradient
    value: Any = None
    upstream: Any = None              # d out / d target
    local: Dict[str, Any] = field(default_factory=dict)       # d target / d input (scalar gates)
    downstream: Dict[str, Any] = field(default_factory=dict)  # upstream * local, per input
    code: List[str] = field(default_factory=list)             # generated backward lines
    key: str = ""                     # the node's name: target, or target#k when reassigned
    sources: List[str] = field(default_factory=list)          # keys of the inputs' versions
    context: str = ""                 # loop counters when it ran ("i=2")
    hidden: bool = False              # inactive bookkeeping (loop flags): not shown
    stmt: Any = None
    loop: Optional[Tuple[int, int]] = None    # (outermost loop run, its trip) it ran in


@dataclass
class LoopRun:
    """One execution of an outermost loop statement: what folding needs to say."""
    header: str                       # "for t in range(xs.shape[0])"
    line: Optional[int]
    trips: int = 0


@dataclass
class Fold:
    """The middle trips of a long loop, drawn as one node."""
    index: int                        # display number (after the gates' numbers)
    run: LoopRun
    first: int                        # first and last folded trip (0-based)
    last: int
    gates: List[Gate]

    @property
    def label(self) -> str:
        return "trips %d..%d" % (self.first, self.last)


@dataclass
class Variable:
    name: str
    value: Any
    grad: Any = None                  # total gradient (sum over consumers); None if inactive
    producer: Optional[int] = None    # gate index; None for inputs
    consumers: List[int] = field(default_factory=list)
    is_input: bool = False
    differentiated: bool = False
    key: str = ""


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    arr = np.asarray(x)
    if arr.ndim == 0:
        try:
            v = float(arr)
        except (TypeError, ValueError):
            return repr(x)
        if v == 0:
            return "0"
        return "%.*g" % (digits, v)
    if arr.size <= 4 and arr.dtype.kind in "biuf":
        return "[" + ", ".join(_fmt(v, digits) for v in arr.reshape(-1)) + "]"
    shape = "x".join(map(str, arr.shape))
    if arr.dtype.kind in "biuf" and arr.size:
        return "%s [%s..%s]" % (shape, _fmt(arr.min(), 2), _fmt(arr.max(), 2))
    return "%s array" % shape


def _short_func(node) -> str:
    if isinstance(node, gast.Attribute):
        return node.attr
    if isinstance(node, gast.Name):
        return node.id
    return _text(node)


def _text(node) -> str:
    return ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(node))).strip()


_SYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
            gast.MatMult: "@", gast.FloorDiv: "//", gast.Mod: "%"}
_MAX = {"maximum", "minimum", "max", "min", "amax", "amin", "fmax", "fmin"}


def _label_and_pattern(expr, active: List[str], inputs: List[str]) -> Tuple[str, str]:
    pattern = ""
    if isinstance(expr, gast.BinOp):
        op = type(expr.op)
        if op in (gast.Add, gast.Sub):
            pattern = "add distributes" if op is gast.Add else "sub distributes (negated)"
        elif op is gast.Mult:
            same = isinstance(expr.left, gast.Name) and isinstance(expr.right, gast.Name) \
                and expr.left.id == expr.right.id
            pattern = ("mul swaps" if len(active) > 1 else
                       "mul swaps; both inputs are one value, so they sum" if same
                       else "mul scales")
        elif op is gast.MatMult:
            pattern = "matmul swaps (transposed)"
    elif isinstance(expr, gast.Call) and _short_func(expr.func) in _MAX:
        pattern = "max routes"
    elif isinstance(expr, gast.Call) and _short_func(expr.func) == "dot":
        pattern = "matmul swaps (transposed)"
    elif isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        return "*-1", "mul scales"
    if isinstance(expr, gast.BinOp) and isinstance(expr.left, gast.Name) and \
            isinstance(expr.right, gast.Name) and type(expr.op) in _SYMBOLS:
        return _SYMBOLS[type(expr.op)], pattern
    if len(set(inputs)) == 1:
        # one variable: write the operation as a function of x, as the notes do (+1, 1/x, exp)
        name = inputs[0]
        if isinstance(expr, gast.BinOp):
            short = _constant_gate(expr, name)
            if short:
                return short, pattern

        class Rename(gast.NodeTransformer):
            def visit_Name(self, node):
                if node.id == name:
                    return gast.Name(id="x", ctx=node.ctx, annotation=None, type_comment=None)
                return node

            def visit_Attribute(self, node):
                self.generic_visit(node)
                if isinstance(node.value, gast.Name) and node.value.id in ("np", "numpy"):
                    return gast.Name(id=node.attr, ctx=node.ctx, annotation=None,
                                     type_comment=None)
                return node

        text = _text(Rename().visit(copy.deepcopy(expr)))
        return re.sub(r"\b(\d+)\.0\b", r"\1", text), pattern
    if isinstance(expr, gast.Call):
        return _short_func(expr.func), pattern
    return _text(expr), pattern


def _number(node) -> Optional[str]:
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return "%g" % node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _number(node.operand)
        return None if inner is None else "-" + inner
    return None


def _constant_gate(expr, name: str) -> Optional[str]:
    """CS231n's gate names for an operation with a constant: +1, *-1, 1/x, **2."""
    left = isinstance(expr.left, gast.Name) and expr.left.id == name
    right = isinstance(expr.right, gast.Name) and expr.right.id == name
    c = _number(expr.right) if left else _number(expr.left) if right else None
    if c is None:
        return None
    op = type(expr.op)
    if op is gast.Add:
        return "+" + c if not c.startswith("-") else c
    if op is gast.Mult:
        return "*" + c
    if op is gast.Sub:
        return ("-" + c if not c.startswith("-") else "+" + c[1:]) if left else c + "-x"
    if op is gast.Div:
        return "/" + c if left else c + "/x"
    if op is gast.Pow and left:
        return "**" + c
    return None


def _sum_text(parts: List[str]) -> str:
    """``a + b + c``; a long sum (a loop's weight gradients) as its ends and a count."""
    if len(parts) <= 5:
        return " + ".join(parts)
    return " + ".join(parts[:2]) + " + ... (%d more) + %s" % (len(parts) - 3, parts[-1])
