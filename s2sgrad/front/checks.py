"""Checks of the supported subset, run on the user's tree before anything is lowered:
parameters and statements s2sgrad accepts, in-place updates of an array another name
shares, writes through views.  Each failure is an error naming the line and a way out."""
from __future__ import annotations

from typing import Dict, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.effects import VIEW_ATTRIBUTES, VIEW_FUNCTIONS, VIEW_METHODS
from s2sgrad.analysis.liveness import live_in
from s2sgrad.back.emit import to_source
from s2sgrad.errors import UnsupportedSyntaxError
from s2sgrad.front.parse import SourceInfo

_OP_TEXT = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
            gast.FloorDiv: "//", gast.Mod: "%", gast.MatMult: "@"}


_REJECTED = {
    gast.Try: ("try/except", "move error handling outside the differentiated function"),
    gast.Global: ("assigning to a 'global' name", "pass the value as an argument and return the result"),
    gast.Nonlocal: ("assigning to a 'nonlocal' name", "pass the value as an argument and return the result"),
    gast.Yield: ("generators ('yield')", "build a list or array and return it"),
    gast.YieldFrom: ("generators ('yield from')", "build a list or array and return it"),
    gast.Await: ("'await'", "differentiate a plain synchronous function"),
    gast.AsyncFor: ("'async for'", "differentiate a plain synchronous function"),
    gast.AsyncWith: ("'async with'", "differentiate a plain synchronous function"),
    gast.AsyncFunctionDef: ("async functions", "differentiate a plain synchronous function"),
    gast.ClassDef: ("class definitions inside the function", "define the class at module level"),
    gast.Delete: ("'del' of an item or attribute", "build a new list or dict without it"),
    gast.Import: ("imports inside the function", "import at module level"),
    gast.ImportFrom: ("imports inside the function", "import at module level"),
    gast.With: ("'with' blocks", "move the 'with' block outside the differentiated function"),
    gast.Starred: ("starred expressions (*args)", "pass the arguments one by one"),
    gast.GeneratorExp: ("generator expressions", "use a list comprehension or a loop"),
    gast.SetComp: ("set comprehensions", "use a list"),
    gast.DictComp: ("dict comprehensions", "build the dict with a loop"),
    gast.Set: ("set displays", "use a list or tuple"),
}


_FRESH_CALLS_NOT = {"reshape", "ravel", "transpose", "swapaxes", "view", "squeeze",
                    "diagonal", "asarray", "asanyarray", "atleast_1d", "atleast_2d",
                                     "atleast_3d", "broadcast_to", "get", "setdefault", "pop",
                                     "squeeze", "T", "real", "imag", "flat"}


def _fresh_value(e) -> bool:
    """An expression whose value is a new object no other name holds (a call other
    than a view, arithmetic, a display of such values, a constant)."""
    if isinstance(e, gast.Constant):
        return True
    if isinstance(e, (gast.BinOp, gast.UnaryOp, gast.ListComp, gast.DictComp)):
        return True
    if isinstance(e, (gast.List, gast.Tuple)):
        return all(_fresh_value(x) for x in e.elts)
    if isinstance(e, gast.Dict):
        return all(v is not None and _fresh_value(v) for v in e.values)
    if isinstance(e, gast.Call):
        f = e.func
        name = f.attr if isinstance(f, gast.Attribute) else getattr(f, "id", None)
        return name is not None and name not in _FRESH_CALLS_NOT
    return False


def _fresh_array(e) -> bool:
    """A fresh value that is not a container (the items split_nested_writes writes
    into are arrays: a dict or list item is refused)."""
    return _fresh_value(e) and not isinstance(e, (
        gast.List, gast.Tuple, gast.Dict, gast.ListComp, gast.DictComp)) and not (
        isinstance(e, gast.Call) and A.dotted(e.func) in ("dict", "list", "tuple"))


