"""Constant folding and algebraic identities on expressions."""
from __future__ import annotations

from typing import Dict, Optional, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.back.emit import Comment
from s2sgrad.passes.common import (_FOLD, _NO_ORACLE, ShapeOracle, _effects, _is_neg,
                                   _name_counts, _neg, _num, _number, _protected, _pure_expr,
                                   _stored_anywhere, _substitute_loads, _written_in_place,
                                   flatten)
from s2sgrad.passes.lowering import _array_shape
from s2sgrad.passes.temporaries import _join_comments

_LEAVES = frozenset({gast.Name, gast.Constant, gast.Load, gast.Store, gast.Del})
_FIELDS_OF = A._NAME_FIELDS.get         # the fields of a class that may hold expressions


class Simplify(A.Transformer):
    """Constant folding and algebraic identities on one expression.

    ``x * 1.0`` becomes ``x`` only when ``x`` is known to be floating (an integer
    array times 1.0 is a float array)."""

    def __init__(self, oracle: Optional[ShapeOracle] = None, trust_floats: bool = True):
        self.oracle = oracle or _NO_ORACLE
        self.trust = trust_floats       # without an oracle: the historical behaviour

    def floating(self, node) -> bool:
        return self.trust or self.oracle.is_floating(node)

    # NodeTransformer's dispatch, without its per-node method lookup and field
    # iteration (the simplifier runs over every statement three times per gradient)
    def visit(self, node):
        kind = type(node)
        if kind is gast.BinOp:
            return self.visit_BinOp(node)
        if kind is gast.UnaryOp:
            return self.visit_UnaryOp(node)
        if kind is gast.Call:
            return self.visit_Call(node)
        if kind in _LEAVES:
            return node
        return self.generic_visit(node)

    def generic_visit(self, node):
        # (only the fields that may hold expressions: contexts and operators, which
        # visit to themselves, are not looked at; nor are names and constants)
        cls = node.__class__
        fields = _FIELDS_OF(cls)
        if fields is None:
            fields = A._name_fields(cls)
        # (``visit``'s dispatch done here, one call less per node)
        rules = _RULES
        for field in fields:
            old = getattr(node, field, None)
            if old is None:
                continue
            kind = old.__class__
            if kind is list:
                for k, value in enumerate(old):
                    vkind = value.__class__
                    if vkind not in _LEAVES and isinstance(value, gast.AST):
                        rule = rules.get(vkind)     # (no rule returns None or a list)
                        old[k] = (rule(self, value) if rule is not None
                                  else self.generic_visit(value))
            elif kind not in _LEAVES and isinstance(old, gast.AST):
                rule = rules.get(kind)
                new = rule(self, old) if rule is not None else self.generic_visit(old)
                if new is not old:
                    setattr(node, field, new)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b = _num(node.left), _num(node.right)
        op = type(node.op)
        if a is not None and b is not None and op in _FOLD:
            try:
                value = _FOLD[op](a, b)
            except (ArithmeticError, ValueError, OverflowError):
                return node
            # keep 1.0 / 256 when its value would print as 0.00390625... -- readable
            if isinstance(value, (int, float)) and abs(value) < 1e15 \
                    and len(repr(value)) <= 12:
                return _number(value)
            return node
        left, right = node.left, node.right
        if op is gast.Mult:
            if b == 1 and self.floating(left):
                return left
            if a == 1 and self.floating(right):
                return right
            if b == -1 and self.floating(left):
                return _neg(left)
            if a == -1 and self.floating(right):
                return _neg(right)
            if not ((a is not None and _is_neg(right)) or (b is not None and _is_neg(left))):
                return node             # (no sign to move: the types need no look)
            if not (self.floating(left) and self.floating(right)):
                return node
            # c * -x -> -c * x ; -x * c -> -c * x  (a person writes the sign on the constant)
            if a is not None and _is_neg(right):
                return gast.BinOp(left=_number(-a), op=gast.Mult(), right=right.operand)
            if b is not None and _is_neg(left):
                return gast.BinOp(left=_number(-b), op=gast.Mult(), right=left.operand)
        if op is gast.Div:
            if b == 1 and self.floating(left):
                return left
            if b == -1 and self.floating(left):
                return _neg(left)
        if op is gast.Add:
            if b == 0 and self.floating(left):
                return left
            if a == 0 and self.floating(right):
                return right
            if not (_is_neg(right) or _is_neg(left)):
                return node             # (no sign to move: the types need no look)
            if not (self.floating(left) and self.floating(right)):
                return node
            if _is_neg(right):                         # a + -b -> a - b
                return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
            if _is_neg(left):                          # -a + b -> b - a
                return gast.BinOp(left=right, op=gast.Sub(), right=left.operand)
        if op is gast.Sub:
            if b == 0 and self.floating(left):
                return left
            if a == 0 and self.floating(right):
                return _neg(right)
            if _is_neg(right) and self.floating(left) and self.floating(right):                         # a - -b -> a + b
                return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
        if op is gast.Pow and b == 1 and self.floating(left):
            return left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            inner = node.operand
            if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                return inner.operand
            # -(c * x) -> -c * x: the sign goes on the constant, one array operation less
            if isinstance(inner, gast.BinOp) and isinstance(inner.op, (gast.Mult, gast.Div)) \
                    and _num(inner.left) is not None and self.floating(inner.right):
                return gast.BinOp(left=_number(-_num(inner.left)), op=inner.op,
                                  right=inner.right)
            # -(a - b) -> b - a: exact (rounding is symmetric), one operation less
            if isinstance(inner, gast.BinOp) and isinstance(inner.op, gast.Sub) \
                    and (self.floating(inner.left) or self.floating(inner.right)):
                return gast.BinOp(left=inner.right, op=gast.Sub(), right=inner.left)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        # np.sum(-g, ...) -> -np.sum(g, ...): negate the (smaller) reduced array
        if (node.args and _is_neg(node.args[0])
                and A.dotted(node.func) == self.oracle.numpy_name + ".sum"):
            node.args[0] = node.args[0].operand
            return gast.UnaryOp(op=gast.USub(), operand=node)
        return node


