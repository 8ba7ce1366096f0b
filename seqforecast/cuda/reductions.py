"""Reductions on the GPU: column sums, statistics of an array, row norms.

Each adds its values in a fixed order (parts of a split reduction are added
by a second pass in order), so equal inputs give bit-identical results.
"""
import functools
import math

import numpy as np
from numba import cuda, float64

from ..config import CUDA_REDUCE_COLS as _REDUCE_COLS
from ..config import CUDA_REDUCE_ROWS as _REDUCE_ROWS
from ..config import CUDA_THREADS as THREADS
from .launch import (grid_1d, jit, multiprocessors, numba_float, placeholder,
                     reduction_blocks)
from .products import as_batch, finish_parts
from .workspace import scratch, view

@functools.lru_cache(maxsize=None)
def _column_kernel(dtype):
    dt = numba_float(dtype)
    zero = np.dtype(dtype).type(0)

    @jit
    def kernel(a, b, use_b, rows_per_chunk, parts):
        """Partial column sums of ``a[z]`` (or of ``a[z] * b[z]``) over one chunk of rows."""
        R, N = a.shape[1], a.shape[2]
        z = cuda.blockIdx.z
        col = cuda.blockIdx.x * _REDUCE_COLS + cuda.threadIdx.x
        partial = cuda.shared.array((_REDUCE_ROWS, _REDUCE_COLS), dt)
        lo = cuda.blockIdx.y * rows_per_chunk
        hi = min(R, lo + rows_per_chunk)
        total = zero
        if col < N:
            for r in range(lo + cuda.threadIdx.y, hi, _REDUCE_ROWS):
                total += a[z, r, col] * b[z, r, col] if use_b else a[z, r, col]
        partial[cuda.threadIdx.y, cuda.threadIdx.x] = total
        cuda.syncthreads()
        if cuda.threadIdx.y == 0 and col < N:
            for y in range(1, _REDUCE_ROWS):
                total += partial[y, cuda.threadIdx.x]
            parts[z * cuda.gridDim.y + cuda.blockIdx.y, 0, col] = total

    return kernel


def column_sums(a, out, b=None):
    """``out[:] = a.sum(axis=0)``, or ``(a * b).sum(axis=0)``, in a fixed order; batched.

    Parameters
    ----------
    a, b : device array of shape ([Z,] R, N)
        Of one shape; 2-D arrays C-contiguous, 3-D ones may be strided views.
    out : device array of shape ([Z,] N), C-contiguous
    """
    if b is not None and b.shape != a.shape:
        raise ValueError(f"column_sums needs a and b of one shape, got {a.shape} and {b.shape}")
    a3 = as_batch(a)
    Z, R, N = a3.shape
    chunks = max(1, min(math.ceil(R / 256), 8 * multiprocessors()))
    rows_per_chunk = max(1, math.ceil(R / chunks))
    chunks = max(1, math.ceil(R / rows_per_chunk))
    out3 = view(out, shape=(Z, 1, N))
    parts = out3 if chunks == 1 else scratch((Z * chunks, 1, N), out.dtype)
    _column_kernel(out.dtype)[(max(1, math.ceil(N / _REDUCE_COLS)), chunks, Z),
                              (_REDUCE_COLS, _REDUCE_ROWS)](
        a3, a3 if b is None else as_batch(b), b is not None, rows_per_chunk, parts)
    if chunks > 1:
        finish_parts(parts, out3, False, placeholder(out.dtype), placeholder(out.dtype))


#: Slots of the array filled by :func:`summarize`.
SUM_SQUARES, MAX_ABS, NON_FINITE = 0, 1, 2


@jit
def _summarize_kernel(a, mask, use_mask, parts):
    """Per block: sum of squares (of ``mask * a``), largest ``|a|``, count of NaN/inf."""
    cache = cuda.shared.array((3, THREADS), float64)
    tid = cuda.threadIdx.x
    squares, largest, bad = 0.0, 0.0, 0.0
    for i in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        v = float64(a[i])
        if use_mask:
            v *= mask[i]
        if math.isfinite(v):
            squares += v * v
            largest = max(largest, abs(v))
        else:
            bad += 1.0
            largest = math.inf
    cache[0, tid], cache[1, tid], cache[2, tid] = squares, largest, bad
    cuda.syncthreads()
    step = THREADS // 2
    while step > 0:
        if tid < step:
            cache[0, tid] += cache[0, tid + step]
            cache[1, tid] = max(cache[1, tid], cache[1, tid + step])
            cache[2, tid] += cache[2, tid + step]
        cuda.syncthreads()
        step //= 2
    if tid == 0:
        for k in range(3):
            parts[cuda.blockIdx.x, k] = cache[k, 0]


@jit
def _summarize_finish(parts, out):
    if cuda.grid(1) == 0:
        squares, largest, bad = 0.0, 0.0, 0.0
        for z in range(parts.shape[0]):
            squares += parts[z, 0]
            largest = max(largest, parts[z, 1])
            bad += parts[z, 2]
        out[SUM_SQUARES], out[MAX_ABS], out[NON_FINITE] = squares, largest, bad


def summarize(a, out, mask=None):
    """Fill ``out`` (float64 device array of 3) with statistics of a flat device array.

    ``out[SUM_SQUARES]`` is the sum of squares (of ``mask * a`` with a
    mask), accumulated in float64, ``out[MAX_ABS]`` the largest absolute
    value and ``out[NON_FINITE]`` the number of NaN or infinite values
    (those are left out of the other two, and make ``MAX_ABS`` infinite).
    """
    blocks = reduction_blocks(a.size)
    parts = out.reshape(1, 3) if blocks == 1 else scratch((blocks, 3), np.float64)
    _summarize_kernel[blocks, THREADS](a, a if mask is None else mask, mask is not None, parts)
    if blocks > 1:
        _summarize_finish[1, 1](parts, out)


@jit
def _row_norms_kernel(a, out):
    r = cuda.grid(1)
    if r < a.shape[0]:
        total = 0.0
        for k in range(a.shape[1]):
            total += a[r, k]
        out[r] = math.sqrt(total)


def row_norms(squares, out):
    """``out[r] = sqrt(squares[r].sum())`` for a 2-D device array, each row added in order."""
    if out.size:
        _row_norms_kernel[grid_1d(out.size), THREADS](squares, out)
