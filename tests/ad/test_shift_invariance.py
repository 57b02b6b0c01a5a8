"""Shift-invariant idioms (s2sgrad/ad/shift_invariance.py): the max shift of log-softmax, softmax
and logsumexp gets no gradient -- only when the proof holds."""
import linecache
import os
import random

import numpy as np
import pytest

import s2sgrad
from gradcheck import check_grad
from s2sgrad.ad.shift_invariance import mark_shift_invariance
from s2sgrad.ad.pipeline import front_end

rng = np.random.default_rng(7)


def marked(f, *args, wrt=0):
    """{shift name: idiom} that mark_shift_invariance finds in f's trace."""
    fe = front_end(f, [wrt], args)
    return mark_shift_invariance(fe.trace, fe.env, fe.shapes)


# -- functions that use the idiom ------------------------------------------------------

def log_softmax_ce(x, Y):
    z = x - np.max(x, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def log_softmax_methods(x, Y):
    z = x - x.max(axis=-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return np.sum(Y * lp)


def softmax_weighted(x, w):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(p * w)


def softmax_reciprocal(x, w):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    r = 1.0 / np.sum(e, axis=1, keepdims=True)
    return np.sum(e * r * w)


def logsumexp_rows(x, w):
    m = np.max(x, axis=1)
    lse = m + np.log(np.sum(np.exp(x - m[:, None]), axis=1))
    return np.sum(lse * w)


def logsumexp_expand_dims(x, w):
    m = np.max(x, axis=0)
    lse = np.log(np.sum(np.exp(x - np.expand_dims(m, 0)), axis=0)) + m
    return np.sum(lse * w)


def logsumexp_all(x, w):
    m = np.max(x)
    return (m + np.log(np.sum(np.exp(x - m)))) * w


def log_softmax_no_keepdims_sum(x, Y):
    z = x - np.max(x, axis=1, keepdims=True)
    l = np.log(np.sum(np.exp(z), axis=1))
    return np.sum(Y * (z - l.reshape(-1, 1)))


def log_softmax_vector(x, Y):
    z = x - np.max(x)
    return np.dot(Y, z - np.log(np.sum(np.exp(z))))


def log_softmax_global_shift(x, Y):
    z = x - np.max(x)                     # one shift for all rows: still constant per row
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return np.sum(Y * lp)


def shift_also_used(x, Y):
    m = np.max(x, axis=1, keepdims=True)
    z = x - m
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return np.sum(Y * lp) + np.sum(m * m)     # m keeps this gradient


def mean_shift(x, Y):
    m = np.mean(x, axis=1, keepdims=True)     # any shift works, not only the max
    z = x - m
    return np.sum(Y * (z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))))


def softmax_in_loop(x, Ys):
    total = 0.0
    for k in range(Ys.shape[0]):
        z = x * (k + 1.0) - np.max(x * (k + 1.0), axis=1, keepdims=True)
        lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        total = total + np.sum(Ys[k] * lp)
    return total


# -- functions where the shift's gradient is not zero: must not fire --------------------

def shifted_also_summed(x, Y):
    z = x - np.max(x, axis=1, keepdims=True)
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return np.sum(Y * lp) + np.sum(z)          # z itself depends on the shift


def exp_also_used(x, Y):
    z = x - np.max(x, axis=1, keepdims=True)
    e = np.exp(z)
    lp = z - np.log(np.sum(e, axis=1, keepdims=True))
    return np.sum(Y * lp) + np.sum(e * Y)


def wrong_axis(x, Y):
    z = x - np.max(x, axis=0, keepdims=True)   # constant along axis 0, summed along 1
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return np.sum(Y * lp)


def missing_keepdims_broadcasts_wrong(x, Y):
    z = x - np.max(x, axis=1)                   # (n,) against (n, n): varies along axis 1
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return np.sum(Y * lp)


def lse_without_shift_back(x, w):
    m = np.max(x, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))   # m not added back
    return np.sum(lse * w)


def sum_of_shifted_values(x, w):
    m = np.max(x, axis=1, keepdims=True)
    s = np.sum(x - m, axis=1, keepdims=True)    # moves n times the shift
    return np.sum((s + m) * w)


