"""The worked examples of the seed lecture notes (shared/seeds/*.txt), with their numbers.

000  back propagation / delta rule for a 3-4-2 sigmoid network with squared error;
     the forward-mode example f(x) = (ln(x)(x+3) + x^2) / sin(x)
001  CS231n 4-1: (x + y) * z at (-2, 5, -4); ||W x||^2 -> 2 q x^T and 2 W^T q
002  chain rule: z = x^2 - y^2, x = s - sin t, y = e^s + cos t; the vector chain rule
003  EECS498 06: the sigmoid neuron and its "flat" gradient code; gate patterns
004  apple/orange/tax graph; Sigmoid, Relu, Affine and SoftmaxWithLoss layers
"""
import re

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, value_and_grad
from gradcheck import check_grad


# -- seed 001 / 003: f = (x + y) * z ---------------------------------------------------

def add_mul(x, y, z):
    q = x + y
    f = q * z
    return f


def test_add_mul_graph_seed_001_003():
    value, (dx, dy, dz) = value_and_grad(add_mul, wrt=(0, 1, 2))(-2.0, 5.0, -4.0)
    assert value == -12.0
    assert (dx, dy, dz) == (-4.0, -4.0, 3.0)
    for d in (dx, dy, dz):
        assert isinstance(d, float)


# -- seed 001 / 003: the sigmoid neuron --------------------------------------------------

def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


def neuron_flat(w0, x0, w1, x1, w2):
    # Forward pass, written like the seed's "flat" code (seed 003)
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = 1.0 / (1.0 + np.exp(-s3))
    return L


NEURON_AT = (2.0, -1.0, -3.0, -2.0, -3.0)
NEURON_SEED = (-0.20, 0.39, -0.39, -0.59, 0.20)


def neuron_closed_form(w0, x0, w1, x1, w2):
    sig = 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))
    local = sig * (1.0 - sig)
    return (local * x0, local * w0, local * x1, local * w1, local * 1.0)


@pytest.mark.parametrize("f", [neuron, neuron_flat], ids=lambda f: f.__name__)
def test_sigmoid_neuron_seed_001_003(f):
    g = grad(f, wrt=(0, 1, 2, 3, 4))
    got = g(*NEURON_AT)
    np.testing.assert_allclose(got, NEURON_SEED, atol=1e-2)
    np.testing.assert_allclose(got, neuron_closed_form(*NEURON_AT), rtol=1e-12, atol=1e-12)
    value = value_and_grad(f, wrt="w0")(*NEURON_AT)[0]
    assert abs(value - 0.7310585786300049) < 1e-12        # sigma(1) = 0.73


def test_neuron_source_is_flat_seed_003():
    g = grad(neuron, wrt=(0, 1, 2, 3, 4))
    g(*NEURON_AT)
    src = g.source
    lines = [ln.strip() for ln in src.splitlines()]
    assert lines[0].startswith("def neuron_grad(w0, x0, w1, x1, w2)")
    assert "# Forward pass" in lines and "# Backward pass" in lines
    fwd, bwd = lines.index("# Forward pass"), lines.index("# Backward pass")
    assert fwd < bwd
    backward = [ln for ln in lines[bwd + 1:] if ln and not ln.startswith("#")]
    assert backward[-1].startswith("return grad_w0, grad_x0, grad_w1, grad_x1, grad_w2")
    assert all(ln.startswith("grad_") for ln in backward[:-1]), backward
    for name in ("w0", "x0", "w1", "x1", "w2"):
        assert any(ln.startswith("grad_%s = " % name) for ln in backward)
    # every adjoint statement names the user's line it came from
    line = neuron.__code__.co_firstlineno + 1
    assert all(re.search(r"\(line \d+\)", ln) for ln in backward[1:-1]), backward
    assert "(line %d)" % line in src
    # straight-line code: no loops, no tape, no closures
    assert not re.search(r"^\s*(for|while|lambda|def .*:\s*$)", "\n".join(lines[1:]), re.M)
    assert s2sgrad.source(g) == src


