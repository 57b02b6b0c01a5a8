"""scipy.optimize.minimize with jac=grad(f), against finite-difference Jacobians.

    python examples/scipy_optimize.py             # n = 10, 50, 200
    python examples/scipy_optimize.py --n 100     # one size
    python examples/scipy_optimize.py --quick     # smoke test (small n)

The n-dimensional Rosenbrock function is written once in NumPy; s2sgrad turns
it into its exact gradient.  Without ``jac`` SciPy estimates the gradient with
finite differences: n + 1 function evaluations per gradient, and less accurate
steps.  The table compares evaluations, wall time and the final result.
Needs: pip install scipy (or "s2sgrad[examples]").
"""
import argparse
import os
import sys
import time

# BFGS does many small dense (n x n) products: on a few cores, multithreaded BLAS
# spends more time synchronizing than computing.  Set before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from s2sgrad import grad  # noqa: E402


def rosenbrock(x):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; minimum 0 at x = (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


rosenbrock_grad = grad(rosenbrock)


class Counted:
    """Count calls of f (or of its gradient)."""

    def __init__(self, f):
        self.f = f
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def run(n, jac, method="BFGS"):
    from scipy.optimize import minimize
    x0 = np.zeros(n)
    compile_time = 0.0
    if jac == "s2sgrad":
        t0 = time.perf_counter()
        rosenbrock_grad(x0)              # generate + compile for this shape, once
        compile_time = time.perf_counter() - t0
    f = Counted(rosenbrock)
    g = Counted(rosenbrock_grad) if jac == "s2sgrad" else None
    t0 = time.perf_counter()
    res = minimize(f, x0, jac=g if g is not None else "2-point", method=method,
                   options={"maxiter": 20000, "gtol": 1e-6})
    elapsed = time.perf_counter() - t0
    return {"n": n, "jac": jac, "fevals": f.calls, "gevals": g.calls if g else res.njev,
            "iters": res.nit, "time": elapsed, "f": float(res.fun),
            "err": float(np.max(np.abs(res.x - 1.0))), "ok": bool(res.success),
            "compile": compile_time}


def table(rows):
    header = ("n", "jacobian", "iterations", "f evals", "grad evals", "time [s]",
              "final f", "max |x - 1|", "converged")
    lines = [header]
    for r in rows:
        lines.append((str(r["n"]), r["jac"], str(r["iters"]), str(r["fevals"]),
                      str(r["gevals"]), "%.3f" % r["time"], "%.2e" % r["f"], "%.1e" % r["err"],
                      "yes" if r["ok"] else "no"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[10, 50, 200],
                        help="dimensions to run (default: 10 50 200)")
    parser.add_argument("--method", default="BFGS", help="scipy.optimize.minimize method")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes only (smoke test; also S2SGRAD_EXAMPLES_QUICK=1)")
    parser.add_argument("--no-progress", action="store_true",
                        help="do not report each run on stderr as it finishes")
    ns = parser.parse_args(argv)
    sizes = [5, 10] if ns.quick or os.environ.get("S2SGRAD_EXAMPLES_QUICK") == "1" else ns.n
    rows = []
    runs = [(n, jac) for n in sizes for jac in ("s2sgrad", "finite differences")]
    for k, (n, jac) in enumerate(runs):
        rows.append(run(n, jac, ns.method))
        if not ns.no_progress:      # the n = 200 finite-difference run takes seconds
            print("[%d/%d] n=%d, %s: %d iterations, %.2f s"
                  % (k + 1, len(runs), n, jac, rows[-1]["iters"], rows[-1]["time"]),
                  file=sys.stderr, flush=True)
    print("scipy.optimize.minimize(method=%r) on the n-dimensional Rosenbrock function"
          % ns.method)
    print(table(rows))
    compile_ms = [1e3 * r["compile"] for r in rows if r["jac"] == "s2sgrad"]
    print("(times exclude generating the gradient code: %s ms, once per argument shape)"
          % ", ".join("%.0f" % t for t in compile_ms))
    print("\nThe gradient s2sgrad generated for rosenbrock:\n")
    print(rosenbrock_grad.source)
    ok = all(r["ok"] and r["err"] < 1e-3 for r in rows if r["jac"] == "s2sgrad")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
