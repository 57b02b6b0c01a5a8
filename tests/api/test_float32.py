"""float32 in, float32 through (issue #15): with float32 (or float16) arguments the
generated code computes every intermediate in that dtype -- the seed, the rules'
constants, the reductions' counts -- and returns gradients of that dtype.

Each test runs the generated code instrumented (tests/dtypecheck.py: the dtype of
every intermediate value, nested temporaries included) and compares the values with an
independent float64 reference (central finite differences of the function evaluated
in float64, or a closed form).

Tolerances are the precision of the dtype, not loosened ones: float32 has a machine
epsilon of 1.19e-7; a gradient here is a few dozen rounded operations on values of
order one, each off by at most eps/2 relative to the magnitudes it combines, so its
error is some 100 eps ~ 1e-5 of the gradient's scale.  ``RTOL32 = 1e-4`` (relative, and
the same fraction of the gradient's largest entry as an absolute floor for entries that
cancel to near zero) leaves a margin of ten over that and still fails anything computed
in float16 (eps 9.8e-4) or a wrong rule.  float16 likewise: eps 9.8e-4, ``RTOL16 = 3e-2``.
A result computed in float64 and cast back would pass the value checks: the dtype
record is what proves the float32 path.
"""
import numpy as np
import pytest

from dtypecheck import record_dtypes
from gradcheck import numeric_grad
from s2sgrad import grad, hessian, jvp, value_and_grad, vjp

RTOL32 = 1e-4      # ~1000 float32 epsilons: see the module docstring
RTOL16 = 3e-2      # ~30 float16 epsilons
RTOL = {np.float32: RTOL32, np.float16: RTOL16}


def assert_close(got, want, dtype):
    """``got`` (dtype) within the dtype's precision of the float64 reference ``want``."""
    got = np.asarray(got)
    assert got.dtype == dtype, got.dtype
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    rtol = RTOL[dtype]
    scale = max(float(np.max(np.abs(want))), 1e-30)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=rtol * scale)


def assert_only(seen, dtype):
    """Every float intermediate the generated code computed had ``dtype``."""
    assert seen.functions, "no code was generated inside the block"
    assert seen.entries, "the instrument saw no float value"
    assert seen.floats() == {np.dtype(dtype)}, seen.report(dtype)


def as64(args):
    return [np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else a for a in args]


def check(f, args, wrt, dtype):
    """grad(f, wrt) on ``args`` (``dtype`` arrays): every intermediate in ``dtype``,
    gradients of ``dtype`` matching float64 central differences."""
    with record_dtypes() as seen:
        grads = grad(f, wrt=wrt)(*args)
    assert_only(seen, dtype)
    single = isinstance(wrt, int)
    for i, g in zip([wrt] if single else wrt, [grads] if single else grads):
        assert_close(g, numeric_grad(f, as64(args), i), dtype)
    return seen


# -- the functions (each used by one test only: the instrument compiles its own code) --

def chain(x):
    return np.sum(np.sin(x) * np.exp(-x) + np.sqrt(x * x + 1.0) / (2.0 + np.cos(x)))


def chain16(x):
    return np.sum(np.sin(x) * np.exp(-x) + np.sqrt(x * x + 1.0) / (2.0 + np.cos(x)))


def reductions(x):
    return (np.mean(x ** 2) + np.var(x) + np.max(x) + np.std(x, axis=0).sum()
            + np.mean(np.sum(x, axis=1, keepdims=True) * x) + np.min(x, axis=1).sum())


def reductions16(x):
    return np.mean(x ** 2) + np.max(x) + np.mean(np.sum(x, axis=1, keepdims=True) * x)


def constants(x):
    sigmoid = 1.0 / (1.0 + np.exp(-x))
    return np.sum(np.log1p(x * x) + sigmoid + np.tanh(x) + np.arctan(x)
                  + np.log2(x) + np.log10(x) + np.exp2(x) + np.deg2rad(x) + np.cbrt(x))


def mlp(W1, b1, W2, X, y):
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), y])


def mlp16(W1, b1, W2, X, y):
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), y])


def rnn(Wx, Wh, xs):
    h = np.zeros(Wh.shape[0], dtype=Wh.dtype)
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h * h)


def rnn16(Wx, Wh, xs):
    h = np.zeros(Wh.shape[0], dtype=Wh.dtype)
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h * h)


