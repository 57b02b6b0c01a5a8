"""np.convolve / np.correlate without SciPy and np.linalg.lstsq (full column rank): against
finite differences, forward mode, Hessians and grad of grad."""
import subprocess
import sys

import numpy as np
import pytest

import s2sgrad
from paths import ROOT as ROOT_DIR  # noqa: E402
from rulecheck import check_expr, check_hessian, numeric_hessian, rand


_V = np.array([0.7, -1.3, 0.4, 2.1])


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


_D_CONVOLVE = s2sgrad.grad(convolve_f)


def rr_convolve(x):
    return np.sum(_D_CONVOLVE(x) * _V)


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


@pytest.mark.parametrize("rr,f", [(rr_convolve, convolve_f)],
                         ids=lambda f: f.__name__)
def test_grad_of_grad(rr, f):
    x = rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3
    np.testing.assert_allclose(s2sgrad.grad(rr)(x), numeric_hessian(f, x) @ _V, rtol=1e-5,
                               atol=1e-6)
