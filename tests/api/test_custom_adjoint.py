"""@s2sgrad.adjoint: user derivative templates, inlined into generated code."""
import math

import numpy as np
import pytest

import s2sgrad
from s2sgrad import adjoint, grad
from gradcheck import check_grad

RNG = np.random.default_rng(7)


def my_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@adjoint(my_sigmoid)
def _(result, x):
    grad[x] = grad[result] * result * (1.0 - result)


def uses_sigmoid(x, C):
    return np.sum(my_sigmoid(2.0 * x) * C)


def test_single_input():
    check_grad(uses_sigmoid, (RNG.standard_normal(5), RNG.standard_normal(5)))


def test_template_is_inlined_not_called():
    g = s2sgrad.grad(uses_sigmoid)
    g(RNG.standard_normal(3), RNG.standard_normal(3))
    src = g.source
    assert "my_sigmoid(" in src.split("# Backward pass")[0]      # forward calls the function
    backward = "\n".join(line.split("#")[0] for line in src.split("# Backward pass")[1]
                         .splitlines())
    assert "my_sigmoid" not in backward and "(1.0 - t" in backward


# -- several inputs, a scale helper from this module ------------------------------------

SCALE = 3.0


def weighted(x, w):
    return SCALE * x * w


@adjoint(weighted, elementwise=True)
def _(result, x, w):
    grad[x] = grad[result] * SCALE * w
    grad[w] = grad[result] * SCALE * x


def uses_weighted(x, w, C):
    return np.sum(weighted(x, w) * C)


def test_several_inputs_and_module_globals_broadcasting():
    x, w = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    C = RNG.standard_normal((3, 4))
    check_grad(uses_weighted, (x, w, C), wrt=(0, 1))


# -- a function without Python source (math.erf: its template replaces the built-in rule
# only while the test runs, see _with_erf_template at the end of this file) ------------

def erf_template(result, x):
    grad[x] = grad[result] * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


def uses_erf(x):
    return math.erf(x) * x


def test_function_without_source():
    _with_erf_template(lambda: check_grad(uses_erf, (0.7,)))


# -- several outputs ---------------------------------------------------------------------

def polar(x, y):
    return np.hypot(x, y), np.arctan2(y, x)


@adjoint(polar)
def _(result, x, y):
    r = result[0]
    grad[x] = grad[result][0] * x / r - grad[result][1] * y / (r * r)
    grad[y] = grad[result][0] * y / r + grad[result][1] * x / (r * r)


def uses_polar(x, y):
    r, theta = polar(x, y)
    return np.sum(r * theta + 2.0 * theta)


def uses_polar_radius_only(x, y):
    r, theta = polar(x, y)
    return np.sum(r ** 2)


def uses_polar_indexed(x, y):
    return np.sum(polar(x, y)[1])


@pytest.mark.parametrize("fn", [uses_polar, uses_polar_radius_only, uses_polar_indexed])
def test_several_outputs(fn):
    check_grad(fn, (RNG.uniform(0.5, 2, 4), RNG.uniform(0.5, 2, 4)), wrt=(0, 1))


# -- precedence over the function's own source ------------------------------------------

def clipped_identity(x):
    return np.clip(x, -1.0, 1.0)


@adjoint(clipped_identity)
def _(result, x):
    grad[x] = grad[result]          # straight-through estimator


def test_precedence_over_source():
    g = s2sgrad.grad(lambda x: np.sum(clipped_identity(x)))(np.array([-3.0, 0.5, 3.0]))
    assert np.allclose(g, 1.0)


# -- errors --------------------------------------------------------------------------------

def not_registered(x):
    return x * 2.0


def uses_unregistered(x):
    return math.nextafter(x, 2.0) * 2.0  # a C function: no source, no rule


def uses_lgamma(x):
    return math.lgamma(x) * 2.0


def test_unsupported_function_error_names_function_file_line_and_snippet():
    with pytest.raises(s2sgrad.UnsupportedCallError) as info:
        s2sgrad.grad(uses_unregistered)(1.5)
    msg = str(info.value)
    assert "math.nextafter" in msg
    assert "test_custom_adjoint.py" in msg
    assert info.value.lineno == uses_unregistered.__code__.co_firstlineno + 1
    assert "@adjoint(math.nextafter)" in msg and "grad[x] = grad[result]" in msg


def digamma_approx(x):
    h = 1e-5
    return (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)


@pytest.fixture
def own_lgamma_rule():
    """A user's @adjoint for math.lgamma (it replaces the built-in rule), removed after
    the test so that later tests see the built-in one again."""
    from s2sgrad.rules import registry
    saved = dict(registry._BY_OBJECT)

    @adjoint(math.lgamma)
    def _lgamma_template(result, x):
        grad[x] = grad[result] * digamma_approx(x)

    yield
    registry._BY_OBJECT.clear()
    registry._BY_OBJECT.update(saved)


def test_registering_replaces_the_rule(own_lgamma_rule):
    g = s2sgrad.grad(uses_lgamma)(1.5)
    assert abs(g - 2.0 * digamma_approx(1.5)) < 1e-9
    assert g != 2.0 * s2sgrad.runtime.digamma(1.5)      # the user's template ran


def bad_fn(x):
    return x


def test_template_error_points_at_template():
    def template(result, x):
        for i in range(3):          # loops are not template syntax
            grad[x] = grad[result]

    line = template.__code__.co_firstlineno
    adjoint(bad_fn)(template)

    with pytest.raises(s2sgrad.RuleError) as info:
        s2sgrad.grad(lambda x: np.sum(bad_fn(x)))(np.ones(2))
    assert info.value.filename == __file__
    assert info.value.lineno == line + 1


def test_template_without_gradient_is_rejected_at_decoration():
    with pytest.raises(s2sgrad.RuleError, match="assigns no gradient"):
        @adjoint(not_registered)
        def _(result, x):
            pass


def _with_erf_template(check):
    """Run ``check`` with ``erf_template`` registered for math.erf, then put the built-in
    rule back (registered at import, the template replaced it for the whole session and
    no test executed the built-in rule), and show that the template is what ran."""
    import rule_execution
    from s2sgrad.back import cache
    from s2sgrad.rules import registry
    built_in = registry.lookup(math.erf)
    family = next(f for f, _, rule in registry.registered() if rule is built_in)
    adjoint(math.erf)(erf_template)
    try:
        template_rule = registry.lookup(math.erf)
        assert template_rule is not built_in and template_rule.fn is erf_template
        check()
        assert id(template_rule) in rule_execution.EXECUTED
    finally:
        registry._register((math.erf,), built_in, family=family)
        cache.clear()
    assert registry.lookup(math.erf) is built_in
