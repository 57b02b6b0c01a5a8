"""The compiler as a list of named passes, per mode.

Every mode starts with the same front end (``front_end``: parse, grad_of blocks,
primal trace, environment and bindings, the probe on the first call's arguments) and
ends the same way (``compile_generated``: emit, bind the helpers, compile):

    grad, value_and_grad (``generate_gradient`` below):
        front_end -> reverse.builder (backward sweep) -> reverse.restores (stacks)
        -> reverse.assemble (the function) -> passes.optimize -> comments -> compile
    jvp (``ad/forward.generate_jvp``):
        front_end -> forward.ForwardBuilder (tangents interleaved) -> dead code -> compile
    vjp (``ad/vjp.generate_vjp``):
        front_end -> reverse.builder -> reverse.restores -> forward sweep + nested
        pullback -> passes.optimize (each) -> compile
"""
from __future__ import annotations

import builtins
import collections
import copy
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import gast
import numpy

from s2sgrad import astutil as A
from s2sgrad import runtime
from s2sgrad.ad.duck import check_lazy, duck_types, lazy_forms
from s2sgrad.ad.gcpause import gc_paused
from s2sgrad.ad.gradient_control import rewrite_grad_of
from s2sgrad.ad.reverse.assemble import build_gradient_function
from s2sgrad.ad.reverse.builder import VIEW_CALLS, Bindings, ReverseBuilder
from s2sgrad.ad.reverse.checkpoint import checkpoint_loops
from s2sgrad.analysis.dataflow import Environment
from s2sgrad.analysis.effects import CONTAINER_VIEW_METHODS, MUTATING_METHODS, VIEW_METHODS
from s2sgrad.analysis.shapes import ShapeEnv, describe
from s2sgrad.analysis.staticargs import dynamic_int_params
from s2sgrad.back.emit import Comment, Line, compile_function, emit_function
from s2sgrad.errors import NonScalarOutputError
from s2sgrad.front.lower import PrimalTrace, build_primal_trace
from s2sgrad.front.parse import ParsedFunction, parse_function
from s2sgrad.passes.comments import refresh_comments, trace_definitions
from s2sgrad.objects import is_object
from s2sgrad.passes.optimize import ShapeOracle, optimize_function
from s2sgrad.runtime.duck import is_duck_array


@dataclass
class Generated:
    source: str
    function: Any
    name: str
    specialized: bool
    # positions of int arguments that only enter arithmetic (staticargs.py): the
    # code is the same for every value of those
    dynamic: tuple = ()


def choose_bindings(parsed: ParsedFunction, trace: PrimalTrace) -> Tuple[Bindings, Dict[str, Any]]:
    """Names for NumPy and the runtime helpers that collide with nothing."""
    extra: Dict[str, Any] = {}
    numpy_name = None
    for cand in ("np", "numpy"):
        if (parsed.globals.get(cand) is numpy and cand not in trace.local_names
                and cand not in parsed.closure):
            numpy_name = cand
            trace.names.reserve(cand)
            break
    if numpy_name is None:
        numpy_name = trace.names.fresh("np")
        extra[numpy_name] = numpy
    helpers = {}
    for h in runtime.__all__:
        if h in parsed.globals or h in parsed.closure:
            helpers[h] = trace.names.fresh(h + "_")
        else:
            helpers[h] = trace.names.fresh(h)
    return Bindings(numpy_name, helpers), extra


