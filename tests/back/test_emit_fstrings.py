"""f-strings are printed by s2sgrad itself, never through astor 0.8.1's f-string code,
which tells literal parts by isinstance(value, ast.Str): a DeprecationWarning on
Python 3.12 / 3.13 and an AttributeError on 3.14, where ast.Str is gone.  The tests
make any use of ast.Str fail (a stand-in class that raises), as on 3.14."""
import ast
import warnings

import gast
import numpy as np
import pytest

import s2sgrad
from s2sgrad.back.emit import to_source


class _Gone(type):
    def __instancecheck__(cls, obj):
        raise AssertionError("ast.Str was used (removed in Python 3.14)")


class _Str(metaclass=_Gone):
    pass


@pytest.fixture(autouse=True)
def python_314_ast(monkeypatch):
    with warnings.catch_warnings():
        # (monkeypatch reads the old value: ast.Str & co. warn on 3.12 / 3.13)
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in ("Str", "Num", "Bytes", "NameConstant", "Ellipsis"):
            monkeypatch.setattr(ast, name, _Str, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        yield


SOURCES = [
    'y = f"a{x}b"',
    'y = f"{x!r:>{w}} {{literal braces}}"',
    "y = f\"{d['k']:.3f}\"",
    'print(f"loss {loss:.4f}, step {i + 1}")',
    'z = {"k": f"{x + 1}", "j": [f"{a}{b}"]}',       # inside a node astor prints
    "f = lambda a: f'{a}-{a!s}'",                     # idem
    'y = f"{x=}"',
    'y = f"{ {1: 2}[1] }"',
]


@pytest.mark.parametrize("src", SOURCES)
def test_fstrings_print_back_to_the_same_tree(src):
    node = gast.parse(src).body[0]
    out = to_source(node).strip()
    assert "\n" not in out
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(src)), out


def label_loop(x, n):
    s = 0.0
    names = []
    for i in range(n):
        names.append(f"step {i}: {x!r:>8}")
        s = s + x * np.sin(x)
    return s


def test_function_with_fstrings_differentiates_and_prints():
    g = s2sgrad.grad(label_loop)
    x = 0.7
    assert abs(g(x, 3) - 3 * (np.sin(x) + x * np.cos(x))) < 1e-12
    # the generic version keeps the f-string line (nothing removes it without shapes)
    assert "def label_loop_grad" in s2sgrad.grad(label_loop).source
