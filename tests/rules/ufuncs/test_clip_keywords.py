"""np.clip / ndarray.clip with NumPy 2's min= / max= keywords, against finite differences
and forward mode."""
import numpy as np
import pytest

from rulecheck import check_expr, rand


# -- np.clip / ndarray.clip with NumPy 2's min= / max= ------------------------------------


NUMPY_2_1 = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)


needs_numpy_2_1 = pytest.mark.skipif(not NUMPY_2_1, reason="np.clip(min=, max=) is NumPy 2.1+")


@pytest.mark.parametrize("expr", [
    pytest.param(e, marks=needs_numpy_2_1) if e.startswith("np.") else e for e in [
        "np.clip(x, min=-0.5, max=0.7)", "np.clip(x, min=-0.5)", "np.clip(x, max=0.7)",
        "x.clip(min=0.1)", "x.clip(max=-0.2)", "x.clip(min=-0.5, max=0.7)",
        "np.clip(x, min=lo, max=hi)", "np.clip(x, min=lo)", "x.clip(max=hi)"]])
def test_clip_min_max_keywords(expr):
    args = dict(x=rand(3, 4))
    if "lo" in expr:
        args["lo"] = rand(4, low=-1.0, high=0.0)
    if "hi" in expr:
        args["hi"] = rand(3, 1, low=0.0, high=1.0)
    check_expr(expr, **args)


@needs_numpy_2_1
def test_clip_crossed_bounds_follow_numpy():
    # lo > hi: NumPy returns hi everywhere, so hi gets the whole gradient
    check_expr("np.clip(x, min=lo, max=hi)", x=rand(5), lo=rand(low=0.6, high=0.9),
               hi=rand(low=-0.9, high=-0.6))


def test_clip_method_positional_min_with_max_keyword():
    # ndarray.clip's first positional bound is min: x.clip(lo, max=hi)
    check_expr("x.clip(-0.5, max=0.7)", x=rand(3, 4))
    check_expr("x.clip(lo, max=hi)", x=rand(3, 4), lo=rand(low=-1.0, high=0.0),
               hi=rand(4, low=0.0, high=1.0))
