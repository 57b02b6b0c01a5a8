"""CS231n: FullyConnectedNet with batch normalization (bn_params, a list of dicts the
forward pass writes running means into)."""
import numpy as np
from _fc_net import FullyConnectedNet


def problem():
    np.random.seed(231)
    N, D, H1, H2, C = 4, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=0.1,
                              weight_scale=5e-2, dtype=np.float64, normalization='batchnorm')
    return dict(f=model.loss, args=(X, y), wrt="self.params", lr=1e-3)
