"""What the passes share: the shape oracle, numbers and negations on trees, purity,
reads and stores of statements, substitution, shapes under broadcasting, liveness."""
from __future__ import annotations

import operator
from typing import Dict, List, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.dataflow import varied_fixpoint
from s2sgrad.analysis.defuse import views_at_writes
from s2sgrad.analysis.liveness import Liveness
from s2sgrad.analysis.effects import PURE_METHODS, pure_expr


_FIELDS_OF = A._NAME_FIELDS.get         # a class's fields that may hold names (or None)

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow}


_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)


class ShapeOracle:
    """What the optimizer may assume about names: their shapes (from the probe;
    a gradient has its primal's shape) and whether they hold floating values."""

    def __init__(self, shapes: Optional[Dict[str, tuple]] = None,
                 floating: Optional[Set[str]] = None, numpy_name: str = "np",
                 wide: Optional[Set[str]] = None, builtins: Optional[Set[str]] = None,
                 float64_arrays: Optional[Set[str]] = None,
                 narrow: Optional[Dict[str, str]] = None):
        self.shapes = dict(shapes or {})
        self.floating = set(floating or ())
        self.numpy_name = numpy_name
        # names whose dtype a Python float cannot narrow: float64, ints, bools (a Python
        # float times a float32 array stays float32, a float64 array makes it float64)
        self.wide = set(wide or ())
        # builtins (zip, reversed, ...) the generated code may call: not shadowed by
        # the user's globals or locals
        self.builtins = set(builtins or ())
        self.float64_arrays = set(float64_arrays or ())    # names holding float64 arrays
        # names holding float32 / float16 arrays or NumPy scalars (a gradient: its
        # primal's dtype) -> the dtype's name; passes/dtypes.py keeps their code in it
        self.narrow = dict(narrow or {})

    def shape(self, name: str):
        return self.shapes.get(name)

    def is_wide(self, node) -> bool:
        """Combining ``node`` with a Python float gives the dtype that combining it
        with a float64 array would give."""
        if isinstance(node, gast.Name):
            return node.id in self.wide
        if isinstance(node, (gast.Constant, gast.Compare)):
            return True
        if isinstance(node, gast.BinOp):
            return self.is_wide(node.left) and self.is_wide(node.right)
        if isinstance(node, gast.UnaryOp):
            return self.is_wide(node.operand)
        if isinstance(node, (gast.Subscript, gast.Attribute)):
            return self.is_wide(node.value)
        if isinstance(node, gast.Call):
            path = A.dotted(node.func) or ""
            return path.startswith(self.numpy_name + ".") and bool(node.args) and all(
                self.is_wide(a) for a in node.args)
        return False

    def is_floating(self, node) -> bool:
        """True when ``node`` certainly evaluates to a float or float array (so
        ``node * 1.0`` may become ``node`` without changing its dtype)."""
        if isinstance(node, gast.Name):
            return node.id in self.floating
        if isinstance(node, gast.Constant):
            return isinstance(node.value, float)
        if isinstance(node, gast.BinOp):
            return (isinstance(node.op, gast.Div) or self.is_floating(node.left)
                    or self.is_floating(node.right))
        if isinstance(node, gast.UnaryOp):
            return self.is_floating(node.operand)
        if isinstance(node, (gast.Subscript, gast.Attribute)):
            return self.is_floating(node.value)
        if isinstance(node, gast.Call):
            path = A.dotted(node.func) or ""
            return path.startswith(self.numpy_name + ".") and any(
                self.is_floating(a) for a in node.args)
        return False


_NO_ORACLE = ShapeOracle()


def _num(node):
    """The number a node stands for (``-2.0`` is a UnaryOp around a Constant)."""
    cls = node.__class__
    if cls is gast.Constant:
        value = node.value
        if value.__class__ in _PLAIN_NUMBERS or (isinstance(value, (int, float))
                                                 and not isinstance(value, bool)):
            return value
        return None
    if cls is gast.UnaryOp and isinstance(node.op, gast.USub):
        inner = _num(node.operand)
        return None if inner is None else -inner
    return None


_PLAIN_NUMBERS = frozenset({int, float})


def is_weak(node, names=frozenset()) -> bool:
    """``node`` computes a Python number from literals (and ``names``, known to hold
    such numbers) alone (``-1.0 / 3``): NumPy never lets such a value decide a
    result's precision (a float32 array times it stays float32)."""
    cls = node.__class__
    if cls is gast.Constant:
        return _num(node) is not None
    if cls is gast.Name:
        return node.id in names
    if cls is gast.UnaryOp:
        return isinstance(node.op, (gast.USub, gast.UAdd)) and is_weak(node.operand, names)
    if cls is gast.BinOp:
        return isinstance(node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div)) and \
            is_weak(node.left, names) and is_weak(node.right, names)
    return False


