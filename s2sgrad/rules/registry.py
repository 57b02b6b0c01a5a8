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
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

import gast
import numpy as np


class _GradientNotation:
    """``grad[x]`` inside a template: the gradient of the output w.r.t. ``x``."""

    def __getitem__(self, item):  # pragma: no cover - templates are never executed
        raise RuntimeError("derivative templates are compiled, not called")


grad = _GradientNotation()


def no_gradient(reason: str):  # pragma: no cover - templates are never executed
    """``grad[x] = no_gradient("why")``: the rule has no derivative for ``x``; asking for
    one (``x`` carries a gradient at the call site) is an error at generation time."""
    raise RuntimeError("derivative templates are compiled, not called")


def is_complex(value) -> bool:  # pragma: no cover - templates are never executed
    """Inside a template condition: does this parameter hold a complex value (as the
    probe saw it; unknown counts as complex)?"""
    raise RuntimeError("derivative templates are compiled, not called")


def is_static(value) -> bool:  # pragma: no cover - templates are never executed
    """Inside a template condition: is this parameter a constant at the call site?"""
    raise RuntimeError("derivative templates are compiled, not called")


class Rule:
    """One derivative rule: a template function plus how to apply it."""

    def __init__(self, fn: Callable, kind: str, label: str, zero_gradient=()):
        self.fn = fn
        self.kind = kind              # 'elementwise' or 'vjp'
        self.label = label
        # parameters that may receive floats but carry no gradient by the function's
        # nature (copysign's y: only its sign; full_like's a: only its shape)
        self.zero_gradient = frozenset(zero_gradient)
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

    def refusal(self, param: str) -> Optional[str]:
        """The message of the template's ``if <param> ...: raise NotImplementedError(msg)``
        (the rule refuses values of that parameter itself), else None."""
        for node in gast.walk(self.tree):
            if isinstance(node, gast.If) and any(
                    isinstance(n, gast.Name) and n.id == param for n in gast.walk(node.test)):
                for sub in node.body:
                    if isinstance(sub, gast.Raise) and isinstance(sub.exc, gast.Call) \
                            and sub.exc.args and isinstance(sub.exc.args[0], gast.Constant):
                        return str(sub.exc.args[0].value)
        return None

    def differentiable_params(self) -> List[str]:
        """Parameters the template assigns a gradient to (computed once per rule:
        activity analysis asks for every call of every generation)."""
        cached = self.__dict__.get("_differentiable_params")
        if cached is not None:
            return list(cached)
        out = self._find_differentiable_params()
        self._differentiable_params = tuple(out)
        return out

    def _find_differentiable_params(self) -> List[str]:
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
_BOUND: Dict[tuple, Tuple[Any, Any]] = {}
_OPERATOR_SYMBOLS = {"Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "Pow": "**",
                     "Mod": "%", "MatMult": "@", "USub": "-x", "UAdd": "+x"}
_ORDER: List[Tuple[str, str, Any]] = []       # (family, label, rule) for the docs


def _register(objs, rule, methods=(), attributes=(), operator=None, family=""):
    for obj in objs:
        if obj is None:          # an optional function this NumPy/SciPy version lacks
            continue
        known = _BY_OBJECT.get(id(obj))
        _BY_OBJECT[id(obj)] = (obj, rule)
        if _bound_key(obj) is not None:
            _BOUND[_bound_key(obj)] = (obj, rule)
        if known is None or known[0] is not obj:      # aliases (np.abs, np.absolute) once
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
            _ORDER.append((family, "operator " + _OPERATOR_SYMBOLS.get(op.__name__, op.__name__),
                           rule))


def _bound_key(obj):
    """(instance id, function) for a bound Python method such as scipy.stats.norm.pdf,
    whose attribute access makes a new object every time."""
    self_, func = getattr(obj, "__self__", None), getattr(obj, "__func__", None)
    if isinstance(self_, np.ufunc):                  # np.add.outer, np.add.reduce
        return (id(self_), getattr(obj, "__name__", None))
    if self_ is None or func is None or isinstance(self_, types.ModuleType):
        return None
    return (id(self_), func)


