"""Adjoint comments name only what the generated function has (passes/comments.py)."""
import re

import gast
import numpy as np
import pytest

from s2sgrad import grad


def mlp(W1, b1, W2, b2, X, Y):
    h = np.maximum(np.dot(X, W1) + b1, 0.0)
    s = np.dot(h, W2) + b2
    s = s - np.max(s, axis=1, keepdims=True)
    e = np.exp(s)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(Y * np.log(p)) / X.shape[0]


def logistic(a, x):
    for i in range(20):
        x = a * x * (1.0 - x)
    return x


def branchy(a, b):
    if a * a / 3.0 > 0:
        c = np.sin(a * b) * np.exp(b)
    else:
        c = a + b
    return c * c


def _cases():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5))
    Y = np.eye(3)[rng.integers(0, 3, 8)]
    yield mlp, (0, 1, 2, 3), (rng.normal(size=(5, 4)), rng.normal(size=4),
                              rng.normal(size=(4, 3)), rng.normal(size=3), X, Y)
    yield logistic, (0, 1), (3.2, 0.3)
    yield branchy, (0, 1), (1.5, 0.7)


@pytest.mark.parametrize("f,wrt,args", list(_cases()), ids=lambda v: getattr(v, "__name__", ""))
def test_comments_name_only_existing_values(f, wrt, args):
    g = grad(f, wrt=wrt)
    g(*args)
    src = g.source
    code_part = "\n".join(line.split("  #")[0] for line in src.splitlines())
    tree = gast.parse(code_part)
    known = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
    known |= {"np", "range", "reversed"}
    stale = []
    for line in src.splitlines():
        if "  # " not in line:
            continue
        comment = line.split("  # ", 1)[1]
        for stmt in re.findall(r"(?:^|; )(.*?)  \(line \d+\)(?=; |$)", comment):
            if stmt.startswith(("for ", "if ", "while ")):
                stmt += "\n    pass"
            names = {n.id for n in gast.walk(gast.parse(stmt)) if isinstance(n, gast.Name)}
            stale += sorted(names - known)
    assert not stale, "comments mention names the code no longer has: %s\n%s" % (stale, src)


def test_spelled_out_from_definitions_as_from_the_text():
    """A comment on a single assignment is rebuilt from the definition (not parsed
    back): the same text, also for a folded negative constant (Constant(-2), which
    parses back as -(2)) and a chained assignment (parsed, as before)."""
    from s2sgrad import astutil as A
    from s2sgrad.back.emit import to_source
    from s2sgrad.passes.comments import refresh_comments, trace_definitions
    trace = A.parse("def f(x):\n    t0 = x ** 2\n    t1 = t0 * 3.0\n    a = b = t1\n"
                    "    return a\n").body[0]
    trace.body[0].value.right = gast.Constant(value=-2, kind=None)
    defs = trace_definitions(trace.body)
    fn = A.parse("def g(x):\n    out = x ** -2 * 3.0\n    return out\n").body[0]
    fn.body[0].s2s_comment = "; ".join("%s  (line %d)" % (to_source(s).strip(), k + 2)
                                       for k, s in enumerate(trace.body[:3]))
    refresh_comments(fn, defs)
    assert fn.body[0].s2s_comment == \
        "x ** -2  (line 2); x ** -2 * 3.0  (line 3); x ** -2 * 3.0  (line 4)"
    assert gast.dump(defs["t0"]) == gast.dump(trace.body[0].value)    # definitions unedited
