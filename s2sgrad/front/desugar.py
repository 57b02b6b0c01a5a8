"""Desugaring passes: Python forms rewritten into ones the primal trace already knows.

Each pass takes and returns a list of statements (the user's tree, after inlining
and control-flow lowering) and keeps the meaning Python gives the form:

* ``split_unpacking``: tuple targets with more than names in them --
  ``a, (b, c) = t``, ``first, *mid, last = xs``, ``y[0], y[1] = u, v`` -- become
  a flat unpacking into names, or indexing, followed by one plain assignment per
  element.  (A flat ``a, b = t`` is left to the trace: the reverse pass gives ``t``
  the tuple of the targets' gradients.)
* ``flatten_signature`` (at parse time): ``*args``, keyword-only parameters and
  ``**kwargs`` become ordinary parameters; ``expand_starred`` and ``fold_displays``
  spread ``f(*xs)`` / ``f(**d)`` whose items are known and fold what inlining
  ``*args`` leaves (``(a, b)[0]``, ``len((a, b))``, ``{'k': v}.get('k')``).
* ``unpack_packs``: ``t = a, b`` then ``x, y = t`` -> ``x = a; y = b``.
* ``split_several_arrays``: ``np.atleast_2d(a, b)`` -> one call per array.
* ``hoist_walrus``, ``hoist_imports``, ``lower_match``, ``lower_dict_methods``,
  ``generator_to_list``, ``bind_transforms``: the walrus, imports inside the function,
  match statements, dict methods, generator functions and transforms called inside
  the function (see each).
"""
from __future__ import annotations

from typing import List

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.names import _MISSING
from s2sgrad.errors import UnsupportedSyntaxError

# Calls whose result is an iterator (not indexable): unpacked through list(...).
_ITERATORS = {"zip", "map", "filter", "iter", "enumerate", "reversed", "range", "sorted"}


def _loc(node, like):
    """``node`` at ``like``'s place, from the same source (an inlined callee's, too)."""
    gast.copy_location(node, like)
    for attr in ("s2s_info", "s2s_origin"):
        if hasattr(like, attr):
            setattr(node, attr, getattr(like, attr))
    return node


class _Unpacking:
    def __init__(self, names: A.NameAllocator):
        self.names = names

    def block(self, stmts: List[gast.stmt]) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        for s in stmts:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, self.block(getattr(s, field)))
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and self.needs(s.targets[0]):
                out.extend(self.split(s.targets[0], s.value, s))
            else:
                out.append(s)
        return out

    @staticmethod
    def needs(target) -> bool:
        return isinstance(target, (gast.Tuple, gast.List)) and any(
            not isinstance(e, gast.Name) for e in target.elts)

    def source(self, value, like, out: List[gast.stmt]) -> gast.expr:
        """``value`` as a name (evaluated once), a list if it is an iterator."""
        if isinstance(value, gast.Name):
            return value
        if isinstance(value, gast.Call) and A.dotted(value.func) in _ITERATORS:
            value = A.call("list", [value])
        name = self.names.fresh("seq")
        out.append(_loc(A.assign(name, value), like))
        return A.load(name)

    def split(self, target, value, like) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        elts = target.elts
        starred = [k for k, e in enumerate(elts) if isinstance(e, gast.Starred)]
        if not starred and isinstance(value, (gast.Tuple, gast.List)) \
                and len(value.elts) == len(elts) and not any(
                    isinstance(e, gast.Starred) for e in value.elts):
            # a, (b, c) = x, (y, z): every right-hand side first (a swap reads the
            # old values), then one assignment per target
            held = []
            for v in value.elts:
                if isinstance(v, gast.Constant):
                    held.append(v)
                else:
                    name = self.names.fresh("item")
                    out.append(_loc(A.assign(name, v), like))
                    held.append(A.load(name))
            for t, v in zip(elts, held):
                out.extend(self.one(t, v, like))
            return out
        seq = self.source(value, like, out)
        if not starred:
            # a, (b, c) = t  ->  a, t_1 = t; b, c = t_1
            flat, later = [], []
            for e in elts:
                if isinstance(e, gast.Name):
                    flat.append(A.store(e.id))
                else:
                    name = self.names.fresh("item")
                    flat.append(A.store(name))
                    later.append((e, A.load(name)))
            out.append(_loc(A.assign(gast.Tuple(elts=flat, ctx=gast.Store()), A.clone(seq)),
                            like))
            for e, v in later:
                out.extend(self.one(e, v, like))
            return out
        # first, *mid, last = xs  ->  first = xs[0]; mid = list(xs[1:-1]); last = xs[-1]
        k = starred[0]
        after = len(elts) - k - 1
        for i, e in enumerate(elts):
            if i < k:
                index = A.const(i)
            elif i > k:
                index = gast.UnaryOp(op=gast.USub(), operand=A.const(len(elts) - i))
            else:
                index = gast.Slice(lower=A.const(k) if k else None,
                                   upper=gast.UnaryOp(op=gast.USub(), operand=A.const(after))
                                   if after else None, step=None)
            item = gast.Subscript(value=A.clone(seq), slice=index, ctx=gast.Load())
            if i == k:
                out.extend(self.one(e.value, A.call("list", [item]), like))
            else:
                out.extend(self.one(e, item, like))
        return out

    def one(self, target, value, like) -> List[gast.stmt]:
        if self.needs(target) or (isinstance(target, (gast.Tuple, gast.List)) and any(
                isinstance(e, gast.Starred) for e in target.elts)):
            return self.split(target, value, like)
        return [_loc(A.assign(A.as_store(target), value), like)]


