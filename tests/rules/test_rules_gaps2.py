"""Real-valued gaps of issue #18: np.cross with axisa/axisb/axisc/axis and 2-component
vectors, np.row_stack, one-pair and scalar pad widths, np.diff along an axis of length 1
(and prepend=/append=), np.inner of 0-d operands,
scipy.linalg.solve_banded, frozen SciPy distributions -- each against finite
differences (random cotangents), forward mode and, where nonzero, second derivatives;
and a rule failing on a call it does not handle is a clear s2sgrad error."""
import warnings

import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, pos, rand

scipy = pytest.importorskip("scipy")
import scipy.special  # noqa: E402  (scipy.special.yn in a differentiated function)


def numeric_hessian(f, x, eps=1e-5):
    g = s2sgrad.grad(f)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append(np.ravel((g(x + e) - g(x - e)) / (2 * eps)))
    return np.array(cols).T.reshape(np.shape(x) * 2)


def check_hessian(f, x, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(s2sgrad.hessian(f)(x), numeric_hessian(f, x), rtol=rtol,
                               atol=atol)


# -- np.cross ---------------------------------------------------------------------------------


@pytest.mark.parametrize("expr,sa,sb", [
    ("np.cross(a, b)", (4, 3), (4, 3)),
    ("np.cross(a, b)", (4, 3), (3,)),
    ("np.cross(a, b)", (2, 1, 3), (4, 3)),
    ("np.cross(a, b)", (4, 2), (4, 2)),              # 2-vectors: the scalar z-component
    ("np.cross(a, b)", (4, 3), (4, 2)),
    ("np.cross(a, b)", (2,), (3,)),
    ("np.cross(a, b, axisa=0, axisb=0)", (3, 4), (3, 4)),
    ("np.cross(a, b, axisc=0)", (4, 3), (4, 3)),
    ("np.cross(a, b, axis=0)", (3, 4), (3, 4)),
    ("np.cross(a, b, axis=1)", (5, 3, 2), (5, 3, 1)),
    ("np.cross(a, b, axisa=0)", (2, 4), (4, 3)),
    ("np.cross(a, b, axisa=0, axisb=1, axisc=0)", (2, 5, 4), (5, 3, 4)),
    ("np.cross(a, b, -2, -2, -1)", (3, 4), (3, 4)),
], ids=str)
def test_cross_axes_and_two_component_vectors(expr, sa, sb):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # NumPy 2: 2-vectors
        check_expr(expr, a=rand(*sa), b=rand(*sb))


def test_cross_specialized_code_is_plain_numpy():
    def f(a, b):
        return np.sum(np.cross(a, b) ** 2)
    g = s2sgrad.grad(f, wrt=(0, 1))
    g(rand(4, 3), rand(4, 3))
    assert "np.cross(b, " in g.source and "cross_adjoint" not in g.source


def test_cross_hessian():
    b = rand(4, 3)

    def f(a):
        return np.sum(np.cross(a, b, axisa=0, axisc=0) * np.cross(a, a * a, axisa=0,
                                                                  axisb=0, axisc=0))
    check_hessian(f, rand(3, 4))


# -- joining, padding, differences --------------------------------------------------------------


@pytest.mark.skipif(not hasattr(np, "row_stack"), reason="np.row_stack was removed")
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (1, 3))], ids=str)
def test_row_stack(sa, sb):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # NumPy 2: deprecated alias
        check_expr("np.row_stack([a, b])", a=rand(*sa), b=rand(*sb))
        check_expr("np.row_stack((a, b, a))", a=rand(*sa), b=rand(*sb))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3, 2), (3,)), ((3,), (3, 1))], ids=str)
def test_column_stack_of_vectors(sa, sb):
    check_expr("np.column_stack([a, b])", a=rand(*sa), b=rand(*sb))
    check_expr("np.column_stack((a,))", a=rand(*sa))


@pytest.mark.parametrize("width", ["3", "(3,)", "(1, 2)", "((1, 2),)", "((1, 2), (0, 3))",
                                   "[[2, 1]]", "(0,)"])
@pytest.mark.parametrize("shape", [(3, 2), (4,)], ids=str)
def test_pad_width_forms(width, shape):
    if width == "((1, 2), (0, 3))" and len(shape) == 1:
        pytest.skip("two pairs for a vector")
    check_expr("np.pad(a, %s)" % width, a=rand(*shape))
    check_expr("np.pad(a, %s, constant_values=c)" % width, a=rand(*shape), c=rand())
    check_expr("np.pad(a, %s, mode='edge')" % width, a=rand(*shape))