def log_sum_not_logsumexp(x, w):
    m = np.max(x, axis=1, keepdims=True)
    return np.sum((m + np.log(np.sum(x - m + 10.0, axis=1, keepdims=True))) * w)


def shift_reassigned(x, Y):
    m = np.max(x, axis=1, keepdims=True)
    z = x - m
    m = m * 2.0
    lse = m + np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return np.sum(lse * Y)


def carried_across_trips(x, Y):
    total = 0.0
    lp = x
    for k in range(3):
        total = total + np.sum(Y * lp)
        z = x * (k + 1.0) - np.max(x * (k + 1.0), axis=1, keepdims=True)
        lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return total + np.sum(lp)


def returned_shifted(x, Y):
    z = x - np.max(x, axis=1, keepdims=True)
    return np.sum(z * Y)


X45 = rng.standard_normal((4, 5))
Y45 = np.eye(5)[[0, 3, 1, 1]]
W45 = rng.standard_normal((4, 5))
X44 = rng.standard_normal((4, 4))
Y44 = np.eye(4)[[0, 3, 1, 2]]

FIRES = [
    (log_softmax_ce, (X45, Y45), "log-softmax"),
    (log_softmax_methods, (X45, Y45), "log-softmax"),
    (softmax_weighted, (X45, W45), "softmax"),
    (softmax_reciprocal, (X45, W45), "softmax"),
    (logsumexp_rows, (X45, rng.standard_normal(4)), "logsumexp"),
    (logsumexp_expand_dims, (X45, rng.standard_normal(5)), "logsumexp"),
    (logsumexp_all, (X45, 1.7), "logsumexp"),
    (log_softmax_no_keepdims_sum, (X45, Y45), "log-softmax"),
    (log_softmax_vector, (rng.standard_normal(6), np.eye(6)[2]), "log-softmax"),
    (log_softmax_global_shift, (X45, Y45), "log-softmax"),
    (shift_also_used, (X45, Y45), "log-softmax"),
    (mean_shift, (X45, Y45), "log-softmax"),
    (softmax_in_loop, (X45, np.stack([Y45, Y45[::-1]])), "log-softmax"),
]

DOES_NOT_FIRE = [
    (shifted_also_summed, (X45, Y45)),
    (exp_also_used, (X45, Y45)),
    (wrong_axis, (X45, Y45)),
    (missing_keepdims_broadcasts_wrong, (X44, Y44)),
    (lse_without_shift_back, (X45, rng.standard_normal((4, 1)))),
    (sum_of_shifted_values, (X45, rng.standard_normal((4, 1)))),
    (log_sum_not_logsumexp, (X45, rng.standard_normal((4, 1)))),
    (shift_reassigned, (X45, rng.standard_normal((4, 1)))),
    (carried_across_trips, (X45, Y45)),
    (returned_shifted, (X45, Y45)),
]


@pytest.mark.parametrize("f,args,idiom", FIRES, ids=[c[0].__name__ for c in FIRES])
def test_the_idiom_is_recognized(f, args, idiom):
    assert idiom in marked(f, *args).values()


@pytest.mark.parametrize("f,args", DOES_NOT_FIRE, ids=[c[0].__name__ for c in DOES_NOT_FIRE])
def test_the_shift_keeps_its_gradient_when_the_proof_fails(f, args):
    assert marked(f, *args) == {}


