"""Calls a catalogue sweep found uncovered: NumPy 2's clip(min=, max=), reductions with
where=, cumulative extrema, np.pad's copying modes, ... against finite differences,
forward mode, and (where second derivatives are nonzero) Hessians."""
import os
import subprocess
import sys

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


# -- cumulative extrema ---------------------------------------------------------------------


@pytest.mark.parametrize("func", ["np.maximum.accumulate", "np.minimum.accumulate"])
@pytest.mark.parametrize("shape,axis", [((6,), 0), ((6,), None), ((3, 4), 0), ((3, 4), 1),
                                        ((2, 3, 4), -1), ((2, 3, 4), 1)], ids=str)
def test_cumulative_extrema(func, shape, axis):
    call = "%s(x)" % func if axis is None else "%s(x, axis=%d)" % (func, axis)
    check_expr(call, x=rand(*shape))


def test_cumulative_extrema_ties_go_to_the_earliest_record():
    x = np.array([1.0, 3.0, 2.0, 3.0, 5.0, 5.0, 0.0])
    g = s2sgrad.grad(lambda x: np.sum(np.maximum.accumulate(x) * np.arange(1.0, 8.0)))(x)
    # records: 1 (entry 0), 3 (entry 1, held through the tie at entry 3), 5 (entry 4)
    np.testing.assert_array_equal(g, [1.0, 2 + 3 + 4, 0.0, 0.0, 5 + 6 + 7, 0.0, 0.0])
    g = s2sgrad.grad(lambda x: np.sum(np.minimum.accumulate(x) ** 2))(-x)
    # running minima -1, -3 (x3), -5 (x3): 2 r summed over each record's run
    np.testing.assert_array_equal(g, [-2.0, -18.0, 0.0, 0.0, -30.0, 0.0, 0.0])


def running_max_f(x):
    m = np.outer(x, x[::-1])
    return np.sum(np.maximum.accumulate(m, axis=1) ** 3) + np.sum(
        np.minimum.accumulate(np.sin(x)) ** 2)


# -- np.pad's copying modes, np.diff(n > 1), np.ediff1d -------------------------------------


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("shape,width", [((5,), 2), ((5,), (1, 3)), ((3, 4), 1),
                                         ((3, 4), ((2, 1), (0, 3))), ((3, 4), ((1,), (2,))),
                                         ((3,), 7)], ids=str)
def test_pad_modes(mode, shape, width):
    check_expr("np.pad(x, %r, mode=%r)" % (width, mode), x=rand(*shape))
    check_expr("np.pad(x, %r, %r)" % (width, mode), x=rand(*shape))


def test_pad_reflect_type_even_and_constant_values():
    check_expr("np.pad(x, 2, 'reflect', reflect_type='even')", x=rand(4))
    check_expr("np.pad(x, ((1, 2), (2, 0)), constant_values=c)", x=rand(3, 2), c=rand())
    check_expr("np.pad(x, ((1, 2), (2, 1)), constant_values=c)", x=rand(3, 2),
               c=rand(2, 2))
    check_expr("np.pad(x, 2, constant_values=c)", x=rand(3, 2), c=rand(2))
    check_expr("np.pad(x, (1, 2), 'constant', constant_values=((c, 0.5),))", x=rand(3),
               c=rand())


@pytest.mark.parametrize("call", ["np.pad(x, 2, 'reflect', reflect_type='odd')",
                                  "np.pad(x, 2, 'mean')", "np.pad(x, 2, 'linear_ramp')",
                                  "np.pad(x, 2, 'maximum')"])
def test_pad_other_modes_are_rejected(call):
    f = _loss("np.sum(%s ** 2)" % call)
    with pytest.raises(s2sgrad.UnsupportedCallError, match="modes 'constant', 'edge'"):
        s2sgrad.grad(f)(rand(4))


def _loss(expr):
    from rulecheck import make_loss
    f = make_loss(expr, ["x"])
    return lambda x: f(x, 1.0)


@pytest.mark.parametrize("shape,n,axis", [((6,), 2, -1), ((6,), 3, 0), ((6,), 5, 0),
                                          ((4, 5), 2, 0), ((4, 5), 3, 1), ((2, 3, 5), 2, -1),
                                          ((4,), 4, 0)], ids=str)
def test_diff_higher_order(shape, n, axis):
    check_expr("np.diff(x, %d, axis=%d)" % (n, axis), x=rand(*shape))
    check_expr("np.diff(x, n=%d, axis=%d)" % (n, axis), x=rand(*shape))


@pytest.mark.parametrize("call", ["np.ediff1d(x)", "np.ediff1d(x, to_end=e)",
                                  "np.ediff1d(x, to_begin=b)", "np.ediff1d(x, e, b)",
                                  "np.ediff1d(x, to_begin=b, to_end=e)",
                                  "np.ediff1d(x, to_begin=2.0, to_end=[1.0, 2.0])"])
