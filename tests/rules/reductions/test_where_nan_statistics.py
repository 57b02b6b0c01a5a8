"""Reductions with where=, products and their second derivatives, nan-aware products and
cumulative sums, np.corrcoef / np.cov, np.bincount's weights: against finite differences,
forward mode, Hessians and grad of grad."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, check_hessian, numeric_hessian, rand


MASK = np.array([[True, False, True, True], [False, True, True, False],
                 [True, True, False, True]])


def _loss(expr):
    from rulecheck import make_loss
    f = make_loss(expr, ["x"])
    return lambda x: f(x, 1.0)


_V = np.array([0.7, -1.3, 0.4, 2.1])


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


_D_CORRCOEF = s2sgrad.grad(corrcoef_f)


_D_PROD = s2sgrad.grad(prod_f)


_D_CUMPROD = s2sgrad.grad(cumprod_f)


def rr_corrcoef(x):
    return np.sum(_D_CORRCOEF(x) * _V)


def rr_prod(x):
    return np.sum(_D_PROD(x) * _V)


def rr_cumprod(x):
    return np.sum(_D_CUMPROD(x) * _V)


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


@pytest.mark.parametrize("expr", [
    "np.nanmax(x, axis=0)", "np.nanmin(x)", "np.asanyarray(x)", "np.ascontiguousarray(x.T)",
    "np.real(x)", "np.conjugate(x)", "x.conj()", "x.conjugate()", "x.real", "x[0, 1].item()",
    "x.sum(0).max()", "float(np.sum(x))",
])
def test_identities_and_nan_reductions(expr):
    check_expr(expr, x=rand(3, 4))


def test_ldexp_nanvar_nanstd_real_if_close():
    check_expr("np.ldexp(x, i)", consts={"i": np.array([1, -2, 3])}, x=rand(3))
    import math
    check_expr("math.ldexp(x, 3)", consts={"math": math}, x=rand())
    check_expr("np.nanvar(x) + np.nanstd(x, axis=0)[1]", x=rand(3, 4))
    x = rand(3, 4)
    x[1, 2] = np.nan
    for axis in (None, 0, 1):
        for fn in ("np.nanvar", "np.nanstd"):
            loss = "np.nan_to_num(%s(x, axis=%r, ddof=1))" % (fn, axis)
            check_expr(loss, x=rand(3, 4))
    check_expr("np.real_if_close(x)", x=rand(4))


@pytest.mark.parametrize("rr,f", [(rr_corrcoef, corrcoef_f), (rr_prod, prod_f), (rr_cumprod, cumprod_f)],
                         ids=lambda f: f.__name__)
def test_grad_of_grad(rr, f):
    x = rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3
    np.testing.assert_allclose(s2sgrad.grad(rr)(x), numeric_hessian(f, x) @ _V, rtol=1e-5,
                               atol=1e-6)
