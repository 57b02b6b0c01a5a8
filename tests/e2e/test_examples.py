"""Smoke tests: the examples run (quick mode) and the digits MLP reaches its target."""
import os
import subprocess
import sys

import pytest

from paths import ROOT  # noqa: E402
EXAMPLES = os.path.join(ROOT, "examples")


def run(script, *args, cwd, quick=True, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg")
    if quick:
        env["S2SGRAD_EXAMPLES_QUICK"] = "1"
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd=cwd,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def test_mlp_digits_quick(tmp_path):
    for mod in ("sklearn", "matplotlib"):
        pytest.importorskip(mod)
    png = tmp_path / "digits.png"
    proc = run("mlp_digits.py", "--plot", str(png), "--no-progress", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mlp_digits_reaches_95_percent(tmp_path):
    """The full run takes a few seconds: 30 epochs of minibatch Adam."""
    for mod in ("sklearn", "matplotlib"):
        pytest.importorskip(mod)
    png = tmp_path / "digits.png"
    proc = run("mlp_digits.py", "--plot", str(png), "--no-progress", cwd=str(tmp_path),
               quick=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    acc = float(proc.stdout.split("test accuracy")[1].split()[0])
    assert acc >= 0.95


def test_mlp_digits_progress_bar(tmp_path):
    for mod in ("sklearn", "matplotlib", "tqdm"):
        pytest.importorskip(mod)
    proc = run("mlp_digits.py", "--plot", str(tmp_path / "p.png"), cwd=str(tmp_path))
    assert proc.returncode == 0
    assert "epoch" in proc.stderr          # tqdm writes to stderr


def test_scipy_optimize_quick(tmp_path):
    pytest.importorskip("scipy")
    proc = run("scipy_optimize.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "finite differences" in out and "s2sgrad" in out
    assert "def rosenbrock_grad(x):" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("5 ", "10 "))]
    s2s = [r for r in rows if r[1] == "s2sgrad"]
    fd = [r for r in rows if r[1] == "finite"]
    assert s2s and fd
    for a, b in zip(s2s, fd):
        assert int(a[3]) < int(b[4])        # far fewer f evals than finite differences


def test_mlp_digits_loss_shows_in_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "s2sgrad", "show",
                           os.path.join(EXAMPLES, "mlp_digits.py") + ":loss", "--wrt", "W1,b1"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "def loss_grad(W1, b1, W2, b2, X, Y):" in proc.stdout


def test_complex_models_quick(tmp_path):
    proc = run("complex_models.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "def filter_loss_grad(h):" in out
    line = out.split("d loss / d h[0]: s2sgrad ")[1].splitlines()[0]
    s2s, fd = [float(v) for v in line.split(", finite differences ")]
    assert abs(s2s - fd) <= 1e-7 + 1e-5 * abs(fd)
    energies = out.split("E = ")[1]
    e, e0 = float(energies.split(";")[0]), float(energies.split("E0 = ")[1].split()[0])
    assert e0 <= e < e0 + 0.05


def test_outputs_go_to_the_ignored_output_folder(tmp_path):
    for mod in ("sklearn", "matplotlib"):
        pytest.importorskip(mod)
    png = os.path.join(EXAMPLES, "output", "mlp_digits.png")
    if os.path.exists(png):
        os.remove(png)
    proc = run("mlp_digits.py", "--no-progress", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "plot saved to %s" % png in proc.stdout
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.iterdir())           # nothing written where it was run
    if os.path.isdir(os.path.join(ROOT, ".git")) or os.path.isfile(os.path.join(ROOT, ".git")):
        ignored = subprocess.run(["git", "check-ignore", "-q", png], cwd=ROOT)
        assert ignored.returncode == 0, "examples/output/ must be ignored by git"


def test_scipy_optimize_reports_progress(tmp_path):
    pytest.importorskip("scipy")
    proc = run("scipy_optimize.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/4] n=5, s2sgrad:") and lines[-1].startswith("[4/4] n=10,")
    quiet = run("scipy_optimize.py", "--no-progress", cwd=str(tmp_path))
    assert not [line for line in quiet.stderr.splitlines() if line.startswith("[")]
