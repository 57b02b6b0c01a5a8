"""Algebraic clean-ups of straight-line code: signs that cancel or that a constant, a
difference or an accumulation absorbs; slice and scaled accumulations merged; single-use
copies renamed.  Each pass on small trees (where it must fire and where it must not),
then end to end against central finite differences."""
import gast
import numpy as np
import pytest

import s2sgrad
from s2sgrad.back.emit import emit_function
from s2sgrad.passes.optimize import ShapeOracle
from s2sgrad.passes.simplify import cancel_negations
from s2sgrad.passes.temporaries import (combine_scaled_accumulations,
                                        merge_slice_accumulations, rename_single_use_copies)

from gradcheck import check_grad


def fn(src):
    return gast.parse(src).body[0]


def body(node):
    """The function's statements as source lines (comments dropped)."""
    return [line.strip() for line in emit_function(node).splitlines()[1:]
            if line.strip() and not line.strip().startswith("#")]


def floats(*names, shapes=None):
    return ShapeOracle(shapes or {}, set(names), "np", wide=set(names))


ALL = floats(*"abcdgrtuvwxyz", "out", "t5", "t6", "g0", "g1", "g2", "g3", "m")


def cancel(src, protected=("r",), oracle=ALL):
    return body(cancel_negations(fn(src), oracle, set(protected)))


# -- cancel_negations: where it fires -------------------------------------------------

def test_two_negations_along_a_chain_of_temporaries_cancel():
    lines = cancel("def f(out, t5, t6):\n"
                   "    g0 = -out / t6\n"
                   "    g1 = g0 * t5\n"
                   "    r = -g1\n"
                   "    return r")
    # g0 and g1 would hold minus what they held: they go into their reader
    assert lines[:1] == ["r = out / t6 * t5"]


def test_sign_goes_on_a_constant_of_an_earlier_temporary():
    lines = cancel("def f(t5, z):\n"
                   "    g0 = 0.5 / (1.0 + t5)\n"
                   "    r = -(g0 * t5) * np.sign(z)\n"
                   "    return r")
    assert lines[:1] == ["r = -0.5 / (1.0 + t5) * t5 * np.sign(z)"]


def test_sign_swaps_a_difference():
    lines = cancel("def f(a, b, x):\n"
                   "    g0 = a - b\n"
                   "    r = -g0 * x\n"
                   "    return r")
    assert lines[:1] == ["r = (b - a) * x"]


def test_sign_flips_an_accumulation():
    lines = cancel("def f(a, x, r):\n"
                   "    g0 = -a\n"
                   "    g1 = g0 * x\n"
                   "    r += g1\n"
                   "    return r")
    assert lines[:1] == ["r -= a * x"]


def test_sign_flips_the_sum_that_reads_it():
    lines = cancel("def f(a, b, x):\n"
                   "    g0 = -(a * b)\n"
                   "    r = x + g0 * 2.0\n"
                   "    return r")
    assert lines[:1] == ["r = x - a * b * 2.0"]


def test_sign_passes_through_a_matrix_product():
    lines = cancel("def f(a, b, x):\n"
                   "    g0 = -(a * x)\n"
                   "    r = np.dot(b.T, g0) * 3.0\n"
                   "    return r")
    assert lines[:1] == ["r = np.dot(b.T, a * x) * -3.0"]


# -- cancel_negations: where it must not fire -----------------------------------------

def test_a_lone_negation_stays_put():
    src = ("def f(a, b, x):\n"
           "    g0 = -(a * b)\n"
           "    r = g0 * x\n"
           "    return r")
    assert cancel(src)[:2] == ["g0 = -(a * b)", "r = g0 * x"]


def test_a_copy_left_behind_is_not_forwarded_across_a_store():
    lines = cancel("def f(a, x):\n"
                   "    g0 = -a\n"
                   "    g1 = -g0\n"
                   "    a = x * 3.0\n"
                   "    r = g1 * 2.0\n"
                   "    return r")
    assert lines[:3] == ["g1 = a", "a = x * 3.0", "r = g1 * 2.0"]


