"""One-month-ahead forecast of the airline passengers series with an LSTM.

The LSTM reads the last 24 monthly changes of the log series (standardised
on the training part) and predicts the next change, so the trend the test
years go beyond does not have to be extrapolated from levels.  It trains on 1949-1958 and is scored on
1959-1960 against two baselines: the last value and the value twelve months
earlier (seasonal naive).  Runs in a few seconds on 2 cores.

    python examples/airline_lstm.py
"""
import pathlib
import time

import numpy as np
import pandas as pd

from seqforecast.network import Network
from seqforecast.recurrent import Cell
from seqforecast.training.optimizers import Adam

DATA = pathlib.Path(__file__).resolve().parents[1] / "datasets" / "airline_passengers_monthly_1949_1960.csv"
WINDOW, TEST_MONTHS, EPOCHS, BATCH = 24, 24, 300, 16


def windows(series, window):
    """Sliding windows (n, window) and the value after each, (n,)."""
    x = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    return x, series[window:]


def main():
    df = pd.read_csv(DATA, parse_dates=["month"], index_col="month")
    passengers = df["passengers"].to_numpy(np.float64)
    changes = np.diff(np.log(passengers))  # changes[i]: from month i to month i + 1
    split = len(passengers) - TEST_MONTHS
    mean, std = changes[:split - 1].mean(), changes[:split - 1].std()
    scaled = ((changes - mean) / std).astype(np.float32)

    x, y = windows(scaled, WINDOW)  # y[k] = changes[k + WINDOW], into month k + WINDOW + 1
    n_train = split - 1 - WINDOW
    x_train = np.ascontiguousarray(x[:n_train].T[:, :, None])  # time-major (T, B, 1)
    y_train = y[:n_train, None]
    x_test = np.ascontiguousarray(x[n_train:].T[:, :, None])

    rng = np.random.RandomState(0)
    net = Network(Cell("lstm"), 1, (32,), 1, rng)
    opt = Adam(net.params, learning_rate=3e-3)
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        order = rng.permutation(n_train)
        losses = []
        for i in range(0, n_train, BATCH):
            idx = order[i:i + BATCH]
            loss, _ = net.loss_gradient(np.ascontiguousarray(x_train[:, idx]), y_train[idx])
            opt.update(net.grad)
            losses.append(loss)
        if epoch % 50 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:3d}  training loss {np.mean(losses):.4f}")
    seconds = time.perf_counter() - start

    actual = passengers[split:]
    last_value = passengers[split - 1:-1]
    lstm = last_value * np.exp(net.predict(x_test)[:, 0] * std + mean)
    seasonal = passengers[split - 12:-12]
    rmse = lambda p: float(np.sqrt(np.mean((p - actual) ** 2)))  # noqa: E731
    print(f"\ntrained in {seconds:.1f} s; one-month-ahead RMSE on "
          f"{df.index[split]:%Y-%m}..{df.index[-1]:%Y-%m} (thousands of passengers):")
    for name, pred in (("LSTM(32)", lstm), ("last value", last_value), ("seasonal naive", seasonal)):
        print(f"  {name:15s} {rmse(pred):7.2f}")
    forecast = pd.DataFrame({"actual": actual, "lstm": lstm.round(1)}, index=df.index[split:])
    print("\nlast six months:\n", forecast.tail(6).to_string())


if __name__ == "__main__":
    main()