def _label(obj) -> str:
    mod = getattr(obj, "__module__", None) or ""
    if not hasattr(obj, "__name__"):      # an object such as np.r_
        for key, value in vars(np).items():
            if value is obj:
                return "np." + key
    name = getattr(obj, "__name__", repr(obj))
    self_ = getattr(obj, "__self__", None)
    if isinstance(self_, np.ufunc):
        return "np.%s.%s" % (self_.__name__, name)
    if _bound_key(obj) is not None and "scipy.stats" in type(self_).__module__:
        dist = getattr(self_, "name", None) or type(self_).__name__.replace("_gen", "")
        return "scipy.stats.%s.%s" % (dist, name)
    if type(obj).__name__ == "method_descriptor" and hasattr(obj, "__objclass__"):
        cls = obj.__objclass__
        if cls.__module__.startswith("numpy.random"):
            return "np.random.%s.%s" % (cls.__name__, name)
    if type(obj).__name__ == "ufunc" and getattr(np, name, None) is not obj:
        return "scipy.special." + name
    if mod.startswith("scipy."):
        parts = [p for p in mod.split(".") if not p.startswith("_")]
        return ".".join(parts + [name])
    if mod == "math":
        return "math." + name
    if mod == "builtins":
        return name
    if mod in ("_operator", "operator") and name == "getitem":
        return "x[index]"
    if mod.startswith("numpy.lib.") and not mod.split(".")[2].startswith("_"):
        return "np.lib.%s.%s" % (mod.split(".")[2], name)    # np.lib.stride_tricks
    if mod.startswith("numpy") or type(obj).__name__ == "ufunc":
        sub = mod.split(".")[1:] if mod.startswith("numpy.") else []
        sub = [s for s in sub if not s.startswith("_") and s not in ("core", "lib")]
        return ".".join(["np"] + sub + [name])
    return (mod + "." + name) if mod else name


def elementwise(*objs, methods=(), operator=None, family="elementwise", zero_gradient=()):
    """Register an elementwise (broadcasting) rule for the given functions.
    ``zero_gradient``: parameters that carry no gradient although they may hold floats
    (any other parameter the rule gives no gradient must not receive a value that
    depends on a differentiated input, unless the probe saw an integer there)."""
    def deco(fn):
        rule = Rule(fn, "elementwise", fn.__name__, zero_gradient)
        _register(objs, rule, methods=methods, operator=operator, family=family)
        return rule
    return deco


def vjp(*objs, methods=(), attributes=(), operator=None, family="other", zero_gradient=()):
    """Register a general vector-Jacobian-product rule (``zero_gradient``: as for
    ``elementwise``)."""
    def deco(fn):
        rule = Rule(fn, "vjp", fn.__name__, zero_gradient)
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
    key = _bound_key(obj)
    if key is not None and key in _BOUND:
        return _BOUND[key][1]
    self_, name = getattr(obj, "__self__", None), getattr(obj, "__name__", None)
    if self_ is not None and name and not isinstance(self_, types.ModuleType):
        # a method of an object (rng.normal): look up the class's method
        descr = getattr(type(self_), name, None)
        entry = _BY_OBJECT.get(id(descr))
        if descr is not None and entry is not None and entry[0] is descr:
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


# -- the calling forms of the functions rules stand for -------------------------------
#
# A rule reads a call's arguments by its own parameters (positions, then keywords).  If
# they do not line up with the real function's parameters -- a keyword the rule does not
# know at another position, a var-positional parameter (np.einsum(*operands)) read as
# named ones -- the rule would read one argument as another and, where it declares that
# parameter non-differentiable, drop its gradient silently.  ``check_call_form`` binds
# each call against the real function's signature (or the narrower form declared here)
# and makes any disagreement a clear error.

