"""The derivative-rule registry.

A rule is a small Python function used as a *template*: its first parameter is
the primal result, the others are the primal inputs, and its body says how the
upstream gradient ``grad[result]`` turns into downstream gradients::

    @elementwise(np.multiply, operator=gast.Mult)
    def multiply(result, x, y):
        grad[x] = grad[result] * y        # mul swaps
        grad[y] = grad[result] * x

The compiler parses the template, substitutes the names of the statement being
differentiated and inlines the statements in the generated backward pass; the
template is never called.  ``grad[x][index] += value`` adds into a slice of
``x``'s gradient.  Plain ``if`` statements on non-array parameters (``axis``,
``keepdims``) are decided at generation time.

``elementwise`` rules produce contributions shaped like the result; the compiler
sums them back to each input's shape (broadcasting).  ``vjp`` rules produce
contributions already shaped like their input.
"""
from __future__ import annotations

import inspect
import textwrap
from typing import Any, Callable, Dict, List, Optional, Tuple

import gast


class _GradientNotation:
    """``grad[x]`` inside a template: the gradient of the output w.r.t. ``x``."""

    def __getitem__(self, item):  # pragma: no cover - templates are never executed
        raise RuntimeError("derivative templates are compiled, not called")


grad = _GradientNotation()


class Rule:
    """One derivative rule: a template function plus how to apply it."""

    def __init__(self, fn: Callable, kind: str, label: str):
        self.fn = fn
        self.kind = kind              # 'elementwise' or 'vjp'
        self.label = label
        self._tree: Optional[gast.FunctionDef] = None
        sig = inspect.signature(fn)
        names = list(sig.parameters)
        self.result_param = names[0]
        self.params: List[str] = names[1:]
        self.defaults: Dict[str, Any] = {
            n: p.default for n, p in sig.parameters.items()
            if p.default is not inspect.Parameter.empty}
        code = fn.__code__
        self.filename = code.co_filename
        self.lineno = code.co_firstlineno

    @property
    def tree(self) -> gast.FunctionDef:
        if self._tree is None:
            lines, start = inspect.getsourcelines(self.fn)
            node = gast.parse(textwrap.dedent("".join(lines))).body[0]
            node.decorator_list = []
            self._first_line = start
            self._tree = node
        return self._tree

    def differentiable_params(self) -> List[str]:
        """Parameters the template assigns a gradient to."""
        out = []
        for node in gast.walk(self.tree):
            tgt = None
            if isinstance(node, gast.Assign):
                tgt = node.targets[0]
            elif isinstance(node, gast.AugAssign):
                tgt = node.target
            if tgt is not None:
                while isinstance(tgt, gast.Subscript) and isinstance(tgt.value, gast.Subscript):
                    tgt = tgt.value
                if (isinstance(tgt, gast.Subscript) and isinstance(tgt.value, gast.Name)
                        and tgt.value.id == "grad" and isinstance(tgt.slice, gast.Name)):
                    if tgt.slice.id not in out:
                        out.append(tgt.slice.id)
        return out

    def __repr__(self):
        return "<Rule %s (%s) %s:%d>" % (self.label, self.kind, self.filename, self.lineno)


NONDIFFERENTIABLE = "nondifferentiable"

# object id -> (object, rule or NONDIFFERENTIABLE)
_BY_OBJECT: Dict[int, Tuple[Any, Any]] = {}
_METHODS: Dict[str, Any] = {}
_ATTRIBUTES: Dict[str, Any] = {}
_OPERATORS: Dict[type, Any] = {}
_ORDER: List[Tuple[str, str, Any]] = []       # (family, label, rule) for the docs


def _register(objs, rule, methods=(), attributes=(), operator=None, family=""):
    for obj in objs:
        _BY_OBJECT[id(obj)] = (obj, rule)
        _ORDER.append((family, _label(obj), rule))
    for m in methods:
        _METHODS[m] = rule
        _ORDER.append((family, "ndarray." + m, rule))
    for a in attributes:
        _ATTRIBUTES[a] = rule
        _ORDER.append((family, "ndarray." + a, rule))
    if operator is not None:
        ops = operator if isinstance(operator, tuple) else (operator,)
        for op in ops:
            _OPERATORS[op] = rule


def _label(obj) -> str:
    mod = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__name__", repr(obj))
    if isinstance(obj, type(abs)) and mod == "builtins":
        return name
    if mod.startswith("numpy") or type(obj).__name__ == "ufunc":
        sub = mod.split(".")[1:] if mod.startswith("numpy.") else []
        sub = [s for s in sub if not s.startswith("_") and s not in ("core", "lib")]
        return ".".join(["np"] + sub + [name])
    return (mod + "." + name) if mod else name


def elementwise(*objs, methods=(), operator=None, family="elementwise"):
    """Register an elementwise (broadcasting) rule for the given functions."""
    def deco(fn):
        rule = Rule(fn, "elementwise", fn.__name__)
        _register(objs, rule, methods=methods, operator=operator, family=family)
        return rule
    return deco


def vjp(*objs, methods=(), attributes=(), operator=None, family="other"):
    """Register a general vector-Jacobian-product rule."""
    def deco(fn):
        rule = Rule(fn, "vjp", fn.__name__)
        _register(objs, rule, methods=methods, attributes=attributes, operator=operator,
                  family=family)
        return rule
    return deco


def nondifferentiable(*objs, methods=(), attributes=(), family="constant"):
    """Functions whose result carries no gradient (shapes, comparisons, draws)."""
    _register(objs, NONDIFFERENTIABLE, methods=methods, attributes=attributes, family=family)


def lookup(obj):
    entry = _BY_OBJECT.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    return None


def lookup_method(name: str):
    return _METHODS.get(name)


def lookup_attribute(name: str):
    return _ATTRIBUTES.get(name)


def lookup_operator(op_type: type):
    return _OPERATORS.get(op_type)


def registered():
    """(family, label, rule) of every registration, in table order."""
    return list(_ORDER)