def _number(value) -> gast.expr:
    if value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=A.const(-value))
    return A.const(value)


def _neg(node) -> gast.expr:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    n = _num(node)
    if n is not None:
        return _number(-n)
    return gast.UnaryOp(op=gast.USub(), operand=node)


def _is_neg(node) -> bool:
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
        and _num(node) is None


_FLAT = frozenset({gast.Assign, gast.AugAssign, gast.Expr, gast.Return})


def flatten(stmts) -> List[gast.stmt]:
    """Splice nested statement lists and drop empty blocks."""
    out: List[gast.stmt] = []
    for s in stmts:
        if s.__class__ in _FLAT:            # (most statements: nothing to look into)
            out.append(s)
            continue
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


def _written_in_place(fn) -> Set[str]:
    """Names whose object is updated in place somewhere (``y[i] = ...``, ``y += ...``)."""
    return {A.root_name(n.target if isinstance(n, gast.AugAssign) else n.targets[0])
            for n in A.statements(fn)
            if isinstance(n, gast.AugAssign) or (isinstance(n, gast.Assign)
                                                 and isinstance(n.targets[0], gast.Subscript))}


def _returned(fn) -> Set[str]:
    return {n for r in A.statements(fn) if isinstance(r, gast.Return) and r.value is not None
            for n in A.names_loaded(r.value)}


def _protected(fn) -> Set[str]:
    """Names that must keep a buffer of their own: written in place, or returned
    (a result must not share memory with an argument or another result).
    (``_written_in_place(fn) | _returned(fn)`` in one walk of the statements.)"""
    out = set()
    for n in A.statements(fn):
        cls = n.__class__
        if cls is gast.AugAssign:
            out.add(A.root_name(n.target))
        elif cls is gast.Assign:
            if isinstance(n.targets[0], gast.Subscript):
                out.add(A.root_name(n.targets[0]))
        elif cls is gast.Return and n.value is not None:
            out |= A.names_loaded(n.value)
    sharing = views_at_writes(fn.body, A.names_stored(fn))
    if sharing:
        out |= _views_read_after_writes(fn, sharing)
    return out


def _views_read_after_writes(fn, sharing: Dict[int, Set[str]]) -> Set[str]:
    """The names that view an array when a statement writes into it (``t0 = y[:2]``;
    ...; ``y[0] = v``) and whose value, or a value computed from it, is read after
    that write: ``g = 1.0 * t0`` is a new array, but folded into ``g = t0`` it would
    change with ``y`` and be read changed.  No fresh value is folded into such a name."""
    live_after: Dict[int, Set[str]] = {}
    _live_after(fn.body, set(), live_after)
    edges = [(A.names_loaded(s.value), {s.targets[0].id}) for s in A.statements(fn)
             if s.__class__ is gast.Assign and s.targets[0].__class__ is gast.Name]
    reach: Dict[str, Set[str]] = {}
    out: Set[str] = set()
    for w, names in sharing.items():
        after = live_after.get(w, set())
        for n in names - out:
            if n not in reach:
                reach[n] = varied_fixpoint(edges, {n})      # n and what is computed from it
            if not reach[n].isdisjoint(after):
                out.add(n)
    return out


# (the purity of an expression: one table for every analysis, analysis/effects.py)
_PURE_METHODS = PURE_METHODS
_pure_expr = pure_expr


_Name, _AugAssign, _Assign, _Call = gast.Name, gast.AugAssign, gast.Assign, gast.Call
_Load, _Constant, _Attribute, _AST = gast.Load, gast.Constant, gast.Attribute, gast.AST
_STORE_CONTEXTS = (gast.Store, gast.Param)
_TARGETS_IN_PLACE = (gast.Subscript, gast.Attribute)
# statements that hold no other statement and no augmented assignment
_SIMPLE_STATEMENTS = (gast.Assign, gast.Expr, gast.Return, gast.Pass)


