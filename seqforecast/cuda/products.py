"""Tiled matrix products on the GPU, and the transpose.

:func:`matmul` computes batched products with operands read transposed in
place, row biases and accumulation, and splits a long inner dimension over
more blocks when the output has too few tiles to fill the GPU; the parts
are then added in a second, fixed-order pass (:func:`finish_parts`), so
equal inputs give bit-identical results.  :func:`transpose` makes a
contiguous copy of a matrix's transpose.
"""
import functools
import math

from numba import cuda

from ..config import CUDA_MICRO as _MICRO
from ..config import CUDA_SIDE as _SIDE
from ..config import CUDA_TILE as _TILE
from ..config import CUDA_TILE_K as _TILE_K
from .launch import grid_2d, jit, multiprocessors, numba_float, placeholder
from .workspace import empty, scratch, view

def as_batch(a):
    """A device array as a batch: 3-D as it is (any strides), 2-D with a leading axis of 1."""
    if a.ndim == 3:
        return a
    if not a.is_c_contiguous():  # numba-cuda cannot reshape it without a copy
        raise ValueError(f"a 2-D operand must be C-contiguous, got strides {a.strides}")
    return view(a, shape=(1, *a.shape))


@cuda.jit(device=True)
def _add_biases(total, bias, bias_2, z, col):
    """``total + bias[z, col] + bias_2[z, col]``; a batch of 1 serves every z, empty is 0."""
    if bias.shape[0]:
        total += bias[z if bias.shape[0] > 1 else 0, col]
    if bias_2.shape[0]:
        total += bias_2[z if bias_2.shape[0] > 1 else 0, col]
    return total


@functools.lru_cache(maxsize=None)
def _matmul_kernel(dtype):
    dt = numba_float(dtype)
    threads = _TILE // _MICRO  # per side of the block

    @jit
    def kernel(a, b, out, trans_a, trans_b, n_batch, summed, k_chunk, splits, direct,
               accumulate, bias, bias_2):
        """One output tile of one chunk of the inner size; see :func:`matmul`.

        Block ``z`` works on output batch ``z // splits`` and inner chunk
        ``z % splits``, over one batch entry of the operands or (``summed``)
        all ``n_batch`` of them.  ``direct``: the result goes to ``out``
        with biases and accumulation; otherwise to the parts ``out[z]``.
        """
        M = a.shape[2] if trans_a else a.shape[1]
        K = a.shape[1] if trans_a else a.shape[2]
        N = b.shape[1] if trans_b else b.shape[2]
        a_tile = cuda.shared.array((_TILE_K, _TILE), dt)
        b_tile = cuda.shared.array((_TILE_K, _TILE), dt)
        acc = cuda.local.array((_MICRO, _MICRO), dt)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        tid = ty * threads + tx
        row0, col0 = cuda.blockIdx.y * _TILE, cuda.blockIdx.x * _TILE
        z_out = cuda.blockIdx.z // splits
        k_lo = (cuda.blockIdx.z % splits) * k_chunk
        k_hi = min(K, k_lo + k_chunk)
        for r in range(_MICRO):
            for q in range(_MICRO):
                acc[r, q] = 0
        for z in range(0 if summed else z_out, n_batch if summed else z_out + 1):
            za = z if a.shape[0] > 1 else 0
            zb = z if b.shape[0] > 1 else 0
            for k0 in range(k_lo, k_hi, _TILE_K):
                # Consecutive threads load consecutive addresses of each operand.
                for e in range(tid, _TILE * _TILE_K, threads * threads):
                    if trans_a:
                        kk, m = e // _TILE, e % _TILE
                        inside = row0 + m < M and k0 + kk < k_hi
                        a_tile[kk, m] = a[za, k0 + kk, row0 + m] if inside else 0
                    else:
                        kk, m = e % _TILE_K, e // _TILE_K
                        inside = row0 + m < M and k0 + kk < k_hi
                        a_tile[kk, m] = a[za, row0 + m, k0 + kk] if inside else 0
                    if trans_b:
                        kk, n = e % _TILE_K, e // _TILE_K
                        inside = col0 + n < N and k0 + kk < k_hi
                        b_tile[kk, n] = b[zb, col0 + n, k0 + kk] if inside else 0
                    else:
                        kk, n = e // _TILE, e % _TILE
                        inside = col0 + n < N and k0 + kk < k_hi
                        b_tile[kk, n] = b[zb, k0 + kk, col0 + n] if inside else 0
                cuda.syncthreads()
                for kk in range(_TILE_K):
                    for r in range(_MICRO):
                        a_val = a_tile[kk, ty + r * threads]
                        for q in range(_MICRO):
                            acc[r, q] += a_val * b_tile[kk, tx + q * threads]
                cuda.syncthreads()
        for r in range(_MICRO):
            for q in range(_MICRO):
                row, col = row0 + ty + r * threads, col0 + tx + q * threads
                if row < M and col < N:
                    if direct:
                        total = _add_biases(acc[r, q], bias, bias_2, z_out, col)
                        if accumulate:
                            total += out[z_out, row, col]
                        out[z_out, row, col] = total
                    else:
                        out[cuda.blockIdx.z, row, col] = acc[r, q]

    return kernel


