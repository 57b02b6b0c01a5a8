"""Usage (tests/ is on sys.path via tests/conftest.py): ``from gradcheck import check_grad, numeric_grad``;
``check_grad(f, (x, y), wrt=(0, 'y'))`` compares s2sgrad.grad to float64 central differences.

Finite differences are always taken in float64 (float32 array arguments are
promoted for the numeric side only), with step ``eps * max(1, |x_k|)`` per
entry.  The comparison is elementwise, ``|analytic - numeric| <= atol +
rtol * |numeric| + noise`` where ``noise`` is the round-off floor of the
difference quotient (a few ulps of ``f`` divided by the step), so large loss
values do not cause spurious failures.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["check_grad", "numeric_grad", "wrt_indices"]

_ULP = np.finfo(np.float64).eps


def _as_float(value) -> float:
    out = np.asarray(value, dtype=np.float64)
    if out.size != 1:
        raise AssertionError("gradcheck: the function must return a scalar, got shape %s"
                             % (out.shape,))
    return float(out.reshape(()))


def _is_scalar(a) -> bool:
    return not isinstance(a, np.ndarray)


def _promote(a):
    """A float64 copy of argument ``a`` (arrays) or a Python float (scalars)."""
    if isinstance(a, np.ndarray):
        return np.array(a, dtype=np.float64)
    return float(a)


def _numeric_grad_and_noise(f: Callable, args: Sequence[Any], i: int, eps: float,
                            kwargs=None):
    kwargs = dict(kwargs or {})
    args = list(args)
    x = args[i]
    if isinstance(x, (bool, np.bool_)) or (
            isinstance(x, np.ndarray) and x.dtype.kind not in "fc" and x.dtype != object) or (
            not isinstance(x, np.ndarray) and isinstance(x, (int, np.integer))):
        raise TypeError("numeric_grad: argument %d is not a float (%r)" % (i, type(x)))
    x64 = _promote(x)

    def at(value):
        call = list(args)
        call[i] = value
        return _as_float(f(*call, **kwargs))

    if _is_scalar(x):
        h = eps * max(1.0, abs(x64))
        fp, fm = at(x64 + h), at(x64 - h)
        g = (fp - fm) / (2.0 * h)
        noise = 8.0 * _ULP * max(abs(fp), abs(fm), 1e-300) / (2.0 * h)
        return g, noise
    g = np.zeros(x64.shape, dtype=np.float64)
    noise = np.zeros(x64.shape, dtype=np.float64)
    flat = x64.reshape(-1)
    for k in range(flat.size):
        h = eps * max(1.0, abs(flat[k]))
        xp = flat.copy()
        xp[k] += h
        xm = flat.copy()
        xm[k] -= h
        fp = at(xp.reshape(x64.shape))
        fm = at(xm.reshape(x64.shape))
        g.flat[k] = (fp - fm) / (2.0 * h)
        noise.flat[k] = 8.0 * _ULP * max(abs(fp), abs(fm), 1e-300) / (2.0 * h)
    return g, noise


def numeric_grad(f: Callable, args: Sequence[Any], i: int, eps: float = 1e-6, kwargs=None):
    """Central finite-difference gradient of scalar ``f(*args)`` w.r.t. ``args[i]``
    (float64; a float for scalar arguments, an array of the argument's shape otherwise)."""
    return _numeric_grad_and_noise(f, args, i, eps, kwargs)[0]


def wrt_indices(f: Callable, wrt) -> list:
    """Positional indices named by ``wrt`` (an int, a name, or a tuple/list of those)."""
    items = [wrt] if isinstance(wrt, (int, str)) else list(wrt)
    params = [p.name for p in inspect.signature(f).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [params.index(w) if isinstance(w, str) else int(w) for w in items]


def _param_name(f, i):
    try:
        return list(inspect.signature(f).parameters)[i]
    except (TypeError, ValueError, IndexError):
        return "arg%d" % i


def check_grad(f: Callable, args: Sequence[Any], wrt=0, rtol: float = 1e-6,
               atol: float = 1e-8, eps: float = 1e-6, kwargs=None):
    """Assert that ``s2sgrad.grad(f, wrt=wrt)(*args)`` matches central finite
    differences.  Returns the analytic gradient(s) as s2sgrad returned them.

    Raises AssertionError with a per-argument report (shape, dtype, max abs and
    relative error, worst entry) on any mismatch.
    """
    import s2sgrad

    args = tuple(args)
    idx = wrt_indices(f, wrt)
    single = isinstance(wrt, (int, str))
    g = s2sgrad.grad(f, wrt=wrt)
    analytic = g(*args, **dict(kwargs or {}))
    grads = [analytic] if single else list(analytic)
    if len(grads) != len(idx):
        raise AssertionError("gradcheck: %s returned %d gradient(s) for wrt=%r"
                             % (getattr(f, "__name__", f), len(grads), wrt))
    problems = []
    for k, i in zip(grads, idx):
        name = "%s (argument %d)" % (_param_name(f, i), i)
        x = args[i]
        num, noise = _numeric_grad_and_noise(f, args, i, eps, kwargs)
        a = np.asarray(k)
        if np.shape(a) != np.shape(x):
            problems.append("  %s: gradient shape %s != argument shape %s"
                            % (name, np.shape(a), np.shape(x)))
            continue
        a64 = a.astype(np.float64)
        err = np.abs(a64 - num)
        tol = atol + rtol * np.abs(num) + noise
        bad = ~(err <= tol)   # also catches NaN
        if np.any(bad):
            score = np.where(bad, np.nan_to_num(err - tol, nan=np.inf), -np.inf)
            worst = np.unravel_index(int(np.argmax(score)), np.shape(num)) if np.ndim(num) else ()
            rel = err / np.maximum(np.abs(num), 1e-300)
            lines = ["  %s: %d of %d entries differ (shape %s, dtype %s)"
                     % (name, int(np.sum(bad)), int(np.size(num)), np.shape(x),
                        getattr(a, "dtype", type(k).__name__)),
                     "    max abs error %.3e, max rel error %.3e (rtol=%g, atol=%g)"
                     % (float(np.nanmax(err)), float(np.nanmax(rel)), rtol, atol),
                     "    worst entry %s: analytic %r, numeric %r"
                     % (worst if worst != () else "(scalar)",
                        float(a64[worst]) if np.ndim(a64) else float(a64),
                        float(num[worst]) if np.ndim(num) else float(num))]
            if np.size(num) <= 12:
                lines.append("    analytic: %s" % np.array2string(a64, precision=8))
                lines.append("    numeric:  %s" % np.array2string(np.asarray(num), precision=8))
            problems.append("\n".join(lines))
    if problems:
        raise AssertionError("gradient check failed for %s (wrt=%r):\n%s"
                             % (getattr(f, "__qualname__", f), wrt, "\n".join(problems)))
    return analytic
