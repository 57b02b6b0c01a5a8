"""Which rules are right for complex values (docs/complex.md).

A rule written for real values may be wrong for complex ones (a cast to float, a
``sign`` where the conjugate direction is needed), so complex values reach only the
rules listed here, each checked against finite differences along the real and the
imaginary direction (tests/rules/complex/, tests/rules/fft/); any other
rule applied to a complex value is an error at generation time.
"""
from s2sgrad.rules.registry import registered

# labels as docs/supported.md prints them
COMPLEX_LABELS = frozenset(label.strip() for label in """
np.add|operator +|np.subtract|operator -|np.multiply|operator *|np.divide|operator /|
np.power|pow|operator **|np.float_power|np.negative|operator -x|np.positive|operator +x|
np.exp|np.exp2|np.expm1|np.log|np.log2|np.log10|np.log1p|
np.sqrt|np.square|np.reciprocal|np.absolute|abs|
np.sin|np.cos|np.tan|np.arcsin|np.arccos|np.arctan|np.sinh|np.cosh|np.tanh|
np.arcsinh|np.arccosh|np.arctanh|
np.maximum|np.fmax|np.minimum|np.fmin|np.where|
np.sum|ndarray.sum|sum|np.mean|ndarray.mean|np.prod|ndarray.prod|np.cumsum|ndarray.cumsum|
np.cumprod|ndarray.cumprod|np.linalg.norm|
list|tuple|np.reshape|ndarray.reshape|np.ravel|ndarray.ravel|ndarray.flatten|np.squeeze|
np.expand_dims|np.atleast_1d|np.atleast_2d|np.atleast_3d|ndarray.squeeze|np.broadcast_to|
np.array|np.asarray|np.asanyarray|np.ascontiguousarray|np.copy|np.real|ndarray.copy|
ndarray.real|np.transpose|ndarray.transpose|ndarray.T|np.swapaxes|ndarray.swapaxes|
np.moveaxis|np.flip|np.fliplr|np.flipud|np.roll|np.rot90|np.tile|np.repeat|ndarray.repeat|
np.pad|
np.dot|ndarray.dot|np.matmul|operator @|np.vdot|np.inner|np.outer|np.tensordot|np.einsum|
np.kron|np.cross|np.trace|ndarray.trace|np.diag|np.diagonal|ndarray.diagonal|np.triu|np.tril|
np.linalg.inv|np.linalg.solve|np.linalg.det|np.linalg.slogdet|np.linalg.eigh|
np.linalg.eigvalsh|np.linalg.svd|np.linalg.eig|np.linalg.eigvals|
np.concatenate|np.stack|np.hstack|np.vstack|np.split|
x[index]|np.take|ndarray.take|np.diff|
np.conjugate|ndarray.conj|ndarray.conjugate|np.imag|ndarray.imag|np.angle|
np.fft.fftshift|np.fft.ifftshift|np.fft.fft|np.fft.ifft|np.fft.rfft|np.fft.irfft|np.fft.hfft|
np.fft.ihfft|np.fft.fft2|np.fft.ifft2|np.fft.fftn|np.fft.ifftn|np.fft.rfft2|np.fft.rfftn|
np.fft.irfft2|np.fft.irfftn""".split("|"))



def complex_supported(rule) -> bool:
    """Is ``rule`` right for complex values?  The table's rules listed above are; the
    runtime helpers' rules (second derivatives, forward mode by transposition) are
    reached only from those, and @s2sgrad.adjoint rules are their author's to check."""
    found = _CACHE.get(id(rule))
    if found is not None and found[0] is rule:
        return found[1]
    supported = any(r is rule and (family in ("runtime", "custom") or label in COMPLEX_LABELS)
                    for family, label, r in registered())
    _CACHE[id(rule)] = (rule, supported)
    return supported


_CACHE: dict = {}
