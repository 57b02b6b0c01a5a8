"""Pass 3: what each primal statement is, and which values carry gradients.

``classify`` tells, for the right-hand side of one trace statement, which
derivative rule applies and which atoms feed it.  ``activity`` runs the classic
varied/useful analysis: a value is *active* when it depends on a ``wrt`` input
(varied) and the output depends on it (useful); only active values get adjoints.
"""
from __future__ import annotations

import operator as _operator
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.effects import impure_call
from s2sgrad.analysis.names import _MISSING, Namespace, appended_list, differentiable_loads  # noqa: F401
from s2sgrad.rules import (NONDIFFERENTIABLE, Rule, load_optional_families, lookup,
                           lookup_attribute, lookup_method, lookup_operator)
from s2sgrad.rules.templates import bind


@dataclass
class Op:
    """The primitive operation on a statement's right-hand side."""
    kind: str                      # 'rule', 'copy', 'constant', 'unknown'
    rule: Optional[Rule] = None
    args: List[gast.expr] = field(default_factory=list)
    keywords: List[Tuple[str, gast.expr]] = field(default_factory=list)
    label: str = ""
    obj: Any = None
    # the rule's parameters bound to the call (kept by differentiable_inputs)
    binding: Optional[Dict[str, gast.expr]] = field(default=None, repr=False, compare=False)

    def inputs(self) -> List[gast.expr]:
        return list(self.args) + [v for _, v in self.keywords]

    def differentiable_inputs(self) -> Set[str]:
        """Names whose gradient this operation can propagate to."""
        if self.kind in ("copy", "pack"):
            return {a.id for a in self.args if isinstance(a, gast.Name)}
        if self.kind != "rule":
            return set()
        try:
            binding = bind(self.rule, self.args, self.keywords, lambda m, h: ValueError(m),
                           self.obj)
        except ValueError:
            # the call does not fit the rule (max(xs) for a rule of max(a, b)): keep its
            # inputs active so the reverse pass reports it instead of a silent zero
            return {n for a in self.inputs() for n in A.names_loaded(a)}
        self.binding = binding
        out = set()
        for p in self.rule.differentiable_params():
            node = binding.get(p)
            if node is None:
                continue
            if node.__class__ is gast.Name:      # (most arguments are atoms)
                out.add(node.id)
                continue
            out |= {n.id for n in A.nodes(node) if isinstance(n, gast.Name)}
        return out


class Environment(Namespace):
    """A function's namespace seen from inside it: its own locals shadow everything."""

    def __init__(self, globals_: Dict[str, Any], closure: Dict[str, Any], local_names: Set[str]):
        super().__init__(globals_, closure)
        self.local_names = local_names
        load_optional_families()     # SciPy rules, if the code being compiled imported SciPy

    def resolve(self, path: Optional[str]):
        if path and path.split(".", 1)[0] in self.local_names:
            return _MISSING
        return super().resolve(path)


