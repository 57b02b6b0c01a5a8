"""The bad-input catalogue: one test per case, each asserting the exact error type and
that the message names the function, the file and line, and what to do.

Supported-or-rejected decisions documented here:
* default arguments: supported (filled in, passed or not);
* keyword-only parameters, ``*args``, ``**kwargs``: supported (``*args`` is one parameter
  holding a tuple, its gradient a tuple; see also test_real_arguments.py);
* complex inputs: supported (docs/complex.md; test_rules_complex.py); grad of a complex
  output is NonScalarOutputError;
* integer, boolean and object-array arguments asked for a gradient: WrtError;
* NaN / inf inputs: propagate like NumPy (no error);
* ``x += v`` on an array another name views (``v = x[0]``, ``w = x.reshape(-1)``), read
  afterwards: rejected (the rebinding s2sgrad differentiates is not what NumPy does);
* a ``functools.wraps`` decorator under ``grad``: rejected (its code is invisible);
* ``grad`` of a bound method: rejected with a hint; ``grad(Cls.method, wrt=1)(obj, x)``
  and ``@grad(wrt='x')`` on a method work;
* a function edited after being differentiated: the new code is differentiated.
"""
import functools
import importlib.util
import inspect
import math
import os
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad import (NonScalarOutputError, SourceUnavailableError, UnsupportedCallError,
                     UnsupportedSyntaxError, WrtError, grad)
from s2sgrad.back import cache

HERE = os.path.abspath(__file__)
X = np.array([0.5, -1.0, 2.0])


