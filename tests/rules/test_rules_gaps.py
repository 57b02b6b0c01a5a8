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
from paths import ROOT as ROOT_DIR  # noqa: E402

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


NUMPY_2_1 = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)
needs_numpy_2_1 = pytest.mark.skipif(not NUMPY_2_1, reason="np.clip(min=, max=) is NumPy 2.1+")


@pytest.mark.parametrize("expr", [
    pytest.param(e, marks=needs_numpy_2_1) if e.startswith("np.") else e for e in [
        "np.clip(x, min=-0.5, max=0.7)", "np.clip(x, min=-0.5)", "np.clip(x, max=0.7)",
        "x.clip(min=0.1)", "x.clip(max=-0.2)", "x.clip(min=-0.5, max=0.7)",
        "np.clip(x, min=lo, max=hi)", "np.clip(x, min=lo)", "x.clip(max=hi)"]])
def test_clip_min_max_keywords(expr):
    args = dict(x=rand(3, 4))
    if "lo" in expr:
        args["lo"] = rand(4, low=-1.0, high=0.0)
    if "hi" in expr:
        args["hi"] = rand(3, 1, low=0.0, high=1.0)
    check_expr(expr, **args)


@needs_numpy_2_1
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


def prod_where_f(x):
    m = np.outer(x[:3], x)          # (3, 4)
    return np.prod(x, where=MASK[0]) + np.sum(np.prod(m, axis=1, where=MASK) ** 2) + np.sum(
        np.nanprod(m, axis=0) * x)


def prod_f(x):
    m = np.outer(x[:3], x) + np.eye(3, 4)
    return np.prod(x) + np.sum(np.prod(m, axis=0) ** 2) + np.sum(
        np.prod(m, axis=1, keepdims=True) * m) + np.sum(np.multiply.reduce(m, axis=1) ** 2)


def cumprod_f(x):
    m = np.outer(x[:3], x) + np.eye(3, 4)
    return np.sum(np.cumprod(x) ** 2) + np.sum(np.cumprod(m, axis=1) * m) + np.sum(
        np.nancumprod(m, axis=0) ** 2) + np.sum(np.multiply.accumulate(m, axis=1)) + np.sum(
        np.cumprod(m) * np.arange(12.0))


@pytest.mark.parametrize("f", [mean_where_f, prod_where_f, prod_f, cumprod_f],
                         ids=lambda f: f.__name__)
def test_reductions_where_and_prod_hessian(f):
    check_hessian(f, rand(4))
    check_hessian(f, np.array([0.0, 1.3, -0.7, 0.0]))        # exact with zeros


# -- cumulative extrema ---------------------------------------------------------------------


@pytest.mark.parametrize("func", ["np.maximum.accumulate", "np.minimum.accumulate"])
@pytest.mark.parametrize("shape,axis", [((6,), 0), ((6,), None), ((3, 4), 0), ((3, 4), 1),
                                        ((2, 3, 4), -1), ((2, 3, 4), 1)], ids=str)
def test_cumulative_extrema(func, shape, axis):
    call = "%s(x)" % func if axis is None else "%s(x, axis=%d)" % (func, axis)
    check_expr(call, x=rand(*shape))
    if len(shape) == 1:
        check_expr("%s(x, axis=None)" % func, x=rand(*shape))


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
    root = ROOT_DIR
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def convolve_f(x):
    return np.sum(np.convolve(x, x[::-1] ** 2, "same") ** 2) + np.sum(
        np.correlate(np.sin(x), x[:3], "full") * np.arange(6.0)) + np.sum(
        np.correlate(x[:2], x ** 2, "same") ** 3)


def test_convolve_hessian():
    check_hessian(convolve_f, rand(4))


# -- nan products and cumulative sums, vander, choose, unique, block --------------------------


@pytest.mark.parametrize("expr", [
    "np.nanprod(x)", "np.nanprod(x, axis=0)", "np.nanprod(x, axis=1, keepdims=True)",
    "np.nanprod(x, where=mask)", "np.nanprod(x, axis=1, where=mask)",
    "np.nancumsum(x)", "np.nancumsum(x, axis=0)", "np.nancumsum(x, axis=-1)",
    "np.nancumprod(x)", "np.nancumprod(x, axis=1)",
])
def test_nan_products_and_cumulative_sums(expr):
    check_expr(expr, consts={"mask": MASK}, x=rand(3, 4))


