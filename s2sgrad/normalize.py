"""Pass 2: the primal trace.

The user's function is rewritten into three-address form: every primitive
operation gets its own statement and every intermediate a name derived from the
variable it helps compute (``s = w0 * x0 + w1 * x1`` becomes ``s0 = w0 * x0;
s1 = w1 * x1; s = s0 + s1``).  Sub-expressions that cannot carry a gradient
(shapes, index arithmetic, constants) are left whole, so the trace stays as
readable as the source.  Straight-line re-assignments are renamed (``x``,
``x_1``, ...) so that no value the backward pass needs is overwritten.
"""
from __future__ import annotations

import builtins
import collections
import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

import gast
import numpy

from . import astutil as A
from .errors import UnsupportedSyntaxError
from .parse import ParsedFunction, SourceInfo

# Attributes and calls whose result never depends differentiably on their input.
INDEX_TRICKS = {"np.r_", "np.c_", "numpy.r_", "numpy.c_"}
SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}
SHAPE_FUNCTIONS = {"len", "range", "np.shape", "np.ndim", "np.size", "numpy.shape",
                   "numpy.ndim", "numpy.size", "isinstance", "type", "int", "bool"}
# Buffers whose values never depend on their arguments (only shapes and dtypes do).
BUFFER_FUNCTIONS = {"%s.%s" % (m, f) for m in ("np", "numpy")
                    for f in ("zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like",
                              "eye", "identity")}


@dataclass
class PrimalTrace:
    """The normalized function plus what later passes need to know about it."""
    node: gast.FunctionDef
    params: List[str]
    defaults: Dict[str, object]
    output: str
    info: SourceInfo
    names: A.NameAllocator
    varied: Set[str]
    local_names: Set[str] = field(default_factory=set)
    # globals read by inlined functions from other modules: generated name -> object
    extra_globals: Dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Supported-subset check


_REJECTED = {
    gast.Try: ("try/except", "move error handling outside the differentiated function"),
    gast.Global: ("assigning to a 'global' name", "pass the value as an argument and return the result"),
    gast.Nonlocal: ("assigning to a 'nonlocal' name", "pass the value as an argument and return the result"),
    gast.Yield: ("generators ('yield')", "build a list or array and return it"),
    gast.YieldFrom: ("generators ('yield from')", "build a list or array and return it"),
    gast.Await: ("'await'", "differentiate a plain synchronous function"),
    gast.AsyncFor: ("'async for'", "differentiate a plain synchronous function"),
    gast.AsyncWith: ("'async with'", "differentiate a plain synchronous function"),
    gast.AsyncFunctionDef: ("async functions", "differentiate a plain synchronous function"),
    gast.ClassDef: ("class definitions inside the function", "define the class at module level"),
    gast.Delete: ("'del' of an item or attribute", "build a new list or dict without it"),
    gast.Import: ("imports inside the function", "import at module level"),
    gast.ImportFrom: ("imports inside the function", "import at module level"),
    gast.With: ("'with' blocks", "move the 'with' block outside the differentiated function"),
    gast.Starred: ("starred expressions (*args)", "pass the arguments one by one"),
    gast.GeneratorExp: ("generator expressions", "use a list comprehension or a loop"),
    gast.SetComp: ("set comprehensions", "use a list"),
    gast.DictComp: ("dict comprehensions", "build the dict with a loop"),
    gast.Set: ("set displays", "use a list or tuple"),
    gast.NamedExpr: ("assignment expressions (:=)", "assign in a separate statement"),
}


def check_supported(fn: gast.FunctionDef, info: SourceInfo) -> None:
    rejected = tuple(_REJECTED)
    stored = None
    # a, *rest = xs (desugar.split_unpacking): a starred assignment or loop target
    # f(*xs): spread by desugar.expand_starred / the inliner, or run as it is where no
    # gradient is involved (np.random.rand(*x.shape))
    unpacked = {id(e) for node in A.nodes(gast.Module(body=fn.body, type_ignores=[]))
                if isinstance(node, (gast.Assign, gast.For))
                for t in (node.targets if isinstance(node, gast.Assign) else [node.target])
                for e in A.nodes(t) if isinstance(e, gast.Starred)}
    unpacked |= {id(a) for node in A.nodes(gast.Module(body=fn.body, type_ignores=[]))
                 if isinstance(node, gast.Call) for a in node.args if isinstance(a, gast.Starred)}
    for node in A.nodes(gast.Module(body=fn.body, type_ignores=[])):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            # a declaration for reading is what Python does without one: dropped
            if stored is None:
                stored = A.names_stored(gast.Module(body=fn.body, type_ignores=[]))
            if not set(node.names) & stored:
                continue
        if isinstance(node, gast.Delete) and all(isinstance(t, gast.Name)
                                                 for t in node.targets):
            continue        # del y: the name is not read again in a working program
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            for t in (node.targets if isinstance(node, gast.Assign) else [node.target]):
                base = t
                while isinstance(base, gast.Subscript):
                    base = base.value
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Subscript) \
                        and isinstance(base, gast.Name):
                    # ps[k][0] = v: the trace would copy ps[k] out, write into the copy
                    # and never see that ps[k] (the same object) changed
                    raise info.error(UnsupportedSyntaxError,
                                     "writing into an item of an item (%s) cannot be "
                                     "differentiated" % _source_of(t), node,
                                     hint="take the item out, write into it, and put it back "
                                          "as a new value: w = %s.copy(); w[...] = v; "
                                          "%s = w" % (_source_of(t.value), _source_of(t.value)))
                if base is not t and not isinstance(base, gast.Name):
                    # y.flat[i] = v, y.T[0] = v, f(y)[0] = v: a write into a view
                    raise info.error(UnsupportedSyntaxError,
                                     "writing into '%s' (a view or attribute of an array) "
                                     "cannot be differentiated" % A.dotted(base)
                                     if A.dotted(base) else "writing into the result of an "
                                     "expression cannot be differentiated", node,
                                     hint="index the array itself: y[i] = v (for y.flat[k], "
                                          "y[np.unravel_index(k, y.shape)] = v)")
        if isinstance(node, rejected) and id(node) not in unpacked:
            for cls, (what, hint) in _REJECTED.items():
                if isinstance(node, cls):
                    raise info.error(UnsupportedSyntaxError,
                                     "%s cannot be differentiated" % what, node, hint=hint)
        if node.__class__ is gast.Call:
            path = A.dotted(node.func)
            if path in ("exec", "eval", "globals", "locals", "vars"):
                raise info.error(UnsupportedSyntaxError,
                                 "'%s()' cannot be differentiated: the code it runs is not "
                                 "visible to the compiler" % path, node,
                                 hint="write the computation directly in the function")
    check_inplace_aliasing(fn, info)
    check_writes_through_views(fn, info)


