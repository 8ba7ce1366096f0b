"""General-purpose CUDA kernels on device arrays: products, reductions, element-wise rules.

Everything here is independent of recurrent networks.  Reductions add their
parts in a fixed order, so equal inputs give bit-identical results.
"""
import functools
import math
import threading
import warnings

import numpy as np
from numba import config, cuda, float32, float64

# Product tiles (_TILE x _TILE outputs, _TILE_K deep, _MICRO x _MICRO per thread), threads per
# block of the 1-D kernels, block side of the 2-D element-wise kernels, and the block of a
# column reduction (_REDUCE_COLS columns x _REDUCE_ROWS rows of threads).
# Reductions of up to _ONE_BLOCK values run in one block, without a second pass.
if config.ENABLE_CUDASIM:
    # The simulator runs each thread as a Python thread: small blocks keep the
    # tests fast, and make test-sized problems span several blocks.
    _TILE, _TILE_K, _MICRO, THREADS, _SIDE, _REDUCE_COLS, _REDUCE_ROWS = 8, 16, 2, 16, 4, 8, 2
    _ONE_BLOCK = 64
else:
    _TILE, _TILE_K, _MICRO, THREADS, _SIDE, _REDUCE_COLS, _REDUCE_ROWS = 64, 16, 4, 256, 16, 32, 8
    _ONE_BLOCK = 1 << 15


def ignore_small_grid_warnings():
    """Ignore numba-cuda's warning about grids of fewer than 128 blocks (done on import).

    seqforecast launches such grids on purpose (one-block reductions, the
    finishing passes of split products, the persistent kernels of small
    batches); numba-cuda would warn once for every grid size.
    """
    warnings.filterwarnings(
        "ignore", message=r"Grid size \d+ will likely result in GPU under-utilization")


ignore_small_grid_warnings()


def numba_float(dtype):
    """The Numba type of a numpy float dtype."""
    return float32 if np.dtype(dtype) == np.float32 else float64


@functools.lru_cache(maxsize=None)
def multiprocessors():
    """Number of streaming multiprocessors of the current GPU (1 in the simulator)."""
    try:
        return int(cuda.get_current_device().MULTIPROCESSOR_COUNT)
    except AttributeError:
        return 1


def _blocks(n):
    return max(1, math.ceil(n / THREADS))


def _reduction_blocks(n):
    """Blocks of a reduction over ``n`` values: one for few values, else enough for the GPU."""
    return 1 if n <= _ONE_BLOCK else min(_blocks(n), 4 * multiprocessors())


def _grid_2d(rows, cols):
    """Blocks of _SIDE x _SIDE threads over a (rows, cols) output, x along the columns."""
    return (max(1, math.ceil(cols / _SIDE)), max(1, math.ceil(rows / _SIDE)))


@functools.lru_cache(maxsize=None)
def _none(dtype):
    """A (0, 0) placeholder for an optional array argument of a kernel."""
    return cuda.device_array((0, 0), dtype)


# -- workspaces -------------------------------------------------------------------------

_active = threading.local()


