"""Five-business-day forecast of Microsoft's closing price: LSTM and GRU against baselines.

Task
----
Forecast the MSFT close 1 to 5 business days ahead from the last 20 daily log
returns (``target_transform='log_return'``: the networks see and predict log
returns, the forecasts are turned back into prices exactly).  Five forecasters
are compared on a rolling-origin backtest (4 folds of 63 business days, about
a quarter each, refitted on all rows before each fold):

* ``LSTMRegressor`` and ``GRURegressor`` in a :class:`~seqforecast.SequenceForecaster`,
* ``Ridge`` on the same 20 lagged log returns,
* drift: the last close grown by the mean log return of the training
  windows (``DummyRegressor(strategy="mean")`` in a ``SequenceForecaster``),
* the last observed close (:class:`~seqforecast.NaiveForecaster`).

The printed table holds MAE, RMSE, MAPE (sklearn's, a fraction: 0.01 is
1 %) and MASE (scaled by the in-sample MAE of the last value one day ahead,
so a forecast up to 5 days ahead can score above 1) averaged over
the folds, plus the seconds each backtest took, and the MAE per horizon step.
Daily stock prices are close to a random walk, so the last value is the
benchmark to beat, and it is hard to beat by much.  In these years MSFT rose
steadily, so a model can gain on the last value just by learning the average
upward drift: the drift row shows how much of a model's edge that alone
explains, and the ratio printed under the table compares the LSTM with it.
Read the table as a check of how much (or how little) the past returns tell
about the next week, not as a trading signal.  Finally the recurrent model
with the lower backtest MAE is refitted on every row and forecasts the five
business days after the data, with 90 % split-conformal intervals from its
backtest errors.

Data
----
:func:`seqforecast.datasets.load_msft`: daily adjusted prices, 1986-2017
(pmdarima's copy of the Kaggle "Huge Stock Market Dataset").  Only the last
four years are used, to keep the run short.  The file has one row per trading
day; weekdays without trading (exchange holidays) have no row, so the index
has no frequency.  The script puts the series on a business-day grid
(``asfreq("B")``) and carries the last close forward into those holidays.

Run
---
    python examples/stock_msft.py
    python examples/stock_msft.py --plot msft_forecast.png   # needs matplotlib

About 8 s on 2 cores with a warm Numba cache (the very first
seqforecast run in a fresh checkout also compiles the kernels, about 15 s).
"""
import argparse
import time

import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge

from seqforecast import (GRURegressor, LSTMRegressor, NaiveForecaster, SequenceForecaster,
                         compare)
from seqforecast.datasets import load_msft

from paths import png_path

WINDOW, HORIZON = 20, 5       # four weeks of returns in, one week of prices out
N_FOLDS, TEST_SIZE = 4, 63    # four quarters of business days
YEARS = 4


def load_close():
    """The last ``YEARS`` years of closes on a regular business-day grid."""
    msft = load_msft()
    recent = msft.loc[msft.index[-1] - pd.DateOffset(years=YEARS):, ["close"]]
    # The file has no row for weekdays without trading (exchange holidays), so the
    # index has no frequency and the forecaster would refuse it.  asfreq("B") adds a
    # row for each such weekday (NaN), and ffill() gives it the previous trading day's
    # close: the price did not move on a holiday, i.e. a log return of exactly 0.
    regular = recent.asfreq("B")
    added = regular.index.difference(recent.index)
    regular = regular.ffill()
    return regular, added


def rnn(cls):
    """A small recurrent regressor that stops early on the most recent 20 % of its windows."""
    return cls(hidden_sizes=16, learning_rate_init=1e-3, batch_size=32, max_iter=200,
               early_stopping=True, validation_fraction=0.2, n_iter_no_change=10,
               clip_global_norm=1.0, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plot", metavar="PATH", type=png_path,
                        help="save a PNG of the forecast (needs matplotlib)")
    args = parser.parse_args()

    start = time.perf_counter()
    close, added = load_close()
    print(f"MSFT close, {close.index[0]:%Y-%m-%d} to {close.index[-1]:%Y-%m-%d}: "
          f"{len(close)} business days ({close.index.freqstr}), of which {len(added)} "
          f"weekdays without trading were filled with the previous close")

    common = dict(window=WINDOW, horizon=HORIZON, target_transform="log_return")
    forecasters = {
        "LSTM(16)": SequenceForecaster(rnn(LSTMRegressor), **common),
        "GRU(16)": SequenceForecaster(rnn(GRURegressor), **common),
        "Ridge on lags": SequenceForecaster(Ridge(alpha=1.0), **common),
        # The mean 1..5-day log return of the training windows, whatever the window
        # holds: the last close grown by the average drift (a random walk with drift).
        "drift": SequenceForecaster(DummyRegressor(strategy="mean"), **common),
        "last value": NaiveForecaster(horizon=HORIZON),
    }
    table, results = compare(forecasters, close, n_folds=N_FOLDS, test_size=TEST_SIZE)
    first = close.index[-N_FOLDS * TEST_SIZE]
    print(f"\nbacktest: {N_FOLDS} folds of {TEST_SIZE} business days from {first:%Y-%m-%d}, "
          f"every origin forecasting 1..{HORIZON} days ahead; mean over folds (USD for "
          f"MAE/RMSE):")
    print(table.to_string(formatters={"MAE": "{:.4f}".format, "RMSE": "{:.4f}".format,
                                      "MAPE": "{:.5f}".format, "MASE": "{:.4f}".format,
                                      "seconds": "{:.1f}".format}))
    mae = table["MAE"]
    print(f"lowest MAE: {mae.idxmin()}; LSTM MAE / last-value MAE = "
          f"{mae['LSTM(16)'] / mae['last value']:.3f}, LSTM MAE / drift MAE = "
          f"{mae['LSTM(16)'] / mae['drift']:.3f}")
    print("\nMAE by horizon step (all folds):")
    print(pd.DataFrame({name: result.by_step["MAE"] for name, result in results.items()})
          .to_string(float_format=lambda v: f"{v:.4f}"))

    # The better recurrent model, refitted on every row, forecasts the week after the data;
    # its backtest errors give the half-widths of the 90 % split-conformal intervals.
    best = min(("LSTM(16)", "GRU(16)"), key=lambda name: table.loc[name, "MAE"])
    forecast = forecasters[best].fit(close).predict()
    lower, upper = results[best].prediction_intervals(forecast, coverage=0.9)
    print(f"\n{best} forecast after {close.index[-1]:%Y-%m-%d} (last close "
          f"{close['close'].iloc[-1]:.2f} USD), with a 90 % conformal interval:")
    print(pd.DataFrame({"forecast": forecast["close"], "lower": lower["close"],
                        "upper": upper["close"]}).to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"\ntotal {time.perf_counter() - start:.1f} s")

    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from seqforecast.plotting import plot_forecast

        fig, ax = plt.subplots(figsize=(9, 4))
        plot_forecast(close, forecast, lower=lower, upper=upper, n_history=60, coverage=0.9,
                      ax=ax)
        ax.set_title(f"MSFT close: {best} forecast {HORIZON} business days ahead")
        ax.set_ylabel("close (USD)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")


if __name__ == "__main__":
    main()
