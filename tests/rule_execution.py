"""Which entries of the derivative table the test session executes.

A rule is executed when the compiler instantiates its template into generated code
(``s2sgrad.rules.templates._template``, called once per statement a rule
differentiates).  ``conftest.py`` installs the recorder before any test runs and puts
``tests/rules/test_rules_coverage.py`` last; that test fails on a differentiable rule
no test executed -- a label appearing in a test's text is not enough.
"""
import glob
import os

from paths import TESTS

EXECUTED = {}           # id(rule) -> rule
FRESH_CACHE = [False]   # every generation of the session compiled (no disk-cache hit)
COVERAGE_TEST = "test_every_rule_is_executed_by_a_test"


def install(fresh_cache: bool) -> None:
    from s2sgrad.rules import templates
    original = templates._template
    if getattr(original, "_s2s_recording", False):
        return

    def recording(rule):
        EXECUTED[id(rule)] = rule
        return original(rule)

    recording._s2s_recording = True
    templates._template = recording
    FRESH_CACHE[0] = fresh_cache


def order_last(items) -> None:
    """The coverage test after every other test."""
    last = [i for i in items if i.name == COVERAGE_TEST]
    items[:] = [i for i in items if i.name != COVERAGE_TEST] + last


def whole_suite(session) -> str:
    """'' when the session runs every test file with no selection, else why not."""
    config = session.config
    if config.getoption("keyword", "") or config.getoption("markexpr", ""):
        return "tests were deselected (-k/-m)"
    if not FRESH_CACHE[0]:
        return "the disk cache was given (S2SGRAD_CACHE_DIR): hits compile nothing"
    collected = {os.path.abspath(str(i.fspath)) for i in session.items}
    files = {os.path.abspath(f)
             for f in glob.glob(os.path.join(TESTS, "**", "test_*.py"), recursive=True)}
    if files - collected:
        return "only part of the suite runs (%d of %d test files)" % (
            len(files & collected), len(files))
    return ""
