"""CS231n assignment 1 linear_svm.py: svm_loss_naive with its double loop and the
hand-written dW (compared)."""
from builtins import range
import numpy as np


def svm_loss_naive(W, X, y, reg):
    """
    Structured SVM loss function, naive implementation (with loops).
    """
    dW = np.zeros(W.shape)  # initialize the gradient as zero

    # compute the loss and the gradient
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # note delta = 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]

    # Right now the loss is a sum over all training examples, but we want it
    # to be an average instead so we divide by num_train.
    loss /= num_train
    dW /= num_train

    # Add regularization to the loss.
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W

    return loss, dW


def svm_data_loss(W, X, y, reg):
    return svm_loss_naive(W, X, y, reg)[0]


def problem():
    np.random.seed(1)
    W = np.random.randn(4, 3) * 0.1
    X = np.random.randn(8, 4)
    y = np.random.randint(3, size=8)
    return dict(f=svm_data_loss, args=(W, X, y, 0.05), wrt=0, lr=1e-2,
                reference=lambda W, X, y, reg: svm_loss_naive(W, X, y, reg)[1])
