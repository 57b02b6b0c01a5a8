"""Branches, loops, while, break/continue/early return: gradients against float64
central differences, and the shape of the generated code (loops stay loops,
branches stay branches, stacks are plain lists)."""
import numpy as np
import pytest

from s2sgrad import grad
from s2sgrad.errors import UnsupportedSyntaxError
from gradcheck import check_grad

rng = np.random.default_rng(3)


def vec(n=4):
    return rng.normal(size=n)


# -- branches -----------------------------------------------------------------------------


def branch_on_computed(a, b):
    if a * a / 3.0 > 1.0:
        c = a * b
    elif b > 1:
        c = a + b
    else:
        c = a
    return c * a


def branch_partial_assign(x, y):
    z = x * 2.0
    if np.sum(x) > 0:
        z = z * y
        w = np.sin(z)
    else:
        w = np.cos(x)
    return np.sum(w * z)


def branch_nested(x, k):
    if k > 0:
        if np.sum(x) > 0:
            y = np.exp(x)
        else:
            y = x * x
    else:
        y = -x
    return np.sum(y)


def branch_ifexp(x, y):
    z = x * y if np.sum(x) > 0 else x - y
    w = z * z if y > 0 else z
    return np.sum(w)


def branch_overwrite_test_var(x):
    s = np.sum(x)
    if s > 0:
        s = s * s
    return s * 2.0


@pytest.mark.parametrize("a,b", [(2.3, 2.0), (-2.5, 0.5), (0.3, 2.0), (0.3, 0.5)])
def test_if_elif_else_on_computed_values(a, b):
    check_grad(branch_on_computed, (a, b), wrt=(0, 1))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_variables_assigned_in_some_branches(sign):
    check_grad(branch_partial_assign, (sign * np.abs(vec()), 1.7), wrt=(0, 1))


@pytest.mark.parametrize("k,sign", [(1, 1.0), (1, -1.0), (0, 1.0)])
def test_nested_branches(k, sign):
    check_grad(branch_nested, (sign * np.abs(vec()), k))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_conditional_expressions(sign):
    check_grad(branch_ifexp, (sign * np.abs(vec()), 0.7 * sign), wrt=(0, 1))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_branch_overwriting_its_test_variable(sign):
    check_grad(branch_overwrite_test_var, (sign * np.abs(vec()),))


def test_branches_stay_branches_in_reverse():
    g = grad(branch_on_computed)
    g(0.3, 2.0)
    src = g.source
    assert src.count("    if a * a / 3.0 > 1.0:") == 2     # forward and backward
    assert "elif b > 1:" in src
    assert "_stack" not in src                      # nothing overwritten: nothing saved


# -- for loops ----------------------------------------------------------------------------


def logistic(a, x):
    for i in range(1000):
        x = a * x * (1.0 - x)
    return x


def power_loop(a, n):
    for i in range(n):
        a = a * a
    return a


def loop_computed_bound(x):
    n = x.shape[0] // 2
    s = 0.0
    for i in range(n):
        s = s + x[i] * x[i + n]
    return s


def loop_range_step(x):
    s = 0.0
    for i in range(1, x.shape[0], 2):
        s = s + np.sin(x[i]) * x[i - 1]
    return s


def loop_rows(W):
    s = 0.0
    for row in W:
        s = s + np.sum(np.tanh(row)) * row[0]
    return s


def loop_enumerate_zip(xs, ys):
    s = 0.0
    for k, x in enumerate(xs):
        s = s + k * x * x
    for x, y in zip(xs, ys):
        s = s + x * y
    for x in reversed(xs):
        s = s * 0.5 + x
    return s


def loop_nested(x, n):
    acc = x
    for i in range(n):
        for j in range(i + 1):
            acc = np.sin(acc) * x + j
    return np.sum(acc)


def loop_aug_assign(x):
    total = 0.0
    y = x + 0.0   # a new array: y *= x below must not write into x
    for i in range(3):
        y *= x
        total += np.sum(y)
        y = y / (1.0 + total)
    return total


