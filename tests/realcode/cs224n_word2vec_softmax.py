"""CS224n assignment 2 word2vec.py: naiveSoftmaxLossAndGradient (it returns the loss
and its own hand-written gradients, compared here)."""
import numpy as np


def softmax(x):
    """Compute the softmax function for each row of the input x."""
    orig_shape = x.shape
    if len(x.shape) > 1:
        # Matrix
        tmp = np.max(x, axis=1)
        x = x - tmp.reshape((x.shape[0], 1))
        x = np.exp(x)
        tmp = np.sum(x, axis=1)
        x = x / tmp.reshape((x.shape[0], 1))
    else:
        # Vector
        tmp = np.max(x)
        x = x - tmp
        x = np.exp(x)
        tmp = np.sum(x)
        x = x / tmp
    assert x.shape == orig_shape
    return x


def naiveSoftmaxLossAndGradient(centerWordVec, outsideWordIdx, outsideVectors, dataset):
    """ Naive Softmax loss & gradient function for word2vec models

    Arguments:
    centerWordVec -- numpy ndarray, center word's embedding in shape (word vector length, )
    outsideWordIdx -- integer, the index of the outside word
    outsideVectors -- outside vectors is in shape (num words in vocab, word vector length)
    dataset -- needed for negative sampling, unused here.
    """
    y_hat = softmax(np.dot(outsideVectors, centerWordVec))
    loss = -np.log(y_hat[outsideWordIdx])
    delta = y_hat.copy()
    delta[outsideWordIdx] -= 1
    gradCenterVec = np.dot(outsideVectors.T, delta)
    gradOutsideVecs = np.outer(delta, centerWordVec)
    return loss, gradCenterVec, gradOutsideVecs


def skipgram_loss(centerWordVec, outsideVectors, outsideWordIdx):
    loss, gradCenterVec, gradOutsideVecs = naiveSoftmaxLossAndGradient(
        centerWordVec, outsideWordIdx, outsideVectors, None)
    return loss


def problem():
    np.random.seed(4)
    centerWordVec = np.random.randn(3)
    outsideVectors = np.random.randn(5, 3)

    def reference(c, U, o):
        _, dc, dU = naiveSoftmaxLossAndGradient(c, o, U, None)
        return dc, dU
    return dict(f=skipgram_loss, args=(centerWordVec, outsideVectors, 2), wrt=(0, 1),
                reference=reference, lr=0.1)
