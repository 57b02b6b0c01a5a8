"""Hessian-vector product cost against one gradient, on an MLP loss.

    python benchmarks/hvp.py [--batch N] [--hidden N] [--repeat N]

``s2sgrad.hvp`` differentiates the generated gradient code in forward mode
(forward-over-reverse) without forming the Hessian.  This script times, round
robin on the same arguments, ``grad(loss)`` and ``hvp(loss)`` (both after their
first call generated the code) and reports the median of each and their ratio;
the target is HVP <= 4x one gradient.  It also checks the HVP against central
differences of the gradient.  Exit status 1 when the ratio exceeds 4.
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(1, str(HERE.parent))
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

import harness  # noqa: E402
import s2sgrad  # noqa: E402


def mlp_loss(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    return 0.5 * np.mean((P - Y) ** 2) + 1e-4 * (np.sum(W1 * W1) + np.sum(W2 * W2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--inputs", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--outputs", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=15, help="round-robin samples")
    ap.add_argument("--target", type=float, default=0.05, help="seconds per sample")
    args = ap.parse_args(argv)

    rng = np.random.RandomState(0)
    W1 = rng.randn(args.inputs, args.hidden) / np.sqrt(args.inputs)
    b1 = np.zeros(args.hidden)
    W2 = rng.randn(args.hidden, args.outputs) / np.sqrt(args.hidden)
    b2 = np.zeros(args.outputs)
    X = rng.randn(args.batch, args.inputs)
    Y = rng.randn(args.batch, args.outputs)
    wrt = (0, 1, 2, 3)
    V = tuple(rng.randn(*p.shape) for p in (W1, b1, W2, b2))
    params = (W1, b1, W2, b2, X, Y)

    g = s2sgrad.grad(mlp_loss, wrt=wrt)
    hv = s2sgrad.hvp(mlp_loss, wrt=wrt)
    grads = g(*params)
    hvps = hv(*params, V)

    # correctness: central differences of the gradient along V
    eps = 1e-6
    plus = g(*(p + eps * v for p, v in zip(params[:4], V)), X, Y)
    minus = g(*(p - eps * v for p, v in zip(params[:4], V)), X, Y)
    err = max(float(np.max(np.abs(h - (a - b) / (2 * eps)) / (1e-8 + np.abs(h))))
              for h, a, b in zip(hvps, plus, minus))
    assert err < 1e-4, "HVP does not match finite differences (rel err %.2e)" % err
    del grads

    calls = {"grad": lambda: g(*params), "hvp": lambda: hv(*params, V)}
    loops = {k: harness.calibrate(c, args.target) for k, c in calls.items()}
    samples = {k: [] for k in calls}
    order = list(calls)
    for r in range(args.repeat):
        for k in order[r % 2:] + order[:r % 2]:
            samples[k].append(harness.time_loops(calls[k], loops[k]) / loops[k])
    med = {k: float(np.median(v)) for k, v in samples.items()}
    ratio = med["hvp"] / med["grad"]
    print("MLP loss: batch %d, %d -> %d -> %d, wrt all weights (%d parameters)"
          % (args.batch, args.inputs, args.hidden, args.outputs,
             sum(p.size for p in params[:4])))
    print("  grad  %9.1f us" % (med["grad"] * 1e6))
    print("  hvp   %9.1f us" % (med["hvp"] * 1e6))
    print("  ratio %9.2f   (target <= 4.00)   HVP vs FD of the gradient: rel err %.1e"
          % (ratio, err))
    return 0 if ratio <= 4.0 else 1


if __name__ == "__main__":
    sys.exit(main())
