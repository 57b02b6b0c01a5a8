"""Forward mode: tangent statements interleaved with the primal trace.

For every primal statement ``r = op(x, y)`` whose value depends on a ``wrt``
input, ``ForwardBuilder`` emits right after it the statement computing the
tangent ``dot_r`` from the input tangents ``dot_x``, ``dot_y``::

    t0 = np.log(x)
    dot_t0 = dot_x / x
    t1 = x + 3
    dot_t1 = dot_x

Where the tangent comes from (see ``rules/tangents.py``):

* elementwise rules of the reverse table, read forwards: the contribution
  ``grad[x] = grad[result] * LOCAL`` gives the term ``dot_x * LOCAL``;
* linear operations (sum, reshape, indexing, dot, ...): the operation applied
  to the tangent, one term per active argument for multilinear ones;
* explicit ``@tangent_rule`` templates (max/min);
* any other ``@vjp`` rule -- a custom adjoint, say -- by *transposing* its
  template: the tangent is ``J v`` where the template computes ``J^T u``, so
  ``J v = d/du <J^T u, v>``, which the reverse pass computes from the template
  itself (``transpose_vjp_rule``).  No second rule is needed.

Overwritten variables need nothing special: the tangent of ``s = s + t`` is
emitted right after it (``dot_s = dot_s + dot_t``) and reads only tangents, or,
when a rule reads an input the statement overwrites, before it.
"""
from __future__ import annotations

import ast
import copy
from typing import Dict, List, Optional, Sequence, Set

import gast
import numpy as np

from s2sgrad import astutil as A
from s2sgrad.ad.forward_by_transpose import transpose_vjp_rule
from s2sgrad.ad.gcpause import gc_paused
from s2sgrad.ad.gradient_control import grad_of_marker
from s2sgrad.ad.pipeline import compile_generated, front_end, lazy_arrays, protect_arguments
from s2sgrad.ad.reverse.builder import Bindings, ReverseBuilder, _source
from s2sgrad.ad.specialize import specialize
from s2sgrad.analysis.dataflow import (Environment, Op, check_declared_constants, classify,
                                       unresolved_method_error, user_receiver_class,
                                       varied_fixpoint)
from s2sgrad.analysis.effects import is_view_call
from s2sgrad.analysis.names import differentiable_loads
from s2sgrad.analysis.shapes import ShapeEnv
from s2sgrad.back.emit import Comment, emit_function
from s2sgrad.errors import (RULE_FAILURES, RuleError, S2SGradError, UnsupportedCallError,
                            UnsupportedSyntaxError, rule_failure)
from s2sgrad.front.lower import PrimalTrace
from s2sgrad.passes.optimize import eliminate_dead_forward, flatten
from s2sgrad.rules import Rule
from s2sgrad.rules.complex_support import complex_supported
from s2sgrad.rules.tangents import Linear, lookup_tangent, rule_key_for
from s2sgrad.rules.templates import (NOT_STATIC, Temp, _Dynamic, _DynamicUse, _Substitute,
                                     bind, instantiate, static_value)