@pytest.mark.parametrize("f,args,idiom", FIRES, ids=[c[0].__name__ for c in FIRES])
def test_gradients_with_the_idiom_match_finite_differences(f, args, idiom):
    check_grad(f, args, wrt=0, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f,args", DOES_NOT_FIRE, ids=[c[0].__name__ for c in DOES_NOT_FIRE])
def test_gradients_without_the_idiom_match_finite_differences(f, args):
    check_grad(f, args, wrt=0, rtol=1e-7, atol=1e-9)


def test_generated_code_has_no_max_adjoint_and_names_the_idiom():
    g = s2sgrad.grad(log_softmax_ce)
    g(X45, Y45)
    src = g.source
    assert "hits" not in src and "==" not in src
    assert "# log-softmax is shift-invariant: no gradient flows back through the shift " \
           "np.max(x, axis=1, keepdims=True)" in src
    # the forward pass computes nothing the backward pass does not read
    forward = src.split("# Backward pass")[0]
    assert "np.log" not in forward


def test_a_named_shift_is_shown_by_name():
    g = s2sgrad.grad(logsumexp_rows)
    g(X45, np.ones(4))
    assert "logsumexp is shift-invariant: no gradient flows back through the shift m" in g.source
    assert "hits" not in g.source


def test_the_shift_keeps_its_other_gradients():
    g = s2sgrad.grad(shift_also_used)
    got = g(X45, Y45)
    m = X45.max(axis=1, keepdims=True)
    e = np.exp(X45 - m)
    expected = e / e.sum(axis=1, keepdims=True) * Y45.sum(axis=1, keepdims=True) - Y45
    expected = -expected + (X45 == m) * 2.0 * m     # the m * m term routes to the max
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_ties_in_the_max():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, 0.0, 5.0]])
    Y = np.eye(4)[[1, 3, 0]]
    got = s2sgrad.grad(log_softmax_ce)(x, Y)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    expected = (e / e.sum(axis=1, keepdims=True) - Y) / 3.0
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    check_grad(log_softmax_ce, (x, Y), wrt=0, rtol=1e-7, atol=1e-9)
    check_grad(logsumexp_rows, (x, np.array([0.5, -1.0, 2.0])), wrt=0, rtol=1e-7, atol=1e-9)


def test_batch_of_one():
    x, Y = rng.standard_normal((1, 5)), np.eye(5)[[2]]
    assert marked(log_softmax_ce, x, Y)
    check_grad(log_softmax_ce, (x, Y), wrt=0, rtol=1e-7, atol=1e-9)
    check_grad(logsumexp_rows, (x, np.ones(1)), wrt=0, rtol=1e-7, atol=1e-9)


def test_one_class_makes_everything_constant():
    x, Y = rng.standard_normal((3, 1)), np.ones((3, 1))
    check_grad(log_softmax_ce, (x, Y), wrt=0, rtol=1e-7, atol=1e-9)


def test_float32():
    x = X45.astype(np.float32)
    Y = Y45.astype(np.float32)
    got = s2sgrad.grad(log_softmax_ce)(x, Y)
    assert got.dtype == np.float32
    e = np.exp(X45 - X45.max(axis=1, keepdims=True))
    expected = (e / e.sum(axis=1, keepdims=True) - Y45) / 4.0
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-7)


def test_generic_code_without_shapes_is_unchanged():
    g = s2sgrad.grad(log_softmax_ce)
    src = g.source                        # before any call: no probe, no proof
    assert "shift-invariant" not in src
    check_grad(log_softmax_ce, (X45, Y45), wrt=0)


def test_value_and_grad_and_vjp():
    value, grad = s2sgrad.value_and_grad(logsumexp_rows)(X45, np.ones(4))
    m = X45.max(axis=1)
    np.testing.assert_allclose(value, np.sum(m + np.log(np.exp(X45 - m[:, None]).sum(1))))
    e = np.exp(X45 - m[:, None])
    np.testing.assert_allclose(grad, e / e.sum(axis=1, keepdims=True), rtol=1e-13)
    out, pullback = s2sgrad.vjp(log_softmax_ce)(X45, Y45)
    np.testing.assert_allclose(pullback(1.0), s2sgrad.grad(log_softmax_ce)(X45, Y45),
                               rtol=1e-13)


def test_second_order_through_the_idiom():
    v = rng.standard_normal((4, 5))
    hvp = s2sgrad.hvp(log_softmax_ce)
    got = hvp(X45, Y45, v)
    h = 1e-5
    g = s2sgrad.grad(log_softmax_ce)
    expected = (g(X45 + h * v, Y45) - g(X45 - h * v, Y45)) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


# -- random compositions: right gradients whether or not the proof holds ---------------

