"""The disk cache: right key, atomic and checked entries, a trusted directory only."""
import importlib.util
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import s2sgrad
from s2sgrad.back import cache, diskcache

pytestmark = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership checks")

from paths import ROOT  # noqa: E402

MODULE = '''
import numpy as np

def f(x, y):
    z = np.sin(x) * y + np.exp(x) / (1.0 + y * y)
    return np.sum(z * z)
'''


@pytest.fixture
def cachedir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("S2SGRAD_CACHE_DIR", str(d))
    monkeypatch.delenv("S2SGRAD_NO_CACHE", raising=False)
    diskcache._warned.clear()
    cache.clear()
    yield d
    cache.clear()


_counter = [0]


def load_module(tmp_path, text, name=None):
    if name is None:
        _counter[0] += 1
        name = "s2s_dc_mod%d" % _counter[0]
    path = tmp_path / (name + ".py")
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, str(path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def args():
    return np.linspace(0.1, 0.9, 3), np.array([[0.5], [-1.5]])


def entries(d):
    return sorted(p for p in os.listdir(str(d)) if p.endswith(".s2s")) if d.exists() else []


def fresh_grad(fn, **kw):
    cache.clear()          # forget the in-process entry: the next call must go to disk
    return s2sgrad.grad(fn, **kw)


def test_roundtrip_in_process(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    expected = s2sgrad.grad(mod.f, wrt=(0, 1))(*args())
    assert len(entries(cachedir)) == 1
    assert stat.S_IMODE(os.stat(str(cachedir)).st_mode) == 0o700
    loads = diskcache.stats["loads"]
    g = fresh_grad(mod.f, wrt=(0, 1))
    got = g(*args())
    assert diskcache.stats["loads"] == loads + 1
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert g.source.startswith("def f_grad(x, y):")


def test_new_process_loads_without_the_compiler(cachedir, tmp_path):
    (tmp_path / "warm_mod.py").write_text(MODULE)
    child = textwrap.dedent('''
        import sys, json
        sys.path[:0] = [%r, %r]
        import numpy as np, s2sgrad
        from s2sgrad.back import diskcache
        import warm_mod
        g = s2sgrad.grad(warm_mod.f, wrt=(0, 1))
        gx, gy = g(np.linspace(0.1, 0.9, 3), np.array([[0.5], [-1.5]]))
        print(json.dumps({"loads": diskcache.stats["loads"], "gast": "gast" in sys.modules,
                          "astor": "astor" in sys.modules, "gx": gx.tolist(),
                          "gy": gy.tolist()}))
    ''' % (ROOT, str(tmp_path)))
    env = dict(os.environ, S2SGRAD_CACHE_DIR=str(cachedir))
    runs = [json.loads(subprocess.run([sys.executable, "-c", child], env=env, check=True,
                                      capture_output=True, text=True).stdout)
            for _ in range(2)]
    assert runs[0]["loads"] == 0 and runs[0]["gast"]
    assert runs[1]["loads"] == 1
    assert not runs[1]["gast"] and not runs[1]["astor"]
    assert runs[0]["gx"] == runs[1]["gx"] and runs[0]["gy"] == runs[1]["gy"]


def test_options_are_part_of_the_key(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    s2sgrad.grad(mod.f, wrt=(0, 1))(x, y)
    s2sgrad.grad(mod.f, wrt=0)(x, y)
    s2sgrad.grad(mod.f, wrt=1)(x, y)
    s2sgrad.value_and_grad(mod.f, wrt=1)(x, y)
    s2sgrad.grad(mod.f, wrt=1)(np.ones(4), y)           # another shape
    s2sgrad.grad(mod.f, wrt=1)(x.astype(np.float32), y)  # another dtype
    assert len(entries(cachedir)) == 6
    # and each comes back as itself
    g = fresh_grad(mod.f, wrt=1)
    np.testing.assert_allclose(g(x, y), s2sgrad.grad(mod.f, wrt=(0, 1))(x, y)[1])
    assert np.shape(fresh_grad(mod.f, wrt=1)(x, y)) == (2, 1)


def test_editing_the_file_gives_a_fresh_key(cachedir, tmp_path):
    name = "s2s_dc_edit"
    mod = load_module(tmp_path, MODULE, name)
    x, y = args()
    s2sgrad.grad(mod.f)(x, y)
    edited = MODULE.replace("z * z", "z * z * z")
    mod2 = load_module(tmp_path, edited, name)
    g = fresh_grad(mod2.f)
    got = g(x, y)
    z = np.sin(x) * y + np.exp(x) / (1.0 + y * y)
    dz = 3 * z * z
    expected = np.sum(dz * (np.cos(x) * y + np.exp(x) / (1.0 + y * y)), axis=0)
    np.testing.assert_allclose(got, expected)
    assert len(entries(cachedir)) == 2


def material(fn, opts=("grad", (0,), False, (((3,), np.dtype(float)),))):
    return diskcache.key_material(fn, opts)


def test_key_covers_versions_and_options():
    def f(x):
        return np.sum(x * x)
    m = material(f)
    assert "python %s %s" % (sys.implementation.cache_tag,
                             ".".join(map(str, sys.version_info[:3]))) in m
    assert "numpy %s" % np.__version__ in m
    assert diskcache.compiler_fingerprint() in m
    assert material(f) == m                                   # deterministic
    assert material(f, ("grad", (0,), True, (((3,), np.dtype(float)),))) != m
    assert material(f, ("value_and_grad", (0,), False, (((3,), np.dtype(float)),))) != m
    assert material(f, ("grad", (0,), False, (((4,), np.dtype(float)),))) != m
    assert material(f, ("grad", (0,), False, (((3,), np.dtype(np.float32)),))) != m
    assert material(f, ("grad", (0,), False, (float,))) != m


def test_key_covers_what_globals_and_closures_refer_to(tmp_path):
    src = '''
        import numpy as np
        W = np.ones((3, 3))
        scale = 2.0

        def helper(v):
            return np.tanh(v)

        def f(x):
            return np.sum(helper(x @ W) * scale)
    '''
    mod = load_module(tmp_path, src)
    m = material(mod.f)
    mod.W = np.ones((3, 1))
    assert material(mod.f) != m, "global array shape"
    mod.W = np.ones((3, 3))
    assert material(mod.f) == m
    mod.scale = 3.0
    assert material(mod.f) != m, "global constant"
    mod.scale = 2.0
    old = mod.helper

    def helper(v):
        return np.sin(v)
    mod.helper = helper
    assert material(mod.f) != m, "a helper function it calls"
    mod.helper = old
    assert material(mod.f) == m

    def make(c):
        def g(x):
            return np.sum(x * c)
        return g
    assert material(make(1.0)) != material(make(2.0)), "closure values"
    assert material(make(np.ones(3))) != material(make(np.ones((2, 3)))), "closure shapes"


def test_two_lambdas_on_one_line_have_different_keys():
    f, g = (lambda x: np.sum(x * x)), (lambda x: np.sum(x + x))
    assert material(f) != material(g)


def _corrupt(path, how):
    data = open(path, "rb").read()
    if how == "truncate":
        data = data[:len(data) // 2]
    elif how == "flip":
        i = len(data) - 20
        data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
    elif how == "empty":
        data = b""
    elif how == "garbage":
        data = b"\x00\xff" * 50
    with open(path, "wb") as fh:
        fh.write(data)


@pytest.mark.parametrize("how", ["truncate", "flip", "empty", "garbage"])
def test_corrupted_entry_is_detected_and_regenerated(cachedir, tmp_path, how):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    expected = s2sgrad.grad(mod.f, wrt=(0, 1))(x, y)
    [name] = entries(cachedir)
    path = str(cachedir / name)
    _corrupt(path, how)
    g = fresh_grad(mod.f, wrt=(0, 1))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = g(x, y)
    if how != "empty":   # an empty file is indistinguishable from a torn write: no warning needed
        assert any(issubclass(i.category, diskcache.CacheWarning) for i in w), how
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    # regenerated and rewritten: the next process gets a good entry
    assert diskcache._parse_entry(open(path, "rb").read()) is not None
    loads = diskcache.stats["loads"]
    fresh_grad(mod.f, wrt=(0, 1))(x, y)
    assert diskcache.stats["loads"] == loads + 1


def _rewrite_entry(path, change):
    data = open(path, "rb").read()
    entry = json.loads(data.partition(b"\n")[2])
    change(entry)
    payload = json.dumps(entry, sort_keys=True).encode()
    digest = diskcache._sha256(payload).hexdigest()
    with open(path, "wb") as fh:
        fh.write(("s2sgrad-cache %d %s\n" % (diskcache.FORMAT, digest)).encode() + payload)


def test_entry_with_foreign_key_is_not_used(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    expected = s2sgrad.grad(mod.f)(x, y)
    [name] = entries(cachedir)

    def evil(entry):
        entry["key"] += "\nsomething else"
        entry["source"] = entry["source"].replace("return grad_x", "return 0 * grad_x")
    _rewrite_entry(str(cachedir / name), evil)
    np.testing.assert_array_equal(fresh_grad(mod.f)(x, y), expected)


def test_entry_with_unknown_binding_is_discarded(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    expected = s2sgrad.grad(mod.f)(x, y)
    [name] = entries(cachedir)

    def evil(entry):
        entry["bindings"]["np"] = ["os", "system"]
    _rewrite_entry(str(cachedir / name), evil)
    with pytest.warns(diskcache.CacheWarning, match="cannot be compiled|discarding"):
        got = fresh_grad(mod.f)(x, y)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o755 | 0o020, 0o702])
def test_writable_by_others_directory_is_ignored(cachedir, tmp_path, mode):
    os.makedirs(str(cachedir))
    os.chmod(str(cachedir), mode)
    mod = load_module(tmp_path, MODULE)
    with pytest.warns(diskcache.CacheWarning, match="group- or world-writable"):
        got = s2sgrad.grad(mod.f)(*args())
    assert entries(cachedir) == []
    assert np.all(np.isfinite(got))


def test_planted_entry_in_unsafe_directory_is_not_executed(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    expected = s2sgrad.grad(mod.f)(x, y)
    [name] = entries(cachedir)
    _rewrite_entry(str(cachedir / name), lambda e: e.update(
        source=e["source"].replace("return grad_x", "return 0 * grad_x")))
    os.chmod(str(cachedir), 0o777)
    with pytest.warns(diskcache.CacheWarning):
        got = fresh_grad(mod.f)(x, y)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a directory away")
def test_directory_of_another_user_is_ignored(cachedir, tmp_path):
    os.makedirs(str(cachedir), mode=0o700)
    os.chown(str(cachedir), 65534, 65534)
    mod = load_module(tmp_path, MODULE)
    with pytest.warns(diskcache.CacheWarning, match="another user"):
        s2sgrad.grad(mod.f)(*args())
    assert entries(cachedir) == []


def test_group_writable_entry_is_ignored(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    s2sgrad.grad(mod.f)(x, y)
    [name] = entries(cachedir)
    os.chmod(str(cachedir / name), 0o666)
    loads = diskcache.stats["loads"]
    with pytest.warns(diskcache.CacheWarning, match="writable"):
        fresh_grad(mod.f)(x, y)
    assert diskcache.stats["loads"] == loads


def test_symlinked_entry_is_not_followed(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    s2sgrad.grad(mod.f)(x, y)
    [name] = entries(cachedir)
    path = str(cachedir / name)
    os.rename(path, str(tmp_path / "elsewhere.s2s"))
    os.symlink(str(tmp_path / "elsewhere.s2s"), path)
    loads = diskcache.stats["loads"]
    fresh_grad(mod.f)(x, y)
    assert diskcache.stats["loads"] == loads


def test_no_cache_env_disables(cachedir, tmp_path, monkeypatch):
    monkeypatch.setenv("S2SGRAD_NO_CACHE", "1")
    assert diskcache.cache_dir() is None
    mod = load_module(tmp_path, MODULE)
    s2sgrad.grad(mod.f)(*args())
    assert not cachedir.exists()


def test_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("S2SGRAD_CACHE_DIR", raising=False)
    monkeypatch.delenv("S2SGRAD_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert diskcache.cache_dir() == str(tmp_path / "xdg" / "s2sgrad")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert diskcache.cache_dir() == str(tmp_path / "home" / ".cache" / "s2sgrad")
    monkeypatch.setenv("S2SGRAD_CACHE_DIR", str(tmp_path / "mine"))
    assert diskcache.cache_dir() == str(tmp_path / "mine")


def test_writes_are_atomic_and_leave_no_temporaries(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    x, y = args()
    gen = s2sgrad.ad.pipeline.generate_gradient(mod.f, (0,), "grad", (x, y), False)
    opts = ("grad", (0,), False, s2sgrad.api.signature._signature((x, y)))
    errors = []

    def writer():
        try:
            for _ in range(20):
                diskcache.store(mod.f, opts, gen)
                hit = diskcache.load(mod.f, opts)
                assert hit is not None and hit.source == gen.source
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert os.listdir(str(cachedir)) == entries(cachedir) and len(entries(cachedir)) == 1


def test_unspecialized_source_is_not_stored(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    assert "def f_grad" in s2sgrad.grad(mod.f).source
    assert entries(cachedir) == []


def test_functions_without_source_are_not_cached(cachedir):
    ns = {"np": np}
    exec("def f(x):\n    return np.sum(x * x)\n", ns)
    with pytest.raises(diskcache.Uncacheable):
        material(ns["f"])
    assert diskcache.load(ns["f"], ("grad", (0,), False, (float,))) is None


def test_clear(cachedir, tmp_path):
    mod = load_module(tmp_path, MODULE)
    s2sgrad.grad(mod.f)(*args())
    assert diskcache.clear() == 1
    assert entries(cachedir) == []


def test_helpers_from_other_modules_roundtrip(cachedir, tmp_path, monkeypatch):
    # Inlined helpers of another module bind that module (read live): the entry names
    # it and a new load binds the module this process imported.
    (tmp_path / "dc_helper.py").write_text(
        "import numpy as onp\nSCALE = 3.0\n\ndef act(v):\n    return onp.tanh(v) * SCALE\n")
    (tmp_path / "dc_main.py").write_text(
        "import numpy as np\nfrom dc_helper import act\n\n"
        "def f(x):\n    return np.sum(act(x) * x)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import dc_helper
    import dc_main
    x = np.linspace(-1, 1, 4)
    expected = s2sgrad.grad(dc_main.f)(x)
    assert len(entries(cachedir)) == 1
    loads = diskcache.stats["loads"]
    got = fresh_grad(dc_main.f)(x)
    assert diskcache.stats["loads"] == loads + 1
    np.testing.assert_array_equal(got, expected)
    dc_helper.SCALE = 1.0          # a different value: a different key, not a stale entry
    np.testing.assert_allclose(fresh_grad(dc_main.f)(x), expected / 3.0)
