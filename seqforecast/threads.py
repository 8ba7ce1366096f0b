"""The threading policy, in one place.

The CPU kernels are Numba code that releases the GIL.

* **The recurrences** (forward and backward) treat each sample alone, so
  :func:`run_row_blocks` splits a batch's samples over
  ``KERNEL_ROW_THREADS`` threads (default: ``NUMBA_NUM_THREADS`` as the
  environment has it when the batch runs, else Numba's thread count), the
  calling thread and worker threads running the kernels on disjoint blocks
  of samples, when each block has ``ROW_BLOCK_WORK`` multiply-adds per step.
  Results are bit-identical for any split, and the kernels' own compiled
  code runs on every thread.  The workers spin without the GIL for
  ``ROW_SPIN_SECONDS`` after each block (:class:`_Team`): waking a sleeping
  thread cost 80-170 us on the 2-core development VM, so that with a pool of
  sleeping threads an LSTM of 32 units trained fastest on one thread; with
  spinning workers two threads took its training step (64 windows of 48
  steps) from 1.63 to 1.15 ms.
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
import time

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from . import config
from ._checks import is_int
from .config import KERNEL_BLAS_THREADS
from .cpu import atomics

_controller = None
# kernel_threads' limit, held _holders times at once; _depth: how often by this thread.
_limiter, _holders, _limit_lock, _depth = None, 0, threading.Lock(), threading.local()
_team, _team_lock = None, threading.Lock()  # run_row_blocks' workers


def _after_fork():
    """In a forked child: the parent's pool threads do not exist there, so start afresh; of
    the threads holding the BLAS limit only the one that forked does, inside the limit as
    often as it was."""
    global _team, _team_lock, _limiter, _holders, _limit_lock
    _team, _team_lock = None, threading.Lock()
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

    The calling thread and a team of worker threads claim the blocks one at a
    time, so that every block runs once whichever thread gets to it (a worker
    that the system does not run leaves its blocks to the others); it returns
    when all are done, raising the first error of a block, if any.  Another
    thread's call while the team is busy runs its blocks on its own thread.
    """
    blocks = row_blocks(rows, work_per_row)
    if len(blocks) == 1:
        kernel(*blocks[0])
        return
    global _team
    with _team_lock:
        if _team is None:
            _team = _Team()
        team = _team
    if not team.busy.acquire(blocking=False):
        for block in blocks:
            kernel(*block)
        return
    try:
        team.run(kernel, blocks)
    finally:
        team.busy.release()


class _Team:
    """Worker threads that spin, without the GIL, for the blocks of :func:`run_row_blocks`.

    The hand-over goes through two words of memory (:mod:`seqforecast.cpu.atomics`):
    the caller publishes a generation of work and claims blocks itself; a
    worker that sees it waits :data:`~seqforecast.config.ROW_HANDOFF_SPINS` reads
    (the caller takes the GIL to start its own block first: a thread that
    finds the GIL taken sleeps, and waking it costs more than the wait), then
    claims blocks too.  After a block a worker spins for the next work for
    :data:`~seqforecast.config.ROW_SPIN_SECONDS`, then sleeps on a condition
    until the next call wakes it.
    """

    def __init__(self):
        self.word = np.zeros(2, np.int64)
        self.generation = 0
        self.work = None  # (generation, kernel, blocks, errors)
        self.busy = threading.Lock()
        self.wake = threading.Condition()
        self.asleep = 0
        self.workers = []
        atomics.pause(self.word, 1)  # compiled, or loaded from the cache
        reads = 1 << 16
        start = time.perf_counter()
        atomics.pause(self.word, reads)
        per_second = reads / max(time.perf_counter() - start, 1e-9)
        self.spins = max(1, int(config.ROW_SPIN_SECONDS * per_second))
        self.wait_spins = max(1, int(1e-3 * per_second))  # the caller's spin between yields

    def run(self, kernel, blocks):
        """Run ``kernel`` on ``blocks`` here and on the workers; see :func:`run_row_blocks`."""
        while len(self.workers) < len(blocks) - 1:
            worker = threading.Thread(target=self._serve, args=(self.generation,), daemon=True,
                                      name=f"seqforecast-{len(self.workers) + 1}")
            worker.start()
            self.workers.append(worker)
        self.generation += 1
        generation, n, errors = self.generation, len(blocks), []
        self.work = (generation, kernel, blocks, errors)
        atomics.publish(self.word, generation, 1)  # block 0 is the caller's
        if self.asleep:  # keeps the GIL, as publish does: the caller's block starts first
            with self.wake:
                self.wake.notify_all()
        try:
            block = 0
            while block >= 0:
                try:
                    kernel(*blocks[block])
                finally:
                    atomics.finish(self.word)
                block = atomics.claim(self.word, generation, n)
        finally:
            while atomics.claim(self.word, generation, n) >= 0:  # after an error: skipped
                atomics.finish(self.word)
            while not atomics.wait_for_blocks(self.word, n, self.wait_spins):  # the workers'
                time.sleep(0)  # a worker the system does not run: let it have this core
            self.work = None  # keeps no arrays alive
        if errors:
            raise errors[0]

    def _serve(self, seen):
        """A worker's loop: claim and run blocks of each new generation of work."""
        word = self.word
        generation = atomics.wait_for_work(word, seen, self.spins)
        while True:
            if generation == seen:  # spun for ROW_SPIN_SECONDS in vain
                generation = self._sleep(seen)
            seen = generation
            atomics.pause(word, config.ROW_HANDOFF_SPINS)
            work = self.work
            block = -1
            if work is not None and work[0] == generation:
                block = atomics.claim(word, generation, len(work[2]))
            if block < 0:  # all claimed already, or newer work published
                generation = atomics.wait_for_work(word, seen, self.spins)
                continue
            _, kernel, blocks, errors = work
            while block >= 0:
                try:
                    kernel(*blocks[block])
                except BaseException as error:  # the caller raises it
                    errors.append(error)
                block, generation = atomics.finish_and_claim(word, seen, len(blocks),
                                                             self.spins)

    def _sleep(self, seen):
        """Wait on the condition until work newer than ``seen`` is published; its generation."""
        with self.wake:
            self.asleep += 1
            try:
                while (generation := atomics.wait_for_work(self.word, seen, 0)) == seen:
                    self.wake.wait()
            finally:
                self.asleep -= 1
        return generation
