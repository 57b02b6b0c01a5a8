"""Pass 1: source -> gast tree, keeping file and line for error messages."""
from __future__ import annotations

import ast
import inspect
import linecache
import re
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import gast

from s2sgrad import astutil as A
from s2sgrad.errors import SourceUnavailableError, UnsupportedSyntaxError
from s2sgrad.front.desugar import flatten_signature


@dataclass
class SourceInfo:
    """Where a function's source came from, to point errors at the user's file."""
    function_name: str
    filename: str
    first_lineno: int            # line of the ``def`` (or lambda) in the file
    lines: List[str] = field(default_factory=list)   # dedented source lines

    def absolute_line(self, node: Any) -> Optional[int]:
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return None
        return self.first_lineno + lineno - 1

    def text_of(self, node: Any) -> str:
        lineno = getattr(node, "lineno", None)
        if lineno is None or not (1 <= lineno <= len(self.lines)):
            return ""
        return self.lines[lineno - 1].strip()

    def error(self, cls, message: str, node: Any = None, hint: Optional[str] = None):
        # a statement inlined from another function points at that function's source
        other = getattr(node, "s2s_info", None)
        if other is None and getattr(node, "s2s_origin", None) is not None:
            other = getattr(node.s2s_origin, "s2s_info", None)
            if other is not None:
                node = node.s2s_origin
        if other is not None and other is not self:
            return other.error(cls, message, node, hint)
        return cls(message, function=self.function_name, filename=self.filename,
                   lineno=self.absolute_line(node) if node is not None else self.first_lineno,
                   source_line=self.text_of(node) if node is not None else None, hint=hint)


@dataclass
class ParsedFunction:
    func: Callable
    node: gast.FunctionDef
    info: SourceInfo
    globals: Dict[str, Any]
    closure: Dict[str, Any]        # free variable name -> cell


def _unwrap(fn: Callable) -> Callable:
    # A function produced by s2sgrad exposes the original as ``__wrapped__``.  A plain
    # Python function with ``__wrapped__`` is a user's decorator (functools.wraps)
    # whose own code -- scaling the result, say -- we would skip: refuse it rather
    # than return the gradient of another function.
    seen = set()
    while hasattr(fn, "__wrapped__") and id(fn) not in seen:
        seen.add(id(fn))
        if inspect.isfunction(fn) and (getattr(fn, "__module__", None) or "").split(".")[0] in (
                "numpy", "scipy"):
            # NumPy < 1.25 dispatches through Python wrappers (np.sum.__wrapped__)
            name = getattr(fn, "__name__", repr(fn))
            raise SourceUnavailableError(
                "cannot differentiate %r: it is a builtin or C function of %s, not a Python "
                "function of yours" % (name, fn.__module__.split(".")[0]), function=name,
                hint="differentiate a Python function that calls it, e.g.\n"
                     "    def f(x):\n        return np.%s(x)\n    s2sgrad.grad(f)" % name)
        if inspect.isfunction(fn):
            inner = fn.__wrapped__
            name = getattr(inner, "__name__", repr(inner))
            filename, lineno = _where(fn)
            raise SourceUnavailableError(
                "cannot differentiate %r through its decorator %r: the wrapper's code (%s, "
                "line %d) may change the result, and s2sgrad does not see it"
                % (name, fn.__code__.co_name, filename, lineno),
                function=name, filename=filename, lineno=lineno or None,
                hint="put s2sgrad's decorator directly above 'def %s', or differentiate the "
                     "undecorated function (%s.__wrapped__) if the decorator does not change "
                     "what it computes" % (name, name))
        fn = fn.__wrapped__
    return fn


def _where(fn: Callable) -> Tuple[str, int]:
    code = getattr(fn, "__code__", None)
    if code is None:
        return "<unknown>", 0
    return code.co_filename, code.co_firstlineno


def _source_lines(fn: Callable):
    """``inspect.getsourcelines(fn)`` and, when it could tell where the ``def`` ends
    without ``inspect.getblock`` (a tokenizer in Python, the slowest step of reading a
    function), the ``ast`` parse of the dedented lines (the same as parsing them again).
    """
    fn = inspect.unwrap(fn)
    from s2sgrad.front.ipython_cells import magic_cell_lines
    cell = magic_cell_lines(fn)         # a def in an IPython %%time / %%timeit cell
    if cell is not None:
        lines, lnum = cell, fn.__code__.co_firstlineno - 1
    else:
        lines, lnum = inspect.findsource(fn)
    found = _def_block(lines, lnum) if fn.__name__ != "<lambda>" else None
    if found is None:
        return inspect.getblock(lines[lnum:]), lnum + 1, None
    last, tree = found
    return lines[lnum:lnum + last], lnum + 1, tree


