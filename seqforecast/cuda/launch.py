"""How the CUDA kernels are launched: the launch itself, grid sizes, the GPU's size,
kernel argument types.

* :func:`jit` and :class:`Kernel` -- ``cuda.jit`` for the kernels, whose
  launches after the first go directly through ``cuda.core``;
* the number of blocks of a 1-D kernel, a 2-D kernel and a reduction, and
  the number of multiprocessors of the GPU;
* the Numba type of a numpy float dtype, and the empty placeholder passed
  for an optional array argument;
* the filter for numba-cuda's warning about small grids, which seqforecast
  launches on purpose (installed when this module is imported).
"""
import ctypes
import functools
import math
import warnings
from typing import NamedTuple

import numpy as np
from numba import config, cuda, float32, float64

from .. import config as _config
from ..config import CUDA_ONE_BLOCK as _ONE_BLOCK
from ..config import CUDA_SIDE as _SIDE
from ..config import CUDA_THREADS as _THREADS


def ignore_small_grid_warnings():
    """Ignore numba-cuda's warning about grids of fewer than 128 blocks (done on import).

    seqforecast launches such grids on purpose (one-block reductions, the
    finishing passes of split products, the persistent kernels of small
    batches); numba-cuda would warn once for every grid size.
    """
    warnings.filterwarnings(  # the message may start with a terminal colour code
        "ignore", message=r".*Grid size \d+ will likely result in GPU under-utilization")


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


# -- the launch -------------------------------------------------------------------------


def jit(function=None, **options):
    """``cuda.jit`` for a kernel (not a device function), as a :class:`Kernel`.

    Used as ``@jit`` or ``@jit(max_registers=64)`` (options of ``cuda.jit``).
    """
    if function is None:
        return lambda function: Kernel(cuda.jit(**options)(function))
    return Kernel(cuda.jit(function))


class Kernel:
    """A numba-cuda kernel, launched as numba's: ``k[grid, block](*args)``, or
    ``k[grid, block, 0, shared_bytes](*args)`` with dynamic shared memory.

    numba-cuda spends tens of microseconds of Python on every launch: it
    types each argument to find the compiled kernel, and converts each one
    through its general argument protocol (on an H200's host 27 us for a
    kernel of 2 arguments, 94 us for one of 15).  A training step launches
    about 20 kernels, most of them on small problems, so at small hidden
    sizes these costs, not the GPU, set its speed.

    With :data:`seqforecast.config.CUDA_DIRECT_LAUNCH` on (off by default
    until it has run on a GPU), the first launch of each argument layout
    (the dtype, dimensions and contiguity of each array, the type of each
    scalar) goes through numba-cuda, which compiles.  Later ones look the
    compiled kernel up by the layout, pack the arguments as numba-cuda does
    and launch it through ``cuda.core`` (8 and 18 us for those two kernels
    in a prototype).  Each layout's packing is compared once with
    numba-cuda's own.  Numba-cuda's path is kept for the simulator, for
    arguments that are not device arrays, plain scalars or tuples of them,
    for a stream other than the default one, for kernels that numba-cuda
    launches specially (debug, cooperative, launch-configuration
    sensitive), and for numba-cuda releases other than 0.30 (whose
    internals are read here).

    Attributes
    ----------
    dispatcher : numba-cuda dispatcher
        The kernel as ``cuda.jit`` made it.
    """

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher
        self.direct = {}  # argument layout -> _Direct, or None for numba-cuda's path

    def __getitem__(self, configuration):
        return Launch(self, *configuration)


class Launch:
    """A configured launch of a :class:`Kernel`: ``kernel[grid, block, stream, shared]``."""

    __slots__ = ("kernel", "grid", "block", "stream", "shared")

    def __init__(self, kernel, grid, block, stream=0, shared=0):
        self.kernel, self.grid, self.block = kernel, grid, block
        self.stream, self.shared = stream, shared

    def __call__(self, *args):
        kernel = self.kernel
        api = (_direct_api() if _config.CUDA_DIRECT_LAUNCH and type(self.stream) is int
               and self.stream == 0 else None)
        key = None if api is None else _layout(args, api.device_array)
        direct = kernel.direct.get(key)
        if direct is not None:
            return direct.launch(self.grid, self.block, self.shared, args)
        launch = kernel.dispatcher[self.grid, self.block, self.stream, self.shared]
        launch(*args)
        if key is not None and key not in kernel.direct:
            kernel.direct[key] = _Direct.of(api, kernel.dispatcher, launch.stream, args)


class _API(NamedTuple):
    """What a direct launch uses of numba-cuda and ``cuda.core``."""

    device_array: type
    launch_config: type
    launch: object


