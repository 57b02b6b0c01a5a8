"""The np.fft family: every transform, with n/s, axis/axes and the three norms, on real
and complex inputs, against finite differences along the real and imaginary
directions (random complex cotangents), forward mode (jvp), split reverse mode (vjp),
and second derivatives of real models built on them."""
import numpy as np
import pytest
from complexcheck import check_complex_expr, crand
from rulecheck import check_expr, check_hessian, rand

import s2sgrad

NORMS = [None, "backward", "ortho", "forward"]


def _call(fn, arg, *extra, norm=None):
    parts = [arg] + [e for e in extra if e]
    if norm is not None:
        parts.append("norm=%r" % norm)
    return "np.fft.%s(%s)" % (fn, ", ".join(parts))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn", ["fft", "ifft"])
@pytest.mark.parametrize("n,axis,shape", [(None, None, (6,)), ("4", None, (3, 6)),
                                          ("n=8", "axis=0", (6, 2)), ("5", "axis=-1", (2, 6))],
                         ids=str)
@pytest.mark.parametrize("kind", ["complex", "real"])
def test_fft_ifft(fn, n, axis, shape, norm, kind):
    x = crand(*shape) if kind == "complex" else rand(*shape)
    check_complex_expr(_call(fn, "x", n, axis, norm=norm), x=x)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n,axis,shape", [(None, None, (6,)), (None, None, (7,)),
                                          ("9", None, (2, 6)), ("n=4", "axis=0", (6, 3))],
                         ids=str)
def test_rfft_ihfft(n, axis, shape, norm):
    check_complex_expr(_call("rfft", "x", n, axis, norm=norm), x=rand(*shape))
    check_complex_expr(_call("ihfft", "x", n, axis, norm=norm), x=rand(*shape))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n,axis,shape", [(None, None, (4,)), ("7", None, (4,)),
                                          ("6", None, (2, 4)), ("n=5", "axis=0", (4, 3)),
                                          ("4", None, (5,))], ids=str)
def test_irfft_hfft(n, axis, shape, norm):
    check_complex_expr(_call("irfft", "x", n, axis, norm=norm), x=crand(*shape))
    check_complex_expr(_call("hfft", "x", n, axis, norm=norm), x=crand(*shape))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn,s,axes,shape", [
    ("fft2", None, None, (3, 4)), ("ifft2", "s=(2, 5)", None, (3, 4)),
    ("fft2", None, "axes=(0, 2)", (3, 2, 4)), ("fftn", None, "axes=(0, 2)", (3, 2, 4)),
    ("ifftn", None, None, (3, 2, 4)), ("fftn", "s=(4, 3)", "axes=(1, 2)", (2, 3, 2)),
    ("ifftn", "(5,)", "axes=(1,)", (2, 3))], ids=str)
@pytest.mark.parametrize("kind", ["complex", "real"])
def test_fft2_fftn(fn, s, axes, shape, norm, kind):
    x = crand(*shape) if kind == "complex" else rand(*shape)
    check_complex_expr(_call(fn, "x", s, axes, norm=norm), x=x)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn,s,axes,shape", [
    ("rfft2", None, None, (3, 4)), ("rfftn", "s=(4, 6)", "axes=(0, 1)", (3, 5)),
    ("rfftn", None, "axes=(0, 2)", (3, 2, 5)), ("rfft2", "s=(2, 3)", None, (2, 3, 4))],
    ids=str)
def test_rfft2_rfftn(fn, s, axes, shape, norm):
    check_complex_expr(_call(fn, "x", s, axes, norm=norm), x=rand(*shape))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn,s,axes,shape", [
    ("irfftn", None, None, (3, 4)), ("irfftn", "s=(2, 7)", "axes=(0, 2)", (3, 2, 4)),
    ("irfft2", None, None, (3, 4)), ("irfft2", "s=(4, 5)", None, (2, 3, 3)),
    ("irfftn", "(6,)", "axes=(0,)", (4, 2))], ids=str)
def test_irfft2_irfftn(fn, s, axes, shape, norm):
    check_complex_expr(_call(fn, "x", s, axes, norm=norm), x=crand(*shape))


