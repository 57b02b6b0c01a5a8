"""Pass 1b: subroutines.

Calls to the user's own Python functions -- module-level functions, functions
from other modules, nested ``def``s and lambdas inside the function, closures
reading enclosing variables -- are inlined at the call site before the primal
trace is built, so the adjoint of the caller contains the adjoint of the callee
in the same flat, readable form::

    def sq(t):                      y = sq(a) + 1.0
        return t * t         ->     sq_result = a * a
                                    y = sq_result + 1.0

The callee's locals get fresh names (its parameters take the argument's name
when the callee never re-assigns them); keyword arguments and defaults are
bound at the call; global names the callee reads from its own module are bound
under fresh names when the caller's namespace means something else by them.
Functions with a registered derivative rule (NumPy, @s2sgrad.adjoint) are not
inlined.  Recursion is rejected with an error naming the call.
"""
from __future__ import annotations

import ast
import collections
import functools
import operator
import sys
import copy
import types
import weakref
from typing import Any, Dict, List, Optional, Set, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.names import _MISSING, Namespace
from s2sgrad.errors import S2SGradError, UnsupportedSyntaxError
from s2sgrad.front.checks import check_supported
from s2sgrad.front.controlflow import (generator_arguments_to_lists, lower_comprehensions,
                                       lower_jumps)
from s2sgrad.front.desugar import (expand_starred, flatten_signature, fold_displays,
                                   generator_to_list, hoist_imports, hoist_walrus, lower_match)
from s2sgrad.front.parse import parse_function
from s2sgrad.rules import lookup, lookup_method
from s2sgrad.objects import (NOT_AN_ATTRIBUTE, AttrKey, attribute_of, is_instance_attribute,
                             is_object, method_of)

_LIBRARY_PREFIXES = ("numpy", "scipy", "s2sgrad", "builtins", "logging", "warnings")
_CONSTANT_TYPES = (int, float, complex, str, bool, type(None))


def _is_literal(value) -> bool:
    if isinstance(value, tuple):
        return all(_is_literal(v) for v in value)
    return isinstance(value, _CONSTANT_TYPES)


def _literal(value) -> gast.expr:
    if isinstance(value, tuple):
        return gast.Tuple(elts=[_literal(v) for v in value], ctx=gast.Load())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=A.const(-value))
    return A.const(value)


class _Callee:
    """Everything needed to inline one function: its tree, namespace and source info."""

    def __init__(self, key, node: gast.FunctionDef, info, namespace: Namespace,
                 defaults: Dict[str, Any], nested: bool, name: str):
        self.key = key
        self.node = node
        self.info = info
        self.namespace = namespace
        self.defaults = defaults       # parameter -> value (object) or gast expr (nested)
        self.nested = nested           # shares the caller's namespace (nested def / lambda)
        self.name = name


class _Object:
    """A value known when the code is generated (an argument's callable, a global
    function, a dict of loss functions), and the expression that reads it at run time
    (``losses[kind]``, a parameter's name; None for a global, bound by name)."""

    def __init__(self, obj, access: Optional[gast.expr] = None):
        self.obj = obj
        self.access = access


class _Partial:
    """``functools.partial(func, *args, **keywords)`` made inside the function: the
    callable (a descriptor) and the bound arguments (names or constants, read when
    the partial was made)."""

    def __init__(self, func, args: List[gast.expr], keywords: List[Tuple[str, gast.expr]]):
        self.func = func
        self.args = args
        self.keywords = keywords


class _Display:
    """A dict / list / tuple display made in the function whose items are known at
    generation time (``{"a": np.sin, "b": lambda t: t ** 3}``): the items' descriptors."""

    def __init__(self, items):
        self.items = items          # dict (constant keys) or list of descriptors


class _Method:
    """``f = x.sum``: a method bound to a value (its receiver saved when bound)."""

    def __init__(self, receiver: gast.expr, attr: str):
        self.receiver = receiver
        self.attr = attr


# What a name holding one of these means when it is called (not a runtime value).
_NO_VALUE = (_Callee, _Partial, _Method, _Display)

_SIMPLE = (str, int, float, bool, type(None), bytes)


