"""A small model using most of what the control-flow issue covers (helper with a keyword
argument and a branch on a string, nested container parameters, a loop with break,
enumerate, a generator consumed by sum), for tests/front/test_subroutines.py.  ``np`` is
injected so that the same source runs on NumPy and on autograd.numpy."""
SOURCE = '''
def layer(h, W, b, act="tanh"):
    z = np.dot(h, W) + b
    if act == "tanh":
        return np.tanh(z)
    return np.maximum(z, 0.0)


def model(params, X, y, n_steps):
    h = X
    acts = ["tanh", "relu"]
    for k in range(len(params["Ws"])):
        h = layer(h, params["Ws"][k], params["bs"][k], act=acts[k])
    state = h
    for t in range(n_steps):
        state = np.tanh(state + 0.5 * h)
        if np.max(np.abs(state)) > 10.0:
            break
    logits = state - np.max(state, axis=1, keepdims=True)
    p = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    loss = 0.0
    for i, row in enumerate(p):
        loss = loss - np.log(row[y[i]] + 1e-9)
    reg = sum(np.sum(W * W) for W in params["Ws"])
    return loss / X.shape[0] + 1e-3 * reg
'''
