"""Nesting: the plain function behind an s2sgrad function, and where what was generated
from one is kept.

``grad(grad(f))`` differentiates the *generated* code of ``grad(f)``: ``concrete``
specializes the inner s2sgrad function for the call's arguments and returns its
generated function, whose source is registered in ``linecache`` (the compiler reads it
back from there).  Each s2sgrad callable class says how through its
``_s2sgrad_concrete`` method, so this module needs no class of the API above it.
"""
from __future__ import annotations

import ast
import linecache
import weakref
from typing import Any, Dict

from s2sgrad.back import cache


def is_transform(fn) -> bool:
    """Whether ``fn`` is an s2sgrad function (grad, value_and_grad, jvp, vjp, ...)."""
    return getattr(type(fn), "_s2sgrad_function", False)


def concrete(fn, args):
    """The plain Python function to differentiate for a call with ``args``.

    A plain function is returned as is.  An s2sgrad function is specialized for
    ``args`` and its generated function returned, with its source re-registered
    in ``linecache`` (the compiler reads it back from there).
    """
    specialize = getattr(type(fn), "_s2sgrad_concrete", None)
    if specialize is None:
        return fn
    return specialize(fn, args)


_NESTED: "weakref.WeakKeyDictionary[Any, Dict[Any, Any]]" = weakref.WeakKeyDictionary()


def cached(fn, key, generate, disk: bool = True):
    """``cache.get_or_generate``; in memory only when ``fn`` is an s2sgrad function
    (the disk cache keys on the original source, shared by every order) or when
    ``disk`` is false (forward mode also depends on the tangent table, which the
    disk cache's key does not cover)."""
    if not is_transform(fn) and disk:
        return cache.get_or_generate(fn, key, generate)
    try:
        per_fn = _NESTED.setdefault(fn, {})
    except TypeError:          # not weak-referenceable
        return generate()
    hit = per_fn.get(key)
    if hit is None:
        hit = per_fn[key] = generate()
    return hit


def registered(gen):
    """The generated function of ``gen``, its source (re)registered in ``linecache``."""
    f = gen.function
    filename = f.__code__.co_filename
    source = _without_augmented_assignments(gen.source)
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    return f


def _without_augmented_assignments(source: str) -> str:
    """``g += v`` -> ``g = g + (v)`` (and ``-=``, ``*=``, ``/=``), line for line.

    Generated code updates only buffers it owns in place, but the compiler,
    differentiating it again, cannot prove that and would refuse; the two forms
    compute the same values here.  Line numbers are kept.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.AugAssign)
             and isinstance(n.target, ast.Name) and type(n.op) in ops]
    if not nodes:
        return source
    lines = source.splitlines(True)
    for n in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        v = n.value
        end = lines[v.end_lineno - 1]
        lines[v.end_lineno - 1] = end[:v.end_col_offset] + ")" + end[v.end_col_offset:]
        first = lines[n.lineno - 1]
        head = "%s = %s %s (" % (n.target.id, n.target.id, ops[type(n.op)])
        if v.lineno == n.lineno:
            lines[n.lineno - 1] = first[:n.col_offset] + head + first[v.col_offset:]
        else:
            lines[n.lineno - 1] = first[:n.col_offset] + head + "\n"
            start = lines[v.lineno - 1]
            lines[v.lineno - 1] = start[:v.col_offset] + start[v.col_offset:]
    return "".join(lines)
