"""A template is compiled, not called, but the names it reads that are not its parameters
resolve in the globals of its module: a family module whose reverse rule is named like a
builtin (``def sum(result, a, ...)`` for np.sum) must not hold a template that calls that
builtin (the generated code called the Rule object: forward mode of ``sum(items)``)."""
import builtins

import gast

import s2sgrad.api.transforms  # noqa: F401  (registers every table: rules, tangents, core)
from s2sgrad.rules import Rule, load_optional_families, registry, tangents


def all_templates():
    load_optional_families(import_scipy=True)
    found = {id(r): r for _, r in registry._BY_OBJECT.values() if isinstance(r, Rule)}
    for table in (registry._METHODS, registry._ATTRIBUTES, registry._OPERATORS, tangents._TABLE):
        found.update({id(r): r for r in table.values() if isinstance(r, Rule)})
    return list(found.values())


def test_no_template_reads_a_rule_object():
    wrong = []
    for rule in all_templates():
        local = set(rule.params) | {rule.result_param} | {
            n.id for n in gast.walk(rule.tree)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        for n in gast.walk(rule.tree):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id not in local:
                value = rule.fn.__globals__.get(n.id, getattr(builtins, n.id, None))
                if isinstance(value, Rule):
                    wrong.append("%s.%s reads %r" % (rule.fn.__module__, rule.fn.__name__, n.id))
    assert not wrong, wrong