def probe_shapes(parsed: ParsedFunction, trace: PrimalTrace, args: Sequence[Any]) -> Tuple[ShapeEnv, Any]:
    """Run the primal trace once, recording every value's shape and dtype."""
    shapes = ShapeEnv()
    rec = trace.names.fresh("record")

    blocks: List[List[gast.stmt]] = []     # branch and loop bodies, by marker number

    def marked(stmts):
        """The block's statements, preceded by a record that the block ran."""
        if not stmts:
            return stmts
        blocks.append(stmts)
        return [_record_constant(rec, "#ran %d" % (len(blocks) - 1))] + instrument(stmts)

    from s2sgrad.analysis.names import Namespace
    resolve = Namespace(_with_extra(parsed.globals, trace), parsed.closure).resolve

    def instrument(stmts):
        # new blocks around the trace's own (unchanged, shared) statements: emitting
        # reads them only, so no deep copy of the trace is needed
        out = []
        for s in stmts:
            if isinstance(s, gast.Expr) and is_output_call(s.value, resolve):
                continue        # print / logging: once per call, by the generated code
            if isinstance(s, (gast.If, gast.For, gast.While)):
                s = copy.copy(s)
                s.body = marked(s.body)
                s.orelse = marked(s.orelse)
                if isinstance(s, gast.For):
                    s.body = [_record(rec, n) for n in sorted(A.names_stored(s.target))] + s.body
                out.append(s)
                continue
            out.append(s)
            if isinstance(s, gast.Assign):
                for n in sorted(A.names_stored(s.targets[0])):
                    out.append(_record(rec, n))
                if isinstance(s.targets[0], gast.Subscript):
                    # y[i] = v: the shape of the written part, for the adjoint of v
                    out.append(gast.Expr(value=A.call(A.load(rec), [
                        A.const(s.s2s_write_key), A.as_load(s.targets[0])])))
        return out

    for k, s in enumerate(n for n in A.statements(trace.node) if isinstance(n, gast.Assign)
                          and isinstance(n.targets[0], gast.Subscript)):
        s.s2s_write_key = "%s[...]#%d" % (A.root_name(s.targets[0]), k)
    fn = copy.copy(trace.node)

    ret = fn.body[-1]
    body = instrument(fn.body[:-1])
    fn.body = [_record(rec, p) for p in trace.params] + body + [ret]
    fn.name = fn.name + "_probe"
    source = emit_function(fn)
    probe = compile_function(source, fn.name, parsed.globals, parsed.closure,
                             dict(trace.extra_globals, **{rec: shapes.record}),
                             "<s2sgrad-probe %s>" % trace.info.function_name)
    # the probe must not write into the caller's arrays, containers or objects
    out = probe(*[_private_copy(a) for a in args])
    shapes.record(trace.output, out)
    # A branch (or loop body) the probe did not run may give a name it shares with the
    # branch that ran another shape: such names stay unspecialized.
    shapes.unrun = set()        # the branches and loop bodies the first call did not run
    for k, block in enumerate(blocks):
        if shapes.get("#ran %d" % k) is None and "#ran %d" % k not in shapes.info:
            shapes.unrun.add(id(block))
            for n in A.names_stored(gast.Module(body=block, type_ignores=[])):
                if n in shapes.info:
                    shapes.info[n] = None
            for w in A.nodes(gast.Module(body=block, type_ignores=[])):
                key = getattr(w, "s2s_write_key", None)
                if key in shapes.info:
                    shapes.info[key] = None
    return shapes, out


def _private_copy(a):
    if isinstance(a, (numpy.ndarray, list, dict, tuple)):
        return copy.deepcopy(a)
    if is_duck_array(a):
        return a.copy()         # a Dask array: lazily (a deep copy would compute it)
    if is_object(a):
        try:
            return copy.deepcopy(a)
        except Exception:       # (an object holding a lock, a file: not copyable)
            return a
    return a


def _with_extra(globals_, trace):
    if not trace.extra_globals:
        return globals_
    return collections.ChainMap(trace.extra_globals, globals_)


def is_output_call(expr, resolve) -> bool:
    """``print(...)``, ``logging.info(...)``, ``log.debug(...)`` on a ``logging.Logger``,
    ``warnings.warn(...)``: calls that only report (the probe skips them, so that a
    first call prints once, as a plain call does)."""
    import logging
    import warnings
    if not isinstance(expr, gast.Call):
        return False
    path = A.dotted(expr.func)
    if path is None:
        return False
    obj = resolve(path)
    if obj is builtins.print or obj is warnings.warn:
        return True
    if getattr(obj, "__module__", None) == "logging" and callable(obj):
        return True
    return isinstance(getattr(obj, "__self__", None), (logging.Logger, logging.LoggerAdapter))


