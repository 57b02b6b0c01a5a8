"""Control-flow normalization, run on the user's tree before the primal trace.

Three small passes, each a rewrite into plain structured Python that the
reverse pass can mirror statement for statement:

* ``lower_iterables``: ``for x in xs`` / ``enumerate`` / ``zip`` / ``reversed``
  become index loops over ``range`` (``for i in range(len(xs)): x = xs[i]``),
  so the backward sweep can run the same indices in reverse.
* ``lower_jumps``: ``break``, ``continue`` and early ``return`` become flags
  (``broke``, ``skipped``, ``returned``) and ``if not flag:`` guards around the
  statements they would skip; the function then ends in its only ``return``.
* ``while`` loops keep their shape; the primal trace counts their iterations
  (see ``normalize.ThreeAddress``) so the backward sweep replays that count.
"""
from __future__ import annotations

from typing import List, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.errors import UnsupportedSyntaxError


def _block(body):
    return gast.Module(body=body, type_ignores=[])


def _is_range(node) -> bool:
    return isinstance(node, gast.Call) and A.dotted(node.func) == "range" and not node.keywords


def _len(seq):
    return A.call("len", [A.clone(seq)])


def _index(seq, i: str):
    return gast.Subscript(value=A.as_load(seq), slice=A.load(i), ctx=gast.Load())


def _simple_sequence(node) -> bool:
    return isinstance(node, gast.Name) or (isinstance(node, gast.Attribute)
                                           and A.dotted(node) is not None)


