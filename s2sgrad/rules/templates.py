"""Substitute the names of one primal statement into a derivative template.

``instantiate`` turns a rule's template into concrete adjoint pieces:
``Temp`` statements (template-local values, renamed to fresh names) and
``Contribution`` records (the gradient flowing to one input).  Whether a
contribution initialises or accumulates, and how it is summed back to its
input's shape, is decided by the reverse pass, not here.
"""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import gast

from s2sgrad import astutil as A
from s2sgrad import runtime
from s2sgrad.errors import RuleError
from s2sgrad.rules.registry import Rule, check_call_form

NOT_STATIC = object()

# Runtime helpers that compute plain Python values from static arguments:
# folded to constants at generation time.
STATIC_HELPERS = {"inverse_permutation": runtime.inverse_permutation}


class UnsupportedCase(Exception):
    """A template's ``raise``: the rule does not cover this call's constant arguments."""


@dataclass
class Temp:
    stmt: gast.Assign


@dataclass
class Contribution:
    param: str                 # template parameter receiving the gradient
    value: gast.expr
    index: Optional[gast.expr] = None   # grad[x][index] += value
    unsupported: Optional[str] = None   # grad[x] = no_gradient("why"): an error if x is active


Piece = Union[Temp, Contribution]


def static_value(node):
    """The Python value of a constant expression, or NOT_STATIC."""
    if node is None:
        return None
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, (gast.Tuple, gast.List)):
        vals = [static_value(e) for e in node.elts]
        if any(v is NOT_STATIC for v in vals):
            return NOT_STATIC
        return tuple(vals) if isinstance(node, gast.Tuple) else list(vals)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        v = static_value(node.operand)
        return NOT_STATIC if v is NOT_STATIC else -v
    return NOT_STATIC


class _DynamicUse(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class _Dynamic:
    """Stands for a non-constant parameter while a template condition is decided."""

    def __init__(self, name):
        self.name = name

    def _fail(self, *args):
        raise _DynamicUse(self.name)

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __hash__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __len__ = _fail
    __contains__ = __iter__ = __getitem__ = __neg__ = __call__ = __index__ = _fail


# Pure builtins a template condition may call on constant parameters (``len(axes) == 1``).
_CONDITION_BUILTINS = {f.__name__: f for f in (len, isinstance, int, float, tuple, list, abs,
                                              min, max, all, any, bool, range, sorted)}


def value_node(value):
    """A gast expression for a plain Python value (numbers, strings, tuples)."""
    if isinstance(value, tuple):
        return gast.Tuple(elts=[value_node(v) for v in value], ctx=gast.Load())
    if isinstance(value, list):
        return gast.List(elts=[value_node(v) for v in value], ctx=gast.Load())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=A.const(-value))
    if hasattr(value, "item") and not isinstance(value, (int, float, bool, str)):
        value = value.item()
    return A.const(value)


_PARAMETERS: Dict[Callable, list] = {}


def _parameters(fn) -> list:
    """The parameters of a rule's template function after ``result``, as (name, kind,
    default) with kind 'var' (``*args``), 'kwonly' or '' (cached: a signature costs
    more than the rest of ``bind``)."""
    params = _PARAMETERS.get(fn)
    if params is None:
        params = _PARAMETERS[fn] = [
            (p.name, "var" if p.kind == p.VAR_POSITIONAL else
             "kwonly" if p.kind == p.KEYWORD_ONLY else "", p.default)
            for p in list(inspect.signature(fn).parameters.values())[1:]]
    return params


_EMPTY = inspect.Parameter.empty


