"""Peak memory and time of a long RNN's gradient, with and without checkpointing.

    python benchmarks/checkpoint_memory.py            # 100,000 steps (about a minute)
    python benchmarks/checkpoint_memory.py --steps 20000 --repeats 3

The same tanh RNN (batch 8, 32 hidden units) is differentiated by ``grad(f)`` and by
``grad(f, checkpoint=True)`` (segments of sqrt(T) trips), alternately, each run in a
fresh state; peak memory is what ``tracemalloc`` sees NumPy allocate during the call
(the inputs excluded; measured apart from the timings, which tracemalloc would slow),
time is wall time; medians over the repeats.  Both gradients
are checked to be identical.  With JAX installed, ``jax.checkpoint`` around a
``lax.scan`` step of the same maths is timed too.  Last, each of s2sgrad plain,
s2sgrad checkpointed, JAX and JAX with ``jax.checkpoint`` runs one gradient in a fresh
process, and the growth of the process's peak resident memory is reported (XLA's
allocator is outside Python, so tracemalloc cannot compare them).
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


def inputs(steps, batch, hidden):
    r = np.random.default_rng(0)
    return (r.normal(size=(hidden, hidden)) / np.sqrt(hidden), r.normal(size=(4, hidden)),
            r.normal(size=(steps, batch, 4)), np.zeros((batch, hidden)))


def child(kind, steps, batch, hidden):
    """One gradient in a fresh process: the growth of its peak resident memory over the
    inputs (code generation or XLA compilation included), in bytes, on stdout."""
    import resource
    args = inputs(steps, batch, hidden)
    if kind.startswith("jax"):
        import jax
        import jax.numpy as jnp
        Wh, Wx, xs, h0 = (jnp.asarray(a) for a in args)

        def body(h, x, Wh_):
            h = jnp.tanh(h @ Wh_ + x @ Wx)
            return h, jnp.sum(h * h)

        def loss(Wh_):
            step = (lambda h, x: body(h, x, Wh_))
            if kind == "jax-checkpoint":
                step = jax.checkpoint(step)
            _, ls = jax.lax.scan(step, h0, xs)
            return jnp.sum(ls)
        run = (lambda: jax.jit(jax.grad(loss))(Wh).block_until_ready())
    else:
        g = grad(rnn, checkpoint=(kind == "checkpoint") or None)
        run = (lambda: g(*args))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)


def resident(a):
    """Peak resident memory of each kind, each in its own process."""
    import subprocess
    import sys
    out = {}
    for kind in ("plain", "checkpoint", "jax", "jax-checkpoint"):
        proc = subprocess.run([sys.executable, __file__, "--child", kind, "--steps",
                               str(a.steps), "--batch", str(a.batch), "--hidden",
                               str(a.hidden)], capture_output=True, text=True)
        if proc.returncode != 0:
            out[kind] = None if "No module named 'jax'" in proc.stderr else proc.stderr
            continue
        out[kind] = int(proc.stdout.split()[-1])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    if a.child:
        return child(a.child, a.steps, a.batch, a.hidden)
    args = inputs(a.steps, a.batch, a.hidden)
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
    print("peak resident memory growth of one gradient in a fresh process (generation or "
          "XLA compilation included):")
    for kind, grown in resident(a).items():
        print("  %-15s %s" % (kind, "not installed" if grown is None else
                              "%.1f MiB" % (grown / 2**20) if isinstance(grown, int)
                              else "failed: " + grown.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