class _Iterables:
    """for-loops over sequences -> index loops over range(len(...))."""

    def __init__(self, names: A.NameAllocator, info=None, dicts=frozenset()):
        self.names = names
        self.info = info
        self.dicts = set(dicts)

    def block(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s) -> List[gast.stmt]:
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, self.block(getattr(s, field)))
        if not isinstance(s, gast.For):
            return [s]
        it = s.iter
        if _is_range(it):
            return [s]
        if isinstance(it, gast.Name) and it.id in self.dicts:
            # for k in d: the keys
            it = gast.Call(func=gast.Attribute(value=it, attr="keys", ctx=gast.Load()),
                           args=[], keywords=[])
        if (isinstance(it, gast.Call) and A.dotted(it.func) == "reversed" and len(it.args) == 1
                and _is_range(it.args[0])):
            return [s]
        pre: List[gast.stmt] = []

        def seq_of(node):
            if (isinstance(node, gast.Call) and A.dotted(node.func) == "reversed"
                    and len(node.args) == 1 and not node.keywords):
                # zip(xs, reversed(xs)): the reversed sequence as a view, xs[::-1]
                node = gast.Subscript(value=node.args[0], ctx=gast.Load(), slice=gast.Slice(
                    lower=None, upper=None, step=A.const(-1)))
            if _simple_sequence(node):
                return node
            name = self.names.fresh("seq")
            pre.append(gast.copy_location(A.assign(name, node), s))
            return A.load(name)

        func = A.dotted(it.func) if isinstance(it, gast.Call) else None
        target = s.target
        binds = []
        index_name = None
        if (func == "enumerate" and len(it.args) == 1 and not it.keywords
                and isinstance(it.args[0], gast.Call) and A.dotted(it.args[0].func) == "zip"
                and isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2
                and isinstance(target.elts[0], gast.Name)
                and isinstance(target.elts[1], (gast.Tuple, gast.List))):
            # for k, (x, y) in enumerate(zip(xs, ys)): the zip loop, counting with k
            index_name, target = target.elts[0].id, target.elts[1]
            it, func = it.args[0], "zip"
        if func == "enumerate" and len(it.args) in (1, 2) and not it.keywords \
                and isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2:
            seq = seq_of(it.args[0])
            counter, item = target.elts
            if isinstance(counter, gast.Name) and len(it.args) == 1:
                i = counter.id
            else:
                i = self.names.fresh("i")
                start = it.args[1] if len(it.args) == 2 else A.const(0)
                binds.append(A.assign(A.as_store(counter),
                                      gast.BinOp(left=A.load(i), op=gast.Add(), right=start)))
            binds.append(A.assign(A.as_store(item), _index(seq, i)))
            loop_iter = A.call("range", [_len(seq)])
        elif func == "zip" and it.args and not it.keywords \
                and isinstance(target, (gast.Tuple, gast.List)) \
                and len(target.elts) == len(it.args):
            seqs = [seq_of(a) for a in it.args]
            i = index_name or self.names.fresh("i")
            for t, seq in zip(target.elts, seqs):
                binds.append(A.assign(A.as_store(t), _index(seq, i)))
            n = _len(seqs[0]) if len(seqs) == 1 else A.call("min", [_len(q) for q in seqs])
            loop_iter = A.call("range", [n])
        elif (isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute)
              and it.func.attr in ("items", "keys", "values") and not it.args
              and not it.keywords):
            # for k, v in d.items(): over a list of the keys, reading d[k]
            d = seq_of(it.func.value)
            keys = self.names.fresh("keys")
            pre.append(gast.copy_location(A.assign(keys, A.call("list", [gast.Call(
                func=gast.Attribute(value=A.as_load(d), attr="keys", ctx=gast.Load()),
                args=[], keywords=[])])), s))
            i = self.names.fresh("i")
            key = A.load(keys)
            if it.func.attr == "items" and isinstance(target, (gast.Tuple, gast.List)) \
                    and len(target.elts) == 2:
                k_t, v_t = target.elts
                if isinstance(k_t, gast.Name):
                    binds.append(A.assign(A.as_store(k_t), _index(key, i)))
                    kexpr = A.load(k_t.id)
                else:
                    kexpr = _index(key, i)
                binds.append(A.assign(A.as_store(v_t), gast.Subscript(
                    value=A.as_load(d), slice=kexpr, ctx=gast.Load())))
            elif it.func.attr == "values":
                binds.append(A.assign(A.as_store(target), gast.Subscript(
                    value=A.as_load(d), slice=_index(key, i), ctx=gast.Load())))
            else:
                binds.append(A.assign(A.as_store(target), _index(key, i)))
            loop_iter = A.call("range", [_len(key)])
        elif func == "reversed" and len(it.args) == 1 and not it.keywords:
            seq = seq_of(it.args[0])
            i = self.names.fresh("i")
            binds.append(A.assign(A.as_store(target), _index(seq, i)))
            loop_iter = A.call("reversed", [A.call("range", [_len(seq)])])
        else:
            if func in ("map", "filter", "iter", "zip", "enumerate", "open") or (
                    isinstance(it, (gast.GeneratorExp, gast.SetComp, gast.Set))):
                what = "%s(...)" % func if func else "this iterable"
                error = UnsupportedSyntaxError(
                    "s2sgrad: a for loop over %s cannot be differentiated: s2sgrad turns "
                    "loops into index loops over sequences" % what)
                if self.info is not None:
                    error = self.info.error(
                        UnsupportedSyntaxError, "a for loop over %s cannot be differentiated: "
                        "loops become index loops over sequences" % what, s,
                        hint="loop over range(len(xs)) and index the sequences, or use "
                             "enumerate(xs) / zip(xs, ys) with a target per sequence")
                raise error
            seq = seq_of(it)
            i = self.names.fresh("i")
            binds.append(A.assign(A.as_store(target), _index(seq, i)))
            loop_iter = A.call("range", [_len(seq)])
        for b in binds:
            gast.copy_location(b, s)
        new = gast.For(target=A.store(i), iter=loop_iter, body=binds + s.body,
                       orelse=s.orelse, type_comment=None)
        gast.copy_location(new, s)
        return pre + [new]


def lower_iterables(body, names: A.NameAllocator, info=None, dicts=frozenset()):
    return _Iterables(names, info, dicts).block(body)