def _append_call(stmt) -> Optional[tuple]:
    """(list name, value) for ``xs.append(v)``."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        f = stmt.value.func
        if isinstance(f, gast.Attribute) and f.attr == "append" and isinstance(f.value, gast.Name) \
                and len(stmt.value.args) == 1 and not stmt.value.keywords:
            return f.value.id, stmt.value.args[0]
    return None


def _add_at_call(stmt, env) -> Optional[gast.Call]:
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        path = A.dotted(stmt.value.func) or ""
        if path.endswith(".add.at") and env.resolve(path.rsplit(".", 2)[0]) is np:
            return stmt.value
    return None


def _walk_stmts(body):
    for stmt in body:
        yield stmt
        for field_name in ("body", "orelse"):
            sub = getattr(stmt, field_name, None)
            if isinstance(sub, list):
                yield from _walk_stmts(sub)


def tangent_inputs(op: Op, value: gast.expr) -> Set[str]:
    if op.kind == "constant":
        return set()
    if op.kind == "copy":
        return {op.args[0].id}
    if op.kind == "rule":
        key = rule_key_for(value, op)
        entry = lookup_tangent(key) if key is not None else None
        if isinstance(entry, Linear):
            return {n for i in entry.positions if i < len(op.args)
                    for n in differentiable_loads(op.args[i])}
        if entry is not None:
            return {n for a in op.inputs() for n in differentiable_loads(a)}
        try:
            binding = bind(op.rule, op.args, op.keywords, lambda m, h: ValueError(m), op.obj)
        except ValueError:
            # the call does not fit the rule: its inputs stay varied, so the tangent
            # pass reports the call instead of giving it a zero tangent
            return {n for a in op.inputs() for n in differentiable_loads(a)}
        return {n for p in op.rule.differentiable_params() if p in binding
                for n in differentiable_loads(binding[p])}
    if op.kind == "unknown" and isinstance(value, gast.Call) and op.obj is not None:
        entry = lookup_tangent(("obj", id(op.obj)))
        if isinstance(entry, Linear):
            return {n for i in entry.positions if i < len(op.args)
                    for n in differentiable_loads(op.args[i])}
    return differentiable_loads(value)


def forward_varied(body, wrt: Sequence[str], env: Environment) -> Set[str]:
    """Names that depend differentiably on a wrt input (they get tangents): the one
    activity fixed point (``dataflow.varied_fixpoint``) over the tangent rules' inputs."""
    edges = []
    for s in _walk_stmts(body):
        if isinstance(s, gast.Assign):
            tgt = s.targets[0]
            if isinstance(tgt, gast.Name):
                edges.append((tangent_inputs(classify(s.value, env), s.value), {tgt.id}))
            else:
                edges.append((A.names_loaded(s.value),
                              {A.root_name(tgt)} - {None} if isinstance(
                                  tgt, (gast.Subscript, gast.Attribute))
                              else A.names_stored(tgt)))
            continue
        app = _append_call(s)
        if app is not None:
            edges.append((A.names_loaded(app[1]), {app[0]}))
        add_at = _add_at_call(s, env)
        if add_at is not None and len(add_at.args) == 3 and A.root_name(add_at.args[0]):
            edges.append((A.names_loaded(add_at.args[2]), {A.root_name(add_at.args[0])}))
    return varied_fixpoint(edges, wrt)


