"""A match statement on a gast without match nodes (gast < 0.5.4, the Python 3.9 CI
row's 0.5.3) is a clear S2SGradError naming the line, not an AttributeError from
inside the compiler. The branch is tested where gast has match nodes by hiding them."""
import ast
import importlib.util
import sys
import textwrap

import gast
import numpy as np
import pytest

from s2sgrad import grad
from s2sgrad.errors import S2SGradError, UnsupportedSyntaxError
from s2sgrad.front.parse import SourceInfo, check_gast_reads

needs_match_syntax = pytest.mark.skipif(sys.version_info < (3, 10),
                                        reason="match needs Python 3.10")

SOURCE = textwrap.dedent("""
    import numpy as np

    def act(x, kind):
        match kind:
            case 'relu':
                y = np.maximum(x, 0.0)
            case _:
                y = np.tanh(x)
        return np.sum(y)
""")


def _module(tmp_path, name):
    path = tmp_path / (name + ".py")
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_match_syntax
def test_match_without_gast_match_nodes_is_a_clear_error(tmp_path, monkeypatch):
    module = _module(tmp_path, "match_old_gast_user")
    monkeypatch.setenv("S2SGRAD_NO_CACHE", "1")
    if hasattr(gast, "Match"):
        monkeypatch.delattr(gast, "Match")      # as gast 0.5.3 is
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(module.act)(np.array([1.0, -2.0]), 'relu')
    err = info.value
    assert isinstance(err, S2SGradError)
    assert "gast >= 0.5.4" in err.message
    assert err.function == "act" and err.lineno == 5 and err.source_line == "match kind:"


@needs_match_syntax
def test_the_same_code_differentiates_where_gast_reads_match(tmp_path, monkeypatch):
    if not hasattr(gast, "Match"):
        pytest.skip("this gast has no match nodes")
    module = _module(tmp_path, "match_new_gast_user")
    monkeypatch.setenv("S2SGRAD_NO_CACHE", "1")
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(grad(module.act)(x, 'relu'), (x > 0).astype(float))
    np.testing.assert_allclose(grad(module.act)(x, 'tanh'), 1 - np.tanh(x) ** 2)


def test_no_match_statement_passes_the_check(monkeypatch):
    if hasattr(gast, "Match"):
        monkeypatch.delattr(gast, "Match")
    tree = ast.parse("def f(x):\n    return x * 2\n")
    check_gast_reads(tree, SourceInfo("f", "f.py", 1, ["def f(x):", "    return x * 2"]))