# Expressions whose value may share memory with an array named in them.
_VIEW_METHODS = {"reshape", "ravel", "transpose", "swapaxes", "view", "squeeze", "diagonal"}
_VIEW_FUNCTIONS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "expand_dims",
                   "moveaxis", "broadcast_to", "asarray", "atleast_1d", "atleast_2d",
                   "atleast_3d", "diagonal", "flip", "fliplr", "flipud", "rot90"}


def _aliased_name(expr) -> Optional[str]:
    """The local array ``expr`` may be a view of (``b``, ``b[i]``, ``b.T``, ``b.reshape()``)."""
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Subscript):
        return _aliased_name(expr.value)
    if isinstance(expr, gast.Attribute) and expr.attr in ("T", "real", "imag"):
        return _aliased_name(expr.value)
    if isinstance(expr, gast.Call):
        f = expr.func
        if not isinstance(f, gast.Attribute):
            return None
        module = isinstance(f.value, gast.Name) and f.value.id in ("np", "numpy")
        if module and f.attr in _VIEW_FUNCTIONS and expr.args:
            return _aliased_name(expr.args[0])        # np.reshape(b, ...)
        if not module and f.attr in _VIEW_METHODS:
            return _aliased_name(f.value)             # b.reshape(...)
    return None


def _constant_slot(expr):
    """``("k", key)`` for ``b["w"]`` / ``b[0]`` (a non-negative constant index), else None."""
    if isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name) and \
            isinstance(expr.slice, gast.Constant):
        key = expr.slice.value
        if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)
                                    and key >= 0):
            return ("k", key)
    return None


def check_inplace_aliasing(fn: gast.FunctionDef, info: SourceInfo) -> None:
    """Reject ``x += v`` when another name may view the same array and is read later.

    The trace rebinds (``x = x + v``), which is what Python does for floats, but
    NumPy updates an array in place, and every view of it (``w = x.reshape(-1)``,
    ``v = x[0]``, ``y = x``, a ``for`` row) changes too: differentiating the
    rebinding would silently give the gradient of another function.
    """
    module = gast.Module(body=fn.body, type_ignores=[])
    parent: Dict[str, str] = {}

    def find(n):
        while n in parent:
            n = parent[n]
        return n

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    aliases = []   # (line, target names, viewed name, constant slot or None)
    for node in A.nodes(module):
        if isinstance(node, gast.Assign):
            src = _aliased_name(node.value)
            if src is not None:
                aliases.append((node.lineno, set().union(*[A.names_stored(t)
                                                           for t in node.targets]), src,
                                _constant_slot(node.value)))
        elif isinstance(node, gast.For):
            src = _aliased_name(node.iter)
            if src is not None:
                aliases.append((node.lineno, A.names_stored(node.target), src, None))
    if not aliases:
        return
    loops = [n for n in A.nodes(module) if isinstance(n, (gast.For, gast.While))]

    def span(node):
        return node.lineno, getattr(node, "end_lineno", None) or max(
            getattr(m, "lineno", node.lineno) for m in A.nodes(node))

    for node in A.nodes(module):
        if not (isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name)):
            continue
        t = node.target.id
        # Views made before the update (or anywhere in a loop around it: the next trip)...
        around = [span(loop) for loop in loops if span(loop)[0] <= node.lineno <= span(loop)[1]]
        parent.clear()
        active = [e for e in aliases
                  if e[0] < node.lineno or any(a <= e[0] <= b for a, b in around)]
        for line, targets, src, slot in active:
            for n in targets:
                union(n, src)
        root = find(t)
        partners = {n for n in set(parent) | set(parent.values()) if n != t and find(n) == root}

        def anchor(n):
            # (root container, constant slot just below it) along n's single chain of views
            slot = None
            for _ in range(len(active) + 1):
                ins = [e for e in active if n in e[1] and e[2] != n]   # x = x.reshape(-1): same
                if not ins:
                    return (n, slot) if slot else None
                if len(ins) > 1:
                    return None
                n, slot = ins[0][2], ins[0][3]
            return None
        mine = anchor(t)
        if mine is not None:
            # w = p['w'] and z = p['b'][0] (or x[0] and x[1]) are different arrays
            partners = {n for n in partners if not (
                anchor(n) and anchor(n)[0] == mine[0] and anchor(n)[1] != mine[1])}
        if not partners:
            continue
        # ... and read after it.
        ranges = [(node.lineno + 1, 10 ** 9)] + around
        for use in A.nodes(module):
            if isinstance(use, gast.Name) and isinstance(use.ctx, gast.Load) and \
                    use.id in partners and any(a <= use.lineno <= b for a, b in ranges):
                raise info.error(
                    UnsupportedSyntaxError,
                    "'%s %s= ...' updates an array in place, and %r (read on line %d) may "
                    "share its memory, so it would change too; s2sgrad does not track that"
                    % (t, _OP_TEXT.get(type(node.op), "?"), use.id,
                       info.absolute_line(use) or use.lineno), node,
                    hint="write '%s = %s %s ...' (a new array) instead"
                         % (t, t, _OP_TEXT.get(type(node.op), "?")))