def split_unpacking(body: List[gast.stmt], names: A.NameAllocator) -> List[gast.stmt]:
    return _Unpacking(names).block(body)


# --------------------------------------------------------------------------
# *args, keyword-only parameters, **kwargs: ordinary parameters


def flatten_signature(node: gast.FunctionDef) -> gast.FunctionDef:
    """``def f(x, *args, reg=0.1, **kw)`` -> ``def f(x, args, reg, kw)``, in the order of
    ``inspect.signature`` (the order ``GradientFunction`` binds a call's values in):
    ``args`` holds the tuple of extra positional arguments, ``kw`` the dict of extra
    keywords.  What each parameter was is kept in ``node.s2s_signature`` for the
    inliner, which binds a call site's arguments to them (``inline.Inliner.bind``)."""
    args = node.args
    if getattr(node, "s2s_signature", None) is not None:
        return node
    positional = len(args.posonlyargs) + len(args.args)
    node.s2s_signature = {
        "positional": positional,
        "posonly": [a.id for a in args.posonlyargs],
        "vararg": args.vararg.id if args.vararg is not None else None,
        "kwonly": [a.id for a in args.kwonlyargs],
        "kw_defaults": {a.id: d for a, d in zip(args.kwonlyargs, args.kw_defaults)
                        if d is not None},
        "kwarg": args.kwarg.id if args.kwarg is not None else None,
    }
    if args.vararg is None and args.kwarg is None and not args.kwonlyargs:
        return node
    extra = ([args.vararg] if args.vararg is not None else []) + list(args.kwonlyargs) + (
        [args.kwarg] if args.kwarg is not None else [])
    for a in extra:
        a.ctx = gast.Param()
        a.annotation = None
    args.args = list(args.args) + extra
    args.vararg, args.kwarg, args.kwonlyargs, args.kw_defaults = None, None, [], []
    return node


# --------------------------------------------------------------------------
# f(*xs) and f(**d) over displays; displays indexed by constants


def _static_key(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, (str, int)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
            and isinstance(node.operand, gast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _display_keys(node):
    """The constant keys of a dict display (None if any key is not a constant)."""
    keys = [_static_key(k) if k is not None else None for k in node.keys]
    return None if any(k is None or not isinstance(k, str) for k in keys) else keys


def _pure(elts) -> bool:
    return all(isinstance(e, (gast.Name, gast.Constant)) for e in elts)


class _Displays(A.Transformer):
    """``f(*(a, b), **{'k': v})`` -> ``f(a, b, k=v)``; ``(a, b)[0]`` -> ``a``;
    ``{'k': v}['k']`` / ``.get('k', d)`` -> ``v``; ``'k' in {'k': v}`` -> ``True``;
    ``len((a, b))`` -> ``2`` (what inlining ``*args`` and ``**kwargs`` leaves)."""

    def visit_Call(self, node):
        self.generic_visit(node)
        args = []
        for a in node.args:
            if isinstance(a, gast.Starred) and isinstance(a.value, (gast.Tuple, gast.List)):
                args.extend(a.value.elts)
            else:
                args.append(a)
        node.args = args
        keywords = []
        for k in node.keywords:
            if k.arg is None and isinstance(k.value, gast.Dict) \
                    and _display_keys(k.value) is not None:
                keywords.extend(gast.keyword(arg=key, value=v)
                                for key, v in zip(_display_keys(k.value), k.value.values))
            else:
                keywords.append(k)
        node.keywords = keywords
        func = node.func
        if A.dotted(func) == "len" and len(node.args) == 1 and not node.keywords and \
                isinstance(node.args[0], (gast.Tuple, gast.List)) and _pure(node.args[0].elts):
            return gast.copy_location(A.const(len(node.args[0].elts)), node)
        if isinstance(func, gast.Attribute) and func.attr == "get" and isinstance(
                func.value, gast.Dict) and _display_keys(func.value) is not None \
                and _pure(func.value.values) \
                and 1 <= len(node.args) <= 2 and not node.keywords:
            key = _static_key(node.args[0])
            if isinstance(key, str):
                keys = _display_keys(func.value)
                if key in keys:
                    return func.value.values[len(keys) - 1 - keys[::-1].index(key)]
                return node.args[1] if len(node.args) == 2 else A.const(None)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if not isinstance(node.ctx, gast.Load):
            return node
        key = _static_key(node.slice)
        value = node.value
        if isinstance(value, (gast.Tuple, gast.List)) and isinstance(key, int) \
                and _pure(value.elts) \
                and -len(value.elts) <= key < len(value.elts):
            return value.elts[key]
        if isinstance(value, gast.Dict) and isinstance(key, str) and _pure(value.values) \
                and _display_keys(value) is not None and key in _display_keys(value):
            keys = _display_keys(value)
            return value.values[len(keys) - 1 - keys[::-1].index(key)]
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.In, gast.NotIn)) and \
                isinstance(node.comparators[0], gast.Dict) and \
                _pure(node.comparators[0].values) and _display_keys(node.comparators[0]) is not None:
            key = _static_key(node.left)
            if isinstance(key, str):
                found = key in _display_keys(node.comparators[0])
                return gast.copy_location(A.const(
                    found if isinstance(node.ops[0], gast.In) else not found), node)
        return node


def fold_displays(node):
    """``_Displays`` on one statement or expression (see there)."""
    return _Displays().visit(node)


# --------------------------------------------------------------------------
# f(*xs) where the length of xs is known before the call runs


