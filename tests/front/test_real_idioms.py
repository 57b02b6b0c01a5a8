"""The idioms of real course and tutorial code, unmodified: ``bn_param.get(...)`` and
running averages written into the same dict, dict methods interleaved with writes, the walrus, imports inside the function,
``assert``, ``print`` and ``logging`` (once per call), size-1 outputs taken as scalars,
``np.atleast_2d(a, b)``, vectorized convolution and pooling with
``sliding_window_view``, and branches the first call did not take, compiled lazily
(``max_pool_forward_fast`` names an undefined ``im2col`` on a path it never takes)."""
import logging
import sys

import numpy as np
import pytest

from s2sgrad import grad, value_and_grad
from s2sgrad.errors import UnsupportedCallError, UnsupportedSyntaxError
from gradcheck import check_grad, numeric_grad

rng = np.random.default_rng(2024)


# -- batchnorm as the course writes it ------------------------------------------------

def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)

    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == 'train':
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, sample_var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == 'test':
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward_alt(dout, cache):
    x_hat, gamma, var, eps = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)) \
        / (N * np.sqrt(var + eps))
    return dx, dgamma, dbeta


def bn_loss(x, gamma, beta, bn_param, dout):
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    return np.sum(out * dout)


def test_batchnorm_gradient_matches_the_handwritten_backward():
    x, gamma, beta = rng.normal(size=(8, 4)) * 2 + 1, rng.normal(size=4), rng.normal(size=4)
    dout = rng.normal(size=(8, 4))
    bn_param = {'mode': 'train'}
    dx, dgamma, dbeta = grad(bn_loss, wrt=(0, 1, 2))(x, gamma, beta, bn_param, dout)
    _, cache = batchnorm_forward(x, gamma, beta, {'mode': 'train'})
    for ours, theirs in zip((dx, dgamma, dbeta), batchnorm_backward_alt(dout, cache)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    check_grad(bn_loss, (x, gamma, beta, {'mode': 'train'}, dout), wrt=(0, 1, 2))
    check_grad(bn_loss, (x, gamma, beta, {'mode': 'test', 'running_mean': x.mean(axis=0),
                                          'running_var': x.var(axis=0)}, dout), wrt=(0, 1, 2))


def test_bn_param_written_in_the_forward_pass_is_read_back_as_python_reads_it():
    # the forward pass adds 'running_mean' / 'running_var' to bn_param: the backward
    # pass replays the .get() branches on the dict as it was before the writes, and
    # the caller's dict holds, after each call, what a call of batchnorm_forward
    # leaves in it (Python's semantics)
    x = rng.normal(size=(8, 4)) * 3 + 2
    g = grad(bn_loss, wrt=(0, 1))
    bn_param = {'mode': 'train'}
    twin = {'mode': 'train'}
    for step in range(21):
        dx, dgamma = g(x, np.ones(4), np.zeros(4), bn_param, np.ones((8, 4)) * step)
        batchnorm_forward(x, np.ones(4), np.zeros(4), twin)
        assert set(bn_param) == set(twin) == {'mode', 'running_mean', 'running_var'}
        for k in ('running_mean', 'running_var'):
            np.testing.assert_allclose(bn_param[k], twin[k], rtol=1e-13)
        np.testing.assert_allclose(dx, 0.0, atol=1e-9)       # a constant dout: no dx
    assert len(g._specs) <= 2      # (the keys the first call adds: one more signature)
    stats = {'mode': 'test', 'running_mean': x.mean(axis=0), 'running_var': x.var(axis=0)}
    dx, dgamma = g(x, np.ones(4), np.zeros(4), stats, np.ones((8, 4)))
    np.testing.assert_allclose(dx, np.ones((8, 4)) / np.sqrt(x.var(axis=0) + 1e-5),
                               rtol=1e-12)
    assert set(stats) == {'mode', 'running_mean', 'running_var'}


def two_layer_bn_net(W1, b1, gamma, beta, W2, b2, X, y, bn_param):
    h, _ = batchnorm_forward(X @ W1 + b1, gamma, beta, bn_param)
    h = np.maximum(h, 0)
    scores = h @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(X.shape[0]), y].mean()