def test_flat_neuron_source_uses_the_seeds_names():
    # seed 003's hand-written flat code: grad_s3 from the sigmoid, add gates pass it on,
    # mul gates swap their inputs (grad_w0 = grad_s0 * x0, grad_x0 = grad_s0 * w0)
    g = grad(neuron_flat, wrt=(0, 1, 2, 3, 4))
    g(*NEURON_AT)
    lines = {ln.split(" = ")[0].strip(): ln for ln in g.source.splitlines() if " = " in ln}
    assert "grad_s3" in lines
    for w, x in (("w0", "x0"), ("w1", "x1")):
        assert re.search(r"\* %s\b" % x, lines["grad_" + w].split("#")[0]), lines["grad_" + w]
        assert re.search(r"\* %s\b" % w, lines["grad_" + x].split("#")[0]), lines["grad_" + x]
    assert lines["grad_w2"].split("#")[0].strip().startswith("grad_w2 = grad_s")
    for name in ("s0", "s1", "s2", "s3", "L"):              # the forward pass keeps them
        assert name in lines


def test_neuron_gradient_matches_finite_differences():
    check_grad(neuron, NEURON_AT, wrt=(0, 1, 2, 3, 4))


# -- seed 003: gate patterns (add distributes, mul swaps, max routes, copy sums) ------------

def gates(x, y, z, w):
    return 2.0 * (x * y + np.maximum(z, w))


def copy_gate(x):
    return x * 3.0 + x * x


def test_gate_patterns_seed_001_003():
    dx, dy, dz, dw = grad(gates, wrt=(0, 1, 2, 3))(3.0, -4.0, 2.0, -1.0)
    assert (dx, dy, dz, dw) == (-8.0, 6.0, 2.0, 0.0)      # mul swaps, max routes
    assert grad(copy_gate)(5.0) == 3.0 + 2 * 5.0          # copy gate sums the branches


# -- seed 004: apple / orange / tax --------------------------------------------------------

def buy(apple, num_apple, orange, num_orange, tax):
    apple_price = apple * num_apple
    orange_price = orange * num_orange
    all_price = apple_price + orange_price
    price = all_price * tax
    return price


def test_apple_orange_tax_seed_004():
    args = (100.0, 2.0, 150.0, 3.0, 1.1)
    price, grads = value_and_grad(buy, wrt=(0, 1, 2, 3, 4))(*args)
    assert int(price) == 715
    d_apple, d_num_apple, d_orange, d_num_orange, d_tax = grads
    assert d_apple == pytest.approx(2.2, abs=1e-12)
    assert int(d_num_apple) == 110 and d_num_apple == pytest.approx(110.0, abs=1e-9)
    assert d_orange == pytest.approx(3.3, abs=1e-12)
    assert int(d_num_orange) == 165 and d_num_orange == pytest.approx(165.0, abs=1e-9)
    assert d_tax == 650.0
    # by name, in another order
    assert grad(buy, wrt=("tax", "apple"))(*args) == pytest.approx((650.0, 2.2))


# -- seed 001: ||W x||^2 ------------------------------------------------------------------

def l2_of_matvec(W, x):
    q = W @ x
    return np.sum(q ** 2)


def test_vectorized_example_seed_001():
    # the lecture's numbers: W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]
    W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    x = np.array([0.2, 0.4])
    value, (dW, dx) = value_and_grad(l2_of_matvec, wrt=(0, 1))(W, x)
    q = W @ x
    np.testing.assert_allclose(q, [0.22, 0.26])
    assert value == pytest.approx(0.116)
    np.testing.assert_allclose(dW, 2.0 * np.outer(q, x), rtol=1e-14)       # 2 q x^T
    np.testing.assert_allclose(dx, 2.0 * W.T @ q, rtol=1e-14)             # 2 W^T q
    np.testing.assert_allclose(dW, [[0.088, 0.176], [0.104, 0.208]], atol=1e-12)
    np.testing.assert_allclose(dx, [-0.112, 0.636], atol=1e-12)
    assert dW.shape == W.shape and dx.shape == x.shape


def test_vectorized_example_any_n_seed_001():
    rng = np.random.default_rng(1)
    W, x = rng.standard_normal((5, 5)), rng.standard_normal(5)
    dW, dx = grad(l2_of_matvec, wrt=("W", "x"))(W, x)
    q = W @ x
    np.testing.assert_allclose(dW, 2.0 * np.outer(q, x), rtol=1e-13)
    np.testing.assert_allclose(dx, 2.0 * W.T @ q, rtol=1e-13)


# -- seed 002: chain rule -----------------------------------------------------------------------

def chain(s, t):
    x = s - np.sin(t)
    y = np.exp(s) + np.cos(t)
    z = x ** 2 - y ** 2
    return z


