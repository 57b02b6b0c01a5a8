"""explain(): the seeds' computational-graph view, checked against the seed numbers."""
import shutil
import sys
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad import explain, grad
from s2sgrad.tools.explain import ExplainError

# The functions live in a real file: explain needs their source.
SOURCE = textwrap.dedent("""\
    import numpy as np

    def neuron(w0, x0, w1, x1, w2):
        s = w0 * x0 + w1 * x1 + w2
        return 1.0 / (1.0 + np.exp(-s))

    def apple_orange(apple, num_apple, orange, num_orange, tax):
        apple_price = apple * num_apple
        orange_price = orange * num_orange
        total = apple_price + orange_price
        final_price = total * tax
        return final_price

    def qz(x, y, z):
        q = x + y
        f = q * z
        return f

    def gates(x, y, z, w):
        a = x * y
        b = np.maximum(z, w)
        c = a + b
        return c * 2.0

    def fan_out(x, y):
        a = x * y
        return a + x

    def mlp(W1, b1, W2, b2, X, y):
        h = np.maximum(0.0, X @ W1 + b1)
        s = h @ W2 + b2
        return np.sum((s - y) ** 2)

    def looped(x):
        for i in range(3):
            x = x * 2.0
        return x

    def rnn(h, W, xs):
        for t in range(3):
            h = np.tanh(W * h + xs[t])
        return h * h

    def branchy(x, y):
        if x > y:
            z = x * y
        else:
            z = x + y
        return z * z

    ALPHA = 0.1

    def leaky(x):
        return np.maximum(x, ALPHA * x)

    def calls_helper(x, w):
        return np.sum(leaky(x * w))

    def over_array(x):
        s = 0.0
        for v in x:
            s = s + v * v
        return s

    def vector(x):
        return x * 2.0
    """)


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    d = tmp_path_factory.mktemp("explain")
    (d / "explain_model.py").write_text(SOURCE)
    sys.path.insert(0, str(d))
    try:
        import explain_model
        yield explain_model
    finally:
        sys.path.remove(str(d))
        sys.modules.pop("explain_model", None)


def close(a, b, tol=5e-3):
    return abs(float(a) - float(b)) <= tol


def test_neuron_matches_cs231n_figure(m):
    # CS231n: w0=2, x0=-1, w1=-3, x1=-2, w2=-3; output 0.73; gradients -0.20 0.39 -0.39 -0.59 0.20
    e = explain(m.neuron, 2.0, -1.0, -3.0, -2.0, -3.0)
    assert close(e.value, 0.731)
    expected = {"w0": -0.197, "x0": 0.393, "w1": -0.393, "x1": -0.590, "w2": 0.197}
    for name, g in expected.items():
        assert close(e.gradients[name], g), name
    # the gates of the figure: * * + + *-1 exp +1 1/x
    assert [g.label for g in e.gates] == ["*", "*", "+", "+", "*-1", "exp(x)", "+1", "1/x"]
    values = [g.value for g in e.gates]
    np.testing.assert_allclose(values, [-2, 6, 4, 1, -1, 0.368, 1.368, 0.731], atol=1e-3)
    # 1/x gate: upstream 1.00, local -1/x^2 = -0.53; exp gate: local e^-1 = 0.37
    inv = e.gates[-1]
    assert inv.upstream == 1.0
    assert close(inv.local["t2"], -0.534) and close(inv.downstream["t2"], -0.534)
    ex = e.gate("t1")
    assert close(ex.local["t0"], 0.368) and close(ex.upstream, -0.534)
    assert close(ex.downstream["t0"], -0.197)


def test_neuron_gradients_equal_grad(m):
    args = (2.0, -1.0, -3.0, -2.0, -3.0)
    e = explain(m.neuron, *args)
    full = grad(m.neuron, wrt=(0, 1, 2, 3, 4))(*args)
    np.testing.assert_allclose([e.gradients[p] for p in e.wrt], full, rtol=1e-12)


