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
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import gast
import numpy

from s2sgrad import astutil as A
from s2sgrad.analysis.dataflow import varied_fixpoint
from s2sgrad.analysis.effects import (MUTATING_FUNCTIONS, MUTATING_METHODS, SHUFFLING_METHODS,
                                      TRACED_MUTATIONS)
from s2sgrad.analysis.names import (BUFFER_FUNCTIONS, INDEX_TRICKS, SHAPE_ATTRIBUTES,  # noqa: F401
                                    SHAPE_FUNCTIONS, Namespace, appended_list,
                                    differentiable_loads, popped_list)
from s2sgrad.errors import UnsupportedSyntaxError
from s2sgrad.front.auxiliary import keep_aux, split_returns
from s2sgrad.front.checks import _scattered_into, check_item_writes, check_supported
from s2sgrad.front.controlflow import (generator_arguments_to_lists, lower_comprehensions,
                                       normalize_control_flow)
from s2sgrad.front.desugar import (bind_transforms, expand_starred, fold_displays, hoist_imports,
                                   hoist_walrus, lower_dict_methods, lower_match,
                                   split_several_arrays, split_unpacking, unpack_packs)
from s2sgrad.front.inline import inline_calls
from s2sgrad.front.parse import ParsedFunction, SourceInfo
from s2sgrad.runtime import add_at, subtract_at


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
    # wrt="self.params": (parameter, attribute path) -> the name the trace reads it into
    wrt_aliases: Dict[object, str] = field(default_factory=dict)
    # has_aux=True: the name holding the auxiliary value returned next to the output
    aux: Optional[str] = None


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


# Calls that change an argument or their receiver in place (see check_effects; the
# one table: analysis/effects.py), but for those the trace follows (ys.append(v)).
_MUTATING_METHODS = MUTATING_METHODS - TRACED_MUTATIONS


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


