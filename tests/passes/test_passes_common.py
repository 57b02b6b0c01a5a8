"""The def-use helpers the passes share (passes/common.py): one walk each, the same
answers as the plain definitions they stand for."""
import gast
import pytest

from s2sgrad import astutil as A
from s2sgrad.back.emit import to_source
from s2sgrad.passes.optimize import eliminate_dead_code, propagate_copies
from s2sgrad.passes.common import (_EffectsOf, _Substitute, _const_shape, _effects,
                                   _load_count, _name_counts, _num, _protected, _reads,
                                   _stored_anywhere, _substitute_loads)


def stmt(src):
    return gast.parse(src).body[0]


def fn(src):
    return gast.parse(src).body[0]


@pytest.mark.parametrize("src, reads, stored", [
    ("y = a + b", {"a", "b"}, {"y"}),
    ("g += x", {"g", "x"}, {"g"}),
    ("g[i] += x", {"g", "i", "x"}, {"g"}),
    ("y[i] = f(a)", {"y", "i", "f", "a"}, {"y"}),
    ("y.attr = 1.0", {"y"}, {"y"}),
    ("s.append(x)", {"s", "x"}, {"s"}),
    ("y = a.sum()", {"a"}, {"y"}),                       # a pure method stores nothing
    ("y = np.exp(x)", {"np", "x"}, {"y", "np"}),         # (any other method: its root)
    ("y = (z := a) + 1", {"a"}, {"y", "z"}),
    ("for i in r:\n    t[i] += 2.0 * u\n    w = t", {"r", "t", "i", "u"}, {"i", "t", "w"}),
])
def test_effects_are_reads_and_stores_in_one_walk(src, reads, stored):
    s = stmt(src)
    assert _effects(s) == (reads, stored)
    assert _reads(s) == reads
    assert _stored_anywhere(s) == stored


def test_reads_count_an_augmented_target_inside_a_block():
    s = stmt("if c:\n    g += 1.0\nelse:\n    h = 2.0")
    assert _reads(s) == {"c", "g"}
    assert _reads(stmt("y = a")) == {"a"} and _reads(gast.parse("a + b", mode="eval").body) \
        == {"a", "b"}


def test_effects_of_a_statement_are_found_once_and_forgotten_on_request():
    s = stmt("y = a + b")
    effects = _EffectsOf()
    first = effects(s)
    assert effects(s) is not None and effects(s)[0] is first[0]   # (the same sets)
    s.value = gast.parse("c", mode="eval").body
    assert effects(s)[0] == {"a", "b"}          # edited in place: stale until forgotten
    effects.forget(s)
    assert effects(s)[0] == {"c"}


def test_name_counts_count_reads_and_bindings():
    f = fn("def f(a, x):\n    t = a * x\n    g = t\n    g += t\n    y[t] = x\n    return g")
    loads, stores = _name_counts(f)
    assert loads == {"a": 1, "x": 2, "t": 3, "g": 2, "y": 1}
    assert stores["t"] == 1 and stores["a"] == 1 and stores["x"] == 1
    assert stores["g"] >= 2                        # updated in place: never a temporary
    assert _load_count(f) == loads


def test_protected_names_are_written_in_place_or_returned():
    f = fn("def f(a, b):\n    y = a\n    y[0] = 1.0\n    z = b\n    z += 1.0\n"
           "    w = a\n    return w, a")
    assert _protected(f) == {"y", "z", "w", "a"}


def test_substitution_replaces_only_loads_and_counts_them():
    s = stmt("y[i] = x + x * z")
    counter = []
    _substitute_loads(s, {"x": A.load("q"), "y": A.load("p"), "i": A.const(0)}, counter)
    assert counter == [3]
    assert to_source(s).strip() == "y[0] = q + q * z"
    sub = _Substitute({"a": A.const(2.0)})
    node = gast.parse("a", mode="eval").body
    assert _num(sub.visit(node)) == 2.0 and sub.count == 1


@pytest.mark.parametrize("src, shape", [
    ("8", (8,)), ("(8, 5)", (8, 5)), ("()", ()), ("True", (True,)), ("(2, -1)", (2, -1)),
    ("(8, 5.0)", None), ("n", None), ("'a'", None),
])
def test_const_shape(src, shape):
    assert _const_shape(gast.parse(src, mode="eval").body) == shape


def test_dead_code_in_straight_lines_goes_in_one_sweep():
    f = fn("def f(x):\n    a = x * 2.0\n    b = a + 1.0\n    c = b * b\n    return x")
    f = eliminate_dead_code(f)
    assert [to_source(s).strip() for s in f.body] == ["return x"]


def test_dead_code_reads_of_a_block_emptied_go_in_a_second_sweep():
    f = fn("def f(x):\n    c = x.sum() > 0.0\n    if c:\n        a = x * 2.0\n    return x")
    f = eliminate_dead_code(f)
    assert [to_source(s).strip() for s in f.body] == ["return x"]


def test_propagation_rewalks_a_statement_whose_stored_name_was_substituted():
    f = fn("def f(b, x):\n    a = b\n    c = b[0]\n    a.append(x)\n    d = b[0]\n"
           "    return c, d")
    f.body = propagate_copies(f.body)
    # a.append(x) is b.append(x): it changes b, the later b[0] is not the earlier one
    assert [to_source(s).strip() for s in f.body][1:4] == ["c = b[0]", "b.append(x)",
                                                           "d = b[0]"]
