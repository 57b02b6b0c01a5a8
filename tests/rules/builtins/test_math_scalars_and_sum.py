"""The builtin sum and math-module functions over Python scalars, against finite
differences."""
import numpy as np
import pytest

from gradcheck import check_grad
from rulecheck import check_expr, rand


def builtin_sum(x, y, C):
    return np.sum(sum([x, y * 2.0, x * y]) * C)


def test_builtin_sum():
    check_grad(builtin_sum, (rand(3, 4), rand(4), rand(3, 4)), wrt=(0, 1))


MATH = ["math.remainder(x, 0.7)", "math.fmod(x, 0.7)", "math.log2(x)", "math.log10(x)",
        "math.cbrt(x)", "math.copysign(x, -1.0)", "math.asin(x / 3.0)", "math.acos(x / 3.0)",
        "math.atan2(x, 2.0)", "math.sinh(x)", "math.cosh(x)", "math.asinh(x)",
        "math.acosh(x + 1.0)", "math.atanh(x / 3.0)", "math.radians(x)", "math.degrees(x)",
        "max(x, 1.0)", "min(x, 1.0)", "max(2.0 * x, x * x)", "float(x)"]


@pytest.mark.parametrize("expr", MATH)
def test_python_scalars(expr):
    import math
    if expr.startswith("math.cbrt") and not hasattr(math, "cbrt"):
        pytest.skip("math.cbrt needs Python 3.11")
    check_expr(expr, consts={"math": math}, x=rand(low=0.4, high=0.9))
    check_expr(expr, consts={"math": math}, x=rand(low=1.2, high=1.9))