def varied_names(fn: gast.FunctionDef, wrt: Set[str]) -> Set[str]:
    """Names of the user's tree that may depend differentiably on a wrt input (the
    expressions that do not stay whole in the trace): the one activity fixed point
    (``dataflow.varied_fixpoint``) over what each assignment reads differentiably."""
    edges = []
    for targets, value in _assignments(fn.body):
        stored: Set[str] = set()
        for t in targets:
            name = A.root_name(t) if not isinstance(t, (gast.Tuple, gast.List)) else None
            stored |= {name} if name else A.names_stored(t)
        edges.append((differentiable_loads(value), stored))
    return varied_fixpoint(edges, wrt)


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
            ys = popped_list(stmt.value)
            if ys is not None and ys in self.local_names:
                # ys.pop(): the item goes to a name, which the reverse pass appends back
                self.assign(gast.Assign(targets=[A.store(self.names.fresh(ys + "_item"))],
                                        value=stmt.value, type_comment=None))
                return
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
        # (and the containers they write items of: 'k' in d, then d[k] = v)
        stored |= {A.root_name(t) for n in A.nodes(gast.Module(body=branches, type_ignores=[]))
                   if isinstance(n, gast.Assign) for t in n.targets
                   if isinstance(t, gast.Subscript)}
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
        expr = self.einsum_subscripts(expr)
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
        elif isinstance(func, gast.Attribute) and func.attr in SHUFFLING_METHODS and \
                expr.args and A.names_loaded(expr.args[0]) & self.varied and (A.root_name(func) in self.local_names or self.resolve is None
                               or isinstance(self.resolve(A.dotted(func.value) or ""),
                                             (numpy.random.Generator,
                                              numpy.random.RandomState))):
            what = "'%s()' shuffles its argument in place" % (A.dotted(func) or func.attr)
        elif isinstance(func, gast.Attribute) and self.resolve is not None \
                and A.root_name(func) not in self.local_names:
            obj = self.resolve(A.dotted(func) or "")
            ufunc = getattr(obj, "__self__", None)
            if any(obj is getattr(numpy, n, None) for n in MUTATING_FUNCTIONS) or \
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

    def einsum_subscripts(self, expr: gast.Call) -> gast.Call:
        """``np.einsum(A, [0, 1], B, [1, 2], [0, 2])`` (the sublist form: operands
        interleaved with index lists, an optional output list last) ->
        ``np.einsum('ab,bc->ac', A, B)``, the subscripts form the rule reads.  Index
        lists held in variables cannot be spelled out here: a clear error (else the
        rule would read the first operand as the subscripts and give it no gradient)."""
        if (self.resolve is None or not expr.args
                or any(isinstance(a, gast.Starred) for a in expr.args)
                or (isinstance(expr.args[0], gast.Constant)
                    and isinstance(expr.args[0].value, str))
                or A.root_name(expr.func) in self.local_names
                or self.resolve(A.dotted(expr.func) or "") is not numpy.einsum):
            return expr
        args = list(expr.args)
        lists = args[1::2]
        literal = [_einsum_sublist(s) for s in lists]
        if not any(s is not None for s in literal):
            return expr        # the subscripts in a variable (checked at the probe)
        if any(s is None for s in literal) or len(args) < 2:
            raise self.info.error(UnsupportedSyntaxError,
                                  "np.einsum's sublist form is differentiated only with its index "
                                  "lists written out in the call", self.origin,
                                  hint="write the lists in the call (np.einsum(A, [0, 1], B, "
                                       "[1, 2], [0, 2])) or use a subscripts string "
                                       "(np.einsum('ij,jk->ik', A, B))")
        operands = args[0::2]
        output = None
        if len(operands) > len(lists):          # an odd count: the last list is the output
            output = _einsum_sublist(operands.pop())
            if output is None:
                raise self.info.error(UnsupportedSyntaxError,
                                      "np.einsum's output index list is differentiated "
                                      "written out in the call", self.origin,
                                      hint="write the list in the call, or use a subscripts "
                                           "string")
        try:
            subscripts = ",".join(_einsum_letters(s) for s in literal)
            if output is not None:
                subscripts += "->" + _einsum_letters(output)
        except ValueError as exc:
            raise self.info.error(UnsupportedSyntaxError, "np.einsum: %s" % exc, self.origin,
                                  hint="index lists hold integers 0-51 and '...'")
        return gast.Call(func=expr.func, args=[A.const(subscripts)] + operands,
                         keywords=expr.keywords)

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


def _einsum_sublist(node) -> Optional[list]:
    """The items of a literal einsum index list ([0, 1], (0, Ellipsis), [..., 2]), or None."""
    if not isinstance(node, (gast.List, gast.Tuple)):
        return None
    out = []
    for e in node.elts:
        if isinstance(e, gast.Constant) and (e.value is Ellipsis or (
                type(e.value) is int)):
            out.append(e.value)
        elif isinstance(e, gast.Name) and e.id == "Ellipsis":
            out.append(Ellipsis)
        else:
            return None
    return out


_EINSUM_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_letters(items: list) -> str:
    """An einsum index list as subscript letters, as NumPy maps them (0-25: A-Z,
    26-51: a-z: an implicit output sorts them the same way)."""
    out = []
    for i in items:
        if i is Ellipsis:
            out.append("...")
        elif 0 <= i < len(_EINSUM_LETTERS):
            out.append(_EINSUM_LETTERS[i])
        else:
            raise ValueError("index %d in a sublist is outside 0-51" % i)
    return "".join(out)


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
        if name not in params and all(isinstance(v, gast.Dict) or getattr(
                v, "s2s_dict", False) or (
                isinstance(v, gast.Call) and A.dotted(v.func) == "dict") for v in values):
            found.add(name)
    return found


def static_arguments(params: List[str], wrt, args) -> Dict[str, Any]:
    """The parameters the generated code is specialized on by value: callables and
    containers holding them, and strings (``losses[kind]``, ``if cell == 'rnn'``)."""
    from s2sgrad.callables import is_static_value
    return {p: a for p, a in zip(params, args or ())
            if p not in wrt and (isinstance(a, str) or is_static_value(a))}


