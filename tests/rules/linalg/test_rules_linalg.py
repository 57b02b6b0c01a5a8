"""Linear algebra rules (rules/numpy_linalg.py) against finite differences."""
import numpy as np
import pytest

from rulecheck import RNG, check_expr, rand, spd

DOT_SHAPES = [((), ()), ((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
              ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (4, 3, 5)), ((3,), (2, 3, 4))]


@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(shapes):
    sa, sb = shapes
    a = rand(*sa) if sa else np.float64(rand())
    b = rand(*sb) if sb else np.float64(rand())
    check_expr("np.dot(a, b)", a=a, b=b)
    if sa:
        check_expr("a.dot(b)", a=a, b=b)


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                 ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    sa, sb = shapes
    check_expr("a @ b", a=rand(*sa), b=rand(*sb))
    check_expr("np.matmul(a, b)", a=rand(*sa), b=rand(*sb))


def test_vdot_inner_outer():
    check_expr("np.vdot(a, b)", a=rand(2, 3), b=rand(6))
    check_expr("np.inner(a, b)", a=rand(4), b=rand(4))
    check_expr("np.inner(a, b)", a=rand(2, 4), b=rand(3, 4))
    check_expr("np.inner(a, b)", a=rand(2, 5, 4), b=rand(4))
    check_expr("np.outer(a, b)", a=rand(3), b=rand(4))
    check_expr("np.outer(a, b)", a=rand(2, 2), b=rand(3))


@pytest.mark.parametrize("axes,sa,sb", [
    (2, (2, 3, 4), (3, 4, 5)), (1, (2, 3), (3, 4)), (0, (2,), (3,)),
    (([1, 0], [0, 1]), (3, 2, 4), (2, 3, 5)), (([2], [0]), (2, 3, 4), (4, 5)),
    ((-1, 0), (2, 3), (3, 4)), (([0, 2], [2, 1]), (2, 3, 4), (5, 4, 2))], ids=str)
def test_tensordot(axes, sa, sb):
    check_expr("np.tensordot(a, b, axes)", consts={"axes": axes}, a=rand(*sa), b=rand(*sb))


@pytest.mark.parametrize("spec,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij,ij->", [(2, 3), (2, 3)]),
    ("i,i", [(3,), (3,)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]), ("...i,i", [(2, 3), (3,)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,k->ik", [(2, 3), (4,)]), ("iij->j", [(3, 3, 2)])], ids=lambda v: str(v))
def test_einsum(spec, shapes):
    names = "abcd"[:len(shapes)]
    expr = "np.einsum(%r, %s)" % (spec, ", ".join(names))
    check_expr(expr, **{n: rand(*s) for n, s in zip(names, shapes)})


def test_einsum_repeated_operand():
    check_expr("np.einsum('ij,ij->i', a, a)", a=rand(3, 4))
    check_expr("np.einsum('ij,jk->ik', a, a)", a=rand(3, 3))


def test_kron_cross():
    check_expr("np.kron(a, b)", a=rand(2, 3), b=rand(3, 2))
    check_expr("np.kron(a, b)", a=rand(3), b=rand(2))
    check_expr("np.kron(a, b)", a=rand(3), b=rand(2, 2))
    check_expr("np.cross(a, b)", a=rand(3), b=rand(3))
    check_expr("np.cross(a, b)", a=rand(4, 3), b=rand(3))


def test_trace_diag_diagonal():
    check_expr("np.trace(a)", a=rand(3, 3))
    check_expr("np.trace(a, 1)", a=rand(3, 4))
    check_expr("np.trace(a, -1, 1, 2)", a=rand(2, 4, 3))
    check_expr("a.trace()", a=rand(3, 3))
    check_expr("np.diag(v)", v=rand(3))
    check_expr("np.diag(v, -1)", v=rand(3))
    check_expr("np.diag(a)", a=rand(3, 4))
    check_expr("np.diag(a, 1)", a=rand(3, 4))
    check_expr("np.diagonal(a)", a=rand(3, 4))
    check_expr("np.diagonal(a, 1, 0, 2)", a=rand(3, 2, 4))
    check_expr("a.diagonal(-1)", a=rand(4, 3))
    check_expr("np.triu(a)", a=rand(3, 4))
    check_expr("np.tril(a, -1)", a=rand(3, 4))
    check_expr("np.triu(a, 1)", a=rand(2, 3, 3))


def well(n, batch=()):
    return RNG.standard_normal(batch + (n, n)) + 3 * np.eye(n)


def test_inv_solve_det():
    check_expr("np.linalg.inv(a)", a=well(3))
    check_expr("np.linalg.inv(a)", a=well(3, (2,)))
    check_expr("np.linalg.solve(a, b)", a=well(3), b=rand(3))
    check_expr("np.linalg.solve(a, b)", a=well(3), b=rand(3, 2))
    check_expr("np.linalg.solve(a, b)", a=well(3, (2,)), b=rand(2, 3, 2))
    check_expr("np.linalg.det(a)", a=well(3))
    check_expr("np.linalg.det(a)", a=well(3, (2,)))


def test_slogdet():
    check_expr("np.linalg.slogdet(a)[1]", a=well(3))
    check_expr("np.linalg.slogdet(a)[1]", a=-well(3))
    check_expr("np.linalg.slogdet(a)[1]", a=well(3, (2,)))


def slogdet_unpacked(a):
    sign, logdet = np.linalg.slogdet(a)
    return logdet * 2.0 + sign


def test_slogdet_unpacked():
    from gradcheck import check_grad
    check_grad(slogdet_unpacked, (well(3),))


def test_pinv_and_svd_values():
    check_expr("np.linalg.pinv(a)", a=rand(3, 5), rtol=1e-5)
    check_expr("np.linalg.pinv(a)", a=rand(5, 3), rtol=1e-5)
    check_expr("np.linalg.pinv(a)", a=well(3), rtol=1e-5)
    check_expr("np.linalg.svd(a, compute_uv=False)", a=rand(3, 5), rtol=1e-5)
    check_expr("np.linalg.svd(a, compute_uv=False)", a=rand(2, 5, 3), rtol=1e-5)


def test_cholesky():
    # parametrized through a symmetric matrix so every perturbation stays symmetric
    check_expr("np.linalg.cholesky(x @ x.T + 3 * np.eye(3))", x=rand(3, 3))
    check_expr("np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + 3 * np.eye(3))",
               x=rand(2, 3, 3))


def eigh_loss(x, C):
    a = x + x.T
    w, v = np.linalg.eigh(a)
    return np.sum(w * C[0]) + np.sum((v * v) * C)      # v*v: invariant to eigenvector signs


def eigh_values_only(x):
    w, v = np.linalg.eigh(x + x.T)
    return np.sum(w ** 2)


def test_eigh():
    from gradcheck import check_grad
    check_grad(eigh_loss, (rand(3, 3), rand(3, 3)), wrt=0, rtol=1e-5)
    check_grad(eigh_values_only, (rand(4, 4),), rtol=1e-5)
    check_expr("np.linalg.eigvalsh(x + x.T)", x=rand(3, 3), rtol=1e-5)


def svd_loss(a, C1, C2):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    # squares: invariant to the sign of each singular pair
    return np.sum(s * s) + np.sum(u * u * C1) + np.sum(vh * vh * C2) + np.sum(s)


def svd_reconstruct(a, C):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum((u * s) @ vh * C)


def svd_square_full(a, C):
    u, s, vh = np.linalg.svd(a)
    return np.sum(np.abs(u[:, 0] * vh[0]) * C[0]) + np.sum(s[1:])


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5)], ids=str)
def test_svd_with_uv(shape):
    from gradcheck import check_grad
    m, n = shape
    k = min(m, n)
    a = rand(m, n)
    check_grad(svd_loss, (a, rand(m, k), rand(k, n)), wrt=0, rtol=1e-5)
    check_grad(svd_reconstruct, (a, rand(m, n)), wrt=0, rtol=1e-5)


def test_svd_full_matrices_square():
    from gradcheck import check_grad
    check_grad(svd_square_full, (rand(3, 3), rand(3, 3)), wrt=0, rtol=1e-5)


def test_svd_full_matrices_non_square_is_an_error():
    import s2sgrad

    def f(a):
        u, s, vh = np.linalg.svd(a)
        return np.sum(u[:, 0] ** 2) + np.sum(s)

    with pytest.raises(ValueError, match="full_matrices=False"):
        s2sgrad.grad(f)(rand(4, 3))
