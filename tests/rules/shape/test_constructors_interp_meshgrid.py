"""Constructors filled from values (np.full, linspace, logspace, geomspace, arange),
np.interp and np.meshgrid, against finite differences."""
import numpy as np
import pytest

from gradcheck import check_grad
from rulecheck import check_expr, pos, rand


def test_full():
    check_expr("np.full((2, 3), s)", s=rand())
    check_expr("np.full((2, 3), v)", v=rand(3))
    check_expr("np.full_like(x, s) * x", s=rand(), x=rand(2, 3))


@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace(endpoint):
    check_expr("np.linspace(a, b, 5, endpoint=%r)" % endpoint, a=rand(), b=rand())
    check_expr("np.linspace(a, b, 4, endpoint=%r)" % endpoint, a=rand(3), b=rand(3))
    check_expr("np.linspace(a, b, 4, axis=1)", a=rand(3), b=rand())


def test_interp():
    xp = np.array([0.0, 1.0, 2.5, 4.0])
    x = np.array([-0.5, 0.3, 1.7, 3.9, 4.5, 2.2])
    check_expr("np.interp(x, xp, fp)", consts={"xp": xp}, x=x, fp=rand(4))
    check_expr("np.interp(x, xp, fp, left=0.0, right=1.0)", consts={"xp": xp}, x=x,
               fp=rand(4))


def meshgrid_xy(x, y, z, C):
    X, Y = np.meshgrid(x, y)
    return np.sum(X * Y * C)


def meshgrid_ij3(x, y, z, C):
    X, Y, Z = np.meshgrid(x, y, z, indexing="ij")
    return np.sum(X * Y + Z * np.sin(X))


def test_meshgrid():
    x, y, z = rand(3), rand(4), rand(2)
    check_grad(meshgrid_xy, (x, y, z, rand(4, 3)), wrt=(0, 1))
    check_grad(meshgrid_ij3, (x, y, z, 0.0), wrt=(0, 1, 2))
    check_expr("np.meshgrid(x, y)[0] * np.meshgrid(x, y, indexing='ij')[1].T", x=x, y=y)


def test_logspace_geomspace_arange():
    check_expr("np.logspace(a, b, 5)", a=rand(), b=rand())
    check_expr("np.logspace(a, b, 4, base=2.0, endpoint=False)", a=rand(), b=rand())
    check_expr("np.geomspace(a, b, 5)", a=pos(), b=pos())
    check_expr("np.arange(a, 4.0) * 2.0", a=np.float64(0.3))
    check_expr("np.arange(a, 6.0, s)", a=np.float64(0.3), s=np.float64(1.4))
    check_expr("np.arange(4) * x", x=rand(4))
