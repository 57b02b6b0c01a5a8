"""s2sgrad: a symbolic source-to-source gradient compiler for NumPy functions."""
import importlib

from s2sgrad.api.gradient import grad, source, value_and_grad
from s2sgrad.version import __version__
from s2sgrad.errors import (LazyArrayError, NonScalarOutputError, RuleError, S2SGradError,
                            SourceUnavailableError, UnsupportedCallError,
                            UnsupportedSyntaxError, WrtError)


__all__ = ["grad", "value_and_grad", "source", "adjoint", "explain", "jvp", "vjp", "jacobian", "hessian", "hvp",
           "elementwise_grad", "check_grads",
           "tree_map", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure",
           "ravel_pytree",
           "stop_gradient", "grad_of", "tangent_rule", "S2SGradError", "SourceUnavailableError",
           "UnsupportedSyntaxError", "UnsupportedCallError", "NonScalarOutputError",
           "WrtError", "RuleError", "LazyArrayError", "__version__"]

# Imported on first use: the rules tables (SciPy's among them), gast and the passes load
# only when something is generated, so a process whose gradients all come from the disk
# cache starts in milliseconds.
_LAZY = {"adjoint": "api.custom", "explain": "tools.explain", "grad_of": "api.transforms",
         "hessian": "api.second_order", "hvp": "api.second_order", "jacobian": "api.transforms",
         "jvp": "api.transforms", "stop_gradient": "api.transforms", "vjp": "api.transforms",
         "tangent_rule": "rules.tangents", "check_grads": "api.check",
         "elementwise_grad": "api.check", "tree_map": "api.tree", "tree_flatten": "api.tree",
         "tree_unflatten": "api.tree", "tree_leaves": "api.tree", "tree_structure": "api.tree",
         "ravel_pytree": "api.tree"}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 's2sgrad' has no attribute %r" % name)
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
