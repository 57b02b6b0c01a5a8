"""Pass 4: reverse mode.

Walks the primal trace backwards and emits, for each statement, the adjoint
statements its rule template gives.  The first contribution to a gradient
assigns it, later ones accumulate (fan-out sums); contributions of
broadcasting operations are summed back to their input's shape.

Values the backward pass reads but the forward pass overwrites (inside loops,
or names assigned in several places) are pushed on plain Python lists before
being overwritten and popped back after their adjoint, Tapenade style, so that
when the backward pass reaches a statement every variable holds the value it
had right after that statement ran.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set

import gast
import numpy

from s2sgrad import astutil as A
from s2sgrad import runtime
from s2sgrad.ad.gradient_control import backward_hook
from s2sgrad.ad.shift_invariance import mark_shift_invariance, no_gradient_to, shift_comment
from s2sgrad.ad.specialize import specialize
from s2sgrad.analysis.dataflow import (Environment, Op, check_declared_constants,
                                       classify, unresolved_method_error,
                                       user_receiver_class, varied_and_active)
from s2sgrad.analysis.effects import VIEW_FUNCTIONS, is_view_call
from s2sgrad.analysis.liveness import live_in
from s2sgrad.analysis.names import appended_list, popped_list
from s2sgrad.analysis.shapes import ShapeEnv
from s2sgrad.back.emit import Comment, to_source
from s2sgrad.errors import (RULE_FAILURES, S2SGradError, UnsupportedCallError,
                            UnsupportedSyntaxError, rule_failure)
from s2sgrad.front.lower import PrimalTrace
from s2sgrad.rules.complex_support import complex_supported
from s2sgrad.rules.templates import Contribution, Temp, UnsupportedCase, bind, instantiate

# Calls whose result may share memory with an argument: a gradient computed by
# one of these is never updated in place (the one list: analysis/effects.py).
VIEW_CALLS = VIEW_FUNCTIONS


_RUNTIME_NAMES: list = []


def _runtime_names() -> frozenset:
    """``runtime.__all__`` as a set (looked up for every global a template reads)."""
    if not _RUNTIME_NAMES:
        _RUNTIME_NAMES.append(frozenset(runtime.__all__))
    return _RUNTIME_NAMES[0]


@dataclass
class Bindings:
    """Names the generated code uses for NumPy and the runtime helpers."""
    numpy_name: str
    helper_names: Dict[str, str] = field(default_factory=dict)
    used_helpers: Set[str] = field(default_factory=set)

    # Other globals a rule template reads (scipy.special for the scipy rules, a user's
    # own functions in an @adjoint template): generated name -> object.
    extra: Dict[str, object] = field(default_factory=dict)
    extra_names: Dict[tuple, str] = field(default_factory=dict)

    def resolve(self, name: str, rule=None, fresh=None) -> Optional[str]:
        if name == "np":
            return self.numpy_name
        if name in _runtime_names():
            self.used_helpers.add(name)
            return self.helper_names[name]
        glb = getattr(getattr(rule, "fn", None), "__globals__", None) or {}
        if fresh is not None and name in glb and name != "grad":
            key = (name, id(glb[name]))
            if key not in self.extra_names:
                self.extra_names[key] = fresh(name)
                self.extra[self.extra_names[key]] = glb[name]
            return self.extra_names[key]
        return None

    def helper(self, name: str) -> str:
        self.used_helpers.add(name)
        return self.helper_names[name]


def _info_of(origin, info):
    """The source an origin statement belongs to (a callee's, once inlined)."""
    return getattr(origin, "s2s_info", None) or info


def comment_of(stmt, info) -> str:
    """'out = 1.0 / t2  (line 4)' for a trace statement."""
    text = _source(stmt)
    origin = getattr(stmt, "s2s_origin", None)
    callee = getattr(origin, "s2s_info", None)      # inlined from another function
    if callee is not None and callee is not info:
        line = callee.absolute_line(origin)
        return "%s  (%s, line %d)" % (text, callee.function_name, line) if line else text
    line = info.absolute_line(origin) if origin is not None else None
    return "%s  (line %d)" % (text, line) if line else text


def _source(stmt) -> str:
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        node = copy.copy(stmt)
        node.body, node.orelse = [gast.Pass()], []
        return to_source(node).strip().splitlines()[0]
    return to_source(stmt).strip().replace("\n", " ")


class ReverseBuilder:
    def __init__(self, trace: PrimalTrace, wrt: Sequence[str], env: Environment,
                 shapes: Optional[ShapeEnv], bindings: Bindings):
        self.trace = trace
        self.info = trace.info
        self.wrt = list(wrt)
        self.env = env
        self.shapes = shapes
        self.b = bindings
        self.names = trace.names
        # log-softmax / softmax / logsumexp: no gradient through their max shift
        self.idioms = mark_shift_invariance(trace, env, shapes)
        self.explained: Set[str] = set()
        self.ops = _classify_assignments(trace.node.body, env)
        varied, self.active = varied_and_active(trace.node.body, self.wrt, trace.output, env,
                                                self.ops)
        check_declared_constants(trace.node.body, self.ops, varied, shapes, self.info,
                                 UnsupportedCallError)
        self.adj: Dict[str, str] = {}
        self.defined: Set[str] = set()
        self.private: Set[str] = set()
        # Gradients that may hold a 0-d array where their primal is a Python float
        # (np.where, np.reshape, ... of scalars return 0-d arrays; ufuncs return floats).
        self.zero_d: Set[str] = set()
        self.def_count = self._count_definitions(trace.node.body)
        self.restores: List[tuple] = []   # (assign stmt, list to receive the pop)
        # the generated names of the runtime helpers among VIEW_CALLS
        self.view_helpers = frozenset(bindings.helper_names[v] for v in VIEW_CALLS
                                      if v in bindings.helper_names)
        self.stacks: Dict[str, str] = {}
        self._container_candidates: Optional[Set[str]] = None
        # lists the function pops (ys.pop(): a stack, such as those of generated code):
        # their gradient is a list kept as long as the list, item for item
        self.popped = {popped_list(s.value) for s in A.statements(
            gast.Module(body=trace.node.body, type_ignores=[]))
            if isinstance(s, gast.Assign)} - {None}

    # -- names
    def grad_name(self, v: str) -> str:
        if v not in self.adj:
            self.adj[v] = self.names.fresh("grad_" + v)
        return self.adj[v]

    def np(self, attr: str) -> gast.expr:
        return A.parse_expr("%s.%s" % (self.b.numpy_name, attr))

    def _count_definitions(self, body) -> Dict[str, int]:
        """How many times each name is assigned (parameters once), in one scan."""
        counts: Dict[str, int] = {p: 1 for p in self.trace.params}
        counters = []
        Name, Store, loops = gast.Name, gast.Store, (gast.While, gast.For)
        for node in A.node_list(gast.Module(body=body, type_ignores=[])):
            if node.__class__ is Name:
                if node.ctx.__class__ is Store:
                    counts[node.id] = counts.get(node.id, 0) + 1
            elif isinstance(node, loops) and hasattr(node, "s2s_counter"):
                counters.append(node.s2s_counter)
        for c in counters:
            counts[c] = 1     # a while loop's trip counter: restored only by its reset
        return counts

    # -- shapes
    def shape_of(self, name: str):
        if self.shapes is None:
            return None
        return self.shapes.shape(name)

    def zero_of(self, v: str) -> gast.expr:
        vi = self.shapes.get(v) if self.shapes is not None else None
        if vi is None:
            return A.call(A.load(self.b.helper("zeros_like_grad")), [A.load(v)])
        if not vi.is_array:
            return A.const(0.0)
        args = [A.parse_expr(repr(tuple(vi.shape)))]
        kws = []
        if vi.dtype != "float64":
            kws = [("dtype", self.np(str(vi.dtype)))]
        return A.call(self.np("zeros"), args, kws)

    def unbroadcast(self, value: gast.expr, result: str, x: str) -> gast.expr:
        rs, xs = self.shape_of(result), self.shape_of(x)
        if rs is None or xs is None:
            return A.call(A.load(self.b.helper("unbroadcast")), [value, A.load(x)])
        if rs == xs:
            return value
        return self._unbroadcast_shapes(value, rs, xs)

    # -- accumulation (fan-out sums)
    def is_fresh(self, value: gast.expr) -> bool:
        """Is ``value`` a new array (not a view of another), so it may be updated in place?"""
        if isinstance(value, (gast.BinOp, gast.UnaryOp)):
            return True
        if isinstance(value, gast.Call):
            return not is_view_call(value) and \
                getattr(value.func, "id", "") not in self.view_helpers
        return False

    def accumulate(self, x: str, value: gast.expr, comment: str,
                   index: Optional[gast.expr] = None) -> List[gast.stmt]:
        g = self.grad_name(x)
        out: List[gast.stmt] = []
        if index is None:
            if x in self.defined and self.may_be_container(x):
                out.append(A.assign(g, A.call(A.load(self.b.helper("add_gradients")),
                                              [A.load(g), value])))
                self.private.add(x)
            elif x in self.defined:
                if x in self.private:
                    out.append(gast.AugAssign(target=A.store(g), op=gast.Add(), value=value))
                else:
                    out.append(A.assign(g, gast.BinOp(left=A.load(g), op=gast.Add(), right=value)))
                    self.private.add(x)
                    self.zero_d.discard(x)
            else:
                out.append(A.assign(g, value))
                self.defined.add(x)
                if self.may_be_zero_d(value):
                    self.zero_d.add(x)
                else:
                    self.zero_d.discard(x)
                if self.is_fresh(value):
                    self.private.add(x)
                else:
                    self.private.discard(x)
        else:
            index = self.from_the_start(x, index)
            if x not in self.defined:
                out.append(A.assign(g, self.zero_of(x)))
                self.defined.add(x)
                self.private.add(x)
            elif x not in self.private:
                out.append(A.assign(g, self.own_copy(x)))
                self.private.add(x)
            if self.is_container_gradient(value):
                target = gast.Subscript(value=A.load(g), slice=index, ctx=gast.Store())
                out.append(A.assign(target, A.call(A.load(self.b.helper("add_gradients")), [
                    gast.Subscript(value=A.load(g), slice=A.clone(index),
                                   ctx=gast.Load()), value])))
            elif self.shapes is None and self.may_be_container(x):
                # no probe: a list, tuple or dict item (added item by item) or array
                # elements (repeated indices add up), decided at run time
                out.append(gast.Expr(value=A.call(A.load(self.b.helper("index_add")),
                                                  [A.load(g), _index_value(index), value])))
            elif self.basic_index(index) or self.is_container(x):
                # (a list or dict item is one item: += is exact)
                target = gast.Subscript(value=A.load(g), slice=index, ctx=gast.Store())
                out.append(gast.AugAssign(target=target, op=gast.Add(), value=value))
            else:
                out.append(gast.Expr(value=A.call(self.np("add.at"),
                                                  [A.load(g), _index_value(index), value])))
        for s in out:
            s.s2s_comment = comment
        return out

    def from_the_start(self, x: str, index: gast.expr) -> gast.expr:
        """``hs[-1]`` read from a list the forward pass appends to: the gradient list has
        the final length, the list (restored as the backward pass goes) the length it
        had at the read: the item counted from the start, ``grad_hs[len(hs) - 1]``."""
        k = None
        if isinstance(index, gast.Constant) and type(index.value) is int and index.value < 0:
            k = -index.value
        elif isinstance(index, gast.UnaryOp) and isinstance(index.op, gast.USub) and \
                isinstance(index.operand, gast.Constant) and type(index.operand.value) is int:
            k = index.operand.value
        if k is None or k <= 0:
            return index
        appended = self.__dict__.get("_appended")
        if appended is None:
            appended = self._appended = {
                appended_list(st) for st in A.statements(self.trace.node)
                if isinstance(st, gast.Expr)} - {None}
        if x not in appended:
            return index
        return gast.BinOp(left=A.call(A.load("len"), [A.load(x)]), op=gast.Sub(),
                          right=A.const(k))

    def may_be_zero_d(self, value: gast.expr) -> bool:
        """Could ``value`` be a 0-d array when every input is a scalar?"""
        if isinstance(value, gast.Name):
            adj = self.adj
            return any(adj.get(v) == value.id for v in self.zero_d)
        if not isinstance(value, gast.Call):
            return False              # arithmetic on 0-d arrays gives NumPy scalars
        path = A.dotted(value.func) or ""
        head, _, rest = path.partition(".")
        if head == self.b.numpy_name and rest:
            obj = numpy
            for part in rest.split("."):
                obj = getattr(obj, part, None)
            return not isinstance(obj, numpy.ufunc)
        return True

    def is_container(self, v: str) -> bool:
        return self.shapes is not None and self.shapes.is_container(v)

    def may_be_container(self, v: str) -> bool:
        """Whether ``v`` may hold a list, tuple or dict (whose gradient is added item by
        item): the probe says so; without a probe, unless every definition of ``v`` is
        arithmetic, a constant or a NumPy ufunc (which never return containers)."""
        if self.shapes is not None:
            return self.shapes.is_container(v)
        found = self._container_candidates
        if found is None:
            found = self._container_candidates = _maybe_containers(self.trace, self.b)
        return v in found

    def is_container_gradient(self, value: gast.expr) -> bool:
        return isinstance(value, gast.Name) and any(
            self.adj.get(v) == value.id and self.is_container(v) for v in self.adj)

    def basic_index(self, index: gast.expr) -> bool:
        """True when the index cannot repeat an element (so += is exact)."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        for p in parts:
            if isinstance(p, gast.Slice):
                continue
            if isinstance(p, gast.Constant) and (p.value is None or p.value is Ellipsis
                                                 or isinstance(p.value, (int, str))):
                continue
            if isinstance(p, gast.UnaryOp) and isinstance(p.operand, gast.Constant):
                continue
            if isinstance(p, gast.Attribute) and p.attr == "newaxis":
                continue
            if isinstance(p, gast.Name) and self.shapes is not None and (
                    self.shapes.is_int(p.id) or self.shapes.is_bool_array(p.id)):
                continue
            if isinstance(p, gast.BinOp) and all(
                    isinstance(n, gast.Constant) or (isinstance(n, gast.Name) and self.shapes
                                                     is not None and self.shapes.is_int(n.id))
                    for n in (p.left, p.right)):
                continue
            return False
        return True

    # -- statements
    def backward(self, stmts: List[gast.stmt], in_loop: bool = False) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        for stmt in reversed(stmts):
            out.extend(self.backward_stmt(stmt, in_loop))
        return out

    def backward_stmt(self, stmt, in_loop: bool) -> List[gast.stmt]:
        if stmt.__class__ is gast.Assign and stmt.targets[0].__class__ is gast.Name and \
                stmt.targets[0].id in self.trace.wrt_aliases.values():
            return []       # self_params = self.params: the gradient ends at self_params
        if isinstance(stmt, gast.Expr) and appended_list(stmt) is not None:
            return self.backward_append(stmt, appended_list(stmt))
        if isinstance(stmt, gast.Expr) or hasattr(stmt, "s2s_backward_hook"):
            return backward_hook(self, stmt)
        if isinstance(stmt, gast.Assign):
            try:
                return self.backward_assign(stmt, in_loop)
            except S2SGradError:
                raise
            except RULE_FAILURES as exc:    # never a raw error from inside a rule
                raise rule_failure(self.info, stmt, _source(stmt), exc) from exc
        if isinstance(stmt, gast.If):
            return self.backward_if(stmt, in_loop)
        if isinstance(stmt, gast.For):
            return self.backward_for(stmt)
        if isinstance(stmt, gast.While):
            return self.backward_while(stmt)
        return []

    def restore_slot(self, stmt, in_loop: bool) -> List[gast.stmt]:
        """Where the pop of an overwritten value goes (filled in later)."""
        slot: List[gast.stmt] = []
        tgt = stmt.targets[0]
        if isinstance(tgt, gast.Name) and (in_loop or self.def_count.get(tgt.id, 0) > 1):
            self.restores.append((stmt, slot, tgt.id, in_loop))
        elif isinstance(tgt, (gast.Tuple, gast.List)):
            for n in sorted(A.names_stored(tgt)):
                if in_loop or self.def_count.get(n, 0) > 1:
                    self.restores.append((stmt, slot, n, in_loop))
        elif isinstance(tgt, gast.Subscript) and A.root_name(tgt) is not None:
            self.restores.append((stmt, slot, A.root_name(tgt), in_loop))
        return slot

    def backward_assign(self, stmt: gast.Assign, in_loop: bool) -> List[gast.stmt]:
        tgt = stmt.targets[0]
        slot = self.restore_slot(stmt, in_loop)
        if (isinstance(tgt, (gast.Tuple, gast.List)) and isinstance(stmt.value, gast.Name)
                and all(isinstance(e, gast.Name) for e in tgt.elts)):
            return self.backward_unpack(stmt, tgt, stmt.value.id) + [slot]
        if isinstance(tgt, (gast.Tuple, gast.List)) and not (
                A.names_stored(tgt) & self.active and A.names_loaded(stmt.value) & self.active):
            # n, d = x.shape; out, cache = None, None: no gradient
            for n in A.names_stored(tgt):
                self.defined.discard(n)
            return [slot]
        if isinstance(tgt, gast.Subscript) and isinstance(tgt.value, gast.Name):
            return self.backward_write(stmt, tgt) + [slot]
        if isinstance(tgt, gast.Name) and popped_list(stmt.value) in self.env.local_names:
            return self.backward_pop(stmt, popped_list(stmt.value), tgt.id) + [slot]
        if not isinstance(tgt, gast.Name):
            raise self.info.error(UnsupportedSyntaxError,
                                  "assignments to %s are not supported yet"
                                  % type(tgt).__name__.lower(),
                                  getattr(stmt, "s2s_origin", stmt),
                                  hint="assign to a plain variable name")
        r = tgt.id
        if r not in self.active or r not in self.defined:
            self.defined.discard(r)
            return [slot]
        comment = comment_of(stmt, self.info)
        op = self.ops.get(id(stmt)) or classify(stmt.value, self.env)
        out: List[gast.stmt] = []
        for m in sorted(no_gradient_to(stmt) - self.explained):
            out.append(Comment(shift_comment(self.trace, m, self.idioms.get(m, ""))))
            self.explained.add(m)
        upstream: gast.expr = A.load(self.grad_name(r))
        reads = A.names_loaded(stmt.value)
        result = None
        if r in reads:
            # x = x * x: the adjoint needs the old x, so restore it first and keep the
            # new value (for rules that read the result) under another name.
            up = self.names.fresh("upstream")
            s = A.assign(up, upstream)
            s.s2s_comment = comment
            out.append(s)
            upstream = A.load(up)
            result = self.names.fresh(r + "_new")
            keep = A.assign(result, A.load(r))
            keep.s2s_comment = comment
            out += [keep, slot]
            slot = []
        self.defined.discard(r)
        self.private.discard(r)
        if op.kind == "copy":
            if op.args[0].id not in no_gradient_to(stmt):
                out += self.accumulate(op.args[0].id, upstream, comment)
        elif op.kind == "pack":
            for i, e in enumerate(op.args):
                if isinstance(e, gast.Name) and e.id in self.active:
                    key = A.clone(op.obj[i]) if op.label == "dict" else A.const(i)
                    item = gast.Subscript(value=A.clone(upstream), slice=key,
                                          ctx=gast.Load())
                    out += self.accumulate(e.id, item, comment)
        elif op.kind == "rule":
            cls = user_receiver_class(stmt, self.shapes)
            if cls is not None:
                # model.sum(x) on an object the inliner did not resolve: the user's
                # method, never the ndarray rule of the same name
                raise unresolved_method_error(stmt, cls, self.info, UnsupportedCallError)
            self.check_sequence_arithmetic(stmt)
            out += self.apply_rule(op, stmt, r, upstream, comment, result)
        elif op.kind == "unknown":
            raise self.unsupported(op, stmt)
        if result is not None and result not in A.names_loaded(
                gast.Module(body=[x for x in out if not isinstance(x, list)],
                            type_ignores=[])):
            out = [x for x in out if x is not keep]
        if result is not None:
            out = self._drop_upstream(out, up, self.grad_name(r))
        out.append(slot)
        return out

    def _drop_upstream(self, out, up: str, g: str):
        """``upstream = grad_x`` is needed only if something reads it after grad_x
        is overwritten; otherwise read grad_x itself (and drop ``grad_x = grad_x``)."""
        stmts = [s for s in out if not isinstance(s, list)]
        first = next((k for k, s in enumerate(stmts)
                      if g in A.names_stored(s) or (isinstance(s, gast.AugAssign)
                                                    and A.root_name(s.target) == g)), None)
        if first is not None and any(up in A.names_loaded(s) for s in stmts[first + 1:]):
            return out
        new = []
        for s in out:
            if isinstance(s, list):
                new.append(s)
                continue
            if isinstance(s, gast.Assign) and s.targets[0].__class__ is gast.Name \
                    and s.targets[0].id == up:
                continue
            comment = getattr(s, "s2s_comment", None)
            s = A.rename(s, {up: g})
            if comment is not None:
                s.s2s_comment = comment
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and isinstance(s.value, gast.Name) and s.targets[0].id == s.value.id:
                continue
            new.append(s)
        return new

    def _list_method(self, ys: str, method: str, args) -> gast.stmt:
        return gast.Expr(value=A.call(gast.Attribute(value=A.load(ys), attr=method,
                                                     ctx=gast.Load()), args))

    def backward_pop(self, stmt, ys: str, v: str) -> List[gast.stmt]:
        """``v = ys.pop()``: the item goes back on ys (restore semantics: before the pop,
        ys held it) and its gradient back on grad_ys, which mirrors ys item for item
        (a zero if no gradient reached v)."""
        comment = comment_of(stmt, self.info)
        out: List[gast.stmt] = []
        if ys in self.active:
            g = self.grad_name(ys)
            if ys not in self.defined:
                init = A.assign(g, A.call(A.load(self.b.helper("zeros_like_grad")),
                                          [A.load(ys)]))
                init.s2s_comment = "no gradient reached %s's items yet" % ys
                out.append(init)
                self.defined.add(ys)
            elif ys not in self.private:
                own = A.assign(g, A.call("list", [A.load(g)]))   # (np.array(ys)'s: an array)
                own.s2s_comment = comment
                out.append(own)
            self.private.add(ys)
            item = A.load(self.grad_name(v)) if (v in self.active and v in self.defined) \
                else self.zero_of(v)
            push = self._list_method(g, "append", [item])
            push.s2s_comment = comment
            out.append(push)
        self.defined.discard(v)
        self.private.discard(v)
        undo = self._list_method(ys, "append", [A.load(v)])
        undo.s2s_comment = "restore %s" % ys
        out.append(undo)
        return out

    def backward_append(self, stmt, ys: str) -> List[gast.stmt]:
        """``ys.append(v)``: v receives the gradient of the last item; popping the item
        restores ys to what the statements before the append saw."""
        if ys in self.popped:
            return self.backward_stack_append(stmt, ys)
        if ys not in self.active:
            return []
        comment = comment_of(stmt, self.info)
        out: List[gast.stmt] = []
        v = stmt.value.args[0]
        if isinstance(v, gast.Name) and v.id in self.active and ys in self.defined:
            last = gast.BinOp(left=A.call("len", [A.load(ys)]), op=gast.Sub(), right=A.const(1))
            item = gast.Subscript(value=A.load(self.grad_name(ys)), slice=last, ctx=gast.Load())
            out += self.accumulate(v.id, item, comment)
        undo = gast.Expr(value=A.call(gast.Attribute(value=A.load(ys), attr="pop",
                                                     ctx=gast.Load())))
        undo.s2s_comment = "restore %s" % ys
        out.append(undo)
        return out

    def backward_stack_append(self, stmt, ys: str) -> List[gast.stmt]:
        """``ys.append(v)`` on a list the function also pops: grad_ys mirrors ys, so
        v's gradient is popped off it as the item is popped off ys."""
        comment = comment_of(stmt, self.info)
        out: List[gast.stmt] = []
        v = stmt.value.args[0]
        if ys in self.active and ys in self.defined:
            g = self.grad_name(ys)
            if ys not in self.private:
                own = A.assign(g, A.call("list", [A.load(g)]))   # (np.array(ys)'s: an array)
                own.s2s_comment = comment
                out.append(own)
                self.private.add(ys)
            take = A.call(gast.Attribute(value=A.load(g), attr="pop", ctx=gast.Load()), [])
            if isinstance(v, gast.Name) and v.id in self.active:
                item = self.names.fresh("grad_item")
                s = A.assign(item, take)
                s.s2s_comment = comment
                out.append(s)
                out += self.accumulate(v.id, A.load(item), comment)
            else:
                drop = gast.Expr(value=take)
                drop.s2s_comment = comment
                out.append(drop)
        undo = self._list_method(ys, "pop", [])
        undo.s2s_comment = "restore %s" % ys
        out.append(undo)
        return out

    def backward_write(self, stmt, tgt: gast.Subscript) -> List[gast.stmt]:
        """``y[i] = v``: v receives grad_y[i]; the overwritten part of y received
        nothing, so grad_y[i] is cleared."""
        y = tgt.value.id
        if y not in self.active or y not in self.defined:
            return []
        comment = comment_of(stmt, self.info)
        out: List[gast.stmt] = []
        g = self.grad_name(y)
        if y not in self.private:
            copy_stmt = A.assign(g, self.own_copy(y))
            copy_stmt.s2s_comment = comment
            out.append(copy_stmt)
            self.private.add(y)
        part = gast.Subscript(value=A.load(g), slice=A.clone(tgt.slice), ctx=gast.Load())
        fresh = self._may_repeat(tgt.slice)     # a new array, not a view of grad_y
        if fresh:
            # y[[0, 0, 2]] = v: of a repeated element, y keeps the last value written
            part = A.call(A.load(self.b.helper("written_part")),
                          [A.load(g), _index_value(tgt.slice)])
        v = stmt.value
        if isinstance(v, gast.Name) and v.id in self.active:
            key = getattr(stmt, "s2s_write_key", None)
            written = self.shapes.get(key) if (self.shapes is not None and key) else None
            vi = self.shapes.get(v.id) if self.shapes is not None else None
            if written is None or vi is None:
                value = A.call(A.load(self.b.helper("unbroadcast")), [part, A.load(v.id)])
                if not fresh:
                    value = A.call(self.np("copy"), [value])
            elif written.shape == vi.shape:
                value = part
                if written.is_array and not fresh:
                    value = A.call(gast.Attribute(value=part, attr="copy", ctx=gast.Load()))
            else:
                value = self._unbroadcast_shapes(part, written.shape, vi.shape)
            out += self.accumulate(v.id, value, comment)
        clear = A.assign(gast.Subscript(value=A.load(g), slice=A.clone(tgt.slice),
                                        ctx=gast.Store()), A.const(0.0))
        clear.s2s_comment = comment
        out.append(clear)
        return out

    def _may_repeat(self, index: gast.expr) -> bool:
        """Whether an index may name one element twice: it holds an integer array or a
        list (advanced indexing), not only constants, slices and Python ints."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        shapes = self.shapes

        def scalar(name):
            vi = shapes.get(name) if shapes is not None else None
            return vi is not None and not vi.is_array and not shapes.is_container(name)

        for p in parts:
            if isinstance(p, (gast.Slice, gast.Constant)):
                continue
            if isinstance(p, gast.Name) and shapes is not None:
                vi = shapes.get(p.id)
                if vi is not None and vi.is_array and numpy.dtype(vi.dtype).kind == "b":
                    continue                    # a mask names each element once
            if isinstance(p, (gast.Name, gast.BinOp, gast.UnaryOp)) and all(
                    isinstance(n, (gast.Constant, gast.BinOp, gast.UnaryOp, gast.Name,
                                   gast.operator, gast.unaryop, gast.expr_context))
                    and (not isinstance(n, gast.Name) or scalar(n.id)) for n in A.nodes(p)):
                continue                        # y[t + 1], y[-1], y[i]: one element
            return True
        return False

    def own_copy(self, v: str) -> gast.expr:
        """A copy of grad_v that may be updated in place (containers stay containers)."""
        vi = self.shapes.get(v) if self.shapes is not None else None
        if vi is not None and vi.is_array:
            return A.call(self.np("array"), [A.load(self.grad_name(v))])
        return A.call(A.load(self.b.helper("own_gradient")), [A.load(self.grad_name(v))])

    def _unbroadcast_shapes(self, value, rs, xs):
        """``value`` (shaped ``rs``) summed down to shape ``xs``, as explicit np.sum calls
        (a copy when nothing needs summing, so the result is always private)."""
        if xs == ():
            return A.call(self.np("sum"), [value])
        lead = len(rs) - len(xs)
        expr = value
        if lead > 0:
            axis = A.const(0) if lead == 1 else A.parse_expr(repr(tuple(range(lead))))
            expr = A.call(self.np("sum"), [expr], [("axis", axis)])
        ones = tuple(i for i, n in enumerate(xs) if n == 1 and rs[lead + i] != 1)
        if ones:
            axis = A.const(ones[0]) if len(ones) == 1 else A.parse_expr(repr(ones))
            expr = A.call(self.np("sum"), [expr], [("axis", axis), ("keepdims", A.const(True))])
        if expr is value:
            expr = A.call(gast.Attribute(value=value, attr="copy", ctx=gast.Load()))
        return expr

    def backward_unpack(self, stmt, tgt, source: str) -> List[gast.stmt]:
        """``a, b = t``: the gradient of ``t`` is the tuple of the targets' gradients
        (zeros for targets no gradient reached), for multi-output rules to read."""
        names = [e.id for e in tgt.elts]
        if source not in self.active or not any(n in self.defined for n in names):
            for n in names:
                self.defined.discard(n)
            return []
        elts = [A.load(self.grad_name(n)) if n in self.defined else self.zero_of(n)
                for n in names]
        for i, n in enumerate(names):
            if n in names[i + 1:]:
                # a, _, _ = t: only the last '_' keeps its value; the others get no
                # gradient, shaped like their own item (not like the name's last value)
                elts[i] = A.call(A.load(self.b.helper("zeros_like_grad")), [gast.Subscript(
                    value=A.load(source), slice=A.const(i), ctx=gast.Load())])
        for n in names:
            self.defined.discard(n)
            self.private.discard(n)
        return self.accumulate(source, gast.Tuple(elts=elts, ctx=gast.Load()),
                               comment_of(stmt, self.info))

    def check_sequence_arithmetic(self, stmt) -> None:
        """``ys + zs`` / ``ys * 2`` on lists or tuples held in names (the probe saw
        containers) concatenate and repeat, which no arithmetic rule describes (the
        trace writes out displays: ``[x] * 3``, ``[a] + [b]``)."""
        value = stmt.value
        if self.shapes is None or not isinstance(value, gast.BinOp):
            return

        def container(e):
            return isinstance(e, (gast.List, gast.Tuple)) or (
                isinstance(e, gast.Name) and self.shapes.is_container(e.id))

        def integer(e):
            return (isinstance(e, gast.Constant) and type(e.value) is int) or (
                isinstance(e, gast.Name) and self.shapes.is_int(e.id))

        for side, other in ((value.left, value.right), (value.right, value.left)):
            # (a list times an array is NumPy arithmetic: only list + list, list * int)
            if isinstance(side, gast.Name) and self.shapes.is_container(side.id) and (
                    isinstance(value.op, gast.Add) and container(other)
                    or isinstance(value.op, gast.Mult) and integer(other)):
                raise self.info.error(
                    UnsupportedSyntaxError, "'%s' on the list or tuple %r concatenates or "
                    "repeats it, which s2sgrad does not differentiate"
                    % (_OP_SYMBOLS.get(type(value.op), "?"), side.id),
                    getattr(stmt, "s2s_origin", stmt),
                    hint="build the list with a display ([a, b, c]) or with append, or "
                         "join arrays with np.concatenate / np.tile")

    def unsupported(self, op: Op, stmt) -> Exception:
        origin = getattr(stmt, "s2s_origin", stmt)
        label = op.label
        func = getattr(getattr(stmt, "value", None), "func", None)
        receiver = func.value if isinstance(func, gast.Attribute) else func
        cls = self.shapes.foreign_class(receiver.id) if isinstance(receiver, gast.Name) \
            and self.shapes is not None else None
        if cls is not None:
            return self.info.error(
                UnsupportedCallError,
                "cannot differentiate '%s(...)': '%s' is a %s object whose %s s2sgrad did "
                "not resolve here" % (A.dotted(func) or label, receiver.id, cls.__name__,
                                      "method ." + func.attr + "()" if func is not receiver
                                      else "__call__"), origin,
                hint="methods (and __call__) are inlined on objects the function receives "
                     "or reads from their attributes, lists and dicts; an object built "
                     "inside the function, or taken from a list of mixed classes with a "
                     "computed index, is not resolved")
        if op.obj is not None and callable(op.obj):
            pyname = getattr(op.obj, "__name__", label)
            hint = ("register a derivative for it:\n\n"
                    "    from s2sgrad import adjoint, grad\n\n"
                    "    @adjoint(%s)\n"
                    "    def _(result, x):\n"
                    "        grad[x] = grad[result] * ...   # upstream times local gradient\n" % label)
            if label != pyname:
                pass
            return _info_of(origin, self.info).error(
                UnsupportedCallError, "no derivative rule for '%s'" % label, origin, hint=hint)
        value = getattr(stmt, "value", None)
        if isinstance(value, gast.Call) and (A.dotted(value.func) is None or A.root_name(
                value.func) in self.env.local_names) and not isinstance(value.func,
                                                                       gast.Attribute):
            return _info_of(origin, self.info).error(
                UnsupportedCallError,
                "cannot tell which function is called here: the value called is not known "
                "when the gradient code is generated, and a differentiated value reaches it",
                origin,
                hint="call a Python or NumPy function by name, or pass one (a function, a "
                     "lambda, a functools.partial, a dict or list of functions) as an "
                     "argument: s2sgrad specializes the code on it")
        return _info_of(origin, self.info).error(UnsupportedCallError,
                               "cannot differentiate '%s': it is not a known NumPy function, "
                               "method or attribute" % label, origin,
                               hint="use a supported NumPy function (see docs/supported.md) or "
                                    "register a derivative with @s2sgrad.adjoint")

    def apply_rule(self, op: Op, stmt, r: str, upstream, comment,
                   result: Optional[str] = None) -> List[gast.stmt]:
        origin = getattr(stmt, "s2s_origin", stmt)

        def fail(msg, hint):
            return self.info.error(UnsupportedCallError, msg, origin, hint=hint)

        binding = op.binding if op.binding is not None else \
            bind(op.rule, op.args, op.keywords, fail, op.obj)
        if self.involves_complex(stmt, r) and not complex_supported(op.rule):
            raise fail("'%s' is not differentiated for complex values" % op.label,
                       "docs/complex.md lists the functions differentiated for complex "
                       "values; split the value into real and imaginary parts, or register "
                       "a derivative with @s2sgrad.adjoint")
        wanted = [p for p, node in binding.items()
                  if isinstance(node, gast.Name) and node.id in self.active
                  and node.id not in no_gradient_to(stmt)]
        try:
            pieces = instantiate(op.rule, binding, A.load(result or r), upstream, wanted,
                                 self.names.fresh,
                                 lambda n: self.b.resolve(n, op.rule, self.names.fresh),
                                 self.kind_of)
        except UnsupportedCase as exc:
            raise fail("cannot differentiate this call to '%s': %s" % (op.label, exc),
                       "rewrite the call, or register a derivative with @s2sgrad.adjoint")
        out: List[gast.stmt] = []
        if result is not None:
            # x = f(x, y): the contributions to x itself last, so the others can read
            # grad_x before it is overwritten (see _drop_upstream)
            to_self = [p for p in pieces if isinstance(p, Contribution)
                       and binding[p.param].id == r]
            pieces = [p for p in pieces if not any(p is q for q in to_self)] + to_self
        for piece in pieces:
            if isinstance(piece, Temp):
                piece.stmt.s2s_comment = comment
                out.append(piece.stmt)
                continue
            x = binding[piece.param].id
            value = piece.value
            if op.rule.kind == "elementwise" and piece.index is None:
                value = self.unbroadcast(value, r, x)
            if self.realify(x, stmt, r):
                value = A.call(self.np("real"), [value])
            temps: List[gast.stmt] = []
            value = self.specialize(value, temps)
            for t in temps:                 # values a specialized helper reads twice
                t.s2s_comment = comment
            out += temps + self.accumulate(x, value, comment, piece.index)
        return out

    def kind_of(self, name: str):
        """The dtype kind the probe saw for ``name`` (None: unknown)."""
        return self.shapes.kind(name) if self.shapes is not None else None

    def involves_complex(self, stmt, r: str) -> bool:
        """Does the probe say ``stmt`` reads or makes a complex value?"""
        if self.shapes is None:
            return False
        names = A.names_loaded(stmt.value) | {r}
        return any(self.shapes.kind(n) == "c" for n in names)

    def realify(self, x: str, stmt, r: str) -> bool:
        """Does a contribution to real ``x`` from ``stmt`` need its real part taken?
        (A real value's gradient is real: in a statement with a complex value, the
        rule's contribution may be complex -- ``x * c`` for complex ``c`` gives
        ``grad * c`` -- and ``x``'s gradient is its real part; see docs/complex.md.)"""
        if self.shapes is None or self.shapes.kind(x) not in ("f", "i", "u", "b"):
            return False
        names = A.names_loaded(stmt.value) | {r}
        return any(self.shapes.kind(n) == "c" for n in names)

    def specialize(self, expr: gast.expr, temps: Optional[List[gast.stmt]] = None
                   ) -> gast.expr:
        """``expr`` with the runtime helpers it calls specialized to the probed shapes."""
        return specialize(expr, self, temps)

    def backward_if(self, stmt: gast.If, in_loop: bool) -> List[gast.stmt]:
        before_def, before_priv = set(self.defined), set(self.private)
        body = self.backward_branch(stmt.body, in_loop)
        body_def, body_priv = self.defined, self.private
        self.defined, self.private = set(before_def), set(before_priv)
        orelse = self.backward_branch(stmt.orelse, in_loop)
        else_def, else_priv = self.defined, self.private
        for v in sorted(body_def - else_def):
            orelse.append(self._zero_stmt(v))
        for v in sorted(else_def - body_def):
            body.append(self._zero_stmt(v))
        self.defined = body_def | else_def
        self.private = body_priv & else_priv
        # (a branch left empty -- if broke: break -- is dropped by optimize.flatten)
        node = gast.If(test=A.clone(stmt.test), body=body, orelse=orelse)
        node.s2s_comment = comment_of(stmt, self.info)
        return [node]

    def backward_branch(self, stmts: List[gast.stmt], in_loop: bool) -> List[gast.stmt]:
        """The adjoint of one branch.  A branch the first call did not take and that
        cannot be differentiated (an unknown call, a name nothing defines) is compiled
        lazily, as Python runs it: its forward code becomes a statement raising, when
        the branch runs, the error Python (NameError) or s2sgrad would have raised."""
        unrun = getattr(self.shapes, "unrun", ())
        if not stmts or id(stmts) not in unrun:
            return self.backward(stmts, in_loop)
        saved = (set(self.defined), set(self.private), set(self.zero_d), set(self.explained),
                 len(self.restores))
        try:
            return self.backward(stmts, in_loop)
        except S2SGradError as error:
            self.defined, self.private, self.zero_d, self.explained = saved[:4]
            del self.restores[saved[4]:]
            stmts[:] = [self.not_compiled(stmts, error)]
            return []

    def not_compiled(self, stmts, error) -> gast.stmt:
        from s2sgrad.analysis.names import _MISSING
        module = gast.Module(body=stmts, type_ignores=[])
        known = A.names_stored(self.trace.node) | set(self.trace.params)
        undefined = [n for n in sorted(A.names_loaded(module))
                     if n not in known and self.env.resolve(n) is _MISSING]
        if undefined:
            exc = A.call("NameError", [A.const("name %r is not defined" % undefined[0])])
        else:
            cls = self.names.fresh(type(error).__name__)
            self.b.extra[cls] = type(error)
            exc = A.call(A.load(cls), [A.const(error.message)], [
                (f, A.const(getattr(error, f))) for f in ("function", "filename", "lineno",
                                                          "source_line", "hint")])
        # (raised when the branch runs: the error Python or s2sgrad would have raised)
        guard = gast.Raise(exc=exc, cause=None)
        guard.s2s_comment = "this branch did not run at the first call: %s" % (
            "it names %s, which is not defined" % undefined[0] if undefined
            else "it cannot be differentiated")
        gast.copy_location(guard, stmts[0])
        origin = getattr(stmts[0], "s2s_origin", None)
        if origin is not None:
            guard.s2s_origin = origin
        return guard

    def _zero_stmt(self, v, varying=False):
        zero = self.zero_of(v)
        if varying and self.shapes is not None and v in self.shapes.info and \
                self.shapes.info[v] is None and not self.shapes.is_container(v):
            # the end of a reversed trip, for a value whose shape changes from trip to
            # trip (layers of different widths): v holds this trip's value, the next
            # trip adds a gradient shaped like the previous one's -- a scalar zero
            # broadcasts to it
            zero = A.const(0.0)
        s = A.assign(self.grad_name(v), zero)
        s.s2s_comment = "no gradient reaches %s on this path" % v
        return s

    def backward_for(self, stmt: gast.For) -> List[gast.stmt]:
        it = stmt.iter
        is_range = (isinstance(it, gast.Call) and A.dotted(it.func) == "range"
                    and self.env.resolve("range") is range)
        is_reversed = (isinstance(it, gast.Call) and A.dotted(it.func) == "reversed"
                       and self.env.resolve("reversed") is reversed and len(it.args) == 1
                       and isinstance(it.args[0], gast.Call)
                       and A.dotted(it.args[0].func) == "range")
        if not (is_range or is_reversed):
            raise self.info.error(UnsupportedSyntaxError,
                                  "only 'for ... in range(...)' loops are supported",
                                  getattr(stmt, "s2s_origin", stmt),
                                  hint="loop over indices: for i in range(len(xs)): x = xs[i]")
        trips = getattr(stmt, "s2s_counter", None)
        if _jumps_out(stmt.body) and (trips is None or is_reversed):
            raise self.info.error(UnsupportedSyntaxError,
                                  "break/continue inside loops are not supported here",
                                  getattr(stmt, "s2s_origin", stmt))
        if trips is not None:
            # the loop stopped early: replay the trips it ran, last first
            ran = gast.Subscript(value=A.clone(it), slice=gast.Slice(
                lower=None, upper=A.load(trips), step=None), ctx=gast.Load())
            rev = A.call("reversed", [ran])
        else:
            rev = A.clone(it.args[0]) if is_reversed else \
                A.call("reversed", [A.clone(it)])
        return self.backward_loop(stmt, A.clone(stmt.target), rev)

    def backward_while(self, stmt: gast.While) -> List[gast.stmt]:
        """The forward loop counted its trips; the backward loop runs that many."""
        count = getattr(stmt, "s2s_counter", None)
        if count is None:
            raise self.info.error(UnsupportedSyntaxError, "uncounted while loop",
                                  getattr(stmt, "s2s_origin", stmt))
        return self.backward_loop(stmt, A.store("_"), A.call("range", [A.load(count)]))

    def backward_loop(self, stmt, target, rev) -> List[gast.stmt]:
        # Gradients carried around the loop must exist before the reversed loop.
        saved = (set(self.defined), set(self.private), list(self.restores))
        probe_restores = len(self.restores)
        carried: Set[str] = set()
        while True:
            # (to a fixed point: a gradient a trip defines for the next one -- grad_s
            # below -- may be what brings a gradient to another name -- x:
            # u = u + s * s; s = x * 2.0 -- which is then carried too)
            self.defined, self.private = saved[0] | carried, set(saved[1])
            self.backward(stmt.body, in_loop=True)
            touched = set(self.defined) | (saved[0] - self.defined)
            found = {v for v in touched if v in saved[0] or self._live_into(v, stmt)}
            del self.restores[probe_restores:]
            if found <= carried:
                break
            carried |= found
        self.defined, self.private = set(saved[0]), set(saved[1])
        pre: List[gast.stmt] = []
        for v in sorted(carried - self.defined):
            pre.append(self._zero_stmt(v))
        # Gradients updated element by element inside the loop: one private copy
        # before the loop instead of one per trip.
        indexed = {A.root_name(n) for n in A.nodes(gast.Module(body=stmt.body,
                                                                 type_ignores=[]))
                   if isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name)}
        for v in sorted((carried & self.defined & indexed) - self.private):
            g = self.grad_name(v)
            own = A.assign(g, self.own_copy(v))
            own.s2s_comment = "updated in place in the loop below"
            pre.append(own)
            self.private.add(v)
        # A carried gradient stays private (updated in place, never copied) when it is
        # private on entry and at the end of every trip.
        private = (set(self.private) & carried) | (carried - self.defined)
        self.defined |= carried
        start_def = set(self.defined)
        outside = set(self.private) - carried
        first_restore = len(self.restores)
        for _ in range(len(carried) + 2):     # each failed round drops one name at least
            del self.restores[first_restore:]
            self.defined = set(start_def)
            self.private = outside | private
            body = self.backward(stmt.body, in_loop=True)
            zeroed = carried - self.defined
            for v in sorted(zeroed):
                body.append(self._zero_stmt(v, varying=v not in indexed))
            at_end = (self.private | zeroed) & carried
            if private <= at_end:
                break
            private &= at_end
        self.defined = start_def
        self.private = (self.private - carried) | private
        node = gast.For(target=target, iter=rev, body=body or [gast.Pass()], orelse=[],
                        type_comment=None)
        node.s2s_comment = comment_of(stmt, self.info)
        stmt.s2s_backward_loop = node      # where loop-local values are popped
        return pre + [node]

    def _live_into(self, v: str, loop: gast.For) -> bool:
        """Is ``v`` read in the loop body before (or without) being assigned there, on
        some path (an assignment under an ``if`` may not run: the value of the trip
        before is read then)?"""
        return v in live_in(loop.body, {v}, _primal_transfer, A.names_loaded)


def _primal_transfer(s, live: Set[str]) -> Set[str]:
    """Liveness through one simple statement of the primal trace."""
    if s.__class__ is gast.Assign:
        tgt = s.targets[0]
        if isinstance(tgt, (gast.Name, gast.Tuple, gast.List)):
            return (live - A.names_stored(tgt)) | A.names_loaded(s.value)
        return live | A.names_loaded(s)
    return live | A.names_loaded(s)


def _classify_assignments(body, env: Environment) -> Dict[int, Op]:
    """The operation of each assignment of the trace, by statement id (classified once
    for activity analysis and the reverse pass)."""
    return {id(s): classify(s.value, env)
            for s in A.statements(gast.Module(body=body, type_ignores=[]))
            if s.__class__ is gast.Assign}


_OP_SYMBOLS = {gast.Add: "+", gast.Mult: "*", gast.Sub: "-", gast.Div: "/"}


def _jumps_out(stmts) -> bool:
    """A break / continue / return of this loop (not of a loop nested in it)."""
    for s in stmts:
        if isinstance(s, (gast.Break, gast.Continue, gast.Return)):
            return True
        if isinstance(s, gast.If) and (_jumps_out(s.body) or _jumps_out(s.orelse)):
            return True
    return False


def _index_value(index: gast.expr) -> gast.expr:
    """A subscript as a plain value (``slice(None)`` for ``:``), for np.add.at."""
    def conv(p):
        if isinstance(p, gast.Slice):
            return A.call("slice", [A.clone(e) if e is not None else A.const(None)
                                    for e in (p.lower, p.upper, p.step)])
        return p
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[conv(e) for e in index.elts], ctx=gast.Load())
    return conv(index)


def _maybe_containers(trace: PrimalTrace, bindings: Bindings) -> Set[str]:
    """Names of ``trace`` that may hold a list, tuple or dict when no probe ran:
    parameters, loop targets, unpacked names, and names defined by anything but
    arithmetic, comparisons, constants or NumPy ufunc calls."""
    scalar_values = (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant, gast.BoolOp)
    proven: Set[str] = set()
    maybe: Set[str] = set(trace.params)
    for node in A.nodes(trace.node):
        if isinstance(node, gast.For):
            maybe |= A.names_stored(node.target)
        elif isinstance(node, gast.Assign):
            tgt = node.targets[0]
            if not isinstance(tgt, gast.Name):
                maybe |= A.names_stored(tgt) if not isinstance(tgt, gast.Subscript) else set()
                continue
            value = node.value
            ok = isinstance(value, scalar_values)
            if isinstance(value, gast.Call):
                path = A.dotted(value.func) or ""
                head, _, rest = path.partition(".")
                if head == bindings.numpy_name and rest and "." not in rest:
                    ok = isinstance(getattr(numpy, rest, None), numpy.ufunc)
            (proven if ok else maybe).add(tgt.id)
    return maybe | (set(A.names_stored(trace.node)) - proven)
