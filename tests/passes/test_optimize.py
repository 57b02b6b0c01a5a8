"""The optimizer's passes, each on a small tree, then end to end against finite
differences: an optimization may change how a gradient is computed, never what."""
import gast
import numpy as np
import pytest

import s2sgrad
from s2sgrad import astutil as A
from s2sgrad.back.emit import emit_function
from s2sgrad.passes.optimize import (ShapeOracle, assign_first_slice, eliminate_dead_code,
                                     elide_broadcasts, forward_negations, optimize_function,
                                     propagate_copies, simplify_function)

from gradcheck import check_grad


def fn(src):
    return gast.parse(src).body[0]


def body(node):
    """The function's statements as source lines (comments dropped)."""
    return [line.strip() for line in emit_function(node).splitlines()[1:]
            if line.strip() and not line.strip().startswith("#")]


FLOATS = ShapeOracle(floating={"g", "h", "x", "y", "a", "b", "grad_out", "grad_t1",
                               "grad_t2", "grad_x", "out", "t2"})


# -- simplify ----------------------------------------------------------------------------

@pytest.mark.parametrize("src, want", [
    ("y = g * 1.0", "y = g"),
    ("y = -1.0 * g", "y = -g"),
    ("y = 2.0 * -g", "y = -2.0 * g"),
    ("y = -g * 2.0", "y = -2.0 * g"),
    ("y = a + -b", "y = a - b"),
    ("y = -a + b", "y = b - a"),
    ("y = a - -b", "y = a + b"),
    ("y = -(-g)", "y = g"),
    ("y = 2.0 * 0.5 * x", "y = x"),
    ("y = np.sum(-g, axis=0)", "y = -np.sum(g, axis=0)"),
    ("y = -(a - b)", "y = b - a"),
    ("y = -(1.0 - x)", "y = x - 1.0"),
    ("y = 1.0 / 3 * x", "y = 1.0 / 3 * x"),      # 0.333... would not read better
    ("y = 1.0 / 256 * x", "y = 0.00390625 * x"),
])
def test_simplify(src, want):
    f = simplify_function(fn("def f(g, a, b, x):\n    %s\n    z = y * 2.0\n    return z"
                             % src), FLOATS)
    assert body(f)[0] == want


def test_simplify_keeps_times_one_on_values_that_may_be_integers():
    f = simplify_function(fn("def f(k):\n    y = k * 1.0\n    return y"), FLOATS)
    assert body(f)[0] == "y = k * 1.0"          # an int array times 1.0 is a float array


def test_augassign_of_a_negation_subtracts():
    f = simplify_function(fn("def f(g, x):\n    g += -x\n    return g"), FLOATS)
    assert body(f)[0] == "g -= x"


def test_simplify_never_aliases_a_returned_name():
    f = simplify_function(fn("def f(x):\n    y = x * 1.0\n    return y"), FLOATS)
    assert body(f)[0] == "y = x * 1.0"          # the result must not share x's memory


# -- copy propagation / CSE -----------------------------------------------------------

def test_seed_and_aliases_propagate():
    f = fn("def f(out, t2):\n"
           "    grad_out = 1.0\n"
           "    grad_t2 = -grad_out * out / t2\n"
           "    grad_t1 = grad_t2\n"
           "    grad_x = grad_t1 * t2\n"
           "    return grad_x")
    f.body = propagate_copies(f.body)
    f = eliminate_dead_code(simplify_function(f, FLOATS))
    assert body(f) == ["grad_t2 = -out / t2", "grad_x = grad_t2 * t2", "return grad_x"]


def test_copy_stops_at_a_rebinding_of_either_name():
    f = fn("def f(a, b):\n"
           "    c = a\n"
           "    a = b * 2.0\n"
           "    d = c + a\n"
           "    return d")
    f.body = propagate_copies(f.body)
    assert body(f)[2] == "d = c + a"            # c still holds the old a


def test_copy_into_a_loop_only_when_the_loop_stores_neither():
    f = fn("def f(a, b):\n"
           "    c = a\n"
           "    for i in range(3):\n"
           "        b = b + c\n"
           "    for i in range(3):\n"
           "        c = c * b\n"
           "    return c")
    f.body = propagate_copies(f.body)
    lines = body(f)
    assert "b = b + a" in lines                 # first loop stores neither a nor c
    assert "c = c * b" in lines                 # second loop rebinds c


