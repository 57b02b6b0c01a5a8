"""scipy.stats densities and distribution functions (SciPy installed only).

Each entry differentiates with respect to the point and the location/scale and the
shape parameters (the distribution functions' shape derivatives by the term-wise
differentiated series of runtime.gammainc_da / betainc_da / betainc_db).  ``z`` is the
standardized point ``(x - loc) / scale``.
"""
import math

import numpy as np
from scipy import special, stats

from s2sgrad import runtime
from s2sgrad.rules.registry import elementwise, grad, no_gradient, vjp
from s2sgrad.runtime import (betainc_da, betainc_db, gammainc_da, mvn_entropy_adjoint,
                             mvn_entropy_curvature, mvn_logpdf_adjoint, mvn_logpdf_curvature,
                             t_cdf_ddf)

# -- normal ------------------------------------------------------------------------------------


@elementwise(stats.norm.logpdf, family="scipy.stats")
def norm_logpdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    grad[x] = -grad[result] * z / scale
    grad[loc] = grad[result] * z / scale
    grad[scale] = grad[result] * (z * z - 1.0) / scale


@elementwise(stats.norm.pdf, family="scipy.stats")
def norm_pdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    grad[x] = -grad[result] * result * z / scale
    grad[loc] = grad[result] * result * z / scale
    grad[scale] = grad[result] * result * (z * z - 1.0) / scale


@elementwise(stats.norm.cdf, family="scipy.stats")
def norm_cdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    density = np.exp(-0.5 * z * z) / (math.sqrt(2.0 * math.pi) * scale)
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * z


@elementwise(stats.norm.logcdf, family="scipy.stats")
def norm_logcdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    ratio = np.exp(-0.5 * z * z - result) / (math.sqrt(2.0 * math.pi) * scale)
    grad[x] = grad[result] * ratio
    grad[loc] = -grad[result] * ratio
    grad[scale] = -grad[result] * ratio * z


@elementwise(stats.norm.sf, family="scipy.stats")
def norm_sf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    density = np.exp(-0.5 * z * z) / (math.sqrt(2.0 * math.pi) * scale)
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * z


@elementwise(stats.norm.logsf, family="scipy.stats")
def norm_logsf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    ratio = np.exp(-0.5 * z * z - result) / (math.sqrt(2.0 * math.pi) * scale)
    grad[x] = -grad[result] * ratio
    grad[loc] = grad[result] * ratio
    grad[scale] = grad[result] * ratio * z


@elementwise(stats.norm.ppf, family="scipy.stats")
def norm_ppf(result, q, loc=0.0, scale=1.0):
    z = (result - loc) / scale
    grad[q] = grad[result] * scale * math.sqrt(2.0 * math.pi) * np.exp(0.5 * z * z)
    grad[loc] = grad[result]
    grad[scale] = grad[result] * z


@elementwise(stats.norm.isf, family="scipy.stats")
def norm_isf(result, q, loc=0.0, scale=1.0):
    # isf(q) = ppf(1 - q)
    z = (result - loc) / scale
    grad[q] = -grad[result] * scale * math.sqrt(2.0 * math.pi) * np.exp(0.5 * z * z)
    grad[loc] = grad[result]
    grad[scale] = grad[result] * z


# -- location-scale families: logpdf = f(z) - log(scale), z = (x - loc) / scale ---------------


@elementwise(stats.expon.logpdf, family="scipy.stats")
def expon_logpdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    grad[x] = -grad[result] / scale
    grad[loc] = grad[result] / scale
    grad[scale] = grad[result] * (z - 1.0) / scale


@elementwise(stats.expon.pdf, family="scipy.stats")
def expon_pdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    grad[x] = -grad[result] * result / scale
    grad[loc] = grad[result] * result / scale
    grad[scale] = grad[result] * result * (z - 1.0) / scale


