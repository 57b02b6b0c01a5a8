"""Benchmark s2sgrad against a hand-written gradient, autograd, JAX and PyTorch.

    python benchmarks/run.py [--quick] [--only NAME[,NAME]] [--repeat N] [--check]

For every workload in ``workloads.py``: every implementation's gradient is
checked against the hand-written one first (a mismatch is printed and that
column dropped), then all are timed round-robin and their medians reported
as ratios to the hand-written gradient.  Also measured: the forward pass alone,
s2sgrad's generation time, JAX's compile time and peak memory.  The table goes
to stdout, the full record to benchmarks/results/latest.json, a plot to
docs/benchmarks.png.  See benchmarks/README.md.
"""

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(1, str(ROOT))  # run from a checkout without installing


def _pin_threads(argv):
    """Give every library's thread pool the same size, before any is loaded.

    On a small shared machine, pools left spinning by one library (OpenBLAS,
    PyTorch's OpenMP, XLA's Eigen) steal the cores of the next one timed in
    the round-robin; one thread each (the default) removes that interference.
    """
    threads = "1"
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    if threads == "1":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false"
                                   + " intra_op_parallelism_threads=1").strip()
    return int(threads)


THREADS = _pin_threads(sys.argv[1:])

import numpy as np  # noqa: E402

import harness  # noqa: E402
import references  # noqa: E402
import workloads  # noqa: E402

REFERENCES = ("autograd", "jax", "torch")
COLUMNS = ("hand", "s2sgrad") + REFERENCES
RESULTS_JSON = HERE / "results" / "latest.json"
NOISY_IQR = 0.25  # a column whose interquartile range exceeds this share of its median
PLOT_PNG = ROOT / "docs" / "benchmarks.png"


# --- s2sgrad, reached only through its public API ------------------------------

def _warm_up(x):
    return np.sum(x * x)


def load_s2sgrad():
    """(grad, None) or (None, the reason it cannot be imported).

    One throwaway gradient is generated first, so that modules s2sgrad loads
    lazily on first use are not billed to the first workload's generation time.
    """
    try:
        from s2sgrad import grad
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    try:
        grad(_warm_up, wrt=0)(np.ones(3))
    except Exception as exc:
        print(f"s2sgrad warm-up failed: {one_line(exc)}", file=sys.stderr)
    return grad, None


def clear_s2sgrad_cache():
    """Empty s2sgrad's in-process cache if it exposes a way to; True if it did."""
    try:
        from s2sgrad import cache
    except Exception:
        return False
    for name in ("clear_memory", "clear_in_process", "clear", "clear_cache", "cache_clear"):
        clear = getattr(cache, name, None)
        if callable(clear):
            clear()
            return True
    return False


def one_line(exc):
    text = f"{type(exc).__name__}: {exc}".strip()
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def describe_s2sgrad_failure(exc):
    """'unsupported: ...' for s2sgrad's own refusals, 'failed: ...' for crashes.

    A crash names the frame it came from, so a bug in the generated code
    (frames named "<s2sgrad ...>") is told apart from one in the compiler.
    """
    try:
        from s2sgrad import S2SGradError
    except Exception:
        S2SGradError = ()
    if isinstance(exc, S2SGradError):
        return f"unsupported: {one_line(exc)}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return f"failed: {one_line(exc)}"
    last = frames[-1]
    origin = "in generated code" if last.filename.startswith("<s2sgrad") else "in s2sgrad"
    where = f"{Path(last.filename).name}:{last.lineno} {last.name}"
    line = f" `{last.line.strip()}`" if last.line else ""
    return f"failed {origin} ({where}{line}): {one_line(exc)}"


# --- one workload --------------------------------------------------------------

