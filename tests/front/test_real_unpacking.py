"""Tuple assignment as real course code writes it: the layer template's
``out, cache = None, None`` re-assigned under ``if mode == 'train':``, step functions
returning ``(h, cache)`` inlined in a loop over time with the caches appended to a
list, nested targets ``h, (c, x) = ...``, star-unpacking ``first, *mid, last = xs``,
element targets ``y[0], y[1] = u, v`` and swaps.  Each gradient is compared with the
hand-written backward pass of the course (where there is one) and with finite
differences."""
import numpy as np
import pytest

from s2sgrad import grad
from gradcheck import check_grad

rng = np.random.default_rng(14)


# -- a course layer library: forward functions returning (out, cache) --------------

def affine_forward(x, w, b):
    out = None
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param['eps']
    momentum = bn_param['momentum']
    N, D = x.shape
    running_mean = bn_param['running_mean']
    running_var = bn_param['running_var']

    out, cache = None, None
    if mode == 'train':
        sample_mean = np.mean(x, axis=0)
        sample_var = np.var(x, axis=0)
        x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_hat + beta
        cache = (x, x_hat, sample_mean, sample_var, gamma, eps)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == 'test':
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    return out, cache


def batchnorm_backward(dout, cache):
    x, x_hat, mean, var, gamma, eps = cache
    N = x.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    inv = 1.0 / np.sqrt(var + eps)
    dx = inv / N * (N * dx_hat - np.sum(dx_hat, axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0))
    return dx, dgamma, dbeta


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    a, fc_cache = affine_forward(x, w, b)
    an, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    cache = (fc_cache, bn_cache, relu_cache)
    return out, cache


def affine_bn_relu_backward(dout, cache):
    fc_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = batchnorm_backward(dan, bn_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def bn_layer_loss(x, w, b, gamma, beta, bn_param, dout):
    out, cache = affine_bn_relu_forward(x, w, b, gamma, beta, bn_param)
    return np.sum(out * dout)


def _bn_param(mode):
    return {'mode': mode, 'eps': 1e-5, 'momentum': 0.9,
            'running_mean': rng.normal(size=5), 'running_var': rng.uniform(0.5, 2.0, size=5)}


@pytest.mark.parametrize("mode", ["train", "test"])
def test_affine_bn_relu_matches_the_handwritten_backward(mode):
    x, w, b = rng.normal(size=(6, 2, 2)), rng.normal(size=(4, 5)), rng.normal(size=5)
    gamma, beta, dout = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(6, 5))
    bn_param = _bn_param(mode)
    args = (x, w, b, gamma, beta, bn_param, dout)
    ours = check_grad(bn_layer_loss, args, wrt=(0, 1, 2, 3, 4))
    if mode == "train":
        out, cache = affine_bn_relu_forward(x, w, b, gamma, beta, bn_param)
        theirs = affine_bn_relu_backward(dout, cache)
        for a, t in zip(ours, theirs):
            np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)


def test_the_same_gradient_function_serves_both_modes():
    # 'test' after 'train': the branch the first call did not take is differentiated too
    x, w, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    gamma, beta, dout = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(6, 5))
    g = grad(bn_layer_loss, wrt=(0, 3))
    for mode in ("train", "test", "train"):
        bp = _bn_param(mode)
        dx, dgamma = g(x, w, b, gamma, beta, bp, dout)
        check = check_grad(bn_layer_loss, (x, w, b, gamma, beta, bp, dout), wrt=(0, 3))
        np.testing.assert_allclose(dx, check[0], rtol=1e-12)
        np.testing.assert_allclose(dgamma, check[1], rtol=1e-12)


def test_an_invalid_mode_raises_as_python_does():
    x, w, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    gamma, beta, dout = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(6, 5))
    with pytest.raises(ValueError, match="Invalid forward batchnorm mode"):
        grad(bn_layer_loss)(x, w, b, gamma, beta, _bn_param("eval"), dout)


# -- a vanilla RNN over time: the step function inlined in the loop ---------------

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h, cache = None, None
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), np.sum(da, axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    h, cache = None, None
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    for t in range(T):
        next_h, cache_t = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = next_h
        cache.append(cache_t)
        prev_h = next_h
    return h, cache


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev, dWx, dWh, db


def rnn_loss(x, h0, Wx, Wh, b, dh):
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    return np.sum(h * dh)


def _rnn_args(N=3, T=5, D=4, H=6):
    return (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)) * 0.5,
            rng.normal(size=(D, H)) * 0.4, rng.normal(size=(H, H)) * 0.4,
            rng.normal(size=H) * 0.1, rng.normal(size=(N, T, H)))