@pytest.mark.parametrize("func,fill", [("np.nanprod", 1.0), ("np.nancumprod", 1.0),
                                       ("np.nancumsum", 0.0)])
def test_nan_entries_count_as_their_neutral_value(func, fill):
    # the NaN entries get no gradient; the others get what they get with the NaNs
    # replaced by the neutral value (1 for products, 0 for sums)
    x = rand(3, 4)
    x[0, 1] = x[2, 2] = np.nan
    weights = np.arange(12.0).reshape(3, 4)
    namespace = {"np": np, "W": weights}
    src = ("def nan_f(x):\n    return np.sum({f}(x, axis=1) * W{i})\n"
           "def plain_f(x):\n    return np.sum({p}(np.where(np.isnan(x), {fill}, x), axis=1)"
           " * W{i})\n").format(f=func, p=func.replace("nan", ""), fill=fill,
                                  i="[:, 0]" if func == "np.nanprod" else "")
    import linecache
    linecache.cache["<nan-check>"] = (len(src), None, src.splitlines(True), "<nan-check>")
    exec(compile(src, "<nan-check>", "exec"), namespace)
    got = s2sgrad.grad(namespace["nan_f"])(x)
    clean = np.where(np.isnan(x), fill, x)
    want = s2sgrad.grad(namespace["plain_f"])(clean) * ~np.isnan(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.all(got[np.isnan(x)] == 0.0)


@pytest.mark.parametrize("expr", ["np.vander(x)", "np.vander(x, 3)", "np.vander(x, 6)",
                                  "np.vander(x, increasing=True)",
                                  "np.vander(x, 2, increasing=True)", "np.vander(x, 1)"])
def test_vander(expr):
    check_expr(expr, x=rand(4))
    check_expr(expr, x=np.array([0.0, 1.5, -0.5, 0.0]))     # exact at zero (no 0 ** -1)


@pytest.mark.parametrize("expr,index", [
    ("np.choose(i, [p, q])", np.array([0, 1, 1, 0])),
    ("np.choose(i, [p, q, p * q])", np.array([[0, 2, 1, 0], [2, 2, 0, 1], [1, 0, 0, 2]])),
    ("np.choose(i, [p, q], mode='clip')", np.array([-1, 3, 1, 0])),
    ("np.choose(i, [p, q], mode='wrap')", np.array([[3, 2, 1, 0]])),
    ("np.choose(i, [p, 0.5])", np.array([1, 0, 0, 1])),
])
def test_choose(expr, index):
    check_expr(expr, consts={"i": index}, p=rand(3, 4), q=rand(4))


def test_choose_array_of_choices():
    check_expr("np.choose(i, c)", consts={"i": np.array([[0, 2], [1, 0]])}, c=rand(3, 2, 2))
    check_expr("np.choose(i, c, mode='wrap')", consts={"i": np.array([4, 0])}, c=rand(3, 2))


@pytest.mark.parametrize("shape", [(6,), (3, 2)], ids=str)
def test_unique(shape):
    # distinct values (finite differences would split a repeated one); repeats below
    x = rand(*shape)
    check_expr("np.unique(x)", x=x)
    check_expr("np.unique(x, return_counts=True)[0]", x=x)
    check_expr("np.unique(x, return_index=True, return_inverse=True)[0] * 2.0", x=x)


def test_unique_gradient_goes_to_the_first_occurrence():
    x = np.array([3.0, 1.0, 3.0, 2.0, 1.0, 5.0])
    g = s2sgrad.grad(lambda x: np.sum(np.unique(x) * np.array([1.0, 10.0, 100.0, 1000.0])))(x)
    # unique values 1, 2, 3, 5 first occur at entries 1, 3, 0, 5
    np.testing.assert_array_equal(g, [100.0, 1.0, 0.0, 10.0, 0.0, 1000.0])


@pytest.mark.skipif(tuple(int(p) for p in np.__version__.split(".")[:2]) < (2, 3),
                    reason="np.unique(sorted=) is NumPy 2.3+")
def test_unique_unsorted():
    check_expr("np.unique(x, sorted=False)", x=rand(6))
    x = np.array([3.0, 1.0, 3.0, 2.0])
    g = s2sgrad.grad(lambda x: np.sum(np.unique(x, sorted=False) ** 2))(x)
    np.testing.assert_array_equal(g, [6.0, 2.0, 0.0, 4.0])


def test_unique_axis_is_rejected():
    f = _loss("np.unique(np.reshape(x, (2, 2)), axis=0)")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="axis"):
        s2sgrad.grad(f)(rand(4))


