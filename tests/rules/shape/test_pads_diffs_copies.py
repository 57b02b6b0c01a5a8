"""np.pad's copying modes, np.diff(n > 1), np.ediff1d, np.resize / delete / insert /
compress / extract, np.block, np.vander: against finite differences, forward mode,
Hessians and grad of grad."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, check_hessian, numeric_hessian, rand


def _loss(expr):
    from rulecheck import make_loss
    f = make_loss(expr, ["x"])
    return lambda x: f(x, 1.0)


_V = np.array([0.7, -1.3, 0.4, 2.1])


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


@pytest.mark.parametrize("expr", ["np.vander(x)", "np.vander(x, 3)", "np.vander(x, 6)",
                                  "np.vander(x, increasing=True)",
                                  "np.vander(x, 2, increasing=True)", "np.vander(x, 1)"])
def test_vander(expr):
    check_expr(expr, x=rand(4))
    check_expr(expr, x=np.array([0.0, 1.5, -0.5, 0.0]))     # exact at zero (no 0 ** -1)


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


_D_COPIES = s2sgrad.grad(copies_f)


_D_PAD_DIFF = s2sgrad.grad(pad_diff_f)


def rr_copies(x):
    return np.sum(_D_COPIES(x) * _V)


def rr_pad_diff(x):
    return np.sum(_D_PAD_DIFF(x) * _V)


@pytest.mark.parametrize("rr,f", [(rr_copies, copies_f), (rr_pad_diff, pad_diff_f)],
                         ids=lambda f: f.__name__)
def test_grad_of_grad(rr, f):
    x = rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3
    np.testing.assert_allclose(s2sgrad.grad(rr)(x), numeric_hessian(f, x) @ _V, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("f", [pad_diff_f, copies_f], ids=lambda f: f.__name__)
def test_copies_hessian(f):
    check_hessian(f, rand(4) + np.array([0.0, 0.3, 0.6, 0.9]) * 3)
