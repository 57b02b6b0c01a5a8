"""A GRU language model over time, its weights in a dict (the style of blog-post
RNN tutorials): embeddings looked up by index, gates computed with a helper, hidden
states kept in a list, a softmax cross-entropy summed over the sequence."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def init_gru(vocab, emb, hidden, seed=0):
    rng = np.random.RandomState(seed)
    p = {'embed': rng.randn(vocab, emb) * 0.1}
    for gate in ('z', 'r', 'h'):
        p['W' + gate] = rng.randn(emb, hidden) * 0.1
        p['U' + gate] = rng.randn(hidden, hidden) * 0.1
        p['b' + gate] = np.zeros(hidden)
    p['Wy'] = rng.randn(hidden, vocab) * 0.1
    p['by'] = np.zeros(vocab)
    return p


def gru_step(p, x, h_prev):
    z = sigmoid(x @ p['Wz'] + h_prev @ p['Uz'] + p['bz'])
    r = sigmoid(x @ p['Wr'] + h_prev @ p['Ur'] + p['br'])
    h_tilde = np.tanh(x @ p['Wh'] + (r * h_prev) @ p['Uh'] + p['bh'])
    return (1 - z) * h_prev + z * h_tilde


def sequence_loss(params, inputs, targets, h0):
    hs = [h0]
    loss = 0.0
    for t in range(len(inputs)):
        x = params['embed'][inputs[t]]
        h = gru_step(params, x, hs[-1])
        hs.append(h)
        logits = h @ params['Wy'] + params['by']
        logits = logits - np.max(logits)
        loss -= logits[targets[t]] - np.log(np.sum(np.exp(logits)))
    return loss / len(inputs)


def problem():
    rng = np.random.RandomState(2)
    params = init_gru(vocab=7, emb=5, hidden=6)
    inputs = list(rng.randint(7, size=6))
    targets = inputs[1:] + [0]
    h0 = np.zeros(6)
    return dict(f=sequence_loss, args=(params, inputs, targets, h0), wrt=0, lr=0.1)
