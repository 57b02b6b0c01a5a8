"""In-process cache of generated gradients.

One generation per key: (function, wrt, mode, output structure, argument
signature).  Specialized entries are also kept on disk (``diskcache``) for the
next process.  Entries hang off the function object (weakly), so redefining a
function -- editing it in a notebook cell, say -- gives it a fresh cache.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Dict, Hashable

from s2sgrad.back import diskcache

_entries: "weakref.WeakKeyDictionary[Any, Dict[Hashable, Any]]" = weakref.WeakKeyDictionary()
_lock = threading.RLock()
_key_locks: Dict[Any, threading.Lock] = {}
generation_count = 0   # how many entries were made, by the compiler or from disk (for tests)


def get_or_generate(fn: Callable, key: Hashable, generate: Callable[[], Any]) -> Any:
    """The cached value for (fn, key), generating it exactly once."""
    options = key
    # A function whose code was replaced in place (IPython's autoreload) is a new entry.
    key = (getattr(fn, "__code__", None), options)
    per_fn = _entries.get(fn)
    if per_fn is not None:
        hit = per_fn.get(key)
        if hit is not None:
            return hit
    with _lock:
        lock = _key_locks.setdefault((id(fn), key), threading.Lock())
    with lock:
        per_fn = _entries.get(fn)
        if per_fn is None:
            with _lock:
                per_fn = _entries.setdefault(fn, {})
        hit = per_fn.get(key)
        if hit is not None:
            return hit
        value = diskcache.load(fn, options)
        if value is None:
            value = generate()
            diskcache.store(fn, options, value)
        global generation_count
        with _lock:
            generation_count += 1
        per_fn[key] = value
        return value


_memos: "weakref.WeakKeyDictionary[Any, Dict[Hashable, Any]]" = weakref.WeakKeyDictionary()


def remember(fn: Callable, key: Hashable, value: Any) -> None:
    """Keep a small fact about ``fn`` in memory (dropped with the function or its code)."""
    try:
        with _lock:
            _memos.setdefault(fn, {})[(getattr(fn, "__code__", None), key)] = value
    except TypeError:           # not weak-referenceable
        pass


def recall(fn: Callable, key: Hashable) -> Any:
    """What ``remember`` kept for (fn, key), or None."""
    try:
        per_fn = _memos.get(fn)
    except TypeError:
        return None
    return None if per_fn is None else per_fn.get((getattr(fn, "__code__", None), key))


def clear() -> None:
    with _lock:
        _entries.clear()
        _key_locks.clear()
        _memos.clear()
