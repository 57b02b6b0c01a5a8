"""Complex arguments, intermediates and outputs (docs/complex.md): every rule marked
complex-capable (s2sgrad/rules/complex_support.py) against finite differences along the
real and imaginary direction of every entry, with random complex cotangents, forward
mode (jvp) and split reverse mode (vjp); the convention on closed forms; the errors."""
import warnings

import numpy as np
import pytest

import s2sgrad
from complexcheck import check_complex_expr, crand, numeric_complex_grad
from rulecheck import rand
from s2sgrad.rules import Rule, registered
from s2sgrad.rules.complex_support import COMPLEX_LABELS


def herm(n):
    a = crand(n, n)
    return a + a.conj().T + n * np.eye(n)


def _complex_ufuncs():
    seen, out = set(), []
    for _, label, rule in registered():
        obj = getattr(np, label[3:], None) if label.startswith("np.") else None
        if isinstance(rule, Rule) and rule.kind == "elementwise" and isinstance(obj, np.ufunc) \
                and any("D" in t.split("->")[0] for t in obj.types) and id(obj) not in seen:
            seen.add(id(obj))
            out.append((label, obj.nin))
    return out


# -- every elementwise ufunc that takes complex values --------------------------------------


@pytest.mark.parametrize("label,nin", _complex_ufuncs(), ids=lambda v: str(v))
@pytest.mark.parametrize("shapes", [((4,), (4,)), ((2, 3), (3,)), ((), (2,))], ids=str)
def test_every_complex_ufunc(label, nin, shapes):
    x = (crand(*shapes[0]) if shapes[0] else crand()) * 0.7 + 0.3
    args = dict(x=x)
    if nin == 2:
        args["y"] = crand(*shapes[1]) * 0.5 + 0.2
    assert label in COMPLEX_LABELS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check_complex_expr("%s(%s)" % (label, ", ".join(args)), **args)


@pytest.mark.parametrize("expr", ["x + y", "x - y", "x * y", "x / y", "x ** y", "-x * +y",
                                  "x ** 2", "x ** 3.0", "2.0 ** x", "abs(x)", "x * 1j + 2.0", "pow(x, 3)",
                                  "(1 + 2j) / x"])
@pytest.mark.parametrize("real_y", [False, True])
def test_operators(expr, real_y):
    y = rand(3, low=0.5, high=1.5) if real_y else crand(3) * 0.5 + 1.0
    args = dict(x=crand(3) * 0.7 + 0.5)
    if "y" in expr:
        args["y"] = y
    check_complex_expr(expr, **args)


# -- parts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("expr", [
    "np.real(x) * np.imag(x)", "x.real * x.imag", "np.conj(x) * x", "np.conjugate(x * y)",
    "x.conj() * y", "x.conjugate()", "np.angle(x * y)", "np.angle(x, deg=True) ** 2",
    "np.abs(x) ** 2", "np.absolute(x * y)", "abs(x) * x", "np.imag(x * y) ** 2",
    "(x * y).imag", "np.real(x * np.conj(y))"])
def test_parts(expr):
    check_complex_expr(expr, x=crand(3), y=crand(3))


@pytest.mark.parametrize("expr", ["np.imag(x)", "np.angle(x)", "np.conj(x) * x", "x.imag",
                                  "np.real(x) * 2.0", "np.abs(x)"])
def test_parts_of_real_values(expr):
    # the imaginary part and the angle of a real value are constants (0, or 0 / pi)
    check_complex_expr(expr + " + 0.5 * x", x=rand(4))


# -- reductions, products, shapes ------------------------------------------------------------------


