"""The gradient of a Dask logistic regression: s2sgrad vs a hand-written Dask gradient
of the same maths, on the same LocalCluster, and 1 -> 2 workers.

    python benchmarks/dask_logreg.py                  # 2M x 20 rows persisted, 9 rounds
    python benchmarks/dask_logreg.py --rows 400_000 --repeat 5     # quicker

The primal and the hand-written gradient are ``workloads.logreg`` / ``logreg_grad``
(the ones benchmarks/run.py times on NumPy): the same functions, called with Dask
arrays.  The data are generated on the workers and persisted there, so a round times
building the graph, scheduling it and computing it (``dask.compute`` of the
gradients), not generating data.  Both gradients are timed in the same rounds,
alternating which goes first; medians are reported, with the ratio s2sgrad /
hand-written (target <= 1.10x).  The same is repeated on a cluster of 1 and of 2
worker processes (one thread each).  Prints a table and writes
benchmarks/results/dask_logreg.json.  Timings are never asserted in the tests.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, HERE)
from s2sgrad import grad  # noqa: E402
from workloads import logreg, logreg_grad  # noqa: E402


def _tasks(arrays) -> int:
    """How many tasks the graph of ``arrays`` has (the persisted data count as one
    each per chunk)."""
    import dask
    graph = {}
    for a in arrays:
        graph.update(dict(dask.array.Array.__dask_graph__(a)) if hasattr(a, "dask") else {})
    return len(graph)


def measure(n_workers, ns):
    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster, wait

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    try:
        rs = da.random.RandomState(3)
        X = rs.normal(size=(ns.rows, ns.features), chunks=(ns.chunk_rows, ns.features))
        w_true = np.linspace(-1.0, 1.0, ns.features)
        y = (X @ w_true + 0.5 * rs.normal(size=ns.rows, chunks=ns.chunk_rows) > 0.0
             ).astype(np.float64)
        X, y = client.persist([X, y])
        wait([X, y])
        w, b = 0.1 * np.cos(np.arange(ns.features)), 0.05
        s2s = grad(logreg, wrt=(0, 1))
        # warm-up (generation of the code, the workers' first tasks) and a check
        hw, hb = dask.compute(*logreg_grad(w, b, X, y))
        sw, sb = dask.compute(*s2s(w, b, X, y))
        np.testing.assert_allclose(sw, hw, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(sb, hb, rtol=1e-10, atol=1e-14)
        tasks = {"hand-written": _tasks(logreg_grad(w, b, X, y)),
                 "s2sgrad": _tasks(s2s(w, b, X, y))}
        times = {"hand-written": [], "s2sgrad": []}
        fns = [("hand-written", logreg_grad), ("s2sgrad", s2s)]
        for r in range(ns.repeat):
            for name, fn in (fns if r % 2 == 0 else fns[::-1]):
                t0 = time.perf_counter()
                dask.compute(*fn(w, b, X, y))
                times[name].append(time.perf_counter() - t0)
        return times, tasks
    finally:
        client.close()
        cluster.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=2_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--workers", default="1,2", help="cluster sizes, comma-separated")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "dask_logreg.json"))
    ns = parser.parse_args(argv)
    import dask
    results = {"rows": ns.rows, "features": ns.features, "chunk_rows": ns.chunk_rows,
               "repeat": ns.repeat, "dask": dask.__version__, "numpy": np.__version__,
               "python": platform.python_version(), "clusters": {}}
    print("logistic regression gradient, %d x %d float64 (%.0f MB) in chunks of %d rows, "
          "persisted on the workers; median of %d rounds"
          % (ns.rows, ns.features, ns.rows * ns.features * 8 / 1e6, ns.chunk_rows, ns.repeat))
    print("%-8s %14s %14s %8s %10s" % ("workers", "hand-written", "s2sgrad", "ratio",
                                       "tasks h/s"))
    for n in [int(k) for k in ns.workers.split(",")]:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        times, tasks = measure(n, ns)
        med = {k: statistics.median(v) for k, v in times.items()}
        results["clusters"][str(n)] = {"times": times, "median": med, "tasks": tasks,
                                       "load_before": load}
        print("%-8d %12.1f ms %12.1f ms %7.2fx %5d/%d"
              % (n, 1e3 * med["hand-written"], 1e3 * med["s2sgrad"],
                 med["s2sgrad"] / med["hand-written"], tasks["hand-written"],
                 tasks["s2sgrad"]))
    sizes = sorted(results["clusters"], key=int)
    if len(sizes) >= 2:
        a, b = results["clusters"][sizes[0]]["median"], results["clusters"][sizes[-1]]["median"]
        print("speed-up %s -> %s workers: hand-written %.2fx, s2sgrad %.2fx (load average %.1f)"
              % (sizes[0], sizes[-1], a["hand-written"] / b["hand-written"],
                 a["s2sgrad"] / b["s2sgrad"], os.getloadavg()[0]))
    os.makedirs(os.path.dirname(ns.out), exist_ok=True)
    with open(ns.out, "w") as fh:
        json.dump(results, fh, indent=1)
    print("written to %s" % ns.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
