"""Which argument values the generated code is specialized on by value: callables.

What is not differentiated is known at the first call.  An argument holding a
function (a loss's activation, an optimizer's ``grad_fn``, a dict of losses, a list
of ``(fn, W)`` layers) decides which code a call of it inlines, so the function is
part of the signature (``api._key_of``) and of what the front end knows
(``inline.Inliner.static_of``).  Imports nothing but NumPy.
"""
from __future__ import annotations

import functools
import types

import numpy as np

# Callables an argument may hold: the code is specialized on which one it is (a call
# of it is inlined, or calls its derivative rule), as it is on shapes.
STATIC_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, np.ufunc,
                functools.partial, type(np.sum))

# (containers of functions are small: a long list of numbers is not looked through)
_MAX_ITEMS = 256


def is_static_value(a, depth: int = 0) -> bool:
    """A callable the code is specialized on, or a dict / list / tuple holding one."""
    if isinstance(a, STATIC_TYPES):
        return True
    if depth < 4 and type(a) in (list, tuple) and len(a) <= _MAX_ITEMS:
        return any(is_static_value(v, depth + 1) for v in a)
    if depth < 4 and type(a) is dict and len(a) <= _MAX_ITEMS:
        return any(is_static_value(v, depth + 1) for v in a.values())
    return False
