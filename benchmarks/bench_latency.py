"""Forecast latency in production: ``predict(data=...)`` of a fitted forecaster, against PyTorch.

The case of issue 15: an LSTM of 32 units with the linear autoregressive
path, window 168, horizon 24, fitted on 2,000 half-hours of the bundled sea
temperature (``SequenceForecaster(LSTMRegressor(32, ar_window=168), window=168,
horizon=24, target_transform=None)``, one epoch: the weights do not change the
time).  A new reading arrives and a forecast of the next 24 steps is asked
for from a pandas frame of the last 168 rows:

* end to end: ``forecaster.predict(data=frame)``, a DataFrame indexed by the
  next 24 timestamps; and its parts: the checks of ``frame`` (columns,
  frequency, missing values), the window and its scaling, the estimator's
  ``predict`` (its input checks and the network) and the network alone
  (``Network.outputs`` on the prepared float32 window, "the kernel");
* the same model in PyTorch 2.13 (``nn.LSTM(1, 32)``, ``nn.Linear(32, 24)``
  on the last state plus ``nn.Linear(168, 24)`` on the window), end to end
  from the same frame: standardise, ``torch.no_grad()`` forward, scale back,
  a DataFrame on the same timestamps; one thread (faster than two for one
  window here);
* streaming: 10,000 calls of ``update(one_row)`` then ``predict()``, with the
  process's resident memory after 1,000 and after 10,000 of them.

Medians of 2,000 calls per process (after 100 warm-up calls); each side runs
in fresh processes, alternating A B B A, and the table shows the medians of
those.  PyTorch is a benchmark dependency only::

    pip install -e ".[benchmark]"
    python benchmarks/bench_latency.py [--rounds 1] [--calls 2000]
"""
import argparse
import os
import time
import warnings

import numpy as np
from alternating import child, medians
from options import cpu_text, positive_int

WINDOW, HORIZON, HIDDEN = 168, 24, 32


def _data():
    from seqforecast.datasets import load_sea_temperature

    return load_sea_temperature()


def _median_ms(fn, calls):
    for _ in range(100):
        fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return 1e3 * float(np.median(times))


def _resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def ours(calls):
    from sklearn.exceptions import ConvergenceWarning

    from seqforecast import LSTMRegressor, SequenceForecaster

    data = _data()
    fit_rows = len(data) - 10_000  # then 10,000 rows to stream
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster = SequenceForecaster(
            LSTMRegressor(HIDDEN, ar_window=WINDOW, max_iter=1, random_state=0),
            window=WINDOW, horizon=HORIZON, target_transform=None)
        forecaster.fit(data.iloc[fit_rows - 2000:fit_rows])
    frame = data.iloc[fit_rows - WINDOW:fit_rows]
    values = forecaster._extend(frame, HORIZON, None, "data")[1]
    windows = forecaster.windower_.windows(values, np.array([WINDOW - 1]))
    (scaled,) = forecaster._scaled(windows)
    regressor, network = forecaster.regressor_, forecaster.regressor_._network
    x = np.ascontiguousarray(scaled.transpose(1, 0, 2), dtype=np.float32)

    def window_and_scaling():
        values = forecaster._extend(frame, HORIZON, None, "data")[1]
        forecaster._scaled(forecaster.windower_.windows(values, np.array([WINDOW - 1])))

    result = {"end to end": _median_ms(lambda: forecaster.predict(data=frame), calls),
              "checks": _median_ms(lambda: forecaster._check_new_data(frame), calls),
              "window and scaling": _median_ms(window_and_scaling, calls),
              "estimator predict": _median_ms(lambda: regressor.predict(scaled), calls),
              "kernel": _median_ms(lambda: network.outputs(x), calls)}
    # Streaming: each new reading appended, then a forecast from it.
    stream = data.iloc[fit_rows:]
    start = time.perf_counter()
    for i in range(len(stream)):
        forecaster.update(stream.iloc[i:i + 1])  # a new frame each time, as readings come
        forecaster.predict()
        if i + 1 == 1000:
            result["rss after 1000"] = _resident_mib()
    result["stream ms per row"] = 1e3 * (time.perf_counter() - start) / len(stream)
    result["rss after all"] = _resident_mib()
    result["stream rows"] = len(stream)
    result["history rows"] = len(forecaster.history_[None])
    return result


def theirs(calls):
    import pandas as pd
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = _data()
    column = data.columns[0]
    mean, std = float(data[column].mean()), float(data[column].std())
    lstm = torch.nn.LSTM(1, HIDDEN)
    head, ar = torch.nn.Linear(HIDDEN, HORIZON), torch.nn.Linear(WINDOW, HORIZON, bias=False)
    frame = data.iloc[-WINDOW:]
    freq = data.index.freq or pd.infer_freq(data.index)

    def forecast(frame):
        x = (frame[column].to_numpy(dtype=np.float32) - mean) / std
        with torch.no_grad():
            window = torch.from_numpy(x)
            h = lstm(window.reshape(WINDOW, 1, 1))[0][-1, 0]
            out = (head(h) + ar(window)).numpy() * std + mean
        index = pd.date_range(frame.index[-1], periods=HORIZON + 1, freq=freq)[1:]
        return pd.DataFrame({column: out}, index=index)

    return {"end to end": _median_ms(lambda: forecast(frame), calls)}


def main():
    if child(ours, theirs):
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive_int, default=1,
                        help="A B B A rounds (each a fresh process per side)")
    parser.add_argument("--calls", type=positive_int, default=2000,
                        help="timed calls per measurement")
    args = parser.parse_args()

    import numba
    import torch

    import seqforecast
    med = medians(__file__, args.rounds, args.calls)
    a, b = med["ours"], med["theirs"]
    print(f"LSTM({HIDDEN}) + linear path, window {WINDOW}, horizon {HORIZON}, one window from a "
          f"pandas frame; seqforecast {seqforecast.__version__} (numba {numba.__version__}), "
          f"torch {torch.__version__} (1 thread); {os.cpu_count()} cores "
          f"({cpu_text()}); medians of {args.calls} calls, "
          f"{2 * args.rounds} fresh processes per side, A B B A")
    print(f"{'':34} {'ms':>8}")
    print(f"{'seqforecast predict(data=frame)':34} {a['end to end']:8.3f}")
    print(f"{'  checks of the frame':34} {a['checks']:8.3f}")
    print(f"{'  window and scaling':34} {a['window and scaling']:8.3f}")
    print(f"{'  estimator predict':34} {a['estimator predict']:8.3f}")
    print(f"{'    of which the kernel':34} {a['kernel']:8.3f}")
    rest = a["end to end"] - a["checks"] - a["window and scaling"] - a["estimator predict"]
    print(f"{'  the rest (timestamps, DataFrame)':34} {rest:8.3f}")
    print(f"{'PyTorch, the same model and frame':34} {b['end to end']:8.3f}   "
          f"PyTorch / seqforecast {b['end to end'] / a['end to end']:.2f}x")
    print(f"streaming: {a['stream rows']:.0f} x (update(one row) + predict()): "
          f"{a['stream ms per row']:.3f} ms per row; resident memory {a['rss after 1000']:.1f} "
          f"MiB after 1,000, {a['rss after all']:.1f} MiB after all; history kept: "
          f"{a['history rows']:.0f} rows")


if __name__ == "__main__":
    main()