def _own_items(fn: gast.FunctionDef, name: str) -> bool:
    """Is the local container ``name`` built empty or from fresh arrays, does every
    item stored into it come from a fresh array (so that no other name holds it), and
    is ``name`` itself never aliased?"""
    for node in A.nodes(gast.Module(body=fn.body, type_ignores=[])):
        if isinstance(node, gast.Assign):
            for t in node.targets:
                values = [(t, node.value)]
                if isinstance(t, (gast.Tuple, gast.List)) and isinstance(
                        node.value, (gast.Tuple, gast.List)) and \
                        len(t.elts) == len(node.value.elts):
                    values = list(zip(t.elts, node.value.elts))   # xs, hs = {}, {}
                for t, v in values:
                    if isinstance(t, gast.Name) and t.id == name:
                        if not (isinstance(v, (gast.Dict, gast.List)) and all(
                                _fresh_array(e) for e in (
                                    v.values if isinstance(v, gast.Dict) else v.elts))) \
                                and not (isinstance(v, gast.Call) and A.dotted(v.func) in
                                         ("dict", "list") and not v.args):
                            return False
                    elif isinstance(t, gast.Subscript) and A.root_name(t) == name and \
                            isinstance(t.value, gast.Name) and not _fresh_array(v):
                        return False
                    elif name in A.names_stored(t) and not isinstance(t, gast.Subscript):
                        return False
            if isinstance(node.value, gast.Name) and node.value.id == name:
                return False                     # other = xs: an alias
        elif isinstance(node, (gast.For, gast.comprehension)):
            if name in A.names_stored(node.target):
                return False
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                isinstance(node.func.value, gast.Name) and node.func.value.id == name and \
                node.func.attr in ("append", "insert", "extend", "update", "setdefault"):
            if not all(_fresh_array(a) for a in node.args):
                return False
    return True


