"""``*args``, ``**kwargs`` and keyword-only parameters, starred arguments: inlined with
the arity of each call (the callee's ``*args`` becomes the tuple of the call's extra
arguments), or, for the differentiated function itself, bound as ``inspect`` binds
them (``*args`` is one parameter holding a tuple, its gradient a tuple).  Starred
arguments over shapes or other non-differentiated data run as they are."""
import numpy as np
import pytest

from s2sgrad import grad, value_and_grad
from s2sgrad.errors import UnsupportedSyntaxError
from gradcheck import check_grad, numeric_grad

rng = np.random.default_rng(41)


def concat(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def weighted_norms(weights, *args, scale=1.0, **kwargs):
    total = 0.0
    for w, a in zip(weights, args):
        total = total + w * np.sum(a ** 2)
    if 'bias' in kwargs:
        total = total + kwargs['bias']
    return scale * total + kwargs.get('offset', 0.0)


def norms_of(*args, **kwargs):
    return weighted_norms(*args, **kwargs)


def concat_of(*args, **kwargs):
    return concat(*args, **kwargs)


def layer(x, w, *, activation='relu', leak=0.01):
    a = x @ w
    if activation == 'relu':
        return np.maximum(a, leak * a)
    return np.tanh(a)


def uses_varargs(x, y):
    return np.sum(concat(x, y * 2, x) ** 2) + np.sum(concat(x[None], y[None], axis=1))


def uses_kwargs(x, y):
    return weighted_norms([1.0, 2.0], x, y, scale=3.0, bias=np.sum(x * y))


def forwards_everything(x, y):
    pair = (x, y)
    return norms_of([0.5, 1.5], *pair, offset=np.sum(y ** 3)) + \
        np.sum(concat_of(*[x, y]) ** 2) + np.sum(concat_of(x, y, **{'axis': 0}))


def keyword_only(x, w):
    return np.sum(layer(x, w) ** 2) + np.sum(layer(x, w, activation='tanh')) + \
        np.sum(layer(x, w, leak=0.2))


@pytest.mark.parametrize("f", [uses_varargs, uses_kwargs, forwards_everything],
                         ids=lambda f: f.__name__)
def test_inlined_with_the_arity_of_the_call(f):
    check_grad(f, (rng.normal(size=4), rng.normal(size=4)), wrt=(0, 1))


def test_keyword_only_parameters_of_a_callee():
    check_grad(keyword_only, (rng.normal(size=(3, 4)), rng.normal(size=(4, 2))), wrt=(0, 1))


def loss_with_options(W, X, y, *, reg=0.1, margin=1.0):
    scores = X @ W
    correct = scores[np.arange(X.shape[0]), y][:, None]
    m = np.maximum(0, scores - correct + margin)
    m[np.arange(X.shape[0]), y] = 0
    return np.sum(m) / X.shape[0] + reg * np.sum(W * W)


def test_keyword_only_parameters_of_the_differentiated_function():
    W, X, y = rng.normal(size=(5, 3)) * 0.1, rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    g = grad(loss_with_options)
    for reg in (0.1, 0.5):
        ours = g(W, X, y, reg=reg)
        num = numeric_grad(lambda W: loss_with_options(W, X, y, reg=reg), (W,), 0)
        np.testing.assert_allclose(ours, num, rtol=1e-6, atol=1e-8)
    # a keyword-only parameter named in wrt
    d_reg = grad(loss_with_options, wrt="reg")(W, X, y, reg=0.3)
    assert np.isclose(d_reg, np.sum(W * W), rtol=1e-12)


def total(x, *rest, reg=0.1, **extra):
    s = reg * np.sum(x ** 2)
    for r in rest:
        s = s + np.sum(r * x)
    return s + extra.get('shift', 0.0) * np.sum(x)


def test_varargs_and_kwargs_of_the_differentiated_function():
    x, a, b = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    g = grad(total)
    np.testing.assert_allclose(g(x, a, b, reg=0.5, shift=2.0), x + a + b + 2.0, rtol=1e-12)
    np.testing.assert_allclose(g(x, a), 0.2 * x + a, rtol=1e-12)      # a new arity
    np.testing.assert_allclose(g(x), 0.2 * x, rtol=1e-12)
    # wrt names *args (a tuple of gradients) and a keyword-only parameter
    dx, drest, dreg = grad(total, wrt=(0, "rest", "reg"))(x, a, b, reg=0.5)
    assert isinstance(drest, tuple) and len(drest) == 2
    for d in drest:
        np.testing.assert_allclose(d, x, rtol=1e-12)
    assert np.isclose(dreg, np.sum(x ** 2), rtol=1e-12)
    value, dx = value_and_grad(total)(x, a, shift=1.0)
    assert np.isclose(value, total(x, a, shift=1.0))
    np.testing.assert_allclose(dx, 0.2 * x + a + 1.0, rtol=1e-12)


def passes_its_varargs_on(x, *ws):
    return np.sum(concat(x, *ws) ** 2) + weighted_norms((1.0, 2.0), *ws)


def test_starred_varargs_of_the_differentiated_function_are_spread():
    x, a, b = rng.normal(size=3), rng.normal(size=2), rng.normal(size=4)
    dx, dws = grad(passes_its_varargs_on, wrt=(0, 1))(x, a, b)
    np.testing.assert_allclose(dx, 2 * x, rtol=1e-12)
    np.testing.assert_allclose(dws[0], 2 * a + 2 * a, rtol=1e-12)
    np.testing.assert_allclose(dws[1], 2 * b + 4 * b, rtol=1e-12)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    mask = None
    out = None
    if mode == 'train':
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == 'test':
        out = x
    out = out.astype(x.dtype, copy=False)
    return out, (dropout_param, mask)


def dropout_loss(x, w, dropout_param):
    out, cache = dropout_forward(x @ w, dropout_param)
    return np.sum(np.tanh(out))


def test_starred_shape_arguments_run_as_they_are():
    # np.random.rand(*x.shape): no gradient question; the seed makes the mask repeatable
    x, w = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    for mode in ("train", "test"):
        param = {'p': 0.6, 'mode': mode, 'seed': 3}
        check_grad(dropout_loss, (x, w, param), wrt=(0, 1))


# -- refusals -------------------------------------------------------------------

def spreads_an_unknown_list(x, n):
    parts = [x[i] for i in range(n)]
    return np.sum(np.maximum(*parts))


def spreads_an_unknown_list_into_a_callee(x, n):
    parts = [x[i] for i in range(n)]
    return np.sum(concat(*parts))


def test_a_starred_argument_of_unknown_length_is_a_clear_error():
    x = rng.normal(size=(2, 3))
    with pytest.raises(UnsupportedSyntaxError, match=r"starred argument '\*parts' passes "
                                                     r"differentiated values"):
        grad(spreads_an_unknown_list)(x, 2)
    with pytest.raises(UnsupportedSyntaxError, match=r"starred argument '\*parts' in the call "
                                                     r"to 'concat'") as info:
        grad(spreads_an_unknown_list_into_a_callee)(x, 2)
    assert "return np.sum(concat(*parts))" in str(info.value)


def test_calls_that_do_not_match_the_signature_are_errors():
    def too_many(x):
        return np.sum(layer(x, x, 'tanh'))

    def unknown_keyword(x):
        return np.sum(layer(x, x, slope=1.0))

    with pytest.raises(UnsupportedSyntaxError, match="too many arguments in the call to 'layer'"):
        grad(too_many)(rng.normal(size=(2, 2)))
    with pytest.raises(UnsupportedSyntaxError, match="unsupported keyword argument 'slope'"):
        grad(unknown_keyword)(rng.normal(size=(2, 2)))