def test_common_subexpressions():
    f = fn("def f(x):\n"
           "    t1 = x[:-1]\n"
           "    t6 = x[:-1]\n"
           "    y = t6 * t1\n"
           "    return y")
    f.body = propagate_copies(f.body)
    f = eliminate_dead_code(f)
    assert body(f) == ["t1 = x[:-1]", "y = t1 * t1", "return y"]


def test_common_subexpressions_that_read_the_same_names():
    # same class and names read, different trees: only the equal one is shared; a
    # rebinding of a name read forgets the expressions reading it
    f = fn("def f(x, i):\n"
           "    a = x[i]\n"
           "    b = x[i + 1]\n"
           "    c = x[i + 1]\n"
           "    d = x[i]\n"
           "    i = i + 2\n"
           "    e = x[i]\n"
           "    y = a + b + c + d + e\n"
           "    return y")
    f.body = propagate_copies(f.body)
    f = eliminate_dead_code(f)
    assert body(f) == ["a = x[i]", "b = x[i + 1]", "i = i + 2", "e = x[i]",
                       "y = a + b + b + a + e", "return y"]


def test_common_subexpression_held_by_a_kept_name_is_not_shared():
    f = fn("def f(x):\n"
           "    k = x[0]\n"
           "    a = x[0]\n"
           "    b = x[0]\n"
           "    y = k + a + b\n"
           "    return y")
    f.body = propagate_copies(f.body, keep={"k"})
    assert body(f)[:3] == ["k = x[0]", "a = x[0]", "b = a"]


def test_no_cse_across_an_in_place_write():
    f = fn("def f(x, v):\n"
           "    t1 = x * 2.0\n"
           "    x[0] = v\n"
           "    t2 = x * 2.0\n"
           "    y = t1 + t2\n"
           "    return y")
    f.body = propagate_copies(f.body, keep={"x"})
    assert "t2 = x * 2.0" in body(f)


# -- dead code ------------------------------------------------------------------------

def test_dead_code_keeps_effects_and_loop_carried_values():
    f = fn("def f(x, s):\n"
           "    a = x * 2.0\n"
           "    b = s.pop()\n"
           "    c = 0.0\n"
           "    for i in range(3):\n"
           "        d = c + 1.0\n"
           "        c = d * x\n"
           "        e = c * 3.0\n"
           "    g = 1.0\n"
           "    g += c\n"
           "    return g")
    f = eliminate_dead_code(f)
    lines = body(f)
    assert "a = x * 2.0" not in lines and "e = c * 3.0" not in lines
    assert "b = s.pop()" in lines               # an effect (a stack pop)
    assert "d = c + 1.0" in lines and "g = 1.0" in lines


# -- negations, first slice updates -----------------------------------------------------

def test_single_use_negation_is_absorbed():
    f = fn("def f(g, x, h):\n"
           "    grad_t2 = -g\n"
           "    h += grad_t2\n"
           "    grad_t3 = -x\n"
           "    y = grad_t3 * g\n"
           "    return h, y")
    f = simplify_function(forward_negations(f), FLOATS)
    lines = body(f)
    assert "h -= g" in lines
    assert "grad_t3 = -x" in lines              # a product with a non-constant: left alone


def test_first_slice_update_of_zeros_assigns():
    f = fn("def f(a, b):\n"
           "    g = np.zeros((5,))\n"
           "    g[:-1] -= a\n"
           "    g[1:] += b\n"
           "    return g")
    f.body = assign_first_slice(f.body)
    assert body(f)[1:3] == ["g[:-1] = -a", "g[1:] += b"]


def test_first_update_through_an_index_array_still_adds():
    f = fn("def f(a, idx):\n"
           "    g = np.zeros((5,))\n"
           "    g[idx] += a\n"
           "    return g")
    f.body = assign_first_slice(f.body)
    assert body(f)[1] == "g[idx] += a"


# -- broadcasts -----------------------------------------------------------------------

def oracle(**shapes):
    return ShapeOracle(shapes, set(shapes), "np", wide=set(shapes))


