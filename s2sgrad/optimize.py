"""Pass 5: clean-ups on the generated function.

``optimize_function`` runs, in order (each pass small, on gast trees):

* ``propagate_copies``: in straight-line code, ``grad_t1 = grad_t2`` and
  ``grad_out = 1.0`` are propagated into the later reads of ``grad_t1`` /
  ``grad_out``; a pure right-hand side computed twice (``t6 = x[:-1]`` after
  ``t1 = x[:-1]``) becomes a copy of the first (common subexpressions).
* ``simplify_function``: constant folding and algebraic identities (``g * 1.0``,
  ``0.0 + g``, ``-(-g)``, ``-1.0 * g``, ``a + -b``, ``g += -x``,
  ``np.sum(-g)``), and removal of empty blocks left behind by passes that drop
  statements.
* ``elide_broadcasts``: ``np.broadcast_to(g, shape)`` is dropped when every
  reader of ``g`` broadcasts anyway (``g * y`` with ``y`` of that shape); needs
  the probe's shapes.
* ``forward_negations``: ``grad_t3 = -grad_t4`` read once, where the sign can be
  absorbed (``a + -b``, ``c * -x``, ``g += -x``), is substituted there.
* ``eliminate_dead_code``: assignments to names nobody reads (pure right-hand
  sides only), to a fixed point.

``eliminate_dead_forward`` (forward statements whose values neither the
backward pass nor the result needs) runs earlier, in ``pipeline``, before the
stacks are decided.

The passes never change what a gradient computes, only how: the shape-dependent
ones consult a ``ShapeOracle`` built from the probe, and do nothing without it.
"""
from __future__ import annotations

import copy
import operator
from typing import Callable, Dict, List, Optional, Set, Tuple

import gast

from . import astutil as A
from .analysis import Environment, classify

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow}
_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)


class ShapeOracle:
    """What the optimizer may assume about names: their shapes (from the probe;
    a gradient has its primal's shape) and whether they hold floating values."""

    def __init__(self, shapes: Optional[Dict[str, tuple]] = None,
                 floating: Optional[Set[str]] = None, numpy_name: str = "np",
                 wide: Optional[Set[str]] = None):
        self.shapes = dict(shapes or {})
        self.floating = set(floating or ())
        self.numpy_name = numpy_name
        # names whose dtype a Python float cannot narrow: float64, ints, bools (a Python
        # float times a float32 array stays float32, a float64 array makes it float64)
        self.wide = set(wide or ())

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
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _num(node.operand)
        return None if inner is None else -inner
    return None


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


def _written_in_place(fn) -> Set[str]:
    """Names whose object is updated in place somewhere (``y[i] = ...``, ``y += ...``)."""
    return {A.root_name(n.target if isinstance(n, gast.AugAssign) else n.targets[0])
            for n in gast.walk(fn)
            if isinstance(n, gast.AugAssign) or (isinstance(n, gast.Assign)
                                                 and isinstance(n.targets[0], gast.Subscript))}


def _returned(fn) -> Set[str]:
    return {n for r in gast.walk(fn) if isinstance(r, gast.Return) and r.value is not None
            for n in A.names_loaded(r.value)}


def _protected(fn) -> Set[str]:
    """Names that must keep a buffer of their own: written in place, or returned
    (a result must not share memory with an argument or another result)."""
    return _written_in_place(fn) | _returned(fn)


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


# -- purity ------------------------------------------------------------------------------

# Array methods and attributes that neither mutate nor have effects.
_PURE_METHODS = {"copy", "sum", "mean", "reshape", "transpose", "astype", "dot", "ravel",
                 "T", "shape", "ndim", "max", "min", "conj", "real", "imag", "squeeze",
                 "swapaxes", "flatten", "prod", "any", "all", "cumsum", "diagonal", "trace"}


def _pure_expr(node, numpy_name: str, helpers: Set[str] = frozenset()) -> bool:
    """No effects and no mutation: arithmetic, subscripts, NumPy functions (not
    np.random), runtime helpers, and a few array methods."""
    for sub in gast.walk(node):
        if isinstance(sub, gast.Call):
            path = A.dotted(sub.func) or ""
            if path.startswith(numpy_name + "."):
                if path.startswith((numpy_name + ".random", numpy_name + ".copyto",
                                    numpy_name + ".put", numpy_name + ".place",
                                    numpy_name + ".add.at", numpy_name + ".fill")):
                    return False
                continue
            if isinstance(sub.func, gast.Name) and sub.func.id in helpers:
                continue
            if isinstance(sub.func, gast.Attribute) and sub.func.attr in _PURE_METHODS:
                continue
            return False
        if isinstance(sub, (gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr,
                            gast.Lambda)):
            return False
    return True


