"""Forward mode through a ``@vjp`` rule that has no forward knowledge.

The rule's template computes ``c_x(u) = J_x^T u``; the tangent ``sum_x J_x dot_x``
is the gradient with respect to ``u`` of ``sum_x <c_x(u), dot_x>``.  That small
function is built from the template, differentiated by the reverse pass, and its
code inlined into the forward code.
"""
from __future__ import annotations

import copy
import zlib
from typing import List

import gast
import numpy as np

from s2sgrad import astutil as A
from s2sgrad import runtime
from s2sgrad.ad.pipeline import generate_gradient
from s2sgrad.back.emit import Comment, compile_function, emit_function
from s2sgrad.errors import S2SGradError
from s2sgrad.rules.templates import Temp, bind, instantiate

# --------------------------------------------------------------------------
# Forward mode through a vjp rule that has no tangent: transpose the template


def transpose_vjp_rule(fb, s, op, result, r):
    """Tangent of ``r = op(...)`` for a ``@vjp`` rule with no forward knowledge.

    The rule's template computes ``c_x(u) = J_x^T u`` for each input ``x``.  The
    tangent is ``sum_x J_x dot_x``, and since ``<u, J_x v> = <c_x(u), v>`` it is
    the gradient with respect to ``u`` of the scalar ``sum_x <c_x(u), dot_x>``
    -- a function built from the template and differentiated by the reverse
    pass itself.  Its gradient code is inlined here (JAX's transpose idea, run
    backwards: the JVP is the transpose of the VJP).
    """

    rule = op.rule
    binding = bind(rule, op.args, op.keywords, fb._fail(s), op.obj)
    diff = rule.differentiable_params()
    wanted = [p for p in rule.params if isinstance(binding.get(p), gast.Name)
              and binding[p].id in fb.varied and p in diff]
    if not wanted:
        return [], fb.zero_of(r)
    u = fb.names.fresh("u_" + r)
    resolver = lambda n: fb.b.resolve(n, rule, fb.names.fresh)
    try:
        pieces = instantiate(rule, binding, result, A.load(u), wanted, fb.names.fresh, resolver,
                             fb.kind_of)
    except Exception as exc:
        raise fb.error(s, "no forward-mode rule for '%s' (%s)" % (op.label, exc),
                       hint="add a @tangent_rule for it (s2sgrad/rules/tangents.py)")
    body: List[gast.stmt] = []
    terms = []
    for piece in pieces:
        if isinstance(piece, Temp):
            body.append(piece.stmt)
            continue
        x = binding[piece.param].id
        dot = A.load(fb.dot(x))
        if piece.index is not None:
            dot = gast.Subscript(value=dot, slice=piece.index, ctx=gast.Load())
        terms.append(A.call(A.parse_expr(fb.b.numpy_name + ".sum"),
                            [gast.BinOp(left=piece.value, op=gast.Mult(), right=dot)]))
    total = terms[0]
    for t in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=t)
    if fb.shapes is not None and any(fb.kind_of(n) == "c" for n in A.names_loaded(s.value) | {r}):
        # complex values: the tangent is the gradient in u of Re(sum(c_x(u) * dot_x))
        # (docs/complex.md: the pairing of the transpose convention is the real part)
        total = A.call(A.parse_expr(fb.b.numpy_name + ".real"), [total])
    body.append(gast.Return(value=total))
    stored = A.names_stored(gast.Module(body=body, type_ignores=[]))
    loaded = A.names_loaded(gast.Module(body=body, type_ignores=[]))
    dots = set(fb.dots.values())
    free = sorted(n for n in loaded - stored - {u}
                  if n in fb.env.local_names or n in dots or n == r)
    name = "transpose_" + "".join(c if c.isalnum() else "_" for c in rule.label).strip("_")
    params = [u] + free
    fn = gast.FunctionDef(
        name=name, args=gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                                       type_comment=None) for p in params],
                                       posonlyargs=[], vararg=None, kwonlyargs=[],
                                       kw_defaults=[], kwarg=None, defaults=[]),
        body=body, decorator_list=[], returns=None, type_comment=None)
    source = emit_function(fn)
    objects = {fb.b.numpy_name: np}
    objects.update({fb.b.helper_names[h]: getattr(runtime, h) for h in runtime.__all__
                    if h in fb.b.helper_names})
    objects.update(getattr(fb.b, "extra", {}))
    lin = compile_function(source, name, fb.env.globals, {}, objects,
                           "<s2sgrad %s %s>" % (name, zlib.crc32(source.encode()) & 0xffffffff))
    example = _example_args(fb, params, u, r)
    try:
        gen = None
        if example is not None:
            try:
                with np.errstate(all="ignore"):
                    gen = generate_gradient(lin, (0,), "grad", example, False)
            except S2SGradError:
                raise
            except Exception:         # the made-up example values broke the probe
                gen = None
        if gen is None:
            gen = generate_gradient(lin, (0,), "grad", None, False)
    except S2SGradError as exc:
        if fb.shapes is not None and any(fb.kind_of(n) == "c"
                                         for n in A.names_loaded(s.value) | {r}):
            raise fb.error(s, "forward mode of '%s' is not supported for complex values (%s)"
                           % (op.label, exc.message)) from None
        # The template calls something with no derivative rule of its own (an
        # adjoint helper): evaluate the linear map on unit cotangents instead.
        return _by_unit_cotangents(fb, pieces, u, terms, r)
    return _inline(fb, s, gen, u, params, r)


