"""``has_aux=True``: the function returns ``(output, aux)``; only ``output`` is
differentiated, ``aux`` (any value or container, which may depend on the
differentiated inputs) is computed by the forward pass and returned as it is.

Two small rewrites of the user's function, around control-flow lowering:

* ``split_returns`` (before): every ``return output, aux`` of the function itself
  (not of nested functions) becomes ``<aux> = aux`` followed by ``return output``;
  a returned value that is not a pair display (``return pair``) is split with
  ``output, <aux> = pair`` -- a value that is not a pair fails there, as in Python.
* ``keep_aux`` (after, once the function has its single final ``return``): the aux
  value is copied into a fresh name assigned exactly once, what the generated
  function returns next to the gradients (the optimizer folds the copy away).

The aux value gets no adjoint: it does not reach the differentiated output, so the
activity analysis leaves it out, and its statements are ordinary forward code.
"""
from __future__ import annotations

from typing import List, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.errors import UnsupportedSyntaxError


def split_returns(body: List[gast.stmt], names: A.NameAllocator, info) -> Tuple[List[gast.stmt], str]:
    """``body`` with its returns split, and the name every return assigns the aux to."""
    aux = names.fresh("aux")
    return _block(body, names, info, aux), aux


def _block(stmts, names, info, aux):
    out = []
    for s in stmts:
        if isinstance(s, gast.Return):
            out += _split(s, names, info, aux)
            continue
        if isinstance(s, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            out.append(s)               # their returns are theirs
            continue
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(s, field, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], gast.stmt):
                setattr(s, field, _block(sub, names, info, aux))
        for handler in getattr(s, "handlers", None) or ():
            handler.body = _block(handler.body, names, info, aux)
        out.append(s)
    return out


def _split(ret: gast.Return, names, info, aux) -> List[gast.stmt]:
    value = ret.value
    if value is None or (isinstance(value, gast.Constant) and value.value is None):
        raise info.error(UnsupportedSyntaxError,
                         "has_aux=True: this return statement returns no (output, aux) pair",
                         ret, hint="return the differentiated output and the auxiliary "
                                   "value: return loss, aux")
    if isinstance(value, (gast.Tuple, gast.List)):
        if len(value.elts) != 2 or any(isinstance(e, gast.Starred) for e in value.elts):
            raise info.error(UnsupportedSyntaxError,
                             "has_aux=True: this return statement returns %d values, not an "
                             "(output, aux) pair" % len(value.elts), ret,
                             hint="group the auxiliary values into one: "
                                  "return loss, (a, b) or return loss, {'a': a, 'b': b}")
        output, extra = value.elts
        store = A.assign(aux, extra)
        new = gast.Return(value=output)
        for node in (store, new):
            gast.copy_location(node, ret)
        return [store, new]
    output = names.fresh("output")
    unpack = gast.Assign(targets=[gast.Tuple(elts=[A.store(output), A.store(aux)],
                                             ctx=gast.Store())],
                         value=value, type_comment=None)
    new = gast.Return(value=A.load(output))
    for node in (unpack, new):
        gast.copy_location(node, ret)
    return [unpack, new]


def keep_aux(body: List[gast.stmt], names: A.NameAllocator, aux: str) -> Tuple[List[gast.stmt], str]:
    """Copy the aux value into a fresh name just before the final ``return``."""
    assert body and isinstance(body[-1], gast.Return), "control flow lowering keeps one return"
    stores = [n for n in A.nodes(gast.Module(body=body, type_ignores=[]))
              if isinstance(n, gast.Name) and n.id == aux and isinstance(n.ctx, gast.Store)]
    top = [s for s in body if isinstance(s, gast.Assign) and len(s.targets) == 1
           and aux in A.names_stored(s.targets[0])]
    if len(stores) == 1 and len(top) == 1:
        return body, aux            # one return: its aux name is final as it is
    kept = names.fresh("aux")
    copy = A.assign(kept, A.load(aux))
    gast.copy_location(copy, body[-1])
    return body[:-1] + [copy, body[-1]], kept
