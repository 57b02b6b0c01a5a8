"""Peak memory and time of a long RNN's gradient, with and without checkpointing.

    python benchmarks/checkpoint_memory.py            # 100,000 steps (about a minute)
    python benchmarks/checkpoint_memory.py --steps 20000 --repeats 3

The same tanh RNN (batch 8, 32 hidden units) is differentiated by ``grad(f)`` and by
``grad(f, checkpoint=True)`` (segments of sqrt(T) trips), alternately, each run in a
fresh state; peak memory is what ``tracemalloc`` sees NumPy allocate during the call
(the inputs excluded; measured apart from the timings, which tracemalloc would slow),
time is wall time; medians over the repeats.  Both gradients
are checked to be identical.  With JAX installed, ``jax.checkpoint`` around a
``lax.scan`` step of the same maths is measured too (its peak is not visible to
tracemalloc: XLA's allocator is outside Python, so only its time is reported).
"""
import argparse
import statistics
import time
import tracemalloc

import numpy as np

from s2sgrad import grad


def rnn(Wh, Wx, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
        loss = loss + np.sum(h * h)
    return loss


def peak_memory(g, args):
    """Peak bytes NumPy and Python allocate during the call (above what was live)."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = g(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return out, peak


def wall_time(g, args):
    t0 = time.perf_counter()
    g(*args)
    return time.perf_counter() - t0


def jax_time(args, repeats):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    Wh, Wx, xs, h0 = (jnp.asarray(a) for a in args)

    def loss(Wh_):
        def body(h, x):
            h = jnp.tanh(h @ Wh_ + x @ Wx)
            return h, jnp.sum(h * h)
        _, ls = jax.lax.scan(jax.checkpoint(body), h0, xs)
        return jnp.sum(ls)

    g = jax.jit(jax.grad(loss))
    g(Wh).block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        g(Wh).block_until_ready()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    r = np.random.default_rng(0)
    args = (r.normal(size=(a.hidden, a.hidden)) / np.sqrt(a.hidden),
            r.normal(size=(4, a.hidden)), r.normal(size=(a.steps, a.batch, 4)),
            np.zeros((a.batch, a.hidden)))
    plain, ckpt = grad(rnn), grad(rnn, checkpoint=True)
    g1, m1 = peak_memory(plain, args)       # (the first calls generate the code)
    g2, m2 = peak_memory(ckpt, args)
    assert np.array_equal(g1, g2), "the checkpointed gradient differs"
    del g1, g2
    _, m1 = peak_memory(plain, args)
    _, m2 = peak_memory(ckpt, args)
    rows = {"plain": [], "checkpoint": []}
    for _ in range(a.repeats):          # alternately, side by side
        rows["plain"].append((wall_time(plain, args), m1))
        rows["checkpoint"].append((wall_time(ckpt, args), m2))
    state = a.batch * a.hidden * 8
    print("tanh RNN, %d steps, batch %d, %d hidden units (one state: %d bytes); "
          "medians of %d" % (a.steps, a.batch, a.hidden, state, a.repeats))
    med = {k: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v))
           for k, v in rows.items()}
    for k, (t, m) in med.items():
        print("  %-11s %8.3f s   peak %9.1f MiB  (%.0f states)" % (k, t, m / 2**20,
                                                                 m / state))
    print("  checkpoint / plain: time %.2fx, peak memory %.4fx (1/%.0f)" % (
        med["checkpoint"][0] / med["plain"][0], med["checkpoint"][1] / med["plain"][1],
        med["plain"][1] / med["checkpoint"][1]))
    jt = jax_time(args, a.repeats)
    print("  JAX jit(grad) of lax.scan with jax.checkpoint: %s" % (
        "%.3f s" % jt if jt is not None else "not installed"))


if __name__ == "__main__":
    main()
