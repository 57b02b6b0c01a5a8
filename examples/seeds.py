"""Every worked example of the seed lecture notes, differentiated by s2sgrad.

    python examples/seeds.py

For each example: the value, the gradients s2sgrad computes, the numbers (or the
hand-derived formula) of the lecture notes, and the generated gradient source.
"""
import os
import sys

import numpy as np

try:
    import s2sgrad
except ImportError:    # running from a source checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import s2sgrad

from s2sgrad import grad, value_and_grad

np.set_printoptions(precision=4, suppress=True)
_checks = []


def section(title):
    print()
    print("=" * 78)
    print(title)
    print("=" * 78)


def show_source(g):
    print("-- generated source " + "-" * 58)
    print(g.source.rstrip())
    print("-" * 78)


def check(label, got, expected, tol):
    ok = bool(np.allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float),
                          rtol=0, atol=tol))
    _checks.append((label, ok))
    print("  %-52s %s" % (label, "matches" if ok else "MISMATCH"))


def fmt(values):
    return "(" + ", ".join("%.4g" % v for v in values) + ")"


# -- seed 001 / 003: f = (x + y) * z ----------------------------------------------------------

def add_mul(x, y, z):
    q = x + y
    f = q * z
    return f


def example_add_mul():
    section("Seed 001 (CS231n 4-1) / seed 003 (EECS498 06): f(x, y, z) = (x + y) * z")
    g = value_and_grad(add_mul, wrt=(0, 1, 2))
    f, grads = g(-2.0, 5.0, -4.0)
    print("at x = -2, y = 5, z = -4:  f = %g" % f)
    print("df/dx, df/dy, df/dz =", fmt(grads), "   seed: (-4, -4, 3)")
    check("gradients equal the seed's (-4, -4, 3)", grads, (-4, -4, 3), 0)
    show_source(g)


# -- seed 001 / 003: the sigmoid neuron ----------------------------------------------------------

def neuron(w0, x0, w1, x1, w2):
    return 1.0 / (1.0 + np.exp(-(w0 * x0 + w1 * x1 + w2)))


def example_neuron():
    section("Seed 001 / seed 003: the sigmoid neuron 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))")
    g = value_and_grad(neuron, wrt=(0, 1, 2, 3, 4))
    args = (2.0, -1.0, -3.0, -2.0, -3.0)
    value, grads = g(*args)
    print("at w0, x0, w1, x1, w2 = %s:  sigma = %.4f" % (fmt(args), value))
    print("dw0, dx0, dw1, dx1, dw2 =", fmt(grads))
    print("seed:                     (-0.20, 0.39, -0.39, -0.59, 0.20)")
    check("gradients equal the seed's numbers (2 digits)", grads,
          (-0.20, 0.39, -0.39, -0.59, 0.20), 1e-2)
    w0, x0, w1, x1, w2 = args
    local = value * (1.0 - value)                 # d sigma / ds = (1 - sigma) sigma
    check("gradients equal sigma (1 - sigma) * (x0, w0, x1, w1, 1)", grads,
          (local * x0, local * w0, local * x1, local * w1, local), 1e-12)
    show_source(g)


# -- seed 004: apple / orange / tax ------------------------------------------------------------------

def buy(apple, num_apple, orange, num_orange, tax):
    apple_price = apple * num_apple
    orange_price = orange * num_orange
    all_price = apple_price + orange_price
    price = all_price * tax
    return price


def example_apples():
    section("Seed 004: apples (100 x 2) and oranges (150 x 3) with 10% tax")
    g = value_and_grad(buy, wrt=(0, 1, 2, 3, 4))
    price, (d_apple, d_num_apple, d_orange, d_num_orange, d_tax) = g(100.0, 2.0, 150.0, 3.0, 1.1)
    print("final price:", int(price))
    print("dApple:", round(d_apple, 10))
    print("dApple_num:", int(round(d_num_apple)))
    print("dOrange:", round(d_orange, 10))
    print("dOrange_num:", int(round(d_num_orange)))
    print("dTax:", d_tax)
    check("equal the seed's 2.2, 110, 3.3, 165, 650",
          (d_apple, d_num_apple, d_orange, d_num_orange, d_tax), (2.2, 110, 3.3, 165, 650),
          1e-9)
    show_source(g)


