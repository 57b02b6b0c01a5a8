"""explain() on functions with loops: short loops drawn unrolled, long ones with their
first trips and the last, the trips between folded into one node; every value and
gradient still computed (compared with grad() and finite differences)."""
import re
import shutil
import subprocess

import numpy as np
import pytest

from gradcheck import numeric_grad
from s2sgrad import explain, grad


def rnn(Wx, Wh, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h)
    return np.sum(h ** 2)


def damped(x, n):
    k = 0
    while k < n:
        x = np.sin(x) * 0.9 + 0.1
        k = k + 1
    return x * x


def _args(steps):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((3, 2)), 0.5 * rng.standard_normal((3, 3)),
            rng.standard_normal((steps, 2)), np.zeros(3))


def dot_is_well_formed(dot):
    defined = set(re.findall(r'^\s*"([^"]+)" \[', dot, re.M))
    used = set(re.findall(r'"([^"]+)" ->', dot)) | set(re.findall(r'-> "([^"]+)"', dot))
    assert used <= defined, used - defined
    assert dot.count("{") == dot.count("}")


def test_long_rnn_is_folded_and_its_gradients_are_exact():
    args = _args(20)
    e = explain(rnn, *args, wrt=(0, 1))
    gWx, gWh = grad(rnn, wrt=(0, 1))(*args)
    np.testing.assert_allclose(e.gradients["Wx"], gWx, rtol=1e-12)
    np.testing.assert_allclose(e.gradients["Wh"], gWh, rtol=1e-12)
    np.testing.assert_allclose(e.gradients["Wh"], numeric_grad(rnn, args, 1), rtol=1e-6,
                               atol=1e-9)
    assert len(e.gates) == 1 + 20 * 5 + 2          # all computed
    folds = [item for item in e.shown() if not hasattr(item, "key")]
    assert len(folds) == 1
    fold = folds[0]
    assert (fold.first, fold.last, fold.run.trips) == (3, 18, 20)
    assert len(fold.gates) == 16 * 5
    assert fold.run.header == "for t in range(xs.shape[0])"
    table = e.table()
    assert table.count("\n...") == 1
    assert "trips 3..18 of 20 folded (80 operations)" in table
    assert "[t=2]" in table and "[t=19]" in table and "[t=10]" not in table
    full = explain(rnn, *args, wrt=(0, 1), unroll=None)
    assert "[t=10]" in full.table() and "folded" not in full.table()
    assert len(full.table().splitlines()) > len(table.splitlines()) + 50


def test_folded_graph_connects_the_trips_around_the_fold():
    e = explain(rnn, *_args(12), wrt=(0, 1))
    dot = e.to_dot()
    dot_is_well_formed(dot)
    fold = [item for item in e.shown() if not hasattr(item, "key")][0]
    node = '"gate:%d"' % fold.index
    assert "style=dashed" in dot
    # the state enters from the last drawn early trip and leaves to the last trip
    assert '"edge:h#3:%d" -> %s' % (fold.index, node) in dot
    assert re.search(r'%s -> "edge:h#11:\d+"' % node, dot)
    for weight in ("Wx", "Wh"):
        assert '"edge:%s:%d" -> %s' % (weight, fold.index, node) in dot
    # fewer nodes than the whole unrolled graph
    full = explain(rnn, *_args(12), wrt=(0, 1), unroll=None).to_dot()
    assert dot.count("shape=circle") < full.count("shape=circle")
    assert "html" in e._repr_html_() or "<table" in e._repr_html_()


def test_short_loops_stay_unrolled():
    e = explain(rnn, *_args(4), wrt=(0, 1))
    assert all(hasattr(item, "key") for item in e.shown())
    assert "[t=3]" in e.table() and "folded" not in e.table()
    e2 = explain(rnn, *_args(4), wrt=(0, 1), unroll=2)
    fold = [item for item in e2.shown() if not hasattr(item, "key")][0]
    assert (fold.first, fold.last) == (1, 2)


def test_while_loop_folds_too():
    e = explain(damped, 0.3, 9, wrt=0)
    ref = grad(damped)(0.3, 9)
    assert abs(e.gradients["x"] - ref) < 1e-12
    assert abs(ref - numeric_grad(damped, (0.3, 9), 0)) < 1e-8
    assert "folded" in e.table()
    dot_is_well_formed(e.to_dot())


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_folded_rnn_renders(tmp_path):
    e = explain(rnn, *_args(30), wrt=(0, 1))
    svg = e.to_svg(str(tmp_path / "rnn.svg"))
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    subprocess.run(["dot", "-V"], check=True, capture_output=True)
