"""autograd's examples/variational_autoencoder.py style: the encoder and decoder as
lists of (W, b), unpack_gaussian_params, the sampler calling rs.randn(*mean.shape)."""
import numpy as np
import numpy.random as npr


def diag_gaussian_log_density(x, mu, log_std):
    return np.sum(-0.5 * (np.log(2 * np.pi) + 2 * log_std) - 0.5 * (x - mu) ** 2
                  / np.exp(2 * log_std), axis=-1)


def unpack_gaussian_params(params):
    # Params of a diagonal Gaussian.
    D = np.shape(params)[-1] // 2
    mean, log_std = params[:, :D], params[:, D:]
    return mean, log_std


def sample_diag_gaussian(mean, log_std, rs):
    return rs.randn(*mean.shape) * np.exp(log_std) + mean


def bernoulli_log_density(targets, unnormalized_logprobs):
    # unnormalized_logprobs are in R
    # Targets must be -1 or 1
    label_probabilities = -np.logaddexp(0, -unnormalized_logprobs * targets)
    return np.sum(label_probabilities, axis=-1)   # Sum across pixels.


def relu(x):
    return np.maximum(0, x)


def init_net_params(scale, layer_sizes, rs=npr.RandomState(0)):
    """Build a (weights, biases) tuples for all layers."""
    return [(scale * rs.randn(m, n),   # weight matrix
             scale * rs.randn(n))      # bias vector
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """Params is a list of (weights, bias) tuples.
       inputs is an (N x D) matrix.
       Applies relu to every layer but the last."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b  # linear transformation
        inputs = relu(outputs)           # nonlinear transformation
    return outputs


def nn_predict_gaussian(params, inputs):
    # Returns means and diagonal variances
    return unpack_gaussian_params(neural_net_predict(params, inputs))


def generate_from_prior(gen_params, num_samples, noise_dim, rs):
    latents = rs.randn(num_samples, noise_dim)
    return neural_net_predict(gen_params, latents)


def p_images_given_latents(gen_params, images, latents):
    preds = neural_net_predict(gen_params, latents)
    return bernoulli_log_density(images, preds)


def vae_lower_bound(gen_params, rec_params, data, seed):
    rs = npr.RandomState(seed)
    # We use a simple Monte Carlo estimate of the KL
    # divergence from the prior.
    q_means, q_log_stds = nn_predict_gaussian(rec_params, data)
    latents = sample_diag_gaussian(q_means, q_log_stds, rs)
    q_latents = diag_gaussian_log_density(latents, q_means, q_log_stds)
    p_latents = diag_gaussian_log_density(latents, 0, 0)
    likelihood = p_images_given_latents(gen_params, data, latents)
    return np.mean(p_latents + likelihood - q_latents)


def objective(combined_params, data):
    gen_params, rec_params = combined_params
    return -vae_lower_bound(gen_params, rec_params, data, 0)


def problem():
    latent_dim, data_dim, hidden = 2, 6, 5
    gen_params = init_net_params(0.3, [latent_dim, hidden, data_dim])
    rec_params = init_net_params(0.3, [data_dim, hidden, latent_dim * 2])
    data = np.where(npr.RandomState(1).rand(4, data_dim) > 0.5, 1.0, -1.0)
    return dict(f=objective, args=((gen_params, rec_params), data), wrt=0, lr=1e-2)