def classify(expr: gast.expr, env: Environment) -> Op:
    if isinstance(expr, gast.Name):
        if expr.id in env.local_names:
            return Op("copy", args=[expr], label="copy")
        return Op("constant", label=expr.id)
    if isinstance(expr, gast.Constant):
        return Op("constant", label="constant")
    if isinstance(expr, gast.BinOp):
        rule = lookup_operator(type(expr.op))
        label = type(expr.op).__name__
        if rule is None:
            return Op("constant", args=[expr.left, expr.right], label=label)
        return Op("rule", rule, [expr.left, expr.right], label=label)
    if isinstance(expr, gast.UnaryOp):
        rule = lookup_operator(type(expr.op))
        if rule is None:
            return Op("constant", args=[expr.operand], label=type(expr.op).__name__)
        return Op("rule", rule, [expr.operand], label=type(expr.op).__name__)
    if isinstance(expr, (gast.Compare, gast.BoolOp)):
        return Op("constant", label="comparison")
    if isinstance(expr, (gast.Tuple, gast.List)):
        # (a, b) / [a, b]: its gradient is the sequence of the elements' gradients
        return Op("pack", args=list(expr.elts), label=type(expr).__name__.lower())
    if isinstance(expr, gast.Dict) and all(isinstance(k, gast.Constant) for k in expr.keys):
        # {'a': a, 'b': b}: its gradient is the dict of the values' gradients
        return Op("pack", args=list(expr.values), label="dict", obj=list(expr.keys))
    if isinstance(expr, gast.Subscript):
        path = A.dotted(expr.value)
        if path and A.root_name(expr.value) not in env.local_names:
            # np.r_[a, b] / np.c_[a, b]: a rule for the indexed object itself
            obj = env.resolve(path)
            rule = lookup(obj) if obj is not _MISSING else None
            elts = expr.slice.elts if isinstance(expr.slice, gast.Tuple) else [expr.slice]
            if isinstance(rule, Rule) and any(
                    isinstance(e, gast.Slice) or (isinstance(e, gast.Constant)
                                                  and isinstance(e.value, str)) for e in elts):
                # slice notation the trace did not spell out, or a directive string
                # ('0,2', 'c'): not joined by the rule, and no silent zero either
                return Op("unknown", args=list(elts), label=path + "[...] with a slice or a "
                          "directive string")
            if isinstance(rule, Rule):
                return Op("rule", rule, list(elts), label=path + "[]", obj=obj)
        return Op("rule", lookup(_operator.getitem), [expr.value, expr.slice], label="getitem")
    if isinstance(expr, gast.Attribute):
        receiver_local = A.root_name(expr) in env.local_names
        if receiver_local:
            rule = lookup_attribute(expr.attr)
            if rule is NONDIFFERENTIABLE:
                return Op("constant", label="." + expr.attr)
            if rule is None:
                return Op("unknown", args=[expr.value], label="." + expr.attr)
            return Op("rule", rule, [expr.value], label="." + expr.attr)
        return Op("constant", label=A.dotted(expr) or "attribute")
    if isinstance(expr, gast.Call):
        keywords = [(k.arg, k.value) for k in expr.keywords]
        func = expr.func
        if isinstance(func, gast.Attribute) and A.root_name(func) in env.local_names:
            rule = lookup_method(func.attr)
            label = "." + func.attr + "()"
            if rule is NONDIFFERENTIABLE:
                return Op("constant", label=label)
            if rule is None:
                return Op("unknown", args=[func.value] + list(expr.args), keywords=keywords,
                          label=label)
            return Op("rule", rule, [func.value] + list(expr.args), keywords, label=label)
        path = A.dotted(func)
        obj = env.resolve(path) if path else _MISSING
        label = path or "call"
        if obj is _MISSING:
            # a local callable (an object, a function value) depends on what built it
            callee = [func] if A.root_name(func) in env.local_names else []
            return Op("unknown", args=callee + list(expr.args), keywords=keywords,
                      label=label)
        rule = lookup(obj)
        if rule is NONDIFFERENTIABLE:
            return Op("constant", label=label, obj=obj)
        if rule is None:
            return Op("unknown", args=list(expr.args), keywords=keywords, label=label, obj=obj)
        return Op("rule", rule, list(expr.args), keywords, label=label, obj=obj)
    return Op("unknown", args=[expr], label=type(expr).__name__)


def pure_assignment(stmt, env: Environment, helpers: Set[str] = frozenset()) -> bool:
    """Is ``stmt`` an assignment to a name whose value may be dropped when nobody reads
    the name?  Every call in it must be free of effects by the table
    (``effects.impure_call``: output, random draws, writes in place) and be a call the
    compiler understands (a rule or a constant: ``classify``), or one of ``helpers``
    (the generated code's runtime helpers); anything else is kept."""
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return False
    for node in A.nodes(stmt.value):
        if node.__class__ is gast.Call:
            if impure_call(node, env, helpers):
                return False
            if isinstance(node.func, gast.Name) and node.func.id in helpers:
                continue
            if classify(node, env).kind not in ("rule", "constant"):
                return False
    return True


def assigned_value(stmt) -> Optional[Tuple[List[str], gast.expr]]:
    """(target names, value) of a trace assignment."""
    if isinstance(stmt, gast.Assign):
        tgt = stmt.targets[0]
        if isinstance(tgt, gast.Name):
            return [tgt.id], stmt.value
        return sorted(A.names_stored(tgt)) or [A.root_name(tgt)], stmt.value
    return None


