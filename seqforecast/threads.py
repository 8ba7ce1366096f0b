"""The threading policy, in one place.

The CPU kernels are serial Numba code around BLAS matrix products, so a
process uses BLAS's threads (one per core by default) and, if anything in it
runs a parallel Numba function, Numba's pool.  When several processes share
the cores (a grid search with ``n_jobs``, Dask workers), give each process
``cores / processes`` threads of both kinds, set before the process starts:

* joblib's default ``loky`` backend already limits BLAS threads in its
  workers to ``cores // n_jobs``;
* for Dask workers pass ``env=worker_environment(threads)`` to
  ``LocalCluster``, or export the same variables before ``dask worker``.
"""

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
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    return {name: str(threads) for name in THREAD_VARIABLES}
