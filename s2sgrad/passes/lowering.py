"""Last touches: the first slice update of fresh zeros assigns; reductions as methods."""
from __future__ import annotations

from typing import List

import gast

from s2sgrad import astutil as A
from s2sgrad.passes.common import _FIELDS_OF, ShapeOracle, _ELEMENTWISE, _bcast, _neg, _num


def assign_first_slice(stmts: List[gast.stmt], numpy_name: str = "np") -> List[gast.stmt]:
    """``g = np.zeros(S)`` then ``g[i] += v`` (basic index, nothing reads ``g`` in
    between): the first update assigns, ``g[i] = v`` (``-= v``: ``= -v``)."""
    zeros = numpy_name + ".zeros"
    for k, s in enumerate(stmts):
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = assign_first_slice(s.body, numpy_name)
            s.orelse = assign_first_slice(s.orelse, numpy_name)
            continue
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Call) and A.dotted(s.value.func) == zeros):
            continue
        g = s.targets[0].id
        for t in stmts[k + 1:]:
            if (isinstance(t, gast.AugAssign) and isinstance(t.op, (gast.Add, gast.Sub))
                    and isinstance(t.target, gast.Subscript)
                    and isinstance(t.target.value, gast.Name) and t.target.value.id == g
                    and g not in A.names_loaded(t.value)
                    and g not in A.names_loaded(t.target.slice)):
                idx = [n for n in A.walk(t.target.slice)]
                if any(isinstance(n, gast.Name) for n in idx):
                    break             # an index array may repeat an element
                value = t.value if isinstance(t.op, gast.Add) else _neg(t.value)
                new = gast.Assign(targets=[t.target], value=value, type_comment=None)
                new.s2s_comment = getattr(t, "s2s_comment", None)
                stmts[stmts.index(t)] = new
                break
            if isinstance(t, (gast.If, gast.For, gast.While)) or g in A.all_names(t):
                break
    return stmts


_REDUCTIONS = ("sum", "mean", "max", "min", "prod")


def _array_shape(node, oracle: ShapeOracle):
    """The shape of an expression built from names the oracle knows, if known."""
    if isinstance(node, gast.Name):
        return oracle.shape(node.id)
    if _num(node) is not None:
        return ()
    if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
        return _bcast(_array_shape(node.left, oracle), _array_shape(node.right, oracle))
    if isinstance(node, gast.UnaryOp):
        return _array_shape(node.operand, oracle)
    if isinstance(node, gast.Compare) and len(node.comparators) == 1:
        return _bcast(_array_shape(node.left, oracle),
                      _array_shape(node.comparators[0], oracle))
    return None


def reductions_as_methods(fn: gast.FunctionDef, oracle: ShapeOracle) -> gast.FunctionDef:
    """``np.sum(x, axis=1)`` -> ``x.sum(axis=1)`` when ``x`` is known to be an array
    (a non-empty shape): ``np.sum`` calls that very method after a Python-level
    dispatch that costs about a microsecond per call."""
    prefix = oracle.numpy_name + "."
    # (each call edited in place, in one walk: whether a call changes depends on no
    # other call, as _array_shape never looks into calls; an edited call's children
    # are the ones it had, rearranged.  Names and constants are not pushed.)
    stack = [fn]
    pop, push = stack.pop, stack.append
    Call, Name, Constant, AST = gast.Call, gast.Name, gast.Constant, gast.AST
    while stack:
        node = pop()
        cls = node.__class__
        if cls is Call:
            _as_method(node, prefix, oracle)
        fields = _FIELDS_OF(cls)
        if fields is None:
            fields = A._name_fields(cls)
        for field in fields:
            value = getattr(node, field, None)
            if value is None:
                continue
            for item in (value if value.__class__ is list else (value,)):
                kind = item.__class__
                if kind is not Constant and (kind is not Name or item.annotation is not None) \
                        and isinstance(item, AST):
                    push(item)
    return fn


def _as_method(node: gast.Call, prefix: str, oracle: ShapeOracle) -> None:
    if not (isinstance(node.func, gast.Attribute) and node.func.attr in _REDUCTIONS):
        return                        # (not a reduction, whatever its module)
    path = A.dotted(node.func)
    if path is None or not path.startswith(prefix):
        return
    attr = path[len(prefix):]
    if attr not in _REDUCTIONS or not 1 <= len(node.args) <= 2:
        return
    if any(k.arg not in ("axis", "keepdims") for k in node.keywords):
        return
    shape = _array_shape(node.args[0], oracle)
    if not shape:                     # unknown, or () (maybe a Python float)
        return
    keywords = list(node.keywords)
    if len(node.args) == 2:
        keywords.insert(0, gast.keyword(arg="axis", value=node.args[1]))
    obj = node.args[0]
    node.func = gast.Attribute(value=obj, attr=attr, ctx=gast.Load())
    node.args = []
    node.keywords = keywords
