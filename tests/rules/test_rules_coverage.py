"""Every differentiable entry of the rule table is executed by a test: the suite
instantiates its template into generated code (recorded by ``tests/rule_execution.py``),
so a rule without a test that runs it -- a finite-difference test of a function calling
it -- fails here (a rule without a passing test is worse than no rule)."""
import pytest

import rule_execution
from s2sgrad.rules import NONDIFFERENTIABLE, load_optional_families, registered


def test_every_rule_is_executed_by_a_test(request):
    """Runs last (conftest.py); measures the whole session only."""
    why = rule_execution.whole_suite(request.session)
    if why:
        pytest.skip("rule coverage is measured on the whole suite: %s" % why)
    load_optional_families(import_scipy=True)
    missing = sorted({label for family, label, rule in registered()
                      if rule is not NONDIFFERENTIABLE and family not in ("custom", "runtime")
                      and not label.startswith("s2sgrad.")
                      and id(rule) not in rule_execution.EXECUTED})
    assert not missing, ("rules no test executes (add a finite-difference test that "
                         "differentiates a call of each): %s" % ", ".join(missing))


def test_every_template_parses_and_names_its_parameters():
    import inspect

    from s2sgrad.rules import Rule
    seen = set()
    for family, label, rule in registered():
        if not isinstance(rule, Rule) or id(rule) in seen or family == "custom":
            continue
        seen.add(id(rule))
        rule.tree                                     # parses
        params = list(inspect.signature(rule.fn).parameters)[1:]
        for p in rule.differentiable_params():
            assert p in params, "%s: grad[%s] is not a parameter" % (label, p)