def line_of(fn, text):
    """Absolute line number of the first source line of ``fn`` containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return start + k
    raise AssertionError("%r not in %s" % (text, fn.__name__))


def check(excinfo, cls, function, filename=None, lineno=None, says=()):
    e = excinfo.value
    assert type(e) is cls, "expected %s, got %s: %s" % (cls.__name__, type(e).__name__, e)
    text = str(e)
    assert e.function == function and ("'%s'" % function) in text, text
    if filename is not None:
        assert e.filename == filename and filename in text, text
    if lineno is not None:
        assert e.lineno == lineno and ("line %d" % lineno) in text, text
    assert e.hint and "hint: " in text, text          # what to do
    for s in says:
        assert s in text, (s, text)
    return e


# -- functions without source ------------------------------------------------------------------

@pytest.mark.parametrize("fn, name", [(np.sin, "sin"), (len, "len"), (math.exp, "exp")])
def test_builtin_and_c_functions(fn, name):
    with pytest.raises(SourceUnavailableError) as ei:
        grad(fn)(0.5)
    check(ei, SourceUnavailableError, name, says=["s2sgrad"])


def test_repl_lambda_without_source():
    ns = {"np": np}
    exec("f = lambda x: np.sum(x * x)", ns)   # what a plain `python` prompt gives
    with pytest.raises(SourceUnavailableError) as ei:
        grad(ns["f"])(X)
    check(ei, SourceUnavailableError, "<lambda>", filename="<string>", lineno=1,
          says=["source", ".py file"])


def test_repl_def_without_source():
    ns = {"np": np}
    exec("def f(x):\n    return np.sum(x * x)\n", ns)
    with pytest.raises(SourceUnavailableError) as ei:
        grad(ns["f"])(X)
    check(ei, SourceUnavailableError, "f", filename="<string>", lineno=1)


# -- syntax s2sgrad does not differentiate --------------------------------------------------------

def gen_fn(x):
    for i in range(3):
        yield x * i


def try_fn(x):
    try:
        y = np.log(x)
    except ValueError:
        y = x
    return np.sum(y)


COUNTER = 0.0


def global_fn(x):
    global COUNTER
    COUNTER = np.sum(x)
    return np.sum(x * x)


def make_nonlocal():
    total = 0.0

    def nonlocal_fn(x):
        nonlocal total
        total = np.sum(x)
        return np.sum(x * x)
    return nonlocal_fn


nonlocal_fn = make_nonlocal()


async def async_fn(x):
    return np.sum(x * x)


def exec_fn(x):
    exec("y = 1")
    return np.sum(x * x)


def yield_fn(x):
    y = yield x
    return np.sum(y)


@pytest.mark.parametrize("fn, marker, says", [
    (gen_fn, "yield x * i", "generators"),
    (try_fn, "try:", "try/except"),
    (global_fn, "global COUNTER", "'global'"),
    (nonlocal_fn, "nonlocal total", "'nonlocal'"),
    (exec_fn, 'exec("y = 1")', "'exec()'"),
    (yield_fn, "y = yield x", "generators"),
])
def test_unsupported_syntax(fn, marker, says):
    with pytest.raises(UnsupportedSyntaxError) as ei:
        grad(fn)(X)
    check(ei, UnsupportedSyntaxError, fn.__name__, filename=HERE, lineno=line_of(fn, marker),
          says=[says, marker])


SCALE = 3.0


def reads_a_global(x):
    global SCALE            # a declaration for reading only: allowed
    return np.sum(x * x) * SCALE


def make_nonlocal_reader():
    scale = 2.0

    def reads_a_nonlocal(x):
        nonlocal scale
        return np.sum(x * x) * scale
    return reads_a_nonlocal


def deletes_a_name(x):
    y = x * 2.0
    z = np.sum(y * y)
    del y
    return z


def deletes_an_item(x):
    d = {"a": x, "b": 2.0 * x}
    del d["b"]
    return np.sum(d["a"])


def test_read_only_declarations_and_del_of_a_name_are_allowed():
    np.testing.assert_allclose(grad(reads_a_global)(X), 6.0 * X, rtol=1e-15)
    np.testing.assert_allclose(grad(make_nonlocal_reader())(X), 4.0 * X, rtol=1e-15)
    np.testing.assert_allclose(grad(deletes_a_name)(X), 8.0 * X, rtol=1e-15)


def test_del_of_an_item_is_rejected():
    with pytest.raises(UnsupportedSyntaxError) as ei:
        grad(deletes_an_item)(X)
    check(ei, UnsupportedSyntaxError, "deletes_an_item", filename=HERE,
          lineno=line_of(deletes_an_item, 'del d["b"]'), says=["'del' of an item"])


def test_async_function():
    with pytest.raises(UnsupportedSyntaxError) as ei:
        grad(async_fn)(X)
    check(ei, UnsupportedSyntaxError, "async_fn", says=["async"])


def varargs_fn(*xs):
    return np.sum(xs[0] * xs[0])


def kwargs_fn(x, **kw):
    return np.sum(x * x)


def kwonly_fn(x, *, scale=2.0):
    return np.sum(x * x) * scale


def test_variadic_and_keyword_only_parameters_are_supported():
    (dx,) = grad(varargs_fn)(X)             # wrt=0 names *xs: a tuple of gradients
    np.testing.assert_allclose(dx, 2.0 * X)
    np.testing.assert_allclose(grad(kwargs_fn)(X, unused=1.0), 2.0 * X)
    np.testing.assert_allclose(grad(kwonly_fn)(X), 4.0 * X)
    np.testing.assert_allclose(grad(kwonly_fn)(X, scale=3.0), 6.0 * X)


def defaults_fn(x, scale=2.0, power=2):
    return np.sum(scale * x ** power)


def test_default_arguments_are_supported():
    np.testing.assert_allclose(grad(defaults_fn)(X), 4.0 * X)
    np.testing.assert_allclose(grad(defaults_fn)(X, 3.0), 6.0 * X)
    np.testing.assert_allclose(grad(defaults_fn)(X, power=3), 6.0 * X ** 2)
    np.testing.assert_allclose(grad(defaults_fn, wrt="scale")(X, 3.0), np.sum(X ** 2))


# -- calls and outputs ---------------------------------------------------------------------------

def polyder_fn(x):
    return np.sum(np.polyder(x * x))


def unwrap_fn(x):
    return np.sum(np.unwrap(x * x))


def nanmedian_fn(x):
    return np.sum(np.nanmedian(x) ** 2)


def tolist_fn(x):
    a, b, c = x.tolist()
    return a * b * c


@pytest.mark.parametrize("fn, marker, what", [
    (polyder_fn, "np.polyder(x * x)", "np.polyder"),
    (unwrap_fn, "np.unwrap(x * x)", "np.unwrap"),
    (nanmedian_fn, "np.nanmedian(x)", "nanmedian"),   # values flow through: not a constant
    (tolist_fn, "x.tolist()", "tolist"),          # Python floats: the gradient would be lost
])
def test_call_without_a_derivative_rule(fn, marker, what):
    with pytest.raises(UnsupportedCallError) as ei:
        grad(fn)(X)
    check(ei, UnsupportedCallError, fn.__name__, filename=HERE, lineno=line_of(fn, marker),
          says=[what])


def vector_fn(x):
    return x * 2.0


def test_non_scalar_output():
    with pytest.raises(NonScalarOutputError) as ei:
        grad(vector_fn)(X)
    check(ei, NonScalarOutputError, "vector_fn", filename=HERE, says=["shape (3,)", "np.sum"])
    assert isinstance(ei.value, ValueError)


# -- wrt -------------------------------------------------------------------------------------------

def two(x, y):
    return np.sum(x * y)


@pytest.mark.parametrize("wrt, says", [
    (2, "out of range"), (-1, "out of range"), ("z", "not a parameter"), ((0, "x"), "twice"),
    ((1, 1), "twice"), ((), "non-empty"), (True, "wrt"), (1.0, "wrt")])
def test_bad_wrt(wrt, says):
    with pytest.raises(WrtError) as ei:
        grad(two, wrt=wrt)
    check(ei, WrtError, "two", filename=HERE, lineno=line_of(two, "def two"), says=[says])


@pytest.mark.parametrize("arg, says", [
    (3, "integer"), (np.array([1, 2, 3]), "int"), (True, "boolean"),
    (np.array([True, False, True]), "bool"), (np.array([1.0, 2.0, 3.0], dtype=object), "object"),
    ("abc", "str")])
def test_argument_without_a_gradient(arg, says):
    def f(x):
        return np.sum(x * x)
    with pytest.raises(WrtError) as ei:
        grad(f)(arg)
    check(ei, WrtError, "f", filename=HERE, lineno=line_of(f, "def f"), says=[says, "'x'"])


@pytest.mark.parametrize("arg", [1.0 + 2.0j, np.array([1.0 + 1j, 2.0, 3.0])], ids=str)
def test_complex_argument_of_a_complex_output(arg):
    # complex arguments are differentiated (docs/complex.md); a complex output is not a
    # real scalar
    def f(x):
        return np.sum(x * x)
    with pytest.raises(NonScalarOutputError) as ei:
        grad(f)(arg)
    check(ei, NonScalarOutputError, "f", filename=HERE, lineno=line_of(f, "def f"),
          says=["complex", "np.real"])


def test_integer_argument_not_asked_for_is_fine():
    def f(x, n):
        return np.sum(x ** n)
    np.testing.assert_allclose(grad(f)(X, 3), 3 * X ** 2)


# -- NaN and inf propagate like NumPy ---------------------------------------------------------------

def test_nan_and_inf_inputs_propagate():
    def f(x):
        return np.sum(x * x + np.sin(x))
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    with np.errstate(invalid="ignore"):
        got = grad(f)(x)
        expected = 2 * x + np.cos(x)
    np.testing.assert_array_equal(got, expected)   # nan == nan here
    assert grad(f)(float("nan")) != grad(f)(float("nan"))   # a NaN, not an error


# -- in-place updates of arrays that have views -----------------------------------------------------

def view_then_inplace(x, t):
    v = x[-1]
    v *= t
    return np.sum(x * v)


def reshape_view_in_loop(x):
    w = x.reshape(-1)
    for i in range(2):
        x *= w
    return np.sum(x)


@pytest.mark.parametrize("fn, marker, partner", [
    (view_then_inplace, "v *= t", "'x'"), (reshape_view_in_loop, "x *= w", "'w'")])
def test_inplace_update_of_a_viewed_array_is_rejected(fn, marker, partner):
    with pytest.raises(UnsupportedSyntaxError) as ei:
        grad(fn)(X.copy(), 2.0) if fn is view_then_inplace else grad(fn)(X.copy())
    check(ei, UnsupportedSyntaxError, fn.__name__, filename=HERE, lineno=line_of(fn, marker),
          says=[partner, "in place"])


def inplace_without_views(x, y):
    a = x * 1.0
    a += y
    for i in range(2):
        a *= y
    return np.sum(a)


def test_inplace_update_without_views_is_fine():
    y = np.array([0.3, 0.2, -0.4])
    np.testing.assert_allclose(grad(inplace_without_views)(X, y), y ** 2)


# -- decorators and methods --------------------------------------------------------------------------

def doubled(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return 2.0 * fn(*args)
    return wrapper


@doubled
def decorated(x):
    return np.sum(x * x)


def test_wraps_decorator_is_rejected_not_skipped():
    # Differentiating the inner function would silently drop the wrapper's factor 2.
    with pytest.raises(SourceUnavailableError) as ei:
        grad(decorated)(X)
    check(ei, SourceUnavailableError, "decorated", filename=HERE,
          lineno=line_of(doubled, "@functools.wraps"), says=["wrapper", "__wrapped__"])
    np.testing.assert_allclose(grad(decorated.__wrapped__)(X), 2 * X)


REGISTRY = []


def register(fn):
    REGISTRY.append(fn)
    return fn


@grad
@register
def stacked(x):
    return np.sum(x * x * x)


def test_stacked_plain_decorators():
    np.testing.assert_allclose(stacked(X), 3 * X ** 2)


class Model:
    def __init__(self):
        self.w = np.array([1.0, 2.0, 3.0])

    def loss(self, x):
        return np.sum(self.w * x * x)


def test_bound_method_is_differentiated_with_respect_to_its_arguments():
    # (bound methods were rejected before classes were supported: tests/front/test_classes.py)
    m = Model()
    np.testing.assert_allclose(grad(m.loss)(X), 2 * m.w * X, rtol=1e-14)
    np.testing.assert_allclose(grad(m.loss, wrt="self.w")(X), X * X, rtol=1e-14)


def test_method_through_the_class():
    np.testing.assert_allclose(grad(Model.loss, wrt=1)(Model(), X), 2 * Model().w * X)


def test_decorated_method():
    class M(Model):
        @grad(wrt="x")
        def dloss(self, x):
            return np.sum(self.w * x * x)
    m = M()
    try:
        got = m.dloss(X)
    except s2sgrad.S2SGradError:
        return       # rejected clearly is acceptable
    np.testing.assert_allclose(got, 2 * m.w * X)


# -- a function edited after being differentiated ----------------------------------------------------

def test_function_edited_after_differentiation(tmp_path):
    path = tmp_path / "edited_mod.py"

    def load(body):
        path.write_text("import numpy as np\n\ndef f(x):\n    return %s\n" % body)
        spec = importlib.util.spec_from_file_location("edited_mod", str(path))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.f

    f1 = load("np.sum(x * x)")
    np.testing.assert_allclose(grad(f1)(X), 2 * X)
    f2 = load("np.sum(x * x * x)")     # the notebook / reload case: a new function object
    np.testing.assert_allclose(grad(f2)(X), 3 * X ** 2)


def test_code_replaced_in_place():
    # What IPython's autoreload does: the same function object gets new code.
    def f(x):
        return np.sum(x * x)

    def edited():
        def f(x):
            return np.sum(x * x * x)
        return f
    df = grad(f)
    np.testing.assert_allclose(df(X), 2 * X)
    f.__code__ = edited().__code__
    try:
        np.testing.assert_allclose(df(X), 3 * X ** 2)
        np.testing.assert_allclose(grad(f)(X), 3 * X ** 2)
    finally:
        cache.clear()


def test_other_module_constant_rebound_after_differentiation(tmp_path, monkeypatch):
    # An inlined helper from another module reads that module's globals live, like
    # the primal does: rebinding a constant there must show in the next gradient.
    (tmp_path / "consts_helper.py").write_text(
        "import numpy as onp\nSCALE = 3.0\n\ndef act(v):\n    return onp.tanh(v) * SCALE\n")
    (tmp_path / "consts_main.py").write_text(
        "import numpy as np\nfrom consts_helper import act\n\n"
        "def f(x):\n    return np.sum(act(x) * x)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import consts_helper
    import consts_main
    g = grad(consts_main.f)
    np.testing.assert_allclose(g(X), 3.0 * (np.tanh(X) + X * (1 - np.tanh(X) ** 2)))
    consts_helper.SCALE = 1.0
    np.testing.assert_allclose(g(X), np.tanh(X) + X * (1 - np.tanh(X) ** 2))
    np.testing.assert_allclose(grad(consts_main.f)(X), np.tanh(X) + X * (1 - np.tanh(X) ** 2))


def unpacked_params(p, x):
    w = p["w"]
    b = p["b"]
    w *= 2.0                  # in place on one entry: the other entry is another array
    return np.sum(np.tanh(x * w + b))


def same_entry_twice(p, x):
    w = p["w"]
    v = p["w"]
    w *= 2.0                  # v is the same array: it changes too
    return np.sum(x * v)


def test_inplace_update_of_one_unpacked_parameter():
    p = {"w": np.array([0.5, -0.2, 0.1]), "b": np.array([0.1, 0.0, -0.3])}
    x = np.array([1.0, 2.0, -1.0])
    got = grad(unpacked_params)({k: v.copy() for k, v in p.items()}, x)
    t = 1.0 - np.tanh(x * 2.0 * p["w"] + p["b"]) ** 2
    np.testing.assert_allclose(got["w"], 2.0 * x * t)
    np.testing.assert_allclose(got["b"], t)
    with pytest.raises(UnsupportedSyntaxError) as ei:
        grad(same_entry_twice)({"w": p["w"].copy()}, x)
    check(ei, UnsupportedSyntaxError, "same_entry_twice", filename=HERE,
          lineno=line_of(same_entry_twice, "w *= 2.0"), says=["'v'"])


def entry_vs_view_of_other_entry(w, x):
    k = w[0]
    rows = w[1]
    z = rows[-1]
    k += np.sum(z * z)        # another entry's row is another array (random program 2669)
    return np.sum(k * x) + np.sum(z)


def test_inplace_update_of_an_entry_next_to_a_view_of_another():
    w = [np.array([0.5, -0.2, 0.1]), np.array([[1.0, 2.0, 3.0], [0.3, -0.4, 0.5]])]
    x = np.array([1.0, 2.0, -1.0])
    gk, grows = grad(entry_vs_view_of_other_entry)([a.copy() for a in w], x)
    np.testing.assert_allclose(gk, x)
    expected = np.zeros((2, 3))
    expected[-1] = 2.0 * w[1][-1] * np.sum(x) + 1.0
    np.testing.assert_allclose(grows, expected)


def test_a_wrong_call_names_the_function_like_python_does():
    def two(x, y):
        return x * y

    with pytest.raises(TypeError, match=r"two\(\): missing a required argument: 'y'"):
        grad(two)(1.0)
    with pytest.raises(TypeError, match=r"two\(\): too many positional arguments"):
        grad(two)(1.0, 2.0, 3.0)
    g = grad(two)
    g(1.0, 2.0)                 # from the second call on the dispatcher binds: Python's own
    with pytest.raises(TypeError, match="two"):
        g(1.0)