@pytest.mark.parametrize("expr", [
    "np.block([p, r])", "np.block([[p], [q]])", "np.block([[p, r], [p * 2.0, r]])",
    "np.block([[p, r], [np.ones((1, 5))]])", "np.block(p)", "np.block([[s, s, s, s]])",
    "np.block([[[p]], [[p]]])",
])
def test_block(expr):
    args = {name: value for name, value in (("p", rand(3, 4)), ("q", rand(4)),
                                            ("r", rand(3, 1)), ("s", rand()))
            if name in expr.replace("np.", "")}
    check_expr(expr, **args)


def choose_block_unique_f(x):
    m = np.outer(x, x[::-1])
    return np.sum(np.choose(np.array([[0, 1, 1, 0]]), [m, x ** 2]) ** 2) + np.sum(
        np.block([[m, x[:, None] ** 2], [x[None, :] ** 3, x[:1, None]]]) ** 2) + np.sum(
        np.unique(np.sin(x)) ** 3) + np.sum(np.vander(x, 3) ** 2)


def test_choose_block_unique_vander_hessian():
    check_hessian(choose_block_unique_f, rand(4))


# -- np.corrcoef (and second derivatives of np.cov) ---------------------------------------------


@pytest.mark.parametrize("expr,shape", [
    ("np.corrcoef(x)", (3, 5)), ("np.corrcoef(x, rowvar=False)", (6, 3)),
    ("np.corrcoef(x, rowvar=False)", (4, 2)), ("np.corrcoef(x)", (2, 4)),
    ("np.corrcoef(x)", (1, 4)), ("np.corrcoef(x)", (5,)), ("np.corrcoef(x, dtype=float)", (3, 4)),
], ids=str)
def test_corrcoef(expr, shape):
    check_expr(expr, x=rand(*shape))


def test_corrcoef_of_two_arrays_is_rejected():
    f = _loss("np.corrcoef(x, x ** 2)")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="stack the variables"):
        s2sgrad.grad(f)(rand(4))


def corrcoef_f(x):
    m = np.reshape(np.concatenate([x, np.sin(x), x ** 2]), (3, 4))
    return np.sum(np.corrcoef(m) ** 2 * np.arange(9.0).reshape(3, 3)) + np.sum(
        np.cov(m, rowvar=False) ** 2) + np.sum(np.cov(m, ddof=0) * np.cov(m))


def test_corrcoef_cov_hessian():
    check_hessian(corrcoef_f, rand(4))


# -- reverse over reverse: the helpers' own vjp rules (the Hessians above are forward over
#    reverse, which reads their tangents) ------------------------------------------------------

_V = np.array([0.7, -1.3, 0.4, 2.1])
_D_CORRCOEF = s2sgrad.grad(corrcoef_f)
_D_CONVOLVE = s2sgrad.grad(convolve_f)
_D_COPIES = s2sgrad.grad(copies_f)
_D_PAD_DIFF = s2sgrad.grad(pad_diff_f)
_D_RUNNING_MAX = s2sgrad.grad(running_max_f)
_D_CHOOSE_BLOCK = s2sgrad.grad(choose_block_unique_f)
_D_PROD = s2sgrad.grad(prod_f)
_D_CUMPROD = s2sgrad.grad(cumprod_f)


def rr_corrcoef(x):
    return np.sum(_D_CORRCOEF(x) * _V)


def rr_convolve(x):
    return np.sum(_D_CONVOLVE(x) * _V)


def rr_copies(x):
    return np.sum(_D_COPIES(x) * _V)


def rr_pad_diff(x):
    return np.sum(_D_PAD_DIFF(x) * _V)


def rr_running_max(x):
    return np.sum(_D_RUNNING_MAX(x) * _V)


def rr_choose_block(x):
    return np.sum(_D_CHOOSE_BLOCK(x) * _V)


def rr_prod(x):
    return np.sum(_D_PROD(x) * _V)


def rr_cumprod(x):
    return np.sum(_D_CUMPROD(x) * _V)