def _record_constant(rec, key):
    return Line("%s(%r, 0.0)" % (rec, key))


def _record(rec, name):
    return Line("%s(%r, %s)" % (rec, name, name))


@dataclass
class FrontEnd:
    """What every generator starts from: the parsed function, its primal trace, the
    names generated code binds, and (given example arguments) the probe's shapes."""
    parsed: ParsedFunction
    trace: PrimalTrace
    wrt: List[str]
    env: Environment
    bindings: Bindings
    extra: Dict[str, Any]
    shapes: Optional[ShapeEnv]
    output: Any = None          # the probe's result (None without example arguments)


def front_end(fn, wrt: Sequence[int], example_args: Optional[Sequence[Any]] = None,
              static_args: Optional[Dict[str, Any]] = None,
              has_aux: bool = False) -> FrontEnd:
    """parse -> grad_of markers -> primal trace -> environment, bindings -> probe."""
    parsed = rewrite_grad_of(parse_function(fn))
    params = [a.id for a in parsed.node.args.posonlyargs + parsed.node.args.args]
    # wrt="self.params": (parameter, attribute names), an alias the trace defines
    wrt_names = [params[i] if not isinstance(i, tuple) else (params[i[0]], i[1]) for i in wrt]
    # (a new parse: the trace is lowered in it, and FrontEnd.parsed keeps only the
    # function, its globals and closure for the later stages)
    trace = build_primal_trace(parsed, wrt_names, example_args=example_args, fresh=True,
                               static_args=static_args, has_aux=has_aux)
    wrt_names = [trace.wrt_aliases.get(w, w) if isinstance(w, tuple) else w
                 for w in wrt_names]
    env = Environment(_with_extra(parsed.globals, trace), parsed.closure, trace.local_names)
    bindings, extra = choose_bindings(parsed, trace)
    extra.update(trace.extra_globals)       # globals of inlined functions from other modules
    shapes, out = None, None
    if example_args is not None:
        shapes, out = probe_shapes(parsed, trace, example_args)
        shapes.params = {p: describe(a) for p, a in zip(trace.params, example_args)}
    return FrontEnd(parsed, trace, wrt_names, env, bindings, extra, shapes, out)


def compile_generated(fe: FrontEnd, source: str, name: str, doc: str) -> Generated:
    """Bind the runtime helpers and template globals the source uses, and compile it."""
    extra = dict(fe.extra)
    for h in sorted(fe.bindings.used_helpers):
        extra[fe.bindings.helper_names[h]] = getattr(runtime, h)
    extra.update(fe.bindings.extra)     # globals read by rule templates (scipy, @adjoint)
    # One linecache entry per distinct source: two gradients of the same function
    # (other wrt, other shapes) must not show each other's code in tracebacks.
    filename = "<s2sgrad %s %s>" % (name, zlib.crc32(source.encode()) & 0xffffffff)
    compiled = compile_function(source, name, fe.parsed.globals, fe.parsed.closure, extra,
                                filename)
    compiled.__doc__ = doc
    return Generated(source, compiled, name, fe.shapes is not None)