def tuple_lengths(body: List[gast.stmt], params=(), example_args=None) -> dict:
    """Names whose length is known at generation time: parameters called with a tuple
    or list (the signature includes its length) and locals assigned a tuple display
    once, never assigned otherwise."""
    module = gast.Module(body=body, type_ignores=[])
    stored = {}
    for node in A.nodes(module):
        targets = node.targets if isinstance(node, gast.Assign) else \
            [node.target] if isinstance(node, (gast.AugAssign, gast.For, gast.AnnAssign,
                                                gast.comprehension)) else []
        for t in targets:
            for n in A.names_stored(t):
                stored.setdefault(n, []).append(
                    node.value if isinstance(node, gast.Assign) and t is node.targets[0]
                    and isinstance(t, gast.Name) and len(node.targets) == 1 else None)
    lengths = {}
    for p, a in zip(params, example_args or ()):
        if isinstance(a, (tuple, list)) and p not in stored:
            lengths[p] = len(a)
    lists = [n for n, values in stored.items() if len(values) == 1
             and isinstance(values[0], gast.List)]
    changed = _maybe_changed_lists(module, lists) if lists else set()
    for n, values in stored.items():
        if len(values) == 1 and (isinstance(values[0], gast.Tuple) or (
                isinstance(values[0], gast.List) and n not in changed)) and not any(
                isinstance(e, gast.Starred) for e in values[0].elts):
            lengths[n] = len(values[0].elts)
    return lengths


_READS_ONLY = ("len", "zip", "enumerate", "reversed", "sorted", "sum", "max", "min",
               "tuple", "list", "map", "any", "all")


def _maybe_changed_lists(module, names) -> set:
    """The names among ``names`` (lists assigned a display once) whose length may
    change: a method called on them (``pairs.append``) or passed to a function other
    than a reading builtin (which might append)."""
    names = set(names)
    out = set()
    for node in A.nodes(module):
        if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and \
                node.value.id in names:
            out.add(node.value.id)
        elif isinstance(node, gast.Call):
            reader = isinstance(node.func, gast.Name) and node.func.id in _READS_ONLY
            for a in list(node.args) + [k.value for k in node.keywords]:
                if isinstance(a, gast.Name) and a.id in names and not reader:
                    out.add(a.id)
        elif isinstance(node, (gast.Assign, gast.AugAssign)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and \
                        t.value.id in names and isinstance(t.slice, gast.Slice):
                    out.add(t.value.id)          # pairs[1:] = ...: may change its length
            if isinstance(node, gast.Assign) and isinstance(node.value, gast.Name) and \
                    node.value.id in names:
                out.add(node.value.id)           # other = pairs: an alias
        elif isinstance(node, gast.Delete):
            out |= {A.root_name(t) for t in node.targets} & names
    return out


class _StarredNames(A.Transformer):
    def __init__(self, lengths):
        self.lengths = lengths

    def visit_Call(self, node):
        self.generic_visit(node)
        args = []
        for a in node.args:
            if isinstance(a, gast.Starred) and isinstance(a.value, gast.Name) \
                    and a.value.id in self.lengths:
                a = gast.Starred(value=gast.Tuple(elts=[
                    gast.Subscript(value=A.load(a.value.id), slice=A.const(k), ctx=gast.Load())
                    for k in range(self.lengths[a.value.id])], ctx=gast.Load()),
                    ctx=gast.Load())
            args.append(a)
        node.args = args
        return node


def expand_starred(body: List[gast.stmt], params=(), example_args=None) -> List[gast.stmt]:
    """``f(*xs)`` -> ``f(*(xs[0], xs[1]))`` when the length of ``xs`` is known
    (``tuple_lengths``); the display is then spread by ``fold_displays`` or bound
    to ``*args`` by the inliner."""
    lengths = tuple_lengths(body, params, example_args)
    if not lengths:
        return body
    visitor = _StarredNames(lengths)
    return [visitor.visit(s) for s in body]


# --------------------------------------------------------------------------
# NumPy calls with several results spelled as one call


class _SeveralArrays(A.Transformer):
    def __init__(self, resolve):
        self.resolve = resolve
        import numpy
        self.functions = {numpy.atleast_1d, numpy.atleast_2d, numpy.atleast_3d}

    def visit_Call(self, node):
        self.generic_visit(node)
        path = A.dotted(node.func)
        if path is not None and len(node.args) > 1 and not node.keywords and not any(
                isinstance(a, gast.Starred) for a in node.args):
            try:
                fn = self.resolve(path)
            except Exception:
                return node
            if any(fn is f for f in self.functions):
                return gast.copy_location(gast.Tuple(elts=[
                    gast.Call(func=A.clone(node.func), args=[a], keywords=[])
                    for a in node.args], ctx=gast.Load()), node)
        return node


def split_several_arrays(body: List[gast.stmt], resolve) -> List[gast.stmt]:
    """``np.atleast_2d(a, b)`` -> ``(np.atleast_2d(a), np.atleast_2d(b))`` (what it
    returns, one rule per array; ``resolve`` says what a dotted global name holds)."""
    visitor = _SeveralArrays(resolve)
    return [visitor.visit(s) for s in body]


# --------------------------------------------------------------------------
# (n := expr): an assignment before the statement


class _Walrus(A.Transformer):
    """Collects ``(n := e)`` of one expression, replacing each by ``n``; refuses one
    Python may not evaluate (under ``and``/``or``, a conditional expression, a lambda):
    hoisted, it would always run."""

    def __init__(self, info, stmt):
        self.info = info
        self.stmt = stmt
        self.hoisted: List[gast.stmt] = []
        self.conditional = 0

    def visit_NamedExpr(self, node):
        self.generic_visit(node)
        if self.conditional:
            raise self.info.error(UnsupportedSyntaxError,
                                  "an assignment expression (:=) that may not run (under "
                                  "'and', 'or', 'x if c else y' or in a lambda) cannot be "
                                  "differentiated", self.stmt,
                                  hint="assign in a separate statement, under an 'if'")
        self.hoisted.append(_loc(A.assign(A.as_store(node.target), node.value), self.stmt))
        return A.load(node.target.id)

    def _maybe(self, node):
        """``node`` visited as an expression Python may not evaluate."""
        self.conditional += 1
        try:
            return self.visit(node)
        finally:
            self.conditional -= 1

    def visit_BoolOp(self, node):
        # (the first operand always runs, the others only if it does not decide)
        node.values = [self.visit(node.values[0])] + [self._maybe(v) for v in node.values[1:]]
        return node

    def visit_IfExp(self, node):
        node.test = self.visit(node.test)
        node.body = self._maybe(node.body)
        node.orelse = self._maybe(node.orelse)
        return node

    def visit_ListComp(self, node):
        return node         # (a comprehension left whole binds it as Python does)

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

    def visit_Lambda(self, node):
        self.conditional += 1
        try:
            self.generic_visit(node)
        finally:
            self.conditional -= 1
        return node


def hoist_walrus(body: List[gast.stmt], info) -> List[gast.stmt]:
    """``if (n := np.sum(x)) > 0:`` -> ``n = np.sum(x)`` then ``if n > 0:``;
    ``while (r := f(x)) > tol:`` -> ``while True: r = f(x); if not r > tol: break``."""
    out: List[gast.stmt] = []
    for s in body:
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, hoist_walrus(getattr(s, field), info))
        if not _has_walrus(s):
            out.append(s)
            continue
        if isinstance(s, gast.While):
            w = _Walrus(info, s)
            test = w.visit(s.test)
            stop = _loc(gast.If(test=gast.UnaryOp(op=gast.Not(), operand=test),
                                body=[_loc(gast.Break(), s)], orelse=[]), s)
            s.test = A.const(True)
            s.body = w.hoisted + [stop] + s.body
            out.append(s)
            continue
        w = _Walrus(info, s)
        for field in ("value", "test", "iter"):
            if isinstance(getattr(s, field, None), gast.AST):
                setattr(s, field, w.visit(getattr(s, field)))
        out.extend(w.hoisted)
        out.append(s)
    return out


