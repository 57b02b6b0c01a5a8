"""Arrays that are not NumPy's but speak its protocols ("duck arrays": Dask arrays,
and by the same path CuPy arrays or other ``__array_function__`` types).

Generated code is plain NumPy calls; NumPy hands each call on such an array to the
array's own library (``__array_function__``, ``__array_ufunc__``), so the same code
builds a lazy Dask graph.  What must not happen is a silent conversion to NumPy
(``np.asarray``, ``np.array``, writing a lazy value into a NumPy buffer), which
would compute and gather the whole array into one process: the compiler emits other
forms for such arrays (``np.zeros_like(x)``, ``x.copy()``) and refuses, at generation
time, the constructs it has no lazy form for (``ad/duck.py``).
"""
import numpy as np

__all__ = ["is_duck_array", "duck_key", "has_unknown_shape", "LAZY_HELPERS", "scatter_add"]

# The runtime helpers (runtime/__init__.py) known to stay lazy on a Dask array: they
# use only functions Dask implements and never convert their input to NumPy
# (tests/dask/ runs each).  Generated code calling any other helper on such an
# array is refused at generation time (ad/duck.py).
LAZY_HELPERS = frozenset([
    "unbroadcast", "unreduce", "expand_reduced", "reduced_count", "mT",
    "dot_adjoint_left", "dot_adjoint_right", "matmul_adjoint_left",
    "matmul_adjoint_right", "inverse_permutation", "route_to_extremum",
    "zeros_like_grad", "add_gradients", "own_gradient", "copy_argument",
    "as_gradient", "GradientList", "check_scalar_output",
])


def is_duck_array(a) -> bool:
    """An array of another library that NumPy's functions dispatch to: it has a
    shape, a NumPy dtype, ``__array_function__`` and ``__array_ufunc__``."""
    if isinstance(a, (np.ndarray, np.generic)):
        return False
    t = type(a)
    return hasattr(t, "__array_function__") and hasattr(t, "__array_ufunc__") \
        and isinstance(getattr(a, "dtype", None), np.dtype) \
        and isinstance(getattr(a, "shape", None), tuple)


def has_unknown_shape(a) -> bool:
    """A lazy array whose shape is not known before it is computed (a Dask array
    after boolean masking has NaN chunk sizes)."""
    return not all(isinstance(n, (int, np.integer)) for n in a.shape)


def duck_key(a) -> tuple:
    """The signature key of a duck array: its type, shape and dtype (the generated
    code is specialized on them; a Dask array's chunks are not part of it: the same
    code serves any chunking)."""
    return (type(a), a.shape, a.dtype)


def scatter_add(buffer, index, value):
    """``buffer`` plus ``value``'s rows added into the rows ``index`` names, repeated
    indices adding up: ``np.add.at(buffer, index, value)`` as a new array, for a
    ``value`` (or ``index``) that is a Dask array.  Each chunk of rows is scattered into
    a buffer-shaped block by the worker that holds it, and the blocks are summed (a
    tree reduction): nothing is gathered into one process but buffer-sized blocks.
    ``index``: one integer array (or list) over ``buffer``'s first axis."""
    if not (is_duck_array(value) or is_duck_array(index)):
        out = np.array(buffer, dtype=np.result_type(buffer, value))
        np.add.at(out, index, value)
        return out
    import dask
    import dask.array as da
    if not all(isinstance(a, da.Array) or not is_duck_array(a) for a in (index, value)):
        raise TypeError("scatter_add: a lazy scatter-add is implemented for Dask arrays; "
                        "got %s" % type(value).__name__)
    shape = tuple(buffer.shape)
    dtype = np.result_type(buffer.dtype, value.dtype)
    m = index.shape[0] if hasattr(index, "shape") else len(index)
    value = da.broadcast_to(da.asarray(value), (m,) + shape[1:])
    value = value.rechunk({i: -1 for i in range(1, value.ndim)})     # rows only
    if isinstance(index, da.Array):
        index = index.rechunk((value.chunks[0],))
    else:
        index = da.from_array(np.asarray(index), chunks=(value.chunks[0],))
    parts = [da.from_delayed(dask.delayed(_scatter_block)(i, v, shape, dtype), shape,
                             dtype=dtype)
             for i, v in zip(index.to_delayed().ravel(), value.to_delayed().ravel())]
    return buffer + da.stack(parts).sum(axis=0)


def _scatter_block(index, value, shape, dtype):
    out = np.zeros(shape, dtype=dtype)
    np.add.at(out, index, value)
    return out
