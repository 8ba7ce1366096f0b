"""One case of the simulator tests with the production CUDA sizes.

Under the simulator the kernels get small tiles and blocks (see
:mod:`seqforecast.config`); this test runs products and a training step in
a new process where ``SEQFORECAST_CUDA_SIZES=production`` gives them the
sizes they have on a GPU, set before any kernel module is imported.
"""
import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from seqforecast import config

HERE = Path(__file__).resolve().parent


def _production_case():
    """The child process's checks, with the assertions of the tests in test_cuda.py."""
    import numpy as np
    from numba import cuda

    from seqforecast.backends.cuda import CUDA
    from seqforecast.cuda.products import matmul
    from seqforecast.network import Network
    from seqforecast.recurrent import Cell
    from seqforecast.training.losses import squared_error
    from seqforecast.training.optimizers import Adam
    from seqforecast.training.trainer import Trainer

    assert config.CUDA_SIZES == "production"
    rng = np.random.RandomState(2)
    # Four 64x64 tiles; then one tile, its inner size split over two blocks.
    for m, k, n in [(70, 21, 67), (3, 150, 2)]:
        a, b = rng.randn(k, m), rng.randn(k, n)  # used transposed: a.T @ b
        bias, start = rng.randn(n), rng.randn(m, n)
        out = cuda.to_device(start)
        matmul(cuda.to_device(a), cuda.to_device(b), out, accumulate=True,
               bias=cuda.to_device(bias), trans_a=True)
        np.testing.assert_allclose(out.copy_to_host(), start + a.T @ b + bias, rtol=1e-12,
                                   atol=1e-12)
    # One training step, with the L2 penalty and clipping, against the CPU's.
    network = Network(Cell("lstm"), 2, (3,), 1, rng, np.float64)
    x, y = rng.randn(4, 16, 2), rng.randn(16, 1)
    settings = dict(alpha=1e-3, clip_global_norm=0.5)
    on_gpu = Trainer(network.on(CUDA), Adam(network.params.copy()), squared_error, **settings)
    on_cpu = Trainer(network, Adam(network.params.copy()), squared_error, **settings)
    got, want = on_gpu.step(cuda.to_device(x), cuda.to_device(y)), on_cpu.step(x, y)
    np.testing.assert_allclose([got.loss, got.grad_norm], [want.loss, want.grad_norm],
                               rtol=1e-9)
    assert got.clipped and want.clipped
    np.testing.assert_allclose(on_gpu.network.params.copy_to_host(), network.params, rtol=1e-9,
                               atol=1e-12)


@pytest.mark.skipif(not numba.config.ENABLE_CUDASIM or config.CUDA_SIZES == "production",
                    reason="for the simulator suite (NUMBA_ENABLE_CUDASIM=1 pytest tests/cuda) "
                           "with its small sizes; on a GPU every test runs with the production "
                           "sizes")
def test_product_and_training_step_with_production_sizes():
    path = os.pathsep.join(filter(None, [str(HERE.parents[1]), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", SEQFORECAST_CUDA_SIZES="production",
               PYTHONPATH=path)
    child = subprocess.run(
        [sys.executable, "-c", "from test_production_sizes import _production_case; "
                               "_production_case()"],
        cwd=HERE, env=env, capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
