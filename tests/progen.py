"""Random NumPy programs for differential testing of s2sgrad.

``generate(seed)`` returns a :class:`Program`: the source of a function built
from the operations s2sgrad supports (arithmetic with broadcasting, unary
functions, reductions with axis/keepdims, transposes, reshapes, indexing,
``np.where``, ``@``/``np.dot``, ``if``/``else`` and ``for ... in range``), with
example arguments.  ``extended=True`` adds ``while`` loops, element-write loops
(``h[i] = ...``), calls to module-level helper functions (inlined by s2sgrad)
and dict / list parameter arguments.

The generator is also a *shadow interpreter*: it runs every statement on the
example arguments as it writes it, and keeps a statement only if

* its values stay finite and moderate (no overflow, no huge condition numbers);
* no kink is near: ``abs``, ``maximum``/``minimum``, ``where``, ``max``/``min``
  reductions and ``if`` tests are at least ``MARGIN`` away from their switch
  point, so central finite differences see a smooth function;
* shapes are consistent across loop iterations.

So any disagreement between s2sgrad and finite differences (or autograd) on a
generated program is a bug, not an artefact of the test.

    python tests/progen.py SEED [--no-control-flow] [--extended] [--all]    # print one

``features=`` (``ALL_FEATURES``) adds the constructs that found silent bugs in code
written by others: lambdas (several on one line, in dicts, closing over locals),
closures and factories, callables passed as arguments (and a callable parameter),
``functools.partial``, a list of (W, b) tuples, an int parameter the program is
called with over 20+ values, writes into array arguments, seeded random draws and
``np.einsum`` in both calling forms.
"""
from __future__ import annotations

import functools
import linecache
import random
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

MARGIN = 1e-3
LIMIT = 1e3

# Optional constructs (``features=``): the kinds of code that found silent bugs in
# programs written by others (issue #13).  ``ALL_FEATURES`` is what a soak run uses;
# the default suite turns a feature on once main has the fix for what it finds.
ALL_FEATURES = ("lambda", "closure", "callable-arg", "partial", "tuples", "int-arg",
                "arg-write", "random", "einsum")

SHAPES = [(), (3,), (1, 3), (2, 1), (2, 3)]
PLAIN_NAMES = ["a", "b", "h", "z", "u", "v", "p", "q", "r", "m", "k", "acc", "hidden", "y2",
               "loss", "act", "pre", "w2", "tmp", "s"]
# Names that look like the compiler's own (hygiene): they must never collide.
TRICKY_NAMES = ["grad_x", "grad_a", "_stack", "t0", "t1", "out", "upstream", "record",
                "x_stack", "unbroadcast", "s2sgrad", "cond0", "z0", "x_1", "grad_out",
                "numpy", "unreduce", "a_stack", "upstream_1", "grad_t0", "i_1", "as_gradient"]


@dataclass
class Program:
    seed: int
    source: str
    name: str
    params: List[str]
    args: Tuple[Any, ...]
    wrt: Tuple[int, ...]
    features: List[str] = field(default_factory=list)
    # parameters that take several integer values (the program is called with each)
    int_params: Tuple[int, ...] = ()

    _counter = [0]

    def function(self, numpy_module=np):
        """Compile the program; its source is registered so s2sgrad can read it."""
        Program._counter[0] += 1
        filename = "<progen seed=%d #%d>" % (self.seed, Program._counter[0])
        lines = self.source.splitlines(True)
        linecache.cache[filename] = (len(self.source), None, lines, filename)
        ns: Dict[str, Any] = {"np": numpy_module, "functools": functools,
                              "__name__": "progen_program"}
        exec(compile(self.source, filename, "exec"), ns)
        return ns[self.name]

    def fresh_args(self):
        return tuple(copy_value(a) for a in self.args)

    def __str__(self):
        return "# progen seed %d (%s)\n%s# args: %s\n# wrt: %s\n" % (
            self.seed, ", ".join(self.features) or "straight-line", self.source,
            ", ".join("%s%s" % (n, _describe_arg(a)) for n, a in zip(self.params, self.args)),
            self.wrt)


def _describe_arg(a):
    if callable(a):
        return " = %s" % getattr(a, "__name__", repr(a))
    if isinstance(a, int) and not isinstance(a, bool):
        return " = %d" % a
    if isinstance(a, tuple):
        return "(%s)" % ", ".join(_describe_arg(v) for v in a)
    if isinstance(a, dict):
        return "{%s}" % ", ".join("%r: %s" % (k, _describe_arg(v)) for k, v in a.items())
    if isinstance(a, list):
        return "[%s]" % ", ".join(_describe_arg(v) for v in a)
    return str(np.shape(a))


