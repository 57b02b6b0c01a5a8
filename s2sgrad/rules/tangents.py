"""Forward-mode (tangent) knowledge: the table beside the reverse table.

Forward mode needs, for each primitive, how input tangents ``dot_x`` turn into
the result's tangent.  Most of that is *derived* from the reverse table rather
than written twice (JAX's JVP/transpose view):

* ``@elementwise`` rules: each contribution ``grad[x] = grad[result] * LOCAL``
  is linear in ``grad[result]`` and the local Jacobian is diagonal, hence
  self-transposed; the tangent is the sum over active inputs of the same
  expression with ``grad[result]`` replaced by ``dot_x``.  Nothing to write.
* *Linear* operations (sum, mean, reshape, transpose, indexing, ...): the
  tangent is the operation itself applied to the tangent -- ``dot_r =
  np.sum(dot_a, axis=0)``.  Multilinear ones (dot, matmul, outer) sum one such
  term per active argument (the product rule).  Mark them with :func:`linear`,
  giving the linear argument positions (0 = first positional argument, or the
  receiver of a method / attribute).
* Anything else gets an explicit ``@tangent_rule`` template, written like a
  reverse template but with ``tangent[x]`` for the tangent of input ``x`` and
  ``tangent[result] = ...`` (or ``+= ...``) for the result's tangent.  A term
  that reads the tangent of an input that carries none is dropped.

A ``@vjp`` rule with neither a linear mark nor a ``@tangent_rule`` is handled
by forward mode through transposition of its template (see ``ad/forward.py``).

This module is the table and its notation only: each family module of this package
marks its own operations (``linear(...)``) and writes its own ``@tangent_rule``
templates, beside its reverse rules, and those of its runtime helpers.
"""
from __future__ import annotations

import operator as _operator
from typing import Any, Dict, Optional, Tuple

import gast

from s2sgrad.rules.registry import Rule


class _TangentNotation:
    """``tangent[x]`` inside a tangent template: the tangent of input ``x``."""

    def __getitem__(self, item):  # pragma: no cover - templates are never executed
        raise RuntimeError("tangent templates are compiled, not called")


tangent = _TangentNotation()


class Linear:
    """The operation is linear in each of the arguments at ``positions``."""

    def __init__(self, positions: Tuple[int, ...]):
        self.positions = tuple(positions)

    def __repr__(self):
        return "<Linear in %s>" % (self.positions,)


# key -> Rule (kind 'tangent') or Linear.  Keys: ('obj', id), ('method', name),
# ('attr', name), ('op', type).
_TABLE: Dict[tuple, Any] = {}
_OBJECTS: Dict[int, Any] = {}      # keep registered objects alive (ids stay valid)


def _keys(objs, methods, attributes, operator):
    keys = []
    for o in objs:
        if o is None:          # an optional function this NumPy/SciPy version lacks
            continue
        _OBJECTS[id(o)] = o
        keys.append(("obj", id(o)))
    keys += [("method", m) for m in methods]
    keys += [("attr", a) for a in attributes]
    if operator is not None:
        for op in operator if isinstance(operator, tuple) else (operator,):
            keys.append(("op", op))
    return keys


def tangent_rule(*objs, methods=(), attributes=(), operator=None):
    """Register a forward-mode (tangent) template for the given functions / methods.

    Written like an :func:`adjoint` template, with ``tangent[x]`` the tangent of
    input ``x`` and ``tangent[result] = ...`` the result's; a term reading the
    tangent of an input that carries none is dropped.  Without one, forward mode
    derives the tangent from the reverse rule (reading elementwise rules forwards,
    transposing the others).  In a family module of s2sgrad the template is named
    ``tangent_<name>`` beside the reverse rule ``<name>``; its label (in messages) is
    ``<name>``.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import adjoint, jvp, tangent_rule
        >>> def softplus2(x):
        ...     return np.log1p(np.exp(x))
        >>> @adjoint(softplus2)
        ... def _(result, x):
        ...     grad[x] = grad[result] / (1.0 + np.exp(-x))
        >>> @tangent_rule(softplus2)
        ... def _(result, x):
        ...     tangent[result] = tangent[x] / (1.0 + np.exp(-x))
        >>> def f(x):
        ...     return softplus2(x)
        >>> jvp(f)(np.array([0.0]), np.array([2.0]))[1]
        array([1.])
    """
    def deco(fn):
        label = fn.__name__[len("tangent_"):] if fn.__name__.startswith("tangent_") else \
            fn.__name__
        rule = Rule(fn, "tangent", label)
        for k in _keys(objs, methods, attributes, operator):
            _TABLE[k] = rule
        return rule
    return deco


def linear(*objs, methods=(), attributes=(), operator=None, positions=(0,)):
    """Mark operations whose tangent is the operation applied to the tangent."""
    entry = Linear(positions)
    for k in _keys(objs, methods, attributes, operator):
        _TABLE[k] = entry


def lookup_tangent(key: tuple):
    return _TABLE.get(key)


def rule_key_for(expr: gast.expr, op) -> Optional[tuple]:
    """The table key of the primitive on a right-hand side (mirrors ``classify``)."""
    if isinstance(expr, (gast.BinOp, gast.UnaryOp)):
        return ("op", type(expr.op))
    if isinstance(expr, gast.Subscript):
        if op is not None and op.obj is not None:      # np.r_[a, b]: the object's own rule
            return ("obj", id(op.obj))
        return ("obj", id(_operator.getitem))
    if isinstance(expr, gast.Attribute):
        return ("attr", expr.attr)
    if isinstance(expr, gast.Call):
        if op.obj is not None:
            return ("obj", id(op.obj))
        if isinstance(expr.func, gast.Attribute):
            return ("method", expr.func.attr)
    return None