def _name_counts(fn):
    """How often each name is read (``g += x`` reads ``g``) and bound (an in-place
    update counts as two or more: never a temporary), in one walk."""
    loads: dict = {}
    stores: dict = {}
    load, store = loads.get, stores.get
    stack = [fn]
    pop, push = stack.pop, stack.append
    root_name = A.root_name

    while stack:                      # (depth first; contexts and operators not pushed)
        n = pop()
        cls = n.__class__
        if cls is _Name:
            ctx = n.ctx.__class__
            if ctx is _Load:
                loads[n.id] = load(n.id, 0) + 1
            elif ctx in _STORE_CONTEXTS:
                stores[n.id] = store(n.id, 0) + 1
            if n.annotation is None:
                continue
        elif cls is _AugAssign:
            root = root_name(n.target)
            stores[root] = 2
            if n.target.__class__ is _Name:
                loads[root] = load(root, 0) + 1
        fields = _FIELDS_OF(cls)
        if fields is None:
            fields = A._name_fields(cls)
        # (the names and constants among the children, most of the leaves, are
        # counted where they are met, without a trip through the stack)
        for field in fields:
            v = getattr(n, field, None)
            if v is None:
                continue
            vcls = v.__class__
            if vcls is list:
                for x in v:
                    xcls = x.__class__
                    if xcls is _Name and x.annotation is None:
                        ctx = x.ctx.__class__
                        if ctx is _Load:
                            loads[x.id] = load(x.id, 0) + 1
                        elif ctx in _STORE_CONTEXTS:
                            stores[x.id] = store(x.id, 0) + 1
                    elif xcls is not _Constant and isinstance(x, _AST):
                        push(x)
            elif vcls is _Name and v.annotation is None:
                ctx = v.ctx.__class__
                if ctx is _Load:
                    loads[v.id] = load(v.id, 0) + 1
                elif ctx in _STORE_CONTEXTS:
                    stores[v.id] = store(v.id, 0) + 1
            elif vcls is not _Constant and isinstance(v, _AST):
                push(v)
    return loads, stores


def _load_count(fn) -> Dict[str, int]:
    """How often each name is read (``g += x`` reads ``g``)."""
    return _name_counts(fn)[0]


def _reads(node) -> Set[str]:
    """Names ``node`` reads, counting the targets of augmented assignments."""
    out = A.names_loaded(node)
    if isinstance(node, _AugAssign):
        if node.target.__class__ is _Name:
            out.add(node.target.id)
    elif not isinstance(node, (gast.expr, _SIMPLE_STATEMENTS)):
        # (an augmented assignment is a statement: only statements hold one)
        for s in A.statements(node):
            if s.__class__ is _AugAssign and s.target.__class__ is _Name:
                out.add(s.target.id)
    return out


def _mentions(stmts, name: str) -> int:
    """How often ``name`` appears (read or bound) in the statements ``stmts``."""
    return sum(n.__class__ is _Name and n.id == name for s in stmts for n in A.node_list(s))


def _fresh(base: str, taken: set) -> str:
    """``base``, or ``base1``, ``base2``, ... : the first not in ``taken`` (then taken)."""
    name, k = base, 1
    while name in taken:
        name, k = "%s%d" % (base, k), k + 1
    taken.add(name)
    return name


def _effects(node):
    """``(_reads(node), _stored_anywhere(node))`` in one walk of the fields."""
    reads, stored = set(), set()
    read, store = reads.add, stored.add
    stack = [node]
    pop, push = stack.pop, stack.append
    fields_of = _FIELDS_OF
    root_name = A.root_name
    while stack:                        # (depth first: the order of a set does not matter)
        n = pop()
        cls = n.__class__
        if cls is _Name:
            ctx = n.ctx.__class__
            if ctx is _Load:
                read(n.id)
            elif ctx in _STORE_CONTEXTS:
                store(n.id)
            if n.annotation is None:
                continue
        elif cls is _AugAssign:
            store(root_name(n.target))
            if n.target.__class__ is _Name:
                read(n.target.id)
        elif cls is _Assign:
            for t in n.targets:
                if isinstance(t, _TARGETS_IN_PLACE):
                    store(root_name(t))
        elif cls is _Call and n.func.__class__ is _Attribute \
                and n.func.attr not in _PURE_METHODS:
            # x.append(...), x.pop(), x.fill(...): x may change
            store(root_name(n.func.value))
        fields = fields_of(cls)
        if fields is None:
            fields = A._name_fields(cls)
        # (contexts and operators are not pushed; nor are the names and constants
        # among the children, most of the leaves: they are read where they are met)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            vcls = value.__class__
            if vcls is _Name and value.annotation is None:
                ctx = value.ctx.__class__
                if ctx is _Load:
                    read(value.id)
                elif ctx in _STORE_CONTEXTS:
                    store(value.id)
            elif vcls is _Constant:
                continue
            elif vcls is list:
                for item in value:
                    icls = item.__class__
                    if icls is _Name and item.annotation is None:
                        ctx = item.ctx.__class__
                        if ctx is _Load:
                            read(item.id)
                        elif ctx in _STORE_CONTEXTS:
                            store(item.id)
                    elif icls is not _Constant and isinstance(item, _AST):
                        push(item)
            elif isinstance(value, _AST):
                push(value)
    stored.discard(None)
    return reads, stored