def test_a_temporary_read_twice_keeps_its_sign():
    src = ("def f(a, b, x):\n"
           "    g0 = -(a * b)\n"
           "    r = -g0 * x\n"
           "    y = g0 * 2.0\n"
           "    return r, y")
    assert cancel(src, ("r", "y"))[:2] == ["g0 = -(a * b)", "r = -g0 * x"]


def test_a_store_in_between_stops_the_chain():
    src = ("def f(a, b, x):\n"
           "    g0 = -(a * b)\n"
           "    a = x * 2.0\n"
           "    r = -g0 * x\n"
           "    return r")
    assert cancel(src)[0] == "g0 = -(a * b)"


def test_no_alias_of_a_name_is_made():
    # r = -(-a) would make r an alias of a: the sign of a bare name stays
    src = ("def f(a, x):\n"
           "    g0 = -a\n"
           "    r = -g0\n"
           "    r += x\n"
           "    return r")
    lines = cancel(src)
    assert lines[:2] == ["g0 = -a", "r = -g0"]


def test_a_temporary_read_in_a_loop_is_not_followed():
    src = ("def f(a, b, x):\n"
           "    g0 = -(a * b)\n"
           "    r = x\n"
           "    for i in range(3):\n"
           "        r = r - g0 * x\n"
           "    return r")
    assert cancel(src)[0] == "g0 = -(a * b)"


def test_integer_targets_are_left_alone():
    src = ("def f(k, n):\n"
           "    j = -(k * n)\n"
           "    r = -j * 2\n"
           "    return r")
    assert cancel(src, oracle=floats())[:2] == ["j = -(k * n)", "r = -j * 2"]


def test_a_mask_never_receives_a_sign():
    # the sign comes back on the operand that had one, never on the boolean mask
    lines = cancel("def f(a, z, x):\n"
                   "    g0 = -(a * x)\n"
                   "    r = g0 * (z > 0.0)\n"
                   "    return r",
                   oracle=floats("a", "x", "g0", "r", shapes={"a": (), "x": (4,), "z": (4,)}))
    assert lines[0] in ("g0 = -a * x", "g0 = -(a * x)")
    assert lines[1] == "r = g0 * (z > 0.0)"


def test_restored_sign_goes_on_the_smallest_operand():
    o = floats("a", "x", "g0", "r", shapes={"a": (), "x": (100,), "g0": (100,),
                                            "r": (100,)})
    lines = cancel("def f(a, x):\n"
                   "    g0 = -(x * x)\n"
                   "    r = g0 * -a\n"
                   "    r = r * -a\n"
                   "    return r", oracle=o)
    assert lines[:2] == ["r = x * x * a", "r = r * -a"]


# -- merge_slice_accumulations --------------------------------------------------------

def test_slice_assignment_then_update_is_one_assignment():
    f = fn("def f(a, b, c):\n"
           "    g = np.zeros((5,))\n"
           "    g[:-1] = -a\n"
           "    u = b * 2.0\n"
           "    g[:-1] += u\n"
           "    g[1:] += c\n"
           "    return g")
    lines = body(merge_slice_accumulations(f, floats("a", "b", "c", "g", "u")))
    assert lines[1:4] == ["u = b * 2.0", "g[:-1] = -a + u", "g[1:] += c"]


@pytest.mark.parametrize("between", [
    "g[1:] += c",           # touches g
    "a = c * 2.0",          # rebinds what the first value reads
    "h = f(a)",             # a call with effects
])
def test_slice_merge_stops(between):
    f = fn("def f(a, b, c):\n"
           "    g = np.zeros((5,))\n"
           "    g[:-1] = a * 3.0\n"
           "    %s\n"
           "    g[:-1] += b\n"
           "    return g" % between)
    lines = body(merge_slice_accumulations(f, floats("a", "b", "c", "g")))
    assert "g[:-1] = a * 3.0" in lines and "g[:-1] += b" in lines


