"""Lists and dicts a differentiated function writes into (``bn_param['running_mean'] =
...``, ``log.append(...)``, a dict inside an object's list) hold, after the call, what a
call of the function itself leaves there -- Python's semantics -- in every transform;
the gradients are checked against finite differences at the state before the call."""
import copy

import numpy as np
import pytest

from s2sgrad import grad, jvp, value_and_grad, vjp
from gradcheck import numeric_grad

rng = np.random.default_rng(14)


def running_stats(x, w, bn):
    h = x @ w
    mean = h.mean(axis=0)
    bn['running_mean'] = 0.9 * bn.get('running_mean', np.zeros_like(mean)) + 0.1 * mean
    bn['calls'] = bn.get('calls', 0) + 1
    history = bn.setdefault('history', [])
    history.append(float(mean[0]))
    return np.sum((h - mean) ** 2)


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    elif isinstance(a, (float, complex, np.floating, np.complexfloating)):
        assert a == pytest.approx(b, rel=1e-13)
    else:       # (ints, strings, None, bools: equal; newer pytest refuses approx of a str)
        assert a == b


def _checked(f, args, i, got):
    want = numeric_grad(lambda v: f(*[v if k == i else copy.deepcopy(a)
                                      for k, a in enumerate(args)]), (args[i],), 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "generic"])
def test_a_dict_argument_keeps_what_the_forward_pass_wrote(transform):
    x, w = rng.normal(size=(6, 3)), rng.normal(size=(3, 2))
    bn, twin = {}, {}
    history = None
    for step in range(4):
        before = copy.deepcopy(bn)
        if transform == "grad":
            got = grad(running_stats, wrt=1)(x, w, bn)
        elif transform == "value_and_grad":
            value, got = value_and_grad(running_stats, wrt=1)(x, w, bn)
            assert value == pytest.approx(running_stats(x, w, copy.deepcopy(before)))
        elif transform == "vjp":
            value, pullback = vjp(running_stats, wrt=1)(x, w, bn)
            got = pullback(1.0)
        else:
            got = grad(running_stats, wrt=1)._generic().function(x, w, bn)
        running_stats(x, w, twin)
        _same(bn, twin)
        assert bn['calls'] == step + 1
        if history is None:
            history = bn['history']
        assert bn['history'] is history      # the caller's list, appended to
        if got is not None:
            _checked(running_stats, (x, w, before), 1, got)


def counting(x, w, stats, log):
    stats['calls'] = stats.get('calls', 0) + 1
    stats['mode'] = 'train' if stats['calls'] < 3 else 'eval'
    log.append(stats['calls'])
    return np.sum(np.tanh(x @ w))


def test_forward_mode_too():
    x, w = rng.normal(size=(6, 3)), rng.normal(size=(3, 2))
    t = rng.normal(size=w.shape)
    stats, log = {}, []
    f = jvp(counting, wrt=1)
    for step in range(4):
        value, tangent = f(x, w, stats, log, t)
        assert stats == {'calls': step + 1, 'mode': 'train' if step < 2 else 'eval'}
        assert log == list(range(1, step + 2))
        eps = 1e-6
        want = (counting(x, w + eps * t, {}, []) - counting(x, w - eps * t, {}, [])) / (2 * eps)
        assert tangent == pytest.approx(want, rel=1e-6)


def into_list(x, log, layers):
    y = np.tanh(x)
    log.append(float(np.sum(y)))
    for layer in layers:
        y = y * layer['scale']
        layer['seen'] = layer.get('seen', 0) + 1
        layer['step'] = len(log)
    return np.sum(y ** 2)


def test_lists_and_dicts_in_lists_are_the_callers_own_objects_after_the_call():
    x = rng.normal(size=4)
    log = []
    layers = [{'scale': 2.0}, {'scale': 0.5}]
    inner = list(layers)
    twin_log, twin_layers = [], copy.deepcopy(layers)
    g = grad(into_list)
    for step in range(3):
        before = (list(log), copy.deepcopy(layers))
        got = g(x, log, layers)
        into_list(x, twin_log, twin_layers)
        _same(log, twin_log)
        _same(layers, twin_layers)
        assert all(a is b for a, b in zip(layers, inner))     # the same dicts, written
        np.testing.assert_allclose(
            got, numeric_grad(lambda v: into_list(v, list(before[0]),
                                                  copy.deepcopy(before[1])), (x,), 0),
            rtol=1e-6, atol=1e-8)


class BatchNormNet:
    def __init__(self):
        self.params = {'W': rng.normal(size=(3, 4)), 'gamma': np.ones(4)}
        self.bn_params = [{'mode': 'train'} for _ in range(2)]

    def loss(self, x):
        h = x @ self.params['W']
        for i in range(2):
            bn_param = self.bn_params[i]
            mu = h.mean(axis=0)
            var = h.var(axis=0)
            bn_param['running_mean'] = 0.9 * bn_param.get('running_mean', np.zeros(4)) \
                + 0.1 * mu
            bn_param['running_var'] = 0.9 * bn_param.get('running_var', np.zeros(4)) \
                + 0.1 * var
            h = self.params['gamma'] * (h - mu) / np.sqrt(var + 1e-5)
        return np.sum(np.sin(h))


def test_dicts_an_object_holds_keep_the_forward_pass_writes():
    model = BatchNormNet()
    twin = copy.deepcopy(model)
    x = rng.normal(size=(5, 3))
    g = grad(model.loss, wrt="self.params")
    for step in range(4):
        before = copy.deepcopy(model)
        got = g(x)
        twin.loss(x)
        _same(model.bn_params, twin.bn_params)
        for key in ('W', 'gamma'):
            def f(v, key=key):
                m = copy.deepcopy(before)
                m.params[key] = v
                return m.loss(x)
            np.testing.assert_allclose(got[key], numeric_grad(f, (model.params[key],), 0),
                                       rtol=1e-6, atol=1e-8)