_RULES = {gast.BinOp: Simplify.visit_BinOp, gast.UnaryOp: Simplify.visit_UnaryOp,
          gast.Call: Simplify.visit_Call}

# class -> which of its fields ``value``, ``test``, ``iter`` (the expressions a
# statement computes) it has
_EXPRESSION_FIELDS: Dict[type, tuple] = {}
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers")
_HOLDS_BLOCKS: Dict[type, bool] = {}     # class -> whether it has a block field


def _statements(stmts):
    """Every statement of a body, nested blocks included, in order (expressions are
    not walked: ``Simplify`` visits each statement's expression whole)."""
    for s in stmts:
        yield s
        cls = s.__class__
        blocks = _HOLDS_BLOCKS.get(cls)
        if blocks is None:
            blocks = _HOLDS_BLOCKS[cls] = any(f in cls._fields for f in _BLOCK_FIELDS)
        if blocks:
            for field in _BLOCK_FIELDS:
                inner = getattr(s, field, None)
                if isinstance(inner, list):
                    yield from _statements(inner)


def simplify_function(fn: gast.FunctionDef, oracle: Optional[ShapeOracle] = None,
                      protected: Optional[Set[str]] = None) -> gast.FunctionDef:
    fn.body = flatten(fn.body)
    simp = Simplify(oracle, trust_floats=oracle is None)
    # y = x * 1.0 makes a new array; y = x would make y an alias, wrong when y is
    # then written in place (y[i] = ..., y += ...) or returned.
    if protected is not None:
        written = protected
    else:
        written = _protected(fn) if oracle is not None else _written_in_place(fn)
    for stmt in _statements(fn.body):
        cls = stmt.__class__
        fields = _EXPRESSION_FIELDS.get(cls)
        if fields is None:
            fields = _EXPRESSION_FIELDS[cls] = tuple(f for f in ("value", "test", "iter")
                                                     if f in cls._fields)
        for field in fields:
            child = getattr(stmt, field, None)
            if isinstance(child, gast.expr):
                new = simp.visit(child)
                if (isinstance(new, gast.Name) and not isinstance(child, gast.Name)
                        and isinstance(stmt, gast.Assign)
                        and (A.root_name(stmt.targets[0]) in written or new.id in written)):
                    continue
                setattr(stmt, field, new)
        if isinstance(stmt, gast.AugAssign) and _is_neg(stmt.value) \
                and isinstance(stmt.op, (gast.Add, gast.Sub)):
            # g += -x  ->  g -= x
            stmt.op = gast.Sub() if isinstance(stmt.op, gast.Add) else gast.Add()
            stmt.value = stmt.value.operand
    return fn