def bind(rule: Rule, positional: Sequence[gast.expr], keywords: Sequence[Tuple[str, gast.expr]],
         fail: Callable[[str, str], Exception], obj=None) -> Dict[str, gast.expr]:
    """Match a call's atoms to the template's parameters (for a call of the function
    ``obj``, checked against its real calling form first)."""
    if obj is not None:
        why = check_call_form(obj, rule, len(positional), tuple(k for k, _ in keywords))
        if why is not None:
            raise fail(why, "call the function as its documentation spells it, or register "
                            "a derivative for this form with @s2sgrad.adjoint")
    params = _parameters(rule.fn)
    bound: Dict[str, gast.expr] = {}
    pos = list(positional)
    for name, kind, _ in params:
        if kind == "var":
            bound[name] = gast.Tuple(elts=pos, ctx=gast.Load())
            pos = []
            break
        if kind == "kwonly":
            break
        if pos:
            bound[name] = pos.pop(0)
    if pos:
        raise fail("too many positional arguments for the derivative rule '%s'" % rule.label,
                   "check the call's arguments")
    if keywords:
        names = {p[0] for p in params}
        for k, v in keywords:
            if k not in names or k in bound:
                raise fail("keyword argument %r is not supported by the derivative rule '%s'"
                           % (k, rule.label),
                           "drop the keyword or register a custom rule with @s2sgrad.adjoint")
            bound[k] = v
    for name, kind, default in params:
        if name not in bound:
            if kind == "var":
                bound[name] = gast.Tuple(elts=[], ctx=gast.Load())
            elif default is not _EMPTY:
                bound[name] = value_node(default)
            else:
                raise fail("missing argument %r for the derivative rule '%s'" % (name, rule.label),
                           "pass the argument explicitly")
    return bound


class _Substitute:
    """A copy of a template expression with the call's arguments, the upstream
    gradient, constant-folded static helpers and resolved globals put in (what a
    ``NodeTransformer`` over a deep copy would give, in one pass: nodes visit in the
    same order, so ``global_name`` allocates the same fresh names)."""

    def __init__(self, mapping, upstream, result_param, global_name, static_env):
        self.mapping = mapping
        self.upstream = upstream
        self.result_param = result_param
        self.global_name = global_name
        self.static_env = static_env

    def copy(self, node):
        cls = node.__class__
        if cls is gast.Subscript:
            if (isinstance(node.value, gast.Name) and node.value.id == "grad"
                    and isinstance(node.slice, gast.Name)
                    and node.slice.id == self.result_param):
                return A.clone(self.upstream)
        elif cls is gast.Call:
            if isinstance(node.func, gast.Name) and node.func.id in STATIC_HELPERS \
                    and not node.keywords:
                vals = [self.static_env.get(a.id, NOT_STATIC) if isinstance(a, gast.Name)
                        else static_value(a) for a in node.args]
                if all(v is not NOT_STATIC for v in vals):
                    return value_node(STATIC_HELPERS[node.func.id](*vals))
        elif cls is gast.Name:
            if node.id in self.mapping:
                return A.clone(self.mapping[node.id])
            resolved = self.global_name(node.id)
            if resolved is None:
                return A.clone(node)
            return gast.Name(id=resolved, ctx=A.clone(node.ctx), annotation=None,
                             type_comment=None)
        new = cls.__new__(cls)
        state = new.__dict__
        state.update(node.__dict__)
        fields = cls._fields
        for field in fields:            # children first, in visiting order
            if field in state:
                value = state[field]
                if isinstance(value, gast.AST):
                    state[field] = self.copy(value)
                elif isinstance(value, list):
                    state[field] = [self.copy(v) if isinstance(v, gast.AST) else A.clone(v)
                                    for v in value]
        for key, value in state.items():
            if key not in fields and value.__class__ not in A._ATOMIC:
                state[key] = A.clone(value)
        return new

    # (ad/forward.py substitutes into its own copies through the NodeTransformer name)
    visit = copy


_CONDITIONS: Dict[int, tuple] = {}


def _condition(test, filename: str):
    """The names a template condition reads and its compiled code (once per condition
    of a rule's cached tree; the node is kept in the table, so its id stays its own)."""
    found = _CONDITIONS.get(id(test))
    if found is None or found[0] is not test:
        expr = gast.gast_to_ast(gast.Expression(body=test))
        code = compile(ast.fix_missing_locations(expr), filename, "eval")
        found = _CONDITIONS[id(test)] = (test, A.names_loaded(test), code)
    return found[1], found[2]


