"""s2sgrad / hand-written ratios from minimum times, for a loaded machine.

    python benchmarks/min_ratios.py [--root CHECKOUT] [--rounds N] [NAME ...]

For each workload: the hand-written gradient and ``grad(f, wrt)(*args)`` (after its
first call) are timed alternately, ``--rounds`` samples of >= 2 ms each, and the ratio
of their *minimum* time per call is printed.  On a shared machine the medians of
``run.py`` move with the neighbours' load; the minimum is what load cannot inflate.
``--root`` imports s2sgrad from another checkout (``git worktree add /tmp/base REV``)
to compare before and after on the same machine state.  One library thread, as run.py.
"""
import argparse
import os
import sys
import timeit
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="workloads (default: all)")
    parser.add_argument("--root", default=str(HERE.parent), help="checkout to import s2sgrad from")
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args(argv)
    sys.path.insert(0, options.root)
    sys.path.insert(1, str(HERE))
    import s2sgrad
    import workloads

    names = options.names or [w.name for w in workloads.WORKLOADS]
    for name in names:
        w = workloads.BY_NAME[name]
        args = w.make_inputs()
        g = s2sgrad.grad(w.f, wrt=w.wrt)
        g(*args)
        calls = {"hand": lambda: w.hand_grad(*args), "s2sgrad": lambda: g(*args)}
        once = min(timeit.repeat(calls["hand"], number=1, repeat=3))
        number = max(1, int(0.002 / max(once, 1e-7)))
        best = {k: float("inf") for k in calls}
        for _ in range(options.rounds):
            for k, call in calls.items():
                best[k] = min(best[k], timeit.timeit(call, number=number) / number)
        print("%-20s hand %10.1f us  s2sgrad %10.1f us  ratio %.2f"
              % (name, best["hand"] * 1e6, best["s2sgrad"] * 1e6, best["s2sgrad"] / best["hand"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