def _random_idiom(seed):
    """A function of x built from the shifted-exponential idiom with random axes,
    keepdims, shifts, results and stray uses of the intermediates."""
    r = random.Random(seed)
    shape = r.choice([(4, 5), (1, 5), (3, 1), (2, 3, 4), (6,), (4, 4)])
    nd = len(shape)

    def axis_text(ax):
        return "" if ax is None else ", axis=%d" % ax

    def reduced(ax, keep):
        if ax is None:
            return (1,) * nd if keep else ()
        return tuple(1 if k == ax % nd else n for k, n in enumerate(shape)) if keep else \
            tuple(n for k, n in enumerate(shape) if k != ax % nd)

    def fits(a, b):
        try:
            return np.broadcast_shapes(a, b) == tuple(np.broadcast_shapes(a, b))
        except ValueError:
            return False

    lines = ["def f(x):"]
    ax_m = r.choice([None, -1] + list(range(nd)))
    keep_m = r.random() < 0.5
    lines.append("    m = %s(x%s%s)" % (r.choice(["np.max", "np.min", "np.mean"]),
                                        axis_text(ax_m), ", keepdims=True" if keep_m else ""))
    m_shape = reduced(ax_m, keep_m)
    shift = "m"
    if not keep_m and ax_m is not None and (r.random() < 0.6 or not fits(shape, m_shape)
                                            or np.broadcast_shapes(shape, m_shape) != shape):
        shift = "np.expand_dims(m, %d)" % (ax_m % nd)
    lines.append("    z = x - %s" % shift)
    lines.append("    e = np.exp(z)")
    ax_s = r.choice([None, -1] + list(range(nd)))
    keep_s = r.random() < 0.6
    lines.append("    s = np.sum(e%s%s)" % (axis_text(ax_s), ", keepdims=True" if keep_s else ""))
    lines.append("    l = np.log(s)")
    s_shape = reduced(ax_s, keep_s)
    back = "s" if keep_s or ax_s is None else "np.expand_dims(s, %d)" % (ax_s % nd)
    back_l = "l" if keep_s or ax_s is None else "np.expand_dims(l, %d)" % (ax_s % nd)
    results = []
    if r.random() < 0.6:
        results.append("z - %s" % back_l)
    if r.random() < 0.5:
        results.append("e / %s" % back)
    if fits(s_shape, m_shape) and r.random() < 0.5:
        results.append("l + m")
    if not results:
        results.append("z - %s" % back_l)
    stray = r.choice(["", "", "", "z", "e", "l", "m * m", "s"])
    if stray:
        results.append(stray)
    terms = ["np.sum(np.sin(%.1f * (%s)))" % (r.choice([0.5, 1.5, 3.0]), t) for t in results]
    lines.append("    return " + " + ".join(terms))
    source = "\n".join(lines) + "\n"
    filename = "<idiom seed=%d>" % seed
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    ns = {"np": np, "__name__": "idiom_program"}
    exec(compile(source, filename, "exec"), ns)
    x = np.random.default_rng(seed).standard_normal(shape)
    return ns["f"], x, source


def test_random_compositions_of_the_idiom():
    fired = 0
    for seed in range(int(os.environ.get("S2SGRAD_SOAK", "40"))):
        f, x, source = _random_idiom(seed)
        try:
            fired += bool(marked(f, x))
            check_grad(f, (x,), wrt=0)
        except AssertionError as exc:
            raise AssertionError("seed %d\n%s\n%s" % (seed, source, exc))
    assert fired >= 5


def shift_redefined_in_loop(x, Y):
    total = 0.0
    m = np.max(x, axis=1, keepdims=True)
    for k in range(2):
        z = x - m
        total = total + np.sum(Y * (z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))))
        m = m.reshape(4, 1)                 # m = reshape of m: no proof, no endless chase
    return total + np.sum(m * m)


def test_a_redefined_shift_is_left_alone():
    assert marked(shift_redefined_in_loop, X45, Y45) == {}
    check_grad(shift_redefined_in_loop, (X45, Y45), wrt=0, rtol=1e-7, atol=1e-9)
