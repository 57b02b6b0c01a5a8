"""Split-mode reverse: ``vjp(f)(*args) -> (value, pullback)``.

The forward sweep runs in the generated function; the backward sweep is the
body of a nested ``pullback(cotangent)`` that reads the forward sweep's values
from its closure.  Values the backward sweep restores (loops) and the stacks it
pops are copied into pullback-local names first, so a pullback can run any
number of times.
"""
from __future__ import annotations

from typing import List, Sequence

import gast

from s2sgrad import astutil as A
from s2sgrad.ad import pipeline
from s2sgrad.ad.gcpause import gc_paused
from s2sgrad.ad.pipeline import compile_generated, front_end, lazy_arrays, protect_arguments
from s2sgrad.ad.reverse.assemble import final_gradient
from s2sgrad.ad.reverse.builder import ReverseBuilder
from s2sgrad.ad.reverse.restores import insert_restores
from s2sgrad.analysis.dataflow import activity
from s2sgrad.back.emit import Comment, emit_stmts
from s2sgrad.passes import optimize
from s2sgrad.passes.optimize import eliminate_dead_forward, flatten

# --------------------------------------------------------------------------
# Split-mode reverse generation


@gc_paused
def generate_vjp(fn, wrt: Sequence[int], example_args=None, tuple_output: bool = True,
                 has_aux: bool = False):
    fe = front_end(fn, wrt, example_args, has_aux=has_aux)
    trace, wrt_names, env, bindings, shapes = fe.trace, fe.wrt, fe.env, fe.bindings, fe.shapes
    params = trace.params
    body = trace.node.body
    forward = body[:-1]
    out = trace.output
    rb = ReverseBuilder(trace, wrt_names, env, shapes, bindings)
    ct = rb.grad_name(out)
    tail = []
    if trace.aux is not None and forward and isinstance(forward[-1], gast.Assign) and \
            A.names_stored(forward[-1].targets[0]) == {trace.aux}:
        tail, forward = forward[-1:], forward[:-1]      # the aux copy: no cotangent
    elements = None
    last = forward[-1] if forward else None
    if isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name) and \
            last.targets[0].id == out and isinstance(last.value, (gast.Tuple, gast.List)):
        elements = last.value.elts
        active = set()
        for e in elements:
            if isinstance(e, gast.Name):
                active |= activity(body, wrt_names, e.id, env)
        rb.active = active
    backward: List[gast.stmt] = []
    if elements is not None:
        for k, e in enumerate(elements):
            if isinstance(e, gast.Name) and e.id in rb.active:
                value = gast.Subscript(value=A.load(ct), slice=A.const(k), ctx=gast.Load())
                backward += rb.accumulate(e.id, value, "cotangent of output %d" % k)
        backward += rb.backward(forward[:-1])
    elif out in rb.active:
        rb.defined.add(out)
        backward += rb.backward(forward)
    forward = insert_restores(rb, forward + tail, backward)
    results = [final_gradient(rb, p, backward) for p in wrt_names]
    grads = results[0] if not tuple_output else gast.Tuple(elts=results, ctx=gast.Load())
    backward = flatten(backward)
    live = A.names_loaded(gast.Module(body=backward, type_ignores=[])) | A.names_loaded(grads) \
        | {out} | ({trace.aux} if trace.aux else set())
    forward = eliminate_dead_forward(forward, live, env)

    # The pullback may run several times: names the backward sweep re-assigns
    # (restored values, stacks) get pullback-local copies.
    forward = flatten(forward)
    fwd_names = set(params) | A.names_stored(gast.Module(body=forward, type_ignores=[]))
    bwd_assigned = set()
    for node in _walk(backward):
        if isinstance(node, gast.Assign):
            bwd_assigned |= A.names_stored(node.targets[0])
        elif isinstance(node, gast.AugAssign):
            bwd_assigned |= A.names_stored(node.target)
    shared = sorted((bwd_assigned & fwd_names) - {ct})
    stacks = {s.targets[0].id for s in A.splice(forward) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.List)
              and not s.value.elts}
    shared = sorted(set(shared) | (stacks & A.names_loaded(gast.Module(body=backward,
                                                                       type_ignores=[]))))
    mapping = {n: trace.names.fresh(n + "_pb") for n in shared}
    read_first = _read_before_written(backward)
    prologue = []
    for n in shared:
        if n not in stacks and n not in read_first:
            continue                       # assigned before any read: no copy needed
        value = A.call(A.load("list"), [A.load(n)]) if n in stacks else A.load(n)
        s = A.assign(mapping[n], value)
        s.s2s_comment = "the backward sweep updates %s: work on a copy" % n
        prologue.append(s)
    pb_body = prologue + [A.rename(s, mapping) for s in backward]
    grads = A.rename(grads, mapping)

    fn_name = trace.info.function_name.replace("<lambda>", "lambda_") + "_vjp"
    pb_name = trace.names.fresh("pullback")
    fwd_fn = gast.FunctionDef(name=fn_name, args=trace.node.args, body=forward + [gast.Pass()],
                              decorator_list=[], returns=None, type_comment=None)
    fwd_fn.body = flatten(fwd_fn.body)        # primal code stays exactly as traced
    fwd_fn = protect_arguments(fe, fwd_fn)
    bwd_fn = gast.FunctionDef(name=pb_name, args=None, body=pb_body + [gast.Return(value=grads)],
                              decorator_list=[], returns=None, type_comment=None)
    bwd_fn = _optimize_backward(bwd_fn, rb, shapes is not None)
    # Dask arrays (ad/duck.py): the pullback gets the lazy forms and the check (the
    # forward sweep is the user's own code)
    bwd_fn = lazy_arrays(fe, rb.adj, bwd_fn, params)
    args = ", ".join(params)
    lines = ["def %s(%s):" % (fn_name, args)]
    emit_stmts([Comment("Forward sweep (runs now)")] + fwd_fn.body[:-1], 1, lines)
    lines.append("")
    lines.append("    def %s(%s):" % (pb_name, ct))
    emit_stmts([Comment("Backward sweep (runs when called with the cotangent of %s)" % out)]
               + bwd_fn.body, 2, lines)
    # has_aux=True: (value, pullback, aux), as in JAX
    lines.append("    return %s, %s%s" % (out, pb_name, ", " + trace.aux if trace.aux else ""))
    source = "\n".join(lines) + "\n"
    return compile_generated(fe, source, fn_name,
                             "Split-mode reverse (VJP) of %s, generated by s2sgrad."
                             % trace.info.function_name)


