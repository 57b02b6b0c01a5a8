"""The helpers generated code may call, one module per rule family.

Generated gradients are plain NumPy; when the compiler knows the shapes involved
(it specializes on the shapes seen at the first call) these helpers are replaced
by the NumPy expression they stand for.  They remain for the generic version and
for the cases a shape alone cannot decide.

``core.py`` holds the helpers the compiler itself emits (sums back over broadcast
axes, container and object gradients, element writes, restores); each other module
holds the helpers of the rule family of the same name in ``s2sgrad/rules/`` (their
second derivatives are that family's rules too).  Every module imports NumPy only,
so exported gradient modules can carry a copy of the helpers they call.

Generated code, exports and the disk cache name a helper by its name in this package
(``from s2sgrad.runtime import unbroadcast``): ``__all__`` is the union of the
modules' ``__all__``.
"""
from s2sgrad.runtime import (core, numpy_fft, numpy_linalg, numpy_reductions, numpy_selection,
                             numpy_shape, numpy_special, numpy_ufunc_methods, numpy_ufuncs,
                             scipy_misc, scipy_special, scipy_stats)
from s2sgrad.runtime.core import *  # noqa: F401,F403
from s2sgrad.runtime.core import ABSENT, ObjectGradient, is_object, object_gradient  # noqa: F401
from s2sgrad.runtime.numpy_fft import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_linalg import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_reductions import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_selection import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_shape import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_special import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_ufunc_methods import *  # noqa: F401,F403
from s2sgrad.runtime.numpy_ufuncs import *  # noqa: F401,F403
from s2sgrad.runtime.scipy_misc import *  # noqa: F401,F403
from s2sgrad.runtime.scipy_special import *  # noqa: F401,F403
from s2sgrad.runtime.scipy_stats import *  # noqa: F401,F403
from s2sgrad.runtime.scipy_stats import mvn_dimension  # noqa: F401

# in dependency order (what a module uses comes before it): exports copy helpers so
MODULES = (core, numpy_ufuncs, numpy_reductions, numpy_linalg, numpy_shape, numpy_selection,
           numpy_ufunc_methods, numpy_special, numpy_fft, scipy_special, scipy_stats, scipy_misc)

__all__ = [name for module in MODULES for name in module.__all__]
