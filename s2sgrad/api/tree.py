"""Pytrees: nested dicts, lists and tuples (namedtuples too) of floats and arrays.

The containers s2sgrad differentiates through are the ones its gradients come back
in: a dict / list / tuple argument gets a gradient of the same structure.  These
utilities work on such structures, so parameters can be kept as a dict of arrays
and updated in one line::

    params = tree_map(lambda p, g: p - 0.1 * g, params, grad(loss)(params, x, y))

Conventions (those of JAX's ``jax.tree_util``): a dict's entries are visited in
sorted key order (so a gradient dict built in another order flattens the same way);
``None`` is an empty subtree (no leaf); anything else that is not a dict, list or
tuple is a leaf.  NumPy only: importing this module loads no compiler code.
"""
from __future__ import annotations

from typing import Any, Callable, List, Tuple

import numpy as np

__all__ = ["tree_map", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure",
           "ravel_pytree", "PyTreeDef"]


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _sorted_keys(d: dict) -> list:
    keys = list(d)
    try:
        return sorted(keys)
    except TypeError:           # keys of mixed types: their insertion order
        return keys


class PyTreeDef:
    """The structure of a pytree with its leaves left out (``tree_flatten``'s second
    result).  Two structures compare equal when their containers, keys and lengths
    do; ``num_leaves`` counts the leaves ``tree_unflatten`` needs."""

    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind: str, meta: Any, children: Tuple["PyTreeDef", ...]):
        self.kind = kind            # "leaf", "none", "dict", "list", "tuple", "namedtuple"
        self.meta = meta            # dict keys, or the namedtuple's type
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def _key(self):
        return (self.kind, self.meta, self.children)

    def __eq__(self, other):
        return isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "PyTreeDef(%s)" % self._show()

    def _show(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = [c._show() for c in self.children]
        if self.kind == "dict":
            return "{%s}" % ", ".join("%r: %s" % (k, c) for k, c in zip(self.meta, inner))
        if self.kind == "list":
            return "[%s]" % ", ".join(inner)
        if self.kind == "namedtuple":
            return "%s(%s)" % (self.meta.__name__, ", ".join(
                "%s=%s" % (f, c) for f, c in zip(self.meta._fields, inner)))
        return "(%s)" % (", ".join(inner) + ("," if len(inner) == 1 else ""))


_LEAF = PyTreeDef("leaf", None, ())
_NONE = PyTreeDef("none", None, ())


def _flatten(tree, leaves: list) -> PyTreeDef:
    if tree is None:
        return _NONE
    t = type(tree)
    if t is dict or isinstance(tree, dict):
        keys = _sorted_keys(tree)
        return PyTreeDef("dict", tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    if isinstance(tree, list):
        return PyTreeDef("list", None, tuple(_flatten(v, leaves) for v in tree))
    if isinstance(tree, tuple):
        children = tuple(_flatten(v, leaves) for v in tree)
        if _is_namedtuple(tree):
            return PyTreeDef("namedtuple", type(tree), children)
        return PyTreeDef("tuple", None, children)
    leaves.append(tree)
    return _LEAF


def tree_flatten(tree: Any) -> Tuple[List[Any], PyTreeDef]:
    """The leaves of ``tree`` in a list, and its structure.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import tree_flatten, tree_unflatten
        >>> leaves, treedef = tree_flatten({"b": 1.0, "w": [np.zeros(2), 3.0]})
        >>> leaves
        [1.0, array([0., 0.]), 3.0]
        >>> treedef
        PyTreeDef({'b': *, 'w': [*, *]})
        >>> tree_unflatten(treedef, [10.0, np.ones(2), 30.0])
        {'b': 10.0, 'w': [array([1., 1.]), 30.0]}
    """
    leaves: List[Any] = []
    treedef = _flatten(tree, leaves)
    return leaves, treedef


def tree_leaves(tree: Any) -> List[Any]:
    """The leaves of ``tree``, in the order of :func:`tree_flatten`.

    Example:
        >>> from s2sgrad import tree_leaves
        >>> tree_leaves({"w": [1.0, 2.0], "b": 3.0, "skip": None})
        [3.0, 1.0, 2.0]
    """
    return tree_flatten(tree)[0]


def tree_structure(tree: Any) -> PyTreeDef:
    """The structure of ``tree`` (:func:`tree_flatten`'s second result).

    Example:
        >>> from s2sgrad import tree_structure
        >>> tree_structure({"w": [1.0, 2.0], "b": 3.0})
        PyTreeDef({'b': *, 'w': [*, *]})
        >>> tree_structure({"b": 0.0, "w": [5.0, 6.0]}) == tree_structure({"w": [1.0, 2.0], "b": 3.0})
        True
    """
    return tree_flatten(tree)[1]


def _build(treedef: PyTreeDef, leaves, pos: int):
    kind = treedef.kind
    if kind == "leaf":
        return leaves[pos], pos + 1
    if kind == "none":
        return None, pos
    items = []
    for child in treedef.children:
        item, pos = _build(child, leaves, pos)
        items.append(item)
    if kind == "dict":
        return dict(zip(treedef.meta, items)), pos
    if kind == "list":
        return items, pos
    if kind == "namedtuple":
        return treedef.meta(*items), pos
    return tuple(items), pos


def tree_unflatten(treedef: PyTreeDef, leaves) -> Any:
    """The pytree of structure ``treedef`` holding ``leaves`` (inverse of
    :func:`tree_flatten`).  Raises ``ValueError`` when the number of leaves differs.

    Example:
        >>> from s2sgrad import tree_flatten, tree_unflatten
        >>> leaves, treedef = tree_flatten((1.0, [2.0, 3.0]))
        >>> tree_unflatten(treedef, [x * 10 for x in leaves])
        (10.0, [20.0, 30.0])
    """
    if not isinstance(treedef, PyTreeDef):
        raise TypeError("tree_unflatten expects the structure returned by tree_flatten, "
                        "got %r" % (treedef,))
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError("tree_unflatten: the structure %r has %d leaves, got %d"
                         % (treedef, treedef.num_leaves, len(leaves)))
    return _build(treedef, leaves, 0)[0]


def tree_map(f: Callable, tree: Any, *rest: Any) -> Any:
    """``f`` applied to every leaf of ``tree`` (and the leaves at the same place in
    each of ``rest``, which must have the same structure); same structure out.

    The one-line optimizer step, with gradients from :func:`s2sgrad.grad` of a
    function of a parameter dict:

    Example:
        >>> import numpy as np
        >>> from s2sgrad import grad, tree_map
        >>> def loss(params, x):
        ...     return np.sum((x @ params["w"] + params["b"]) ** 2)
        >>> params = {"w": np.ones(2), "b": 0.5}
        >>> g = grad(loss)(params, np.eye(2))
        >>> params = tree_map(lambda p, d: p - 0.1 * d, params, g)
        >>> params["w"], round(params["b"], 6)
        (array([0.7, 0.7]), -0.1)
    """
    leaves, treedef = tree_flatten(tree)
    others = []
    for k, other in enumerate(rest):
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError("tree_map: argument %d has structure %r, but the first tree "
                             "has %r" % (k + 2, other_def, treedef))
        others.append(other_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def ravel_pytree(tree: Any) -> Tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """One flat 1-D array of all the leaves of ``tree``, and the function that turns
    such a vector back into a pytree of the original structure, shapes and dtypes.

    For optimizers that want a vector (``scipy.optimize.minimize``): ravel the
    parameters once, unravel inside the objective, ravel the gradient.  The vector's
    dtype is the leaves' common NumPy type (float64 for Python floats); ``unravel``
    gives every leaf its own dtype back (a Python float leaf comes back a float).

    Example:
        >>> import numpy as np
        >>> from s2sgrad import ravel_pytree
        >>> flat, unravel = ravel_pytree({"w": np.ones((2, 2)), "b": 0.5})
        >>> flat
        array([0.5, 1. , 1. , 1. , 1. ])
        >>> unravel(flat * 2)
        {'b': 1.0, 'w': array([[2., 2.],
               [2., 2.]])}
    """
    leaves, treedef = tree_flatten(tree)
    kinds = []          # per leaf: (shape, dtype, python type or None)
    for leaf in leaves:
        if isinstance(leaf, (bool, np.bool_)) or not isinstance(
                leaf, (int, float, complex, np.number, np.ndarray)):
            raise TypeError("ravel_pytree: leaf %r of type %s is not a number or a NumPy "
                            "array" % (leaf, type(leaf).__name__))
        a = np.asarray(leaf)
        # how to give it back: a Python number, a NumPy scalar or an array
        python = type(leaf) if type(leaf) in (int, float, complex) else \
            "scalar" if not isinstance(leaf, np.ndarray) else None
        kinds.append((a.shape, a.dtype, python))
    sizes = [int(np.prod(shape)) for shape, _, _ in kinds]
    dtype = np.result_type(*[d for _, d, _ in kinds]) if kinds else np.dtype(float)
    flat = np.concatenate([np.ravel(np.asarray(leaf, dtype=dtype)) for leaf in leaves]) \
        if leaves else np.zeros(0, dtype)
    total = int(sum(sizes))

    def unravel(vector: np.ndarray) -> Any:
        vector = np.asarray(vector)
        if vector.shape != (total,):
            raise ValueError("unravel expects a vector of shape (%d,), got shape %s"
                             % (total, vector.shape))
        out, start = [], 0
        for (shape, leaf_dtype, python), n in zip(kinds, sizes):
            part = vector[start:start + n]
            start += n
            if python == "scalar":
                out.append(part.astype(leaf_dtype)[0])
            elif python is not None:
                out.append(python(part[0]))
            else:
                out.append(part.reshape(shape).astype(leaf_dtype, copy=True))
        return tree_unflatten(treedef, out)

    return flat, unravel