def check_writes_through_views(fn: gast.FunctionDef, info: SourceInfo) -> None:
    """Reject ``y[i] = v`` while another name that may view ``y`` at that point
    (``w = y[0:2]``, ``w = y.T``, ``w = y``) is read later before being re-assigned:
    the write changes ``w`` too, which the adjoint (it routes ``w``'s gradient to
    ``y``'s old values) would not know."""
    if not any(isinstance(n, (gast.Assign, gast.AugAssign)) and isinstance(
            n.target if isinstance(n, gast.AugAssign) else n.targets[0], gast.Subscript)
            or isinstance(n, gast.Expr) and _scattered_into(n) is not None
            for n in A.statements(fn)):
        return
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    sharing: Dict[int, Set[str]] = {}      # id(write) -> names that may share y's memory

    def writes(s):
        if isinstance(s, gast.Expr) and _scattered_into(s) is not None:
            return [s.value.args[0]]            # np.add.at(y, index, v) writes into y
        targets = s.targets if isinstance(s, gast.Assign) else \
            [s.target] if isinstance(s, gast.AugAssign) else []
        return [t for t in targets if isinstance(t, gast.Subscript)
                and A.root_name(t) is not None]

    def merge(a, b):
        return {n: a.get(n, frozenset()) | b.get(n, frozenset()) for n in set(a) | set(b)}

    def forward(stmts, roots):
        """Which memory each name may refer to (a view shares its source's)."""
        for s in stmts:
            if isinstance(s, gast.If):
                roots = merge(forward(s.body, dict(roots)), forward(s.orelse, dict(roots)))
                continue
            if isinstance(s, (gast.For, gast.While)):
                entry = dict(roots)
                if isinstance(s, gast.For):
                    src = _aliased_name(s.iter)
                    for n in A.names_stored(s.target):
                        entry[n] = roots.get(src, frozenset([src])) if src else \
                            frozenset([("fresh", id(s))])
                once = forward(s.body, dict(entry))
                twice = forward(s.body, merge(entry, once))
                roots = forward(s.orelse, merge(roots, merge(once, twice)))
                continue
            for t in writes(s):
                y = A.root_name(t)
                mine = roots.get(y, frozenset([y]))
                sharing[id(s)] = {n for n, r in roots.items() if n != y and r & mine}
            if isinstance(s, gast.Assign):
                src = _aliased_name(s.value)
                for t in s.targets:
                    for n in A.names_stored(t) if not isinstance(t, gast.Subscript) else ():
                        if src is not None and isinstance(t, gast.Name):
                            roots[n] = roots.get(src, frozenset([src]))
                        else:
                            roots[n] = frozenset([("fresh", id(s), n)])
        return roots

    forward(fn.body, {p: frozenset([p]) for p in params})
    if not any(sharing.values()):
        return

    def killed(s):
        if isinstance(s, gast.Assign):
            return set().union(*[A.names_stored(t) for t in s.targets
                                 if not isinstance(t, gast.Subscript)])
        return set()

    def walk(stmts, live):
        """Backward liveness; checks each write against the names live after it."""
        for s in reversed(stmts):
            if isinstance(s, gast.If):
                live = walk(s.body, live) | walk(s.orelse, live) | A.names_loaded(s.test)
                continue
            if isinstance(s, (gast.For, gast.While)):
                after, at_end = live, live
                for _ in range(3):
                    entry = walk(s.body, at_end)
                    if isinstance(s, gast.For):
                        entry = entry - A.names_stored(s.target)
                    if after | entry <= at_end:
                        break
                    at_end = after | entry
                live = after | entry | walk(s.orelse, live) | A.names_loaded(
                    s.iter if isinstance(s, gast.For) else s.test)
                continue
            shared = sorted(sharing.get(id(s), set()) & live)
            if shared:
                y = A.root_name(writes(s)[0])
                raise info.error(
                    UnsupportedSyntaxError,
                    "writing into %r changes %r too (it may share %r's memory and is "
                    "read later); s2sgrad does not track that" % (y, shared[0], y), s,
                    hint="copy the array before writing into it (%s = %s.copy()), so "
                         "that %r keeps its values" % (y, y, shared[0]))
            live = (live - killed(s)) | A.names_loaded(s)
        return live

    walk(fn.body, set())


def _selection(expr: gast.BoolOp, first: gast.expr) -> gast.IfExp:
    """``a or b`` -> ``a if a else b`` and ``a and b`` -> ``b if a else a`` (the value
    ``or`` / ``and`` return; ``first`` is ``a`` already computed into an atom, and the
    other operands stay as lazy as they were): the gradient goes to the operand
    returned."""
    rest = expr.values[1:]
    other = rest[0] if len(rest) == 1 else gast.BoolOp(op=expr.op, values=rest)
    if isinstance(expr.op, gast.Or):
        return gast.IfExp(test=first, body=A.clone(first), orelse=other)
    return gast.IfExp(test=first, body=other, orelse=A.clone(first))


def _sequence_display(expr: gast.BinOp) -> Optional[gast.expr]:
    """``[x] * 3`` -> ``[x, x, x]`` and ``[a] + [b, c]`` -> ``[a, b, c]`` (list and
    tuple displays with a constant count): repetition and concatenation of displays
    written out, so each item keeps its own gradient.  None for anything else."""
    left, right = expr.left, expr.right
    if isinstance(left, gast.BinOp):              # [x] * 3 + [y]: inner ones first
        left = _sequence_display(left) or left
    if isinstance(right, gast.BinOp):
        right = _sequence_display(right) or right
    displays = (gast.List, gast.Tuple)
    if isinstance(expr.op, gast.Add) and isinstance(left, displays) \
            and type(left) is type(right):
        return type(left)(elts=list(left.elts) + list(right.elts), ctx=gast.Load())
    if isinstance(expr.op, gast.Mult):
        seq, count = (left, right) if isinstance(left, displays) else (right, left)
        if isinstance(seq, displays) and isinstance(count, gast.Constant) \
                and type(count.value) is int:
            return type(seq)(elts=list(seq.elts) * max(count.value, 0), ctx=gast.Load())
    return None


# Calls that change an argument or their receiver in place (see check_effects).
_MUTATING_FUNCTIONS = ("copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis")
_MUTATING_METHODS = frozenset({
    "fill", "sort", "put", "itemset", "resize", "partition", "byteswap", "setfield",
    "extend", "insert", "remove", "reverse", "clear", "pop", "update", "setdefault",
    "popitem", "__setitem__", "__delitem__", "__iadd__", "__isub__", "__imul__",
    "__itruediv__"})

_OP_TEXT = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
            gast.FloorDiv: "//", gast.Mod: "%", gast.MatMult: "@"}


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


def _assignments(body):
    """(targets, value) pairs of every assignment, at any depth."""
    for stmt in A.node_list(gast.Module(body=body, type_ignores=[])):
        cls = stmt.__class__
        if cls is gast.Assign:
            yield stmt.targets, stmt.value
        elif cls is gast.AugAssign:
            yield [stmt.target], gast.BinOp(left=A.as_load(stmt.target), op=stmt.op,
                                           right=stmt.value)
        elif cls is gast.For or cls is gast.comprehension:
            yield [stmt.target], stmt.iter
        elif cls is gast.Expr and appended_list(stmt) is not None:
            yield [A.store(appended_list(stmt))], stmt.value.args[0]
        elif cls is gast.Expr and _scattered_into(stmt) is not None:
            # np.add.at(y, index, v): y = y + v at index
            yield [A.store(_scattered_into(stmt))], gast.Tuple(elts=[
                stmt.value.args[0], stmt.value.args[2]], ctx=gast.Load())


