"""The seeds' computational-graph view of a gradient.

``explain(f, *args, wrt=...)`` runs ``f``'s primal trace (the three-address form
the compiler differentiates; loops unrolled, branches as taken) on ``args`` and
shows every operation as a gate of
the CS231n lecture notes: its forward value, its local gradient, the upstream
gradient it receives and the downstream gradient it sends to each input; fan-out
(an input used by several gates) sums the gradients coming back.

Downstream gradients come from s2sgrad's own derivative rules: for each gate
``y = expr(a, b)`` the gradient of ``sum(expr(a, b) * upstream)`` is generated
and run, which is exactly the vector-Jacobian product the full gradient uses for
that statement.  The full generated gradient gives the totals the tests compare
against, and its backward lines (matched by their ``# y = expr`` comments) are
shown beside each gate.

The result prints as a text table (terminal), renders as an HTML table
(Jupyter: ``_repr_html_``) and draws as a graph with ``to_dot()`` / ``to_svg()``:
values above the edges, gradients below, as in the CS231n figures.  Drawing
uses Graphviz: the ``graphviz`` Python package (``pip install s2sgrad[viz]``)
and the ``dot`` program; ``to_dot()`` needs neither.
"""
from __future__ import annotations

import ast
import html
import inspect
import re
import shutil
import subprocess
from typing import Any, Callable, Dict, List, Optional, Tuple

import gast
import numpy as np

from s2sgrad import astutil as A
from s2sgrad.api.gradient import _resolve_wrt, grad
from s2sgrad.api.tracebacks import boundary
from s2sgrad.back.emit import compile_function
from s2sgrad.errors import S2SGradError
from s2sgrad.front.lower import build_primal_trace
from s2sgrad.front.parse import parse_function
from s2sgrad.tools.explain_gates import (Fold, Gate, LoopRun, Variable, _fmt, _label_and_pattern,
                                         _sum_text, _text)

MAX_GATES = 5000
# Loops running more trips than this are drawn with their first trips and the last
# one, and the trips between folded into one node (``explain(..., unroll=N)``).
UNROLL = 4
VALUE_COLOR = "#2e7d32"      # green, as the CS231n figures
GRAD_COLOR = "#c62828"       # red


class ExplainError(S2SGradError):
    """``explain`` cannot draw this function."""


