"""A rule (or its specializer, or a tangent rule) that fails on a call it does not handle
is a clear s2sgrad error naming the call, never a raw exception."""
import numpy as np
import pytest

import s2sgrad
from rulecheck import rand


# -- a rule that fails on a call it does not handle: a clear error, never a raw one -------------------


def test_rule_failure_is_a_clear_error(monkeypatch):
    from s2sgrad.ad import specialize

    def broken(ctx, *args):
        raise IndexError("tuple index out of range")
    monkeypatch.setitem(specialize.SPECIALIZERS, "tensordot_adjoint_left", broken)

    def f(a, b):
        return np.sum(np.tensordot(a, b, 1))
    with pytest.raises(s2sgrad.UnsupportedCallError) as info:
        s2sgrad.grad(f)(rand(2, 3), rand(3, 4))
    text = str(info.value)
    assert "np.tensordot(a, b, 1)" in text and "IndexError" in text
    assert "does not support this call" in text
    assert isinstance(info.value.__cause__, IndexError)


def test_tangent_rule_failure_is_a_clear_error(monkeypatch):
    from s2sgrad.ad import specialize

    def broken(ctx, *args):
        raise ValueError("cannot reshape")
    monkeypatch.setitem(specialize.SPECIALIZERS, "tensordot_adjoint_left", broken)
    monkeypatch.setitem(specialize.SPECIALIZERS, "tensordot_adjoint_right", broken)

    def f(a, b):
        return np.sum(np.tensordot(a, b, 1) ** 2)
    with pytest.raises(s2sgrad.UnsupportedCallError, match="does not support this call"):
        s2sgrad.hessian(f)(rand(2, 3), rand(3, 4))
