"""The s2sgrad command, run as ``python -m s2sgrad`` in a subprocess."""
import os
import subprocess
import sys
import textwrap

import pytest

from paths import ROOT  # noqa: E402

MODEL = textwrap.dedent("""\
    import numpy as np

    SCALE = 2.0

    def neuron(w0, x0, w1, x1, w2):
        s = w0 * x0 + w1 * x1 + w2
        return 1.0 / (1.0 + np.exp(-s))

    def loss(W, b, X, y):
        h = np.tanh(X @ W + b)
        return SCALE * np.sum((h - y) ** 2)

    def wrong(x):
        return np.sum(x ** 2)

    def vector(x):
        return x * 2.0
    """)


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "s2sgrad", *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_here(*args):
    """``s2sgrad ...`` in this process (fast); sys.path and sys.modules are restored."""
    import contextlib
    import io
    from s2sgrad.tools.cli import main
    out, err = io.StringIO(), io.StringIO()
    path, modules = list(sys.path), set(sys.modules)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:          # argparse usage errors
                code = exc.code
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if not name.startswith(("s2sgrad", "numpy", "scipy", "pygments")):
                del sys.modules[name]
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return str(path)


def no_traceback(proc):
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_help_lists_commands():
    proc = run("--help")
    assert proc.returncode == 0
    for word in ("show", "export", "check", "FILE.py:FUNCTION"):
        assert word in proc.stdout
    for cmd in ("show", "export", "check"):
        sub = run(cmd, "--help")
        assert sub.returncode == 0 and "--wrt" in sub.stdout and "--args" in sub.stdout


def test_show_generic_plain_when_piped(model):
    proc = run("show", model + ":neuron", "--wrt", "0,1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("def neuron_grad(w0, x0, w1, x1, w2):")
    assert "\x1b[" not in proc.stdout            # piped: no colour codes
    assert "return" in proc.stdout


def test_show_color_always_highlights(model):
    pytest.importorskip("pygments")
    proc = run("show", model + ":neuron", "--color", "always")
    assert proc.returncode == 0 and "\x1b[" in proc.stdout


def test_show_wrt_names_and_args_specializes(model):
    proc = run("show", model + ":loss", "--wrt", "W,b",
               "--args", "np.ones((3, 2)), np.zeros(2), np.ones((4, 3)), np.zeros((4, 2))")
    assert proc.returncode == 0, proc.stderr
    assert "def loss_grad(W, b, X, y):" in proc.stdout
    assert "unbroadcast" not in proc.stdout       # specialized: plain NumPy
    assert "return grad_W, grad_b" in proc.stdout


def test_show_forward_mode_is_wired_or_says_unavailable(model):
    proc = run("show", model + ":neuron", "--mode", "forward")
    no_traceback(proc)
    if proc.returncode != 0:
        assert "forward mode" in proc.stderr


@pytest.mark.parametrize("target, needle", [
    ("missing.py:f", "file not found"),
    ("{model}:nope", "has no function 'nope'"),
    ("{model}", "expected FILE.py:FUNCTION"),
])
def test_errors_say_what_to_do(model, target, needle):
    proc = run_here("show", target.format(model=model))
    assert proc.returncode == 2
    assert needle in proc.stderr and "hint:" in proc.stderr
    no_traceback(proc)


@pytest.mark.parametrize("wrt, needle", [("7", "out of range"), ("zz", "'zz' is not a parameter"),
                                         ("0,,1", "empty entry")])
def test_bad_wrt(model, wrt, needle):
    proc = run_here("show", model + ":neuron", "--wrt", wrt)
    assert proc.returncode == 2
    assert needle in proc.stderr and "hint:" in proc.stderr
    no_traceback(proc)


def test_missing_function_lists_the_ones_there(model):
    proc = run_here("show", model + ":nope")
    assert "neuron" in proc.stderr and "loss" in proc.stderr


def test_bad_args_expression(model):
    proc = run_here("check", model + ":neuron", "--args", "1.0, (")
    assert proc.returncode == 2 and "cannot evaluate --args" in proc.stderr
    no_traceback(proc)


def test_wrong_number_of_args(model):
    proc = run_here("check", model + ":neuron", "--args", "1.0, 2.0")
    assert proc.returncode == 2 and "takes 5 argument(s)" in proc.stderr


def test_check_passes_with_table(model):
    proc = run("check", model + ":neuron", "--args", "2.0, -1.0, -3.0, -2.0, -3.0")
    assert proc.returncode == 0, proc.stderr
    assert "all gradients match" in proc.stdout
    for name in ("w0", "x0", "w1", "x1", "w2"):
        assert name in proc.stdout
    assert "max abs err" in proc.stdout


def test_check_arrays_and_args_file(model, tmp_path):
    args = tmp_path / "args.py"
    args.write_text("rng = np.random.default_rng(0)\n"
                    "args = (rng.normal(size=(3, 2)), np.zeros(2), rng.normal(size=(5, 3)),"
                    " rng.normal(size=(5, 2)))\n")
    proc = run_here("check", model + ":loss", "--args-file", str(args), "--wrt", "W,b")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "W " in proc.stdout and "3x2" in proc.stdout


def test_check_detects_a_wrong_gradient(model, tmp_path):
    # A rule deliberately broken in the user's module: d/dx of x**2 reported as 3x.
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent("""\
        import numpy as np
        import s2sgrad.api.gradient as api

        def f(x):
            return np.sum(x ** 2)

        _orig = api.GradientFunction.__call__
        def _broken(self, *args, **kwargs):
            g = _orig(self, *args, **kwargs)
            return tuple(1.5 * gi for gi in g) if isinstance(g, tuple) else 1.5 * g
        api.GradientFunction.__call__ = _broken
        """))
    proc = run("check", str(bad) + ":f", "--args", "np.arange(3.0)")
    assert proc.returncode == 1
    assert "MISMATCH" in proc.stdout
    no_traceback(proc)


