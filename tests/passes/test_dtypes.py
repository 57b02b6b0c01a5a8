"""passes/dtypes.narrow_constants on small trees: in statements assigning a float32 /
float16 name, the Python numbers NumPy would widen to float64 get the dtype; float64
code and numbers NumPy keeps weak are left alone.  (End to end, with every intermediate's
dtype recorded: tests/api/test_float32.py.)"""
import gast
import numpy as np

from s2sgrad.back.emit import emit_function
from s2sgrad.passes.dtypes import narrow_constants
from s2sgrad.passes.optimize import ShapeOracle


def typed(src, narrow):
    node = gast.parse(src).body[0]
    oracle = ShapeOracle({}, set(), "np", narrow=narrow)
    return [line.strip() for line in emit_function(narrow_constants(node, oracle)).splitlines()[1:]
            if line.strip()]


NARROW = {"g": "float32", "h": "float16", "grad_t": "float32"}


def test_a_broadcast_number_gets_the_dtype():
    assert typed("def f(t8):\n    g = np.broadcast_to(1.0, (3, 4)) / t8\n    return g",
                 NARROW)[0] == "g = np.broadcast_to(np.float32(1.0), (3, 4)) / t8"
    assert typed("def f(t8):\n    h = np.broadcast_to(-1.0 / 3, (3,)) * t8\n    return h",
                 NARROW)[0] == "h = np.broadcast_to(np.float16(-1.0 / 3), (3,)) * t8"


def test_a_name_holding_a_number_is_followed():
    lines = typed("def f(y):\n    grad_t = -1.0 / 3\n    grad_t = np.broadcast_to(grad_t, (3,))\n"
                  "    return grad_t", NARROW)
    assert lines[1] == "grad_t = np.broadcast_to(np.float32(grad_t), (3,))"


def test_zeros_ones_full_get_the_dtype_unless_given():
    lines = typed("def f(x):\n    g = np.zeros((3, 3))\n    g += np.ones((3, 3))\n"
                  "    h = np.zeros((2,), dtype=np.float32)\n    return g, h", NARROW)
    assert lines[:3] == ["g = np.zeros((3, 3), dtype=np.float32)",
                         "g += np.ones((3, 3), dtype=np.float32)",
                         "h = np.zeros((2,), dtype=np.float32)"]


def test_a_number_times_a_mask_gets_the_dtype():
    lines = typed("def f(x, m):\n    hits = x == m\n    g = hits * 0.5\n    g += 2.0 * (x > 0)\n"
                  "    return g", NARROW)
    assert lines[1:3] == ["g = hits * np.float32(0.5)", "g += np.float32(2.0) * (x > 0)"]


def test_float64_code_and_weak_numbers_are_left_alone():
    src = ("def f(t8, m):\n    w = np.broadcast_to(1.0, (3, 4)) / t8\n    g = 1.0 / t8 * 2.0\n"
           "    g += t8 * (1.0 - t8)\n    return w, g")
    assert typed(src, NARROW) == typed(src, {}) == [
        "w = np.broadcast_to(1.0, (3, 4)) / t8", "g = 1.0 / t8 * 2.0", "g += t8 * (1.0 - t8)",
        "return w, g"]


def test_the_rewritten_statements_compute_in_float32():
    t8 = np.linspace(1.0, 2.0, 12, dtype=np.float32).reshape(3, 4)
    hits = t8 > 1.5
    assert (np.broadcast_to(np.float32(1.0), (3, 4)) / t8).dtype == np.float32
    assert (hits * np.float32(0.5)).dtype == np.float32
    # what they replace
    assert (np.broadcast_to(1.0, (3, 4)) / t8).dtype == np.float64
    assert (hits * 0.5).dtype == np.float64