def test_apple_orange_seed_numbers(m):
    # seed 004: 100 x 2 apples, 150 x 3 oranges, tax 1.1 -> 715; dApple 2.2, dApple_num 110,
    # dOrange 3.3, dOrange_num 165, dTax 650
    e = explain(m.apple_orange, 100, 2, 150, 3, 1.1)     # ints are taken as floats
    assert close(e.value, 715)
    g = e.gradients
    assert close(g["apple"], 2.2) and close(g["num_apple"], 110)
    assert close(g["orange"], 3.3) and close(g["num_orange"], 165)
    assert close(g["tax"], 650)
    add = e.gate("total")
    assert add.pattern == "add distributes"
    assert add.downstream == {"apple_price": add.upstream, "orange_price": add.upstream}
    mul = e.gate("final_price")
    assert mul.pattern == "mul swaps"
    assert close(mul.local["total"], 1.1) and close(mul.local["tax"], 650)   # swapped


def test_qz_example(m):
    # f = (x + y) z at x=-2, y=5, z=-4: q=3, f=-12; df/dx = df/dy = -4, df/dz = 3
    e = explain(m.qz, -2.0, 5.0, -4.0)
    assert e.value == -12.0
    assert e.gradients == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert e.gate("q").upstream == -4.0


def test_max_routes_and_fan_out_sums(m):
    e = explain(m.gates, 3.0, -4.0, 2.0, -1.0)
    mx = e.gate("b")
    assert mx.pattern == "max routes"
    assert mx.downstream["z"] == mx.upstream and mx.downstream["w"] == 0   # routed to the max
    e = explain(m.fan_out, 3.0, -4.0)
    x = e["x"]
    assert len(x.consumers) == 2
    parts = [e.gates[c].downstream["x"] for c in x.consumers]
    assert parts == [-4.0, 1.0] and x.grad == sum(parts)
    assert "fan-out sums: -4 + 1" in e.table()


def test_mlp_totals_match_grad(m):
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)),
            rng.normal(size=2), rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    e = explain(m.mlp, *args, wrt=(0, 1, 2, 3))
    full = grad(m.mlp, wrt=(0, 1, 2, 3))(*args)
    for name, g in zip(("W1", "b1", "W2", "b2"), full):
        np.testing.assert_allclose(e.gradients[name], g, rtol=1e-10, atol=1e-12)
    assert e["X"].grad is None and not e["X"].differentiated
    assert e.gate("h").pattern == "max routes"
    assert any("np.dot" in line or "matmul" in line for g in e.gates for line in g.code)
    text = e.table()
    assert "(no gradient)" in text and "3x4" in text


def test_text_html_and_code(m):
    e = explain(m.neuron, 2.0, -1.0, -3.0, -2.0, -3.0)
    text = str(e)
    assert text.splitlines()[0].startswith("neuron: value 0.731")
    for word in ("upstream", "downstream", "local grad", "mul swaps", "add distributes"):
        assert word in text
    assert "grad_w0 = grad_s * x0" in e.table(code=True)   # grad_s0 = grad_s propagated
    html = e._repr_html_()
    assert html.startswith("<table") and "<code>s0 = w0 * x0</code>" in html
    assert "-0.197" in html


def test_dot(m):
    e = explain(m.apple_orange, 100.0, 2.0, 150.0, 3.0, 1.1)
    dot = e.to_dot()
    assert dot.startswith("digraph apple_orange {") and "rankdir=LR" in dot
    # values (green) above the edge line, gradients (red) below
    assert '<font color="#2e7d32">715</font>' in dot and '<font color="#c62828">650</font>' in dot
    assert dot.index('color="#2e7d32">100<') < dot.index('color="#c62828">2.2<')


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
def test_svg(m, tmp_path):
    e = explain(m.neuron, 2.0, -1.0, -3.0, -2.0, -3.0)
    path = tmp_path / "neuron.svg"
    svg = e.to_svg(str(path))
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert path.read_text() == svg and "0.731" in svg


def test_svg_without_dot_says_what_to_install(m, monkeypatch):
    ex = sys.modules["s2sgrad.tools.explain"]     # the module (s2sgrad.explain is the function)
    monkeypatch.setattr(ex.shutil, "which", lambda name: None)
    e = explain(m.qz, -2.0, 5.0, -4.0)
    with pytest.raises(ExplainError) as info:
        e.to_svg()
    assert "apt-get install graphviz" in str(info.value) and ".to_dot()" in str(info.value)
    assert e.to_dot()          # still works