def _grad_target(node) -> Optional[Tuple[str, Optional[gast.expr]]]:
    """('x', None) for grad[x]; ('x', index) for grad[x][index]."""
    if not isinstance(node, gast.Subscript):
        return None
    if isinstance(node.value, gast.Name) and node.value.id == "grad" \
            and isinstance(node.slice, gast.Name):
        return node.slice.id, None
    inner = node.value
    if isinstance(inner, gast.Subscript) and isinstance(inner.value, gast.Name) \
            and inner.value.id == "grad" and isinstance(inner.slice, gast.Name):
        return inner.slice.id, node.slice
    return None


# -- templates compiled once into builders ------------------------------------------
#
# A template expression becomes a tree of small functions (one per node) that build
# its substituted copy for one call site: whatever does not depend on the call (the
# node's class, its line numbers, which fields hold children, whether a subscript is
# ``grad[result]``, whether a call is to a static helper) is decided once per rule
# instead of once per node and use.  A builder takes the ``_Substitute`` of the call
# and gives what ``_Substitute.copy`` would (nodes built children first, in the same
# order, so fresh names are allocated in the same order), except that contexts and
# operators are shared, as ``A.clone`` shares them.


def _compile_expr(node, result_param: str) -> Callable[[_Substitute], gast.AST]:
    """A builder for the substituted copy of the template expression ``node``."""
    cls = node.__class__
    if cls is gast.Subscript:
        if (isinstance(node.value, gast.Name) and node.value.id == "grad"
                and isinstance(node.slice, gast.Name) and node.slice.id == result_param):
            return _build_upstream
    elif cls is gast.Name:
        return _name_builder(node)
    elif cls is gast.Call:
        if isinstance(node.func, gast.Name) and node.func.id in STATIC_HELPERS \
                and not node.keywords:
            return _static_helper_builder(node, _node_builder(node, result_param))
    elif cls in A._FIELDLESS:
        return lambda sub: node
    return _node_builder(node, result_param)


def _build_upstream(sub):
    """``grad[result]``: a copy of the upstream gradient."""
    return _copy(sub.upstream)


_LEAVES = A._ATOMIC | A._FIELDLESS


def _copy(node):
    """``A.clone(node)``; for a Name or Constant whose attributes are atoms and contexts
    (the atoms a call site binds), as one copy of its attributes."""
    cls = node.__class__
    if cls is gast.Name or cls is gast.Constant:
        state = node.__dict__
        for value in state.values():
            if value.__class__ not in _LEAVES:
                return A.clone(node)
        new = cls.__new__(cls)
        new.__dict__ = state.copy()
        return new
    return A.clone(node)


def _name_builder(node):
    """A template name: the call's atom, a resolved global, or the name itself."""
    name = node.id
    ctx = node.ctx

    def build(sub):
        mapping = sub.mapping
        if name in mapping:
            return _copy(mapping[name])
        resolved = sub.global_name(name)
        if resolved is None:
            return A.clone(node)
        new = gast.Name.__new__(gast.Name)
        new.__dict__ = {"id": resolved, "ctx": ctx, "annotation": None, "type_comment": None}
        return new
    return build


def _static_helper_builder(node, otherwise):
    """``inverse_permutation(axes)``: folded to its value when every argument is a
    constant at the call site, else built like any call."""
    helper = STATIC_HELPERS[node.func.id]
    args = node.args

    def build(sub):
        static_env = sub.static_env
        vals = [static_env.get(a.id, NOT_STATIC) if isinstance(a, gast.Name)
                else static_value(a) for a in args]
        if all(v is not NOT_STATIC for v in vals):
            return value_node(helper(*vals))
        return otherwise(sub)
    return build


def _node_builder(node, result_param: str):
    """Any other node: a copy of its attributes, with its children built."""
    cls = node.__class__
    state = dict(node.__dict__)
    fields = cls._fields
    children = []            # (field, builder) or (field, [builder or atom, ...])
    for field in fields:     # children first, in visiting order
        if field in state:
            value = state[field]
            if value.__class__ in A._FIELDLESS:
                continue            # (a context or operator: shared)
            if isinstance(value, gast.AST):
                children.append((field, _compile_expr(value, result_param)))
            elif isinstance(value, list):
                children.append((field, [_compile_expr(v, result_param)
                                         if isinstance(v, gast.AST) else _atom(v)
                                         for v in value]))
    copied = [key for key, value in state.items()
              if key not in fields and value.__class__ not in A._ATOMIC]
    new_node = cls.__new__

    def build(sub):
        new_state = state.copy()
        for field, child in children:
            if child.__class__ is list:
                new_state[field] = [c(sub) for c in child]
            else:
                new_state[field] = child(sub)
        for key in copied:
            new_state[key] = A.clone(new_state[key])
        new = new_node(cls)
        new.__dict__ = new_state
        return new
    return build