class Explanation:
    """The computational graph of one evaluation of ``f``, with its gradients."""

    def __init__(self, function_name: str, params: List[str], wrt: List[str],
                 variables: Dict[str, Variable], gates: List[Gate], output: str,
                 digits: int = 3, loops: Optional[List[LoopRun]] = None,
                 unroll: Optional[int] = UNROLL):
        self.loops = loops or []
        self.unroll = unroll
        self.function_name = function_name
        self.params = params
        self.wrt = wrt
        self.variables = variables
        self.gates = gates
        self.output = output
        self.digits = digits

    # -- access -----------------------------------------------------------------

    @property
    def value(self) -> Any:
        """The function's value."""
        return self.variables[self.output].value

    @property
    def gradients(self) -> Dict[str, Any]:
        """Total gradient of every differentiated input, by parameter name."""
        return {n: self.variables[n].grad for n in self.wrt}

    def gate(self, target: str) -> Gate:
        """The gate computing ``target`` (a name of the primal trace)."""
        for g in self.gates:
            if g.key == target:
                return g
        for g in self.gates:
            if g.target == target:
                return g
        raise KeyError("no gate computes %r; gates: %s"
                       % (target, ", ".join(g.key for g in self.gates)))

    def __getitem__(self, name: str) -> Variable:
        return self.variables[name]

    # -- folding long loops -------------------------------------------------------

    def shown(self) -> List[Any]:
        """What is drawn, in forward order: gates, and a ``Fold`` in place of the
        middle trips of each loop that ran more than ``unroll`` trips (the first
        ``unroll - 1`` trips and the last one stay; every value and gradient is
        still computed, ``gates`` has them all)."""
        folds: Dict[int, Fold] = {}
        out: List[Any] = []
        keep = self.unroll
        for g in self.gates:
            if g.hidden:
                continue
            if keep is not None and g.loop is not None:
                run_no, trip = g.loop
                run = self.loops[run_no]
                first, last = max(keep - 1, 1), run.trips - 2
                if run.trips > keep + 1 and first <= trip <= last:
                    fold = folds.get(run_no)
                    if fold is None:
                        fold = folds[run_no] = Fold(len(self.gates) + len(folds), run,
                                                    first, last, [])
                        out.append(fold)
                    fold.gates.append(g)
                    continue
            out.append(g)
        return out

    @staticmethod
    def _fold_edges(fold: Fold):
        """(entering, leaving): the values flowing into the folded trips from outside
        them, as (source key, input name, summed downstream gradient), and the keys
        the folded trips compute that later gates read."""
        inside = {g.key for g in fold.gates}
        entering: Dict[str, Tuple[str, Any]] = {}
        for g in fold.gates:
            for name, source in zip(g.inputs, g.sources):
                if source in inside:
                    continue
                d = g.downstream.get(name) if name in g.active else None
                old = entering.get(source)
                if old is None:
                    entering[source] = (name, d)
                elif d is not None:
                    entering[source] = (name, d if old[1] is None else old[1] + d)
        return entering, inside

    # -- text -------------------------------------------------------------------

    def rows(self) -> List[Tuple[str, ...]]:
        f = lambda v: _fmt(v, self.digits)  # noqa: E731
        rows = []
        for p in self.params:
            v = self.variables.get(p)
            if v is None:
                continue
            note = ""
            used = [c for c in v.consumers if p in self.gates[c].downstream]
            if len(used) > 1 and v.differentiated:
                parts = [f(self.gates[c].downstream.get(p)) for c in used]
                note = "fan-out sums: " + _sum_text(parts)
            rows.append((p, "input", f(v.value), "", "", f(v.grad) if v.differentiated
                         else "(no gradient)", "", note, ""))
        for g in self.shown():
            if isinstance(g, Fold):
                entering, _ = self._fold_edges(g)
                rows.append(("...", "trips %d..%d of %d folded (%d operations)"
                             % (g.first, g.last, g.run.trips, len(g.gates)),
                             "", "", "", "", "", "%s (line %s); explain(..., unroll=None) "
                             "draws every trip" % (g.run.header, g.run.line), ""))
                continue
            v = self.variables[g.key]
            notes = []
            if g.pattern:
                notes.append(g.pattern)
            used = [c for c in v.consumers if g.target in self.gates[c].downstream]
            if len(used) > 1 and v.grad is not None:
                notes.append("fan-out sums: " + _sum_text(
                    [f(self.gates[c].downstream.get(g.target)) for c in used]))
            first = True
            shown = g.active or [""]
            code = list(g.code)
            computes = "%s = %s" % (g.target, g.expr)
            if g.context:
                computes += "  [%s]" % g.context
            for name in shown:
                rows.append((g.key if first else "",
                             computes if first else "",
                             f(g.value) if first else "",
                             name,
                             f(g.local.get(name)) if name and name in g.local else
                             ("-" if name else ""),
                             f(g.upstream) if first else "",
                             f(g.downstream.get(name)) if name else "",
                             "; ".join(notes) if first else "",
                             code.pop(0) if code else ""))
                first = False
            for line in code:
                rows.append(("",) * 8 + (line,))
        return rows

    _HEADER = ("node", "computes", "value", "input", "local grad", "upstream",
               "downstream", "pattern", "generated backward code")

    def table(self, code: bool = False) -> str:
        """The graph as a text table, in forward order (read it bottom-up for backprop).

        ``code=True`` adds the generated backward lines of each node.
        """
        rows = self.rows()
        header = self._HEADER
        if not code:
            rows = [r[:-1] for r in rows if any(r[:-1])]
            header = header[:-1]
        widths = [max(len(r[c]) for r in rows + [header]) for c in range(len(header))]
        widths[1] = min(widths[1], 48)
        if code:
            widths[7] = min(widths[7], 30)
        lines = ["%s: value %s; gradients flow from the last row up"
                 % (self.function_name, _fmt(self.value, self.digits))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for r in rows:
            cells = [c if len(c) <= widths[i] else c[:widths[i] - 3] + "..."
                     for i, c in enumerate(r)]
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        lines.append("upstream = d(%s)/d(node) (for an input: its total gradient); downstream "
                     "= upstream x local grad, sent to each input"
                     % self.variables[self.output].name)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return self.table()

    def _repr_pretty_(self, p, cycle) -> None:   # IPython's terminal display
        p.text(self.table())

    def _repr_html_(self) -> str:
        e = html.escape
        out = ['<table class="s2sgrad-explain" style="font-family: monospace; '
               'border-collapse: collapse; text-align: left">',
               "<caption>%s: value %s (values in <span style='color:%s'>green</span>, "
               "gradients in <span style='color:%s'>red</span>)</caption>"
               % (e(self.function_name), e(_fmt(self.value, self.digits)), VALUE_COLOR,
                  GRAD_COLOR),
               "<tr>" + "".join("<th>%s</th>" % e(h) for h in self._HEADER) + "</tr>"]
        for r in self.rows():
            cells = []
            for i, c in enumerate(r):
                style = ""
                if i == 2:
                    style = " style='color:%s'" % VALUE_COLOR
                elif i in (4, 5, 6):
                    style = " style='color:%s'" % GRAD_COLOR
                tag = "code" if i in (1, 8) and c else None
                text = "<%s>%s</%s>" % (tag, e(c), tag) if tag else e(c)
                cells.append("<td%s>%s</td>" % (style, text))
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
        return "\n".join(out)

    # -- pictures ---------------------------------------------------------------

    def to_dot(self) -> str:
        """Graphviz DOT: gates as circles, values above the edges, gradients below."""
        f = lambda v: html.escape(_fmt(v, self.digits))  # noqa: E731
        lines = ["digraph %s {" % _dot_id(self.function_name),
                 '  graph [rankdir=LR, nodesep=0.35, ranksep=0.25, fontname="Helvetica"];',
                 '  node [fontname="Helvetica", fontsize=12];',
                 '  edge [arrowsize=0.6];']
        for p in self.params:
            if p in self.variables and self.variables[p].consumers:
                color = "black" if self.variables[p].differentiated else "gray40"
                lines.append('  "in:%s" [shape=plaintext, label="%s", fontcolor="%s"];'
                             % (p, p, color))
        items = self.shown()
        folded: Dict[str, int] = {}           # key computed in a fold -> its node
        for item in items:
            if isinstance(item, Fold):
                for g in item.gates:
                    folded[g.key] = item.index
                lines.append('  "gate:%d" [shape=box, style=dashed, label="%s\\n%s\\n'
                             '(%d operations)", tooltip="%s, line %s"];'
                             % (item.index, html.escape(item.run.header).replace('"', '\\"'),
                                item.label, len(item.gates),
                                html.escape(item.run.header).replace('"', '\\"'),
                                item.run.line))
                continue
            g = item
            lines.append('  "gate:%d" [shape=%s, width=0.45, label="%s", tooltip="%s = %s"];'
                         % (g.index, "circle" if len(g.label) <= 4 else "ellipse",
                            html.escape(g.label).replace('"', '\\"'), g.key,
                            html.escape(g.expr).replace('"', '\\"')))
        out_gate = self.variables[self.output].producer
        out_gate = folded.get(self.output, out_gate)

        def edge_label(key: str, value, grad) -> str:
            grad_text = f(grad) if grad is not None else "&#160;"
            lines.append(
                '  "%s" [shape=plaintext, margin=0, label=<<table border="0" cellborder="0" '
                'cellspacing="0" cellpadding="1"><tr><td sides="b" border="1" color="black">'
                '<font color="%s">%s</font></td></tr><tr><td><font color="%s">%s</font></td>'
                '</tr></table>>];' % (key, VALUE_COLOR, f(value), GRAD_COLOR, grad_text))
            return key

        def source_node(name, source):
            v = self.variables[source]
            if v.producer is None:
                return '"in:%s"' % name
            return '"gate:%d"' % folded.get(source, v.producer)

        for item in items:
            if isinstance(item, Fold):
                entering, _ = self._fold_edges(item)
                for source, (name, d) in entering.items():
                    key = edge_label("edge:%s:%d" % (source, item.index),
                                     self.variables[source].value, d)
                    lines.append('  %s -> "%s" [arrowhead=none];'
                                 % (source_node(name, source), key))
                    lines.append('  "%s" -> "gate:%d";' % (key, item.index))
                continue
            g = item
            for name, source in zip(g.inputs, g.sources):
                v = self.variables[source]
                key = edge_label("edge:%s:%d" % (source, g.index), v.value,
                                 g.downstream.get(name) if name in g.active else None)
                lines.append('  %s -> "%s" [arrowhead=none];' % (source_node(name, source),
                                                                 key))
                lines.append('  "%s" -> "gate:%d";' % (key, g.index))
        if out_gate is not None:
            v = self.variables[self.output]
            key = edge_label("edge:%s:out" % self.output, v.value, v.grad)
            lines.append('  "gate:%d" -> "%s" [arrowhead=none];' % (out_gate, key))
            lines.append('  "out:%s" [shape=plaintext, label="%s"];' % (self.output, v.name))
            lines.append('  "%s" -> "out:%s";' % (key, self.output))
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self, path: Optional[str] = None) -> str:
        """Render with Graphviz; write to ``path`` if given; return the SVG text."""
        svg = _render(self.to_dot(), "svg").decode("utf-8")
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(svg)
        return svg

    def to_png(self, path: str) -> None:
        """Render with Graphviz to a PNG file."""
        with open(path, "wb") as fh:
            fh.write(_render(self.to_dot(), "png"))

    def graph(self):
        """A ``graphviz.Source`` (displays inline in Jupyter); needs ``pip install graphviz``."""
        try:
            import graphviz
        except ImportError:
            raise ExplainError("drawing needs the graphviz Python package",
                               hint="pip install 's2sgrad[viz]' (or pip install graphviz), "
                                    "or use .to_dot() and render it yourself") from None
        return graphviz.Source(self.to_dot())