def build_columns(workload, args, expected, s2s_grad, s2s_missing):
    """Callables to time, keyed by column, plus each column's status/extras."""
    calls, status, extra = {}, {}, {}
    to_tuple = lambda result: workloads.as_tuple(result, workload.wrt)  # noqa: E731

    calls["hand"] = lambda: workload.hand_grad(*args)
    status["hand"] = "ok"

    if s2s_grad is None:
        status["s2sgrad"] = f"n/a ({s2s_missing})"
    else:
        try:
            cleared = clear_s2sgrad_cache()
            start = time.perf_counter()
            gradient = s2s_grad(workload.f, wrt=workload.wrt)
            first = gradient(*args)
            extra["s2sgrad_first_call_s"] = time.perf_counter() - start
            extra["s2sgrad_cache_cleared"] = cleared
        except Exception as exc:
            status["s2sgrad"] = describe_s2sgrad_failure(exc)
        else:
            calls["s2sgrad"] = (lambda g=gradient: g(*args))
            status["s2sgrad"] = check(first, to_tuple, expected, args, workload.wrt)

    for name in REFERENCES:
        try:
            call, to_numpy = references.BUILDERS[name](workload, args)
        except references.Unavailable as exc:
            status[name] = "n/a"
            extra[f"{name}_unavailable"] = str(exc)
            continue
        try:
            start = time.perf_counter()
            first = call()
            extra[f"{name}_first_call_s"] = time.perf_counter() - start
        except Exception as exc:
            status[name] = f"error: {one_line(exc)}"
            continue
        calls[name] = call
        status[name] = check(first, to_numpy, expected, args, workload.wrt)

    for name, state in status.items():
        if state != "ok":
            calls.pop(name, None)
            if state.startswith(("MISMATCH", "error")):
                print(f"  !! {workload.name}: {name} {state}", file=sys.stderr)
    return calls, status, extra


def check(result, to_tuple, expected, args, wrt):
    try:
        problem = harness.compare_gradients(to_tuple(result), expected, args,
                                            (wrt,) if isinstance(wrt, int) else wrt)
    except Exception as exc:
        problem = f"could not compare: {one_line(exc)}"
    return "ok" if problem is None else f"MISMATCH: {problem}"


def run_workload(workload, s2s_grad, s2s_missing, options):
    args = workload.make_inputs()
    expected = workloads.as_tuple(workload.hand_grad(*args), workload.wrt)
    calls, status, extra = build_columns(workload, args, expected, s2s_grad, s2s_missing)
    calls["forward"] = lambda: workload.f(*args)

    loops = {name: harness.calibrate(call, options.sample_seconds) for name, call in calls.items()}
    samples = harness.round_robin(calls, loops, options.repeat)
    timings = {name: dict(harness.summarize(s), loops=loops[name]) for name, s in samples.items()}

    memory = {}
    for name in ("hand", "s2sgrad", "autograd", "forward"):
        if name in calls:
            memory[name] = harness.peak_memory(calls[name])

    hand = timings["hand"]["median_s"]
    record = {"description": workload.description, "wrt": list(workload.wrt_tuple),
              "status": status, "timings": timings, "peak_memory_bytes": memory,
              "ratio_to_hand": {name: t["median_s"] / hand for name, t in timings.items()},
              **extra}
    if "s2sgrad" in timings and "s2sgrad_first_call_s" in extra:
        record["s2sgrad_generation_s"] = max(
            0.0, extra["s2sgrad_first_call_s"] - timings["s2sgrad"]["median_s"])
    if "jax" in timings and "jax_first_call_s" in extra:
        record["jax_compile_s"] = max(0.0, extra["jax_first_call_s"] - timings["jax"]["median_s"])
    return record


# --- reporting -----------------------------------------------------------------

def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_cell(record, name):
    if name in record["timings"]:
        timing = record["timings"][name]
        noisy = "*" if timing["iqr_rel"] > NOISY_IQR else ""
        return f"{fmt_time(timing['median_s'])} ({record['ratio_to_hand'][name]:.2f}x){noisy}"
    state = record["status"].get(name, "n/a")
    return state.split(":")[0].split(" (")[0] if not state.startswith("n/a") else "n/a"