def test_slice_merge_needs_the_same_slice_and_a_float():
    f = fn("def f(a, b, k, m):\n"
           "    g = np.zeros((5,))\n"
           "    g[:-1] = a\n"
           "    g[1:] += b\n"
           "    g[2:] = k\n"
           "    g[2:] += m\n"
           "    return g")
    lines = body(merge_slice_accumulations(f, floats("a", "b", "g")))
    assert lines[1:] == ["g[:-1] = a", "g[1:] += b", "g[2:] = k", "g[2:] += m", "return g"]


# -- combine_scaled_accumulations -----------------------------------------------------

def test_accumulations_with_one_constant_share_the_multiplication():
    f = fn("def f(g, y, z):\n"
           "    g -= 0.25 * y\n"
           "    g += 0.25 * (z >= 0.0)\n"
           "    return g")
    lines = body(combine_scaled_accumulations(f, floats("g", "y", "z")))
    assert lines[0] == "g += 0.25 * ((z >= 0.0) - y)"


@pytest.mark.parametrize("first, second, want", [
    ("g += 2.0 * a", "g += b * 2.0", "g += 2.0 * (a + b)"),
    ("g -= 2.0 * a", "g -= 2.0 * b", "g -= 2.0 * (a + b)"),
    ("g += 2.0 * a", "g -= 2.0 * b", "g += 2.0 * (a - b)"),
    ("g[1:] += -2.0 * a", "g[1:] += 2.0 * b", "g[1:] += 2.0 * (b - a)"),
])
def test_scaled_accumulation_signs(first, second, want):
    f = fn("def f(g, a, b):\n    %s\n    %s\n    return g" % (first, second))
    assert body(combine_scaled_accumulations(f, floats("g", "a", "b")))[0] == want


def test_scaled_assignment_then_accumulation():
    f = fn("def f(a, b, c):\n"
           "    g = -0.5 * a\n"
           "    g += 0.5 * b\n"
           "    h = np.zeros((3,))\n"
           "    h[1:] = 2.0 * a\n"
           "    h[1:] -= 2.0 * c\n"
           "    return g, h")
    lines = body(combine_scaled_accumulations(f, floats("g", "a", "b", "c", "h")))
    assert lines[0] == "g = 0.5 * (b - a)"
    assert lines[2] == "h[1:] = 2.0 * (a - c)"


def test_scaled_assignment_of_a_narrow_array_is_kept():
    f = fn("def f(a, b):\n"
           "    g = 0.5 * a\n"
           "    g += 0.5 * b\n"
           "    return g")
    o = ShapeOracle({}, {"g", "a", "b"}, "np", wide={"b"})     # a is float32
    assert len(body(combine_scaled_accumulations(f, o))) == 3


@pytest.mark.parametrize("first, second", [
    ("g += 2.0 * a", "g += 3.0 * b"),        # different constants
    ("g += 2.0 * a", "g[1:] += 2.0 * b"),    # different targets
    ("g += 2.0 * (x > 0)", "g -= 2.0 * (x < 0)"),   # two masks cannot be subtracted
])
def test_scaled_accumulations_kept_apart(first, second):
    f = fn("def f(g, a, b, x):\n    %s\n    %s\n    return g" % (first, second))
    assert len(body(combine_scaled_accumulations(f, floats("g", "a", "b")))) == 3


def test_scaled_accumulations_stop_at_a_read_of_the_target():
    f = fn("def f(g, a, b):\n"
           "    g += 2.0 * a\n"
           "    h = g * 1.0\n"
           "    g += 2.0 * b\n"
           "    return g, h")
    assert len(body(combine_scaled_accumulations(f, floats("g", "a", "b", "h")))) == 4


# -- rename_single_use_copies ---------------------------------------------------------

def test_a_copy_of_a_fresh_temporary_takes_its_name():
    f = fn("def f(a, b):\n"
           "    t = a * b\n"
           "    u = a + 1.0\n"
           "    y = t\n"
           "    return y, u")
    assert body(rename_single_use_copies(f, {"y", "u"}))[:2] == ["y = a * b", "u = a + 1.0"]


