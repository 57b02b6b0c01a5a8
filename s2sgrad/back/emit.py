"""Pass 6: tree -> readable source (astor), with comments; compile it.

The printer handles statement layout and comments itself; expressions and simple
statements print as astor prints them (``_Printer`` applies astor's precedences and
string rules directly, several times faster; astor itself prints anything else).
``compile_function`` binds the generated
code to the user's own globals (live, so later changes to module globals are
seen) and to the user's closure cells; the names the compiler adds (NumPy and
runtime helpers, when their usual names are taken) are bound as extra closure
cells, so nothing is ever written into the user's module.
"""
from __future__ import annotations

import ast
import linecache
import math
import types
import warnings
from typing import Any, Dict, List, Tuple

import gast

with warnings.catch_warnings():
    # astor 0.8.1 builds its precedence table with getattr(ast, "Num", None) and the like
    # at import: a DeprecationWarning on Python 3.12 / 3.13, None on 3.14 (those classes
    # are gone).  We never print those nodes (Constant only), so the table is complete.
    warnings.simplefilter("ignore", DeprecationWarning)
    import astor
    import astor.code_gen as _astor_code_gen
    import astor.op_util as _astor_ops
    from astor.string_repr import pretty_string as _astor_pretty_string

from s2sgrad.objects import AttrKey