def _dot_id(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "graph"


def _render(dot: str, fmt: str) -> bytes:
    if shutil.which("dot") is None:
        raise ExplainError(
            "cannot draw the graph: the Graphviz 'dot' program is not installed",
            hint="install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew "
                 "install graphviz; conda: conda install graphviz), or call .to_dot() and "
                 "paste the text into any Graphviz viewer")
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        return graphviz.Source(dot).pipe(format=fmt)
    proc = subprocess.run(["dot", "-T" + fmt], input=dot.encode("utf-8"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise ExplainError("Graphviz 'dot' failed: %s" % proc.stderr.decode(errors="replace"))
    return proc.stdout


# ------------------------------------------------------------------------------
# Building the explanation


def _is_float_arg(a: Any) -> bool:
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


@boundary
def explain(f: Callable, *args: Any, wrt: Any = None, digits: int = 3,
            unroll: Optional[int] = UNROLL) -> Explanation:
    """Show how the gradient of ``f`` flows through its computational graph at ``args``.

    ``wrt`` is as for :func:`s2sgrad.grad` (index, name or tuple of those); the
    default is every float argument.  Python ints passed for differentiated
    parameters are treated as floats.  ``f`` returns a scalar; loops are drawn
    unrolled and branches as taken at ``args`` (a name assigned again becomes a
    new node: ``h``, ``h#1``, ...).  A loop running more than ``unroll`` trips
    shows its first ``unroll - 1`` trips and its last one, with the trips between
    folded into one node (a dashed box in the picture, a ``...`` row in the table);
    ``unroll=None`` draws every trip.  Every value and gradient is computed either
    way (``.gates`` lists them all).  At most ``MAX_GATES`` operations are run.

    Example:
        >>> import numpy as np
        >>> from s2sgrad import explain
        >>> def neuron(w, x, b):
        ...     return 1.0 / (1.0 + np.exp(-(w * x + b)))
        >>> e = explain(neuron, 2.0, -1.0, -3.0)
        >>> round(float(e.value), 4), {k: round(float(v), 4) for k, v in e.gradients.items()}
        (0.0067, {'w': -0.0066, 'x': 0.0133, 'b': 0.0066})

    The result prints as a table (``str(e)``), displays as HTML in Jupyter, and
    ``e.to_dot()`` is a Graphviz picture (``e.to_svg(path)`` / ``e.to_png(path)``
    need Graphviz's ``dot`` program).
    """

    parsed = parse_function(f)
    name = parsed.info.function_name
    params = [a.id for a in parsed.node.args.posonlyargs + parsed.node.args.args]
    if len(args) > len(params):
        raise ExplainError("%s takes %d argument(s), got %d" % (name, len(params), len(args)),
                           function=name)
    if wrt is None:
        idx = tuple(i for i, a in enumerate(args) if _is_float_arg(a) or (
            isinstance(a, int) and not isinstance(a, bool)))
        if not idx:
            raise ExplainError("none of the arguments is a float, so there is nothing to "
                               "differentiate", function=name, hint="pass floats, or wrt=...")
    else:
        idx = _resolve_wrt(parsed.func, wrt)[0]
    args = tuple(float(a) if i in idx and isinstance(a, int) and not isinstance(a, bool) else a
                 for i, a in enumerate(args))
    wrt_names = [params[i] for i in idx]
    trace = build_primal_trace(parsed, wrt_names, example_args=args)
    body = trace.node.body

    # Forward: run the trace statement by statement (loops unrolled, branches taken as
    # they go), keeping every value.  A name assigned again gets a new node: y, y#1, ...
    namespace: Dict[str, Any] = dict(parsed.globals)
    for k, cell in parsed.closure.items():
        try:
            namespace[k] = cell.cell_contents
        except ValueError:
            pass
    extra_globals = dict(getattr(trace, "extra_globals", None) or {})   # inlined callees' globals
    namespace.update(extra_globals)
    defaults = _defaults(parsed.func)
    variables: Dict[str, Variable] = {}
    current: Dict[str, str] = {}          # name -> key of its live version
    depends: set = set()                  # keys whose value depends on a wrt input
    for i, p in enumerate(params):
        if i < len(args):
            namespace[p] = args[i]
        elif p in defaults:
            namespace[p] = defaults[p]
        else:
            raise ExplainError("missing argument %r of %s" % (p, name), function=name,
                               hint="pass one value per parameter")
        variables[p] = Variable(p, namespace[p], is_input=True,
                                differentiated=p in wrt_names)
        current[p] = p
        if p in wrt_names:
            depends.add(p)
    gates: List[Gate] = []
    loops: List[LoopRun] = []
    versions: Dict[str, int] = {}
    filename = "<s2sgrad-explain %s>" % name

    def compiled(node, mode):
        tree = gast.gast_to_ast(node)
        if mode == "eval":
            return compile(ast.fix_missing_locations(ast.Expression(body=tree)), filename, "eval")
        return compile(ast.fix_missing_locations(ast.Module(body=[tree], type_ignores=[])),
                       filename, "exec")

    def unsupported(stmt, what):
        origin = getattr(stmt, "s2s_origin", stmt)
        return parsed.info.error(
            ExplainError, "explain cannot draw %s in %s" % (what, name), origin,
            hint="explain a simpler version; the gradient itself works: see "
                 "s2sgrad.grad(f).source")

    def gate_for(stmt, context, loop):
        target = stmt.targets[0].id
        expr = stmt.value
        inputs = [n.id for n in gast.walk(expr) if isinstance(n, gast.Name)
                  and isinstance(n.ctx, gast.Load) and n.id in current]
        inputs = list(dict.fromkeys(inputs))
        sources = [current[n] for n in inputs]
        exec(compiled(stmt, "exec"), namespace)
        active = [n for n, k in zip(inputs, sources) if k in depends]
        label, pattern = _label_and_pattern(expr, active, inputs)
        origin = getattr(stmt, "s2s_origin", stmt)
        count = versions.get(target, 0 if target not in variables else 1)
        key = target if count == 0 else "%s#%d" % (target, count)
        versions[target] = count + 1
        gate = Gate(len(gates), target, _text(expr), label, pattern,
                    parsed.info.absolute_line(origin), inputs, active, namespace[target])
        gate.key, gate.sources, gate.context, gate.stmt = key, sources, context, stmt
        gate.loop = loop
        gates.append(gate)
        if len(gates) > MAX_GATES:
            raise ExplainError("%s runs more than %d operations at these arguments, too many "
                               "to draw" % (name, MAX_GATES), function=name,
                               hint="explain it on smaller inputs or fewer iterations")
        variables[key] = Variable(target, namespace[target], producer=gate.index)
        variables[key].key = key
        for k in dict.fromkeys(sources):
            variables[k].consumers.append(gate.index)
        current[target] = key
        if active:
            depends.add(key)

    def loop_run(stmt, loop):
        """A new LoopRun when ``stmt`` is an outermost loop; ``loop`` otherwise."""
        if loop is not None:
            return None
        origin = getattr(stmt, "s2s_origin", stmt)
        text = parsed.info.text_of(origin) if origin is not None else None
        header = (text or "loop").strip().splitlines()[0].rstrip(":")
        loops.append(LoopRun(header, parsed.info.absolute_line(origin)))
        return len(loops) - 1

    def trip(run_no, k, loop):
        if run_no is None:
            return loop
        loops[run_no].trips = k + 1
        return (run_no, k)

    def run(stmts, context, loop=None):
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], gast.Name):
                gate_for(stmt, context, loop)
            elif isinstance(stmt, gast.For):
                if any(isinstance(n, (gast.Break, gast.Continue)) for n in gast.walk(stmt)):
                    raise unsupported(stmt, "'break' or 'continue'")
                if any(isinstance(n, gast.Name) and current.get(n.id) in depends
                       for n in gast.walk(stmt.iter)):
                    raise unsupported(stmt, "a loop over a differentiated value")
                targets = sorted(A.names_stored(stmt.target))
                run_no = loop_run(stmt, loop)
                for k, item in enumerate(eval(compiled(stmt.iter, "eval"), namespace)):
                    namespace["__s2sgrad_item__"] = item
                    exec(compiled(gast.Assign(targets=[stmt.target], value=gast.Name(
                        id="__s2sgrad_item__", ctx=gast.Load(), annotation=None,
                        type_comment=None), type_comment=None), "exec"), namespace)
                    for t in targets:
                        current.pop(t, None)           # loop counters are not graph values
                    here = ", ".join("%s=%s" % (t, namespace[t]) for t in targets)
                    run(stmt.body, (context + ", " if context else "") + here,
                        trip(run_no, k, loop))
                run(stmt.orelse, context, loop)
            elif isinstance(stmt, gast.While):
                if any(isinstance(n, (gast.Break, gast.Continue)) for n in gast.walk(stmt)):
                    raise unsupported(stmt, "'break' or 'continue'")
                steps = 0
                run_no = loop_run(stmt, loop)
                while eval(compiled(stmt.test, "eval"), namespace):
                    steps += 1
                    run(stmt.body, (context + ", " if context else "") + "step %d" % steps,
                        trip(run_no, steps - 1, loop))
            elif isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name) \
                    and current.get(stmt.target.id) not in depends \
                    and not any(isinstance(n, gast.Name) and current.get(n.id) in depends
                                for n in gast.walk(stmt.value)):
                # bookkeeping (a while loop's trip count): run, not drawn
                exec(compiled(stmt, "exec"), namespace)
                current.pop(stmt.target.id, None)
            elif isinstance(stmt, gast.If):
                taken = bool(eval(compiled(stmt.test, "eval"), namespace))
                run(stmt.body if taken else stmt.orelse, context, loop)
            elif isinstance(stmt, (gast.Pass,)) or (isinstance(stmt, gast.Expr) and isinstance(
                    stmt.value, gast.Constant)):
                continue
            else:
                raise unsupported(stmt, "a %s statement" % type(stmt).__name__)

    run(body[:-1], "")
    if trace.output not in current or current[trace.output] not in variables:
        raise ExplainError("%s returns a value that is not computed in it" % name, function=name)
    out = current[trace.output]
    if variables[out].producer is None:
        raise ExplainError("%s returns an input unchanged; there is no graph to draw" % name,
                           function=name)
    if np.ndim(variables[out].value) != 0:
        raise ExplainError("explain needs a scalar output, but %s returned shape %s"
                           % (name, np.shape(variables[out].value)), function=name,
                           hint="reduce the output to a scalar (e.g. np.sum)")

    # Bookkeeping the gradient never touches (loop flags, conditions) is not drawn.
    for gate in gates:
        gate.hidden = gate.key not in depends and not any(
            gates[c].key in depends for c in variables[gate.key].consumers)

    # Backward: gates in reverse order, each sending upstream x local to its inputs.
    grads: Dict[str, Any] = {out: 1.0}
    numpy_name = "numpy_explain_"
    vjps: Dict[int, Any] = {}
    for gate in reversed(gates):
        upstream = grads.get(gate.key)
        gate.upstream = upstream
        variables[gate.key].grad = upstream
        if not gate.active or upstream is None:
            continue
        g = vjps.get(id(gate.stmt))
        if g is None:
            vjp = _gate_vjp(gate, parsed, numpy_name, compile_function, extra_globals)
            positions = tuple(gate.inputs.index(n) for n in gate.active)
            g = vjps[id(gate.stmt)] = grad(vjp, wrt=positions)
        values = [variables[k].value for k in gate.sources]
        down = g(*values, upstream)
        for n, d in zip(gate.active, down):
            k = gate.sources[gate.inputs.index(n)]
            gate.downstream[n] = d
            grads[k] = d if k not in grads else grads[k] + d
        if np.ndim(gate.value) == 0:
            ones = g(*values, 1.0)
            for n, d in zip(gate.active, ones):
                gate.local[n] = d
    for p in wrt_names:
        variables[p].grad = grads.get(p, 0.0 if np.ndim(variables[p].value) == 0
                                      else np.zeros(np.shape(variables[p].value)))
    for k, v in variables.items():
        if v.producer is not None and v.grad is None and k in grads:
            v.grad = grads[k]

    _attach_code(gates, f, wrt_names, args)
    return Explanation(name, params, wrt_names, variables, gates, out, digits, loops, unroll)