# -- copy / constant propagation and CSE -----------------------------------------------


def _load_count(fn) -> Dict[str, int]:
    """How often each name is read (``g += x`` reads ``g``)."""
    counts: Dict[str, int] = {}
    for n in gast.walk(fn):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            counts[n.id] = counts.get(n.id, 0) + 1
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            counts[n.target.id] = counts.get(n.target.id, 0) + 1
    return counts


def _reads(node) -> Set[str]:
    """Names ``node`` reads, counting the targets of augmented assignments."""
    out = A.names_loaded(node)
    for n in gast.walk(node):
        if isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            out.add(n.target.id)
    return out


def _stored_anywhere(node) -> Set[str]:
    """Names bound or updated in place by ``node`` (a statement, maybe compound)."""
    out = set()
    for n in gast.walk(node):
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, (gast.Store, gast.Param)):
                out.add(n.id)
        elif isinstance(n, gast.AugAssign):
            out.add(A.root_name(n.target))
        elif isinstance(n, gast.Assign):
            for t in n.targets:
                if isinstance(t, (gast.Subscript, gast.Attribute)):
                    out.add(A.root_name(t))
        elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) \
                and n.func.attr not in _PURE_METHODS:
            # x.append(...), x.pop(), x.fill(...): x may change
            root = A.root_name(n.func.value)
            if root is not None:
                out.add(root)
    out.discard(None)
    return out


