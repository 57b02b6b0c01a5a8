"""The per-call dispatcher (s2sgrad/api/dispatch.py): after a signature's second call,
``grad(f)(*args)`` goes through a generated function that tests the signature inline.
Every test compares against the general path (``GradientFunction._call``, which
builds the key and looks it up) or against finite differences, across signature
switches, value-keyed ints, containers, keywords, code edits, many signatures and
threads."""
import copy
import pickle
import threading

import numpy as np
import pytest

import s2sgrad
from s2sgrad.api import gradient as api, dispatch
from s2sgrad import grad, value_and_grad
from gradcheck import check_grad


def dispatcher(g):
    """The generated dispatcher of ``g``, or None while calls take the general path."""
    d = g._dispatch
    return None if d == g._call else d


def same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
        return
    assert type(a) is type(b), (type(a), type(b))
    np.testing.assert_array_equal(a, b)
    assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype


def general(g, *args, **kwargs):
    return api.GradientFunction._call(g, *args, **kwargs)


def poly(x, y):
    return np.sum(np.tanh(x * y) + x * x * y)


def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


# -- the dispatcher is built, and is what a call runs --------------------------------------------

def test_second_call_installs_a_guarded_copy_of_the_generated_code():
    g = grad(neuron, wrt=(0, 1, 2, 3, 4))
    args = (0.3, -1.2, 0.7, 0.4, 0.1)
    first = g(*args)
    assert dispatcher(g) is None                     # one call: the general path only
    second = g(*args)
    d = dispatcher(g)
    assert d is not None and d is not g._compiled
    assert d.__code__.co_name == g._compiled.__code__.co_name
    assert d.__code__.co_filename == g._compiled.__code__.co_filename
    assert "_fn.__code__ is _code" in d.__s2sgrad_source__
    same(first, second)
    same(g(*args), general(g, *args))
    check_grad(neuron, args, wrt=(0, 1, 2, 3, 4))
    # the user-visible code has no guard
    assert "_slow" not in g.source and "_type" not in g.source
    assert g.source.startswith("def neuron_grad(w0, x0, w1, x1, w2):")


def test_instance_calls_go_through_the_dispatcher():
    g = grad(poly)
    x, y = np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4)
    g(x, y)
    g(x, y)
    calls = []
    inner = dispatcher(g)

    def spy(*args, **kwargs):
        calls.append(args)
        return inner(*args, **kwargs)
    g._dispatch = spy
    g(x, y)
    assert len(calls) == 1
    # and the class attribute is still callable the old way
    same(api.GradientFunction.__call__(g, x, y), general(g, x, y))


def test_monkeypatched_class_call_is_honoured(monkeypatch):
    g = grad(poly)
    x, y = np.ones(3), np.ones(3)
    g(x, y)
    g(x, y)
    original = api.GradientFunction.__call__

    def doubled(self, *args, **kwargs):
        return 2.0 * original(self, *args, **kwargs)
    monkeypatch.setattr(api.GradientFunction, "__call__", doubled)
    same(g(x, y), 2.0 * general(g, x, y))
    # and against the closed form of d/dx sum(tanh(x y) + x x y)
    np.testing.assert_allclose(g(x, y), 2.0 * ((1.0 - np.tanh(x * y) ** 2) * y + 2.0 * x * y),
                               rtol=1e-14)


def test_the_grad_object_looks_like_a_wrapper_of_the_function():
    # calls are a C-level call of the target (a functools.partial underneath); what
    # users see is unchanged: attributes, repr, signature, docs, target swaps
    import functools
    import inspect

    def documented(x, y=2.0):
        """Some docs."""
        return x * y
    g = grad(documented)
    assert isinstance(g, api.GradientFunction) and callable(g)
    assert g.__name__ == "documented" and g.__qualname__.endswith("documented")
    assert g.__doc__ == "Some docs." and g.__module__ == __name__ and g.__wrapped__ is documented
    assert repr(g) == "<s2sgrad grad of %s wrt 0>" % documented.__qualname__
    assert inspect.signature(g) == inspect.signature(documented)
    assert s2sgrad.source(g).startswith("def documented_grad(")
    assert dispatcher(g) is None and g._dispatch == g._call
    for _ in range(3):
        assert g(3.0) == 2.0 and g(3.0, y=5.0) == 5.0 and g(x=1.0) == 2.0
    d = dispatcher(g)
    assert d is not None and g.func is d
    del g._dispatch                       # back to the general path
    assert dispatcher(g) is None and g(3.0) == 2.0
    with pytest.raises(TypeError, match="x"):
        g()
    assert functools.update_wrapper(lambda x: x, g).__wrapped__ is g