@pytest.mark.parametrize("rr,f", [(rr_corrcoef, corrcoef_f), (rr_convolve, convolve_f),
                                  (rr_copies, copies_f), (rr_pad_diff, pad_diff_f),
                                  (rr_running_max, running_max_f),
                                  (rr_choose_block, choose_block_unique_f),
                                  (rr_prod, prod_f), (rr_cumprod, cumprod_f)],
                         ids=lambda f: f.__name__)
def test_grad_of_grad(rr, f):
    x = rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3
    np.testing.assert_allclose(s2sgrad.grad(rr)(x), numeric_hessian(f, x) @ _V, rtol=1e-5,
                               atol=1e-6)


# -- np.i0, np.modf, np.frexp, np.spacing ------------------------------------------------------


def test_bessel_i1_matches_scipy():
    special = pytest.importorskip("scipy.special")
    from s2sgrad.runtime import bessel_i1
    x = np.concatenate([np.linspace(-40.0, 40.0, 801), [0.0, 1e-300, 29.99, 30.0, 30.01,
                                                         100.0, 300.0, 700.0, -700.0]])
    np.testing.assert_allclose(bessel_i1(x), special.i1(x), rtol=1e-14, atol=1e-300)


def test_i0():
    check_expr("np.i0(x)", x=rand(3, 4, low=-3.0, high=3.0), rtol=1e-6)
    check_expr("np.i0(x) * y", x=rand(4, low=-3.0, high=3.0), y=rand(3, 1))


def i0_weighted(x, y):
    return np.sum(np.i0(x) * y)


@pytest.mark.parametrize("low,high", [(20.0, 45.0), (-45.0, -20.0)])
def test_i0_far_from_zero(low, high):
    # NumPy < 2's np.i0 is accurate here but not smooth to 1e-11, so its finite
    # differences are no reference (1e-5 off on NumPy 1.24-1.26): d/dx i0 = i1 is.
    special = pytest.importorskip("scipy.special")
    import s2sgrad
    x, y = rand(3, 4, low=low, high=high), rand(3, 4)
    gx, gy = s2sgrad.grad(i0_weighted, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, special.i1(x) * y, rtol=1e-13)
    np.testing.assert_allclose(gy, np.i0(x), rtol=1e-15)


def i0_f(x):
    return np.sum(np.i0(x * np.array([1.0, 2.0, -3.0, 0.0])) ** 2) + np.sum(np.i0(x[::-1] * x))


def test_i0_hessian():
    check_hessian(i0_f, rand(4))


def modf_frexp_f(x):
    frac, whole = np.modf(x * 3.0)
    mantissa, exponent = np.frexp(x * x + 0.1)
    return np.sum(frac ** 2 * whole) + np.sum(mantissa ** 3 * exponent)


def test_modf_frexp():
    check_expr("np.modf(x)[0]", x=rand(3, 4, low=-5.0, high=5.0))
    check_expr("np.modf(x)[0] * np.modf(x)[1]", x=rand(5, low=-5.0, high=5.0))
    check_expr("np.frexp(x)[0]", x=np.array([0.3, -1.7, 5.5, 100.25, -0.011]))
    check_expr("np.frexp(x)[0] * np.frexp(x)[1]", x=np.array([0.3, -1.7, 5.5, 100.25]))
    x = np.array([0.3, -1.7, 0.55, 1.3])
    check_hessian(modf_frexp_f, x)


def test_spacing_has_no_gradient():
    x = rand(4)
    g = s2sgrad.grad(lambda x: np.sum(np.spacing(x) * x))(x)
    np.testing.assert_array_equal(g, np.spacing(x))


# -- np.histogram: counts are piecewise constant; edges and weights carry gradients -----------


@pytest.mark.parametrize("expr", [
    "np.histogram(x)[1]", "np.histogram(x, 4)[1] * 2.0", "np.histogram(x, bins=3)[1]",
    "np.histogram(x, 4, weights=w)[0]", "np.histogram(x, bins=e, weights=w)[0]",
    "np.histogram(x, 3, range=(-1.0, 1.0), weights=w)[0]",
    "np.histogram(x, bins=e)[1]", "np.histogram(x, 5, weights=w)[0] * np.histogram(x, 5)[1][1:]",
])
def test_histogram(expr):
    x = np.array([[0.31, -1.2, 1.73, 0.05], [-0.44, 0.9, -1.05, 1.31], [0.62, -0.2, 0.11, 1.5]])
    args = {"x": x}
    if "w" in expr.replace("weights", "").replace("np.", ""):
        args["w"] = rand(3, 4)
    if "bins=e" in expr:
        args["e"] = np.array([-1.5, -0.3, 0.4, 0.8, 2.0])
    check_expr(expr, **args)