@pytest.mark.parametrize("shape,axis", [((1, 3), 0), ((3, 1), -1), ((1,), 0), ((2, 1, 3), 1)],
                         ids=str)
def test_diff_along_an_axis_of_length_one(shape, axis):
    check_expr("np.diff(a, axis=%d)" % axis, a=rand(*shape))


@pytest.mark.parametrize("call", [
    "np.diff(a, prepend=1.0)", "np.diff(a, append=-2.0)", "np.diff(a, 2, prepend=1.0, append=0.5)",
    "np.diff(a, axis=0, prepend=c)", "np.diff(a, 2, axis=0, prepend=c, append=c)",
    "np.diff(a, 3, axis=1, append=d)"])
def test_diff_prepend_append(call):
    check_expr(call, consts={"c": rand(2, 4), "d": rand(3, 1)}, a=rand(3, 4))


def test_diff_hessians():
    w = rand(4, 5)
    check_hessian(lambda a: np.sum(w[:3] * np.diff(a * a, axis=0)), rand(4, 5))
    check_hessian(lambda a: np.sum(w[:, :5] * np.diff(a ** 3, prepend=0.5)), rand(4, 5))
    check_hessian(lambda a: np.sum(np.diff(a * a, axis=0) ** 2), rand(1, 3))


def test_diff_prepend_is_not_differentiated():
    def f(a, c):
        return np.sum(np.diff(a, prepend=c))
    with pytest.raises(s2sgrad.S2SGradError, match="prepend= is not differentiated"):
        s2sgrad.grad(f, wrt=1)(rand(3), rand(1))


# -- np.inner with 0-d operands -----------------------------------------------------------------


@pytest.mark.parametrize("sa,sb", [((), (3,)), ((3, 2), ()), ((), ()), ((2, 3), (4, 3))],
                         ids=str)
def test_inner_with_scalars(sa, sb):
    check_expr("np.inner(a, b)", a=rand(*sa), b=rand(*sb))


def test_inner_with_scalars_generic_version():
    from s2sgrad.ad.pipeline import generate_gradient

    def f(a, b):
        return np.sum(np.inner(a, b) ** 2)
    a, b = 0.7, rand(3)
    got = generate_gradient(f, (0, 1), "grad", None, True).function(a, b)
    np.testing.assert_allclose(got[0], np.sum(2 * a * b * b), rtol=1e-12)
    np.testing.assert_allclose(got[1], 2 * a * a * b, rtol=1e-12)


# -- scipy.linalg.solve_banded ---------------------------------------------------------------------


def banded(lower, upper, n):
    ab = rand(lower + upper + 1, n)
    ab[upper] += 6.0                 # diagonally dominant
    return ab


@pytest.mark.parametrize("lu,n,rhs", [((1, 1), 5, ()), ((2, 1), 5, (2,)), ((0, 2), 4, ()),
                                      ((1, 0), 4, (3,)), ((0, 0), 3, ())], ids=str)
def test_solve_banded(lu, n, rhs):
    check_expr("sla.solve_banded(%r, ab, b)" % (lu,), ab=banded(lu[0], lu[1], n),
               b=rand(n, *rhs))


def test_solve_banded_hessians():
    import scipy.linalg as sla
    b = rand(5)
    ab0 = banded(1, 2, 5)

    def f(ab):
        return np.sum(sla.solve_banded((1, 2), ab, b) ** 2)

    def h(x):
        return np.sum(np.sin(sla.solve_banded((1, 2), ab0, x * x)))
    check_hessian(f, ab0, rtol=1e-4, atol=1e-6)
    check_hessian(h, rand(5))


# -- frozen SciPy distributions ----------------------------------------------------------------------


@pytest.mark.parametrize("call,args", [
    ("stats.norm(m, s).logpdf(x)", dict(x=rand(4), m=rand(), s=pos())),
    ("stats.norm(loc=m, scale=s).cdf(x)", dict(x=rand(4), m=rand(), s=pos())),
    ("stats.norm(m).pdf(x)", dict(x=rand(4), m=rand())),
    ("stats.norm(m, s).ppf(x)", dict(x=rand(4, low=0.1, high=0.9), m=rand(), s=pos())),
    ("stats.norm(m, s).logsf(x)", dict(x=rand(4), m=rand(), s=pos())),
    ("stats.gamma(k, scale=s).logpdf(x)", dict(x=pos(4), k=pos(), s=pos())),
    ("stats.t(df).logpdf(x)", dict(x=rand(4), df=pos() + 2)),
    ("stats.beta(p, q).logpdf(x)", dict(x=rand(4, low=0.1, high=0.9), p=pos(), q=pos())),
    ("stats.expon(scale=s).logpdf(x)", dict(x=pos(4), s=pos())),
])
def test_frozen_distributions(call, args):
    check_expr(call, **args)


