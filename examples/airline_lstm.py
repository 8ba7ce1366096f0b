"""One-month-ahead forecast of the airline passengers series with an LSTMRegressor.

The LSTM reads the last 24 monthly changes of the log series and predicts the
next change, so the trend the test years go beyond does not have to be
extrapolated from levels.  A scaler in a pipeline standardises the windows and
``TransformedTargetRegressor`` the target; early stopping watches the most
recent part of the training years.  It trains on 1949-1958 and is scored
on 1959-1960 against two baselines: the last value and the value twelve months
earlier (seasonal naive).  Runs in a few seconds on 2 cores.

    python examples/airline_lstm.py
"""
import argparse
import time

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from seqforecast import LSTMRegressor
from seqforecast.datasets import load_airline_passengers

WINDOW, TEST_MONTHS = 24, 24


def main():
    df = load_airline_passengers()
    passengers = df["passengers"].to_numpy(np.float64)
    changes = np.diff(np.log(passengers))  # changes[i]: from month i to month i + 1
    X = np.lib.stride_tricks.sliding_window_view(changes[:-1], WINDOW)
    y = changes[WINDOW:]  # y[k]: the change into month k + WINDOW + 1, after window X[k]
    X_train, y_train, X_test = X[:-TEST_MONTHS], y[:-TEST_MONTHS], X[-TEST_MONTHS:]

    # Early stopping holds out the most recent 20% of the training windows (1956-1958).
    lstm = LSTMRegressor(hidden_sizes=32, learning_rate_init=3e-3, batch_size=16, max_iter=300,
                         early_stopping=True, validation_fraction=0.2, n_iter_no_change=20,
                         random_state=0)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), lstm),
                                       transformer=StandardScaler())
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    fitted = model.regressor_[-1]
    print(f"trained {fitted.n_iter_} epochs in {seconds:.1f} s; training loss "
          f"{fitted.loss_curve_[0]:.3f} -> {fitted.loss_curve_[-1]:.3f}, best validation R2 "
          f"{fitted.best_validation_score_:.3f}, gradient norm "
          f"{fitted.grad_norm_mean_[0]:.3f} -> {fitted.grad_norm_mean_[-1]:.3f}")

    actual = passengers[-TEST_MONTHS:]
    last_value = passengers[-TEST_MONTHS - 1:-1]
    forecast = last_value * np.exp(model.predict(X_test))
    seasonal = passengers[-TEST_MONTHS - 12:-12]
    rmse = lambda p: float(np.sqrt(np.mean((p - actual) ** 2)))  # noqa: E731
    test_index = df.index[-TEST_MONTHS:]
    print(f"\none-month-ahead RMSE on {test_index[0]:%Y-%m}..{test_index[-1]:%Y-%m} "
          f"(thousands of passengers):")
    for name, pred in (("LSTM(32)", forecast), ("last value", last_value),
                       ("seasonal naive", seasonal)):
        print(f"  {name:15s} {rmse(pred):7.2f}")
    table = pd.DataFrame({"actual": actual, "lstm": forecast.round(1)}, index=test_index)
    print("\nlast six months:\n", table.tail(6).to_string())


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help
    main()