def test_histogram_counts_have_no_gradient_and_estimators_are_rejected():
    x = rand(6)
    g = s2sgrad.grad(lambda x: np.sum(np.histogram(x, 3)[0] * 1.0) + np.sum(x))(x)
    np.testing.assert_array_equal(g, np.ones(6))
    f = _loss("np.histogram(x, 'auto')[1]")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="bin estimator"):
        s2sgrad.grad(f)(x)
    f = _loss("np.histogram(x, 3, density=True)[0]")
    with pytest.raises(s2sgrad.UnsupportedCallError, match="density"):
        s2sgrad.grad(f)(x)


def histogram_f(x):
    counts, edges = np.histogram(np.sin(x), 3, weights=x ** 2)
    return np.sum(counts ** 2) + np.sum(edges ** 3)


def test_histogram_hessian():
    check_hessian(histogram_f, np.array([0.3, -1.1, 0.7, 1.4]))


# -- np.linalg.lstsq (full column rank) ----------------------------------------------------------


@pytest.mark.parametrize("m,k", [(5, None), (5, 2), (3, None), (3, 2), (4, 1)], ids=str)
@pytest.mark.parametrize("item", ["[0]", "[1]", "[3]", "[0] * 2.0 + np.sum(r[1])"])
def test_lstsq(m, k, item):
    a = 0.5 * rand(m, 3) + 2.0 * np.eye(m, 3)     # well conditioned whatever the draw
    b = rand(m) if k is None else rand(m, k)
    if item.startswith("[0] *"):
        expr = "np.linalg.lstsq(a, b, rcond=None)[0] * 2.0 + np.sum(np.linalg.lstsq(a, b)[1])"
    else:
        expr = "np.linalg.lstsq(a, b, rcond=None)%s" % item
    if item == "[1]" and m == 3:
        return                               # square: NumPy returns no residuals
    check_expr(expr, a=a, b=b)


def test_lstsq_rank_deficient_is_a_clear_error():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    with pytest.raises(ValueError, match="full column rank"):
        s2sgrad.grad(lambda a: np.sum(np.linalg.lstsq(a, np.ones(3))[0]))(a)
    wide = rand(2, 4)
    with pytest.raises(ValueError, match="full column rank"):
        s2sgrad.grad(lambda a: np.sum(np.linalg.lstsq(a, np.ones(2))[0]))(wide)


def lstsq_f(x):
    a = np.reshape(np.concatenate([x, np.sin(x), x ** 2]), (4, 3)) + np.eye(4, 3) * 3.0
    b = np.cos(x)
    sol, res, rank, s = np.linalg.lstsq(a, b, rcond=None)
    return np.sum(sol ** 2) + np.sum(res ** 2) + np.sum(np.linalg.lstsq(a, np.outer(b, x))[0])


def lstsq_singular_values_f(x):
    a = np.reshape(np.concatenate([x, np.sin(x), x ** 2]), (4, 3)) + np.eye(4, 3) * 3.0
    return np.sum(np.linalg.lstsq(a, x, rcond=None)[3] ** 2)


def test_lstsq_hessian():
    check_hessian(lstsq_f, rand(4))
    # the singular values have first derivatives only
    with pytest.raises(NotImplementedError, match="second derivatives of singular values"):
        s2sgrad.hessian(lstsq_singular_values_f)(rand(4))


# -- np.bincount's weights; integer results -------------------------------------------------------


def test_bincount_weights():
    index = np.array([0, 3, 1, 3, 3, 0])
    check_expr("np.bincount(i, weights=w)", consts={"i": index}, w=rand(6))
    check_expr("np.bincount(i, w, minlength=6)", consts={"i": index}, w=rand(6))
    check_expr("np.bincount(i, weights=w * w)[1:]", consts={"i": index}, w=rand(6))


def integer_results_f(x):
    m = np.outer(x, x) + np.eye(4)
    rows, cols = np.tril_indices_from(m)
    return np.sum(m[rows, cols] ** 2) * np.linalg.matrix_rank(m) + np.sum(
        m[np.triu_indices_from(m, 1)])


def test_integer_results_have_no_gradient():
    check_expr("integer_results_f(x)", consts={"integer_results_f": integer_results_f},
               x=rand(4))