class Workspace:
    """Device arrays kept from one run of a computation to the next.

    A device allocation costs about 0.2 ms on an H100, twice a kernel
    launch: a computation that runs again and again (a training step, a
    forward pass) takes its arrays from a workspace, and allocates nothing
    after its first run.

    * Inside ``with workspace:``, the n-th array asked of :func:`empty` is
      the array that the n-th request of an earlier run with the same
      *layout* got.  Runs are told apart by the shape of their first
      request (e.g. the full batches of an epoch and its smaller last one);
      the arrays of the :attr:`LAYOUTS` most recent layouts are kept.
    * Buffers that a function is done with before it returns (the parts of
      a split product or reduction) come from :func:`scratch`: one per
      shape and dtype, however many requests a run makes.

    Arrays of one run are overwritten by the next run of its layout: a
    result that must outlive the run has to be copied out of it first.  A
    workspace serves one run at a time.
    """

    #: How many layouts keep their arrays.
    LAYOUTS = 2

    def __init__(self):
        self._layouts = {}  # first request's (shape, dtype) -> its arrays; most recent last
        self._scratch = {}
        self._arrays, self._next, self._outer, self._running = [], 0, None, False

    def __enter__(self):
        if self._running:
            raise RuntimeError("this workspace is already serving a run")
        self._running, self._next = True, 0
        self._outer, _active.workspace = getattr(_active, "workspace", None), self
        return self

    def __exit__(self, *exc_info):
        _active.workspace, self._running = self._outer, False

    def take(self, shape, dtype):
        """The next array of this run, of the given shape and dtype."""
        key = (_shape(shape), np.dtype(dtype))
        if self._next == 0:
            self._arrays = self._layouts.pop(key, [])
            self._layouts[key] = self._arrays
            while len(self._layouts) > self.LAYOUTS:
                del self._layouts[next(iter(self._layouts))]
        index, self._next = self._next, self._next + 1
        if index == len(self._arrays):
            self._arrays.append(None)
        kept = self._arrays[index]
        if kept is None or (kept.shape, kept.dtype) != key:
            kept = self._arrays[index] = cuda.device_array(*key)
        return kept

    def scratch(self, shape, dtype):
        """This workspace's buffer of the given shape and dtype."""
        key = (_shape(shape), np.dtype(dtype))
        if key not in self._scratch:
            self._scratch[key] = cuda.device_array(*key)
        return self._scratch[key]

    def clear(self):
        """Let go of all arrays (freed once nothing else refers to them)."""
        self._layouts.clear()
        self._scratch.clear()
        self._arrays = []

    @property
    def n_arrays(self):
        """How many arrays the workspace holds."""
        return sum(map(len, self._layouts.values())) + len(self._scratch)


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)


def empty(shape, dtype):
    """An uninitialised device array: the active :class:`Workspace`'s, or a new one."""
    workspace = getattr(_active, "workspace", None)
    if workspace is None:
        return cuda.device_array(_shape(shape), dtype)
    return workspace.take(shape, dtype)


def scratch(shape, dtype):
    """A device array to be done with before the caller returns; see :class:`Workspace`.

    Launches run in order, so the next user of the same buffer cannot
    overwrite it before the kernels that read it have run.
    """
    workspace = getattr(_active, "workspace", None)
    if workspace is None:
        return cuda.device_array(_shape(shape), dtype)
    return workspace.scratch(shape, dtype)


# -- matrix products --------------------------------------------------------------------


def _batch(a):
    """A device array as a batch: 3-D as it is (any strides), 2-D with a leading axis of 1."""
    if a.ndim == 3:
        return a
    if not a.is_c_contiguous():  # numba-cuda cannot reshape it without a copy
        raise ValueError(f"a 2-D operand must be C-contiguous, got strides {a.strides}")
    return a.reshape(1, *a.shape)


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

    @cuda.jit
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


@cuda.jit
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


def _finish(parts, out, accumulate, bias, bias_2):
    """Add each output's consecutive parts into ``out`` (3-D); see :func:`_finish_kernel`.

    ``bias`` and ``bias_2`` are 2-D, as made by :func:`_bias`.
    """
    Z, M, N = out.shape
    _finish_kernel[(*_grid_2d(M, N), Z), (_SIDE, _SIDE)](parts, out, accumulate, bias, bias_2)


def _bias(bias, dtype, batch, n):
    """An optional bias of shape (n,), (1, n) or (batch, n) as a 2-D device array."""
    if bias is None:
        return _none(dtype)
    if bias.shape not in ((n,), (1, n), (batch, n)):
        raise ValueError(f"a bias of this product must have shape {(n,)}, {(1, n)} or "
                         f"{(batch, n)}, got {bias.shape}")
    return bias if bias.ndim == 2 else bias.reshape(1, n)


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
    a3, b3, out3 = _batch(a), _batch(b), _batch(out)
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
        _finish(parts, out3, accumulate, bias, bias_2)


