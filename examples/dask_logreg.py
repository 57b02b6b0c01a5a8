"""Logistic regression on more data than one Dask worker may hold, gradients by s2sgrad.

    python examples/dask_logreg.py                     # 4M x 20 (640 MB), 2 workers of 400 MB
    python examples/dask_logreg.py --rows 50_000_000   # 50M x 20: 8 GB of float64
    python examples/dask_logreg.py --quick             # smoke test (also S2SGRAD_EXAMPLES_QUICK=1)

The loss is the plain NumPy function below.  ``value_and_grad(logreg)`` called with
Dask arrays returns lazy Dask arrays: the generated code (printed at the start) is the
same flat NumPy code, and NumPy hands each call to Dask, which builds a task graph.
The data are never materialized as a whole: they are generated chunk by chunk on the
workers (``da.random``, from a seed) and reduced to the gradient (20 numbers) at every
step, so the dataset can be far larger than a worker's memory limit.  A progress bar
(Dask's diagnostics) follows each step; the loss curve is written as a PNG into
``examples/output/`` (git-ignored); at the end the same function is differentiated
with NumPy arrays on a sample of the data and both gradients are compared.
Needs: pip install "s2sgrad[dask]" matplotlib.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from s2sgrad import grad, value_and_grad  # noqa: E402

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")


def logreg(w, b, X, y):
    """Mean logistic loss (labels 0/1), written stably with logaddexp."""
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def dataset(rows, features, chunk_rows, seed=0):
    """A lazy dataset: features from N(0, 1), labels from a fixed linear model with
    noise.  Nothing is generated until a computation needs a chunk."""
    import dask.array as da
    rs = da.random.RandomState(seed)
    X = rs.normal(size=(rows, features), chunks=(chunk_rows, features))
    w_true = np.linspace(-1.0, 1.0, features)
    noise = rs.logistic(size=rows, chunks=chunk_rows)
    y = (X @ w_true + 0.5 + noise > 0).astype(np.float64)
    return X, y, w_true


def progress_bar(client, futures, enabled):
    """Dask's progress bar: ``distributed.progress`` on a cluster."""
    if enabled:
        from dask.distributed import progress
        progress(futures, notebook=False)
        print(file=sys.stderr)


def plot(losses, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(np.arange(len(losses)), losses, "o-", color="#1565c0")
    ax.set_xlabel("gradient step")
    ax.set_ylabel("mean logistic loss (all rows)")
    ax.set_title("Dask logistic regression, gradients by s2sgrad")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=4_000_000,
                        help="rows of the lazily generated dataset (default 4M; try 50M)")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2.0, help="gradient-descent step size")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="400MB", help="per worker")
    parser.add_argument("--sample", type=int, default=20_000,
                        help="rows of the NumPy comparison sample")
    parser.add_argument("--plot", default=os.path.join(OUTPUT, "dask_logreg.png"))
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 200k rows in chunks of 50k, 2 steps")
    parser.add_argument("--no-progress", action="store_true")
    ns = parser.parse_args(argv)
    if ns.quick or os.environ.get("S2SGRAD_EXAMPLES_QUICK") == "1":
        ns.rows, ns.steps, ns.chunk_rows, ns.sample = 200_000, 2, 50_000, 5_000
    import dask
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=ns.workers, threads_per_worker=1, processes=True,
                           memory_limit=ns.memory_limit, dashboard_address=None,
                           silence_logs=40)
    client = Client(cluster)
    try:
        X, y, w_true = dataset(ns.rows, ns.features, ns.chunk_rows)
        budget = dask.utils.parse_bytes(ns.memory_limit)
        print("data: %d x %d float64 = %s, generated lazily in %d chunks; %d workers of %s "
              "each (%.1fx one worker's budget)"
              % (ns.rows, ns.features, dask.utils.format_bytes(X.nbytes), X.npartitions,
                 ns.workers, dask.utils.format_bytes(budget), X.nbytes / budget))
        step = value_and_grad(logreg, wrt=(0, 1))
        w, b = np.zeros(ns.features), 0.0
        losses = []
        t0 = time.perf_counter()
        for k in range(ns.steps):
            loss, (gw, gb) = step(w, b, X, y)          # lazy: builds the graph only
            if k == 0:
                print("\ngenerated code (value_and_grad of logreg, Dask arguments):\n")
                print(step.source)
            futures = client.compute([loss, gw, gb])
            progress_bar(client, futures, not ns.no_progress)
            loss, gw, gb = client.gather(futures)
            losses.append(float(loss))
            print("step %2d  loss %.6f  |grad| %.3e" % (k, loss, np.linalg.norm(gw)))
            w, b = w - ns.lr * gw, b - ns.lr * float(gb)
        elapsed = time.perf_counter() - t0
        final = float(logreg(w, b, X, y).compute())
        losses.append(final)
        print("final loss %.6f after %d steps (%.1f s, %.1f s per step)"
              % (final, ns.steps, elapsed, elapsed / max(ns.steps, 1)))
        print("cosine(w, w_true) = %.4f"
              % (w @ w_true / (np.linalg.norm(w) * np.linalg.norm(w_true))))

        # The same function, differentiated with NumPy arrays on a sample of the rows
        Xs, ys = dask.compute(X[:ns.sample], y[:ns.sample])
        g_numpy = grad(logreg, wrt=(0, 1))(w, b, Xs, ys)
        g_dask = dask.compute(*grad(logreg, wrt=(0, 1))(w, b, X[:ns.sample], y[:ns.sample]))
        diff = max(np.max(np.abs(g_numpy[0] - g_dask[0])), abs(g_numpy[1] - g_dask[1]))
        print("sample of %d rows: NumPy and Dask gradients agree to %.1e (max abs difference)"
              % (ns.sample, diff))
        os.makedirs(os.path.dirname(os.path.abspath(ns.plot)), exist_ok=True)
        plot(losses, ns.plot)
        print("loss curve saved to %s" % ns.plot)
        ok = diff <= 1e-12 * max(1.0, np.max(np.abs(g_numpy[0]))) and losses[-1] < losses[0]
        return 0 if ok else 1
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
