"""Helpers of the rules in ``rules/numpy_linalg.py``: the dot / matmul / tensordot / einsum
adjoints, the factorizations (Cholesky, eigh, eig, SVD, QR, pinv, lstsq), convolutions and
cross products, with their tangents and second derivatives.  NumPy only."""
import numpy as np

from s2sgrad.runtime.core import GradientList, _conj, unbroadcast

__all__ = ["dot_adjoint_left", "dot_adjoint_right", "matmul_adjoint_left", "matmul_adjoint_right",
           "mT", "tensordot_adjoint_left", "tensordot_adjoint_right", "einsum_adjoint",
           "trace_adjoint", "diag_adjoint", "diagonal_adjoint", "kron_adjoint", "cholesky_adjoint",
           "eigh_adjoint", "pinv_adjoint", "svd_values_adjoint", "solve_adjoint_a",
           "convolve_adjoint", "multi_dot_adjoint", "matrix_power_adjoint", "svd_adjoint",
           "qr_adjoint", "polyval_adjoint", "convolve_window", "lstsq_gram",
           "lstsq_residual_gradient", "lstsq_residual_weights", "lstsq_tangent",
           "svd_values_tangent", "svd_values_curvature", "cholesky_adjoint_vjp", "cross_adjoint",
           "eigh_tangent", "eig_adjoint", "eig_tangent"]


def dot_adjoint_left(g, a, b):
    """Gradient of np.dot(a, b) with respect to a."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0:
        return np.sum(g * b)
    if nb == 0:
        return g * b
    if nb == 1:
        return np.multiply.outer(g, b)
    # g has shape a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    axes_g = list(range(na - 1, np.ndim(g)))
    axes_b = list(range(nb - 2)) + [nb - 1]
    return np.tensordot(g, b, (axes_g, axes_b))


def dot_adjoint_right(g, a, b):
    """Gradient of np.dot(a, b) with respect to b."""
    na, nb = np.ndim(a), np.ndim(b)
    if nb == 0:
        return np.sum(g * a)
    if na == 0:
        return g * a
    if na == 1 and nb == 1:
        return g * a
    # a: (..., k), b: (..., k, m); g: a.shape[:-1] + b.shape[:-2] + (m,)
    lead = list(range(na - 1))
    res = np.tensordot(a, g, (lead, lead))          # (k,) + b.shape[:-2] + (m,)
    return np.moveaxis(res, 0, nb - 2) if nb > 1 else res


def matmul_adjoint_left(g, a, b):
    """Gradient of a @ b with respect to a (batch dimensions broadcast)."""
    na, nb = np.ndim(a), np.ndim(b)
    if nb == 1:
        ga = np.multiply.outer(g, b)
    elif na == 1:
        ga = np.matmul(np.expand_dims(g, -2), np.swapaxes(b, -1, -2))[..., 0, :]
    else:
        ga = np.matmul(g, np.swapaxes(b, -1, -2))
    return unbroadcast(ga, a)


def matmul_adjoint_right(g, a, b):
    """Gradient of a @ b with respect to b (batch dimensions broadcast)."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 1 and nb == 1:
        gb = g * a
    elif na == 1:
        gb = np.expand_dims(a, -1) * np.expand_dims(g, -2)
    elif nb == 1:
        gb = np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0]
    else:
        gb = np.matmul(np.swapaxes(a, -1, -2), g)
    return unbroadcast(gb, b)


def mT(x):
    """Matrix transpose of the last two axes (``x.T`` for a matrix)."""
    return np.swapaxes(x, -1, -2)


def _tensordot_axes(axes, na, nb):
    if na == 0 or nb == 0:
        # only np.inner's rule names an axis of a 0-d operand: it is a product then
        return [], []
    if np.ndim(axes) == 0:
        n = int(axes)
        return list(range(na - n, na)), list(range(n))
    ax_a, ax_b = axes
    ax_a = [ax_a] if np.ndim(ax_a) == 0 else list(ax_a)
    ax_b = [ax_b] if np.ndim(ax_b) == 0 else list(ax_b)
    return [int(i) % na for i in ax_a], [int(i) % nb for i in ax_b]


