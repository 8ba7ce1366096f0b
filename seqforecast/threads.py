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
    """In a forked child: the parent's team of workers does not exist there, so start afresh; of
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

    The calling thread runs the first block and a team of worker threads
    claims the others, the caller too once its block is done, so that every
    block runs once whichever thread gets to it (a worker that the system
    does not run leaves its blocks to the others).  It returns when all are
    done, raising the caller's error, else the first of the workers', if any;
    after an error or an interrupt the blocks no thread has claimed are
    skipped.  Another thread's call while the team is busy runs its blocks on
    its own thread.
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

    The hand-over goes through shared memory (:mod:`seqforecast.cpu.atomics`):
    the caller publishes a generation of work and starts its own block; a
    worker that sees it waits :data:`~seqforecast.config.ROW_HANDOFF_SPINS`
    reads (the caller takes the GIL to start its block first: a thread that
    finds the GIL taken sleeps, and waking it costs more than the wait), then
    claims blocks.  After its blocks a worker spins for the next work for
    :data:`~seqforecast.config.ROW_SPIN_SECONDS`, then sleeps on a condition
    until a call wakes it; workers beyond a call's blocks sleep through it.
    """

    def __init__(self):
        self.published = np.zeros(1, np.int64)
        self.slots = np.zeros(0, np.int64)
        self.generation = 0
        self.work = None  # (generation, kernel, blocks, errors, slots)
        self.busy = threading.Lock()
        self.wake = threading.Condition()
        self.asleep = 0  # bit i: worker i sleeps
        self.closed = False
        self.workers = []
        self._compile()
        reads, seconds = 1 << 16, []
        for _ in range(5):  # the fastest: the GIL's return or a preemption inflate the others
            start = time.perf_counter()
            atomics.pause(self.published, reads)
            seconds.append(time.perf_counter() - start)
        per_second = reads / max(min(seconds), 1e-9)
        self.spins = max(1, int(config.ROW_SPIN_SECONDS * per_second))
        self.wait_spins = max(1, int(1e-3 * per_second))  # the caller's spin between yields

    @staticmethod
    def _compile():
        """Compile (or load from Numba's cache) the hand-over's functions now, not in the middle
        of a hand-over, where a thread compiling would leave the others waiting."""
        published, slots = np.zeros(1, np.int64), np.zeros(2, np.int64)
        atomics.publish(published, slots, 1, 2)
        atomics.claim(slots, 1, 2, atomics.WORKER)
        atomics.finish_and_claim(published, slots, 1, 1, 2, 1)
        atomics.wait_for_workers(slots, 1, 2, 1)
        atomics.pause(published, 1)

    def run(self, kernel, blocks):
        """Run ``kernel`` on ``blocks`` here and on the workers; see :func:`run_row_blocks`."""
        n = len(blocks)
        while len(self.workers) < n - 1:
            index = len(self.workers) + 1
            worker = threading.Thread(target=self._serve, args=(index, self.generation),
                                      daemon=True, name=f"seqforecast-{index}")
            worker.start()
            self.workers.append(worker)
        if self.slots.size < n:
            self.slots = np.zeros(n, np.int64)
        self.generation += 1
        generation, slots, errors = self.generation, self.slots, []
        self.work = (generation, kernel, blocks, errors, slots)
        try:
            atomics.publish(self.published, slots, generation, n)  # block 0 is the caller's
            if self.asleep & ((1 << n) - 2):  # a worker this work needs sleeps; notify_all
                with self.wake:           # keeps the GIL, as publish does: the caller's block
                    self.wake.notify_all()  # starts first
            block = 0
            while block >= 0:
                kernel(*blocks[block])
                block = atomics.claim(slots, generation, n, atomics.CALLER)
        finally:
            self._finish(generation, slots, n)
        if errors:
            raise errors[0]

    def _finish(self, generation, slots, n):
        """Wait until no block of the work is in a worker's hands, even through an interrupt
        (the workers write into the caller's arrays), skipping those no one has claimed."""
        interrupted = None
        while True:
            try:
                while atomics.claim(slots, generation, n, atomics.CALLER) >= 0:
                    pass  # skipped: an error or an interrupt ended the caller's loop
                while not atomics.wait_for_workers(slots, generation, n, self.wait_spins):
                    time.sleep(0)  # a worker the system does not run: let it have this core
                break
            except BaseException as error:  # e.g. KeyboardInterrupt: wait, then raise it
                interrupted = interrupted or error
        self.work = None  # keeps no arrays alive
        if interrupted is not None:
            raise interrupted

    def _serve(self, index, seen):
        """Worker ``index``'s loop (1, 2, ...): claim and run blocks of each work published
        after generation ``seen``."""
        generation = atomics.wait_for_work(self.published, seen, self.spins)
        while not self.closed:
            if generation == seen:  # no new work after spinning: sleep
                generation = self._sleep(index, seen)
                continue
            seen = generation
            atomics.pause(self.published, config.ROW_HANDOFF_SPINS)
            generation = self._take_part(index, generation)

    def _take_part(self, index, generation):
        """Claim and run blocks of the work of ``generation``; then spin for the next work.

        Returns the generation of the next work, or ``generation`` when none
        came (then the worker sleeps), at once when this worker has no part in
        the work (``index`` not below its blocks).  A method of its own: the
        work's arrays are let go of when it returns (they are held while it
        spins, ``ROW_SPIN_SECONDS`` at most).
        """
        work = self.work
        if work is None or work[0] != generation:  # done already, or newer work published
            return atomics.wait_for_work(self.published, generation, self.spins)
        _, kernel, blocks, errors, slots = work
        if index >= len(blocks):
            return generation
        block = atomics.claim(slots, generation, len(blocks), atomics.WORKER)
        if block < 0:
            return atomics.wait_for_work(self.published, generation, self.spins)
        while block >= 0:
            try:
                kernel(*blocks[block])
            except BaseException as error:  # the caller raises it
                errors.append(error)
            block, newer = atomics.finish_and_claim(self.published, slots, generation, block,
                                                    len(blocks), self.spins)
        return newer

    def _sleep(self, index, seen):
        """Wait on the condition until work newer than ``seen`` is published, or the team is
        closed; the generation last read.  ``asleep`` has bit ``index`` set meanwhile."""
        bit = 1 << index
        with self.wake:
            self.asleep |= bit
            try:
                while ((generation := atomics.wait_for_work(self.published, seen, 0)) == seen
                       and not self.closed):
                    self.wake.wait()
            finally:
                self.asleep &= ~bit
        return generation

    def close(self):
        """Stop the workers and wait for them (a spinning one within ROW_SPIN_SECONDS)."""
        self.closed = True
        with self.wake:
            self.wake.notify_all()
        for worker in self.workers:
            worker.join()
