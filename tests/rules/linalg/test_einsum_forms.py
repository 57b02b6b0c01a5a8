"""np.einsum in both calling forms (subscripts string; operands interleaved with index
lists, optional output list, Ellipsis), more than four operands, forward and second
order: against finite differences (issue #13: the sublist form's gradient was all zeros)."""
import numpy as np
import pytest

import s2sgrad
from gradcheck import check_grad, numeric_grad
from rulecheck import check_expr, rand


@pytest.mark.parametrize("expr,shapes", [
    ("np.einsum(a, [0, 1], [1, 0])", [(2, 3)]),
    ("np.einsum(a, [0, 1])", [(2, 3)]),
    ("np.einsum(a, [0, 0])", [(3, 3)]),
    ("np.einsum(a, [0, 0], [0])", [(3, 3)]),
    ("np.einsum(a, [0, 1], b, [1, 2], [0, 2])", [(2, 3), (3, 4)]),
    ("np.einsum(a, [0, 1], b, [1, 2])", [(2, 3), (3, 4)]),
    ("np.einsum(a, (0, 1), b, (0, 1), [])", [(2, 3), (2, 3)]),
    ("np.einsum(a, [Ellipsis, 0, 1], b, [1, 2], [Ellipsis, 0, 2])", [(4, 2, 3), (3, 2)]),
    ("np.einsum(a, [..., 1], b, [1], [...])", [(2, 4, 3), (3,)]),
    ("np.einsum(a, [30, 1], b, [1, 0])", [(2, 3), (3, 4)]),     # 30 is a lower-case letter
    ("np.einsum(a, [0], b, [1], c, [2], [0, 1, 2])", [(2,), (3,), (4,)]),
], ids=str)
def test_sublist_form_matches_finite_differences(expr, shapes):
    names = "abc"[:len(shapes)]
    check_expr(expr, **{n: rand(*s) for n, s in zip(names, shapes)})


def test_sublist_form_equals_subscripts_form_source():
    C = rand(3, 2)

    def sub(A):
        return np.sum(np.einsum(A, [0, 1], [1, 0]) * C)

    A = rand(2, 3)
    g = s2sgrad.grad(sub)
    np.testing.assert_allclose(g(A), C.T, rtol=1e-14)      # d/dA sum(A.T * C) = C.T
    assert "np.einsum('BA->AB'" in g.source


@pytest.mark.parametrize("n", [5, 7, 12])
def test_more_than_four_operands(n):
    letters = "abcdefghijklmnopqrstuvwxyz"
    spec = ",".join(letters[i:i + 2] for i in range(n)) + "->a" + letters[n]
    names = ["x%d" % i for i in range(n)]
    expr = "np.einsum(%r, %s)" % (spec, ", ".join(names))
    check_expr(expr, **{nm: rand(2, 2) * 0.8 for nm in names})


def test_thirteen_operands_is_a_clear_error():
    src = "def f(x):\n    return np.einsum('%s->', %s)\n" % (",".join(["i"] * 13),
                                                             ", ".join(["x"] * 13))
    ns = {"np": np}
    import linecache
    linecache.cache["<einsum13>"] = (len(src), None, src.splitlines(True), "<einsum13>")
    exec(compile(src, "<einsum13>", "exec"), ns)
    with pytest.raises(s2sgrad.S2SGradError, match="einsum"):
        s2sgrad.grad(ns["f"])(rand(3))


def sub_second(x):
    m = np.reshape(x, (2, 3))
    return np.sum(np.einsum(m, [0, 1], m, [2, 1], [0, 2]) ** 2) + \
        np.sum(np.sin(np.einsum(m, [Ellipsis, 1], [Ellipsis])))


SUB_GRAD = s2sgrad.grad(sub_second)
W6 = np.arange(6.0)


def directional_gradient(v):
    return np.sum(SUB_GRAD(v) * W6)


def test_sublist_form_second_order():
    x = rand(6)
    H = s2sgrad.hessian(sub_second)(x)
    g = s2sgrad.grad(sub_second)
    num = np.array([numeric_grad(lambda v: g(v)[k], [x], 0) for k in range(6)])
    np.testing.assert_allclose(H, num, rtol=1e-6, atol=1e-7)
    # reverse over reverse
    np.testing.assert_allclose(s2sgrad.grad(directional_gradient)(x), H @ W6, rtol=1e-8,
                               atol=1e-10)


def test_sublist_form_forward_mode():
    a, b = rand(2, 3), rand(3, 4)
    t = rand(2, 3)

    def f(a, b):
        return np.einsum(a, [0, 1], b, [1, 2], [2, 0])

    value, tangent = s2sgrad.jvp(f)(a, b, t)
    np.testing.assert_allclose(value, np.einsum("ij,jk->ki", a, b), rtol=1e-14)
    np.testing.assert_allclose(tangent, np.einsum("ij,jk->ki", t, b), rtol=1e-14)


def test_sublist_form_with_index_lists_in_variables_is_a_clear_error():
    C = rand(3, 2)
    S = [0, 1]

    def f(A):
        return np.sum(np.einsum(A, S, [1, 0]) * C)

    def g(A):
        s = [0, 1]
        return np.sum(np.einsum(A, s, [1, 0]) * C)

    for fn in (f, g):
        with pytest.raises(s2sgrad.S2SGradError, match="subscripts|index lists") as err:
            s2sgrad.grad(fn)(rand(2, 3))
        assert "np.einsum" in str(err.value)


def test_subscripts_in_a_variable_still_work():
    spec = "ij,jk->ik"

    def f(a, b):
        s = spec
        return np.sum(np.einsum(s, a, b) ** 2)

    check_grad(f, (rand(2, 3), rand(3, 4)), wrt=(0, 1))


def test_in_place_update_of_an_array_a_one_operand_einsum_views_is_refused():
    # np.einsum('ij->ji', x) is a view of x: x *= ... changes it too (soak seed 2005666:
    # the gradient was silently wrong)
    def f(x0):
        h = np.einsum('ij->ji', x0)
        x0 *= -x0
        return np.sum(h ** 3)

    with pytest.raises(s2sgrad.S2SGradError, match="may share its memory"):
        s2sgrad.grad(f)(rand(2, 3))
