"""Parameters in a dataclass (JAX/Flax-style pytree of arrays): the gradient is an
instance of the same dataclass."""
from dataclasses import dataclass

import numpy as np


@dataclass
class MLPParams:
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    activation: str = "tanh"


def predict(params: MLPParams, x: np.ndarray) -> np.ndarray:
    h = x @ params.W1 + params.b1
    if params.activation == "tanh":
        h = np.tanh(h)
    else:
        h = np.maximum(h, 0.0)
    return h @ params.W2 + params.b2


def mse_loss(params: MLPParams, x: np.ndarray, y: np.ndarray) -> float:
    residual = predict(params, x) - y
    return 0.5 * np.mean(residual ** 2)


def problem():
    rng = np.random.RandomState(1)
    params = MLPParams(W1=rng.randn(3, 8) * 0.5, b1=np.zeros(8),
                       W2=rng.randn(8, 2) * 0.5, b2=np.zeros(2))
    x = rng.randn(16, 3)
    y = np.sin(x[:, :2])
    return dict(f=mse_loss, args=(params, x, y), wrt="params", lr=0.1)