@elementwise(stats.laplace.logpdf, family="scipy.stats")
def laplace_logpdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    grad[x] = -grad[result] * np.sign(z) / scale
    grad[loc] = grad[result] * np.sign(z) / scale
    grad[scale] = grad[result] * (np.abs(z) - 1.0) / scale


@elementwise(stats.laplace.pdf, family="scipy.stats")
def laplace_pdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    grad[x] = -grad[result] * result * np.sign(z) / scale
    grad[loc] = grad[result] * result * np.sign(z) / scale
    grad[scale] = grad[result] * result * (np.abs(z) - 1.0) / scale


@elementwise(stats.cauchy.logpdf, family="scipy.stats")
def cauchy_logpdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -2.0 * z / (1.0 + z * z)
    grad[x] = grad[result] * dz / scale
    grad[loc] = -grad[result] * dz / scale
    grad[scale] = -grad[result] * (dz * z + 1.0) / scale


@elementwise(stats.cauchy.pdf, family="scipy.stats")
def cauchy_pdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -2.0 * z / (1.0 + z * z)
    grad[x] = grad[result] * result * dz / scale
    grad[loc] = -grad[result] * result * dz / scale
    grad[scale] = -grad[result] * result * (dz * z + 1.0) / scale


@elementwise(stats.logistic.logpdf, family="scipy.stats")
def logistic_logpdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -np.tanh(0.5 * z)
    grad[x] = grad[result] * dz / scale
    grad[loc] = -grad[result] * dz / scale
    grad[scale] = -grad[result] * (dz * z + 1.0) / scale


@elementwise(stats.logistic.pdf, family="scipy.stats")
def logistic_pdf(result, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -np.tanh(0.5 * z)
    grad[x] = grad[result] * result * dz / scale
    grad[loc] = -grad[result] * result * dz / scale
    grad[scale] = -grad[result] * result * (dz * z + 1.0) / scale


# -- Student t ------------------------------------------------------------------------------------


@elementwise(stats.t.logpdf, family="scipy.stats")
def t_logpdf(result, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -(df + 1.0) * z / (df + z * z)
    grad[x] = grad[result] * dz / scale
    grad[loc] = -grad[result] * dz / scale
    grad[scale] = -grad[result] * (dz * z + 1.0) / scale
    grad[df] = grad[result] * 0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(
        0.5 * df) - 1.0 / df - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))


@elementwise(stats.t.pdf, family="scipy.stats")
def t_pdf(result, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -(df + 1.0) * z / (df + z * z)
    grad[x] = grad[result] * result * dz / scale
    grad[loc] = -grad[result] * result * dz / scale
    grad[scale] = -grad[result] * result * (dz * z + 1.0) / scale
    grad[df] = grad[result] * result * 0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(
        0.5 * df) - 1.0 / df - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))


