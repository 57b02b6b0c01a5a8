"""The ``s2sgrad`` command: show, export, check and explain generated gradients.

    s2sgrad show    path/to/file.py:func [--wrt 0,1 | --wrt W,b] [--args "..."]
    s2sgrad export  path/to/file.py:func -o grad_func.py [--args "..."]
    s2sgrad check   path/to/file.py:func --args "..."  (or --args-file args.py)
    s2sgrad explain path/to/file.py:func --args "..." [--svg graph.svg]

Errors a user can fix (missing file or function, bad --wrt, an unsupported
construct) print a short message with what to do and exit with status 2 (usage)
or 1 (the function or its gradient); no tracebacks.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import shlex
import sys
import time
import traceback
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

import s2sgrad
from s2sgrad.api.gradient import _resolve_wrt, grad, value_and_grad
from s2sgrad.errors import S2SGradError, WrtError
from s2sgrad.tools.export import export_source
from s2sgrad.version import __version__


class CLIError(Exception):
    """A problem the user can fix; printed without a traceback."""

    def __init__(self, message: str, hint: str = "", status: int = 2):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status


# --------------------------------------------------------------------------
# Loading ``path/to/file.py:func``

_DECORATED_WRT: dict = {}     # id(function) -> wrt of its @grad(wrt=...) decorator


def load_target(spec: str) -> Tuple[Callable, str]:
    """The function named by ``file.py:func`` (or ``package.module:func``)."""
    if ":" not in spec or spec.endswith(":"):
        raise CLIError("expected FILE.py:FUNCTION, got %r" % spec,
                       "name the function after a colon, e.g. model.py:loss")
    path, _, qualname = spec.rpartition(":")
    if path.endswith(".py") or os.sep in path or "/" in path:
        module = _load_file(path)
    else:
        module = _load_module(path)
    obj: Any = module
    for part in qualname.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n, v in vars(module).items()
                           if inspect.isfunction(getattr(v, "__wrapped__", v))
                           and getattr(v, "__module__", None) == module.__name__)
            raise CLIError("%s has no function %r" % (path, qualname),
                           "functions defined there: %s" % (", ".join(names) or "(none)"))
        obj = getattr(obj, part)
    decorated = None
    if hasattr(obj, "_wrt") and hasattr(obj, "__wrapped__"):   # @grad(wrt=...)-decorated
        decorated = obj._wrt if getattr(obj, "_tuple", True) else obj._wrt[0]
    obj = getattr(obj, "__wrapped__", obj)
    if not inspect.isfunction(obj):
        raise CLIError("%s:%s is a %s, not a function" % (path, qualname, type(obj).__name__),
                       "name a function defined with def (or a lambda assigned to a name)")
    _DECORATED_WRT[id(obj)] = decorated
    return obj, qualname


def _load_file(path: str):
    if not os.path.exists(path):
        raise CLIError("file not found: %s" % path,
                       "check the path (it is relative to %s)" % os.getcwd())
    if os.path.isdir(path) or not path.endswith(".py"):
        raise CLIError("%s is not a Python file" % path, "give the path of a .py file")
    path = os.path.abspath(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() and stem not in sys.modules else "_s2sgrad_cli_" + (
        stem if stem.isidentifier() else "module")
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SystemExit:
        raise CLIError("importing %s called sys.exit()" % path,
                       "guard script code with `if __name__ == \"__main__\":`")
    except BaseException as exc:  # report the user's error, not ours
        raise CLIError("importing %s failed: %s%s" % (path, _one_line(exc), _user_frame(exc, path)),
                       "fix the error above, or guard script code with "
                       "`if __name__ == \"__main__\":`", status=1)
    return module


def _load_module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise CLIError("cannot import module %r: %s" % (name, exc),
                       "give a file path ending in .py, or a module on PYTHONPATH")


def _one_line(exc: BaseException) -> str:
    return "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__


def _user_frame(exc: BaseException, path: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename) == path]
    if not frames:
        return ""
    f = frames[-1]
    return "\n  at line %d: %s" % (f.lineno, (f.line or "").strip())


# --------------------------------------------------------------------------
# Arguments


def parse_wrt(text: Optional[str]) -> Any:
    """``"0,1"`` -> (0, 1); ``"W,b"`` -> ("W", "b"); ``"0"`` -> 0 (one gradient, not a tuple)."""
    if text is None:
        return None
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise CLIError("bad --wrt %r: empty entry" % text,
                       "give indices or names separated by commas, e.g. --wrt 0,1 or --wrt W,b")
    out: List[Any] = []
    for t in items:
        if t.lstrip("-").isdigit():
            out.append(int(t))
        elif t.isidentifier():
            out.append(t)
        else:
            raise CLIError("bad --wrt entry %r" % t,
                           "give parameter indices or names, e.g. --wrt 0,1 or --wrt W,b")
    return out[0] if len(out) == 1 and "," not in text else tuple(out)


def eval_args(fn: Callable, text: Optional[str], path: Optional[str]) -> Optional[tuple]:
    """Evaluate ``--args`` (a Python expression list) or ``--args-file``."""
    if text is None and path is None:
        return None
    namespace = dict(fn.__globals__)
    namespace.setdefault("np", np)
    namespace.setdefault("numpy", np)
    if path is not None:
        if not os.path.exists(path):
            raise CLIError("args file not found: %s" % path,
                           "write a .py file that sets `args = (...)`")
        code = open(path, encoding="utf-8").read()
        try:
            exec(compile(code, path, "exec"), namespace)
        except Exception as exc:
            raise CLIError("running the args file %s failed: %s" % (path, _one_line(exc)),
                           "the file should set `args = (...)` using NumPy as np")
        if "args" not in namespace:
            raise CLIError("the args file %s does not set `args`" % path,
                           "add a line like: args = (np.ones(3), 2.0)")
        value = namespace["args"]
        args = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    else:
        try:
            args = eval(compile("(%s,)" % text, "<--args>", "eval"), namespace)
        except Exception as exc:
            raise CLIError("cannot evaluate --args %r: %s" % (text, _one_line(exc)),
                           "give Python expressions separated by commas; NumPy is np, "
                           "e.g. --args \"np.ones(3), 2.0\"")
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in params if p.default is p.empty]
    if not len(required) <= len(args) <= len(params):
        raise CLIError("%s takes %s argument(s) (%s) but --args gives %d"
                       % (fn.__name__, len(required) if len(required) == len(params)
                          else "%d to %d" % (len(required), len(params)),
                          ", ".join(p.name for p in params), len(args)),
                       "give one value per parameter, separated by commas")
    return args


def _is_float_arg(a: Any) -> bool:
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def default_wrt(fn: Callable, args: Optional[tuple]) -> Any:
    """All float arguments when example arguments are given, else the first parameter."""
    if args is None:
        return 0
    idx = tuple(i for i, a in enumerate(args) if _is_float_arg(a))
    if not idx:
        raise CLIError("none of the arguments of %s is a float or a float array, so there is "
                       "nothing to differentiate" % fn.__name__,
                       "write floats (2.0, not 2) in --args, or name the parameters with --wrt")
    return idx if len(idx) > 1 else idx[0]


def _wrt_indices(fn: Callable, wrt: Any) -> Tuple[int, ...]:
    return _resolve_wrt(fn, wrt)[0]


def floatify(args: tuple, indices: Sequence[int]) -> tuple:
    """Python ints passed for differentiated parameters become floats (``2`` -> ``2.0``)."""
    out = list(args)
    for i in indices:
        if i < len(out) and isinstance(out[i], int) and not isinstance(out[i], bool):
            out[i] = float(out[i])
    return tuple(out)


def _prepare(ns) -> Tuple[Callable, str, Any, Optional[tuple]]:
    fn, qualname = load_target(ns.target)
    args = eval_args(fn, ns.args, ns.args_file)
    wrt = parse_wrt(ns.wrt)
    if wrt is None and _DECORATED_WRT.get(id(fn)) is not None:
        wrt = _DECORATED_WRT[id(fn)]
    elif wrt is None:
        wrt = default_wrt(fn, args)
        if args is not None:
            params = list(inspect.signature(fn).parameters)
            ints = [params[i] for i, a in enumerate(args) if i < len(params)
                    and isinstance(a, (int, np.integer)) and not isinstance(a, bool)]
            if ints:
                sys.stderr.write("note: not differentiating %s (integer arguments); write them "
                                 "as floats (2.0) or name them with --wrt\n" % ", ".join(ints))
    try:
        indices = _wrt_indices(fn, wrt)
    except WrtError as exc:
        params = list(inspect.signature(fn).parameters)
        raise CLIError("bad --wrt: " + exc.message,
                       "%s has parameters %s; use --wrt with indices (0..%d) or names, e.g. "
                       "--wrt %s" % (fn.__name__, ", ".join(params), len(params) - 1,
                                     ",".join(params[:2]) or "0"))
    if args is not None:
        args = floatify(args, indices)
    return fn, qualname, wrt, args


# --------------------------------------------------------------------------
# Commands


def _color_wanted(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def highlight(source: str, color: bool) -> str:
    if not color:
        return source
    try:
        from pygments import highlight as _hl
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return source
    return _hl(source, PythonLexer(), TerminalFormatter())


def cmd_show(ns) -> int:
    fn, qualname, wrt, args = _prepare(ns)
    if ns.mode == "forward":
        source = _forward_source(fn, wrt, args)
    else:
        g = (value_and_grad if ns.value_and_grad else grad)(fn, wrt=wrt)
        if args is not None:
            g(*args)
        source = g.source
    sys.stdout.write(highlight(source, _color_wanted(ns.color, sys.stdout)))
    return 0


def _forward_source(fn, wrt, args) -> str:
    jvp = getattr(s2sgrad, "jvp", None)
    if jvp is None:
        raise CLIError("forward mode is not available in this version of s2sgrad (%s)"
                       % __version__, "use --mode reverse (the default)", status=1)
    t = jvp(fn, wrt=wrt)
    if args is not None:
        indices, as_tuple = _resolve_wrt(fn, wrt)
        tangents = tuple(np.ones_like(args[i], dtype=float) if isinstance(args[i], np.ndarray)
                         else 1.0 for i in indices)
        t(*args, tangents if as_tuple else tangents[0])
    src = getattr(t, "source", None)
    if src is None:
        raise CLIError("this version's forward mode does not expose generated source",
                       "use --mode reverse", status=1)
    return src


def cmd_export(ns) -> int:
    fn, qualname, wrt, args = _prepare(ns)
    command = "s2sgrad " + " ".join(shlex.quote(a) for a in ns.argv)
    text = export_source(fn, wrt=wrt, args=args,
                         mode="value_and_grad" if ns.value_and_grad else "grad",
                         command=command)
    if ns.output in (None, "-"):
        sys.stdout.write(highlight(text, _color_wanted(ns.color, sys.stdout)))
        return 0
    directory = os.path.dirname(os.path.abspath(ns.output))
    if not os.path.isdir(directory):
        raise CLIError("output directory does not exist: %s" % directory,
                       "create it first, or choose another -o path")
    with open(ns.output, "w", encoding="utf-8") as fh:
        fh.write(text)
    lines = text.splitlines()
    func = [line for line in lines if line.startswith("__all__")][0].split("'")[1]
    needs = [line for line in lines if line.startswith("# Requires: ")][0]
    needs = needs[len("# Requires: "):].split(" (")[0]
    sys.stderr.write("wrote %s (function %s; needs %s, not s2sgrad)\n" % (ns.output, func, needs))
    return 0


def central_differences(f: Callable, args: tuple, i: int, eps: float,
                        indices: Optional[Sequence[int]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Central-difference derivative of f w.r.t. argument i at the given flat indices."""
    x = args[i]
    scalar = np.ndim(x) == 0
    base = np.array(x, dtype=float)
    flat = base.reshape(-1)
    if indices is None:
        indices = range(flat.size)
    indices = np.asarray(list(indices), dtype=int)
    out = np.empty(len(indices))
    for k, j in enumerate(indices):
        h = eps * max(1.0, abs(flat[j]))
        vals = []
        for sign in (1.0, -1.0):
            pert = flat.copy()
            pert[j] += sign * h
            xi = float(pert[0]) if scalar else pert.reshape(base.shape).astype(x.dtype)
            new = args[:i] + (xi,) + args[i + 1:]
            vals.append(float(np.asarray(f(*new), dtype=float)))
        out[k] = (vals[0] - vals[1]) / (2 * h)
    return indices, out