def test_logistic_map_1000_steps():
    ga, gx = check_grad(logistic, (2.9, 0.3), wrt=(0, 1), rtol=1e-5)
    # the hand-written tangent recurrence
    a, x, dx = 2.9, 0.3, 1.0
    ta = 0.0
    for _ in range(1000):
        ta = x * (1 - x) + a * (1 - 2 * x) * ta
        dx = a * (1 - 2 * x) * dx
        x = a * x * (1 - x)
    assert abs(ga - ta) <= 1e-8 * max(1.0, abs(ta))
    assert abs(gx - dx) <= 1e-8 * max(1.0, abs(dx))


def test_loop_overwriting_same_variable():
    g = check_grad(power_loop, (1.1, 4))
    assert abs(g - 16 * 1.1 ** 15) < 1e-9


def test_loop_with_computed_bound():
    check_grad(loop_computed_bound, (vec(6),))


def test_range_with_start_and_step():
    check_grad(loop_range_step, (vec(7),))


def test_iterating_over_rows():
    check_grad(loop_rows, (rng.normal(size=(3, 4)),))


def loop_enumerate_of_zip(xs, ys):
    s = 0.0
    for k, (x, y) in enumerate(zip(xs, ys)):
        s = s + (k + 1) * x * np.sin(y)
    return s


def test_enumerate_of_zip():
    check_grad(loop_enumerate_of_zip, (vec(4), vec(4)), wrt=(0, 1))


def loop_over_map(xs):
    s = 0.0
    for v in map(np.sin, xs):
        s = s + v
    return s


def loop_over_iter(xs):
    s = 0.0
    for v in iter(xs):
        s = s + v
    return s


def test_loop_over_map_is_the_loop_it_runs():
    # (map of a function known when the code is generated: see test_callables.py)
    check_grad(loop_over_map, (vec(3),))


def test_loop_over_an_iterator_is_rejected():
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(loop_over_iter)(vec(3))
    assert "iter(...)" in str(info.value) and "test_controlflow.py" in str(info.value)


def test_enumerate_zip_reversed():
    check_grad(loop_enumerate_zip, (vec(5), vec(5)), wrt=(0, 1))


def test_nested_loops():
    check_grad(loop_nested, (vec(3), 3))


def test_augmented_assignment_in_loops():
    check_grad(loop_aug_assign, (np.abs(vec(3)),))


def test_loop_stacks_are_plain_lists():
    g = grad(logistic, wrt=(0, 1))
    g(2.9, 0.3)
    src = g.source
    assert "for i in range(1000):" in src
    # the reversed loop reads the stack last to first (passes/stacks.py)
    assert "for x in reversed(x_stack):" in src
    assert "x_stack = []" in src and "x_stack.append(x)" in src


# -- while, break, continue, early return ---------------------------------------------------


def halve_until_small(a):
    while np.abs(a) > 0.1:
        a = a * 0.5
    return a * a


def while_with_counter(x):
    k = 0
    s = x
    while k < 5:
        s = np.sin(s) + x
        k = k + 1
    return np.sum(s)


def while_nested_in_for(x, n):
    y = x
    for i in range(n):
        while np.sum(np.abs(y)) > 1.0:
            y = y * 0.7
        y = y + x
    return np.sum(y * y)


