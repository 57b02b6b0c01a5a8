"""Helpers of the rules in ``rules/numpy_fft.py``: the transposes of the discrete Fourier
transforms (np.fft), and the transforms applied to a gradient.  NumPy only."""
import numpy as np

__all__ = ["fft_adjoint", "fft_apply"]


# -- the discrete Fourier transforms (np.fft) -------------------------------------------------
#
# Under the transpose convention of docs/complex.md a linear transform's gradient is its
# transpose (not its conjugate transpose).  The DFT matrix is symmetric, so the gradient
# of fft is fft of the upstream gradient (the same norm), cut or zero-padded back to the
# input's length where n= resized it; rfft, irfft, hfft and ihfft add the half-spectrum's
# embedding and weights.
_SWAP_NORM = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _resize(a, n, axis):
    """``a`` cut or zero-padded to length ``n`` along ``axis`` (what n= does to the input)."""
    a = np.asarray(a)
    m = a.shape[axis]
    if m == n:
        return a
    if m > n:
        return np.take(a, np.arange(n), axis)
    pad = [(0, 0)] * a.ndim
    pad[axis % a.ndim] = (0, n - m)
    return np.pad(a, pad)


def _fft_plan(name, x, n, axes):
    """(steps, axes) of the transform ``name`` on x: the 1-D transforms it is made of, in
    order, each (kind, length n along the axis, axis), as numpy.fft runs them."""
    shape = np.shape(x)
    nd = len(shape)
    if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        axis = -1 if axes is None else axes
        if name in ("irfft", "hfft"):
            length = n if n is not None else 2 * (shape[axis] - 1)
        else:
            length = n if n is not None else shape[axis]
        return [(name, length, axis % nd)]
    if axes is None:
        if name in ("fft2", "ifft2", "rfft2", "irfft2"):
            axes = (-2, -1)
        else:
            axes = tuple(range(-len(n), 0)) if n is not None else tuple(range(-nd, 0))
    axes = [a % nd for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
    if n is None:
        s = [shape[a] for a in axes]
        if name in ("irfftn", "irfft2"):
            s[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        s = list(n)
    base = name.rstrip("n2")
    if base == "fft" or base == "ifft":
        return [(base, length, a) for length, a in zip(s, axes)]
    if base == "rfft":           # rfft along the last axis, then fft along the others
        return [("rfft", s[-1], axes[-1])] + [("fft", length, a)
                                               for length, a in zip(s[:-1], axes[:-1])]
    # irfftn: ifft along the others, then irfft along the last axis
    return [("ifft", length, a) for length, a in zip(s[:-1], axes[:-1])] + [
        ("irfft", s[-1], axes[-1])]


def _half_weights(n, m, axis, ndim):
    """Weights of irfft's half spectrum (length m = n//2 + 1): 1 for the zero frequency
    (and for n/2, n even), 2 for the others, which stand for a conjugate pair."""
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = m
    return w.reshape(shape)


def _step_adjoint(g, kind, length, axis, in_length, norm):
    """The transpose of one 1-D step (input of length in_length along axis)."""
    if kind in ("fft", "ifft"):
        t = np.fft.fft if kind == "fft" else np.fft.ifft
        return _resize(t(g, None, axis, norm), in_length, axis)
    if kind == "rfft":
        full = _resize(g, length, axis)               # the half spectrum, zeros after it
        return _resize(np.fft.fft(full, None, axis, norm), in_length, axis)
    if kind == "irfft":
        m = length // 2 + 1
        half = np.take(np.fft.ifft(g, None, axis, norm), np.arange(m), axis)
        return _resize(half * _half_weights(length, m, axis, np.ndim(g)), in_length, axis)
    if kind == "hfft":                # hfft(a) = irfft(conj(a)) with the norm swapped
        return np.conj(_step_adjoint(g, "irfft", length, axis, in_length, _SWAP_NORM[norm]))
    # ihfft(a) = conj(rfft(a)) with the norm swapped
    return _step_adjoint(np.conj(g), "rfft", length, axis, in_length, _SWAP_NORM[norm])


def fft_adjoint(g, x, name, n=None, axes=None, norm=None):
    """Gradient of ``np.fft.<name>(x, n or s, axis or axes, norm)``: the transposes of its
    1-D steps, last step first; real where x is real."""
    steps = _fft_plan(name, x, n, axes)
    lengths = []                      # the input length of every step
    shape = list(np.shape(x))
    for kind, length, axis in steps:
        lengths.append(shape[axis])
        shape[axis] = length // 2 + 1 if kind in ("rfft", "ihfft") else length
    for (kind, length, axis), in_length in zip(reversed(steps), reversed(lengths)):
        g = _step_adjoint(g, kind, length, axis, in_length, norm)
    if not np.iscomplexobj(x):
        g = np.real(g)
    return g


def fft_apply(g, x, name, n=None, axes=None, norm=None):
    """``np.fft.<name>(g, n or s, axis or axes, norm)``: the transpose of fft_adjoint in g
    (a transform is linear; the transpose of its transpose is itself)."""
    fn = getattr(np.fft, name)
    if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        return fn(g, n, -1 if axes is None else axes, norm)
    return fn(g, n, axes, norm)