@gc_paused
def generate_gradient(fn, wrt: Sequence[int], mode: str = "grad",
                      example_args: Optional[Sequence[Any]] = None,
                      tuple_output: bool = True,
                      static_args: Optional[Dict[str, Any]] = None,
                      has_aux: bool = False,
                      checkpoint: Optional[int] = None) -> Generated:
    fe = front_end(fn, wrt, example_args, static_args, has_aux=has_aux)
    trace, shapes = fe.trace, fe.shapes
    if shapes is not None and mode in ("grad", "value_and_grad") and \
            isinstance(fe.output, (tuple, list)):
        raise NonScalarOutputError(
            "grad() needs a scalar output, but %r returned a %s of %d values"
            % (trace.info.function_name, type(fe.output).__name__, len(fe.output)),
            function=trace.info.function_name, filename=trace.info.filename,
            lineno=trace.info.first_lineno,
            hint="to return auxiliary values next to the loss (return loss, aux), pass "
                 "has_aux=True: grad(f, has_aux=True) returns (gradient, aux)")
    # (a size-1 output -- shape (1,), (1, 1) -- is a scalar, as autograd takes it)
    if shapes is not None and mode in ("grad", "value_and_grad") and \
            numpy.ndim(fe.output) != 0 and numpy.size(fe.output) != 1:
        raise NonScalarOutputError(
            "grad() needs a scalar output, but %r returned a value of shape %s"
            % (trace.info.function_name, numpy.shape(fe.output)),
            function=trace.info.function_name, filename=trace.info.filename,
            lineno=trace.info.first_lineno,
            hint="reduce the output to a scalar (e.g. np.sum), or use s2sgrad.vjp / "
                 "s2sgrad.jacobian for non-scalar outputs")
    if shapes is not None and mode in ("grad", "value_and_grad") and numpy.iscomplexobj(
            fe.output):
        raise NonScalarOutputError(
            "grad() needs a real scalar output, but %r returned a complex value"
            % trace.info.function_name,
            function=trace.info.function_name, filename=trace.info.filename,
            lineno=trace.info.first_lineno,
            hint="take a real part or a magnitude (np.real(z), np.abs(z) ** 2), or use "
                 "s2sgrad.vjp / s2sgrad.jacobian / s2sgrad.jvp for complex outputs "
                 "(docs/complex.md)")
    rb = ReverseBuilder(trace, fe.wrt, fe.env, shapes, fe.bindings)
    definitions = trace_definitions(trace.node.body)
    node = build_gradient_function(trace, rb, fe.wrt, mode, tuple_output, shapes is not None)
    oracle = shape_oracle(rb)
    helpers = set(fe.bindings.helper_names.values())
    node = optimize_function(node, oracle, helpers, shapes_known=shapes is not None,
                             keep_loop_trips=checkpoint is not None)
    if checkpoint is not None:      # grad(f, checkpoint=...): long loops recomputed
        node = checkpoint_loops(node, checkpoint, trace.info, oracle.numpy_name, helpers)
    node = refresh_comments(node, definitions)
    node = protect_arguments(fe, node)
    node = lazy_arrays(fe, rb.adj, node)
    gen = compile_generated(fe, emit_function(node), node.name,
                            "Gradient of %s, generated by s2sgrad." % trace.info.function_name)
    gen.dynamic = dynamic_positions(fe, example_args)
    return gen


def lazy_arrays(fe: FrontEnd, adj: Dict[str, str], node: gast.FunctionDef,
                params=None) -> gast.FunctionDef:
    """Dask (duck) arrays among the probed values: the forms that stay lazy on them,
    and a clear error for a construct that would compute them (ad/duck.py).  ``adj``:
    primal name -> the name of its gradient (or tangent)."""
    if not duck_types(fe.shapes):
        return node
    def bind(name, value):
        fresh = fe.trace.names.fresh(name)
        fe.extra[fresh] = value
        return fresh

    node = lazy_forms(node, fe.shapes, adj, fe.bindings.numpy_name, fe.env.resolve, bind,
                      params)
    check_lazy(node, fe.shapes, fe.bindings.helper_names, fe.bindings.numpy_name,
               fe.env.resolve, fe.trace.info)
    return node


def dynamic_positions(fe: FrontEnd, example_args) -> tuple:
    """The int arguments the generated code does not depend on by value."""
    return tuple(sorted(dynamic_int_params(fe.trace, fe.env, fe.shapes, example_args)))


# (what writes in place and what shares memory: the one table, analysis/effects.py)
_MUTATING_METHODS = MUTATING_METHODS
_VIEW_METHODS = VIEW_METHODS | CONTAINER_VIEW_METHODS


