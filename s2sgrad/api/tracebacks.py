"""Tracebacks that end at the user's line: s2sgrad's own frames are removed from an
exception when it leaves the public API (as JAX does with its internal frames).

``S2SGRAD_TRACEBACK=full`` (or ``1``) keeps every frame.  Removed are the frames
of s2sgrad's package files (the compiler, the passes, the API wrappers); kept are
the user's frames, the generated code's (``<s2sgrad f_grad ...>``: it is the
user's computation, and its source is shown) and third-party frames it called.
Chained exceptions (``__cause__``, ``__context__``) are filtered the same way.

On Python >= 3.11 no s2sgrad frame is left (the boundary re-raises with a bare
``raise``, which adds no frame, after replacing the exception's traceback); on
3.9 / 3.10 a bare ``raise`` re-raises the traceback it caught, so the boundary's
own frame stays (one line) and the frames below it are removed.
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Callable, TypeVar

# the package's root directory (whichever subpackage this module lives in)
_PACKAGE = os.path.dirname(os.path.abspath(sys.modules[__name__.split(".")[0]].__file__)) \
    + os.sep
_NOTE = ("(s2sgrad removed its internal frames from this traceback; "
         "set S2SGRAD_TRACEBACK=full to see them)")
_NEW_RAISE = sys.version_info >= (3, 11)

F = TypeVar("F", bound=Callable)


def filtering() -> bool:
    """Whether tracebacks are filtered (``S2SGRAD_TRACEBACK`` is not ``full``/``1``)."""
    return os.environ.get("S2SGRAD_TRACEBACK", "").strip().lower() not in ("full", "1", "on",
                                                                           "all")


def _internal(tb) -> bool:
    filename = tb.tb_frame.f_code.co_filename
    return filename.startswith(_PACKAGE) or filename.startswith("<s2sgrad dispatch")


def _filtered(tb):
    """``tb``'s chain without internal frames, relinked in place."""
    kept = []
    while tb is not None:
        if not _internal(tb):
            kept.append(tb)
        tb = tb.tb_next
    for a, b in zip(kept, kept[1:]):
        a.tb_next = b
    if kept:
        kept[-1].tb_next = None
    return kept[0] if kept else None


def _count(tb) -> int:
    n = 0
    while tb is not None:
        n, tb = n + 1, tb.tb_next
    return n


def hide_frames(exc: BaseException) -> None:
    """Remove s2sgrad's frames from ``exc`` and the exceptions chained to it."""
    seen = set()
    removed = 0
    e = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        head = e.__traceback__
        if head is not None:
            if e is exc and not _NEW_RAISE:
                # the boundary's own frame heads what a bare raise re-raises: keep it,
                # drop what follows it
                before = _count(head.tb_next)
                head.tb_next = _filtered(head.tb_next)
                removed += before - _count(head.tb_next)
            else:
                before = _count(head)
                e.__traceback__ = _filtered(head)
                removed += before - _count(e.__traceback__) - (e is exc)
        e = e.__cause__ if e.__cause__ is not None else (
            None if e.__suppress_context__ else e.__context__)
    if removed > 0 and _NEW_RAISE and _NOTE not in getattr(exc, "__notes__", ()):
        exc.add_note(_NOTE)


def boundary(fn: F) -> F:
    """Decorate a public function: exceptions leave it without s2sgrad's frames."""
    @functools.wraps(fn)
    def public(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if filtering():
                hide_frames(exc)
            raise
    return public  # type: ignore[return-value]
