"""match statements (Python 3.10+): lowered to if/elif chains on the subject, each
case's names bound before its body, guards falling through to the next case."""
import sys

import gast
import numpy as np
import pytest

from s2sgrad import grad
from gradcheck import check_grad

pytestmark = [
    pytest.mark.skipif(sys.version_info < (3, 10), reason="match needs Python 3.10"),
    # gast < 0.5.4 has no match nodes (it turns them into None): match is not read there
    pytest.mark.skipif(not hasattr(gast, "Match"), reason="this gast has no match nodes"),
]

rng = np.random.default_rng(310)


@pytest.mark.parametrize("kind", ['relu', 'th', ('leaky', 0.1), {'name': 'elu', 'alpha': 0.7},
                                  None], ids=str)
def test_match_cases(kind):
    import real_match_code as m
    check_grad(m.activation_loss, (rng.normal(size=5), kind))


def test_the_default_case_raises_as_python_does():
    import real_match_code as m
    with pytest.raises(ValueError, match="unknown activation 'selu'"):
        grad(m.activation_loss)(rng.normal(size=3), 'selu')


@pytest.mark.parametrize("bound", [0.5, 2, (-0.3, 0.8), (0.8, -0.3), [2.0, 1.0, 3.0], -1.0],
                         ids=str)
def test_guards_fall_through(bound):
    import real_match_code as m
    check_grad(m.clipped, (rng.normal(size=6), bound))