def _defaults(fn) -> Dict[str, Any]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    return {k: p.default for k, p in sig.parameters.items() if p.default is not p.empty}


def _gate_vjp(gate: Gate, parsed, numpy_name: str, compile_function, extra_globals=None):
    """``def vjp(inputs..., upstream): return sum(expr * upstream)`` bound like the user's code."""
    upstream = "upstream_"
    while upstream in gate.inputs:
        upstream += "_"
    fname = "%s_vjp" % gate.target
    source = "def %s(%s):\n    return %s.sum((%s) * %s)\n" % (
        fname, ", ".join(gate.inputs + [upstream]), numpy_name, gate.expr, upstream)
    extra = dict(extra_globals or {})
    extra[numpy_name] = np
    return compile_function(source, fname, parsed.globals, parsed.closure,
                            extra, "<s2sgrad-explain %s.%s>"
                            % (parsed.info.function_name, gate.target))


def _attach_code(gates: List[Gate], f, wrt_names, args) -> None:
    """Attach the generated backward lines to the gate each one differentiates."""
    try:
        g = grad(f, wrt=tuple(wrt_names))
        g(*args)
        source = g.source
    except Exception:   # the table does not depend on it
        return
    by_stmt: Dict[str, List[str]] = {}
    backward = False
    for line in source.splitlines():
        if line.strip() == "# Backward pass":
            backward = True
            continue
        if not backward or "  # " not in line:
            continue
        code, _, comment = line.strip().partition("  # ")
        stmt = re.sub(r"\s+\((?:[^()]*, )?line \d+\)$", "", comment).strip()
        by_stmt.setdefault(stmt, []).append(code)
    for gate in gates:
        gate.code = by_stmt.get("%s = %s" % (gate.target, gate.expr), [])
