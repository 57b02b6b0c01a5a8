"""An autoencoder class whose loss() calls encode() and decode(), each calling a
private helper method, and caches its last code on self (an attribute write the
caller sees after the call)."""
import numpy as np


class Autoencoder:
    def __init__(self, n_in, n_code, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {
            "enc_W": rng.randn(n_in, n_code) * 0.3,
            "enc_b": np.zeros(n_code),
            "dec_W": rng.randn(n_code, n_in) * 0.3,
            "dec_b": np.zeros(n_in),
        }
        self.l2 = 1e-3
        self.last_code = None

    def _dense(self, x, name):
        return x @ self.params[name + "_W"] + self.params[name + "_b"]

    def encode(self, x):
        return np.tanh(self._dense(x, "enc"))

    def decode(self, code):
        return self._dense(code, "dec")

    def penalty(self):
        return self.l2 * (np.sum(self.params["enc_W"] ** 2) + np.sum(self.params["dec_W"] ** 2))

    def loss(self, x):
        code = self.encode(x)
        self.last_code = code
        recon = self.decode(code)
        return np.mean((recon - x) ** 2) + self.penalty()


def problem():
    rng = np.random.RandomState(3)
    model = Autoencoder(6, 3)
    x = rng.randn(10, 6)
    return dict(f=model.loss, args=(x,), wrt="self.params", lr=0.1)