def _atom(value):
    """A builder for a list item that is not a node (copied as ``A.clone`` copies it)."""
    return lambda sub: A.clone(value)


class _Template:
    """A rule's template body, compiled once: per statement, what ``instantiate`` does
    with it (``if`` on a condition, a contribution, a temporary, ``raise``, an error
    reported when reached), expressions as builders."""

    def __init__(self, rule: Rule):
        self.tree = rule.tree
        self.result_param = rule.result_param
        self.body = self._statements(self.tree.body)

    def _statements(self, stmts) -> list:
        return [c for c in (self._statement(s) for s in stmts) if c is not None]

    def _statement(self, stmt):
        expr = lambda node: _compile_expr(node, self.result_param)
        if isinstance(stmt, gast.If):
            return ("if", stmt.test, self._statements(stmt.body),
                    self._statements(stmt.orelse))
        if isinstance(stmt, gast.Raise):
            exc = stmt.exc
            msg = exc.args[0].value if (isinstance(exc, gast.Call) and exc.args and
                                        isinstance(exc.args[0], gast.Constant)) else ""
            return ("raise", msg)
        if isinstance(stmt, (gast.Pass,)) or (isinstance(stmt, gast.Expr)
                                               and isinstance(stmt.value, gast.Constant)):
            return None
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
            tgt = stmt.targets[0]
            g = _grad_target(tgt)
            if g is not None and g[1] is None and isinstance(stmt.value, gast.Call) \
                    and getattr(stmt.value.func, "id", None) == "no_gradient":
                why = [a.value for a in stmt.value.args if isinstance(a, gast.Constant)]
                return ("no_gradient", g[0], why[0] if why else
                        "no derivative with respect to %r" % g[0])
            if g is not None and g[1] is None:
                return ("contribution", g[0], expr(stmt.value), None)
            if isinstance(tgt, gast.Name):
                return ("temp", tgt.id, expr(stmt.value))
            return ("error", "unsupported assignment target in a template", stmt)
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add):
            g = _grad_target(stmt.target)
            if g is None:
                return ("error", "only grad[x] += ... and grad[x][i] += ... may be "
                                 "augmented", stmt)
            return ("contribution", g[0], expr(stmt.value),
                    expr(g[1]) if g[1] is not None else None)
        return ("error", "unsupported statement %s in a template" % type(stmt).__name__, stmt)


_TEMPLATES: Dict[int, _Template] = {}


def _template(rule: Rule) -> _Template:
    """The compiled template of ``rule`` (once per rule tree)."""
    tree = rule.tree
    found = _TEMPLATES.get(id(tree))
    if found is None or found.tree is not tree or found.result_param != rule.result_param:
        found = _TEMPLATES[id(tree)] = _Template(rule)
    return found