def _holds_callable(value, depth=0) -> bool:
    """A callable, or a (nested) dict / list / tuple holding one."""
    if callable(value) and not isinstance(value, type):
        return True
    # (containers of functions are small: a long list of numbers is not looked through)
    if depth < 4 and isinstance(value, (list, tuple)) and len(value) <= 256:
        return any(_holds_callable(v, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict) and len(value) <= 256:
        return any(_holds_callable(v, depth + 1) for v in value.values())
    return False


_COMPARE = {gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Lt: operator.lt,
            gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
            gast.Is: operator.is_, gast.IsNot: operator.is_not,
            gast.In: lambda a, b: a in b, gast.NotIn: lambda a, b: a not in b}


# A callee's parsed, checked and lowered definition, shared by every caller and call
# site in the process (each site inlines a fresh copy); keyed by the function object,
# valid while its code and defaults are the ones it was parsed from.
_CALLEES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Inliner:
    def __init__(self, top_info, top_namespace: Namespace, names: A.NameAllocator,
                 rule_lookup):
        self.top_info = top_info
        self.top = top_namespace
        self.names = names
        self.rule_lookup = rule_lookup
        self.extra: Dict[str, Any] = {}       # fresh global name -> object
        self.stack: List[Any] = []
        self.parsed_cache: Dict[int, Any] = {}
        self.removed_defs: Dict[str, Any] = {}   # nested def / lambda name -> (node, info)
        self.top_locals: Set[str] = set()     # the differentiated function's own names
        self.counts: Dict[str, int] = {}      # how often each local name is assigned
        self.scope: List[gast.stmt] = []      # the body of the function being inlined
        # name -> what the first call says it holds (objects and the containers that
        # lead to them; objects.py): method calls on it are inlined, its attributes
        # become items
        self.static: Dict[str, Any] = {}
        self.written_attributes: Set[Any] = set()

    # -- statements
    def block(self, stmts, namespace: Namespace, info, local_defs: Dict[str, Any],
              caller_locals: Set[str]) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        stmts = self.fold_static_tests(stmts, namespace, local_defs, caller_locals)
        for s in stmts:
            if isinstance(s, gast.While) and not s.orelse and _CallSite(
                    self, namespace, info, local_defs, caller_locals, s).would_inline(s.test):
                # while f(x) > 0: ...  ->  while True: if not f(x) > 0: break ...
                # (the call is then inlined before the test, on every trip)
                stop = gast.copy_location(gast.If(
                    test=gast.UnaryOp(op=gast.Not(), operand=s.test),
                    body=[gast.copy_location(gast.Break(), s)], orelse=[]), s)
                s.test = A.const(True)
                s.body = [stop] + s.body
            if isinstance(s, gast.FunctionDef):
                local_defs[s.name] = self.nested_callee(s, namespace, info, local_defs)
                self.removed_defs.setdefault(s.name, (s, info))
                continue
            if (isinstance(s, gast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Lambda)):
                lam = s.value
                ret = gast.copy_location(gast.Return(value=lam.body), s)
                node = gast.FunctionDef(name=s.targets[0].id, args=lam.args, body=[ret],
                                        decorator_list=[], returns=None, type_comment=None,
                                        type_params=[])
                gast.copy_location(node, s)
                local_defs[s.targets[0].id] = self.nested_callee(node, namespace, info,
                                                                 local_defs)
                self.removed_defs.setdefault(s.targets[0].id, (s, info))
                continue
            if isinstance(s, gast.If) and self.static:
                taken = self.static_test(s.test)
                if taken is not _MISSING:
                    # if self.use_dropout: ... -- decided by the object's attributes,
                    # which the signature keys (objects.py): only the branch taken
                    out.extend(self.block(s.body if taken else s.orelse, namespace, info,
                                          local_defs, caller_locals))
                    continue
            if isinstance(s, gast.For):
                unrolled = self.loop_over_objects(s, namespace, info, caller_locals)
                if unrolled is not None:
                    out.extend(self.block(unrolled, namespace, info, local_defs,
                                          caller_locals))
                    continue
            if isinstance(s, gast.For):
                unrolled = self.unroll(s, namespace, info, local_defs, caller_locals)
                if unrolled is not None:
                    out.extend(self.block(unrolled, namespace, info, local_defs,
                                          caller_locals))
                    continue
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(
                    s.targets[0], (gast.Tuple, gast.List)):
                split = self.split_static_tuple(s, namespace, local_defs, caller_locals)
                if split is not None:
                    out.extend(self.block(split, namespace, info, local_defs, caller_locals))
                    continue
            before = dict(self.static) if isinstance(s, (gast.If, gast.For, gast.While)) \
                else None
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, self.block(getattr(s, field), namespace, info, local_defs,
                                                 caller_locals))
            if before is not None:
                # a name a branch or loop rebinds holds what it held before, or not
                for n in A.names_stored(s):
                    if n in self.static and before.get(n, _MISSING) is not self.static[n]:
                        del self.static[n]
            calls = _CallSite(self, namespace, info, local_defs, caller_locals, s)
            if isinstance(s, gast.While):
                if calls.would_inline(s.test):
                    raise info.error(UnsupportedSyntaxError,
                                     "a call to a Python function in a while condition cannot "
                                     "be differentiated", s,
                                     hint="compute the condition into a variable before the "
                                          "loop and again at the end of its body")
                s.test = calls.visit(s.test)
            elif isinstance(s, gast.If):
                s.test = calls.visit(s.test)
            elif isinstance(s, gast.For):
                s.iter = calls.visit(s.iter)
            elif isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return,
                                gast.AnnAssign)) and s.value is not None:
                if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                        and isinstance(s.targets[0], gast.Name):
                    made = self.static_assignment(s, namespace, info, local_defs,
                                                  caller_locals)
                    if made is not None:
                        out.extend(made)
                        continue
                s.value = calls.visit(s.value)
                if isinstance(s, gast.Assign) and len(s.targets) == 1 \
                        and isinstance(s.targets[0], gast.Name):
                    name = s.targets[0].id
                    found = self.static_of(s.value, namespace, local_defs, caller_locals)
                    if found is not _MISSING and self.callable_like(found):
                        out.extend(calls.hoisted)
                        if self.counts.get(name, 1) > 1:
                            # (assigned elsewhere too: which one a call means is not
                            # known here; such a call stays unresolved)
                            out.append(s)
                            continue
                        local_defs[name] = found
                        if isinstance(found, _NO_VALUE) or (
                                isinstance(s.value, gast.Name) and s.value.id in local_defs
                                and isinstance(local_defs[s.value.id], _NO_VALUE)):
                            self.removed_defs.setdefault(name, (s, info))
                            continue      # (a name for a function: nothing to run)
                        out.append(s)
                        continue
            out.extend(calls.hoisted)
            if self.static or namespace is not None:
                s = self.object_attributes(s, namespace, caller_locals)
            out.append(s)
        return out

    # -- objects (objects.py)
    def object_of(self, expr, namespace: Namespace, caller_locals: Set[str]):
        """What the first call says ``expr`` holds (an object, a container on the way to
        one, or ``Typed(cls)`` when only the class is known), else _MISSING."""
        if isinstance(expr, gast.Name):
            if expr.id in self.static:
                return self.static[expr.id]
            if expr.id in caller_locals or namespace is None:
                return _MISSING
            found = namespace.resolve(expr.id)
            return found if is_object(found) else _MISSING
        if isinstance(expr, gast.Attribute) or (
                isinstance(expr, gast.Subscript) and _attr_key(expr) is not None):
            base = self.object_of(expr.value, namespace, caller_locals)
            if not is_object(base):
                return _MISSING
            found = attribute_of(base, expr.attr if isinstance(expr, gast.Attribute)
                                 else _attr_key(expr))
            return _MISSING if found is NOT_AN_ATTRIBUTE else found
        if isinstance(expr, gast.Subscript):
            base = self.object_of(expr.value, namespace, caller_locals)
            if not isinstance(base, (list, tuple, dict)):
                return _MISSING
            if isinstance(expr.slice, gast.Constant):
                try:
                    return base[expr.slice.value]
                except (KeyError, IndexError, TypeError):
                    return _MISSING
            items = list(base.values() if isinstance(base, dict) else base)
            kinds = {type(v) for v in items}
            if items and len(kinds) == 1 and is_object(items[0]):
                return Typed(items[0].__class__)      # any item: one class
            return _MISSING
        if isinstance(expr, gast.Call) and not expr.keywords:
            path = A.dotted(expr.func)
            if path and path.split(".")[0] not in caller_locals and namespace is not None:
                cls = namespace.resolve(path)
                if isinstance(cls, type) and (getattr(cls, "__module__", "") or "").split(
                        ".")[0] not in _LIBRARY_PREFIXES + ("functools", "collections"):
                    return Typed(cls)
        return _MISSING

    def static_test(self, expr):
        """The value of a test on the non-float attributes (bool, int, str, None) of the
        objects the function receives, else _MISSING: the signature keys those values,
        so the test is decided once per signature."""
        if isinstance(expr, gast.Constant):
            return expr.value
        if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.Not):
            v = self.static_test(expr.operand)
            return _MISSING if v is _MISSING else not v
        if isinstance(expr, gast.BoolOp):
            values = [self.static_test(v) for v in expr.values]
            if any(v is _MISSING for v in values):
                return _MISSING
            out = values[0]
            for v in values[1:]:
                out = (out and v) if isinstance(expr.op, gast.And) else (out or v)
            return out
        if isinstance(expr, gast.Compare) and len(expr.ops) == 1:
            left = self.static_test(expr.left)
            right = self.static_test(expr.comparators[0])
            if left is _MISSING or right is _MISSING:
                return _MISSING
            op = _COMPARISONS.get(type(expr.ops[0]))
            return _MISSING if op is None else op(left, right)
        if isinstance(expr, gast.Attribute) or (isinstance(expr, gast.Subscript)
                                                and _attr_key(expr) is not None):
            path = []
            node = expr
            while isinstance(node, gast.Attribute) or (
                    isinstance(node, gast.Subscript) and _attr_key(node) is not None):
                path.append(node.attr if isinstance(node, gast.Attribute) else _attr_key(node))
                node = node.value
            if not isinstance(node, gast.Name) or node.id not in self.static:
                return _MISSING
            value = self.static[node.id]
            for name in reversed(path):
                if not is_object(value) or (id(value), name) in self.written_attributes:
                    return _MISSING
                value = attribute_of(value, name)
            if value is None or type(value) in (bool, int, str):
                return value
        return _MISSING

    def class_of(self, expr, namespace, caller_locals):
        found = self.object_of(expr, namespace, caller_locals)
        if isinstance(found, Typed):
            return found.cls, None
        if is_object(found):
            return type(found), found
        return None, None

    def loop_over_objects(self, s: gast.For, namespace, info, caller_locals):
        """``for layer in self.layers:`` over objects of one class: ``layer``'s class is
        known; over objects of several classes: the loop unrolled (one copy of the body
        per object, each calling its own methods)."""
        seq, target, counter = s.iter, s.target, None
        if isinstance(seq, gast.Call) and len(seq.args) == 1 and not seq.keywords and \
                isinstance(seq.func, gast.Name) and seq.func.id not in caller_locals and \
                namespace is not None and namespace.resolve(seq.func.id) is enumerate and \
                isinstance(target, gast.Tuple) and len(target.elts) == 2 and \
                all(isinstance(e, gast.Name) for e in target.elts):
            # for i, layer in enumerate(self.layers)
            seq, counter, target = seq.args[0], target.elts[0], target.elts[1]
        items = self.object_of(seq, namespace, caller_locals)
        if not isinstance(items, (list, tuple)) or not items or \
                not all(is_object(v) for v in items) or not isinstance(target, gast.Name):
            for n in A.names_stored(s.target):
                self.static.pop(n, None)
            return None
        if len({type(v) for v in items}) == 1:
            self.static[target.id] = Typed(type(items[0]))
            return None
        if s.orelse or any(isinstance(n, (gast.Break, gast.Continue, gast.Return))
                           for n in A.nodes(gast.Module(body=s.body, type_ignores=[]))):
            raise info.error(UnsupportedSyntaxError,
                             "a loop over objects of different classes (%s) is unrolled, and "
                             "its body cannot break, continue or return"
                             % ", ".join(sorted({type(v).__name__ for v in items})), s,
                             hint="move the early exit after the loop")
        if not _is_path(seq):
            return None
        out: List[gast.stmt] = []
        for k in range(len(items)):
            if counter is not None:
                out.append(gast.copy_location(A.assign(counter.id, A.const(k)), s))
            out.append(gast.copy_location(A.assign(target.id, gast.Subscript(
                value=A.clone(seq), slice=A.const(k), ctx=gast.Load())), s))
            out.extend(A.clone(t) for t in s.body)
        return out

    def object_attributes(self, stmt, namespace, caller_locals):
        """``obj.name`` -> the item ``obj[AttrKey('name')]`` for objects the first call
        knows; the static map follows the assignment."""
        rewrite = _ObjectAttributes(self, namespace, caller_locals)
        for field in ("targets", "target", "value", "test", "iter"):
            v = getattr(stmt, field, None)
            if isinstance(v, list):
                setattr(stmt, field, [rewrite.visit(t) for t in v])
            elif isinstance(v, gast.AST):
                setattr(stmt, field, rewrite.visit(v))
        if isinstance(stmt, gast.Assign):
            found = _MISSING
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
                found = self.object_of(stmt.value, namespace, caller_locals)
                if self.holds_dict(stmt.value, found, namespace, caller_locals):
                    # bn_param = self.bn_params[i]: a dict (its methods are lowered:
                    # desugar.lower_dict_methods, lower.dict_names)
                    stmt.value.s2s_dict = True
            elif len(stmt.targets) == 1 and isinstance(stmt.targets[0], (gast.Tuple, gast.List)) \
                    and all(isinstance(e, gast.Name) for e in stmt.targets[0].elts):
                # encoder, decoder = self.parts: each name holds its item
                items = self.object_of(stmt.value, namespace, caller_locals)
                names = [e.id for e in stmt.targets[0].elts]
                for n in names:
                    self.static.pop(n, None)
                if isinstance(items, (list, tuple)) and len(items) == len(names) and \
                        len(set(names)) == len(names):
                    for n, item in zip(names, items):
                        if is_object(item) or isinstance(item, (list, tuple, dict)):
                            self.static[n] = item
                return stmt
            for t in stmt.targets:
                for n in A.names_stored(t):
                    if found is not _MISSING and isinstance(t, gast.Name):
                        self.static[n] = found
                    else:
                        self.static.pop(n, None)
        elif isinstance(stmt, (gast.AugAssign, gast.AnnAssign)):
            for n in A.names_stored(stmt.target):
                self.static.pop(n, None)
        return stmt

    def holds_dict(self, expr, found, namespace, caller_locals) -> bool:
        """Does ``expr`` (whose object_of is ``found``) hold a dict at every call with
        this signature: a dict the first call saw, or an item at a computed index of a
        list or tuple of dicts (the signature keys the containers' structure)?"""
        if type(found) is dict:
            return True
        if found is not _MISSING or not isinstance(expr, gast.Subscript) or \
                _attr_key(expr) is not None:
            return False
        base = self.object_of(expr.value, namespace, caller_locals)
        return type(base) in (list, tuple) and bool(base) and \
            all(type(v) is dict for v in base)

    def nested_callee(self, node: gast.FunctionDef, namespace, info,
                      scope_defs: Optional[Dict[str, Any]] = None) -> _Callee:
        flatten_signature(node)
        generator_to_list(node, info)
        defaults = {}
        params = [a.id for a in node.args.posonlyargs + node.args.args]
        if node.args.defaults:
            for p, d in zip(params[:node.s2s_signature["positional"]][
                    -len(node.args.defaults):], node.args.defaults):
                defaults[p] = d
        callee = _Callee(id(node), node, info, namespace, defaults, True, node.name)
        # what the names of its defining scope hold (a function passed to the function
        # that made it: compose(f, g) returning lambda t: f(g(t)))
        callee.scope_defs = scope_defs
        return callee

    # -- values known at generation time
    def callable_like(self, desc) -> bool:
        if isinstance(desc, _Display):
            items = desc.items.values() if isinstance(desc.items, dict) else desc.items
            return any(self.callable_like(d) for d in items)
        if isinstance(desc, _NO_VALUE):
            return True
        return isinstance(desc, _Object) and _holds_callable(desc.obj)

    def static_of(self, expr, namespace: Namespace, local_defs: Dict[str, Any],
                  caller_locals: Set[str]):
        """What ``expr`` is when the code is generated (a descriptor), or _MISSING when
        it is a run-time value.  Only what every run with this signature shares:
        callables and containers of them (arguments, globals), arguments keyed by
        value (strings), constants, and what they select (``losses[kind]``,
        ``rnn_step if cell == 'rnn' else lstm_step``, ``getattr(np, name)``)."""
        cls = expr.__class__
        if cls is gast.Name:
            if expr.id in local_defs:
                return local_defs[expr.id]
            if expr.id in caller_locals:
                return _MISSING
            if expr.id in self.extra:
                return _Object(self.extra[expr.id])
            obj = namespace.resolve(expr.id)
            if obj is _MISSING or not (_holds_callable(obj) or isinstance(
                    obj, (types.ModuleType, type))):
                return _MISSING     # (a global's data may change between calls)
            return _Object(obj)
        if cls is gast.Constant:
            return _Object(expr.value, expr) if isinstance(expr.value, _SIMPLE) else _MISSING
        attr = expr.attr if cls is gast.Attribute else (
            _attr_key(expr) if cls is gast.Subscript else None)
        if attr is not None:
            base = self.static_of(expr.value, namespace, local_defs, caller_locals)
            if cls is gast.Attribute and isinstance(base, _Object) and \
                    isinstance(base.obj, (types.ModuleType, type)):
                obj = getattr(base.obj, expr.attr, _MISSING)
                if obj is not _MISSING and (_holds_callable(obj) or isinstance(
                        obj, (types.ModuleType, type))):
                    return _Object(obj)
                return _MISSING
            # an object's attribute holding a callable (self.act = np.tanh): known at the
            # first call (the signature keys it), read where the call runs
            owner = base.obj if isinstance(base, _Object) else self.object_of(
                expr.value, namespace, caller_locals)
            if not is_object(owner) or (id(owner), attr) in self.written_attributes:
                return _MISSING     # (an attribute the function assigns: a run-time value)
            test = self.static_test(expr)
            if test is not _MISSING:    # a str/bool/None setting the signature keys
                return _Object(test, A.const(test))
            found = attribute_of(owner, attr)
            if found is not NOT_AN_ATTRIBUTE and not isinstance(found, Typed) and \
                    not _holds_objects(found) and _holds_callable(found):
                return _Object(found, A.clone(expr))
            return _MISSING
        if cls is gast.Subscript:
            base = self.static_of(expr.value, namespace, local_defs, caller_locals)
            key = self.static_of(expr.slice, namespace, local_defs, caller_locals)
            if isinstance(base, _Display) and isinstance(key, _Object) and isinstance(
                    key.obj, (str, int)) and not isinstance(key.obj, bool):
                try:
                    return base.items[key.obj]
                except (KeyError, IndexError, TypeError):
                    return _MISSING
            if not (isinstance(base, _Object) and isinstance(key, _Object)
                    and isinstance(base.obj, (dict, list, tuple))
                    and isinstance(key.obj, (str, int)) and not isinstance(key.obj, bool)):
                return _MISSING
            try:
                obj = base.obj[key.obj]
            except (KeyError, IndexError, TypeError):
                return _MISSING
            access = None
            if base.access is not None and key.access is not None:
                access = gast.Subscript(value=A.clone(base.access), slice=A.clone(key.access),
                                        ctx=gast.Load())
            elif base.access is not None:
                access = gast.Subscript(value=A.clone(base.access), slice=_literal(key.obj),
                                        ctx=gast.Load())
            return _Object(obj, access)
        if cls in (gast.Dict, gast.List, gast.Tuple) and (cls is not gast.Dict or all(
                isinstance(k, gast.Constant) for k in expr.keys)):
            values = expr.values if cls is gast.Dict else expr.elts
            if not any(isinstance(v, gast.Lambda) for v in values) and not any(
                    A.dotted(v) is not None for v in values):
                return _MISSING       # (no function in it: a run-time value)
            items = []
            for v in values:
                d = self.lambda_callee(v, namespace, self.top_info, local_defs) \
                    if isinstance(v, gast.Lambda) else self.static_of(
                        v, namespace, local_defs, caller_locals)
                if d is _MISSING:
                    return _MISSING
                items.append(d)
            if cls is gast.Dict:
                return _Display({k.value: d for k, d in zip(expr.keys, items)})
            return _Display(items)
        if cls is gast.IfExp:
            test = self.static_of(expr.test, namespace, local_defs, caller_locals)
            if not isinstance(test, _Object) or not isinstance(test.obj, _SIMPLE):
                return _MISSING
            return self.static_of(expr.body if test.obj else expr.orelse, namespace,
                                  local_defs, caller_locals)
        if cls is gast.Compare:
            left = self.static_of(expr.left, namespace, local_defs, caller_locals)
            if not isinstance(left, _Object):
                return _MISSING
            value = True
            for op, right_node in zip(expr.ops, expr.comparators):
                right = self.static_of(right_node, namespace, local_defs, caller_locals)
                if not isinstance(right, _Object) or op.__class__ not in _COMPARE:
                    return _MISSING
                if not (isinstance(left.obj, _SIMPLE) and isinstance(right.obj, _SIMPLE)) \
                        and op.__class__ not in (gast.Is, gast.IsNot):
                    return _MISSING
                value = value and bool(_COMPARE[op.__class__](left.obj, right.obj))
                left = right
            return _Object(value, A.const(value))
        if cls is gast.BoolOp:
            values = [self.static_of(v, namespace, local_defs, caller_locals)
                      for v in expr.values]
            if not all(isinstance(v, _Object) and isinstance(v.obj, _SIMPLE) for v in values):
                return _MISSING
            truth = [bool(v.obj) for v in values]
            value = all(truth) if isinstance(expr.op, gast.And) else any(truth)
            return _Object(value, A.const(value))
        if cls is gast.UnaryOp and isinstance(expr.op, gast.Not):
            inner = self.static_of(expr.operand, namespace, local_defs, caller_locals)
            if isinstance(inner, _Object) and isinstance(inner.obj, _SIMPLE):
                return _Object(not inner.obj, A.const(not inner.obj))
            return _MISSING
        if cls is gast.Call and not expr.keywords and len(expr.args) == 2:
            func = self.static_of(expr.func, namespace, local_defs, caller_locals)
            if isinstance(func, _Object) and func.obj is getattr:
                base = self.static_of(expr.args[0], namespace, local_defs, caller_locals)
                name = self.static_of(expr.args[1], namespace, local_defs, caller_locals)
                if isinstance(base, _Object) and isinstance(base.obj, (types.ModuleType, type)) \
                        and isinstance(name, _Object) and isinstance(name.obj, str):
                    obj = getattr(base.obj, name.obj, _MISSING)
                    if obj is not _MISSING and _holds_callable(obj):
                        return _Object(obj)
        return _MISSING

    def fold_static_tests(self, stmts, namespace, local_defs, caller_locals):
        """``if cell == 'rnn': ...`` on a value known at generation time: only the
        branch taken (the generated code is specialized on that value)."""
        out = []
        for s in stmts:
            if isinstance(s, gast.If):
                test = self.static_of(s.test, namespace, local_defs, caller_locals)
                if isinstance(test, _Object) and isinstance(test.obj, _SIMPLE) and not (
                        isinstance(s.test, gast.Constant)):
                    out.extend(self.fold_static_tests(s.body if test.obj else s.orelse,
                                                      namespace, local_defs, caller_locals))
                    continue
            for field in ("body", "orelse"):
                sub = getattr(s, field, None)
                if isinstance(sub, list) and not isinstance(s, gast.FunctionDef):
                    setattr(s, field, self.fold_static_tests(sub, namespace, local_defs,
                                                             caller_locals) or [gast.Pass()]
                            if field == "body" else
                            self.fold_static_tests(sub, namespace, local_defs, caller_locals))
            out.append(s)
        return out

    def lambda_callee(self, lam: gast.Lambda, namespace, info,
                      scope_defs: Optional[Dict[str, Any]] = None) -> _Callee:
        ret = gast.copy_location(gast.Return(value=lam.body), lam)
        node = gast.FunctionDef(name="lambda_", args=lam.args, body=[ret], decorator_list=[],
                                returns=None, type_comment=None, type_params=[])
        gast.copy_location(node, lam)
        return self.nested_callee(node, namespace, info, scope_defs)

    def static_assignment(self, s: gast.Assign, namespace, info, local_defs,
                          caller_locals) -> Optional[List[gast.stmt]]:
        """``f = functools.partial(g, x, k=y)`` and ``f = x.sum`` (called later):
        descriptors, with the bound values saved in fresh names where they are made.
        None for any other assignment."""
        name = s.targets[0].id
        value = s.value
        if self.counts.get(name, 1) > 1:
            return None
        calls = _CallSite(self, namespace, info, local_defs, caller_locals, s)
        pre: List[gast.stmt] = []
        made = self.partial_of(value, name, s, namespace, info, local_defs, caller_locals,
                               calls, pre)
        if made is not None:
            local_defs[name] = made
            self.removed_defs.setdefault(name, (s, info))
            for p in pre:
                _mark_origin(p, info)
            return calls.hoisted + pre
        if isinstance(value, gast.Attribute) and self.static_of(
                value.value, namespace, local_defs, caller_locals) is _MISSING \
                and _only_called(name, self.scope):
            if lookup_method(value.attr) is None:
                return None
            fresh = self.names.fresh(name + "_self")
            local_defs[name] = _Method(A.load(fresh), value.attr)
            self.removed_defs.setdefault(name, (s, info))
            stmt = gast.copy_location(A.assign(fresh, value.value), s)
            _mark_origin(stmt, info)
            # (the receiver's own calls are inlined: f = helper(x).sum)
            return self.block([stmt], namespace, info, local_defs, caller_locals)
        return None

    def partial_of(self, value, name, s, namespace, info, local_defs, caller_locals, calls,
                   pre) -> Optional[_Partial]:
        """The descriptor of ``functools.partial(g, x, k=y)`` (g itself known at
        generation time: a function, a lambda, another partial), its bound values saved
        in fresh names (statements appended to ``pre``); None for any other value."""
        if not (isinstance(value, gast.Call) and value.args and not any(
                isinstance(a, gast.Starred) for a in value.args) and all(
                k.arg is not None for k in value.keywords)):
            return None
        func = self.static_of(value.func, namespace, local_defs, caller_locals)
        if not (isinstance(func, _Object) and func.obj is functools.partial):
            return None
        first = value.args[0]
        if isinstance(first, gast.Lambda):
            target = self.lambda_callee(first, namespace, info, local_defs)
        else:
            target = self.partial_of(first, name, s, namespace, info, local_defs,
                                     caller_locals, calls, pre)
            if target is None:
                target = self.static_of(first, namespace, local_defs, caller_locals)
        if target is _MISSING or not self.callable_like(target):
            return None

        def saved(expr, hint):
            expr = calls.visit(expr)
            if isinstance(expr, gast.Constant) or _static_value(expr) is not _MISSING:
                return _folded(expr)
            fresh = self.names.fresh(hint)
            pre.append(gast.copy_location(A.assign(fresh, expr), s))
            return A.load(fresh)
        args = [saved(a, name + "_arg") for a in value.args[1:]]
        keywords = [(k.arg, saved(k.value, name + "_" + k.arg)) for k in value.keywords]
        if isinstance(target, _Partial):
            # partial(partial(g, a), b) calls g(a, b)
            given = {k for k, _ in keywords}
            return _Partial(target.func, target.args + args,
                            [kv for kv in target.keywords if kv[0] not in given] + keywords)
        return _Partial(target, args, keywords)

    def split_static_tuple(self, s: gast.Assign, namespace, local_defs, caller_locals):
        """``fn, W = layer`` where ``layer`` is known (a tuple holding a function):
        one assignment per item, so ``fn`` is known too."""
        target = s.targets[0]
        if not all(isinstance(t, gast.Name) for t in target.elts):
            return None
        names = {t.id for t in target.elts}
        if isinstance(s.value, (gast.Tuple, gast.List)) and len(s.value.elts) == len(
                target.elts) and not (A.names_loaded(s.value) & names) and any(
                self.callable_like(self.static_of(e, namespace, local_defs, caller_locals))
                for e in s.value.elts):
            # fn, W = acts[0], params[0]
            return [gast.copy_location(A.assign(A.store(t.id), e), s)
                    for t, e in zip(target.elts, s.value.elts)]
        found = self.static_of(s.value, namespace, local_defs, caller_locals)
        if not (isinstance(found, _Object) and isinstance(found.obj, (tuple, list))
                and len(found.obj) == len(target.elts) and _holds_callable(found.obj)):
            return None
        out = []
        for k, t in enumerate(target.elts):
            item = gast.Subscript(value=A.clone(s.value), slice=A.const(k), ctx=gast.Load())
            out.append(gast.copy_location(A.assign(A.store(t.id), item), s))
        return out

    def unroll(self, s: gast.For, namespace, info, local_defs, caller_locals):
        """``for fn, W in layers:`` over a sequence known at generation time that
        holds functions (``layers`` an argument, ``zip(acts, params)``,
        ``enumerate(layers)``): one copy of the body per item, so each call knows its
        function.  None for any other loop."""
        if s.orelse or any(isinstance(n, (gast.Break, gast.Continue, gast.Return))
                           for n in A.nodes(gast.Module(body=s.body, type_ignores=[]))):
            return None
        it = s.iter
        parts, wrap = [it], None
        counted = self.counted_range(it, namespace, local_defs, caller_locals)
        if counted is not None and isinstance(s.target, gast.Name) and s.target.id not in \
                A.names_stored(gast.Module(body=s.body, type_ignores=[])):
            # for i in range(len(fns)): ... fns[i](x) ...  (i a constant in each copy)
            out: List[gast.stmt] = []
            for k in range(counted):
                out.extend(A.rename(A.clone(b), {s.target.id: A.const(k)}) for b in s.body)
            if counted:
                out.append(gast.copy_location(A.assign(A.store(s.target.id),
                                                       A.const(counted - 1)), s))
            return out
        if isinstance(it, gast.Call) and not it.keywords and A.dotted(it.func) in (
                "zip", "enumerate") and A.root_name(it.func) not in caller_locals \
                and namespace.resolve(A.dotted(it.func)) in (zip, enumerate):
            wrap = A.dotted(it.func)
            parts = list(it.args)
            if wrap == "enumerate" and len(parts) != 1:
                return None
        statics = [self.static_of(p, namespace, local_defs, caller_locals) for p in parts]
        known = [d for d in statics if isinstance(d, _Object)
                 and isinstance(d.obj, (list, tuple)) and _holds_callable(d.obj)]
        if not known:
            return None
        if any(d is not _MISSING and not isinstance(d, _Object) for d in statics):
            return None
        for p, d in zip(parts, statics):
            if d is _MISSING and not isinstance(p, (gast.Name, gast.Attribute)):
                return None     # (a run-time iterable we would have to index)
        n = min(len(d.obj) for d in known)
        stored = A.names_stored(s.target)
        out: List[gast.stmt] = []
        for k in range(n):
            items = [gast.Subscript(value=A.clone(p), slice=A.const(k), ctx=gast.Load())
                     for p in parts]
            if wrap == "enumerate":
                item = gast.Tuple(elts=[A.const(k), items[0]], ctx=gast.Load())
            elif wrap == "zip":
                item = gast.Tuple(elts=items, ctx=gast.Load())
            else:
                item = items[0]
            renames = {v: self.names.fresh(v) for v in sorted(stored)}
            for v in renames.values():
                self.counts[v] = 1
            target = A.rename(A.clone(s.target), renames)
            out.append(gast.copy_location(A.assign(target, item), s))
            out.extend(A.rename(A.clone(b), renames) for b in s.body)
        # the loop variables keep their last values after the loop, as in Python
        if n:
            for v in sorted(stored):
                out.append(gast.copy_location(A.assign(v, A.load(renames[v])), s))
        return out

    def higher_order(self, call: gast.Call, site) -> Optional[gast.expr]:
        """``map(f, xs, ...)`` and ``functools.reduce(f, xs[, init])`` with ``f`` known
        at generation time: the loop they run, written out (its calls of ``f`` are
        then inlined like any other); None for any other call."""
        if call.keywords or len(call.args) < 2 or any(isinstance(a, gast.Starred)
                                                      for a in call.args):
            return None
        namespace, local_defs, caller_locals = site.namespace, site.local_defs, \
            site.caller_locals
        func = self.static_of(call.func, namespace, local_defs, caller_locals)
        if not isinstance(func, _Object) or not (func.obj is map or (
                func.obj is functools.reduce and len(call.args) <= 3)):
            return None
        first = call.args[0]
        desc = self.lambda_callee(first, namespace, site.info, local_defs) if isinstance(
            first, gast.Lambda) else self.static_of(first, namespace, local_defs, caller_locals)
        if desc is _MISSING or not self.callable_like(desc):
            return None
        f = self.expr_for(desc, namespace, local_defs, caller_locals)
        stmt = site.stmt
        stmts: List[gast.stmt] = []
        new = set()

        def fresh(base):
            name = self.names.fresh(base)
            new.add(name)
            return name
        if func.obj is map:
            out = fresh("mapped")
            items = [fresh("item") for _ in call.args[1:]]
            target = A.store(items[0]) if len(items) == 1 else gast.Tuple(
                elts=[A.store(v) for v in items], ctx=gast.Store())
            it = call.args[1] if len(items) == 1 else A.call(A.load("zip"), call.args[1:])
            append = gast.Expr(value=A.call(gast.Attribute(value=A.load(out), attr="append",
                                                           ctx=gast.Load()),
                                            [A.call(A.clone(f), [A.load(v) for v in items])]))
            stmts = [A.assign(out, gast.List(elts=[], ctx=gast.Load())),
                     gast.For(target=target, iter=it, body=[append], orelse=[],
                              type_comment=None)]
        else:
            out, item = fresh("acc"), fresh("item")
            seq = call.args[1]
            if len(call.args) == 3:
                stmts = [A.assign(out, call.args[2])]
            else:
                if not isinstance(seq, gast.Name):
                    held = fresh("items")
                    stmts.append(A.assign(held, seq))
                    seq = A.load(held)
                stmts.append(A.assign(out, gast.Subscript(value=A.clone(seq), slice=A.const(0),
                                                          ctx=gast.Load())))
                seq = gast.Subscript(value=A.clone(seq), slice=gast.Slice(
                    lower=A.const(1), upper=None, step=None), ctx=gast.Load())
            step = A.assign(out, A.call(A.clone(f), [A.load(out), A.load(item)]))
            stmts.append(gast.For(target=A.store(item), iter=seq, body=[step], orelse=[],
                                  type_comment=None))
        for s in stmts:
            for n in A.nodes(s):
                if isinstance(n, gast.stmt):
                    gast.copy_location(n, stmt)
        for name in new:
            self.counts[name] = 2
        site.hoisted.extend(self.block(stmts, namespace, site.info, local_defs,
                                       caller_locals | new))
        return A.load(out)

    def counted_range(self, it, namespace, local_defs, caller_locals) -> Optional[int]:
        """n for ``range(len(S))`` with S a sequence of functions known at generation
        time, else None."""
        if not (isinstance(it, gast.Call) and len(it.args) == 1 and not it.keywords
                and isinstance(it.args[0], gast.Call) and len(it.args[0].args) == 1
                and not it.args[0].keywords):
            return None
        r = self.static_of(it.func, namespace, local_defs, caller_locals)
        n = self.static_of(it.args[0].func, namespace, local_defs, caller_locals)
        if not (isinstance(r, _Object) and r.obj is range and isinstance(n, _Object)
                and n.obj is len):
            return None
        seq = self.static_of(it.args[0].args[0], namespace, local_defs, caller_locals)
        if isinstance(seq, _Display) and isinstance(seq.items, list) and \
                self.callable_like(seq):
            return len(seq.items)
        if isinstance(seq, _Object) and isinstance(seq.obj, (list, tuple)) and \
                _holds_callable(seq.obj):
            return len(seq.obj)
        return None

    # -- resolving a call
    def expand(self, call: gast.Call, namespace: Namespace, local_defs: Dict[str, Any],
               caller_locals: Set[str]) -> Tuple[Optional[_Callee], gast.Call]:
        """(the function to inline or None, the call to make): a call of a value known at
        generation time is a call of the function it holds (a partial adds its bound
        arguments, ``f = x.sum`` calls ``x.sum``; ``obj.method(x)`` on an object the
        first call knows is its class's function, objects.py)."""
        method = self.method_callee(call, namespace, caller_locals)
        if method is not None:
            return method, call
        for _ in range(64):
            func = call.func
            path = A.dotted(func)
            plain = path is not None and path.split(".")[0] not in caller_locals \
                and path.split(".")[0] not in local_defs and path.split(".")[0] not in self.extra
            desc = self.static_of(func, namespace, local_defs, caller_locals)
            if desc is _MISSING:
                return None, call
            if isinstance(desc, _Callee):
                return desc, call
            if isinstance(desc, _Method):
                return None, gast.Call(func=gast.Attribute(value=A.clone(desc.receiver),
                                                           attr=desc.attr, ctx=gast.Load()),
                                       args=call.args, keywords=call.keywords)
            if isinstance(desc, _Partial):
                call = self.apply_partial(call, self.expr_for(desc.func, namespace, local_defs,
                                                              caller_locals),
                                          [A.clone(a) for a in desc.args],
                                          [(k, A.clone(v)) for k, v in desc.keywords])
                continue
            obj = desc.obj
            if type(obj) is functools.partial:     # (not a subclass: grad objects)
                access = desc.access if desc.access is not None else A.load(
                    self.global_for("partial", obj, namespace, caller_locals))

                def part(attr, key):
                    return gast.Subscript(value=gast.Attribute(value=A.clone(access), attr=attr,
                                                               ctx=gast.Load()),
                                          slice=A.const(key), ctx=gast.Load())
                call = self.apply_partial(
                    call, self.expr_for(_Object(obj.func), namespace, local_defs,
                                        caller_locals),
                    [part("args", k) for k in range(len(obj.args))],
                    [(k, part("keywords", k)) for k in obj.keywords])
                continue
            if isinstance(obj, types.MethodType):
                # obj.method: its function, with the object (read when it runs) first
                owner = gast.Attribute(value=A.clone(desc.access), attr="__self__",
                                       ctx=gast.Load()) if desc.access is not None else \
                    A.load(self.global_for("self", obj.__self__, namespace, caller_locals))
                call = gast.Call(func=self.expr_for(_Object(obj.__func__), namespace,
                                                    local_defs, caller_locals),
                                 args=[owner] + list(call.args), keywords=call.keywords)
                continue
            owner = getattr(obj, "__self__", None)
            if isinstance(obj, types.BuiltinMethodType) and owner is not None and \
                    desc.access is not None and not isinstance(owner, types.ModuleType):
                # x.sum passed as an argument: a method call on its (run-time) object
                return None, gast.Call(func=gast.Attribute(value=gast.Attribute(
                    value=A.clone(desc.access), attr="__self__", ctx=gast.Load()),
                    attr=obj.__name__, ctx=gast.Load()), args=call.args,
                    keywords=call.keywords)
            callee = self.callee_for(obj) if isinstance(obj, types.FunctionType) else None
            if callee is not None:
                return callee, call
            if plain:
                return None, call
            return None, gast.Call(func=self.expr_for(desc, namespace, local_defs,
                                                      caller_locals),
                                   args=call.args, keywords=call.keywords)
        return None, call

    def apply_partial(self, call, func, args, keywords) -> gast.Call:
        given = {k.arg for k in call.keywords}
        return gast.Call(func=func, args=args + list(call.args),
                         keywords=[gast.keyword(arg=k, value=v) for k, v in keywords
                                   if k not in given] + list(call.keywords))

    def expr_for(self, desc, namespace, local_defs, caller_locals) -> gast.expr:
        """An expression naming a descriptor in the code being built."""
        if isinstance(desc, _NO_VALUE):
            name = self.names.fresh(getattr(desc, "name", "f"))
            local_defs[name] = desc
            return A.load(name)
        obj = desc.obj
        if desc.access is not None and not callable(obj):
            return A.clone(desc.access)
        # a library function reads as itself: np.tanh, not a fresh name
        mod = getattr(obj, "__name__", None)
        for alias, value in list(namespace.globals.items()):
            if alias in caller_locals or alias in namespace.closure:
                continue
            if value is obj:
                return A.load(alias)
            if isinstance(value, types.ModuleType) and mod and \
                    getattr(value, mod, None) is obj:
                return gast.Attribute(value=A.load(alias), attr=mod, ctx=gast.Load())
        hint = mod if isinstance(mod, str) and mod.isidentifier() else "f"
        return A.load(self.global_for(hint, obj, namespace, caller_locals))

    def callee_of(self, call: gast.Call, namespace: Namespace,
                  local_defs: Dict[str, Any], caller_locals: Set[str]) -> Optional[_Callee]:
        return self.expand(call, namespace, local_defs, caller_locals)[0]

    def callee_for(self, obj) -> Optional[_Callee]:
        """The callee for a Python function of the user's (None: a library function,
        one with a registered derivative, or one without source)."""
        module = getattr(obj, "__module__", None) or ""
        if module.split(".")[0] in _LIBRARY_PREFIXES:
            return None
        if self.rule_lookup(obj) is not None:
            return None      # a registered derivative (e.g. @s2sgrad.adjoint) wins
        return self.parsed_callee(obj)

    def method_callee(self, call: gast.Call, namespace, caller_locals) -> Optional[_Callee]:
        """``obj.method(x)`` / ``obj(x)`` on an object the first call knows: its class's
        function, with ``obj`` as its first argument (a static method: without)."""
        func = call.func
        if isinstance(func, gast.Attribute):
            receiver, name = func.value, func.attr
        else:
            receiver, name = func, "__call__"
        cls, obj = self.class_of(receiver, namespace, caller_locals)
        if cls is None:
            return None
        if isinstance(func, gast.Attribute) and obj is not None and \
                attribute_of(obj, name) is not NOT_AN_ATTRIBUTE:
            held = attribute_of(obj, name)
            if isinstance(held, types.FunctionType):
                # a function stored on the instance (self.activation = np_relu, a
                # SimpleNamespace of lambdas): called as it is, without self
                if self.rule_lookup(held) is not None:
                    return None
                callee = self.callee_for(held)
                if callee is None:
                    return None
                bound = copy.copy(callee)
                bound.receiver = None
                return bound
            # a callable stored on the instance (self.net(x)): an object's __call__
            receiver, name = func, "__call__"
            cls, obj = self.class_of(receiver, namespace, caller_locals)
            if cls is None:
                return None
        found = method_of(cls, name)
        if found is None:
            return None
        fn, binds_self = found
        if self.rule_lookup(fn) is not None:
            return None
        callee = self.parsed_callee(fn)
        if callee is None:
            return None
        bound = copy.copy(callee)
        bound.receiver = receiver if binds_self else None
        # (the names of its values: forward_result0, or dense_result for Dense.__call__)
        bound.name = cls.__name__.lower() if name == "__call__" else callee.name
        return bound

    def parsed_callee(self, obj) -> Optional[_Callee]:
        cached = self.parsed_cache.get(id(obj))
        if cached is None:
            entry = _CALLEES.get(obj)
            if entry is not None and entry[0] is obj.__code__ and entry[1] is obj.__defaults__:
                cached = entry[2]          # parsed and checked once, for every caller
                self.parsed_cache[id(obj)] = cached
        if cached is None:
            try:
                parsed = parse_function(obj)
            except S2SGradError:
                return None
            parsed.node = generator_arguments_to_lists(A.clone(parsed.node))
            generator_to_list(parsed.node, parsed.info)
            imported = hoist_imports(parsed.node, parsed.info, parsed.globals)
            check_supported(parsed.node, parsed.info)
            defaults = {}
            npos = parsed.node.s2s_signature["positional"]
            params = [a.id for a in parsed.node.args.posonlyargs + parsed.node.args.args]
            if obj.__defaults__:
                for p, d in zip(params[:npos][-len(obj.__defaults__):], obj.__defaults__):
                    defaults[p] = d
            defaults.update(obj.__kwdefaults__ or {})
            cached = _Callee(id(obj), parsed.node, parsed.info,
                             Namespace(collections.ChainMap(imported, parsed.globals)
                                       if imported else parsed.globals, parsed.closure),
                             defaults, False,
                             getattr(obj, "__name__", "f").replace("<lambda>", "lambda_"))
            self.parsed_cache[id(obj)] = cached
            _CALLEES[obj] = (obj.__code__, obj.__defaults__, cached)
        return cached

    # -- inlining one call
    def inline(self, callee: _Callee, call: gast.Call, info, caller_locals: Set[str],
               caller_namespace: Namespace, site, caller_defs: Optional[Dict[str, Any]] = None
               ) -> Tuple[List[gast.stmt], gast.expr, Any]:
        """(statements, the value, what the value is when known at generation time:
        a function the callee returns, for ``make_step(a)(x)``)."""
        if callee.key in self.stack:
            # Recursion is unrolled when constant arguments bound its depth (fact(3, x)):
            # each level's 'if n <= 1' is decided at generation time.
            depth = self.stack.count(callee.key)
            static_args = any(_static_value(a) is not _MISSING for a in call.args) or any(
                _static_value(k.value) is not _MISSING for k in call.keywords)
            if not static_args or depth >= MAX_RECURSION:
                raise info.error(UnsupportedSyntaxError,
                                 "recursive call to '%s' cannot be differentiated%s"
                                 % (callee.name, "" if not static_args else
                                    ": it does not stop within %d levels" % MAX_RECURSION),
                                 site, hint="rewrite the recursion as a loop, or bound its "
                                            "depth with a constant argument (f(3, x))")
        if len(self.stack) > 200:
            raise info.error(UnsupportedSyntaxError, "calls nested too deeply to inline", site)
        receiver = getattr(callee, "receiver", None)
        if receiver is not None:
            # obj.method(x) -> method(obj, x)
            call = gast.Call(func=call.func, args=[A.clone(receiver)] + list(call.args),
                             keywords=call.keywords)
        node = A.clone(callee.node)
        params = [a.id for a in node.args.posonlyargs + node.args.args]
        # the globals the callee reads must not be shadowed by fresh names
        everything = gast.Module(body=node.body, type_ignores=[])
        for n in A.names_loaded(everything) - A.names_stored(everything) - set(params):
            self.names.reserve(n)
        bound = self.bind(callee, node, params, call, info, site)
        # fresh names for the callee's locals; parameters the callee never re-assigns
        # take the argument's own name
        body = node.body
        body = lower_match(body, self.names, callee.info)
        body = expand_starred(hoist_walrus(lower_comprehensions(body, self.names, callee.info,
                                                                node), callee.info))
        stored = A.names_stored(gast.Module(body=body, type_ignores=[]))
        nested_defs = {s.name for s in A.nodes(gast.Module(body=body, type_ignores=[]))
                       if isinstance(s, gast.FunctionDef)}
        renames: Dict[str, str] = {}
        pre: List[gast.stmt] = self.bound_pre
        callee_defs: Dict[str, Any] = {}
        for p in params:
            a = bound[p]
            known = _MISSING if caller_defs is None else self.lambda_callee(
                a, caller_namespace, info, caller_defs) if isinstance(
                a, gast.Lambda) else self.static_of(
                a, caller_namespace, caller_defs, caller_locals)
            if known is not _MISSING and not self.callable_like(known):
                known = _MISSING
            if isinstance(known, _NO_VALUE) and p not in stored:
                # a function passed as an argument: calls of the parameter are calls
                # of it (no value to pass at run time)
                renames[p] = self.names.fresh(p)
                callee_defs[renames[p]] = known
                self.removed_defs.setdefault(renames[p], (site, info))
                continue
            if isinstance(a, gast.Name) and p not in stored:
                renames[p] = a.id
            elif p not in stored and (isinstance(a, gast.Constant) or (
                    isinstance(a, gast.UnaryOp) and isinstance(a.operand, gast.Constant))
                    or getattr(a, "s2s_packed", False)):
                renames[p] = a          # a constant argument (or *args' tuple) is substituted
            else:
                renames[p] = self.names.fresh(p)
                # (obj.layer(x): the receiver's attributes as items, as in the caller)
                pre.append(self.object_attributes(gast.copy_location(
                    A.assign(renames[p], a), site), caller_namespace, caller_locals))
            if isinstance(known, _Object) and isinstance(renames[p], str) and p not in stored:
                callee_defs[renames[p]] = known     # (a dict of functions, say)
        for n in sorted(stored - set(params)):
            renames[n] = self.names.fresh(n)
        body = _fold_static_branches([fold_displays(A.rename(s, renames)) for s in body])
        # calls inside the callee, resolved in the callee's namespace
        local_values = {v for v in renames.values() if isinstance(v, str)}
        for v in renames.values():          # the caller's names in *args' display
            if not isinstance(v, str):
                local_values |= A.names_loaded(v)
        callee_locals = local_values | caller_locals if callee.nested else local_values
        namespace = callee.namespace
        self.stack.append(callee.key)
        saved_scope = self.scope
        try:
            local_defs: Dict[str, Any] = dict(caller_defs or {}) if callee.nested else {}
            if callee.nested and getattr(callee, "scope_defs", None):
                local_defs.update(callee.scope_defs)
            local_defs.update(callee_defs)
            body = self.fold_static_tests(body, namespace, local_defs,
                                          callee_locals | nested_defs)
            self.scope = body
            self.counts.update(_store_counts(body))
            body = self.block(body, namespace, callee.info, local_defs,
                              callee_locals | nested_defs)
        finally:
            self.stack.pop()
            self.scope = saved_scope
        if not callee.nested:
            body = [self.rebind_globals(s, namespace, caller_namespace, caller_locals,
                                        callee_locals) for s in body]
        # one exit: the value of the last 'return'
        returns = [n for n in A.nodes(gast.Module(body=body, type_ignores=[]))
                   if isinstance(n, gast.Return)]
        if not returns:
            body = body + [gast.copy_location(gast.Return(value=A.const(None)), site)]
        body = lower_jumps(body, self.names, callee.info)
        ret = body[-1]
        body = body[:-1]
        value = ret.value if ret.value is not None else A.const(None)
        for s in pre + body:
            _mark_origin(s, callee.info)
        known = _MISSING
        if isinstance(value, gast.Lambda):
            # (a function returned as a lambda: compose(f, g) -> lambda t: f(g(t)))
            known = self.lambda_callee(value, namespace, callee.info, local_defs)
        elif not isinstance(value, gast.Constant):
            known = self.static_of(value, namespace, local_defs, callee_locals | nested_defs)
            if known is not _MISSING and not self.callable_like(known):
                known = _MISSING
        if isinstance(known, _NO_VALUE):
            # a function made by the callee (a factory's closure): the caller calls it
            name = self.names.fresh(getattr(known, "name", callee.name + "_result"))
            self.removed_defs.setdefault(name, (site, info))
            return pre + body, A.load(name), known
        if isinstance(value, (gast.Name, gast.Constant)):
            return pre + body, value, known
        result = self.names.fresh(callee.name + "_result")
        last = gast.copy_location(A.assign(result, value), ret)
        _mark_origin(last, callee.info)
        return pre + body + [last], A.load(result), known

    def bind(self, callee: _Callee, node, params, call: gast.Call, info, site):
        """The expression each parameter of ``callee`` takes at this call: positional
        and keyword arguments, defaults, ``*args`` as a tuple display of the extra
        positional arguments, ``**kwargs`` as a dict display of the extra keywords
        (their items bound to fresh names first, so that substituting the display
        for the parameter computes nothing twice)."""
        sig = getattr(node, "s2s_signature", None) or {
            "positional": len(params), "vararg": None, "kwonly": [], "kw_defaults": {},
            "kwarg": None}
        call = fold_displays(call)          # f(*(a, b)) -> f(a, b)
        positional = params[:sig["positional"]]
        for a in call.args:
            if isinstance(a, gast.Starred):
                raise info.error(UnsupportedSyntaxError, "a starred argument '*%s' in the call "
                                 "to '%s': the number of values it passes is not known before "
                                 "the call runs" % (A.dotted(a.value) or "...", callee.name),
                                 site, hint="pass the arguments one by one, or a tuple "
                                            "display: f(*(a, b))")
        for k in call.keywords:
            if k.arg is None:
                raise info.error(UnsupportedSyntaxError, "'**%s' in the call to '%s': the "
                                 "keywords it passes are not known before the call runs"
                                 % (A.dotted(k.value) or "...", callee.name), site,
                                 hint="pass the keyword arguments explicitly")
        bound: Dict[str, gast.expr] = {}
        extra_args = []
        for k, a in enumerate(call.args):
            if k < len(positional):
                bound[positional[k]] = _folded(a)
            elif sig["vararg"] is not None:
                extra_args.append(a)
            else:
                raise info.error(UnsupportedSyntaxError, "too many arguments in the call to "
                                 "'%s'" % callee.name, site)
        keywords = set(positional[len(sig.get("posonly", ())):]) | set(sig["kwonly"])
        extra_keywords = []
        for k in call.keywords:
            if k.arg in bound or (k.arg not in keywords and sig["kwarg"] is None):
                raise info.error(UnsupportedSyntaxError, "unsupported keyword argument %r in the "
                                 "call to '%s'" % (k.arg, callee.name), site)
            if k.arg in keywords:
                bound[k.arg] = _folded(k.value)
            else:
                extra_keywords.append(k)
        pre = []

        def held(value, hint):
            if isinstance(value, (gast.Name, gast.Constant)):
                return value
            name = self.names.fresh(hint)
            pre.append(gast.copy_location(A.assign(name, value), site))
            return A.load(name)

        if sig["vararg"] is not None:
            packed = gast.Tuple(elts=[held(a, sig["vararg"]) for a in extra_args],
                                ctx=gast.Load())
            packed.s2s_packed = True
            bound[sig["vararg"]] = packed
        if sig["kwarg"] is not None:
            packed = gast.Dict(keys=[A.const(k.arg) for k in extra_keywords],
                               values=[held(k.value, k.arg) for k in extra_keywords])
            packed.s2s_packed = True
            bound[sig["kwarg"]] = packed
        self.bound_pre = pre
        for p in params:
            if p in bound:
                continue
            if p in sig["kw_defaults"] and callee.nested:
                bound[p] = A.clone(sig["kw_defaults"][p])
                continue
            if p not in callee.defaults:
                raise info.error(UnsupportedSyntaxError, "missing argument %r in the call to '%s'"
                                 % (p, callee.name), site)
            d = callee.defaults[p]
            if isinstance(d, gast.AST):
                bound[p] = A.clone(d)
            elif _is_literal(d):
                bound[p] = _literal(d)
            else:
                bound[p] = A.load(self.global_for(p, d))
        return bound

    def global_for(self, hint: str, obj, caller_ns: Optional[Namespace] = None,
                   caller_locals: Set[str] = frozenset()) -> str:
        for name, o in self.extra.items():
            if o is obj:
                return name
        if caller_ns is not None:
            # the caller may know the same object under another name (numpy as np)
            for name, o in list(caller_ns.globals.items()):
                if o is obj and name not in caller_locals and name not in caller_ns.closure:
                    return name
            if caller_ns.resolve(hint) is _MISSING and hint not in caller_locals and \
                    hint not in self.top_locals:
                # (not a name of the function being differentiated: a bound method's
                # object is not its 'self')
                self.extra[hint] = obj
                return hint
        name = self.names.fresh(hint)
        self.extra[name] = obj
        return name

    def rebind_globals(self, stmt, callee_ns: Namespace, caller_ns: Namespace,
                       caller_locals: Set[str], callee_locals: Set[str]):
        """Global names the callee reads, as the generated code must spell them."""
        mapping = {}
        live = {}
        for n in A.names_loaded(stmt):
            if n in callee_locals or n in self.extra:
                continue
            obj = callee_ns.resolve(n)
            if obj is _MISSING:
                continue
            if n not in caller_locals and caller_ns.resolve(n) is obj:
                continue
            module = _module_of(callee_ns, n)
            if module is not None and not callable(obj) and \
                    not isinstance(obj, types.ModuleType):
                # A data global of another module (a constant, an array): read it live,
                # as the callee does, so rebinding it later is seen (not a stale copy).
                live[n] = self.global_for(module.__name__.split(".")[-1], module, caller_ns,
                                          caller_locals)
                continue
            mapping[n] = self.global_for(n, obj, caller_ns, caller_locals)
        mapping = {k: v for k, v in mapping.items() if k != v}
        stmt = A.rename(stmt, mapping) if mapping else stmt
        return _LiveGlobals(live).visit(stmt) if live else stmt


