"""CS224n word2vec.py: negSamplingLossAndGradient (the negative samples drawn before,
passed in as indices), with its hand-written gradient loop (np.add.at style)."""
import numpy as np


def sigmoid(x):
    s = 1 / (1 + np.exp(-x))
    return s


def negSamplingLossAndGradient(centerWordVec, outsideWordIdx, outsideVectors, negSampleWordIndices):
    indices = [outsideWordIdx] + negSampleWordIndices
    u_o = outsideVectors[outsideWordIdx]
    U_neg = outsideVectors[negSampleWordIndices]
    z_o = sigmoid(np.dot(u_o, centerWordVec))
    z_neg = sigmoid(-np.dot(U_neg, centerWordVec))
    loss = -np.log(z_o) - np.sum(np.log(z_neg))

    gradCenterVec = (z_o - 1) * u_o + np.dot(1 - z_neg, U_neg)
    gradOutsideVecs = np.zeros_like(outsideVectors)
    gradOutsideVecs[outsideWordIdx] += (z_o - 1) * centerWordVec
    for k, idx in enumerate(negSampleWordIndices):
        gradOutsideVecs[idx] += (1 - z_neg[k]) * centerWordVec
    return loss, gradCenterVec, gradOutsideVecs


def negsampling_loss(centerWordVec, outsideVectors, outsideWordIdx, negSampleWordIndices):
    loss, _, _ = negSamplingLossAndGradient(centerWordVec, outsideWordIdx, outsideVectors,
                                            negSampleWordIndices)
    return loss


def problem():
    np.random.seed(5)
    c = np.random.randn(3)
    U = np.random.randn(6, 3)
    negatives = [1, 4, 4, 5]

    def reference(c, U, o, neg):
        _, dc, dU = negSamplingLossAndGradient(c, o, U, neg)
        return dc, dU
    return dict(f=negsampling_loss, args=(c, U, 0, negatives), wrt=(0, 1),
                reference=reference, lr=0.1)
