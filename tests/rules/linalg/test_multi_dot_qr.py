"""np.linalg.multi_dot, matrix_power and qr against finite differences."""
import numpy as np
import pytest

from gradcheck import check_grad
from rulecheck import check_expr, rand


def test_multi_dot_matrix_power():
    # forward mode through multi_dot's list argument fails (reported): reverse only
    check_expr("np.linalg.multi_dot([a, b, c])", a=rand(2, 3), b=rand(3, 4), c=rand(4, 2),
               forward=False)
    check_expr("np.linalg.multi_dot([v, b, c])", v=rand(3), b=rand(3, 4), c=rand(4, 2),
               forward=False)
    check_expr("np.linalg.multi_dot([a, b, w])", a=rand(2, 3), b=rand(3, 4), w=rand(4),
               forward=False)
    for n in (0, 1, 2, 3, -2):
        check_expr("np.linalg.matrix_power(a, %d)" % n, a=rand(3, 3) * 0.5 + 2 * np.eye(3))


def qr_loss(a, C1, C2):
    q, r = np.linalg.qr(a)
    return np.sum(q * C1) + np.sum(r * C2)


def qr_r_only(a, C1, C2):
    return np.sum(np.linalg.qr(a)[1] ** 2 * C2)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3)], ids=str)
def test_qr(shape):
    m, n = shape
    a = rand(m, n) + np.eye(m, n) * 2
    check_grad(qr_loss, (a, rand(m, n), rand(n, n)), wrt=0)
    check_grad(qr_r_only, (a, rand(m, n), rand(n, n)), wrt=0)
