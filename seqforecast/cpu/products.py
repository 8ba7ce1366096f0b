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
panel in registers (:func:`_tile_of`), the output tile loaded once and stored
once instead of once per four ``k``, and the rows past the last such tile
(all of a single window's) in tiles of one row by :data:`ROW_PANELS` panels;
it runs the same fused multiply-adds in the same order as :func:`matmul`, so
both give the same bits.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

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


#: Rows of a tile of :func:`matmul_panels`, by one panel.
TILE_ROWS = 4
#: Panels of a tile of one row (the rows past the last tile of :data:`TILE_ROWS`).
ROW_PANELS = 4
#: Bytes of a tile's vectors: one AVX2 register (8 float32 or 4 float64), also on machines
#: with wider ones, so that a tile always holds 8 independent sums, enough to keep two fused
#: multiply-add units busy.
VECTOR_BYTES = 32
#: Bytes of a panel's row, and of a tile's row held in registers: two vectors.
PANEL_BYTES = 2 * VECTOR_BYTES


def _tile_of(n_rows, n_panels):
    """The intrinsic ``tile(a, panels, out, r, p, j, accumulate)`` of ``n_rows`` rows by
    ``n_panels`` panels:  ``out[r:r+n_rows, j:j+n_panels*C] = a[r:r+n_rows] @ panels[p:p+
    n_panels]`` side by side (or ``+=``), the tile held in registers.

    Each element starts from 0 (or its value in ``out``) and adds ``a[r+i, k] * panel[k, c]``
    for ``k = 0, 1, ..., K-1`` in order, each a ``llvm.fmuladd`` (fused wherever the kernels'
    'contract' fastmath fuses): the operations of :func:`matmul`, whatever the tile's shape.
    Nothing is checked: the caller keeps ``r + n_rows <= M``, ``p + n_panels <= P``,
    ``j + n_panels * C <= N`` and ``K <= panels.shape[1]``.

    Parameters
    ----------
    n_rows, n_panels : int
        The tile's shape, constants of its code.

    Returns
    -------
    intrinsic
        ``tile(a, panels, out, r, p, j, accumulate)``, of ``a`` (M, K) of any strides,
        ``panels`` (P, K or more, C) C-contiguous with ``C * itemsize == PANEL_BYTES``,
        ``out`` (M, N) C-contiguous, ints ``r, p, j`` and a bool ``accumulate``.
    """
    @intrinsic
    def tile(typingctx, a, panels, out, r, p, j, accumulate):
        if not (isinstance(a, types.Array) and a.ndim == 2 and isinstance(out, types.Array)
                and out.ndim == 2 and isinstance(panels, types.Array) and panels.ndim == 3
                and a.dtype == panels.dtype == out.dtype
                and out.dtype in (types.float32, types.float64)
                and panels.layout == "C" and out.layout == "C"
                and all(isinstance(i, types.Integer) for i in (r, p, j))):
            return None
        sig = types.void(a, panels, out, r, p, j, accumulate)

        def codegen(context, builder, signature, args):
            aty, pty, oty = signature.args[:3]
            A, P, O = (context.make_array(t)(context, builder, v)
                       for t, v in zip(signature.args[:3], args[:3]))
            r0, p0, j0 = (context.cast(builder, v, t, types.intp)
                          for t, v in zip(signature.args[3:6], args[3:6]))
            keep = context.is_true(builder, signature.args[6], args[6])
            width = VECTOR_BYTES // (oty.dtype.bitwidth // 8)
            columns = PANEL_BYTES // (oty.dtype.bitwidth // 8)
            vec = ir.VectorType(context.get_value_type(oty.dtype), width)
            fmuladd = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vec, [vec] * 3),
                f"llvm.fmuladd.v{width}f{oty.dtype.bitwidth}")
            intp = r0.type
            i32 = ir.IntType(32)

            def const(n):
                return ir.Constant(intp, n)

            def pointer(ary, ary_type, index):
                return builder.bitcast(cgutils.get_item_pointer(
                    context, builder, ary_type, ary, index, wraparound=False), vec.as_pointer())

            # The tile's vectors: (panel q, half h) -> columns j + q*C + h*width.
            halves = [(q, h) for q in range(n_panels) for h in range(PANEL_BYTES // VECTOR_BYTES)]
            rows = [builder.add(r0, const(i)) for i in range(n_rows)]
            tiles = [[pointer(O, oty, [row, builder.add(j0, const(q * columns + h * width))])
                      for q, h in halves] for row in rows]
            sums = []
            for tile_row in tiles:
                slots = []
                for ptr in tile_row:
                    slot = cgutils.alloca_once(builder, vec)  # promoted to a register by LLVM
                    builder.store(builder.select(keep, builder.load(ptr, align=1),
                                                 ir.Constant(vec, None)), slot)
                    slots.append(slot)
                sums.append(slots)
            K = cgutils.unpack_tuple(builder, A.shape, 2)[1]
            with cgutils.for_range(builder, K) as loop:
                k = loop.index
                b_k = [builder.load(pointer(P, pty, [builder.add(p0, const(q)), k,
                                                     const(h * width)]), align=1)
                       for q, h in halves]
                for row, slots in zip(rows, sums):
                    x = builder.load(cgutils.get_item_pointer(context, builder, aty, A, [row, k],
                                                              wraparound=False))
                    x = builder.insert_element(ir.Constant(vec, ir.Undefined), x,
                                               ir.Constant(i32, 0))
                    x = builder.shuffle_vector(x, ir.Constant(vec, ir.Undefined),
                                               ir.Constant(ir.VectorType(i32, width),
                                                           [0] * width))
                    for b_kh, slot in zip(b_k, slots):
                        builder.store(builder.call(fmuladd, [x, b_kh, builder.load(slot)]),
                                      slot)
            for tile_row, slots in zip(tiles, sums):
                for ptr, slot in zip(tile_row, slots):
                    builder.store(builder.load(slot), ptr, align=1)
            return context.get_dummy_value()

        return sig, codegen

    return tile


#: Tiles of :data:`TILE_ROWS` rows by a panel; of a row by :data:`ROW_PANELS` panels; of a
#: row by a panel.
_tile = _tile_of(TILE_ROWS, 1)
_row_tile = _tile_of(1, ROW_PANELS)
_row_panel = _tile_of(1, 1)


def panel_columns(b):
    """Columns of a panel of ``b``'s dtype, ``PANEL_BYTES / itemsize``, a constant of the
    compiled code (Numba reads ``b.itemsize`` at run time: a loop over that many columns
    copied at half the speed)."""
    return PANEL_BYTES // b.itemsize


@overload(panel_columns)
def _panel_columns(b):
    columns = PANEL_BYTES // (b.dtype.bitwidth // 8)
    return lambda b: columns


@njit(**_JIT)
def pack_panels(b, groups):
    """The column panels of ``groups`` stacked matrices, for :func:`matmul_panels`.

    Parameters
    ----------
    b : ndarray of shape (groups * K, N), any strides
        Group ``g`` is ``b[g*K:(g+1)*K]``.
    groups : int

    Returns
    -------
    panels : ndarray of shape (groups, P, K, C)
        ``panels[g, p, k, c] = b[g*K + k, p*C + c]``, ``C = PANEL_BYTES / itemsize``, zeros
        past column ``N`` in the last panel; ``P = ceil(N / C)``.
    """
    K, N = b.shape[0] // groups, b.shape[1]
    C = panel_columns(b)
    panels = np.empty((groups, -(-N // C), K, C), b.dtype)
    for g in range(groups):
        for p in range(panels.shape[1]):
            n = min(C, N - p * C)
            for k in range(K):
                if n == C:  # a whole panel's row: a copy the compiler vectorises
                    for c in range(C):
                        panels[g, p, k, c] = b[g * K + k, p * C + c]
                else:
                    for c in range(C):
                        panels[g, p, k, c] = b[g * K + k, p * C + c] if c < n else 0
    return panels


@njit(**_JIT)
def matmul_panels(a, panels, out, accumulate):
    """:func:`matmul` of ``a`` by a matrix packed into panels: the same bits, in register
    tiles.

    Tiles of :data:`TILE_ROWS` rows by one panel, the panels in the outer loop so that
    each stays in cache over the rows; the rows past the last of those tiles one at a
    time, by :data:`ROW_PANELS` panels (a single window's step: its sums are as many as
    a tile's, where a row's loop over ``j`` made one chain of them).  A last panel with
    fewer columns than ``C`` runs through a scratch tile.

    Parameters
    ----------
    a : ndarray of shape (M, K)
    panels : ndarray of shape (P, K, C)
        ``pack_panels(b, 1)[0]`` of the ``b`` (K, N) to multiply by.
    out : ndarray of shape (M, N), C-contiguous, of the dtype of ``a`` and ``panels``
    accumulate : bool
    """
    M, N = out.shape
    P, _, C = panels.shape
    if M and (P != -(-N // C) or panels.shape[1] != a.shape[1]):
        raise ValueError("matmul_panels: panels are not pack_panels(b, 1)[0] of a (K, N) b")
    tiled = M - M % TILE_ROWS
    whole = N // C
    for p in range(whole):
        for r in range(0, tiled, TILE_ROWS):
            _tile(a, panels, out, r, p, p * C, accumulate)
    for r in range(tiled, M):
        for p in range(0, whole - whole % ROW_PANELS, ROW_PANELS):
            _row_tile(a, panels, out, r, p, p * C, accumulate)
        for p in range(whole - whole % ROW_PANELS, whole):
            _row_panel(a, panels, out, r, p, p * C, accumulate)
    if whole < P:  # the columns of the last panel, and the padding's products, apart
        lo = whole * C
        scratch = np.zeros((TILE_ROWS, C), out.dtype)
        for r in range(0, M, TILE_ROWS):
            rows = min(TILE_ROWS, M - r)
            for i in range(rows):  # loops, not slice assignments (Numba compiles
                for j in range(lo, N):  # those with seconds of error-message code)
                    scratch[i, j - lo] = out[r + i, j]
            if rows == TILE_ROWS:
                _tile(a[r:r + TILE_ROWS], panels, scratch, 0, whole, 0, accumulate)
            else:
                for i in range(rows):
                    _row_panel(a[r:r + rows], panels, scratch, i, whole, 0, accumulate)
            for i in range(rows):
                for j in range(lo, N):
                    out[r + i, j] = scratch[i, j - lo]


@njit(**_JIT)
def _packed(a, b, out, accumulate):
    """:func:`matmul_panels` with ``b``'s panels packed for this one product, where they pay.

    A C-contiguous ``b`` one panel wide (16 float32 or 8 float64 columns) is its own
    panel, and is not copied: with the copies, :func:`matmul_tn` of (1536, 16).T @
    (1536, 16) float32 (a gate of an LSTM 16's weight gradients) took 18-30 us, without
    them 12-14 us.  Fewer rows than a tile read the panels once: they run :func:`matmul`
    (the same bits) on ``b`` as it is (a 1-feature input's weight gradients,
    (1536, 32).T @ (1536, 1), took 22-30 us with packing, 7 us without).
    """
    C = panel_columns(b)
    if b.shape[1] == C:
        matmul_panels(a, b.reshape(1, b.shape[0], C), out, accumulate)
    elif a.shape[0] < TILE_ROWS:
        matmul(a, b, out, accumulate)
    else:
        matmul_panels(a, pack_panels(b, 1)[0], out, accumulate)


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
