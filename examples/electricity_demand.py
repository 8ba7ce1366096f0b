"""Day-ahead forecast of half-hourly electricity demand with calendar covariates.

Task
----
Forecast the next 48 half-hours (one day) of England and Wales electricity
demand from the last 48 half-hours, with inputs known in advance for every
forecast time (future covariates, built from the timestamps):

* hour of day as a sine and cosine pair (a smooth daily cycle),
* day of week as a sine and cosine pair, and a weekend flag,
* the demand one week before the forecast time: known 336 half-hours ahead,
  so it is known for every step of a day-ahead forecast.

``LSTMRegressor`` and ``GRURegressor`` in a :class:`~seqforecast.SequenceForecaster`
(direct strategy: one output per half-hour) are compared with ``Ridge`` on
the same lags and covariates, and with two seasonal naive forecasts from
:class:`~seqforecast.NaiveForecaster`: the same half-hour yesterday
(``season=48``) and last week (``season=336``).  The networks train on every
second window (``stride=2``) and stop early on the most recent 10 % of them,
to keep the run short.  Ridge is the baseline to watch: each forecast
half-hour's demand is close to a linear function of its own covariates (last
week's demand at that time, the calendar), which Ridge weighs directly,
whereas a network has to carry all 48 forecast times through its last
hidden state.

The printed table holds MAE, RMSE (MW), MAPE (sklearn's, a fraction: 0.01 is
1 %) and MASE (scaled by the in-sample MAE of yesterday's value, the
``season=48`` naive forecast) averaged over a rolling-origin backtest of
three one-week folds, each refitted on all weeks before it; every half-hour
of a test week is a forecast origin.  It also gives the seconds each
backtest took and the MAE per horizon step.  Finally the recurrent model with
the lower backtest MAE is refitted on all weeks and forecasts the day after
the data, with 90 % split-conformal intervals from its backtest errors.  That
day, Monday 28 August 2000, was the summer bank holiday in England and Wales,
which the calendar covariates do not know about: the forecast treats it as
an ordinary Monday.

Data
----
:func:`seqforecast.datasets.load_electricity_demand`: twelve full weeks of
half-hourly demand, 5 June to 27 August 2000 (Taylor 2003, as shipped by
pmdarima), on a regular 30-minute grid without gaps.  The first week has no
"week before" and is only used as that covariate for the second week.

Run
---
    python examples/electricity_demand.py
    python examples/electricity_demand.py --plot demand_forecast.png   # needs matplotlib

About 20 s on 2 cores with a warm Numba cache (the very first seqforecast
run in a fresh checkout also compiles the kernels, about 15 s).
"""
import argparse
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from seqforecast import (GRURegressor, LSTMRegressor, NaiveForecaster, SequenceForecaster,
                         compare)
from seqforecast.datasets import load_electricity_demand

from paths import png_path

DAY, WEEK = 48, 336           # half-hours
WINDOW, HORIZON = DAY, DAY    # yesterday in, tomorrow out
N_FOLDS, TEST_SIZE = 3, WEEK  # the last three weeks, one fold each
TARGET = "demand_mw"


def covariates(index, demand):
    """Future covariates at the timestamps ``index``: calendar features and last week's demand."""
    hour = index.hour + index.minute / 60
    day = index.day_of_week  # Monday = 0
    return pd.DataFrame({
        "hour_sin": np.sin(2 * np.pi * hour / 24),
        "hour_cos": np.cos(2 * np.pi * hour / 24),
        "day_sin": np.sin(2 * np.pi * day / 7),
        "day_cos": np.cos(2 * np.pi * day / 7),
        "weekend": (day >= 5).astype(np.float64),
        # NaN where the week before is not in the data (the first week).
        "demand_week_ago": demand.reindex(index - pd.Timedelta(weeks=1)).to_numpy(),
    }, index=index)


