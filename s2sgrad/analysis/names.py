"""Names: what a function's free names resolve to (closure, globals, builtins), and
which names an expression reads where a gradient can flow (a cheap, flow-insensitive
pre-analysis the front end and every mode share)."""
from __future__ import annotations

import builtins
from typing import Any, Dict, Optional, Set

import gast

from s2sgrad import astutil as A

# Attributes and calls whose result never depends differentiably on their input.
INDEX_TRICKS = {"np.r_", "np.c_", "numpy.r_", "numpy.c_"}
SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}
SHAPE_FUNCTIONS = {"len", "range", "np.shape", "np.ndim", "np.size", "numpy.shape",
                   "numpy.ndim", "numpy.size", "isinstance", "type", "int", "bool"}
# Buffers whose values never depend on their arguments (only shapes and dtypes do).
BUFFER_FUNCTIONS = {"%s.%s" % (m, f) for m in ("np", "numpy")
                    for f in ("zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like",
                              "eye", "identity")}


_MISSING = object()


class Namespace:
    """How a function resolves the names it does not assign: closure, globals, builtins."""

    def __init__(self, globals_: Dict[str, Any], closure: Dict[str, Any]):
        self.globals = globals_
        self.closure = closure

    def resolve(self, path: Optional[str]):
        """The object a dotted path names, or _MISSING."""
        if not path:
            return _MISSING
        head, *rest = path.split(".")
        if head in self.closure:
            try:
                obj = self.closure[head].cell_contents
            except ValueError:
                return _MISSING
        elif head in self.globals:
            obj = self.globals[head]
        elif hasattr(builtins, head):
            obj = getattr(builtins, head)
        else:
            return _MISSING
        for p in rest:
            obj = getattr(obj, p, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj


# --------------------------------------------------------------------------
# Which names may carry a gradient (a cheap, flow-insensitive pre-analysis)


def differentiable_loads(expr) -> Set[str]:
    """Names read by ``expr`` in positions a gradient can flow through."""
    found: Set[str] = set()

    def visit(node):
        cls = node.__class__
        if cls is gast.Name:
            if isinstance(node.ctx, gast.Load):
                found.add(node.id)
            return
        if cls is gast.Attribute and node.attr in SHAPE_ATTRIBUTES:
            return
        if cls is gast.Subscript:
            visit(node.value)
            if A.dotted(node.value) in INDEX_TRICKS:     # np.r_[a, b] joins a and b
                visit(node.slice)
            return
        if cls is gast.Call:
            path = A.dotted(node.func)
            if path in SHAPE_FUNCTIONS or path in BUFFER_FUNCTIONS:
                return
            if isinstance(node.func, gast.Attribute) and node.func.attr == "keys" \
                    and not node.args:
                return      # a dict's keys carry no gradient
        if cls is gast.Compare or cls is gast.JoinedStr or isinstance(node, A._LEAF_NODES):
            return      # (comparisons and f-strings: no gradient through a bool or str)
        for child in A.children(node):
            visit(child)

    visit(expr)
    return found


def appended_list(stmt) -> Optional[str]:
    """'ys' for the statement ``ys.append(v)``."""
    v = stmt.value if isinstance(stmt, gast.Expr) else None
    if (isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute)
            and v.func.attr == "append" and isinstance(v.func.value, gast.Name)
            and len(v.args) == 1 and not v.keywords):
        return v.func.value.id
    return None


def popped_list(value) -> Optional[str]:
    """'ys' for the expression ``ys.pop()`` (the last item, LIFO: what the reverse pass
    can undo by appending it back)."""
    if (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
            and value.func.attr == "pop" and isinstance(value.func.value, gast.Name)
            and not value.args and not value.keywords):
        return value.func.value.id
    return None
