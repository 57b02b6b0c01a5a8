"""s2sgrad: a symbolic source-to-source gradient compiler for NumPy functions."""
from .api import grad, source, value_and_grad
from .custom import adjoint
from .custom import adjoint
from .explain import explain
from .transforms import grad_of, hessian, hvp, jacobian, jvp, stop_gradient, vjp
from .errors import (NonScalarOutputError, RuleError, S2SGradError, SourceUnavailableError,
                     UnsupportedCallError, UnsupportedSyntaxError, WrtError)

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "source", "adjoint", "adjoint", "explain", "jvp", "vjp", "jacobian", "hessian", "hvp",
           "stop_gradient", "grad_of", "S2SGradError", "SourceUnavailableError",
           "UnsupportedSyntaxError", "UnsupportedCallError", "NonScalarOutputError",
           "WrtError", "RuleError", "__version__"]
