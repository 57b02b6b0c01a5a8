"""Two complex models differentiated by s2sgrad (docs/complex.md).

1. FIR filter design: real taps ``h`` whose frequency response ``np.fft.rfft(h, 128)``
   should match a low-pass target magnitude; the loss is real, the FFT in between is
   complex, the gradient with respect to the real taps is real.
2. A quantum ground state: a complex state vector ``psi`` minimizing the energy
   <psi|H|psi> / <psi|psi> of a Hermitian Hamiltonian (a ring of spins-1/2 with a
   transverse field); gradient descent steps against the *conjugate* of s2sgrad's
   gradient (``psi -= lr * conj(g)``), and the result is compared with the smallest
   eigenvalue from np.linalg.eigvalsh.

    python examples/complex_models.py           # full run (about a second)
    python examples/complex_models.py --quick   # fewer steps (the smoke test)
"""
import os
import sys

import numpy as np

import s2sgrad

QUICK = "--quick" in sys.argv or os.environ.get("S2SGRAD_EXAMPLES_QUICK") == "1"

# -- 1. FIR filter design through np.fft.rfft ----------------------------------------------------

N_FFT = 128
FREQS = np.fft.rfftfreq(N_FFT)                       # 0 .. 0.5 cycles per sample
TARGET = (FREQS < 0.15).astype(float)                # ideal low-pass magnitude
WEIGHT = np.where(np.abs(FREQS - 0.15) < 0.03, 0.0, 1.0)   # a transition band left free


def filter_loss(h):
    response = np.fft.rfft(h, N_FFT)
    magnitude = np.sqrt(np.real(response * np.conj(response)) + 1e-12)
    return np.mean(WEIGHT * (magnitude - TARGET) ** 2)


def design_filter(taps=31, steps=400, lr=0.5):
    value_and_grad = s2sgrad.value_and_grad(filter_loss)
    h = np.hanning(taps) / taps
    m = np.zeros(taps)
    v = np.zeros(taps)
    for t in range(1, steps + 1):                   # Adam
        loss, g = value_and_grad(h)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        h = h - lr * 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-12)
    return h, filter_loss(h)


# -- 2. ground state of a small spin ring ------------------------------------------------------------


def spin_ring(n=6, field=0.7):
    """H = -sum Z_i Z_{i+1} - field * sum X_i on a ring of n spins (2**n states)."""
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    z = np.array([[1.0, 0.0], [0.0, -1.0]])

    def op(single, site):
        out = np.array([[1.0]])
        for k in range(n):
            out = np.kron(out, single if k == site else np.eye(2))
        return out
    h = np.zeros((2 ** n, 2 ** n))
    for i in range(n):
        h -= op(z, i) @ op(z, (i + 1) % n) + field * op(x, i)
    return h + 0j                                     # a complex Hermitian matrix


def energy(psi, H):
    """The Rayleigh quotient <psi|H|psi> / <psi|psi> (real for Hermitian H)."""
    return np.real(np.vdot(psi, H @ psi)) / np.real(np.vdot(psi, psi))


def ground_state(H, steps=300, lr=0.05, seed=0):
    rng = np.random.default_rng(seed)
    psi = rng.standard_normal(H.shape[0]) + 1j * rng.standard_normal(H.shape[0])
    grad_energy = s2sgrad.grad(energy)
    for _ in range(steps):
        g = grad_energy(psi, H)
        psi = psi - lr * np.conj(g)                  # descend: the conjugate of the gradient
        psi = psi / np.linalg.norm(psi)
    return psi, energy(psi, H)


def main():
    steps = 60 if QUICK else 400
    h, loss = design_filter(steps=steps)
    print("FIR filter design through np.fft.rfft: %d taps, %d Adam steps, loss %.5f"
          % (h.size, steps, loss))
    g = s2sgrad.grad(filter_loss)(h)
    eps = 1e-6
    e0 = np.eye(h.size)[0]
    fd = (filter_loss(h + eps * e0) - filter_loss(h - eps * e0)) / (2 * eps)
    print("  d loss / d h[0]: s2sgrad %.8f, finite differences %.8f" % (g[0], fd))
    grad_filter = s2sgrad.grad(filter_loss)
    grad_filter(h)
    print(grad_filter.source)

    H = spin_ring()
    exact = np.linalg.eigvalsh(H)[0]
    steps = 80 if QUICK else 1000
    psi, e = ground_state(H, steps=steps)
    print("ground state of a 6-spin transverse-field ring (64 complex amplitudes):")
    print("  gradient descent, %d steps: E = %.6f;  np.linalg.eigvalsh: E0 = %.6f" % (
        steps, e, exact))
    ok = loss < (0.05 if QUICK else 0.02) and e - exact < (0.05 if QUICK else 1e-3)
    if not ok:
        print("did not converge", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