def test_broadcast_dropped_when_the_reader_broadcasts():
    f = fn("def f(c, y, z):\n"
           "    g = np.broadcast_to(c, (8, 10))\n"
           "    h = g * y\n"
           "    k = np.sum(g)\n"
           "    return h, k")
    f = elide_broadcasts(f, oracle(c=(), y=(8, 10), z=(8, 10)))
    lines = body(f)
    assert lines[0] == "g = c" and lines[1] == "h = g * y"
    assert lines[2] == "k = np.sum(np.broadcast_to(g, (8, 10)))"   # a sum counts entries


def test_lazy_scalar_through_expand_dims():
    f = fn("def f(c, y):\n"
           "    g1 = np.broadcast_to(c / 8, (8,))\n"
           "    g0 = np.broadcast_to(np.expand_dims(g1, 1), (8, 10))\n"
           "    h = g0 * y\n"
           "    return h")
    f = elide_broadcasts(f, oracle(c=(), y=(8, 10)))
    assert body(f)[:3] == ["g1 = c / 8", "g0 = g1", "h = g0 * y"]


def test_broadcast_kept_for_results_and_narrower_dtypes():
    f = fn("def f(c, y32):\n"
           "    g = np.broadcast_to(c, (3,))\n"
           "    h = g * y32\n"
           "    return g, h")
    o = ShapeOracle({"c": (), "y32": (3,)}, {"c", "y32"}, "np", wide={"c"})
    lines = body(elide_broadcasts(f, o))
    assert lines[0] == "g = np.broadcast_to(c, (3,))"          # returned
    assert lines[1] == "h = g * y32"


def test_lazy_value_read_in_a_loop_is_materialized_first():
    f = fn("def f(c, y):\n"
           "    g = np.broadcast_to(c, (4,))\n"
           "    for i in range(2):\n"
           "        y = y * g\n"
           "    return y")
    lines = body(elide_broadcasts(f, oracle(c=(), y=(4,))))
    assert lines[:2] == ["g = c", "g = np.broadcast_to(g, (4,))"]


# -- end to end: the optimized gradients are right ------------------------------------

def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


def mean_loss(w, b, X, y):
    z = X @ w + b
    return np.mean(np.maximum(z, 0.0) - z * y + np.log(1.0 + np.exp(-np.abs(z))))


def softmax_ce(W, b, X, Y):
    logits = X @ W + b
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rnn(Wh, b, xs, h0):
    h = h0
    for t in range(4):
        h = np.tanh(xs[t] + np.dot(h, Wh) + b)
    return 0.5 * np.sum(h ** 2)


def scaled_sum(x, s):
    return np.sum(x) * s + np.sum(x * 2.0)


def logistic(a, x0):
    x = x0
    for i in range(20):
        x = a * x * (1.0 - x)
    return x


rng = np.random.default_rng(0)


@pytest.mark.parametrize("f, args, wrt", [
    (neuron, (2.0, -1.0, -3.0, -2.0, -3.0), (0, 1, 2, 3, 4)),
    (mean_loss, (rng.standard_normal(4), 0.1, rng.standard_normal((6, 4)),
                 (rng.random(6) > 0.5) * 1.0), (0, 1)),
    (softmax_ce, (rng.standard_normal((5, 3)), rng.standard_normal(3),
                  rng.standard_normal((4, 5)), np.eye(3)[[0, 2, 1, 1]]), (0, 1)),
    (rosen, (rng.uniform(-1, 1, 7),), 0),
    (rnn, (0.3 * rng.standard_normal((3, 3)), rng.standard_normal(3),
           rng.standard_normal((4, 2, 3)), np.zeros((2, 3))), (0, 1)),
    (scaled_sum, (rng.standard_normal((2, 3)), 1.5), (0, 1)),
    (logistic, (3.2, 0.3), (0, 1)),
])
def test_optimized_gradients_match_finite_differences(f, args, wrt):
    check_grad(f, args, wrt=wrt)


def test_optimized_results_are_private_and_writable():
    g = s2sgrad.grad(scaled_sum, wrt=(0, 1))
    x = rng.standard_normal((2, 3))
    gx, gs = g(x, 1.5)
    assert gx.flags.writeable and not np.shares_memory(gx, x)
    gx += 1.0                                   # a caller may update it in place


def test_float32_gradients_keep_their_dtype():
    x = rng.standard_normal((2, 3)).astype(np.float32)
    gx, gs = s2sgrad.grad(scaled_sum, wrt=(0, 1))(x, 1.5)
    assert gx.dtype == np.float32 and np.ndim(gs) == 0