def _assignments(body):
    for stmt in body:
        if isinstance(stmt, gast.Assign):
            yield stmt
        elif isinstance(stmt, gast.Expr) and appended_list(stmt) is not None:
            # ys.append(v): for activity, ys depends on v and on its old items
            ys = appended_list(stmt)
            yield gast.Assign(targets=[A.store(ys)], type_comment=None, value=gast.List(
                elts=[stmt.value.args[0], A.load(ys)], ctx=gast.Load()))
        for field_name in ("body", "orelse"):
            sub = getattr(stmt, field_name, None)
            if isinstance(sub, list):
                yield from _assignments(sub)


def varied_fixpoint(edges, seeds) -> Set[str]:
    """Forward activity, the one fixed point every mode runs: ``seeds`` (the wrt
    inputs) are varied, and a statement whose inputs meet the varied names makes its
    outputs varied, until nothing changes (a loop carries values to the statements
    before it).  ``edges``: (inputs, outputs) sets, one per statement; what counts as
    an input is the mode's word (the reverse rules' differentiable parameters, the
    tangent rules', the names an expression reads differentiably)."""
    varied = set(seeds)
    changed = True
    while changed:
        changed = False
        for deps, outs in edges:
            if not deps.isdisjoint(varied) and not outs <= varied:
                varied |= outs
                changed = True
    return varied


def activity(body: List[gast.stmt], wrt: Sequence[str], output: str, env: Environment,
             classified: Optional[Dict[int, Op]] = None) -> Set[str]:
    """Names that depend on a wrt input and that the output depends on.
    (``classified``: the caller's ``classify`` of the body's assignments, by id.)"""
    return varied_and_active(body, wrt, output, env, classified)[1]


def varied_and_active(body: List[gast.stmt], wrt: Sequence[str], output: str,
                      env: Environment, classified: Optional[Dict[int, Op]] = None
                      ) -> Tuple[Set[str], Set[str]]:
    """(names that depend differentiably on a wrt input, those of them the output
    depends on)."""
    # an unknown operation depends on what the primal trace says can carry a gradient
    # (x.shape, len(x), comparisons cannot), as in normalize
    stmts = list(_assignments(body))
    known = classified or {}
    ops = {id(s): known.get(id(s)) or classify(s.value, env) for s in stmts}
    targets = {id(s): assigned_value(s)[0] for s in stmts}
    # each statement's inputs, once (the fixed points below revisit every statement)
    # (the whole value: a call of a local value -- f(a)(x) -- depends on f(a) too)
    inputs = {id(s): (ops[id(s)].differentiable_inputs() if ops[id(s)].kind != "unknown"
                      else differentiable_loads(s.value))
              - getattr(s, "s2s_no_gradient_to", frozenset())     # see ad/shift_invariance.py
              for s in stmts}
    # obj.cache = v where the function never reads an attribute of that name back:
    # an effect for the caller to see, no gradient path (objects.py)
    read_back = _attributes_read(body)
    stmts = [s for s in stmts if not _write_only_attribute(s, read_back)]
    varied = varied_fixpoint(
        [(inputs[id(s)] | A.names_loaded(s.value) if isinstance(s.targets[0], gast.Subscript)
          else inputs[id(s)], set(targets[id(s)])) for s in stmts], wrt)
    useful = {output}
    changed = True
    while changed:
        changed = False
        for s in reversed(stmts):       # (uses come after definitions: one sweep back)
            if not set(targets[id(s)]) & useful:
                continue
            deps = inputs[id(s)]
            if isinstance(s.targets[0], gast.Subscript):
                deps = deps | A.names_loaded(s.value) | {A.root_name(s.targets[0])}
            for d in deps & varied:
                if d not in useful:
                    useful.add(d)
                    changed = True
    return varied, varied & useful


def _proved_without_gradient(shapes, name: str) -> bool:
    """Did the probe see ``name`` hold only integers, bools, strings or None?"""
    if shapes is None:
        return False
    vi = shapes.get(name)
    if vi is None:
        return shapes.is_inert(name)
    dt = vi.dtype
    if isinstance(dt, type):
        return issubclass(dt, (bool, int, str)) and not issubclass(dt, float)
    return getattr(dt, "kind", "f") in "biuUSM"


def user_receiver_class(stmt, shapes):
    """The class of the user's object whose method ``stmt`` calls or whose attribute it
    reads (``obj.sum(x)``, ``obj.T``), as the probe saw it, else None: such a call is the
    user's method (one the inliner did not resolve), never the ndarray rule of the same
    name."""
    value = getattr(stmt, "value", None)
    if shapes is None or not hasattr(shapes, "foreign_class"):
        return None
    node = value.func if isinstance(value, gast.Call) else value
    if not isinstance(node, gast.Attribute) or not isinstance(node.value, gast.Name):
        return None
    return shapes.foreign_class(node.value.id)