def instantiate(rule: Rule, binding: Dict[str, gast.expr], result: gast.expr,
                upstream: gast.expr, wanted: Sequence[str], fresh: Callable[[str], str],
                global_name: Callable[[str], Optional[str]],
                kind_of: Optional[Callable[[str], Optional[str]]] = None) -> List[Piece]:
    """The adjoint pieces of one statement, for the parameters in ``wanted``.
    ``kind_of(name)`` is the dtype kind the probe saw for a name (None: unknown); a
    template condition reads it as ``is_complex(p)``."""
    template = _template(rule)
    static_env = {k: static_value(v) for k, v in binding.items()}
    static_env = {k: v for k, v in static_env.items() if v is not NOT_STATIC}
    mapping: Dict[str, gast.expr] = dict(binding)
    mapping[rule.result_param] = result
    sub = _Substitute(mapping, upstream, rule.result_param, global_name, static_env)

    def rule_error(msg, node):
        line = rule.lineno + getattr(node, "lineno", 1) - 1
        return RuleError("derivative rule '%s': %s" % (rule.label, msg),
                         filename=rule.filename, lineno=line,
                         hint="fix the template: see the rule-template notes in "
                              "s2sgrad/rules/registry.py")

    def static_test(test):
        # ``is_static(p)`` tests whether parameter p is a constant at this call site, so a
        # template can specialize on a constant (``if is_static(y) and y == 2:``) and fall
        # back to the general formula for a varying value.  Any other use of a non-constant
        # parameter in a condition is a template error.
        free, code = _condition(test, rule.filename)
        env = {"is_static": lambda v: not isinstance(v, _Dynamic),
               "is_complex": lambda v: is_complex_argument(v, mapping, kind_of)}
        for name in free:
            if name in static_env:
                env[name] = static_env[name]
            elif name in ("None", "True", "False", "is_static", "is_complex"):
                continue
            elif name in _CONDITION_BUILTINS and name not in mapping:
                env[name] = _CONDITION_BUILTINS[name]
            else:
                env[name] = _Dynamic(name)
        try:
            return bool(eval(code, {"__builtins__": {}}, env))
        except _DynamicUse as exc:
            raise rule_error("the condition depends on %r, which is not a constant at this "
                             "call site; template conditions may only test constant "
                             "parameters such as axis or keepdims (guard with "
                             "is_static(%s))" % (exc.name, exc.name), test) from None

    pieces: List[Piece] = []

    def walk(stmts):
        for stmt in stmts:
            kind = stmt[0]
            if kind == "contribution":
                _, param, value, index = stmt
                pieces.append(Contribution(param, value(sub),
                                           index(sub) if index is not None else None))
            elif kind == "temp":
                _, name, value = stmt
                new = fresh(name)
                pieces.append(Temp(A.assign(new, value(sub))))
                mapping[name] = A.load(new)
            elif kind == "if":
                _, test, body, orelse = stmt
                walk(body if static_test(test) else orelse)
            elif kind == "no_gradient":
                pieces.append(Contribution(stmt[1], A.const(0.0), unsupported=stmt[2]))
            elif kind == "raise":
                # ``raise NotImplementedError("...")`` under a constant condition: the
                # rule does not cover this call (reported at the user's call site)
                raise UnsupportedCase(stmt[1] or "this use of '%s' has no derivative rule"
                                      % rule.label)
            else:
                raise rule_error(stmt[1], stmt[2])

    walk(template.body)
    kept = prune(pieces, wanted)
    for piece in kept:
        if isinstance(piece, Contribution) and piece.unsupported:
            raise UnsupportedCase(piece.unsupported)
    return kept


def is_complex_argument(value, mapping, kind_of) -> bool:
    """``is_complex(p)`` in a template condition: does parameter p hold a complex value
    at this call site?  Unknown (no probe) counts as complex: the complex form of a
    rule is also right for real values, the real form only reads better."""
    if isinstance(value, _Dynamic):
        node = mapping.get(value.name)
        if isinstance(node, gast.Name):
            kind = kind_of(node.id) if kind_of is not None else None
            return kind is None or kind == "c"
        if isinstance(node, gast.Constant):
            return isinstance(node.value, complex)
        return True
    return isinstance(value, complex)


def prune(pieces: List[Piece], wanted: Sequence[str]) -> List[Piece]:
    """Drop contributions nobody asked for and the temporaries only they used."""
    if not any(piece.__class__ is Temp for piece in pieces):
        return [piece for piece in pieces if piece.param in wanted]
    kept: List[Piece] = []
    needed = set()
    for piece in reversed(pieces):
        if isinstance(piece, Contribution):
            if piece.param in wanted:
                kept.append(piece)
                needed |= A.names_loaded(piece.value)
                if piece.index is not None:
                    needed |= A.names_loaded(piece.index)
        else:
            target = piece.stmt.targets[0].id
            if target in needed:
                kept.append(piece)
                needed |= A.names_loaded(piece.stmt.value)
    kept.reverse()
    return kept
