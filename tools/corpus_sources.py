"""Write the generated source of every function in the corpus to one file.

    python tools/corpus_sources.py OUT.txt [--seeds N] [--no-tests]

The corpus: the gallery page and the supported-operations page (both rendered from real
runs), the benchmark workloads, the seed examples, ``N`` random programs of
``tests/progen.py`` (plain and extended) and the functions of several test files, each
differentiated by ``grad``, ``jvp``, ``vjp`` and ``hessian`` where that applies.  Every
code object the compiler generates on the way (nested transforms too) is recorded, in
order, with what made it.  Two runs of this script on two commits give byte-identical
files exactly when the commits generate the same code: the check that a refactoring
changed no behaviour (``diff a.txt b.txt``).

The disk cache is off for the run (``S2SGRAD_NO_CACHE=1``), so everything is generated.
"""
import contextlib
import importlib
import io
import os
import runpy
import sys
import traceback

os.environ["S2SGRAD_NO_CACHE"] = "1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "tools"),
           os.path.join(ROOT, "benchmarks")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402

# Where the record of one generation (source, function, name) is defined, old layout first.
_GENERATED_AT = ["s2sgrad.pipeline", "s2sgrad.ad.pipeline", "s2sgrad.api.pipeline",
                 "s2sgrad.back.compile"]

# Test files whose functions join the corpus (found wherever they live under tests/;
# "old|new": a file renamed since, labelled by its first name so that runs compare).
TEST_FILES = ["test_core_ops.py", "test_controlflow.py", "test_containers.py",
              "test_subroutines.py", "test_forward.py", "test_vjp.py", "test_higher_order.py",
              "test_rules_vs_autograd.py", "test_rules_ufuncs.py", "test_rules_reductions.py",
              "test_rules_shape.py", "test_rules_linalg.py", "test_array_writes.py",
              "test_optimize.py", "test_optimize_loops.py",
              "test_surgery.py|test_gradient_control.py", "test_idioms.py|test_shift_invariance.py", "test_custom_adjoint.py", "test_rules_second_order.py"]


class Recorder:
    def __init__(self):
        self.label = "?"
        self.out = []

    def section(self, label):
        self.label = label

    def note(self, text):
        self.out.append("## %s: %s\n" % (self.label, text))

    def generated(self, gen):
        self.out.append("## %s: generated %s%s\n%s\n" % (
            self.label, gen.name, " (specialized)" if gen.specialized else "", gen.source))


REC = Recorder()


def _hook():
    for path in _GENERATED_AT:
        try:
            module = importlib.import_module(path)
        except ImportError:
            continue
        cls = getattr(module, "Generated", None)
        if cls is None:
            continue
        init = cls.__init__

        def recording_init(self, *args, **kwargs):
            init(self, *args, **kwargs)
            REC.generated(self)
        cls.__init__ = recording_init
        return
    raise SystemExit("corpus_sources: no Generated class found in %s" % _GENERATED_AT)


def _attempt(label, thunk):
    REC.section(label)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            thunk()
    except SystemExit as e:  # an example script's own exit
        if e.code not in (None, 0):
            REC.note("exit %r" % (e.code,))
    except Exception as e:   # an error is behaviour too: record its type and message
        REC.note("error %s: %s" % (type(e).__name__, str(e).split("\n")[0]))


def pages():
    import gen_gallery
    import gen_supported
    with open(gen_gallery.PAGE, encoding="utf-8") as f:
        current = f.read()
    _attempt("gallery", lambda: REC.note("page\n" + gen_gallery.render(current)))
    _attempt("supported", lambda: REC.note("page\n" + gen_supported.render()))


def workloads():
    import workloads as w
    for wl in w.WORKLOADS:
        _attempt("workload %s grad" % wl.name,
                 lambda: s2sgrad.grad(wl.f, wrt=wl.wrt)(*wl.make_inputs()))


def examples():
    _attempt("examples/seeds.py",
             lambda: runpy.run_path(os.path.join(ROOT, "examples", "seeds.py"),
                                    run_name="__main__"))


def _scalar_args(args, wrt):
    return all(np.ndim(args[i]) == 0 for i in wrt)


def random_programs(n):
    import progen
    for seed in range(n):
        for extended in (False, True):
            label = "progen %d%s" % (seed, " extended" if extended else "")
            try:
                prog = progen.generate(seed, extended=extended)
            except Exception as e:
                REC.section(label)
                REC.note("progen error %s" % type(e).__name__)
                continue
            f = prog.function()
            args = prog.args
            wrt = prog.wrt if len(prog.wrt) > 1 else prog.wrt[0]
            _attempt(label + " grad", lambda: s2sgrad.grad(f, wrt=wrt)(*args))
            if extended or seed % 4:
                continue
            first = prog.wrt[0]
            _attempt(label + " vjp",
                     lambda: s2sgrad.vjp(f, wrt=first)(*args)[1](1.0))
            tangent = np.ones_like(np.asarray(args[first], dtype=float))
            if np.ndim(args[first]) == 0:
                tangent = 1.0
            _attempt(label + " jvp", lambda: s2sgrad.jvp(f, wrt=first)(*args, tangent))
            if seed % 8 == 0:
                _attempt(label + " hessian", lambda: s2sgrad.hessian(f, wrt=first)(*args))


_LABEL = {}     # file name -> the name it is labelled by


def _find_test(names):
    names = names.split("|")
    for dirpath, _, files in sorted(os.walk(os.path.join(ROOT, "tests"))):
        for name in names:
            if name in files:
                _LABEL[name] = names[0]
                return os.path.join(dirpath, name)
    raise SystemExit("corpus_sources: %s not found under tests/" % " or ".join(names))


class _Labeller:
    """pytest plugin: label what each test generates by file name and test name."""

    def pytest_runtest_setup(self, item):
        name = os.path.basename(str(item.fspath))
        REC.section("test %s::%s" % (_LABEL.get(name, name), item.name))

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and not report.passed:
            REC.note("%s" % report.outcome)


def tests():
    import pytest
    paths = [_find_test(name) for name in TEST_FILES]
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                     "--rootdir", ROOT] + paths, plugins=[_Labeller()])


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    out = argv[0]
    seeds = int(argv[argv.index("--seeds") + 1]) if "--seeds" in argv else 300
    _hook()
    try:
        pages()
        workloads()
        examples()
        random_programs(seeds)
        if "--no-tests" not in argv:
            tests()
    except Exception:
        traceback.print_exc()
        return 1
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(REC.out)
    print("%s: %d entries" % (out, len(REC.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
