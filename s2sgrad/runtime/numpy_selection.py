"""Helpers of the rules in ``rules/numpy_selection.py``: sort, partition, select and choose
route the gradient back to the entries they picked.  NumPy only."""
import numpy as np

from s2sgrad.runtime.core import GradientList, unbroadcast

__all__ = ["sort_adjoint", "select_adjoint", "select_default_adjoint", "partition_adjoint",
           "choose_adjoint"]


def sort_adjoint(g, a, axis=-1):
    """Gradient of np.sort: each entry's gradient follows it back through the permutation."""
    if axis is None:
        return np.reshape(sort_adjoint(g, np.ravel(a), 0), np.shape(a))
    perm = np.argsort(a, axis=axis, kind="stable")
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    np.put_along_axis(out, perm, g, axis=axis)
    return out


def select_adjoint(g, condlist, choicelist):
    """Gradient of np.select with respect to each choice: where it was selected."""
    taken = np.zeros(np.shape(g), dtype=bool)
    out = []
    for c in condlist:
        pick = np.logical_and(c, ~taken)
        taken = taken | pick
        out.append(np.where(pick, g, 0.0))
    return GradientList(unbroadcast(o, x) for o, x in zip(out, choicelist))


def select_default_adjoint(g, condlist, default):
    """Gradient of np.select with respect to ``default``: where no condition held."""
    hit = np.zeros(np.shape(g), dtype=bool)
    for c in condlist:
        hit = hit | c
    return unbroadcast(np.where(hit, 0.0, g), default)


def partition_adjoint(g, a, kth, axis=-1):
    """Gradient of np.partition: each entry's gradient follows it back."""
    if axis is None:
        return np.reshape(partition_adjoint(g, np.ravel(a), kth, 0), np.shape(a))
    perm = np.argpartition(a, kth, axis=axis)
    out = np.zeros(np.shape(a), dtype=np.result_type(g, float))
    np.put_along_axis(out, perm, g, axis=axis)
    return out


def choose_adjoint(g, a, choices, mode="raise"):
    """Gradient of np.choose(a, choices, mode=mode) with respect to the choices (a list
    of gradients, or an array for an array of choices): each entry's gradient goes to
    the choice it was taken from, summed back to that choice's shape."""
    n = len(choices)
    picked = np.broadcast_to(np.choose(a, np.arange(n), mode=mode), np.shape(g))
    parts = [unbroadcast(np.where(picked == k, g, 0.0), choices[k]) for k in range(n)]
    if isinstance(choices, np.ndarray):
        return np.stack([np.broadcast_to(p, np.shape(choices)[1:]) for p in parts])
    return GradientList(parts)