def split_nested_writes(fn: gast.FunctionDef) -> None:
    """``xs[t][k] = v`` -> ``xs_item = xs[t]; xs_item[k] = v; xs[t] = xs_item``: what
    Python does (the item is one object: storing it back changes nothing), in a form
    where the trace sees that ``xs[t]`` changed.  (Another name for the same item,
    read after the write, is still refused by check_writes_through_views.)"""
    taken = A.all_names(fn)

    def fresh(base):
        name, k = base + "_item", 1
        while name in taken:
            name, k = "%s_item%d" % (base, k), k + 1
        taken.add(name)
        return name

    params = {a.id for a in fn.args.posonlyargs + fn.args.args}
    safe: Dict[str, bool] = {}

    def split(s):
        tgt = s.targets[0] if isinstance(s, gast.Assign) and len(s.targets) == 1 else \
            s.target if isinstance(s, gast.AugAssign) else None
        if not (isinstance(tgt, gast.Subscript) and isinstance(tgt.value, gast.Subscript)):
            return [s]
        base = tgt.value
        while isinstance(base, gast.Subscript):
            base = base.value
        if not isinstance(base, gast.Name) or base.id in params:
            return [s]
        if base.id not in safe:
            safe[base.id] = _own_items(fn, base.id)
        if not safe[base.id]:
            return [s]          # (check_supported refuses it, naming the line)
        item = fresh(base.id)
        outer = tgt.value                          # xs[t]
        # (a copy of the item, put back after the write: the same values as Python's
        # write into the item, as no other name holds it: _own_items)
        alias = gast.copy_location(A.assign(A.store(item), A.call(gast.Attribute(
            value=A.as_load(A.clone(outer)), attr="copy", ctx=gast.Load()))), s)
        alias.s2s_item_of = A.root_name(outer)
        inner = A.clone(s)
        new_tgt = gast.Subscript(value=A.load(item), slice=A.clone(tgt.slice),
                                 ctx=gast.Store())
        if isinstance(inner, gast.Assign):
            inner.targets = [new_tgt]
        else:
            inner.target = new_tgt
        back = gast.copy_location(A.assign(A.as_store(A.clone(outer)), A.load(item)), s)
        back.s2s_item_back = True
        out = [alias]
        for x in split(inner):                     # xs[t][i][k] = v: one level at a time
            if x is not alias:
                x.s2s_through_item = A.root_name(outer)
            out.append(x)
        return out + [back]

    def block(stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse", "finalbody"):
                sub = getattr(s, field, None)
                if isinstance(sub, list) and not isinstance(s, gast.FunctionDef):
                    setattr(s, field, block(sub))
            if isinstance(s, gast.Try):
                for h in s.handlers:
                    h.body = block(h.body)
            out.extend(split(s) if isinstance(s, (gast.Assign, gast.AugAssign)) else [s])
        return out

    fn.body = block(fn.body)


def lower_with_and_finally(fn: gast.FunctionDef, info: SourceInfo) -> None:
    """``with cm as v: body`` (a context manager that is not s2sgrad's own:
    ``np.errstate(...)``, a timer) -> ``with_cm = cm; v = with_cm.__enter__(); body;
    with_cm.__exit__(None, None, None)``, the forward pass running the body inside the
    context as Python does; ``try: body finally: last`` -> ``body; last``.  (When the
    body raises, the exception reaches the caller without ``__exit__`` / ``last``
    having run.)  ``try`` with ``except`` stays an error: which branch runs is known
    only by running the body."""
    taken = A.all_names(fn)

    def fresh(base):
        name, k = base, 1
        while name in taken:
            name, k = "%s%d" % (base, k), k + 1
        taken.add(name)
        return name

    def block(stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse"):
                sub = getattr(s, field, None)
                if isinstance(sub, list) and not isinstance(s, gast.FunctionDef):
                    setattr(s, field, block(sub))
            if isinstance(s, gast.With):
                exits = []
                for item in s.items:
                    ctx = item.context_expr
                    path = A.dotted(ctx.func) if isinstance(ctx, gast.Call) else None
                    if path is not None and path.split(".")[-1] in ("grad_of",
                                                                    "stop_gradient"):
                        raise info.error(UnsupportedSyntaxError,
                                         "'with %s(...)' is read only in the differentiated "
                                         "function itself, not in a function it calls"
                                         % path, s,
                                         hint="move the block into the function you pass "
                                              "to grad")
                    cm = fresh("with_context")
                    out.append(gast.copy_location(A.assign(A.store(cm), item.context_expr),
                                                  s))
                    enter = A.call(gast.Attribute(value=A.load(cm), attr="__enter__",
                                                  ctx=gast.Load()))
                    if item.optional_vars is not None:
                        out.append(gast.copy_location(A.assign(
                            A.as_store(item.optional_vars), enter), s))
                    else:
                        out.append(gast.copy_location(gast.Expr(value=enter), s))
                    exits.append(gast.copy_location(gast.Expr(value=A.call(
                        gast.Attribute(value=A.load(cm), attr="__exit__", ctx=gast.Load()),
                        [A.const(None), A.const(None), A.const(None)])), s))
                out.extend(s.body)
                out.extend(reversed(exits))
                continue
            if isinstance(s, gast.Try):
                if s.handlers or s.orelse:
                    raise info.error(UnsupportedSyntaxError,
                                     "try/except cannot be differentiated: which branch runs "
                                     "is known only by running the body", s,
                                     hint="test for the failing case before the computation "
                                          "(if np.linalg.cond(A) < 1e12: ...), or move the "
                                          "try/except outside the differentiated function; "
                                          "try/finally and with blocks are supported")
                out.extend(block(s.body))
                out.extend(block(s.finalbody))
                continue
            out.append(s)
        return out

    fn.body = block(fn.body)


def check_supported(fn: gast.FunctionDef, info: SourceInfo) -> None:
    lower_with_and_finally(fn, info)
    split_nested_writes(fn)
    rejected = tuple(_REJECTED)
    stored = None
    # a, *rest = xs (desugar.split_unpacking): a starred assignment or loop target
    # f(*xs): spread by desugar.expand_starred / the inliner, or run as it is where no
    # gradient is involved (np.random.rand(*x.shape))
    unpacked = {id(e) for node in A.nodes(gast.Module(body=fn.body, type_ignores=[]))
                if isinstance(node, (gast.Assign, gast.For))
                for t in (node.targets if isinstance(node, gast.Assign) else [node.target])
                for e in A.nodes(t) if isinstance(e, gast.Starred)}
    unpacked |= {id(a) for node in A.nodes(gast.Module(body=fn.body, type_ignores=[]))
                 if isinstance(node, gast.Call) for a in node.args if isinstance(a, gast.Starred)}
    for node in A.nodes(gast.Module(body=fn.body, type_ignores=[])):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            # a declaration for reading is what Python does without one: dropped
            if stored is None:
                stored = A.names_stored(gast.Module(body=fn.body, type_ignores=[]))
            if not set(node.names) & stored:
                continue
        if isinstance(node, gast.Delete) and all(isinstance(t, gast.Name)
                                                 for t in node.targets):
            continue        # del y: the name is not read again in a working program
        if isinstance(node, (gast.Assign, gast.AugAssign)):
            for t in (node.targets if isinstance(node, gast.Assign) else [node.target]):
                base = t
                while isinstance(base, gast.Subscript):
                    base = base.value
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Subscript) \
                        and isinstance(base, gast.Name):
                    # (split_nested_writes above leaves none)
                    raise info.error(UnsupportedSyntaxError,
                                     "writing into an item of an item (%s) cannot be "
                                     "differentiated" % _source_of(t), node,
                                     hint="take the item out, write into it, and put it back "
                                          "as a new value: w = %s.copy(); w[...] = v; "
                                          "%s = w" % (_source_of(t.value), _source_of(t.value)))
            # (self.cache[k] = v may write into an object's attribute: decided once the
            # objects are known, by check_item_writes)
            check_item_writes(node, info, attributes=False)
        if isinstance(node, rejected) and id(node) not in unpacked:
            for cls, (what, hint) in _REJECTED.items():
                if isinstance(node, cls):
                    raise info.error(UnsupportedSyntaxError,
                                     "%s cannot be differentiated" % what, node, hint=hint)
        if node.__class__ is gast.Call:
            path = A.dotted(node.func)
            if path in ("exec", "eval", "globals", "locals", "vars"):
                raise info.error(UnsupportedSyntaxError,
                                 "'%s()' cannot be differentiated: the code it runs is not "
                                 "visible to the compiler" % path, node,
                                 hint="write the computation directly in the function")
    check_inplace_aliasing(fn, info)
    check_writes_through_views(fn, info)


def check_item_writes(node, info, attributes: bool = True) -> None:
    """y.flat[i] = v, y.T[0] = v, f(y)[0] = v: a write into a view is an error (an
    attribute of an object is an item once the objects are known: objects.py)."""
    for t in (node.targets if isinstance(node, gast.Assign) else [node.target]):
        base = t
        while isinstance(base, gast.Subscript):
            base = base.value
        if base is t or isinstance(base, gast.Name):
            continue
        if not attributes and isinstance(base, gast.Attribute) and A.root_name(base):
            continue
        where = getattr(node, "s2s_info", None) or info
        raise where.error(UnsupportedSyntaxError,
                          "writing into '%s' (a view or attribute of an array) "
                          "cannot be differentiated" % A.dotted(base)
                          if A.dotted(base) else "writing into the result of an "
                          "expression cannot be differentiated", node,
                          hint="index the array itself: y[i] = v (for y.flat[k], "
                               "y[np.unravel_index(k, y.shape)] = v)")


def _aliased_name(expr) -> Optional[str]:
    """The local array ``expr`` may be a view of (``b``, ``b[i]``, ``b.T``, ``b.reshape()``)."""
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Subscript):
        return _aliased_name(expr.value)
    if isinstance(expr, gast.Attribute) and expr.attr in VIEW_ATTRIBUTES:
        return _aliased_name(expr.value)
    if isinstance(expr, gast.Call):
        f = expr.func
        if not isinstance(f, gast.Attribute):
            return None
        module = isinstance(f.value, gast.Name) and f.value.id in ("np", "numpy")
        if module and f.attr == "einsum" and len(expr.args) == 2:
            return _aliased_name(expr.args[1])        # np.einsum('ij->ji', b): a view
        if module and f.attr in VIEW_FUNCTIONS and expr.args:
            return _aliased_name(expr.args[0])        # np.reshape(b, ...)
        if not module and f.attr in VIEW_METHODS:
            return _aliased_name(f.value)             # b.reshape(...)
    return None