def _example_args(fb, params, u, r):
    """Arguments with the probed shapes (ones), to specialize the transposed code."""
    if fb.shapes is None:
        return None
    inv = {d: v for v, d in fb.dots.items()}
    out = []
    for p in params:
        vi = fb.shapes.get(r if p == u else inv.get(p, p))
        if vi is None:
            return None
        if vi.is_array:
            dtype = vi.dtype if vi.dtype.kind in "fc" or p not in inv and p != u else float
            if p == u:
                out.append(np.zeros(vi.shape, dtype=dtype))
            elif np.dtype(dtype).kind in "fc":
                # well-conditioned made-up values: positive, diagonally dominant matrices
                value = np.random.RandomState(0).uniform(0.5, 1.5, vi.shape)
                if len(vi.shape) >= 2 and vi.shape[-1] == vi.shape[-2]:
                    value = value + vi.shape[-1] * np.eye(vi.shape[-1])
                out.append(value.astype(dtype))
            else:
                out.append(np.ones(vi.shape, dtype=dtype))
        elif p == u or p in inv:
            value = 0.0 if p == u else 1.0
            complex_ = fb.shapes.kind(r if p == u else inv.get(p, p)) == "c"
            out.append(complex(value) if complex_ else value)
        else:
            dt = vi.dtype
            out.append(dt(1) if isinstance(dt, type) else np.ones((), dtype=dt)[()])
    return out


def transpose_linear(fn, like):
    """The vector whose entry i is ``fn(e_i)`` (``e_i`` the unit arrays shaped like
    ``like``): for ``fn(u) = <J^T u, v>`` that is ``J v``."""
    if np.ndim(like) == 0:
        return fn(1.0)
    shape = np.shape(like)
    out = np.empty(shape)
    e = np.zeros(shape)
    for i in range(out.size):
        e.flat[i] = 1.0
        out.flat[i] = fn(e)
        e.flat[i] = 0.0
    return out


def _by_unit_cotangents(fb, pieces, u, terms, r):
    temps = {}
    for piece in pieces:
        if isinstance(piece, Temp):
            temps[piece.stmt.targets[0].id] = A.rename(copy.deepcopy(piece.stmt.value), temps)
    total = A.rename(copy.deepcopy(terms[0]), temps)
    for t in terms[1:]:
        total = gast.BinOp(left=total, op=gast.Add(), right=A.rename(copy.deepcopy(t), temps))
    lam = gast.Lambda(args=gast.arguments(args=[gast.Name(id=u, ctx=gast.Param(),
                                                          annotation=None, type_comment=None)],
                                          posonlyargs=[], vararg=None, kwonlyargs=[],
                                          kw_defaults=[], kwarg=None, defaults=[]),
                      body=total)
    helper = None
    for k, v in getattr(fb.b, "extra", {}).items():
        if v is transpose_linear:
            helper = k
    if helper is None:
        helper = fb.names.fresh("transpose_linear")
        fb.b.extra[helper] = transpose_linear
    return [], A.call(A.load(helper), [lam, A.load(r)])


def cells_named(cells, helper):
    fn = getattr(runtime, helper)
    return {k for k, c in cells.items() if c.cell_contents is fn}


def _inline(fb, s, gen, u, params, r):
    """The statements of a generated gradient, renamed into the forward code."""
    tree = gast.parse(gen.source).body[0]
    f = gen.function
    cells = dict(zip(f.__code__.co_freevars, f.__closure__ or ()))
    mapping = {}
    helper_of = {id(getattr(runtime, h)): h for h in runtime.__all__}
    extra_of = {id(v): k for k, v in getattr(fb.b, "extra", {}).items()}
    for var, cell in cells.items():
        obj = cell.cell_contents
        if obj is np:
            mapping[var] = fb.b.numpy_name
        elif id(obj) in helper_of:
            mapping[var] = fb.b.helper(helper_of[id(obj)])
        elif id(obj) in extra_of:
            mapping[var] = extra_of[id(obj)]
        else:
            new = fb.names.fresh(var)
            fb.b.extra[new] = obj
            mapping[var] = new
    stored = A.names_stored(gast.Module(body=tree.body, type_ignores=[]))
    for n in sorted(stored):
        if n not in params and n not in mapping:
            mapping[n] = fb.names.fresh(n)
    ret = tree.body[-1]
    assert isinstance(ret, gast.Return)
    stmts = [A.rename(st, mapping) for st in tree.body[:-1]
             if not (isinstance(st, gast.Expr) and isinstance(st.value, gast.Call)
                     and A.dotted(st.value.func) in cells_named(cells, "check_scalar_output"))]
    seed = A.assign(u, fb.zero_of(r))
    seed.s2s_comment = "any cotangent: the tangent is the gradient of a linear function of it"
    value = A.rename(ret.value, mapping)
    head = Comment("tangent of %s: the adjoint rule of '%s', transposed"
                   % (r, s.value.func.attr if isinstance(getattr(s.value, "func", None),
                                                         gast.Attribute)
                      else A.dotted(getattr(s.value, "func", None)) or "op"))
    return [head, seed] + stmts, value
