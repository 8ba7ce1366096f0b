"""The threading policy, in one place.

The CPU kernels are Numba code that releases the GIL.

* **The recurrences** (forward and backward) treat each sample alone, so
  :func:`run_row_blocks` splits a batch's samples over
  ``KERNEL_ROW_THREADS`` threads (default: ``NUMBA_NUM_THREADS`` as the
  environment has it when the batch runs, else Numba's thread count), Python
  threads running the kernels on disjoint blocks of samples, when each block
  has ``ROW_BLOCK_WORK`` multiply-adds per step.  Results are bit-identical
  for any split.  On the 2-core development VM two threads took an LSTM of
  128 units from 1.9-2.0 to 1.4-1.6 s per epoch (4,096 windows of 48 steps,
  batches of 64) and its ``predict`` of the 4,096 windows from 560-575 to
  360-400 ms; an LSTM of 32 units trains on one thread at batch 64 (too
  little work per step) and predicts 1.4x faster on two.
* **The weight gradients** are products of the package's own, one per gate
  (``(H, T*batch) @ (T*batch, I or H)``,
  :func:`seqforecast.cpu.products.matmul_tn`), independent of each other:
  :func:`run_row_blocks` splits a layer's gates over the same threads, by
  the same rule (a gate's work per step is ``batch * H * (H + I)``
  multiply-adds), and the gradient w.r.t. the input its samples.
* **BLAS** runs the few small products outside the kernels while a model
  trains (the output layer, the least-squares start of the autoregressive
  path): the estimators train with ``KERNEL_BLAS_THREADS`` BLAS threads, 1
  by default, through :func:`kernel_threads`.  OpenBLAS's spinning threads
  made the kernels' products (BLAS then) up to 50 times slower when another
  process kept a core busy (measured on the 2-core development VM).  The
  forward pass (``predict``) uses no BLAS.

When several processes share the cores (a grid search with ``n_jobs``, Dask
workers), give each process ``cores / processes`` threads of every kind, set
before the process starts:

* joblib's default ``loky`` backend already limits BLAS and Numba threads in
  its workers to ``cores // n_jobs``;
* for Dask workers pass ``env=worker_environment(threads)`` to
  ``LocalCluster``, or export the same variables before ``dask worker``.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
from threadpoolctl import ThreadpoolController

from . import config
from ._checks import is_int
from .config import KERNEL_BLAS_THREADS

_controller = None
# kernel_threads' limit, held _holders times at once; _depth: how often by this thread.
_limiter, _holders, _limit_lock, _depth = None, 0, threading.Lock(), threading.local()
_pool, _pool_size, _pool_lock = None, 0, threading.Lock()


def _after_fork():
    """In a forked child: the parent's pool threads do not exist there, so start afresh; of
    the threads holding the BLAS limit only the one that forked does, inside the limit as
    often as it was."""
    global _pool, _pool_size, _pool_lock, _limiter, _holders, _limit_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()
    _holders, _limit_lock = getattr(_depth, "value", 0), threading.Lock()
    if not _holders:
        _limiter = None


os.register_at_fork(after_in_child=_after_fork)

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


@contextlib.contextmanager
def kernel_threads():
    """Context manager that limits BLAS to ``KERNEL_BLAS_THREADS`` threads while kernels run.

    BLAS's thread count belongs to the process: when threads train at the
    same time (a grid search with the threading backend), the first to
    enter sets the limit and the last to leave restores what was there
    before, so none lifts the limit under another and none leaves it behind.
    Entering and leaving costs about 0.03 ms (the library scan is done once).
    """
    global _controller, _limiter, _holders
    with _limit_lock:
        if _controller is None:
            _controller = ThreadpoolController()
        if _holders == 0:
            _limiter = _controller.limit(limits=KERNEL_BLAS_THREADS, user_api="blas")
        _holders += 1
        _depth.value = getattr(_depth, "value", 0) + 1
    try:
        yield
    finally:
        with _limit_lock:
            _holders -= 1
            _depth.value -= 1
            if _holders == 0:
                _limiter.restore_original_limits()


def row_blocks(rows, work_per_row):
    """How :func:`run_row_blocks` splits ``rows`` independent rows (samples, or gates).

    Parameters
    ----------
    rows : int
        The batch's samples (or the layer's gates).
    work_per_row : int
        A row's multiply-adds per step.

    Returns
    -------
    list of (int, int)
        ``(first, stop)`` of each block, in order: as many blocks as
        ``KERNEL_ROW_THREADS`` allows and each worth ``ROW_BLOCK_WORK``.
    """
    threads = config.KERNEL_ROW_THREADS or _numba_threads()
    n = max(1, min(threads, rows * work_per_row // config.ROW_BLOCK_WORK, rows))
    bounds = [rows * i // n for i in range(n + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def _numba_threads():
    """The threads a worker is given: ``NUMBA_NUM_THREADS`` as the environment has it now,
    else Numba's count.  A Dask worker's ``env`` is set after its process has imported the
    script that started it, and with it Numba, whose count is read at import."""
    value = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else numba.config.NUMBA_NUM_THREADS


def run_row_blocks(kernel, rows, work_per_row):
    """Call ``kernel(first, stop)`` for each block of :func:`row_blocks`, at the same time.

    The calling thread runs the first block and a pool of threads the
    others (a pool thread never waits on the pool); it returns when all are
    done, raising the first block's error, if any.
    """
    blocks = row_blocks(rows, work_per_row)
    if len(blocks) == 1:
        kernel(*blocks[0])
        return
    global _pool, _pool_size
    with _pool_lock:
        if _pool_size < len(blocks) - 1:
            _pool = ThreadPoolExecutor(len(blocks) - 1, thread_name_prefix="seqforecast")
            _pool_size = len(blocks) - 1
        pool = _pool
    others = [pool.submit(kernel, *block) for block in blocks[1:]]
    try:
        kernel(*blocks[0])
    finally:
        for future in others:
            future.result()