def test_training_a_batchnorm_net_for_20_steps():
    X = rng.normal(size=(16, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = [rng.normal(size=(5, 6)) * 0.5, np.zeros(6), np.ones(6), np.zeros(6),
              rng.normal(size=(6, 2)) * 0.5, np.zeros(2)]
    bn_param = {'mode': 'train'}
    twin = {'mode': 'train'}
    g = value_and_grad(two_layer_bn_net, wrt=(0, 1, 2, 3, 4, 5))
    losses = []
    for step in range(20):
        before = dict(bn_param)
        loss, grads = g(*params, X, y, bn_param)
        assert loss == pytest.approx(two_layer_bn_net(*params, X, y, twin), rel=1e-12)
        losses.append(loss)
        if step % 7 == 0:
            for i, d in enumerate(grads):
                num = numeric_grad(lambda *a: two_layer_bn_net(*a, X, y, dict(before)),
                                   params, i)
                np.testing.assert_allclose(d, num, rtol=1e-5, atol=1e-7)
        params = [p - 0.5 * d for p, d in zip(params, grads)]
    assert losses[-1] < 0.5 * losses[0]
    # the running statistics the forward passes wrote, as the plain calls left them
    assert set(bn_param) == set(twin) == {'mode', 'running_mean', 'running_var'}
    for k in ('running_mean', 'running_var'):
        np.testing.assert_allclose(bn_param[k], twin[k], rtol=1e-12)


# -- dict methods alongside writes ----------------------------------------------------

def dict_methods(x, params):
    grads = {}
    grads.update(params)
    grads.update(scale=params['w'] * 2.0)
    grads.setdefault('w', x)                  # present: no change
    extra = grads.setdefault('extra', x * 3.0)
    total = sum(np.sum(v ** 2) for v in grads.values())
    for name, value in grads.items():
        total = total + np.sum(value) * len(name)
    first = list(grads.values())[0]
    return total + np.sum(first * extra) + np.sum(grads.get('missing', x)) * 0.5 + \
        np.sum(grads.get('b') * x)


def test_dict_methods_interleaved_with_writes():
    x = rng.normal(size=3)
    params = {'w': rng.normal(size=3), 'b': rng.normal(size=3)}
    check_grad(dict_methods, (x, params), wrt=0)
    dparams = grad(dict_methods, wrt=1)(x, params)
    for key in params:
        def f(v, key=key):
            p = dict(params)
            p[key] = v
            return dict_methods(x, p)
        np.testing.assert_allclose(dparams[key], numeric_grad(f, (params[key],), 0),
                                   rtol=1e-6, atol=1e-8)


# -- walrus, imports, assert, print and logging --------------------------------------

def with_walrus(x):
    if (n := np.sum(x ** 2)) > 1.0:
        x = x / np.sqrt(n)
    steps = 0
    while (r := np.sum(x * x)) > 0.1 and steps < 50:
        x = x * 0.9
        steps += 1
    return r + n


def walrus_that_may_not_run(x):
    if np.sum(x) > 0 and (m := np.max(x)) > 1:
        return m
    return np.sum(x)


def test_walrus():
    check_grad(with_walrus, (rng.normal(size=4),))
    with pytest.raises(UnsupportedSyntaxError, match=r"assignment expression \(:=\) that "
                                                     r"may not run"):
        grad(walrus_that_may_not_run)(rng.normal(size=4))


def helper_with_its_own_import(v):
    import math as m
    from numpy import tanh as th
    return th(v) * m.e


def imports_inside(x):
    import numpy.linalg
    from math import pi
    from scipy import special
    if x.ndim == 1:
        import math
        x = x * math.sqrt(2.0)
    return numpy.linalg.norm(x) * pi + np.sum(special.expit(x)) + \
        np.sum(helper_with_its_own_import(x))


def test_imports_inside_the_function():
    pytest.importorskip("scipy")
    check_grad(imports_inside, (rng.normal(size=5),))


log = logging.getLogger("s2sgrad.tests.real_idioms")


def reports(x, w):
    assert x.ndim == 2, "x must be a batch"
    assert np.all(np.isfinite(w))
    scores = x @ w
    loss = np.sum(np.tanh(scores) ** 2)
    print("loss %.6f" % loss)
    log.info("scores %s", scores.shape)
    logging.debug("debug %s", loss)
    return loss


def test_assert_print_and_logging_run_once_per_call(capsys, caplog):
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    g = grad(reports, wrt=1)
    with caplog.at_level(logging.INFO, logger="s2sgrad.tests.real_idioms"):
        for call in range(3):
            g(x, w)
            out = capsys.readouterr().out
            assert out == "loss %.6f\n" % np.sum(np.tanh(x @ w) ** 2)
            assert [r.getMessage() for r in caplog.records] == ["scores (4, 2)"]
            caplog.clear()
    with pytest.raises(AssertionError, match="x must be a batch"):
        g(x[0], w)
    capsys.readouterr()
    check_grad(reports, (x, w), wrt=1)


# -- size-1 outputs, several arrays to atleast_2d ----------------------------------

def score_of_one(x, w):
    return x[:1] @ w                  # shape (1,)


def matrix_of_one(x):
    return np.sum(x ** 3, keepdims=True).reshape(1, 1) / 3.0


def test_size_one_outputs_are_scalars():
    x, w = rng.normal(size=(3, 4)), rng.normal(size=4)
    dx, dw = grad(score_of_one, wrt=(0, 1))(x, w)
    expected = np.zeros_like(x)
    expected[0] = w
    np.testing.assert_allclose(dx, expected, rtol=1e-12)
    np.testing.assert_allclose(dw, x[0], rtol=1e-12)
    value, d = value_and_grad(matrix_of_one)(x)
    assert np.shape(value) == (1, 1)
    np.testing.assert_allclose(d, x ** 2, rtol=1e-12)
    check_grad(matrix_of_one, (x,))


def outer_of_promoted(a, b, c):
    A, B = np.atleast_2d(a, b)
    u, v, s = np.atleast_1d(a, b, c)
    (T,) = [np.atleast_3d(a)]
    return np.sum(A.T @ B) + np.sum(u * v) * s[0] + np.sum(T ** 2)


def test_atleast_nd_of_several_arrays():
    check_grad(outer_of_promoted, (rng.normal(size=3), rng.normal(size=3), 0.7), wrt=(0, 1, 2))


# -- vectorized convolution and pooling (sliding_window_view) ----------------------------

def conv_forward_strides(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    F, C, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    out = np.einsum('nchwij,fcij->nfhw', windows, w) + b[None, :, None, None]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = xp[n, :, hs:hs + HH, ws:ws + WW]
                    dw[f] += window * dout[n, f, i, j]
                    dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def max_pool_forward_strides(x, pool_param):
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))
    out = windows[:, :, ::stride, ::stride].max(axis=(-2, -1))
    return out, (x, pool_param)


def conv_pool_loss(x, w, b, dout):
    a, _ = conv_forward_strides(x, w, b, {'stride': 1, 'pad': 1})
    out, _ = max_pool_forward_strides(np.maximum(a, 0), {'pool_height': 2, 'pool_width': 2,
                                                         'stride': 2})
    return np.sum(out * dout)


def conv_loss(x, w, b, dout, conv_param):
    out, _ = conv_forward_strides(x, w, b, conv_param)
    return np.sum(out * dout)


@pytest.mark.parametrize("stride, pad", [(1, 1), (2, 1), (2, 0)])
def test_vectorized_conv_matches_the_naive_backward(stride, pad):
    x, w, b = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    conv_param = {'stride': stride, 'pad': pad}
    out, cache = conv_forward_strides(x, w, b, conv_param)
    dout = rng.normal(size=out.shape)
    ours = check_grad(conv_loss, (x, w, b, dout, conv_param), wrt=(0, 1, 2))
    for a, t in zip(ours, conv_backward_naive(dout, cache)):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)


