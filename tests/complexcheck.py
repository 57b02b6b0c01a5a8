"""Finite-difference checks for complex arguments, values and outputs (docs/complex.md).

The convention (autograd's, and JAX's): for a real loss L and z = x + iy,
``grad(L)(z) = dL/dx - i dL/dy``.  ``check_complex_expr("np.fft.fft(x)", x=z)``
differentiates ``L = Re(sum(expr * C))`` -- C a random cotangent, complex when the
value is complex -- with respect to every keyword argument and compares with central
differences along the real and the imaginary direction of every entry; forward mode
(jvp with a complex tangent t: the directional derivative ``dL(z + h t)/dh``) and
split reverse mode (vjp's pullback of C, the gradient of the same L) are compared too.
"""
from __future__ import annotations

import itertools
import linecache

import numpy as np

import s2sgrad
from rulecheck import _namespace

_COUNTER = itertools.count()
RNG = np.random.default_rng(4321)


def crand(*shape, scale=1.0):
    """Complex normal entries; ``crand()`` is a Python complex."""
    if not shape:
        return complex(RNG.standard_normal() * scale, RNG.standard_normal() * scale)
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)) * scale


def _random_like(value):
    if np.iscomplexobj(value):
        return crand(*np.shape(value)) if np.ndim(value) else crand()
    return RNG.standard_normal(np.shape(value)) if np.ndim(value) else float(
        RNG.standard_normal())


def _compile(src, consts):
    filename = "<complexcheck-%d>" % next(_COUNTER)
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = _namespace()
    ns.update(consts or {})
    exec(compile(src, filename, "exec"), ns)
    return ns


def numeric_complex_grad(f, args, i, eps=1e-6):
    """dL/dx - i dL/dy for a complex argument (dL/dx for a real one), entry by entry."""
    x = args[i]
    cplx = np.iscomplexobj(x)
    base = np.array(x, dtype=complex if cplx else float)
    flat = base.reshape(-1)
    out = np.zeros(flat.shape, dtype=complex if cplx else float)

    def at(v):
        call = list(args)
        call[i] = v.reshape(base.shape) if np.ndim(x) else (v[0] if cplx else float(v[0].real))
        return float(np.real(f(*call)))
    for k in range(flat.size):
        for direction in ((1.0, 1j) if cplx else (1.0,)):
            h = eps * max(1.0, abs(flat[k]))
            p, m = flat.copy(), flat.copy()
            p[k] += h * direction
            m[k] -= h * direction
            d = (at(p) - at(m)) / (2 * h)
            out[k] += d if direction == 1.0 else -1j * d
    return out.reshape(base.shape) if np.ndim(x) else out[0]


def check_complex_expr(expr, consts=None, rtol=1e-6, atol=1e-8, eps=1e-6, forward=True,
                       split=True, **args):
    """Gradient, jvp and vjp of ``expr`` against finite differences (see the module doc)."""
    names = list(args)
    ns = _namespace()
    ns.update(consts or {})
    value = eval(expr, ns, dict(args))
    C = _random_like(value)
    src = ("def loss(%s):\n    return np.real(np.sum((%s) * C))\n\n"
           "def value(%s):\n    return %s\n" % (", ".join(names + ["C"]), expr,
                                                ", ".join(names), expr))
    fns = _compile(src, consts)
    loss, fvalue = fns["loss"], fns["value"]
    full = tuple(args.values()) + (C,)
    wrt = tuple(range(len(names)))
    before = [np.array(a, copy=True) for a in full]
    grads = s2sgrad.grad(loss, wrt=wrt)(*full)
    for a, b in zip(full, before):
        np.testing.assert_array_equal(a, b)
    for i, g in enumerate(grads):
        num = numeric_complex_grad(loss, full, i, eps)
        assert np.shape(g) == np.shape(args[names[i]]), (np.shape(g), names[i])
        if not np.iscomplexobj(args[names[i]]):
            assert not np.iscomplexobj(g), "the gradient of real %r is complex" % names[i]
        np.testing.assert_allclose(g, num, rtol=rtol, atol=atol,
                                   err_msg="gradient w.r.t. %s of %s" % (names[i], expr))
    if forward:
        tangents = tuple(_random_like(args[n]) for n in names)
        _, jv = s2sgrad.jvp(loss, wrt=wrt)(*full, tangents)
        expected = sum(float(np.real(np.sum(g * t))) for g, t in zip(grads, tangents))
        # <grad, t> in the convention: Re(sum(grad * t)) is the directional derivative
        np.testing.assert_allclose(float(np.real(jv)), expected, rtol=1e-7, atol=1e-9,
                                   err_msg="jvp of %s" % expr)
        _, jw = s2sgrad.jvp(fvalue, wrt=wrt)(*tuple(args.values()), tangents)
        h = 1e-6
        plus = [a + h * t for a, t in zip(args.values(), tangents)]
        minus = [a - h * t for a, t in zip(args.values(), tangents)]
        num = (np.asarray(eval(expr, ns, dict(zip(names, plus))))
               - np.asarray(eval(expr, ns, dict(zip(names, minus))))) / (2 * h)
        np.testing.assert_allclose(jw, num, rtol=1e-5, atol=1e-7,
                                   err_msg="jvp of the value of %s" % expr)
    if split:
        out, pullback = s2sgrad.vjp(fvalue, wrt=wrt)(*tuple(args.values()))
        np.testing.assert_allclose(out, value, rtol=1e-12, atol=1e-12)
        got = pullback(C)
        got = got if isinstance(got, tuple) else (got,)
        for g, e in zip(got, grads):
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10,
                                       err_msg="vjp of %s" % expr)
    return grads