@functools.lru_cache(maxsize=None)
def _direct_api():
    """The :class:`_API` where direct launches can run, else None."""
    if config.ENABLE_CUDASIM:
        return None
    try:
        import numba_cuda
        from cuda.core import LaunchConfig, launch
        from numba.cuda.cudadrv.devicearray import DeviceNDArray
    except ImportError:
        return None
    if not numba_cuda.__version__.startswith("0.30."):  # the internals read here are 0.30's
        return None
    return _API(DeviceNDArray, LaunchConfig, launch)


def _append(value, out):
    out.append(value)


def _scalar(ctype):
    return lambda value, out: out.append(ctype(value))


def _array(a, out):
    """numba-cuda's parameters of a device array: meminfo, parent, size, itemsize,
    pointer, shape, strides (in bytes)."""
    view = a._strided_memory_view_shim
    out += (0, 0, view.size, view.dtype.itemsize, view.ptr, *view.shape,
            *view._layout.strides_in_bytes)


#: How each scalar type is passed, as numba-cuda passes the type it infers for it.
_SCALARS = {bool: _append, np.bool_: _append, int: _scalar(ctypes.c_int64),
            float: _scalar(ctypes.c_double), np.float32: _scalar(ctypes.c_float),
            np.float64: _scalar(ctypes.c_double), np.int32: _scalar(ctypes.c_int32),
            np.int64: _scalar(ctypes.c_int64), np.uint32: _scalar(ctypes.c_uint32),
            np.uint64: _scalar(ctypes.c_uint64)}


def _tuple(packers):
    def pack(values, out):
        for pack_value, value in zip(packers, values):
            pack_value(value, out)
    return pack


def _layout(args, device_array):
    """What numba-cuda's choice of compiled kernel depends on, per argument; None when
    an argument is neither a ``device_array`` nor a scalar of :data:`_SCALARS` (or a tuple
    of them)."""
    key = []
    for a in args:
        kind = type(a)
        if kind is device_array:
            layout = a._strided_memory_view_shim._layout
            key.append((a.dtype, a.ndim, layout.is_contiguous_c, layout.is_contiguous_f))
        elif kind in _SCALARS:
            key.append(kind)
        elif kind is tuple and all(type(v) in _SCALARS for v in a):
            key.append(tuple(map(type, a)))
        else:
            return None
    return tuple(key)


def _packer(a, device_array):
    """How an argument accepted by :func:`_layout` is passed."""
    if type(a) is tuple:
        return _tuple([_SCALARS[type(v)] for v in a])
    return _array if type(a) is device_array else _SCALARS[type(a)]


class _Direct:
    """One compiled kernel launched through ``cuda.core``, with its argument packers."""

    def __init__(self, api, function, stream, packers):
        self.api, self.function, self.stream, self.packers = api, function, stream, packers
        self.configurations = {}

    @classmethod
    def of(cls, api, dispatcher, stream, args):
        """The direct launch of what numba-cuda compiled for ``args``, or None if it cannot
        be launched directly or its packing differs from numba-cuda's."""
        try:
            compiled = dispatcher.overloads.get(tuple(map(dispatcher.typeof_pyval, args)))
            if (compiled is None or compiled.debug or compiled.cooperative
                    or compiled.launch_config_sensitive or dispatcher.extensions):
                return None
            direct = cls(api, compiled._codelibrary.get_cufunc().kernel, stream,
                         [_packer(a, api.device_array) for a in args])
            expected = []
            for numba_type, value in zip(compiled.argument_types, args):
                compiled._prepare_args(numba_type, value, stream, [], expected)
        except Exception:  # numba-cuda's path has launched; whatever fails here, it stays
            return None
        same = _parameters(direct.pack(args)) == _parameters(expected)
        return direct if same else None

    def pack(self, args):
        """The kernel's parameters for ``args``."""
        out = []
        for pack, value in zip(self.packers, args):
            pack(value, out)
        return out

    def launch(self, grid, block, shared, args):
        configuration = self.configurations.get((grid, block, shared))
        if configuration is None:  # cuda.core takes plain ints only
            configuration = self.configurations[grid, block, shared] = self.api.launch_config(
                grid=_ints(grid), block=_ints(block), shmem_size=int(shared))
        self.api.launch(self.stream, configuration, self.function, *self.pack(args))


def _ints(dimensions):
    return tuple(map(int, dimensions)) if isinstance(dimensions, tuple) else int(dimensions)


def _parameters(values):
    """Kernel parameters as comparable values: each one's type and value."""
    return [(type(v), getattr(v, "value", v)) for v in values]
