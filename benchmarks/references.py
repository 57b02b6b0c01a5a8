"""Comparison columns: autograd, JAX and PyTorch versions of each workload.

Each ``build_*`` function takes a workload and its inputs and returns
``(call, to_numpy)``: ``call()`` runs one full gradient evaluation (forward and
backward, synchronised), ``to_numpy(result)`` turns its result into a tuple of
NumPy gradients, one per index in ``wrt``, for the cross-check.  A missing
package raises ``Unavailable``; the runner then prints "n/a" for that column.

autograd and JAX run the very same primal functions as s2sgrad, with ``np``
rebound to ``autograd.numpy`` or ``jax.numpy``.  PyTorch needs its own
spelling of each primal (below), written op for op like the NumPy one.
"""

import os
import types

import numpy as np


class Unavailable(Exception):
    """The package behind a column is not installed or failed to import."""


def rebind_numpy(f, numpy_like):
    """A copy of ``f`` whose global ``np`` is ``numpy_like``."""
    namespace = dict(f.__globals__)
    namespace["np"] = numpy_like
    return types.FunctionType(f.__code__, namespace, f.__name__, f.__defaults__, f.__closure__)


def _tuple_of_arrays(result, wrt):
    parts = (result,) if isinstance(wrt, int) else tuple(result)
    return tuple(np.asarray(part, dtype=np.float64) for part in parts)


# --- autograd -------------------------------------------------------------------

def build_autograd(workload, args):
    try:
        import autograd
        import autograd.numpy as anp
    except Exception as exc:  # ImportError, or a broken install
        raise Unavailable(f"autograd not importable: {exc}")
    gradient = autograd.grad(rebind_numpy(workload.f, anp), argnum=workload.wrt)
    return (lambda: gradient(*args)), (lambda result: _tuple_of_arrays(result, workload.wrt))


# --- JAX --------------------------------------------------------------------------

def jax_module():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
    except Exception as exc:
        raise Unavailable(f"jax not importable: {exc}")
    jax.config.update("jax_enable_x64", True)
    return jax


def build_jax(workload, args):
    jax = jax_module()
    import jax.numpy as jnp
    gradient = jax.jit(jax.grad(rebind_numpy(workload.f, jnp), argnums=workload.wrt))
    # Arrays live on the device beforehand, as in a JAX program; floats stay floats.
    jax_args = tuple(jax.device_put(a) if isinstance(a, np.ndarray) else a for a in args)
    return ((lambda: jax.block_until_ready(gradient(*jax_args))),
            (lambda result: _tuple_of_arrays(result, workload.wrt)))


# --- PyTorch (CPU, eager, float64) -----------------------------------------------

def _torch_primals(torch):
    def neuron(w0, x0, w1, x1, w2):
        return 1.0 / (1.0 + torch.exp(-(w0 * x0 + w1 * x1 + w2)))

    def logistic_map(a, x0):
        x = x0
        for i in range(200):
            x = a * x * (1.0 - x)
        return x

    def logreg(w, b, X, y):
        z = X @ w + b
        return torch.mean(torch.relu(z) - z * y + torch.log(1.0 + torch.exp(-torch.abs(z))))

    def mlp(W1, b1, W2, b2, X, Y):
        h = torch.relu(X @ W1 + b1)
        logits = h @ W2 + b2
        z = logits - torch.amax(logits, dim=1, keepdim=True)
        log_probs = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
        return -torch.mean(torch.sum(Y * log_probs, dim=1))

    def rnn(Wx, Wh, b, xs, h0):
        h = h0
        for t in range(20):
            h = torch.tanh(xs[t] @ Wx + h @ Wh + b)
        return 0.5 * torch.sum(h ** 2)

    def rosenbrock(x):
        return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return {f.__name__: f for f in (neuron, logistic_map, logreg, mlp, rnn, rosenbrock)}


def build_torch(workload, args):
    try:
        import torch
    except Exception as exc:
        raise Unavailable(f"torch not importable: {exc}")
    primal = _torch_primals(torch)[workload.f.__name__]
    wrt = workload.wrt_tuple
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=(i in wrt))
               for i, a in enumerate(args)]
    inputs = [tensors[i] for i in wrt]

    def call():
        return torch.autograd.grad(primal(*tensors), inputs)

    def to_numpy(result):
        return tuple(r.detach().numpy().astype(np.float64) for r in result)

    return call, to_numpy


BUILDERS = {"autograd": build_autograd, "jax": build_jax, "torch": build_torch}