def test_frozen_distribution_matches_unfrozen_code():
    from scipy import stats

    def f(x, m, s):
        return np.sum(stats.norm(m, scale=s).logpdf(x))
    g = s2sgrad.grad(f, wrt=(0, 1, 2))
    g(rand(3), 0.3, 1.2)
    # the comment shows the call as the rule read it: the unfrozen method
    assert "stats.norm.logpdf(x, m, scale=s)" in g.source


# -- a rule that fails on a call it does not handle: a clear error, never a raw one -------------------


def test_rule_failure_is_a_clear_error(monkeypatch):
    from s2sgrad.ad import specialize

    def broken(ctx, *args):
        raise IndexError("tuple index out of range")
    monkeypatch.setitem(specialize.SPECIALIZERS, "tensordot_adjoint_left", broken)

    def f(a, b):
        return np.sum(np.tensordot(a, b, 1))
    with pytest.raises(s2sgrad.UnsupportedCallError) as info:
        s2sgrad.grad(f)(rand(2, 3), rand(3, 4))
    text = str(info.value)
    assert "np.tensordot(a, b, 1)" in text and "IndexError" in text
    assert "does not support this call" in text
    assert isinstance(info.value.__cause__, IndexError)


def test_tangent_rule_failure_is_a_clear_error(monkeypatch):
    from s2sgrad.ad import specialize

    def broken(ctx, *args):
        raise ValueError("cannot reshape")
    monkeypatch.setitem(specialize.SPECIALIZERS, "tensordot_adjoint_left", broken)
    monkeypatch.setitem(specialize.SPECIALIZERS, "tensordot_adjoint_right", broken)

    def f(a, b):
        return np.sum(np.tensordot(a, b, 1) ** 2)
    with pytest.raises(s2sgrad.UnsupportedCallError, match="does not support this call"):
        s2sgrad.hessian(f)(rand(2, 3), rand(3, 4))


# -- np.linalg.eig / eigvals (general matrices, distinct eigenvalues) -------------------------------


def real_spectrum(n, batch=()):
    """A non-symmetric matrix with distinct real eigenvalues."""
    s = rand(*batch, n, n) + n * np.eye(n)
    d = np.arange(1.0, n + 1) + rand(n) * 0.3
    return np.matmul(s * d[..., None, :], np.linalg.inv(s))


@pytest.mark.parametrize("expr", ["np.linalg.eig(a)[0]", "np.linalg.eigvals(a)",
                                  "np.linalg.eig(a)[1] ** 2",
                                  "np.linalg.eig(a)[0] * np.sum(np.linalg.eig(a)[1] ** 2)"])
@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_eig_real_spectrum(expr, batch):
    # (squares of the eigenvectors: their sign is arbitrary)
    check_expr(expr, a=real_spectrum(3, batch))


def test_eig_missing_second_derivatives_are_a_clear_error():
    def f(a):
        return np.sum(np.linalg.eigvals(a) ** 2)
    with pytest.raises(s2sgrad.S2SGradError, match="eig"):
        s2sgrad.hessian(f)(real_spectrum(3))


# -- distribution functions in their shape parameters ------------------------------------------------


@pytest.mark.parametrize("expr,args", [
    ("stats.t.cdf(x, df)", lambda: dict(x=rand(5, low=-3, high=3), df=pos(5) * 3)),
    ("stats.t.logcdf(x, df, 0.5, 2.0)", lambda: dict(x=rand(5), df=pos() + 1)),
    ("stats.t.sf(x, df)", lambda: dict(x=rand(5), df=pos(5))),
    ("stats.t.logsf(x, df)", lambda: dict(x=rand(5), df=pos())),
    ("stats.gamma.cdf(x, a)", lambda: dict(x=pos(5) * 2, a=pos(5) * 2)),
    ("stats.gamma.logcdf(x, a, scale=s)", lambda: dict(x=pos(5), a=pos(), s=pos())),
    ("stats.gamma.sf(x, a)", lambda: dict(x=pos(5), a=pos(5))),
    ("stats.gamma.logsf(x, a)", lambda: dict(x=pos(5), a=pos())),
    ("stats.chi2.cdf(x, df)", lambda: dict(x=pos(5) * 2, df=pos(5) * 3)),
    ("stats.chi2.logcdf(x, df)", lambda: dict(x=pos(5) * 2, df=pos(5) * 3)),
    ("stats.chi2.sf(x, df)", lambda: dict(x=pos(5) * 2, df=pos(5) * 3)),
    ("stats.chi2.logsf(x, df)", lambda: dict(x=pos(5), df=pos())),
    ("stats.beta.cdf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(5),
                                              b=pos(5) * 2)),
    ("stats.beta.logcdf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(),
                                                 b=pos())),
    ("stats.beta.sf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(), b=pos())),
    ("stats.beta.logsf(x, a, b)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(),
                                                b=pos())),
    ("special.gammainc(a, x)", lambda: dict(x=pos(5) * 3, a=pos(5))),
    ("special.gammaincc(a, x)", lambda: dict(x=pos(5) * 3, a=pos(5))),
    ("special.betainc(a, b, x)", lambda: dict(x=rand(5, low=0.05, high=0.95), a=pos(5),
                                               b=pos(5))),
    ("stats.t(df).cdf(x)", lambda: dict(x=rand(5), df=pos() + 2)),
])
def test_cdf_shape_parameters(expr, args):
    check_expr(expr, **args())