def tensordot_adjoint_left(g, a, b, axes=2):
    """Gradient of np.tensordot(a, b, axes) with respect to a."""
    na, nb = np.ndim(a), np.ndim(b)
    ax_a, ax_b = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    nfa = len(free_a)
    ga = np.tensordot(g, b, (list(range(nfa, nfa + len(free_b))), free_b))
    order = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
    return np.transpose(ga, np.argsort(order))


def tensordot_adjoint_right(g, a, b, axes=2):
    """Gradient of np.tensordot(a, b, axes) with respect to b."""
    na, nb = np.ndim(a), np.ndim(b)
    ax_a, ax_b = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    gb = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    order = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
    return np.transpose(gb, np.argsort(order))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_spec(subscripts, operands):
    """Explicit (inputs, output) letter strings, with '...' spelled out."""
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        ins, out = subs.split("->")
    else:
        ins, out = subs, None
    ins = ins.split(",")
    used = set(subs)
    free = [c for c in _LETTERS if c not in used]
    nell = 0
    for s, op in zip(ins, operands):
        if "..." in s:
            nell = max(nell, np.ndim(op) - (len(s) - 3))
    ell = "".join(free[:nell])
    new_ins = []
    for s, op in zip(ins, operands):
        if "..." in s:
            k = np.ndim(op) - (len(s) - 3)
            s = s.replace("...", ell[nell - k:] if k else "")
        new_ins.append(s)
    if out is None:
        counts = {}
        for s in new_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_ins, out


def einsum_adjoint(g, subscripts, which, *operands):
    """Gradient of np.einsum(subscripts, *operands) with respect to operand ``which``
    (repeated operands, implicit outputs, '...', traces and diagonals included)."""
    operands = [o for o in operands if o is not None]
    ins, out = _einsum_spec(subscripts, operands)
    target = ins[which]
    x = np.asarray(operands[which])
    others = [(s, o) for i, (s, o) in enumerate(zip(ins, operands)) if i != which]
    sizes = dict(zip(target, x.shape))
    unique = "".join(dict.fromkeys(target))
    present = set(out) | {c for s, _ in others for c in s}
    reach = "".join(c for c in unique if c in present)
    spec = ",".join([out] + [s for s, _ in others]) + "->" + reach
    h = np.einsum(spec, g, *[o for _, o in others])
    # letters only this operand sums over: the gradient is constant along them
    if len(reach) < len(unique):
        h = np.reshape(h, tuple(sizes[c] if c in present else 1 for c in unique))
        h = np.array(np.broadcast_to(h, tuple(sizes[c] for c in unique)))
    if len(unique) == len(target):
        return np.transpose(h, [unique.index(c) for c in target])
    res = np.zeros(x.shape, dtype=np.result_type(h, float))
    np.einsum(target + "->" + unique, res)[...] = h    # writeable diagonal view
    return res


def trace_adjoint(g, a, offset=0, axis1=0, axis2=1):
    """Gradient of np.trace: the upstream gradient on the (offset) diagonal."""
    shape = np.shape(a)
    eye = np.eye(shape[axis1], shape[axis2], k=offset)
    out = np.multiply.outer(g, eye)            # (...rest, n, m)
    return np.moveaxis(out, (-2, -1), (axis1, axis2))