class _Substitute(gast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.mapping:
            return copy.deepcopy(self.mapping[node.id])
        return node


def _substitute_loads(stmt, mapping):
    """Replace loads of mapped names in ``stmt`` (targets stay; for AugAssign the
    target is left alone, it is both read and written)."""
    if not mapping:
        return stmt
    sub = _Substitute(mapping)
    if isinstance(stmt, gast.Assign):
        stmt.value = sub.visit(stmt.value)
        for t in stmt.targets:
            if isinstance(t, gast.Subscript):      # y[i] = v reads i (y itself is written)
                t.slice = sub.visit(t.slice)
        return stmt
    if isinstance(stmt, gast.AugAssign):
        stmt.value = sub.visit(stmt.value)
        if isinstance(stmt.target, gast.Subscript):
            stmt.target.slice = sub.visit(stmt.target.slice)
        return stmt
    if isinstance(stmt, gast.Return):
        return stmt                        # keep the result's names (readable)
    return sub.visit(stmt)


def propagate_copies(stmts: List[gast.stmt], numpy_name: str = "np",
                     helpers: Set[str] = frozenset(), keep: Set[str] = frozenset(),
                     fold: Optional[Callable] = None) -> List[gast.stmt]:
    """Forward copies (``a = b``), numeric constants (``a = 1.0``) and repeated pure
    right-hand sides through a statement list, recursively into blocks.

    A copy ``a = b`` is valid until ``a`` or ``b`` is bound again or updated in
    place; reads inside a block are rewritten only when the block stores neither.
    Names in ``keep`` (in-place written ones) are never substituted away.
    ``fold`` (a ``Simplify`` visitor) folds each right-hand side once its reads are
    substituted, so a constant it computes propagates in the same sweep.
    """
    env: Dict[str, gast.expr] = {}          # a -> b (Name) or constant
    exprs: Dict[str, str] = {}              # dump of a pure rhs -> name holding it

    def kill(names):
        for n in list(env):
            v = env[n]
            if n in names or (isinstance(v, gast.Name) and v.id in names):
                del env[n]
        for k in list(exprs):
            holder, reads = exprs[k]
            if holder in names or reads & names:
                del exprs[k]

    out = []
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            stored = _stored_anywhere(s)
            kill(stored)
            # loads inside the block that no store inside can disturb
            live_env = dict(env)
            if isinstance(s, gast.If):
                s.test = _Substitute(live_env).visit(s.test)
            elif isinstance(s, gast.For):
                s.iter = _Substitute(live_env).visit(s.iter)
            inner_before = dict(live_env)
            s.body = _propagate_inner(s.body, inner_before, numpy_name, helpers, keep, fold)
            s.orelse = _propagate_inner(s.orelse, inner_before, numpy_name, helpers, keep,
                                        fold)
            out.append(s)
            continue
        s = _substitute_loads(s, env)
        if fold is not None and isinstance(s, gast.Assign) \
                and isinstance(s.targets[0], gast.Name):
            new = fold(s.value)
            if not (isinstance(new, gast.Name) and not isinstance(s.value, gast.Name)
                    and (s.targets[0].id in keep or new.id in keep)):
                s.value = new
        stored = _stored_anywhere(s)
        kill(stored)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            a = s.targets[0].id
            v = s.value
            if a not in keep or isinstance(v, gast.Name) or _num(v) is not None:
                if isinstance(v, gast.Name) and v.id != a:
                    env[a] = v             # an alias the program already had
                elif _num(v) is not None:
                    env[a] = v
                elif a not in keep and _pure_expr(v, numpy_name, helpers) and isinstance(
                        v, (gast.Subscript, gast.BinOp, gast.Call, gast.UnaryOp,
                            gast.Attribute, gast.Compare)):
                    key = gast.dump(v)
                    reads = A.names_loaded(v)
                    if a not in reads:
                        if key in exprs and exprs[key][0] not in keep:
                            s.value = A.load(exprs[key][0])
                            env[a] = s.value
                        else:
                            exprs[key] = (a, reads)
        out.append(s)
    return out


def _propagate_inner(stmts, env, numpy_name, helpers, keep, fold=None):
    """Inside a block: substitute the outer copies that the block never disturbs,
    then propagate the block's own copies."""
    stmts = [_substitute_loads(s, env) if not isinstance(s, (gast.If, gast.For, gast.While))
             else s for s in stmts]
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            _Substitute(env).visit(s)
    return propagate_copies(stmts, numpy_name, helpers, keep, fold)


# -- dead code ------------------------------------------------------------------------


def eliminate_dead_code(fn: gast.FunctionDef, numpy_name: str = "np",
                        helpers: Set[str] = frozenset()) -> gast.FunctionDef:
    """Remove ``name = pure_expr`` when no later statement reads ``name`` before
    binding it again (liveness, backwards; a loop body's live-out is what is live
    after the loop plus everything the loop reads), to a fixed point."""
    while True:
        removed = [False]

        def sweep(stmts, live: Set[str]) -> Tuple[List[gast.stmt], Set[str]]:
            out = []
            for s in reversed(stmts):
                if isinstance(s, (gast.For, gast.While)):
                    loop_live = live | _reads(s)
                    s.body, _ = sweep(s.body, set(loop_live))
                    s.orelse, _ = sweep(s.orelse, set(live))
                    live = live | _reads(s)
                elif isinstance(s, gast.If):
                    s.body, in_body = sweep(s.body, set(live))
                    s.orelse, in_else = sweep(s.orelse, set(live))
                    live = in_body | in_else | A.names_loaded(s.test)
                elif (isinstance(s, gast.Assign) and len(s.targets) == 1
                      and isinstance(s.targets[0], gast.Name)):
                    name = s.targets[0].id
                    if name not in live and _pure_expr(s.value, numpy_name, helpers):
                        removed[0] = True
                        continue
                    live = (live - {name}) | A.names_loaded(s.value)
                else:
                    live = live | _reads(s)
                out.append(s)
            out.reverse()
            return out, live

        fn.body, _ = sweep(fn.body, set())
        fn.body = flatten(fn.body)
        if not removed[0]:
            return fn


# -- single-use negations -------------------------------------------------------------


def forward_negations(fn: gast.FunctionDef, numpy_name: str = "np") -> gast.FunctionDef:
    """``a = -b`` whose only reader (later in the same block, with neither name
    rebound in between) can absorb the sign: the reader gets ``-b`` and the
    simplifier turns ``x + -b`` into ``x - b``, ``2.0 * -b`` into ``-2.0 * b``,
    ``g += -b`` into ``g -= b``, ``np.sum(-b)`` into ``-np.sum(b)``."""
    counts = _load_count(fn)
    written = _written_in_place(fn)

    def absorbs(parent, child) -> bool:
        if isinstance(parent, gast.BinOp):
            if isinstance(parent.op, (gast.Add, gast.Sub)):
                return True
            if isinstance(parent.op, (gast.Mult, gast.Div)):
                other = parent.right if parent.left is child else parent.left
                return _num(other) is not None or _is_neg(other)
        if isinstance(parent, gast.UnaryOp) and isinstance(parent.op, gast.USub):
            return True
        if isinstance(parent, gast.Call) and parent.args and parent.args[0] is child:
            return A.dotted(parent.func) == numpy_name + ".sum"
        return False

    def find_use(stmt, name):
        """(parent, field setter) of the single load of ``name`` in ``stmt``."""
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)) \
                and isinstance(stmt.value, gast.Name) and stmt.value.id == name:
            return True
        for parent in gast.walk(stmt):
            for field, value in gast.iter_fields(parent):
                kids = value if isinstance(value, list) else [value]
                for k in kids:
                    if isinstance(k, gast.Name) and k.id == name \
                            and isinstance(k.ctx, gast.Load):
                        return absorbs(parent, k)
        return False

    def run(stmts):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = run(s.body), run(s.orelse)
            elif (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                  and _is_neg(s.value) and isinstance(s.value.operand, gast.Name)
                  and counts.get(s.targets[0].id, 0) == 1
                  and s.targets[0].id not in written):
                a, b = s.targets[0].id, s.value.operand.id
                for j in range(i + 1, len(stmts)):
                    t = stmts[j]
                    if isinstance(t, (gast.If, gast.For, gast.While)):
                        break
                    if a in A.names_loaded(t):
                        if isinstance(t, gast.Return) or not find_use(t, a):
                            break
                        if isinstance(t, gast.AugAssign) and isinstance(t.target, gast.Name) \
                                and t.target.id == b:
                            break
                        _substitute_loads(t, {a: s.value})
                        del stmts[i]
                        i -= 1
                        break
                    if {a, b} & _stored_anywhere(t):
                        break
            i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