def test_fft_round_trips_and_chains():
    check_complex_expr("np.fft.irfft(np.fft.rfft(x) * h, 8)", consts={"h": crand(5)}, x=rand(8))
    check_complex_expr("np.fft.ifft(np.fft.fft(x) * y)", x=crand(6), y=crand(6))
    check_complex_expr("np.abs(np.fft.fftshift(np.fft.fft2(x))) ** 2", x=rand(4, 5))


def test_fft_of_real_input_has_a_real_gradient():
    def power(x):
        return np.sum(np.abs(np.fft.rfft(x)) ** 2)
    x = rand(8)
    g = s2sgrad.grad(power)(x)
    assert g.dtype == np.float64
    # Parseval: sum |rfft(x)|^2 weights the interior frequencies twice
    def ref(x):
        return np.sum(np.abs(np.fft.rfft(x)) ** 2)
    from complexcheck import numeric_complex_grad
    np.testing.assert_allclose(g, numeric_complex_grad(ref, (x,), 0), rtol=1e-6, atol=1e-8)


def test_fft_real_model_second_derivatives():
    h = crand(5)

    def smooth(x):
        y = np.fft.irfft(np.fft.rfft(x * x) * h, 8)
        return np.sum(y ** 2)
    x = rand(8)
    g = s2sgrad.grad(smooth)
    eps = 1e-5
    num = np.array([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(8)]).T
    np.testing.assert_allclose(s2sgrad.hessian(smooth)(x), num, rtol=1e-5, atol=1e-6)
    v = rand(8)
    np.testing.assert_allclose(s2sgrad.hvp(smooth)(x, v), num @ v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call", ["np.fft.fft(x, 10, norm='ortho')", "np.fft.rfftn(x)",
                                  "np.fft.ifft2(x, axes=(1, 0))"])
def test_fft_real_rulecheck(call):
    # the real-valued harness too (generic version, forward mode): the real part of it
    check_expr("np.real(%s) + np.imag(%s)" % (call, call), x=rand(3, 4))


def test_fft_specialized_source_is_readable():
    def f(x):
        return np.sum(np.abs(np.fft.fft(x)) ** 2)
    g = s2sgrad.grad(f)
    g(crand(4))
    assert "np.fft.fft(" in g.source.split("# Backward pass")[1]
    assert "fft_adjoint" not in g.source


@pytest.mark.parametrize("expr,kind,shape", [
    ("np.fft.fft(x)", "c", (5,)), ("np.fft.ifft(x)", "c", (5,)), ("np.fft.rfft(x)", "r", (5,)),
    ("np.fft.irfft(x)", "c", (4,)), ("np.fft.hfft(x)", "c", (4,)), ("np.fft.ihfft(x)", "r", (5,)),
    ("np.fft.fft2(x)", "c", (2, 3)), ("np.fft.ifft2(x)", "c", (2, 3)),
    ("np.fft.fftn(x)", "c", (2, 3)), ("np.fft.ifftn(x)", "c", (2, 3)),
    ("np.fft.rfft2(x)", "r", (2, 3)), ("np.fft.rfftn(x)", "r", (2, 3)),
    ("np.fft.irfft2(x)", "c", (2, 3)), ("np.fft.irfftn(x)", "c", (2, 3)),
    ("np.fft.fftshift(x)", "c", (2, 3)), ("np.fft.ifftshift(x)", "c", (2, 3))])
def test_fft_family_defaults(expr, kind, shape):
    check_complex_expr(expr, x=crand(*shape) if kind == "c" else rand(*shape))


# -- np.fft.fftshift / ifftshift ------------------------------------------------------------------


@pytest.mark.parametrize("call", ["np.fft.fftshift(a)", "np.fft.ifftshift(a)",
                                  "np.fft.fftshift(a, axes=0)", "np.fft.ifftshift(a, axes=(1,))",
                                  "np.fft.fftshift(a, (0, 1))", "np.fft.ifftshift(a, -1)"])
@pytest.mark.parametrize("shape", [(4, 5), (3, 6)], ids=str)
def test_fftshift(call, shape):
    check_expr(call, a=rand(*shape))


def test_fftshift_hessian():
    check_hessian(lambda a: np.sum(np.fft.fftshift(a * a, axes=0) * np.arange(15.0).reshape(
        5, 3)), rand(5, 3))
