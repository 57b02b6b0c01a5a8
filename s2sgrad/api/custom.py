"""Custom derivatives: ``@adjoint(fn)`` registers a rule template for ``fn``.

::

    from s2sgrad import adjoint, grad

    def my_sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    @adjoint(my_sigmoid)
    def _(result, x):
        grad[x] = grad[result] * result * (1.0 - result)

The template is written exactly like the built-in rules in ``s2sgrad/rules/``:
the first parameter is the function's result, the others its arguments (same
names as you like, same order); ``grad[result]`` is the upstream gradient and
``grad[x] = ...`` the gradient flowing to ``x``.  It is inlined into the
generated code (nothing is called at run time), it wins over differentiating
the function's own source, and it works for functions without Python source
(C extensions, builtins).  ``grad`` is read syntactically, so importing the
API function ``s2sgrad.grad`` under that name is fine.

Several outputs: when ``fn`` returns a tuple, ``grad[result]`` is the tuple of
the outputs' gradients (an output nobody used has a zero gradient)::

    @adjoint(polar)                  # r, theta = polar(x, y)
    def _(result, x, y):
        r = result[0]
        grad[x] = grad[result][0] * x / r - grad[result][1] * y / (r * r)
        grad[y] = grad[result][0] * y / r + grad[result][1] * x / (r * r)

Templates may use ``np``, the helpers of ``s2sgrad.runtime`` and any global of
the module that defines the template (its own helper functions, constants).
Non-array parameters such as ``axis`` may be tested with ``if`` (decided when
the gradient is generated); ``is_static(p)`` says whether ``p`` is a constant
at the call site.  A template error is reported at the template's own file and
line.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from s2sgrad.api.tracebacks import boundary
from s2sgrad.back import cache
from s2sgrad.errors import RuleError
from s2sgrad.rules.registry import (Rule, _register, grad,  # noqa: F401  (template notation)
                                    is_static)

__all__ = ["adjoint", "is_static"]


@boundary
def adjoint(fn: Any, *, elementwise: bool = False, family: str = "custom") -> Callable:
    """Register the decorated template as the derivative (reverse mode) of ``fn``.

    The template's first parameter is ``fn``'s result, the others its arguments;
    ``grad[result]`` is the upstream gradient and ``grad[x] = ...`` the gradient
    flowing to ``x``.  The template is inlined into generated code (nothing is
    called at run time) and wins over differentiating ``fn``'s own source; it also
    gives derivatives to functions with no Python source.  Forward mode transposes
    it unless a :func:`tangent_rule` is registered too.  Check a new template with
    :func:`check_grads`.

    ``elementwise=True`` says the gradients the template writes are shaped like the
    result and must be summed back to each argument's shape (broadcasting), as for
    ufuncs; by default they are already shaped like their argument.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import adjoint, grad
        >>> def softplus(x):
        ...     return np.log1p(np.exp(x))
        >>> @adjoint(softplus)
        ... def _(result, x):
        ...     grad[x] = grad[result] / (1.0 + np.exp(-x))
        >>> def loss(x):
        ...     return np.sum(softplus(x))
        >>> grad(loss)(np.array([0.0]))
        array([0.5])
    """
    if not callable(fn):
        raise TypeError("s2sgrad.adjoint expects the function to differentiate, got %r" % (fn,))

    @boundary
    def register(template: Callable) -> Callable:
        label = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
        rule = Rule(template, "elementwise" if elementwise else "vjp", label)
        _check(rule, template)
        _register((fn,), rule, family=family)
        _forget_generated()
        return template

    return register


def _check(rule: Rule, template: Callable) -> None:
    """Fail at decoration time, at the template's line, on an unusable template."""
    where = dict(filename=rule.filename, lineno=rule.lineno)
    try:
        params = list(inspect.signature(template).parameters)
    except (TypeError, ValueError):  # pragma: no cover
        params = []
    if not params:
        raise RuleError("an @adjoint template takes the result first, then the function's "
                        "arguments: def _(result, x): ...", **where,
                        hint="add the parameters, e.g. def _(result, x):")
    try:
        rule.tree
    except (OSError, TypeError) as exc:
        raise RuleError("cannot read the source of the @adjoint template (%s)" % exc, **where,
                        hint="define the template with def in a .py file or notebook cell") \
            from None
    if not rule.differentiable_params():
        raise RuleError("the @adjoint template assigns no gradient: write grad[x] = ... for "
                        "each argument x that has one", **where,
                        hint="grad[x] = grad[%s] * (local derivative)" % params[0])


def _forget_generated() -> None:
    """A new rule changes what code is generated: drop cached generated code."""
    try:
        clear = getattr(cache, "clear", None)
        if clear is not None:
            clear()
    except Exception:  # pragma: no cover - the cache is an optimisation only
        pass