@pytest.mark.parametrize("expr,shapes", [
    ("np.sum(x, axis=0)", {"x": (3, 4)}), ("np.mean(x, axis=1, keepdims=True)", {"x": (3, 4)}),
    ("x.sum()", {"x": (3, 4)}), ("x.mean(axis=0)", {"x": (3, 4)}), ("sum([x, y])", {"x": (3,), "y": (3,)}),
    ("np.prod(x, axis=0)", {"x": (3, 4)}), ("x.prod()", {"x": (4,)}),
    ("np.cumsum(x, axis=1)", {"x": (3, 4)}), ("x.cumsum()", {"x": (3, 2)}),
    ("np.cumprod(x)", {"x": (4,)}), ("x.cumprod(axis=0)", {"x": (3, 2)}),
    ("np.linalg.norm(x)", {"x": (3, 2)}), ("np.linalg.norm(x, axis=1)", {"x": (3, 2)}),
    ("np.linalg.norm(x, ord=1)", {"x": (4,)}), ("np.linalg.norm(x, 'fro')", {"x": (3, 2)}),
    ("np.maximum(x, y)", {"x": (3,), "y": (3,)}), ("np.fmax(x, y)", {"x": (3,), "y": (3,)}),
    ("np.minimum(x, y)", {"x": (3,), "y": (3,)}), ("np.fmin(x, y)", {"x": (3,), "y": (3,)}),
])
def test_reductions(expr, shapes):
    args = {k: crand(*s) for k, s in shapes.items()}
    check_complex_expr(expr, forward="ord=1" not in expr, **args)


def test_norm_ord1_forward_is_a_clear_error():
    def f(x):
        return np.linalg.norm(x, ord=1)
    with pytest.raises(s2sgrad.S2SGradError, match="complex"):
        s2sgrad.jvp(f)(crand(3), crand(3))


@pytest.mark.parametrize("expr,shapes", [
    ("np.dot(a, b)", ((3, 4), (4, 2))), ("a.dot(b)", ((3, 4), (4,))),
    ("a @ b", ((2, 3, 4), (4, 2))), ("np.matmul(a, b)", ((3, 4), (4,))),
    ("np.einsum('ij,jk->ik', a, b)", ((3, 4), (4, 2))), ("np.einsum('ij,ij->', a, b)", ((3, 4), (3, 4))),
    ("np.vdot(a, b)", ((3,), (3,))), ("np.vdot(a, b)", ((2, 2), (4,))),
    ("np.inner(a, b)", ((3,), (2, 3))), ("np.outer(a, b)", ((3,), (2,))),
    ("np.tensordot(a, b, 1)", ((3, 4), (4, 2))), ("np.kron(a, b)", ((2, 2), (2, 3))),
    ("np.cross(a, b)", ((4, 3), (4, 3))), ("np.cross(a, b, axis=0)", ((3, 2), (3, 2))),
])
@pytest.mark.parametrize("real_b", [False, True])
def test_products(expr, shapes, real_b):
    b = rand(*shapes[1]) if real_b else crand(*shapes[1])
    check_complex_expr(expr, a=crand(*shapes[0]), b=b)


@pytest.mark.parametrize("expr", [
    "np.trace(a)", "a.trace()", "np.diag(a)", "np.diagonal(a)", "a.diagonal()", "np.triu(a)",
    "np.tril(a, -1)", "np.reshape(a, (9,))", "a.reshape(-1)", "a.ravel()", "np.ravel(a)",
    "a.flatten()", "a.T", "np.transpose(a)", "a.transpose()", "np.swapaxes(a, 0, 1)",
    "a.swapaxes(0, 1)", "np.moveaxis(a, 0, 1)", "np.flip(a)", "np.fliplr(a)", "np.flipud(a)",
    "np.roll(a, 1)", "np.rot90(a)", "np.tile(a, 2)", "np.repeat(a, 2)", "a.repeat(2)",
    "np.pad(a, 1)", "np.squeeze(a[None])", "a[None].squeeze()", "np.expand_dims(a, 0)",
    "np.atleast_1d(a)", "np.atleast_2d(a)", "np.atleast_3d(a)", "np.broadcast_to(a, (2, 3, 3))",
    "np.array(a)", "np.asarray(a)", "np.asanyarray(a)", "np.ascontiguousarray(a)",
    "np.copy(a)", "a.copy()", "np.real(a)", "a.real", "a[1:, ::2]", "a[[0, 2]]",
    "np.take(a, [2, 0])", "a.take([1, 1])", "np.diff(a)", "np.diff(a, 2, axis=0)",
    "np.concatenate([a, a * b])", "np.stack([a, b])", "np.hstack([a, b])", "np.vstack([a, b])",
    "np.split(a, 3)[1]", "np.where(m, a, b)", "list(a)[1]", "tuple(a)[0]",
    "np.fft.fftshift(a)", "np.fft.ifftshift(a, axes=0)"])