@pytest.mark.parametrize("s,t", [(0.5, 1.2), (-1.3, 2.0), (2.0, -0.7)])
def test_chain_rule_seed_002(s, t):
    ds, dt = grad(chain, wrt=(0, 1))(s, t)
    x, y = s - np.sin(t), np.exp(s) + np.cos(t)
    assert ds == pytest.approx(2 * x * 1.0 + (-2 * y) * np.exp(s), rel=1e-13)
    assert dt == pytest.approx(2 * x * (-np.cos(t)) + (-2 * y) * (-np.sin(t)), rel=1e-13)


def vector_chain_product(s, t):
    x = s * t
    y = s - t
    return np.mean(x * y)


def vector_chain_sum(s, t):
    x = s * t
    y = s - t
    return np.mean(x + y)


def test_vector_chain_rule_seed_002():
    # z = (1/n) sum_i f(x_i, y_i), x = s (.) t (Hadamard), y = s - t: dz/ds has the shape of s
    rng = np.random.default_rng(2)
    s, t = rng.standard_normal(6), rng.standard_normal(6)
    n = s.size
    ds, dt = grad(vector_chain_product, wrt=(0, 1))(s, t)
    x, y = s * t, s - t
    np.testing.assert_allclose(ds, (y * t + x * 1.0) / n, rtol=1e-13)
    np.testing.assert_allclose(dt, (y * s - x * 1.0) / n, rtol=1e-13)
    ds, dt = grad(vector_chain_sum, wrt=(0, 1))(s, t)
    np.testing.assert_allclose(ds, (t + 1.0) / n, rtol=1e-13)
    np.testing.assert_allclose(dt, (s - 1.0) / n, rtol=1e-13)
    assert ds.shape == s.shape


# -- seed 000: the forward-mode example, differentiated in reverse mode ------------------------

def seed000_f(x):
    return (np.log(x) * (x + 3.0) + x ** 2) / np.sin(x)


@pytest.mark.parametrize("x", [0.5, 1.0, 2.5])
def test_composite_function_seed_000(x):
    num = np.log(x) * (x + 3.0) + x ** 2
    dnum = (x + 3.0) / x + np.log(x) + 2.0 * x
    expected = (dnum * np.sin(x) - num * np.cos(x)) / np.sin(x) ** 2
    assert grad(seed000_f)(x) == pytest.approx(expected, rel=1e-12)


# -- seed 000: the 3-4-2 sigmoid network with squared error, against the delta rule -------------

def net_342(W1, W2, x, t):
    h = 1.0 / (1.0 + np.exp(-(x @ W1)))      # o_4 .. o_7
    y = 1.0 / (1.0 + np.exp(-(h @ W2)))      # o_8, o_9
    return 0.5 * np.sum((t - y) ** 2)


def delta_rule(W1, W2, x, t):
    """dE/dw_ji = delta_i o_j, written out as in seed 000."""
    o_in = x
    o_hid = 1.0 / (1.0 + np.exp(-(o_in @ W1)))
    o_out = 1.0 / (1.0 + np.exp(-(o_hid @ W2)))
    dW1, dW2 = np.zeros_like(W1), np.zeros_like(W2)
    delta_out = np.zeros(2)
    for i in range(2):                                   # i in O: (y_u - t_u) o_i (1 - o_i)
        delta_out[i] = (o_out[i] - t[i]) * o_out[i] * (1.0 - o_out[i])
        for j in range(4):
            dW2[j, i] = delta_out[i] * o_hid[j]
    for i in range(4):                                   # i in H: (sum_l delta_l w_il) o_i(1-o_i)
        delta_i = sum(delta_out[l] * W2[i, l] for l in range(2)) * o_hid[i] * (1.0 - o_hid[i])
        for j in range(3):
            dW1[j, i] = delta_i * o_in[j]
    return dW1, dW2


def test_sigmoid_network_delta_rule_seed_000():
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, t = rng.uniform(0, 1, 3), np.array([1.0, 0.0])
    dW1, dW2 = grad(net_342, wrt=(0, 1))(W1, W2, x, t)
    eW1, eW2 = delta_rule(W1, W2, x, t)
    np.testing.assert_allclose(dW1, eW1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dW2, eW2, rtol=1e-12, atol=1e-15)
    # the seed's w_14: dE/dw_14 = (sum_l delta_l w_4l) o_4 (1 - o_4) o_1
    o4 = 1.0 / (1.0 + np.exp(-(x @ W1)))[0]
    y = 1.0 / (1.0 + np.exp(-(1.0 / (1.0 + np.exp(-(x @ W1))) @ W2)))
    deltas = (y - t) * y * (1 - y)
    assert dW1[0, 0] == pytest.approx(np.dot(deltas, W2[0]) * o4 * (1 - o4) * x[0], rel=1e-12)
    check_grad(net_342, (W1, W2, x, t), wrt=(0, 1, 2))


