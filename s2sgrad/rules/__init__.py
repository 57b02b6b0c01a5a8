"""The derivative table.  Importing this package registers every built-in rule,
family by family; the SciPy families only when SciPy is installed."""
from . import (numpy_ufuncs, numpy_reductions, numpy_linalg, numpy_shape,  # noqa: F401
               numpy_selection, numpy_ufunc_methods, numpy_array_api, numpy_constants,
               helper_rules)
from .registry import (NONDIFFERENTIABLE, Rule, elementwise, grad, is_static, lookup,
                       lookup_attribute, lookup_method, lookup_operator, nondifferentiable,
                       registered, vjp)

try:  # optional: never a runtime requirement
    import scipy  # noqa: F401
except ImportError:  # pragma: no cover
    pass
else:
    from . import scipy_special, scipy_stats, scipy_misc  # noqa: F401

__all__ = ["NONDIFFERENTIABLE", "Rule", "elementwise", "grad", "is_static", "lookup",
           "lookup_attribute", "lookup_method", "lookup_operator", "nondifferentiable",
           "registered", "vjp"]
