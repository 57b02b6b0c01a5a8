"""Helpers of the rules in ``rules/scipy_misc.py`` (scipy.linalg): Cholesky and LU solves and
factorizations, banded solves, with their tangents and second derivatives.  Written with
NumPy only (no SciPy at run time)."""
import numpy as np

from s2sgrad.runtime.core import GradientList
from s2sgrad.runtime.numpy_linalg import mT, solve_adjoint_a

__all__ = ["cho_solve_adjoint", "cho_factor_tangent", "cho_solve_tangent", "lu_permutation",
           "lu_solve_adjoint", "lu_factor_adjoint", "lu_factor_tangent", "lu_solve_tangent",
           "cho_solve_adjoint_vjp", "cho_solve_adjoint_tangent", "lu_solve_adjoint_tangent",
           "lu_factor_adjoint_tangent", "banded_transpose", "banded_outer_adjoint",
           "banded_matvec"]


def cho_solve_adjoint(gb, x, c_and_lower):
    """Gradient of scipy.linalg.cho_solve((c, lower), b) with respect to ``(c, lower)``,
    given ``gb = cho_solve((c, lower), g)`` and the solution ``x``: the factor's
    triangle gets ``sym @ L`` (lower, a = L L.T) or ``U @ sym`` (upper, a = U.T U), with
    ``sym`` the symmetrized gradient with respect to a; the flag gets none."""
    c, lower = c_and_lower
    ga = solve_adjoint_a(gb, x)
    sym = ga + mT(ga)
    if lower:
        return GradientList([np.tril(np.matmul(sym, np.tril(c))), 0.0])
    return GradientList([np.triu(np.matmul(np.triu(c), sym)), 0.0])


def lu_permutation(piv):
    """The row order of LAPACK's pivots (scipy.linalg.lu_factor): row i was swapped with
    row piv[i], in turn, so ``a[perm] == L @ U``."""
    perm = np.arange(len(piv))
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


def _lu_parts(lu):
    """The unit lower factor L and the upper factor U packed in lu_factor's matrix."""
    if np.ndim(lu) != 2 or lu.shape[0] != lu.shape[1]:
        raise ValueError("s2sgrad: scipy.linalg.lu_factor / lu_solve are differentiated "
                         "for a square matrix only")
    return np.tril(lu, -1) + np.eye(lu.shape[0]), np.triu(lu)


def lu_solve_adjoint(gb, x, lu_and_piv, trans=0):
    """Gradient of scipy.linalg.lu_solve((lu, piv), b, trans) with respect to
    ``(lu, piv)``, given ``gb`` (b's gradient) and the solution ``x``: with ``ga`` the
    gradient with respect to a = P L U, L's strict lower triangle gets
    ``(P.T ga) U.T`` and U's triangle ``L.T (P.T ga)``; the pivots get none."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    ga = solve_adjoint_a(gb, x)
    if trans not in (0, "N"):
        ga = mT(ga)                    # x solves a.T x = b
    pga = ga[lu_permutation(piv)]
    return GradientList([np.tril(np.matmul(pga, mT(up)), -1)
                         + np.triu(np.matmul(mT(low), pga)), 0.0])


def lu_factor_adjoint(g, lu_and_piv):
    """Gradient of scipy.linalg.lu_factor(a) with respect to a, given ``g``, the gradient
    of the packed ``lu`` matrix: ``P L^-T (tril(L.T g, -1) + triu(g U.T)) U^-T``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    g = np.broadcast_to(g, lu.shape)
    inner = np.tril(np.matmul(mT(low), g), -1) + np.triu(np.matmul(g, mT(up)))
    ga = mT(np.linalg.solve(up, mT(np.linalg.solve(mT(low), inner))))
    out = np.empty_like(ga)
    out[lu_permutation(piv)] = ga
    return out


def _factor_tangent(t):
    """The tangent of the factor in a (factor, flag) pair: the first item of a list
    tangent, None for no tangent (a plain zero)."""
    if isinstance(t, (list, tuple)):
        t = t[0]
    return None if np.ndim(t) == 0 else np.asarray(t)


