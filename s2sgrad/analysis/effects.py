"""What an expression does besides computing its value: the one effects table.

Every analysis that asks "may this result share memory with that array?", "does this
call write into an argument?" or "may this expression be dropped, merged or moved?"
reads the tables here (the front end's aliasing checks, the lowering's refusal of
in-place calls, the reverse pass's in-place accumulation, the arguments the generated
code must copy, the optimizer's purity).  Anything not listed as pure is impure, and a
call not known to return a new array may return a view: the tables only ever make an
analysis more careful.
"""
from __future__ import annotations

from typing import Set

import gast
import numpy as np

from s2sgrad import astutil as A

# -- views: results that may share memory with an argument (or the receiver) ------------

# NumPy functions (and the runtime helpers of the same spirit) whose result may share
# memory with their array argument(s).  A write into the source shows through the view
# (and a gradient computed by one of these is never updated in place).
VIEW_FUNCTIONS = frozenset({
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze",
    "expand_dims", "broadcast_to", "broadcast_arrays", "atleast_1d", "atleast_2d",
    "atleast_3d", "diagonal", "diag", "real", "imag", "flip", "fliplr", "flipud", "rot90",
    "split", "array_split", "hsplit", "vsplit", "dsplit", "asarray", "asanyarray",
    "ascontiguousarray", "asfortranarray", "require", "permute_dims", "matrix_transpose",
    "unstack", "as_strided", "sliding_window_view",
    # runtime helpers that may return their argument itself
    "unreduce", "unbroadcast"})

# Array methods whose result may share memory with the receiver.
VIEW_METHODS = frozenset({"reshape", "ravel", "transpose", "swapaxes", "view", "squeeze",
                          "diagonal"})

# Array attributes that are views of the array.
VIEW_ATTRIBUTES = frozenset({"T", "mT", "real", "imag"})

# Container methods whose result is (or holds) an item of the container itself.
CONTAINER_VIEW_METHODS = frozenset({"get", "values", "items", "setdefault", "__getitem__"})


def is_view_call(call: gast.Call) -> bool:
    """May ``call``'s result share memory with an argument or its receiver (judged by
    the called name: ``np.reshape(g, s)``, ``g.reshape(s)``, ``np.einsum('ij->ji', g)``)?"""
    func = call.func
    name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "")
    if name == "einsum" and len(call.args) <= 2:
        return True            # np.einsum('ij->ji', g): a view of its one operand
    return name in VIEW_FUNCTIONS or (isinstance(func, gast.Attribute) and name in VIEW_METHODS)


# -- writes: calls that change an argument or their receiver in place ------------------

# NumPy functions that write into their first argument.
MUTATING_FUNCTIONS = ("copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis")

# Methods that change their receiver (an array, a list, a dict) in place.
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "fill", "sort", "put", "itemset", "resize", "partition", "byteswap", "setfield",
    "reverse", "__setitem__", "__delitem__", "__iadd__", "__isub__", "__imul__",
    "__itruediv__"})

# ... of which the primal trace follows these (``ys.append(v)`` is a trace statement).
TRACED_MUTATIONS = frozenset({"append"})

# Methods of a random generator that shuffle their argument in place.
SHUFFLING_METHODS = frozenset({"shuffle"})


# -- effects: what may not be dropped, merged or moved ---------------------------------

# The draws of a random generator (rng.normal(...)): each call advances its stream, so
# none may be dropped, merged or moved, whatever its result's use.
RANDOM_METHODS = frozenset(
    n for cls in (np.random.Generator, np.random.RandomState) for n in dir(cls)
    if not n.startswith("_")) - frozenset(dir(np.ndarray))

# NumPy functions with an effect (besides those writing into an argument): files, and
# the library's global state.  ``np.random.*`` and ``ufunc.at`` are effects too.
_NUMPY_EFFECTS = frozenset({
    "save", "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt",
    "fromfile", "seterr", "seterrcall", "set_printoptions", "setbufsize"})
IMPURE_NUMPY_FUNCTIONS = frozenset(MUTATING_FUNCTIONS) | _NUMPY_EFFECTS

# Builtins with effects (output, input, files).
IMPURE_BUILTINS = frozenset({"print", "input", "open", "exec", "eval", "setattr",
                             "delattr", "next"})

