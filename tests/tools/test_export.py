"""Exported gradient modules run with NumPy alone: s2sgrad cannot be imported."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, value_and_grad
from s2sgrad.tools.export import ExportError, export, export_source

MODEL = textwrap.dedent("""\
    import math
    import numpy as np

    SCALE = 3.0
    W0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    CONFIG = {"decay": 0.5}

    class Opaque:
        scale = 2.0

    THING = Opaque()

    def neuron(w0, x0, w1, x1, w2):
        s = w0 * x0 + w1 * x1 + w2
        return 1.0 / (1.0 + np.exp(-s))

    def mlp(W1, b1, W2, b2, X, y):
        h = np.maximum(0.0, X @ W1 + b1)
        s = h @ W2 + b2
        return np.sum((s - y) ** 2) / X.shape[0]

    def with_globals(x):
        return SCALE * np.sum(np.tanh(x @ W0)) + math.pi * CONFIG["decay"] * np.sum(x)

    def looped(x, n):
        y = x
        for i in range(n):
            y = np.sin(y) * x
        return np.sum(y)

    def uses_object(x):
        return np.sum(x) * THING.scale
    """)

# Imports of s2sgrad fail in the child: sys.modules['s2sgrad'] = None blocks it.
RUNNER = textwrap.dedent("""\
    import importlib, json, sys
    sys.modules["s2sgrad"] = None
    try:
        import s2sgrad  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("s2sgrad should not be importable here")
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    mod = importlib.import_module(sys.argv[2])
    args = [np.asarray(a) if isinstance(a, list) else a for a in json.loads(sys.argv[3])]
    out = getattr(mod, sys.argv[4])(*args)
    def tolist(v):
        if isinstance(v, tuple):
            return [tolist(x) for x in v]
        return np.asarray(v, dtype=float).tolist()
    print(json.dumps(tolist(out)))
    print("MODULES", " ".join(sorted(m for m, v in sys.modules.items()
                                     if m.startswith("s2sgrad") and v is not None)))
    """)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    (d / "export_model.py").write_text(MODEL)
    sys.path.insert(0, str(d))
    try:
        import export_model
        yield export_model
    finally:
        sys.path.remove(str(d))
        sys.modules.pop("export_model", None)


def run_exported(tmp_path, text, module, func, args):
    (tmp_path / (module + ".py")).write_text(text)
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    jargs = json.dumps([a.tolist() if isinstance(a, np.ndarray) else a for a in args])
    proc = subprocess.run([sys.executable, str(runner), str(tmp_path), module, jargs, func],
                          env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].strip() == "MODULES"       # nothing named s2sgrad* got imported
    return json.loads(lines[0])


def same(a, b):
    if isinstance(b, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                   rtol=1e-12, atol=1e-12)


NEURON_ARGS = (2.0, -1.0, -3.0, -2.0, -3.0)


def mlp_args(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)),
            rng.normal(size=2), rng.normal(size=(n, 3)), rng.normal(size=(n, 2)))


def test_generic_neuron(model, tmp_path):
    text = export_source(model.neuron, wrt=(0, 1, 2, 3, 4))
    assert "Generic version" in text
    got = run_exported(tmp_path, text, "neuron_grad_mod", "neuron_grad", list(NEURON_ARGS))
    same(got, grad(model.neuron, wrt=(0, 1, 2, 3, 4))(*NEURON_ARGS))


def test_specialized_mlp(model, tmp_path):
    args = mlp_args()
    text = export_source(model.mlp, wrt=(0, 1, 2, 3), args=args)
    assert "Specialized for: W1: float64[3, 4]" in text
    got = run_exported(tmp_path, text, "mlp_grad_mod", "mlp_grad", list(args))
    same(got, grad(model.mlp, wrt=(0, 1, 2, 3))(*args))


def test_generic_mlp_any_shapes(model, tmp_path):
    text = export_source(model.mlp, wrt=("W1", "b1", "W2", "b2"))
    for n in (1, 7):
        args = mlp_args(n, seed=n)
        got = run_exported(tmp_path, text, "mlp_generic_%d" % n, "mlp_grad", list(args))
        same(got, grad(model.mlp, wrt=(0, 1, 2, 3))(*args))


def test_globals_constants_and_modules_are_inlined(model, tmp_path):
    x = np.array([[0.1, -0.2], [0.3, 0.4]])
    text = export_source(model.with_globals, args=(x,))
    assert "SCALE = 3.0" in text and "W0 = np.array(" in text and "import math" in text
    assert "Requires: NumPy, math" in text
    got = run_exported(tmp_path, text, "globals_mod", "with_globals_grad", [x])
    same(got, grad(model.with_globals)(x))


def test_value_and_grad(model, tmp_path):
    text = export_source(model.neuron, wrt=(0, 1), mode="value_and_grad")
    got = run_exported(tmp_path, text, "vg_mod", "neuron_value_and_grad", list(NEURON_ARGS))
    same(got, value_and_grad(model.neuron, wrt=(0, 1))(*NEURON_ARGS))


def test_loops_with_stacks(model, tmp_path):
    x = np.array([0.3, -0.7, 1.1])
    expected = grad(model.looped)(x, 3)
    text = export_source(model.looped, args=(x, 3))
    got = run_exported(tmp_path, text, "loop_mod", "looped_grad", [x, 3])
    same(got, expected)


def test_header(model, tmp_path):
    path = tmp_path / "out.py"
    text = export(model.neuron, str(path), command="s2sgrad export m.py:neuron -o out.py")
    assert path.read_text() == text
    head = text.splitlines()[:6]
    assert head[0].startswith("# Generated by s2sgrad %s" % s2sgrad.__version__)
    assert any("export_model.py:neuron" in line for line in head)
    assert any("sha256" in line for line in head)
    assert any("Command:   s2sgrad export m.py:neuron -o out.py" in line for line in head)
    compile(text, "out.py", "exec")


def test_hash_changes_with_source(tmp_path):
    from s2sgrad.tools.export import function_source_hash
    ns1, ns2 = {}, {}
    for ns, body in ((ns1, "x * x"), (ns2, "x * x * x")):
        p = tmp_path / ("h%d.py" % len(body))
        p.write_text("def f(x):\n    return %s\n" % body)
        code = compile(p.read_text(), str(p), "exec")
        exec(code, ns)
    assert function_source_hash(ns1["f"]) != function_source_hash(ns2["f"])


def test_unexportable_global_is_a_clear_error(model):
    with pytest.raises(ExportError) as info:
        export_source(model.uses_object, args=(np.ones(2),))
    message = str(info.value)
    assert "THING" in message and "Opaque" in message and "hint:" in message


def test_library_functions_are_imported_not_copied(tmp_path):
    pytest.importorskip("scipy.special")
    src = tmp_path / "libfuncs.py"
    src.write_text("import numpy as np\nfrom numpy import tanh as th\n"
                   "from scipy.special import erf\n\n"
                   "def f(x):\n    return np.sum(th(x) * erf(x))\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import libfuncs
        x = np.array([0.5, -1.0])
        text = export_source(libfuncs.f, args=(x,))
        assert "from numpy import tanh as th" in text
        assert "from scipy.special import erf" in text
        # (math: the erf rule's constant 2 / math.sqrt(math.pi), a Python float)
        assert "Requires: NumPy, math, scipy.special" in text
        got = run_exported(tmp_path, text, "libfuncs_grad", "f_grad", [x])
        same(got, grad(libfuncs.f)(x))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("libfuncs", None)