def _def_block(lines: List[str], lnum: int):
    """``(len(inspect.getblock(lines[lnum:])), ast of those lines dedented)`` for a
    plain ``def`` at ``lines[lnum]``, found from the indentation and checked by parsing
    (None when that cannot tell: decorators, tabs, a line as little indented as the
    ``def`` inside the function -- a closing bracket, say -- or no parse).

    The tokenizer's block ends at the first line, outside brackets and strings, no more
    indented than the ``def``: the first such line by indentation alone is that line
    when the lines before it parse (a line inside a string or brackets would leave the
    cut open).  It then keeps the function's last logical line and the comment lines
    after it indented at least as much as the body."""
    first = lines[lnum]
    stripped = first.lstrip(" ")
    if not stripped.startswith("def "):
        return None
    n = len(first) - len(stripped)
    end = len(lines)
    for k in range(lnum + 1, len(lines)):
        line = lines[k]
        text = line.lstrip(" ")
        if text[:1] in ("\t", "\f"):
            return None
        if not text.strip() or text.startswith("#"):
            continue
        if len(line) - len(text) <= n:
            end = k
            break
    body = []
    for line in lines[lnum:end]:
        if not line.strip(" \t\n"):
            body.append("\n")     # (as textwrap.dedent leaves a blank line)
        elif line[:n].strip(" "):
            return None            # (a comment less indented than the def)
        else:
            body.append(line[n:])
    try:
        tree = ast.parse("".join(body))
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or tree.body[0].__class__ is not ast.FunctionDef \
            or tree.body[0].decorator_list:
        return None
    fdef = tree.body[0]
    last = fdef.end_lineno
    head = fdef.body[0]
    opening = lines[lnum + head.lineno - 1]
    if len(opening) - len(opening.lstrip(" ")) == head.col_offset + n:
        # (the body starts a line, indented: a def whose body follows its colon keeps
        # no comments)
        body_col0 = head.col_offset + n
        for k in range(lnum + last, end):
            line = lines[k]
            text = line.lstrip(" ")
            if text.startswith("#") and len(line) - len(text) >= body_col0:
                last = k - lnum + 1
    return last, tree


def check_gast_reads(tree: ast.AST, info: SourceInfo) -> None:
    """A statement the installed gast has no node for (``match`` before gast 0.5.4,
    which has no match nodes) is a clear error, not a failure deep in the compiler."""
    match_class = getattr(ast, "Match", None)
    if match_class is None or hasattr(gast, "Match"):
        return
    for node in ast.walk(tree):
        if isinstance(node, match_class):
            raise info.error(UnsupportedSyntaxError,
                             "match statements need gast >= 0.5.4 (the installed gast %s "
                             "has no match nodes)" % getattr(gast, "__version__", "?"), node,
                             hint="pip install 'gast>=0.5.4', or write the match as an "
                                  "if/elif chain")


def parse_function(fn: Callable) -> ParsedFunction:
    """Read ``fn``'s source and parse it into a gast ``FunctionDef``."""
    fn = _unwrap(fn)
    name = getattr(fn, "__name__", repr(fn))
    if inspect.ismethod(fn):
        raise SourceUnavailableError(
            "cannot differentiate the bound method %r: its 'self' is not an argument "
            "s2sgrad can see" % getattr(fn, "__qualname__", name), function=name,
            hint="differentiate the function with the object as an argument, e.g. "
                 "grad(%s, wrt=1)(obj, x), or decorate the method with @grad(wrt='x')"
                 % getattr(fn, "__qualname__", name))
    if not inspect.isfunction(fn):
        kind = "a builtin or C function" if inspect.isbuiltin(fn) or callable(fn) else "not a function"
        raise SourceUnavailableError(
            "cannot differentiate %r: it is %s, so it has no Python source to transform" % (name, kind),
            function=name,
            hint="write the computation as a Python function using NumPy, or register a "
                 "derivative for it with @s2sgrad.adjoint(%s)" % name)
    filename, firstlineno = _where(fn)
    try:
        lines, start, tree = _source_lines(fn)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            "cannot read the source of %r (%s)" % (name, exc), function=name,
            filename=filename, lineno=firstlineno or None,
            hint="functions typed at a plain `python` prompt or created with exec() have no "
                 "source file; define the function in a .py file or a Jupyter/IPython cell") from None
    source = textwrap.dedent("".join(lines))
    start = max(start, 1)
    info = SourceInfo(name, filename, start, source.splitlines())
    try:
        if tree is None:
            tree = ast.parse(source)
    except SyntaxError:
        # A lambda in the middle of an expression spanning lines, for example.
        tree = None
    module = None
    if tree is not None:
        check_gast_reads(tree, info)
        module = A.to_gast(tree)
    node = None
    if module is not None:
        node = _find_def(module, fn)
    if node is None and fn.__name__ == "<lambda>":
        node = _lambda_from_lines(fn, lines, info)
    if node is None:
        raise SourceUnavailableError(
            "could not find the definition of %r in its source" % name, function=name,
            filename=filename, lineno=start,
            hint="define the function with a plain `def` statement")
    node.decorator_list = []
    flatten_signature(node)         # *args, keyword-only, **kwargs: ordinary parameters
    closure = {}
    if fn.__closure__:
        closure = dict(zip(fn.__code__.co_freevars, fn.__closure__))
    return ParsedFunction(fn, node, info, fn.__globals__, closure)


