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

The recurrences multiply by the same weights at every step.
:func:`matmul_panels` takes those weights packed once into column panels
(:func:`pack_panels`) and computes tiles of :data:`TILE_ROWS` rows by one
panel in registers (:func:`_tile`), the output tile loaded once and stored
once instead of once per four ``k``; it runs the same fused multiply-adds in
the same order as :func:`matmul`, so both give the same bits.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

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


#: Rows of a tile of :func:`matmul_panels`.
TILE_ROWS = 4
#: Bytes of a tile's vectors: one AVX2 register (8 float32 or 4 float64), also on machines
#: with wider ones, so that a tile always holds 8 independent sums, enough to keep two fused
#: multiply-add units busy.
VECTOR_BYTES = 32
#: Bytes of a panel's row, and of a tile's row held in registers: two vectors.
PANEL_BYTES = 2 * VECTOR_BYTES


@intrinsic
def _tile(typingctx, a, panel, out, r, j, accumulate):
    """``out[r:r+4, j:j+C] = a[r:r+4] @ panel[:K]`` (or ``+=``), the tile held in registers.

    Each element starts from 0 (or its value in ``out``) and adds ``a[r+i, k] * panel[k, c]``
    for ``k = 0, 1, ..., K-1`` in order, each a ``llvm.fmuladd`` (fused wherever the kernels'
    'contract' fastmath fuses): the operations of :func:`matmul`.  Nothing is checked: the
    caller keeps ``r + 4 <= M``, ``j + C <= N`` and ``K <= panel.shape[0]``.

    Parameters
    ----------
    a : ndarray of shape (M, K), any strides
    panel : ndarray of shape (K or more, C), C-contiguous, ``C * itemsize == PANEL_BYTES``
    out : ndarray of shape (M, N), C-contiguous
    r, j : int
    accumulate : bool
    """
    arrays = (a, panel, out)
    if not (all(isinstance(x, types.Array) and x.ndim == 2 and x.dtype == out.dtype
                for x in arrays)
            and out.dtype in (types.float32, types.float64)
            and panel.layout == "C" and out.layout == "C"
            and isinstance(r, types.Integer) and isinstance(j, types.Integer)):
        return None
    sig = types.void(a, panel, out, r, j, accumulate)

    def codegen(context, builder, signature, args):
        aty, pty, oty = signature.args[:3]
        A, P, O = (context.make_array(t)(context, builder, v)
                   for t, v in zip(signature.args[:3], args[:3]))
        r0, j0 = (context.cast(builder, v, t, types.intp)
                  for t, v in zip(signature.args[3:5], args[3:5]))
        keep = context.is_true(builder, signature.args[5], args[5])
        width = VECTOR_BYTES // (oty.dtype.bitwidth // 8)
        vec = ir.VectorType(context.get_value_type(oty.dtype), width)
        fmuladd = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vec, [vec] * 3),
            f"llvm.fmuladd.v{width}f{oty.dtype.bitwidth}")
        intp = r0.type
        i32 = ir.IntType(32)
        halves = range(PANEL_BYTES // VECTOR_BYTES)

        def vectors(ary, ary_type, row, col):
            """Pointers to the vectors of ``ary[row, col:col+C]``."""
            return [builder.bitcast(
                cgutils.get_item_pointer(context, builder, ary_type, ary,
                                         [row, builder.add(col, ir.Constant(intp, h * width))],
                                         wraparound=False),
                vec.as_pointer()) for h in halves]

        rows = [builder.add(r0, ir.Constant(intp, i)) for i in range(TILE_ROWS)]
        tiles = [vectors(O, oty, row, j0) for row in rows]
        sums = []
        for tile in tiles:
            slots = []
            for pointer in tile:
                slot = cgutils.alloca_once(builder, vec)  # promoted to a register by LLVM
                builder.store(builder.select(keep, builder.load(pointer, align=1),
                                             ir.Constant(vec, None)), slot)
                slots.append(slot)
            sums.append(slots)
        K = cgutils.unpack_tuple(builder, A.shape, 2)[1]
        with cgutils.for_range(builder, K) as loop:
            k = loop.index
            b_k = [builder.load(pointer, align=1)
                   for pointer in vectors(P, pty, k, ir.Constant(intp, 0))]
            for row, slots in zip(rows, sums):
                x = builder.load(cgutils.get_item_pointer(context, builder, aty, A, [row, k],
                                                          wraparound=False))
                x = builder.insert_element(ir.Constant(vec, ir.Undefined), x,
                                           ir.Constant(i32, 0))
                x = builder.shuffle_vector(x, ir.Constant(vec, ir.Undefined),
                                           ir.Constant(ir.VectorType(i32, width), [0] * width))
                for b_kh, slot in zip(b_k, slots):
                    builder.store(builder.call(fmuladd, [x, b_kh, builder.load(slot)]), slot)
        for tile, slots in zip(tiles, sums):
            for pointer, slot in zip(tile, slots):
                builder.store(builder.load(slot), pointer, align=1)
        return context.get_dummy_value()

    return sig, codegen


@njit(**_JIT)
def pack_panels(b, groups, rows):
    """The column panels of ``groups`` stacked matrices, for :func:`matmul_panels`.

    Parameters
    ----------
    b : ndarray of shape (groups * K, N)
        Group ``g`` is ``b[g*K:(g+1)*K]``.
    groups : int
    rows : int
        Rows of the products to come: under :data:`TILE_ROWS` no tile runs, and no
        panels are made.

    Returns
    -------
    panels : ndarray of shape (groups, P, K, C)
        ``panels[g, p, k, c] = b[g*K + k, p*C + c]``, ``C = PANEL_BYTES / itemsize``, zeros
        past column ``N`` in the last panel; ``P = ceil(N / C)``, or 0 if ``rows < TILE_ROWS``.
    """
    K, N = b.shape[0] // groups, b.shape[1]
    C = PANEL_BYTES // b.itemsize
    panels = np.zeros((groups, -(-N // C) if rows >= TILE_ROWS else 0, K, C), b.dtype)
    for g in range(groups):
        for p in range(panels.shape[1]):
            for k in range(K):
                for c in range(min(C, N - p * C)):
                    panels[g, p, k, c] = b[g * K + k, p * C + c]
    return panels


@njit(**_JIT)
def matmul_panels(a, b, panels, out, accumulate):
    """:func:`matmul` with ``b`` also packed into panels: the same bits, faster for
    4 rows or more.

    Tiles of :data:`TILE_ROWS` rows by one panel (:func:`_tile`), the panels in the outer
    loop so that each stays in cache over the rows.  A last panel with fewer columns
    than ``C`` runs its tiles through a scratch tile; rows past the last whole tile run
    :func:`matmul`.

    Parameters
    ----------
    a : ndarray of shape (M, K)
    b : ndarray of shape (K, N), C-contiguous rows
    panels : ndarray of shape (P, K, C)
        ``pack_panels(b, 1, M)[0]``: no panels (``P = 0``) for ``M < TILE_ROWS``.
    out : ndarray of shape (M, N), C-contiguous, of the dtype of ``a`` and ``b``
    accumulate : bool
    """
    M, N = out.shape
    P, _, C = panels.shape
    tiled = M - M % TILE_ROWS
    if tiled and (P != -(-N // C) or panels.shape[1] != a.shape[1]):
        raise ValueError("matmul_panels: panels are not pack_panels(b, 1, M)[0]")
    whole = min(P, N // C)
    for p in range(whole):
        for r in range(0, tiled, TILE_ROWS):
            _tile(a, panels[p], out, r, p * C, accumulate)
    if whole < P:  # the columns of the last panel, and the padding's products, apart
        lo = whole * C
        scratch = np.zeros((TILE_ROWS, C), out.dtype)
        for r in range(0, tiled, TILE_ROWS):
            for i in range(TILE_ROWS):  # loops, not slice assignments (Numba compiles
                for j in range(lo, N):  # those with seconds of error-message code)
                    scratch[i, j - lo] = out[r + i, j]
            _tile(a[r:r + TILE_ROWS], panels[whole], scratch, 0, 0, accumulate)
            for i in range(TILE_ROWS):
                for j in range(lo, N):
                    out[r + i, j] = scratch[i, j - lo]
    matmul(a[tiled:], b, out[tiled:], accumulate)


@njit(**_JIT)
def _packed(a, b, out, accumulate):
    """:func:`matmul_panels` with ``b``'s panels packed for this one product.

    A C-contiguous ``b`` one panel wide (16 float32 or 8 float64 columns) is its own
    panel, and is not copied: with the copies, :func:`matmul_tn` of (1536, 16).T @
    (1536, 16) float32 (a gate of an LSTM 16's weight gradients) took 18-30 us, without
    them 12-14 us.
    """
    C = PANEL_BYTES // b.itemsize
    if b.shape[1] == C:
        matmul_panels(a, b, b.reshape(1, b.shape[0], C), out, accumulate)
    else:
        matmul_panels(a, b, pack_panels(b, 1, a.shape[0])[0], out, accumulate)


@njit(**_JIT)
def matmul_tn(a, b, out):
    """``out = a.T @ b``: the outer products of the rows of ``a`` and ``b``, added in order.

    The rows are taken :data:`~seqforecast.config.TN_ROWS` at a time, so that a block of
    ``a`` and ``b`` stays in cache while :func:`matmul_panels` runs over it, its panels
    packed for the block (with ``K < N`` the product of a block is computed transposed,
    ``b.T @ a``, the panels' columns over the longer side, and copied: the same products added
    in the same order).

    Parameters
    ----------
    a : ndarray of shape (R, N), C-contiguous
    b : ndarray of shape (R, K), C-contiguous, of the dtype of ``a``
    out : ndarray of shape (N, K), C-contiguous, of the dtype of ``a``
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
            _packed(b[r:stop].T, a[r:stop], turned, r > 0)
        else:
            _packed(a[r:stop].T, b[r:stop], out, r > 0)
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
