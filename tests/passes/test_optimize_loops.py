"""Loop-level passes: stacks iterated instead of popped (``passes/stacks.py``), on
small trees and end to end against finite differences, including the loops where
they must not fire."""
import importlib.util

import gast
import numpy as np
import pytest

import s2sgrad
from s2sgrad.back.emit import emit_function
from s2sgrad.passes.optimize import ShapeOracle
from s2sgrad.passes.batching import batch_loop_accumulations
from s2sgrad.passes.stacks import iterate_stacks

from gradcheck import check_grad


def fn(src):
    return gast.parse(src).body[0]


def lines(node):
    """The function's statements as source lines (comments dropped)."""
    return [line.split("  #")[0].strip() for line in emit_function(node).splitlines()[1:]
            if line.strip() and not line.strip().startswith("#")]


def generated(f, args, wrt):
    g = s2sgrad.grad(f, wrt=wrt)
    g(*args)
    return g.source


# -- iterate_stacks on small trees -------------------------------------------------------

LOGISTIC = """
def f(a, x):
    x_stack = []
    for i in range(200):
        x_stack.append(x)
        x = a * x * (1.0 - x)
    grad_x = 1.0
    for i in reversed(range(200)):
        x = x_stack.pop()
        grad_x = grad_x * a * (1.0 - 2.0 * x)
    return grad_x
"""


def test_a_stack_popped_once_per_trip_is_iterated():
    out = lines(iterate_stacks(fn(LOGISTIC)))
    assert out[5:7] == ["for x in reversed(x_stack):",
                        "grad_x = grad_x * a * (1.0 - 2.0 * x)"]
    assert not any("pop" in line for line in out)


def test_a_used_counter_keeps_the_pops():
    # zip(reversed(range(200)), reversed(x_stack)) would save next to nothing
    src = LOGISTIC.replace("grad_x * a *", "grad_x * a * i *")
    out = lines(iterate_stacks(fn(src)))
    assert out[5:7] == ["for i in reversed(range(200)):", "x = x_stack.pop()"]


def test_a_value_read_before_its_pop_is_restored_in_place():
    src = LOGISTIC.replace("        x = x_stack.pop()\n",
                           "        grad_x = grad_x * x\n        x = x_stack.pop()\n")
    out = lines(iterate_stacks(fn(src)))
    assert out[5:8] == ["for x_saved in reversed(x_stack):", "grad_x = grad_x * x",
                        "x = x_saved"]


def test_several_stacks_are_zipped():
    src = """
def f(a, x, y):
    x_stack = []
    y_stack = []
    for i in range(5):
        x_stack.append(x)
        x = x * y
        y_stack.append(y)
        y = a * y
    g = 1.0
    for i in reversed(range(5)):
        y = y_stack.pop()
        x = x_stack.pop()
        g = g * x * y
    return g
"""
    out = lines(iterate_stacks(fn(src)))
    assert "for y, x in zip(reversed(y_stack), reversed(x_stack)):" in out


@pytest.mark.parametrize("change", [
    # the stack is popped in a branch of the reversed loop
    ("        x = x_stack.pop()\n", "        if a > 0:\n            x = x_stack.pop()\n"),
    # read once more after the loop
    ("    return grad_x", "    grad_x = grad_x + len(x_stack)\n    return grad_x"),
    # pushed twice per trip
    ("        x = a * x", "        x_stack.append(x)\n        x = a * x"),
    # popped twice per trip
    ("        x = x_stack.pop()\n", "        x = x_stack.pop()\n        x = x_stack.pop()\n"),
])
def test_stacks_used_otherwise_keep_their_pops(change):
    out = lines(iterate_stacks(fn(LOGISTIC.replace(*change))))
    assert any("x_stack.pop()" in line for line in out)


def test_a_reversed_loop_inside_another_keeps_its_pops():
    src = """
def f(a, x):
    x_stack = []
    for j in range(3):
        for i in range(4):
            x_stack.append(x)
            x = a * x
    g = 1.0
    for j in reversed(range(3)):
        for i in reversed(range(4)):
            x = x_stack.pop()
            g = g * x
    return g
"""
    assert "x = x_stack.pop()" in lines(iterate_stacks(fn(src)))