# -- seed 001: ||W x||^2 ----------------------------------------------------------------------------

def l2_of_matvec(W, x):
    q = W @ x
    return np.sum(q ** 2)


def example_vectorized():
    section("Seed 001: f(x, W) = ||W x||^2  ->  df/dW = 2 q x^T,  df/dx = 2 W^T q")
    W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    x = np.array([0.2, 0.4])
    g = value_and_grad(l2_of_matvec, wrt=(0, 1))
    value, (dW, dx) = g(W, x)
    q = W @ x
    print("W =", W.tolist(), " x =", x.tolist(), " q = W x =", q.tolist(), " f = %.4f" % value)
    print("df/dW =\n", dW)
    print("df/dx =", dx)
    check("df/dW equals 2 q x^T", dW, 2.0 * np.outer(q, x), 1e-14)
    check("df/dx equals 2 W^T q", dx, 2.0 * W.T @ q, 1e-14)
    show_source(g)


# -- seed 002: chain rule ------------------------------------------------------------------------------

def chain(s, t):
    x = s - np.sin(t)
    y = np.exp(s) + np.cos(t)
    z = x ** 2 - y ** 2
    return z


def example_chain_rule():
    section("Seed 002: z = x^2 - y^2,  x = s - sin t,  y = e^s + cos t")
    s, t = 0.5, 1.2
    g = grad(chain, wrt=(0, 1))
    ds, dt = g(s, t)
    x, y = s - np.sin(t), np.exp(s) + np.cos(t)
    print("at s = %g, t = %g:  dz/ds = %.6f,  dz/dt = %.6f" % (s, t, ds, dt))
    check("dz/ds = 2x * 1 + (-2y) * e^s", ds, 2 * x + (-2 * y) * np.exp(s), 1e-12)
    check("dz/dt = 2x * (-cos t) + (-2y) * (-sin t)", dt,
          2 * x * (-np.cos(t)) + (-2 * y) * (-np.sin(t)), 1e-12)
    show_source(g)


# -- seed 000: a forward-mode example, here in reverse mode ------------------------------------------

def seed000_f(x):
    return (np.log(x) * (x + 3.0) + x ** 2) / np.sin(x)


def example_seed000_function():
    section("Seed 000: f(x) = (ln(x)(x + 3) + x^2) / sin(x)")
    x = 2.0
    g = value_and_grad(seed000_f)
    value, dx = g(x)
    num, dnum = np.log(x) * (x + 3) + x ** 2, (x + 3) / x + np.log(x) + 2 * x
    print("at x = %g:  f = %.6f,  f'(x) = %.6f" % (x, value, dx))
    check("f' equals the quotient rule by hand", dx,
          (dnum * np.sin(x) - num * np.cos(x)) / np.sin(x) ** 2, 1e-12)
    show_source(g)


# -- seed 000: the 3-4-2 sigmoid network, against the delta rule -------------------------------------

def net_342(W1, W2, x, t):
    h = 1.0 / (1.0 + np.exp(-(x @ W1)))      # hidden nodes 4..7
    y = 1.0 / (1.0 + np.exp(-(h @ W2)))      # output nodes 8, 9
    return 0.5 * np.sum((t - y) ** 2)