def _scattered_into(stmt) -> Optional[str]:
    """'y' for the statement ``np.add.at(y, index, v)`` (or ``np.subtract.at``; the
    module is resolved when the trace lowers it, see ThreeAddress.scatter_add)."""
    v = stmt.value
    if (isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) and v.func.attr == "at"
            and isinstance(v.func.value, gast.Attribute)
            and v.func.value.attr in ("add", "subtract") and len(v.args) == 3
            and isinstance(v.args[0], gast.Name)):
        return v.args[0].id
    return None


def appended_list(stmt) -> Optional[str]:
    """'ys' for the statement ``ys.append(v)``."""
    v = stmt.value if isinstance(stmt, gast.Expr) else None
    if (isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute)
            and v.func.attr == "append" and isinstance(v.func.value, gast.Name)
            and len(v.args) == 1 and not v.keywords):
        return v.func.value.id
    return None


def varied_names(fn: gast.FunctionDef, wrt: Set[str]) -> Set[str]:
    varied = set(wrt)
    pairs = []          # (names the value reads differentiably, names each target binds)
    for targets, value in _assignments(fn.body):
        stored = []
        for t in targets:
            name = A.root_name(t) if not isinstance(t, (gast.Tuple, gast.List)) else None
            stored.append({name} if name else A.names_stored(t))
        pairs.append((differentiable_loads(value), stored))
    changed = True
    while changed:
        changed = False
        for loads, stored_by_target in pairs:
            if loads & varied:
                for stored in stored_by_target:
                    if not stored <= varied:
                        varied |= stored
                        changed = True
    return varied


# --------------------------------------------------------------------------
# Three-address form


def _is_trivial(expr) -> bool:
    """Atoms and inactive expressions cheap and clear enough to repeat inline."""
    if isinstance(expr, (gast.Name, gast.Constant)):
        return True
    if isinstance(expr, gast.Attribute):
        return A.dotted(expr) is not None
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.operand, gast.Constant):
        return True
    if isinstance(expr, (gast.Tuple, gast.List)):
        return all(_is_trivial(e) for e in expr.elts)
    if isinstance(expr, gast.Slice):
        return all(_is_trivial(e) for e in (expr.lower, expr.upper, expr.step) if e is not None)
    if isinstance(expr, gast.BinOp):
        return _is_trivial(expr.left) and _is_trivial(expr.right)
    return False


def _fold_negative(expr):
    if (isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub)
            and isinstance(expr.operand, gast.Constant)
            and isinstance(expr.operand.value, (int, float, complex))
            and not isinstance(expr.operand.value, bool)):
        return gast.copy_location(A.const(-expr.operand.value), expr)
    return expr