def test_no_runtime_helpers_or_broadcasts_left_in_the_benchmark_style_mlp():
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    X, Y = rng.standard_normal((4, 5)), np.eye(3)[[0, 2, 1, 1]]
    g = s2sgrad.grad(softmax_ce, wrt=(0, 1))
    g(W, b, X, Y)
    assert "broadcast_to" not in g.source and "grad_out" not in g.source


def test_optimize_function_without_shapes_is_safe():
    f = fn("def f(g, k):\n"
           "    grad_out = 1.0\n"
           "    y = grad_out * k\n"
           "    return y")
    f = optimize_function(f, ShapeOracle(floating={"g"}))
    assert body(f)[0] == "y = 1.0 * k"           # k's dtype is unknown


def test_reductions_become_methods_on_known_arrays():
    f = fn("def f(g, s):\n"
           "    a = np.sum(g, axis=1, keepdims=True)\n"
           "    b = np.sum(s)\n"
           "    c = np.max(g * 2.0, 0)\n"
           "    return a, b, c")
    from s2sgrad.passes.optimize import reductions_as_methods
    lines = body(reductions_as_methods(f, oracle(g=(3, 4), s=())))
    assert lines[:3] == ["a = g.sum(axis=1, keepdims=True)",
                         "b = np.sum(s)",                    # s may be a Python float
                         "c = (g * 2.0).max(axis=0)"]


def test_max_with_ties_specialized_without_helpers():
    def f(x):
        return np.sum(np.max(x, axis=1) * np.arange(3.0))
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0], [5.0, 5.0, 5.0]])
    g = s2sgrad.grad(f)
    got = g(x)
    assert "route_to_extremum" not in g.source and "hits" in g.source
    np.testing.assert_allclose(got, [[0, 0, 0], [1, 0, 0], [2 / 3, 2 / 3, 2 / 3]])


def test_scalar_loop_values_recomputed_instead_of_saved():
    f = fn("def f(a, x0):\n"
           "    x_stack = []\n"
           "    x1_stack = []\n"
           "    x = x0\n"
           "    for i in range(3):\n"
           "        x1 = a * x\n"
           "        x1_stack.append(x1)\n"
           "        x_stack.append(x)\n"
           "        x = x1 * x1\n"
           "    g = 1.0\n"
           "    for i in reversed(range(3)):\n"
           "        x1 = x1_stack.pop()\n"
           "        g1 = 2.0 * g * x1\n"
           "        x = x_stack.pop()\n"
           "        g = g1 * a\n"
           "    return g")
    from s2sgrad.passes.optimize import rematerialize_loop_values
    o = ShapeOracle({"a": (), "x": (), "x1": (), "x0": ()}, {"a", "x", "x1"}, "np")
    f = eliminate_dead_code(rematerialize_loop_values(f, o))
    lines = body(f)
    assert "x1_stack.append(x1)" not in lines and "x1_stack = []" not in lines
    k = lines.index("x = x_stack.pop()")
    assert lines[k + 1].startswith("x1 = a * x  # recomputed")   # the pop of x moved up


def test_array_loop_values_stay_saved():
    f = fn("def f(W, h0):\n"
           "    h1_stack = []\n"
           "    h = h0\n"
           "    for t in range(3):\n"
           "        h1 = h * 2.0\n"
           "        h1_stack.append(h1)\n"
           "        h = np.tanh(h1)\n"
           "    g = h\n"
           "    for t in reversed(range(3)):\n"
           "        h1 = h1_stack.pop()\n"
           "        g = g * h1\n"
           "    return g")
    from s2sgrad.passes.optimize import rematerialize_loop_values
    o = ShapeOracle({"h": (4,), "h1": (4,), "h0": (4,)}, {"h", "h1"}, "np")
    lines = body(rematerialize_loop_values(f, o))
    assert "h1_stack.append(h1)" in lines          # an array op costs more than a push


def rnn_rows(Wx, Wh, xs, h0):
    h = h0
    for t in range(3):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh))
    return np.sum(h ** 2)


