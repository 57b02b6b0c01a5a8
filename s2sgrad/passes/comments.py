"""Keep adjoint comments true to the code they sit in.

Each adjoint line is commented with the trace statement it differentiates
(``# h0 = np.dot(X, W1)  (line 4)``).  When the optimizer folds a single-use
temporary into its reader, the forward pass no longer has ``h0``; this pass
rewrites such comments with the temporaries spelled out, as the forward pass now
reads (``# np.dot(X, W1)  (line 4)``, ``# e = np.exp(s - s1)  (line 7)``).
"""
from __future__ import annotations

import re
from typing import Dict, Set

import gast

from s2sgrad import astutil as A
from s2sgrad.back.emit import to_source

_COMMENT = re.compile(r"^(?P<stmt>.*?)(?P<line>  \(line \d+\))$")
_WORD = re.compile(r"\w+")
_PART = re.compile(r".*?  \(line \d+\)(?=; |$)")


def trace_definitions(body) -> Dict[str, gast.expr]:
    """name -> right-hand side, for names the trace assigns exactly once."""
    defs: Dict[str, gast.expr] = {}
    count: Dict[str, int] = {}
    assigned = []
    for node in A.statements(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.For)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            for t in targets:
                for n in ((t.id,) if isinstance(t, gast.Name) and isinstance(t.ctx, gast.Store)
                          else A.names_stored(t)):
                    count[n] = count.get(n, 0) + 1
            if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name):
                assigned.append(node)
    for node in assigned:             # (copies: the optimizer rewrites the trace's trees)
        name = node.targets[0].id
        if count.get(name) == 1:
            defs[name] = A.clone(node.value)
    return defs


def _from_definition(text: str, defs: Dict[str, gast.expr]):
    """``t = <value>`` for the comment of the trace's one assignment of ``t``, built
    from its definition (copied before any pass ran; the comment was printed from
    it) instead of parsed back from the text; None for any other comment."""
    target, sep, rest = text.partition(" = ")
    value = defs.get(target) if sep and " = " not in rest else None
    if value is None:
        return None
    return gast.Assign(targets=[A.store(target)], value=A.clone(value), type_comment=None)


def refresh_comments(fn: gast.FunctionDef, defs: Dict[str, gast.expr]) -> gast.FunctionDef:
    """Spell out, in comments, the temporaries the optimized function no longer has."""
    present: Set[str] = {a.id for a in fn.args.posonlyargs + fn.args.args}
    present |= A.names_stored(gast.Module(body=fn.body, type_ignores=[]))
    gone = {n: v for n, v in defs.items() if n not in present}
    if not gone:
        return fn
    cache: Dict[str, str] = {}

    def rewrite(text: str) -> str:
        # a statement merged from several keeps their comments, joined by '; '
        parts = [p.lstrip("; ") for p in _PART.findall(text)]
        if "; ".join(parts) != text:
            parts = [text]
        return "; ".join(rewrite_one(part) for part in parts)

    def rewrite_one(text: str) -> str:
        if text in cache:
            return cache[text]
        new = text
        m = _COMMENT.match(text)
        if m and m.group("stmt").isascii() and m.group("stmt").strip() \
                and gone.keys().isdisjoint(_WORD.findall(m.group("stmt"))):
            m = None        # (no temporary named: nothing to spell out, no parse needed)
        if m:
            stmt = _from_definition(m.group("stmt"), defs)
            if stmt is None:
                try:
                    stmt = A.parse(m.group("stmt")).body[0]
                except SyntaxError:
                    stmt = None
            if stmt is not None and A.all_names(stmt) & set(gone):
                for _ in range(20):           # spell out nested temporaries too
                    loads = A.names_loaded(stmt) & set(gone)
                    if not loads:
                        break
                    stmt = A.rename(stmt, {n: gone[n] for n in loads})
                if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                        and stmt.targets[0].id in gone:
                    stmt = gast.Expr(value=stmt.value)
                new = to_source(stmt).strip() + m.group("line")
        cache[text] = new
        return new

    for node in A.statements(fn):         # (comments sit on statements)
        text = getattr(node, "s2s_comment", None)
        if isinstance(text, str):
            node.s2s_comment = rewrite(text)
    return fn