def test_loops_are_unrolled(m):
    e = explain(m.looped, 1.5)
    assert [g.key for g in e.gates] == ["x#1", "x#2", "x#3"]
    assert [g.context for g in e.gates] == ["i=0", "i=1", "i=2"]
    assert e.value == 12.0 and e.gradients == {"x": 8.0}
    assert [g.upstream for g in e.gates] == [4.0, 2.0, 1.0]
    assert "x#2" in e.table() and "[i=1]" in e.table()


def test_rnn_fan_out_across_steps_matches_grad(m):
    xs = np.array([0.5, -0.3, 0.2])
    e = explain(m.rnn, 0.1, 0.8, xs, wrt=(0, 1))
    full = grad(m.rnn, wrt=(0, 1))(0.1, 0.8, xs)
    np.testing.assert_allclose([e.gradients["h"], e.gradients["W"]], full, rtol=1e-12)
    W = e["W"]
    parts = [e.gates[c].downstream["W"] for c in W.consumers]
    assert len(parts) == 3 and np.isclose(sum(parts), W.grad)   # fan-out over time steps


def test_branch_taken_is_drawn(m):
    e = explain(m.branchy, 2.0, 3.0)       # x < y: z = x + y
    assert e.gate("z").pattern == "add distributes"
    e = explain(m.branchy, 3.0, 2.0)       # x > y: z = x * y
    assert e.gate("z").pattern == "mul swaps"
    assert e.gradients == {"x": 2 * 6.0 * 2.0, "y": 2 * 6.0 * 3.0}


def test_loop_over_a_differentiated_array_is_reported(m):
    with pytest.raises(ExplainError) as info:
        explain(m.over_array, np.array([1.0, 2.0]))
    assert "loop over a differentiated value" in str(info.value)
    assert "for v in x" in str(info.value)


def test_non_scalar_output(m):
    with pytest.raises(ExplainError):
        explain(m.vector, np.ones(3))


def test_ipython_cells_work():
    """Functions typed in IPython/Jupyter cells have source (IPython's cell cache)."""
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    try:
        cell = ("import numpy as np\n"
                "def cell_neuron(w0, x0, w1, x1, w2):\n"
                "    s = w0 * x0 + w1 * x1 + w2\n"
                "    return 1.0 / (1.0 + np.exp(-s))\n")
        assert shell.run_cell(cell).success
        result = shell.run_cell(
            "import s2sgrad\n"
            "g = s2sgrad.grad(cell_neuron, wrt=(0, 1))(2.0, -1.0, -3.0, -2.0, -3.0)\n"
            "e = s2sgrad.explain(cell_neuron, 2.0, -1.0, -3.0, -2.0, -3.0)\n")
        assert result.success, result.error_in_exec
        g = shell.user_ns["g"]
        assert close(g[0], -0.197) and close(g[1], 0.393)
        assert close(shell.user_ns["e"].gradients["x1"], -0.590)
        # the notebook shows the HTML table
        data, _ = shell.display_formatter.format(shell.user_ns["e"])
        assert "text/html" in data and "<table" in data["text/html"]
        # redefining the function in a later cell differentiates the new definition
        assert shell.run_cell("def sq(x):\n    return x * x\n").success
        assert shell.run_cell("a = s2sgrad.grad(sq)(3.0)").success
        assert shell.run_cell("def sq(x):\n    return x * x * x\n").success
        assert shell.run_cell("b = s2sgrad.grad(sq)(3.0)").success
        assert shell.user_ns["a"] == 6.0 and shell.user_ns["b"] == 27.0
    finally:
        InteractiveShell.clear_instance()


def test_plain_repl_has_no_source():
    """At a plain `python` prompt there is no source: the error says what to do."""
    ns = {}
    exec(compile("def f(x):\n    return x * x\n", "<stdin>", "exec"), ns)
    with pytest.raises(s2sgrad.SourceUnavailableError) as info:
        grad(ns["f"])(1.0)
    assert "Jupyter/IPython cell" in str(info.value) or ".py file" in str(info.value)


def test_calls_to_user_functions_are_drawn_inline(m):
    x = np.array([1.0, -2.0])
    e = explain(m.calls_helper, x, 3.0)
    np.testing.assert_allclose(e.gradients["x"], grad(m.calls_helper)(x, 3.0))
    assert any(g.pattern == "max routes" for g in e.gates)
