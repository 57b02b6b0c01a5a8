"""Shared pytest setup: make ``import s2sgrad`` (repo root) and ``from gradcheck import
check_grad`` (this directory) work with a plain ``python -m pytest`` from the repo root.

The suite uses a private, throw-away on-disk gradient cache (unless S2SGRAD_CACHE_DIR or
S2SGRAD_NO_CACHE is already set), so test runs neither read nor fill ~/.cache/s2sgrad.
Which rules the tests execute is recorded (``rule_execution.py``) for the coverage test.
"""
import atexit
import os
import shutil
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
for _p in (_HERE, _ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# every generation compiles (no entry from an earlier session): the rule-coverage test counts
_FRESH_CACHE = "S2SGRAD_CACHE_DIR" not in os.environ or \
    os.environ.get("S2SGRAD_NO_CACHE", "") not in ("", "0")
if "S2SGRAD_CACHE_DIR" not in os.environ and "S2SGRAD_NO_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="s2sgrad-test-cache-")   # mode 0700, as diskcache wants
    os.environ["S2SGRAD_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)


import rule_execution  # noqa: E402  (after the paths above)

rule_execution.install(fresh_cache=_FRESH_CACHE)


def pytest_collection_modifyitems(session, config, items):
    rule_execution.order_last(items)