def rnn(cls):
    """A recurrent regressor that stops early on the most recent 10 % of its windows."""
    return cls(hidden_sizes=32, learning_rate_init=3e-3, batch_size=32, max_iter=150,
               early_stopping=True, validation_fraction=0.1, n_iter_no_change=10,
               clip_global_norm=1.0, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plot", metavar="PATH", type=png_path,
                        help="save a PNG of the day-ahead forecast (needs matplotlib)")
    args = parser.parse_args()

    start = time.perf_counter()
    demand = load_electricity_demand()[TARGET]
    data = demand.to_frame().join(covariates(demand.index, demand)).iloc[WEEK:]
    future_columns = [c for c in data.columns if c != TARGET]
    print(f"{TARGET}: {data.index[0]} to {data.index[-1]}, {len(data)} half-hours "
          f"({data.index.freqstr}); future covariates {future_columns}")

    sequence = dict(window=WINDOW, horizon=HORIZON, targets=[TARGET],
                    future_covariates=future_columns)
    forecasters = {
        "LSTM(32)": SequenceForecaster(rnn(LSTMRegressor), stride=2, **sequence),
        "GRU(32)": SequenceForecaster(rnn(GRURegressor), stride=2, **sequence),
        "Ridge on lags": SequenceForecaster(Ridge(alpha=1.0), **sequence),
        # The naive forecasts read only the target: the covariates are not used.
        "naive, yesterday": NaiveForecaster(season=DAY, horizon=HORIZON, targets=[TARGET]),
        "naive, last week": NaiveForecaster(season=WEEK, horizon=HORIZON, targets=[TARGET]),
    }
    # season=DAY: MASE divides by the in-sample MAE of yesterday's value.
    table, results = compare(forecasters, data, n_folds=N_FOLDS, test_size=TEST_SIZE,
                             season=DAY)
    print(f"\nbacktest: {N_FOLDS} one-week folds from {data.index[-N_FOLDS * TEST_SIZE]}, "
          f"every half-hour forecasting the next {HORIZON}; mean over folds (MW for MAE/RMSE):")
    print(table.to_string(formatters={"MAE": "{:.1f}".format, "RMSE": "{:.1f}".format,
                                      "MAPE": "{:.4f}".format, "MASE": "{:.4f}".format,
                                      "seconds": "{:.1f}".format}))
    print(f"lowest MAE: {table['MAE'].idxmin()}")
    steps = [1, 6, 12, 24, 36, 48]
    print("\nMAE by horizon step (half-hours ahead, all folds):")
    print(pd.DataFrame({name: result.by_step["MAE"] for name, result in results.items()})
          .loc[steps].to_string(float_format=lambda v: f"{v:.1f}"))

    # The better recurrent model, refitted on all weeks, forecasts the day after the data.
    # Its future covariates come from the forecast timestamps and the last week of data.
    best = min(("LSTM(32)", "GRU(32)"), key=lambda name: table.loc[name, "MAE"])
    model = forecasters[best].fit(data)
    future_index = pd.date_range(data.index[-1], periods=HORIZON + 1, freq=data.index.freq)[1:]
    forecast = model.predict(future_covariates=covariates(future_index, demand))
    lower, upper = results[best].prediction_intervals(forecast, coverage=0.9)
    print(f"\n{best} forecast for {future_index[0]:%A %Y-%m-%d} (a bank holiday the calendar "
          f"covariates do not know), every 3 hours, with a 90 % conformal interval (MW):")
    print(pd.DataFrame({"forecast": forecast[TARGET], "lower": lower[TARGET],
                        "upper": upper[TARGET]}).iloc[::6].to_string(
                            float_format=lambda v: f"{v:.0f}"))
    print(f"\ntotal {time.perf_counter() - start:.1f} s")

    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from seqforecast.plotting import plot_forecast

        fig, ax = plt.subplots(figsize=(10, 4))
        plot_forecast(data[[TARGET]], forecast, lower=lower, upper=upper, n_history=3 * DAY,
                      coverage=0.9, ax=ax)
        ax.set_title(f"England and Wales demand: {best} day-ahead forecast")
        ax.set_ylabel("demand (MW)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")


if __name__ == "__main__":
    main()
