"""Concurrency: many threads decorating and calling the same and different functions at
once get correct results, one generation per key, and no deadlock; several processes
sharing a cold disk cache agree."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import s2sgrad
from s2sgrad.back import cache

TIMEOUT = 120
from paths import ROOT  # noqa: E402


@pytest.fixture(autouse=True)
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("S2SGRAD_CACHE_DIR", str(tmp_path / "cache"))
    cache.clear()
    yield
    cache.clear()


def run_threads(n, target):
    """Start ``n`` threads on ``target(k)`` at the same instant; return their results."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def work(k):
        try:
            barrier.wait()
            results[k] = target(k)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append((k, exc))
    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "deadlock: threads still running"
    assert not errors, errors[:3]
    return results


def poly(x, y):
    z = np.tanh(x * y) + x * x
    for i in range(3):
        z = z * 0.5 + np.sin(z) * y
    return np.sum(z)


def f0(x):
    return np.sum(np.exp(0.1 * x) * x)


def f1(x):
    return np.sum(np.sin(x) * np.cos(x))


def f2(x):
    return np.sum(x ** 3) / 3.0


def f3(x):
    return np.mean(np.tanh(x) * x)


def f4(x):
    h = x * 1.0
    if np.sum(x) > 0.0:
        h = h * h
    return np.sum(h)


def f5(x):
    return np.sum(np.maximum(x, 0.25) * x)


FUNCS = [f0, f1, f2, f3, f4, f5]


def reference(fn, *args, wrt=0):
    cache.clear()
    os.environ["S2SGRAD_NO_CACHE"] = "1"
    try:
        return s2sgrad.grad(fn, wrt=wrt)(*args)
    finally:
        del os.environ["S2SGRAD_NO_CACHE"]
        cache.clear()


def test_one_function_many_threads_one_generation():
    x, y = np.linspace(-1, 1, 5), np.linspace(0.5, 1.5, 5)
    expected = reference(poly, x, y, wrt=(0, 1))
    shared = s2sgrad.grad(poly, wrt=(0, 1))
    before = cache.generation_count

    def work(k):
        g = shared if k % 2 else s2sgrad.grad(poly, wrt=(0, 1))   # shared and own wrappers
        return [g(x, y) for _ in range(5)]
    for calls in run_threads(16, work):
        for got in calls:
            for a, b in zip(got, expected):
                np.testing.assert_array_equal(a, b)
    assert cache.generation_count - before == 1


def test_different_functions_and_signatures_at_once():
    shapes = [(3,), (2, 3), (4,)]
    expected = {(f.__name__, s): reference(f, np.linspace(-1, 1, int(np.prod(s))).reshape(s))
                for f in FUNCS for s in shapes}
    before = cache.generation_count

    def work(k):
        out = {}
        for j in range(len(FUNCS) * len(shapes)):
            f = FUNCS[(k + j) % len(FUNCS)]
            s = shapes[(k + j // len(FUNCS)) % len(shapes)]
            x = np.linspace(-1, 1, int(np.prod(s))).reshape(s)
            out[(f.__name__, s)] = s2sgrad.grad(f)(x)
        return out
    for res in run_threads(12, work):
        for key, got in res.items():
            np.testing.assert_array_equal(got, expected[key])
    assert cache.generation_count - before == len(FUNCS) * len(shapes)


def test_decorating_while_others_call():
    x = np.linspace(-1, 1, 4)

    def work(k):
        f = FUNCS[k % len(FUNCS)]
        results = []
        for _ in range(3):
            g = s2sgrad.value_and_grad(f) if k % 3 == 0 else s2sgrad.grad(f)
            r = g(x)
            results.append(r[1] if k % 3 == 0 else r)
            _ = g.source
        return f.__name__, results
    expected = {f.__name__: reference(f, x) for f in FUNCS}
    for name, results in run_threads(18, work):
        for r in results:
            np.testing.assert_array_equal(r, expected[name])


def test_errors_under_concurrency_are_clean():
    def bad(x):
        return x * 2.0          # not scalar: every thread gets the same clear error

    def work(k):
        try:
            s2sgrad.grad(bad)(np.ones(3))
        except s2sgrad.NonScalarOutputError as exc:
            return str(exc)
        return None
    messages = run_threads(8, work)
    assert all(m is not None and "scalar" in m for m in messages)


def test_processes_sharing_a_cold_disk_cache(tmp_path):
    mod = tmp_path / "conc_mod.py"
    mod.write_text(textwrap.dedent("""
        import numpy as np

        def f(x, y):
            return np.sum(np.tanh(x * y) * x)
    """))
    child = textwrap.dedent("""
        import sys, json
        sys.path[:0] = [%r, %r]
        import numpy as np, s2sgrad
        import conc_mod
        g = s2sgrad.grad(conc_mod.f, wrt=(0, 1))
        gx, gy = g(np.linspace(-1, 1, 6), np.linspace(0.5, 2, 6))
        print(json.dumps([gx.tolist(), gy.tolist()]))
    """ % (ROOT, str(tmp_path)))
    env = dict(os.environ, S2SGRAD_CACHE_DIR=str(tmp_path / "shared-cache"))
    env.pop("S2SGRAD_NO_CACHE", None)
    procs = [subprocess.Popen([sys.executable, "-c", child], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=TIMEOUT)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    assert all(o == outs[0] for o in outs)
    # The racers left one complete entry (atomic renames, no temporaries).
    names = os.listdir(str(tmp_path / "shared-cache"))
    assert len(names) == 1 and names[0].endswith(".s2s"), names
    from s2sgrad.back import diskcache
    with open(str(tmp_path / "shared-cache" / names[0]), "rb") as fh:
        entry = diskcache._parse_entry(fh.read())
    assert entry is not None and "def f_grad(x, y):" in entry["source"]