# --------------------------------------------------------------------------
# break / continue / early return -> flags and guards


def _jumps(stmts) -> Set[str]:
    """Jumps ('break', 'continue', 'return') leaving ``stmts`` at this loop level."""
    found: Set[str] = set()
    for s in stmts:
        if isinstance(s, gast.Return):
            found.add("return")
        elif isinstance(s, (gast.Break, gast.Continue)):
            found.add("break" if isinstance(s, gast.Break) else "continue")
        elif isinstance(s, gast.If):
            found |= _jumps(s.body) | _jumps(s.orelse)
        elif isinstance(s, (gast.For, gast.While)):
            found |= _jumps(s.body) & {"return"}
            found |= _jumps(s.orelse)
    return found


class _Loop:
    def __init__(self, names):
        self.names = names
        self.broke: Optional[str] = None
        self.skipped: Optional[str] = None

    def break_flag(self):
        if self.broke is None:
            self.broke = self.names.fresh("broke")
        return self.broke

    def continue_flag(self):
        if self.skipped is None:
            self.skipped = self.names.fresh("skipped")
        return self.skipped


def _not_any(flags: List[str]):
    tests = [gast.UnaryOp(op=gast.Not(), operand=A.load(f)) for f in flags]
    return tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.And(), values=tests)


class _Jumps:
    def __init__(self, names, info):
        self.names = names
        self.info = info
        self.result: Optional[str] = None
        self.returned: Optional[str] = None

    def function(self, body) -> List[gast.stmt]:
        returns = [n for n in A.nodes(_block(body)) if isinstance(n, gast.Return)]
        simple = bool(body) and isinstance(body[-1], gast.Return) and len(returns) == 1
        loops_jump = any(isinstance(n, (gast.Break, gast.Continue))
                         for n in A.nodes(_block(body)))
        if simple and not loops_jump:
            return body
        if simple:
            ret = body[-1]
            return self.block(body[:-1], None) + [ret]
        self.result = self.names.fresh("result")
        self.returned = self.names.fresh("returned")
        out = [A.assign(self.returned, A.const(False))] + self.block(body, None)
        out.append(gast.Return(value=A.load(self.result)))
        if self.returned not in A.names_loaded(_block(out)):
            out = _drop_assignments(out, self.returned)   # no guard reads the flag
        return out

    def flags_set_by(self, s, loop: Optional[_Loop]) -> List[str]:
        jumps = _jumps([s])
        flags = []
        if "break" in jumps and loop is not None:
            flags.append(loop.break_flag())
        if "continue" in jumps and loop is not None:
            flags.append(loop.continue_flag())
        if "return" in jumps and self.returned is not None:
            flags.append(self.returned)
        return flags

    def block(self, stmts, loop: Optional[_Loop]) -> List[gast.stmt]:
        out: List[gast.stmt] = []
        for k, s in enumerate(stmts):
            if isinstance(s, gast.Return):
                value = s.value if s.value is not None else A.const(None)
                out.append(gast.copy_location(A.assign(self.result, value), s))
                if loop is not None or k < len(stmts) - 1 or self._nested:
                    out.append(gast.copy_location(A.assign(self.returned, A.const(True)), s))
                return out
            if isinstance(s, gast.Break):
                out.append(gast.copy_location(A.assign(loop.break_flag(), A.const(True)), s))
                return out
            if isinstance(s, gast.Continue):
                out.append(gast.copy_location(A.assign(loop.continue_flag(), A.const(True)), s))
                return out
            flags = self.flags_set_by(s, loop)
            absorbed = False
            if isinstance(s, gast.If) and loop is None and _jumps([s]) == {"return"} \
                    and k < len(stmts) - 1:
                # if c: ... return a   followed by the rest: the rest is the else branch
                rest = list(stmts[k + 1:])
                if _always_returns(s.body):
                    s.orelse = s.orelse + rest
                    flags, absorbed = [], True
                elif s.orelse and _always_returns(s.orelse):
                    s.body = s.body + rest
                    flags, absorbed = [], True
            if isinstance(s, gast.If):
                nested, self._nested = self._nested, True
                s.body = self.block(s.body, loop) or [gast.Pass()]
                s.orelse = self.block(s.orelse, loop)
                self._nested = nested
                out.append(s)
            elif isinstance(s, (gast.For, gast.While)):
                out.extend(self.loop(s, loop))
            else:
                out.append(s)
            if absorbed:
                return out
            rest = stmts[k + 1:]
            if flags and rest:
                nested, self._nested = self._nested, True
                guarded = self.block(rest, loop)
                self._nested = nested
                guard = gast.If(test=_not_any(flags), body=guarded, orelse=[])
                out.append(gast.copy_location(guard, rest[0]))
                return out
        return out

    _nested = False

    def loop(self, s, outer: Optional[_Loop]) -> List[gast.stmt]:
        inner = _Loop(self.names)
        returns_inside = "return" in _jumps(s.body)
        nested, self._nested = self._nested, True
        body = self.block(s.body, inner)
        self._nested = nested
        stops = ([inner.broke] if inner.broke else []) + (
            [self.returned] if returns_inside and self.returned else [])
        if inner.skipped:
            body = [gast.copy_location(A.assign(inner.skipped, A.const(False)), s)] + body
        pre = []
        if inner.broke:
            pre.append(gast.copy_location(A.assign(inner.broke, A.const(False)), s))
        if stops:
            if isinstance(s, gast.While):
                if isinstance(s.test, gast.Constant) and s.test.value is True:
                    s.test = _not_any(stops)          # while True: ... break
                else:
                    s.test = gast.BoolOp(op=gast.And(), values=[_not_any(stops), s.test])
            elif _is_range(s.iter):
                # for i in range(n) with break: the loop stops at the end of the trip
                # that broke, counting its trips; the backward sweep runs
                # reversed(range(n)[:trips])
                trips = self.names.fresh("trips")
                pre.append(gast.copy_location(A.assign(trips, A.const(0)), s))
                step = gast.copy_location(gast.AugAssign(target=A.store(trips), op=gast.Add(),
                                                         value=A.const(1)), s)
                step.s2s_trip_counter = True
                test = A.load(stops[0]) if len(stops) == 1 else gast.BoolOp(
                    op=gast.Or(), values=[A.load(f) for f in stops])
                leave = gast.copy_location(gast.If(test=test, body=[
                    gast.copy_location(gast.Break(), s)], orelse=[]), s)
                body = [step] + body + [leave]
                s.s2s_counter = trips
            else:
                body = [gast.copy_location(gast.If(test=_not_any(stops), body=body, orelse=[]),
                                           s)]
        s.body = body or [gast.Pass()]
        post = []
        if s.orelse:
            orelse = self.block(s.orelse, outer)
            s.orelse = []
            if inner.broke:
                orelse = [gast.copy_location(gast.If(test=_not_any([inner.broke]), body=orelse,
                                                     orelse=[]), s)]
            post = orelse
        return pre + [s] + post