class _EffectsOf:
    """``_effects`` of statements, each walked once: for scans that meet the same
    statements again and again.  A statement edited in place must be ``forget``-ed
    (one replaced by a new object needs nothing: entries are checked by identity)."""

    def __init__(self):
        self.seen: Dict[int, tuple] = {}     # id -> (statement, reads, stored)

    def __call__(self, stmt):
        e = self.seen.get(id(stmt))
        if e is None or e[0] is not stmt:
            e = self.seen[id(stmt)] = (stmt,) + _effects(stmt)
        return e[1], e[2]

    def forget(self, stmt) -> None:
        self.seen.pop(id(stmt), None)


def _stored_anywhere(node) -> Set[str]:
    """Names bound or updated in place by ``node`` (a statement, maybe compound)."""
    return _effects(node)[1]


class _Substitute:
    """Replaces the loads of mapped names under a node by copies of their values,
    in place (a replaced root is returned); ``count`` says how many it replaced."""

    def __init__(self, mapping):
        self.mapping = mapping
        self.count = 0                 # substitutions made (0: nothing to fold again)

    def visit(self, node):
        cls = node.__class__
        if cls is _Name:
            if node.ctx.__class__ is _Load and node.id in self.mapping:
                self.count += 1
                return A.clone(self.mapping[node.id])
            return node
        fields = _FIELDS_OF(cls)
        if fields is None:
            fields = A._name_fields(cls)
        visit = self.visit
        for field in fields:            # (contexts and operators hold no names)
            value = getattr(node, field, None)
            if value is None:
                continue
            if value.__class__ is list:
                for k, item in enumerate(value):
                    if item.__class__ is not _Constant and isinstance(item, _AST):
                        new = visit(item)
                        if new is not item:
                            value[k] = new
            elif value.__class__ is not _Constant and isinstance(value, _AST):
                new = visit(value)
                if new is not value:
                    setattr(node, field, new)
        return node


def _substitute_loads(stmt, mapping, counter: Optional[list] = None):
    """Replace loads of mapped names in ``stmt`` (targets stay; for AugAssign the
    target is left alone, it is both read and written).  ``counter`` receives the
    number of substitutions made."""
    if not mapping:
        return stmt
    sub = _Substitute(mapping)
    visit = sub.visit
    if isinstance(stmt, gast.Assign):
        stmt.value = visit(stmt.value)
        for t in stmt.targets:
            if isinstance(t, gast.Subscript):      # y[i] = v reads i (y itself is written)
                t.slice = visit(t.slice)
    elif isinstance(stmt, gast.AugAssign):
        stmt.value = visit(stmt.value)
        if isinstance(stmt.target, gast.Subscript):
            stmt.target.slice = visit(stmt.target.slice)
    elif not isinstance(stmt, gast.Return):    # a Return keeps the result's names
        stmt = visit(stmt)
    if counter is not None:
        counter.append(sub.count)
    return stmt


def _bcast(s1, s2):
    if s1 is None or s2 is None:
        return None
    n = max(len(s1), len(s2))
    a = (1,) * (n - len(s1)) + tuple(s1)
    b = (1,) * (n - len(s2)) + tuple(s2)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def _const_shape(node):
    """The shape an int or a tuple of ints stands for, else None."""
    cls = node.__class__
    if cls is gast.Constant and node.value.__class__ is int:     # (the common cases,
        return (node.value,)                                     # without literal_eval)
    if cls is gast.Tuple and all(e.__class__ is gast.Constant and e.value.__class__ is int
                                 for e in node.elts):
        return tuple([e.value for e in node.elts])
    try:
        value = gast.literal_eval(node)
    except Exception:
        return None
    if isinstance(value, int):
        return (value,)
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return value
    return None


def _live_after(stmts: List[gast.stmt], live_out: Set[str],
                table: Dict[int, Set[str]]) -> Set[str]:
    """Backward liveness over a block (analysis/liveness.py): fills ``table[id(stmt)]``
    with the names live right after each statement; returns the block's live-in."""
    def after(s, live):
        table[id(s)] = live             # (each ``live`` is a new set, never changed after)
    return Liveness(_transfer, _reads, after=after).block(stmts, set(live_out))


def _transfer(s, live: Set[str]) -> Set[str]:
    """Liveness through one simple statement of generated code."""
    if s.__class__ is gast.Assign and s.targets[0].__class__ is gast.Name:
        return (live - {s.targets[0].id}) | _reads(s.value)
    return live | _reads(s)
