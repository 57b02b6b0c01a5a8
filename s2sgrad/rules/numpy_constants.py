"""Functions whose result carries no gradient: shapes, indices, comparisons,
predicates, constructors and random draws.  Calling them on a differentiated
value is not an error; no gradient flows through them."""
import builtins

import numpy as np

from s2sgrad.rules.registry import nondifferentiable

_RANDOM = ("rand", "randn", "random", "random_sample", "ranf", "sample", "normal", "uniform",
           "randint", "integers", "choice", "permutation", "shuffle", "permuted", "seed",
           "standard_normal", "standard_exponential", "standard_gamma", "standard_t",
           "exponential", "gamma", "beta", "binomial", "poisson", "multinomial",
           "multivariate_normal", "dirichlet", "laplace", "lognormal", "logistic",
           "gumbel", "geometric", "chisquare", "bernoulli", "default_rng", "bytes")

nondifferentiable(
    np.shape, np.ndim, np.size, builtins.len, builtins.int, builtins.bool, builtins.round,
    builtins.isinstance, builtins.range,
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.searchsorted, np.digitize, np.lexsort, np.nanargmax,
    np.nanargmin, np.linalg.matrix_rank, np.tril_indices_from, np.triu_indices_from,
    family="shapes and indices")
# Not here: np.unique (rules/numpy_selection.py) and .tolist() return the input's
# *values* (a gradient flows through them); calling them constant would be a
# silently wrong zero gradient.

nondifferentiable(
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like,
    np.eye, np.identity, np.tri,
    np.indices, np.diag_indices, np.tril_indices, np.triu_indices,
    family="constructors")

nondifferentiable(
    np.isfinite, np.isnan, np.isinf, np.isposinf, np.isneginf, np.isclose, np.allclose,
    np.array_equal, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
    np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.any, np.all, np.iscomplexobj, np.isreal, np.isscalar, np.result_type,
    methods=("argmax", "argmin", "argsort", "nonzero", "any", "all", "searchsorted"),
    attributes=("shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"),
    family="predicates and comparisons")

nondifferentiable(
    *[getattr(np.random, name) for name in _RANDOM if hasattr(np.random, name)],
    *[getattr(np.random.Generator, name) for name in _RANDOM
      if hasattr(np.random.Generator, name)],
    *[getattr(np.random.RandomState, name) for name in _RANDOM
      if hasattr(np.random.RandomState, name)],
    methods=tuple(n for n in _RANDOM if hasattr(np.random.Generator, n)),
    family="random draws")