class ThreeAddress:
    def __init__(self, info: SourceInfo, names: A.NameAllocator, varied: Set[str],
                 local_names: Set[str], resolve: Optional[Callable[[str], Any]] = None,
                 extra_globals: Optional[Dict[str, object]] = None):
        self.info = info
        self.names = names
        self.varied = varied
        self.local_names = local_names
        self.resolve = resolve          # what a global name holds (None: not known)
        self.extra_globals = extra_globals if extra_globals is not None else {}
        self.out: List[gast.stmt] = []
        self.origin = None
        self._inactive: Dict[int, tuple] = {}

    # -- statements
    def body(self, stmts) -> List[gast.stmt]:
        saved = self.out
        self.out = []
        for stmt in stmts:
            self.origin = stmt
            self.statement(stmt)
        result, self.out = self.out, saved
        return result

    def emit(self, stmt):
        stmt.s2s_origin = self.origin
        if not hasattr(stmt, "lineno") and self.origin is not None:
            gast.copy_location(stmt, self.origin)
        self.out.append(stmt)

    def statement(self, stmt):
        if isinstance(stmt, gast.Assign):
            self.assign(stmt)
        elif isinstance(stmt, gast.AugAssign) and getattr(stmt, "s2s_trip_counter", False):
            self.emit(stmt)                 # trips += 1: replayed, never differentiated
        elif isinstance(stmt, gast.AugAssign):
            value = gast.BinOp(left=A.as_load(stmt.target), op=stmt.op, right=stmt.value)
            self.assign(gast.Assign(targets=[stmt.target], value=value, type_comment=None))
        elif isinstance(stmt, gast.AnnAssign):
            if stmt.value is not None:
                self.assign(gast.Assign(targets=[stmt.target], value=stmt.value, type_comment=None))
        elif isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else A.const(None)
            if isinstance(value, gast.Name):
                self.emit(gast.Return(value=value))
            else:
                name = self.names.fresh("out")
                self.into(value, name, base="t")
                self.emit(gast.Return(value=A.load(name)))
        elif isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return  # docstring or bare constant
            self.check_effects(stmt.value)
            scatter = self.scatter_add(stmt.value)
            if scatter is not None:
                self.assign(scatter)
                return
            if not (differentiable_loads(stmt.value) & self.varied):
                self.emit(stmt)
            else:
                self.emit(gast.Expr(value=self.primitive(stmt.value,
                                                         appended_list(stmt) or "t")))
        elif isinstance(stmt, gast.If):
            test = self.branch_test(stmt.test, stmt.body + stmt.orelse)
            body = self.body(stmt.body)
            orelse = self.body(stmt.orelse)
            self.origin = stmt
            self.emit(gast.If(test=test, body=body or [gast.Pass()], orelse=orelse))
        elif isinstance(stmt, gast.For):
            it = self.loop_range(stmt)
            body = self.body(stmt.body)
            orelse = self.body(stmt.orelse)
            self.origin = stmt
            node = gast.For(target=stmt.target, iter=it, body=body or [gast.Pass()],
                            orelse=orelse, type_comment=None)
            if hasattr(stmt, "s2s_counter"):
                node.s2s_counter = stmt.s2s_counter
            self.emit(node)
        elif isinstance(stmt, gast.While):
            self.loop_while(stmt)
        elif isinstance(stmt, (gast.Pass, gast.Break, gast.Continue, gast.Raise, gast.Assert)):
            self.emit(stmt)
        elif isinstance(stmt, (gast.Global, gast.Nonlocal, gast.Delete)):
            return          # (declarations for reading, del of names: see check_supported)
        elif isinstance(stmt, gast.FunctionDef):
            raise self.info.error(UnsupportedSyntaxError,
                                  "nested function definitions are not supported here", stmt,
                                  hint="define the helper at module level; s2sgrad differentiates "
                                       "calls to module-level Python functions")
        else:
            raise self.info.error(UnsupportedSyntaxError,
                                  "'%s' statements cannot be differentiated" % type(stmt).__name__,
                                  stmt)

    # -- control flow: what the backward sweep must replay is recorded in names
    def branch_test(self, test, branches):
        """The branch taken, as a name the branches cannot overwrite."""
        test = _fold_negative(test)
        if isinstance(test, gast.Constant):
            return test
        stored = A.names_stored(gast.Module(body=branches, type_ignores=[]))
        cheap = not any(isinstance(n, (gast.Call, gast.IfExp, gast.Subscript))
                        for n in A.nodes(test))
        if cheap and not (A.names_loaded(test) & stored):
            return test     # the backward sweep can re-evaluate it: same values
        name = self.names.numbered("cond")
        self.emit(A.assign(name, self.inline_value(test)))
        return A.load(name)

    def inline_value(self, expr):
        """An inactive or test expression, kept whole (IfExp lowered to a name)."""
        if any(isinstance(n, gast.IfExp) for n in A.nodes(expr)):
            return self.atom(expr, "cond")
        return expr

    def loop_range(self, stmt: gast.For):
        """range(...) arguments the loop body cannot change."""
        it = stmt.iter
        if isinstance(it, gast.Call) and A.dotted(it.func) == "reversed" and it.args:
            inner = self.loop_range(gast.For(target=stmt.target, iter=it.args[0],
                                             body=stmt.body, orelse=[], type_comment=None))
            return gast.Call(func=it.func, args=[inner], keywords=[])
        if not (isinstance(it, gast.Call) and A.dotted(it.func) == "range"):
            return self.atom(it, "seq", keep_inactive=True)
        stored = A.names_stored(gast.Module(body=stmt.body, type_ignores=[])) | \
            A.names_stored(stmt.target)
        args = []
        for a in it.args:
            if isinstance(a, gast.Constant) or not (A.names_loaded(a) & stored) \
                    and not (differentiable_loads(a) & self.varied):
                args.append(a)
            else:
                name = self.names.numbered("n")
                self.emit(A.assign(name, self.inline_value(a)))
                args.append(A.load(name))
        return gast.Call(func=it.func, args=args, keywords=[])

    def loop_while(self, stmt: gast.While):
        """while loops count their iterations; the backward sweep replays the count."""
        if stmt.orelse:
            raise self.info.error(UnsupportedSyntaxError, "'while ... else' cannot be "
                                  "differentiated", stmt,
                                  hint="use a flag set before 'break' and test it after the loop")
        if any(isinstance(n, gast.IfExp) for n in A.nodes(stmt.test)):
            raise self.info.error(UnsupportedSyntaxError, "a conditional expression (x if c "
                                  "else y) in a while condition cannot be differentiated", stmt,
                                  hint="compute the condition into a variable before the loop "
                                       "and again at the end of its body")
        count = self.names.fresh("iterations")
        self.emit(A.assign(count, A.const(0)))
        body = self.body(stmt.body)
        self.origin = stmt
        step = gast.AugAssign(target=A.store(count), op=gast.Add(), value=A.const(1))
        step.s2s_origin = stmt
        gast.copy_location(step, stmt)
        node = gast.While(test=self.inline_value(stmt.test), body=body + [step], orelse=[])
        node.s2s_counter = count
        self.emit(node)

    def assign(self, stmt: gast.Assign):
        value = stmt.value
        first, rest = stmt.targets[0], stmt.targets[1:]
        if isinstance(first, gast.Name):
            self.into(value, first.id, base=first.id)
            src = first.id
        else:
            if isinstance(first, gast.Subscript):
                base = A.root_name(first) or "t"
                rhs = self.atom(value, base)
                target = gast.Subscript(value=self.atom(A.as_load(first.value), base),
                                        slice=self.index(first.slice), ctx=gast.Store())
                self.emit(A.assign(target, rhs))
            elif isinstance(first, (gast.Tuple, gast.List)):
                rhs = self.atom(value, "t")
                self.emit(A.assign(A.as_store(first), rhs))
            elif isinstance(first, gast.Attribute):
                rhs = self.atom(value, "t")
                self.emit(A.assign(first, rhs))
            else:
                raise self.info.error(UnsupportedSyntaxError, "unsupported assignment target",
                                      stmt)
            src = None
        for t in rest:
            if src is None:
                raise self.info.error(UnsupportedSyntaxError,
                                      "chained assignment to a non-name target", stmt,
                                      hint="split it into separate assignments")
            self.emit(A.assign(A.as_store(t) if not isinstance(t, gast.Name) else A.store(t.id),
                               A.load(src)))

    # -- expressions
    def inactive(self, expr) -> bool:
        # (asked again for each enclosing expression: remembered per node, which is
        # kept alive in the table so its id is not reused)
        found = self._inactive.get(id(expr))
        if found is None or found[0] is not expr:
            found = self._inactive[id(expr)] = (
                expr, not (differentiable_loads(expr) & self.varied))
        return found[1]

    def into(self, expr, target: str, base: str):
        """Statements computing ``expr`` into the name ``target``."""
        expr = _fold_negative(expr)
        if isinstance(expr, gast.IfExp) and not self.inactive(expr):
            test = self.branch_test(expr.test, [A.assign(target, A.const(None))])
            saved = self.out
            self.out = []
            self.into(expr.body, target, base)
            body, self.out = self.out, []
            self.into(expr.orelse, target, base)
            orelse, self.out = self.out, saved
            self.emit(gast.If(test=test, body=body, orelse=orelse))
            return
        if self.inactive(expr):
            self.emit(A.assign(target, expr))
            return
        self.emit(A.assign(target, self.primitive(expr, base)))

    def atom(self, expr, base: str, keep_inactive: bool = False):
        """An atom (name, constant, or trivial inactive expression) for ``expr``."""
        expr = _fold_negative(expr)
        if isinstance(expr, (gast.Name, gast.Constant)):
            return expr
        if self.inactive(expr) and (keep_inactive or _is_trivial(expr)):
            return expr
        if self.inactive(expr) or isinstance(expr, gast.IfExp):
            name = self.names.numbered(base)
            self.into(expr, name, base)
            return A.load(name)
        prim = self.primitive(expr, base)      # operands first: s0, s1, then s2 = s0 + s1
        name = self.names.numbered(base)
        self.emit(A.assign(name, prim))
        return A.load(name)

    def index(self, node):
        """Index expressions carry no gradient: keep them whole unless costly."""
        if _is_trivial(node) and self.inactive(node):
            return node
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Slice):
            return gast.Slice(*[None if e is None else self.atom(e, "i")
                                for e in (node.lower, node.upper, node.step)])
        if isinstance(node, (gast.Name, gast.Constant)):
            return node
        if self.inactive(node) and _is_trivial(node):
            return node
        return self.atom(node, "idx")

    def primitive(self, expr, base: str):
        """``expr`` with every operand reduced to an atom (one operation)."""
        if isinstance(expr, gast.BoolOp):
            first = self.atom(expr.values[0], base)
            if isinstance(first, gast.Name) and not self.inactive(expr.values[0]):
                self.varied.add(first.id)       # (a new temporary: varied as its value)
            return self.primitive(_selection(expr, first), base)
        if isinstance(expr, gast.BinOp) and _sequence_display(expr) is not None:
            return self.primitive(_sequence_display(expr), base)
        if isinstance(expr, gast.BinOp):
            return gast.BinOp(left=self.atom(expr.left, base), op=expr.op,
                              right=self.atom(expr.right, base))
        if isinstance(expr, gast.UnaryOp):
            return gast.UnaryOp(op=expr.op, operand=self.atom(expr.operand, base))
        if isinstance(expr, gast.Call):
            display = self.dict_display(expr)
            if display is not None:
                return self.primitive(display, base)
            return self.call(expr, base)
        if isinstance(expr, gast.Attribute):
            return gast.Attribute(value=self.atom(expr.value, base), attr=expr.attr,
                                  ctx=gast.Load())
        if isinstance(expr, gast.Subscript):
            joined = self.index_trick_ranges(expr)
            if joined is not None:
                return gast.Subscript(value=expr.value, slice=gast.Tuple(
                    elts=[self.atom(e, base) for e in joined], ctx=gast.Load()), ctx=gast.Load())
            return gast.Subscript(value=self.atom(expr.value, base), slice=self.index(expr.slice),
                                  ctx=gast.Load())
        if isinstance(expr, (gast.Tuple, gast.List)):
            return type(expr)(elts=[self.atom(e, base) for e in expr.elts], ctx=gast.Load())
        if isinstance(expr, gast.Dict):
            return gast.Dict(keys=[k if k is None else self.atom(k, base, keep_inactive=True)
                                   for k in expr.keys],
                             values=[self.atom(v, base) for v in expr.values])
        if isinstance(expr, gast.Compare):
            return gast.Compare(left=self.atom(expr.left, base), ops=expr.ops,
                                comparators=[self.atom(c, base) for c in expr.comparators])
        if isinstance(expr, gast.BoolOp):
            return gast.BoolOp(op=expr.op, values=[self.atom(v, base) for v in expr.values])
        if isinstance(expr, gast.IfExp):
            name = self.names.numbered(base)
            self.into(expr, name, base)
            return A.load(name)
        if isinstance(expr, (gast.Name, gast.Constant)):
            return expr
        if isinstance(expr, gast.Lambda):
            raise self.info.error(UnsupportedSyntaxError, "lambdas inside the function are not "
                                  "supported here", self.origin,
                                  hint="define the helper as a module-level function")
        if isinstance(expr, gast.ListComp):
            raise self.info.error(UnsupportedSyntaxError, "list comprehensions over "
                                  "differentiated values are not supported here", self.origin,
                                  hint="write the loop out explicitly")
        raise self.info.error(UnsupportedSyntaxError,
                              "expression '%s' cannot be differentiated" % type(expr).__name__,
                              self.origin)

    def call(self, expr: gast.Call, base: str):
        if any(k.arg == "out" for k in expr.keywords):
            self.check_effects(expr)
        expr = self.frozen_distribution(self.extremum_of_items(expr))
        func = expr.func
        root = A.root_name(func)
        if isinstance(func, gast.Attribute) and (root is None or root in self.local_names
                                                 or A.dotted(func) is None):
            # A method call on a value: x.sum(axis=0), (a * b).mean()
            func = gast.Attribute(value=self.atom(func.value, base), attr=func.attr,
                                  ctx=gast.Load())
        elif not (isinstance(func, gast.Name) or A.dotted(func) is not None):
            func = self.atom(func, base)
        args = []
        for a in expr.args:
            if isinstance(a, gast.Starred):
                raise self.info.error(UnsupportedSyntaxError,
                                      "a starred argument '*%s' passes differentiated values, "
                                      "and how many is not known before the call runs"
                                      % (A.dotted(a.value) or "..."), self.origin,
                                      hint="pass the arguments one by one, or a tuple that "
                                           "is a parameter or assigned once: xs = (a, b); f(*xs)")
            args.append(self.atom(a, base))
        keywords = []
        for k in expr.keywords:
            if k.arg is None:
                raise self.info.error(UnsupportedSyntaxError,
                                      "'**%s' passes differentiated values under keywords "
                                      "not known before the call runs"
                                      % (A.dotted(k.value) or "..."), self.origin,
                                      hint="pass keyword arguments explicitly, or a dict "
                                           "display: f(**{'a': x})")
            keywords.append(gast.keyword(arg=k.arg, value=self.atom(k.value, base)))
        return gast.Call(func=func, args=args, keywords=keywords)


    def check_effects(self, expr: gast.expr) -> None:
        """Reject a call statement that writes into an array, list or dict in place
        (``np.copyto(y, x)``, ``y.fill(0.0)``, ``ys.extend(zs)``, ``f(x, out=y)``):
        the trace follows values through names, so a write it does not see would give
        a silently wrong gradient."""
        if not isinstance(expr, gast.Call):
            return
        func = expr.func
        what = None
        if any(k.arg == "out" and not (isinstance(k.value, gast.Constant)
                                       and k.value.value is None) for k in expr.keywords):
            what = "'out=' writes the result into an existing array"
        elif isinstance(func, gast.Attribute) and A.root_name(func) in self.local_names \
                and func.attr in _MUTATING_METHODS:
            what = "'.%s()' changes %r in place" % (func.attr, A.root_name(func))
        elif isinstance(func, gast.Attribute) and self.resolve is not None \
                and A.root_name(func) not in self.local_names:
            obj = self.resolve(A.dotted(func) or "")
            ufunc = getattr(obj, "__self__", None)
            if any(obj is getattr(numpy, n, None) for n in _MUTATING_FUNCTIONS) or \
                    obj is numpy.random.shuffle:
                what = "'%s()' writes into its first argument" % A.dotted(func)
            elif isinstance(ufunc, numpy.ufunc) and func.attr == "at" \
                    and ufunc not in (numpy.add, numpy.subtract):
                what = "'%s()' updates its first argument in place" % A.dotted(func)
        if what is not None:
            raise self.info.error(
                UnsupportedSyntaxError, "%s, which s2sgrad cannot follow" % what,
                self.origin, hint="compute a new value and assign it (y = np.exp(x), "
                                  "y = np.sort(y), ys = ys + zs, y = np.where(mask, v, y))")

    def scatter_add(self, expr: gast.expr) -> Optional[gast.Assign]:
        """``np.add.at(y, index, v)`` -> ``y[...] = add_at(y, index, v)`` (and
        ``np.subtract.at``): the same in-place update of ``y`` (repeated indices add
        up), written as a write into ``y`` that the reverse pass saves and restores
        like any other, with a rule for ``add_at``.  None for any other statement."""
        if not (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute)
                and expr.func.attr == "at" and self.resolve is not None
                and A.root_name(expr.func) not in self.local_names):
            return None
        ufunc = getattr(self.resolve(A.dotted(expr.func) or ""), "__self__", None)
        if ufunc is not numpy.add and ufunc is not numpy.subtract:
            return None
        if len(expr.args) != 3 or expr.keywords or not isinstance(expr.args[0], gast.Name):
            raise self.info.error(UnsupportedSyntaxError,
                                  "'%s' is differentiated with three positional arguments, "
                                  "the first a variable" % A.dotted(expr.func), self.origin,
                                  hint="np.add.at(y, index, values)")
        from .runtime import add_at, subtract_at
        helper = add_at if ufunc is numpy.add else subtract_at
        name = next((k for k, v in self.extra_globals.items() if v is helper), None)
        if name is None:
            name = self.names.fresh(helper.__name__)
            self.extra_globals[name] = helper
        y = expr.args[0].id
        target = gast.Subscript(value=A.load(y), slice=A.const(Ellipsis), ctx=gast.Store())
        call = gast.Call(func=A.load(name), args=[A.load(y)] + list(expr.args[1:]), keywords=[])
        return gast.copy_location(gast.Assign(targets=[target], value=call, type_comment=None),
                                  self.origin)

    def index_trick_ranges(self, expr: gast.Subscript) -> Optional[List[gast.expr]]:
        """The items of ``np.r_[x, 1:4]`` / ``np.c_[...]`` with slice notation spelled
        out as the arrays it stands for (``np.arange(1, 4)``; ``np.linspace(a, b, n)``
        for a step ``n * 1j``), so the joining rule sees arrays only; None when
        ``expr`` is not such an index trick with a slice."""
        path = A.dotted(expr.value)
        items = expr.slice.elts if isinstance(expr.slice, gast.Tuple) else [expr.slice]
        if (path not in INDEX_TRICKS or self.resolve is None
                or not any(isinstance(e, gast.Slice) for e in items)
                or self.resolve(path) is not getattr(numpy, path.rsplit(".", 1)[1])):
            return None
        module = path.rsplit(".", 1)[0]
        out = []
        for e in items:
            if not isinstance(e, gast.Slice):
                out.append(e)
                continue
            start = e.lower if e.lower is not None else A.const(0)
            step = e.step
            if isinstance(step, gast.Constant) and isinstance(step.value, complex):
                count = A.const(int(abs(step.value)))
                out.append(A.call(A.parse_expr(module + ".linspace"), [start, e.upper, count]))
            else:
                args = [start, e.upper] + ([step] if step is not None else [])
                if e.upper is None:
                    raise self.info.error(UnsupportedSyntaxError, "a slice without an end "
                                          "in %s[...]" % path, self.origin,
                                          hint="give the end: %s[x, 0:n]" % path)
                out.append(A.call(A.parse_expr(module + ".arange"), args))
        return out

    def dict_display(self, expr: gast.Call) -> Optional[gast.Dict]:
        """``dict(a=x, b=y)`` -> ``{'a': x, 'b': y}`` (the builtin with keywords only),
        which the trace differentiates item by item; None for any other call."""
        func = expr.func
        if (self.resolve is None or not isinstance(func, gast.Name) or func.id != "dict"
                or expr.args or not expr.keywords or func.id in self.local_names
                or any(k.arg is None for k in expr.keywords)
                or self.resolve("dict") is not dict):
            return None
        return gast.Dict(keys=[A.const(k.arg) for k in expr.keywords],
                         values=[k.value for k in expr.keywords])

    def frozen_distribution(self, expr: gast.Call) -> gast.Call:
        """``stats.norm(loc, scale).logpdf(x)`` -> ``stats.norm.logpdf(x, loc, scale)``:
        a frozen SciPy distribution's method is the distribution's method with the
        frozen arguments after the method's own (SciPy's rv_frozen does just that), so
        the rules of the unfrozen methods apply."""
        func = expr.func
        if (self.resolve is None or not isinstance(func, gast.Attribute)
                or not isinstance(func.value, gast.Call)):
            return expr
        inner = func.value
        root = A.root_name(inner.func)
        dotted = A.dotted(inner.func)
        if root is None or root in self.local_names or dotted is None:
            return expr
        dist = self.resolve(dotted)
        if not _is_scipy_distribution(dist) or not hasattr(dist, func.attr):
            return expr
        if any(isinstance(a, gast.Starred) for a in list(expr.args) + list(inner.args)) or \
                any(k.arg is None for k in list(expr.keywords) + list(inner.keywords)):
            return expr
        method = gast.Attribute(value=inner.func, attr=func.attr, ctx=gast.Load())
        return gast.Call(func=method, args=list(expr.args) + list(inner.args),
                         keywords=list(inner.keywords) + list(expr.keywords))

    def extremum_of_items(self, expr: gast.Call) -> gast.Call:
        """``max(a, b, c)`` -> ``max([a, b, c])`` (and ``min``): the builtins scan
        their arguments left to right exactly as they scan one list of them, so one
        rule -- the item returned gets the gradient -- covers both forms.  Two
        arguments keep the elementwise ``max(a, b)`` rule."""
        func = expr.func
        if (self.resolve is None or not isinstance(func, gast.Name) or len(expr.args) < 3
                or func.id not in ("max", "min") or func.id in self.local_names
                or any(isinstance(a, gast.Starred) for a in expr.args)
                or self.resolve(func.id) is not getattr(builtins, func.id)):
            return expr
        items = gast.List(elts=list(expr.args), ctx=gast.Load())
        return gast.Call(func=func, args=[items], keywords=expr.keywords)