def _has_walrus(s) -> bool:
    """A walrus in the statement's own expressions (not in its nested blocks)."""
    for field in ("value", "test", "iter"):
        value = getattr(s, field, None)
        for v in (value if isinstance(value, list) else [value]):
            if isinstance(v, gast.AST) and any(isinstance(n, gast.NamedExpr)
                                               for n in A.nodes(v)):
                return True
    return False


# --------------------------------------------------------------------------
# import inside the function: the module (or object) bound at generation time


def hoist_imports(fn: gast.FunctionDef, info, globals_) -> dict:
    """Removes ``import m``, ``import a.b as c``, ``from m import f`` from ``fn``'s body
    (at any depth) and returns what each binds (name -> object), imported now as Python
    would import it when the line runs; the compiler reads these names as globals.
    ``globals_`` (the function's module globals) resolves relative imports."""
    import importlib

    bound: dict = {}

    def module(name, level, node):
        try:
            if level:
                package = globals_.get("__package__") or globals_.get("__name__", "")
                return importlib.import_module("." * level + (name or ""), package)
            return importlib.import_module(name)
        except ImportError as exc:
            raise info.error(UnsupportedSyntaxError, "the import inside the function fails: "
                             "%s" % exc, node, hint="import at module level") from None

    def block(stmts):
        out = []
        for s in stmts:
            if isinstance(s, gast.Import):
                for alias in s.names:
                    if alias.asname:
                        bound[alias.asname] = module(alias.name, 0, s)
                    else:
                        module(alias.name, 0, s)
                        top = alias.name.split(".")[0]
                        bound[top] = importlib.import_module(top)
                continue
            if isinstance(s, gast.ImportFrom):
                m = module(s.module, s.level or 0, s)
                for alias in s.names:
                    if alias.name == "*":
                        raise info.error(UnsupportedSyntaxError, "'from ... import *' inside a "
                                         "function is not Python 3", s)
                    try:
                        obj = getattr(m, alias.name)
                    except AttributeError:
                        obj = module((s.module + "." if s.module else "") + alias.name,
                                     s.level or 0, s)
                    bound[alias.asname or alias.name] = obj
                continue
            for field in ("body", "orelse", "finalbody"):
                old = getattr(s, field, None)
                if isinstance(old, list) and old:
                    setattr(s, field, block(old) or [_loc(gast.Pass(), s)])
            out.append(s)
        return out

    fn.body = block(fn.body)
    clash = set(bound) & (A.names_stored(gast.Module(body=fn.body, type_ignores=[])) | {
        a.id for a in fn.args.posonlyargs + fn.args.args})
    if clash:
        raise info.error(UnsupportedSyntaxError, "the name %r is imported inside the function "
                         "and also assigned there" % sorted(clash)[0], fn,
                         hint="use another name for one of them")
    return bound


# --------------------------------------------------------------------------
# dict methods on dicts that hold differentiated values


_VIEWS = ("keys", "values", "items")


