"""One exception family. Every error a user can hit says which function, which
file and line, the offending source line, what is not supported, and what to do."""
from __future__ import annotations

from typing import Optional


class S2SGradError(Exception):
    """Base class of all s2sgrad errors.

    The message names the function, its file and line, the offending source line
    and a hint; the same pieces are attributes (``function``, ``filename``,
    ``lineno``, ``source_line``, ``hint``, ``message``).  Catch this class to catch
    every error s2sgrad raises about the code it is given."""

    def __init__(self, message: str, *, function: Optional[str] = None,
                 filename: Optional[str] = None, lineno: Optional[int] = None,
                 source_line: Optional[str] = None, hint: Optional[str] = None):
        self.message = message
        self.function = function
        self.filename = filename
        self.lineno = lineno
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.function:
            where.append("in function '%s'" % self.function)
        if self.filename:
            loc = self.filename
            if self.lineno:
                loc += ", line %d" % self.lineno
            where.append("(%s)" % loc)
        text = "s2sgrad: " + self.message
        if where:
            text += "\n  " + " ".join(where)
        if self.source_line:
            text += "\n    " + self.source_line.strip()
        if self.hint:
            text += "\n  hint: " + self.hint.replace("\n", "\n  ")
        return text


class SourceUnavailableError(S2SGradError):
    """The function's source cannot be read: a builtin or C function, a function typed
    at the plain ``python`` prompt or made by ``exec``.  Define it in a file or a
    notebook cell, or give it a derivative with :func:`s2sgrad.adjoint`."""


class UnsupportedSyntaxError(S2SGradError):
    """A Python construct the compiler does not differentiate (see docs/supported.md
    and docs/controlflow.md for what is); the error points at the line."""


class UnsupportedCallError(S2SGradError):
    """A call, method or attribute with no derivative rule and no Python source to
    differentiate; register one with :func:`s2sgrad.adjoint`."""


class NonScalarOutputError(S2SGradError, ValueError):
    """``grad`` of a function whose output is not a scalar (also a ``ValueError``):
    reduce it, use ``vjp`` / ``jacobian``, or ``has_aux=True`` for ``return loss, aux``."""


class WrtError(S2SGradError, ValueError):
    """A bad ``wrt`` / ``argnums`` (out of range, repeated, both given) or a
    differentiated argument that is not a float (also a ``ValueError``)."""


class RuleError(S2SGradError):
    """A malformed derivative template (``@adjoint``, ``@tangent_rule``), reported at
    the template's own file and line."""


# What a derivative rule's own code may raise while it is applied to a call it does not
# handle (a shape or axis it cannot read, a bad constant argument): never shown raw.
RULE_FAILURES = (ArithmeticError, LookupError, ValueError, TypeError, AttributeError)


def rule_failure(info, stmt, call: str, exc: BaseException, what: str = "derivative"
                 ) -> S2SGradError:
    """The clear error for a rule that failed on trace statement ``stmt`` (printed
    ``call``): which call, and what failed."""
    origin = getattr(stmt, "s2s_origin", stmt)
    return info.error(UnsupportedCallError,
                      "the %s rule for '%s' does not support this call (%s: %s)"
                      % (what, call, type(exc).__name__, exc), origin,
                      hint="this combination of argument shapes or constant arguments is not "
                           "differentiated; rewrite the call, or register a derivative with "
                           "@s2sgrad.adjoint")


class LazyArrayError(S2SGradError, TypeError):
    """A construct with no lazy form for the array type passed (a Dask array): running
    it would compute and gather the whole array into one process."""
