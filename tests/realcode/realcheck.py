"""The checks every program of tests/realcode/ goes through.

Each program is a complete module written as the places users come from write it
(course layer libraries, model classes, autograd-style examples, training scripts);
at its end, ``problem()`` says what to differentiate: ``f`` (a function or a bound
method), ``args``, ``wrt`` (an index, a parameter name or an attribute path such as
``"self.params"``), and optionally ``reference`` (the program's own hand-written
backward, returning gradients in the structure ``grad`` returns), ``steps``, ``lr``.

``run(module)``:
1. the gradient is compared with central finite differences (float64, sampled
   entries of every differentiated array) and with the hand-written backward;
2. 20+ steps of gradient descent run on the differentiated arrays (updated in place,
   as a training loop does), the gradient checked again against finite differences at
   the last step, and the number of generated specializations must stay small (a
   re-specialization on every step would mean the signature keys something that
   changes each call).
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys

import numpy as np

import s2sgrad

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    path = os.path.join(HERE, name + ".py")
    spec = importlib.util.spec_from_file_location("realcode_" + name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def programs():
    return sorted(f[:-3] for f in os.listdir(HERE)
                  if f.endswith(".py") and not f.startswith(("test_", "realcheck", "conftest",
                                                             "_")))


def _target(f, args, item):
    """The value ``wrt`` item names (an argument, or an attribute path of one)."""
    bound = inspect.ismethod(f)
    params = list(inspect.signature(f.__func__ if bound else f).parameters)
    everything = ((f.__self__,) if bound else ()) + tuple(args)
    path = []
    if isinstance(item, str):
        head, *path = item.split(".")
        index = params.index(head)
    else:
        index = item + (1 if bound else 0)
    value = everything[index]
    for attr in path:
        value = getattr(value, attr)
    return value


def pairs(value, gradient, where="x"):
    """(array, its gradient, label) for every float array under ``value``."""
    if isinstance(value, np.ndarray):
        assert isinstance(gradient, np.ndarray), (where, type(gradient))
        assert gradient.shape == value.shape and gradient.dtype == value.dtype, \
            (where, gradient.shape, value.shape, gradient.dtype, value.dtype)
        return [(value, gradient, where)] if value.dtype.kind == "f" else []
    if isinstance(value, dict):
        assert set(gradient) <= set(value), (where, set(gradient), set(value))
        return [p for k in value if k in gradient
                for p in pairs(value[k], gradient[k], "%s[%r]" % (where, k))]
    if isinstance(value, (list, tuple)):
        assert len(gradient) == len(value), where
        return [p for k, (v, g) in enumerate(zip(value, gradient))
                for p in pairs(v, g, "%s[%d]" % (where, k))]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        out = []
        for k, v in vars(value).items():
            if isinstance(gradient, dict):
                if k not in gradient:
                    continue
                g = gradient[k]
            else:
                g = getattr(gradient, k)
            out += pairs(v, g, "%s.%s" % (where, k))
        return out
    return []


def _scalar(v):
    v = np.asarray(v, dtype=np.float64)
    assert v.size == 1, v.shape
    return float(v.reshape(()))


def finite_difference_check(f, args, wrt, grads, samples=6, seed=0, rtol=1e-5, atol=1e-7):
    """Central differences in float64 on sampled entries of every differentiated array
    (perturbed in place, where the function reads it), against ``grads``."""
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    rng = np.random.RandomState(seed)
    checked = 0
    for item, g in zip(items, grads):
        for leaf, gleaf, where in pairs(_target(f, args, item), g, str(item)):
            flat = leaf.reshape(-1)
            assert np.shares_memory(flat, leaf)
            ks = rng.choice(flat.size, size=min(samples, flat.size), replace=False)
            for k in ks:
                old = flat[k]
                h = 1e-6 * max(1.0, abs(old))
                flat[k] = old + h
                fp = _scalar(f(*args))
                flat[k] = old - h
                fm = _scalar(f(*args))
                flat[k] = old
                numeric = (fp - fm) / (2 * h)
                noise = 16 * np.finfo(float).eps * max(abs(fp), abs(fm), 1.0) / (2 * h)
                analytic = gleaf.reshape(-1)[k]
                assert abs(analytic - numeric) <= atol + rtol * abs(numeric) + noise, \
                    "%s: entry %d: s2sgrad %r, finite differences %r" % (
                        where, k, analytic, numeric)
                checked += 1
    assert checked > 0, "nothing was differentiated"
    return checked


def compare(ours, theirs, where="grad", rtol=1e-7, atol=1e-9):
    """Our gradient against the program's own (hand-written) backward, leaf by leaf."""
    if isinstance(theirs, np.ndarray) or np.isscalar(theirs):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=rtol,
                                   atol=atol, err_msg=where)
        return 1
    if isinstance(theirs, dict):
        return sum(compare(ours[k], v, "%s[%r]" % (where, k), rtol, atol)
                   for k, v in theirs.items())
    if isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        return sum(compare(a, b, "%s[%d]" % (where, k), rtol, atol)
                   for k, (a, b) in enumerate(zip(ours, theirs)))
    raise TypeError(type(theirs))


_AUTOGRAD_IMPORTS = [
    ("import numpy as np", "import autograd.numpy as np"),
    ("import numpy.random as npr", "import autograd.numpy.random as npr"),
    ("from scipy.special import", "from autograd.scipy.special import"),
    ("from scipy.stats import", "from autograd.scipy.stats import"),
    ("from scipy.linalg import", "from autograd.scipy.linalg import"),
]


def autograd_gradient(module, spec):
    """The same program with autograd's NumPy wrappers imported instead of NumPy's
    (``AUTOGRAD = True`` in the program: it runs under autograd), differentiated by
    autograd at the same arguments."""
    import autograd
    with open(module.__file__) as fh:
        source = fh.read()
    for old, new in _AUTOGRAD_IMPORTS:
        source = source.replace(old, new)
    namespace = {"__name__": module.__name__ + "_autograd", "__file__": module.__file__}
    exec(compile(source, module.__file__, "exec"), namespace)
    f = namespace[spec["f"].__name__]
    wrt = spec["wrt"]
    params = list(inspect.signature(f).parameters)
    index = params.index(wrt) if isinstance(wrt, str) else wrt
    return autograd.grad(f, index)(*spec["args"])


def run(module):
    spec = module.problem()
    f, args, wrt = spec["f"], tuple(spec["args"]), spec["wrt"]
    g = s2sgrad.grad(f, wrt=wrt)
    grads = g(*args)
    finite_difference_check(f, args, wrt, grads)
    if spec.get("reference") is not None:
        assert compare(grads, spec["reference"](*args)) > 0
    if getattr(module, "AUTOGRAD", False):
        assert compare(grads, autograd_gradient(module, spec), rtol=1e-9) > 0
    lr = spec.get("lr", 1e-2)
    steps = spec.get("steps", 20)
    assert steps >= 20
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    for _ in range(steps):
        grads = g(*args)
        for item, gi in zip(items, grads if isinstance(wrt, tuple) else (grads,)):
            for leaf, gleaf, where in pairs(_target(f, args, item), gi, str(item)):
                assert np.all(np.isfinite(gleaf)), where
                leaf -= lr * gleaf
    grads = g(*args)
    finite_difference_check(f, args, wrt, grads, seed=1)
    if spec.get("reference") is not None:
        compare(grads, spec["reference"](*args))
    # a structure change (a running mean created by the first call) may add one
    assert len(g._specs) <= spec.get("specializations", 2), len(g._specs)
    return g