def test_rows_of_an_input_recomputed_in_the_backward_loop():
    args = (rng.standard_normal((2, 3)), 0.5 * rng.standard_normal((3, 3)),
            rng.standard_normal((3, 4, 2)), rng.standard_normal((4, 3)))
    check_grad(rnn_rows, args, wrt=(0, 1, 3))
    g = s2sgrad.grad(rnn_rows, wrt=(0, 1))
    g(*args)
    # xs[t] is never saved: recomputed in the backward loop, or (passes/batching.py)
    # read as xs.reshape(-1, 2) by the weight gradient after it
    assert "h1_stack" not in g.source and "xs.reshape(-1, 2)" in g.source


def test_single_use_array_temporaries_are_inlined():
    from s2sgrad.passes.optimize import inline_single_use_arrays
    f = fn("def f(X, W1, b1, W2):\n"
           "    h0 = X @ W1\n"
           "    h1 = h0 + b1\n"
           "    a = X @ W2\n"
           "    b = a * 2.0\n"
           "    c = a * 3.0\n"
           "    return h1, b, c")
    f = inline_single_use_arrays(f, oracle(X=(2, 3), W1=(3, 3), h0=(2, 3), h1=(2, 3),
                                           a=(2, 3), b=(2, 3), c=(2, 3)), {"h1", "b", "c"})
    lines = body(f)
    assert lines[0] == "h1 = X @ W1 + b1"
    assert "a = X @ W2" in lines                    # read twice: kept


def test_inlining_stops_at_a_store_of_an_input():
    from s2sgrad.passes.optimize import inline_single_use_arrays
    f = fn("def f(x, y):\n"
           "    t = x * 2.0\n"
           "    x = y\n"
           "    u = t + x\n"
           "    return u")
    lines = body(inline_single_use_arrays(f, oracle(x=(3,), y=(3,), t=(3,), u=(3,)), {"u"}))
    assert lines[0] == "t = x * 2.0"


def test_loop_temporaries_dead_after_their_reader_are_inlined():
    from s2sgrad.passes.optimize import inline_single_use_arrays
    f = fn("def f(a, x):\n"
           "    for i in range(3):\n"
           "        x1 = a * x\n"
           "        x2 = 1.0 - x\n"
           "        x = x1 * x2\n"
           "    y = x1 * 2.0\n"
           "    return y")
    o = ShapeOracle({"a": (), "x": (), "x1": (), "x2": ()}, {"a", "x", "x1", "x2"}, "np")
    lines = body(inline_single_use_arrays(f, o, {"y"}))
    assert "x1 = a * x" in lines                    # read again after the loop
    assert "x = x1 * (1.0 - x)" in lines


def test_negated_product_puts_the_sign_on_the_constant():
    f = simplify_function(fn("def f(x):\n    y = -(2.0 * x)\n    return y"), FLOATS)
    assert body(f)[0] == "y = -2.0 * x"


def test_a_negated_operation_counts_as_one_for_inlining():
    from s2sgrad.passes.optimize import inline_single_use_arrays
    f = fn("def f(z):\n"
           "    t4 = -np.abs(z)\n"
           "    t5 = np.exp(t4)\n"
           "    return t5")
    lines = body(inline_single_use_arrays(f, oracle(z=(4,), t4=(4,), t5=(4,)), {"t5"}))
    assert lines[0] == "t5 = np.exp(-np.abs(z))"


def test_scalar_assign_then_accumulate_is_one_statement():
    from s2sgrad.passes.optimize import merge_scalar_accumulations
    f = fn("def f(a, b, c, x):\n"
           "    g = -b\n"
           "    h = c * x\n"
           "    g += c * a\n"
           "    v = np.zeros((3,))\n"
           "    v += x\n"
           "    return g, h, v")
    o = ShapeOracle({"g": (), "v": (3,)}, {"g", "v"}, "np")
    lines = body(simplify_function(merge_scalar_accumulations(f, o), FLOATS))
    assert lines[:2] == ["h = c * x", "g = c * a - b"]
    assert "v += x" in lines                        # an array keeps its in-place update


def test_no_merge_when_the_value_changes_in_between():
    from s2sgrad.passes.optimize import merge_scalar_accumulations
    f = fn("def f(a, b):\n"
           "    g = -b\n"
           "    b = a * 2.0\n"
           "    g += b\n"
           "    return g")
    o = ShapeOracle({"g": ()}, {"g"}, "np")
    assert body(merge_scalar_accumulations(f, o))[0] == "g = -b"