def test_shapes_and_indexing(expr):
    mask = np.array([[True, False, True]] * 3)
    check_complex_expr(expr, consts={"m": mask}, a=crand(3, 3), b=crand(3, 3))


# -- linear algebra ------------------------------------------------------------------------------------


@pytest.mark.parametrize("expr,args", [
    ("np.linalg.inv(a)", lambda: dict(a=crand(3, 3) + 3 * np.eye(3))),
    ("np.linalg.solve(a, b)", lambda: dict(a=crand(3, 3) + 3 * np.eye(3), b=crand(3, 2))),
    ("np.linalg.solve(a, b)", lambda: dict(a=crand(3, 3) + 3 * np.eye(3), b=rand(3))),
    ("np.linalg.det(a)", lambda: dict(a=crand(3, 3))),
    ("np.linalg.slogdet(a)[1]", lambda: dict(a=crand(3, 3))),
    ("np.linalg.eigh((a + a.conj().T) / 2)[0]", lambda: dict(a=herm(3))),
    ("np.abs(np.linalg.eigh((a + a.conj().T) / 2)[1]) ** 2", lambda: dict(a=herm(3))),
    ("np.linalg.eigvalsh((a + a.conj().T) / 2)", lambda: dict(a=herm(4))),
    ("np.linalg.svd(a, compute_uv=False)", lambda: dict(a=crand(3, 2))),
    ("np.linalg.svd(a, compute_uv=False)", lambda: dict(a=crand(2, 4))),
    ("np.linalg.eig(a)[0]", lambda: dict(a=crand(3, 3))),
    ("np.abs(np.linalg.eig(a)[1]) ** 2", lambda: dict(a=crand(3, 3))),
    ("np.linalg.eigvals(a)", lambda: dict(a=crand(4, 4))),
    # a real matrix with complex eigenvalues: a real gradient of a real loss of them
    ("np.abs(np.linalg.eig(a)[0]) ** 2", lambda: dict(a=rand(3, 3))),
    ("np.real(np.linalg.eigvals(a)) + np.imag(np.linalg.eigvals(a)) ** 2",
     lambda: dict(a=rand(4, 4))),
    ("np.abs(np.linalg.eig(a)[1]) ** 2", lambda: dict(a=rand(3, 3))),
])
def test_linalg(expr, args):
    check_complex_expr(expr, **args())


