"""The threading policy, in one place.

The CPU kernels are Numba code that releases the GIL.

* **The recurrences** (forward and backward) treat each sample alone, so
  :func:`run_blocks` splits a batch's samples into ``KERNEL_ROW_THREADS``
  blocks (default: ``NUMBA_NUM_THREADS`` as the environment has it when the
  batch runs, else Numba's thread count) when each block has
  ``ROW_BLOCK_WORK`` multiply-adds per step, and runs the blocks at once on
  Numba's threads (``parallel=True``, one kernel call per block, e.g.
  :func:`seqforecast.cpu.layer.forward_blocks`).  Results are bit-identical
  for any split.  A launch costs about 2 us on the 2-core development VM, a
  hand-over to a thread of Python's pool (used before 2026-12-03) 190-230
  us: the pool paid only from an LSTM of about 64 units at batch 64, Numba's
  threads pay from 16.
* **The weight gradients** are products of the package's own, one per gate
  (``(H, T*batch) @ (T*batch, I or H)``,
  :func:`seqforecast.cpu.products.matmul_tn`), whose rows (a gate's units)
  are independent of each other: :func:`run_blocks` splits a layer's ``G*H``
  gate rows by the same rule (a row's work per step is ``batch * (H + I)``
  multiply-adds), so that a cell with one gate (the RNN) or three (the GRU)
  keeps both cores as busy as the LSTM's four gates do; and it splits the
  gradient w.r.t. the input by samples.
* **Numba's threading layer** is Numba's choice (TBB, OpenMP, else its own
  workqueue; ``NUMBA_THREADING_LAYER`` sets it).  Launches from several
  Python threads at once (a grid search with the threading backend, Dask's
  threads) are serialised until the layer is known to take them
  (OpenMP, TBB), and a process forked after a launch with OpenMP (which
  GNU's runtime does not survive) runs its recurrences on one thread.
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

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from . import config
from ._checks import is_int
from .config import KERNEL_BLAS_THREADS

_controller = None
# kernel_threads' limit, held _holders times at once; _depth: how often by this thread.
_limiter, _holders, _limit_lock, _depth = None, 0, threading.Lock(), threading.local()
# Launches of Numba's threads: serialised by _launch_lock until _concurrent_launches says
# that the threading layer takes them from several threads; none in a child forked after a
# launch with OpenMP (_no_threads).
_launch_lock, _concurrent_launches, _no_threads = threading.Lock(), False, False


def _after_fork():
    """In a forked child: no launch of Numba's threads if the parent launched them with
    OpenMP; of the threads holding the BLAS limit only the one that forked exists, inside
    the limit as often as it was."""
    global _launch_lock, _no_threads, _limiter, _holders, _limit_lock
    _launch_lock = threading.Lock()
    _no_threads = _no_threads or _threading_layer() == "omp"
    _holders, _limit_lock = getattr(_depth, "value", 0), threading.Lock()
    if not _holders:
        _limiter = None


def _threading_layer():
    """The threading layer Numba launched its threads with, or None before a launch."""
    try:
        return numba.threading_layer()
    except ValueError:
        return None


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
    """How :func:`run_blocks` splits ``rows`` independent rows (samples, or gates).

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
    n = min(rows * work_per_row // config.ROW_BLOCK_WORK, rows)
    if n <= 1:  # the threads are not looked up: predicting one window is fast
        return [(0, rows)]
    n = min(n, config.KERNEL_ROW_THREADS or _numba_threads())
    bounds = [rows * i // n for i in range(n + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def _numba_threads():
    """The threads a worker is given: ``NUMBA_NUM_THREADS`` as the environment has it now,
    else Numba's count.  A Dask worker's ``env`` is set after its process has imported the
    script that started it, and with it Numba, whose count is read at import."""
    value = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else numba.config.NUMBA_NUM_THREADS


def run_blocks(kernel, blocks_kernel, args, rows, work_per_row):
    """``kernel(*args, 0, rows)``, in the blocks of :func:`row_blocks` at once.

    Parameters
    ----------
    kernel : callable
        ``kernel(*args, first, stop)`` runs rows ``first .. stop-1``.
    blocks_kernel : callable
        ``blocks_kernel(*args, bounds)`` runs ``kernel`` for each block of
        ``bounds`` (the blocks' first rows, then ``rows``) on Numba's threads.
    args : tuple
    rows, work_per_row : int
        As in :func:`row_blocks`.
    """
    global _concurrent_launches
    blocks = [(0, rows)] if _no_threads else row_blocks(rows, work_per_row)
    if len(blocks) == 1:
        kernel(*args, 0, rows)
        return
    bounds = np.array([first for first, _ in blocks] + [rows], np.int64)
    if _concurrent_launches:
        blocks_kernel(*args, bounds)
        return
    with _launch_lock:
        blocks_kernel(*args, bounds)
        _concurrent_launches = _threading_layer() in ("omp", "tbb")
