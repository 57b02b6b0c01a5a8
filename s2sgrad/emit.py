"""Pass 6: tree -> readable source (astor), with comments; compile it.

The printer handles statement layout and comments itself and lets astor print
expressions and simple statements.  ``compile_function`` binds the generated
code to the user's own globals (live, so later changes to module globals are
seen) and to the user's closure cells; the names the compiler adds (NumPy and
runtime helpers, when their usual names are taken) are bound as extra closure
cells, so nothing is ever written into the user's module.
"""
from __future__ import annotations

import ast
import linecache
import types
from typing import Any, Dict, List

import astor
import gast


class Comment(gast.stmt):
    """A full-line comment in generated code."""
    _fields = ("text",)

    def __init__(self, text: str):
        super().__init__()
        self.text = text


def _one_line(chunks) -> str:
    return "".join(chunks)


# gast classes whose ``ast`` twin has the same fields and which ``gast.gast_to_ast``
# converts field by field: converted here without its visitor machinery.
_SAME_FIELDS = {}
for _name in dir(gast):
    _cls, _twin = getattr(gast, _name), getattr(ast, _name, None)
    if (isinstance(_cls, type) and issubclass(_cls, gast.AST) and _twin is not None
            and _cls.__module__.startswith("gast") and _cls._fields == _twin._fields
            and _name not in ("Assign", "Name", "ExceptHandler", "ClassDef", "FunctionDef",
                              "AsyncFunctionDef", "arguments")):
        _SAME_FIELDS[_cls] = _twin


def _to_ast(node):
    """``gast.gast_to_ast(node)`` (without source positions, which printing ignores)."""
    cls = node.__class__
    twin = _SAME_FIELDS.get(cls)
    if twin is not None:
        fields = cls._fields
    elif cls is gast.Name:
        twin, fields = ast.Name, ("id", "ctx")
    elif cls is gast.Assign:
        twin, fields = ast.Assign, ("targets", "value")
    else:
        return gast.gast_to_ast(node)
    new = twin.__new__(twin)
    state = new.__dict__
    old = node.__dict__
    for field in fields:
        if field in old:
            value = old[field]
            if isinstance(value, gast.AST):
                value = _to_ast(value)
            elif isinstance(value, list):
                value = _to_ast_list(value)
            state[field] = value
    return new


def _to_ast_list(values):
    return [_to_ast(v) if isinstance(v, gast.AST) else
            _to_ast_list(v) if isinstance(v, list) else v for v in values]


def to_source(node) -> str:
    """astor's printing of a gast node, without its line wrapping (a statement stays
    on one line, as a person writes it)."""
    return astor.to_source(_to_ast(node), pretty_source=_one_line)


def _simple(stmt) -> List[str]:
    return to_source(stmt).rstrip("\n").split("\n")


def _expr(node) -> str:
    return to_source(node).strip()


def _test(node) -> str:
    """A condition without the parentheses astor puts around comparisons."""
    text = _expr(node)
    if text.startswith("(") and text.endswith(")"):
        try:
            ast.parse(text[1:-1], mode="eval")
            return text[1:-1]
        except SyntaxError:
            pass
    return text


def emit_stmts(stmts, indent: int, out: List[str]) -> None:
    pad = "    " * indent
    for stmt in stmts:
        comment = getattr(stmt, "s2s_comment", None)
        if isinstance(stmt, Comment):
            out.append(pad + "# " + stmt.text)
            continue
        if isinstance(stmt, gast.If):
            _compound(out, pad, "if %s:" % _test(stmt.test), comment)
            emit_stmts(stmt.body or [gast.Pass()], indent + 1, out)
            orelse = stmt.orelse
            while len(orelse) == 1 and isinstance(orelse[0], gast.If) \
                    and not getattr(orelse[0], "s2s_comment", None):
                out.append(pad + "elif %s:" % _test(orelse[0].test))
                emit_stmts(orelse[0].body or [gast.Pass()], indent + 1, out)
                orelse = orelse[0].orelse
            if orelse:
                out.append(pad + "else:")
                emit_stmts(orelse, indent + 1, out)
            continue
        if isinstance(stmt, gast.For):
            _compound(out, pad, "for %s in %s:" % (_test(stmt.target), _expr(stmt.iter)), comment)
            emit_stmts(stmt.body or [gast.Pass()], indent + 1, out)
            if stmt.orelse:
                out.append(pad + "else:")
                emit_stmts(stmt.orelse, indent + 1, out)
            continue
        if isinstance(stmt, gast.While):
            _compound(out, pad, "while %s:" % _test(stmt.test), comment)
            emit_stmts(stmt.body or [gast.Pass()], indent + 1, out)
            continue
        lines = _simple(stmt)
        for i, line in enumerate(lines):
            text = pad + line
            if comment and i == len(lines) - 1:
                text = text + "  # " + comment
            out.append(text)


def _compound(out, pad, header, comment):
    out.append(pad + header + ("  # " + comment if comment else ""))


def emit_function(fn: gast.FunctionDef, docstring: str = "") -> str:
    args = ", ".join(a.id for a in fn.args.posonlyargs + fn.args.args)
    out = ["def %s(%s):" % (fn.name, args)]
    if docstring:
        out.append('    """%s"""' % docstring)
    emit_stmts(fn.body, 1, out)
    return "\n".join(out) + "\n"


_counter = [0]


def _unique_filename(filename: str, source: str) -> str:
    """``filename``, or ``filename`` + ``#N`` when linecache already holds different code
    under it (two specializations of one gradient), so tracebacks and
    ``inspect.getsource`` never show one generated function's lines for another."""
    base, n = filename, 1
    while True:
        cached = linecache.cache.get(filename)
        if cached is None or "".join(cached[2]) == source:
            return filename
        n += 1
        filename = "%s#%d>" % (base[:-1], n) if base.endswith(">") else "%s#%d" % (base, n)


def _shift_lines(code: types.CodeType, delta: int) -> types.CodeType:
    """``code`` (and the code nested in it) with every line number moved by ``delta``:
    the factory's ``def`` line is not in ``source``, so line numbers match ``source``
    (line tables are relative to ``co_firstlineno``)."""
    consts = tuple(_shift_lines(c, delta) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


def compile_function(source: str, name: str, globals_: Dict[str, Any],
                     closure: Dict[str, Any], extra: Dict[str, Any], filename: str):
    """Compile ``source`` (one ``def``) into a function bound to ``globals_``.

    ``closure`` maps the user's free-variable names to their cells; ``extra``
    maps names the compiler introduced to values.
    """
    filename = _unique_filename(filename, source)
    free = list(closure) + [k for k in extra if k not in closure]
    header = "def __s2sgrad_factory__(%s):\n" % ", ".join(free)
    body = "".join("    " + line + "\n" if line else "\n" for line in source.splitlines())
    body += "    return %s\n" % name
    code = compile(header + body, filename, "exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    inner = _shift_lines(next(c for c in factory_code.co_consts
                              if isinstance(c, types.CodeType) and c.co_name == name), -1)
    cells = []
    for var in inner.co_freevars:
        if var in closure:
            cells.append(closure[var])
        else:
            cells.append(types.CellType(extra[var]))
    fn = types.FunctionType(inner, globals_, name, None, tuple(cells))
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    return fn
