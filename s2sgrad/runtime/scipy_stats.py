"""Helpers of the rules in ``rules/scipy_stats.py``: the multivariate normal's log-density and
entropy with their second derivatives, Student's t in its degrees of freedom.  Written with
NumPy only (no SciPy at run time)."""
import math

import numpy as np

from s2sgrad.runtime.numpy_linalg import mT
from s2sgrad.runtime.scipy_special import _lgamma, betainc_da

__all__ = ["mvn_logpdf_adjoint", "mvn_entropy_adjoint", "mvn_entropy_curvature",
           "mvn_logpdf_curvature", "t_cdf_ddf"]


def mvn_dimension(mean, cov):
    """The dimension scipy.stats.multivariate_normal infers: the size of mean, else the
    side of cov, else 1 (a 1-D x is then a list of points, not one point)."""
    if mean is not None:
        return int(np.size(mean))
    return 1 if np.ndim(cov) == 0 else int(np.shape(cov)[0])


def mvn_logpdf_adjoint(g, x, mean, cov, which):
    """Gradient of the multivariate normal log-density (rows of ``x`` are points) with
    respect to x (which=0), mean (1) or cov (2)."""
    x = np.asarray(x, dtype=float)
    cov = np.asarray(cov, dtype=float)
    cov_ndim = cov.ndim
    d = mvn_dimension(mean, cov)
    if cov.ndim == 0:
        cov = cov * np.eye(d)
    elif cov.ndim == 1:
        cov = np.diag(cov)
    diff = x - (0.0 if mean is None else mean)
    sol = np.linalg.solve(cov, np.reshape(diff, (-1, d)).T).T          # (n, d)
    gs = np.reshape(g, (-1, 1))
    if which == 0:
        return np.reshape(-gs * sol, x.shape)
    if which == 1:
        return np.reshape(np.sum(gs * sol, axis=0), np.shape(mean))
    inv = np.linalg.inv(cov)
    out = 0.5 * (np.einsum("n,ni,nj->ij", gs[:, 0], sol, sol) - np.sum(gs) * inv)
    if cov_ndim == 0:
        return np.trace(out)
    return np.diagonal(out).copy() if cov_ndim == 1 else out


# -- SciPy helpers: multivariate normal entropy, Cholesky and LU solves ----------------------
def mvn_entropy_adjoint(g, mean, cov):
    """Gradient of scipy.stats.multivariate_normal.entropy(mean, cov) (half the
    log-determinant of 2 pi e cov) with respect to cov: ``0.5 g inv(cov).T`` for a
    matrix, ``0.5 g / cov`` for a diagonal given as a vector, ``0.5 g d / cov`` for one
    variance (``d`` the dimension, the size of ``mean``)."""
    cov = np.asarray(cov, dtype=float)
    if cov.ndim == 2:
        return 0.5 * g * mT(np.linalg.inv(cov))
    if cov.ndim == 1:
        return 0.5 * g / cov
    dim = 1 if mean is None else np.size(mean)
    return 0.5 * g * dim / cov


def mvn_entropy_curvature(w, g, mean, cov):
    """How ``<w, mvn_entropy_adjoint(g, mean, cov)>`` moves with cov (second derivatives
    of the entropy): ``-0.5 g inv(cov).T w.T inv(cov).T`` for a matrix."""
    cov = np.asarray(cov, dtype=float)
    if cov.ndim == 2:
        inv_t = mT(np.linalg.inv(cov))
        return -0.5 * g * np.matmul(np.matmul(inv_t, mT(w)), inv_t)
    dim = 1 if cov.ndim == 1 or mean is None else np.size(mean)
    return -0.5 * g * dim * w / (cov * cov)


def mvn_logpdf_curvature(w, g, x, mean, cov, which, wrt):
    """How ``<w, mvn_logpdf_adjoint(g, x, mean, cov, which)>`` moves with g (wrt=0),
    x (1), mean (2) or cov (3): second derivatives of the multivariate normal
    log-density.  With ``s_n = cov^-1 (x_n - mean)`` that inner product is
    ``sum_n g_n v_n . s_n`` for which=0 (``v_n = -w_n``) and which=1 (``v_n = w``), and
    ``0.5 sum_n g_n s_n.T W s_n - 0.5 sum(g) <W, cov^-1>`` for which=2 (``W`` is w
    as a matrix: ``w I`` for one variance, ``diag(w)`` for a vector of them)."""
    x = np.asarray(x, dtype=float)
    cov = np.asarray(cov, dtype=float)
    d = mvn_dimension(mean, cov)
    full = cov * np.eye(d) if cov.ndim == 0 else np.diag(cov) if cov.ndim == 1 else cov
    inv = np.linalg.inv(full)
    s = np.matmul(np.reshape(x - (0.0 if mean is None else mean), (-1, d)), inv)   # (n, d)
    gs = np.reshape(g, (-1,))
    if which in (0, 1):
        v = -np.reshape(w, (-1, d)) if which == 0 else np.broadcast_to(
            np.reshape(w, (1, d)), s.shape)
        v_inv = np.matmul(v, inv)
        dg = np.sum(v * s, axis=1)
        dr = gs[:, None] * v_inv
        dcov = -np.einsum("n,ni,nj->ij", gs, v_inv, s)
    else:
        w = np.asarray(w, dtype=float)
        wm = w * np.eye(d) if w.ndim == 0 else np.diag(w) if w.ndim == 1 else w
        dg = 0.5 * np.einsum("ni,ij,nj->n", s, wm, s) - 0.5 * np.sum(wm * inv)
        dr = 0.5 * gs[:, None] * np.matmul(np.matmul(s, wm + mT(wm)), inv)
        dcov = (-0.5 * (np.einsum("n,ni,nj->ij", gs, s, np.matmul(s, np.matmul(mT(wm), inv)))
                        + np.einsum("n,ni,nj->ij", gs, np.matmul(s, np.matmul(wm, inv)), s))
                + 0.5 * np.sum(gs) * np.matmul(np.matmul(inv, wm), inv))
    if wrt == 0:
        return np.reshape(dg, np.shape(g))
    if wrt == 1:
        return np.reshape(dr, x.shape)
    if wrt == 2:
        return np.reshape(-np.sum(dr, axis=0), np.shape(mean))
    if cov.ndim == 0:
        return np.trace(dcov)
    return np.diagonal(dcov).copy() if cov.ndim == 1 else dcov


def t_cdf_ddf(z, df):
    """d/d(df) of Student's t distribution function at the standardized point z:
    F = I_w(df/2, 1/2) / 2 for z < 0 (1 minus that for z > 0), w = df / (df + z^2)."""
    z, df = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(df, dtype=float))
    w = df / (df + z * z)
    a = 0.5 * df
    dI = 0.5 * betainc_da(a, 0.5, w)
    log_density = ((a - 1.0) * np.log(w) - 0.5 * np.log1p(-np.where(w < 1, w, 0.0))
                   - (_lgamma(a) + math.lgamma(0.5) - _lgamma(a + 0.5)))
    dw = np.where(w < 1, np.exp(log_density), 0.0) * z * z / (df + z * z) ** 2
    return np.where(z < 0, 0.5, -0.5) * (dI + dw)
