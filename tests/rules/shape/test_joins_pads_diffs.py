"""np.row_stack and np.column_stack of vectors, one-pair and scalar pad widths, np.diff along
an axis of length 1 and with prepend= / append=: against finite differences, forward mode
and second derivatives."""
import warnings

import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, check_hessian, rand


# -- joining, padding, differences --------------------------------------------------------------


@pytest.mark.skipif(not hasattr(np, "row_stack"), reason="np.row_stack was removed")
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (1, 3))], ids=str)
def test_row_stack(sa, sb):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # NumPy 2: deprecated alias
        check_expr("np.row_stack([a, b])", a=rand(*sa), b=rand(*sb))
        check_expr("np.row_stack((a, b, a))", a=rand(*sa), b=rand(*sb))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3, 2), (3,)), ((3,), (3, 1))], ids=str)
def test_column_stack_of_vectors(sa, sb):
    check_expr("np.column_stack([a, b])", a=rand(*sa), b=rand(*sb))
    check_expr("np.column_stack((a,))", a=rand(*sa))


@pytest.mark.parametrize("width", ["3", "(3,)", "(1, 2)", "((1, 2),)", "((1, 2), (0, 3))",
                                   "[[2, 1]]", "(0,)"])
@pytest.mark.parametrize("shape", [(3, 2), (4,)], ids=str)
def test_pad_width_forms(width, shape):
    if width == "((1, 2), (0, 3))" and len(shape) == 1:
        pytest.skip("two pairs for a vector")
    check_expr("np.pad(a, %s)" % width, a=rand(*shape))
    check_expr("np.pad(a, %s, constant_values=c)" % width, a=rand(*shape), c=rand())
    check_expr("np.pad(a, %s, mode='edge')" % width, a=rand(*shape))


@pytest.mark.parametrize("shape,axis", [((1, 3), 0), ((3, 1), -1), ((1,), 0), ((2, 1, 3), 1)],
                         ids=str)
def test_diff_along_an_axis_of_length_one(shape, axis):
    check_expr("np.diff(a, axis=%d)" % axis, a=rand(*shape))


@pytest.mark.parametrize("call", [
    "np.diff(a, prepend=1.0)", "np.diff(a, append=-2.0)", "np.diff(a, 2, prepend=1.0, append=0.5)",
    "np.diff(a, axis=0, prepend=c)", "np.diff(a, 2, axis=0, prepend=c, append=c)",
    "np.diff(a, 3, axis=1, append=d)"])
def test_diff_prepend_append(call):
    check_expr(call, consts={"c": rand(2, 4), "d": rand(3, 1)}, a=rand(3, 4))


def test_diff_hessians():
    w = rand(4, 5)
    check_hessian(lambda a: np.sum(w[:3] * np.diff(a * a, axis=0)), rand(4, 5))
    check_hessian(lambda a: np.sum(w[:, :5] * np.diff(a ** 3, prepend=0.5)), rand(4, 5))
    check_hessian(lambda a: np.sum(np.diff(a * a, axis=0) ** 2), rand(1, 3))


def test_diff_prepend_is_not_differentiated():
    def f(a, c):
        return np.sum(np.diff(a, prepend=c))
    with pytest.raises(s2sgrad.S2SGradError, match="prepend= is not differentiated"):
        s2sgrad.grad(f, wrt=1)(rand(3), rand(1))
