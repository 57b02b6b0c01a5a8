"""What the first call told us: the shape and dtype of every trace value.

The probe runs the primal trace once on the caller's arguments and records, per
name, the (shape, dtype, type) it held.  A name that held values of different
shapes (a growing list, a loop that changes shapes) is recorded as unknown, and
the code generated for it stays generic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import numpy as np

from s2sgrad.objects import is_object
from s2sgrad.runtime.duck import has_unknown_shape, is_duck_array

UNKNOWN = None


@dataclass(frozen=True)
class ValueInfo:
    shape: Tuple[int, ...]
    dtype: Any          # numpy dtype, or the Python type for Python scalars
    is_array: bool

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()


def describe(value) -> Optional[ValueInfo]:
    if isinstance(value, np.ndarray):
        return ValueInfo(value.shape, value.dtype, True)
    if isinstance(value, np.generic):
        return ValueInfo((), value.dtype, False)
    if isinstance(value, (bool, int, float, complex)):
        return ValueInfo((), type(value), False)
    if is_duck_array(value) and not has_unknown_shape(value):
        # a Dask array (runtime/duck.py): specialized on its shape as an ndarray is;
        # ShapeEnv.duck says which names held one
        return ValueInfo(value.shape, value.dtype, True)
    return None


_INERT = (str, bytes, type(None), slice, type(Ellipsis), range)


def _foreign(value) -> bool:
    if isinstance(value, (np.ndarray, np.generic)):
        return False
    module = (getattr(type(value), "__module__", "") or "").split(".")[0]
    return module not in ("numpy", "scipy", "builtins", "s2sgrad")


class ShapeEnv:
    """name -> ValueInfo, filled by the probe; ``None`` when unknown."""

    def __init__(self):
        self.info: Dict[str, Optional[ValueInfo]] = {}

    def record(self, name: str, value) -> None:
        if is_object(value):
            self.__dict__.setdefault("objects", {})[name] = type(value)
        if is_duck_array(value):
            # the compiler emits lazy forms for these names (ad/duck.py)
            self.__dict__.setdefault("duck", {})[name] = type(value)
        elif not is_object(value) and _foreign(value):
            # (a user's object the inliner did not resolve: never an ndarray method)
            self.__dict__.setdefault("foreign", {})[name] = type(value)
        if isinstance(value, (list, tuple, dict)) or is_object(value):
            # containers: their gradients are containers too (added item by item)
            self.__dict__.setdefault("containers", set()).add(name)
        if isinstance(value, _INERT) or (type(value) is tuple and all(
                isinstance(v, (int, np.integer)) for v in value)):
            # (a string, None, a slice, a shape tuple of ints: no gradient can be
            # carried by it)
            self.__dict__.setdefault("inert", {}).setdefault(name, True)
        elif name in self.__dict__.get("inert", ()):
            self.inert[name] = False
        new = describe(value)
        if name in self.info:
            if self.info[name] != new:
                self.info[name] = None
        else:
            self.info[name] = new

    def is_inert(self, name: str) -> bool:
        """Did the name hold only strings, None, slices (never a number or array)?"""
        return self.__dict__.get("inert", {}).get(name, False) and \
            self.info.get(name) is None

    def duck_type(self, name: str):
        """The type of the non-NumPy array (a Dask array) ``name`` held, else None."""
        return self.__dict__.get("duck", {}).get(name)

    def object_class(self, name: str):
        """The class of the object ``name`` held (objects.py), else None."""
        return self.__dict__.get("objects", {}).get(name)

    def foreign_class(self, name: str):
        """The class of a value ``name`` held that is neither NumPy's, SciPy's nor a
        builtin (a user's object, also one with ``__getitem__``), else None: a method
        called on it is the user's, never an ndarray method of the same name."""
        return self.object_class(name) or self.__dict__.get("foreign", {}).get(name)

    def is_container(self, name: str) -> bool:
        return name in self.__dict__.get("containers", ())

    def get(self, name: str) -> Optional[ValueInfo]:
        return self.info.get(name)

    def shape(self, name: str):
        vi = self.info.get(name)
        return None if vi is None else vi.shape

    def is_int(self, name: str) -> bool:
        vi = self.info.get(name)
        if vi is None:
            return False
        if vi.is_array:
            return False
        dt = vi.dtype
        if isinstance(dt, type):
            return issubclass(dt, (int, np.integer)) and not issubclass(dt, bool)
        return np.issubdtype(dt, np.integer)

    def kind(self, name: str) -> Optional[str]:
        """The dtype kind ('f', 'c', 'i', 'b', ...) of a recorded number or array; None
        when unknown or not a number."""
        vi = self.info.get(name)
        if vi is None:
            return None
        dt = vi.dtype
        if isinstance(dt, type) and not issubclass(dt, np.generic):
            return {float: "f", int: "i", bool: "b", complex: "c"}.get(dt)
        return np.dtype(dt).kind

    def is_bool_array(self, name: str) -> bool:
        vi = self.info.get(name)
        return vi is not None and vi.is_array and vi.dtype == np.bool_
