"""float32 in, float32 through: the Python numbers of float32 code get its dtype where
NumPy would otherwise compute in float64.

The seed of a gradient is the Python number ``1.0`` and the rules write Python numbers
(``1.0 - y * y``, ``g / 12``): NumPy never lets a Python number decide a result's
precision, so a float32 array combined with one stays float32.  Three places still
produce float64 from them, and this pass (run last) types them in every statement
that assigns a float32 / float16 name (``ShapeOracle.narrow``: a float32 primal, or
the gradient of one):

* ``np.broadcast_to(1.0, (3, 4))`` -- a broadcast Python number is a float64 array:
  ``np.broadcast_to(np.float32(1.0), (3, 4))`` (still a view, nothing allocated);
* ``np.ones(S)`` / ``np.zeros(S)`` / ``np.full(S, v)`` without a dtype:
  ``dtype=np.float32``;
* a Python number times a boolean array (``mask * 0.5``): the number as
  ``np.float32(0.5)``.

float64 code is left as it is.
"""
from __future__ import annotations

from typing import List, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.passes.common import ShapeOracle, is_weak

_CREATORS = ("ones", "zeros", "full", "empty")


def narrow_constants(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """Type the Python numbers of float32 / float16 statements (see the module doc)."""
    if not oracle.narrow:
        return fn
    fn.body = _Typer(oracle).block(fn.body, set(), set())
    return fn


class _Typer:
    def __init__(self, oracle: ShapeOracle):
        self.oracle = oracle
        self.np = oracle.numpy_name

    def block(self, body: List[gast.stmt], weak: Set[str], boolean: Set[str]):
        """``weak``: names holding a Python number from literals here; ``boolean``:
        names holding the result of a comparison (both flow-sensitive)."""
        for s in body:
            if isinstance(s, gast.Assign) and len(s.targets) == 1:
                self.statement(s, s.targets[0], weak, boolean)
                target = s.targets[0]
                if isinstance(target, gast.Name):
                    weak.discard(target.id)
                    boolean.discard(target.id)
                    if is_weak(s.value, weak):
                        weak.add(target.id)
                    elif isinstance(s.value, gast.Compare):
                        boolean.add(target.id)
                else:
                    for n in A.names_stored(s):
                        weak.discard(n)
                        boolean.discard(n)
            elif isinstance(s, gast.AugAssign):
                self.statement(s, s.target, weak, boolean)
                for n in A.names_stored(s):
                    weak.discard(n)
                    boolean.discard(n)
            else:
                # a block: what it assigns is not known to be weak inside it or after it
                stored = A.names_stored(s)
                weak -= stored
                boolean -= stored
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(s, field, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                        setattr(s, field, self.block(inner, set(weak), set(boolean)))
                for handler in getattr(s, "handlers", None) or ():
                    handler.body = self.block(handler.body, set(weak), set(boolean))
        return body

    def statement(self, s, target, weak, boolean):
        root = A.root_name(target)
        dtype = self.oracle.narrow.get(root) if root is not None else None
        if dtype is None:
            return
        s.value = _Rewrite(self, dtype, weak, boolean).visit(s.value)

    def typed(self, dtype: str, node: gast.expr) -> gast.expr:
        return A.call(A.parse_expr("%s.%s" % (self.np, dtype)), [node])


class _Rewrite(A.Transformer):
    def __init__(self, typer: _Typer, dtype: str, weak: Set[str], boolean: Set[str]):
        self.t = typer
        self.dtype = dtype
        self.weak = weak
        self.boolean = boolean

    def is_weak(self, node) -> bool:
        return is_weak(node, self.weak)

    def is_boolean(self, node) -> bool:
        return isinstance(node, gast.Compare) or (
            isinstance(node, gast.Name) and node.id in self.boolean)

    def visit_Call(self, node):
        self.generic_visit(node)
        path = A.dotted(node.func) or ""
        np_ = self.t.np + "."
        if not path.startswith(np_):
            return node
        name = path[len(np_):]
        if name == "broadcast_to" and len(node.args) == 2 and self.is_weak(node.args[0]):
            node.args[0] = self.t.typed(self.dtype, node.args[0])
        elif name in _CREATORS and node.args and len(node.args) < (3 if name == "full" else 2) \
                and not any(k.arg == "dtype" for k in node.keywords):
            node.keywords.append(gast.keyword(
                arg="dtype", value=A.parse_expr("%s.%s" % (self.t.np, self.dtype))))
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (gast.Mult, gast.Div, gast.Add, gast.Sub)):
            if self.is_weak(node.left) and self.is_boolean(node.right):
                node.left = self.t.typed(self.dtype, node.left)
            elif self.is_weak(node.right) and self.is_boolean(node.left):
                node.right = self.t.typed(self.dtype, node.right)
        return node