# -- seed 004: Sigmoid layer ------------------------------------------------------------------

def sigmoid_layer(x, dout):
    out = 1.0 / (1.0 + np.exp(-x))
    return np.sum(out * dout)


def test_sigmoid_layer_seed_004():
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(grad(sigmoid_layer)(x, dout), dout * (1.0 - out) * out,
                               rtol=1e-13)


# -- seed 004: Affine -> ReLU -> Affine -> SoftmaxWithLoss ------------------------------------

def two_layer_net(W1, b1, W2, b2, x, t):
    N = x.shape[0]
    x2 = x.reshape(N, -1)                             # Affine: tensor input
    a1 = np.dot(x2, W1) + b1
    h = np.maximum(0.0, a1)                           # Relu
    a2 = np.dot(h, W2) + b2                           # Affine
    e = np.exp(a2 - np.max(a2, axis=1, keepdims=True))
    y = e / np.sum(e, axis=1, keepdims=True)          # softmax
    return -np.sum(t * np.log(y)) / N                 # cross entropy (one-hot t)


def two_layer_net_labels(W1, b1, W2, b2, x, t):
    N = x.shape[0]
    x2 = x.reshape(N, -1)
    h = np.maximum(0.0, np.dot(x2, W1) + b1)
    a2 = np.dot(h, W2) + b2
    e = np.exp(a2 - np.max(a2, axis=1, keepdims=True))
    y = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(np.log(y[np.arange(N), t])) / N    # cross entropy (label t)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class Relu:
    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - np.max(x, axis=1, keepdims=True))
        self.y = e / np.sum(e, axis=1, keepdims=True)
        batch = self.y.shape[0]
        if self.t.size == self.y.size:
            return -np.sum(self.t * np.log(self.y)) / batch
        return -np.sum(np.log(self.y[np.arange(batch), self.t])) / batch

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


def layer_by_layer(W1, b1, W2, b2, x, t):
    affine1, relu, affine2, last = Affine(W1, b1), Relu(), Affine(W2, b2), SoftmaxWithLoss()
    loss = last.forward(affine2.forward(relu.forward(affine1.forward(x))), t)
    dout = last.backward(1)
    dout = affine2.backward(dout)
    dout = relu.backward(dout)
    dx = affine1.backward(dout)
    return loss, (affine1.dW, affine1.db, affine2.dW, affine2.db, dx)


def _net_params(seed=4):
    rng = np.random.default_rng(seed)
    N, D, H, C = 5, 6, 7, 3
    W1, b1 = rng.standard_normal((D, H)) * 0.5, rng.standard_normal(H) * 0.1
    W2, b2 = rng.standard_normal((H, C)) * 0.5, rng.standard_normal(C) * 0.1
    x = rng.standard_normal((N, 2, 3))
    labels = rng.integers(0, C, size=N)
    return W1, b1, W2, b2, x, labels, np.eye(C)[labels]


def test_affine_relu_softmax_network_seed_004():
    W1, b1, W2, b2, x, labels, onehot = _net_params()
    loss, grads = value_and_grad(two_layer_net, wrt=(0, 1, 2, 3, 4))(W1, b1, W2, b2, x, onehot)
    e_loss, expected = layer_by_layer(W1, b1, W2, b2, x, onehot)
    assert loss == pytest.approx(e_loss, rel=1e-13)
    for name, got, want in zip(("dW1", "db1", "dW2", "db2", "dx"), grads, expected):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13, err_msg=name)
    check_grad(two_layer_net, (W1, b1, W2, b2, x, onehot), wrt=(0, 1, 2, 3))


def test_affine_relu_softmax_network_labels_seed_004():
    W1, b1, W2, b2, x, labels, onehot = _net_params(5)
    loss, grads = value_and_grad(two_layer_net_labels, wrt=(0, 1, 2, 3, 4))(
        W1, b1, W2, b2, x, labels)
    e_loss, expected = layer_by_layer(W1, b1, W2, b2, x, labels)
    assert loss == pytest.approx(e_loss, rel=1e-13)
    for name, got, want in zip(("dW1", "db1", "dW2", "db2", "dx"), grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13, err_msg=name)
