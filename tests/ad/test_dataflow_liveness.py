"""One liveness analysis (analysis/liveness.py) for every client, and one notion of
memory shared through views (analysis/defuse.py): the programs the separate analyses
got wrong, each a silently wrong gradient before, checked against finite differences
(and forward mode against the same), and the analysis itself on small trees."""
import gast
import numpy as np
import pytest

from gradcheck import check_grad, numeric_grad
from s2sgrad import jvp
from s2sgrad import astutil as A
from s2sgrad.analysis.defuse import views, views_at_writes, written_in_place
from s2sgrad.analysis.liveness import live_in

X = np.array([0.3, 0.7, 1.1, 1.9])


# -- a value a loop body assigns only on some trips is read from the trip before ------------
# (the reverse pass asked "is v read in the body before it is assigned there?" and
# counted an assignment under an `if` as certain: v's gradient was not carried to the
# trip before, and the gradient through v was dropped or halved)

def assigned_on_some_trips(x):
    v = x * 1.0
    s = 0.0
    for i in range(4):
        if i % 2 == 0:
            v = x * (i + 1.0)
        s = s + v * v
    return np.sum(s)


def assigned_on_no_trip(x):
    v = x * 1.0
    s = x * 0.0
    for i in range(4):
        if i > 5:
            v = x * 3.0
        s = s + np.sin(v)
    return np.sum(s)


def assigned_in_an_inner_loop_that_may_not_run(x, n):
    v = x * 1.0
    s = x * 0.0
    for i in range(3):
        for j in range(n):
            v = np.cos(v) + x
        s = s + v * v
    return np.sum(s)


def assigned_on_some_trips_while(x):
    v = np.sin(x)
    s = 0.0
    k = 0
    while k < 5:
        if k == 1:
            v = v * x
        s = s + np.sum(v * v)
        k = k + 1
    return s


@pytest.mark.parametrize("f", [assigned_on_some_trips, assigned_on_no_trip,
                               assigned_on_some_trips_while])
def test_a_value_assigned_on_some_trips_carries_its_gradient(f):
    check_grad(f, (X.copy(),))


@pytest.mark.parametrize("n", [0, 2])
def test_a_value_assigned_in_an_inner_loop_carries_its_gradient(n):
    check_grad(assigned_in_an_inner_loop_that_may_not_run, (X.copy(), n), wrt=0)


@pytest.mark.parametrize("f", [assigned_on_some_trips, assigned_on_no_trip])
def test_forward_mode_agrees(f):
    t = np.array([1.0, -0.5, 0.25, 2.0])
    _, tangent = jvp(f)(X.copy(), t)
    np.testing.assert_allclose(tangent, numeric_grad(f, (X.copy(),), 0) @ t,
                               rtol=1e-6, atol=1e-8)


# -- a view of an array written in place is no value to fold a fresh array into -------------
# (grad_v = 1.0 * t0 was folded into grad_v = t0, t0 = y[:2] a view of y; the restore
# y[0] = y_stack.pop() then changed grad_v before it was read)

def view_read_after_an_item_write(x):
    y = x * 1.0
    v = np.split(y, 2)[0].copy()
    y[0] = 3.0 * y[1]
    return np.sum(v * y[:2])


def view_named_then_item_write(x):
    y = x * 1.0
    v = np.split(y, 2)[0]
    w = v.copy()
    y[0] = 3.0 * y[1]
    return np.sum(w * y[:2])


@pytest.mark.parametrize("f", [view_read_after_an_item_write, view_named_then_item_write])
def test_a_view_of_an_array_written_in_place(f):
    check_grad(f, (X.copy(),))


# -- the analysis itself ---------------------------------------------------------------------

def _body(src):
    return gast.parse(src).body


def _transfer(s, live):
    if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
        return (live - {s.targets[0].id}) | A.names_loaded(s.value)
    return live | A.names_loaded(s)


def test_liveness_straight_line():
    body = _body("a = b + c\nd = a * 2\nb = 1.0\n")
    assert live_in(body, {"d"}, _transfer, A.names_loaded) == {"b", "c"}
    assert live_in(body[2:], {"b"}, _transfer, A.names_loaded) == set()
    assert live_in(body[1:], {"d", "b"}, _transfer, A.names_loaded) == {"a"}


def test_liveness_branch_keeps_what_either_side_reads():
    body = _body("if c:\n    a = 1.0\nelse:\n    b = a\n")
    assert live_in(body, {"a", "b"}, _transfer, A.names_loaded) == {"a", "b", "c"}


def test_liveness_loop_carries_values_to_the_next_trip():
    body = _body("for i in range(n):\n    s = s + v\n    v = w * i\n")
    assert live_in(body, {"s"}, _transfer, A.names_loaded) == {"s", "v", "w", "n", "range"}
    # the target is bound at each trip: an `i` before the loop is not read by it
    assert "i" not in live_in(body, {"s"}, _transfer, A.names_loaded)
    # ... unless the loop may run no trip and `i` is read after it
    assert "i" in live_in(body, {"i"}, _transfer, A.names_loaded)


def test_liveness_while_test_is_read_after_every_trip():
    body = _body("while k < n:\n    k = k + d\n    d = e\n")
    assert live_in(body, set(), _transfer, A.names_loaded) == {"k", "n", "d", "e"}


def test_views_and_writes():
    body = _body("t0 = y[:2]\nu = np.reshape(t0, (2,))\nw = u.T\nz = y * 2.0\n"
                 "e = np.einsum('ij->ji', z)\ny[0] = 1.0\nzs.append(q)\n")
    shared = views(body, {"y", "t0", "u", "w", "z", "e", "zs", "q"})
    assert shared["w"] == {"u", "t0", "y"}
    assert shared["e"] == {"z"}
    assert "z" not in shared
    assert written_in_place(body) == {"y", "zs"}
    local = {"y", "t0", "u", "w", "z", "e", "zs", "q"}
    # at y[0] = 1.0, t0, u and w view y; z, e are other arrays
    assert set().union(*views_at_writes(body, local).values()) == {"t0", "u", "w"}
    # a name re-bound to a new array before the write shares nothing any more
    rebound = _body("t0 = y[:2]\nt0 = t0 * 2.0\ny[0] = 1.0\n")
    assert views_at_writes(rebound, {"y", "t0"}) == {}
    # ... unless on one branch only
    branch = _body("t0 = y[:2]\nif c:\n    t0 = t0 * 2.0\ny[0] = 1.0\n")
    assert list(views_at_writes(branch, {"y", "t0", "c"}).values()) == [{"t0"}]
    # a view made in a loop's trip is seen by the next trip's write
    loop = _body("for i in range(n):\n    y[i] = 0.0\n    r = y[i:]\n")
    assert list(views_at_writes(loop, {"y", "r", "i", "n"}).values()) == [{"r"}]
