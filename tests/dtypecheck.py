"""Usage (tests/ is on sys.path via tests/conftest.py): ``from dtypecheck import
record_dtypes``::

    with record_dtypes() as seen:
        g = grad(f)                 # generated (and compiled) inside the block
        g(x32)
    assert seen.floats() == {np.dtype(np.float32)}, seen.report()

Every piece of code s2sgrad generates while the block runs (gradients, value_and_grad,
vjp pullbacks, forward mode, the code of a nested transform) is compiled from an
instrumented copy of its source: each intermediate value -- every call, arithmetic
operation, unary operation, subscript and attribute read, the temporaries of a nested
expression included, not only the names assigned -- passes through a recorder that
notes the dtype of every floating NumPy array or NumPy scalar it sees.  Python floats
are not recorded: NumPy never lets them decide a result's precision (they are "weak").

The in-process cache keys code on the function object, so the test functions must not
be shared with other tests; the on-disk cache is turned off inside the block (an entry
found there would be compiled without the instrument).
"""
from __future__ import annotations

import ast
import contextlib
import os
from typing import Dict, List, Set, Tuple

import numpy as np

__all__ = ["record_dtypes"]

_RECORDER = "__s2s_dtype_seen__"


class Seen:
    """What the instrumented code computed: (dtype, expression) pairs."""

    def __init__(self):
        self.entries: List[Tuple[np.dtype, str, str]] = []   # dtype, function, expression
        self.functions: Set[str] = set()

    def record(self, value, function, where):
        if isinstance(value, (np.ndarray, np.generic)):
            if value.dtype.kind == "f":
                self.entries.append((value.dtype, function, where))
        elif isinstance(value, (tuple, list)):
            for v in value:
                self.record(v, function, where)
        return value

    def floats(self) -> Set[np.dtype]:
        return {dt for dt, _, _ in self.entries}

    def report(self, want=None) -> str:
        """The expressions whose value had another float dtype than ``want``."""
        lines: Dict[str, None] = {}
        for dt, fn, where in self.entries:
            if want is None or dt != np.dtype(want):
                lines["%s in %s: %s" % (dt, fn, where)] = None
        return "\n".join(lines) or "(none)"


class _Instrument(ast.NodeTransformer):
    def __init__(self, function):
        self.function = function

    def _wrap(self, node):
        where = ast.unparse(node)
        self.generic_visit(node)
        if len(where) > 120:
            where = where[:117] + "..."
        return ast.copy_location(ast.Call(
            func=ast.Name(id=_RECORDER, ctx=ast.Load()),
            args=[node, ast.Constant(self.function), ast.Constant(where)], keywords=[]), node)

    visit_BinOp = visit_UnaryOp = visit_Call = _wrap

    def visit_Subscript(self, node):
        if isinstance(node.ctx, ast.Load):
            return self._wrap(node)
        self.generic_visit(node)
        return node

    def visit_Attribute(self, node):
        # x.T and friends; a method or a module attribute records nothing (not an array)
        if isinstance(node.ctx, ast.Load):
            return self._wrap(node)
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node):
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer
        return node


def _instrumented(source: str) -> str:
    tree = ast.parse(source)
    tree = _Instrument("?").visit(tree)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


@contextlib.contextmanager
def record_dtypes():
    """Instrument the code s2sgrad generates inside the block (see the module doc)."""
    from s2sgrad.ad import forward_by_transpose, pipeline
    from s2sgrad.back import emit

    seen = Seen()
    original = emit.compile_function

    def compile_function(source, name, globals_, closure, extra, filename):
        if not filename.startswith("<s2sgrad "):        # the probe runs the user's trace
            return original(source, name, globals_, closure, extra, filename)
        seen.functions.add(name)
        extra = dict(extra)
        extra[_RECORDER] = seen.record
        return original(_instrumented(source), name, globals_, closure, extra,
                        filename + " instrumented")

    saved = (pipeline.compile_function, forward_by_transpose.compile_function,
             os.environ.get("S2SGRAD_NO_CACHE"))
    pipeline.compile_function = compile_function
    forward_by_transpose.compile_function = compile_function
    os.environ["S2SGRAD_NO_CACHE"] = "1"
    try:
        yield seen
    finally:
        pipeline.compile_function, forward_by_transpose.compile_function = saved[:2]
        if saved[2] is None:
            os.environ.pop("S2SGRAD_NO_CACHE", None)
        else:
            os.environ["S2SGRAD_NO_CACHE"] = saved[2]
