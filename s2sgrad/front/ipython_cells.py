"""The source of functions defined in IPython ``%%time`` / ``%%timeit`` cells.

IPython compiles an ordinary cell under a file name it registers in ``linecache``
(where ``inspect.getsource`` finds it), but the cell magics ``%%time`` and
``%%timeit`` compile the cell's body themselves, under ``<timed exec>`` and
``<magic-timeit>``, which are in no cache: ``inspect`` cannot read a function
defined there.  Line numbers in that code count from the body's first line (the
line after ``%%time``), after IPython's own ``transform_cell``.  The text is still
reachable:

* while the magic runs (the gradient called in the same cell), as the local
  ``cell`` of IPython's ``time`` / ``timeit`` frame on the stack;
* afterwards, in the shell's input history (``history_manager.input_hist_raw``:
  every cell as typed, ``%%time`` line included).

A candidate is used only when its line ``co_firstlineno`` is the function's own
``def`` (or a decorator of it); the most recent candidate wins.
"""
from __future__ import annotations

import re
import sys
from typing import Iterator, List, Optional

MAGIC_FILES = frozenset(["<timed exec>", "<magic-timeit>"])
_CELL_MAGIC = re.compile(r"\s*%%(time|timeit)\b")


def magic_cell_lines(fn) -> Optional[List[str]]:
    """The lines of the ``%%time`` / ``%%timeit`` cell body defining ``fn``, or None
    (not such a function, or its cell cannot be found)."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_filename not in MAGIC_FILES:
        return None
    shell = _shell()
    if shell is None:
        return None
    k = code.co_firstlineno - 1
    for body in _candidates(shell):
        try:
            text = shell.transform_cell(body)
        except Exception:         # a cell IPython itself could not transform
            continue
        lines = text.splitlines(True)
        if 0 <= k < len(lines) and _defines(lines[k], fn.__name__):
            return lines
    return None


def _shell():
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        return ipython.get_ipython()
    except Exception:
        return None


def _defines(line: str, name: str) -> bool:
    text = line.lstrip()
    return text.startswith("@") or re.match(r"def\s+%s\s*\(" % re.escape(name), text) is not None


def _candidates(shell) -> Iterator[str]:
    # the magic running now (the function called in the cell that defines it)
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in ("time", "timeit") and \
                frame.f_globals.get("__name__", "").startswith("IPython"):
            cell = frame.f_locals.get("cell")
            if isinstance(cell, str):
                yield cell
        frame = frame.f_back
    # earlier cells, most recent first
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or []
    for raw in reversed(history):
        if isinstance(raw, str) and _CELL_MAGIC.match(raw):
            first, _, body = raw.lstrip().partition("\n")
            yield body
