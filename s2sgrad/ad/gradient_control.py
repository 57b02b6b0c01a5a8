"""Gradient surgery: ``stop_gradient`` and ``with grad_of(x) as g:`` blocks.

``stop_gradient`` is a "no gradient" entry of the rule table.  A ``grad_of``
block is rewritten, before the primal trace is built, into a marker call
(``grad_of.at(x, key)``) that every pass carries along like any statement; the
reverse pass expands it in place (``backward_hook``) into the block's own code,
at the point where ``x``'s gradient is complete; the forward pass turns it into
a comment, forward mode drops it.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Callable, Dict, List, Optional, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.analysis.dataflow import Environment
from s2sgrad.back.emit import Comment
from s2sgrad.errors import UnsupportedSyntaxError
from s2sgrad.front.lower import local_names_of
from s2sgrad.rules import nondifferentiable

# --------------------------------------------------------------------------
# stop_gradient


def stop_gradient(x):
    """``x`` unchanged; no derivative flows through it (in either mode).

    Example:
        >>> import numpy as np
        >>> from s2sgrad import grad, stop_gradient
        >>> def f(x):
        ...     return x * stop_gradient(x)      # d/dx is x, not 2 x
        >>> grad(f)(3.0)
        3.0
    """
    return x


nondifferentiable(stop_gradient, family="custom")   # "custom": not in docs/supported.md


# --------------------------------------------------------------------------
# grad_of: user code in the backward pass


class _GradOfBlock:
    """What ``with grad_of(x) as g:`` does when the function runs undifferentiated:
    ``g`` is bound to ``x`` and the block's result is discarded."""

    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


def grad_of(value):
    """Insert code into the backward pass where ``value``'s gradient is known::

        for t in range(T):
            h = np.tanh(W @ h + xs[t])
            with s2sgrad.grad_of(h) as g:
                g = np.clip(g, -1.0, 1.0)

    In generated gradient code the block's body runs, verbatim, at the point of
    the backward pass where the gradient of ``h`` is complete (all later uses
    of ``h`` have contributed), with ``g`` bound to that gradient; whatever ``g``
    holds at the end replaces it.  Forward mode ignores the block.  Called
    normally, the function runs the block on ``h`` itself and discards it.

    Example:
        >>> import numpy as np
        >>> import s2sgrad
        >>> def f(x):
        ...     y = 3.0 * x
        ...     with s2sgrad.grad_of(y) as g:
        ...         g = np.clip(g, -1.0, 1.0)
        ...     return np.sum(y * y)
        >>> s2sgrad.grad(f)(np.array([0.1, 2.0]))     # 3 * clip(2 y)
        array([1.8, 3. ])
    """
    return _GradOfBlock(value)


def _grad_of_marker(value, key):
    """Stands for a ``with grad_of(...)`` block in the primal trace; does nothing."""
    return None


grad_of.at = _grad_of_marker


class _Hook:
    def __init__(self, var: str, body, origin, label: str, target: str = ""):
        self.var = var            # the name bound by 'as'
        self.body = body
        self.origin = origin
        self.label = label
        self.target = target      # the variable named in grad_of(...)


_HOOKS: Dict[int, _Hook] = {}
_HOOK_KEYS: Dict[tuple, int] = {}      # one key per block (file, line, text)


# Run on every parsed function before its primal trace is built, with (tree, environment).
# s2sgrad.api.transforms registers here the rules for calls to s2sgrad functions (grad(f)
# called inside a function being differentiated): they are made of the API's objects,
# which this layer below the API cannot import.
CALLED_FUNCTION_HOOKS: List[Callable] = []


