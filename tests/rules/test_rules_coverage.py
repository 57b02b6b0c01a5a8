"""Every differentiable entry of the rule table is exercised by a finite-difference
test: its name appears in one of the rule test modules (a rule without a passing
test is worse than no rule)."""
import glob
import os

from s2sgrad.rules import NONDIFFERENTIABLE, registered

from paths import TESTS  # noqa: E402


def _tested_text():
    files = glob.glob(os.path.join(TESTS, "**", "test_rules_*.py"), recursive=True)
    files.append(os.path.join(TESTS, "api", "test_custom_adjoint.py"))
    return "".join(open(f, encoding="utf-8").read() for f in files)


def _mentioned(label, text):
    if label.startswith("operator ") or label == "x[index]":
        return True                       # operators: tests/test_rules_ufuncs.py, shape
    if label.startswith("ndarray."):
        return "." + label.split(".", 1)[1] in text
    if label.startswith("scipy.stats."):
        _, _, dist, method = label.split(".")
        return ('"%s"' % dist in text or "stats.%s." % dist in text) and method in text
    if label.startswith("scipy.special."):
        return "special." + label.rsplit(".", 1)[1] in text
    if label.startswith("scipy."):
        return label.split(".", 1)[1].split(".", 1)[1] + "(" in text
    if label in ("np.r_", "np.c_"):
        return label + "[" in text
    return label + "(" in text


def test_every_rule_has_a_test():
    text = _tested_text()
    missing = [label for family, label, rule in registered()
               if rule is not NONDIFFERENTIABLE and family not in ("custom", "runtime")
               and not label.startswith("s2sgrad.") and not _mentioned(label, text)]
    assert not missing, "rules without a finite-difference test: %s" % ", ".join(missing)


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