def loop_break(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0:
            break
        s = s + x[i] * x[i]
    return s


def loop_continue(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0:
            continue
        s = s + np.exp(x[i])
    return s


def while_break(a):
    y = a
    while True:
        y = y * 1.5
        if y > 10.0:
            break
    return y


def early_return(x):
    if np.sum(x) > 0:
        return np.sum(x * x)
    y = np.sin(x)
    return np.sum(y)


def return_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i]
        if s > 1.0:
            return s * s
    return s


def for_else(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 5.0:
            break
        s = s + x[i]
    else:
        s = s * 3.0
    return s


def test_while_value_dependent_condition():
    check_grad(halve_until_small, (3.0,))
    # the reversed loop runs once per saved value (passes/stacks.py)
    assert "for a in reversed(a_stack):" in grad(halve_until_small).source
    check_grad(halve_until_small, (-0.05,))


def while_conditional_condition(a, big):
    while (a * a if big > 0 else a) > 0.2:
        a = a * 0.7
    return a * 3.0


@pytest.mark.parametrize("big", [1.0, -1.0])
def test_conditional_expression_in_while_condition(big):
    check_grad(while_conditional_condition, (2.0, big))


def test_while_with_integer_counter():
    check_grad(while_with_counter, (vec(3),))


def test_while_nested_in_for():
    check_grad(while_nested_in_for, (vec(3), 3))


@pytest.mark.parametrize("values", [[1.0, 2.0, -1.0, 3.0], [1.0, 2.0, 0.5, 3.0]])
def test_break(values):
    check_grad(loop_break, (np.array(values),))


def break_in_inner_loop(x):
    s = 0.0
    for i in range(3):
        for j in range(4):
            if j > i:
                break
            s = s + x[i] * x[j]
    return s


def converge(a):
    x = 1.0
    for i in range(10 ** 7):            # stops long before: the loop really breaks
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-12:
            break
        x = x_new
    return x


def test_break_in_an_inner_loop():
    check_grad(break_in_inner_loop, (vec(4),))


def test_break_stops_the_loop_and_the_backward_sweep_replays_its_trips():
    g = check_grad(converge, (2.0,))
    assert abs(g - 0.5 / np.sqrt(2.0)) < 1e-7
    src = grad(converge).source
    # one trip per saved value: the stacks hold the trips that ran (passes/stacks.py)
    assert "break" in src and "reversed(x_new_stack)" in src


def test_continue():
    check_grad(loop_continue, (np.array([0.5, -1.0, 0.3, -2.0, 1.0]),))


def test_while_true_break():
    check_grad(while_break, (0.7,))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_early_return(sign):
    check_grad(early_return, (sign * np.abs(vec()),))


@pytest.mark.parametrize("values", [[0.3, 0.4, 0.5, 0.6], [0.1, 0.1, 0.1]])
def test_return_inside_loop(values):
    check_grad(return_in_loop, (np.array(values),))


@pytest.mark.parametrize("values", [[1.0, 2.0, 7.0], [1.0, 2.0, 3.0]])
def test_for_else(values):
    check_grad(for_else, (np.array(values),))


# -- rejected at generation time ----------------------------------------------------------


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_yield(x):
    yield x


def uses_global(x):
    global _G
    _G = x
    return x


def uses_with(x):
    with open("f"):
        y = x
    return y


def test_a_with_block_runs_as_python_runs_it():
    # (with blocks are lowered to __enter__ / body / __exit__: test_with_and_try.py)
    with pytest.raises(FileNotFoundError):
        grad(uses_with)(np.ones(2))


def uses_exec(x):
    exec("y = 1")
    return x


def uses_generator_expression(x):
    return np.sum(np.fromiter((v * v for v in x), float))


def uses_nonlocal(x):
    y = x

    def bump():
        nonlocal y
        y = y * 2.0
    bump()
    return y


async def uses_async(x):
    return x


def uses_local_function_as_value(x):
    def f(v):
        return v * v
    return np.sum(np.vectorize(f)(x))     # (a library function would call it)


def maps_a_local_function(x):
    def f(v):
        return v * v
    return np.sum(np.array(list(map(f, x))))


def test_map_of_a_local_function():
    # (map of a function known when the code is generated: see test_callables.py)
    check_grad(maps_a_local_function, (vec(3),))


@pytest.mark.parametrize("fn,what", [(uses_try, "try"), (uses_yield, "yield"),
                                     (uses_global, "global"),
                                     (uses_exec, "exec"),
                                     (uses_generator_expression, "generator"),
                                     (uses_nonlocal, "nonlocal"), (uses_async, "async"),
                                     (uses_local_function_as_value, "used as a value")])
def test_unsupported_constructs_rejected_with_location(fn, what):
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(fn)(1.5)
    msg = str(info.value)
    assert what in msg
    assert "test_controlflow.py" in msg
    assert info.value.lineno is not None


# -- the passes alone, on small trees ------------------------------------------------------


def _lowered(src, passes):
    import astor
    import gast
    from s2sgrad import astutil as A
    from s2sgrad.front.controlflow import lower_iterables, lower_jumps
    fn = gast.parse(src).body[0]
    names = A.NameAllocator(A.all_names(fn))
    body = fn.body
    if "iterables" in passes:
        body = lower_iterables(body, names)
    if "jumps" in passes:
        body = lower_jumps(body, names, None)
    fn.body = body
    return astor.to_source(gast.gast_to_ast(fn))


def test_lower_iterables_pass():
    out = _lowered("def f(xs, ys):\n"
                   "    for k, x in enumerate(xs):\n        s = x * k\n"
                   "    for x, y in zip(xs, ys):\n        s = x * y\n"
                   "    for row in reversed(xs):\n        s = row\n"
                   "    return s\n", ["iterables"])
    assert "for k in range(len(xs)):" in out and "x = xs[k]" in out
    assert "for i in range(min(len(xs), len(ys))):" in out
    assert "for i_1 in reversed(range(len(xs))):" in out and "row = xs[i_1]" in out


def test_lower_jumps_pass():
    out = _lowered("def f(x):\n"
                   "    for i in range(3):\n"
                   "        if x > 1:\n            break\n"
                   "        if x < 0:\n            continue\n"
                   "        x = x * 2\n"
                   "        if x > 4:\n            return x * 3\n"
                   "    if x > 5:\n        return x\n"
                   "    return -x\n", ["jumps"])
    assert "broke = False" in out and "broke = True" in out
    assert "skipped = False" in out and "skipped = True" in out
    assert "if not broke" in out and "if not skipped:" in out
    assert "returned = False" in out and "if not returned:" in out
    assert out.rstrip().endswith("return result")
    assert "continue" not in out
    # the loop itself stops after the trip that broke, counting its trips
    assert "trips += 1" in out and "if broke or returned:" in out


def test_early_return_becomes_else_branch():
    out = _lowered("def f(x):\n"
                   "    if x > 5:\n        return x\n"
                   "    y = x * 2\n"
                   "    return -y\n", ["jumps"])
    assert "returned" not in out
    assert "else:" in out and out.rstrip().endswith("return result")


def branches_giving_a_name_different_shapes(x0, x2):
    if np.sum(x2) > 0.0:
        act = 3.0 * x2                  # a scalar here ...
        y = x0 / (1.5 + x2 * x2)
    else:
        act = x0 ** 3                   # ... an array of x0's shape there
        y = (1.0 + act * act) ** 0.5
    return np.mean(act * y)


@pytest.mark.parametrize("x2", [0.7, -0.7])
def test_branch_not_taken_by_the_first_call_keeps_its_shapes(x2):
    x0 = np.array([[0.3, -0.2, 0.5]])
    g = grad(branches_giving_a_name_different_shapes, wrt=(0, 1))
    g(x0, 0.7)                           # specialized on the first branch
    check_grad(branches_giving_a_name_different_shapes, (x0, x2), wrt=(0, 1))
    got = g(x0, x2)                      # same signature: same generated code
    want = check_grad(branches_giving_a_name_different_shapes, (x0, x2), wrt=(0, 1))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _zip_with_reversed(xs):
    t = 0.0
    for a, b in zip(xs, reversed(xs)):
        t = t + a * b * b
    return t


def test_zip_with_a_reversed_sequence():
    check_grad(_zip_with_reversed, (np.array([0.3, -0.2, 0.5, 1.1]),), wrt=0)