def cho_factor_tangent(ta, c_and_lower):
    """Tangent of scipy.linalg.cho_factor(a) for a tangent ``ta`` of a (taken as
    symmetric, like the gradient): ``dL = L Phi(L^-1 S L^-T)``, Phi the lower triangle
    with half the diagonal; upper factors are transposed; the other triangle of c holds
    a's entries and moves with them.  A GradientList (c, flag)."""
    c, lower = c_and_lower
    low = np.tril(c) if lower else mT(np.triu(c))
    sym = 0.5 * (ta + mT(ta))
    inner = np.linalg.solve(low, mT(np.linalg.solve(low, sym)))
    phi = np.tril(inner) - 0.5 * np.diag(np.diagonal(inner))
    dlow = np.matmul(low, phi)
    if lower:                          # the other triangle holds a's own entries
        return GradientList([dlow + np.triu(ta, 1), 0.0])
    return GradientList([mT(dlow) + np.tril(ta, -1), 0.0])


def cho_solve_tangent(tc, tb, c_and_lower, x):
    """Tangent of x = scipy.linalg.cho_solve((c, lower), b) for tangents ``tc`` of the
    factor pair and ``tb`` of b (0.0 for none): ``a^-1 (db - da x)``."""
    c, lower = c_and_lower
    low = np.tril(c) if lower else mT(np.triu(c))
    a = np.matmul(low, mT(low))
    moved = np.zeros(np.shape(x)) if np.ndim(tb) == 0 else tb
    dc = _factor_tangent(tc)
    if dc is not None:
        dlow = np.tril(dc) if lower else mT(np.triu(dc))
        da = np.matmul(dlow, mT(low)) + np.matmul(low, mT(dlow))
        moved = moved - np.matmul(da, x)
    return np.linalg.solve(a, moved)


def lu_factor_tangent(ta, lu_and_piv):
    """Tangent of scipy.linalg.lu_factor(a) for a tangent ``ta`` of a: with
    ``F = L^-1 P.T da U^-1``, ``dL = L tril(F, -1)`` and ``dU = triu(F) U``, packed like
    lu.  A GradientList (lu, pivots)."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    moved = np.broadcast_to(ta, lu.shape)[lu_permutation(piv)]
    f = mT(np.linalg.solve(mT(up), mT(np.linalg.solve(low, moved))))
    return GradientList([np.matmul(low, np.tril(f, -1)) + np.matmul(np.triu(f), up), 0.0])


def lu_solve_tangent(tlu, tb, lu_and_piv, x, trans=0):
    """Tangent of x = scipy.linalg.lu_solve((lu, piv), b, trans) for tangents ``tlu`` of
    the factor pair and ``tb`` of b (0.0 for none): ``a^-1 (db - da x)``, with a.T for
    trans=1 / 2 and ``da = P (dL U + L dU)``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    perm = lu_permutation(piv)
    a = np.empty(lu.shape)
    a[perm] = np.matmul(low, up)
    moved = np.zeros(np.shape(x)) if np.ndim(tb) == 0 else tb
    dlu = _factor_tangent(tlu)
    if dlu is not None:
        da = np.empty(lu.shape)
        da[perm] = np.matmul(np.tril(dlu, -1), up) + np.matmul(low, np.triu(dlu))
        if trans not in (0, "N"):
            a, da = mT(a), mT(da)
        moved = moved - np.matmul(da, x)
    elif trans not in (0, "N"):
        a = mT(a)
    return np.linalg.solve(a, moved)


