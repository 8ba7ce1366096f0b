"""The CUDA kernels' tests run under Numba's simulator or on a real GPU.

Run them in their own process: ``NUMBA_ENABLE_CUDASIM=1 pytest tests/cuda``
(the simulator must be switched on before numba.cuda is first imported).
Without the simulator and without a usable GPU they are skipped.
"""
from pathlib import Path

import pytest

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
