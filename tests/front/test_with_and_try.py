"""``with`` blocks of the user's own or NumPy's context managers (``np.errstate``, a
timer) run the forward pass inside the context, as Python does; ``try/finally`` runs
both parts; ``try/except`` is a clear error (which branch runs is known only by running
the body); s2sgrad's own ``grad_of`` is read only in the differentiated function."""
import contextlib
import warnings

import numpy as np
import pytest

from s2sgrad import grad, grad_of, value_and_grad
from s2sgrad.errors import UnsupportedSyntaxError
from gradcheck import check_grad

rng = np.random.default_rng(2)
EVENTS = []


@contextlib.contextmanager
def timer(name):
    EVENTS.append("enter " + name)
    yield len(EVENTS)
    EVENTS.append("exit " + name)


class Scaled:
    """A class-based context manager whose __enter__ returns a value used in the body."""

    def __init__(self, factor):
        self.factor = factor
        self.active = False

    def __enter__(self):
        self.active = True
        return self.factor

    def __exit__(self, *exc):
        self.active = False
        return False


def with_errstate(x):
    with np.errstate(divide='raise', invalid='raise'):
        y = np.log(x) * np.sqrt(x)
    return np.sum(y ** 2)


def with_timer(x):
    with timer("forward") as k:
        h = np.tanh(x) * k
    with timer("loss"), timer("inner"):
        loss = np.sum(h ** 2)
    return loss


def with_class(x, cm):
    with cm as factor:
        y = np.sin(x) * factor
    return np.sum(y * x)


def with_finally(x):
    try:
        y = np.exp(x)
    finally:
        z = np.sum(x)
    return np.sum(y) * z


def test_errstate_applies_to_the_forward_pass():
    x = rng.uniform(0.5, 2.0, size=4)
    check_grad(with_errstate, (x,))
    with pytest.raises(FloatingPointError):
        grad(with_errstate)(np.array([1.0, -1.0]))      # as with_errstate itself raises
    with pytest.raises(FloatingPointError):
        with_errstate(np.array([1.0, -1.0]))


def test_a_timer_and_several_context_managers():
    x = rng.normal(size=3)
    g = value_and_grad(with_timer)
    g(x)
    del EVENTS[:]
    value, dx = g(x)
    assert EVENTS == ["enter forward", "exit forward", "enter loss", "enter inner",
                      "exit inner", "exit loss"]
    del EVENTS[:]
    assert value == pytest.approx(with_timer(x), rel=1e-13)
    k = 1.0          # the timer's value on entry (EVENTS was emptied)
    np.testing.assert_allclose(dx, 2 * np.tanh(x) * k * k * (1 - np.tanh(x) ** 2),
                               rtol=1e-12)


def test_a_class_based_context_manager():
    x = rng.normal(size=4)
    cm = Scaled(1.7)
    check_grad(with_class, (x, cm), wrt=0)
    grad(with_class)(x, cm)
    assert cm.active is False


def test_try_finally():
    check_grad(with_finally, (rng.normal(size=3),))


def with_except(x):
    try:
        y = np.linalg.solve(np.diag(x), x)
    except np.linalg.LinAlgError:
        y = x
    return np.sum(y)


def test_try_except_is_a_clear_error():
    with pytest.raises(UnsupportedSyntaxError, match="try/except cannot be differentiated"):
        grad(with_except)(rng.normal(size=3))


def clipped_inside(h):
    with grad_of(h) as g:
        g = np.clip(g, -1.0, 1.0)
    return h


def calls_clipped(x):
    return np.sum(clipped_inside(x * 3.0) ** 2)


def test_grad_of_in_a_called_function_is_a_clear_error():
    with pytest.raises(UnsupportedSyntaxError, match="read only in the differentiated"):
        grad(calls_clipped)(rng.normal(size=3))
