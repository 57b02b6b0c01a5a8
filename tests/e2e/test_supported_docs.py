"""docs/supported.md is generated from the rule table: fail when it is stale."""
import os
import sys

import pytest

from paths import ROOT  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tools"))

import gen_supported  # noqa: E402


def test_supported_page_is_up_to_date():
    pytest.importorskip("scipy")       # the committed page lists the SciPy rules
    with open(gen_supported.PAGE, encoding="utf-8") as f:
        current = f.read()
    assert current == gen_supported.render(), (
        "docs/supported.md is stale: run python tools/gen_supported.py")


def test_every_builtin_rule_is_listed():
    from s2sgrad.rules import registered
    text = gen_supported.render()
    for family, label, rule in registered():
        if family in ("custom", "runtime") or label.startswith("s2sgrad.runtime."):
            continue
        assert "`%s`" % label in text, label
