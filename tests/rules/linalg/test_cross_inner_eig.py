"""np.cross with axisa / axisb / axisc / axis and 2-component vectors, np.inner of 0-d
operands, np.linalg.eig / eigvals (distinct eigenvalues): against finite differences,
forward mode and, where nonzero, second derivatives."""
import warnings

import numpy as np
import pytest

import s2sgrad
from rulecheck import check_expr, check_hessian, rand


# -- np.cross ---------------------------------------------------------------------------------

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        np.cross(np.ones(2), np.ones(2))
        _CROSS_OF_2_VECTORS = True
    except ValueError:
        _CROSS_OF_2_VECTORS = False


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
    if not _CROSS_OF_2_VECTORS:
        try:
            eval(expr, {"np": np}, {"a": np.ones(sa), "b": np.ones(sb)})
        except ValueError:
            pytest.skip("this NumPy refuses 2-component vectors in np.cross "
                        "(deprecated in 2.0)")
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


# -- np.linalg.eig / eigvals (general matrices, distinct eigenvalues) -------------------------------


def real_spectrum(n, batch=()):
    """A non-symmetric matrix with distinct real eigenvalues."""
    s = rand(*batch, n, n) + n * np.eye(n)
    d = np.arange(1.0, n + 1) + rand(n) * 0.3
    return np.matmul(s * d[..., None, :], np.linalg.inv(s))


# (np.real: NumPy >= 2.5 returns eig's results as complex even for a real spectrum)
@pytest.mark.parametrize("expr", ["np.real(np.linalg.eig(a)[0])",
                                  "np.real(np.linalg.eigvals(a))",
                                  "np.real(np.linalg.eig(a)[1]) ** 2",
                                  "np.real(np.linalg.eig(a)[0] * np.sum(np.linalg.eig(a)[1] ** 2))"])
@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_eig_real_spectrum(expr, batch):
    # (squares of the eigenvectors: their sign is arbitrary)
    check_expr(expr, a=real_spectrum(3, batch))


def test_eig_missing_second_derivatives_are_a_clear_error():
    def f(a):
        return np.sum(np.linalg.eigvals(a) ** 2)
    with pytest.raises(s2sgrad.S2SGradError, match="eig"):
        s2sgrad.hessian(f)(real_spectrum(3))