class ForwardBuilder:
    def __init__(self, trace: PrimalTrace, wrt: Sequence[str], env: Environment,
                 shapes: Optional[ShapeEnv], bindings: Bindings):
        self.trace = trace
        self.info = trace.info
        self.names = trace.names
        self.wrt = list(wrt)
        self.env = env
        self.shapes = shapes
        self.b = bindings
        self.varied = forward_varied(trace.node.body, wrt, env)
        ops = {id(s): classify(s.value, env) for s in _walk_stmts(trace.node.body)
               if isinstance(s, gast.Assign)}
        check_declared_constants(trace.node.body, ops, self.varied, shapes, self.info,
                                 UnsupportedCallError)
        self.dots: Dict[str, str] = {}
        self.private: Set[str] = set()
        for p in self.wrt:
            self.dot(p)

    # -- names and small expressions
    def dot(self, v: str) -> str:
        if v not in self.dots:
            self.dots[v] = self.names.fresh("dot_" + v)
        return self.dots[v]

    def np(self, attr: str) -> gast.expr:
        return A.parse_expr("%s.%s" % (self.b.numpy_name, attr))

    def zero_of(self, v: str) -> gast.expr:
        vi = self.shapes.get(v) if self.shapes is not None else None
        if vi is None:
            return A.call(A.load(self.b.helper("zeros_like_grad")), [A.load(v)])
        if not vi.is_array:
            return A.const(0.0)
        kws = []
        if vi.dtype.kind == "f" and vi.dtype != np.float64:
            kws = [("dtype", self.np(str(vi.dtype)))]
        return A.call(self.np("zeros"), [A.parse_expr(repr(tuple(vi.shape)))], kws)

    def tangent_atom(self, node: gast.expr) -> gast.expr:
        """The tangent of an atom: dot_x, or a zero."""
        if isinstance(node, gast.Name):
            if node.id in self.varied:
                return A.load(self.dot(node.id))
            if node.id in self.env.local_names:
                return self.zero_of(node.id)
        return A.const(0.0)

    def error(self, stmt, msg, hint=None, cls=UnsupportedCallError):
        return self.info.error(cls, msg, getattr(stmt, "s2s_origin", stmt), hint=hint)

    # -- the function
    def build(self, name_suffix: str = "_jvp", tangent_only: bool = False) -> gast.FunctionDef:
        body = self.trace.node.body
        forward = body[:-1]
        out = self.trace.output
        stmts: List[gast.stmt] = []
        for p in self.trace.params:
            if p in self.varied and p not in self.wrt:
                s = A.assign(self.dot(p), self.zero_of(p))
                s.s2s_comment = "%s is overwritten by a value that depends on %s" % (
                    p, ", ".join(self.wrt))
                stmts.append(s)
        stmts += self.statements(forward)
        tan_out = A.load(self.dot(out)) if out in self.varied else self.zero_of(out)
        vi = self.shapes.get(out) if self.shapes is not None else None
        if out in self.varied and vi is not None and vi.is_array \
                and self.dot(out) not in self.private:
            # the result may be the caller's tangent or a read-only broadcast: copy it
            tan_out = A.call(self.np("array"), [tan_out])
        fn = copy.copy(self.trace.node)
        fn.args = copy.copy(fn.args)
        fn.args.args = list(fn.args.args) + [gast.Name(id=self.dot(p), ctx=gast.Param(),
                                                       annotation=None, type_comment=None)
                                             for p in self.wrt]
        fn.args.defaults = []
        fn.name = self.info.function_name.replace("<lambda>", "lambda_") + name_suffix
        wrt = self.wrt[0] if len(self.wrt) == 1 else "(%s)" % ", ".join(self.wrt)
        fn.body = ([Comment("Forward pass, with tangents (dot_v = dv/d%s . tangent)" % wrt)]
                   + stmts + [gast.Return(value=tan_out if tangent_only else gast.Tuple(
                       elts=[A.load(out), tan_out], ctx=gast.Load()))])
        return fn

    def statements(self, stmts) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        for s in stmts:
            out.extend(self.statement(s))
        return out

    def statement(self, s) -> List[gast.stmt]:
        if isinstance(s, gast.Assign):
            try:
                return self.assign(s)
            except S2SGradError:
                raise
            except RULE_FAILURES as exc:    # never a raw error from inside a rule
                raise rule_failure(self.info, s, _source(s), exc, "tangent") from exc
        if isinstance(s, gast.Expr):
            return self.expr_statement(s)
        if isinstance(s, gast.If):
            before = set(self.private)
            body = self.statements(s.body)
            after_body = self.private
            self.private = set(before)
            orelse = self.statements(s.orelse)
            self.private = after_body & self.private
            node = gast.If(test=s.test, body=body or [gast.Pass()], orelse=orelse)
            return [A.copy_origin(node, s)]
        if isinstance(s, (gast.For, gast.While)):
            zipped = None
            if isinstance(s, gast.For) and differentiable_loads(s.iter) & self.varied:
                if not (isinstance(s.iter, gast.Name) and isinstance(s.target, gast.Name)):
                    raise self.error(s, "forward mode cannot loop over this differentiated "
                                     "sequence", cls=UnsupportedSyntaxError,
                                     hint="loop over a list variable (for w in ws:) or over "
                                          "indices (for i in range(len(xs)): x = xs[i])")
                # for w in ws:  ->  for w, dot_w in zip(ws, dot_ws):
                self.varied.add(s.target.id)
                zipped = (gast.Tuple(elts=[A.store(s.target.id),
                                           A.store(self.dot(s.target.id))], ctx=gast.Store()),
                          A.call(A.load("zip"), [A.load(s.iter.id),
                                                 A.load(self.dot(s.iter.id))]))
            assigned = {self.dots[n] for n in A.names_stored(gast.Module(body=s.body,
                                                                          type_ignores=[]))
                        if n in self.dots}
            self.private -= assigned
            self.private -= {self.dot(n) for n in self.varied
                             if n in A.names_stored(gast.Module(body=s.body, type_ignores=[]))}
            before = set(self.private)
            body = self.statements(s.body)
            self.private &= before
            node = copy.copy(s)
            node.body = body or [gast.Pass()]
            node.orelse = self.statements(s.orelse)
            if zipped is not None:
                node.target, node.iter = zipped
            return [node]
        return [s]

    # -- statements
    def expr_statement(self, s: gast.Expr) -> List[gast.stmt]:
        if grad_of_marker(s, self.env) is not None:
            return []           # grad_of blocks act on the backward pass only
        app = _append_call(s)
        if app is not None and app[0] in self.varied:
            lst, value = app
            call = A.call(gast.Attribute(value=A.load(self.dot(lst)), attr="append",
                                         ctx=gast.Load()), [self.tangent_atom(value)])
            return [s, gast.Expr(value=call)]
        add_at = _add_at_call(s, self.env)
        if add_at is not None and A.root_name(add_at.args[0]) in self.varied:
            buf = add_at.args[0]
            if not isinstance(buf, gast.Name):
                raise self.error(s, "np.add.at into an expression is not supported in forward mode")
            out = [s] + self.make_private(buf.id)
            if isinstance(add_at.args[2], gast.Name) and add_at.args[2].id in self.varied:
                call = copy.deepcopy(add_at)
                call.args = [A.load(self.dot(buf.id)), add_at.args[1],
                             A.load(self.dot(add_at.args[2].id))]
                out.append(gast.Expr(value=call))
            return out
        if A.names_loaded(s) & self.varied:
            for node in gast.walk(s):
                if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                        isinstance(node.func.value, gast.Name) and \
                        node.func.value.id in self.varied and \
                        node.func.attr in ("extend", "insert", "__setitem__", "fill", "sort"):
                    raise self.error(s, "in-place method '%s' on a differentiated value is not "
                                     "supported in forward mode" % node.func.attr)
        return [s]

    def make_private(self, v: str) -> List[gast.stmt]:
        d = self.dot(v)
        if d in self.private:
            return []
        self.private.add(d)
        s = A.assign(d, A.call(self.np("array"), [A.load(d)]))
        s.s2s_comment = "own copy: %s is updated in place" % d
        return [s]

    def set_tangent(self, r: str, value: gast.expr) -> gast.Assign:
        d = self.dot(r)
        value = SimplifyTangent().visit(value)
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.List)) or (
                isinstance(value, gast.Call) and not is_view_call(value)):
            self.private.add(d)
        else:
            self.private.discard(d)
        return A.assign(d, value)

    def assign(self, s: gast.Assign) -> List[gast.stmt]:
        tgt = s.targets[0]
        if isinstance(tgt, gast.Name):
            r = tgt.id
            if r not in self.varied:
                return [s]
            reads = A.names_loaded(s.value)
            result_name = r
            if r in reads:
                result_name = self.names.fresh(r + "_new")
            temps, value = self.tangent_of(s, r, A.load(result_name))
            if self.realify(s, r):
                value = A.call(self.np("real"), [value])
            tangent = self.set_tangent(r, value)
            if r not in reads:
                return [s] + temps + [tangent]
            used = A.names_loaded(gast.Module(body=temps + [tangent], type_ignores=[]))
            if result_name not in used:
                return temps + [tangent, s]
            first = A.assign(result_name, s.value)
            last = A.assign(r, A.load(result_name))
            return [A.copy_origin(first, s)] + temps + [tangent, last]
        if isinstance(tgt, (gast.Subscript, gast.Attribute)):
            root = A.root_name(tgt)
            if root not in self.varied:
                return [s]
            if not isinstance(tgt.value, gast.Name) or isinstance(tgt, gast.Attribute):
                raise self.error(s, "forward mode supports item assignment only on a plain "
                                 "variable (x[i] = v)", cls=UnsupportedSyntaxError)
            out = [s] + self.make_private(root)
            new_tgt = copy.deepcopy(tgt)
            new_tgt.value = A.load(self.dot(root))
            out.append(A.assign(new_tgt, self.tangent_atom(s.value)))
            return out
        if isinstance(tgt, (gast.Tuple, gast.List)):
            stored = A.names_stored(tgt)
            if not stored & self.varied:
                return [s]
            mapping = {n: self.dot(n) for n in stored}
            for n in stored:
                self.private.discard(self.dot(n))
            new_tgt = A.rename(copy.deepcopy(tgt), mapping)
            if isinstance(s.value, gast.Name) and s.value.id in self.varied:
                return [s, A.assign(new_tgt, A.load(self.dot(s.value.id)))]
            if isinstance(s.value, (gast.Tuple, gast.List)):
                value = type(s.value)(elts=[self.tangent_atom(e) for e in s.value.elts],
                                      ctx=gast.Load())
                return [s, A.assign(new_tgt, value)]
            return [s] + [A.assign(self.dot(n), self.zero_of(n)) for n in sorted(stored)]
        return [s]

    # -- the tangent of one right-hand side
    def tangent_of(self, s, r: str, result: gast.expr):
        """(temporary statements, tangent expression) for ``r = s.value``."""
        value = s.value
        op = classify(value, self.env)
        if op.kind == "copy":
            return [], self.tangent_atom(op.args[0])
        if op.kind == "constant":
            return [], self.zero_of(r)
        if op.kind == "rule" and user_receiver_class(s, self.shapes) is not None:
            raise unresolved_method_error(s, user_receiver_class(s, self.shapes), self.info,
                                          UnsupportedCallError)
        if op.kind == "rule" and self.shapes is not None and not complex_supported(op.rule) \
                and any(self.kind_of(n) == "c" for n in A.names_loaded(value) | {r}):
            raise self.error(s, "'%s' is not differentiated for complex values" % op.label,
                             hint="docs/complex.md lists the functions differentiated for "
                                  "complex values")
        key = rule_key_for(value, op)
        entry = lookup_tangent(key) if key is not None else None
        if isinstance(entry, Linear):
            return [], self.linear_tangent(s, op, entry, r)
        if isinstance(entry, Rule):
            return self.template_tangent(s, op, entry, result, r)
        if op.kind == "rule" and op.rule.kind == "elementwise":
            return self.elementwise_tangent(s, op, result, r)
        if op.kind == "rule":
            return transpose_vjp_rule(self, s, op, result, r)
        # unknown operations that forward mode can still follow
        if isinstance(value, (gast.Tuple, gast.List)):
            return [], type(value)(elts=[self.tangent_atom(e) for e in value.elts],
                                   ctx=gast.Load())
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
                value.func.attr == "pop" and isinstance(value.func.value, gast.Name) and \
                value.func.value.id in self.varied:
            call = copy.deepcopy(value)
            call.func.value = A.load(self.dot(value.func.value.id))
            return [], call
        raise ReverseBuilder.unsupported(self, op, s)

    def linear_tangent(self, s, op: Op, entry: Linear, r: str) -> gast.expr:
        value = s.value
        args = list(op.args)
        linear_nodes = [args[i] for i in entry.positions if i < len(args)]
        for node in args + [v for _, v in op.keywords]:
            if any(node is l for l in linear_nodes):
                if isinstance(node, (gast.List, gast.Tuple)) and all(
                        isinstance(e, (gast.Name, gast.Constant)) or
                        not differentiable_loads(e) & self.varied for e in node.elts):
                    continue
                if not isinstance(node, gast.Name) and differentiable_loads(node) & self.varied:
                    raise self.error(s, "forward mode: a differentiated value inside a "
                                     "compound argument of '%s' is not supported" % op.label)
                continue
            # other arguments (shapes, axes, a helper's ``like``) carry no tangent
        terms = []
        for node in linear_nodes:
            if isinstance(node, gast.Name) and node.id in self.varied:
                terms.append(_replace_node(value, node, A.load(self.dot(node.id))))
            elif isinstance(node, (gast.List, gast.Tuple)) and \
                    differentiable_loads(node) & self.varied:
                # linear in a sequence of arrays (concatenate, stack): one term
                seq = type(node)(elts=[self.tangent_atom(e) if isinstance(e, gast.Name)
                                       else A.call(self.np("zeros_like"), [e], [
                                           ("dtype", A.load("float"))])
                                       for e in node.elts], ctx=gast.Load())
                terms.append(_replace_node(value, node, seq))
        if not terms:
            return self.zero_of(r)
        return _sum(terms)

    def elementwise_tangent(self, s, op: Op, result: gast.expr, r: str):
        rule = op.rule
        binding = bind(rule, op.args, op.keywords, self._fail(s), op.obj)
        diff = rule.differentiable_params()
        temps: List[gast.stmt] = []
        terms: List[gast.expr] = []
        for p in rule.params:
            node = binding.get(p)
            if not (isinstance(node, gast.Name) and node.id in self.varied and p in diff):
                continue
            pieces = instantiate(rule, binding, result, A.load(self.dot(node.id)), [p],
                                 self.names.fresh,
                                 lambda n: self.b.resolve(n, rule, self.names.fresh),
                                 self.kind_of)
            for piece in pieces:
                if isinstance(piece, Temp):
                    temps.append(piece.stmt)
                else:
                    terms.append(self.specialize(piece.value))
        if not terms:
            return temps, self.zero_of(r)
        expr = _sum(terms)
        return temps, self.broadcast_to_result(expr, op, r, result)

    def broadcast_to_result(self, expr: gast.expr, op: Op, r: str,
                            result: gast.expr) -> gast.expr:
        """Elementwise tangents take the result's shape (``dot_x`` may be smaller)."""
        rs = self.shapes.shape(r) if self.shapes is not None else None
        if rs is not None:
            es = self.expr_shape(expr)
            if es == tuple(rs):
                return expr
            if es is None and all(isinstance(a, gast.Name) and a.id in self.varied
                                  for a in op.args if not isinstance(a, gast.Constant)):
                return expr
            return A.call(self.np("broadcast_to"), [expr, A.parse_expr(repr(tuple(rs)))])
        if all(a.id in self.varied for a in op.args if isinstance(a, gast.Name)):
            return expr
        return A.call(self.np("broadcast_to"), [expr, A.call(self.np("shape"),
                                                             [copy.deepcopy(result)])])

    def expr_shape(self, expr):
        inv = {d: v for v, d in self.dots.items()}
        shapes = []
        for n in A.names_loaded(expr):
            name = inv.get(n, n)
            if n == self.b.numpy_name:
                continue
            sh = self.shapes.shape(name) if self.shapes is not None else None
            if sh is None:
                return None
            shapes.append(tuple(sh))
        try:
            return tuple(np.broadcast_shapes(*shapes)) if shapes else ()
        except ValueError:
            return None

    def template_tangent(self, s, op: Op, trule: Rule, result: gast.expr, r: str):
        binding = bind(trule, op.args, op.keywords, self._fail(s))
        static_env = {k: static_value(v) for k, v in binding.items()}
        static_env = {k: v for k, v in static_env.items() if v is not NOT_STATIC}
        mapping: Dict[str, gast.expr] = dict(binding)
        mapping[trule.result_param] = result
        inactive = set()
        for p in trule.params:
            node = binding.get(p)
            ph = "__tangent_" + p
            if isinstance(node, gast.Name) and node.id in self.varied:
                mapping[ph] = A.load(self.dot(node.id))
            else:
                if node is not None and A.names_loaded(node) & self.varied:
                    raise self.error(s, "forward mode: '%s' is not differentiable in argument "
                                     "%r" % (op.label, p))
                inactive.add(ph)

        class Placeholders(gast.NodeTransformer):
            def visit_Subscript(self, node):
                if isinstance(node.value, gast.Name) and node.value.id == "tangent" and \
                        isinstance(node.slice, gast.Name):
                    return A.load("__tangent_" + node.slice.id)
                return self.generic_visit(node)

        def subst(node):
            node = Placeholders().visit(copy.deepcopy(node))
            return _Substitute(mapping, None, trule.result_param,
                               lambda n: self.b.resolve(n, trule, self.names.fresh),
                               static_env).visit(node)

        temps: List[gast.stmt] = []
        terms: List[gast.expr] = []

        def walk(stmts):
            for st in stmts:
                if isinstance(st, gast.If):
                    walk(st.body if self.static_test(st.test, static_env, trule, s)
                         else st.orelse)
                elif isinstance(st, gast.Expr):
                    continue
                elif isinstance(st, (gast.Assign, gast.AugAssign)):
                    tgt = st.targets[0] if isinstance(st, gast.Assign) else st.target
                    if isinstance(tgt, gast.Subscript) and isinstance(tgt.value, gast.Name) \
                            and tgt.value.id == "tangent":
                        raw = Placeholders().visit(copy.deepcopy(st.value))
                        if A.names_loaded(raw) & inactive:
                            continue
                        terms.append(subst(st.value))
                    elif isinstance(tgt, gast.Name):
                        new = self.names.fresh(tgt.id)
                        temps.append(A.assign(new, subst(st.value)))
                        mapping[tgt.id] = A.load(new)
        walk(trule.tree.body)
        if not terms:
            return [], self.zero_of(r)
        expr = _sum(terms)
        needed = A.names_loaded(expr)
        kept = []
        for t in reversed(temps):
            if t.targets[0].id in needed:
                kept.append(t)
                needed |= A.names_loaded(t.value)
        kept.reverse()
        return [self._spec_stmt(t) for t in kept], self.specialize(expr)

    def static_test(self, test: gast.expr, static_env: Dict[str, object], trule: Rule, s
                    ) -> bool:
        """A tangent template's ``if``, decided at this call site: parameters with a
        constant argument have its value, the others may only be tested with
        ``is_static(p)`` or ``p is None`` (an argument given is not None)."""
        # (is_complex: unknown here, so the complex form -- also right for real values)
        env: Dict[str, object] = {"is_static": lambda v: not isinstance(v, _Dynamic),
                                  "is_complex": lambda v: isinstance(v, (_Dynamic, complex))}
        for k in A.names_loaded(test):
            if k not in ("is_static", "is_complex"):
                env[k] = static_env[k] if k in static_env else _Dynamic(k)
        expr = gast.gast_to_ast(gast.Expression(body=test))
        try:
            return bool(eval(compile(ast.fix_missing_locations(expr), "<tangent>", "eval"),
                             {"__builtins__": {}}, env))
        except _DynamicUse as exc:
            raise self.error(s, "forward mode: the tangent rule '%s' tests %r, which is not "
                             "a constant at this call site" % (trule.label, exc.name),
                             cls=RuleError) from None

    def kind_of(self, name: str):
        """The dtype kind the probe saw for ``name`` (None: unknown)."""
        return self.shapes.kind(name) if self.shapes is not None else None

    def realify(self, s, r: str) -> bool:
        """A real result of a statement with complex values: its tangent is the real
        part of the (R-linear) tangent expression (``abs(z)``: Re(conj(z) dz) / |z|)."""
        if self.shapes is None or self.kind_of(r) not in ("f", "i", "u", "b"):
            return False
        return any(self.kind_of(n) == "c" for n in A.names_loaded(s.value))

    def _spec_stmt(self, t):
        t.value = self.specialize(t.value)
        return t

    def specialize(self, expr):
        return specialize(expr, self)

    def _fail(self, s):
        def fail(msg, hint):
            return self.error(s, msg, hint)
        return fail