def _always_returns(stmts) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, gast.Return):
        return True
    return isinstance(last, gast.If) and _always_returns(last.body) \
        and _always_returns(last.orelse)


def _drop_assignments(stmts, name: str) -> List[gast.stmt]:
    out = []
    for s in stmts:
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id == name:
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, _drop_assignments(getattr(s, field), name))
                if field == "body" and not s.body:
                    s.body = [gast.Pass()]
        out.append(s)
    return out


def lower_jumps(body, names: A.NameAllocator, info) -> List[gast.stmt]:
    return _Jumps(names, info).function(body)


def single_exit(body: List[gast.stmt], names, info, fn) -> List[gast.stmt]:
    """Rewrite ``body`` so that it ends in its only ``return``."""
    returns = [n for n in A.nodes(_block(body)) if isinstance(n, gast.Return)]
    if not returns:
        raise info.error(UnsupportedSyntaxError, "the function has no return statement", fn,
                         hint="return the value to differentiate")
    return lower_jumps(body, names, info)


# --------------------------------------------------------------------------
# list comprehensions -> loops filling a list by index


class _Comprehensions(A.Transformer):
    """``ys = [f(x) for x in xs]`` -> ``ys = [None] * len(xs)`` and a loop writing
    ``ys[i] = f(x)``; comprehensions that read only their own loop variable (index
    lists, constants) stay as they are."""

    def __init__(self, names, info, local_names: Set[str]):
        self.names = names
        self.info = info
        self.local_names = local_names
        self.hoisted: List[gast.stmt] = []
        self.stmt = None

    def block(self, stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, self.block(getattr(s, field)))
            self.stmt, self.hoisted = s, []
            if isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)) \
                    and s.value is not None:
                if isinstance(s, gast.Assign) and isinstance(s.value, gast.ListComp) \
                        and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                        and self.worth_lowering(s.value):
                    out.extend(self.lower(s.value, s.targets[0].id))
                    continue
                s.value = self.visit(s.value)
            elif isinstance(s, gast.If):
                s.test = self.visit(s.test)
            elif isinstance(s, gast.For):
                s.iter = self.visit(s.iter)
            out.extend(self.hoisted)
            out.append(s)
        return out

    def worth_lowering(self, node) -> bool:
        own = set()
        for g in node.generators:
            own |= A.names_stored(g.target)
        reads = A.names_loaded(node.elt) | set().union(
            *[A.names_loaded(g.iter) for g in node.generators[1:]])
        # (the first iterable is evaluated outside: [v * v for v in [v, 2 * v]])
        outer = A.names_loaded(node.generators[0].iter)
        return bool(((reads - own) | outer) & self.local_names)

    def visit_ListComp(self, node):
        self.generic_visit(node)
        if not self.worth_lowering(node):
            return node
        name = self.names.fresh("items")
        self.hoisted.extend(self.lower(node, name))
        return A.load(name)

    def lower(self, node, name: str) -> List[gast.stmt]:
        origin = self.stmt
        if any(g.is_async for g in node.generators):
            raise self.info.error(UnsupportedSyntaxError, "async comprehensions cannot be "
                                  "differentiated", origin)
        from s2sgrad.front.desugar import is_dict_view
        if len(node.generators) != 1 or node.generators[0].ifs or is_dict_view(
                node.generators[0].iter):
            # (a loop over d.values() is lowered as it is: lower_iterables)
            return self.lower_appending(node, name, origin)
        gen = node.generators[0]
        it = gen.iter
        if isinstance(it, gast.Call) and A.dotted(it.func) in ("zip", "enumerate"):
            raise self.info.error(UnsupportedSyntaxError,
                                  "list comprehensions over %s() cannot be differentiated"
                                  % A.dotted(it.func), origin,
                                  hint="iterate over range(len(xs)) and index the sequences")
        # comprehension variables are private to the comprehension: fresh names
        renames = {n: self.names.fresh(n) for n in A.names_stored(gen.target)}
        target = A.rename(A.clone(gen.target), renames)
        elt = A.rename(A.clone(node.elt), renames)
        out: List[gast.stmt] = []
        if not (_simple_sequence(it) or _is_range(it)):
            seq = self.names.fresh("seq")
            out.append(A.assign(seq, it))
            it = A.load(seq)
        size = A.call("len", [A.clone(it)])
        if _is_range(it) and len(it.args) == 1 and isinstance(target, gast.Name):
            size = A.clone(it.args[0])
            loop = gast.For(target=target, iter=it, type_comment=None, orelse=[], body=[
                A.assign(gast.Subscript(value=A.load(name), slice=A.load(target.id),
                                        ctx=gast.Store()), elt)])
        else:
            k = self.names.fresh("k")
            loop = gast.For(target=gast.Tuple(elts=[A.store(k), target], ctx=gast.Store()),
                            iter=A.call("enumerate", [it]), type_comment=None, orelse=[],
                            body=[A.assign(gast.Subscript(value=A.load(name), slice=A.load(k),
                                                          ctx=gast.Store()), elt)])
        init = A.assign(name, gast.BinOp(left=gast.List(elts=[A.const(None)], ctx=gast.Load()),
                                         op=gast.Mult(), right=size))
        out += [init, loop]
        for st in out:
            for n in A.nodes(st):
                if isinstance(n, gast.stmt):
                    gast.copy_location(n, origin)
        return out


    def lower_appending(self, node, name: str, origin) -> List[gast.stmt]:
        """Several 'for' clauses or 'if' filters: nested loops appending to a list."""
        renames = {n: self.names.fresh(n) for g in node.generators
                   for n in A.names_stored(g.target)}
        body: List[gast.stmt] = [gast.Expr(value=A.call(gast.Attribute(
            value=A.load(name), attr="append", ctx=gast.Load()),
            [A.rename(A.clone(node.elt), renames)]))]
        for g in reversed(node.generators):
            for cond in reversed(g.ifs):
                body = [gast.If(test=A.rename(A.clone(cond), renames), body=body,
                                orelse=[])]
            body = [gast.For(target=A.rename(A.clone(g.target), renames),
                             iter=A.rename(A.clone(g.iter), renames), body=body,
                             orelse=[], type_comment=None)]
        out = [A.assign(name, gast.List(elts=[], ctx=gast.Load()))] + body
        for st in out:
            for n in A.nodes(st):
                if isinstance(n, gast.stmt):
                    gast.copy_location(n, origin)
        return out