# -- signs ------------------------------------------------------------------------------

# Where a sign can go without an extra operation, best first: the operator of the
# statement or sum that reads the value, a number in a product, a difference (swapped),
# a number in a denominator -- after a number that was negative already (no change).
_KEEP, _FLIP, _NUMBER, _SWAP, _DENOMINATOR = range(5)

# Calls through which a sign passes exactly on their first argument (``np.dot(-a, b)``
# is ``-np.dot(a, b)``: every product and every sum is negated, nothing rounds apart).
_LINEAR_FIRST = ("dot", "matmul", "sum", "mean", "transpose", "reshape", "expand_dims")
_LINEAR_BOTH = ("dot", "matmul", "outer", "multiply")


class _Signs:
    """The signs met along one product path: their parity, where they were taken
    from, and where one can be put back for free."""

    def __init__(self):
        self.parity = 0
        self.strips = []        # (holder, node negated there originally, statement index)
        self.spots = []         # (rank, action returning True when it placed the sign,
                                #  statement index)
        self.subroots = []      # (holder, extra spots, statement index) settled on their own


def _get(holder):
    obj, key = holder
    return obj[key] if isinstance(obj, list) else getattr(obj, key)


def _set(holder, value):
    obj, key = holder
    if isinstance(obj, list):
        obj[key] = value
    else:
        setattr(obj, key, value)