def _is_scipy_distribution(obj) -> bool:
    """A scipy.stats distribution object (``stats.norm``), found without importing
    SciPy: its classes live in scipy.stats and derive from rv_generic."""
    return any(c.__name__ == "rv_generic" and c.__module__.startswith("scipy.stats")
               for c in type(obj).__mro__)


# --------------------------------------------------------------------------
# Straight-line renaming (x, x_1, x_2 ...)


def _compound_assigned(body) -> Set[str]:
    names: Set[str] = set()
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            for sub in A.nodes(stmt):
                if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Store):
                    names.add(sub.id)
    return names


def rename_reassignments(body: List[gast.stmt], params: List[str],
                         names: A.NameAllocator) -> List[gast.stmt]:
    """Give each top-level re-assignment of a name its own version."""
    blocked = _compound_assigned(body)
    current: Dict[str, str] = {}
    defined: Set[str] = set(params)
    out = []
    for stmt in body:
        stmt = A.rename(stmt, {k: v for k, v in current.items() if k != v}) \
            if not isinstance(stmt, gast.Assign) else stmt
        if isinstance(stmt, gast.Assign):
            stmt.value = A.rename(stmt.value, {k: v for k, v in current.items() if k != v})
            tgt = stmt.targets[0]
            if isinstance(tgt, gast.Name):
                orig = tgt.id
                if orig in defined and orig not in blocked:
                    new = names.fresh(orig)
                    current[orig] = new
                    tgt.id = new
                else:
                    current[orig] = orig
                defined.add(orig)
            else:
                stmt.targets = [A.rename(t, {k: v for k, v in current.items() if k != v})
                                if not isinstance(t, gast.Name) else t for t in stmt.targets]
                for n in A.names_stored(tgt):
                    defined.add(n)
        out.append(stmt)
    return out