def _constant_slot(expr):
    """``("k", key)`` for ``b["w"]`` / ``b[0]`` (a non-negative constant index), else None."""
    if isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name) and \
            isinstance(expr.slice, gast.Constant):
        key = expr.slice.value
        if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)
                                    and key >= 0):
            return ("k", key)
    return None


def check_inplace_aliasing(fn: gast.FunctionDef, info: SourceInfo) -> None:
    """Reject ``x += v`` when another name may view the same array and is read later.

    The trace rebinds (``x = x + v``), which is what Python does for floats, but
    NumPy updates an array in place, and every view of it (``w = x.reshape(-1)``,
    ``v = x[0]``, ``y = x``, a ``for`` row) changes too: differentiating the
    rebinding would silently give the gradient of another function.
    """
    module = gast.Module(body=fn.body, type_ignores=[])
    parent: Dict[str, str] = {}

    def find(n):
        while n in parent:
            n = parent[n]
        return n

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    aliases = []   # (line, target names, viewed name, constant slot or None)
    for node in A.nodes(module):
        if isinstance(node, gast.Assign):
            src = _aliased_name(node.value)
            if src is not None:
                aliases.append((node.lineno, set().union(*[A.names_stored(t)
                                                           for t in node.targets]), src,
                                _constant_slot(node.value)))
        elif isinstance(node, gast.For):
            src = _aliased_name(node.iter)
            if src is not None:
                aliases.append((node.lineno, A.names_stored(node.target), src, None))
    if not aliases:
        return
    loops = [n for n in A.nodes(module) if isinstance(n, (gast.For, gast.While))]

    def span(node):
        return node.lineno, getattr(node, "end_lineno", None) or max(
            getattr(m, "lineno", node.lineno) for m in A.nodes(node))

    for node in A.nodes(module):
        if not (isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name)):
            continue
        t = node.target.id
        # Views made before the update (or anywhere in a loop around it: the next trip)...
        around = [span(loop) for loop in loops if span(loop)[0] <= node.lineno <= span(loop)[1]]
        parent.clear()
        active = [e for e in aliases
                  if e[0] < node.lineno or any(a <= e[0] <= b for a, b in around)]
        for line, targets, src, slot in active:
            for n in targets:
                union(n, src)
        root = find(t)
        partners = {n for n in set(parent) | set(parent.values()) if n != t and find(n) == root}

        def anchor(n):
            # (root container, constant slot just below it) along n's single chain of views
            slot = None
            for _ in range(len(active) + 1):
                ins = [e for e in active if n in e[1] and e[2] != n]   # x = x.reshape(-1): same
                if not ins:
                    return (n, slot) if slot else None
                if len(ins) > 1:
                    return None
                n, slot = ins[0][2], ins[0][3]
            return None
        mine = anchor(t)
        if mine is not None:
            # w = p['w'] and z = p['b'][0] (or x[0] and x[1]) are different arrays
            partners = {n for n in partners if not (
                anchor(n) and anchor(n)[0] == mine[0] and anchor(n)[1] != mine[1])}
        if not partners:
            continue
        # ... and read after it.
        ranges = [(node.lineno + 1, 10 ** 9)] + around
        for use in A.nodes(module):
            if isinstance(use, gast.Name) and isinstance(use.ctx, gast.Load) and \
                    use.id in partners and any(a <= use.lineno <= b for a, b in ranges):
                raise info.error(
                    UnsupportedSyntaxError,
                    "'%s %s= ...' updates an array in place, and %r (read on line %d) may "
                    "share its memory, so it would change too; s2sgrad does not track that"
                    % (t, _OP_TEXT.get(type(node.op), "?"), use.id,
                       info.absolute_line(use) or use.lineno), node,
                    hint="write '%s = %s %s ...' (a new array) instead"
                         % (t, t, _OP_TEXT.get(type(node.op), "?")))


