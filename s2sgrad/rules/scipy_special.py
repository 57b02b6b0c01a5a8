"""scipy.special (registered only when SciPy is installed).

Derivatives with respect to an order or a shape parameter without a closed form are
computed exactly by series or quadrature in runtime (``gammainc_da``, ``betainc_da``,
``bessel_dv``); the ones s2sgrad does not compute (the order n of ``polygamma``) are
marked ``no_gradient``: asking for them is an error at generation time, never a
silent zero.
"""
import math

import numpy as np
from scipy import special

from s2sgrad.runtime import (bessel_dv, betainc_da, betainc_db, expand_reduced, gammainc_da,
                             unbroadcast)
from s2sgrad.rules.registry import elementwise, grad, no_gradient, nondifferentiable, vjp

# -- logistic and log-sum-exp --------------------------------------------------------------


@elementwise(special.expit, family="scipy.special")
def expit(result, x):
    grad[x] = grad[result] * result * (1.0 - result)


@elementwise(special.logit, family="scipy.special")
def logit(result, x):
    grad[x] = grad[result] / (x * (1.0 - x))


@elementwise(getattr(special, "log_expit", None), family="scipy.special")
def log_expit(result, x):
    grad[x] = grad[result] * special.expit(-x)


@vjp(special.logsumexp, family="scipy.special")
def logsumexp(result, a, axis=None, b=None, keepdims=False, return_sign=False):
    if return_sign:
        raise NotImplementedError("logsumexp(return_sign=True) is not differentiated")
    if b is None:
        grad[a] = expand_reduced(grad[result], a, axis, keepdims) * np.exp(
            a - expand_reduced(result, a, axis, keepdims))
    else:
        share = expand_reduced(grad[result], a, axis, keepdims) * np.exp(
            a - expand_reduced(result, a, axis, keepdims))
        grad[a] = share * b
        grad[b] = unbroadcast(share, b)


@vjp(special.softmax, family="scipy.special")
def softmax(result, x, axis=None):
    grad[x] = result * (grad[result] - np.sum(grad[result] * result, axis=axis, keepdims=True))


@vjp(special.log_softmax, family="scipy.special")
def log_softmax(result, x, axis=None):
    grad[x] = grad[result] - np.exp(result) * np.sum(grad[result], axis=axis, keepdims=True)


# -- error function ---------------------------------------------------------------------------


@elementwise(special.erf, family="scipy.special")
def erf(result, x):
    grad[x] = grad[result] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@elementwise(special.erfc, family="scipy.special")
def erfc(result, x):
    grad[x] = -grad[result] * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)


@elementwise(special.erfinv, family="scipy.special")
def erfinv(result, y):
    grad[y] = grad[result] * (math.sqrt(math.pi) / 2.0) * np.exp(result * result)


@elementwise(special.erfcinv, family="scipy.special")
def erfcinv(result, y):
    grad[y] = -grad[result] * (math.sqrt(math.pi) / 2.0) * np.exp(result * result)


@elementwise(special.ndtr, family="scipy.special")
def ndtr(result, x):
    grad[x] = grad[result] * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


@elementwise(special.log_ndtr, family="scipy.special")
def log_ndtr(result, x):
    grad[x] = grad[result] * np.exp(-0.5 * x * x - result) / math.sqrt(2.0 * math.pi)


@elementwise(special.ndtri, family="scipy.special")
def ndtri(result, y):
    grad[y] = grad[result] * math.sqrt(2.0 * math.pi) * np.exp(0.5 * result * result)


# -- gamma family -------------------------------------------------------------------------------


# the sign of the gamma function is piecewise constant
nondifferentiable(special.gammasgn, family="scipy.special")


@elementwise(special.gamma, family="scipy.special")
def gamma(result, x):
    grad[x] = grad[result] * result * special.digamma(x)


@elementwise(special.gammaln, special.loggamma, family="scipy.special")
def gammaln(result, x):
    grad[x] = grad[result] * special.digamma(x)


@elementwise(special.rgamma, family="scipy.special")
def rgamma(result, x):
    grad[x] = -grad[result] * result * special.digamma(x)


