"""Assembly: the function that reverse mode returns -- the forward sweep (with its
restores), the backward sweep from the seed ``d(out)/d(out) = 1``, and each parameter's
final gradient in the type and dtype the parameter was passed with (``final_gradient``,
shared with ``vjp``'s pullback)."""
from __future__ import annotations

import copy
from typing import List

import gast
import numpy

from s2sgrad import astutil as A
from s2sgrad.ad.reverse.builder import ReverseBuilder
from s2sgrad.ad.reverse.restores import insert_restores
from s2sgrad.back.emit import Comment
from s2sgrad.front.lower import PrimalTrace
from s2sgrad.passes.optimize import eliminate_dead_forward


def build_gradient_function(trace: PrimalTrace, rb: ReverseBuilder, wrt: List[str], mode: str,
                            tuple_output: bool, specialized: bool) -> gast.FunctionDef:
    body = trace.node.body
    forward = body[:-1]
    out = trace.output
    backward: List[gast.stmt] = []
    if out in rb.active:
        seed_name = rb.grad_name(out)
        vi = rb.shapes.get(out) if rb.shapes is not None else None
        if vi is not None and vi.is_array and vi.shape:
            # a size-1 output: the seed has its shape (np.ones((1, 1)))
            kws = [] if str(vi.dtype) == "float64" or numpy.dtype(vi.dtype).kind != "f" \
                else [("dtype", rb.np(str(vi.dtype)))]
            seed = A.assign(seed_name, A.call(rb.np("ones"), [A.parse_expr(repr(vi.shape))],
                                              kws))
        else:
            seed = A.assign(seed_name, A.const(1.0))
        seed.s2s_comment = "d%s/d%s = 1" % (out, out)
        if not specialized:
            check = gast.Expr(value=A.call(A.load(rb.b.helper("check_scalar_output")),
                                           [A.load(out), A.const(trace.info.function_name)]))
            backward.append(check)
        backward.append(seed)
        rb.defined.add(out)
        backward += rb.backward(forward)
    forward = insert_restores(rb, forward, backward)
    results = []
    for p in wrt:
        results.append(final_gradient(rb, p, backward))
    grads = results[0] if not tuple_output else gast.Tuple(elts=results, ctx=gast.Load())
    # has_aux=True: (gradients, aux), or ((value, aux), gradients), as in JAX
    output = A.load(out) if trace.aux is None else \
        gast.Tuple(elts=[A.load(out), A.load(trace.aux)], ctx=gast.Load())
    if mode == "value_and_grad":
        result = output
        if any(name == out for _, _, name, _ in rb.restores) or \
                out in A.names_stored(gast.Module(body=backward, type_ignores=[])):
            # the backward pass restores the output's name (a loop's stack popped into
            # it): the value is the forward pass's, kept before
            kept = rb.names.fresh(out + "_value")
            forward.append(A.assign(A.store(kept), A.load(out)))
            result = A.load(kept) if trace.aux is None else \
                gast.Tuple(elts=[A.load(kept), A.load(trace.aux)], ctx=gast.Load())
        value = gast.Tuple(elts=[result, grads], ctx=gast.Load())
    elif trace.aux is not None:
        value = gast.Tuple(elts=[grads, A.load(trace.aux)], ctx=gast.Load())
    else:
        value = grads
    live = A.names_loaded(gast.Module(body=backward, type_ignores=[])) | A.names_loaded(value)
    forward = eliminate_dead_forward(forward, live, rb.env)
    fn = copy.copy(trace.node)
    fn.name = trace.info.function_name.replace("<lambda>", "lambda_") + (
        "_grad" if mode == "grad" else "_value_and_grad")
    fn.body = ([Comment("Forward pass")] + forward + [Comment("Backward pass")] + backward
               + [gast.Return(value=value)])
    return fn


def final_gradient(rb: ReverseBuilder, p: str, backward: List[gast.stmt]) -> gast.expr:
    vi = rb.shapes.get(p) if rb.shapes is not None else None
    # The parameter as passed, not what its name holds at the end: ``x = f(x)`` may
    # have changed its shape or type (or made it unknown).
    entry = getattr(rb.shapes, "params", {}).get(p) if rb.shapes is not None else None
    if entry is not None:
        vi = entry
    if p not in rb.defined:
        if entry is None:
            return rb.zero_of(p)
        if not entry.is_array:
            return A.const(0.0)
        kws = [] if str(entry.dtype) == "float64" else [("dtype", rb.np(str(entry.dtype)))]
        return A.call(rb.np("zeros"), [A.parse_expr(repr(tuple(entry.shape)))], kws)
    g = A.load(rb.grad_name(p))
    if vi is None:
        return A.call(A.load(rb.b.helper("as_gradient")), [g, A.load(p)])
    if vi.is_array:
        dtype = str(vi.dtype)
        if dtype != "float64":
            fn = "asarray" if p in rb.private else "array"
            return A.call(rb.np(fn), [g], [("dtype", rb.np(dtype))])
        if p not in rb.private or tuple(vi.shape) == ():
            # (a 0-d array argument: a reduction's result is a NumPy scalar)
            return A.call(rb.np("array"), [g])
    elif p in rb.zero_d and vi.dtype in (float, int):
        return A.call(A.load("float"), [g])     # a Python float argument gets a float
    return g
