"""First-generation time of a 30-line function (the compiler alone, no cache).

    python benchmarks/generation.py [--root CHECKOUT] [--repeat N] [--cpu] [--profile]

Calls ``s2sgrad.ad.pipeline.generate_gradient`` on ``model`` below (28 assignments: a
two-layer network with a log-sum-exp loss and regularizers) with shapes probed, once
to warm up lazily imported modules, then ``--repeat`` times, and prints the minimum and
median in milliseconds (``--cpu``: the process's CPU time instead of wall time, which
other processes on a loaded machine inflate less).  ``--profile`` prints the top of a
cProfile run by cumulative time.  ``--root`` imports s2sgrad from another checkout
(before/after comparisons).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def model(W1, b1, W2, b2, X, Y, lam):
    h0 = X @ W1 + b1
    h = np.maximum(h0, 0.0)
    h2 = np.tanh(h)
    h3 = h2 * h + 0.5 * h0
    logits = h3 @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    e = np.exp(z)
    s = np.sum(e, axis=1, keepdims=True)
    log_probs = z - np.log(s)
    ce = -np.mean(np.sum(Y * log_probs, axis=1))
    r1 = np.sum(W1 ** 2)
    r2 = np.sum(W2 ** 2)
    reg = lam * (r1 + r2)
    a = np.mean(h ** 2)
    b = np.sqrt(a + 1.0)
    c = np.sum(np.abs(b1)) + np.sum(np.abs(b2))
    d = np.exp(-c) * b
    f1 = np.sin(d) + np.cos(d)
    f2 = f1 * f1 / (1.0 + d)
    g1 = np.log1p(np.exp(-np.abs(z))).sum()
    g2 = g1 / z.size
    k = np.dot(b1, b1) * 0.1
    q = np.where(h0 > 0.0, h0, 0.01 * h0)
    qq = np.sum(q * q) * 1e-3
    t = ce + reg + f2 + g2 + k + qq
    u = t * 1.0 + 0.0
    return u


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(HERE.parent))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of wall time")
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args(argv)
    sys.path.insert(0, options.root)
    from s2sgrad.ad.pipeline import generate_gradient

    rng = np.random.default_rng(0)
    args = (rng.standard_normal((20, 16)), rng.standard_normal(16),
            rng.standard_normal((16, 5)), rng.standard_normal(5),
            rng.standard_normal((8, 20)), np.eye(5)[rng.integers(0, 5, 8)], 0.1)
    wrt = (0, 1, 2, 3)
    generate_gradient(model, wrt, "grad", args)
    clock = time.process_time if options.cpu else time.perf_counter
    times = []
    for _ in range(options.repeat):
        start = clock()
        generate_gradient(model, wrt, "grad", args)
        times.append(clock() - start)
    times.sort()
    print("generation of a 30-line function: min %.1f ms, median %.1f ms (%d runs%s)"
          % (times[0] * 1e3, times[len(times) // 2] * 1e3, len(times),
             ", CPU time" if options.cpu else ""))
    if options.profile:
        import cProfile
        import pstats
        profile = cProfile.Profile()
        profile.runcall(generate_gradient, model, wrt, "grad", args)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
