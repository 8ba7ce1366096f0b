"""Batch-invariant matrix products for the CPU kernels.

A BLAS ``gemm`` may compute a row of its output with a different kernel
(and so a different rounding) depending on where the row falls in the
batch: the tail rows of a block, or a small-matrix path chosen by the
batch size.  A window's prediction would then change in its last bits with
the other windows of its batch (scikit-learn's
``check_methods_sample_order_invariance`` fails on AMD EPYC machines, and
predicting a window alone differs from predicting it in a batch everywhere).

:func:`matmul` gives every output element ``out[r, j]`` the same
computation wherever row ``r`` stands and whatever the other rows are: the
``K`` products are added in order ``k = 0, 1, ..., K-1``, one fused
multiply-add after the other, onto the value ``out[r, j]`` held before.
Rows are processed four at a time (sharing the loads of ``b``) and the
remaining rows one at a time, by code that performs the same operations in
the same order, so the result of a row is bit-identical in both paths.
"""
import numpy as np
from numba import njit

from ..config import CPU_FASTMATH, TN_ROWS

_JIT = dict(cache=True, nogil=True, fastmath=CPU_FASTMATH, error_model="numpy")


@njit(**_JIT)
def matmul(a, b, out, accumulate):
    """``out = a @ b`` (or ``out += a @ b``), each row independent of the others.

    Parameters
    ----------
    a : ndarray of shape (M, K)
    b : ndarray of shape (K, N), C-contiguous rows
    out : ndarray of shape (M, N)
        Receives the product; must not overlap ``a`` or ``b``.
    accumulate : bool
        Add the product to ``out`` instead of overwriting it.
    """
    M, K = a.shape
    N = b.shape[1]
    M4 = M - M % 4
    K4 = K - K % 4
    for r in range(0, M4, 4):
        o0, o1, o2, o3 = out[r], out[r + 1], out[r + 2], out[r + 3]
        a0, a1, a2, a3 = a[r], a[r + 1], a[r + 2], a[r + 3]
        if not accumulate:
            out[r:r + 4] = 0
        for k in range(0, K4, 4):
            b0, b1, b2, b3 = b[k], b[k + 1], b[k + 2], b[k + 3]
            # a's values as locals: read inside the loop over j, the compiler reloads
            # them after every store to out (which, for all it knows, may overlap a).
            x00, x01, x02, x03 = a0[k], a0[k + 1], a0[k + 2], a0[k + 3]
            x10, x11, x12, x13 = a1[k], a1[k + 1], a1[k + 2], a1[k + 3]
            x20, x21, x22, x23 = a2[k], a2[k + 1], a2[k + 2], a2[k + 3]
            x30, x31, x32, x33 = a3[k], a3[k + 1], a3[k + 2], a3[k + 3]
            for j in range(N):
                v0, v1, v2, v3 = b0[j], b1[j], b2[j], b3[j]
                o0[j] = (((o0[j] + x00 * v0) + x01 * v1) + x02 * v2) + x03 * v3
                o1[j] = (((o1[j] + x10 * v0) + x11 * v1) + x12 * v2) + x13 * v3
                o2[j] = (((o2[j] + x20 * v0) + x21 * v1) + x22 * v2) + x23 * v3
                o3[j] = (((o3[j] + x30 * v0) + x31 * v1) + x32 * v2) + x33 * v3
        for k in range(K4, K):
            bk = b[k]
            x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
            for j in range(N):
                o0[j] += x0 * bk[j]
                o1[j] += x1 * bk[j]
                o2[j] += x2 * bk[j]
                o3[j] += x3 * bk[j]
    for r in range(M4, M):
        row, ar = out[r], a[r]
        if not accumulate:
            row[:] = 0
        for k in range(0, K4, 4):
            b0, b1, b2, b3 = b[k], b[k + 1], b[k + 2], b[k + 3]
            x0, x1, x2, x3 = ar[k], ar[k + 1], ar[k + 2], ar[k + 3]
            for j in range(N):
                row[j] = (((row[j] + x0 * b0[j]) + x1 * b1[j]) + x2 * b2[j]) + x3 * b3[j]
        for k in range(K4, K):
            bk = b[k]
            x = ar[k]
            for j in range(N):
                row[j] += x * bk[j]


@njit(**_JIT)
def matmul_tn(a, b, out):
    """``out = a.T @ b``: the outer products of the rows of ``a`` and ``b``, added in order.

    The rows are taken :data:`~seqforecast.config.TN_ROWS` at a time, so that a block of
    ``a`` and ``b`` stays in cache while :func:`matmul` runs over it (with ``K < N`` the
    product of a block is computed transposed, ``b.T @ a``, the inner loop over the
    longer side, and copied: the same products added in the same order).

    Parameters
    ----------
    a : ndarray of shape (R, N), C-contiguous
    b : ndarray of shape (R, K), C-contiguous
    out : ndarray of shape (N, K)
    """
    R, N = a.shape
    K = b.shape[1]
    if R == 0:  # no rows: a sum of nothing
        out[...] = 0
        return
    turned = np.empty((K if K < N else 0, N), out.dtype)
    for r in range(0, R, TN_ROWS):
        stop = min(r + TN_ROWS, R)
        if K < N:
            matmul(b[r:stop].T, a[r:stop], turned, r > 0)
        else:
            matmul(a[r:stop].T, b[r:stop], out, r > 0)
    if K < N:
        out[...] = turned.T


@njit(**_JIT)
def linear(x, weight, bias, out):
    """``out = x @ weight.T + bias``, each row independent of the others.

    Parameters
    ----------
    x : ndarray of shape (M, K)
    weight : ndarray of shape (N, K)
    bias : ndarray of shape (N,)
        Starts every output row; the products are then added in order.
    out : ndarray of shape (M, N)
    """
    for r in range(out.shape[0]):
        out[r] = bias
    matmul(x, np.ascontiguousarray(weight.T), out, True)
