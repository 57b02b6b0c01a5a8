"""Complex parts: real, imag, conj, angle (abs of a complex value is in numpy_ufuncs).

The convention (autograd's and JAX's, see docs/complex.md): the gradient of a real
loss L with respect to z = x + iy is dL/dx - i dL/dy, and a rule maps the upstream
gradient of y = f(z) to the argument's by the transpose of df -- for a holomorphic
f that is ``grad[result] * f'(z)``, no conjugate; the parts below are not
holomorphic and conjugate explicitly.
"""
import numpy as np

from s2sgrad.rules.registry import elementwise, grad, is_complex, vjp
from s2sgrad.rules.tangents import linear


@elementwise(np.conj, np.conjugate, methods=("conj", "conjugate"), family="complex")
def conj(result, x):
    if is_complex(x):
        grad[x] = np.conj(grad[result])
    else:
        grad[x] = grad[result]


@elementwise(np.imag, family="complex")
def imag(result, val):
    # Im(x + iy) = y: the gradient -i g (dL/dx = 0, dL/dy = g); a real value's
    # imaginary part is the constant 0
    if is_complex(val):
        grad[val] = -1j * grad[result]


@vjp(attributes=("imag",), family="complex")
def imag_attribute(result, val):
    if is_complex(val):
        grad[val] = -1j * grad[result]


@elementwise(np.angle, family="complex")
def angle(result, z, deg=False):
    # d angle(z) = Im(conj(z) dz) / |z|^2; a real value's angle is piecewise constant
    if is_complex(z) and deg:
        grad[z] = (-1j * 180.0 / np.pi) * grad[result] * np.conj(z) / np.where(
            z == 0, 1.0, np.real(z * np.conj(z)))
    elif is_complex(z):
        grad[z] = -1j * grad[result] * np.conj(z) / np.where(z == 0, 1.0,
                                                             np.real(z * np.conj(z)))


# -- forward mode: linear marks (the tangent is the operation applied to the tangent)
# and tangent templates (see tangents.py)


linear(attributes=("imag",))
