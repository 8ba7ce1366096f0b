"""A week-ahead multi-target forecast from a multichannel weather record (Seattle, daily).

Task
----
Forecast the daily maximum and minimum temperature together (two targets,
one model) for the next 7 days, from the last 28 days of four channels:

* targets ``temp_max_c`` and ``temp_min_c`` (also inputs),
* past covariates ``precipitation_mm`` and ``wind_m_s``: measured, so known
  only up to the forecast origin,
* future covariates: the day of the year as a sine and cosine pair, built
  from the timestamps and therefore known for the forecast days too.

``LSTMRegressor`` and ``GRURegressor`` in a :class:`~seqforecast.SequenceForecaster`
(direct strategy: 7 days x 2 targets = 14 outputs) are compared with
``Ridge`` on the same lags and covariates, and with two forecasts of
:class:`~seqforecast.NaiveForecaster`: the last observed day, and the same
day one year (365 days) earlier.

The printed table holds MAE and RMSE (degrees Celsius, over both targets),
MAPE and MASE (scaled per target by the in-sample MAE of the last observed
day, so a 7-day forecast can score above 1), averaged over a rolling-origin
backtest of four folds of 91 days (2015, a season each), each refitted on
all days before it, plus the seconds each backtest took and the MAE per
target and horizon step.  MAPE is undefined where an actual value is 0:
``temp_min_c`` is exactly 0 degC on some test days, so ``backtest``
reports NaN for those folds and the printed MAPE averages the other folds
only; the script counts those days.  With series this noisy and a few
thousand training windows, the networks' scores move with ``random_state``
by about as much as the gaps between them and Ridge: read close rows as
ties.  Finally the recurrent model with the lower backtest MAE is refitted
on all days and forecasts the week after the data, with 90 % split-conformal
intervals from its backtest errors.

Data
----
:func:`seqforecast.datasets.load_seattle_weather`: daily weather in Seattle,
2012-2015 (NOAA, via vega-datasets), 1461 days without gaps.  Its
``weather`` column is a text label (``rain``, ``sun``, ...) that the
forecaster cannot take as input; the script drops it.

Run
---
    python examples/multichannel_sensor.py
    python examples/multichannel_sensor.py --plot weather_forecast.png   # needs matplotlib

About 15 s on 2 cores with a warm Numba cache (the very first seqforecast run
in a fresh checkout also compiles the kernels, about 15 s).
"""
import argparse
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from seqforecast import (GRURegressor, LSTMRegressor, NaiveForecaster, SequenceForecaster,
                         compare)
from seqforecast.datasets import load_seattle_weather

from paths import png_path

WINDOW, HORIZON = 28, 7       # four weeks in, one week out
N_FOLDS, TEST_SIZE = 4, 91    # the last 364 days (2015), a season each
YEAR = 365
TARGETS = ["temp_max_c", "temp_min_c"]
PAST = ["precipitation_mm", "wind_m_s"]
FUTURE = ["doy_sin", "doy_cos"]


def day_of_year(index):
    """The season as a point on the unit circle, known for any date (a future covariate)."""
    angle = 2 * np.pi * index.day_of_year / 365.25
    return pd.DataFrame({"doy_sin": np.sin(angle), "doy_cos": np.cos(angle)}, index=index)