def _module_of(ns: "Namespace", name: str):
    """The module whose globals ``ns`` reads ``name`` from, if it is a real module."""
    if name in ns.closure or name not in ns.globals:
        return None
    module = sys.modules.get(ns.globals.get("__name__", ""))
    if module is None or getattr(module, "__dict__", None) is not ns.globals:
        return None
    return module


class _LiveGlobals(A.Transformer):
    """``SCALE`` -> ``helpmod.SCALE`` for the names in ``live`` (name -> module alias)."""

    def __init__(self, live):
        self.live = live

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.live:
            return gast.copy_location(gast.Attribute(
                value=gast.Name(id=self.live[node.id], ctx=gast.Load(), annotation=None,
                                type_comment=None), attr=node.id, ctx=gast.Load()), node)
        return node


MAX_RECURSION = 32

import operator as _op  # noqa: E402

_COMPARISONS = {gast.Eq: _op.eq, gast.NotEq: _op.ne, gast.Is: _op.is_, gast.IsNot: _op.is_not,
                gast.Lt: _op.lt, gast.LtE: _op.le, gast.Gt: _op.gt, gast.GtE: _op.ge,
                gast.In: lambda a, b: a in b, gast.NotIn: lambda a, b: a not in b}


def _static_value(node):
    """The value of an expression of constants only (3 - 1, n <= 1 after binding n = 3)."""
    if any(isinstance(n, (gast.Name, gast.Call, gast.Attribute, gast.Subscript, gast.Lambda,
                          gast.ListComp, gast.Starred))
           for n in A.nodes(node)):
        return _MISSING
    try:
        expr = ast.fix_missing_locations(gast.gast_to_ast(gast.Expression(body=node)))
        return eval(compile(expr, "<s2sgrad static>", "eval"), {"__builtins__": {}}, {})
    except Exception:
        return _MISSING


