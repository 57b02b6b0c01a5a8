"""A variational autoencoder in plain NumPy: Gaussian encoder, Bernoulli decoder, the
reparameterization trick with noise drawn outside the loss (fixed per step), and the
negative ELBO averaged over the batch."""
AUTOGRAD = True
import numpy as np


def init_net_params(scale, layer_sizes, rs):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def relu(x):
    return np.maximum(0, x)


def neural_net_predict(params, inputs):
    for i in range(len(params)):
        W, b = params[i]
        outputs = np.dot(inputs, W) + b
        if i < len(params) - 1:
            inputs = relu(outputs)
    return outputs


def bernoulli_log_density(targets, unnormalized_logprobs):
    # unnormalized_logprobs are in R; targets must be 0 or 1
    t2 = targets * 2 - 1
    return -np.logaddexp(0, -unnormalized_logprobs * t2)


def negative_elbo(params, images, eps):
    enc_params, dec_params = params['encoder'], params['decoder']
    enc_out = neural_net_predict(enc_params, images)
    D = enc_out.shape[1] // 2
    mean, log_std = enc_out[:, :D], enc_out[:, D:]
    latents = mean + np.exp(log_std) * eps
    logits = neural_net_predict(dec_params, latents)
    log_lik = np.sum(bernoulli_log_density(images, logits), axis=1)
    kl = 0.5 * np.sum(np.exp(2 * log_std) + mean ** 2 - 1.0 - 2 * log_std, axis=1)
    return -np.mean(log_lik - kl)


def problem():
    rs = np.random.RandomState(0)
    latent_dim, data_dim, hidden = 2, 8, 6
    params = {'encoder': init_net_params(0.3, [data_dim, hidden, 2 * latent_dim], rs),
              'decoder': init_net_params(0.3, [latent_dim, hidden, data_dim], rs)}
    images = (rs.rand(5, data_dim) > 0.5).astype(float)
    eps = rs.randn(5, latent_dim)
    return dict(f=negative_elbo, args=(params, images, eps), wrt=0, lr=0.05)
