"""The discrete Fourier transform family (np.fft).

``fftshift`` and ``ifftshift`` are permutations: each one's adjoint is the other.  The
transforms are linear; runtime.fft_adjoint applies their transposes step by step.
"""
import numpy as np

from s2sgrad import runtime
from s2sgrad.rules.registry import grad, vjp
from s2sgrad.rules.tangents import linear
from s2sgrad.runtime import fft_adjoint, fft_apply


@vjp(np.fft.fftshift, family="fft")
def fftshift(result, x, axes=None):
    grad[x] = np.fft.ifftshift(grad[result], axes)


@vjp(np.fft.ifftshift, family="fft")
def ifftshift(result, x, axes=None):
    grad[x] = np.fft.fftshift(grad[result], axes)


# -- the transforms: the gradient is the transpose (docs/complex.md) --------------------------


@vjp(np.fft.fft, family="fft")
def fft(result, a, n=None, axis=-1, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "fft", n, axis, norm)


@vjp(np.fft.ifft, family="fft")
def ifft(result, a, n=None, axis=-1, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "ifft", n, axis, norm)


@vjp(np.fft.rfft, family="fft")
def rfft(result, a, n=None, axis=-1, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "rfft", n, axis, norm)


@vjp(np.fft.irfft, family="fft")
def irfft(result, a, n=None, axis=-1, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "irfft", n, axis, norm)


@vjp(np.fft.hfft, family="fft")
def hfft(result, a, n=None, axis=-1, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "hfft", n, axis, norm)


@vjp(np.fft.ihfft, family="fft")
def ihfft(result, a, n=None, axis=-1, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "ihfft", n, axis, norm)


@vjp(np.fft.fft2, family="fft")
def fft2(result, a, s=None, axes=(-2, -1), norm=None):
    grad[a] = fft_adjoint(grad[result], a, "fft2", s, axes, norm)


@vjp(np.fft.ifft2, family="fft")
def ifft2(result, a, s=None, axes=(-2, -1), norm=None):
    grad[a] = fft_adjoint(grad[result], a, "ifft2", s, axes, norm)


@vjp(np.fft.fftn, family="fft")
def fftn(result, a, s=None, axes=None, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "fftn", s, axes, norm)


@vjp(np.fft.ifftn, family="fft")
def ifftn(result, a, s=None, axes=None, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "ifftn", s, axes, norm)


@vjp(np.fft.rfft2, family="fft")
def rfft2(result, a, s=None, axes=(-2, -1), norm=None):
    grad[a] = fft_adjoint(grad[result], a, "rfft2", s, axes, norm)


@vjp(np.fft.rfftn, family="fft")
def rfftn(result, a, s=None, axes=None, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "rfftn", s, axes, norm)


@vjp(np.fft.irfft2, family="fft")
def irfft2(result, a, s=None, axes=(-2, -1), norm=None):
    grad[a] = fft_adjoint(grad[result], a, "irfft2", s, axes, norm)


@vjp(np.fft.irfftn, family="fft")
def irfftn(result, a, s=None, axes=None, norm=None):
    grad[a] = fft_adjoint(grad[result], a, "irfftn", s, axes, norm)


# -- second derivatives: the rules of this family's runtime helpers (grad of grad,
# Hessians; each helper is linear or bilinear in the gradient it carries)


# fft_adjoint and fft_apply are each other's transpose in g (a linear map's transpose's
# transpose is the map)
@vjp(runtime.fft_adjoint, family="runtime")
def fft_adjoint_rule(result, g, x, name, n=None, axes=None, norm=None):
    grad[g] = fft_apply(grad[result], x, name, n, axes, norm)


@vjp(runtime.fft_apply, family="runtime")
def fft_apply_rule(result, g, x, name, n=None, axes=None, norm=None):
    grad[g] = fft_adjoint(grad[result], g, name, n, axes, norm)


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(np.fft.fftshift, np.fft.ifftshift)


# the Fourier transforms are (real-)linear, and so are their transposes in g
linear(np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft, np.fft.hfft, np.fft.ihfft, np.fft.fft2,
       np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft2, np.fft.rfftn, np.fft.irfft2,
       np.fft.irfftn, runtime.fft_adjoint, runtime.fft_apply)
