"""The derivative table.  Importing this package registers every built-in NumPy rule,
family by family (each family module holds its reverse rules, its forward-mode marks
and templates, and the rules of its runtime helpers), then ``core`` (what the
compiler itself emits).  The SciPy families are registered once SciPy has been imported (by
the code being differentiated), so importing s2sgrad never pays for importing SciPy."""
import sys

from s2sgrad.rules import (numpy_ufuncs, numpy_reductions, numpy_linalg, numpy_shape,  # noqa: F401
                           numpy_selection, numpy_ufunc_methods, numpy_array_api,
                           numpy_constants, numpy_special, numpy_complex, numpy_fft)
# what the compiler itself emits: after the families (a family's rule for a NumPy
# function wins over core's)
from s2sgrad.rules import core  # noqa: F401,E402
from s2sgrad.rules.registry import (NONDIFFERENTIABLE, Rule, elementwise, grad, is_static,
                                    lookup, lookup_attribute, lookup_method, lookup_operator,
                                    nondifferentiable, registered, vjp)

_optional_loaded = False


def load_optional_families(import_scipy: bool = False) -> None:
    """Register the SciPy rules if SciPy is imported (or importable, when asked)."""
    global _optional_loaded
    if _optional_loaded:
        return
    if "scipy" not in sys.modules:
        if not import_scipy:
            return
        try:  # optional: never a runtime requirement
            import scipy  # noqa: F401
        except ImportError:  # pragma: no cover
            return
    _optional_loaded = True
    # the SciPy families load once SciPy is in use: importing s2sgrad never imports SciPy
    from s2sgrad.rules import scipy_special, scipy_stats, scipy_misc  # noqa: F401


__all__ = ["NONDIFFERENTIABLE", "Rule", "elementwise", "grad", "is_static", "lookup",
           "lookup_attribute", "lookup_method", "lookup_operator", "nondifferentiable",
           "registered", "vjp", "load_optional_families"]