def rnn(cls):
    """A recurrent regressor that stops early on the most recent 20 % of its windows."""
    return cls(hidden_sizes=32, learning_rate_init=3e-3, batch_size=32, max_iter=150,
               early_stopping=True, validation_fraction=0.2, n_iter_no_change=10,
               clip_global_norm=1.0, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plot", metavar="PATH", type=png_path,
                        help="save a PNG of the week-ahead forecast (needs matplotlib)")
    args = parser.parse_args()

    start = time.perf_counter()
    weather = load_seattle_weather()
    # "weather" is a categorical text label (rain, sun, ...): the forecaster refuses
    # non-numeric columns, and every column it gets must have a role, so drop it here.
    data = weather.drop(columns="weather").join(day_of_year(weather.index))
    print(f"Seattle weather: {data.index[0]:%Y-%m-%d} to {data.index[-1]:%Y-%m-%d}, "
          f"{len(data)} days ({data.index.freqstr}); targets {TARGETS}, past covariates {PAST}, "
          f"future covariates {FUTURE}")

    roles = dict(targets=TARGETS, past_covariates=PAST, future_covariates=FUTURE)
    sequence = dict(window=WINDOW, horizon=HORIZON, **roles)
    forecasters = {
        "LSTM(32)": SequenceForecaster(rnn(LSTMRegressor), **sequence),
        "GRU(32)": SequenceForecaster(rnn(GRURegressor), **sequence),
        "Ridge on lags": SequenceForecaster(Ridge(alpha=1.0), **sequence),
        # The naive forecasts read only the targets: the covariates are not used.
        "naive, last day": NaiveForecaster(horizon=HORIZON, targets=TARGETS),
        "naive, a year ago": NaiveForecaster(season=YEAR, horizon=HORIZON, targets=TARGETS),
    }
    table, results = compare(forecasters, data, n_folds=N_FOLDS, test_size=TEST_SIZE)
    test = data.iloc[-N_FOLDS * TEST_SIZE:]
    print(f"\nbacktest: {N_FOLDS} folds of {TEST_SIZE} days from {test.index[0]:%Y-%m-%d}, "
          f"every day forecasting the next {HORIZON} for both targets; mean over folds "
          f"(degC for MAE/RMSE):")
    print(table.to_string(formatters={"MAE": "{:.3f}".format, "RMSE": "{:.3f}".format,
                                      "MAPE": "{:.3g}".format, "MASE": "{:.3f}".format,
                                      "seconds": "{:.1f}".format}))
    zeros = int((test[TARGETS] == 0).sum().sum())
    undefined = int(sum(result.by_fold["MAPE"].isna().sum() for result in results.values()))
    print(f"lowest MAE: {table['MAE'].idxmin()}.  MAPE averages the folds without a 0 degC "
          f"value: {zeros} test values of the targets are exactly 0 degC, and MAPE is "
          f"undefined in {undefined} of the {N_FOLDS * len(results)} model-folds")

    for target in TARGETS:
        print(f"\nMAE of {target} by horizon step (days ahead, all folds):")
        mae = {}
        for name, result in results.items():
            rows_of_target = result.predictions[result.predictions["target"] == target]
            mae[name] = rows_of_target["error"].abs().groupby(rows_of_target["step"]).mean()
        print(pd.DataFrame(mae).to_string(float_format=lambda v: f"{v:.2f}"))

    # The better recurrent model, refitted on every day, forecasts the week after the data;
    # its future covariates are the day-of-year features of the forecast dates.
    best = min(("LSTM(32)", "GRU(32)"), key=lambda name: table.loc[name, "MAE"])
    model = forecasters[best].fit(data)
    future_index = pd.date_range(data.index[-1], periods=HORIZON + 1, freq=data.index.freq)[1:]
    forecast = model.predict(future_covariates=day_of_year(future_index))
    lower, upper = results[best].prediction_intervals(forecast, coverage=0.9)
    print(f"\n{best} forecast after {data.index[-1]:%Y-%m-%d}, with a 90 % conformal "
          f"interval (degC):")
    print(pd.concat({"forecast": forecast, "lower": lower, "upper": upper}, axis=1)
          .swaplevel(axis=1)[TARGETS].to_string(float_format=lambda v: f"{v:.1f}"))
    print(f"\ntotal {time.perf_counter() - start:.1f} s")

    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from seqforecast.plotting import plot_forecast

        fig, ax = plt.subplots(figsize=(10, 4))
        plot_forecast(data[TARGETS], forecast, lower=lower, upper=upper, n_history=8 * HORIZON,
                      coverage=0.9, ax=ax)
        ax.set_title(f"Seattle daily temperatures: {best} forecast {HORIZON} days ahead")
        ax.set_ylabel("temperature (degC)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")


if __name__ == "__main__":
    main()