def example_delta_rule():
    section("Seed 000: 3-4-2 sigmoid network, E = 1/2 ||t - y||^2, against the delta rule")
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, t = np.array([0.2, 0.7, 0.4]), np.array([1.0, 0.0])
    g = value_and_grad(net_342, wrt=(0, 1))
    E, (dW1, dW2) = g(W1, W2, x, t)
    h = 1.0 / (1.0 + np.exp(-(x @ W1)))
    y = 1.0 / (1.0 + np.exp(-(h @ W2)))
    delta_out = (y - t) * y * (1.0 - y)                   # i in O
    delta_hid = (W2 @ delta_out) * h * (1.0 - h)          # i not in O: (sum_l delta_l w_il) o_i(1-o_i)
    print("E = %.6f" % E)
    print("dE/dW1 =\n", dW1)
    print("dE/dW2 =\n", dW2)
    print("dE/dw_14 = %.6f   (delta_4 o_1 = %.6f)" % (dW1[0, 0], delta_hid[0] * x[0]))
    check("dE/dw_ji = delta_i o_j  (hidden -> output)", dW2, np.outer(h, delta_out), 1e-13)
    check("dE/dw_ji = delta_i o_j  (input -> hidden)", dW1, np.outer(x, delta_hid), 1e-13)
    show_source(g)


# -- seed 004: Affine -> ReLU -> Affine -> SoftmaxWithLoss ---------------------------------------------

def two_layer_net(W1, b1, W2, b2, x, t):
    N = x.shape[0]
    a1 = np.dot(x, W1) + b1                          # Affine
    h = np.maximum(0.0, a1)                          # Relu
    a2 = np.dot(h, W2) + b2                          # Affine
    e = np.exp(a2 - np.max(a2, axis=1, keepdims=True))
    y = e / np.sum(e, axis=1, keepdims=True)         # Softmax
    return -np.sum(t * np.log(y)) / N                # cross-entropy error


def example_network():
    section("Seed 004: Affine -> ReLU -> Affine -> SoftmaxWithLoss (batch of 4)")
    rng = np.random.default_rng(4)
    W1, b1 = rng.standard_normal((5, 6)) * 0.5, rng.standard_normal(6) * 0.1
    W2, b2 = rng.standard_normal((6, 3)) * 0.5, rng.standard_normal(3) * 0.1
    x, t = rng.standard_normal((4, 5)), np.eye(3)[[0, 2, 1, 2]]
    g = value_and_grad(two_layer_net, wrt=(0, 1, 2, 3))
    loss, (dW1, db1, dW2, db2) = g(W1, b1, W2, b2, x, t)
    # the seed's layer-by-layer backward
    a1 = x @ W1 + b1
    h = np.maximum(0.0, a1)
    a2 = h @ W2 + b2
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    dout = (y - t) / x.shape[0]                      # SoftmaxWithLoss.backward
    eW2, eb2 = h.T @ dout, dout.sum(axis=0)          # Affine.backward
    dout = dout @ W2.T
    dout[a1 <= 0] = 0                                # Relu.backward
    eW1, eb1 = x.T @ dout, dout.sum(axis=0)          # Affine.backward
    print("loss = %.6f" % loss)
    print("db1 =", db1)
    print("db2 =", db2)
    check("dW1, db1 equal Affine/Relu backward", np.concatenate([dW1.ravel(), db1]),
          np.concatenate([eW1.ravel(), eb1]), 1e-12)
    check("dW2, db2 equal SoftmaxWithLoss/Affine backward",
          np.concatenate([dW2.ravel(), db2]), np.concatenate([eW2.ravel(), eb2]), 1e-12)
    show_source(g)


def main():
    print("s2sgrad %s -- the seed lecture notes' worked examples" % s2sgrad.__version__)
    example_add_mul()
    example_neuron()
    example_apples()
    example_vectorized()
    example_chain_rule()
    example_seed000_function()
    example_delta_rule()
    example_network()
    section("Summary")
    bad = [label for label, ok in _checks if not ok]
    print("%d of %d checks match the seed notes" % (len(_checks) - len(bad), len(_checks)))
    for label in bad:
        print("  MISMATCH:", label)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