def is_dict_view(node) -> bool:
    """``d.keys()`` / ``d.values()`` / ``d.items()``."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
        and node.func.attr in _VIEWS and not node.args and not node.keywords


def _atom(node) -> bool:
    return isinstance(node, (gast.Name, gast.Constant))


class _DictMethods(A.Transformer):
    """``d.get(k, v)`` -> ``d[k] if k in d else v``; ``d.values()`` / ``d.items()``
    read as values -> lists built by a loop over ``d.keys()`` (for dicts ``dicts``
    names: as Python reads them when the line runs, interleaved with writes)."""

    def __init__(self, dicts):
        self.dicts = dicts

    def receiver(self, node):
        func = node.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.dicts:
            return func.value.id
        return None

    def visit_For(self, node):
        # for v in d.values(): lowered as it is (controlflow.lower_iterables)
        if is_dict_view(node.iter):
            node.iter.func.value = self.visit(node.iter.func.value)
        else:
            node.iter = self.visit(node.iter)
        node.target = self.visit(node.target)
        node.body = [self.visit(s) for s in node.body]
        node.orelse = [self.visit(s) for s in node.orelse]
        return node

    def visit_comprehension(self, node):
        if not is_dict_view(node.iter):
            node.iter = self.visit(node.iter)
        node.ifs = [self.visit(c) for c in node.ifs]
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        d = self.receiver(node)
        if d is None:
            return node
        attr = node.func.attr
        if attr == "get" and 1 <= len(node.args) <= 2 and not node.keywords \
                and _atom(node.args[0]):
            default = node.args[1] if len(node.args) == 2 else A.const(None)
            key = node.args[0]
            return gast.copy_location(gast.IfExp(
                test=gast.Compare(left=A.clone(key), ops=[gast.In()],
                                  comparators=[A.load(d)]),
                body=gast.Subscript(value=A.load(d), slice=A.clone(key), ctx=gast.Load()),
                orelse=default), node)
        if attr in ("values", "items") and not node.args and not node.keywords:
            k = "key"
            elt = gast.Subscript(value=A.load(d), slice=A.load(k), ctx=gast.Load())
            if attr == "items":
                elt = gast.Tuple(elts=[A.load(k), elt], ctx=gast.Load())
            keys = gast.Call(func=gast.Attribute(value=A.load(d), attr="keys", ctx=gast.Load()),
                             args=[], keywords=[])
            return gast.copy_location(gast.ListComp(elt=elt, generators=[gast.comprehension(
                target=A.store(k), iter=keys, ifs=[], is_async=0)]), node)
        return node


def _statement_forms(s, dicts) -> List[gast.stmt]:
    """``d.update(...)`` and ``d.setdefault(k, v)`` as statements: item writes."""
    call = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
    if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
            and isinstance(call, gast.Call) and not call.keywords and (
                (A.dotted(call.func) == "dict" and len(call.args) == 1
                 and isinstance(call.args[0], gast.Name) and call.args[0].id in dicts)
                or (isinstance(call.func, gast.Attribute) and call.func.attr == "copy"
                    and not call.args and isinstance(call.func.value, gast.Name)
                    and call.func.value.id in dicts)):
        # e = dict(d), e = d.copy(): a new dict, item by item
        source = call.args[0].id if call.args else call.func.value.id
        new = s.targets[0].id
        key = "key"
        return [_loc(A.assign(A.store(new), gast.Dict(keys=[], values=[])), s), _loc(gast.For(
            target=A.store(key), iter=gast.Call(func=gast.Attribute(
                value=A.load(source), attr="keys", ctx=gast.Load()), args=[], keywords=[]),
            body=[_loc(A.assign(gast.Subscript(value=A.load(new), slice=A.load(key),
                                               ctx=gast.Store()),
                                gast.Subscript(value=A.load(source), slice=A.load(key),
                                               ctx=gast.Load())), s)],
            orelse=[], type_comment=None), s)]
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
            and isinstance(call.func.value, gast.Name) and call.func.value.id in dicts):
        return [s]
    d = call.func.value.id
    attr = call.func.attr

    def write(key, value):
        return _loc(A.assign(gast.Subscript(value=A.load(d), slice=key, ctx=gast.Store()),
                             value), s)

    if attr == "update" and isinstance(s, gast.Expr) and len(call.args) <= 1:
        out = []
        if call.args:
            other = call.args[0]
            if isinstance(other, gast.Dict) and all(k is not None for k in other.keys):
                out += [write(k, v) for k, v in zip(other.keys, other.values)]
            elif isinstance(other, gast.Name) and other.id in dicts:
                key = "key"
                out.append(_loc(gast.For(
                    target=A.store(key), iter=gast.Call(func=gast.Attribute(
                        value=A.load(other.id), attr="keys", ctx=gast.Load()), args=[],
                        keywords=[]),
                    body=[write(A.load(key), gast.Subscript(value=A.load(other.id),
                                                            slice=A.load(key),
                                                            ctx=gast.Load()))],
                    orelse=[], type_comment=None), s))
            else:
                return [s]
        if any(k.arg is None for k in call.keywords):
            return [s]
        out += [write(A.const(k.arg), k.value) for k in call.keywords]
        return out
    if attr == "setdefault" and len(call.args) == 2 and not call.keywords \
            and _atom(call.args[0]) and (isinstance(s, gast.Expr) or (
                len(s.targets) == 1 and isinstance(s.targets[0], gast.Name))):
        key = call.args[0]
        out = [_loc(gast.If(test=gast.Compare(left=A.clone(key), ops=[gast.NotIn()],
                                              comparators=[A.load(d)]),
                            body=[write(A.clone(key), call.args[1])], orelse=[]), s)]
        if isinstance(s, gast.Assign):
            out.append(_loc(A.assign(A.store(s.targets[0].id), gast.Subscript(
                value=A.load(d), slice=A.clone(key), ctx=gast.Load())), s))
        return out
    return [s]


def lower_dict_methods(body: List[gast.stmt], dicts) -> List[gast.stmt]:
    """The dict methods of ``_DictMethods`` and ``_statement_forms`` on the dicts named
    ``dicts``, so that their reads and writes are item reads and writes the trace
    follows (a dict method on a dict holding differentiated values is otherwise an
    unknown call)."""
    if not dicts:
        return body
    visitor = _DictMethods(set(dicts))

    def block(stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, block(getattr(s, field)))
            for new in _statement_forms(s, dicts):
                if new is s or not isinstance(new, (gast.If, gast.For)):
                    new = visitor.visit(new)
                else:
                    for field in ("body", "orelse"):
                        setattr(new, field, [visitor.visit(x) for x in getattr(new, field)])
                    if isinstance(new, gast.If):
                        new.test = visitor.visit(new.test)
                out.append(new)
        return out

    return block(body)


# --------------------------------------------------------------------------
# grad(f)(x) inside the differentiated function


# The API registers here its transforms (grad, value_and_grad, jvp, ...) and the function
# that registers the derivative rule of an object one of them made: this layer below
# the API cannot import it.
TRANSFORM_MAKERS: List = []
TRANSFORM_RULE_HOOKS: List = []
_BUILT: dict = {}       # (transform, function, options) -> (object, transform, args)


def _static_object(node, resolve, local_names):
    """What a constant or a global (dotted) name means at generation time, or a
    marker when it is neither."""
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, (gast.Tuple, gast.List)):
        items = [_static_object(e, resolve, local_names) for e in node.elts]
        if any(i is _MISSING for i in items):
            return _MISSING
        return tuple(items) if isinstance(node, gast.Tuple) else items
    path = A.dotted(node)
    if path is None or path.split(".")[0] in local_names:
        return _MISSING
    return resolve(path)


def bind_transforms(body: List[gast.stmt], resolve, local_names, names: A.NameAllocator,
                    extra: dict) -> List[gast.stmt]:
    """``grad(f, wrt=1)(x, w)`` and ``g = grad(f); g(x, w)`` (``g`` assigned once):
    the transform is built now, from the function and options the source names, and
    called under a generated global name (``extra``), as a global s2sgrad function is
    (the compiler differentiates through its generated code)."""
    transforms = {id(t) for t in TRANSFORM_MAKERS}

    def build(call):
        if not isinstance(call, gast.Call) or id(_static_object(
                call.func, resolve, local_names)) not in transforms:
            return None
        args = [_static_object(a, resolve, local_names) for a in call.args]
        kwargs = {k.arg: _static_object(k.value, resolve, local_names) for k in call.keywords}
        if any(a is _MISSING for a in args) or None in kwargs or any(
                v is _MISSING for v in kwargs.values()):
            return None
        transform = _static_object(call.func, resolve, local_names)
        try:
            key = (id(transform), tuple(id(a) for a in args),
                   tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        except Exception:
            return None
        found = _BUILT.get(key)
        if found is None or found[1] is not transform or any(
                a is not b for a, b in zip(found[2], args)):
            # one object per (transform, function, options): its derivative rule is
            # registered once (transforms.register_called_transforms)
            found = (transform(*args, **kwargs), transform, args)
            _BUILT[key] = found
            for hook in TRANSFORM_RULE_HOOKS:
                hook(found[0])
        obj = found[0]
        for name, held in extra.items():
            if held is obj:
                return name
        name = names.fresh("%s_of_%s" % (A.dotted(call.func).split(".")[-1], getattr(
            args[0], "__name__", "f").replace("<lambda>", "lambda_")) if args else "transform")
        extra[name] = obj
        return name

    module = gast.Module(body=body, type_ignores=[])
    assigned = {}
    for node in A.nodes(module):
        if isinstance(node, gast.Assign):
            for t in node.targets:
                for n in A.names_stored(t):
                    assigned.setdefault(n, []).append(node)
        elif isinstance(node, (gast.AugAssign, gast.For, gast.comprehension)):
            for n in A.names_stored(node.target):
                assigned.setdefault(n, []).append(None)
    held = {}
    for name, nodes in assigned.items():
        if len(nodes) == 1 and nodes[0] is not None and len(nodes[0].targets) == 1 \
                and isinstance(nodes[0].targets[0], gast.Name):
            bound = build(nodes[0].value)
            if bound is not None:
                held[name] = (bound, nodes[0])

    class Calls(A.Transformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, gast.Call):
                bound = build(node.func)
                if bound is not None:
                    node.func = A.load(bound)
            return node

    dropped = {id(stmt) for _, stmt in held.values()}

    def block(stmts):
        out = []
        for s in stmts:
            if id(s) in dropped:
                continue
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, block(getattr(s, field)))
            s = Calls().visit(A.rename(s, {k: v[0] for k, v in held.items()}))
            out.append(s)
        return out

    return block(body)


# --------------------------------------------------------------------------
# generator functions: inlined as functions building the list of what they yield


def _own_nodes(stmts):
    """The nodes of ``stmts``, not those of functions or lambdas defined in them."""
    todo = list(stmts)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        todo.extend(A.children(n))


def is_generator(node: gast.FunctionDef) -> bool:
    return any(isinstance(n, (gast.Yield, gast.YieldFrom)) for n in _own_nodes(node.body))


def generator_to_list(node: gast.FunctionDef, info) -> gast.FunctionDef:
    """``def gen(xs): for x in xs: yield f(x)`` is inlined as ``yielded = []; for x in
    xs: yielded.append(f(x)); return yielded``: what ``sum``, a for loop or a
    comprehension consuming it reads (every generator here runs to its end, as these
    consumers run it; ``yield from g`` appends what ``g`` yields)."""
    if not is_generator(node):
        return node
    taken = A.all_names(node)
    items = "yielded"
    k = 0
    while items in taken:
        k += 1
        items = "yielded_%d" % k

    def append(value, like):
        return _loc(gast.Expr(value=A.call(gast.Attribute(
            value=A.load(items), attr="append", ctx=gast.Load()), [value])), like)

    def block(stmts):
        out = []
        for s in stmts:
            if isinstance(s, (gast.FunctionDef, gast.ClassDef)):
                out.append(s)
                continue
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, block(getattr(s, field)))
            if isinstance(s, gast.Expr) and isinstance(s.value, gast.Yield):
                out.append(append(s.value.value if s.value.value is not None
                                  else A.const(None), s))
                continue
            if isinstance(s, gast.Expr) and isinstance(s.value, gast.YieldFrom):
                v = "item"
                while v in taken:
                    v += "_"
                source = s.value.value
                if isinstance(source, gast.GeneratorExp):      # (read to its end anyway)
                    source = gast.ListComp(elt=source.elt, generators=source.generators)
                out.append(_loc(gast.For(target=A.store(v), iter=source,
                                         body=[append(A.load(v), s)], orelse=[],
                                         type_comment=None), s))
                continue
            if isinstance(s, gast.Return):
                if s.value is not None and not (isinstance(s.value, gast.Constant)
                                                and s.value.value is None):
                    raise info.error(UnsupportedSyntaxError, "a generator's 'return value' "
                                     "cannot be differentiated", s,
                                     hint="yield the value instead")
                out.append(_loc(gast.Return(value=A.load(items)), s))
                continue
            if any(isinstance(n, (gast.Yield, gast.YieldFrom)) for n in _own_nodes([s])):
                raise info.error(UnsupportedSyntaxError, "'yield' used as a value (a "
                                 "coroutine receiving values) cannot be differentiated", s,
                                 hint="yield in a statement of its own")
            out.append(s)
        return out

    first = node.body[0] if node.body else node
    node.body = [_loc(A.assign(items, gast.List(elts=[], ctx=gast.Load())), first)] + \
        block(node.body) + [_loc(gast.Return(value=A.load(items)), node.body[-1]
                                 if node.body else node)]
    return node


# --------------------------------------------------------------------------
# match statements (Python 3.10+): if/elif chains


class _Patterns:
    def __init__(self, info, names: A.NameAllocator, stmt):
        self.info = info
        self.names = names
        self.stmt = stmt

    def refuse(self, what):
        return self.info.error(UnsupportedSyntaxError, "a match pattern %s cannot be "
                               "differentiated" % what, self.stmt,
                               hint="write the case as an if/elif test")

    def pattern(self, p, subject):
        """(tests, binds): the tests (all must hold, in order) and the assignments a
        match makes, for pattern ``p`` against the expression ``subject``."""
        if isinstance(p, gast.MatchValue):
            return [gast.Compare(left=A.clone(subject), ops=[gast.Eq()],
                                 comparators=[p.value])], []
        if isinstance(p, gast.MatchSingleton):
            return [gast.Compare(left=A.clone(subject), ops=[gast.Is()],
                                 comparators=[A.const(p.value)])], []
        if isinstance(p, gast.MatchAs):
            tests, binds = ([], []) if p.pattern is None else self.pattern(p.pattern, subject)
            if p.name is not None:
                binds = binds + [A.assign(A.store(p.name), A.clone(subject))]
            return tests, binds
        if isinstance(p, gast.MatchOr):
            alternatives = [self.pattern(q, subject) for q in p.patterns]
            if any(b for _, b in alternatives):
                raise self.refuse("'|' with names bound in its alternatives")
            return [gast.BoolOp(op=gast.Or(), values=[
                _all(t) for t, _ in alternatives])], []
        if isinstance(p, gast.MatchSequence):
            stars = [k for k, q in enumerate(p.patterns) if isinstance(q, gast.MatchStar)]
            n = len(p.patterns) - len(stars)
            size = A.call("len", [A.clone(subject)])
            tests = [A.call("isinstance", [A.clone(subject), gast.Tuple(
                elts=[A.load("list"), A.load("tuple")], ctx=gast.Load())]),
                gast.Compare(left=size, ops=[gast.GtE() if stars else gast.Eq()],
                             comparators=[A.const(n)])]
            binds = []
            for k, q in enumerate(p.patterns):
                if stars and k == stars[0]:
                    if q.name is not None:
                        after = len(p.patterns) - k - 1
                        binds.append(A.assign(A.store(q.name), A.call("list", [gast.Subscript(
                            value=A.clone(subject), slice=gast.Slice(
                                lower=A.const(k) if k else None,
                                upper=gast.UnaryOp(op=gast.USub(), operand=A.const(after))
                                if after else None, step=None), ctx=gast.Load())])))
                    continue
                index = A.const(k) if not stars or k < stars[0] else gast.UnaryOp(
                    op=gast.USub(), operand=A.const(len(p.patterns) - k))
                t, b = self.pattern(q, gast.Subscript(value=A.clone(subject), slice=index,
                                                      ctx=gast.Load()))
                tests += t
                binds += b
            return tests, binds
        if isinstance(p, gast.MatchMapping):
            tests = [A.call("isinstance", [A.clone(subject), A.load("dict")])]
            binds = []
            for key, q in zip(p.keys, p.patterns):
                tests.append(gast.Compare(left=A.clone(key), ops=[gast.In()],
                                          comparators=[A.clone(subject)]))
                t, b = self.pattern(q, gast.Subscript(value=A.clone(subject), slice=A.clone(key),
                                                      ctx=gast.Load()))
                tests += t
                binds += b
            if p.rest is not None:
                raise self.refuse("'**rest'")
            return tests, binds
        if isinstance(p, gast.MatchClass):
            if p.patterns:
                raise self.refuse("with positional sub-patterns (Point(x, y))")
            tests = [A.call("isinstance", [A.clone(subject), A.clone(p.cls)])]
            binds = []
            for attr, q in zip(p.kwd_attrs, p.kwd_patterns):
                t, b = self.pattern(q, gast.Attribute(value=A.clone(subject), attr=attr,
                                                      ctx=gast.Load()))
                tests += t
                binds += b
            return tests, binds
        raise self.refuse("of this kind (%s)" % type(p).__name__)


def _all(tests):
    if not tests:
        return A.const(True)
    if len(tests) == 1:
        return tests[0]
    return gast.BoolOp(op=gast.And(), values=tests)


def lower_match(body: List[gast.stmt], names: A.NameAllocator, info) -> List[gast.stmt]:
    """``match s: case 'relu': ... case (kind, slope): ... case _: ...`` -> an if/elif
    chain on ``s`` (evaluated once), each case's names bound before its body; a case
    with a guard falls through to the next when the guard fails, as Python does."""
    match_class = getattr(gast, "Match", None)
    out: List[gast.stmt] = []
    for s in body:
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, lower_match(getattr(s, field), names, info))
        if match_class is None or not isinstance(s, match_class):
            out.append(s)
            continue
        for case in s.cases:
            case.body = lower_match(case.body, names, info)
        subject = s.subject
        if not isinstance(subject, gast.Name):
            name = names.fresh("subject")
            out.append(_loc(A.assign(name, subject), s))
            subject = A.load(name)
        patterns = _Patterns(info, names, s)
        if not any(c.guard is not None for c in s.cases):
            chain: List[gast.stmt] = []
            for case in reversed(s.cases):
                tests, binds = patterns.pattern(case.pattern, subject)
                block = [_loc(b, case.pattern) for b in binds] + case.body
                if not tests:
                    chain = block
                else:
                    chain = [_loc(gast.If(test=_all(tests), body=block, orelse=chain), s)]
            out.extend(chain)
            continue
        matched = names.fresh("matched")
        out.append(_loc(A.assign(matched, A.const(False)), s))
        for case in s.cases:
            tests, binds = patterns.pattern(case.pattern, subject)
            inner: List[gast.stmt] = [_loc(A.assign(matched, A.const(True)), case.pattern)] + \
                case.body
            if case.guard is not None:
                inner = [_loc(gast.If(test=case.guard, body=inner, orelse=[]), case.pattern)]
            inner = [_loc(b, case.pattern) for b in binds] + inner
            if tests:
                inner = [_loc(gast.If(test=_all(tests), body=inner, orelse=[]), case.pattern)]
            out.append(_loc(gast.If(test=gast.UnaryOp(op=gast.Not(), operand=A.load(matched)),
                                    body=inner, orelse=[]), s))
    return out


# --------------------------------------------------------------------------
# t = (a, b) then x, y = t: the items, one by one


def unpack_packs(body: List[gast.stmt]) -> List[gast.stmt]:
    """``result = out_1, cache_1`` followed by ``out, cache = result`` (an inlined
    ``return out, cache`` and its call site), ``result`` read nowhere else, becomes
    ``out = out_1; cache = cache_1``: the gradient of each item then flows by name, and
    an item no gradient reaches (the cache) gets none (the tuple's gradient would hold
    zeros for it, added into its own items' gradients)."""
    loads: dict = {}
    for n in A.nodes(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Store):
            loads[n.id] = loads.get(n.id, 0) + 1
    stores: dict = {}
    for n in A.nodes(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1

    def block(stmts):
        out = []
        k = 0
        while k < len(stmts):
            s = stmts[k]
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, block(getattr(s, field)))
            nxt = stmts[k + 1] if k + 1 < len(stmts) else None
            if (isinstance(s, gast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], gast.Name)
                    and isinstance(s.value, gast.Tuple)
                    and not any(isinstance(e, gast.Starred) for e in s.value.elts)
                    and isinstance(nxt, gast.Assign) and len(nxt.targets) == 1
                    and isinstance(nxt.targets[0], (gast.Tuple, gast.List))
                    and all(isinstance(e, gast.Name) for e in nxt.targets[0].elts)
                    and len(nxt.targets[0].elts) == len(s.value.elts)
                    and isinstance(nxt.value, gast.Name)
                    and nxt.value.id == s.targets[0].id
                    and loads.get(nxt.value.id) == 1 and stores.get(nxt.value.id) == 1):
                targets = [e.id for e in nxt.targets[0].elts]
                read = A.names_loaded(gast.Tuple(elts=s.value.elts, ctx=gast.Load()))
                if len(set(targets)) == len(targets) and not set(targets) & read:
                    for t, v in zip(targets, s.value.elts):
                        out.append(_loc(A.assign(A.store(t), v), nxt))
                    k += 2
                    continue
            out.append(s)
            k += 1
        return out

    return block(body)
