"""Element-wise CUDA kernels: fill, multiply, gathers of samples and rows, dropout masks.

The dropout masks come from a counter-based hash of (seed, stream, index),
so the same seed and stream give the same mask on any launch configuration.
"""
import numpy as np
from numba import cuda

from ..config import CUDA_THREADS as THREADS
from .launch import grid_1d, jit
from .workspace import empty, view

@jit
def _fill_kernel(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


def fill(a, value):
    """Set every element of a C-contiguous device array to ``value``, in place."""
    if a.size:
        _fill_kernel[grid_1d(a.size), THREADS](view(a, shape=(a.size,)), value)


@jit
def _multiply_kernel(a, b, out):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = a[i] * b[i]


def multiply(a, b):
    """``a * b`` for C-contiguous device arrays of one shape, in an array from :func:`empty`."""
    out = empty(a.shape, a.dtype)
    if a.size:
        _multiply_kernel[grid_1d(a.size), THREADS](
            view(a, shape=(a.size,)), view(b, shape=(b.size,)), view(out, shape=(out.size,)))
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


@jit
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
        _dropout_kernel[grid_1d(mask.size), THREADS](seed, stream, p,
                                                     view(mask, shape=(mask.size,)))
    return mask


@jit
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
        _gather_kernel[grid_1d(out.size), THREADS](x, index, out)
    return out


@jit
def _gather_rows_kernel(y, index, out):
    i = cuda.grid(1)
    S, F = out.shape
    if i < S * F:
        out[i // F, i % F] = y[index[i // F], i % F]


def gather_rows(y, index):
    """Rows ``index`` of a 2-D device array, in an array from :func:`empty`."""
    out = empty((index.size, y.shape[1]), y.dtype)
    if out.size:
        _gather_rows_kernel[grid_1d(out.size), THREADS](y, index, out)
    return out