# --------------------------------------------------------------------------


def local_names_of(fn: gast.FunctionDef) -> Set[str]:
    names = {a.id for a in fn.args.args + fn.args.posonlyargs}
    return A._names(fn, names, A._STORE)


def dict_names(fn: gast.FunctionDef, example_args=None) -> Set[str]:
    """Names known to hold dicts: parameters called with a dict, and names assigned only
    dict displays (``{...}``, ``dict(...)``). ``for k in d`` iterates their keys."""
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    found = {p for p, a in zip(params, example_args or ()) if isinstance(a, dict)}
    sources: Dict[str, List[gast.expr]] = {}
    for node in A.nodes(fn):
        if isinstance(node, gast.Assign):
            for t in node.targets:
                if isinstance(t, gast.Name):
                    sources.setdefault(t.id, []).append(node.value)
                else:
                    for n in A.names_stored(t):
                        sources.setdefault(n, []).append(None)
        elif isinstance(node, (gast.For, gast.AugAssign, gast.comprehension)):
            for n in A.names_stored(node.target):
                sources.setdefault(n, []).append(None)
    for name, values in sources.items():
        if name not in params and all(isinstance(v, gast.Dict) or (
                isinstance(v, gast.Call) and A.dotted(v.func) == "dict") for v in values):
            found.add(name)
    return found


