"""The helpers the compiler itself emits: sums back over broadcast and reduced axes, the
gradients of containers and objects (lists, dicts, tuples, attributes), the scalar-output
check, the element writes and the restores of the backward pass.  NumPy only."""
import copy
import dataclasses
import types

import numpy as np

__all__ = ["unbroadcast", "unreduce", "inverse_permutation", "check_scalar_output",
           "zeros_like_grad", "index_add", "expand_reduced", "as_gradient", "own_gradient",
           "add_gradients", "copy_argument", "GradientList", "written_part", "item_before_write",
           "forget_absent", "add_at", "subtract_at", "private_copy", "write_back",
           "redo_writes"]


def unbroadcast(g, like):
    """Sum ``g`` over the axes along which ``like`` was broadcast."""
    shape = np.shape(like)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if ones:
        g = np.sum(g, axis=ones, keepdims=True)
    return g


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(a % ndim for a in axis))
    return (axis % ndim,)


def expand_reduced(g, like, axis, keepdims):
    """Re-insert the axes a reduction removed, so ``g`` broadcasts against ``like``."""
    if keepdims or axis is None or np.ndim(like) == 0:
        return g
    return np.expand_dims(g, _normalize_axis(axis, np.ndim(like)))


def unreduce(g, like, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction back to the reduced input's shape."""
    return np.broadcast_to(expand_reduced(g, like, axis, keepdims), np.shape(like))


def inverse_permutation(axes):
    """The axes that undo ``np.transpose(x, axes)``."""
    return tuple(int(i) for i in np.argsort(axes))


def check_scalar_output(value, function_name):
    """Raise a clear error when ``grad`` is applied to a non-scalar function."""
    if type(value) is float:
        return
    if np.ndim(value) != 0 and np.size(value) != 1:
        raise ValueError(
            "s2sgrad: grad() needs a function with a scalar output, but %r returned a value "
            "of shape %s; use s2sgrad.vjp or s2sgrad.jacobian for non-scalar outputs, or reduce "
            "the output (e.g. np.sum)" % (function_name, np.shape(value)))


# Objects (s2sgrad/objects.py): here, for exported code needs them without the package.
_PLAIN = (np.ndarray, np.generic, list, tuple, dict, int, float, complex, str, bytes,
          bool, type(None), set, frozenset, range, slice)


def is_object(x) -> bool:
    """An instance of a user class (not an array, number, string, container, module,
    function or class): its attributes are items, its methods are inlined."""
    if isinstance(x, _PLAIN) or isinstance(x, (types.ModuleType, type, types.FunctionType,
                                               types.BuiltinFunctionType, types.MethodType,
                                               np.ufunc)):
        return False
    module = getattr(type(x), "__module__", "") or ""
    if module.split(".")[0] in ("numpy", "scipy", "builtins", "s2sgrad", "functools"):
        return False
    return hasattr(x, "__dict__") and not callable(getattr(type(x), "__getitem__", None))


class ObjectGradient(dict):
    """The gradient of an object: its attributes' gradients, by name; read and written
    as attributes (``grad_self.params['W1']``) or as items (``g['params']``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __repr__(self):
        return "ObjectGradient(%s)" % dict.__repr__(self)


def zeros_like_grad(x):
    """A zero gradient shaped like ``x``: float zeros for arrays, 0.0 for scalars."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (list, tuple)):
        # a list even for tuples: the backward pass adds into items (grad_t[1] += ...)
        return [zeros_like_grad(v) for v in x]
    if isinstance(x, dict):
        return {k: zeros_like_grad(v) for k, v in x.items()}
    if is_object(x):
        # an object: its attributes' gradients (objects.py)
        return ObjectGradient((k, zeros_like_grad(v)) for k, v in vars(x).items())
    return 0.0


def index_add(buffer, index, value):
    """``buffer[index] += value`` that also counts repeated indices; an item of a list
    or dict gradient is added item by item (a tuple is not concatenated)."""
    if isinstance(buffer, (list, dict)):
        buffer[index] = add_gradients(buffer[index], value)
    else:
        np.add.at(buffer, index, value)
    return buffer


def copy_argument(x):
    """A private copy of an argument the function writes into (the caller's arrays,
    lists and dicts are never changed): arrays copied, containers copied item by item
    (a tuple stays a tuple), anything else (numbers, strings) returned as is."""
    if isinstance(x, np.ndarray) or hasattr(type(x), "__array_function__"):
        return x.copy()         # (a Dask array too: a new lazy array, its writes its own)
    if isinstance(x, list):
        return [copy_argument(v) for v in x]
    if isinstance(x, tuple):
        return tuple([copy_argument(v) for v in x])
    if isinstance(x, dict):
        return {k: copy_argument(v) for k, v in x.items()}
    return x


def private_copy(x, pairs):
    """``copy_argument(x)``, noting in ``pairs`` each (copy, original) of an array,
    list or dict it made: ``write_back`` tells a list, dict or array the function
    changed in place (the caller's own one changes) from one it put there."""
    if isinstance(x, np.ndarray):
        out = x.copy()
    elif isinstance(x, list):
        out = [private_copy(v, pairs) for v in x]
    elif isinstance(x, tuple):
        return tuple([private_copy(v, pairs) for v in x])
    elif isinstance(x, dict):
        out = {k: private_copy(v, pairs) for k, v in x.items()}
    else:
        return x
    pairs.append((out, x))
    return out


def write_back(caller, private, pairs):
    """The caller's list or dict ``caller`` made to hold what the function left in its
    private copy ``private`` (``private_copy``), as a call of the function itself
    would: ``bn_param['running_mean'] = ...``, ``log.append(...)``.  A list, dict or
    array the function changed in place is the caller's own one, changed in place
    (the backward pass may restore the private copy afterwards: the caller keeps
    the forward pass's values); one the function put there is the caller's now."""
    if not isinstance(caller, (list, dict)) or type(private) is not type(caller):
        return caller           # (an array argument: the caller's arrays never change)
    origin = {id(c): o for c, o in pairs}
    _write_back(caller, private, origin)
    return caller


def _write_back(caller, private, origin):
    if isinstance(caller, dict):
        for k in [k for k in caller if k not in private]:
            del caller[k]
        for k, v in private.items():
            new = _settled(v, origin)
            if k not in caller or caller[k] is not new:
                caller[k] = new
    else:
        settled = [_settled(v, origin) for v in private]
        if len(settled) != len(caller) or any(a is not b for a, b in zip(caller, settled)):
            caller[:] = settled


def _settled(v, origin):
    """What the caller holds where the private copy holds ``v``."""
    original = origin.get(id(v))
    if original is None:
        # (put there by the function: the caller's from now on, apart from the
        # private copy the backward pass may still restore values into)
        return copy_argument(v) if isinstance(v, (np.ndarray, list, dict)) else v
    if isinstance(v, np.ndarray):
        if original.shape != v.shape or original.dtype != v.dtype:
            return v.copy()
        if not np.array_equal(original, v):
            original[...] = v
        return original
    _write_back(original, v, origin)
    return original


def redo_writes(log):
    """``container[key] = value`` for each write of the forward pass, in order: after a
    backward pass that restored them, the caller's objects hold what the forward pass
    left there."""
    for container, key, value in log:
        container[key] = value


def object_gradient(g, like):
    """The gradient of object ``like`` from its attributes' gradients ``g``: for a
    dataclass, an instance of the same class (its other fields as they are); for any
    other object, an ObjectGradient (attribute access, like the object's)."""
    items = {k: as_gradient(g[k], v) for k, v in vars(like).items()
             if k in g and not isinstance(v, (str, bytes, int, type(None)))
             and not (isinstance(v, np.ndarray) and v.dtype.kind not in "fc")}
    if dataclasses.is_dataclass(like):
        out = copy.copy(like)
        for k, v in items.items():
            object.__setattr__(out, k, v)
        return out
    return ObjectGradient(items)


def add_gradients(a, b):
    """``a + b`` for gradients of lists, tuples and dicts: item by item."""
    if isinstance(a, dict):
        return type(a)((k, add_gradients(a[k], b[k]) if k in b else a[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return [add_gradients(u, v) for u, v in zip(a, b)]
    return a + b


def own_gradient(g):
    """A copy of gradient ``g`` that may be updated in place: arrays are copied,
    lists and tuples become lists, dicts are copied (items copied the same way)."""
    if isinstance(g, (list, tuple)):
        return [own_gradient(v) for v in g]
    if isinstance(g, dict):
        return type(g)((k, own_gradient(v)) for k, v in g.items())
    if not isinstance(g, np.ndarray) and hasattr(type(g), "__array_function__"):
        return g.copy()         # a Dask array: np.array would compute it
    return np.array(g)


def as_gradient(g, like):
    """Give a gradient the shape, float dtype and own memory of its argument."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        out = np.array(np.broadcast_to(g, like.shape), dtype=dtype)
        return out
    if hasattr(type(like), "__array_function__") and hasattr(like, "shape"):
        # a Dask array: lazily, keeping its chunks (np.array would compute it)
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        g = np.zeros_like(like, dtype=dtype) + g if np.shape(g) != like.shape else g
        return g.astype(dtype) if g.dtype != dtype else g.copy()
    if isinstance(like, (float, int)) and not isinstance(like, bool):
        # (a real argument's gradient is real: the real part, docs/complex.md)
        return float(np.real(g)) if np.ndim(g) == 0 else g
    if isinstance(like, (list, tuple)) and isinstance(g, (list, tuple)):
        # the argument's structure, item by item (a list of (W, b) pairs stays one)
        items = [as_gradient(a, b) for a, b in zip(g, like)]
        return tuple(items) if isinstance(like, tuple) else items
    if isinstance(like, dict) and isinstance(g, dict):
        return {k: as_gradient(g[k], v) if k in g else g.get(k) for k, v in like.items()}
    if isinstance(g, dict) and is_object(like):
        return object_gradient(g, like)
    return g


# ---------------------------------------------------------------------------
# Helpers of the rules in s2sgrad/rules/ (reductions, linear algebra, shapes).
# Each takes the upstream gradient ``g`` first and returns the contribution to
# one input, shaped like that input.
class GradientList(list):
    """The gradient of a list or tuple value: one gradient per item.  Adding two of
    them (a list used twice) adds item by item instead of concatenating."""

    def __add__(self, other):
        return GradientList(a + b for a, b in zip(self, other))

    __radd__ = __add__
    __iadd__ = __add__


def _conj(x):
    """conj(x), without a copy for real values."""
    return np.conj(x) if np.iscomplexobj(x) else x


def written_part(g, index):
    """``g[index]`` for the adjoint of a write ``y[index] = v``: where an advanced index
    names one element several times, y keeps only the last value written (NumPy's
    assignment order), so the earlier occurrences get a zero gradient."""
    if isinstance(g, (dict, list, tuple)):
        # a container's item (d[key] = v): written once, a gradient of its own
        part = g[index]
        if isinstance(part, (np.ndarray, float, np.floating)):
            return np.array(part, dtype=np.result_type(part, np.float64))
        return part
    part = np.array(g[index], dtype=np.result_type(g, np.float64))
    basic = (int, np.integer, slice, type(None), type(Ellipsis))
    if isinstance(index, basic) or (isinstance(index, tuple)
                                    and all(isinstance(i, basic) for i in index)):
        return part                     # basic indexing names each element once
    ids = np.arange(part.size).reshape(part.shape)
    owner = np.full(np.shape(g), -1)
    owner[index] = ids
    part[owner[index] != ids] = 0.0
    return part


class _Absent:
    """What ``item_before_write`` saves for a dict key the write adds."""

    def __repr__(self):
        return "ABSENT"


ABSENT = _Absent()


def item_before_write(container, key):
    """A copy of ``container[key]`` saved before a write replaces it (for the backward
    pass); ``ABSENT`` when a dict has no such key yet: the write adds it, and the
    restore takes it out again (``forget_absent``)."""
    if isinstance(container, dict) and key not in container:
        return ABSENT
    if is_object(container):
        # an attribute (objects.py): None when the write adds it
        value = getattr(container, key, None)
        return value.copy() if isinstance(value, np.ndarray) else value
    item = container[key]
    if isinstance(item, (list, dict)):
        import copy
        return copy.deepcopy(item)
    if isinstance(item, tuple) or not isinstance(item, np.ndarray):
        return item             # immutable (a float, an int, a tuple of arrays)
    return np.copy(item)


def forget_absent(container, key):
    """After ``d[k] = <saved>`` restored a key the write had added: remove it."""
    if isinstance(container, dict) and container.get(key, None) is ABSENT:
        del container[key]


def add_at(a, indices, b):
    """``np.add.at(a, indices, b)`` on a copy of ``a`` (repeated indices add up): what
    the trace computes for that in-place call, as ``a[...] = add_at(a, indices, b)``."""
    out = np.array(a, copy=True)
    np.add.at(out, indices, b)
    return out


def subtract_at(a, indices, b):
    """``np.subtract.at(a, indices, b)`` on a copy of ``a`` (see add_at)."""
    out = np.array(a, copy=True)
    np.subtract.at(out, indices, b)
    return out