# -- broadcasts nobody needs ----------------------------------------------------------


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
    try:
        value = gast.literal_eval(node)
    except Exception:
        return None
    if isinstance(value, int):
        return (value,)
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return value
    return None


def elide_broadcasts(fn: gast.FunctionDef, oracle: ShapeOracle,
                     protected: Optional[Set[str]] = None) -> gast.FunctionDef:
    """Top-level straight-line code: ``g = np.broadcast_to(e, S)`` keeps ``g = e``
    (a *lazy* value: broadcasting it gives the true one) as long as every reader
    broadcasts anyway -- an elementwise operation whose result has the same shape
    either way, an in-place ``+=``, ``np.expand_dims`` of a lazy scalar.  Any other
    reader, a block, or the result gets ``np.broadcast_to(g, S)`` back."""
    np_name = oracle.numpy_name
    written = _protected(fn) if protected is None else protected
    lazy: Dict[str, tuple] = {}          # name -> its true shape
    actual: Dict[str, Optional[tuple]] = {}

    def shape_of(node):
        if isinstance(node, gast.Name):
            if node.id in actual:
                return actual[node.id]
            return oracle.shape(node.id)
        if _num(node) is not None:
            return ()
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
            return _bcast(shape_of(node.left), shape_of(node.right))
        if isinstance(node, gast.UnaryOp):
            return shape_of(node.operand)
        if isinstance(node, gast.Compare) and len(node.comparators) == 1:
            return _bcast(shape_of(node.left), shape_of(node.comparators[0]))
        if isinstance(node, gast.Call):
            path = A.dotted(node.func)
            if path == np_name + ".broadcast_to" and len(node.args) == 2:
                return _const_shape(node.args[1])
            if path == np_name + ".sum" and len(node.args) == 1 and not node.keywords:
                return ()
        return None

    def materialize(expr, true_shape):
        node = A.call(A.parse_expr(np_name + ".broadcast_to"),
                      [expr, A.parse_expr(repr(tuple(true_shape)))])
        node.s2s_materialized = True        # a later round must not elide it again
        return node

    def lower(node, strict=False):
        """(new node, true shape if lazy else None).  ``strict``: the node's own
        value must come out true-shaped and fresh (it is updated in place later)."""
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            return node, lazy.get(node.id)
        if isinstance(node, gast.Call) and not node.keywords:
            path = A.dotted(node.func)
            if path == np_name + ".broadcast_to" and len(node.args) == 2 \
                    and not getattr(node, "s2s_materialized", False):
                target = _const_shape(node.args[1])
                inner, t = lower(node.args[0])
                s = shape_of(inner)
                if target is not None and s is not None and _bcast(s, target) == target:
                    return inner, (None if (t is None and s == target) else target)
                node.args[0] = inner if t is None else materialize(inner, t)
                return node, None
            if path == np_name + ".expand_dims" and len(node.args) == 2:
                inner, t = lower(node.args[0])
                k = _num(node.args[1])
                if t is not None and shape_of(inner) == () and isinstance(k, int) \
                        and -len(t) - 1 <= k <= len(t):
                    k = k % (len(t) + 1)
                    return inner, tuple(t[:k]) + (1,) + tuple(t[k:])
                node.args[0] = inner if t is None else materialize(inner, t)
                return node, None
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
            la, ta = lower(node.left)
            lb, tb = lower(node.right)
            node.left, node.right = la, lb
            if ta is None and tb is None:
                return node, None
            sa, sb = shape_of(la), shape_of(lb)
            true_a = ta if ta is not None else sa
            true_b = tb if tb is not None else sb
            narrowing = (ta is None and not oracle.is_wide(la)) or (
                tb is None and not oracle.is_wide(lb))
            t_out, a_out = _bcast(true_a, true_b), _bcast(sa, sb)
            if not (sa is None or sb is None or true_a is None or true_b is None
                    or narrowing or t_out is None):
                if t_out == a_out:
                    return node, None           # the operation broadcasts by itself
                if not strict:
                    return node, t_out
            if ta is not None:
                node.left = materialize(la, ta)
            if tb is not None:
                node.right = materialize(lb, tb)
            return node, None
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            inner, t = lower(node.operand)
            if strict and t is not None:
                node.operand = materialize(inner, t)
                return node, None
            node.operand = inner
            return node, t
        # any other reader needs the true value
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.expr):
                new, t = lower(value)
                setattr(node, field, new if t is None else materialize(new, t))
            elif isinstance(value, list):
                new_list = []
                for v in value:
                    if isinstance(v, gast.expr):
                        new, t = lower(v)
                        v = new if t is None else materialize(new, t)
                    elif isinstance(v, gast.keyword):
                        new, t = lower(v.value)
                        v.value = new if t is None else materialize(new, t)
                    new_list.append(v)
                setattr(node, field, new_list)
        return node, None

    def restore(names) -> List[gast.stmt]:
        out = []
        for n in sorted(names):
            if n in lazy:
                s = A.assign(n, materialize(A.load(n), lazy.pop(n)))
                actual.pop(n, None)
                out.append(s)
        return out

    body: List[gast.stmt] = []
    for s in fn.body:
        if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Name):
            a = s.targets[0].id
            new, t = lower(s.value, strict=a in written)
            if t is not None and (a in written or shape_of(new) is None):
                new, t = materialize(new, t), None
            s.value = new
            lazy.pop(a, None)
            actual.pop(a, None)
            if t is not None:
                lazy[a] = t
                actual[a] = shape_of(new)
            body.append(s)
        elif isinstance(s, gast.AugAssign) and isinstance(s.op, _ELEMENTWISE) \
                and A.root_name(s.target) not in lazy:
            # in place: the target's buffer broadcasts the value
            body += restore(A.names_loaded(s.target))
            s.value, _ = lower(s.value)
            body.append(s)
        elif isinstance(s, gast.Assign) and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Subscript) \
                and A.root_name(s.targets[0]) not in lazy:
            body += restore(A.names_loaded(s.targets[0]))
            s.value, _ = lower(s.value)         # y[i] = v broadcasts v
            body.append(s)
        else:
            body += restore(A.names_loaded(s) | A.names_stored(s) | _stored_anywhere(s))
            for n in _stored_anywhere(s):
                actual.pop(n, None)
            body.append(s)
    fn.body = body
    return fn


