"""Generated code for arrays of other libraries (Dask arrays; runtime/duck.py).

The generated gradient is NumPy calls, and NumPy hands every call on a Dask array
to Dask (``__array_function__``, ``__array_ufunc__``): the same code builds a lazy
task graph.  A few forms the compiler prefers for NumPy would compute and gather the
whole array into one process instead, or fail; when the probe saw a duck array
(``ShapeEnv.duck_type``), ``lazy_forms`` rewrites them:

* ``x += v``                  -> ``x = x + v`` (an in-place add into a NumPy buffer
                                 cannot take a lazy value; one into a Dask array is
                                 not in place anyway)
* ``np.zeros(shape)`` for the gradient of a duck value -> ``np.zeros_like(x)``
                                 (the gradient keeps ``x``'s chunks)
* ``np.copy(g)``, ``np.array(g)`` -> ``g.copy()`` (``np.array`` of a Dask array
                                 computes it; Dask has no ``np.copy``)
* ``np.array(g, dtype=d)`` / ``np.asarray(g, dtype=d)`` -> ``g.astype(d)``
* ``np.broadcast_to(0.5, X.shape)`` -> ``np.full_like(X, 0.5)`` (made chunk by chunk
                                 on the workers, not shipped as one NumPy array)
* ``return ..., float(grad_b)`` -> ``grad_b`` (the gradient of a float argument is a
                                 lazy 0-d array; ``float()`` would compute it)
* ``np.add.at(grad_E, idx, g)`` (the gradient of a gather ``E[idx]``, one integer
  array of rows) -> ``grad_E = scatter_add(grad_E, idx, g)`` (runtime/duck.py: each
  chunk of rows scattered on its worker, the blocks summed)
* the gradient of a chunked argument is rechunked like it (``grad_X.rechunk(X.chunks)``,
  a no-op when an einsum or tensordot did not change the chunks)

and ``check_lazy`` refuses, at generation time, a NumPy function the array's library
does not implement (Dask would compute the array and call NumPy, with only a
warning), a ufunc method such as ``np.add.at``, and a runtime helper not known to
stay lazy: a ``LazyArrayError`` naming the construct, the array type and the line.
"""
from __future__ import annotations

import importlib
from typing import Optional

import gast
import numpy

from s2sgrad import astutil as A
from s2sgrad.back.emit import to_source
from s2sgrad.errors import LazyArrayError
from s2sgrad.runtime.duck import LAZY_HELPERS, scatter_add

__all__ = ["duck_types", "lazy_forms", "check_lazy"]


def duck_types(shapes) -> dict:
    """name -> type of the non-NumPy arrays the probe saw (empty without a probe)."""
    return dict(shapes.__dict__.get("duck", {})) if shapes is not None else {}


def namespace_of(t) -> Optional[object]:
    """The module of duck array type ``t`` holding its NumPy-like functions
    (``dask.array`` for ``dask.array.core.Array``, ``cupy`` for ``cupy.ndarray``)."""
    parts = (t.__module__ or "").split(".")
    for k in range(1, len(parts) + 1):
        try:
            mod = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            return None
        if hasattr(mod, "zeros_like") and hasattr(mod, "concatenate"):
            return mod
    return None


def _is_numpy(path: Optional[str], numpy_name: str, resolve) -> Optional[object]:
    """The NumPy object a dotted call path names, else None."""
    if not path:
        return None
    head, _, rest = path.partition(".")
    obj = numpy if head == numpy_name else resolve(head)
    if obj is not numpy:
        return None
    for p in rest.split(".") if rest else ():
        obj = getattr(obj, p, None)
        if obj is None:
            return None
    return obj


# ---------------------------------------------------------------------------
# Rewrites