@elementwise(stats.t.cdf, family="scipy.stats")
def t_cdf(result, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    density = stats.t.pdf(z, df) / scale
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * z
    grad[df] = grad[result] * t_cdf_ddf(z, df)


# -- chi-squared, gamma, beta ------------------------------------------------------------------------


@elementwise(stats.chi2.logpdf, family="scipy.stats")
def chi2_logpdf(result, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (0.5 * df - 1.0) / y - 0.5
    grad[x] = grad[result] * dy / scale
    grad[loc] = -grad[result] * dy / scale
    grad[scale] = -grad[result] * (dy * y + 1.0) / scale
    grad[df] = grad[result] * 0.5 * (np.log(0.5 * y) - special.digamma(0.5 * df))


@elementwise(stats.chi2.pdf, family="scipy.stats")
def chi2_pdf(result, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (0.5 * df - 1.0) / y - 0.5
    grad[x] = grad[result] * result * dy / scale
    grad[loc] = -grad[result] * result * dy / scale
    grad[scale] = -grad[result] * result * (dy * y + 1.0) / scale
    grad[df] = grad[result] * result * 0.5 * (np.log(0.5 * y) - special.digamma(0.5 * df))


@elementwise(stats.chi2.cdf, family="scipy.stats")
def chi2_cdf(result, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.chi2.pdf(y, df) / scale
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * y
    grad[df] = grad[result] * 0.5 * gammainc_da(0.5 * df, 0.5 * y)


@elementwise(stats.gamma.logpdf, family="scipy.stats")
def gamma_logpdf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - 1.0
    grad[x] = grad[result] * dy / scale
    grad[loc] = -grad[result] * dy / scale
    grad[scale] = -grad[result] * (dy * y + 1.0) / scale
    grad[a] = grad[result] * (np.log(y) - special.digamma(a))


@elementwise(stats.gamma.pdf, family="scipy.stats")
def gamma_pdf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - 1.0
    grad[x] = grad[result] * result * dy / scale
    grad[loc] = -grad[result] * result * dy / scale
    grad[scale] = -grad[result] * result * (dy * y + 1.0) / scale
    grad[a] = grad[result] * result * (np.log(y) - special.digamma(a))


@elementwise(stats.gamma.cdf, family="scipy.stats")
def gamma_cdf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.gamma.pdf(y, a) / scale
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * y
    grad[a] = grad[result] * gammainc_da(a, y)


@elementwise(stats.beta.logpdf, family="scipy.stats")
def beta_logpdf(result, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - (b - 1.0) / (1.0 - y)
    grad[x] = grad[result] * dy / scale
    grad[loc] = -grad[result] * dy / scale
    grad[scale] = -grad[result] * (dy * y + 1.0) / scale
    grad[a] = grad[result] * (np.log(y) - special.digamma(a) + special.digamma(a + b))
    grad[b] = grad[result] * (np.log1p(-y) - special.digamma(b) + special.digamma(a + b))


@elementwise(stats.beta.pdf, family="scipy.stats")
def beta_pdf(result, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - (b - 1.0) / (1.0 - y)
    grad[x] = grad[result] * result * dy / scale
    grad[loc] = -grad[result] * result * dy / scale
    grad[scale] = -grad[result] * result * (dy * y + 1.0) / scale
    grad[a] = grad[result] * result * (np.log(y) - special.digamma(a) + special.digamma(a + b))
    grad[b] = grad[result] * result * (np.log1p(-y) - special.digamma(b)
                                       + special.digamma(a + b))


@elementwise(stats.beta.cdf, family="scipy.stats")
def beta_cdf(result, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.beta.pdf(y, a, b) / scale
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * y
    grad[a] = grad[result] * betainc_da(a, b, y)
    grad[b] = grad[result] * betainc_db(a, b, y)

# -- log-cdf, survival and log-survival functions: the density over cdf / sf ----------------


@elementwise(stats.t.logcdf, family="scipy.stats")
def t_logcdf(result, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    density = stats.t.pdf(z, df) / scale / np.exp(result)
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * z
    grad[df] = grad[result] * t_cdf_ddf(z, df) / np.exp(result)

@elementwise(stats.t.sf, family="scipy.stats")
def t_sf(result, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    density = stats.t.pdf(z, df) / scale
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * z
    grad[df] = -grad[result] * t_cdf_ddf(z, df)

@elementwise(stats.t.logsf, family="scipy.stats")
def t_logsf(result, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    density = stats.t.pdf(z, df) / scale / np.exp(result)
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * z
    grad[df] = -grad[result] * t_cdf_ddf(z, df) / np.exp(result)

@elementwise(stats.chi2.logcdf, family="scipy.stats")
def chi2_logcdf(result, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.chi2.pdf(y, df) / scale / np.exp(result)
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * y
    grad[df] = grad[result] * 0.5 * gammainc_da(0.5 * df, 0.5 * y) / np.exp(result)

@elementwise(stats.chi2.sf, family="scipy.stats")
def chi2_sf(result, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.chi2.pdf(y, df) / scale
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * y
    grad[df] = -grad[result] * 0.5 * gammainc_da(0.5 * df, 0.5 * y)

@elementwise(stats.chi2.logsf, family="scipy.stats")
def chi2_logsf(result, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.chi2.pdf(y, df) / scale / np.exp(result)
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * y
    grad[df] = -grad[result] * 0.5 * gammainc_da(0.5 * df, 0.5 * y) / np.exp(result)

@elementwise(stats.gamma.logcdf, family="scipy.stats")
def gamma_logcdf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.gamma.pdf(y, a) / scale / np.exp(result)
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * y
    grad[a] = grad[result] * gammainc_da(a, y) / np.exp(result)

@elementwise(stats.gamma.sf, family="scipy.stats")
def gamma_sf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.gamma.pdf(y, a) / scale
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * y
    grad[a] = -grad[result] * gammainc_da(a, y)

@elementwise(stats.gamma.logsf, family="scipy.stats")
def gamma_logsf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.gamma.pdf(y, a) / scale / np.exp(result)
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * y
    grad[a] = -grad[result] * gammainc_da(a, y) / np.exp(result)

@elementwise(stats.beta.logcdf, family="scipy.stats")
def beta_logcdf(result, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.beta.pdf(y, a, b) / scale / np.exp(result)
    grad[x] = grad[result] * density
    grad[loc] = -grad[result] * density
    grad[scale] = -grad[result] * density * y
    grad[a] = grad[result] * betainc_da(a, b, y) / np.exp(result)
    grad[b] = grad[result] * betainc_db(a, b, y) / np.exp(result)

@elementwise(stats.beta.sf, family="scipy.stats")
def beta_sf(result, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.beta.pdf(y, a, b) / scale
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * y
    grad[a] = -grad[result] * betainc_da(a, b, y)
    grad[b] = -grad[result] * betainc_db(a, b, y)

@elementwise(stats.beta.logsf, family="scipy.stats")
def beta_logsf(result, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    density = stats.beta.pdf(y, a, b) / scale / np.exp(result)
    grad[x] = -grad[result] * density
    grad[loc] = grad[result] * density
    grad[scale] = grad[result] * density * y
    grad[a] = -grad[result] * betainc_da(a, b, y) / np.exp(result)
    grad[b] = -grad[result] * betainc_db(a, b, y) / np.exp(result)


# -- Poisson (differentiable in the rate only) ------------------------------------------------------


@elementwise(stats.poisson.logpmf, family="scipy.stats")
def poisson_logpmf(result, k, mu, loc=0):
    grad[mu] = grad[result] * ((k - loc) / mu - 1.0)
    grad[k] = no_gradient("poisson: k is a count, it has no derivative")


@elementwise(stats.poisson.pmf, family="scipy.stats")
def poisson_pmf(result, k, mu, loc=0):
    grad[mu] = grad[result] * result * ((k - loc) / mu - 1.0)
    grad[k] = no_gradient("poisson: k is a count, it has no derivative")


@elementwise(stats.poisson.cdf, family="scipy.stats")
def poisson_cdf(result, k, mu, loc=0):
    grad[mu] = -grad[result] * stats.poisson.pmf(np.floor(k - loc), mu)
    grad[k] = no_gradient("poisson: k is a count, it has no derivative")


# -- more location-scale families with a shape parameter ------------------------------------------


@elementwise(stats.halfnorm.logpdf, family="scipy.stats")
def halfnorm_logpdf(result, x, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    grad[x] = -grad[result] * y / scale
    grad[loc] = grad[result] * y / scale
    grad[scale] = grad[result] * (y * y - 1.0) / scale


@elementwise(stats.invgamma.logpdf, family="scipy.stats")
def invgamma_logpdf(result, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (1.0 / y - (a + 1.0)) / y
    grad[x] = grad[result] * dy / scale
    grad[loc] = -grad[result] * dy / scale
    grad[scale] = -grad[result] * (dy * y + 1.0) / scale
    grad[a] = -grad[result] * (np.log(y) + special.digamma(a))


@elementwise(stats.weibull_min.logpdf, family="scipy.stats")
def weibull_min_logpdf(result, x, c, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (c - 1.0) / y - c * y ** (c - 1.0)
    grad[x] = grad[result] * dy / scale
    grad[loc] = -grad[result] * dy / scale
    grad[scale] = -grad[result] * (dy * y + 1.0) / scale
    grad[c] = grad[result] * (1.0 / c + np.log(y) - y ** c * np.log(y))


@elementwise(stats.nbinom.logpmf, family="scipy.stats")
def nbinom_logpmf(result, k, n, p, loc=0):
    grad[p] = grad[result] * (n / p - (k - loc) / (1.0 - p))
    grad[n] = grad[result] * (special.digamma(k - loc + n) - special.digamma(n) + np.log(p))
    grad[k] = no_gradient("nbinom: k is a count, it has no derivative")


@elementwise(stats.geom.logpmf, family="scipy.stats")
def geom_logpmf(result, k, p, loc=0):
    grad[p] = grad[result] * (1.0 / p - (k - loc - 1.0) / (1.0 - p))
    grad[k] = no_gradient("geom: k is a count, it has no derivative")


# -- binomial and Bernoulli (differentiable in the probability) ----------------------------------


@elementwise(stats.binom.logpmf, family="scipy.stats")
def binom_logpmf(result, k, n, p, loc=0):
    grad[p] = grad[result] * ((k - loc) / p - (n - k + loc) / (1.0 - p))
    grad[k] = no_gradient("binom: k is a count, it has no derivative")
    grad[n] = no_gradient("binom: n is a count, it has no derivative")


@elementwise(stats.binom.pmf, family="scipy.stats")
def binom_pmf(result, k, n, p, loc=0):
    grad[p] = grad[result] * result * ((k - loc) / p - (n - k + loc) / (1.0 - p))
    grad[k] = no_gradient("binom: k is a count, it has no derivative")
    grad[n] = no_gradient("binom: n is a count, it has no derivative")


@elementwise(stats.bernoulli.logpmf, family="scipy.stats")
def bernoulli_logpmf(result, k, p, loc=0):
    grad[p] = grad[result] * ((k - loc) / p - (1.0 - k + loc) / (1.0 - p))
    grad[k] = no_gradient("bernoulli: k is an outcome, it has no derivative")


@elementwise(stats.bernoulli.pmf, family="scipy.stats")
def bernoulli_pmf(result, k, p, loc=0):
    grad[p] = grad[result] * result * ((k - loc) / p - (1.0 - k + loc) / (1.0 - p))
    grad[k] = no_gradient("bernoulli: k is an outcome, it has no derivative")


# -- log-normal and uniform ---------------------------------------------------------------------------


@elementwise(stats.lognorm.logpdf, family="scipy.stats")
def lognorm_logpdf(result, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = -(1.0 + np.log(y) / (s * s)) / y
    grad[x] = grad[result] * dy / scale
    grad[loc] = -grad[result] * dy / scale
    grad[scale] = -grad[result] * (dy * y + 1.0) / scale
    grad[s] = grad[result] * (np.log(y) ** 2 / s ** 3 - 1.0 / s)


@elementwise(stats.lognorm.pdf, family="scipy.stats")
def lognorm_pdf(result, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = -(1.0 + np.log(y) / (s * s)) / y
    grad[x] = grad[result] * result * dy / scale
    grad[loc] = -grad[result] * result * dy / scale
    grad[scale] = -grad[result] * result * (dy * y + 1.0) / scale
    grad[s] = grad[result] * result * (np.log(y) ** 2 / s ** 3 - 1.0 / s)


@elementwise(stats.uniform.logpdf, family="scipy.stats", zero_gradient=("x", "loc"))
def uniform_logpdf(result, x, loc=0.0, scale=1.0):
    # constant in x inside the support; the support's edges are not differentiated
    grad[scale] = -grad[result] * np.isfinite(result) / scale


@elementwise(stats.uniform.pdf, family="scipy.stats", zero_gradient=("x", "loc"))
def uniform_pdf(result, x, loc=0.0, scale=1.0):
    grad[scale] = -grad[result] * result / scale


# -- multivariate ---------------------------------------------------------------------------------------


@vjp(stats.multivariate_normal.logpdf, family="scipy.stats")
def mvn_logpdf(result, x, mean=None, cov=1, allow_singular=False):
    grad[x] = mvn_logpdf_adjoint(grad[result], x, mean, cov, 0)
    grad[mean] = mvn_logpdf_adjoint(grad[result], x, mean, cov, 1)
    grad[cov] = mvn_logpdf_adjoint(grad[result], x, mean, cov, 2)


@vjp(stats.multivariate_normal.pdf, family="scipy.stats")
def mvn_pdf(result, x, mean=None, cov=1, allow_singular=False):
    grad[x] = mvn_logpdf_adjoint(grad[result] * result, x, mean, cov, 0)
    grad[mean] = mvn_logpdf_adjoint(grad[result] * result, x, mean, cov, 1)
    grad[cov] = mvn_logpdf_adjoint(grad[result] * result, x, mean, cov, 2)


@vjp(stats.multivariate_normal.entropy, family="scipy.stats", zero_gradient=("mean",))
def mvn_entropy(result, mean=None, cov=1, allow_singular=False):
    # half the log-determinant of 2 pi e cov: the mean does not enter
    grad[cov] = mvn_entropy_adjoint(grad[result], mean, cov)


@vjp(stats.dirichlet.logpdf, family="scipy.stats")
def dirichlet_logpdf(result, x, alpha):
    # x holds the components along its first axis
    grad[x] = grad[result] * (np.reshape(alpha, (-1,) + (1,) * (np.ndim(x) - 1)) - 1.0) / x
    grad[alpha] = np.reshape(np.sum(grad[result] * np.log(x), axis=tuple(range(1, np.ndim(x))))
                             - np.sum(grad[result]) * (special.digamma(alpha)
                                                       - special.digamma(np.sum(alpha))),
                             np.shape(alpha))


@vjp(stats.dirichlet.pdf, family="scipy.stats")
def dirichlet_pdf(result, x, alpha):
    grad[x] = grad[result] * result * (np.reshape(alpha, (-1,) + (1,) * (np.ndim(x) - 1))
                                       - 1.0) / x
    grad[alpha] = np.reshape(np.sum(grad[result] * result * np.log(x),
                                    axis=tuple(range(1, np.ndim(x))))
                             - np.sum(grad[result] * result) * (
                                 special.digamma(alpha) - special.digamma(np.sum(alpha))),
                             np.shape(alpha))


@elementwise(stats.poisson.sf, family="scipy.stats")
def poisson_sf(result, k, mu, loc=0):
    grad[mu] = grad[result] * stats.poisson.pmf(np.floor(k - loc), mu)
    grad[k] = no_gradient("poisson: k is a count, it has no derivative")


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


# mvn_entropy_adjoint(g, mean, cov) is linear in g; its curvature in cov has a helper
@vjp(runtime.mvn_entropy_adjoint, family="runtime")
def mvn_entropy_adjoint_rule(result, g, mean, cov):
    grad[g] = np.sum(grad[result] * mvn_entropy_adjoint(1.0, mean, cov))
    grad[cov] = mvn_entropy_curvature(grad[result], g, mean, cov)


# the multivariate normal log-density's gradient: its curvature has a helper
@vjp(runtime.mvn_logpdf_adjoint, family="runtime")
def mvn_logpdf_adjoint_rule(result, g, x, mean, cov, which):
    grad[g] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 0)
    grad[x] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 1)
    grad[mean] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 2)
    grad[cov] = mvn_logpdf_curvature(grad[result], g, x, mean, cov, which, 3)