def test_complex_svd_vectors_are_a_clear_error():
    def f(a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return np.sum(np.abs(u) ** 2 * s)
    with pytest.raises(s2sgrad.S2SGradError, match="complex"):
        s2sgrad.grad(f)(crand(3, 2))


# -- the convention, on closed forms ------------------------------------------------------------------


def test_convention_closed_forms():
    z = np.array([3.0 + 4.0j, -1.0 + 0.5j])
    # |z|^2 = x^2 + y^2: dL/dx - i dL/dy = 2x - 2iy = 2 conj(z) (autograd and JAX agree)
    def sq(z):
        return np.sum(np.abs(z) ** 2)
    np.testing.assert_allclose(s2sgrad.grad(sq)(z), 2 * np.conj(z), rtol=1e-14)
    # a holomorphic f inside Re: Re(c exp(z)) -> c exp(z), the complex derivative, no conj
    c = 0.3 - 1.2j

    def hol(z):
        return np.sum(np.real(c * np.exp(z)))
    np.testing.assert_allclose(s2sgrad.grad(hol)(z), c * np.exp(z), rtol=1e-14)
    # a step against the conjugate of the gradient decreases a real loss
    g = s2sgrad.grad(sq)(z)
    assert sq(z - 0.01 * np.conj(g)) < sq(z)


def test_holomorphic_jvp_vjp_jacobian():
    def f(z):
        return np.exp(z) * z ** 2
    z = crand(3)
    jac = s2sgrad.jacobian(f)(z)
    np.testing.assert_allclose(jac, np.diag(np.exp(z) * (z ** 2 + 2 * z)), rtol=1e-12)
    t = crand(3)
    value, jv = s2sgrad.jvp(f)(z, t)
    np.testing.assert_allclose(jv, np.exp(z) * (z ** 2 + 2 * z) * t, rtol=1e-12)
    value, pullback = s2sgrad.vjp(f)(z)
    c = crand(3)
    np.testing.assert_allclose(pullback(c), c * np.exp(z) * (z ** 2 + 2 * z), rtol=1e-12)
    jac_rev = s2sgrad.jacobian(f, mode="reverse")(z)
    np.testing.assert_allclose(jac_rev, jac, rtol=1e-12)


def test_complex_model_with_real_and_complex_parameters():
    # a real amplitude vector and a complex phase vector through one model
    target = crand(4)

    def model(r, z):
        w = r * np.exp(1j * np.angle(z)) * z / np.abs(z)
        return np.sum(np.abs(w - target) ** 2)
    r, z = rand(4, low=0.5, high=1.5), crand(4)
    gr, gz = s2sgrad.grad(model, wrt=(0, 1))(r, z)
    assert gr.dtype == np.float64 and gz.dtype == np.complex128
    np.testing.assert_allclose(gr, numeric_complex_grad(model, (r, z), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gz, numeric_complex_grad(model, (r, z), 1), rtol=1e-6, atol=1e-8)


def test_complex_scalars():
    def f(z, x):
        return abs(z * z + x) ** 2
    z, x = 0.3 - 0.7j, 1.5
    gz, gx = s2sgrad.grad(f, wrt=(0, 1))(z, x)
    np.testing.assert_allclose(gz, numeric_complex_grad(f, (z, x), 0), rtol=1e-6)
    np.testing.assert_allclose(gx, numeric_complex_grad(f, (z, x), 1), rtol=1e-6)
    assert isinstance(gx, float)


def test_complex_loops_and_branches():
    def f(z):
        acc = z
        for _ in range(3):
            acc = acc * z + 0.5j
            if np.real(np.sum(acc)) > 100.0:
                acc = acc / 2.0
        return np.sum(np.abs(acc) ** 2)
    z = crand(3) * 0.5
    np.testing.assert_allclose(s2sgrad.grad(f)(z), numeric_complex_grad(f, (z,), 0),
                               rtol=1e-6, atol=1e-8)


# -- errors --------------------------------------------------------------------------------------------


def test_grad_of_a_complex_output_is_the_non_scalar_output_error():
    def f(z):
        return np.sum(z * z)
    with pytest.raises(s2sgrad.NonScalarOutputError, match="complex"):
        s2sgrad.grad(f)(crand(3))


def test_a_rule_not_checked_for_complex_values_is_an_error():
    def f(z):
        return np.sum(np.sort(np.abs(z) * z).real)
    with pytest.raises(s2sgrad.UnsupportedCallError, match="np.sort' is not differentiated "
                                                          "for complex values"):
        s2sgrad.grad(f)(crand(3))
    with pytest.raises(s2sgrad.UnsupportedCallError, match="complex values"):
        s2sgrad.jvp(f)(crand(3), crand(3))


def test_second_derivatives_of_complex_arguments_are_refused():
    def f(z):
        return np.sum(np.abs(z) ** 4)
    with pytest.raises(s2sgrad.WrtError, match="second derivatives"):
        s2sgrad.hessian(f)(crand(2))
    with pytest.raises(s2sgrad.WrtError, match="second derivatives"):
        s2sgrad.hvp(f)(crand(2), crand(2))


def test_complex_support_table_is_tested():
    # every label marked complex-capable appears in a complex test of this file or the FFT one
    import os
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))     # tests/rules
    text = "".join(open(os.path.join(here, f), encoding="utf-8").read()
                   for f in ("complex/test_rules_complex.py", "fft/test_rules_fft.py"))
    ufuncs = {label for label, _ in _complex_ufuncs()}
    missing = []
    for label in COMPLEX_LABELS:
        if label in ufuncs or label.startswith("operator ") or label == "x[index]":
            continue
        name = label.split(".", 1)[1] if label.startswith("ndarray.") else label
        short = label.replace("np.fft.", "")
        if not any(s in text for s in ("." + name + "(", "." + name + " ", label + "(",
                                       '"%s"' % short, "." + name + ")", name + "([")) \
                and not (label.startswith("ndarray.") and "." + name in text):
            missing.append(label)
    assert not missing, missing
