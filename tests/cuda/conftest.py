"""The CUDA kernels' tests run under Numba's simulator or on a real GPU.

Run them in their own process: ``NUMBA_ENABLE_CUDASIM=1 pytest tests/cuda``
(the simulator must be switched on before numba.cuda is first imported).
Without the simulator and without a usable GPU they are skipped.
"""
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from numba import config as numba_config
from numba import types
from numba.np import numpy_support

from seqforecast.cuda import check_available

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    try:
        check_available()
    except RuntimeError as error:
        skip = pytest.mark.skip(reason=f"no CUDA device and no simulator: {error}")
        for item in items:
            if HERE in Path(item.path).parents:
                item.add_marker(skip)


def pytest_configure(config):
    """Under the simulator: shared arrays made under a lock, a kernel's globals read from a
    snapshot, and thread switches every 0.1 ms.

    The simulator runs each thread of a block as a Python thread, polled by a
    loop that holds the GIL until Python's switch interval (5 ms) is up: one
    dropout fit (LSTMRegressor, hidden (3, 2), 24 windows) took 39 s, and
    13-15 s with an interval of 0.01 to 1 ms.  Switching that often exposes a
    race in numba 0.68's simulator: a block's threads look up its shared
    array (``cuda.shared.array``) by call site and create it when missing,
    without a lock, so two threads could each create one and the block's
    threads no longer share it (wrong gradients in 3 of 48 tests, different
    ones from run to run), and another in its swap of the ``cuda`` module
    (see :func:`_swap_from_a_snapshot`).  Only in the simulator's own
    process: the main test run (which collects this directory and skips it)
    is left as it is.
    """
    if numba_config.ENABLE_CUDASIM:
        _lock_shared_arrays()
        _swap_from_a_snapshot()
        sys.setswitchinterval(1e-4)


def _swap_from_a_snapshot():
    """``swapped_cuda_module`` of numba's simulator, reading the kernel's module globals from
    a snapshot taken at once.

    Each simulated thread, on entering a kernel or device function, looks
    for the ``cuda`` module among the globals of its module, item by item,
    and swaps in the simulator's.  A warning raised for the first time from
    that module in another thread (the dropout hash's uint64 overflow, which
    the simulator's numpy scalars report) adds ``__warningregistry__`` to the
    same dict, and the lookup failed with "dictionary changed size during
    iteration" (once in 4 runs of this directory, in a dropout test).
    """
    from contextlib import contextmanager

    from numba import cuda
    from numba.cuda.simulator import kernel, kernelapi  # imported in that process only

    @contextmanager
    def swapped_cuda_module(fn, fake_cuda_module):
        module_globals = fn.__globals__
        swapped = {k: v for k, v in list(module_globals.items()) if v is cuda}
        module_globals.update(dict.fromkeys(swapped, fake_cuda_module))
        try:
            yield
        finally:
            module_globals.update(swapped)

    kernelapi.swapped_cuda_module = kernel.swapped_cuda_module = swapped_cuda_module


def _lock_shared_arrays():
    """``FakeCUDAShared.array`` of numba's simulator, its lookup and creation under a lock.

    As the simulator's own: one uninitialised array per call site (file and
    line) and launch; dynamic shared memory (shape 0) from the launch's buffer.
    """
    from numba.cuda.simulator.kernelapi import FakeCUDAShared  # imported in that process only

    unlocked, lock = FakeCUDAShared.array, threading.Lock()

    def array(self, shape, dtype):
        if shape == 0:
            return unlocked(self, shape, dtype)
        caller = sys._getframe(1)
        site = (caller.f_code.co_filename, caller.f_lineno)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        with lock:
            if site not in self._allocations:
                self._allocations[site] = np.empty(shape, dtype)
            return self._allocations[site]

    FakeCUDAShared.array = array