class _Rewriter(gast.NodeTransformer):
    def __init__(self, numpy_name, resolve, zeros_for, shaped, scatter=None, rows=None,
                 plain=frozenset()):
        self.plain = plain              # names the probe saw holding NumPy values only
        self.scatter = scatter          # the generated name of runtime.duck.scatter_add
        self.rows = rows                # is this index expression one array of row indices?
        self.numpy_name = numpy_name
        self.resolve = resolve
        self.zeros_for = zeros_for      # grad name -> the duck primal whose shape it has
        self.shaped = shaped            # shape -> (a duck parameter of that shape, dtype)

    def _np(self, node) -> Optional[str]:
        """'copy' for np.copy(...) (the NumPy attribute a call names), else None."""
        if isinstance(node, gast.Call):
            path = A.dotted(node.func)
            if path and _is_numpy(path, self.numpy_name, self.resolve) is not None:
                return path.partition(".")[2]
        return None

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if A.root_name(node.target) in self.plain:
            return node         # the function's own in-place update of a NumPy value
        new = A.assign(A.as_store(A.clone(node.target)),
                       gast.BinOp(left=A.as_load(A.clone(node.target)), op=node.op,
                                  right=node.value))
        for k, v in vars(node).items():
            if k.startswith("s2s_"):        # the comment and origin of the statement
                setattr(new, k, v)
        return new

    def visit_Expr(self, node):
        self.generic_visit(node)
        call = node.value
        # np.add.at(g, idx, v) (the gradient of a gather g[idx]) -> g = scatter_add(g,
        # idx, v): each chunk of rows scattered where it lives, the blocks summed
        if self.scatter and self._np(call) == "add.at" and len(call.args) == 3 \
                and not call.keywords and isinstance(call.args[0], gast.Name) \
                and self.rows(call.args[1]):
            new = A.assign(call.args[0].id, A.call(A.load(self.scatter()), list(call.args)))
            for k, v in vars(node).items():
                if k.startswith("s2s_"):
                    setattr(new, k, v)
            return new
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        t = node.targets[0]
        if isinstance(t, gast.Name) and t.id in self.zeros_for \
                and self._np(node.value) == "zeros":
            primal, dtype = self.zeros_for[t.id]
            kws = [(k.arg, k.value) for k in node.value.keywords if k.arg == "dtype"]
            if not kws and numpy.dtype(dtype) != numpy.float64:
                # (np.zeros(shape) is float64 whatever the primal's dtype)
                kws = [("dtype", A.parse_expr("%s.float64" % self.numpy_name))]
            node.value = A.call(A.parse_expr("%s.zeros_like" % self.numpy_name),
                                [A.load(primal)], kws)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        name = self._np(node)
        if name == "broadcast_to" and len(node.args) == 2 and _number(node.args[0]):
            # a constant spread over a Dask array's shape (the seed of a mean): made
            # chunk by chunk like that array, not shipped as one NumPy array
            s = node.args[1]
            shape = tuple(e.value for e in s.elts) if isinstance(s, gast.Tuple) and all(
                isinstance(e, gast.Constant) and type(e.value) is int for e in s.elts) \
                else None
            ref = self.shaped.get(shape)
            if ref is not None:
                kws = [] if ref[1] == numpy.float64 else [
                    ("dtype", A.parse_expr("%s.float64" % self.numpy_name))]
                return A.call(A.parse_expr("%s.full_like" % self.numpy_name),
                              [A.load(ref[0]), node.args[0]], kws)
        if name in ("copy", "array", "asarray") and len(node.args) == 1 and \
                isinstance(node.args[0], gast.Name) and node.args[0].id not in self.plain:
            dtype = [k.value for k in node.keywords if k.arg == "dtype"]
            others = [k for k in node.keywords if k.arg not in ("dtype", "copy")]
            if others:
                return node
            if dtype:
                return A.call(gast.Attribute(value=node.args[0], attr="astype",
                                             ctx=gast.Load()), dtype)
            if name == "asarray":
                return node.args[0]
            return A.call(gast.Attribute(value=node.args[0], attr="copy", ctx=gast.Load()))
        return node


