"""A VAE on binary data, the reparameterization noise passed as an argument (drawn
once outside, so the objective is deterministic): encoder and decoder MLPs with their
weights in dicts, the Bernoulli log-likelihood on logits, the analytic KL term."""
import numpy as np


def mlp(params, x, prefix, n_layers):
    h = x
    for i in range(n_layers):
        h = h @ params['%s_W%d' % (prefix, i)] + params['%s_b%d' % (prefix, i)]
        if i < n_layers - 1:
            h = np.log1p(np.exp(-np.abs(h))) + np.maximum(h, 0)   # softplus
    return h


def encode(params, x):
    out = mlp(params, x, 'enc', 2)
    latent = out.shape[1] // 2
    return out[:, :latent], out[:, latent:]


def bernoulli_log_likelihood(logits, x):
    return np.sum(x * logits - np.logaddexp(0.0, logits), axis=1)


def negative_elbo(params, x, eps):
    mu, log_sigma = encode(params, x)
    z = mu + np.exp(log_sigma) * eps
    logits = mlp(params, z, 'dec', 2)
    log_lik = bernoulli_log_likelihood(logits, x)
    kl = 0.5 * np.sum(np.exp(2 * log_sigma) + mu ** 2 - 1 - 2 * log_sigma, axis=1)
    return -np.mean(log_lik - kl)


def init(sizes, prefix, rng, params):
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        params['%s_W%d' % (prefix, i)] = rng.randn(m, n) * 0.3
        params['%s_b%d' % (prefix, i)] = np.zeros(n)
    return params


def problem():
    rng = np.random.RandomState(5)
    D, H, Z = 8, 10, 2
    params = {}
    init([D, H, 2 * Z], 'enc', rng, params)
    init([Z, H, D], 'dec', rng, params)
    x = (rng.rand(6, D) > 0.5).astype(float)
    eps = rng.randn(6, Z)
    return dict(f=negative_elbo, args=(params, x, eps), wrt=0, lr=0.05)
