"""templates.py: rule templates compiled once into builders give what substituting
into the template tree node by node gives."""
import gast
import numpy as np

from s2sgrad import astutil as A
from s2sgrad.rules import templates as T
from s2sgrad.rules import Rule, load_optional_families, registered


def _expressions(stmts):
    """Every expression a template substitutes (both sides of each static ``if``)."""
    for s in stmts:
        if isinstance(s, gast.If):
            yield from _expressions(s.body)
            yield from _expressions(s.orelse)
        elif isinstance(s, (gast.Assign, gast.AugAssign)):
            yield s.value
            target = s.targets[0] if isinstance(s, gast.Assign) else s.target
            if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Subscript):
                yield target.slice          # grad[x][index] += ...


def _substitute(rule, allocated):
    """A substitution for ``rule``: parameters bound to names, upstream ``g``, template
    globals resolved to fresh names (recorded in ``allocated``, in order)."""
    mapping = {p: A.load("arg_" + p) for p in rule.params}
    mapping[rule.result_param] = A.load("out")

    def global_name(name):
        if name in ("np", "len", "slice", "range", "tuple", "None"):
            return None
        allocated.append(name)
        return "%s_%d" % (name, len(allocated))

    return T._Substitute(mapping, A.load("g"), rule.result_param, global_name, {"axis": 1})


def test_builders_build_what_substitution_builds_for_every_rule():
    load_optional_families()
    rules = {id(r): r for _, _, r in registered() if isinstance(r, Rule)}
    checked = 0
    for rule in rules.values():
        for expr in _expressions(rule.tree.body):
            by_node, by_builder = [], []
            expected = _substitute(rule, by_node).copy(expr)
            got = T._compile_expr(expr, rule.result_param)(_substitute(rule, by_builder))
            assert gast.dump(got) == gast.dump(expected), rule
            assert by_builder == by_node, rule      # globals resolved in the same order
            checked += 1
    assert checked > 300


def test_builders_copy_the_call_site_atoms():
    rule = T.Rule(_multiply_template, "elementwise", "multiply")
    x = A.load("x")
    sub = T._Substitute({"x": x, "y": A.load("y"), "result": A.load("r")}, A.load("g"),
                        "result", lambda name: None, {})
    built = [c[2](sub) for c in T._template(rule).body]      # ("contribution", y, value)
    assert len(built) == 2
    first = built[0]
    assert first.right is not x and first.right.id == "x"       # a copy, not the atom
    assert first.left.id == "g" and first.left is not sub.upstream


def _multiply_template(result, x, y):
    grad[y] = grad[result] * x                       # noqa: F821 (template notation)
    grad[x] = grad[result] * y                       # noqa: F821


def test_prune_without_temporaries_keeps_the_wanted_contributions_in_order():
    pieces = [T.Contribution("x", A.load("a")), T.Contribution("y", A.load("b")),
              T.Contribution("x", A.load("c"))]
    assert T.prune(pieces, ["x"]) == [pieces[0], pieces[2]]
    temp = T.Temp(A.assign("t0", A.load("a")))
    pieces = [temp, T.Contribution("x", A.load("t0")), T.Contribution("y", A.load("b"))]
    assert T.prune(pieces, ["y"]) == [pieces[2]]
    assert T.prune(pieces, ["x"]) == [temp, pieces[1]]


def _model(W, b, X, Y):
    h = np.tanh(X @ W + b)
    m = np.max(h, axis=1, keepdims=True)
    s = np.sum(np.exp(h - m), axis=1)
    return np.mean(s * Y) + np.sum(W ** 2) / W.size + np.dot(b, b)


def test_specialize_skips_only_expressions_it_would_leave_unchanged(monkeypatch):
    """An expression that calls no specialized helper comes back as it was: visiting
    it anyway changes nothing (checked on every contribution of a gradient)."""
    from s2sgrad.ad import pipeline
    from s2sgrad.ad.reverse import builder as reverse
    from s2sgrad.ad import specialize as S
    seen = []
    original = S.specialize

    def recording(expr, builder, temps=None):
        names = builder.b.helper_names
        helper_of = {v: k for k, v in names.items()}
        skipped = not S._calls_specialized(expr, helper_of, builder.b.numpy_name)
        before = gast.dump(expr)
        if skipped:
            visited = S._Specialize(S._Ctx(builder, []), helper_of,
                                    builder.b.numpy_name).visit(A.clone(expr))
            assert gast.dump(visited) == before
        seen.append(skipped)
        return original(expr, builder, temps)

    monkeypatch.setattr(S, "specialize", recording)
    monkeypatch.setattr(reverse, "specialize", recording)
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((5, 4)),
            rng.standard_normal(5))
    pipeline.generate_gradient(_model, (0, 1), "grad", args)
    assert True in seen and False in seen