def cho_solve_adjoint_vjp(w, gb, x, c_and_lower, wrt):
    """The gradient of ``<w[0], cho_solve_adjoint(gb, x, (c, lower))[0]>`` with respect to
    gb (wrt=0), x (1) or the factor pair (2, a GradientList): the factor's gradient is
    ``tril(sym @ L)`` (or ``triu(U @ sym)``) with ``sym = ga + ga.T``, ``ga = -gb x.T``."""
    c, lower = c_and_lower
    w0 = w[0] if isinstance(w, (list, tuple)) else w
    ga = solve_adjoint_a(gb, x)
    if lower:
        tri = np.tril(w0)
        cot_sym = np.matmul(tri, mT(np.tril(c)))
    else:
        tri = np.triu(w0)
        cot_sym = np.matmul(mT(np.triu(c)), tri)
    cot_ga = cot_sym + mT(cot_sym)
    if wrt == 0:
        return -np.matmul(cot_ga, x)
    if wrt == 1:
        return -np.matmul(mT(cot_ga), gb)
    sym = ga + mT(ga)
    if lower:
        return GradientList([np.tril(np.matmul(sym, tri)), 0.0])
    return GradientList([np.triu(np.matmul(tri, sym)), 0.0])


def cho_solve_adjoint_tangent(tgb, tx, tc, gb, x, c_and_lower):
    """Tangent of ``cho_solve_adjoint(gb, x, (c, lower))`` for tangents of gb, x and the
    factor pair (0.0 for none): ``tril(dsym L + sym dL)`` (lower) or
    ``triu(dU sym + U dsym)`` (upper).  A GradientList, like the adjoint."""
    c, lower = c_and_lower
    dc = _factor_tangent(tc)
    tri = np.tril if lower else np.triu
    factor = tri(c)
    ga = solve_adjoint_a(gb, x)
    sym = ga + mT(ga)
    dga = 0.0
    if np.ndim(tgb) != 0:
        dga = dga + solve_adjoint_a(tgb, x)
    if np.ndim(tx) != 0:
        dga = dga + solve_adjoint_a(gb, tx)
    out = np.zeros(np.shape(c))
    if np.ndim(dga) != 0:
        dsym = dga + mT(dga)
        out = out + (np.matmul(dsym, factor) if lower else np.matmul(factor, dsym))
    if dc is not None:
        out = out + (np.matmul(sym, tri(dc)) if lower else np.matmul(tri(dc), sym))
    return GradientList([tri(out), 0.0])


