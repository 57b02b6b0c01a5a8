"""The derivative table.  Importing this package registers every built-in rule."""
from . import numpy_core  # noqa: F401  (registers rules)
from .registry import (NONDIFFERENTIABLE, Rule, elementwise, grad, lookup, lookup_attribute,
                       lookup_method, lookup_operator, nondifferentiable, registered, vjp)

__all__ = ["NONDIFFERENTIABLE", "Rule", "elementwise", "grad", "lookup", "lookup_attribute",
           "lookup_method", "lookup_operator", "nondifferentiable", "registered", "vjp"]
