"""The discrete Fourier transform family (np.fft).

``fftshift`` and ``ifftshift`` are permutations: each one's adjoint is the other.
"""
import numpy as np

from .registry import grad, vjp


@vjp(np.fft.fftshift, family="fft")
def fftshift(result, x, axes=None):
    grad[x] = np.fft.ifftshift(grad[result], axes)


@vjp(np.fft.ifftshift, family="fft")
def ifftshift(result, x, axes=None):
    grad[x] = np.fft.fftshift(grad[result], axes)