def _folded(node):
    """A constant expression argument as its literal value (3 - 1 -> 2)."""
    if isinstance(node, gast.Constant):
        return node
    value = _static_value(node)
    if value is not _MISSING and _is_literal(value) and not isinstance(value, tuple):
        return gast.copy_location(_literal(value), node) if hasattr(node, "lineno") \
            else _literal(value)
    return node


def _fold_static_branches(stmts) -> List[gast.stmt]:
    """``if 3 <= 1: ...`` -> only the branch taken (after constant arguments are bound)."""
    out: List[gast.stmt] = []
    for s in stmts:
        if out and isinstance(out[-1], gast.Return):
            break           # what follows a return never runs
        if isinstance(s, gast.If):
            value = _static_value(s.test)
            if value is not _MISSING:
                out.extend(_fold_static_branches(s.body if value else s.orelse))
                continue
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, _fold_static_branches(getattr(s, field)))
                if field == "body" and not s.body:
                    s.body = [gast.Pass()]
        out.append(s)
    return out


def _mark_origin(stmt, info):
    """Inlined statements remember the callee's source (comments, error messages)."""
    for n in A.nodes(stmt):
        if isinstance(n, gast.stmt) and not hasattr(n, "s2s_info"):
            n.s2s_info = info


class _CallSite(A.Transformer):
    """Inlines the calls of one statement's expression; their bodies go before it."""

    def __init__(self, inliner: Inliner, namespace, info, local_defs, caller_locals, stmt):
        self.inliner = inliner
        self.namespace = namespace
        self.info = info
        self.local_defs = local_defs
        self.caller_locals = caller_locals
        self.stmt = stmt
        self.hoisted: List[gast.stmt] = []

    def would_inline(self, expr) -> bool:
        return any(isinstance(n, gast.Call) and self.inliner.callee_of(
            n, self.namespace, self.local_defs, self.caller_locals) is not None
            for n in A.nodes(expr))

    def visit_Lambda(self, node):
        return node

    def visit_ListComp(self, node):
        return node

    def visit_Call(self, node):
        written = self.inliner.higher_order(node, self)
        if written is not None:
            return written
        self.generic_visit(node)
        callee, node = self.inliner.expand(node, self.namespace, self.local_defs,
                                           self.caller_locals)
        if callee is None:
            return node
        stmts, value, known = self.inliner.inline(callee, node, self.info, self.caller_locals,
                                                  self.namespace, self.stmt, self.local_defs)
        if known is not _MISSING and isinstance(value, gast.Name):
            self.local_defs[value.id] = known
        self.hoisted.extend(stmts)
        return value