@pytest.mark.parametrize("src", [
    "    t = a * b\n    u = y + 1.0\n    y = t\n    return y, u",    # y read in between
    "    t = a[1:]\n    y = t\n    return y",                         # a view
    "    t = a * b\n    y = t\n    z = t\n    return y, z",           # read twice
])
def test_copies_kept(src):
    f = fn("def f(a, b, y):\n" + src)
    assert "y = t" in body(rename_single_use_copies(f, {"y", "z", "u"}))


# -- end to end ------------------------------------------------------------------------

rng = np.random.default_rng(7)


def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


def test_neuron_signs_cancel():
    args = tuple(float(v) for v in rng.standard_normal(5))
    check_grad(neuron, args, wrt=(0, 1, 2, 3, 4))
    g = s2sgrad.grad(neuron, wrt=(0, 1, 2, 3, 4))
    g(*args)
    backward = g.source.split("# Backward pass")[1]
    assert "-" not in "".join(line.split("#")[0] for line in backward.splitlines())


def logreg(w, b, X, y):
    z = X @ w + b
    return np.mean(np.maximum(z, 0.0) - z * y + np.log(1.0 + np.exp(-np.abs(z))))


def test_logreg_accumulations_combined():
    X = rng.standard_normal((16, 3))
    args = (rng.standard_normal(3), 0.3, X, (rng.random(16) > 0.5).astype(float))
    check_grad(logreg, args, wrt=(0, 1))
    g = s2sgrad.grad(logreg, wrt=(0, 1))
    g(*args)
    assert g.source.count("+=") + g.source.count("-=") <= 1


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_rosenbrock_slice_updates_merged():
    x = rng.standard_normal(12)
    check_grad(rosenbrock, (x,))
    g = s2sgrad.grad(rosenbrock)
    g(x)
    assert g.source.count("grad_x[:-1]") == 1


def test_float32_keeps_its_dtype():
    x = rng.standard_normal(12).astype(np.float32)
    out = s2sgrad.grad(rosenbrock)(x)
    assert out.dtype == np.float32
    assert np.allclose(out, s2sgrad.grad(rosenbrock)(x.astype(np.float64)), rtol=1e-4,
                       atol=1e-3)
    z = rng.standard_normal(5).astype(np.float32)
    w = s2sgrad.grad(lambda v: np.sum(-(2.0 * v) * np.sign(v) - 0.5 * v + 0.5 * (v > 0)))(z)
    assert w.dtype == np.float32


def signs_in_loop(a, x):
    s = 0.0
    for i in range(3):
        t = -(a * x)
        s = s - t * x + (1.0 - a) * 2.0
    return s


def test_signs_in_a_loop():
    check_grad(signs_in_loop, (0.7, 1.3), wrt=(0, 1))


def broadcast_slices(x, c):
    y = x[:-1] * c - x[1:] * 2.0
    return np.sum(-(y * y)) - np.sum(x[:-1] * 3.0)


def test_slice_merge_with_broadcast_operands():
    args = (rng.standard_normal((5, 3)), rng.standard_normal(3))
    check_grad(broadcast_slices, args, wrt=(0, 1))
    x = rng.standard_normal((5, 3))
    g = s2sgrad.grad(broadcast_slices, wrt=(0, 1))
    gx, gc = g(x, np.ones(3))
    assert gx.shape == (5, 3) and gc.shape == (3,) and gx.flags.writeable


def test_returned_gradient_stays_private():
    def f(a):
        return np.sum(-(-a * 2.0))
    a = rng.standard_normal(4)
    g = s2sgrad.grad(f)(a)
    assert g is not a and not np.shares_memory(g, a)
    g[0] = 1e9                          # writable, and a is untouched
    assert abs(a[0]) < 1e6


# -- inline_single_use_arrays: a few operations into a short reader ------------------

def shapes(**kw):
    return ShapeOracle(kw, set(kw), "np", wide=set(kw))