def diagonal_adjoint(g, a, offset=0, axis1=0, axis2=1):
    """Gradient of np.diagonal: the upstream gradient written back on the diagonal."""
    shape = np.shape(a)
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    rest = [shape[i] for i in range(nd) if i not in (a1, a2)]
    out = np.zeros(rest + [shape[a1], shape[a2]], dtype=np.result_type(g, float))
    i = np.arange(np.shape(g)[-1])
    out[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return np.moveaxis(out, (-2, -1), (a1, a2))


def diag_adjoint(g, v, k=0):
    """Gradient of np.diag(v, k) for a vector (builds a matrix) or a matrix (reads one)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_adjoint(g, v, k, 0, 1)


def kron_adjoint(g, a, b, which):
    """Gradient of np.kron(a, b) with respect to a (which=0) or b (which=1)."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    inter = tuple(n for pair in zip(sa, sb) for n in pair)
    g4 = np.reshape(g, inter)
    if which == 0:
        other = np.reshape(b, sb)
        out = np.sum(g4 * np.reshape(other, tuple(n for m in sb for n in (1, m))),
                     axis=tuple(range(1, 2 * nd, 2)))
        return np.reshape(out, np.shape(a))
    other = np.reshape(a, sa)
    out = np.sum(g4 * np.reshape(other, tuple(n for m in sa for n in (m, 1))),
                 axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(out, np.shape(b))


def solve_adjoint_a(gb, x):
    """Gradient of np.linalg.solve(a, b) with respect to a, given gb = solve(a.T, g)."""
    if np.ndim(x) == 1:
        return -np.multiply.outer(gb, x)
    return -np.matmul(gb, mT(x))


def cholesky_adjoint(g, L):
    """Gradient of np.linalg.cholesky (symmetric; Murray 2016)."""
    phi = np.tril(np.matmul(mT(L), g))
    phi = phi - 0.5 * np.eye(L.shape[-1]) * phi
    s = np.linalg.solve(mT(L), mT(np.linalg.solve(mT(L), mT(phi))))
    return 0.5 * (s + mT(s))


def eigh_adjoint(g, result):
    """Gradient of np.linalg.eigh (symmetric); ``g`` is (gw, gv), either may be zero."""
    w, v = result
    gw, gv = g
    n = w.shape[-1]
    vt = mT(v)
    vc = _conj(v)          # Hermitian a: dw_i = v_i^H da v_i, so conj(v) on the left
    out = np.matmul(vc * np.expand_dims(np.broadcast_to(gw, w.shape), -2), vt)
    if np.any(gv != 0):
        diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        off = np.ones((n, n)) - np.eye(n)
        f = off / (diff + np.eye(n))
        out = out + np.matmul(np.matmul(vc, f * np.matmul(vt, gv)), vt)
    return 0.5 * (out + _conj(mT(out)))


def pinv_adjoint(g, a, result):
    """Gradient of np.linalg.pinv (full-rank matrices)."""
    p, pt = result, mT(result)
    gt = mT(g)
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    out = -np.matmul(np.matmul(pt, g), pt)
    out = out + np.matmul(np.matmul(np.eye(m) - np.matmul(a, p), gt), np.matmul(p, pt))
    out = out + np.matmul(np.matmul(pt, p), np.matmul(gt, np.eye(n) - np.matmul(p, a)))
    return out


def svd_values_adjoint(g, a):
    """Gradient of the singular values np.linalg.svd(a, compute_uv=False)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    # ds_i = Re(u_i^H da v_i): the conjugate of u diag(g) vh for complex a
    return _conj(np.matmul(u * np.expand_dims(g, -2), vt))


def _correlate_valid(big, small):
    """n-D 'valid' cross-correlation (NumPy only)."""
    windows = np.lib.stride_tricks.sliding_window_view(big, np.shape(small))
    nd = np.ndim(small)
    return np.tensordot(windows, small, (list(range(windows.ndim - nd, windows.ndim)),
                                         list(range(nd))))


def _window_starts(full, shape, a, v, correlate):
    """Where a convolution's ``shape``-sized output sits in the full result: centred,
    rounding down -- except np.correlate(a, v) with a shorter a, which NumPy computes
    as the reversed correlation of (v, a) and so rounds up."""
    if correlate == "numpy" and np.size(a) < np.size(v):
        return tuple((f - n + 1) // 2 for f, n in zip(full, shape))
    return tuple((f - n) // 2 for f, n in zip(full, shape))


def convolve_adjoint(g, a, v, mode="full", which=0, correlate=False):
    """Gradient of a convolution (np.convolve, scipy.signal.convolve) or, with
    ``correlate=True`` (``"numpy"`` for np.correlate), a cross-correlation, with respect
    to ``a`` (which=0) or ``v``; the output's size (the mode) is read from ``g``."""
    a, v = np.asarray(a, dtype=float), np.asarray(v, dtype=float)
    starts = _window_starts(tuple(n + m - 1 for n, m in zip(np.shape(a), np.shape(v))),
                            np.shape(g), a, v, correlate)
    if correlate:
        v = np.flip(v)
    g = np.asarray(g, dtype=float)
    full = tuple(n + m - 1 for n, m in zip(np.shape(a), np.shape(v)))
    padded = np.zeros(full)
    padded[tuple(slice(s, s + n) for s, n in zip(starts, g.shape))] = g
    if which == 0:
        return _correlate_valid(padded, v)
    out = _correlate_valid(padded, a)
    return np.flip(out) if correlate else out


def multi_dot_adjoint(g, arrays):
    """Gradient of np.linalg.multi_dot with respect to each array."""
    mats = [np.atleast_2d(x) if np.ndim(x) == 2 else x for x in arrays]
    if np.ndim(mats[0]) == 1:
        mats[0] = mats[0][None, :]
    if np.ndim(mats[-1]) == 1:
        mats[-1] = mats[-1][:, None]
    g2 = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    out = []
    for i in range(len(mats)):
        left = np.eye(mats[0].shape[0])
        for m in mats[:i]:
            left = left @ m
        right = np.eye(mats[-1].shape[1])
        for m in reversed(mats[i + 1:]):
            right = m @ right
        out.append(np.reshape(left.T @ g2 @ right.T, np.shape(arrays[i])))
    return GradientList(out)


def matrix_power_adjoint(g, a, n):
    """Gradient of np.linalg.matrix_power(a, n) for an integer n >= 0 (n < 0 via inv)."""
    if n < 0:
        inv = np.linalg.inv(a)
        gi = matrix_power_adjoint(g, inv, -n)
        return -np.matmul(np.matmul(mT(inv), gi), mT(inv))
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(1, n):
        powers.append(np.matmul(powers[-1], a))
    out = np.zeros(np.shape(a))
    for k in range(n):
        out = out + np.matmul(np.matmul(mT(powers[k]), g), mT(powers[n - 1 - k]))
    return out


def svd_adjoint(g, a, result, full_matrices=True):
    """Gradient of u, s, vh = np.linalg.svd(a) (distinct nonzero singular values); ``g`` is
    (gu, gs, gvh), any of them possibly zero.  Full matrices only for square ``a``."""
    u, s, vh = result
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    k = min(m, n)
    if full_matrices and m != n:
        raise ValueError("s2sgrad: the gradient of np.linalg.svd(a) with u and vh needs "
                         "full_matrices=False for a non-square matrix")
    gu, gs, gvh = (np.broadcast_to(gi, np.shape(r)) for gi, r in zip(g, result))
    v, gv = mT(vh), mT(gvh)
    eye = np.eye(k)
    s_row, s_col = s[..., None, :], s[..., :, None]
    f = 1.0 / (s_row ** 2 - s_col ** 2 + eye)         # 1 / (s_j^2 - s_i^2) off the diagonal
    f = f - eye
    utgu = np.matmul(mT(u), gu)
    vtgv = np.matmul(mT(v), gv)
    inner = (f * (utgu - mT(utgu))) * s_row + eye * gs[..., :, None] \
        + s_col * (f * (vtgv - mT(vtgv)))
    out = np.matmul(np.matmul(u, inner), vh)
    if m > n:
        out = out + np.matmul(np.eye(m) - np.matmul(u, mT(u)), gu / s_row) @ vh
    elif m < n:
        out = out + np.matmul(u, mT(gv / s_row) @ (np.eye(n) - np.matmul(v, vh)))
    return out


def qr_adjoint(g, a, result):
    """Gradient of q, r = np.linalg.qr(a) (reduced, m >= n, full rank); ``g`` is
    (gq, gr), either possibly zero."""
    q, r = result
    gq, gr = (np.broadcast_to(gi, np.shape(x)) for gi, x in zip(g, result))
    if np.shape(a)[-2] < np.shape(a)[-1]:
        raise ValueError("s2sgrad: the gradient of np.linalg.qr needs a matrix with at "
                         "least as many rows as columns")
    m = np.matmul(r, mT(gr)) - np.matmul(mT(gq), q)
    m = np.tril(m) + mT(np.tril(m, -1))             # copy the lower triangle up
    b = gq + np.matmul(q, m)
    return mT(np.linalg.solve(r, mT(b)))             # b @ inv(r).T


def polyval_adjoint(g, p, x, which):
    """Gradient of np.polyval(p, x) with respect to the coefficients p (which=0) or x."""
    p = np.asarray(p, dtype=float)
    if which == 1:
        return g * np.polyval(np.polyder(p), x) if len(p) > 1 else np.zeros(np.shape(x))
    n = len(p)
    powers = np.power.outer(np.asarray(x, dtype=float), np.arange(n - 1, -1, -1))
    return np.reshape(np.tensordot(np.broadcast_to(g, np.shape(x)), powers, np.ndim(x)), p.shape)


def convolve_window(a, v, shape, correlate=False):
    """The ``shape``-sized window of the full convolution (or correlation) of ``a`` and
    ``v`` that convolve_adjoint reads: the transpose of convolve_adjoint in its
    gradient argument (second derivatives of convolutions)."""
    a, v = np.asarray(a, dtype=float), np.asarray(v, dtype=float)
    full = tuple(n + m - 1 for n, m in zip(np.shape(a), np.shape(v)))
    starts = _window_starts(full, shape, a, v, correlate)
    if not correlate:
        v = np.flip(v)
    padded = np.pad(a, [(m - 1, m - 1) for m in np.shape(v)])
    out = _correlate_valid(padded, v)
    return np.array(out[tuple(slice(s, s + n) for s, n in zip(starts, shape))])


def lstsq_gram(a, rank):
    """``a.T @ a`` for the gradient of np.linalg.lstsq(a, b), which needs full column
    rank (m >= n and rank n: then the solution is unique)."""
    m, n = np.shape(a)
    if rank != n:
        raise ValueError("s2sgrad: the gradient of np.linalg.lstsq needs a of full column "
                         "rank (a is %d x %d of rank %d)" % (m, n, rank))
    return np.matmul(mT(a), a)


def lstsq_residual_gradient(g, r):
    """Gradient with respect to the residual vectors ``r`` of the residuals (squared norms
    per column) np.linalg.lstsq returns; none when it returned none (an empty array)."""
    if np.size(g) == 0:
        return np.zeros(np.shape(r))
    return 2.0 * r * (np.reshape(g, ()) if np.ndim(r) == 1 else g)


def lstsq_residual_weights(g, r, like):
    """The adjoint of lstsq_residual_gradient(like, r) in its first argument: 2 <g, r>
    per column, shaped like ``like`` (the residuals; empty when lstsq returned none)."""
    if np.size(like) == 0:
        return np.zeros(np.shape(like))
    return np.reshape(2.0 * np.sum(g * r, axis=0), np.shape(like))


def lstsq_tangent(ta, tb, a, b, result):
    """Tangent of (x, residuals, rank, s) = np.linalg.lstsq(a, b) (full column rank) for
    tangents ``ta`` of a and ``tb`` of b (0.0 for none): a GradientList, so the terms of
    a and b add item by item."""
    x, residuals, rank, _ = result
    ta = np.zeros(np.shape(a)) if np.ndim(ta) == 0 else ta
    tb = np.zeros(np.shape(b)) if np.ndim(tb) == 0 else tb
    r = b - np.matmul(a, x)
    moved = tb - np.matmul(ta, x)                 # how b - a x moves at fixed x
    dx = np.linalg.solve(lstsq_gram(a, rank), np.matmul(mT(ta), r) + np.matmul(mT(a), moved))
    if np.size(residuals) == 0:
        dres = np.zeros(np.shape(residuals))
    else:
        dres = np.reshape(2.0 * np.sum(r * moved, axis=0), np.shape(residuals))
    return GradientList([dx, dres, 0.0, svd_values_tangent(ta, a)])


def svd_values_tangent(t, a):
    """Tangent of the singular values of ``a`` for a tangent ``t`` of a: u_i^T t v_i
    (distinct singular values); also the adjoint of svd_values_adjoint in its g."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    if np.iscomplexobj(a):          # Re(u_i^H t v_i), v = vh^H
        return np.real(np.sum(np.conj(u) * np.matmul(t, np.conj(mT(vt))), axis=-2))
    return np.sum(u * np.matmul(t, mT(vt)), axis=-2)


def svd_values_curvature(g, a):
    """The second-order part of svd_values_adjoint(g, a) (how it moves with a): zero when
    g is zero (the singular values went unused, as in most np.linalg.lstsq calls); it
    needs the singular vectors' derivative otherwise, which s2sgrad does not have."""
    if np.any(g != 0):
        raise NotImplementedError("s2sgrad: second derivatives of singular values are not "
                                  "supported")
    return np.zeros(np.shape(a))


def _half_diagonal_tril(p):
    """The lower triangle of p with half its diagonal (Phi of the Cholesky adjoint; it
    is its own adjoint)."""
    low = np.tril(p)
    return low - 0.5 * np.eye(p.shape[-1]) * low


def cholesky_adjoint_vjp(w, g, L, wrt):
    """The gradient of ``<w, cholesky_adjoint(g, L)>`` with respect to g (wrt=0) or L
    (wrt=1): second derivatives of the Cholesky factorization.  With ``M = L^-1``,
    ``phi = Phi(L.T g)`` and ``ws`` the symmetric part of w, the adjoint is
    ``sym(M.T phi M)``, so g gets ``L Phi(M ws M.T)`` and L gets
    ``g Phi(M ws M.T).T - M.T (phi + phi.T) M ws M.T``."""
    inv = np.linalg.inv(L)
    ws = 0.5 * (w + mT(w))
    inner = np.matmul(np.matmul(inv, ws), mT(inv))
    cp = _half_diagonal_tril(inner)
    if wrt == 0:
        return np.matmul(L, cp)
    phi = _half_diagonal_tril(np.matmul(mT(L), g))
    through_inverse = np.matmul(np.matmul(mT(inv), phi + mT(phi)), inner)
    return np.matmul(g, mT(cp)) - through_inverse


# -- np.cross with axisa/axisb/axisc/axis and 2-component vectors, np.inner of scalars --------
def _cross_parts(a, b, axisa, axisb, axisc, axis):
    """a and b with their vector axis last, zero-padded to 3 components, the
    component counts, and the result's vector axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a_ = np.moveaxis(np.asarray(a), axisa, -1)
    b_ = np.moveaxis(np.asarray(b), axisb, -1)
    na, nb = a_.shape[-1], b_.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    pad = lambda x, n: x if n == 3 else np.concatenate(      # noqa: E731
        [x, np.zeros(x.shape[:-1] + (1,), dtype=x.dtype)], -1)
    return a_, b_, pad(a_, na), pad(b_, nb), na, nb, axisa, axisb, axisc


def cross_adjoint(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    """Gradient of np.cross(a, b, axisa, axisb, axisc, axis) with respect to a
    (``which=0``) or b (``which=1``); 2-component vectors are 3-vectors with a zero
    third component (their cross product, the scalar z-component, when both are)."""
    a_, b_, a3, b3, na, nb, axisa, axisb, axisc = _cross_parts(a, b, axisa, axisb, axisc, axis)
    g = np.asarray(g)
    if na == 2 and nb == 2:
        z = np.zeros_like(g)
        g3 = np.stack([z, z, g], -1)
    else:
        g3 = np.moveaxis(g, axisc, -1)
    if which == 0:
        r = np.cross(b3, g3)[..., :na]
        return np.moveaxis(unbroadcast(r, a_), -1, axisa)
    r = np.cross(g3, a3)[..., :nb]
    return np.moveaxis(unbroadcast(r, b_), -1, axisb)


def eigh_tangent(t, result):
    """Tangent of np.linalg.eigh (a taken as Hermitian, as eigh_adjoint takes it: the
    tangent's Hermitian part moves it): dw = Re diag(V^H dA V), dV = V (F o V^H dA V)
    with F_ij = 1 / (w_j - w_i) off the diagonal (distinct eigenvalues)."""
    w, v = result
    n = w.shape[-1]
    t = np.asarray(t)
    t = 0.5 * (t + _conj(mT(t)))
    inner = np.matmul(np.matmul(_conj(mT(v)), t), v)
    dw = np.real(np.diagonal(inner, 0, -2, -1)).copy()
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = (np.ones((n, n)) - np.eye(n)) / (diff + np.eye(n))
    return GradientList([dw, np.matmul(v, f * inner)])


# -- np.linalg.eig (general matrices; distinct eigenvalues) ------------------------------------
def _eig_f(w):
    """F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it."""
    n = w.shape[-1]
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    return (np.ones((n, n)) - np.eye(n)) / (diff + np.eye(n))


def eig_adjoint(g, result, a):
    """Gradient of ``w, v = np.linalg.eig(a)`` (distinct eigenvalues; eigenvectors of unit
    norm, as LAPACK returns them; a loss of v must not depend on their phases).  With
    u = v: a_bar = u^-T (diag(gw) + F o (u^T gv) - F o (u^T conj(u) Re(diag(u^T gv)))) u^T,
    real for a real a."""
    w, u = result
    gw, gv = g
    n = w.shape[-1]
    ut = mT(u)
    inner = np.zeros(np.shape(u), dtype=np.result_type(u, complex if np.iscomplexobj(w)
                                                      else float))
    if np.ndim(gw) != 0 or np.any(gw != 0):
        inner = inner + np.broadcast_to(gw, w.shape)[..., None] * np.eye(n)
    if np.ndim(gv) != 0 or np.any(gv != 0):
        f = _eig_f(w)
        utgv = np.matmul(ut, gv)
        inner = inner + f * utgv
        inner = inner - f * np.matmul(np.matmul(ut, np.conj(u)),
                                      np.real(utgv * np.eye(n)))
    out = np.matmul(np.linalg.solve(ut, inner), ut)
    return out if np.iscomplexobj(a) else np.real(out)


def eig_tangent(t, result):
    """Tangent of ``np.linalg.eig`` for a tangent t of a: dw = diag(u^-1 t u); the
    eigenvectors move by u (F o u^-1 t u), minus the part that changes their norm."""
    w, u = result
    inner = np.linalg.solve(u, np.matmul(t, u))
    dw = np.diagonal(inner, 0, -2, -1).copy()
    du = np.matmul(u, _eig_f(w) * inner)
    du = du - u * np.real(np.sum(np.conj(u) * du, axis=-2, keepdims=True))
    return GradientList([dw, du])