def test_check_needs_args(model):
    proc = run_here("check", model + ":neuron")
    assert proc.returncode == 2 and "--args" in proc.stderr


def test_check_non_scalar_output(model):
    proc = run_here("check", model + ":vector", "--args", "np.ones(3)")
    assert proc.returncode == 1 and "scalar" in proc.stderr
    no_traceback(proc)


def test_int_args_note(model):
    proc = run_here("check", model + ":neuron", "--args", "2, -1.0, -3.0, -2.0, -3.0")
    assert proc.returncode == 0
    assert "not differentiating w0" in proc.stderr


def test_import_error_in_user_file_is_reported(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\nx = undefined_name\n\ndef f(x):\n    return x\n")
    proc = run_here("show", str(path) + ":f")
    assert proc.returncode == 1
    assert "NameError" in proc.stderr and "line 2" in proc.stderr
    no_traceback(proc)


def test_unsupported_construct_reports_s2sgrad_error(tmp_path):
    path = tmp_path / "uns.py"
    path.write_text("def f(x):\n    try:\n        return x * x\n    except Exception:\n"
                    "        return x\n")
    proc = run_here("show", str(path) + ":f")
    assert proc.returncode == 1
    assert "s2sgrad:" in proc.stderr and "try" in proc.stderr
    no_traceback(proc)


def test_export_writes_module(model, tmp_path):
    out = tmp_path / "neuron_grad.py"
    proc = run("export", model + ":neuron", "--wrt", "0,1,2,3,4", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "s2sgrad export" in text and "sha256" in text
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports and not [line for line in imports if "s2sgrad" in line]


def test_export_to_stdout(model):
    proc = run_here("export", model + ":neuron")
    assert proc.returncode == 0 and "def neuron_grad" in proc.stdout


def test_console_script_entry_point_is_main():
    from s2sgrad.tools import cli
    assert callable(cli.main)
    proc = run("--version")
    assert proc.returncode == 0 and "s2sgrad" in proc.stdout


def test_explain_command(model, tmp_path):
    dot = tmp_path / "g.dot"
    proc = run("explain", model + ":neuron", "--args", "2.0, -1.0, -3.0, -2.0, -3.0",
               "--dot", str(dot), "--code")
    assert proc.returncode == 0, proc.stderr
    assert "mul swaps" in proc.stdout and "-0.197" in proc.stdout, proc.stdout
    assert "grad_w0" in proc.stdout
    assert dot.read_text().startswith("digraph neuron")


def test_explain_needs_args(model):
    proc = run_here("explain", model + ":neuron")
    assert proc.returncode == 2 and "--args" in proc.stderr


def test_decorated_function_keeps_its_wrt(tmp_path):
    path = tmp_path / "deco.py"
    path.write_text("import numpy as np\nfrom s2sgrad import grad\n\n"
                    "@grad(wrt=(1, 2))\ndef f(x, y, z):\n    return np.sum(x * y * z)\n")
    proc = run_here("show", str(path) + ":f")
    assert proc.returncode == 0, proc.stderr
    assert "return as_gradient(grad_y, y), as_gradient(grad_z, z)" in proc.stdout


def test_pyproject_script_points_at_main():
    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert 's2sgrad = "s2sgrad.tools.cli:main"' in text
    from s2sgrad.tools.cli import main
    assert main(["show", "/nonexistent.py:f"]) == 2