# -- signature switches ---------------------------------------------------------------------------

def scale_sum(x, s):
    return np.sum(np.sin(x) * s) * s


def test_float_array_float_switches():
    g = grad(scale_sum, wrt=(0, 1))
    rng = np.random.default_rng(1)
    a3, a4, m = rng.standard_normal(3), rng.standard_normal(4), rng.standard_normal((2, 3))
    calls = [(0.5, 1.5), (a3, 1.5), (0.5, 1.5), (a3, 2.0), (a4, 1.5), (m, 0.5),
             (a3.astype(np.float32), np.float32(1.5)), (np.float64(0.5), 1.5),
             (np.array(0.5), 1.5), (a3, np.array(2.0)), (0.5, 1.5), (a3, 1.5)]
    for rounds in range(3):
        for args in calls:
            got = g(*args)
            same(got, general(g, *args))
            if rounds == 0 and np.asarray(args[0]).dtype == np.float64:
                check_grad(scale_sum, args, wrt=(0, 1))
    assert len(g._dispatched) == api._DISPATCH_LIMIT
    assert "return _f0(x, s)" in dispatcher(g).__s2sgrad_source__


def test_float32_and_float64_arrays_of_one_shape_are_different_signatures():
    g = grad(scale_sum)
    x64 = np.linspace(-1, 1, 5)
    x32 = x64.astype(np.float32)
    for _ in range(3):
        r64, r32 = g(x64, 1.5), g(x32, 1.5)
        assert r64.dtype == np.float64 and r32.dtype == np.float32
        same(r64, general(g, x64, 1.5))
        same(r32, general(g, x32, 1.5))


def test_array_from_pickle_has_an_equal_but_distinct_dtype():
    g = grad(scale_sum)
    x = np.linspace(-1, 1, 5)
    g(x, 2.0)
    g(x, 2.0)
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype == x.dtype
    same(g(y, 2.0), general(g, x, 2.0))


def test_subclasses_and_lookalikes_are_not_taken_for_the_exact_type():
    class F(float):
        pass
    g = grad(scale_sum, wrt=(0, 1))
    x = np.linspace(-1, 1, 3)
    g(x, 2.0)
    g(x, 2.0)
    same(g(x, F(2.0)), general(g, x, F(2.0)))
    same(g(x, np.float64(2.0)), general(g, x, np.float64(2.0)))
    same(g(x, np.float32(2.0)), general(g, x, np.float32(2.0)))
    same(g(x, np.array(2.0)), general(g, x, np.array(2.0)))
    # the closed form: d/dx = cos(x) s^2, d/ds = 2 s sum(sin(x))
    for s in (F(2.0), np.float64(2.0), np.array(2.0)):
        gx, gs = g(x, s)
        np.testing.assert_allclose(gx, np.cos(x) * 4.0, rtol=1e-14)
        np.testing.assert_allclose(gs, 4.0 * np.sum(np.sin(x)), rtol=1e-14, atol=1e-15)


# -- values, containers, keywords ---------------------------------------------------------------------

def prefix(x, n, flag, mode):
    y = x[:n] ** 2
    if flag:
        y = y * 2.0
    if mode == "mean":
        return np.mean(y)
    return np.sum(y)


def test_ints_bools_and_strings_are_keyed_by_value():
    g = grad(prefix)
    x = np.linspace(0.5, 2.0, 6)
    calls = [(x, 2, False, "sum"), (x, 3, False, "sum"), (x, 2, True, "sum"),
             (x, 2, False, "mean"), (x, 1, 1, "sum"), (x, np.int64(2), False, "sum"),
             (x, 2, np.bool_(True), "sum"), (x, 2, False, "sum")]
    for _ in range(3):
        for args in calls:
            same(g(*args), general(g, *args))
            check_grad(prefix, args, wrt=0)
    assert dispatcher(g) is not None


def test_changing_int_beyond_the_cap_stays_correct():
    g = grad(prefix)
    x = np.linspace(0.5, 2.0, 40)
    for rounds in range(2):
        for n in range(1, 30):
            expected = np.where(np.arange(40) < n, 2.0 * x, 0.0)
            np.testing.assert_allclose(g(x, n, False, "sum"), expected)
    assert len(g._dispatched) <= api._DISPATCH_LIMIT


