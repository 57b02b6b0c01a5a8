"""Errors of the core compiler: each names the function, the file and the line, and says
what to do."""
import os

import numpy as np
import pytest

import s2sgrad
from s2sgrad import (NonScalarOutputError, S2SGradError, SourceUnavailableError,
                     UnsupportedCallError, WrtError, grad, value_and_grad)

THIS_FILE = os.path.basename(__file__)


def line_of(fn, text):
    """Absolute line number of the first line of ``fn`` containing ``text``."""
    import inspect
    lines, start = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return start + k
    raise LookupError(text)


# -- non-scalar output ------------------------------------------------------------------------

def vector_out(x):
    return x * 2.0


def matrix_out(x):
    return np.outer(x, x)


@pytest.mark.parametrize("f,shape", [(vector_out, "(3,)"), (matrix_out, "(3, 3)")])
def test_non_scalar_output(f, shape):
    with pytest.raises(ValueError) as info:
        grad(f)(np.ones(3))
    assert isinstance(info.value, NonScalarOutputError)
    assert isinstance(info.value, S2SGradError)
    msg = str(info.value)
    assert f.__name__ in msg and shape in msg
    assert THIS_FILE in msg
    assert "np.sum" in msg                       # says what to do
    with pytest.raises(NonScalarOutputError):
        value_and_grad(f)(np.ones(3))


def size_one_out(x):
    return x[:1] * 2.0


def test_non_scalar_output_is_checked_per_shape():
    # a scalar function of one shape, a vector function of another
    assert grad(vector_out)(2.0) == 2.0
    with pytest.raises(NonScalarOutputError):
        grad(vector_out)(np.ones(2))


# -- no source -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [np.exp, len, np.sum], ids=lambda f: f.__name__)
def test_builtins_have_no_source(fn):
    with pytest.raises(SourceUnavailableError) as info:
        grad(fn)(np.ones(3))
    msg = str(info.value)
    assert fn.__name__ in msg and "builtin or C" in msg
    assert "hint:" in msg
    with pytest.raises(SourceUnavailableError):
        grad(fn).source


def test_exec_function_has_no_source():
    namespace = {}
    exec("import numpy as np\ndef made_by_exec(x):\n    return np.sum(x * x)\n", namespace)
    f = namespace["made_by_exec"]
    assert f(np.ones(2)) == 2.0
    with pytest.raises(SourceUnavailableError) as info:
        grad(f)(np.ones(2))
    msg = str(info.value)
    assert "made_by_exec" in msg and "<string>" in msg
    assert "exec()" in msg                        # explains why


# -- unsupported calls ---------------------------------------------------------------------------------

def uses_polyder(x):
    y = x * 2.0
    return np.sum(np.abs(np.polyder(y)))


class Scaler:
    def __init__(self, w):
        self.w = w

    def apply(self, x):
        return self.w * x


SCALER = Scaler(3.0)


def uses_method(x):
    z = SCALER.apply(x)
    return z * z


def local_helper(x):
    return x * x


def uses_helper(x):
    return local_helper(x) + 1.0


@pytest.mark.parametrize("f,call,text", [
    (uses_polyder, "np.polyder", "np.polyder(y)"),
    (uses_method, "SCALER.apply", "SCALER.apply(x)"),
    (uses_helper, "local_helper", "local_helper(x)"),
], ids=["np.polyder", "object_method", "user_function"])
def test_unsupported_call(f, call, text):
    arg = np.ones(4) if f is uses_polyder else 1.5
    try:
        grad(f)(arg)
    except UnsupportedCallError as exc:
        msg = str(exc)
        assert call in msg
        assert "'%s'" % f.__name__ in msg
        assert THIS_FILE in msg
        assert "line %d" % line_of(f, text) in msg
        assert exc.lineno == line_of(f, text)
        assert text in msg                                    # shows the offending line
        assert "@adjoint(%s)" % call in msg or "adjoint" in msg   # how to add a rule
        assert "grad[result]" in msg
    else:
        if f is uses_helper:          # this build inlines user-defined functions
            assert grad(f)(arg) == pytest.approx(2 * arg)
            return
        if f is uses_method:          # and methods of objects (objects.py)
            assert grad(f)(arg) == pytest.approx(2 * SCALER.w ** 2 * arg)
            return
        raise AssertionError("no UnsupportedCallError for %s" % call)


def inactive_unsupported(x):
    c = np.real(np.fft.fft(np.ones(4)))       # does not depend on x: fine
    return np.sum(x * c)


def test_unsupported_call_on_constant_is_fine():
    np.testing.assert_allclose(grad(inactive_unsupported)(np.ones(4)),
                               np.real(np.fft.fft(np.ones(4))))


# -- wrt ----------------------------------------------------------------------------------------------------

def two(x, y):
    return x * y


@pytest.mark.parametrize("wrt,words", [
    (2, ["out of range", "2 positional"]),
    (5, ["out of range"]),
    ("z", ["'z'", "x, y"]),
    ((0, 0), ["twice"]),
    ((0, "x"), ["twice"]),
    (("y", 1), ["twice"]),
    ((), ["non-empty"]),
    (1.0, ["int"]),
    (True, ["int"]),
    ((0, None), ["int"]),
])
def test_bad_wrt(wrt, words):
    with pytest.raises(WrtError) as info:
        g = grad(two, wrt=wrt)
        g(1.0, 2.0)
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "two" in msg
    for w in words:
        assert w in msg, (w, msg)


def test_wrt_error_names_file_and_line():
    with pytest.raises(WrtError) as info:
        grad(two, wrt="nope")
    msg = str(info.value)
    assert THIS_FILE in msg and "line %d" % two.__code__.co_firstlineno in msg
    assert "hint:" in msg


@pytest.mark.parametrize("bad,word", [
    (3, "integer"),
    (np.arange(3), "integer"),
    (True, "boolean"),
    (np.array([True, False]), "boolean"),
    ("text", "str"),
])
def test_gradient_wrt_non_float_argument(bad, word):
    with pytest.raises(WrtError) as info:
        grad(two)(bad, 2.0)
    msg = str(info.value)
    assert word in msg and "'x'" in msg and "two" in msg
    assert THIS_FILE in msg
    # the same value is fine as a non-differentiated argument
    if isinstance(bad, int) and not isinstance(bad, bool):
        assert grad(two, wrt=1)(bad, 2.0) == 3.0


def test_errors_are_one_family():
    for cls in (NonScalarOutputError, SourceUnavailableError, UnsupportedCallError, WrtError,
                s2sgrad.UnsupportedSyntaxError, s2sgrad.RuleError):
        assert issubclass(cls, S2SGradError)