_FORMS: Dict[int, Tuple[Any, Any]] = {}
_SIGNATURES: Dict[int, Tuple[Any, Any]] = {}
_CHECKED: Dict[tuple, Optional[str]] = {}


def calling_form(obj, parameters: str) -> None:
    """Declare the calling form a rule supports for ``obj`` (Python parameter syntax,
    ``"subscripts, /, *operands, out=None"``) where the real signature is wider or
    unavailable; calls outside it are errors."""
    if obj is None:
        return
    namespace: Dict[str, Any] = {}
    exec("def form(%s): pass" % parameters, {}, namespace)
    _FORMS[id(obj)] = (obj, inspect.signature(namespace["form"]))


def _ufunc_form(uf):
    names = ["x%d" % (i + 1) for i in range(uf.nin)]
    form = ", ".join(names) + ", /, *, out=None, where=True, casting='same_kind', " \
        "order='K', dtype=None, subok=True, signature=None"
    if getattr(uf, "signature", None):          # a generalized ufunc (matmul, vecdot)
        form += ", axes=None, axis=None, keepdims=False"
    return form


def signature_of(obj):
    """The calling form of ``obj``: declared, else its signature, else None."""
    entry = _FORMS.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    entry = _SIGNATURES.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    sig = None
    if isinstance(obj, np.ufunc):
        namespace: Dict[str, Any] = {}
        exec("def form(%s): pass" % _ufunc_form(obj), {}, namespace)
        sig = inspect.signature(namespace["form"])
    else:
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            sig = None
    _SIGNATURES[id(obj)] = (obj, sig)
    return sig


def check_call_form(obj, rule: Rule, npositional: int, keywords: Tuple[str, ...]
                    ) -> Optional[str]:
    """None if the rule reads a call of ``obj`` with ``npositional`` positional
    arguments and these keywords as the real function does; else why not."""
    key = (id(obj), id(rule), npositional, keywords)
    if key in _CHECKED:
        return _CHECKED[key]
    why = _call_form_problem(obj, rule, npositional, keywords)
    _CHECKED[key] = why
    return why


def _call_form_problem(obj, rule, npositional, keywords):
    sig = signature_of(obj)
    if sig is None:
        return None
    label = _label(obj)
    try:
        sig.bind(*range(npositional), **{k: None for k in keywords})
    except TypeError as exc:
        return "this call does not match %s%s: %s" % (label, _spelled(sig), exc)
    real = list(sig.parameters.values())
    real_names = {p.name for p in real if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    params = [p for p in list(inspect.signature(rule.fn).parameters.values())[1:]]
    rule_names = {p.name for p in params}
    rule_pos = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                                p.VAR_POSITIONAL)]
    real_pos = [p for p in real if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                              p.VAR_POSITIONAL)]
    for i in range(npositional):
        r = real_pos[min(i, len(real_pos) - 1)]
        if r.kind != r.VAR_POSITIONAL and i >= len(real_pos):
            break                               # (sig.bind already refused it)
        q = rule_pos[min(i, len(rule_pos) - 1)] if rule_pos else None
        if q is None or (q.kind != q.VAR_POSITIONAL and i >= len(rule_pos)):
            return None                         # (bind reports too many arguments)
        if q.kind == q.VAR_POSITIONAL or r.kind == r.POSITIONAL_ONLY:
            continue
        if r.kind == r.VAR_POSITIONAL:
            # items of *%s read as named parameters: only as stand-ins for its items
            if q.name in real_names:
                return ("the derivative rule '%s' reads argument %d of %s as %r, but "
                        "%s passes it in *%s" % (rule.label, i + 1, label, q.name, label,
                                                  r.name))
            continue
        if q.name != r.name and (q.name in real_names or r.name in rule_names):
            return ("the derivative rule '%s' reads argument %d of %s as %r, but %s "
                    "takes it as %r" % (rule.label, i + 1, label, q.name, label, r.name))
    return None


def _spelled(sig) -> str:
    return str(sig).replace("'", "")