def _store_counts(body) -> Dict[str, int]:
    """How many statements assign each name (a def counts as one)."""
    counts: Dict[str, int] = {}
    for n in A.nodes(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.FunctionDef):
            counts[n.name] = counts.get(n.name, 0) + 1
        elif isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def _only_called(name: str, body) -> bool:
    """``name`` is read only as the function of calls in ``body``."""
    called = set()
    for n in A.nodes(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == name:
            called.add(id(n.func))
    return all(id(n) in called for n in A.nodes(gast.Module(body=body, type_ignores=[]))
               if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load))


def inline_calls(body: List[gast.stmt], parsed, names: A.NameAllocator,
                 static_args: Optional[Dict[str, Any]] = None, imported=None,
                 example_args=None):
    """``body`` with the user's function calls inlined, and the extra globals it reads.
    ``static_args``: parameters whose values the code is specialized on (callables and
    containers of them), by name; ``imported``: what imports inside the function bound,
    read as globals; ``example_args`` (the first call's) tell the classes of objects:
    their methods are inlined too, and their attributes become items (objects.py)."""
    fn = parsed.node
    namespace = Namespace(collections.ChainMap(imported, parsed.globals) if imported
                          else parsed.globals, parsed.closure)
    inliner = Inliner(parsed.info, namespace, names, lookup)
    inliner.extra.update(imported or {})
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    for p, a in zip(params, example_args or ()):
        if _holds_objects(a):
            inliner.static[p] = a
    inliner.stack.append(id(parsed.func))
    local = {a.id for a in fn.args.posonlyargs + fn.args.args} | A.names_stored(
        gast.Module(body=body, type_ignores=[]))
    inliner.top_locals = local
    counts = _store_counts(body)
    known: Dict[str, Any] = {}
    for p, value in (static_args or {}).items():
        if counts.get(p, 0) == 0:        # (a parameter never re-assigned)
            known[p] = _Object(value, A.load(p))
    body = inliner.fold_static_tests(body, namespace, known, local)
    inliner.counts = _store_counts(body)
    inliner.scope = body
    out = inliner.block(body, namespace, parsed.info, known, local)
    # a nested def or lambda used other than by calling it (passed to map, returned)
    left = A.names_loaded(gast.Module(body=out, type_ignores=[])) & set(inliner.removed_defs)
    for name in sorted(left):
        node, info = inliner.removed_defs[name]
        raise info.error(UnsupportedSyntaxError,
                         "the local function '%s' is used as a value (passed or returned); "
                         "s2sgrad differentiates local functions only where they are called"
                         % name, node, hint="call it directly, or define it at module level "
                                            "and register a derivative with @s2sgrad.adjoint")
    return out, inliner.extra