def lu_solve_adjoint_tangent(tgb, tx, tlu, gb, x, lu_and_piv, trans=0):
    """Tangent of ``lu_solve_adjoint(gb, x, (lu, piv), trans)`` for tangents of gb, x and
    the factor pair (0.0 for none): with ``pga`` the permuted gradient with respect to a,
    ``tril(dpga U.T + pga dU.T, -1) + triu(dL.T pga + L.T dpga)``.  A GradientList."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    perm = lu_permutation(piv)
    dlu = _factor_tangent(tlu)
    transposed = trans not in (0, "N")
    dga = 0.0
    if np.ndim(tgb) != 0:
        dga = dga + solve_adjoint_a(tgb, x)
    if np.ndim(tx) != 0:
        dga = dga + solve_adjoint_a(gb, tx)
    out = np.zeros(lu.shape)
    if np.ndim(dga) != 0:
        dpga = (mT(dga) if transposed else dga)[perm]
        out = out + np.tril(np.matmul(dpga, mT(up)), -1) + np.triu(np.matmul(mT(low), dpga))
    if dlu is not None:
        ga = solve_adjoint_a(gb, x)
        pga = (mT(ga) if transposed else ga)[perm]
        out = out + (np.tril(np.matmul(pga, mT(np.triu(dlu))), -1)
                     + np.triu(np.matmul(mT(np.tril(dlu, -1)), pga)))
    return GradientList([out, 0.0])


def lu_factor_adjoint_tangent(tg, tlu, g, lu_and_piv):
    """Tangent of ``lu_factor_adjoint(g, (lu, piv))`` for tangents of g and the factor
    pair (0.0 for none).  With ``X = L^-T M U^-T`` (the adjoint before the row
    permutation): ``dX = L^-T (dM - dL.T X U.T - L.T X dU.T) U^-T``."""
    lu, piv = lu_and_piv
    low, up = _lu_parts(lu)
    g = np.broadcast_to(g, lu.shape)
    dlu = _factor_tangent(tlu)
    dm = np.zeros(lu.shape)
    if np.ndim(tg) != 0:
        tg = np.broadcast_to(tg, lu.shape)
        dm = dm + np.tril(np.matmul(mT(low), tg), -1) + np.triu(np.matmul(tg, mT(up)))
    if dlu is not None:
        dlow, dup = np.tril(dlu, -1), np.triu(dlu)
        inner = np.tril(np.matmul(mT(low), g), -1) + np.triu(np.matmul(g, mT(up)))
        x = mT(np.linalg.solve(up, mT(np.linalg.solve(mT(low), inner))))
        dm = (dm + np.tril(np.matmul(mT(dlow), g), -1) + np.triu(np.matmul(g, mT(dup)))
              - np.matmul(np.matmul(mT(dlow), x), mT(up))
              - np.matmul(np.matmul(mT(low), x), mT(dup)))
    dx = mT(np.linalg.solve(up, mT(np.linalg.solve(mT(low), dm))))
    out = np.empty_like(dx)
    out[lu_permutation(piv)] = dx
    return out


# -- scipy.linalg.solve_banded: band storage ab[u + i - j, j] = A[i, j] ----------------------
def _band_index(l_and_u, ab):
    """Row, column and matrix row of every entry of the band storage, and which of
    them lie inside the matrix (solve_banded ignores the others)."""
    lower, upper = (int(v) for v in l_and_u)
    rows, n = np.shape(ab)[0], np.shape(ab)[1]
    k = np.arange(rows)[:, None]
    j = np.arange(n)[None, :]
    i = j + k - upper
    inside = (i >= 0) & (i < n)
    return lower, upper, np.broadcast_to(k, (rows, n)), np.broadcast_to(j, (rows, n)), i, inside


def banded_transpose(l_and_u, ab):
    """The band storage of A.T (bandwidths (u, l)) from that of A: abT[l + i - j, j] =
    A[j, i] = ab[u + j - i, i]."""
    ab = np.asarray(ab)
    lower, upper = (int(v) for v in l_and_u)
    rows, n = ab.shape[0], ab.shape[1]
    out = np.zeros_like(ab, dtype=np.result_type(ab, float))
    k = np.arange(rows)[:, None]
    j = np.arange(n)[None, :]
    i = j + k - lower                   # row of A.T stored at out[k, j]
    inside = np.broadcast_to((i >= 0) & (i < n), out.shape)
    src_k = np.broadcast_to(upper + j - i, out.shape)
    src_j = np.broadcast_to(i, out.shape)
    out[inside] = ab[src_k[inside], src_j[inside]]
    return out


def banded_outer_adjoint(l_and_u, ab, gb, x):
    """Gradient of solve_banded's band storage: -gb x^T at the stored entries of A (summed
    over right-hand sides), zero at the storage's unused corners."""
    lower, upper, k, j, i, inside = _band_index(l_and_u, ab)
    gb, x = np.asarray(gb), np.asarray(x)
    if gb.ndim == 1:
        gb, x = gb[:, None], x[:, None]
    out = np.zeros(np.shape(ab), dtype=np.result_type(gb, x, float))
    ii = np.where(inside, i, 0)
    prod = np.sum(gb[ii] * x[j], axis=-1)
    out[inside] = -prod[inside]
    return out


def banded_matvec(l_and_u, ab, x):
    """A @ x for A given in band storage (the unused corners of the storage ignored)."""
    lower, upper, k, j, i, inside = _band_index(l_and_u, ab)
    n = np.shape(ab)[1]
    ab = np.asarray(ab)
    dense = np.zeros((n, n), dtype=np.result_type(ab, float))
    dense[i[inside], j[inside]] = ab[inside]
    return np.matmul(dense, x)
