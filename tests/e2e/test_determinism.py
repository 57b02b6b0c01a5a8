"""Determinism: the same function and options give byte-identical generated source in
every run and every process, whatever the hash seed (set iteration order)."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from paths import ROOT, TESTS as HERE  # noqa: E402

# the corpus borrows the functions of two other test modules
for _sub in ("analysis", "api"):
    if os.path.join(HERE, _sub) not in sys.path:
        sys.path.append(os.path.join(HERE, _sub))

# Run in a child process: every generated source for a fixed corpus, by name.
CHILD = r"""
import hashlib, json, os, sys
sys.path[:0] = [%(root)r, %(here)r, os.path.join(%(here)r, 'analysis'), os.path.join(%(here)r, 'api')]
import numpy as np
import s2sgrad
from s2sgrad.back import cache
import progen, test_hygiene, test_concurrency

def corpus():
    for f, make, wrt in test_hygiene.CASES:
        yield f.__name__, f, wrt, make()
    for f in test_concurrency.FUNCS:
        yield f.__name__, f, 0, (np.linspace(-1.0, 1.0, 6).reshape(2, 3),)
    yield "poly", test_concurrency.poly, (0, 1), (np.ones(3), np.ones(3))
    for seed in range(%(nprog)d):
        p = progen.generate(seed, control_flow=seed %% 3 != 0)
        yield "progen%%d" %% seed, p.function(), p.wrt, p.fresh_args()

out = {}
for name, f, wrt, args in corpus():
    for mode in ("grad", "value_and_grad"):
        g = getattr(s2sgrad, mode)(f, wrt=wrt)
        try:
            g(*args)
            src = g.source
        except s2sgrad.S2SGradError as exc:
            src = "error: " + str(exc).splitlines()[0]
        generic = getattr(s2sgrad, mode)(f, wrt=wrt)
        cache.clear()
        try:
            gsrc = generic.source          # the unspecialized version (no probe)
        except s2sgrad.S2SGradError as exc:
            gsrc = "error: " + str(exc).splitlines()[0]
        out["%%s/%%s" %% (name, mode)] = src
        out["%%s/%%s/generic" %% (name, mode)] = gsrc
print(json.dumps(out, sort_keys=True))
"""

N_PROGRAMS = 30


def start_child(hashseed):
    env = dict(os.environ, PYTHONHASHSEED=str(hashseed), S2SGRAD_NO_CACHE="1")
    code = CHILD % dict(root=ROOT, here=HERE, nprog=N_PROGRAMS)
    return subprocess.Popen([sys.executable, "-W", "ignore", "-c", code], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result_of(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def two_runs():
    procs = [start_child(0), start_child(4242)]     # side by side: half the wall time
    return tuple(result_of(p) for p in procs)


def test_byte_identical_across_processes_and_hash_seeds(two_runs):
    a, b = two_runs
    assert sorted(a) == sorted(b)
    assert len(a) >= 4 * N_PROGRAMS
    differ = [k for k in a if a[k] != b[k]]
    if differ:
        k = differ[0]
        import difflib
        diff = "\n".join(difflib.unified_diff(a[k].splitlines(), b[k].splitlines(),
                                              "PYTHONHASHSEED=0", "PYTHONHASHSEED=4242",
                                              lineterm=""))
        pytest.fail("%d of %d generated sources differ between processes; first: %s\n%s"
                    % (len(differ), len(a), k, diff))


def test_corpus_mostly_generates(two_runs):
    a, _ = two_runs
    errors = [k for k, v in a.items() if v.startswith("error:") and "/generic" not in k]
    assert not errors, errors[:5]


def test_same_process_regeneration_is_identical():
    import numpy as np
    import s2sgrad
    from s2sgrad.back import cache
    import test_concurrency
    x, y = np.ones(3), np.linspace(0.1, 0.3, 3)
    first = s2sgrad.grad(test_concurrency.poly, wrt=(0, 1))
    first(x, y)
    cache.clear()
    second = s2sgrad.grad(test_concurrency.poly, wrt=(0, 1))
    second(x, y)
    assert first.source == second.source
    assert hashlib.sha256(first.source.encode()).hexdigest() == \
        hashlib.sha256(second.source.encode()).hexdigest()