def params_loss(params, x, scales):
    h = np.tanh(params["W"] @ x + params["b"])
    return np.sum(h * scales[0]) + scales[1] * np.sum(params["W"] ** 2)


def test_dicts_and_lists_are_keyed_by_structure():
    g = grad(params_loss, wrt=(0, 2))
    rng = np.random.default_rng(3)
    p = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    q = {"b": rng.standard_normal(3), "W": rng.standard_normal((3, 4))}   # other key order
    r = {"W": rng.standard_normal((2, 4)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(4)
    calls = [(p, x, [0.5, 2.0]), (q, x, [0.5, 2.0]), (r, x, [1.5, 0.25]), (p, x, (0.5, 2.0)),
             (p, x, [np.float32(0.5), 2.0])]
    for _ in range(3):
        for args in calls:
            got = g(*args)
            want = general(g, *args)
            assert set(got[0]) == set(want[0])
            for k in got[0]:
                same(got[0][k], want[0][k])
            same(tuple(got[1]), tuple(want[1]))
    assert dispatcher(g) is not None


def with_defaults(x, y=4.0, scale=2.0):
    return x * y * scale


def test_keywords_and_defaults_through_the_dispatcher():
    g = grad(with_defaults, wrt=(0, "y"))
    for _ in range(3):
        assert g(2.0) == (8.0, 4.0)
        assert g(2.0, y=5.0) == (10.0, 4.0)
        assert g(x=2.0, y=5.0, scale=3.0) == (15.0, 6.0)
        assert g(2.0, 5.0, 3.0) == (15.0, 6.0)
        assert g(scale=3.0, x=2.0) == (12.0, 6.0)
    assert dispatcher(g) is not None
    with pytest.raises(TypeError):
        g()
    with pytest.raises(TypeError):
        g(1.0, 2.0, 3.0, 4.0)
    with pytest.raises(TypeError):
        g(1.0, z=2.0)
    with pytest.raises(TypeError):
        g(1.0, x=2.0)


def positional_only(x, y, /, z=1.0):
    return x * y * z


def test_positional_only_parameters():
    g = grad(positional_only, wrt=(0, 2))
    for _ in range(3):
        assert g(2.0, 3.0) == (3.0, 6.0)
        assert g(2.0, 3.0, z=2.0) == (6.0, 6.0)
    assert dispatcher(g) is not None
    with pytest.raises(TypeError):
        g(2.0, y=3.0)


def names_like_the_dispatchers(_type, _float, _fn, _code, _slow, _f0, type):
    return np.sum(_type * _float * _fn * _code * _slow * _f0 * type)


def test_parameter_names_like_the_dispatchers_own():
    g = grad(names_like_the_dispatchers, wrt=tuple(range(7)))
    args = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
    for _ in range(3):
        same(g(*args), general(g, *args))
    args2 = (np.ones(2),) + args[1:]
    for _ in range(3):
        same(g(*args2), general(g, *args2))
    check_grad(names_like_the_dispatchers, args, wrt=tuple(range(7)))


# -- code edits, limits, threads -------------------------------------------------------------------

def test_code_replaced_in_place_after_the_dispatcher_is_built():
    def f(x):
        return np.sum(x * x)

    def edited():
        def f(x):
            return np.sum(x * x * x)
        return f
    x = np.linspace(-1, 1, 4)
    df = grad(f)
    for _ in range(3):
        np.testing.assert_allclose(df(x), 2 * x)
        np.testing.assert_allclose(df(0.5), 1.0)
    assert dispatcher(df) is not None
    f.__code__ = edited().__code__
    for _ in range(3):
        np.testing.assert_allclose(df(x), 3 * x ** 2)
        np.testing.assert_allclose(df(0.5), 0.75)
    assert dispatcher(df) is not None


def test_many_signatures():
    g = grad(scale_sum, wrt=(0, 1))
    arrays = [np.linspace(-1, 1, n) for n in range(1, 15)]
    for _ in range(3):
        for a in arrays:
            same(g(a, 0.5), general(g, a, 0.5))
    assert len(g._dispatched) == api._DISPATCH_LIMIT


def test_threads_switching_signatures_on_one_object():
    g = grad(scale_sum, wrt=(0, 1))
    inputs = [(np.linspace(-1, 1, n), s) for n in (3, 4, 5) for s in (0.5, np.float32(2.0))]
    inputs += [(0.25, 1.5), (np.float64(0.25), 1.5)]
    expected = [grad(scale_sum, wrt=(0, 1))(*a) for a in inputs]
    barrier = threading.Barrier(8)
    errors = []

    def work(k):
        try:
            barrier.wait()
            for i in range(200):
                j = (i * (k + 1)) % len(inputs)
                same(g(*inputs[j]), expected[j])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]


# -- methods, nesting, value_and_grad, pickling ------------------------------------------------------

class Model:
    def __init__(self, w):
        self.w = w

    @grad(wrt="x")
    def loss(self, x):
        return np.sum(np.tanh(self.w * x))


def test_methods():
    m = Model(np.linspace(0.5, 1.5, 3))
    x = np.linspace(-1, 1, 3)
    for _ in range(3):
        np.testing.assert_allclose(m.loss(x), m.w / np.cosh(m.w * x) ** 2)


def cube(x):
    return x * x * x


def test_grad_of_grad_and_value_and_grad():
    gg = grad(grad(cube))
    for _ in range(3):
        assert gg(2.0) == pytest.approx(12.0)
        np.testing.assert_allclose(gg(np.array(2.0)), 12.0)
    assert dispatcher(gg) is not None
    vg = value_and_grad(poly, wrt=(0, 1))
    x, y = np.linspace(-1, 1, 3), np.linspace(1, 2, 3)
    for _ in range(3):
        same(vg(x, y), general(vg, x, y))
    assert dispatcher(vg) is not None


def test_copy_and_pickle():
    g = grad(poly, wrt=(0, 1))
    x, y = np.linspace(-1, 1, 3), np.linspace(1, 2, 3)
    g(x, y)
    g(x, y)
    for other in (copy.copy(g), copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        assert isinstance(other, api.GradientFunction) and other is not g
        assert other.__wrapped__ is poly and other._wrt == (0, 1) and other._tuple
        for _ in range(2):
            same(other(x, y), g(x, y))
    single = pickle.loads(pickle.dumps(value_and_grad(poly, wrt="y")))
    assert single._mode == "value_and_grad" and single._wrt == (1,) and not single._tuple


# -- the guards, unit-tested: a dispatcher calls the code of a key only for that key ------------------

SAMPLES = [0.5, np.float64(0.5), np.float32(0.5), np.array(0.5), np.ones(3), np.ones((3, 1)),
           np.ones(3, np.float32), np.ones(3, int), 1, 2, True, False, np.int64(1), None, "a",
           (1, 2), (1.0, 2.0), [1.0, 2.0], [np.ones(2), 1.0], {"a": 1.0}, {"a": np.ones(2)},
           1.5 + 0j]


def _returning(key):
    def which(a):
        return key
    return which


@pytest.mark.parametrize("guarded", [False, True])
def test_each_guard_matches_exactly_its_key(guarded):
    import inspect
    seen = {}
    for a in SAMPLES:
        seen.setdefault(api._signature((a,)), a)
    keys = list(seen)

    def f(a):
        return a
    sig = inspect.signature(f)
    misses = []

    def slow(a):
        misses.append(a)
        return "slow"
    for key in keys:
        which = _returning(key)
        if guarded:
            source = "def which(a):\n    return key\n"
            which = dispatch.guarded("f", sig, key, which, source, slow, api._key_of,
                                     api._VALUE_KEYED)
            assert which is not None
        else:
            which = dispatch.build("f", sig, [(key, which)], slow, api._key_of,
                                   api._VALUE_KEYED)
        for a in SAMPLES:
            got = which(a)
            if api._signature((a,)) == key:
                assert got == key
            else:
                assert got == "slow"


# -- random programs: the dispatcher's results are the general path's, bit for bit ------------------

@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_through_the_dispatcher(chunk, tmp_path, monkeypatch):
    import progen
    monkeypatch.setenv("S2SGRAD_CACHE_DIR", str(tmp_path / "cache"))
    dispatched = 0
    for seed in range(chunk * 15, chunk * 15 + 15):
        prog = progen.generate(seed, tricky=seed % 3 == 0)
        f = prog.function()
        g = grad(f, wrt=prog.wrt)
        first = g(*prog.fresh_args())
        g(*prog.fresh_args())                   # builds the dispatcher
        third = g(*prog.fresh_args())           # runs it
        fourth = general(g, *prog.fresh_args())
        dispatched += dispatcher(g) is not None
        for a, b, c in zip(progen.leaves(list(first)), progen.leaves(list(third)),
                           progen.leaves(list(fourth))):
            assert type(a) is type(b) is type(c), prog
            assert np.array_equal(a, b) and np.array_equal(a, c), prog
    assert dispatched >= 10, dispatched