class _Unfloat(gast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and node.func.id == "float" and \
                len(node.args) == 1 and not node.keywords:
            return node.args[0]
        return node


def _number(e) -> bool:
    """A numeric constant (``1.0``, ``-0.5``)."""
    if isinstance(e, gast.UnaryOp) and isinstance(e.op, (gast.USub, gast.UAdd)):
        e = e.operand
    return isinstance(e, gast.Constant) and isinstance(e.value, (int, float)) \
        and not isinstance(e.value, bool)


def _plain(shapes) -> frozenset:
    """The names the probe saw holding NumPy arrays, numbers or containers only (never
    a duck array): their NumPy forms stay."""
    ducks = duck_types(shapes)
    names = {n for n, vi in shapes.info.items() if vi is not None and n not in ducks}
    return frozenset(names | {n for n in shapes.__dict__.get("containers", ())
                              if n not in ducks})


def _row_index(shapes):
    """Is an index expression one integer array over the first axis (a name the probe
    saw holding a 1-d integer array, or a list of ints)?"""
    def rows(e) -> bool:
        if isinstance(e, gast.Name):
            vi = shapes.get(e.id)
            return vi is not None and vi.is_array and len(vi.shape) == 1 and \
                numpy.dtype(vi.dtype).kind in "iu"
        if isinstance(e, (gast.List, gast.Tuple)) and isinstance(e, gast.List):
            return bool(e.elts) and all(isinstance(x, gast.Constant) and type(x.value) is int
                                        for x in e.elts)
        return False
    return rows


def lazy_forms(node: gast.FunctionDef, shapes, adj: dict, numpy_name: str,
               resolve, bind=None, params=None) -> gast.FunctionDef:
    """Rewrite generated function ``node`` into forms that stay lazy on the duck arrays
    the probe saw (see the module docstring).  ``adj``: primal name -> gradient name;
    ``bind(name, value)``: binds a global of the generated code, returning its name;
    ``params``: the parameters of the differentiated function (default: ``node``'s)."""
    ducks = duck_types(shapes)
    if not ducks:
        return node
    bound = {}

    def scatter():
        if "scatter_add" not in bound:
            bound["scatter_add"] = bind("scatter_add", scatter_add)
        return bound["scatter_add"]
    zeros_for = {g: (v, shapes.get(v).dtype) for v, g in adj.items()
                 if v in ducks and shapes.get(v) is not None}
    if params is None:
        params = [a.id for a in node.args.posonlyargs + node.args.args]
    shaped = {}
    for p in params:
        vi = shapes.get(p)
        if p in ducks and vi is not None and vi.shape not in shaped:
            shaped[vi.shape] = (p, vi.dtype)
    _Rewriter(numpy_name, resolve, zeros_for, shaped, scatter if bind else None,
              _row_index(shapes), _plain(shapes)).visit(node)
    # a gradient with respect to a chunked argument has the argument's chunks (an
    # einsum or a tensordot may have split it along the other operand's chunks)
    regrid = {g: v for v, g in adj.items() if v in params and v in ducks
              and hasattr(ducks[v], "rechunk")}
    ret = node.body[-1]
    if isinstance(ret, gast.Return) and ret.value is not None:
        # the gradient of a float argument stays a lazy 0-d array (float() computes it)
        ret.value = _Unfloat().visit(ret.value)
    if isinstance(ret, gast.Return) and ret.value is not None and regrid:
        elts = ret.value.elts if isinstance(ret.value, gast.Tuple) else None

        def rechunked(e):
            if isinstance(e, gast.Name) and e.id in regrid:
                return A.call(gast.Attribute(value=e, attr="rechunk", ctx=gast.Load()),
                              [gast.Attribute(value=A.load(regrid[e.id]), attr="chunks",
                                              ctx=gast.Load())])
            if isinstance(e, gast.Tuple):
                e.elts = [rechunked(x) for x in e.elts]
            return e
        if elts is not None:
            ret.value.elts = [rechunked(e) for e in elts]
        else:
            ret.value = rechunked(ret.value)
    return node


# ---------------------------------------------------------------------------
# The check


def _where(stmt) -> str:
    comment = getattr(stmt, "s2s_comment", None)
    if isinstance(stmt, (gast.For, gast.While, gast.If)):
        line = "%s %s" % (type(stmt).__name__.lower(), to_source(
            stmt.iter if isinstance(stmt, gast.For) else stmt.test).strip())
    else:
        line = to_source(stmt).strip()
    return line + ("  # " + comment if comment else "")


def check_lazy(node: gast.FunctionDef, shapes, helper_names: dict, numpy_name: str,
               resolve, info) -> None:
    """Raise ``LazyArrayError`` at generation time when the generated code holds a
    construct that would compute a duck array the probe saw (see the module docstring)."""
    ducks = duck_types(shapes)
    if not ducks:
        return
    kind = sorted({"%s %s" % (t.__module__.split(".")[0].capitalize(), t.__name__)
                   for t in ducks.values()})[0]
    spaces = {t: namespace_of(t) for t in set(ducks.values())}
    helpers = {v: k for k, v in helper_names.items()}
    known_plain = {n for n, vi in shapes.info.items() if vi is not None and n not in ducks}
    # (containers are not: a list of Dask arrays is checked as one)

    def refuse(stmt, what, why, hint):
        origin = getattr(stmt, "s2s_origin", None)
        lineno = getattr(origin, "lineno", None)
        raise LazyArrayError(
            "%s %s on a %s: %s (generated: %s)"
            % (what, "cannot stay lazy", kind, why, _where(stmt)),
            function=info.function_name, filename=info.filename,
            lineno=lineno or info.first_lineno,
            hint=hint)

    for stmt in A.statements(node):
        if isinstance(stmt, gast.FunctionDef):
            continue
        calls = [c for c in A.nodes(stmt) if isinstance(c, gast.Call)] \
            if not isinstance(stmt, (gast.For, gast.While, gast.If)) else \
            [c for e in ([stmt.iter] if isinstance(stmt, gast.For) else [stmt.test])
             for c in A.nodes(e) if isinstance(c, gast.Call)]
        for call in calls:
            path = A.dotted(call.func)
            if path is None:
                continue
            if path in helpers and helpers[path] not in LAZY_HELPERS:
                refuse(stmt, "the runtime helper %s()" % helpers[path],
                       "it is written for NumPy arrays and may convert its input to one",
                       "this construct has no lazy form yet; compute on a sample "
                       "(x[:n].compute()) or differentiate a NumPy version")
            obj = _is_numpy(path, numpy_name, resolve)
            if obj is None:
                continue
            loaded = set()
            for a in list(call.args) + [k.value for k in call.keywords]:
                loaded |= A.names_loaded(a)
            if loaded <= known_plain:
                continue        # NumPy values only (the probe saw them): plain NumPy
            short = "np." + path.partition(".")[2]
            if isinstance(call.func, gast.Attribute) and isinstance(
                    _is_numpy(A.dotted(call.func.value), numpy_name, resolve), numpy.ufunc):
                refuse(stmt, short, "a ufunc's .%s method is not implemented for it"
                       % call.func.attr,
                       "write it without the ufunc method (np.add.at: add one-hot products, "
                       "or gather with x[idx] in the forward pass)")
            module = getattr(obj, "__module__", None) or "numpy"
            sub = module.split(".")[1:] if module.startswith("numpy.") else []
            sub = [s for s in sub if not s.startswith("_")]
            for t, ns in spaces.items():
                target = ns
                for p in sub + [getattr(obj, "__name__", path.rpartition(".")[2])]:
                    target = getattr(target, p, None) if target is not None else None
                if target is None:
                    refuse(stmt, short, "%s does not implement it, so NumPy would compute the "
                           "whole array and gather it into one process"
                           % getattr(ns, "__name__", "its library"),
                           "rewrite that step with functions %s implements, or register "
                           "a custom adjoint (s2sgrad.adjoint) whose template uses them"
                           % getattr(ns, "__name__", "the array library"))
