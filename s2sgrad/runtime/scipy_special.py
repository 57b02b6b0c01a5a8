"""Helpers of the rules in ``rules/scipy_special.py``: derivatives of the regularized incomplete
gamma and beta functions in their shape parameters and of the Bessel functions in their
order.  Written with NumPy only (no SciPy at run time)."""
import math

import numpy as np

from s2sgrad.runtime.numpy_ufuncs import digamma

__all__ = ["gammainc_da", "betainc_da", "betainc_db", "bessel_dv"]


# -- derivatives of the regularized incomplete gamma and beta functions in their shape
# parameters (the gamma, chi2, beta and t distribution functions), by term-wise
# differentiated power series: every term of P(a, x) = sum_k x^(a+k) e^-x / Gamma(a+k+1)
# and of I_x(a, b) = sum_k Gamma(a+b+k) / (Gamma(a+k+1) Gamma(b)) x^(a+k) (1-x)^b is
# positive, its logarithmic derivative a sum of digammas; summed to double precision.
_lgamma = np.vectorize(math.lgamma, otypes=[float])


_digamma = np.vectorize(digamma, otypes=[float])


def _series_length(limit):
    return int(min(max(limit, 60.0), 200000.0))


def gammainc_da(a, x):
    """d/da of the regularized lower incomplete gamma function P(a, x) (x >= 0, a > 0):
    sum_k t_k (log x - psi(a + k + 1)), t_k = x^(a+k) e^-x / Gamma(a + k + 1)."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    shape = a.shape
    a, x = a.reshape(-1, 1), x.reshape(-1, 1)
    if a.size == 0:
        return np.zeros(shape)
    safe = np.where(x > 0, x, 1.0)
    n = _series_length(np.max(safe) + 15.0 * np.sqrt(np.max(safe)) + 60.0)
    j = np.arange(1, n)[None, :]
    logx = np.log(safe)
    steps = np.concatenate([np.zeros_like(a), logx - np.log(a + j)], axis=1)
    logt = a * logx - safe - _lgamma(a + 1.0) + np.cumsum(steps, axis=1)
    psi = _digamma(a + 1.0) + np.concatenate([np.zeros_like(a), np.cumsum(1.0 / (a + j),
                                                                          axis=1)], axis=1)
    out = np.sum(np.exp(logt) * (logx - psi), axis=1)
    return np.where(x[:, 0] > 0, out, 0.0).reshape(shape)


def _betainc_series(a, b, x):
    """(dI/da, dI/db) of I_x(a, b) from its power series at x (small x: the caller
    reflects x > (a + 1) / (a + b + 2) to 1 - x)."""
    safe = np.clip(x, 1e-300, 1.0 - 1e-16)
    n = _series_length(200.0 + 40.0 * np.max(a + b) + 40.0 / max(1e-3, 1.0 - np.max(safe)))
    k = np.arange(n)[None, :]
    logx, log1mx = np.log(safe), np.log1p(-safe)
    steps = np.concatenate([np.zeros_like(a), logx + np.log(a + b + k[:, :-1])
                            - np.log(a + k[:, :-1] + 1.0)], axis=1)
    logt = (_lgamma(a + b) - _lgamma(a + 1.0) - _lgamma(b) + a * logx + b * log1mx
            + np.cumsum(steps, axis=1))
    psi_ab = _digamma(a + b) + np.concatenate(
        [np.zeros_like(a), np.cumsum(1.0 / (a + b + k[:, :-1]), axis=1)], axis=1)
    psi_a1 = _digamma(a + 1.0) + np.concatenate(
        [np.zeros_like(a), np.cumsum(1.0 / (a + k[:, 1:]), axis=1)], axis=1)
    t = np.exp(logt)
    da = np.sum(t * (psi_ab - psi_a1 + logx), axis=1)
    db = np.sum(t * (psi_ab - _digamma(b) + log1mx), axis=1)
    edge = (x <= 0) | (x >= 1)
    return np.where(edge[:, 0], 0.0, da), np.where(edge[:, 0], 0.0, db)


def _betainc_dab(a, b, x):
    a, b, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                  np.asarray(x, dtype=float))
    shape = a.shape
    a, b, x = a.reshape(-1, 1), b.reshape(-1, 1), x.reshape(-1, 1)
    if a.size == 0:
        return np.zeros(shape), np.zeros(shape)
    flip = x > (a + 1.0) / (a + b + 2.0)          # I_x(a, b) = 1 - I_(1-x)(b, a) there
    da = np.zeros(a.shape[0])
    db = np.zeros(a.shape[0])
    direct = ~flip[:, 0]
    if np.any(direct):
        da[direct], db[direct] = _betainc_series(a[direct], b[direct], x[direct])
    if np.any(~direct):
        fb, fa = _betainc_series(b[~direct], a[~direct], 1.0 - x[~direct])
        da[~direct], db[~direct] = -fa, -fb
    return da.reshape(shape), db.reshape(shape)


def betainc_da(a, b, x):
    """d/da of the regularized incomplete beta function I_x(a, b)."""
    return _betainc_dab(a, b, x)[0]


def betainc_db(a, b, x):
    """d/db of the regularized incomplete beta function I_x(a, b)."""
    return _betainc_dab(a, b, x)[1]


# -- Bessel functions in their order: d/dv of jv, yv, kv (Schlaefli's integrals, differentiated
# under the integral sign, by Gauss-Legendre quadrature) and of iv, ive (the power series,
# positive terms); x > 0.
_GAUSS: dict = {}


def _quad(f, lo, hi, n):
    n = int(n)
    if n not in _GAUSS:
        _GAUSS[n] = np.polynomial.legendre.leggauss(n)
    nodes, weights = _GAUSS[n]
    half = 0.5 * (hi - lo)
    t = lo[..., None] + half[..., None] * (nodes + 1.0)
    return np.sum(weights * f(t), axis=-1) * half


def _tail_end(x, v):
    """An upper limit T past which exp(-x sinh t + |v| t) is below 1e-300."""
    t = np.full(np.shape(x), 10.0)
    for _ in range(4):
        t = np.arcsinh((700.0 + np.abs(v) * t) / x)
    return t + 1.0


def _iv_dv_series(v, x, scaled):
    """d/dv of I_v(x) (times exp(-x) when scaled), v > -1, x > 0."""
    n = _series_length(np.max(x) + 15.0 * np.sqrt(np.max(x)) + 40.0)
    k = np.arange(n)
    v_, x_ = v[..., None], x[..., None]
    logh = np.log(0.5 * x_)
    logt = (v_ + 2 * k) * logh - _lgamma(k + 1.0) - _lgamma(v_ + k + 1.0)
    if scaled:
        logt = logt - x_
    psi = _digamma(v_ + 1.0) + np.concatenate(
        [np.zeros(np.shape(v_)), np.cumsum(1.0 / (v_ + k[1:]), axis=-1)], axis=-1)
    return np.sum(np.exp(logt) * (logh - psi), axis=-1)


def _kv_and_dv(v, x):
    """K_v(x) = int_0^inf exp(-x cosh t) cosh(v t) dt and its v-derivative."""
    end = np.maximum(np.arccosh(np.maximum(1.0, (700.0 + 50.0 * np.abs(v)) / x)), 1.0) + 1.0
    value = _quad(lambda t: np.exp(-x[..., None] * np.cosh(t)) * np.cosh(v[..., None] * t),
                  np.zeros_like(x), end, 400)
    deriv = _quad(lambda t: t * np.exp(-x[..., None] * np.cosh(t)) * np.sinh(v[..., None] * t),
                  np.zeros_like(x), end, 400)
    return value, deriv


def bessel_dv(kind, v, x):
    """d/dv of scipy.special.<kind>(v, x) for kind in jv, yv, iv, ive, kv (x > 0; NaN
    elsewhere, where SciPy's values are not real)."""
    v, x = np.broadcast_arrays(np.asarray(v, dtype=float), np.asarray(x, dtype=float))
    shape = v.shape
    v, x = v.reshape(-1), x.reshape(-1)
    ok = x > 0
    xs = np.where(ok, x, 1.0)
    pi = np.pi
    if kind in ("jv", "yv"):
        n = 64 * int(min(64, 2 + (4 * np.max(xs) + 4 * np.max(np.abs(v))) // 64))
        zero, top = np.zeros_like(xs), np.full(xs.shape, pi)
        end = _tail_end(xs, v)
        e_minus = lambda t: np.exp(-xs[..., None] * np.sinh(t) - v[..., None] * t)  # noqa
        if kind == "jv":
            osc = _quad(lambda th: th * np.sin(v[..., None] * th - xs[..., None] * np.sin(th)),
                        zero, top, n)
            out = (-osc / pi - np.cos(v * pi) * _quad(e_minus, zero, end, 600)
                   + np.sin(v * pi) / pi * _quad(lambda t: t * e_minus(t), zero, end, 600))
        else:
            osc = _quad(lambda th: th * np.cos(xs[..., None] * np.sin(th) - v[..., None] * th),
                        zero, top, n)

            def tail(t):
                decay = np.exp(-xs[..., None] * np.sinh(t))
                vt = v[..., None] * t
                return decay * (t * np.exp(vt) - t * np.exp(-vt) * np.cos(v[..., None] * pi)
                                - pi * np.exp(-vt) * np.sin(v[..., None] * pi))
            out = -osc / pi - _quad(tail, zero, end, 600) / pi
    elif kind == "kv":
        out = _kv_and_dv(v, xs)[1]
    elif kind in ("iv", "ive"):
        scaled = kind == "ive"
        out = np.empty_like(xs)
        pos_ = v > -1.0
        if np.any(pos_):
            out[pos_] = _iv_dv_series(v[pos_], xs[pos_], scaled)
        if np.any(~pos_):
            # I_v = I_m + (2 / pi) sin(m pi) K_m with m = -v
            m, xm = -v[~pos_], xs[~pos_]
            k_val, k_dv = _kv_and_dv(m, xm)
            scale = np.exp(-xm) if scaled else 1.0
            out[~pos_] = -(_iv_dv_series(m, xm, scaled) + scale * (
                2.0 * np.cos(m * pi) * k_val + 2.0 / pi * np.sin(m * pi) * k_dv))
    else:
        raise ValueError("s2sgrad: no order derivative for scipy.special.%s" % kind)
    return np.where(ok, out, np.nan).reshape(shape)