def test_cdf_shape_derivatives_are_exact():
    # against 30-digit derivatives of the regularized functions (mpmath), wide ranges
    mp = pytest.importorskip("mpmath")
    from s2sgrad.runtime import betainc_da, betainc_db, gammainc_da, t_cdf_ddf
    mp.mp.dps = 30
    for a in (0.3, 1.0, 2.5, 10.0, 40.0):
        for x in (1e-3, 0.5, 2.0, 10.0, 60.0, 300.0):
            ref = mp.diff(lambda v: mp.gammainc(v, 0, x, regularized=True), a)
            assert abs(gammainc_da(a, x) - float(ref)) < 1e-12
    for a in (0.3, 1.0, 2.5, 12.0):
        for b in (0.4, 1.0, 3.0, 20.0):
            for x in (1e-3, 0.2, 0.5, 0.8, 0.999):
                ra = mp.diff(lambda v: mp.betainc(v, b, 0, x, regularized=True), a)
                rb = mp.diff(lambda v: mp.betainc(a, v, 0, x, regularized=True), b)
                assert abs(betainc_da(a, b, x) - float(ra)) < 1e-12
                assert abs(betainc_db(a, b, x) - float(rb)) < 1e-12
    for df in (0.7, 3.0, 30.0):
        for z in (-4.0, -0.3, 0.0, 1.5):
            # F = I_w(df/2, 1/2) / 2 below 0, w = df / (df + z^2)
            def cdf(v):
                w = v / (v + z * z)
                half = mp.betainc(v / 2, 0.5, 0, w, regularized=True) / 2
                return half if z < 0 else 1 - half
            assert abs(t_cdf_ddf(z, df) - float(mp.diff(cdf, df))) < 1e-12


# -- Bessel functions in their order ------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["jv", "jn", "yv", "iv", "ive", "kv"])
@pytest.mark.parametrize("v", [-1.7, -0.4, 0.3, 2.5])
def test_bessel_order(fn, v):
    check_expr("special.%s(v, x)" % fn, v=v, x=rand(4, low=0.3, high=12.0))


@pytest.mark.parametrize("n", [0.0, 1.0, 2.3])
def test_yn_truncates_its_order(n):
    # yn(2.3, x) is yn(2, x): the argument's derivative uses the truncated order, and the
    # order itself has none
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check_expr("special.yn(n, x)", consts={"n": n}, x=rand(4, low=0.5, high=8.0))

        def f(n, x):
            return scipy.special.yn(n, x)
        with pytest.raises(s2sgrad.UnsupportedCallError, match="truncated to an integer"):
            s2sgrad.grad(f, wrt=0)(n, 1.5)


def test_bessel_order_and_argument_together():
    check_expr("special.jv(v, x) * special.kv(v, x)", v=rand(3, low=0.2, high=3.0),
               x=rand(3, low=0.5, high=4.0))


def test_bessel_order_derivatives_are_exact():
    mp = pytest.importorskip("mpmath")
    from s2sgrad.runtime import bessel_dv
    mp.mp.dps = 20
    for kind, f in (("jv", mp.besselj), ("yv", mp.bessely), ("iv", mp.besseli),
                    ("kv", mp.besselk)):
        for v, x in ((0.4, 1.0), (-0.7, 7.0), (2.5, 30.0), (-2.5, 0.3)):
            ref = float(mp.diff(lambda u: f(u, x), v))
            assert abs(bessel_dv(kind, v, x) - ref) <= 1e-11 * max(1.0, abs(ref))
    assert np.isnan(bessel_dv("jv", 0.5, -1.0))       # x <= 0: not real, NaN as SciPy