def test_a_few_array_operations_go_into_a_short_reader():
    from s2sgrad.passes.optimize import inline_single_use_arrays
    f = fn("def f(t5, z):\n"
           "    g0 = -0.25 / (1.0 + t5) * t5\n"
           "    r = g0 * np.sign(z)\n"
           "    return r")
    o = shapes(t5=(4,), z=(4,), g0=(4,), r=(4,))
    assert body(inline_single_use_arrays(f, o, {"r"}))[0] == \
        "r = -0.25 / (1.0 + t5) * t5 * np.sign(z)"


def test_a_long_reader_keeps_its_temporary_untouched():
    from s2sgrad.passes.optimize import inline_single_use_arrays
    src = ("def f(a_long_name, another_long_name, yet_another_name):\n"
           "    g0 = np.sum(a_long_name, axis=1, keepdims=True) / np.sum(another_long_name, "
           "axis=1, keepdims=True)\n"
           "    r = a_long_name - g0 * yet_another_name\n"
           "    return r")
    o = shapes(a_long_name=(4, 3), another_long_name=(4, 3), yet_another_name=(4, 3),
               g0=(4, 1), r=(4, 3))
    lines = body(inline_single_use_arrays(fn(src), o, {"r"}))
    assert lines[1] == "r = a_long_name - g0 * yet_another_name"    # not rewritten in place


def test_inlining_distance_ignores_section_comments():
    from s2sgrad.back.emit import Comment
    from s2sgrad.passes.optimize import inline_single_use_arrays
    f = fn("def f(x, a, b, c):\n"
           "    t3 = x - a * a\n"
           "    u = b * 2.0\n"
           "    v = c * 2.0\n"
           "    w = u + v\n"
           "    g = 3.0 * t3\n"
           "    return g, w")
    f.body.insert(1, Comment("Backward pass"))
    o = shapes(x=(4,), a=(4,), b=(4,), c=(4,), t3=(4,), u=(4,), v=(4,), w=(4,), g=(4,))
    lines = body(inline_single_use_arrays(f, o, {"g", "w"}))
    assert "g = 3.0 * (x - a * a)" in lines


# -- cancel_negations: every name keeps its value ----------------------------------------

def _run(lines, params, inputs):
    src = "def f(%s):\n" % ", ".join(params) + "".join("    %s\n" % l for l in lines
                                                        if not l.startswith("return"))
    src += "    return dict(locals())\n"
    scope = {"np": np}
    exec(src, scope)
    return scope["f"](*inputs)


def _random_chain(rng, n):
    """Straight-line code over temporaries g0..g{n-1} read once or more, with signs on
    products, quotients, differences and constants; the result accumulated into r."""
    names = ["a", "b", "x"]
    lines = []
    for k in range(n):
        u, v = rng.choice(names, 2, replace=False)
        form = rng.integers(7)
        expr = ["-%s * %s" % (u, v), "-(%s / %s)" % (u, v), "%s - %s" % (u, v),
                "-(%s - %s)" % (u, v), "-2.0 * %s" % u, "%s * -%s" % (u, v),
                "-%s + %s" % (u, v)][form]
        lines.append("g%d = %s" % (k, expr))
        names.append("g%d" % k)
    last = names[-1]
    lines.append(["r = -%s" % last, "r += -%s * b" % last, "r = %s * -a" % last][rng.integers(3)])
    lines.append("return r")
    return lines


@pytest.mark.parametrize("seed", range(40))
def test_no_surviving_name_changes_sign(seed):
    rng = np.random.default_rng(seed)
    lines = _random_chain(rng, int(rng.integers(2, 7)))
    params = ["a", "b", "x", "r"]
    oracle = floats("a", "b", "x", "r", *["g%d" % k for k in range(8)])
    src = "def f(%s):\n" % ", ".join(params) + "".join("    %s\n" % l for l in lines)
    after = cancel(src, protected=("r",), oracle=oracle)
    inputs = (0.7, -1.3, 2.1, 0.4)
    before_values = _run(lines, params, inputs)
    after_values = _run(after, params, inputs)
    for name, value in after_values.items():
        assert np.isclose(value, before_values[name], rtol=1e-14, atol=0.0), \
            "%s changed: %s\nbefore: %s\nafter: %s" % (name, value, lines, after)
