"""NumPy 2 array-API spellings (rules/numpy_array_api.py)."""
import numpy as np
import pytest

from rulecheck import check_expr, rand


def need(*names):
    for n in names:
        obj = np
        for part in n.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            pytest.skip("this NumPy has no np.%s" % n)


def test_transpose_vecdot_matvec():
    need("matrix_transpose", "vecdot", "matvec", "vecmat", "linalg.vecdot")
    check_expr("np.matrix_transpose(x)", x=rand(2, 3, 4))
    check_expr("np.linalg.matrix_transpose(x)", x=rand(3, 4))
    check_expr("np.vecdot(x, y)", x=rand(3, 4), y=rand(4))
    check_expr("np.vecdot(x, y, axis=0)", x=rand(3, 4), y=rand(3, 1))
    check_expr("np.linalg.vecdot(x, y)", x=rand(2, 3), y=rand(2, 3))
    check_expr("np.matvec(a, v)", a=rand(2, 3, 4), v=rand(4))
    check_expr("np.vecmat(v, a)", a=rand(2, 3, 4), v=rand(3))


def test_cumulative_unstack_astype():
    need("cumulative_sum", "cumulative_prod", "unstack", "astype")
    check_expr("np.cumulative_sum(x)", x=rand(5))
    check_expr("np.cumulative_sum(x, axis=1)", x=rand(3, 4))
    check_expr("np.cumulative_prod(x, axis=0)", x=rand(3, 4))
    check_expr("np.unstack(x)[1] * np.unstack(x, axis=1)[0][1]", x=rand(3, 4))
    check_expr("np.astype(x, np.float64)", x=rand(3))


@pytest.mark.parametrize("ord", [2, 1, np.inf, 3], ids=str)
def test_vector_norm(ord):
    need("linalg.vector_norm")
    check_expr("np.linalg.vector_norm(x, ord=o)", consts={"o": ord}, x=rand(3, 4))
    check_expr("np.linalg.vector_norm(x, axis=1, keepdims=True, ord=o)", consts={"o": ord},
               x=rand(3, 4))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, 2, np.inf], ids=str)
def test_matrix_norm(ord):
    need("linalg.matrix_norm")
    check_expr("np.linalg.matrix_norm(x, ord=o)", consts={"o": ord}, x=rand(2, 3, 4),
               rtol=1e-5)
    check_expr("np.linalg.matrix_norm(x, keepdims=True, ord=o)", consts={"o": ord},
               x=rand(3, 4), rtol=1e-5)


def test_linalg_namespace():
    need("linalg.outer", "linalg.matmul", "linalg.tensordot", "linalg.trace",
         "linalg.diagonal", "linalg.cross", "linalg.svdvals")
    check_expr("np.linalg.outer(x, y)", x=rand(3), y=rand(4))
    check_expr("np.linalg.matmul(a, b)", a=rand(2, 3, 4), b=rand(4, 2))
    check_expr("np.linalg.tensordot(a, b, axes=1)", a=rand(2, 3), b=rand(3, 4))
    check_expr("np.linalg.trace(a)", a=rand(2, 3, 3))
    check_expr("np.linalg.trace(a, offset=1)", a=rand(3, 4))
    check_expr("np.linalg.diagonal(a, offset=-1)", a=rand(2, 4, 3))
    check_expr("np.linalg.cross(x, y)", x=rand(4, 3), y=rand(3))
    check_expr("np.linalg.svdvals(a)", a=rand(3, 4), rtol=1e-5)


def test_transposes_accumulate_without_aliasing():
    need("matrix_transpose")
    check_expr("np.matrix_transpose(x) * 2.0 + np.matrix_transpose(x ** 2) + x.T", x=rand(3, 3))
