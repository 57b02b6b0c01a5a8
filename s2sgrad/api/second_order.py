"""Second order, forward over reverse: ``hvp`` (the tangent of the generated gradient
along ``v``) and ``hessian`` (the forward-mode Jacobian of the generated gradient)."""
from __future__ import annotations

from typing import Callable, Optional

from s2sgrad.api.gradient import grad
from s2sgrad.api.signature import _choose_wrt
from s2sgrad.api.tracebacks import boundary
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

    @boundary
    def __call__(self, *args):
        return self._jvp(*args)


@boundary
def hvp(f: Optional[Callable] = None, *, wrt=None, argnums=None):
    """Hessian-vector product ``hvp(f)(*args, v) -> H(args) @ v`` without forming H.

    Computed forward-over-reverse: the generated gradient code is differentiated
    in forward mode (``.source`` shows that code).  ``wrt`` / ``argnums`` as in
    :func:`s2sgrad.grad`.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import hvp
        >>> def f(x):
        ...     return np.sum(x ** 3)
        >>> hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0]))    # diag(6 x) @ v
        array([ 6., 12.])
    """
    if f is None:
        return lambda fn: HVPFunction(fn, _choose_wrt(fn, wrt, argnums, "hvp"))
    return HVPFunction(f, _choose_wrt(f, wrt, argnums, "hvp"))


class HessianFunction(_Derived):
    def __init__(self, fn, wrt):
        super().__init__(fn, wrt)
        self._grad = grad(fn, wrt=wrt)
        self._jac = JacobianFunction(self._grad, wrt, "forward")

    def _inner(self):
        return self._jac._jvp

    @boundary
    def __call__(self, *args):
        return self._jac(*args)


@boundary
def hessian(f: Optional[Callable] = None, *, wrt=None, argnums=None):
    """The Hessian of a scalar function, of shape ``x.shape + x.shape``.

    Forward-over-reverse: the generated gradient is differentiated in forward mode,
    one Hessian-vector product per input entry (use :func:`hvp` when only
    products are needed).  ``wrt`` / ``argnums`` as in :func:`s2sgrad.grad`.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import hessian
        >>> def f(x):
        ...     return x[0] ** 2 * x[1]
        >>> hessian(f)(np.array([1.0, 3.0]))
        array([[6., 2.],
               [2., 0.]])
    """
    if f is None:
        return lambda fn: HessianFunction(fn, _choose_wrt(fn, wrt, argnums, "hessian"))
    return HessianFunction(f, _choose_wrt(f, wrt, argnums, "hessian"))


desugar.TRANSFORM_MAKERS.extend([hvp, hessian])     # called inside a differentiated function