# -- recompute instead of saving -------------------------------------------------------


def _push_of(stmt):
    """(stack, name) for ``stack.append(name)``."""
    if (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Attribute)
            and stmt.value.func.attr == "append"
            and isinstance(stmt.value.func.value, gast.Name)
            and len(stmt.value.args) == 1 and isinstance(stmt.value.args[0], gast.Name)):
        return stmt.value.func.value.id, stmt.value.args[0].id
    return None


def _pop_of(stmt):
    """(stack, name) for ``name = stack.pop()``."""
    if (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Call) and not stmt.value.args
            and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "pop"
            and isinstance(stmt.value.func.value, gast.Name)):
        return stmt.value.func.value.id, stmt.targets[0].id
    return None


def _cheap(expr, oracle: ShapeOracle, target: str, invariant: Set[str]) -> bool:
    """Cheaper to recompute than to push and pop: scalar arithmetic, or a row of a
    loop-invariant array picked by the loop counter (a view)."""
    if isinstance(expr, gast.Subscript):
        return (isinstance(expr.value, gast.Name) and expr.value.id in invariant
                and all(isinstance(n, (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp,
                                       gast.operator, gast.unaryop, gast.expr_context))
                        for n in gast.walk(expr.slice))
                and A.names_loaded(expr.slice) <= invariant | {target})
    for n in gast.walk(expr):
        if isinstance(n, gast.Name):
            if oracle.shape(n.id) != () and n.id != target:
                return False
        elif not isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Constant, gast.operator,
                                gast.unaryop, gast.expr_context)):
            return False
    return True