def geomeans(results):
    means = {}
    for name in ("s2sgrad",) + REFERENCES + ("forward",):
        ratios = [r["ratio_to_hand"][name] for r in results.values() if name in r["ratio_to_hand"]]
        if ratios:
            means[name] = {"geomean_ratio": math.exp(sum(map(math.log, ratios)) / len(ratios)),
                           "workloads": len(ratios)}
    return means


def print_table(rows, header):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    line = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))


def report(results, means, total):
    print("\nGradient time, median per call (ratio to hand-written)")
    rows = [[name] + [fmt_cell(r, c) for c in COLUMNS] for name, r in results.items()]
    rows.append(["geo-mean ratio", "1.00x"] + [
        f"{means[c]['geomean_ratio']:.2f}x ({means[c]['workloads']}/{total})" if c in means
        else "-" for c in COLUMNS[1:]])
    print_table(rows, ["workload"] + list(COLUMNS))

    print("\nForward pass, generation/compile time, peak memory of one gradient call")
    rows = []
    for name, r in results.items():
        t = r["timings"]
        mem = r["peak_memory_bytes"]
        ratio = lambda c: f"{t[c]['median_s'] / t['forward']['median_s']:.1f}" if c in t else "-"  # noqa: E731
        kib = lambda c: f"{mem[c] / 1024:.1f}" if c in mem else "-"  # noqa: E731
        gen = r.get("s2sgrad_generation_s")
        jit = r.get("jax_compile_s")
        rows.append([name, fmt_time(t["forward"]["median_s"]), ratio("hand"), ratio("s2sgrad"),
                     fmt_time(gen) if gen is not None else "-",
                     fmt_time(jit) if jit is not None else "-",
                     kib("forward"), kib("hand"), kib("s2sgrad"), kib("autograd")])
    print_table(rows, ["workload", "forward", "hand/fwd", "s2s/fwd", "s2s gen", "jax jit",
                       "KiB fwd", "KiB hand", "KiB s2s", "KiB autograd"])

    problems = [(name, col, state) for name, r in results.items()
                for col, state in r["status"].items() if state != "ok" and not state.startswith("n/a")]
    if problems:
        print("\nNot timed:")
        for name, col, state in problems:
            print(f"  {name} / {col}: {state}")
    unavailable = sorted({col for r in results.values() for col, s in r["status"].items()
                          if s.startswith("n/a")})
    for col in unavailable:
        reason = next((r["status"][col] for r in results.values()), "")
        print(f"  {col}: n/a {reason[3:].strip() if col == 's2sgrad' else '(not installed)'}")


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    columns = ("s2sgrad",) + REFERENCES
    colors = {"s2sgrad": "#1f77b4", "autograd": "#ff7f0e", "jax": "#2ca02c", "torch": "#d62728"}
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(names)), 4.8))
    ax.set_yscale("log")
    for k, col in enumerate(columns):
        xs = [i - 0.4 + width * (k + 0.5) for i in range(len(names))]
        heights = [results[n]["ratio_to_hand"].get(col) for n in names]
        ax.bar([x for x, h in zip(xs, heights) if h], [h for h in heights if h],
               width, label=col, color=colors[col])
        for x, n, h in zip(xs, names, heights):
            if not h:
                state = results[n]["status"].get(col, "n/a")
                label = state.split()[0].rstrip(":")
                ax.text(x, 1.0, label, rotation=90, ha="center", va="bottom", fontsize=7,
                        color=colors[col])
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="hand-written = 1")
    ratios = [v for r in results.values() for c, v in r["ratio_to_hand"].items() if c in columns]
    ax.set_ylim(min([0.5] + [0.7 * v for v in ratios]), 5.0 * max([2.0] + ratios))
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("gradient time / hand-written (log scale)")
    ax.set_title("Gradient time relative to hand-written NumPy (lower is better)")
    ax.legend(fontsize=8, ncol=5, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def environment():
    info = {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "numpy": np.__version__}
    from importlib import metadata
    for name in ("autograd", "jax", "torch", "matplotlib"):
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    try:  # the s2sgrad benchmarked is the checkout's, so name its commit
        info["s2sgrad_commit"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        info["s2sgrad_commit"] = None
    try:
        import torch
        info["torch_threads"] = torch.get_num_threads()
    except Exception:
        pass
    return info


# --- entry points --------------------------------------------------------------

def check_handwritten(selected):
    """Compare every hand-written gradient with central finite differences."""
    failed = False
    for workload in selected:
        args = workload.make_inputs()
        gradients = workloads.as_tuple(workload.hand_grad(*args), workload.wrt)
        failures, checks = harness.finite_difference_check(
            workload.f, gradients, args, workload.wrt_tuple)
        print(f"{workload.name:22s} {'ok' if not failures else 'FAILED'} ({checks} comparisons)")
        for failure in failures:
            print(f"    {failure}")
        failed = failed or bool(failures)
    return 1 if failed else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer, shorter samples (about 30 s in all)")
    parser.add_argument("--only", metavar="NAME[,NAME]",
                        help="workloads whose names contain any of these substrings")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="samples per implementation (default 31, 5 with --quick)")
    parser.add_argument("--check", action="store_true",
                        help="check hand-written gradients by finite differences, then exit")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="threads for BLAS, PyTorch and XLA (default 1; see README)")
    parser.add_argument("--no-plot", action="store_true", help="skip docs/benchmarks.png")
    parser.add_argument("--output", type=Path, default=RESULTS_JSON, help="JSON results path")
    options = parser.parse_args(argv)
    if options.repeat is None:
        options.repeat = 5 if options.quick else 31
    options.sample_seconds = 0.001 if options.quick else 0.005
    return options


