"""Functions in another module, for tests/front/test_subroutines.py (imported as numpy as xp,
with a module constant the caller does not have)."""
import numpy as xp

SCALE = 3.0


def softplus(z, beta=1.0):
    return xp.log(1.0 + xp.exp(beta * z)) / beta


def scaled_softplus(v):
    return softplus(v) * SCALE