def _rng():
    return np.random.default_rng(1515)


def _mlp_args(dtype):
    rng = _rng()
    return (rng.normal(size=(4, 6)).astype(dtype), (0.1 * rng.normal(size=6)).astype(dtype),
            rng.normal(size=(6, 3)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype),
            np.array([0, 2, 1, 1, 0]))


def _rnn_args(dtype):
    rng = _rng()
    return ((0.5 * rng.normal(size=(3, 4))).astype(dtype),
            (0.5 * rng.normal(size=(4, 4))).astype(dtype), rng.normal(size=(6, 3)).astype(dtype))


# -- float32 -------------------------------------------------------------------------------

def test_float32_elementwise_chain():
    x = _rng().uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    check(chain, (x,), 0, np.float32)


def test_float32_reductions_keep_the_dtype():
    # mean divides by N (a Python int); max/min share the gradient among tied entries:
    # their count is float32 too (an int64 count would make the share float64)
    x = _rng().uniform(-1.0, 1.0, (3, 4)).astype(np.float32)
    check(reductions, (x,), 0, np.float32)


def test_float32_rules_with_constants():
    # log2 / log10 / deg2rad differentiate to a constant factor: a Python number in the
    # rule (math.log(2.0)), never a NumPy float64 scalar that would widen the product
    x = _rng().uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    check(constants, (x,), 0, np.float32)


def erf_chain(x):
    from scipy.special import erf, erfc, ndtr
    return np.sum(erf(x) + erfc(0.5 * x) + ndtr(x))


def test_float32_scipy_rules_with_constants():
    pytest.importorskip("scipy")
    x = _rng().uniform(-1.0, 1.0, (3, 4)).astype(np.float32)
    check(erf_chain, (x,), 0, np.float32)


def test_float32_mlp_with_softmax_cross_entropy():
    check(mlp, _mlp_args(np.float32), (0, 1, 2), np.float32)


def test_float32_rnn_loop():
    check(rnn, _rnn_args(np.float32), (0, 1), np.float32)


def vg_f(x, w):
    return np.mean(np.tanh(x @ w) ** 2)


def test_float32_value_and_grad():
    rng = _rng()
    x = rng.normal(size=(5, 3)).astype(np.float32)
    w = rng.normal(size=(3, 2)).astype(np.float32)
    with record_dtypes() as seen:
        value, (gx, gw) = value_and_grad(vg_f, wrt=(0, 1))(x, w)
    assert_only(seen, np.float32)
    assert np.asarray(value).dtype == np.float32
    assert_close(value, vg_f(*as64((x, w))), np.float32)
    assert_close(gx, numeric_grad(vg_f, as64((x, w)), 0), np.float32)
    assert_close(gw, numeric_grad(vg_f, as64((x, w)), 1), np.float32)


def jvp_f(x):
    return np.sum(np.sin(x) * x + np.exp(-x * x))


def test_float32_jvp():
    rng = _rng()
    x = rng.normal(size=(3, 4)).astype(np.float32)
    v = rng.normal(size=(3, 4)).astype(np.float32)
    with record_dtypes() as seen:
        value, tangent = jvp(jvp_f)(x, v)
    assert_only(seen, np.float32)
    # reference: the float64 directional central difference
    x64, v64, h = x.astype(np.float64), v.astype(np.float64), 1e-6
    want = (jvp_f(x64 + h * v64) - jvp_f(x64 - h * v64)) / (2 * h)
    assert_close(tangent, want, np.float32)
    assert_close(value, jvp_f(x64), np.float32)


def vjp_f(W, x):
    return np.tanh(W @ x) * 2.0


def test_float32_vjp():
    rng = _rng()
    W = rng.normal(size=(3, 4)).astype(np.float32)
    x = rng.normal(size=4).astype(np.float32)
    ct = rng.normal(size=3).astype(np.float32)
    with record_dtypes() as seen:
        value, pullback = vjp(vjp_f, wrt=(0, 1))(W, x)
        gW, gx = pullback(ct)
    assert_only(seen, np.float32)
    # closed form in float64: d tanh = 1 - tanh^2
    W64, x64, ct64 = W.astype(np.float64), x.astype(np.float64), ct.astype(np.float64)
    d = 2.0 * ct64 * (1.0 - np.tanh(W64 @ x64) ** 2)
    assert_close(gW, np.outer(d, x64), np.float32)
    assert_close(gx, W64.T @ d, np.float32)
    assert_close(value, vjp_f(W64, x64), np.float32)


