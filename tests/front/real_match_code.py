"""User code with match statements (Python 3.10+ syntax; imported by
test_real_match.py only on 3.10+)."""
import numpy as np


def activation(x, kind):
    match kind:
        case 'relu':
            return np.maximum(x, 0)
        case 'tanh' | 'th':
            return np.tanh(x)
        case ('leaky', slope):
            return np.where(x > 0, x, slope * x)
        case {'name': 'elu', 'alpha': alpha}:
            return np.where(x > 0, x, alpha * (np.exp(x) - 1))
        case None:
            return x * 1.0
        case _:
            raise ValueError('unknown activation %r' % (kind,))


def activation_loss(x, kind):
    return np.sum(activation(x, kind) ** 2)


def clipped(x, bound):
    match bound:
        case float() | int() if bound > 0:
            y = np.clip(x, -bound, bound)
        case (lo, hi) if lo < hi:
            y = np.clip(x, lo, hi)
        case [first, *rest]:
            y = x * first + sum(rest)
        case _:
            y = x
    return np.sum(np.sin(y) * x)
