"""Functions defined in IPython %%time / %%timeit cells (compiled by the magics under
'<timed exec>' / '<magic-timeit>', files no cache holds): s2sgrad finds their text
on the running magic's frame or in the shell's input history."""
import numpy as np
import pytest

pytest.importorskip("IPython")


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    assert sh.run_cell("import numpy as np\nimport s2sgrad\n", store_history=True).success
    try:
        yield sh
    finally:
        InteractiveShell.clear_instance()


def run(sh, cell):
    result = sh.run_cell(cell, store_history=True)
    assert result.success, result.error_in_exec or result.error_before_exec
    return sh.user_ns


def test_time_cell_defines_and_differentiates(shell):
    ns = run(shell, "%%time\n"
                    "x = np.array([0.3, -1.2, 2.0])\n"
                    "\n"
                    "def f(x):\n"
                    "    return np.sum(np.sin(x) ** 2)\n"
                    "g = s2sgrad.grad(f)(x)\n")
    x = ns["x"]
    np.testing.assert_allclose(ns["g"], 2 * np.sin(x) * np.cos(x), rtol=1e-14)
    assert "np.sin(x)" in ns["s2sgrad"].grad(ns["f"]).source


def test_function_from_a_time_cell_used_in_a_later_cell(shell):
    run(shell, "%%time\n"
               "@s2sgrad.grad\n"
               "def dcube(x):\n"
               "    return x ** 3\n")
    run(shell, "def unrelated(y):\n    return y\n")
    run(shell, "%%time\n"
               "def other(z):\n"
               "    return z * 2.0\n")
    ns = run(shell, "d = dcube(2.0)\nsrc = dcube.source\n")
    assert ns["d"] == 12.0
    assert "def dcube_grad(x):" in ns["src"]


def test_timeit_cell(shell):
    ns = run(shell, "%%timeit -n1 -r1\n"
                    "def h(x):\n"
                    "    return np.sum(np.cos(x) ** 2)\n"
                    "global gh\n"
                    "gh = s2sgrad.grad(h)(np.array([0.5, 1.0]))\n")
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(ns["gh"], -2 * np.cos(x) * np.sin(x), rtol=1e-14)


def test_unfindable_cell_is_still_a_clear_error(shell):
    import s2sgrad
    run(shell, "%%time\n"
               "def lost(x):\n"
               "    return x * x\n")
    # the history no longer has the cell: the source cannot be read, and says so
    shell.history_manager.input_hist_raw[:] = []
    with pytest.raises(s2sgrad.SourceUnavailableError, match="<timed exec>"):
        s2sgrad.grad(shell.user_ns["lost"])(1.0)
