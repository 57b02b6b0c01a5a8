"""A function that writes into its argument array never changes the caller's array --
whether or not the backward pass needs the old value, in every transform and on the
generic path --; a list or dict argument it writes into holds, after the call, what a
call of the function itself leaves there (Python's semantics: test_argument_writes.py);
the derivatives are right either way (finite differences)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, jvp, value_and_grad, vjp
from gradcheck import numeric_grad


def needs_old(x):
    x[0] = 10.0 * x[1]
    return np.sum(x * x)


def no_old_needed(x):
    x[0] = 10.0 * x[1]
    return np.sum(x)


def through_alias(x):
    y = x
    y[2] = y[0] * y[1]
    return np.sum(y ** 2)


def scatter(x):
    np.add.at(x, [0, 0, 2], 1.5 * x[1])
    return np.sum(x ** 3)


def in_a_loop(x):
    for i in range(1, 3):
        x[i] = x[i - 1] * x[i]
    return np.sum(x)


FUNCTIONS = [needs_old, no_old_needed, through_alias, scatter, in_a_loop]


def _x():
    return np.array([1.3, -0.7, 2.1])


def _reference(f, x):
    return numeric_grad(lambda v: f(v.copy()), (x,), 0)


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("how", ["grad", "value_and_grad", "vjp", "generic"])
def test_reverse_modes_never_write_into_the_callers_array(f, how):
    x = _x()
    before = x.copy()
    want = _reference(f, before)
    for _ in range(3):                          # the first call and the generated code
        if how == "grad":
            got = grad(f)(x)
        elif how == "value_and_grad":
            value, got = value_and_grad(f)(x)
            assert value == pytest.approx(f(before.copy()), rel=1e-12)
        elif how == "vjp":
            value, pullback = vjp(f)(x)
            got = pullback(1.0)
        else:
            got = grad(f)._generic().function(x)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_jvp_never_writes_into_the_callers_arrays(f):
    x = _x()
    before = x.copy()
    t = np.array([0.3, 1.0, -0.5])
    t_before = t.copy()
    want = _reference(f, before) @ t
    for _ in range(3):
        value, got = jvp(f)(x, t)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_array_equal(t, t_before)
        assert value == pytest.approx(f(before.copy()), rel=1e-12)
        assert got == pytest.approx(want, rel=1e-6, abs=1e-9)


def second_argument(x, y):
    y[0] = x[0] * 2.0
    return np.sum(y * x)


def test_an_argument_not_differentiated_is_not_written_either():
    x, y = _x(), np.array([5.0, 6.0, 7.0])
    y_before = y.copy()
    for _ in range(3):
        got = grad(second_argument)(x, y)
        np.testing.assert_array_equal(y, y_before)
        np.testing.assert_allclose(
            got, numeric_grad(lambda a: second_argument(a, y_before.copy()), (x,), 0),
            rtol=1e-6, atol=1e-9)


def list_item_written(ws, x):
    ws[0] = ws[0] * x
    w = ws[1].copy()
    w[0] = 2.0 * x
    ws[1] = w
    ws.append(w * x)
    return np.sum(ws[0]) + np.sum(ws[1] ** 2) + np.sum(ws[2])


def test_lists_hold_what_python_leaves_and_their_arrays_are_not_written():
    x = 0.7
    for how in ("specialized", "generic"):
        ws = [np.array([1.0, 2.0]), np.array([3.0, 4.0])]
        originals = list(ws)
        keep = [w.copy() for w in ws]
        twin = [w.copy() for w in ws]
        for _ in range(3):
            before = [w.copy() for w in ws]
            g = grad(list_item_written, wrt=1)
            got = g(ws, x) if how == "specialized" else g._generic().function(ws, x)
            list_item_written(twin, x)
            assert len(ws) == len(twin), "the caller's list is not what Python leaves"
            for w, t in zip(ws, twin):
                np.testing.assert_allclose(w, t, rtol=1e-15)
            want = numeric_grad(lambda v: list_item_written([k.copy() for k in before], v),
                                (x,), 0)
            assert got == pytest.approx(want, rel=1e-6)
        # the items were replaced, not written into: the caller's arrays are unchanged
        for w, k in zip(originals, keep):
            np.testing.assert_array_equal(w, k)


def dict_written(p, x):
    p["w"] = p["w"] * x
    b = p["b"].copy()
    b[0] = x
    p["b"] = b
    p["c"] = b * x
    return np.sum(p["w"]) * p["b"][0] + np.sum(p["b"]) + np.sum(p["c"])


def test_dicts_hold_what_python_leaves():
    p = {"w": np.array([1.0, 2.0]), "b": np.array([0.5, 0.25])}
    w0, b0 = p["w"], p["b"]
    twin = {k: v.copy() for k, v in p.items()}
    x = 1.7
    for _ in range(3):
        before = {k: v.copy() for k, v in p.items()}
        got = grad(dict_written, wrt=1)(p, x)
        dict_written(twin, x)
        assert set(p) == set(twin) == {"w", "b", "c"}
        for k in twin:
            np.testing.assert_allclose(p[k], twin[k], rtol=1e-15)
        want = numeric_grad(lambda v: dict_written(
            {k: a.copy() for k, a in before.items()}, v), (x,), 0)
        assert got == pytest.approx(want, rel=1e-6)
    np.testing.assert_array_equal(w0, [1.0, 2.0])      # replaced, never written into
    np.testing.assert_array_equal(b0, [0.5, 0.25])


def test_the_generated_code_says_why_it_copies():
    g = grad(needs_old)
    g(_x())
    assert "x = x.copy()  # x is written into" in g.source
    # a function that does not write into its argument copies nothing
    h = grad(lambda x: np.sum(x ** 2))
    h(_x())
    assert ".copy()" not in h.source


def nested_write(p, x):
    p["b"][0] = x
    return np.sum(p["b"]) * x


def test_a_write_into_an_item_of_an_item_is_a_clear_error():
    """``p['b'][0] = x`` was traced as a write into a copy of p['b'] (a silently wrong
    gradient: p['b'] read later did not see it)."""
    p = {"b": np.array([0.5, 0.25])}
    with pytest.raises(s2sgrad.S2SGradError, match=r"item of an item \(p\['b'\]\[0\]\)"):
        grad(nested_write, wrt=1)(p, 1.7)
    np.testing.assert_array_equal(p["b"], [0.5, 0.25])