def written_arguments(trace: PrimalTrace, env, shapes: Optional[ShapeEnv]) -> List[str]:
    """The parameters whose object (an array, a list, a dict, or an item of one) the
    trace writes into, directly or through a name that may share its memory (a
    view ``v = x[0]``, ``v = x.T``, an item ``W = params[0]``, an alias ``y = x``)."""
    params = list(trace.params)
    alias: Dict[str, set] = {p: {p} for p in params}

    def container(e) -> bool:
        if not isinstance(e, gast.Name):
            return isinstance(e, (gast.List, gast.Tuple))
        return shapes is None or shapes.is_container(e.id) or shapes.get(e.id) is None

    def shares(e) -> set:
        if isinstance(e, gast.Name):
            return alias.get(e.id, set())
        if isinstance(e, (gast.Subscript, gast.Attribute)):
            return shares(e.value)
        if isinstance(e, (gast.Tuple, gast.List)):
            return set().union(*[shares(x) for x in e.elts]) if e.elts else set()
        if isinstance(e, gast.Dict):
            return set().union(*[shares(x) for x in e.values]) if e.values else set()
        if isinstance(e, gast.IfExp):
            return shares(e.body) | shares(e.orelse)
        if isinstance(e, gast.BinOp):
            # list + list, list * n hold the same items; arithmetic makes new arrays
            if container(e.left) or container(e.right):
                return shares(e.left) | shares(e.right)
            return set()
        if isinstance(e, gast.Call):
            func = e.func
            args = list(e.args) + [k.value for k in e.keywords]
            if isinstance(func, gast.Attribute):
                obj = env.resolve(A.dotted(func)) if A.dotted(func) else None
                if obj is not None and getattr(obj, "__module__", "") and \
                        str(getattr(obj, "__module__", "")).startswith("numpy"):
                    name = getattr(obj, "__name__", "")
                    if name in VIEW_CALLS:
                        return set().union(*[shares(a) for a in args]) if args else set()
                    return set()
                if func.attr in _VIEW_METHODS or func.attr in VIEW_CALLS:
                    return shares(func.value) | (set().union(*[shares(a) for a in args])
                                                 if args else set())
                if container(func.value) or shapes is None:
                    return shares(func.value)
                return set()
            obj = env.resolve(A.dotted(func)) if A.dotted(func) else None
            if isinstance(obj, numpy.ufunc) or obj in (float, int, abs, len):
                return set()
            if obj is not None and str(getattr(obj, "__module__", "")).startswith("numpy"):
                if getattr(obj, "__name__", "") in VIEW_CALLS:
                    return set().union(*[shares(a) for a in args]) if args else set()
                return set()
            # anything else may return (a part of) an argument
            return set().union(*[shares(a) for a in args]) if args else set()
        return set()

    stmts = list(A.statements(trace.node))
    changed = True
    while changed:
        changed = False
        for s in stmts:
            src: set = set()
            names: set = set()
            if isinstance(s, gast.Assign):
                src = shares(s.value)
                tgt = s.targets[0]
                names = {A.root_name(tgt)} if isinstance(tgt, gast.Subscript) \
                    else A.names_stored(tgt)
            elif isinstance(s, gast.For):
                src, names = shares(s.iter), A.names_stored(s.target)
            elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and \
                    isinstance(s.value.func, gast.Attribute) and \
                    isinstance(s.value.func.value, gast.Name):
                src = set().union(*[shares(a) for a in s.value.args]) \
                    if s.value.args else set()
                names = {s.value.func.value.id}
            for n in names:
                if n is not None and not src <= alias.get(n, set()):
                    alias.setdefault(n, set()).update(src)
                    changed = True
    written: set = set()
    for s in stmts:
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            tgt = s.targets[0] if isinstance(s, gast.Assign) else s.target
            if isinstance(tgt, gast.Subscript):
                written |= alias.get(A.root_name(tgt), set())
            elif isinstance(s, gast.AugAssign) and isinstance(tgt, gast.Name):
                written |= alias.get(tgt.id, set())     # x += v is in place on arrays
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and \
                isinstance(s.value.func, gast.Attribute) and \
                s.value.func.attr in _MUTATING_METHODS:
            written |= shares(s.value.func.value)
    return [p for p in params if p in written]