class Typed:
    """An object of which only the class is known (an item of a list of objects of one
    class, an object constructed in the function)."""
    __slots__ = ("cls",)

    def __init__(self, cls):
        self.cls = cls


def _holds_objects(value, depth=0) -> bool:
    if is_object(value):
        return True
    if depth < 3 and isinstance(value, (list, tuple)):
        return any(_holds_objects(v, depth + 1) for v in value)
    if depth < 3 and isinstance(value, dict):
        return any(_holds_objects(v, depth + 1) for v in value.values())
    return False


def _attr_key(node) -> Optional[str]:
    """The attribute name of an item ``obj[AttrKey('name')]``, else None."""
    key = getattr(node.slice, "value", None)
    return key if key.__class__ is AttrKey else None


class _ObjectAttributes(A.Transformer):
    """``obj.name`` -> ``obj[AttrKey('name')]`` where ``obj`` is an object the first call
    knows and ``name`` plain data on it (not a property, a method, a class constant)."""

    def __init__(self, inliner, namespace, caller_locals):
        self.inliner = inliner
        self.namespace = namespace
        self.caller_locals = caller_locals

    def visit_Lambda(self, node):
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        cls, obj = self.inliner.class_of(node.value, self.namespace, self.caller_locals)
        if cls is None:
            return node
        store = isinstance(node.ctx, gast.Store)
        written = self.inliner.written_attributes
        key = (id(obj) if obj is not None else cls, node.attr)
        if not is_instance_attribute(cls, obj, node.attr, store) and not (
                key in written and is_instance_attribute(cls, obj, node.attr, True)):
            return node         # a method, property or class attribute: read as it is
        if not store and key not in written and obj is not None:
            value = attribute_of(obj, node.attr)
            if callable(value) and not isinstance(value, type) and not is_object(value):
                return node     # a function held by the object (self.act = np.tanh):
                #                 known at the first call, resolved where it is called
        if store:
            written.add(key)    # (read back later in the function: an item too)
        return gast.copy_location(gast.Subscript(value=node.value,
                                                 slice=A.const(AttrKey(node.attr)),
                                                 ctx=node.ctx), node)


