"""CS231n: the multiclass SVM loss layer (loss, dx) -- we differentiate its loss."""
import numpy as np
from _layers import svm_loss


def svm_data_loss(x, y):
    loss, _ = svm_loss(x, y)
    return loss


def problem():
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    return dict(f=svm_data_loss, args=(x, y), wrt=0, lr=1e-3,
                reference=lambda x, y: svm_loss(x, y)[1])
