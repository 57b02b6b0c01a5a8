"""Per-call overhead of s2sgrad's cached ``grad`` wrapper.

    python benchmarks/overhead.py [--repeat N] [--sample-ms T] [--root CHECKOUT]

Times, on the scalar neuron, ``g(*args)`` (the object ``grad`` returns, after
its first call has generated the code) against the generated function itself
(``g._compiled``) called with the same arguments, round-robin, and reports the
median nanoseconds each and their difference: what the wrapper's dispatch and
cache look-up cost on every call.  A no-op function taking the same five
arguments gives the floor of the measurement (loop and call cost).  Where the
object has a generated dispatcher (``g._dispatch``, s2sgrad/api/dispatch.py), it is
timed too, called directly: ``g(*args)`` minus that is the cost of calling the
object; that minus ``g._compiled`` the cost of the dispatcher's tests.  ``--root``
imports s2sgrad from another checkout, to compare before and after.  On a loaded
machine, compare the minima (many short samples: ``--repeat 201 --sample-ms 1``).
"""

import argparse
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent

import numpy as np  # noqa: E402

import harness  # noqa: E402
import workloads  # noqa: E402

# Where the generated function hangs off the object grad() returns.
COMPILED_ATTRIBUTES = ("_compiled", "compiled", "_generated", "__wrapped__")


def generated_function(gradient):
    for name in COMPILED_ATTRIBUTES:
        function = getattr(gradient, name, None)
        if callable(function):
            return name, function
    raise SystemExit("cannot find the generated function on the grad object; looked for "
                     + ", ".join(COMPILED_ATTRIBUTES) + f" on {type(gradient).__name__}")


def noop(w0, x0, w1, x1, w2):
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=31, help="samples per variant")
    parser.add_argument("--sample-ms", type=float, default=5.0, help="length of one sample")
    parser.add_argument("--root", default=str(HERE.parent), help="checkout to import s2sgrad from")
    options = parser.parse_args(argv)
    sys.path.insert(0, options.root)

    try:
        from s2sgrad import grad
    except Exception as exc:
        raise SystemExit(f"s2sgrad unavailable: {type(exc).__name__}: {exc}")

    workload = workloads.BY_NAME["neuron"]
    w0, x0, w1, x1, w2 = workload.make_inputs()
    gradient = grad(workload.f, wrt=workload.wrt)
    through_wrapper = gradient(w0, x0, w1, x1, w2)  # generates the code
    gradient(w0, x0, w1, x1, w2)                   # a second call builds the dispatcher
    attribute, direct = generated_function(gradient)
    directly = direct(w0, x0, w1, x1, w2)
    expected = workload.hand_grad(w0, x0, w1, x1, w2)
    if not np.allclose(np.asarray(through_wrapper, float), np.asarray(directly, float), rtol=0, atol=0) \
            or not np.allclose(np.asarray(directly, float), np.asarray(expected, float), rtol=1e-12):
        raise SystemExit(f"results differ: wrapper {through_wrapper}, g.{attribute} {directly}, "
                         f"hand-written {expected}")

    calls = {"wrapper": lambda: gradient(w0, x0, w1, x1, w2),
             "direct": lambda: direct(w0, x0, w1, x1, w2),
             "no-op": lambda: noop(w0, x0, w1, x1, w2)}
    dispatcher = getattr(gradient, "_dispatch", None)
    if isinstance(dispatcher, types.FunctionType):   # not the general path (a bound method)
        calls["dispatcher"] = lambda: dispatcher(w0, x0, w1, x1, w2)
    loops = {name: harness.calibrate(call, options.sample_ms / 1000) for name, call in calls.items()}
    samples = harness.round_robin(calls, loops, options.repeat)
    median_ns = {name: float(np.median(s)) * 1e9 for name, s in samples.items()}
    min_ns = {name: float(np.min(s)) * 1e9 for name, s in samples.items()}
    spread = {name: harness.summarize(s)["iqr_rel"] for name, s in samples.items()}

    print(f"neuron, 5 Python floats; {options.repeat} round-robin samples of "
          f">= {options.sample_ms:g} ms each")
    for name, label in (("wrapper", "g(*args)"), ("dispatcher", "g._dispatch(*args)"),
                        ("direct", f"g.{attribute}(*args)"), ("no-op", "no-op(*args) floor")):
        if name not in samples:
            continue
        print(f"  {label:24s} {median_ns[name]:9.0f} ns/call  (IQR {100 * spread[name]:.0f}%, "
              f"min {min_ns[name]:.0f})")
    overhead = median_ns["wrapper"] - median_ns["direct"]
    print(f"  wrapper overhead         {overhead:9.0f} ns/call "
          f"({overhead / median_ns['direct']:.0%} of the generated function's time; "
          f"from the minima {min_ns['wrapper'] - min_ns['direct']:.0f})")
    if "dispatcher" in samples:
        print(f"    calling the object     {median_ns['wrapper'] - median_ns['dispatcher']:9.0f} ns/call "
              f"(from the minima {min_ns['wrapper'] - min_ns['dispatcher']:.0f})")
        print(f"    the dispatcher's tests {median_ns['dispatcher'] - median_ns['direct']:9.0f} ns/call "
              f"(from the minima {min_ns['dispatcher'] - min_ns['direct']:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