def _attribute_path(node) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """(name, attributes) of ``self[AttrKey('params')][AttrKey('W')]``-like nodes."""
    attrs: List[str] = []
    while isinstance(node, gast.Subscript) and _attr_key(node) is not None:
        attrs.append(_attr_key(node))
        node = node.value
    if not attrs or not isinstance(node, gast.Name):
        return None
    return node.id, tuple(reversed(attrs))


def attribute_aliases(body: List[gast.stmt], paths, names: A.NameAllocator, info, fn):
    """wrt="self.params": the trace reads ``self.params`` once, at the top, into a name
    (``self_params``) that is then differentiated like a parameter; every read of the
    path becomes a read of that name.  A write to the path (or a rebinding of ``self``)
    would make the name stale: an error."""
    aliases = {}
    for path in paths:
        aliases[path] = names.fresh("_".join((path[0],) + tuple(path[1])))
    for n in A.nodes(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, (gast.Subscript, gast.Name)) and isinstance(n.ctx, gast.Store):
            found = _attribute_path(n) if isinstance(n, gast.Subscript) else (n.id, ())
            if found is None:
                continue
            for (root, attrs), alias in aliases.items():
                if found[0] == root and tuple(attrs[:len(found[1])]) == found[1]:
                    raise info.error(UnsupportedSyntaxError,
                                     "the function assigns %s, which it is differentiated "
                                     "with respect to (wrt=%r)" % (".".join(
                                         (found[0],) + found[1]), ".".join((root,) + attrs)),
                                     getattr(n, "s2s_origin", None) or n,
                                     hint="differentiate with respect to what the function "
                                          "reads, not what it rebinds")

    class Alias(A.Transformer):
        def visit_Subscript(self, node):
            found = _attribute_path(node)
            if found is not None and isinstance(node.ctx, gast.Load):
                key = (found[0], found[1])
                if key in aliases:
                    return A.load(aliases[key])
            self.generic_visit(node)
            return node

    body = [Alias().visit(s) for s in body]
    # any other use of the object (passed whole, aliased, read by getattr) could reach
    # the path unseen: a silent zero gradient, so an error instead
    roots: Dict[str, Set[str]] = {}
    for root, attrs in aliases:
        if attrs:
            roots.setdefault(root, set()).add(attrs[0])
    for stmt in body:
        for n in A.nodes(stmt):
            if not isinstance(n, gast.Name) or n.id not in roots or \
                    not isinstance(n.ctx, gast.Load):
                continue
            parent = _parent_item(stmt, n)
            if parent is not None and _attr_key(parent) not in roots[n.id]:
                continue        # self.reg, self.bn_params: another attribute
            path = next(".".join((r,) + a) for r, a in aliases if r == n.id)
            where = getattr(stmt, "s2s_info", None) or info
            raise where.error(UnsupportedSyntaxError,
                              "'%s' is used here in a way s2sgrad cannot follow to %s "
                              "(wrt=%r)" % (n.id, path, path),
                              getattr(stmt, "s2s_origin", None) or stmt,
                              hint="read the attribute where it is used (%s), or "
                                   "differentiate with respect to the whole object "
                                   "(wrt=%r)" % (path, n.id))
    prologue = []
    for (root, attrs), alias in aliases.items():
        read: gast.expr = A.load(root)
        for a in attrs:
            read = gast.Subscript(value=read, slice=A.const(AttrKey(a)), ctx=gast.Load())
        # (reverse.py gives it no adjoint)
        prologue.append(gast.copy_location(A.assign(alias, read), fn))
    return prologue + body, aliases


def _parent_item(stmt, name):
    """The ``name[AttrKey(...)]`` node around ``name`` in ``stmt``, if any."""
    for n in A.nodes(stmt):
        if isinstance(n, gast.Subscript) and n.value is name and _attr_key(n) is not None:
            return n
    return None


def _is_path(node) -> bool:
    """A name, attribute or constant-index chain (evaluating it twice is harmless)."""
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        if isinstance(node, gast.Subscript) and not isinstance(node.slice, gast.Constant):
            return False
        node = node.value
    return isinstance(node, gast.Name)
