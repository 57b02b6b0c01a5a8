"""The API reference (docs/api.md) is generated from the docstrings, every public
function documents itself with an example, and the documentation site builds with
``mkdocs build --strict`` (a broken link or a missing page fails)."""
import inspect
import os
import shutil
import subprocess
import sys

import pytest

import s2sgrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(s2sgrad.__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import gen_api  # noqa: E402


def test_api_page_is_up_to_date():
    with open(gen_api.PAGE, encoding="utf-8") as f:
        current = f.read()
    assert current == gen_api.render(), "docs/api.md is stale: run python tools/gen_api.py"


def test_every_public_name_is_documented_with_an_example():
    for name in gen_api.public_names():
        obj = getattr(s2sgrad, name)
        doc = inspect.getdoc(obj) or ""
        assert len(doc.splitlines()) >= 2, name
        if not inspect.isclass(obj):
            assert ">>>" in doc, "%s has no example in its docstring" % name


def test_help_of_grad_is_a_real_page():
    import pydoc
    text = pydoc.render_doc(s2sgrad.grad, renderer=pydoc.plaintext)
    assert len(text.splitlines()) > 30
    for word in ("has_aux", "argnums", "wrt", ">>>"):
        assert word in text


def _mkdocs():
    pytest.importorskip("mkdocs")
    exe = shutil.which("mkdocs")
    return [exe] if exe else [sys.executable, "-m", "mkdocs"]


def _build(root, site):
    return subprocess.run(_mkdocs() + ["build", "--strict", "-f", os.path.join(root, "mkdocs.yml"),
                                       "-d", str(site)],
                          capture_output=True, text=True, timeout=300)


def test_site_builds_strictly(tmp_path):
    proc = _build(ROOT, tmp_path / "site")
    # a page added under docs/ must also be listed in mkdocs.yml's nav
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_site_build_fails_on_a_broken_link(tmp_path):
    _mkdocs()
    shutil.copy(os.path.join(ROOT, "mkdocs.yml"), tmp_path / "mkdocs.yml")
    shutil.copytree(os.path.join(ROOT, "docs"), tmp_path / "docs")
    with open(tmp_path / "docs" / "jupyter.md", "a", encoding="utf-8") as f:
        f.write("\nSee [the missing page](no_such_page.md).\n")
    proc = _build(str(tmp_path), tmp_path / "site")
    assert proc.returncode != 0
    assert "no_such_page.md" in proc.stdout + proc.stderr