@jit
def _finish_kernel(parts, out, accumulate, bias, bias_2):
    """``out[z] (+)= parts[z*n : (z+1)*n].sum(axis=0) + bias[z] + bias_2[z]``, in order."""
    col, row = cuda.grid(2)
    z = cuda.blockIdx.z
    n = parts.shape[0] // out.shape[0]
    if row < out.shape[1] and col < out.shape[2]:
        total = parts[z * n, row, col]
        for p in range(z * n + 1, (z + 1) * n):
            total += parts[p, row, col]
        total = _add_biases(total, bias, bias_2, z, col)
        if accumulate:
            total += out[z, row, col]
        out[z, row, col] = total


def finish_parts(parts, out, accumulate, bias, bias_2):
    """Add each output's consecutive parts into ``out`` (3-D); see :func:`_finish_kernel`.

    ``bias`` and ``bias_2`` are 2-D, as made by :func:`_bias`.
    """
    Z, M, N = out.shape
    _finish_kernel[(*grid_2d(M, N), Z), (_SIDE, _SIDE)](parts, out, accumulate, bias, bias_2)


def _bias(bias, dtype, batch, n):
    """An optional bias of shape (n,), (1, n) or (batch, n) as a 2-D device array."""
    if bias is None:
        return placeholder(dtype)
    if bias.shape not in ((n,), (1, n), (batch, n)):
        raise ValueError(f"a bias of this product must have shape {(n,)}, {(1, n)} or "
                         f"{(batch, n)}, got {bias.shape}")
    return bias if bias.ndim == 2 else view(bias, shape=(1, n))


def matmul(a, b, out, accumulate=False, bias=None, bias_2=None, trans_a=False, trans_b=False):
    """``out = op(a) @ op(b)`` (``+=`` with ``accumulate``), plus optional row biases.

    ``op(a)`` is ``a.T`` with ``trans_a`` (and likewise for b): transposes
    are read in place.  (A numba device array's own ``.T`` copies it with a
    kernel compiled anew on every call: never use it here.)

    Operands may be batches of matrices, one launch for all of them: an
    operand with a batch of 1 (or 2-D) serves every entry of the other's
    batch, and an ``out`` with a batch of 1 (or 2-D) receives the sum over
    the batch, ``out = sum_z op(a[z]) @ op(b[z])``.

    Parameters
    ----------
    a : device array of shape ([Z,] M, K), or ([Z,] K, M) with ``trans_a``
    b : device array of shape ([Z,] K, N), or ([Z,] N, K) with ``trans_b``
    out : device array of shape ([Z,] M, N)
    bias, bias_2 : device array of shape (N,) or (Z, N), optional
        Added to every row (of the matching entry of ``out``'s batch).

    2-D arrays must be C-contiguous; 3-D ones may be strided views.
    ``out`` must not overlap ``a`` or ``b``.  When the output has too few
    64x64 tiles to fill the GPU, the inner dimension is split over more
    blocks and the parts are added in a second, fixed-order pass.
    """
    a3, b3, out3 = as_batch(a), as_batch(b), as_batch(out)
    n_batch = max(a3.shape[0], b3.shape[0])
    M, K = (a3.shape[2], a3.shape[1]) if trans_a else a3.shape[1:]
    N = b3.shape[1] if trans_b else b3.shape[2]
    if (a3.shape[0] not in (1, n_batch) or b3.shape[0] not in (1, n_batch)
            or out3.shape[0] not in (1, n_batch)
            or (b3.shape[2] if trans_b else b3.shape[1]) != K or out3.shape[1:] != (M, N)):
        raise ValueError(f"matmul shapes do not match: {a.shape}, {b.shape} -> {out.shape}")
    summed = out3.shape[0] == 1 and n_batch > 1
    bias, bias_2 = (_bias(v, out.dtype, out3.shape[0], N) for v in (bias, bias_2))
    tiles = max(1, math.ceil(M / _TILE) * math.ceil(N / _TILE) * out3.shape[0])
    splits = max(1, min(math.ceil(K / (4 * _TILE_K)), math.ceil(2 * multiprocessors() / tiles)))
    k_chunk = _TILE_K * max(1, math.ceil(K / (splits * _TILE_K)))
    splits = max(1, math.ceil(K / k_chunk))
    direct = splits == 1
    parts = out3 if direct else scratch((out3.shape[0] * splits, M, N), out.dtype)
    if M and N:
        grid = (math.ceil(N / _TILE), math.ceil(M / _TILE), out3.shape[0] * splits)
        _matmul_kernel(out.dtype)[grid, (_TILE // _MICRO, _TILE // _MICRO)](
            a3, b3, parts, trans_a, trans_b, n_batch, summed, k_chunk, splits, direct,
            accumulate, bias, bias_2)
    if not direct:
        finish_parts(parts, out3, accumulate, bias, bias_2)


@jit
def _transpose_kernel(a, out):
    j, i = cuda.grid(2)
    if i < out.shape[0] and j < out.shape[1]:
        out[i, j] = a[j, i]


def transpose(a):
    """A C-contiguous copy of ``a.T`` for a 2-D device array (from :func:`empty`)."""
    out = empty((a.shape[1], a.shape[0]), a.dtype)
    _transpose_kernel[grid_2d(*out.shape), (_SIDE, _SIDE)](a, out)
    return out