# Calls that consume an iterable once, in order: f(x for x in xs) == f([x for x in xs])
_CONSUMERS = {"sum", "any", "all", "max", "min", "list", "tuple"}


class _GeneratorArguments(A.Transformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if (A.dotted(node.func) in _CONSUMERS and len(node.args) == 1
                and isinstance(node.args[0], gast.GeneratorExp)):
            gen = node.args[0]
            node.args = [gast.copy_location(gast.ListComp(elt=gen.elt,
                                                          generators=gen.generators), gen)]
        return node


def generator_arguments_to_lists(fn: gast.FunctionDef) -> gast.FunctionDef:
    """``sum(f(x) for x in xs)`` -> ``sum([f(x) for x in xs])`` (same value for the
    builtins that consume their argument once); other generator expressions stay
    and are rejected."""
    return _GeneratorArguments().visit(fn)


def lower_comprehensions(body, names, info, fn) -> List[gast.stmt]:
    local = {a.id for a in fn.args.posonlyargs + fn.args.args} | A.names_stored(_block(body))
    return _Comprehensions(names, info, local).block(body)


def test_at_top_of_body(body: List[gast.stmt]) -> List[gast.stmt]:
    """``while c if p else d:`` (a condition that needs statements of its own) becomes
    ``while True: if not (...): break`` so the condition is computed on every trip."""
    for s in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, test_at_top_of_body(getattr(s, field)))
        if isinstance(s, gast.While) and not s.orelse and any(
                isinstance(n, gast.IfExp) for n in A.nodes(s.test)):
            stop = gast.copy_location(gast.If(
                test=gast.UnaryOp(op=gast.Not(), operand=s.test),
                body=[gast.copy_location(gast.Break(), s)], orelse=[]), s)
            s.test = A.const(True)
            s.body = [stop] + s.body
    return body


def normalize_control_flow(body: List[gast.stmt], names, info, fn,
                           dicts=frozenset()) -> List[gast.stmt]:
    """All control-flow passes, in order (``dicts``: names known to hold dicts)."""
    body = lower_comprehensions(body, names, info, fn)
    body = test_at_top_of_body(body)
    body = lower_iterables(body, names, info, dicts)
    return single_exit(body, names, info, fn)
