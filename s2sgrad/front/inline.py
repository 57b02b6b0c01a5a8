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
import sys
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
from s2sgrad.front.desugar import expand_starred, flatten_signature, fold_displays
from s2sgrad.front.parse import parse_function
from s2sgrad.rules import lookup

_LIBRARY_PREFIXES = ("numpy", "scipy", "s2sgrad", "builtins")
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

    # -- statements
    def block(self, stmts, namespace: Namespace, info, local_defs: Dict[str, _Callee],
              caller_locals: Set[str]) -> List[gast.stmt]:
        out: List[gast.stmt] = []
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
                local_defs[s.name] = self.nested_callee(s, namespace, info)
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
                local_defs[s.targets[0].id] = self.nested_callee(node, namespace, info)
                self.removed_defs.setdefault(s.targets[0].id, (s, info))
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, self.block(getattr(s, field), namespace, info, local_defs,
                                                 caller_locals))
            calls = _CallSite(self, namespace, info, local_defs, caller_locals, s)
            if isinstance(s, gast.While):
                if calls.would_inline(s.test):
                    raise info.error(UnsupportedSyntaxError,
                                     "a call to a Python function in a while condition cannot "
                                     "be differentiated", s,
                                     hint="compute the condition into a variable before the "
                                          "loop and again at the end of its body")
            elif isinstance(s, gast.If):
                s.test = calls.visit(s.test)
            elif isinstance(s, gast.For):
                s.iter = calls.visit(s.iter)
            elif isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return,
                                gast.AnnAssign)) and s.value is not None:
                s.value = calls.visit(s.value)
            out.extend(calls.hoisted)
            out.append(s)
        return out

    def nested_callee(self, node: gast.FunctionDef, namespace, info) -> _Callee:
        flatten_signature(node)
        defaults = {}
        params = [a.id for a in node.args.posonlyargs + node.args.args]
        if node.args.defaults:
            for p, d in zip(params[:node.s2s_signature["positional"]][
                    -len(node.args.defaults):], node.args.defaults):
                defaults[p] = d
        return _Callee(id(node), node, info, namespace, defaults, True, node.name)

    # -- resolving a call
    def callee_of(self, call: gast.Call, namespace: Namespace,
                  local_defs: Dict[str, _Callee], caller_locals: Set[str]) -> Optional[_Callee]:
        func = call.func
        if isinstance(func, gast.Name) and func.id in local_defs:
            return local_defs[func.id]
        path = A.dotted(func)
        if path is None or path.split(".")[0] in caller_locals:
            return None
        obj = namespace.resolve(path)
        if not isinstance(obj, types.FunctionType):
            return None
        module = getattr(obj, "__module__", None) or ""
        if module.split(".")[0] in _LIBRARY_PREFIXES:
            return None
        if self.rule_lookup(obj) is not None:
            return None      # a registered derivative (e.g. @s2sgrad.adjoint) wins
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
            check_supported(parsed.node, parsed.info)
            defaults = {}
            npos = parsed.node.s2s_signature["positional"]
            params = [a.id for a in parsed.node.args.posonlyargs + parsed.node.args.args]
            if obj.__defaults__:
                for p, d in zip(params[:npos][-len(obj.__defaults__):], obj.__defaults__):
                    defaults[p] = d
            defaults.update(obj.__kwdefaults__ or {})
            cached = _Callee(id(obj), parsed.node, parsed.info,
                             Namespace(parsed.globals, parsed.closure), defaults, False,
                             getattr(obj, "__name__", "f").replace("<lambda>", "lambda_"))
            self.parsed_cache[id(obj)] = cached
            _CALLEES[obj] = (obj.__code__, obj.__defaults__, cached)
        return cached

    # -- inlining one call
    def inline(self, callee: _Callee, call: gast.Call, info, caller_locals: Set[str],
               caller_namespace: Namespace, site) -> Tuple[List[gast.stmt], gast.expr]:
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
        body = expand_starred(lower_comprehensions(body, self.names, callee.info, node))
        stored = A.names_stored(gast.Module(body=body, type_ignores=[]))
        nested_defs = {s.name for s in A.nodes(gast.Module(body=body, type_ignores=[]))
                       if isinstance(s, gast.FunctionDef)}
        renames: Dict[str, str] = {}
        pre: List[gast.stmt] = self.bound_pre
        for p in params:
            a = bound[p]
            if isinstance(a, gast.Name) and p not in stored:
                renames[p] = a.id
            elif p not in stored and (isinstance(a, gast.Constant) or (
                    isinstance(a, gast.UnaryOp) and isinstance(a.operand, gast.Constant))
                    or getattr(a, "s2s_packed", False)):
                renames[p] = a          # a constant argument (or *args' tuple) is substituted
            else:
                renames[p] = self.names.fresh(p)
                pre.append(gast.copy_location(A.assign(renames[p], a), site))
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
        try:
            local_defs: Dict[str, _Callee] = {}
            body = self.block(body, namespace, callee.info, local_defs,
                              callee_locals | nested_defs)
        finally:
            self.stack.pop()
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
        if isinstance(value, (gast.Name, gast.Constant)):
            return pre + body, value
        result = self.names.fresh(callee.name + "_result")
        last = gast.copy_location(A.assign(result, value), ret)
        _mark_origin(last, callee.info)
        return pre + body + [last], A.load(result)

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
            if caller_ns.resolve(hint) is _MISSING and hint not in caller_locals:
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
        self.generic_visit(node)
        callee = self.inliner.callee_of(node, self.namespace, self.local_defs,
                                        self.caller_locals)
        if callee is None:
            return node
        stmts, value = self.inliner.inline(callee, node, self.info, self.caller_locals,
                                           self.namespace, self.stmt)
        self.hoisted.extend(stmts)
        return value


def inline_calls(body: List[gast.stmt], parsed, names: A.NameAllocator):
    """``body`` with the user's function calls inlined, and the extra globals it reads."""
    fn = parsed.node
    namespace = Namespace(parsed.globals, parsed.closure)
    inliner = Inliner(parsed.info, namespace, names, lookup)
    inliner.stack.append(id(parsed.func))
    local = {a.id for a in fn.args.posonlyargs + fn.args.args} | A.names_stored(
        gast.Module(body=body, type_ignores=[]))
    out = inliner.block(body, namespace, parsed.info, {}, local)
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