@functools.lru_cache(maxsize=None)
def _column_kernel(dtype):
    dt = numba_float(dtype)
    zero = np.dtype(dtype).type(0)

    @cuda.jit
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
    a3 = _batch(a)
    Z, R, N = a3.shape
    chunks = max(1, min(math.ceil(R / 256), 8 * multiprocessors()))
    rows_per_chunk = max(1, math.ceil(R / chunks))
    chunks = max(1, math.ceil(R / rows_per_chunk))
    out3 = out.reshape(Z, 1, N)
    parts = out3 if chunks == 1 else scratch((Z * chunks, 1, N), out.dtype)
    _column_kernel(out.dtype)[(max(1, math.ceil(N / _REDUCE_COLS)), chunks, Z),
                              (_REDUCE_COLS, _REDUCE_ROWS)](
        a3, a3 if b is None else _batch(b), b is not None, rows_per_chunk, parts)
    if chunks > 1:
        _finish(parts, out3, False, _none(out.dtype), _none(out.dtype))


# -- element-wise -----------------------------------------------------------------------


@cuda.jit
def _transpose_kernel(a, out):
    j, i = cuda.grid(2)
    if i < out.shape[0] and j < out.shape[1]:
        out[i, j] = a[j, i]


def transpose(a):
    """A C-contiguous copy of ``a.T`` for a 2-D device array (from :func:`empty`)."""
    out = empty((a.shape[1], a.shape[0]), a.dtype)
    _transpose_kernel[_grid_2d(*out.shape), (_SIDE, _SIDE)](a, out)
    return out