def _optimize_backward(fn, rb, shapes_known):
    """The clean-ups ``grad`` gets (copy propagation, folding, dead code), on the
    pullback's body; the plain simplifier if those are unavailable."""
    if hasattr(optimize, "optimize_function") and hasattr(pipeline, "shape_oracle"):
        return optimize.optimize_function(fn, pipeline.shape_oracle(rb),
                                          set(rb.b.helper_names.values()),
                                          shapes_known=shapes_known)
    return optimize.simplify_function(fn)


def _read_before_written(stmts) -> set:
    """Names some path through ``stmts`` (in textual order) reads before assigning."""
    first_read = set()

    def visit(body, seen):
        seen = set(seen)
        for st in body:
            if isinstance(st, (gast.For, gast.While, gast.If)):
                head = st.iter if isinstance(st, gast.For) else st.test
                first_read.update(A.names_loaded(head) - seen)
                inner = seen | (A.names_stored(st.target) if isinstance(st, gast.For) else set())
                after_body = visit(st.body, inner)
                after_else = visit(st.orelse, seen)
                if isinstance(st, gast.If):
                    seen = after_body & after_else     # written on every path
                continue                               # a loop may run zero times
            loads = A.names_loaded(st)
            if isinstance(st, gast.AugAssign):
                loads = loads | A.names_stored(st.target)
            first_read.update(loads - seen)
            seen |= A.names_stored(st)
        return seen
    visit(stmts, set())
    return first_read


def _walk(stmts):
    for s in stmts:
        yield s
        for field_name in ("body", "orelse"):
            sub = getattr(s, field_name, None)
            if isinstance(sub, list):
                yield from _walk(sub)