def rematerialize_loop_values(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """A loop value pushed right after it is computed (``x1 = a * x``,
    ``x1_stack.append(x1)``) is recomputed at the top of the reversed trip instead,
    when that is cheap (scalar arithmetic, ``xs[t]``) and its inputs hold the same
    values there: loop invariants, the counter, or values whose own pop can move to
    the top of the reversed trip.  Saves a push, a pop and the stack's memory."""
    top = fn.body
    for b_index, bwd in enumerate(top):
        if not (isinstance(bwd, gast.For) and isinstance(bwd.iter, gast.Call)
                and A.dotted(bwd.iter.func) == "reversed" and len(bwd.iter.args) == 1
                and isinstance(bwd.target, gast.Name)):
            continue
        target = bwd.target.id
        fwd = next((s for s in top[:b_index] if isinstance(s, gast.For)
                    and isinstance(s.target, gast.Name) and s.target.id == target
                    and gast.dump(s.iter) == gast.dump(bwd.iter.args[0])), None)
        if fwd is None or fwd.orelse or bwd.orelse:
            continue
        fbody, bbody = fwd.body, bwd.body
        stored_f = set().union(*[_stored_anywhere(s) for s in fbody]) | {target}
        stored_b = set().union(*[_stored_anywhere(s) for s in bbody])
        invariant = {n for n in A.names_loaded(gast.Module(body=fbody, type_ignores=[]))
                     if n not in stored_f and n not in stored_b}
        assigned_at: Dict[str, List[int]] = {}
        for k, s in enumerate(fbody):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                assigned_at.setdefault(s.targets[0].id, []).append(k)
            elif isinstance(s, (gast.If, gast.For, gast.While)):
                for n in _stored_anywhere(s):
                    assigned_at.setdefault(n, []).append(k)
        pushes = {}
        for k, s in enumerate(fbody):
            p = _push_of(s)
            if p is not None:
                pushes[p[1]] = (p[0], k)
        pops = {}
        for k, s in enumerate(bbody):
            p = _pop_of(s)
            if p is not None:
                pops[p[1]] = (p[0], k)
        chosen: List[Tuple[int, str]] = []         # (index of v = e in the forward body, v)
        hoist: Set[str] = set()
        for v, (stack, k) in pushes.items():
            if k == 0 or pops.get(v, (None,))[0] != stack:
                continue
            d = fbody[k - 1]
            if not (isinstance(d, gast.Assign) and isinstance(d.targets[0], gast.Name)
                    and d.targets[0].id == v and assigned_at.get(v) == [k - 1]
                    and _pure_expr(d.value, oracle.numpy_name)):
                continue
            if not _cheap(d.value, oracle, target, invariant):
                continue
            ok, need = True, set()
            for n in A.names_loaded(d.value):
                if n == target or n in invariant or any(c[1] == n for c in chosen):
                    continue
                # restored by a pop we may move up: saved before its one overwrite, which
                # comes after v is computed; nothing above its pop touches it
                if n in pushes and pops.get(n, (None,))[0] == pushes[n][0] \
                        and all(i > max(k, pushes[n][1]) for i in assigned_at.get(n, [])) \
                        and not any(n in _reads(s) | _stored_anywhere(s)
                                    for s in bbody[:pops[n][1]] if _pop_of(s) is None):
                    need.add(n)
                    continue
                ok = False
                break
            if ok:
                chosen.append((k - 1, v))
                hoist |= need
        if not chosen:
            continue
        names = {v for _, v in chosen}
        fwd.body = [s for s in fbody if not (_push_of(s) and _push_of(s)[1] in names)]
        moved = [s for s in bbody if _pop_of(s) and _pop_of(s)[1] in hoist]
        rest = [s for s in bbody if not (_pop_of(s) and _pop_of(s)[1] in names | hoist)]
        recomputed = []
        for k, v in sorted(chosen):
            s = copy.deepcopy(fbody[k])
            s.s2s_comment = "recomputed (cheaper than saving it)"
            recomputed.append(s)
        bwd.body = moved + recomputed + rest
    return fn


# -- single-use array temporaries ------------------------------------------------------


def _one_operation(expr) -> bool:
    """One operation on names, constants and attributes (``X @ W1``, ``np.dot(g, W.T)``)."""
    def leaf(n):
        return (isinstance(n, (gast.Name, gast.Constant)) or _num(n) is not None
                or (isinstance(n, gast.Attribute) and leaf(n.value)))
    if isinstance(expr, gast.BinOp):
        return leaf(expr.left) and leaf(expr.right)
    if isinstance(expr, gast.UnaryOp):
        # -x, and the negation of one operation (-np.abs(z), -(g * t5))
        return leaf(expr.operand) or (isinstance(expr.op, gast.USub)
                                      and not isinstance(expr.operand, gast.UnaryOp)
                                      and _one_operation(expr.operand))
    if isinstance(expr, gast.Compare):
        return leaf(expr.left) and all(leaf(c) for c in expr.comparators)
    if isinstance(expr, gast.Call):
        return all(leaf(a) for a in expr.args) and all(leaf(k.value) for k in expr.keywords)
    return False


def _live_after(stmts: List[gast.stmt], live_out: Set[str],
                table: Dict[int, Set[str]]) -> Set[str]:
    """Backward liveness over a block: fills ``table[id(stmt)]`` with the names live
    right after each statement (loops to a fixed point); returns the block's live-in."""
    live = set(live_out)
    for s in reversed(stmts):
        table[id(s)] = set(live)
        if isinstance(s, (gast.For, gast.While)):
            head = _reads(s.iter if isinstance(s, gast.For) else s.test)
            body_out = live | head
            for _ in range(4):
                body_in = _live_after(s.body, body_out, table)
                if body_in <= body_out:
                    break
                body_out = body_out | body_in
            live = live | body_out | _live_after(s.orelse, live, table)
        elif isinstance(s, gast.If):
            live = (_live_after(s.body, live, table) | _live_after(s.orelse, live, table)
                    | _reads(s.test))
        elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            live = (live - {s.targets[0].id}) | _reads(s.value)
        else:
            live = live | _reads(s)
    return live


def inline_single_use_arrays(fn: gast.FunctionDef, oracle: ShapeOracle,
                             protected: Set[str], numpy_name: str = "np",
                             window: int = 3) -> gast.FunctionDef:
    """``h0 = X @ W1`` read once, a statement or two later (``h1 = h0 + b1``), becomes
    ``h1 = X @ W1 + b1``: the intermediate array is freed as soon as it is used, as in
    code written by hand, instead of living until the function returns.  Arrays, and
    scalars inside loops, one operation each; the name must be dead after its reader
    (liveness, loops included: ``x1 = a * x`` in a loop body, read once, recomputed in
    the reversed loop)."""
    live_after: Dict[int, Set[str]] = {}
    _live_after(fn.body, set(), live_after)

    def run(stmts, in_loop=False):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, (gast.If, gast.For, gast.While)):
                inner = in_loop or not isinstance(s, gast.If)
                s.body, s.orelse = run(s.body, inner), run(s.orelse, inner)
                i += 1
                continue
            if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
                i += 1
                continue
            t = s.targets[0].id
            # scalars only in loops (per trip it adds up); straight-line scalar code keeps
            # every name the user gave (the seeds' flat neuron reads like the notes)
            if (t in protected or not (oracle.shape(t) or (in_loop and oracle.shape(t) == ()))
                    or t not in oracle.floating
                    or not _one_operation(s.value) or not _pure_expr(s.value, numpy_name)):
                i += 1
                continue
            reads = A.names_loaded(s.value)
            done = False
            for j in range(i + 1, min(len(stmts), i + 1 + window)):
                u = stmts[j]
                if isinstance(u, (gast.If, gast.For, gast.While)):
                    break
                if t in _reads(u):
                    uses = sum(1 for n in gast.walk(u) if isinstance(n, gast.Name)
                               and n.id == t and isinstance(n.ctx, gast.Load))
                    target = u.targets[0] if isinstance(u, gast.Assign) else \
                        getattr(u, "target", None)
                    if (isinstance(u, (gast.Assign, gast.AugAssign))
                            and (isinstance(target, gast.Name) or (
                                isinstance(target, gast.Subscript) and oracle.shape(t)
                                and t not in A.names_loaded(target)))
                            and uses == 1 and t not in live_after.get(id(u), {t})):
                        u.value = _Substitute({t: s.value}).visit(u.value)
                        del stmts[i]
                        done = True
                    break
                if (reads | {t}) & _stored_anywhere(u):
                    break
            if not done:
                i += 1
        return stmts

    fn.body = run(fn.body)
    return fn


