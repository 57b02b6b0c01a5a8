"""Objects in differentiated code: attributes as items, methods inlined.

An object the differentiated function receives (``self`` of ``model.loss``, a layer
held in a list, a dataclass of arrays) is treated as a container of its attributes,
as a dict is of its items: ``self.params`` reads the item ``'params'`` of ``self``,
``self.cache = v`` writes it (into the real object, once per call, as Python does),
and the gradient of an object is an ``ObjectGradient`` holding its attributes'
gradients.  In the trace an attribute of an object is a ``Subscript`` whose key is an
``AttrKey`` (a ``str``); the printer spells it ``self.params`` again.

What is not differentiated is known at the first call: an object's type and the
structure of its attributes are part of the argument signature (``signature_of``),
so a method call ``self.forward(x)``, ``layer(x)`` (``__call__``) is resolved on the
first call's object and inlined like any function of the user's.
"""
from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any

import numpy as np

from .runtime import ObjectGradient, is_object

__all__ = ["AttrKey", "ObjectGradient", "is_object", "attribute_of", "method_of"]


class AttrKey(str):
    """The key of an attribute item in the trace (printed as ``obj.name``)."""
    __slots__ = ()

    def __repr__(self):
        return str.__repr__(str(self))

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __reduce__(self):
        return (AttrKey, (str(self),))


NOT_AN_ATTRIBUTE = object()


def attribute_of(obj, name: str):
    """``obj.name`` when it is plain data of the instance (in its ``__dict__``), else
    NOT_AN_ATTRIBUTE (a property, a method, a class attribute: read as Python reads it)."""
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict) and name in d:
        return d[name]
    return NOT_AN_ATTRIBUTE


def is_instance_attribute(cls, obj, name: str, store: bool = False) -> bool:
    """``obj.name`` is (or, written, becomes) plain data stored on the instance: no
    property or other data descriptor of the class stands in the way, the class does
    not customize attribute access, and (reading an instance the first call passed) the
    instance holds it.  ``obj`` None: only the class is known."""
    if getattr(cls, "__getattribute__", object.__getattribute__) is not \
            object.__getattribute__:
        return False
    if store and getattr(cls, "__setattr__", object.__setattr__) is not object.__setattr__:
        return False
    try:
        found = inspect.getattr_static(cls, name)
    except AttributeError:
        found = NOT_AN_ATTRIBUTE
    if found is not NOT_AN_ATTRIBUTE and hasattr(type(found), "__set__"):
        return False        # a property or slot
    if store:
        return True
    if obj is None:
        return found is NOT_AN_ATTRIBUTE
    return attribute_of(obj, name) is not NOT_AN_ATTRIBUTE


def method_of(cls, name: str):
    """(function, binds_self) for ``obj.name(...)`` on an instance of ``cls``; None when
    ``name`` is no plain method (or static method) of the class."""
    try:
        found = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    if isinstance(found, staticmethod):
        fn = found.__func__
        return (fn, False) if isinstance(fn, types.FunctionType) else None
    if isinstance(found, types.FunctionType):
        return found, True
    return None


def signature_of(obj, key_of, values: bool, seen=None):
    """The signature key of an object: its class and its attributes' keys (arrays by
    shape, ints and strings by value, nested objects alike).  Cycles are cut."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return (type(obj), "<cycle>")
    seen.add(id(obj))
    try:
        items = vars(obj)
    except TypeError:
        return type(obj)
    out = []
    for k, v in items.items():
        if is_object(v):
            out.append((k, signature_of(v, key_of, values, seen)))
        else:
            out.append((k, key_of(v, values)))
    seen.discard(id(obj))
    return (type(obj), tuple(out))
