"""Generation with the cyclic garbage collector paused.

Generating one gradient allocates tens of thousands of short-lived tree nodes,
lists and dicts; reference counting frees nearly all of them, but every 700
allocations the collector also traverses the young ones (and now and then the
whole heap) looking for cycles: about 7% of a first generation (1.7 ms of 25 ms
for the 30-line function of ``benchmarks/generation.py``), more in a process with a
large heap.  The entry points of the compiler run with collection paused and
resume it when they return (or raise); what the compiler leaves cyclic is
collected at the next ordinary collection.  A collector the caller had already
disabled stays disabled.
"""
from __future__ import annotations

import functools
import gc
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


def gc_paused(generate: F) -> F:
    """``generate`` run with the cyclic garbage collector paused (see above)."""

    @functools.wraps(generate)
    def paused(*args, **kwargs):
        if not gc.isenabled():          # the caller's choice, or a generation in progress
            return generate(*args, **kwargs)
        gc.disable()
        try:
            return generate(*args, **kwargs)
        finally:
            gc.enable()

    return paused