def rewrite_grad_of(parsed):
    """Replace ``with grad_of(x) as g: ...`` blocks by markers the passes keep.

    Returns ``parsed`` itself when the function has no such block.
    """

    env = Environment(parsed.globals, parsed.closure, local_names_of(parsed.node))
    for hook in CALLED_FUNCTION_HOOKS:
        hook(parsed.node, env)
    if not any(isinstance(n, gast.With) for n in A.walk(parsed.node)):
        return parsed
    info = parsed.info

    def is_grad_of(w):
        if len(w.items) != 1 or not isinstance(w.items[0].context_expr, gast.Call):
            return False
        path = A.dotted(w.items[0].context_expr.func)
        return path is not None and env.resolve(path) is grad_of

    def rewrite(stmts):
        out = []
        for st in stmts:
            if isinstance(st, gast.With) and is_grad_of(st):
                call = st.items[0].context_expr
                var = st.items[0].optional_vars
                if len(call.args) != 1 or not isinstance(call.args[0], gast.Name) or \
                        call.keywords:
                    raise info.error(UnsupportedSyntaxError,
                                     "grad_of() takes one variable name", st,
                                     hint="assign the value to a variable first: "
                                          "h = ...; with grad_of(h) as g: ...")
                if not isinstance(var, gast.Name):
                    raise info.error(UnsupportedSyntaxError,
                                     "grad_of() needs 'as NAME' to bind the gradient", st,
                                     hint="with grad_of(h) as g: g = np.clip(g, -1.0, 1.0)")
                loc = (info.filename, info.absolute_line(st), getattr(st, "col_offset", 0),
                       gast.dump(st))
                key = _HOOK_KEYS.setdefault(loc, len(_HOOK_KEYS))
                label = "with %s(%s) as %s:" % (A.dotted(call.func), call.args[0].id, var.id)
                _HOOKS[key] = _Hook(var.id, copy.deepcopy(st.body), st, label, call.args[0].id)
                func = gast.Attribute(value=copy.deepcopy(call.func), attr="at", ctx=gast.Load())
                marker = gast.Expr(value=A.call(func, [A.load(call.args[0].id), A.const(key)]))
                out.append(gast.copy_location(marker, st))
                continue
            for field_name in ("body", "orelse"):
                sub = getattr(st, field_name, None)
                if isinstance(sub, list):
                    setattr(st, field_name, rewrite(sub))
            out.append(st)
        return out

    node = copy.deepcopy(parsed.node)
    node.body = rewrite(node.body)
    return dataclasses.replace(parsed, node=node)


def grad_of_marker(stmt, env) -> Optional[Tuple[str, _Hook]]:
    """(variable, hook) when ``stmt`` is a grad_of marker, else None."""
    info = getattr(stmt, "s2s_backward_hook", None)
    if info is not None:
        return info
    if not (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)):
        return None
    call = stmt.value
    path = A.dotted(call.func)
    if not path or not path.endswith(".at") or env.resolve(path) is not _grad_of_marker:
        return None
    if len(call.args) != 2 or not isinstance(call.args[0], gast.Name):
        return None
    return call.args[0].id, _HOOKS[call.args[1].value]


def backward_hook(rb, stmt) -> List[gast.stmt]:
    """The reverse pass reached a grad_of marker: emit the user's block there."""
    found = grad_of_marker(stmt, rb.env)
    if found is None:
        return []
    var, hook = found
    if getattr(stmt, "s2s_backward_hook", None) is None:
        # In the forward pass the marker becomes a comment.
        stmt.__class__ = Comment
        stmt.text = "%s  (runs in the backward pass)" % hook.label
        stmt.s2s_backward_hook = found
    if var not in rb.active or var not in rb.defined:
        return []
    g = rb.grad_name(var)
    line = rb.info.absolute_line(hook.origin)
    # A copy: the block may update g in place, and a plain alias would let the
    # optimizer fold the block into its surroundings (it must stay verbatim).
    vi = rb.shapes.get(var) if rb.shapes is not None else None
    if vi is not None and not vi.is_array:
        enter = A.assign(hook.var, A.call(A.load("float"), [A.load(g)]))
    else:
        enter = A.assign(hook.var, A.call(rb.np("array"), [A.load(g)]))
    enter.s2s_comment = "%s  (line %d)" % (hook.label, line) if line else hook.label
    leave = A.assign(g, A.load(hook.var))
    leave.s2s_comment = "end of the grad_of block: the new gradient of %s" % var
    rb.private.discard(var)
    body = copy.deepcopy(hook.body)
    if hook.target and var != hook.target and hook.target != hook.var:
        # the variable was renamed by the trace (x, x_1, ...): the block reads this version
        body = [A.rename(st, {hook.target: var}) for st in body]
    return [enter] + body + [leave]