def test_conv_relu_pool():
    x, w, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    check_grad(conv_pool_loss, (x, w, b, rng.normal(size=(2, 4, 3, 3))), wrt=(0, 1, 2))


# -- branches the first call did not take -------------------------------------------

def max_pool_forward_reshape(x, pool_param):
    N, C, H, W = x.shape
    pool_height, pool_width = pool_param['pool_height'], pool_param['pool_width']
    stride = pool_param['stride']
    assert pool_height == pool_width == stride, 'Invalid pool params'
    assert H % pool_height == 0
    assert W % pool_height == 0
    x_reshaped = x.reshape(N, C, H // pool_height, pool_height, W // pool_width, pool_width)
    out = x_reshaped.max(axis=3).max(axis=4)
    cache = (x, x_reshaped, out)
    return out, cache


def max_pool_forward_fast(x, pool_param):
    N, C, H, W = x.shape
    pool_height, pool_width = pool_param['pool_height'], pool_param['pool_width']
    stride = pool_param['stride']

    same_size = pool_height == pool_width == stride
    tiles = H % pool_height == 0 and W % pool_width == 0
    if same_size and tiles:
        out, reshape_cache = max_pool_forward_reshape(x, pool_param)
        cache = ('reshape', reshape_cache)
    else:
        out, im2col_cache = max_pool_forward_im2col(x, pool_param)  # noqa: F821
        cache = ('im2col', im2col_cache)
    return out, cache


def fast_pool_loss(x, pool_param):
    out, _ = max_pool_forward_fast(x, pool_param)
    return np.sum(out ** 2)


def test_a_branch_naming_an_undefined_function_is_compiled_lazily():
    x = rng.normal(size=(2, 3, 4, 4))
    pool = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
    g = grad(fast_pool_loss)
    dx = g(x, pool)
    np.testing.assert_allclose(dx, numeric_grad(fast_pool_loss, (x, pool), 0),
                               rtol=1e-6, atol=1e-8)
    assert "max_pool_forward_im2col" in g.source
    # the branch runs: Python's own error
    with pytest.raises(NameError, match="name 'max_pool_forward_im2col' is not defined"):
        g(x, {'pool_height': 3, 'pool_width': 3, 'stride': 1})


def unwrapped_if_asked(x, unwrap):
    if unwrap:
        return np.sum(np.unwrap(x) ** 2)
    return np.sum(x ** 2)


def test_a_branch_without_a_derivative_fails_only_when_it_runs():
    x = rng.normal(size=4)
    g = grad(unwrapped_if_asked)
    np.testing.assert_allclose(g(x, False), 2 * x)
    with pytest.raises(UnsupportedCallError, match="np.unwrap") as info:
        g(x, True)
    assert "np.sum(np.unwrap(x) ** 2)" in str(info.value)


# -- generators ------------------------------------------------------------------------

def layer_pairs(params):
    for W, b in params:
        yield W, b


def penalties(weights, l1=0.5):
    for w in weights:
        yield np.sum(w ** 2)
    yield from (l1 * np.sum(np.abs(w)) for w in weights)


def minibatches(x, size):
    for i in range(0, x.shape[0], size):
        yield x[i:i + size]


def net_with_generators(W1, W2, x):
    h = x
    for W, b in layer_pairs([(W1, 0.1), (W2, 0.2)]):
        h = np.tanh(h @ W + b)
    total = sum(np.sum(batch ** 2) for batch in minibatches(x @ W1, 2))
    each = list(penalties([W1, W2]))
    return np.sum(h) + sum(penalties([W1, W2], l1=0.1)) + total + each[0] * each[3]


def test_generators_consumed_by_loops_sum_list_and_comprehensions():
    args = (rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(5, 3)))
    check_grad(net_with_generators, args, wrt=(0, 1, 2))