def build_primal_trace(parsed: ParsedFunction, wrt: List[str], reserved=(),
                       example_args=None, fresh: bool = False) -> PrimalTrace:
    """Normalize ``parsed`` into the primal trace (``example_args``, when given, tell
    which parameters are dicts).  ``parsed.node`` is left as it is, unless ``fresh``
    says it was parsed for this trace alone: it is then lowered in place, not copied."""
    fn = parsed.node if fresh else A.clone(parsed.node)
    info = parsed.info
    from .controlflow import generator_arguments_to_lists
    fn = generator_arguments_to_lists(fn)
    check_supported(fn, info)
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    defaults = {}
    if fn.args.defaults:
        for name, _ in zip(params[-len(fn.args.defaults):], fn.args.defaults):
            defaults[name] = None
    local_names = local_names_of(fn)
    names = A.NameAllocator(A.all_names(fn) | set(reserved))
    body = list(fn.body)
    from .controlflow import lower_comprehensions, normalize_control_flow
    from .inline import inline_calls
    body = lower_comprehensions(body, names, info, fn)
    from .desugar import expand_starred, fold_displays
    body = [fold_displays(s) for s in expand_starred(body, params, example_args)]
    body, extra_globals = inline_calls(body, parsed, names)
    body = normalize_control_flow(body, names, info, fn, dict_names(fn, example_args))
    from .desugar import split_unpacking
    body = split_unpacking(body, names)
    varied = varied_names(_with_body(fn, body), set(wrt))
    from .analysis import Namespace
    namespace = Namespace(collections.ChainMap(extra_globals, parsed.globals)
                          if extra_globals else parsed.globals, parsed.closure)
    lowered = ThreeAddress(info, names, varied, local_names | A.names_stored(
        gast.Module(body=body, type_ignores=[])), namespace.resolve, extra_globals).body(body)
    ret = lowered[-1]
    lowered = rename_reassignments(lowered, params, names)
    ret = lowered[-1]
    assert isinstance(ret, gast.Return) and isinstance(ret.value, gast.Name)
    fn.body = lowered
    return PrimalTrace(node=fn, params=params, defaults=defaults, output=ret.value.id,
                       info=info, names=names, varied=varied_names(fn, set(wrt)),
                       local_names=local_names_of(fn), extra_globals=extra_globals)


def _with_body(fn, body):
    new = copy.copy(fn)
    new.body = body
    return new


def _source_of(node) -> str:
    from .emit import to_source
    return to_source(node).strip()