# Array methods and attributes that neither mutate nor have effects.
PURE_METHODS = frozenset({
    "copy", "sum", "mean", "reshape", "transpose", "astype", "dot", "ravel", "T", "shape",
    "ndim", "max", "min", "conj", "real", "imag", "squeeze", "swapaxes", "flatten", "prod",
    "any", "all", "cumsum", "diagonal", "trace"})

# Expression nodes with effects of their own.
IMPURE_NODES = frozenset({gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr,
                          gast.Lambda})


def impure_numpy(path: str, numpy_name: str) -> bool:
    """Is ``path`` (``np.copyto``, ``np.random.normal``, ``np.add.at``: spelled with
    ``numpy_name``) a NumPy function with an effect?"""
    if not path.startswith(numpy_name + "."):
        return False
    rest = path[len(numpy_name) + 1:]
    return rest == "random" or rest.startswith("random.") or rest.endswith(".at") \
        or rest in IMPURE_NUMPY_FUNCTIONS


def draws_random(call, env) -> bool:
    """Is ``call`` a method of a random generator held in a local or global name
    (``rng.normal(size=3)``)?"""
    func = call.func
    if not (isinstance(func, gast.Attribute) and func.attr in RANDOM_METHODS):
        return False
    root = A.root_name(func)
    if root is None or root in env.local_names:
        return True
    obj = env.resolve(root)
    return isinstance(obj, (np.random.Generator, np.random.RandomState))


_FIELDS_OF = A._NAME_FIELDS.get         # a class's fields that may hold names (or None)


def pure_expr(node, numpy_name: str, helpers: Set[str] = frozenset()) -> bool:
    """No effects and no mutation, read from the generated code's spelling alone:
    arithmetic, subscripts, NumPy functions without effects, runtime helpers, and the
    array methods of ``PURE_METHODS``; any other call is impure."""
    stack = [node]
    pop, push = stack.pop, stack.append
    Name, Constant, Call, AST = gast.Name, gast.Constant, gast.Call, gast.AST
    prefix = numpy_name + "."
    while stack:                     # (depth first; names and constants not pushed)
        sub = pop()
        cls = sub.__class__
        if cls is Call:
            path = A.dotted(sub.func) or ""
            if path.startswith(prefix):
                if impure_numpy(path, numpy_name):
                    return False
            elif not ((isinstance(sub.func, gast.Name) and sub.func.id in helpers)
                      or (isinstance(sub.func, gast.Attribute)
                          and sub.func.attr in PURE_METHODS)):
                return False
        elif cls in IMPURE_NODES:
            return False
        fields = _FIELDS_OF(cls)
        if fields is None:
            fields = A._name_fields(cls)
        for field in fields:
            value = getattr(sub, field, None)
            if value is None:
                continue
            vcls = value.__class__
            if vcls is list:
                for item in value:
                    icls = item.__class__
                    if icls is not Constant and (icls is not Name or item.annotation is not None) \
                            and isinstance(item, AST):
                        push(item)
            elif vcls is not Constant and (vcls is not Name or value.annotation is not None) \
                    and isinstance(value, AST):
                push(value)
    return True


def impure_call(call: gast.Call, env, helpers: Set[str] = frozenset()) -> bool:
    """Has the call ``call`` of a trace (names resolved in ``env``) an effect by the
    table: output, files, random draws, a write into its receiver or an argument?
    (A call this does not flag may still be one the compiler does not understand:
    ``dataflow.pure_assignment`` asks ``classify`` too.)"""
    func = call.func
    if isinstance(func, gast.Name) and func.id in helpers:
        return False
    path = A.dotted(func) or ""
    if path.split(".", 1)[0] in IMPURE_BUILTINS and "." not in path:
        return True
    if path.startswith(("np.random", "numpy.random")) or draws_random(call, env):
        return True
    if isinstance(func, gast.Attribute) and func.attr in MUTATING_METHODS:
        return True
    if "." in path and path.split(".", 1)[0] not in env.local_names:
        module = env.resolve(path.split(".", 1)[0])
        if module is np and impure_numpy(path, path.split(".", 1)[0]):
            return True
    return False