@cuda.jit
def _fill_kernel(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


def fill(a, value):
    """Set every element of a C-contiguous device array to ``value``, in place."""
    if a.size:
        _fill_kernel[_blocks(a.size), THREADS](a.reshape(a.size), value)


@cuda.jit
def _multiply_kernel(a, b, out):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = a[i] * b[i]


def multiply(a, b):
    """``a * b`` for C-contiguous device arrays of one shape, in an array from :func:`empty`."""
    out = empty(a.shape, a.dtype)
    if a.size:
        _multiply_kernel[_blocks(a.size), THREADS](
            a.reshape(a.size), b.reshape(b.size), out.reshape(out.size))
    return out


@cuda.jit(device=True)
def _uniform(seed, stream, index):
    """A uniform number in [0, 1) from a counter-based hash (splitmix64) of the arguments."""
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(stream) * np.uint64(
        0xBF58476D1CE4E5B9) + np.uint64(index)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@cuda.jit
def _dropout_kernel(seed, stream, p, mask):
    i = cuda.grid(1)
    if i < mask.size:
        mask[i] = 0 if _uniform(seed, stream, i) < p else 1 / (1 - p)


def dropout_mask(shape, dtype, p, seed, stream):
    """An inverted-dropout mask (values 0 and ``1 / (1 - p)``) drawn on the device.

    ``seed`` and ``stream`` (e.g. the layer) select the draw: the same pair
    gives the same mask.
    """
    mask = empty(shape, dtype)
    if mask.size:
        _dropout_kernel[_blocks(mask.size), THREADS](seed, stream, p, mask.reshape(mask.size))
    return mask


@cuda.jit
def _gather_kernel(x, index, out):
    """``out[t, s] = x[t, index[s]]`` for time-major (T, N, F) data."""
    i = cuda.grid(1)
    T, S, F = out.shape
    if i < T * S * F:
        t, rest = i // (S * F), i % (S * F)
        s, f = rest // F, rest % F
        out[t, s, f] = x[t, index[s], f]


def gather_samples(x, index):
    """Samples ``index`` of time-major device data ``x`` (T, N, F), from :func:`empty`."""
    out = empty((x.shape[0], index.size, x.shape[2]), x.dtype)
    if out.size:
        _gather_kernel[_blocks(out.size), THREADS](x, index, out)
    return out


@cuda.jit
def _gather_rows_kernel(y, index, out):
    i = cuda.grid(1)
    S, F = out.shape
    if i < S * F:
        out[i // F, i % F] = y[index[i // F], i % F]


def gather_rows(y, index):
    """Rows ``index`` of a 2-D device array, in an array from :func:`empty`."""
    out = empty((index.size, y.shape[1]), y.dtype)
    if out.size:
        _gather_rows_kernel[_blocks(out.size), THREADS](y, index, out)
    return out


# -- reductions -------------------------------------------------------------------------

#: Slots of the array filled by :func:`summarize`.
SUM_SQUARES, MAX_ABS, NON_FINITE = 0, 1, 2


@cuda.jit
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


@cuda.jit
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
    blocks = _reduction_blocks(a.size)
    parts = out.reshape(1, 3) if blocks == 1 else scratch((blocks, 3), np.float64)
    _summarize_kernel[blocks, THREADS](a, a if mask is None else mask, mask is not None, parts)
    if blocks > 1:
        _summarize_finish[1, 1](parts, out)


# -- element-wise rules -----------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _update_kernel(rule):
    device_rule = cuda.jit(device=True)(rule)

    @cuda.jit
    def kernel(params, grad, state_1, state_2, hyper, control):
        i = cuda.grid(1)
        if i < params.size and control[0] != 0:
            s2 = state_2[i] if state_2.size else params[i] * 0
            params[i], state_1[i], s2 = device_rule(params[i], grad[i], state_1[i], s2, hyper)
            if state_2.size:
                state_2[i] = s2
            if not math.isfinite(params[i]):
                control[1] = 1.0  # every writer writes the same value

    return kernel


def apply_update(rule, params, grad, state_1, state_2, hyper, control):
    """Apply an optimizer's element rule to every parameter, unless ``control[0]`` is zero.

    Parameters
    ----------
    rule : function
        ``rule(p, g, s1, s2, hyper) -> (p, s1, s2)`` on scalars, see
        :mod:`seqforecast.training.optimizers`.
    params, grad, state_1 : device array of shape (n,)
    state_2 : device array of shape (n,) or (0,)
    hyper : tuple of 5 scalars of the parameters' dtype
    control : float64 device array of 2
        ``control[0] == 0`` skips the update (a step found to diverge on the
        device); ``control[1]`` is set to 1 if the update made a parameter
        NaN or infinite (and left as it is otherwise).
    """
    _update_kernel(rule)[_blocks(params.size), THREADS](
        params, grad, state_1, state_2, hyper, control)


@functools.lru_cache(maxsize=None)
def _loss_kernel(rule):
    device_rule = cuda.jit(device=True)(rule)

    @cuda.jit
    def kernel(y_pred, y_true, delta, scale, d_pred, parts):
        """Per block: its sum of the loss into ``parts``; every entry of ``d_pred``."""
        cache = cuda.shared.array(THREADS, float64)
        tid = cuda.threadIdx.x
        total = 0.0
        for i in range(cuda.grid(1), y_pred.size, cuda.gridsize(1)):
            r, k = i // y_pred.shape[1], i % y_pred.shape[1]
            value, slope = device_rule(y_pred[r, k] - y_true[r, k], delta)
            d_pred[r, k] = slope * scale
            total += value
        cache[tid] = total
        cuda.syncthreads()
        step = THREADS // 2
        while step > 0:
            if tid < step:
                cache[tid] += cache[tid + step]
            cuda.syncthreads()
            step //= 2
        if tid == 0:  # a single block writes the mean itself
            parts[cuda.blockIdx.x] = cache[0] / (y_pred.size if cuda.gridDim.x == 1 else 1)

    return kernel


@cuda.jit
def _mean_finish(parts, size, out):
    if cuda.grid(1) == 0:
        total = 0.0
        for z in range(parts.shape[0]):
            total += parts[z]
        out[0] = total / size


def mean_loss(rule, y_pred, y_true, delta, d_pred, out):
    """Mean of a loss rule over all entries, and its gradient, on the device.

    Parameters
    ----------
    rule : function
        ``rule(diff, delta) -> (value, slope)`` on scalars, see
        :mod:`seqforecast.training.losses`.
    y_pred, y_true : device array of shape (n, k)
    delta : scalar of the arrays' dtype
    d_pred : device array of shape (n, k)
        Receives ``d loss / d y_pred``.
    out : float64 device array
        ``out[0]`` receives the loss.
    """
    blocks = _reduction_blocks(y_pred.size)
    parts = out[:1] if blocks == 1 else scratch(blocks, np.float64)
    scale = y_pred.dtype.type(1.0 / y_pred.size)
    _loss_kernel(rule)[blocks, THREADS](y_pred, y_true, delta, scale, d_pred, parts)
    if blocks > 1:
        _mean_finish[1, 1](parts, y_pred.size, out)


@cuda.jit
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
        _row_norms_kernel[_blocks(out.size), THREADS](squares, out)
