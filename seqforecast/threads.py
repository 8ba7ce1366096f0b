"""The threading policy, in one place.

The CPU kernels are serial Numba code.  The forward pass (``predict``) makes
its own products; training's weight gradients are BLAS matrix products,
small ones (``(H, T*batch) @ (T*batch, H)`` per gate), so the estimators
train with ``KERNEL_BLAS_THREADS`` BLAS threads, 1 by default, through
:func:`kernel_threads`: a second thread gains at most about
a third at hidden size 256 on an idle machine, and OpenBLAS's spinning
threads make the same products up to 50 times slower when another process
keeps a core busy (measured on the 2-core development VM).  Raise it on a
dedicated machine with large hidden sizes.

When several processes share the cores (a grid search with ``n_jobs``, Dask
workers), give each process ``cores / processes`` threads of every kind, set
before the process starts:

* joblib's default ``loky`` backend already limits BLAS threads in its
  workers to ``cores // n_jobs``;
* for Dask workers pass ``env=worker_environment(threads)`` to
  ``LocalCluster``, or export the same variables before ``dask worker``.
"""

from threadpoolctl import ThreadpoolController

from ._checks import is_int
from .config import KERNEL_BLAS_THREADS

_controller = None

THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")


def worker_environment(threads=1):
    """Environment variables that give a worker process ``threads`` Numba and BLAS threads.

    Parameters
    ----------
    threads : int, default=1

    Returns
    -------
    dict of str to str
    """
    if not is_int(threads):
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    return {name: str(threads) for name in THREAD_VARIABLES}


def kernel_threads():
    """Context manager that limits BLAS to ``KERNEL_BLAS_THREADS`` threads while kernels run.

    Entering and leaving costs about 0.03 ms (the library scan is done once).
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=KERNEL_BLAS_THREADS, user_api="blas")
