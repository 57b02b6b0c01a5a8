"""Gradients of functions called with Dask arrays (s2sgrad/runtime/duck.py,
s2sgrad/ad/duck.py): the generated code builds a lazy Dask graph, nothing is computed
during the gradient call, a gradient with respect to a chunked argument keeps its
chunks, and ``.compute()`` gives the NumPy gradient and the float64 finite differences.

Threaded / synchronous schedulers only (fast); the distributed cluster is in
test_dask_cluster.py."""
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask.callbacks import Callback  # noqa: E402

import s2sgrad  # noqa: E402
from s2sgrad import LazyArrayError, grad, value_and_grad  # noqa: E402
from gradcheck import _numeric_grad_and_noise  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error::FutureWarning")   # Dask's "not implemented"


class Computes(Callback):
    """Counts the graphs Dask executes (any local scheduler)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def lazily(fn, *args):
    """``fn(*args)``, asserting that Dask computed nothing during the call."""
    with Computes() as c:
        out = fn(*args)
    assert c.count == 0, "the gradient call computed %d Dask graph(s)" % c.count
    return out


def chunked(a, parts=2):
    """A Dask array of ``a`` split into ``parts`` chunks along its first axis."""
    return da.from_array(a, chunks=(max(1, a.shape[0] // parts),) + a.shape[1:])


def _on_copies(f):
    """f called on copies of its array arguments (it may write into them)."""
    return lambda *a: f(*[x.copy() if isinstance(x, np.ndarray) else x for x in a])


def check_against_references(f, args, dask_args, wrt, rtol=1e-6, atol=1e-8):
    """grad(f) on ``dask_args`` is lazy (Dask arrays, nothing computed), keeps the chunks
    of chunked arguments, and computes to the NumPy gradient and to float64 central
    finite differences of f on the NumPy ``args``."""
    g = grad(f, wrt=wrt)
    lazy = lazily(g, *dask_args)
    assert all(isinstance(x, da.Array) for x in lazy), [type(x) for x in lazy]
    for i, x in zip(wrt, lazy):
        if isinstance(dask_args[i], da.Array):
            assert x.chunks == dask_args[i].chunks
        assert x.shape == np.shape(args[i]) and x.dtype == np.float64
    computed = dask.compute(*lazy)
    reference = grad(f, wrt=wrt)(*args)
    for i, got, ref in zip(wrt, computed, reference):
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
        num, noise = _numeric_grad_and_noise(_on_copies(f), args, i, 1e-6)
        assert np.all(np.abs(got - num) <= atol + rtol * np.abs(num) + noise), (i, got, num)
    return g


def logreg(w, X, y):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def mlp(W1, b1, W2, b2, X, Y):
    h = np.maximum(X @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def rnn(Wh, Wx, X):
    # X: (T, batch, features); a loop over time with saved states (stacks)
    h = np.zeros_like(X[0] @ Wx)
    hs = []
    for t in range(X.shape[0]):
        h = np.tanh(h @ Wh + X[t] @ Wx)
        hs.append(h)
    return np.sum(hs[-1] ** 2) + np.mean(h)


def element_writes(w, X):
    y = X * w
    y[:, 0] = y[:, 1] * 2.0
    y[[1, 3]] = 0.0
    return np.sum(y ** 2)


def contractions(A, B):
    return np.sum(np.einsum("ij,jk->ik", A, B) ** 2) + np.sum(np.tensordot(A, B, axes=1))


def reductions(w, X):
    z = X * w
    return (np.sum(np.max(z, axis=1)) + np.sum(np.abs(z))
            + np.sum(np.mean(z, axis=0, keepdims=True) ** 2) + np.sum(np.var(z, axis=1))
            + np.sum(np.std(z, axis=0)) + np.sum(np.min(z, axis=0, keepdims=True)))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_logistic_regression_is_lazy_and_right(rng):
    X = rng.normal(size=(40, 5))
    y = (rng.random(40) > 0.5).astype(float)
    w = rng.normal(size=5) * 0.3
    check_against_references(logreg, (w, X, y), (w, chunked(X, 4), chunked(y, 4)), (0,))
    # with respect to the data too (its gradient keeps the data's chunks)
    check_against_references(logreg, (w, X, y), (chunked(w, 1), chunked(X, 4),
                                                 chunked(y, 4)), (0, 1))


def test_softmax_mlp_is_lazy_and_right(rng):
    args = (rng.normal(size=(5, 8)), rng.normal(size=8), rng.normal(size=(8, 3)),
            rng.normal(size=3), rng.normal(size=(24, 5)), np.eye(3)[rng.integers(0, 3, 24)])
    dargs = args[:4] + (chunked(args[4], 3), chunked(args[5], 3))
    g = check_against_references(mlp, args, dargs, (0, 1, 2, 3))
    # the generated code is the specialized NumPy code (shapes known): no helper calls
    assert "unbroadcast" not in g.source and "np.dot(X.T, grad_h1)" in g.source


def test_rnn_over_time_with_the_batch_chunked(rng):
    X = rng.normal(size=(6, 10, 3))
    Wh, Wx = rng.normal(size=(4, 4)) * 0.3, rng.normal(size=(3, 4)) * 0.5
    Xd = da.from_array(X, chunks=(6, 5, 3))          # the batch axis in two chunks
    g = check_against_references(rnn, (Wh, Wx, X), (Wh, Wx, Xd), (0, 1))
    assert "h_stack.append(h)" in g.source            # the saved states


def test_element_writes_stay_lazy(rng):
    w, X = rng.normal(size=3), rng.normal(size=(8, 3))
    check_against_references(element_writes, (w, X), (w, chunked(X)), (0, 1))


def test_einsum_and_tensordot(rng):
    A, B = rng.normal(size=(6, 4)), rng.normal(size=(4, 5))
    check_against_references(contractions, (A, B), (chunked(A, 3), chunked(B, 2)), (0, 1))


def test_reductions_with_axis_and_keepdims(rng):
    w, X = rng.normal(size=3) + 0.1, rng.normal(size=(8, 3))
    check_against_references(reductions, (w, X), (w, chunked(X)), (0, 1))


def test_value_and_grad_is_lazy(rng):
    X = rng.normal(size=(30, 4))
    y = (rng.random(30) > 0.5).astype(float)
    w = rng.normal(size=4)
    value, g = lazily(value_and_grad(logreg), w, chunked(X, 3), chunked(y, 3))
    assert isinstance(value, da.Array) and isinstance(g, da.Array)
    v, gv = dask.compute(value, g)
    v0, g0 = value_and_grad(logreg)(w, X, y)
    assert abs(float(v) - logreg(w, X, y)) < 1e-12 and abs(float(v) - v0) < 1e-12
    np.testing.assert_allclose(gv, g0, rtol=1e-12)


def test_the_code_is_specialized_on_shape_and_dtype_not_chunks(rng):
    g = grad(logreg)
    X = rng.normal(size=(20, 3))
    y = (rng.random(20) > 0.5).astype(float)
    w = rng.normal(size=3)
    a = g(w, da.from_array(X, chunks=5), da.from_array(y, chunks=5)).compute()
    b = g(w, da.from_array(X, chunks=10), da.from_array(y, chunks=10)).compute()
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert len(g._specs) == 1                         # one code for both chunkings
    X2 = rng.normal(size=(12, 3))
    y2 = (rng.random(12) > 0.5).astype(float)
    c = g(w, da.from_array(X2, chunks=6), da.from_array(y2, chunks=6)).compute()
    np.testing.assert_allclose(c, grad(logreg)(w, X2, y2), rtol=1e-10)
    assert len(g._specs) == 2                         # another shape: other code
    # and a NumPy call of the same function is its own signature
    np.testing.assert_allclose(g(w, X, y), a, rtol=1e-10)


def test_writing_into_a_dask_argument_leaves_the_callers_array_alone(rng):
    def f(w, X):
        X[0] = X[0] * w
        return np.sum(X ** 2)

    w, X = rng.normal(size=3), rng.normal(size=(4, 3))
    Xd = chunked(X)
    before = Xd.name
    check_against_references(f, (w, X), (w, Xd), (0, 1))
    assert Xd.name == before
    np.testing.assert_array_equal(Xd.compute(), X)


def embedding(E, idx, X):
    return np.sum((E[idx] * X) ** 2) + np.sum(E[[0, 2, 2]] ** 2)


def test_scatter_add_of_a_gather_stays_lazy(rng):
    # the gradient of E[idx] adds rows at repeated indices (np.add.at for NumPy): on
    # Dask, each chunk of rows is scattered where it lives and the blocks are summed
    E, X = rng.normal(size=(5, 3)), rng.normal(size=(8, 3))
    idx = np.array([0, 2, 2, 1, 4, 0, 0, 3])
    g = check_against_references(embedding, (E, idx, X), (E, idx, chunked(X, 4)), (0, 2))
    assert "scatter_add(grad_E, idx, " in g.source
    # the indices themselves a Dask array: E[idx] on a NumPy E computes idx (in the
    # function itself), so E is a Dask array too
    Ed = da.from_array(E, chunks=(5, 3))
    got = dask.compute(*lazily(grad(embedding, wrt=(0, 2)), Ed, da.from_array(idx, chunks=3),
                               chunked(X, 4)))
    for a, b in zip(got, grad(embedding, wrt=(0, 2))(E, idx, X)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_scatter_add_without_a_lazy_form_is_refused(rng):
    def columns(E, idx, X):
        return np.sum((E[:, idx] * X) ** 2)

    E, X, idx = rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), np.array([0, 2, 2, 1])
    with pytest.raises(LazyArrayError) as info:
        grad(columns)(E, idx, chunked(X))
    text = str(info.value)
    assert "np.add.at" in text and "Dask Array" in text and "columns" in text
    assert "E[:, idx]" in text            # the statement it comes from


def test_a_function_dask_does_not_implement_is_refused(rng):
    def f(w, X):
        return np.sum(np.prod(X * w, axis=0))

    with pytest.raises(LazyArrayError) as info:
        grad(f)(rng.normal(size=3), chunked(rng.normal(size=(4, 3))))
    assert "prod_adjoint" in str(info.value) and "Dask Array" in str(info.value)


def test_unknown_chunk_sizes_and_non_float_arrays_are_clear_errors(rng):
    X = chunked(rng.normal(size=(6, 3)))
    masked = X[X[:, 0] > 0]                          # shape (nan, 3)
    with pytest.raises(s2sgrad.WrtError, match="compute_chunk_sizes"):
        grad(logreg)(np.ones(3), masked, np.ones(6))
    with pytest.raises(s2sgrad.WrtError, match="dtype int64"):
        grad(logreg, wrt=1)(np.ones(3), X.astype(np.int64), np.ones(6))


def test_vjp_and_jvp_are_lazy(rng):
    def layer(W, X):
        return np.tanh(X @ W)

    W, X = rng.normal(size=(3, 4)), rng.normal(size=(10, 3))
    Xd = chunked(X, 2)
    ct = rng.normal(size=(10, 4))
    value, pullback = lazily(s2sgrad.vjp(layer, wrt=(0, 1)), W, Xd)
    gW, gX = lazily(pullback, da.from_array(ct, chunks=(5, 4)))
    assert isinstance(value, da.Array) and isinstance(gW, da.Array)
    assert isinstance(gX, da.Array) and gX.chunks == Xd.chunks
    rv, rpb = s2sgrad.vjp(layer, wrt=(0, 1))(W, X)
    rW, rX = rpb(ct)
    np.testing.assert_allclose(value.compute(), rv, rtol=1e-12)
    np.testing.assert_allclose(gW.compute(), rW, rtol=1e-10)
    np.testing.assert_allclose(gX.compute(), rX, rtol=1e-10)
    # the pullback's ct.T @ (...) against finite differences of <ct, layer(W, X)>
    num, noise = _numeric_grad_and_noise(lambda W_: np.sum(ct * layer(W_, X)), (W,), 0, 1e-6)
    assert np.all(np.abs(gW.compute() - num) <= 1e-8 + 1e-6 * np.abs(num) + noise)

    tangent = rng.normal(size=(3, 4))
    value, jv = lazily(s2sgrad.jvp(layer, wrt=0), W, Xd, tangent)
    assert isinstance(jv, da.Array)
    rv, rjv = s2sgrad.jvp(layer, wrt=0)(W, X, tangent)
    np.testing.assert_allclose(jv.compute(), rjv, rtol=1e-10)
    h = 1e-6
    fd = (layer(W + h * tangent, X) - layer(W - h * tangent, X)) / (2 * h)
    np.testing.assert_allclose(jv.compute(), fd, rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_on_dask_data(rng):
    X = rng.normal(size=(30, 4))
    y = (rng.random(30) > 0.5).astype(float)
    w, v = rng.normal(size=4) * 0.3, rng.normal(size=4)
    hv = lazily(s2sgrad.hvp(logreg), w, chunked(X, 3), chunked(y, 3), v)
    hv = hv[1] if isinstance(hv, tuple) else hv
    ref = s2sgrad.hvp(logreg)(w, X, y, v)
    ref = ref[1] if isinstance(ref, tuple) else ref
    np.testing.assert_allclose(np.asarray(dask.compute(hv)[0]), ref, rtol=1e-10)
    # against finite differences of the gradient along v
    g = grad(logreg)
    fd = (g(w + 1e-6 * v, X, y) - g(w - 1e-6 * v, X, y)) / 2e-6
    np.testing.assert_allclose(ref, fd, rtol=1e-5, atol=1e-8)


def test_the_functions_own_numpy_forms_are_left_alone(rng):
    # np.array of a display, an in-place update of a NumPy value: the function's own
    # code, not rewritten for the Dask arguments
    def f(w, X):
        scale = np.array([1.0, 2.0, 0.5])
        shift = np.zeros(3)
        shift += 0.25
        z = X * (w * scale) + shift
        return np.sum(np.sin(z) ** 2)

    w, X = rng.normal(size=3), rng.normal(size=(6, 3))
    g = check_against_references(f, (w, X), (w, chunked(X)), (0, 1))
    assert "scale = np.array([1.0, 2.0, 0.5])" in g.source


def test_float32_dask_arguments(rng):
    # the gradient has the argument's dtype, as for NumPy arguments
    def f(w, X):
        y = X * w
        y[:, 0] = 0.0
        return np.sum(np.tanh(y) ** 2)

    w, X = rng.normal(size=3).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    gw, gX = lazily(grad(f, wrt=(0, 1)), w, chunked(X))
    rw, rX = grad(f, wrt=(0, 1))(w, X)
    assert gX.dtype == rX.dtype == np.float32 and gw.dtype == rw.dtype
    np.testing.assert_allclose(gX.compute(), rX, rtol=1e-6)
    np.testing.assert_allclose(gw.compute(), rw, rtol=1e-5)