def main(argv=None):
    options = parse_args(argv)
    selected = workloads.WORKLOADS
    if options.only:
        wanted = [w.strip() for w in options.only.split(",") if w.strip()]
        selected = [w for w in selected if any(s in w.name for s in wanted)]
        if not selected:
            sys.exit(f"no workload matches {options.only!r}; known: "
                     + ", ".join(w.name for w in workloads.WORKLOADS))
    if options.check:
        return check_handwritten(selected)

    started = time.perf_counter()
    load_before = os.getloadavg()
    s2s_grad, s2s_missing = load_s2sgrad()
    if s2s_grad is None:
        print(f"s2sgrad unavailable: {s2s_missing}", file=sys.stderr)

    results = {}
    for workload in selected:
        print(f"[{time.perf_counter() - started:6.1f}s] {workload.name} ...", file=sys.stderr)
        results[workload.name] = run_workload(workload, s2s_grad, s2s_missing, options)

    means = geomeans(results)
    report(results, means, len(results))
    elapsed = time.perf_counter() - started
    if any(t["iqr_rel"] > NOISY_IQR for r in results.values() for t in r["timings"].values()):
        print(f"\n* noisy: interquartile range above {NOISY_IQR:.0%} of the median; "
              "rerun with a larger --repeat")
    load_after = os.getloadavg()
    if max(load_before[0], load_after[0]) > (os.cpu_count() or 1):
        print(f"WARNING: load average {max(load_before[0], load_after[0]):.1f} exceeds the "
              f"{os.cpu_count()} CPUs: other work competed for the cores, absolute times and "
              "even ratios may be off", file=sys.stderr)
    print(f"\n{options.repeat} round-robin samples per column, >= {options.sample_seconds * 1e3:g} ms "
          f"each, {THREADS} thread(s) per library; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{elapsed:.0f} s in all.")

    record = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "options": {"quick": options.quick, "repeat": options.repeat, "threads": THREADS,
                          "only": options.only, "sample_seconds": options.sample_seconds},
              "environment": environment(),
              "load_average": {"before": load_before, "after": os.getloadavg()},
              "elapsed_s": elapsed, "geomean_ratio_to_hand": means, "workloads": results}
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {options.output}")
    if not options.no_plot:
        try:
            plot(results, PLOT_PNG)
            print(f"wrote {PLOT_PNG}")
        except ImportError as exc:
            print(f"no plot: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
