"""The package's layers hold: import-linter's contracts in pyproject.toml (layers, no
cycles, a NumPy-only runtime, rules that know no pass or mode, a core that never imports
the tools) pass on the source tree, and every subpackage is shipped by the build."""
import os
import shutil
import subprocess
import sys

import pytest

from paths import ROOT

importlinter = pytest.importorskip(
    "importlinter", reason="import-linter (the test extra, Python >= 3.11) checks the layers")


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or os.path.join(os.path.dirname(sys.executable),
                                                       "lint-imports")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([exe, os.path.join(ROOT, "pyproject.toml"), "--no-cache"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "0 broken" in run.stdout


def test_every_subpackage_is_a_package_the_build_finds():
    """pyproject's packages.find ships a folder only if it has an __init__.py."""
    missing = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, "s2sgrad")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if any(f.endswith(".py") for f in filenames) and "__init__.py" not in filenames:
            missing.append(os.path.relpath(dirpath, ROOT))
    assert not missing, "folders without __init__.py (not shipped): %s" % missing