def build_primal_trace(parsed: ParsedFunction, wrt: List[str], reserved=(),
                       example_args=None, fresh: bool = False,
                       static_args: Optional[Dict[str, Any]] = None,
                       has_aux: bool = False) -> PrimalTrace:
    """Normalize ``parsed`` into the primal trace (``example_args``, when given, tell
    which parameters are dicts).  ``parsed.node`` is left as it is, unless ``fresh``
    says it was parsed for this trace alone: it is then lowered in place, not copied."""
    fn = parsed.node if fresh else A.clone(parsed.node)
    info = parsed.info
    fn = generator_arguments_to_lists(fn)
    imported = hoist_imports(fn, info, parsed.globals)
    check_supported(fn, info)
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    defaults = {}
    if fn.args.defaults:
        for name, _ in zip(params[-len(fn.args.defaults):], fn.args.defaults):
            defaults[name] = None
    local_names = local_names_of(fn)
    names = A.NameAllocator(A.all_names(fn) | set(reserved))
    body = list(fn.body)
    aux = None
    if has_aux:                 # return output, aux: only output is differentiated
        body, aux = split_returns(body, names, info)
    body = lower_comprehensions(body, names, info, fn)
    body = hoist_walrus(lower_match(body, names, info), info)
    body = [fold_displays(s) for s in expand_starred(body, params, example_args)]
    if static_args is None:
        static_args = static_arguments(params, wrt, example_args)
    transforms: Dict[str, object] = {}
    body = bind_transforms(body, Namespace(collections.ChainMap(imported, parsed.globals),
                                           parsed.closure).resolve,
                           local_names | A.names_stored(gast.Module(body=body, type_ignores=[])),
                           names, transforms)
    body, extra_globals = inline_calls(body, parsed, names, static_args,
                                       dict(imported, **transforms), example_args)
    for node in A.nodes(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            check_item_writes(node, info)
    body = unpack_packs(body)
    # zip(*unpack_params(params)): the call inlined, its tuple result is spread now
    body = [fold_displays(s) for s in expand_starred(body, params, example_args)]
    dicts = dict_names(_with_body(fn, body), example_args)
    body = lower_dict_methods(body, dicts)
    body = normalize_control_flow(body, names, info, fn, dicts)
    body = split_unpacking(body, names)
    wrt_aliases: Dict[Tuple[str, Tuple[str, ...]], str] = {}
    if any(isinstance(w, tuple) for w in wrt):
        from s2sgrad.front.inline import attribute_aliases
        body, wrt_aliases = attribute_aliases(body, [w for w in wrt if isinstance(w, tuple)],
                                              names, info, fn)
        wrt = [wrt_aliases.get(w, w) if isinstance(w, tuple) else w for w in wrt]
    namespace = Namespace(collections.ChainMap(extra_globals, parsed.globals)
                          if extra_globals else parsed.globals, parsed.closure)
    body = split_several_arrays(body, namespace.resolve)
    if has_aux:
        body, aux = keep_aux(body, names, aux)
    varied = varied_names(_with_body(fn, body), set(wrt))
    lowered = ThreeAddress(info, names, varied, local_names | A.names_stored(
        gast.Module(body=body, type_ignores=[])), namespace.resolve, extra_globals).body(body)
    ret = lowered[-1]
    lowered = rename_reassignments(lowered, params, names)
    ret = lowered[-1]
    assert isinstance(ret, gast.Return) and isinstance(ret.value, gast.Name)
    fn.body = lowered
    return PrimalTrace(node=fn, params=params, defaults=defaults, output=ret.value.id,
                       info=info, names=names, varied=varied_names(fn, set(wrt)),
                       local_names=local_names_of(fn), extra_globals=extra_globals,
                       wrt_aliases=wrt_aliases, aux=aux)


def _with_body(fn, body):
    new = copy.copy(fn)
    new.body = body
    return new
