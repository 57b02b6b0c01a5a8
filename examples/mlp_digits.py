"""Train a 2-layer MLP on scikit-learn's bundled digits with an s2sgrad gradient.

    python examples/mlp_digits.py                 # ~30 epochs, a few seconds
    python examples/mlp_digits.py --quick         # smoke test: 2 epochs
    s2sgrad show examples/mlp_digits.py:loss      # the generated gradient code

The 8x8 digits (1,797 images) ship with scikit-learn, so nothing is downloaded.
The loss is ordinary NumPy: tanh hidden layer, softmax cross-entropy, L2 weight
decay.  ``grad(loss, wrt=...)`` compiles it once into flat NumPy code (print
``loss_grad.source`` to read it); training is plain minibatch Adam.  Writes a
loss/accuracy plot (PNG) and reaches >= 95% test accuracy.
Needs: pip install "s2sgrad[examples]" (scikit-learn, matplotlib, tqdm).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from s2sgrad import value_and_grad  # noqa: E402

WEIGHT_DECAY = 1e-4


# Files the examples write go here (git ignores it: .gitignore).
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")


def loss(W1, b1, W2, b2, X, Y):
    """Mean softmax cross-entropy of a tanh MLP, plus L2 weight decay."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)          # stable softmax
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    data = -np.sum(Y * logp) / X.shape[0]
    return data + WEIGHT_DECAY * (np.sum(W1 * W1) + np.sum(W2 * W2))


def predict(params, X):
    W1, b1, W2, b2 = params
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


def load_digits_split(seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    X = digits.data / 16.0
    y = digits.target
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)


def train(epochs=30, hidden=64, batch=64, lr=0.01, seed=0, progress=True):
    Xtr, Xte, ytr, yte = load_digits_split(seed)
    Ytr = np.eye(10)[ytr]
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, 1 / np.sqrt(64), (64, hidden)), np.zeros(hidden),
              rng.normal(0, 1 / np.sqrt(hidden), (hidden, 10)), np.zeros(10)]
    loss_and_grads = value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, step = 0.9, 0.999, 0
    history = {"loss": [], "train_acc": [], "test_acc": []}
    try:
        from tqdm import tqdm
        bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    except ImportError:                      # the progress bar is optional
        bar = range(epochs)
    for _ in bar:
        order = rng.permutation(len(Xtr))
        losses = []
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            value, grads = loss_and_grads(*params, Xtr[idx], Ytr[idx])
            losses.append(value)
            step += 1
            for i, g in enumerate(grads):
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                mhat = m[i] / (1 - beta1 ** step)
                vhat = v[i] / (1 - beta2 ** step)
                params[i] = params[i] - lr * mhat / (np.sqrt(vhat) + 1e-8)
        history["loss"].append(float(np.mean(losses)))
        history["train_acc"].append(float(np.mean(predict(params, Xtr) == ytr)))
        history["test_acc"].append(float(np.mean(predict(params, Xte) == yte)))
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss="%.3f" % history["loss"][-1],
                            test_acc="%.3f" % history["test_acc"][-1])
    return params, history, loss_and_grads


def plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history["loss"], color="#c62828")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax1.set_yscale("log")
    ax2.plot(epochs, history["train_acc"], label="train")
    ax2.plot(epochs, history["test_acc"], label="test")
    ax2.axhline(0.95, color="gray", lw=0.8, ls="--")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend(loc="lower right")
    fig.suptitle("2-layer MLP on sklearn digits, gradients by s2sgrad")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs (smoke test; also S2SGRAD_EXAMPLES_QUICK=1)")
    parser.add_argument("--plot", default=os.path.join(OUTPUT, "mlp_digits.png"),
                        help="where to save the PNG (default: examples/output/, which git "
                             "ignores)")
    parser.add_argument("--no-progress", action="store_true")
    ns = parser.parse_args(argv)
    quick = ns.quick or os.environ.get("S2SGRAD_EXAMPLES_QUICK") == "1"
    epochs = 2 if quick else ns.epochs
    t0 = time.perf_counter()
    params, history, g = train(epochs=epochs, hidden=ns.hidden, progress=not ns.no_progress)
    elapsed = time.perf_counter() - t0
    os.makedirs(os.path.dirname(os.path.abspath(ns.plot)), exist_ok=True)
    plot(history, ns.plot)
    acc = history["test_acc"][-1]
    print("test accuracy %.4f after %d epochs (%.1f s); plot saved to %s"
          % (acc, epochs, elapsed, ns.plot))
    if not quick and acc < 0.95:
        print("below the 95% target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