def cancel_negations(fn: gast.FunctionDef, oracle: ShapeOracle, protected: Set[str],
                     numpy_name: str = "np", counts: Optional[tuple] = None
                     ) -> gast.FunctionDef:
    """Negations that cancel, or that a constant, a difference or an accumulation can
    absorb, along products and single-use temporaries.

    A sign moves freely along a product path (the factors of ``*``, ``/``, ``@``,
    ``np.dot``, a sum's argument) and through a temporary read once, later in the same
    block, whose reads nothing rebinds in between.  Each statement's tree is settled
    on its own: the signs on its product path are taken off, and if their number is odd
    one goes back where it costs nothing (``g += -x`` -> ``g -= x``, ``a + -x`` ->
    ``a - x``, ``-(2.0 * x)`` -> ``-2.0 * x``, ``-(a - b)`` -> ``b - a``) or, failing
    that, back on the smallest operand that carried one.  The neuron's
    ``t = -out / t6; u = t * t5; g = -u`` becomes ``g = out / t6 * t5``: a temporary
    whose value changed sign goes into its one reader, so that no name (``grad_t6``)
    holds minus what it says.
    Every move is exact in floating point (negation commutes with rounding); only the
    sign of a zero difference may change.

    ``counts``: ``_name_counts(fn)`` if known.  They stay right for every name still
    bound after the pass: a temporary it removes had its one read replaced by its
    value, so the names of that value are read as often as before."""
    counts, stores = _name_counts(fn) if counts is None else counts
    np_prefix = numpy_name + "."

    def floating_target(s) -> bool:
        target = s.target if isinstance(s, gast.AugAssign) else s.targets[0]
        root = A.root_name(target)
        return root in oracle.floating

    def settle_block(stmts, top=False):
        # the forward pass keeps the user's values as written: only statements after
        # the "Backward pass" marker change
        first = -1
        if top:
            first = next((k for k, s in enumerate(stmts) if isinstance(s, Comment)
                          and s.text == "Backward pass"), -1)
        # temporaries read once, later in this block, by a plain statement: followed
        # when the walk of their reader meets them (``chain``)
        defs = {}                   # name -> index of its only definition
        for i, s in enumerate(stmts):
            if i <= first:
                continue
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s.body, s.orelse = settle_block(s.body), settle_block(s.orelse)
            elif (isinstance(s, gast.Assign) and len(s.targets) == 1
                  and isinstance(s.targets[0], gast.Name)):
                x = s.targets[0].id
                if (counts.get(x, 0) == 1 and stores.get(x, 0) == 1 and x not in protected
                        and x in oracle.floating):
                    defs[x] = i
        effects = {}                # index -> names stored by that statement
        consumed = {}               # name -> (index of its definition, it, its reader)
        toggles = {}                # index -> parity of the signs taken off / put on there

        def toggle(idx):
            toggles[idx] = toggles.get(idx, 0) ^ 1

        def chain(name, reader):
            """The definition of ``name`` if it is a temporary read only by statement
            ``reader`` (an index) and nothing in between rebinds what it reads."""
            i = defs.get(name)
            if i is None or i >= reader or name in consumed:
                return None
            d = stmts[i]
            if not _pure_expr(d.value, numpy_name):
                return None
            reads = A.names_loaded(d.value) | {name}
            for j in range(i + 1, reader):
                t = stmts[j]
                if isinstance(t, (gast.If, gast.For, gast.While)):
                    return None
                if j not in effects:
                    effects[j] = _effects(t)[1]
                if reads & effects[j]:
                    return None
            return d

        def collect(holder, acc, at_root, idx):
            node = _get(holder)
            n = _num(node)
            if n is not None:
                if n < 0:
                    acc.parity ^= 1
                    toggle(idx)
                    _set(holder, _number(-n))

                def flip_number(holder=holder):
                    _set(holder, _number(-_num(_get(holder))))
                    return True
                rank = _DENOMINATOR if (holder[1] == "right" and isinstance(holder[0], gast.BinOp)
                                        and isinstance(holder[0].op, gast.Div)) else _NUMBER
                acc.spots.append((_KEEP if n < 0 else rank, flip_number, idx))
                return
            if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
                inner = node.operand
                # a statement's value stays a computation: y = -x must not become an
                # alias y = x (x may change in place, y may be returned)
                fresh = isinstance(inner, gast.BinOp)
                if at_root and isinstance(inner, gast.Name):
                    d = chain(inner.id, idx)
                    fresh = d is not None and isinstance(d.value, gast.BinOp)
                if not at_root or fresh:
                    acc.parity ^= 1
                    toggle(idx)
                    acc.strips.append((holder, inner, idx))
                    _set(holder, inner)
                    collect(holder, acc, at_root, idx)
                    return
            if isinstance(node, gast.BinOp):
                if isinstance(node.op, (gast.Mult, gast.Div, gast.MatMult)):
                    collect((node, "left"), acc, False, idx)
                    collect((node, "right"), acc, False, idx)
                    return
                if isinstance(node.op, (gast.Add, gast.Sub)):
                    def swap(node=node):
                        if not isinstance(node.op, gast.Sub):
                            return False
                        node.left, node.right = node.right, node.left
                        return True

                    def flip(node=node):
                        node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
                        return True

                    def swap_left(node=node):    # -x + b -> b - x
                        if not isinstance(node.op, gast.Add):
                            return False
                        node.op = gast.Sub()
                        node.left, node.right = node.right, node.left
                        return True
                    acc.spots.append((_SWAP, swap, idx))
                    acc.subroots.append(((node, "left"), [(_FLIP, swap_left)], idx))
                    acc.subroots.append(((node, "right"), [(_FLIP, flip)], idx))
                    return
            if isinstance(node, gast.Name):
                d = chain(node.id, idx)
                if d is not None:
                    k = defs[node.id]
                    consumed[node.id] = (k, d, stmts[idx])
                    collect((d, "value"), acc, False, k)
                return
            if isinstance(node, gast.Attribute) and node.attr == "T":
                collect((node, "value"), acc, False, idx)
                return
            if isinstance(node, gast.Call) and not node.keywords or isinstance(node, gast.Call) \
                    and all(k.arg in ("axis", "keepdims") for k in node.keywords):
                path = A.dotted(node.func) or ""
                method = isinstance(node.func, gast.Attribute) and not path.startswith(np_prefix)
                name = path[len(np_prefix):] if path.startswith(np_prefix) else None
                if name in _LINEAR_BOTH and len(node.args) == 2 and not node.keywords:
                    collect((node.args, 0), acc, False, idx)
                    collect((node.args, 1), acc, False, idx)
                    return
                if name in _LINEAR_FIRST and node.args:
                    collect((node.args, 0), acc, False, idx)
                    for k in range(1, len(node.args)):
                        acc.subroots.append(((node.args, k), [], idx))
                    return
                if method and node.func.attr in ("sum", "mean") and not node.args:
                    collect((node.func, "value"), acc, False, idx)
                    return
            fields = _FIELDS_OF(node.__class__)
            if fields is None:
                fields = A._name_fields(node.__class__)
            for field in fields:                # (iter_fields' order, without the
                value = getattr(node, field, None)  # contexts, operators and leaves)
                if isinstance(value, gast.expr):
                    acc.subroots.append(((node, field), [], idx))
                elif isinstance(value, list):
                    for k, v in enumerate(value):
                        if isinstance(v, gast.expr):
                            acc.subroots.append(((value, k), [], idx))
                        elif isinstance(v, gast.keyword):
                            acc.subroots.append(((v, "value"), [], idx))

        def settle(holder, extra, idx, at_root=False):
            acc = _Signs()
            collect(holder, acc, at_root, idx)
            for sub, spots, k in acc.subroots:
                settle(sub, spots, k)
            if not acc.parity:
                return
            placed = [(rank, action, idx) for rank, action in extra] + acc.spots
            for _, action, at in sorted(placed, key=lambda p: p[0]):
                if action():
                    toggle(at)
                    return
            # back on the operand that carried a sign and is smallest
            best = min(acc.strips, key=lambda p: _size(p[1], oracle))
            _set(best[0], gast.UnaryOp(op=gast.USub(), operand=_get(best[0])))
            toggle(best[2])

        for i in range(len(stmts) - 1, first, -1):
            s = stmts[i]
            if not isinstance(s, (gast.Assign, gast.AugAssign)) or not floating_target(s):
                continue
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and s.targets[0].id in consumed:
                continue
            extra = []
            if isinstance(s, gast.AugAssign) and isinstance(s.op, (gast.Add, gast.Sub)):
                def flip_aug(s=s):
                    s.op = gast.Sub() if isinstance(s.op, gast.Add) else gast.Add()
                    return True
                extra.append((_FLIP, flip_aug))
            settle((s, "value"), extra, i, at_root=True)
        # which temporaries now hold the negation of what they held: an odd number of
        # signs taken off or put on in their definition and the temporaries it reads
        position = {id(u): k for k, u in enumerate(stmts)}
        reads_of: Dict[int, list] = {}
        for x, (k, d, reader) in consumed.items():
            reads_of.setdefault(position[id(reader)], []).append(k)

        def parity(k):
            p = toggles.get(k, 0)
            for c in reads_of.get(k, ()):
                p ^= parity(c)
            return p
        flipped = {x for x, (k, d, reader) in consumed.items() if parity(k)}
        # a temporary left as a copy (t = -a read as -t) is read as what it copies;
        # nothing in between rebinds that name (a condition of the chain)
        for x in sorted(consumed, key=lambda x: consumed[x][0]):
            d, reader = consumed[x][1], consumed[x][2]
            if not isinstance(d.value, gast.Name):
                continue
            k = next(k for k, u in enumerate(stmts) if u is d)
            j = next(j for j, u in enumerate(stmts) if u is reader)
            if not any(d.value.id in _stored_anywhere(u) for u in stmts[k + 1:j]):
                _substitute_loads(reader, {x: d.value})
                del stmts[k]
        # a temporary that changed sign would keep a name that no longer says what it
        # holds (``grad_t6 = out / t6`` holding minus the gradient of t6): it goes into
        # its one reader, which ``chain`` checked reads it with nothing rebound between
        # (``grad_t3 = out / t6 * t5``)
        for x in sorted(flipped, key=lambda x: consumed[x][0]):
            d = consumed[x][1]
            k = next((k for k, u in enumerate(stmts) if u is d), None)
            if k is None or isinstance(d.value, gast.Name):
                continue
            j = next((j for j in range(k + 1, len(stmts))
                      if x in A.names_loaded(stmts[j])), None)
            if j is None:
                continue
            _substitute_loads(stmts[j], {x: d.value})
            _join_comments(stmts[j], d, stmts[j])
            del stmts[k]
        return stmts

    fn.body = settle_block(fn.body, top=True)
    return fn


def _size(node, oracle: ShapeOracle) -> float:
    """How many elements ``node`` has, if the oracle can tell (else: many)."""
    shape = _array_shape(node, oracle)
    if shape is None:
        return float("inf")
    size = 1
    for d in shape:
        size *= d
    return size
