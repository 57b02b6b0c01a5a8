"""Loop-level passes: stacks iterated instead of popped (``passes/stacks.py``), on
small trees and end to end against finite differences, including the loops where
they must not fire."""
import importlib.util

import gast
import numpy as np
import pytest

import s2sgrad
from s2sgrad.emit import emit_function
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


def test_a_used_counter_stays_in_a_zip():
    src = LOGISTIC.replace("grad_x * a *", "grad_x * a * i *")
    out = lines(iterate_stacks(fn(src)))
    assert out[5] == "for i, x in zip(reversed(range(200)), reversed(x_stack)):"


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
    assert "for i, x in zip(reversed(range(9)[:trips]), reversed(x_stack)):" in out


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
    assert "for _, x in zip(range(iterations), reversed(x_stack)):" in out
