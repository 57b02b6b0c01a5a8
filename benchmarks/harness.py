"""Measuring tools for the benchmark runner: timing, memory, gradient checks.

Timing is built for a small shared machine: each implementation is calibrated
to an inner loop long enough to dwarf the clock's resolution, then samples of
all implementations are taken round-robin (the order rotating every round) so
that a burst of load from a neighbour hits every column alike; the median of
the samples is reported.
"""

import gc
import math
import time
import tracemalloc

import numpy as np


def calibrate(call, target_seconds):
    """Inner loop count so that one sample of ``call`` lasts >= target_seconds."""
    loops = 1
    while True:
        elapsed = time_loops(call, loops)
        if elapsed >= target_seconds or loops >= 1 << 24:
            return loops
        if elapsed <= 0.0:
            loops *= 10
        else:
            loops = max(loops * 2, math.ceil(loops * 1.2 * target_seconds / elapsed))


def time_loops(call, loops):
    """Seconds for ``loops`` calls of ``call``, garbage collector paused."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            call()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def round_robin(calls, loops, rounds):
    """Per-call seconds of each named call, ``rounds`` samples each, interleaved.

    ``calls`` maps a name to a zero-argument callable, ``loops`` a name to its
    inner loop count.  Round r starts at a different implementation than round
    r - 1, so no column always runs first (or right after the heaviest one).
    """
    names = list(calls)
    samples = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_loops(calls[name], loops[name]) / loops[name])
    return samples


def summarize(samples):
    values = np.asarray(samples)
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return {"median_s": float(median), "min_s": float(values.min()),
            "iqr_rel": float((q75 - q25) / median) if median > 0 else 0.0,
            "samples_s": [float(v) for v in values]}


def peak_memory(call):
    """Peak bytes allocated (Python objects and NumPy buffers) during one call.

    tracemalloc sees NumPy's array data, not buffers owned by PyTorch or XLA,
    so it is only meaningful for NumPy-based implementations.
    """
    call()  # warm: first-call caches are not part of the steady state
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - baseline
        del result
    finally:
        tracemalloc.stop()
    return int(peak)


def compare_gradients(got, expected, args, wrt, rtol=1e-6):
    """None if ``got`` matches the hand-written ``expected``, else why not.

    Each gradient must have its argument's shape and agree elementwise within
    ``rtol``; the absolute floor is 1e-8 of that gradient's largest entry, so
    entries that cancel to ~0 are not judged on their rounding noise.
    """
    if len(got) != len(expected):
        return f"expected {len(expected)} gradients, got {len(got)}"
    for index, g, e in zip(wrt, got, expected):
        g = np.asarray(g, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        want_shape = np.shape(args[index])
        if g.shape != want_shape:
            return f"gradient of argument {index} has shape {g.shape}, expected {want_shape}"
        atol = 1e-8 * float(np.max(np.abs(e))) if e.size else 0.0
        if not np.allclose(g, e, rtol=rtol, atol=atol):
            err = np.abs(g - e)
            worst = np.unravel_index(np.argmax(err / (atol + rtol * np.abs(e))), e.shape)
            return (f"gradient of argument {index} differs: at {tuple(int(i) for i in worst)} "
                    f"got {g[worst]!r}, expected {e[worst]!r} (max abs err {err.max():.3g})")
    return None


# --- finite-difference check of the hand-written gradients ---------------------

def _replace(args, index, value):
    return args[:index] + (value,) + args[index + 1:]


def _shifted(args, index, delta):
    a = args[index]
    if isinstance(a, np.ndarray):
        return _replace(args, index, a + delta)
    return _replace(args, index, float(a) + float(delta))


def finite_difference_check(f, gradients, args, wrt, coords_per_arg=6, seed=0, rtol=1e-5):
    """Check ``gradients`` (one per index in ``wrt``) by central differences.

    Checks one random direction through all differentiated arguments at once,
    then a few random coordinates of each.  Returns a list of failure strings
    and the number of comparisons made.
    """
    rng = np.random.default_rng(seed)
    failures = []
    checks = 0

    def central(direction, step):
        plus, minus = args, args
        for index, d in direction.items():
            plus = _shifted(plus, index, step * d)
            minus = _shifted(minus, index, -step * d)
        return (float(f(*plus)) - float(f(*minus))) / (2.0 * step)

    def judge(label, direction):
        nonlocal checks
        checks += 1
        scale = max(1.0, max(float(np.max(np.abs(args[i]))) for i in direction))
        analytic = sum(float(np.sum(np.asarray(gradients[wrt.index(i)]) * d))
                       for i, d in direction.items())
        # A step can straddle a kink (a ReLU input within 1e-6 of zero): retry
        # once with a step 100 times smaller before calling it a failure.
        for step in (1e-6 * scale, 1e-8 * scale):
            numeric = central(direction, step)
            if abs(numeric - analytic) <= rtol * max(abs(numeric), abs(analytic)) + 1e-9:
                return
        failures.append(f"{label}: finite difference {numeric!r}, gradient {analytic!r}")

    direction = {i: (rng.standard_normal(np.shape(args[i])) if isinstance(args[i], np.ndarray)
                     else float(rng.standard_normal())) for i in wrt}
    judge("random direction", direction)
    for i in wrt:
        shape = np.shape(args[i])
        size = int(np.prod(shape)) if shape else 1
        for flat in rng.choice(size, size=min(coords_per_arg, size), replace=False):
            if shape:
                unit = np.zeros(shape)
                unit.flat[flat] = 1.0
                label = f"arg {i} {np.unravel_index(flat, shape)}"
            else:
                unit, label = 1.0, f"arg {i}"
            judge(label, {i: unit})
    return failures, checks