def test_rnn_forward_over_time_matches_rnn_backward():
    args = _rnn_args()
    ours = check_grad(rnn_loss, args, wrt=(0, 1, 2, 3, 4))
    h, cache = rnn_forward(*args[:5])
    theirs = rnn_backward(args[5], cache)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    next_h, next_c, cache = None, None, None
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = 1 / (1 + np.exp(-a[:, :H]))
    f = 1 / (1 + np.exp(-a[:, H:2 * H]))
    o = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_forward(x, h0, Wx, Wh, b):
    h, cache = None, None
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = np.zeros((N, H))
    prev_h = h0
    cache = []
    for t in range(T):
        prev_h, c, (x_t, *_, next_c) = lstm_step_forward(x[:, t, :], prev_h, c, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(next_c)
    return h, cache


def lstm_loss(x, h0, Wx, Wh, b, dh):
    h, cells = lstm_forward(x, h0, Wx, Wh, b)
    return np.sum(h * dh) + 0.1 * np.sum(cells[-1] ** 2)


def test_lstm_over_time_with_nested_and_starred_targets():
    N, T, D, H = 2, 4, 3, 5
    args = (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)) * 0.5,
            rng.normal(size=(D, 4 * H)) * 0.4, rng.normal(size=(H, 4 * H)) * 0.4,
            rng.normal(size=4 * H) * 0.1, rng.normal(size=(N, T, H)))
    check_grad(lstm_loss, args, wrt=(0, 1, 2, 3, 4))


def test_training_an_rnn_for_25_steps():
    N, T, D, H = 4, 6, 3, 5
    x = rng.normal(size=(N, T, D))
    target = np.sin(np.cumsum(x, axis=1))[:, :, :1] * np.ones((1, 1, H)) * 0.5
    h0 = np.zeros((N, H))
    params = [rng.normal(size=(D, H)) * 0.3, rng.normal(size=(H, H)) * 0.3, np.zeros(H)]

    def loss(Wx, Wh, b):
        h, cache = rnn_forward(x, h0, Wx, Wh, b)
        diff = h - target
        return 0.5 * np.sum(diff * diff) / N

    g = grad(loss, wrt=(0, 1, 2))
    first = loss(*params)
    for step in range(25):
        grads = g(*params)
        if step % 8 == 0:
            # the hand-written backward pass agrees on every checked step
            h, cache = rnn_forward(x, h0, *params)
            _, _, dWx, dWh, db = rnn_backward((h - target) / N, cache)
            for a, t in zip(grads, (dWx, dWh, db)):
                np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)
        params = [p - 0.1 * dp for p, dp in zip(params, grads)]
    assert loss(*params) < 0.8 * first


# -- the unpacking forms on their own ----------------------------------------------

def reassigned_in_a_loop(x):
    a, b = None, None
    h = x
    for i in range(3):
        a, b = np.tanh(h), h * 2
        h, a = a + b, h
    return np.sum(a * h + b)


def swap_and_element_targets(x):
    y = np.zeros(3)
    y[0], y[2] = x[0, 0] * 2, x[1, 1] ** 2
    a, b = x[0], x[1]
    a, b = b, a * 3
    return np.sum(y ** 2) + np.sum(a * 3 + b * b)


def star_unpacking(x):
    first, *mid, last = x
    a, *rest = [first * 2, np.sin(last), mid[0]]
    *init, end = rest
    return np.sum(a * end) + np.sum(init[0] ** 2) + np.sum(first * last)


def nested_targets(x, y):
    pairs = [(x, y), (y * x, x + 1)]
    (a, b), (c, d) = pairs
    p, (q, r) = np.sum(a), (b, c * d)
    return p * np.sum(q + r)


@pytest.mark.parametrize("f", [reassigned_in_a_loop, swap_and_element_targets, star_unpacking], ids=lambda f: f.__name__)
def test_unpacking_forms(f):
    check_grad(f, (rng.normal(size=(4, 3)),))


def test_nested_targets():
    check_grad(nested_targets, (rng.normal(size=3), rng.normal(size=3)), wrt=(0, 1))


def test_star_unpacking_keeps_python_semantics():
    # the starred name is a list of the rows in between (as Python gives it)
    def f(x):
        first, *mid, last = x
        assert isinstance(mid, list) and len(mid) == x.shape[0] - 2
        return np.sum(first) + np.sum(last) * 2 + 3 * sum(np.sum(m) for m in mid)
    x = rng.normal(size=(5, 2))
    g = grad(f)(x)
    expected = np.full_like(x, 3.0)
    expected[0], expected[-1] = 1.0, 2.0
    np.testing.assert_allclose(g, expected, rtol=0, atol=0)