class Comment(gast.stmt):
    """A full-line comment in generated code."""
    _fields = ("text",)

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class Line(gast.stmt):
    """A statement already spelled out (the shape probe's records: emitted verbatim,
    not built as a tree and printed)."""
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
    if cls is gast.Subscript and getattr(node.slice, "value", None).__class__ is AttrKey:
        # an object's attribute (objects.py)
        return ast.Attribute(value=_to_ast(node.value), attr=str(node.slice.value),
                             ctx=_to_ast(node.ctx))
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
    on one line, as a person writes it).

    The simple statements and expressions the compiler generates are printed by
    ``_Printer`` (astor's rules, without its generic machinery); anything else, by
    astor itself."""
    try:
        return _Printer().source(node)
    except _Unsupported:
        return astor.to_source(_to_ast(node), pretty_source=_one_line,
                               source_generator_class=_Generator)


def _fstring_text(parts) -> str:
    """The text between the quotes of an f-string: ``parts`` are strings (escaped
    here) and ``(expression source, conversion, format spec text)`` triples."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part.replace("{", "{{").replace("}", "}}"))
            continue
        expr, conversion, spec = part
        out.append("{" + (" " if expr.startswith("{") else "") + expr)
        if conversion not in (-1, None):
            out.append("!" + chr(conversion))
        if spec is not None:
            out.append(":" + spec)
        out.append("}")
    return "".join(out)


class _Generator(_astor_code_gen.SourceGenerator):
    """astor's printer with f-strings printed here: astor 0.8.1 tells their literal
    parts by ``isinstance(value, ast.Str)``, a DeprecationWarning on 3.12 / 3.13 and
    an AttributeError on 3.14 (``ast.Str`` is gone)."""

    def visit_JoinedStr(self, node):
        precedence = self.get__pp(node)
        embedded = (precedence > _P.Expr) + (precedence >= _P.Assign)
        self.write("")
        res_index, str_index = self.colinfo
        current = self.result[res_index:]
        if str_index:
            current[0] = current[0][str_index:]
        text = _fstring_text(self._fstring_parts(node))
        text = "f" + self.pretty_string(text, embedded, "".join(current), False)
        self.write(text)
        lf = text.rfind("\n") + 1
        if lf:
            self.colinfo = len(self.result) - 1, lf

    def _fstring_parts(self, node):
        parts = []
        for value in node.values:
            kind = value.__class__.__name__
            if kind == "Constant" and isinstance(value.value, str):
                parts.append(value.value)
            elif kind == "FormattedValue":
                spec = None
                if value.format_spec is not None:
                    spec = _fstring_text(self._fstring_parts(value.format_spec))
                expr = astor.to_source(value.value, pretty_source=_one_line,
                                       source_generator_class=_Generator).strip()
                parts.append((expr, value.conversion, spec))
            else:
                raise ValueError("invalid node %s inside an f-string" % kind)
        return parts


class _Unsupported(Exception):
    pass


# astor's precedences and operator symbols, by node class name
_PREC = {k.__name__: v for k, v in _astor_ops.precedence_data.items() if k is not None}
_SYMBOL = {k.__name__: v for k, v in _astor_ops.symbol_data.items() if k is not None}
_P = _astor_ops.Precedence
_HIGHEST = _P.highest


class _Printer:
    """What ``astor.to_source`` prints for one simple statement or expression, written
    the way astor writes it (same precedences, same parentheses, an opening
    parenthesis dropped after the fact, strings through astor's ``pretty_string``);
    raises ``_Unsupported`` for any other node."""

    def __init__(self):
        self.out: List[str] = []

    def source(self, node) -> str:
        kind = node.__class__.__name__
        out = self.out
        if kind == "Assign":
            for target in node.targets:
                self.expr(target, _P.Assign)
                out.append(" = ")
            self.expr(node.value, _P.Assign)
        elif kind == "AugAssign":
            self.expr(node.target, _P.AugAssign)
            out.append(" %s= " % _SYMBOL[node.op.__class__.__name__])
            self.expr(node.value, _P.AugAssign)
        elif kind == "Expr":
            self.expr(node.value, _P.Expr)
        elif kind == "Return":
            out.append("return")
            if node.value is not None:
                out.append(" ")
                self.expr(node.value, _P.Return)
        elif kind in ("Pass", "Break", "Continue"):
            out.append(kind.lower())
        elif isinstance(node, gast.expr):
            self.expr(node, _HIGHEST)
        else:
            raise _Unsupported(kind)
        out.append("\n")
        return "".join(out)

    def expr(self, node, pp) -> None:
        out = self.out
        kind = node.__class__.__name__
        if kind == "Name":
            out.append(node.id)
        elif kind == "Constant":
            self.constant(node, pp)
        elif kind == "Attribute":
            self.expr(node.value, _HIGHEST)
            out.append(".")
            out.append(node.attr)
        elif kind == "Call":
            self.expr(node.func, _HIGHEST)
            out.append("(")
            p = _P.Comma if len(node.args) + len(node.keywords) > 1 else _P.call_one_arg
            first = True
            for arg in node.args:
                if not first:
                    out.append(", ")
                first = False
                self.expr(arg, p)
            for keyword in node.keywords:
                if not first:
                    out.append(", ")
                first = False
                if keyword.arg:
                    out.append(keyword.arg)
                    out.append("=")
                else:
                    out.append("**")
                self.expr(keyword.value, _P.Comma)
            out.append(")")
        elif kind == "BinOp":
            op = node.op.__class__.__name__
            p = _PREC[op]
            start = self.start(p, pp)
            if op == "Pow":
                self.expr(node.left, _P.Pow + 1)
                out.append(" ** ")
                self.expr(node.right, _P.PowRHS)
            else:
                self.expr(node.left, p)
                out.append(" %s " % _SYMBOL[op])
                self.expr(node.right, p + 1)
            self.end(start)
        elif kind == "UnaryOp":
            op = node.op.__class__.__name__
            p = _PREC[op]
            start = self.start(p, pp)
            symbol = _SYMBOL[op]
            out.append(symbol)
            if symbol.isalpha():
                out.append(" ")
            self.expr(node.operand, p)
            self.end(start)
        elif kind == "Subscript":
            self.expr(node.value, _HIGHEST)
            key = getattr(node.slice, "value", None)
            if key.__class__ is AttrKey:         # an object's attribute (objects.py)
                out.append(".")
                out.append(str(key))
                return
            out.append("[")
            self.expr(node.slice, _P.Subscript)
            out.append("]")
        elif kind == "Slice":
            if node.lower is not None:
                self.expr(node.lower, _P.Slice)
            out.append(":")
            if node.upper is not None:
                self.expr(node.upper, _P.Slice)
            if node.step is not None:
                out.append(":")
                if not (node.step.__class__.__name__ == "Name" and node.step.id == "None"):
                    self.expr(node.step, _P.Slice)
        elif kind == "Tuple":
            start = self.start(_P.Tuple, pp, keep=not node.elts)
            self.items(node.elts, len(node.elts) == 1)
            self.end(start)
        elif kind == "List":
            out.append("[")
            self.items(node.elts, False)
            out.append("]")
        elif kind == "Compare":
            p = _PREC[node.ops[0].__class__.__name__]
            start = self.start(p, pp)
            self.expr(node.left, p + 1)
            for op, right in zip(node.ops, node.comparators):
                out.append(" %s " % _SYMBOL[op.__class__.__name__])
                self.expr(right, p + 1)
            self.end(start)
        elif kind == "BoolOp":
            p = _PREC[node.op.__class__.__name__]
            start = self.start(p, pp)
            symbol = " %s " % _SYMBOL[node.op.__class__.__name__]
            for k, value in enumerate(node.values):
                if k:
                    out.append(symbol)
                self.expr(value, p + 1)
            self.end(start)
        elif kind == "IfExp":
            p = _P.IfExp
            start = self.start(p, pp)
            self.expr(node.body, p + 1)
            out.append(" if ")
            self.expr(node.test, p + 1)
            out.append(" else ")
            self.expr(node.orelse, p)
            self.end(start)
        elif kind == "Starred":
            out.append("*")
            self.expr(node.value, _HIGHEST)
        elif kind == "JoinedStr":
            current = "".join(out)
            embedded = (pp > _P.Expr) + (pp >= _P.Assign)
            text = _astor_pretty_string(_fstring_text(self.fstring_parts(node)), embedded,
                                        current, False)
            if "\n" in text:
                raise _Unsupported("multi-line f-string")
            out.append("f" + text)
        else:
            raise _Unsupported(kind)

    def fstring_parts(self, node):
        parts = []
        for value in node.values:
            kind = value.__class__.__name__
            if kind == "Constant" and isinstance(value.value, str):
                parts.append(value.value)
            elif kind == "FormattedValue":
                spec = None
                if value.format_spec is not None:
                    spec = _fstring_text(self.fstring_parts(value.format_spec))
                inner = _Printer()
                inner.expr(value.value, _P.Comma)
                parts.append(("".join(inner.out), value.conversion, spec))
            else:
                raise _Unsupported(kind)
        return parts

    def start(self, p, pp, keep=False) -> Tuple[int, bool]:
        """astor's ``delimit``: '(' now, dropped at the end unless needed."""
        self.out.append("(")
        return len(self.out) - 1, (p >= pp) and not keep

    def end(self, start) -> None:
        at, discard = start
        if discard:
            self.out[at] = ""
        else:
            self.out.append(")")

    def items(self, elts, trailing: bool) -> None:
        for k, e in enumerate(elts):
            if k:
                self.out.append(", ")
            self.expr(e, _P.Comma)
        if trailing:
            self.out.append(",")

    def constant(self, node, pp) -> None:
        value = node.value
        if isinstance(value, (int, float)):
            start = self.start(_P.Constant, pp)
            self.out.append(_number(value))
            self.end(start)
        elif isinstance(value, str):
            if getattr(node, "kind", None):
                raise _Unsupported("string kind")
            current = "".join(self.out)
            embedded = (pp > _P.Expr) + (pp >= _P.Assign)
            text = _astor_pretty_string(value, embedded, current, False)
            if "\n" in text:
                raise _Unsupported("multi-line string")
            self.out.append(text)
        elif value is Ellipsis:
            self.out.append("...")
        elif isinstance(value, complex):
            raise _Unsupported("complex")
        else:
            self.out.append(repr(value))


def _number(x) -> str:
    """astor's ``_handle_numeric_constant`` for int and float."""
    try:
        if math.isinf(x):
            return "-1e1000" if x < 0 else "1e1000"
        if math.isnan(x):
            return "(1e1000-1e1000)"
    except OverflowError:
        pass
    return repr(x)


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
        if isinstance(stmt, Line):
            out.append(pad + stmt.text)
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