def unresolved_method_error(stmt, cls, info, fail_class):
    value = stmt.value
    node = value.func if isinstance(value, gast.Call) else value
    what = "method .%s()" % node.attr if isinstance(value, gast.Call) \
        else "attribute .%s" % node.attr
    return info.error(
        fail_class, "cannot differentiate '%s%s': '%s' is a %s object whose %s s2sgrad did "
        "not resolve here (it is not an array: NumPy's rule of the same name does not "
        "apply)" % (A.dotted(node) or node.attr, "(...)" if isinstance(value, gast.Call)
                    else "", node.value.id, cls.__name__, what),
        getattr(stmt, "s2s_origin", stmt),
        hint="methods (and __call__) are inlined on objects the function receives or reads "
             "from their attributes, lists and dicts; an object built inside the function "
             "(or returned by a function), chosen at run time, or taken from a list of "
             "mixed classes with a computed index, is not resolved")


def check_declared_constants(body: List[gast.stmt], ops: Dict[int, Op], varied: Set[str],
                             shapes, info, fail_class) -> None:
    """A rule's parameter without a gradient (``subscripts`` of einsum, an ``axis``)
    that receives a value depending differentiably on a wrt input is an error unless
    the probe saw an integer, bool or string there: the gradient through it would be
    dropped silently (a misread call, such as einsum's sublist form read as the
    subscripts form, or a rule that does not differentiate that argument)."""
    for s in _assignments(body):
        op = ops.get(id(s))
        if op is None or op.kind != "rule" or \
                (getattr(op.obj, "__module__", None) or "").startswith("s2sgrad.runtime"):
            # (the runtime helpers' rules read the calls s2sgrad writes itself, whose
            # shape-only and piecewise-constant arguments they declare on purpose)
            continue
        try:
            binding = op.binding if op.binding is not None else bind(
                op.rule, op.args, op.keywords, lambda m, h: ValueError(m), op.obj)
        except ValueError:
            continue            # (the reverse pass reports the call itself)
        receiver_class = user_receiver_class(s, shapes)
        if receiver_class is not None and (differentiable_loads(s.value) & varied):
            raise unresolved_method_error(s, receiver_class, info, fail_class)
        diff = op.rule.differentiable_params()
        skip = getattr(s, "s2s_no_gradient_to", frozenset())
        for p, node in binding.items():
            if p in diff or p in op.rule.zero_gradient:
                continue
            for n in sorted(differentiable_loads(node) if node.__class__ is not gast.Name
                            else {node.id}):
                if n in varied and n not in skip and not _proved_without_gradient(shapes, n):
                    refusal = op.rule.refusal(p)
                    if refusal is not None:      # the rule's own word on that parameter
                        raise info.error(fail_class, "cannot differentiate this call to "
                                         "'%s': %s" % (op.label, refusal),
                                         getattr(s, "s2s_origin", s),
                                         hint="rewrite the call, or register a derivative "
                                              "with @s2sgrad.adjoint")
                    raise info.error(
                        fail_class, "the derivative rule of '%s' gives its parameter %r no "
                        "gradient, but it receives %r, which depends on the differentiated "
                        "input (and is not an integer): its gradient would be dropped"
                        % (op.label, p, n),
                        getattr(s, "s2s_origin", s),
                        hint="check the call's arguments against the function's signature; "
                             "wrap the value in s2sgrad.stop_gradient(...) if no gradient "
                             "should flow through it, or register a derivative with "
                             "@s2sgrad.adjoint")


def _attributes_read(body) -> Set[str]:
    from s2sgrad.objects import AttrKey
    return {n.slice.value for n in A.nodes(gast.Module(body=body, type_ignores=[]))
            if n.__class__ is gast.Subscript and isinstance(n.ctx, gast.Load)
            and getattr(n.slice, "value", None).__class__ is AttrKey}


def _write_only_attribute(stmt, read_back: Set[str]) -> bool:
    from s2sgrad.objects import AttrKey
    tgt = stmt.targets[0]
    return tgt.__class__ is gast.Subscript and \
        getattr(tgt.slice, "value", None).__class__ is AttrKey and \
        tgt.slice.value not in read_back