def check_writes_through_views(fn: gast.FunctionDef, info: SourceInfo) -> None:
    """Reject ``y[i] = v`` while another name that may view ``y`` at that point
    (``w = y[0:2]``, ``w = y.T``, ``w = y``) is read later before being re-assigned:
    the write changes ``w`` too, which the adjoint (it routes ``w``'s gradient to
    ``y``'s old values) would not know."""
    if not any(isinstance(n, (gast.Assign, gast.AugAssign)) and isinstance(
            n.target if isinstance(n, gast.AugAssign) else n.targets[0], gast.Subscript)
            or isinstance(n, gast.Expr) and _scattered_into(n) is not None
            for n in A.statements(fn)):
        return
    params = [a.id for a in fn.args.posonlyargs + fn.args.args]
    sharing: Dict[int, Set[str]] = {}      # id(write) -> names that may share y's memory

    def writes(s):
        if isinstance(s, gast.Expr) and _scattered_into(s) is not None:
            return [s.value.args[0]]            # np.add.at(y, index, v) writes into y
        targets = s.targets if isinstance(s, gast.Assign) else \
            [s.target] if isinstance(s, gast.AugAssign) else []
        return [t for t in targets if isinstance(t, gast.Subscript)
                and A.root_name(t) is not None]

    def merge(a, b):
        return {n: a.get(n, frozenset()) | b.get(n, frozenset()) for n in set(a) | set(b)}

    def forward(stmts, roots):
        """Which memory each name may refer to (a view shares its source's)."""
        for s in stmts:
            if isinstance(s, gast.If):
                roots = merge(forward(s.body, dict(roots)), forward(s.orelse, dict(roots)))
                continue
            if isinstance(s, (gast.For, gast.While)):
                entry = dict(roots)
                if isinstance(s, gast.For):
                    src = _aliased_name(s.iter)
                    for n in A.names_stored(s.target):
                        entry[n] = roots.get(src, frozenset([src])) if src else \
                            frozenset([("fresh", id(s))])
                once = forward(s.body, dict(entry))
                twice = forward(s.body, merge(entry, once))
                roots = forward(s.orelse, merge(roots, merge(once, twice)))
                continue
            for t in writes(s):
                y = A.root_name(t)
                mine = roots.get(y, frozenset([y]))
                # (xs_item[k] = v of split_nested_writes: xs gets its item back next)
                container = getattr(s, "s2s_through_item", None)
                sharing[id(s)] = {n for n, r in roots.items() if n != y and r & mine
                                  and n != container}
            if isinstance(s, gast.Assign):
                src = _aliased_name(s.value)
                for t in s.targets:
                    for n in A.names_stored(t) if not isinstance(t, gast.Subscript) else ():
                        if src is not None and isinstance(t, gast.Name):
                            roots[n] = roots.get(src, frozenset([src]))
                        else:
                            roots[n] = frozenset([("fresh", id(s), n)])
        return roots

    forward(fn.body, {p: frozenset([p]) for p in params})
    if not any(sharing.values()):
        return

    def killed(s):
        if isinstance(s, gast.Assign):
            return set().union(*[A.names_stored(t) for t in s.targets
                                 if not isinstance(t, gast.Subscript)])
        return set()

    def transfer(s, live):
        """Liveness through one statement; checks each write against the names
        live after it."""
        shared = sorted(sharing.get(id(s), set()) & live)
        if shared:
            y = A.root_name(writes(s)[0])
            raise info.error(
                UnsupportedSyntaxError,
                "writing into %r changes %r too (it may share %r's memory and is "
                "read later); s2sgrad does not track that" % (y, shared[0], y), s,
                hint="copy the array before writing into it (%s = %s.copy()), so "
                     "that %r keeps its values" % (y, y, shared[0]))
        return (live - killed(s)) | A.names_loaded(s)

    live_in(fn.body, set(), transfer, A.names_loaded)


def _scattered_into(stmt) -> Optional[str]:
    """'y' for the statement ``np.add.at(y, index, v)`` (or ``np.subtract.at``; the
    module is resolved when the trace lowers it, see ThreeAddress.scatter_add)."""
    v = stmt.value
    if (isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) and v.func.attr == "at"
            and isinstance(v.func.value, gast.Attribute)
            and v.func.value.attr in ("add", "subtract") and len(v.args) == 3
            and isinstance(v.args[0], gast.Name)):
        return v.args[0].id
    return None


def _source_of(node) -> str:
    return to_source(node).strip()