@elementwise(special.digamma, family="scipy.special")
def digamma(result, x):
    grad[x] = grad[result] * special.polygamma(1, x)


@elementwise(special.polygamma, family="scipy.special")
def polygamma(result, n, x):
    grad[x] = grad[result] * special.polygamma(n + 1, x)
    grad[n] = no_gradient("polygamma: no derivative with respect to the order n")


@vjp(special.multigammaln, family="scipy.special")
def multigammaln(result, a, d):
    grad[a] = grad[result] * np.sum(special.digamma(np.subtract.outer(a, np.arange(d) / 2.0)),
                                    axis=-1)


@elementwise(special.gammainc, family="scipy.special")
def gammainc(result, a, x):
    grad[x] = grad[result] * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a))
    grad[a] = grad[result] * gammainc_da(a, x)


@elementwise(special.gammaincc, family="scipy.special")
def gammaincc(result, a, x):
    grad[x] = -grad[result] * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a))
    grad[a] = -grad[result] * gammainc_da(a, x)


@elementwise(special.beta, family="scipy.special")
def beta(result, a, b):
    grad[a] = grad[result] * result * (special.digamma(a) - special.digamma(a + b))
    grad[b] = grad[result] * result * (special.digamma(b) - special.digamma(a + b))


@elementwise(special.betaln, family="scipy.special")
def betaln(result, a, b):
    grad[a] = grad[result] * (special.digamma(a) - special.digamma(a + b))
    grad[b] = grad[result] * (special.digamma(b) - special.digamma(a + b))


@elementwise(special.betainc, family="scipy.special")
def betainc(result, a, b, x):
    grad[x] = grad[result] * np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x)
                                    - special.betaln(a, b))
    grad[a] = grad[result] * betainc_da(a, b, x)
    grad[b] = grad[result] * betainc_db(a, b, x)


# -- Bessel functions (in the argument; in the order by runtime.bessel_dv, x > 0) ------------------


@elementwise(special.j0, family="scipy.special")
def j0(result, x):
    grad[x] = -grad[result] * special.j1(x)


@elementwise(special.j1, family="scipy.special")
def j1(result, x):
    grad[x] = grad[result] * 0.5 * (special.j0(x) - special.jv(2, x))


@elementwise(special.jn, special.jv, family="scipy.special")
def jv(result, v, x):
    grad[x] = grad[result] * 0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x))
    grad[v] = grad[result] * bessel_dv("jv", v, x)


@elementwise(special.y0, family="scipy.special")
def y0(result, x):
    grad[x] = -grad[result] * special.y1(x)


@elementwise(special.y1, family="scipy.special")
def y1(result, x):
    grad[x] = grad[result] * 0.5 * (special.y0(x) - special.yv(2, x))


@elementwise(special.yn, family="scipy.special")
def yn(result, n, x):
    # yn truncates its order to an integer: piecewise constant in n
    grad[x] = grad[result] * 0.5 * (special.yn(np.trunc(n) - 1.0, x)
                                    - special.yn(np.trunc(n) + 1.0, x))
    grad[n] = no_gradient("yn: the order is truncated to an integer (use yv for a real order)")


@elementwise(special.yv, family="scipy.special")
def yv(result, v, x):
    grad[x] = grad[result] * 0.5 * (special.yv(v - 1, x) - special.yv(v + 1, x))
    grad[v] = grad[result] * bessel_dv("yv", v, x)


@elementwise(special.i0, family="scipy.special")
def i0(result, x):
    grad[x] = grad[result] * special.i1(x)


@elementwise(special.i1, family="scipy.special")
def i1(result, x):
    grad[x] = grad[result] * 0.5 * (special.i0(x) + special.iv(2, x))


@elementwise(special.iv, family="scipy.special")
def iv(result, v, x):
    grad[x] = grad[result] * 0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x))
    grad[v] = grad[result] * bessel_dv("iv", v, x)


@elementwise(special.ive, family="scipy.special")
def ive(result, v, x):
    grad[x] = grad[result] * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x))
                              - np.sign(x) * result)
    grad[v] = grad[result] * bessel_dv("ive", v, x)


