"""The regressors inside scikit-learn's model selection, locally and on a Dask cluster."""
import warnings

import joblib
import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from seqforecast import GRURegressor
from seqforecast.threads import worker_environment

GRID = {"model__hidden_sizes": [4, (6, 4)], "model__clip_global_norm": [None, 1.0]}


def _lag_windows(n=160, window=8, seed=0):
    """Lag windows of a noisy seasonal series in its own units (level about 100)."""
    rng = np.random.RandomState(seed)
    t = np.arange(n + window)
    series = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.randn(n + window)
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    return X, series[window:]


def _pipeline():
    model = GRURegressor(max_iter=15, batch_size=20, learning_rate_init=1e-2, random_state=0)
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def _search(n_jobs):
    X, y = _lag_windows()
    # Scale the target too: the windows are in the series' units.
    search = GridSearchCV(TransformedTargetRegressor(_pipeline(), transformer=StandardScaler()),
                          {f"regressor__{k}": v for k, v in GRID.items()},
                          cv=TimeSeriesSplit(n_splits=3), n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


@pytest.fixture(scope="module")
def local_search():
    return _search(n_jobs=1)


def test_grid_search_with_time_series_split_in_parallel(local_search):
    parallel = _search(n_jobs=2)
    assert parallel.best_params_ == local_search.best_params_
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"],
                               local_search.cv_results_["mean_test_score"], rtol=1e-5)
    assert len(parallel.cv_results_["params"]) == 4
    # Lag windows of a seasonal series: the best model explains most of the held-out variance.
    assert parallel.best_score_ > 0.5


def test_transformed_target_regressor_and_pipeline_predict_in_target_units():
    X, y = _lag_windows()
    model = TransformedTargetRegressor(_pipeline(), transformer=StandardScaler())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:120], y[:120])
    prediction = model.predict(X[120:])
    assert 80 < prediction.mean() < 120
    assert model.score(X[120:], y[120:]) > 0.5


def test_grid_search_on_a_dask_local_cluster(local_search):
    from dask.distributed import Client, LocalCluster

    def thread_counts():
        import numba
        from threadpoolctl import threadpool_info
        blas = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
        return numba.config.NUMBA_NUM_THREADS, blas

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, env=worker_environment(1)) as cluster, \
            Client(cluster) as client:
        counts = client.run(thread_counts)
        assert len(counts) == 2
        assert all(numba_threads == 1 and blas == {1} for numba_threads, blas in counts.values())
        with joblib.parallel_config(backend="dask"):
            distributed = _search(n_jobs=-1)
    assert distributed.best_params_ == local_search.best_params_
    np.testing.assert_allclose(distributed.cv_results_["mean_test_score"],
                               local_search.cv_results_["mean_test_score"], rtol=1e-5)


def test_worker_environment():
    assert worker_environment(2)["NUMBA_NUM_THREADS"] == "2"
    assert set(worker_environment()) >= {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}
    with pytest.raises(ValueError, match="threads must be a positive int"):
        worker_environment(0)


def test_estimators_run_the_kernels_with_the_kernel_blas_threads(monkeypatch):
    from threadpoolctl import threadpool_info

    from seqforecast.network import Network
    seen, real = [], Network.gradient_into

    def recording(self, *args, **kwargs):
        seen.append({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Network, "gradient_into", recording)
    X, y = _lag_windows(n=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GRURegressor(4, max_iter=2).fit(X, y)
    assert seen and all(threads == {1} for threads in seen)


def test_threads_predict_with_one_fitted_model_at_the_same_time():
    """A web server's threads share one fitted model: each predict gets its own forward
    workspace, so calls that overlap (and one large enough to let its cache go) neither
    fail ('this workspace is already serving a run') nor change each other's results."""
    import sys
    import threading

    from seqforecast import LSTMRegressor

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: calls overlap
    try:
        rng = np.random.RandomState(0)
        X = rng.randn(200, 12, 1).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LSTMRegressor(8, max_iter=2, random_state=0).fit(X, X[:, -1, 0])
        large = rng.randn(4000, 12, 1).astype(np.float32)
        expected = {"small": [model.predict(X[i:i + 3]) for i in range(50)],
                    "large": model.predict(large)}
        failures = []

        def small():
            for _ in range(4):
                for i in range(50):
                    if not np.array_equal(model.predict(X[i:i + 3]), expected["small"][i]):
                        failures.append(f"window {i}")

        def large_calls():
            for _ in range(4):
                if not np.array_equal(model.predict(large), expected["large"]):
                    failures.append("large")

        def guarded(work):
            try:
                work()
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(repr(error))

        threads = [threading.Thread(target=guarded, args=(work,))
                   for work in (small, small, large_calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []


def test_threads_training_at_once_set_the_blas_limit_once_and_restore_it_once(monkeypatch):
    """BLAS's thread count is the process's: with two threads in kernel_threads at once, the
    first to enter sets the limit and the last to leave restores what was before (each
    thread set and restored on its own: the first to leave lifted the limit under the other,
    and the other then restored the limit itself, leaving the process at 1 thread)."""
    import threading

    from seqforecast import threads as policy

    calls = []

    class Limiter:
        def __init__(self):
            calls.append("limit")

        def restore_original_limits(self):
            calls.append("restore")

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.restore_original_limits()

    class Controller:
        def limit(self, limits, user_api):
            assert (limits, user_api) == (policy.KERNEL_BLAS_THREADS, "blas")
            return Limiter()

    monkeypatch.setattr(policy, "_controller", Controller())
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with policy.kernel_threads():
            first_in.set()
            second_in.wait()
        calls.append("first left")
        first_out.set()

    def second():
        first_in.wait()
        with policy.kernel_threads():
            second_in.set()
            first_out.wait()

    threads = [threading.Thread(target=work) for work in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["limit", "first left", "restore"]


def test_a_process_forked_inside_the_blas_limit_restores_it_once(monkeypatch):
    """The forking thread is the child's only one: the child leaves the limit as that thread
    would have (the count fell below 0 and the child's BLAS stayed limited for good)."""
    import json
    import os

    from seqforecast import threads as policy

    calls = []

    class Limiter:
        def restore_original_limits(self):
            calls.append("restore")

    class Controller:
        def limit(self, limits, user_api):
            calls.append("limit")
            return Limiter()

    monkeypatch.setattr(policy, "_controller", Controller())
    read, write = os.pipe()
    with policy.kernel_threads():
        pid = os.fork()
    if pid == 0:  # the child: report, then leave at once
        with policy.kernel_threads():
            pass
        os.write(write, json.dumps([calls, policy._holders]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_calls, child_holders = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert child_calls == ["limit", "restore", "limit", "restore"] and child_holders == 0
    assert calls == ["limit", "restore"] and policy._holders == 0


def test_a_worker_given_one_numba_thread_after_importing_numba_splits_no_batch(monkeypatch):
    """A Dask worker's env=worker_environment(1) is set after the worker has imported the
    script, and Numba with it: the row threads follow the variable as it is now."""
    import numba

    from seqforecast import config
    from seqforecast.threads import row_blocks

    monkeypatch.setattr(config, "KERNEL_ROW_THREADS", None)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    assert row_blocks(1024, 4 * 128 * 128) == [(0, 1024)]
    monkeypatch.delenv("NUMBA_NUM_THREADS")
    assert row_blocks(1024, 4 * 128 * 128) == [(0, 512), (512, 1024)]