@pytest.mark.parametrize("shape", [(5,), (2, 3)], ids=str)
def test_ediff1d(call, shape):
    args = dict(x=rand(*shape))
    if "e," in call or "e)" in call:
        args["e"] = rand(2)
    if "b)" in call or "b," in call:
        args["b"] = rand()
    check_expr(call, **args)


def pad_diff_f(x):
    p = np.pad(x * x, (2, 3), "reflect") + np.pad(x, (2, 3), "wrap")
    return np.sum(np.diff(p ** 3, 2)) + np.sum(np.ediff1d(np.sin(x), to_begin=x[0] ** 2) ** 2) \
        + np.sum(np.pad(np.outer(x, x), 1, "symmetric") ** 2 * np.arange(6.0))


# -- np.resize, np.delete, np.insert, np.compress, np.extract ---------------------------------


@pytest.mark.parametrize("expr", [
    "np.resize(x, 7)", "np.resize(x, (2, 6))", "np.resize(x, 3)", "np.resize(x, (4, 3, 2))",
    "np.delete(x, 1)", "np.delete(x, [0, 2])", "np.delete(x, 1, axis=0)",
    "np.delete(x, [0, 2], axis=1)", "np.delete(x, slice(0, 3, 2), 1)",
    "np.delete(x, np.array([True, False, False, True]), axis=1)",
    "np.compress([True, False, True], x, axis=0)", "np.compress([False, True], x, axis=1)",
    "np.compress([True, False, True, True, False], x)", "np.extract(x > 0.0, x)",
    "np.extract(np.arange(12).reshape(3, 4) % 3 == 0, x)",
])
def test_copying_functions(expr):
    check_expr(expr, x=rand(3, 4))


@pytest.mark.parametrize("expr", [
    "np.insert(x, 1, v)", "np.insert(x, [1, 3], v)", "np.insert(x, 2, v, axis=0)",
    "np.insert(x, 1, v, axis=1)", "np.insert(x, [0, 2], v, axis=1)",
    "np.insert(x, 1, 5.0)", "np.insert(x, slice(0, 2), v, axis=0)",
])
def test_insert(expr):
    x = rand(3, 4)
    values = {"np.insert(x, 1, v)": rand(), "np.insert(x, [1, 3], v)": rand(2),
              "np.insert(x, 2, v, axis=0)": rand(4), "np.insert(x, 1, v, axis=1)": rand(3),
              "np.insert(x, [0, 2], v, axis=1)": rand(3, 1),
              "np.insert(x, slice(0, 2), v, axis=0)": rand(1, 4)}
    if expr in values:
        check_expr(expr, x=x, v=values[expr])
    else:
        check_expr(expr, x=x)


def copies_f(x):
    m = np.outer(x, x)
    return np.sum(np.resize(x ** 2, 9) ** 2) + np.sum(np.delete(m, 1, axis=0) ** 3) + np.sum(
        np.insert(x, [1, 2], x[:2] ** 2) ** 3) + np.sum(np.compress(
            [True, False, True, True], m, axis=1) ** 2) + np.sum(np.extract(m > 0.5, m) ** 2)


@pytest.mark.parametrize("f", [running_max_f, pad_diff_f, copies_f], ids=lambda f: f.__name__)
def test_copies_hessian(f):
    check_hessian(f, rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3)


# -- np.convolve / np.correlate without SciPy ------------------------------------------------


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("sizes", [(7, 3), (3, 6), (6, 4), (4, 6), (5, 5), (2, 7), (6, 1)],
                         ids=str)
def test_numpy_convolve_correlate(mode, sizes):
    a, v = rand(sizes[0]), rand(sizes[1])
    check_expr("np.convolve(a, v, mode=%r)" % mode, a=a, v=v)
    check_expr("np.correlate(a, v, %r)" % mode, a=a, v=v)
    check_expr("np.correlate(a, v, mode=%r)" % mode, consts={"v": v}, a=a)


def test_numpy_convolve_needs_no_scipy():
    # the rules are there before (and without) any SciPy import
    code = ("import sys, numpy as np, s2sgrad\n"
            "from s2sgrad.rules import lookup\n"
            "assert lookup(np.convolve) is not None and lookup(np.correlate) is not None\n"
            "assert 'scipy' not in sys.modules, 'scipy was imported'\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def convolve_f(x):
    return np.sum(np.convolve(x, x[::-1] ** 2, "same") ** 2) + np.sum(
        np.correlate(np.sin(x), x[:3], "full") * np.arange(6.0)) + np.sum(
        np.correlate(x[:2], x ** 2, "same") ** 3)


def test_convolve_hessian():
    check_hessian(convolve_f, rand(4))