@elementwise(special.i0e, family="scipy.special")
def i0e(result, x):
    grad[x] = grad[result] * (special.i1e(x) - np.sign(x) * result)


@elementwise(special.i1e, family="scipy.special")
def i1e(result, x):
    grad[x] = grad[result] * (0.5 * (special.i0e(x) + special.ive(2, x)) - np.sign(x) * result)


@elementwise(special.kv, family="scipy.special")
def kv(result, v, x):
    grad[x] = -grad[result] * 0.5 * (special.kv(v - 1, x) + special.kv(v + 1, x))
    grad[v] = grad[result] * bessel_dv("kv", v, x)


# -- x log y -------------------------------------------------------------------------------------


@elementwise(special.xlogy, family="scipy.special")
def xlogy(result, x, y):
    grad[x] = grad[result] * np.log(y)
    grad[y] = grad[result] * x / y


@elementwise(special.xlog1py, family="scipy.special")
def xlog1py(result, x, y):
    grad[x] = grad[result] * np.log1p(y)
    grad[y] = grad[result] * x / (1.0 + y)


@elementwise(special.entr, family="scipy.special")
def entr(result, x):
    grad[x] = -grad[result] * (np.log(x) + 1.0)


# -- losses and divergences ---------------------------------------------------------------------


@elementwise(getattr(special, "softplus", None), family="scipy.special")
def softplus(result, x):
    grad[x] = grad[result] * special.expit(x)


@elementwise(special.huber, family="scipy.special")
def huber(result, delta, r):
    grad[r] = grad[result] * np.clip(r, -delta, delta)
    grad[delta] = no_gradient("huber: differentiated with respect to r only")


@elementwise(special.pseudo_huber, family="scipy.special")
def pseudo_huber(result, delta, r):
    grad[r] = grad[result] * r / np.sqrt(1.0 + (r / delta) ** 2)
    grad[delta] = no_gradient("pseudo_huber: differentiated with respect to r only")


@elementwise(special.kl_div, family="scipy.special")
def kl_div(result, x, y):
    grad[x] = grad[result] * np.log(x / y)
    grad[y] = grad[result] * (1.0 - x / y)


@elementwise(special.rel_entr, family="scipy.special")
def rel_entr(result, x, y):
    grad[x] = grad[result] * (np.log(x / y) + 1.0)
    grad[y] = -grad[result] * x / y


@elementwise(special.binom, family="scipy.special")
def binom(result, n, k):
    grad[n] = grad[result] * result * (special.digamma(n + 1.0) - special.digamma(n - k + 1.0))
    grad[k] = grad[result] * result * (special.digamma(n - k + 1.0) - special.digamma(k + 1.0))


@elementwise(special.dawsn, family="scipy.special")
def dawsn(result, x):
    grad[x] = grad[result] * (1.0 - 2.0 * x * result)


@elementwise(special.erfcx, family="scipy.special")
def erfcx(result, x):
    grad[x] = grad[result] * (2.0 * x * result - 2.0 / math.sqrt(math.pi))


# -- integrals ---------------------------------------------------------------------------------


@elementwise(special.exp1, family="scipy.special")
def exp1(result, x):
    grad[x] = -grad[result] * np.exp(-x) / x


@elementwise(special.expi, family="scipy.special")
def expi(result, x):
    grad[x] = grad[result] * np.exp(x) / x


@elementwise(special.ellipk, family="scipy.special")
def ellipk(result, m):
    grad[m] = grad[result] * (special.ellipe(m) - (1.0 - m) * result) / (2.0 * m * (1.0 - m))


@elementwise(special.ellipe, family="scipy.special")
def ellipe(result, m):
    grad[m] = grad[result] * (result - special.ellipk(m)) / (2.0 * m)


@elementwise(special.spence, family="scipy.special")
def spence(result, z):
    grad[z] = grad[result] * np.log(z) / (1.0 - z)


@elementwise(special.zeta, family="scipy.special")
def zeta(result, x, q=None):
    grad[q] = -grad[result] * x * special.zeta(x + 1.0, q)
    grad[x] = no_gradient("zeta: differentiated with respect to q only")
