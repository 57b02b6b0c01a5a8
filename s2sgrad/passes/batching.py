"""Weight gradients of a reversed loop summed once after it, as one matrix product."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.passes.common import (ShapeOracle, _fresh, _mentions, _pure_expr,
                                   _stored_anywhere, _written_in_place)
from s2sgrad.passes.stacks import _append_of, _jumps, _pop_of, _stack_init

# Batch only while a trip's matrix product is small (rows * k * m multiply-adds): a
# bigger one already runs at full speed, and summing it later from buffers that have
# left the cache is slower (measured: an RNN with 16 rows of 64 by 64 per trip gains
# about 20%; 32 rows lose).
MAX_TRIP_PRODUCT = 16 * 64 * 64
MAX_BUFFER_ELEMENTS = 1 << 22          # 32 MiB of float64 per buffer


def _literal_range(node) -> Optional[int]:
    """``n`` for ``range(n)`` with a literal positive int."""
    if (isinstance(node, gast.Call) and A.dotted(node.func) == "range" and len(node.args) == 1
            and not node.keywords and isinstance(node.args[0], gast.Constant)
            and type(node.args[0].value) is int and node.args[0].value > 0):
        return node.args[0].value
    return None


def _transposed_name(node) -> Optional[str]:
    if (isinstance(node, gast.Attribute) and node.attr == "T"
            and isinstance(node.value, gast.Name)):
        return node.value.id
    return None


def _accumulation(stmt, np_name: str) -> Optional[Tuple[str, str, Optional[str], str]]:
    """``("dot", acc, X, G)`` for ``acc += np.dot(X.T, G)`` (or ``X.T @ G``);
    ``("sum", acc, None, G)`` for ``acc += G.sum(axis=0)`` (or ``np.sum(G, axis=0)``)."""
    if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add)
            and isinstance(stmt.target, gast.Name)):
        return None
    acc, v = stmt.target.id, stmt.value
    if isinstance(v, gast.BinOp) and isinstance(v.op, gast.MatMult):
        pair = (v.left, v.right)
    elif (isinstance(v, gast.Call) and A.dotted(v.func) == np_name + ".dot"
          and len(v.args) == 2 and not v.keywords):
        pair = tuple(v.args)
    else:
        pair = None
    if pair is not None:
        x = _transposed_name(pair[0])
        if x is not None and isinstance(pair[1], gast.Name):
            return "dot", acc, x, pair[1].id
        return None
    if isinstance(v, gast.Call) and len(v.keywords) == 1 and v.keywords[0].arg == "axis" \
            and isinstance(v.keywords[0].value, gast.Constant) \
            and v.keywords[0].value.value == 0 and type(v.keywords[0].value.value) is int:
        if (isinstance(v.func, gast.Attribute) and v.func.attr == "sum" and not v.args
                and isinstance(v.func.value, gast.Name)):
            return "sum", acc, None, v.func.value.id
        if (A.dotted(v.func) == np_name + ".sum" and len(v.args) == 1
                and isinstance(v.args[0], gast.Name)):
            return "sum", acc, None, v.args[0].id
    return None


def _np(np_name: str, attr: str) -> gast.expr:
    return gast.Attribute(value=A.load(np_name), attr=attr, ctx=gast.Load())


def _shape_tuple(shape) -> gast.expr:
    return A.parse_expr(repr(tuple(shape)))


def _rows(array: gast.expr, width: int) -> gast.expr:
    """``array.reshape(-1, width)``: the rows of every trip, one after another."""
    return A.call(gast.Attribute(value=array, attr="reshape", ctx=gast.Load()),
                  [A.parse_expr("-1"), A.const(width)])


def batch_loop_accumulations(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """Weight gradients summed trip by trip in a reversed loop, summed once after it.

    In ``for t in reversed(range(n))`` (a literal trip count), an accumulation
    ``acc += np.dot(X.T, G)`` that nothing else in the loop reads, with ``G`` a
    ``(rows, m)`` float64 array computed in the trip and ``X`` a ``(rows, k)`` one,
    is a sum over trips of small matrix products: the loop stores ``G`` in a
    preallocated ``(n, rows, m)`` buffer instead, and one product over all trips'
    rows follows the loop -- as a hand-written RNN gradient does.  ``X`` must be
    available for every trip after the loop without a copy: a row ``xs[t]`` of an
    array the code never changes (then ``xs.reshape(-1, k)``), or a value restored
    from a stack pushed once per trip of the matching forward loop (the stack becomes
    a preallocated array, ``h_stack[t] = h`` / ``h = h_stack[t]``).  A bias gradient
    ``acc += G.sum(axis=0)`` of the same ``G`` is summed over the buffer too.
    Fires only when a trip's product is small (``MAX_TRIP_PRODUCT`` multiply-adds).
    """
    np_name = oracle.numpy_name
    f64 = oracle.float64_arrays
    if not any(isinstance(s, gast.For) and _literal_range(
            s.iter.args[0] if isinstance(s.iter, gast.Call) and s.iter.args else None)
               for s in fn.body):
        return fn
    in_place = _written_in_place(fn)
    taken = A.all_names(fn)
    for bwd in [s for s in fn.body if isinstance(s, gast.For)]:
        top = fn.body
        b_index = top.index(bwd)
        it = bwd.iter
        if not (isinstance(it, gast.Call) and A.dotted(it.func) == "reversed"
                and len(it.args) == 1 and isinstance(bwd.target, gast.Name)
                and not bwd.orelse):
            continue
        trips = _literal_range(it.args[0])
        t = bwd.target.id
        body = bwd.body
        if trips is None or _jumps(gast.Module(body=body, type_ignores=[])) \
                or any(t in _stored_anywhere(s) for s in body):
            continue
        fwd = next((s for s in top[:b_index] if isinstance(s, gast.For)
                    and isinstance(s.target, gast.Name) and s.target.id == t
                    and _literal_range(s.iter) == trips and not s.orelse
                    and not _jumps(gast.Module(body=s.body, type_ignores=[]))
                    and not any(t in _stored_anywhere(b) for b in s.body)), None)

        def single_definition(name):
            """(index, statement) of the one top-level assignment of ``name`` in the
            trip, or None."""
            found = [(k, s) for k, s in enumerate(body) if name in _stored_anywhere(s)]
            if len(found) == 1 and isinstance(found[0][1], gast.Assign) \
                    and isinstance(found[0][1].targets[0], gast.Name):
                return found[0]
            return None

        def all_trips_of(x, rows, before) -> Optional[Tuple[gast.expr, Optional[str]]]:
            """``X`` of every trip as one array after the loop, and the stack to make
            an array, if any."""
            shape = oracle.shape(x)
            if x not in f64 or shape is None or len(shape) != 2 or shape[0] != rows \
                    or x in in_place:
                return None
            found = single_definition(x)
            if found is None or found[0] >= before:
                return None
            value = found[1].value
            if (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                    and isinstance(value.slice, gast.Name) and value.slice.id == t):
                arr = value.value.id
                ashape = oracle.shape(arr)
                if (arr in f64 and arr not in in_place and ashape is not None
                        and len(ashape) == 3 and ashape[0] >= trips
                        and tuple(ashape[1:]) == tuple(shape)
                        and not any(arr in _stored_anywhere(s) for s in top[b_index:])):
                    src = A.load(arr) if ashape[0] == trips else gast.Subscript(
                        value=A.load(arr), slice=gast.Slice(lower=None, upper=A.const(trips),
                                                            step=None), ctx=gast.Load())
                    return _rows(src, shape[1]), None
                return None
            stack = _pop_of(found[1])
            if stack is None or fwd is None or _mentions(fn.body, stack) != 3:
                return None
            init = [s for s in top[:top.index(fwd)] if _stack_init(s) == stack]
            push = [s for s in fwd.body if _append_of(s) == stack]
            if not init or not push:
                return None
            pushed = push[0].value.args[0]
            if not (isinstance(pushed, gast.Name) and pushed.id == x):
                return None
            return _rows(A.load(stack), shape[1]), stack

        accs = [(k,) + a for k, a in ((k, _accumulation(s, np_name)) for k, s in enumerate(body))
                if a is not None]
        by_g: Dict[str, list] = {}
        for k, kind, acc, x, g in accs:
            ashape, gshape = oracle.shape(acc), oracle.shape(g)
            if (acc not in f64 or g not in f64 or ashape is None or gshape is None
                    or len(gshape) != 2 or _mentions(body, acc) != 1 or acc in (g, x, t)):
                continue
            want = (gshape[1],) if kind == "sum" else (oracle.shape(x) or (None,))[-1:] + (
                gshape[1],)
            if tuple(ashape) != want:
                continue
            by_g.setdefault(g, []).append((k, kind, acc, x))
        plans = []
        for g, items in by_g.items():
            rows, width = oracle.shape(g)
            if trips * rows * width > MAX_BUFFER_ELEMENTS or g in in_place:
                continue
            found = single_definition(g)
            first = min(k for k, *_ in items)
            if found is None or found[0] >= first:
                continue
            batched = []
            for k, kind, acc, x in items:
                if kind == "dot" and rows * oracle.shape(acc)[0] * width <= MAX_TRIP_PRODUCT:
                    rows_of_x = all_trips_of(x, rows, k)
                    if rows_of_x is not None:
                        batched.append((k, kind, acc, rows_of_x + (x,)))
            if not batched:
                continue           # a bias sum alone does not pay for the buffer
            batched += [(k, kind, acc, None) for k, kind, acc, x in items if kind == "sum"]
            # between the first and the last batched statement nothing may change
            # an array in place (G is stored once, where the first one was)
            last = max(k for k, *_ in batched)
            keys = {k for k, *_ in batched}
            if not all(k in keys or (isinstance(s, gast.Assign)
                                     and isinstance(s.targets[0], gast.Name)
                                     and (_pure_expr(s.value, np_name) or _pop_of(s)))
                       for k, s in enumerate(body[first:last + 1], first)):
                continue
            plans.append((g, rows, width, sorted(batched, key=lambda b: b[0])))
        if not plans:
            continue
        _apply(fn, bwd, fwd, t, trips, plans, oracle, taken)
    return fn


def _apply(fn, bwd, fwd, t, trips, plans, oracle, taken) -> None:
    np_name = oracle.numpy_name
    before: List[gast.stmt] = []
    after: List[Tuple[str, gast.stmt]] = []
    replace: Dict[int, Optional[gast.stmt]] = {}
    stacks: Dict[str, tuple] = {}          # stack -> (shape of one saved value, its name)
    rows_read: set = set()                 # X = xs[t] only read by the products
    for g, rows, width, batched in plans:
        buf = _fresh(g + "_by_trip", taken)
        alloc = A.assign(buf, A.call(_np(np_name, "empty"), [_shape_tuple((trips, rows, width))]))
        alloc.s2s_comment = "%s of every trip: the weight gradients are summed after the loop" % g
        before.append(alloc)
        for n, (k, kind, acc, of_x) in enumerate(batched):
            if n == 0:
                store = A.assign(gast.Subscript(value=A.load(buf), slice=A.load(t),
                                                ctx=gast.Store()), A.load(g))
                store.s2s_comment = "save %s for the sums after the loop" % g
                replace[k] = store
            else:
                replace[k] = None
            if kind == "dot":
                x_rows, stack, x = of_x
                if stack is not None:
                    stacks[stack] = (tuple(oracle.shape(x)), x)
                else:
                    rows_read.add(x)
                total = A.call(_np(np_name, "dot"), [
                    gast.Attribute(value=x_rows, attr="T", ctx=gast.Load()),
                    _rows(A.load(buf), width)])
            else:
                total = A.call(gast.Attribute(value=A.load(buf), attr="sum", ctx=gast.Load()),
                               [], [("axis", A.parse_expr("(0, 1)"))])
            stmt = gast.AugAssign(target=A.store(acc), op=gast.Add(), value=total)
            stmt.s2s_comment = getattr(bwd.body[k], "s2s_comment", None)
            after.append((acc, stmt))
    body = []
    for k, s in enumerate(bwd.body):
        if k in replace:
            if replace[k] is not None:
                body.append(replace[k])
            continue
        stack = _pop_of(s)
        if stack in stacks:
            s.value = gast.Subscript(value=A.load(stack), slice=A.load(t), ctx=gast.Load())
        body.append(s)
    top = fn.body
    b_index = top.index(bwd)
    # a row xs[t] read only by the products now after the loop is not needed in the loop
    bwd.body = [s for s in body if not (
        isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
        and s.targets[0].id in rows_read
        and _mentions(body, s.targets[0].id) == 1
        and _mentions(top[b_index + 1:], s.targets[0].id) == 0)] or [gast.Pass()]
    for stack, (shape, x) in stacks.items():
        for s in top:
            if _stack_init(s) == stack:
                s.value = A.call(_np(np_name, "empty"), [_shape_tuple((trips,) + shape)])
                s.s2s_comment = "%s of every trip, for the backward pass" % x
        for k, s in enumerate(fwd.body):
            if _append_of(s) == stack:
                store = A.assign(gast.Subscript(value=A.load(stack), slice=A.load(t),
                                                ctx=gast.Store()), s.value.args[0])
                store.s2s_comment = getattr(s, "s2s_comment", None)
                fwd.body[k] = store
    # acc = np.zeros(S) before the loop and not touched since: assign the sum instead
    dropped = set()
    final = []
    for acc, stmt in after:
        last = next((s for s in reversed(top[:b_index]) if _mentions([s], acc)), None)
        if (isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name)
                and last.targets[0].id == acc and isinstance(last.value, gast.Call)
                and A.dotted(last.value.func) == np_name + ".zeros"
                and len(last.value.args) == 1 and not last.value.keywords):
            dropped.add(id(last))
            plain = A.assign(acc, stmt.value)
            plain.s2s_comment = stmt.s2s_comment
            stmt = plain
        final.append(stmt)
    fn.body = [s for s in top[:b_index] if id(s) not in dropped] + before + [bwd] + final \
        + top[b_index + 1:]