def test_unproven_counts_keep_the_loops_own_range():
    # the push may be skipped by a break before it: the trip count of the reversed loop
    # (its own range) bounds the iteration, the stack's length does not
    src = """
def f(a, x):
    x_stack = []
    trips = 0
    for i in range(9):
        trips += 1
        if x > 1:
            break
        x_stack.append(x)
        x = a * x
    g = 1.0
    for i in reversed(range(9)[:trips]):
        x = x_stack.pop()
        g = g * x
    return g
"""
    out = lines(iterate_stacks(fn(src)))
    assert "for i in reversed(range(9)[:trips]):" in out
    assert "x = x_stack.pop()" in out


# -- end to end --------------------------------------------------------------------------

def logistic(a, x):
    for i in range(40):
        x = a * x * (1.0 - x)
    return x


def with_break(a, x):
    for i in range(50):
        x = a * x * (1.0 - x)
        if x > 0.9:
            break
    return x


def with_continue(a, x):
    for i in range(30):
        if x > 0.5:
            x = x * 0.9
            continue
        x = a * x * (1.0 - x)
    return x


def while_loop(a, x):
    while x < 2.0:
        x = x * a + 0.01 * x * x
    return x


def nested(a, x):
    for i in range(5):
        for j in range(4):
            x = a * x * (1.0 - x)
        x = x * a
    return x


def branches(a, x):
    for i in range(30):
        if i % 2 == 0:
            x = np.sin(x * a)
        else:
            x = np.cos(x) * a
    return x


def two_carried(a, x, y):
    for i in range(30):
        x = np.sin(x * y)
        y = np.cos(y + x) * a
    return x + y


def counter_used(a, x, cs):
    for i in range(6):
        x = np.sin(a * x) * cs[i]
    return x


def unknown_trips(a, x, n):
    for i in range(n):
        x = np.sin(a * x)
    return x


def element_writes(a, xs):
    for i in range(4):
        xs[i + 1] = np.sin(a * xs[i])
    return np.sum(xs)


def arrays(W, h):
    for t in range(5):
        h = np.tanh(h @ W)
    return np.sum(h * h)