def cmd_check(ns) -> int:
    fn, qualname, wrt, args = _prepare(ns)
    if args is None:
        raise CLIError("check needs example arguments",
                       "give them with --args \"...\" (Python expressions, NumPy is np) or "
                       "--args-file FILE.py (a file that sets args = (...))")
    indices = _wrt_indices(fn, wrt)
    params = list(inspect.signature(fn).parameters)
    value = fn(*args)
    if np.ndim(value) != 0:
        raise CLIError("%s returned a value of shape %s; check compares gradients of scalar "
                       "functions" % (qualname, np.shape(value)),
                       "reduce the output to a scalar (e.g. np.sum)", status=1)
    g = grad(fn, wrt=tuple(indices))
    t0 = time.perf_counter()
    grads = g(*args)
    elapsed = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    rows = []
    ok_all = True
    scale = max(1.0, abs(float(value)))
    for i, gi in zip(indices, grads):
        gi = np.asarray(gi, dtype=float).reshape(-1)
        n = gi.size
        sel = None
        if n > ns.max_elements:
            sel = np.sort(rng.choice(n, ns.max_elements, replace=False))
        idx, fd = central_differences(fn, args, i, ns.eps, sel)
        an = gi[idx]
        err = float(np.max(np.abs(an - fd))) if len(idx) else 0.0
        size = float(np.max(np.abs(fd))) if len(idx) else 0.0
        tol = ns.atol * scale + ns.rtol * max(size, float(np.max(np.abs(an))) if len(idx) else 0.0)
        ok = bool(np.all(np.isfinite(an))) and err <= tol
        ok_all &= ok
        rel = err / size if size > 0 else err
        rows.append((params[i] if i < len(params) else str(i),
                     "x".join(map(str, np.shape(args[i]))) or "scalar",
                     "%d/%d" % (len(idx), n), "%.3e" % err, "%.3e" % rel, "ok" if ok else "MISMATCH"))
    header = ("argument", "shape", "checked", "max abs err", "rel err", "status")
    widths = [max(len(str(r[c])) for r in rows + [header]) for c in range(len(header))]
    lines = ["%s: value %.6g; gradient (generated and run) in %.1f ms; central differences, eps=%g"
             % (qualname, float(value), elapsed * 1e3, ns.eps)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    lines.append("all gradients match" if ok_all else
                 "MISMATCH: the gradient disagrees with finite differences (rtol=%g, atol=%g)"
                 % (ns.rtol, ns.atol))
    print("\n".join(lines))
    return 0 if ok_all else 1


def cmd_explain(ns) -> int:
    from s2sgrad.tools.explain import explain  # gast and the compiler: for `explain` only
    fn, qualname, wrt, args = _prepare(ns)
    if args is None:
        raise CLIError("explain needs the point to evaluate at",
                       "give it with --args \"...\" or --args-file FILE.py")
    e = explain(fn, *args, wrt=wrt)
    print(e.table(code=ns.code))
    for path, kind in ((ns.svg, "svg"), (ns.png, "png"), (ns.dot, "dot")):
        if path:
            if kind == "svg":
                e.to_svg(path)
            elif kind == "png":
                e.to_png(path)
            else:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(e.to_dot())
            sys.stderr.write("wrote %s\n" % path)
    return 0


# --------------------------------------------------------------------------
# Argument parser


_EPILOG = """\
examples:
  s2sgrad show model.py:loss --wrt W,b
  s2sgrad show model.py:loss --args "np.ones((3, 2)), np.zeros(2), X, y"
  s2sgrad export model.py:loss --wrt W,b -o loss_grad.py
  s2sgrad check model.py:loss --args "np.random.randn(3, 2), np.zeros(2), X, y"
  s2sgrad explain model.py:neuron --args "2.0, -1.0, -3.0, -2.0, -3.0" --svg neuron.svg

FILE.py:FUNCTION names a function defined at the top level of a file (Class.method
and package.module:function work too).  --args are Python expressions evaluated in
that file's namespace with NumPy available as np.
"""


def _common(p: argparse.ArgumentParser, args_help: str) -> None:
    p.add_argument("target", metavar="FILE.py:FUNCTION",
                   help="the function to differentiate, e.g. model.py:loss")
    p.add_argument("--wrt", metavar="LIST",
                   help="parameters to differentiate with respect to: indices (0,1) or names "
                        "(W,b); default: every float argument when --args is given, else the "
                        "first parameter")
    p.add_argument("--args", metavar="EXPRS", help=args_help)
    p.add_argument("--args-file", metavar="FILE.py",
                   help="a Python file that sets args = (...) (instead of --args)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2sgrad", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="s2sgrad %s: show, export, check and explain the gradient code s2sgrad generates "
                    "for a Python/NumPy function." % __version__, epilog=_EPILOG)
    parser.add_argument("--version", action="version", version="s2sgrad " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("show", help="print the generated gradient code",
                       description="Print the gradient code s2sgrad generates for a function "
                                   "(syntax-highlighted on a terminal, plain when piped).",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    _common(p, "example arguments, e.g. \"np.ones(3), 2.0\": the code is specialized to "
               "their shapes (without: the generic version)")
    p.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                   help="reverse (gradient, default) or forward (Jacobian-vector product)")
    p.add_argument("--value-and-grad", action="store_true",
                   help="show value_and_grad (returns the value too)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="syntax highlighting (default: auto, on when printing to a terminal)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write the gradient as a standalone module (NumPy only)",
                       description="Write the generated gradient, and the helpers it uses, as "
                                   "a module that imports NumPy only (no s2sgrad).",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    _common(p, "example arguments: the exported code is specialized to their shapes "
               "(without: the generic version, valid for any shapes)")
    p.add_argument("-o", "--output", metavar="OUT.py",
                   help="file to write (default: print to standard output)")
    p.add_argument("--value-and-grad", action="store_true",
                   help="export value_and_grad (returns the value too)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("check", help="compare the gradient with central finite differences",
                       description="Compare the generated gradient with central finite "
                                   "differences at the given arguments; prints a table per "
                                   "argument and exits with status 1 on a mismatch.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    _common(p, "the point to check at (required, or --args-file), e.g. \"np.ones(3), 2.0\"")
    p.add_argument("--eps", type=float, default=1e-6,
                   help="finite-difference step, relative to max(1, |x|) (default 1e-6)")
    p.add_argument("--rtol", type=float, default=1e-5, help="relative tolerance (default 1e-5)")
    p.add_argument("--atol", type=float, default=1e-7,
                   help="absolute tolerance, times max(1, |f|) (default 1e-7)")
    p.add_argument("--max-elements", type=int, default=200,
                   help="check at most this many entries per argument, sampled (default 200)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("explain", help="the computational graph: values, local, upstream and "
                                       "downstream gradients per operation",
                       description="Print the computational graph of the function at the "
                                   "given arguments, as in the CS231n notes: each operation "
                                   "with its value, local gradient, upstream gradient and "
                                   "the downstream gradient sent to each input.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    _common(p, "the point to evaluate at (required, or --args-file), e.g. \"2.0, -1.0\"")
    p.add_argument("--code", action="store_true",
                   help="add the generated backward lines of each operation")
    p.add_argument("--svg", metavar="OUT.svg", help="also draw the graph (needs Graphviz)")
    p.add_argument("--png", metavar="OUT.png", help="also draw the graph (needs Graphviz)")
    p.add_argument("--dot", metavar="OUT.dot", help="also write the Graphviz DOT text")
    p.set_defaults(func=cmd_explain)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.command is None:
        parser.print_help()
        return 2
    ns.argv = argv
    try:
        return ns.func(ns)
    except CLIError as exc:
        _error(exc.message, exc.hint)
        return exc.status
    except S2SGradError as exc:
        sys.stderr.write(str(exc) + "\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        _report_exception(exc)
        return 1


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _report_exception(exc: BaseException) -> None:
    """An exception from the user's code (or, rarely, from s2sgrad itself), briefly."""
    frames = traceback.extract_tb(exc.__traceback__)

    def ours(f):
        return os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)

    user = [f for f in frames if not ours(f) and not f.filename.startswith("<--args")]
    if frames and ours(frames[-1]) and not user[-1:]:
        _error("internal error in s2sgrad: %s" % _one_line(exc),
               "please report it with the function that triggers it; set "
               "S2SGRAD_TRACEBACK=1 to see the full traceback")
    elif frames and ours(frames[-1]):
        f = user[-1]
        _error("internal error in s2sgrad: %s (while handling %s, line %d)"
               % (_one_line(exc), f.filename, f.lineno),
               "please report it; set S2SGRAD_TRACEBACK=1 to see the full traceback")
    else:
        where = ""
        if user:
            f = user[-1]
            where = " (%s, line %d: %s)" % (f.filename, f.lineno, (f.line or "").strip())
        _error("%s%s" % (_one_line(exc), where),
               "this error came from running the function or its gradient; set "
               "S2SGRAD_TRACEBACK=1 to see the full traceback")
    if os.environ.get("S2SGRAD_TRACEBACK"):
        traceback.print_exception(type(exc), exc, exc.__traceback__)


def _error(message: str, hint: str = "") -> None:
    sys.stderr.write("s2sgrad: error: %s\n" % message)
    if hint:
        sys.stderr.write("  hint: %s\n" % hint)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
