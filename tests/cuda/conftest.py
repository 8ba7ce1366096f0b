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
    """Under the simulator: shared arrays made under a lock, and thread switches every 0.1 ms.

    The simulator runs each thread of a block as a Python thread, polled by a
    loop that holds the GIL until Python's switch interval (5 ms) is up: one
    dropout fit (LSTMRegressor, hidden (3, 2), 24 windows) took 39 s, and
    13-15 s with an interval of 0.01 to 1 ms.  Switching that often exposes a
    race in numba 0.68's simulator: a block's threads look up its shared
    array (``cuda.shared.array``) by call site and create it when missing,
    without a lock, so two threads could each create one and the block's
    threads no longer share it (wrong gradients in 3 of 48 tests, different
    ones from run to run).  Only in the simulator's own process: the main
    test run (which collects this directory and skips it) is left as it is.
    """
    if numba_config.ENABLE_CUDASIM:
        _lock_shared_arrays()
        sys.setswitchinterval(1e-4)


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