# -- reductions as methods ------------------------------------------------------------

_REDUCTIONS = ("sum", "mean", "max", "min", "prod")


def _array_shape(node, oracle: ShapeOracle):
    """The shape of an expression built from names the oracle knows, if known."""
    if isinstance(node, gast.Name):
        return oracle.shape(node.id)
    if _num(node) is not None:
        return ()
    if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
        return _bcast(_array_shape(node.left, oracle), _array_shape(node.right, oracle))
    if isinstance(node, gast.UnaryOp):
        return _array_shape(node.operand, oracle)
    if isinstance(node, gast.Compare) and len(node.comparators) == 1:
        return _bcast(_array_shape(node.left, oracle),
                      _array_shape(node.comparators[0], oracle))
    return None


def reductions_as_methods(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """``np.sum(x, axis=1)`` -> ``x.sum(axis=1)`` when ``x`` is known to be an array
    (a non-empty shape): ``np.sum`` calls that very method after a Python-level
    dispatch that costs about a microsecond per call."""
    np_name = oracle.numpy_name

    class T(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            path = A.dotted(node.func)
            if path is None or not path.startswith(np_name + "."):
                return node
            attr = path[len(np_name) + 1:]
            if attr not in _REDUCTIONS or not 1 <= len(node.args) <= 2:
                return node
            if any(k.arg not in ("axis", "keepdims") for k in node.keywords):
                return node
            shape = _array_shape(node.args[0], oracle)
            if not shape:                     # unknown, or () (maybe a Python float)
                return node
            keywords = list(node.keywords)
            if len(node.args) == 2:
                keywords.insert(0, gast.keyword(arg="axis", value=node.args[1]))
            obj = node.args[0]
            return gast.Call(func=gast.Attribute(value=obj, attr=attr, ctx=gast.Load()),
                             args=[], keywords=keywords)

    return T().visit(fn)


# -- zeros filled by a first in-place update -------------------------------------------


def assign_first_slice(stmts: List[gast.stmt], numpy_name: str = "np") -> List[gast.stmt]:
    """``g = np.zeros(S)`` then ``g[i] += v`` (basic index, nothing reads ``g`` in
    between): the first update assigns, ``g[i] = v`` (``-= v``: ``= -v``)."""
    zeros = numpy_name + ".zeros"
    for k, s in enumerate(stmts):
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = assign_first_slice(s.body, numpy_name)
            s.orelse = assign_first_slice(s.orelse, numpy_name)
            continue
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Call) and A.dotted(s.value.func) == zeros):
            continue
        g = s.targets[0].id
        for t in stmts[k + 1:]:
            if (isinstance(t, gast.AugAssign) and isinstance(t.op, (gast.Add, gast.Sub))
                    and isinstance(t.target, gast.Subscript)
                    and isinstance(t.target.value, gast.Name) and t.target.value.id == g
                    and g not in A.names_loaded(t.value)
                    and g not in A.names_loaded(t.target.slice)):
                idx = [n for n in gast.walk(t.target.slice)]
                if any(isinstance(n, gast.Name) for n in idx):
                    break             # an index array may repeat an element
                value = t.value if isinstance(t.op, gast.Add) else _neg(t.value)
                new = gast.Assign(targets=[t.target], value=value, type_comment=None)
                new.s2s_comment = getattr(t, "s2s_comment", None)
                stmts[stmts.index(t)] = new
                break
            if isinstance(t, (gast.If, gast.For, gast.While)) or g in A.all_names(t):
                break
    return stmts