def copy_value(a):
    """A deep copy of an argument (arrays, floats, and dicts / lists of them)."""
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, dict):
        return {k: copy_value(v) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return type(a)(copy_value(v) for v in a)
    return a


def leaves(a):
    """The arrays and floats inside an argument or gradient, in a fixed order."""
    if isinstance(a, dict):
        return [x for k in sorted(a) for x in leaves(a[k])]
    if isinstance(a, (list, tuple)):
        return [x for v in a for x in leaves(v)]
    return [a]


class _Reject(Exception):
    pass


def _identifiers(text):
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _bshape(*shapes):
    return tuple(np.broadcast_shapes(*shapes))


class Generator:
    def __init__(self, seed: int, control_flow: bool = True, tricky: Optional[bool] = None,
                 max_statements: int = 8, extended: bool = False, features=()):
        self.seed = seed
        self.optional = frozenset(features)
        self.draws: List[str] = []        # random draws emitted so far (replayed in order)
        self.rng_seed = None
        self.callable_param: Optional[str] = None
        self.layers_param: Optional[str] = None
        self.extended = extended          # while loops, element-write loops, helper calls
        self.helpers: List[str] = []      # module-level helper functions (source)
        self.helper_ns: Dict[str, Any] = {"np": np, "functools": functools}
        self.rng = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.control_flow = control_flow
        self.tricky = self.rng.random() < 0.3 if tricky is None else tricky
        self.max_statements = max_statements
        self.env: Dict[str, Any] = {}
        self.lines: List[str] = []
        self.features: List[str] = []
        self.used_names: set = set()
        self.loop_vars = 0
        self.last = None
        # names that may share memory (x and x.T, x[0], x.reshape(-1)): no ``+=`` on them,
        # which s2sgrad rejects (it would have to track the other views).
        self.viewish: set = set()

    # -- names --------------------------------------------------------------------------
    def fresh_name(self) -> str:
        pool = PLAIN_NAMES + (TRICKY_NAMES if self.tricky else [])
        for _ in range(100):
            n = self.rng.choice(pool)
            if n not in self.used_names and n not in ("np",):
                self.used_names.add(n)
                return n
        n = "v%d" % len(self.used_names)
        self.used_names.add(n)
        return n

    def vars(self, pred=lambda v: True) -> List[str]:
        return [n for n, v in self.env.items()
                if isinstance(v, (float, np.ndarray)) and not n.startswith("__") and pred(v)]

    # -- expressions ----------------------------------------------------------------------
    def pick(self, pred=lambda v: True) -> str:
        names = self.vars(pred)
        if not names:
            raise _Reject("no operand")
        # favour recent values so programs are deep rather than wide
        weights = [1.0 + i for i in range(len(names))]
        return self.rng.choices(names, weights)[0]

    def expression(self, want_shape=None) -> Tuple[str, Any, List[str]]:
        """(text, value, features) of a random operation on existing values."""
        for _ in range(60):
            try:
                text, feats = self._expression_text()
                value = self.eval(text)
                if want_shape is not None and np.shape(value) != want_shape:
                    raise _Reject("shape")
                self.check_value(value)
                return text, value, feats
            except (_Reject, FloatingPointError, ValueError, IndexError, ZeroDivisionError):
                continue
        raise _Reject("no expression")

    def eval(self, text):
        with np.errstate(all="raise"):
            return eval(text, {"np": np}, dict(self.env))

    def check_value(self, value):
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise _Reject("not float")
        if arr.size == 0:
            raise _Reject("empty")
        if not np.all(np.isfinite(arr)) or np.max(np.abs(arr), initial=0.0) > LIMIT:
            raise _Reject("too large")

    def far(self, values, what="kink"):
        if np.min(np.abs(values), initial=np.inf) < MARGIN:
            raise _Reject(what)

    def _expression_text(self) -> Tuple[str, List[str]]:
        r = self.rng
        kind = r.choice(["binary", "binary", "binary", "const", "unary", "unary", "reduce",
                         "shape", "select", "linalg", "power"])
        if "einsum" in self.optional and r.random() < 0.12:
            return self.einsum_text()
        env = self.env
        if kind == "binary":
            a = self.pick()
            b = self.pick()
            if a == b and r.random() < 0.7:
                raise _Reject("same")
            _bshape(np.shape(env[a]), np.shape(env[b]))
            op = r.choice(["+", "-", "*", "/", "max", "min"])
            if op == "/":
                return "%s / (1.5 + %s * %s)" % (a, b, b), ["divide"]
            if op in ("max", "min"):
                self.far(np.asarray(env[a]) - np.asarray(env[b]))
                return "np.%simum(%s, %s)" % (op, a, b), ["max/min"]
            return "%s %s %s" % (a, op, b), ["arith"]
        if kind == "const":
            a = self.pick()
            c = r.choice(["0.5", "2.0", "1.5", "-0.75", "3.0"])
            form = r.choice(["%s * {a}", "{a} - %s", "%s - {a}", "{a} / %s", "%s / (1.0 + {a} * {a})",
                             "-{a}", "{a} + %s"])
            return (form.replace("{a}", a) % c if "%s" in form else form.replace("{a}", a)), \
                ["const"]
        if kind == "unary":
            a = self.pick()
            fn = r.choice(["sin", "cos", "tanh", "exp", "log", "sqrt", "abs", "square"])
            if fn == "exp":
                return "np.exp(0.5 * %s)" % a, ["exp"]
            if fn in ("log", "sqrt"):
                return "np.%s(1.0 + %s * %s)" % (fn, a, a), [fn]
            if fn == "abs":
                self.far(env[a])
                return "np.abs(%s)" % a, ["abs"]
            if fn == "square":
                return "%s ** 2" % a, ["power"]
            return "np.%s(%s)" % (fn, a), [fn]
        if kind == "power":
            a = self.pick()
            form = r.choice(["{a} ** 3", "(1.0 + {a} * {a}) ** 0.5", "{a} * {a} * {a}"])
            scalars = self.vars(lambda v: np.ndim(v) == 0)
            if scalars and r.random() < 0.4:
                s = r.choice(scalars)
                if abs(float(env[s])) < 2.0:
                    return "(1.0 + %s * %s) ** %s" % (a, a, s), ["power-varying"]
            return form.replace("{a}", a), ["power"]
        if kind == "reduce":
            a = self.pick(lambda v: np.ndim(v) >= 1)
            nd = np.ndim(env[a])
            fn = r.choice(["sum", "sum", "mean", "max", "min", "method-sum", "method-mean"])
            axis = r.choice([None] + list(range(nd)) + [-1])
            keep = r.random() < 0.3
            if fn in ("max", "min"):
                arr = np.asarray(env[a])
                s = np.sort(arr, axis=axis) if axis is not None else np.sort(arr.ravel())
                ax = -1 if axis is None else axis
                if s.shape[ax] > 1:
                    top = np.take(s, [-1, -2] if fn == "max" else [0, 1], axis=ax)
                    self.far(np.take(top, 0, axis=ax) - np.take(top, 1, axis=ax), "tie")
            args = a
            if axis is not None:
                args += ", axis=%d" % axis
            if keep:
                args += ", keepdims=True"
            if fn.startswith("method-"):
                m = fn[len("method-"):]
                rest = args[len(a):].lstrip(", ")
                return "%s.%s(%s)" % (a, m, rest), ["reduce", "method"]
            return "np.%s(%s)" % (fn, args), ["reduce" if fn in ("sum", "mean") else "max/min"]
        if kind == "shape":
            a = self.pick(lambda v: np.ndim(v) >= 1)
            shape = np.shape(env[a])
            choices = ["{a}.T", "np.transpose({a})", "{a}.reshape(-1)", "np.reshape({a}, (%d,))"
                       % int(np.prod(shape)), "{a}[0]", "{a}[1:]", "{a}[::-1]", "{a}[-1]"]
            if len(shape) == 2:
                choices += ["{a}[:, 0]", "{a}[0, 1:]", "{a}[:, ::2]", "np.transpose({a}, (1, 0))"]
            form = r.choice(choices)
            return form.replace("{a}", a), ["shape" if "[" not in form else "index"]
        if kind == "select":
            c = self.pick()
            a = self.pick()
            b = self.pick()
            _bshape(np.shape(env[c]), np.shape(env[a]), np.shape(env[b]))
            self.far(env[c])
            return "np.where(%s > 0.0, %s, %s)" % (c, a, b), ["where"]
        if kind == "linalg":
            a = self.pick(lambda v: np.ndim(v) >= 1 and np.shape(v)[-1] == 3)
            b = self.pick(lambda v: np.ndim(v) >= 1 and np.shape(v)[0] == 3 and np.ndim(v) <= 2)
            form = r.choice(["%s @ %s", "np.dot(%s, %s)"])
            if np.ndim(env[a]) > 2 or np.ndim(env[b]) > 2:
                raise _Reject("nd")
            return form % (a, b), ["matmul" if "@" in form else "dot"]
        raise _Reject(kind)

    # -- statements -----------------------------------------------------------------------
    def emit(self, indent: int, text: str):
        self.lines.append("    " * indent + text)

    def assign(self, indent: int, reassign_ok=True, keep_shape=False):
        text, value, feats = self.expression()
        if "shape" in feats or "index" in feats or "einsum" in feats:
            self.viewish.update(n for n in self.vars() if n in _identifiers(text))
            self.viewish.add("__pending__")
        targets = self.vars()
        if reassign_ok and targets and self.rng.random() < 0.3:
            t = self.rng.choice(targets)
            if keep_shape and np.shape(self.env[t]) != np.shape(value):
                raise _Reject("loop shape")
            if self.rng.random() < 0.3 and t not in self.viewish and \
                    _bshape(np.shape(self.env[t]), np.shape(value)) == np.shape(self.env[t]) \
                    and isinstance(self.env[t], np.ndarray) == isinstance(value, np.ndarray):
                op = self.rng.choice(["+", "-", "*"])
                new = self.eval("%s %s (%s)" % (t, op, text))
                self.check_value(new)
                self.viewish.discard("__pending__")
                self.emit(indent, "%s %s= %s" % (t, op, text))
                self.env[t] = new
                self.last = t
                self.features.append("augassign")
                self.features.extend(feats)
                return t
            self.emit(indent, "%s = %s" % (t, text))
            self.env[t] = value
            self.last = t
            self._mark(t)
            self.features.append("reassign")
        else:
            if keep_shape:
                raise _Reject("new name in loop")
            t = self.fresh_name()
            self.emit(indent, "%s = %s" % (t, text))
            self.env[t] = value
            self.last = t
            self._mark(t)
        self.features.extend(feats)
        return t

    def _mark(self, t):
        if "__pending__" in self.viewish:
            self.viewish.discard("__pending__")
            self.viewish.add(t)

    def statement(self):
        if self.optional and self.rng.random() < 0.35:
            kinds = sorted(self.optional & {"lambda", "closure", "callable-arg", "partial",
                                            "random", "tuples"})
            if kinds:
                kind = self.rng.choice(kinds)
                {"lambda": self.lambda_stmt, "closure": self.closure_stmt,
                 "callable-arg": self.callable_arg_stmt, "partial": self.partial_stmt,
                 "random": self.random_stmt, "tuples": self.layers_stmt}[kind]()
                return
        r = self.rng.random()
        if self.control_flow and r < 0.15:
            self.if_block()
        elif self.control_flow and r < 0.27:
            self.for_block()
        elif self.extended and self.control_flow and r < 0.33:
            self.for_block(style="while")
        elif self.extended and self.control_flow and r < 0.40:
            self.write_loop()
        elif self.extended and r < 0.50:
            self.call_helper()
        else:
            self.assign(1)

    # -- optional constructs (ALL_FEATURES) -------------------------------------------------
    UNARY_BODIES = ["np.sin({t}) * 0.5", "{t} * {t}", "np.tanh({t}) + 1.0",
                    "{t} / (1.5 + {t} * {t})", "np.exp(0.3 * {t})", "np.cos({t}) - {t}"]
    FN_NAMES = ["f", "g", "fn", "act", "sq", "cube", "op", "step", "phi", "psi"]

    def fn_name(self) -> str:
        for _ in range(50):
            n = self.rng.choice(self.FN_NAMES) + ("" if self.rng.random() < 0.5 else
                                                  str(self.rng.randrange(10)))
            if n not in self.used_names:
                self.used_names.add(n)
                return n
        raise _Reject("no function name")

    def body_of(self, var="t"):
        return self.rng.choice(self.UNARY_BODIES).replace("{t}", var)

    def run(self, lines: List[str], results: List[str], feature: str):
        """Run ``lines`` (function-body code, unindented) on the shadow values; keep them
        if the values named ``results`` are fine."""
        g: Dict[str, Any] = dict(self.helper_ns)
        g.update({k: copy_value(v) for k, v in self.env.items()})
        with np.errstate(all="raise"):
            exec("\n".join(lines), g)
        for n in results:
            self.check_value(g[n])
        for n in list(g):
            if n in self.env or n in results or (n not in self.helper_ns and n != "__builtins__"):
                self.env[n] = g[n]
        for line in lines:
            self.emit(1, line)
        self.last = results[-1]
        self.features.append(feature)

    def add_helper(self, src: str):
        self.helpers.append(src)
        exec(src, self.helper_ns)

    def _operands(self):
        a, b = self.pick(), self.pick()
        _bshape(np.shape(self.env[a]), np.shape(self.env[b]))
        return a, b

    def lambda_stmt(self):
        r = self.rng
        a, b = self._operands()
        t = self.fresh_name()
        form = r.choice(["pair", "dict", "closure", "module"])
        if form == "pair":          # several lambdas on one line
            f1, f2 = self.fn_name(), self.fn_name()
            lines = ["%s, %s = (lambda t: %s), (lambda t: %s)" % (f1, f2, self.body_of(),
                                                                 self.body_of()),
                     "%s = %s(%s) %s %s(%s)" % (t, f1, a, r.choice("+-*"), f2, b)]
        elif form == "dict":        # lambdas in a dict
            d = self.fn_name()
            lines = ['%s = {"p": lambda t: %s, "q": lambda t, u: %s * u}'
                     % (d, self.body_of(), self.body_of()),
                     '%s = %s["p"](%s) + %s["q"](%s, %s)' % (t, d, a, d, b, a)]
        elif form == "closure":     # a lambda reading a local (maybe differentiated) value
            f = self.fn_name()
            lines = ["%s = lambda t: %s * %s + np.sin(%s)" % (f, self.body_of(), b, b),
                     "%s = %s(%s)" % (t, f, a)]
        else:                       # module-level lambdas, several on one line
            f1, f2 = "lam%d" % len(self.helpers), "lam%db" % len(self.helpers)
            self.add_helper("%s, %s = (lambda t: %s), (lambda t: %s)\n"
                            % (f1, f2, self.body_of(), self.body_of()))
            lines = ["%s = %s(%s) * %s(%s)" % (t, f1, a, f2, b)]
        self.run(lines, [t], "lambda")

    def closure_stmt(self):
        r = self.rng
        a, c = self._operands()
        t = self.fresh_name()
        if r.random() < 0.5:        # a module-level factory
            k = len(self.helpers)
            self.add_helper("def make%d(c):\n    def step(t):\n        return %s * c + np.sin(c)"
                            "\n    return step\n" % (k, self.body_of()))
            if r.random() < 0.5:
                lines = ["%s = make%d(%s)(%s)" % (t, k, c, a)]
            else:
                f = self.fn_name()
                lines = ["%s = make%d(%s)" % (f, k, c), "%s = %s(%s)" % (t, f, a)]
        else:                       # a nested def closing over a local
            f = self.fn_name()
            lines = ["def %s(t):" % f, "    return %s + %s * t" % (self.body_of(), c),
                     "%s = %s(%s)" % (t, f, a)]
        self.run(lines, [t], "closure")

    def callable_arg_stmt(self):
        r = self.rng
        a, b = self._operands()
        t = self.fresh_name()
        k = len(self.helpers)
        self.add_helper("def apply%d(f, t, s):\n    return f(t) * s + f(s)\n" % k)
        which = r.choice(["np.tanh", "np.sin", "lambda", "helper", "param"])
        if which == "lambda":
            fn = "lambda u: %s" % self.body_of("u")
        elif which == "helper":
            fn = "unary%d" % k
            self.add_helper("def unary%d(u):\n    return %s\n" % (k, self.body_of("u")))
        elif which == "param" and self.callable_param is not None:
            fn = self.callable_param
        else:
            fn = "np.tanh" if which != "np.sin" else "np.sin"
        self.run(["%s = apply%d(%s, %s, %s)" % (t, k, fn, a, b)], [t], "callable-arg")

    def partial_stmt(self):
        r = self.rng
        a, c = self._operands()
        t = self.fresh_name()
        f = self.fn_name()
        form = r.choice(["power", "multiply", "helper"])
        if form == "power":
            lines = ["%s = functools.partial(np.power, %s)" % (f, a),
                     "%s = %s(%s)" % (t, f, r.choice(["2.0", "3.0", "2"]))]
        elif form == "multiply":
            lines = ["%s = functools.partial(np.multiply, %s)" % (f, c),
                     "%s = %s(%s)" % (t, f, a)]
        else:
            k = len(self.helpers)
            self.add_helper("def scaled%d(a, b=2.0):\n    return %s * b\n"
                            % (k, self.body_of("a")))
            lines = ["%s = functools.partial(scaled%d, b=%s)" % (f, k, c),
                     "%s = %s(%s)" % (t, f, a)]
        self.run(lines, [t], "partial")

    def random_stmt(self):
        """A seeded draw (the function creates its generator: a plain call and the
        gradient's forward pass must see the same numbers)."""
        r = self.rng
        a = self.pick()
        shape = np.shape(self.env[a])
        lines = []
        if self.rng_seed is None:
            self.rng_seed = r.randrange(1000)
            lines.append("rng = np.random.default_rng(%d)" % self.rng_seed)
            self.used_names.add("rng")
        draw = r.choice(["rng.normal(size=%r)" % (shape,), "(rng.random(%r) > 0.3) / 0.7"
                         % (shape,), "rng.uniform(0.5, 1.5, size=%r)" % (shape,)])
        # the shadow generator replays every draw emitted before this one
        gen = np.random.default_rng(self.rng_seed)
        for d in self.draws:
            eval(d, {"np": np, "rng": gen})
        value = eval(draw, {"np": np, "rng": gen})
        t = self.fresh_name()
        g = dict(self.env)
        g["__draw__"] = value
        lines.append("%s = %s * %s" % (t, a, draw))
        with np.errstate(all="raise"):
            new = eval("%s * __draw__" % a, {"np": np}, g)
        self.check_value(new)
        for line in lines:
            self.emit(1, line)
        self.draws.append(draw)
        self.env[t] = new
        self.last = t
        self.features.append("random")

    def layers_stmt(self):
        """``for W, b in layers: h = np.tanh(h @ W + b)`` over a list of (W, b) tuples."""
        if self.layers_param is None:
            raise _Reject("no layers")
        h = self.pick(lambda v: np.ndim(v) >= 1 and np.shape(v)[-1] == 3)
        Wn, bn = "Wl", "bl"
        lines = ["for %s, %s in %s:" % (Wn, bn, self.layers_param),
                 "    %s = np.tanh(%s @ %s + %s)" % (h, h, Wn, bn)]
        g = dict(self.helper_ns)
        g.update({k: copy_value(v) for k, v in self.env.items()})
        with np.errstate(all="raise"):
            exec("\n".join(lines), g)
        self.check_value(g[h])
        for line in lines:
            self.emit(1, line)
        self.env[h] = g[h]
        self.last = h
        self.features.append("tuples")

    def einsum_text(self) -> Tuple[str, List[str]]:
        r = self.rng
        env = self.env
        a = self.pick(lambda v: np.ndim(v) >= 1)
        sa = np.shape(env[a])
        forms = []
        if len(sa) == 2:
            forms += [("'ij->ji', {a}", "{a}, [0, 1], [1, 0]"),
                      ("'ij->', {a}", "{a}, [0, 1], []"),
                      ("'ij->j', {a}", "{a}, [0, 1], [1]")]
        others = [b for b in self.vars(lambda v: np.ndim(v) >= 1)]
        for b in others:
            sb = np.shape(env[b])
            if len(sa) == 2 and sb == (sa[1],):
                forms.append(("'ij,j->i', {a}, %s" % b, "{a}, [0, 1], %s, [1], [0]" % b))
            if len(sa) == 1 and len(sb) == 1:
                forms.append(("'i,j->ij', {a}, %s" % b, "{a}, [0], %s, [1], [0, 1]" % b))
            if sb == sa:
                forms.append(("'...i,...i->...', {a}, %s" % b,
                              "{a}, [Ellipsis, 0], %s, [Ellipsis, 0], [Ellipsis]" % b))
            if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:
                forms.append(("'ij,jk->ik', {a}, %s" % b, "{a}, [0, 1], %s, [1, 2], [0, 2]" % b))
        if not forms:
            raise _Reject("no einsum")
        sub, lists = r.choice(forms)
        text = sub if r.random() < 0.5 else lists
        return "np.einsum(%s)" % text.replace("{a}", a), ["einsum"]

    # -- extended statements ----------------------------------------------------------------
    HELPERS = [
        "def {h}(a, b):\n    c = a * b\n    return np.tanh(c) + a\n",
        "def {h}(a, b):\n    return np.sin(a) * b - 0.5 * a\n",
        "def {h}(a, b=2.0):\n    return a * b + np.cos(a)\n",
        "def {h}(a, b):\n    if np.sum(a) > 0.0:\n        return a * b\n    return a - b\n",
        "def {h}(a, b):\n    s = a / (1.5 + b * b)\n    for i in range(2):\n"
        "        s = s + np.tanh(s) * 0.5\n    return s\n",
    ]

    def call_helper(self):
        if not self.helpers or self.rng.random() < 0.4:
            k = len(self.helpers)       # (helper<k>: k is unique among all helpers)
            src = self.rng.choice(self.HELPERS).replace("{h}", "helper%d" % k)
            self.helpers.append(src)
            exec(src, self.helper_ns)
        mine = [h for h in self.helpers if h.startswith("def helper")]
        if not mine:
            raise _Reject("no helper")
        src = self.rng.choice(mine)
        name = src[len("def "):src.index("(")]
        a, b = self.pick(), self.pick()
        _bshape(np.shape(self.env[a]), np.shape(self.env[b]))
        if "np.sum(a) > 0.0" in src:
            self.far(float(np.sum(self.env[a])), "branch")
        call = "%s(%s)" % (name, a) if "b=2.0" in src and self.rng.random() < 0.5 \
            else "%s(%s, %s)" % (name, a, b)
        with np.errstate(all="raise"):
            value = eval(call, dict(self.helper_ns), dict(self.env))
        self.check_value(value)
        t = self.fresh_name()
        self.emit(1, "%s = %s" % (t, call))
        self.env[t] = value
        self.last = t
        self.features.append("call")

    def write_loop(self):
        v = self.pick(lambda a: isinstance(a, np.ndarray) and a.ndim >= 1)
        shape = np.shape(self.env[v])
        c = self.pick(lambda a: np.ndim(a) == 0 or np.shape(a) == shape[1:])
        form = self.rng.choice(["np.tanh({v}[{i}] * {c})", "{v}[{i}] * {c} + 0.5",
                                "np.sin({v}[{i}]) * {c}"])
        buf = self.fresh_name()
        i = "r%d" % self.loop_vars
        self.loop_vars += 1
        body = form.format(v=v, i=i, c=c)
        lines = ["    %s = np.zeros(%s.shape)" % (buf, v),
                 "    for %s in range(%d):" % (i, shape[0]),
                 "        %s[%s] = %s" % (buf, i, body)]
        env = {k: copy_value(v) for k, v in self.env.items()}
        with np.errstate(all="raise"):
            exec("\n".join(line[4:] for line in lines), {"np": np}, env)
        self.check_value(env[buf])
        self.lines += lines
        self.env[buf] = env[buf]
        self.last = buf
        self.features.append("element-write")

    def _snapshot(self):
        return (dict(self.env), list(self.lines), list(self.features), set(self.used_names),
                self.last, set(self.viewish), list(self.draws), self.rng_seed,
                list(self.helpers))

    def _restore(self, snap):
        self.env, self.lines, self.features, self.used_names, self.last, self.viewish = \
            dict(snap[0]), list(snap[1]), list(snap[2]), set(snap[3]), snap[4], set(snap[5])
        self.draws, self.rng_seed, self.helpers = list(snap[6]), snap[7], list(snap[8])

    def if_block(self):
        c = self.pick()
        test_kind = self.rng.choice(["sum", "sum", "scalar"])
        if test_kind == "scalar" and np.ndim(self.env[c]) == 0:
            test, val = "%s > 0.0" % c, float(self.env[c])
        else:
            test, val = "np.sum(%s) > 0.0" % c, float(np.sum(self.env[c]))
        self.far(val, "branch")
        taken = val > 0.0
        target = self.rng.choice(self.vars())
        shape = np.shape(self.env[target])
        # both branches assign ``target`` (same shape: the code after must not care)
        before = self._snapshot()
        self.emit(1, "if %s:" % test)
        branch_lines = []
        results = []
        for branch in (True, False):
            self._restore(before)
            self.lines = []
            n = self.rng.randint(1, 2)
            for _ in range(n - 1):
                self.assign(2, reassign_ok=False)
            text, value, feats = self.expression(want_shape=shape)
            if "shape" in feats or "index" in feats or "einsum" in feats:
                self.viewish.add(target)
                self.viewish.update(n for n in self.vars() if n in _identifiers(text))
            self.emit(2, "%s = %s" % (target, text))
            self.env[target] = value
            self.features.extend(feats)
            branch_lines.append(self.lines)
            results.append(self._snapshot())
        chosen = results[0] if taken else results[1]
        self._restore(before)
        names_defined = set(chosen[0])
        self.env = {k: v for k, v in chosen[0].items() if k in before[0] or k == target}
        # names first defined inside a branch are not used after it
        self.used_names |= results[0][3] | results[1][3]
        self.viewish = results[0][5] | results[1][5]
        self.features = chosen[2] + ["if"]
        self.last = target
        self.lines = before[1] + ["    if %s:" % test] + branch_lines[0] + ["    else:"] \
            + branch_lines[1]
        del names_defined

    def for_block(self, style="for"):
        n = self.rng.randint(1, 4)
        loopvar = "i" if self.loop_vars == 0 else "j%d" % self.loop_vars
        if style == "while":
            loopvar = "it%d" % self.loop_vars
        self.loop_vars += 1
        carried = self.vars()
        if not carried:
            raise _Reject("nothing to carry")
        before = self._snapshot()
        body_n = self.rng.randint(1, 2)
        # Decide the body text once, with shadow values of the first iteration, then check
        # every iteration's values by running it.
        self.lines = []
        self.env[loopvar] = 0
        body_env_names = set(self.env)
        written = []
        for _ in range(body_n):
            t = self.assign(2, reassign_ok=True, keep_shape=True) if self.rng.random() < 0.8 \
                else self._loop_index_stmt(loopvar)
            written.append(t)
        if not any(t in before[0] for t in written):
            raise _Reject("loop carries nothing")
        body = list(self.lines)
        # replay all iterations from the state before the loop
        env = {k: copy_value(v) for k, v in before[0].items()}   # the body may update in place
        code = "\n".join(line[8:] for line in body)
        for it in range(n):
            env[loopvar] = it
            with np.errstate(all="raise"):
                exec(code, {"np": np}, env)
            for name in written:
                self.check_value(env[name])
                if np.shape(env[name]) != np.shape(before[0].get(name, env[name])):
                    raise _Reject("loop changes shape")
            self._recheck_kinks(body, env)
        if style == "while":
            self.lines = before[1] + ["    %s = 0" % loopvar,
                                      "    while %s < %d:" % (loopvar, n)] + body + [
                "        %s = %s + 1" % (loopvar, loopvar)]
        else:
            self.lines = before[1] + ["    for %s in range(%d):" % (loopvar, n)] + body
        self.env = {k: v for k, v in env.items() if k in body_env_names and k != loopvar}
        self.features.append(style)

    def _loop_index_stmt(self, loopvar):
        t = self.pick(lambda v: isinstance(v, np.ndarray) or isinstance(v, float))
        text = "%s + 0.1 * %s * np.tanh(%s)" % (t, loopvar, t)
        self.emit(2, "%s = %s" % (t, text))
        self.env[t] = self.eval(text)
        self.features.append("loop-index")
        return t

    def _recheck_kinks(self, body, env):
        # Kinks were checked on the first iteration's values only; re-check the operands
        # of kinked operations against the current values.
        for line in body:
            for fn in ("np.abs(", "np.maximum(", "np.minimum(", "np.where(", "np.max(",
                       "np.min(", ".max(", ".min("):
                if fn in line:
                    raise _Reject("kink in loop")  # keep loops smooth: simplest safe rule

    # -- the whole program ------------------------------------------------------------------
    def program(self) -> Program:
        r = self.rng
        nparams = r.randint(1, 4)
        params = []
        for k in range(nparams):
            name = self.fresh_name() if self.tricky and r.random() < 0.5 else "x%d" % k
            self.used_names.add(name)
            params.append(name)
        args = []
        for name in params:
            shape = r.choice(SHAPES + [()])
            if shape == ():
                value = float(np.round(self.nrng.uniform(-1.5, 1.5), 3))
                if abs(value) < 0.05:
                    value = 0.7
            else:
                value = np.round(self.nrng.uniform(-1.5, 1.5, size=shape), 3)
            self.env[name] = value
            args.append(copy_value(value))
        if r.random() < 0.35:     # a matrix so that @ / np.dot have partners
            name = "W" if "W" not in params else "W2"
            params.append(name)
            self.used_names.add(name)
            value = np.round(self.nrng.uniform(-1.0, 1.0, size=r.choice([(3,), (3, 2), (3, 3)])), 3)
            self.env[name] = value
            args.append(copy_value(value))
        opt = self.optional
        int_params = []
        if "callable-arg" in opt and r.random() < 0.3:
            name = "act" if "act" not in self.used_names else "act_fn"
            params.append(name)
            self.used_names.add(name)
            self.callable_param = name
            self.env[name] = r.choice([np.tanh, np.sin])
            args.append(self.env[name])
        if "tuples" in opt and r.random() < 0.4:
            name = "layers"
            params.append(name)
            self.used_names.add(name)
            self.layers_param = name
            value = [(np.round(self.nrng.uniform(-0.8, 0.8, size=(3, 3)), 3),
                      np.round(self.nrng.uniform(-0.5, 0.5, size=(3,)), 3))
                     for _ in range(r.randint(1, 2))]
            self.env[name] = value
            args.append(copy_value(value))
            if not self.vars(lambda v: np.ndim(v) >= 1 and np.shape(v)[-1] == 3):
                hn = "x%d" % len(params)
                params.append(hn)
                self.used_names.add(hn)
                self.env[hn] = np.round(self.nrng.uniform(-1.0, 1.0, size=(2, 3)), 3)
                args.append(copy_value(self.env[hn]))
        if "int-arg" in opt and r.random() < 0.35:
            int_params.append(len(params))
            params.append("it")
            self.used_names.add("it")
            self.env["it"] = 3
            args.append(3)
        if "arg-write" in opt and r.random() < 0.3:
            arrays = [p for p in params if isinstance(self.env.get(p), np.ndarray)
                      and self.env[p].ndim >= 1 and self.env[p].shape[0] >= 2]
            if arrays:
                x = r.choice(arrays)
                line = r.choice(["{x}[0] = np.sin({x}[-1]) * 2.0", "{x}[0] = {x}[0] * 1.5 + 0.25",
                                 "{x}[1:] = {x}[1:] * {x}[0]"]).replace("{x}", x)
                g = {k: copy_value(v) for k, v in self.env.items()}
                g["np"] = np
                exec(line, g)
                self.env[x] = g[x]
                self.emit(1, line)
                self.features.append("arg-write")
        n = r.randint(2, self.max_statements)
        done = 0
        attempts = 0
        while done < n and attempts < 10 * n:
            attempts += 1
            snap = self._snapshot()
            try:
                self.statement()
                done += 1
            except (_Reject, FloatingPointError, ValueError, IndexError):
                self._restore(snap)
        # The output: a scalar combining the last value and one more.
        last = self.last if self.last in self.env else self.vars()[-1]
        other = self.rng.choice(self.vars())
        ret = r.choice(["np.sum({l})", "np.sum({l} * {l})", "np.sum({l}) + np.sum({o} * {o})",
                        "np.mean({l} * {o})"])
        ret = ret.replace("{l}", last).replace("{o}", other)
        try:
            self.check_value(self.eval(ret))
        except (_Reject, FloatingPointError, ValueError):
            ret = "np.sum(np.tanh(%s))" % last
        if int_params:      # an int that only enters arithmetic
            ret = r.choice(["(%s) / (1.0 + it)", "(%s) * (1.0 + 0.1 * it)",
                            "(%s) + 0.01 * it * np.sum(%s)" % ("%s", last)]) % ret
            self.features.append("int-arg")
        self.emit(1, "return " + ret)
        packable = [i for i, a in enumerate(args) if not callable(a) and not (
            isinstance(a, int) and not isinstance(a, bool))]
        if self.extended and len(packable) >= 2 and r.random() < 0.35:
            # Pack some parameters into a dict or list argument (a model's parameters).
            k = r.randint(2, len(packable))
            packed = sorted(r.sample(packable, k))
            as_dict = r.random() < 0.5
            cname = "params" if as_dict else "weights"
            while cname in self.used_names:
                cname += "_"
            unpack = []
            for j, idx in enumerate(packed):
                key = "%r" % params[idx] if as_dict else "%d" % j
                unpack.append("    %s = %s[%s]" % (params[idx], cname, key))
            container = {params[i]: args[i] for i in packed} if as_dict \
                else [args[i] for i in packed]
            rest = [i for i in range(len(params)) if i not in packed]
            params = [cname] + [params[i] for i in rest]
            args = [container] + [args[i] for i in rest]
            self.lines = unpack + self.lines
            self.features.append("dict-param" if as_dict else "list-param")
        floats = [i for i, a in enumerate(args) if not callable(a) and not (
            isinstance(a, int) and not isinstance(a, bool))]
        k = r.randint(1, len(floats))
        wrt = tuple(sorted(r.sample(floats, k)))
        name = "prog%d" % self.seed
        source = "".join(h + "\n\n" for h in self.helpers) + \
            "def %s(%s):\n%s\n" % (name, ", ".join(params), "\n".join(self.lines))
        feats = sorted(set(self.features))
        if self.tricky:
            feats.append("tricky-names")
        if "partial" in feats:
            source = "import functools\n\n" + source
        return Program(self.seed, source, name, params, tuple(args), wrt, feats,
                       tuple(params.index("it") for _ in int_params))


def generate(seed: int, control_flow: bool = True, tricky: Optional[bool] = None,
             extended: bool = False, features=()) -> Program:
    return Generator(seed, control_flow=control_flow, tricky=tricky,
                     extended=extended, features=features).program()


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    print(generate(seed, control_flow="--no-control-flow" not in sys.argv,
                   extended="--extended" in sys.argv,
                   features=ALL_FEATURES if "--all" in sys.argv else ()))
