"""How the CUDA kernels are launched: grid sizes, the GPU's size, kernel argument types.

The number of blocks of a 1-D kernel, a 2-D kernel and a reduction, the
number of multiprocessors of the GPU, the Numba type of a numpy float dtype,
the empty placeholder passed for an optional array argument, and the filter
for numba-cuda's warning about small grids, which seqforecast launches on
purpose (installed when this module is imported).
"""
import functools
import math
import warnings

import numpy as np
from numba import cuda, float32, float64

from ..config import CUDA_ONE_BLOCK as _ONE_BLOCK
from ..config import CUDA_SIDE as _SIDE
from ..config import CUDA_THREADS as _THREADS


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


def grid_1d(n):
    """Blocks of ``CUDA_THREADS`` threads over ``n`` elements, one thread each."""
    return max(1, math.ceil(n / _THREADS))


def reduction_blocks(n):
    """Blocks of a reduction over ``n`` values: one for few values, else enough for the GPU."""
    return 1 if n <= _ONE_BLOCK else min(grid_1d(n), 4 * multiprocessors())


def grid_2d(rows, cols):
    """Blocks of ``CUDA_SIDE`` x ``CUDA_SIDE`` threads over a (rows, cols) output, x along cols."""
    return (max(1, math.ceil(cols / _SIDE)), max(1, math.ceil(rows / _SIDE)))


@functools.lru_cache(maxsize=None)
def placeholder(dtype):
    """A (0, 0) placeholder for an optional array argument of a kernel."""
    return cuda.device_array((0, 0), dtype)
