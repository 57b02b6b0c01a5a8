"""CS231n: the softmax loss layer."""
import numpy as np
from _layers import softmax_loss


def softmax_data_loss(x, y):
    loss, dx = softmax_loss(x, y)
    return loss


def problem():
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    return dict(f=softmax_data_loss, args=(x, y), wrt=0, lr=1.0,
                reference=lambda x, y: softmax_loss(x, y)[1])
