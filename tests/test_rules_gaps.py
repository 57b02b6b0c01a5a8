"""Calls a catalogue sweep found uncovered: NumPy 2's clip(min=, max=), reductions with
where=, cumulative extrema, np.pad's copying modes, ... against finite differences,
forward mode, and (where second derivatives are nonzero) Hessians."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, rand

MASK = np.array([[True, False, True, True], [False, True, True, False],
                 [True, True, False, True]])


def numeric_hessian(f, x, eps=1e-5):
    """Central differences of s2sgrad.grad(f), one column per entry of x."""
    g = s2sgrad.grad(f)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append(np.ravel((g(x + e) - g(x - e)) / (2 * eps)))
    return np.array(cols).T.reshape(np.shape(x) * 2)


def check_hessian(f, x, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(s2sgrad.hessian(f)(x), numeric_hessian(f, x), rtol=rtol,
                               atol=atol)


# -- np.clip / ndarray.clip with NumPy 2's min= / max= ------------------------------------


@pytest.mark.parametrize("expr", [
    "np.clip(x, min=-0.5, max=0.7)", "np.clip(x, min=-0.5)", "np.clip(x, max=0.7)",
    "x.clip(min=0.1)", "x.clip(max=-0.2)", "x.clip(min=-0.5, max=0.7)",
    "np.clip(x, min=lo, max=hi)", "np.clip(x, min=lo)", "x.clip(max=hi)",
])
def test_clip_min_max_keywords(expr):
    args = dict(x=rand(3, 4))
    if "lo" in expr:
        args["lo"] = rand(4, low=-1.0, high=0.0)
    if "hi" in expr:
        args["hi"] = rand(3, 1, low=0.0, high=1.0)
    check_expr(expr, **args)


def test_clip_crossed_bounds_follow_numpy():
    # lo > hi: NumPy returns hi everywhere, so hi gets the whole gradient
    check_expr("np.clip(x, min=lo, max=hi)", x=rand(5), lo=rand(low=0.6, high=0.9),
               hi=rand(low=-0.9, high=-0.6))


def test_clip_method_positional_min_with_max_keyword():
    # ndarray.clip's first positional bound is min: x.clip(lo, max=hi)
    check_expr("x.clip(-0.5, max=0.7)", x=rand(3, 4))
    check_expr("x.clip(lo, max=hi)", x=rand(3, 4), lo=rand(low=-1.0, high=0.0),
               hi=rand(4, low=0.0, high=1.0))


# -- reductions with where= -------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("func", ["np.sum", "np.mean", "np.nansum", "np.prod", "x.sum",
                                  "x.mean", "x.prod"])
def test_reductions_where(func, axis, keep):
    call = ("%s(x, " % func) if func.startswith("np.") else (func + "(")
    expr = call + "axis=%r, keepdims=%r, where=mask)" % (axis, keep)
    check_expr(expr, consts={"mask": MASK}, x=rand(3, 4))


def test_reductions_where_broadcast_mask_and_nan():
    row = np.array([True, False, True, True])
    check_expr("np.mean(x, axis=1, where=row)", consts={"row": row}, x=rand(3, 4))
    check_expr("np.sum(x, axis=1, where=x > 0.0)", x=rand(3, 4))
    check_expr("np.prod(x, where=row)", consts={"row": row}, x=rand(3, 4))
    x = rand(3, 4)
    x[0, 1] = np.nan
    g = s2sgrad.grad(lambda x: np.nansum(x, where=MASK))(x)
    np.testing.assert_array_equal(g, (MASK & ~np.isnan(x)).astype(float))


def mean_where_f(x):
    m = np.outer(x[:3], x) + x      # (3, 4)
    return np.sum(np.mean(m * m, axis=0, where=MASK) ** 2) + np.mean(x ** 3, where=MASK[1])


def test_reductions_where_hessian():
    # (np.prod has no second-order rule yet, with or without where=)
    check_hessian(mean_where_f, rand(4))