def _find_def(module: gast.Module, fn: Callable) -> Optional[gast.FunctionDef]:
    if fn.__name__ == "<lambda>":
        return None          # (found by _lambda_from_lines: compared by compiled code)
    for node in module.body:
        if isinstance(node, gast.FunctionDef) and node.name == fn.__name__:
            return node
        if isinstance(node, gast.AsyncFunctionDef):
            filename, lineno = _where(fn)
            raise UnsupportedSyntaxError(
                "cannot differentiate async function %r" % fn.__name__, function=fn.__name__,
                filename=filename, lineno=lineno or None,
                hint="differentiate a plain (synchronous) function")
    for node in A.walk(module):
        if isinstance(node, gast.FunctionDef) and node.name == fn.__name__:
            return node
    return None


def _lambda_to_def(lam: gast.Lambda) -> gast.FunctionDef:
    ret = gast.Return(value=lam.body)
    gast.copy_location(ret, lam.body)
    node = gast.FunctionDef(name="lambda_", args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    gast.copy_location(node, lam)
    return node


def _lambda_candidates(text: str) -> List[Tuple[int, str]]:
    """(column, source) of every lambda expression starting on the first line of
    ``text`` (the line of the lambda's code object): each one's longest prefix
    from its ``lambda`` keyword that parses as a lambda."""
    import ast
    first_line = text.split("\n", 1)[0]
    found = []
    for match in re.finditer(r"\blambda\b", first_line):
        idx = match.start()
        for end in range(len(text), idx, -1):
            chunk = text[idx:end].rstrip()
            if not chunk or chunk[-1] not in "_)]}'\"" and not chunk[-1].isalnum():
                continue
            try:
                expr = ast.parse("(" + chunk + "\n)", mode="eval").body
            except SyntaxError:
                continue
            if isinstance(expr, ast.Lambda):
                found.append((idx, chunk))
                break
    return found


def _code_signature(code) -> tuple:
    """What two compilations of the same lambda share (no names of files or lines)."""
    return (code.co_code, code.co_argcount, code.co_kwonlyargcount, code.co_varnames,
            code.co_names, code.co_freevars, code.co_cellvars,
            tuple(_code_signature(c) if hasattr(c, "co_code") else (type(c).__name__, repr(c))
                  for c in code.co_consts))


def _all_code_names(code, acc: set) -> set:
    acc.update(code.co_names)
    for c in code.co_consts:
        if hasattr(c, "co_code"):
            _all_code_names(c, acc)
    return acc


def _compiled_lambdas(chunk: str, fn: Callable):
    """The code objects of the lambda ``chunk`` compiled where its free variables are
    closure cells, as they are for ``fn``: once with the module globals it reads that
    hold modules bound by an ``import`` (the compiler calls methods on those
    differently), once without."""
    free = fn.__code__.co_freevars
    body = "def __s2sgrad_outer__():\n"
    if free:
        body += "    %s = None\n" % " = ".join(free)
    body += "    return (%s\n)\n" % chunk
    modules = sorted(n for n in _all_code_names(fn.__code__, set())
                     if isinstance(fn.__globals__.get(n), types.ModuleType))
    imports = "".join("import sys as %s\n" % n for n in modules)
    found = []
    for text in ([imports + body] if imports else []) + [body]:
        try:
            module = compile(text, "<lambda>", "exec", dont_inherit=True)
        except SyntaxError:
            return found
        outer = next(c for c in module.co_consts if hasattr(c, "co_code"))
        found.extend(c for c in outer.co_consts if hasattr(c, "co_code")
                     and c.co_name == "<lambda>")
    return found


def _lambda_from_lines(fn, lines, info) -> Optional[gast.FunctionDef]:
    """The lambda ``fn`` among those starting on its line, identified by its compiled
    code (several lambdas on one line -- ``f, g = (lambda x: x ** 2), (lambda x: x ** 3)``
    -- differ in it); None if none matches; an error if several different ones do."""
    text = textwrap.dedent("".join(lines))
    want = _code_signature(fn.__code__)
    matches = []
    for col, chunk in _lambda_candidates(text):
        if any(_code_signature(code) == want for code in _compiled_lambdas(chunk, fn)):
            matches.append(chunk)
    if not matches:
        return None
    import ast

    def meaning(chunk):
        # (defaults are not part of it: they are read from the function object)
        lam = ast.parse("(" + chunk + "\n)", mode="eval").body
        return ast.dump(lam.body), [a.arg for a in lam.args.args]
    if len({repr(meaning(m)) for m in matches}) > 1:
        filename, lineno = _where(fn)
        raise SourceUnavailableError(
            "cannot tell which of the lambdas on line %d is the one to differentiate: "
            "they compile to the same code but read differently" % lineno,
            function="<lambda>", filename=filename, lineno=lineno or None,
            source_line=text.split("\n", 1)[0].strip(),
            hint="define the function with a `def` statement (or put each lambda on a "
                 "line of its own)")
    expr = A.parse("(" + matches[0] + "\n)").body[0].value
    return _lambda_to_def(expr)


def cell_lines(filename: str) -> List[str]:
    return linecache.getlines(filename)
