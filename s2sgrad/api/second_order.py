"""Second order, forward over reverse: ``hvp`` (the tangent of the generated gradient
along ``v``) and ``hessian`` (the forward-mode Jacobian of the generated gradient)."""
from __future__ import annotations

from typing import Callable, Optional

from s2sgrad.api.gradient import grad
from s2sgrad.api.transforms import JacobianFunction, TangentFunction, _Derived
from s2sgrad.front import desugar


class HVPFunction(_Derived):
    """``(*args, v) -> H v``: forward mode over the reverse-mode gradient."""

    def __init__(self, fn, wrt):
        super().__init__(fn, wrt)
        self._grad = grad(fn, wrt=wrt)
        self._jvp = TangentFunction(self._grad, wrt)

    def _inner(self):
        return self._jvp

    def __call__(self, *args):
        return self._jvp(*args)


def hvp(f: Optional[Callable] = None, *, wrt=0):
    """Hessian-vector product ``(*args, v) -> H(args) @ v`` without forming H.

    Computed forward-over-reverse: the generated gradient code is differentiated
    in forward mode (``.source`` shows that code).
    """
    if f is None:
        return lambda fn: HVPFunction(fn, wrt)
    return HVPFunction(f, wrt)


class HessianFunction(_Derived):
    def __init__(self, fn, wrt):
        super().__init__(fn, wrt)
        self._grad = grad(fn, wrt=wrt)
        self._jac = JacobianFunction(self._grad, wrt, "forward")

    def _inner(self):
        return self._jac._jvp

    def __call__(self, *args):
        return self._jac(*args)


def hessian(f: Optional[Callable] = None, *, wrt=0):
    """The Hessian of a scalar function, forward-over-reverse (one HVP per input entry)."""
    if f is None:
        return lambda fn: HessianFunction(fn, wrt)
    return HessianFunction(f, wrt)


desugar.TRANSFORM_MAKERS.extend([hvp, hessian])     # called inside a differentiated function
