"""autograd's README example: logistic regression reading its data from module globals,
trained with a plain loop (weights -= training_gradient_fun(weights) * 0.01)."""
AUTOGRAD = True
import numpy as np
from s2sgrad import grad


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.) + 1)


def logistic_predictions(weights, inputs):
    # Outputs probability of a label being true according to logistic model.
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    # Training loss is the negative log-likelihood of the training labels.
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


# Build a toy dataset.
inputs = np.array([[0.52, 1.12,  0.77],
                   [0.88, -1.08, 0.15],
                   [0.52, 0.06, -1.30],
                   [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])

# Define a function that returns gradients of training loss using s2sgrad.
training_gradient_fun = grad(training_loss)


def train(steps=100):
    weights = np.array([0.0, 0.0, 0.0])
    first = training_loss(weights)
    for i in range(steps):
        weights -= training_gradient_fun(weights) * 0.01
    return first, training_loss(weights)


def problem():
    first, last = train()
    assert last < first
    weights = np.array([0.1, -0.2, 0.3])

    def reference(w):
        p = logistic_predictions(w, inputs)
        return -np.dot(inputs.T, targets - p)
    return dict(f=training_loss, args=(weights,), wrt=0, reference=reference)