# -- the pass list --------------------------------------------------------------------


def optimize_function(fn: gast.FunctionDef, oracle: ShapeOracle,
                      helpers: Set[str] = frozenset(), shapes_known: bool = False
                      ) -> gast.FunctionDef:
    """Every clean-up, in order.  ``oracle`` says which names are floating (and,
    when ``shapes_known``, their shapes: that enables ``elide_broadcasts``)."""
    np_name = oracle.numpy_name
    fn.body = flatten(fn.body)
    keep = _protected(fn)            # no pass adds an in-place write or a result
    fold = Simplify(oracle, trust_floats=False).visit
    fn.body = propagate_copies(fn.body, np_name, helpers, keep, fold)
    fn = simplify_function(fn, oracle, keep)
    if shapes_known:                 # lazy broadcasts expose constants: propagate again
        fn = elide_broadcasts(fn, oracle, keep)
        fn.body = propagate_copies(fn.body, np_name, helpers, keep, fold)
    if shapes_known:
        fn = rematerialize_loop_values(fn, oracle)
    fn = eliminate_dead_code(fn, np_name, helpers)
    fn = forward_negations(fn, np_name)
    fn = simplify_function(fn, oracle, keep)
    fn.body = assign_first_slice(fn.body, np_name)
    if shapes_known:
        fn = inline_single_use_arrays(fn, oracle, keep, np_name)
        fn = reductions_as_methods(fn, oracle)
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