def echo(x):
    received = yield x
    yield received


def uses_a_coroutine(x):
    return sum(echo(x))


def test_a_generator_receiving_values_is_refused():
    with pytest.raises(UnsupportedSyntaxError, match="'yield' used as a value"):
        grad(uses_a_coroutine)(1.0)


# -- grad inside the differentiated function ------------------------------------------

def energy(x, w):
    return np.sum(np.tanh(x @ w) ** 2)


def input_gradient_penalty(w, x):
    gx = grad(energy)(x, w)                       # d energy / d x, as a value
    return np.sum(gx ** 2) + 0.1 * np.sum(w ** 2)


def weight_gradient_inner_product(w, x):
    dw = grad(energy, wrt=1)
    return np.sum(dw(x, w) * w)


def test_grad_called_inside_the_differentiated_function():
    w, x = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    check_grad(input_gradient_penalty, (w, x), wrt=(0, 1), rtol=1e-5)
    check_grad(weight_gradient_inner_product, (w, x), wrt=(0, 1), rtol=1e-5)


def meta_step(w, x, lr):
    # one inner SGD step, then the loss at the new weights (MAML-style)
    w_new = w - lr * grad(energy, wrt=1)(x, w)
    return energy(x, w_new)


def test_a_training_step_differentiated_through():
    w, x = rng.normal(size=(3, 2)) * 0.5, rng.normal(size=(4, 3))
    g = grad(meta_step)
    for _ in range(20):
        d = g(w, x, 0.1)
        w = w - 0.05 * d
    num = numeric_grad(meta_step, (w, x, 0.1), 0)
    np.testing.assert_allclose(g(w, x, 0.1), num, rtol=1e-5, atol=1e-8)


# -- a name that one of several sibling branches may assign first ----------------------

def sibling_branches(x, a, b):
    y = x
    if a:
        y = np.sin(x)
    if b:
        z = np.cos(x)
    if not b:
        z = np.tanh(x) * y
    if a:
        z = z * np.exp(x)
    return np.sum(z)


@pytest.mark.parametrize("a", [True, False])
@pytest.mark.parametrize("b", [True, False])
def test_a_name_first_assigned_in_one_of_several_branches(a, b):
    # (the value saved for the backward pass was read before any branch had assigned
    # it: UnboundLocalError whenever the first branch was not taken)
    check_grad(sibling_branches, (rng.normal(size=3), a, b))