class SimplifyTangent(gast.NodeTransformer):
    """Identities on a tangent expression (always floating, so ``e * 1.0 -> e`` is
    safe there -- it is not on primal code, where ``1.0 * mask`` makes floats)."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        one = lambda n: isinstance(n, gast.Constant) and n.value == 1 and \
            not isinstance(n.value, bool)
        zero = lambda n: isinstance(n, gast.Constant) and n.value == 0 and \
            not isinstance(n.value, bool)
        if isinstance(node.op, gast.Mult):
            if one(node.right) and _mentions_tangent(node.left):
                return node.left
            if one(node.left) and _mentions_tangent(node.right):
                return node.right
        if isinstance(node.op, gast.Div) and one(node.right) and _mentions_tangent(node.left):
            return node.left
        if isinstance(node.op, (gast.Add, gast.Sub)) and zero(node.right) and \
                _mentions_tangent(node.left):
            return node.left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.UnaryOp) and \
                isinstance(node.operand.op, gast.USub):
            return node.operand.operand
        return node


def _mentions_tangent(node) -> bool:
    return any(n.startswith("dot_") for n in A.names_loaded(node))


def _call_name(call: gast.Call) -> str:
    f = call.func
    if isinstance(f, gast.Attribute):
        return f.attr
    return getattr(f, "id", "")


def _sum(terms: List[gast.expr]) -> gast.expr:
    # x * x gives dot_x * x twice: write 2.0 * dot_x * x
    counted: List[list] = []
    for t in terms:
        key = gast.dump(t)
        for c in counted:
            if c[0] == key:
                c[2] += 1
                break
        else:
            counted.append([key, t, 1])
    terms = [t if k == 1 else _scaled(float(k), t) for _, t, k in counted]
    expr = terms[0]
    for t in terms[1:]:
        negated, t = _split_sign(t)
        expr = gast.BinOp(left=expr, op=gast.Sub() if negated else gast.Add(), right=t)
    return expr


def _scaled(k: float, term: gast.expr) -> gast.expr:
    """k * term, with k as the leftmost factor of a product (2.0 * dot_x * x)."""
    if isinstance(term, gast.BinOp) and isinstance(term.op, (gast.Mult, gast.Div)):
        return gast.BinOp(left=_scaled(k, term.left), op=term.op, right=term.right)
    return gast.BinOp(left=A.const(k), op=gast.Mult(), right=term)


def _split_sign(term: gast.expr):
    """(True, a * b) for -a * b (the leftmost factor negated), else (False, term)."""
    if isinstance(term, gast.UnaryOp) and isinstance(term.op, gast.USub):
        return True, term.operand
    if isinstance(term, gast.BinOp) and isinstance(term.op, (gast.Mult, gast.Div)):
        neg, left = _split_sign(term.left)
        if neg:
            return True, gast.BinOp(left=left, op=term.op, right=term.right)
    return False, term


def _replace_node(tree: gast.expr, target: gast.expr, new: gast.expr) -> gast.expr:
    """A copy of ``tree`` with the node ``target`` (by identity) replaced by ``new``."""
    memo: dict = {}
    out = copy.deepcopy(tree, memo)
    twin = memo[id(target)]
    if out is twin:
        return new

    class R(gast.NodeTransformer):
        def visit(self, node):
            if node is twin:
                return copy.deepcopy(new)
            return super().visit(node)
    return R().visit(out)


def name_is_grad(fn) -> bool:
    return getattr(fn, "__name__", "").endswith("_grad")


@gc_paused
def generate_jvp(fn, wrt: Sequence[int], example_args=None, tangent_only: bool = False):
    """Parse, trace, probe and emit the forward-mode function for ``fn``."""

    fe = front_end(fn, wrt, example_args)
    trace, wrt_names, env, shapes, bindings = fe.trace, fe.wrt, fe.env, fe.shapes, fe.bindings
    fb = ForwardBuilder(trace, wrt_names, env, shapes, bindings)
    node = fb.build("_hvp" if tangent_only and name_is_grad(fn) else
                    "_tangent" if tangent_only else "_jvp", tangent_only)
    ret = node.body[-1]
    helpers = set(bindings.helper_names.values())
    node.body = node.body[:1] + eliminate_dead_forward(node.body[1:-1], A.names_loaded(ret),
                                                       env, helpers) + [ret]
    node.body = flatten(node.body)     # (primal statements are left exactly as traced)
    node = protect_arguments(fe, node)
    node = lazy_arrays(fe, fb.dots, node)
    return compile_generated(fe, emit_function(node), node.name,
                             "Forward mode (JVP) of %s, generated by s2sgrad."
                             % trace.info.function_name)