def protect_arguments(fe: FrontEnd, node: gast.FunctionDef) -> gast.FunctionDef:
    """Copies, at the top of generated function ``node``, of the arguments the
    function writes into: the caller's arrays never change; its lists and dicts get what
    the forward pass left in the private copy (``write_back``), as in Python."""
    shapes = fe.shapes
    params = getattr(shapes, "params", {}) if shapes is not None else {}
    stmts = []
    backs = []
    for p in written_arguments(fe.trace, fe.env, shapes):
        vi = params.get(p)
        if vi is not None and not vi.is_array and not shapes.is_container(p):
            continue                    # a number: nothing can write into it
        if vi is not None and vi.is_array:
            value = A.call(gast.Attribute(value=A.load(p), attr="copy", ctx=gast.Load()))
            copy_ = A.assign(p, value)
            copy_.s2s_comment = "%s is written into: the caller's %s stays unchanged" % (p, p)
            stmts.append(copy_)
            continue
        # a list or dict: the function works on a private copy (the backward pass may
        # restore what the forward pass wrote), and the caller's container gets what
        # the forward pass left in it, as after a call of the function itself
        caller = fe.trace.names.fresh(p + "_caller")
        pairs = fe.trace.names.fresh(p + "_copied")
        keep = A.assign(caller, A.load(p))
        keep.s2s_comment = "the caller's %s" % p
        made = A.assign(pairs, gast.List(elts=[], ctx=gast.Load()))
        copy_ = A.assign(p, A.call(A.load(fe.bindings.helper("private_copy")),
                                   [A.load(p), A.load(pairs)]))
        copy_.s2s_comment = "%s is written into: a private copy" % p
        stmts += [keep, made, copy_]
        back = gast.Expr(value=A.call(A.load(fe.bindings.helper("write_back")),
                                      [A.load(caller), A.load(p), A.load(pairs)]))
        back.s2s_comment = "the caller's %s gets what the forward pass wrote into it" % p
        backs.append(back)
    if backs:
        body = node.body
        at = next((k for k, s in enumerate(body) if isinstance(s, Comment)
                   and s.text == "Backward pass"), None)
        if at is None:
            # (before the return, or before the Pass that ends vjp's forward sweep)
            at = len(body) - 1 if body and isinstance(body[-1], (gast.Return, gast.Pass)) \
                else len(body)
        node.body = body[:at] + backs + body[at:]
    if stmts:
        node.body = stmts + node.body
    return node


def shape_oracle(rb: ReverseBuilder) -> ShapeOracle:
    """What the optimizer may assume: the probe's shapes, a gradient shaped like its
    primal, and which names hold floats (every gradient does)."""
    shapes: Dict[str, tuple] = {}
    floating = set(rb.adj.values())
    wide = set()
    float64 = set()
    narrow: Dict[str, str] = {}
    info = rb.shapes.info if rb.shapes is not None else {}
    for name, vi in info.items():
        if vi is None or (rb.shapes is not None and rb.shapes.is_container(name)):
            continue
        shapes[name] = tuple(vi.shape)
        dt = vi.dtype
        if isinstance(dt, type) and not issubclass(dt, numpy.generic):
            kind, size = {float: ("f", 8), int: ("i", 8), bool: ("b", 1)}.get(dt, ("O", 0))
        else:
            kind, size = numpy.dtype(dt).kind, numpy.dtype(dt).itemsize
        if kind == "f":
            floating.add(name)
        if kind in "biu" or (kind == "f" and size >= 8):
            wide.add(name)
        if vi.is_array and kind == "f" and size == 8:
            float64.add(name)
        if kind == "f" and size < 8:
            narrow[name] = numpy.dtype(dt).name
    for v, g in rb.adj.items():
        if v in shapes and v in floating:
            shapes[g] = shapes[v]
            if v in wide:
                wide.add(g)
            if v in float64:
                float64.add(g)
        if v in narrow:
            narrow[g] = narrow[v]
    unshadowed = {n for n in ("zip", "reversed", "range", "len")
                  if rb.env.resolve(n) is getattr(builtins, n)}
    return ShapeOracle(shapes, floating, rb.b.numpy_name, wide, unshadowed, float64, narrow)