CASES = [
    (logistic, (3.2, 0.3), (0, 1)),
    (with_break, (3.2, 0.3), (0, 1)),
    (with_continue, (3.2, 0.3), (0, 1)),
    (while_loop, (1.1, 0.3), (0, 1)),
    (nested, (1.01, 0.3), (0, 1)),
    (branches, (1.1, 0.3), (0, 1)),
    (two_carried, (1.1, 0.3, 0.2), (0, 1, 2)),
    (counter_used, (1.1, 0.3, np.linspace(0.5, 1.5, 6)), (0, 1, 2)),
    (unknown_trips, (1.1, 0.3, 10), (0, 1)),
    (element_writes, (0.9, np.linspace(0.1, 0.5, 5)), (0, 1)),
    (arrays, (np.random.default_rng(1).standard_normal((3, 3)) * 0.5,
              np.random.default_rng(2).standard_normal((2, 3))), (0, 1)),
]


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_match_finite_differences(f, args, wrt):
    check_grad(f, args, wrt=wrt)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_generic_code_agrees_with_specialized(f, args, wrt):
    g = s2sgrad.grad(f, wrt=wrt)
    want = g(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    got = g._generic().function(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    for u, v in zip(got, want):
        np.testing.assert_allclose(np.asarray(u, float), np.asarray(v, float), rtol=1e-12)


def test_the_logistic_map_iterates_its_stack():
    src = generated(logistic, (3.2, 0.3), (0, 1))
    assert "for x in reversed(x_stack):" in src and ".pop()" not in src


def test_nested_loops_keep_their_pops():
    assert "x_stack.pop()" in generated(nested, (1.01, 0.3), (0, 1))


def test_a_shadowed_zip_is_not_called(tmp_path):
    path = tmp_path / "shadowing.py"
    path.write_text("import numpy as np\n"
                    "zip = None\n"
                    "def f(a, x, y):\n"
                    "    for i in range(30):\n"
                    "        x = np.sin(x * y)\n"
                    "        y = np.cos(y + x) * a\n"
                    "    return x + y\n")
    spec = importlib.util.spec_from_file_location("shadowing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    src = generated(module.f, (1.1, 0.3, 0.2), (0, 1, 2))
    assert "zip(" not in src and ".pop()" in src
    check_grad(module.f, (1.1, 0.3, 0.2), wrt=(0, 1, 2))


def test_a_while_loops_counter_goes_when_nothing_reads_it():
    src = """
def f(a, x):
    x_stack = []
    iterations = 0
    while x < 2.0:
        x_stack.append(x)
        x = a * x
        iterations += 1
    g = 1.0
    for _ in range(iterations):
        x = x_stack.pop()
        g = g * x
    return g
"""
    out = lines(iterate_stacks(fn(src)))
    assert "for x in reversed(x_stack):" in out and not any("iterations" in s for s in out)


def test_break_counts_stay_when_the_push_may_be_skipped():
    src = """
def f(a, x):
    x_stack = []
    iterations = 0
    while x < 2.0:
        if x > 1.0:
            break
        x_stack.append(x)
        x = a * x
        iterations += 1
    g = 1.0
    for _ in range(iterations):
        x = x_stack.pop()
        g = g * x
    return g
"""
    out = lines(iterate_stacks(fn(src)))
    assert "for _ in range(iterations):" in out
    assert "x = x_stack.pop()" in out


# -- batch_loop_accumulations on small trees ---------------------------------------------

RNN_TREE = """
def f(W, U, xs, h):
    h_stack = []
    for t in range(20):
        h1 = xs[t]
        h_stack.append(h)
        h = np.tanh(np.dot(h1, W) + np.dot(h, U))
    grad_h = h
    grad_W = np.zeros((8, 4))
    grad_U = np.zeros((4, 4))
    for t in reversed(range(20)):
        h1 = xs[t]
        g = grad_h * (1.0 - h * h)
        h = h_stack.pop()
        grad_h = np.dot(g, U.T)
        grad_U += np.dot(h.T, g)
        grad_W += np.dot(h1.T, g)
    return grad_W, grad_U
"""


def rnn_oracle(rows=2, dtype64=True, **shapes):
    shapes = dict({"W": (8, 4), "U": (4, 4), "xs": (20, rows, 8), "h": (rows, 4),
                   "h1": (rows, 8), "g": (rows, 4), "grad_h": (rows, 4), "grad_W": (8, 4),
                   "grad_U": (4, 4)}, **shapes)
    return ShapeOracle(shapes, floating=set(shapes), wide=set(shapes) if dtype64 else set(),
                       float64_arrays=set(shapes) if dtype64 else set())


def test_weight_gradients_of_a_reversed_loop_are_one_product_after_it():
    out = lines(batch_loop_accumulations(fn(RNN_TREE), rnn_oracle()))
    assert out == [
        "h_stack = np.empty((20, 2, 4))",
        "for t in range(20):",
        "h1 = xs[t]",
        "h_stack[t] = h",
        "h = np.tanh(np.dot(h1, W) + np.dot(h, U))",
        "grad_h = h",
        "g_by_trip = np.empty((20, 2, 4))",
        "for t in reversed(range(20)):",
        "g = grad_h * (1.0 - h * h)",
        "h = h_stack[t]",
        "grad_h = np.dot(g, U.T)",
        "g_by_trip[t] = g",
        "grad_U = np.dot(h_stack.reshape(-1, 4).T, g_by_trip.reshape(-1, 4))",
        "grad_W = np.dot(xs.reshape(-1, 8).T, g_by_trip.reshape(-1, 4))",
        "return grad_W, grad_U",
    ]


@pytest.mark.parametrize("change, oracle", [
    # the accumulators are read in the loop
    (("        grad_W += np.dot(h1.T, g)\n",
      "        grad_W += np.dot(h1.T, g)\n        grad_h = grad_h + grad_W[0, 0] + grad_U[0, 0]\n"),
     {}),
    # an unknown trip count
    (("reversed(range(20))", "reversed(range(n))"), {}),
    # something is updated in place between the accumulations
    (("        grad_U += np.dot(h.T, g)\n",
      "        grad_U += np.dot(h.T, g)\n        grad_h[0] = 0.0\n"), {}),
    # the accumulations sit in a branch
    (("        grad_U += np.dot(h.T, g)\n        grad_W += np.dot(h1.T, g)\n",
      "        if t > 2:\n            grad_U += np.dot(h.T, g)\n"
      "            grad_W += np.dot(h1.T, g)\n"), {}),
    # float32 values
    (("", ""), {"dtype64": False}),
    # many rows per trip: the per-trip products already run at full speed
    (("", ""), {"rows": 8192}),
])
def test_weight_gradients_stay_in_the_loop(change, oracle):
    out = lines(batch_loop_accumulations(fn(RNN_TREE.replace(*change)), rnn_oracle(**oracle)))
    assert "grad_W += np.dot(h1.T, g)" in out and not any("by_trip" in s for s in out)


def test_an_input_row_changed_in_place_is_not_read_after_the_loop():
    src = RNN_TREE.replace("    grad_h = h\n", "    xs[0] = 0.0\n    grad_h = h\n")
    out = lines(batch_loop_accumulations(fn(src), rnn_oracle()))
    assert "grad_W += np.dot(h1.T, g)" in out          # the stack of h is still batched
    assert "grad_U = np.dot(h_stack.reshape(-1, 4).T, g_by_trip.reshape(-1, 4))" in out


# -- end to end --------------------------------------------------------------------------

def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(6):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh) + b)
    return 0.5 * np.sum(h ** 2)


def rnn_matmul(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(6):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h * h)


def rnn_first_steps(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(3):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h)


def rnn_shared_weights(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(5):
        h = np.tanh(xs[t] @ Wh[:4] + h @ Wh)
    return np.sum(h)


def rnn_nested(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(3):
        for j in range(2):
            h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h)


def rnn_branches(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(4):
        if t % 2 == 0:
            h = np.tanh(xs[t] @ Wx + h @ Wh)
        else:
            h = np.sin(h @ Wh)
    return np.sum(h)


def rnn_break(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(6):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
        if np.sum(h) > 1.0:
            break
    return np.sum(h)


def rnn_steps(Wx, Wh, b, xs, h0, n):
    h = h0
    for t in range(n):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h)


def rnn_changing_inputs(Wx, Wh, b, xs, h0):
    xs = xs * 1.0
    h = h0
    for t in range(4):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
        xs[t] = xs[t] * 2.0
    return np.sum(h) + np.sum(xs * xs)


def rnn_inputs(rows=3, dtype=np.float64):
    rng = np.random.default_rng(7)
    return tuple(a.astype(dtype) for a in (
        rng.standard_normal((4, 5)) * 0.5, rng.standard_normal((5, 5)) * 0.5,
        rng.standard_normal(5) * 0.1, rng.standard_normal((6, rows, 4)),
        rng.standard_normal((rows, 5)) * 0.1))


BATCHED = [rnn, rnn_matmul, rnn_first_steps, rnn_changing_inputs]
PER_TRIP = [rnn_shared_weights, rnn_nested, rnn_branches, rnn_break]


@pytest.mark.parametrize("f", BATCHED + PER_TRIP, ids=lambda f: f.__name__)
def test_rnn_gradients_match_finite_differences(f):
    src = generated(f, rnn_inputs(), (0, 1, 2, 3, 4))
    assert ("_by_trip" in src) == (f in BATCHED)
    check_grad(f, rnn_inputs(), wrt=(0, 1, 2, 3, 4))


def test_unknown_trip_counts_stay_per_trip():
    args = rnn_inputs() + (6,)
    assert "_by_trip" not in generated(rnn_steps, args, (0, 1, 2))
    check_grad(rnn_steps, args, wrt=(0, 1, 2))


def test_large_trips_stay_per_trip():
    args = rnn_inputs(rows=4096)
    assert "_by_trip" not in generated(rnn, args, (0, 1, 2))


def test_float32_stays_per_trip_and_keeps_its_dtype():
    args = rnn_inputs(dtype=np.float32)
    g = s2sgrad.grad(rnn, wrt=(0, 1, 2))
    grads = g(*args)
    assert "_by_trip" not in g.source
    assert all(v.dtype == np.float32 for v in grads)
    want = s2sgrad.grad(rnn, wrt=(0, 1, 2))(*[a.astype(np.float64) for a in args])
    for u, v in zip(grads, want):
        np.testing.assert_allclose(u, v, rtol=1e-3, atol=1e-5)


def test_batched_results_are_private():
    args = rnn_inputs()
    gWx, gWh, gb = s2sgrad.grad(rnn, wrt=(0, 1, 2))(*args)
    assert not any(np.shares_memory(u, v) for u in (gWx, gWh, gb) for v in args)
    gb += 1.0


def _rnn_variant(steps, act, bias, matmul):
    """A recurrence with literal trip count ``steps`` (generated source, so that its
    trip count is a literal as in user code)."""
    product = "{a} @ {b}" if matmul else "np.dot({a}, {b})"
    pre = " + ".join([product.format(a="xs[t]", b="Wx"), product.format(a="h", b="Wh")]
                     + (["b"] if bias else []))
    return ("def f(Wx, Wh, b, xs, h0):\n"
            "    h = h0\n"
            "    for t in range(%d):\n"
            "        h = %s(%s)\n"
            "    return np.sum(h * h)\n" % (steps, act, pre))


@pytest.mark.parametrize("seed", range(8))
def test_random_recurrences_match_finite_differences(seed, tmp_path):
    r = np.random.default_rng(seed)
    steps, rows, k, m = (int(r.integers(1, 6)), int(r.integers(1, 5)), int(r.integers(1, 5)),
                         int(r.integers(1, 5)))
    act = ["np.tanh", "np.sin", "np.cos"][seed % 3]
    path = tmp_path / ("recurrence%d.py" % seed)
    path.write_text("import numpy as np\n" + _rnn_variant(steps, act, seed % 2 == 0,
                                                            seed % 4 < 2))
    spec = importlib.util.spec_from_file_location("recurrence%d" % seed, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = (0.5 * r.standard_normal((k, m)), 0.5 * r.standard_normal((m, m)),
            0.1 * r.standard_normal(m), r.standard_normal((steps + seed % 2, rows, k)),
            0.1 * r.standard_normal((rows, m)))
    src = generated(module.f, args, (0, 1, 2, 3, 4))
    assert "_by_trip" in src
    check_grad(module.f, args, wrt=(0, 1, 2, 3, 4))


ARRAY_LOOP_THEN_WORK = """
def f(W, X, h):
    h_stack = []
    for t in range(5):
        h_stack.append(h)
        h = np.tanh(h @ W)
    g = h
    for t in reversed(range(5)):
        h = h_stack.pop()
        g = np.dot(g, W.T) * h
    grad_X = np.dot(g, X)
    return grad_X
"""


def test_array_stacks_stay_popped_when_work_follows_the_loop():
    # popping frees each saved array after its trip: the product after the loop
    # must not run with every saved array still alive (peak memory)
    oracle = ShapeOracle({"h": (3, 4), "g": (3, 4), "W": (4, 4), "X": (4, 2)})
    out = lines(iterate_stacks(fn(ARRAY_LOOP_THEN_WORK), oracle))
    assert "h = h_stack.pop()" in out
    # nothing after the loop but the result: iterated
    src = ARRAY_LOOP_THEN_WORK.replace("    grad_X = np.dot(g, X)\n    return grad_X",
                                       "    return g")
    assert "for h in reversed(h_stack):" in lines(iterate_stacks(fn(src), oracle))


def test_scalar_stacks_are_iterated_even_when_work_follows_the_loop():
    oracle = ShapeOracle({"h": (), "g": (), "W": (), "X": (4, 2)})
    out = lines(iterate_stacks(fn(ARRAY_LOOP_THEN_WORK), oracle))
    assert "for h in reversed(h_stack):" in out


def _short_rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(6):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh) + b)
    return 0.5 * np.sum(h ** 2)


def test_hvp_through_batched_weight_gradients_matches_differences_of_the_gradient():
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((3, 5)) * 0.5, rng.standard_normal((5, 5)) * 0.4,
            0.1 * rng.standard_normal(5), rng.standard_normal((10, 4, 3)), np.zeros((4, 5)))
    g = s2sgrad.grad(_short_rnn, wrt=0)
    g(*args)
    assert "_by_trip.reshape(-1, 5)" in g.source          # the pass fired
    v = rng.standard_normal((3, 5))
    hv = s2sgrad.hvp(_short_rnn, wrt=0)(*args, v)
    eps = 1e-5
    fd = (g(args[0] + eps * v, *args[1:]) - g(args[0] - eps * v, *args[1:])) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)