def hess_f(x, A):
    return np.sum(np.sin(x) * x * x) + 0.5 * x @ (A @ x)


def test_float32_hessian():
    rng = _rng()
    x = rng.normal(size=4).astype(np.float32)
    B = rng.normal(size=(4, 4))
    A = (B + B.T).astype(np.float32)
    with record_dtypes() as seen:
        H = hessian(hess_f)(x, A)
    assert_only(seen, np.float32)
    # closed form: d2/dx2 sin(x) x^2 = (2 - x^2) sin x + 4 x cos x, plus A (symmetric)
    x64 = x.astype(np.float64)
    want = np.diag((2.0 - x64 ** 2) * np.sin(x64) + 4.0 * x64 * np.cos(x64)) + A
    assert_close(H, want, np.float32)


def size1_output(x):
    return np.sum(x * x, keepdims=True).reshape(1, 1)


def test_float32_seed_of_a_size_one_array_output():
    # the seed of a (1, 1) output is np.ones((1, 1)) of the output's dtype
    x = _rng().normal(size=(2, 3)).astype(np.float32)
    with record_dtypes() as seen:
        g = grad(size1_output)
        gx = g(x)
    assert_only(seen, np.float32)
    assert "float32" in g.source
    assert_close(gx, 2.0 * x.astype(np.float64), np.float32)


def test_float32_generated_code_reads_like_float64_code():
    # the float32 gradient is the float64 one, with no cast inside: only the Python
    # numbers NumPy would widen are typed, and the final np.asarray(..., float32) is a
    # no-op guard (it copies nothing)
    x32 = _rng().uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    g = grad(chain)
    g(x32)
    body32 = g.source.splitlines()[1:-1]
    g(x32.astype(np.float64))
    body64 = g.source.splitlines()[1:-1]
    assert body32 == body64
    assert "astype" not in "\n".join(body32)


# -- mixed dtypes follow NumPy's promotion ------------------------------------------------

def mixed(x, w):
    return np.sum(np.tanh(x * w) + x)


def test_mixed_float32_and_float64_follow_numpy_promotion():
    rng = _rng()
    x = rng.normal(size=(3, 4)).astype(np.float32)
    w = rng.normal(size=(3, 4))                      # float64
    with record_dtypes() as seen:
        gx, gw = grad(mixed, wrt=(0, 1))(x, w)
    # x * w is float64 (NumPy's promotion), so is everything computed from it
    assert np.dtype(np.float64) in seen.floats()
    assert gx.dtype == np.float32 and gw.dtype == np.float64     # each argument's dtype
    args64 = as64((x, w))
    # gx: float64 computation, rounded once to float32 at the end
    np.testing.assert_allclose(gx, numeric_grad(mixed, args64, 0), rtol=RTOL32, atol=1e-6)
    np.testing.assert_allclose(gw, numeric_grad(mixed, args64, 1), rtol=1e-7, atol=1e-9)


# -- float16 -------------------------------------------------------------------------------

def test_float16_elementwise_chain():
    x = _rng().uniform(0.5, 1.5, (3, 4)).astype(np.float16)
    check(chain16, (x,), 0, np.float16)


def test_float16_reductions():
    x = _rng().uniform(-1.0, 1.0, (3, 4)).astype(np.float16)
    check(reductions16, (x,), 0, np.float16)


def test_float16_mlp():
    check(mlp16, _mlp_args(np.float16), (0, 1, 2), np.float16)


def test_float16_rnn_loop():
    check(rnn16, _rnn_args(np.float16), (0, 1), np.float16)


def jac_f(x):
    return np.sin(x) * x


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_float32_jacobian_has_its_entries_dtype(mode):
    from s2sgrad import jacobian
    x = np.linspace(0.1, 1.0, 40).astype(np.float32)
    with record_dtypes() as seen:
        J = jacobian(jac_f, mode=mode)(x)
    assert_only(seen, np.float32)
    x64 = x.astype(np.float64)
    assert_close(J, np.diag(np.cos(x64) * x64 + np.sin(x64)), np.float32)
