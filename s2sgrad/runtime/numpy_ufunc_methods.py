"""Helpers of the rules in ``rules/numpy_ufunc_methods.py`` (``np.multiply.outer``,
``np.add.accumulate``, ...).  NumPy only."""
import numpy as np

__all__ = ["outer_adjoint", "accumulate_source"]


def outer_adjoint(g, a, b, op, which):
    """Gradient of np.<op>.outer(a, b) (op: add, subtract, multiply, divide) with
    respect to a (which=0) or b (which=1)."""
    na, nb = np.ndim(a), np.ndim(b)
    a_ = np.reshape(a, np.shape(a) + (1,) * nb)
    lead, trail = tuple(range(na)), tuple(range(na, na + nb))
    if op == "add" or (op == "subtract" and which == 0):
        local = g
    elif op == "subtract":
        local = -g
    elif op == "multiply":
        local = g * (b if which == 0 else a_)
    elif op == "divide":
        local = g / b if which == 0 else -g * a_ / (b * b)
    else:
        raise ValueError("s2sgrad: no gradient for np.%s.outer" % op)
    return np.sum(local, axis=trail) if which == 0 else np.sum(local, axis=lead)


def accumulate_source(result, axis=0):
    """Where each entry of np.maximum.accumulate / np.minimum.accumulate (``result``)
    came from along ``axis``: the index of the entry that set the running record.  A tie
    with the record does not replace it (the earliest entry keeps the gradient)."""
    r = np.moveaxis(np.asarray(result), 0 if axis is None else axis, -1)
    new = np.ones(np.shape(r), dtype=bool)
    new[..., 1:] = r[..., 1:] != r[..., :-1]        # a strictly better entry arrived
    start = np.where(new, np.arange(np.shape(r)[-1]), 0)
    return np.moveaxis(np.maximum.accumulate(start, axis=-1), -1, 0 if axis is None else axis)
