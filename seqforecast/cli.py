"""The ``seqforecast`` command: ``demo``, ``forecast FILE.csv`` and ``predict MODEL FILE.csv``.

``forecast`` reads the file itself and checks it before the library sees it,
so that what it refuses is said in terms of the command's options:

* the table: ``--sep``, ``--decimal``, ``--thousands``; a BOM, spaces around
  the column names and their Unicode normal form are ignored; a name given
  twice is refused;
* the time column: dates and times (``--time-format``, ``--dayfirst``; dates
  that read both day first and month first are refused; times with
  different UTC offsets are read in UTC; a column of times of day after a
  column of dates is read with it), Unix times and spreadsheet day numbers
  (``--time-format unix`` or ``excel``), integers from 1000 to 2200
  read as years, other integers with ``--period-freq`` (Y: years; a fixed
  step such as h or D: counts of that step, a TimedeltaIndex);
* the order (``--sort``) and duplicate times;
* the frequency: ``--freq``, else the one pandas infers from regular
  timestamps, else the one whose grid holds every timestamp with the fewest
  rows (B for weekdays with market holidays, h for hours with a
  daylight-saving hour missing);
* missing rows and values: ``--fill interpolate|ffill`` reindexes to the
  frequency and fills the added rows and the missing values (reported on
  standard error); ``--fill none`` (the default) refuses them and names them.
  ``--missing interpolate`` / ``--missing error`` are the old names of
  ``--fill interpolate`` / ``--fill none``;
* the length: one training window and the horizon after it.

The library then gets a regular series without missing values, its
frequency as ``freq`` and ``missing='error'``; a library error that still
comes through is rephrased by :func:`_cli_message`.

``forecast --save MODEL`` writes the forecaster that made the forecast (the
one ``--model auto`` picked, a baseline too) to a model file
(:mod:`seqforecast.persistence`); MODEL's folder is checked before training,
as ``--out``'s is.  ``predict MODEL FILE.csv`` forecasts the steps after the
last row of FILE.csv with it, without training: the same reader and reading
options (the model file holds the forecaster only, so the time column,
``--sep``, ``--fill`` ... are given again), the model's column as the
target, its frequency instead of ``--freq`` (a file at another frequency is
refused), the ``lookback_`` rows the model reads instead of a training
window; then ``model.predict(data=...)``, written as ``forecast`` writes it.

``forecast --quantiles 0.05,0.5,0.95`` trains the network with
``loss='quantile'`` on those levels (0.5 among them: the forecast column is
the median); the forecast CSV then has one more column per level,
``{target}_q{level}`` with the level to 12 significant digits, distinct as
the library's levels are (``sales_q0.05``, ``sales_q0.333333333333``), and so has the CSV that
``predict`` writes with a model saved from it (or any probabilistic
forecaster saved from Python, at its ``quantiles_``).  ``--transform
return`` multiplies the forecast by the value it starts from: where that
value is negative, the quantile of level q is the network's of level 1 - q,
so levels without 1 - q are refused there, by ``forecast`` before training
(the last row, and where a fold of the backtest starts) and by ``predict``
(the last row of the file).
"""
import argparse
import contextlib
import functools
import io
import os
import pathlib
import re
import sys
import time
import unicodedata
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from ._checks import round_level
from .calendar import CYCLES, unseen_cycles
from .datasets import load_airline_passengers
from .estimators import REGRESSORS as MODELS
from .evaluation import compare
from .forecasting import (_SCALING_TRANSFORMS, NaiveForecaster, SequenceForecaster,
                          _reflected)
from .persistence import ModelFileError, load
from .timeindex import _infer_freq, infer_season

# What ``forecast --model auto`` backtests, simplest first, and the baselines the guard
# compares a network with.
AUTO_CANDIDATES = ("naive", "ridge", "gru", "lstm")
# ``--model auto``: a MASE within this share of the lowest is a tie, won by the simpler model
# (a network that ends as its ridge start ties with Ridge to the fourth digit).
AUTO_TIE = 0.005
BASELINES = ("ridge", "naive")
# The guard's backtest: up to this many folds of ``horizon`` rows each.
GUARD_FOLDS = 3
# The --transform values that read --season (or the season of the frequency).
SEASONAL = ("seasonal_diff", "auto")

FORECAST_EXAMPLES = """\
examples:
  seqforecast forecast sales.csv --target sales --horizon 14
  seqforecast forecast load.csv --target load --horizon 24 --fill interpolate
      hourly local times with the daylight-saving hour missing
  seqforecast forecast stock.csv --target close --horizon 5 --fill ffill
      business days with market holidays: B, holidays filled with the previous close
  seqforecast forecast sunspots.csv --target spots --horizon 10
      integer years (1821, 1822, ...) as the time column
  seqforecast forecast meter.csv --target kwh --horizon 7 --sep ';' --decimal ',' --dayfirst
      31/01/2024;12,5
  seqforecast forecast sales.csv --target sales --horizon 14 --save sales-model.npz
      and later, from newer rows: seqforecast predict sales-model.npz sales-new.csv
  seqforecast forecast sales.csv --target sales --horizon 14 --quantiles 0.05,0.5,0.95
      the median and a 90% interval: columns sales, sales_q0.05, sales_q0.5, sales_q0.95
"""

PREDICT_EXAMPLES = """\
examples:
  seqforecast predict sales-model.npz sales-new.csv --out next.csv
  seqforecast predict meter-model.npz meter-new.csv --sep ';' --decimal ',' --dayfirst
      the reading options that the file needs, as for forecast
"""

# The demo: monthly airline passengers, 12 months ahead from 24 months of log returns,
# backtested on 3 folds of 24 months, the networks with their default recipe.
DEMO = dict(window=24, horizon=12, season=12, folds=3, test_size=24,
            target_transform="log_return")


def main(argv=None):
    """Entry point of the console script; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="seqforecast", description="Recurrent neural network forecasts of time series.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="backtest an LSTM and a GRU against baselines on the bundled airline "
                     "passengers series")
    demo.add_argument("--out-dir", default="seqforecast-demo",
                      help="folder for forecast.csv and forecast.png (default: %(default)s)")
    forecast = commands.add_parser(
        "forecast", help="forecast a column of a CSV file",
        description="Forecast a column of a CSV file with a recurrent network, after a backtest\n"
                    "against simple baselines.  The file needs a time column (dates and times,\n"
                    "or integer years) and the column to forecast; the timestamps must be\n"
                    "regular, or made regular with --fill.  Messages go to standard error, the\n"
                    "forecast CSV to standard output (or --out).",
        epilog=FORECAST_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    forecast.add_argument("file", help="CSV file with a time column and numeric columns")
    forecast.add_argument("--target", type=_column_name, required=True,
                          help="the column to forecast")
    forecast.add_argument("--horizon", type=_positive, required=True, help="steps to forecast")
    forecast.add_argument("--model", choices=[*sorted(MODELS), "auto"], default="lstm",
                          help="the network (default: %(default)s); 'auto': backtest lstm, gru, "
                               "Ridge on lags and the seasonal naive forecast and forecast with "
                               "the one of lowest MASE")
    forecast.add_argument("--out", help="output CSV, in a folder that exists (checked before "
                                        "training; default: print to standard output), with "
                                        "the input's --sep and --decimal")
    forecast.add_argument("--save", metavar="MODEL",
                          help="save the model that made the forecast to this file, e.g. "
                               "model.npz, in a folder that exists (checked before training): "
                               "seqforecast predict MODEL NEW.csv forecasts with it from newer "
                               "rows")
    forecast.add_argument("--window", type=_positive, default=24, help="input steps (%(default)s)")
    forecast.add_argument("--epochs", type=_positive,
                          help="train the network for this many epochs with a progress bar "
                               "(default: the default recipe, about 1000 optimizer steps with "
                               "early stopping on the most recent windows)")
    forecast.add_argument("--hidden", type=_positive,
                          help="hidden units of a plain network instead of the default recipe "
                               "(default 32): trained for --epochs, or without it for up to 50 "
                               "epochs, stopping when the training loss stops improving")
    forecast.add_argument("--quantiles", type=_levels, metavar="LEVELS",
                          help="train the network on these quantile levels (pinball loss) and "
                               "add a column per level to the forecast, TARGET_qLEVEL: levels "
                               "between 0 and 1 separated by commas, in any order (written in "
                               "increasing order), 0.5 among them (the forecast column is the "
                               "median), e.g. 0.05,0.5,0.95 for a 90%% interval; kept to "
                               "12 decimals; not with --model auto; with --transform return "
                               "and a negative series, 1 - q of each level q too")
    forecast.add_argument("--transform",
                          choices=["auto", "none", "diff", "return", "log_return",
                                   "seasonal_diff"],
                          default="auto", help="model changes instead of levels "
                                               "('seasonal_diff': from one season earlier); "
                                               "'auto' (default): none, diff or seasonal_diff, "
                                               "whichever Ridge on the same lags forecasts the "
                                               "most recent 20%% of the rows best")
    forecast.add_argument("--calendar", type=_calendar, default="auto", metavar="CYCLES",
                          help="calendar cycles the networks read, as sine and cosine of each "
                               "row's phase, computed from the times: 'auto' (default): those "
                               "longer than --window that the file spans twice, kept where "
                               "they lower Ridge's error on the most recent 20%% of the rows "
                               "by more than 2%%; "
                               "'none'; or cycles separated by commas among "
                               f"{', '.join(CYCLES)}, e.g. --calendar week,year")
    forecast.add_argument("--seed", type=_seed, default=0,
                          help="random seed of the networks, 0 to 4294967295 (%(default)s)")
    forecast.add_argument("--season", type=_positive,
                          help="season of the seasonal naive baseline and of MASE (default: "
                               "from the frequency: 24 hourly, 48 half-hourly, 7 daily, "
                               "5 business-daily, 52 weekly, 12 monthly, 4 quarterly, else 1)")
    forecast.add_argument("--no-backtest", action="store_true",
                          help="skip the backtest against the baselines (Ridge on lags, "
                               "seasonal naive) that runs before the forecast")
    _add_reading_options(forecast)
    predict = commands.add_parser(
        "predict", help="forecast from a CSV file with a model saved by forecast --save",
        description="Forecast the steps after the last row of a CSV file with a model that\n"
                    "seqforecast forecast --save MODEL fitted, without training: the model\n"
                    "reads the last rows of its column (the --target it was fitted on), at\n"
                    "its frequency.  The file is read as forecast reads it: give the same\n"
                    "reading options.  Messages go to standard error, the forecast CSV to\n"
                    "standard output (or --out).",
        epilog=PREDICT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    predict.add_argument("model_file", metavar="MODEL",
                         help="model file written by seqforecast forecast --save")
    predict.add_argument("file", metavar="FILE",
                         help="CSV file with a time column and the model's column")
    predict.add_argument("--horizon", type=_positive,
                         help="steps to forecast (default: the --horizon the model was fitted "
                              "with, also the most a network forecasts)")
    predict.add_argument("--out", help="output CSV, in a folder that exists (default: print to "
                                       "standard output), with the input's --sep and --decimal")
    _add_reading_options(predict, with_freq=False)
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer()
            if args.command == "demo":
                run_demo(pathlib.Path(args.out_dir))
            elif args.command == "forecast":
                run_forecast(args)
            else:
                run_predict(args)
    except (ValueError, TypeError, KeyError, OSError) as error:
        print(f"seqforecast: error: {_cli_message(error)}", file=sys.stderr)
        return 2
    return 0


def _add_reading_options(parser, with_freq=True):
    """The options that say how to read the CSV file: ``forecast``'s, and ``predict``'s
    without ``--freq`` (it reads the file at the model's frequency)."""
    reading = parser.add_argument_group("reading the file")
    reading.add_argument("--sep", default=",",
                         help="column separator (default '%(default)s'): ';' for files written "
                              "by a spreadsheet in many European locales, 'tab' for "
                              "tab-separated files")
    reading.add_argument("--decimal",
                         help="decimal mark of the numbers (default '.', or ',' with "
                              "--thousands '.'), ',' for "
                              "12,5 (also in a comma-separated file, \"12,5\" in quotes)")
    reading.add_argument("--thousands", metavar="MARK",
                         help="thousands separator of the numbers, e.g. '.' for 10.012,57 "
                              "(with --decimal ','), ',' for 10,012.57 (default: none)")
    reading.add_argument("--time-column", type=_column_name,
                         help="timestamp column (default: the first column, or the first with "
                              "a name when the first has none, as a row index written by "
                              "pandas)")
    reading.add_argument("--time-format", metavar="FORMAT",
                         help="strftime format of the time column, e.g. '%%d.%%m.%%Y %%H:%%M', "
                              "or '%%Y%%m' for integers such as 202401; 'unix' for seconds "
                              "since 1970-01-01 (read in UTC), 'excel' for spreadsheet day "
                              "numbers such as 45292.5 (default: inferred from the first row)")
    reading.add_argument("--dayfirst", action="store_true",
                         help="dates with the day first: 01/02/2024 is 1 February (without it "
                              "a file that starts 01/02/2024 is read month first)")
    reading.add_argument("--period-freq", metavar="FREQ",
                         help="the time column holds integers: 'Y' reads them as years, a fixed "
                              "step such as h, D or 30min as counts of that step (default: "
                              "integers from 1000 to 2200 are read as years, others refused)")
    reading.add_argument("--sort", action="store_true",
                         help="sort the rows by time (for files listed newest first)")
    regular = parser.add_argument_group("regular timestamps")
    if with_freq:
        regular.add_argument("--freq", metavar="FREQ",
                             help="frequency of the timestamps: h, 30min, D, B (business days), "
                                  "W, MS or ME (month start or end), QS, YS; M, Q and Y pick start "
                                  "or end from the first timestamp (default: inferred: pandas' "
                                  "frequency of regular timestamps, else the frequency whose grid "
                                  "holds every timestamp with the fewest rows, e.g. B for weekdays "
                                  "with holidays)")
    regular.add_argument("--fill", choices=["interpolate", "ffill", "none"],
                         help="reindex to the frequency and fill the rows this adds, and the "
                              "missing values, by linear interpolation in time or with the "
                              "previous value (ffill: market holidays); reports on standard "
                              "error how many rows were added.  Rows at the start without a "
                              "value (and with interpolate at the end) are dropped.  'none', "
                              "the default, refuses missing rows and values and names them")
    regular.add_argument("--missing", choices=["error", "interpolate"],
                         help="old name of --fill: 'interpolate' is --fill interpolate, 'error' "
                              "--fill none")


class CommandError(ValueError):
    """An error whose message is written for the command line: it names the option to add."""


def run_demo(out_dir):
    """Backtest LSTM and GRU against baselines, print the table, write the forecast."""
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"--out-dir {out_dir} is a file, not a folder: choose another "
                           f"--out-dir")
    try:  # before the backtest, not after it
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"--out-dir {out_dir}: cannot create the folder ({error.strerror}); "
                           f"choose another --out-dir") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise CommandError(f"--out-dir {out_dir}: cannot write in the folder (permission "
                           f"denied); choose another --out-dir")
    data = load_airline_passengers()
    window, horizon, season = DEMO["window"], DEMO["horizon"], DEMO["season"]
    print(f"airline passengers: {len(data)} rows {data.index[0]} .. {data.index[-1]}, column "
          f"{list(data.columns)}; forecasting {horizon} steps, {DEMO['folds']}-fold "
          f"rolling-origin backtest")

    def network(kind):
        return SequenceForecaster(kind, window=window, horizon=horizon, random_state=0,
                                  target_transform=DEMO["target_transform"])

    candidates = {
        "LSTM(32)": network("lstm"),
        "GRU(32)": network("gru"),
        "Ridge on lags": SequenceForecaster(Ridge(), window=window, horizon=horizon,
                                            target_transform=DEMO["target_transform"],
                                            calendar=None),
        "last value": NaiveForecaster(1, horizon),
        f"seasonal naive ({season})": NaiveForecaster(season, horizon),
    }
    with warnings.catch_warnings():  # the table reports how well each model did
        warnings.simplefilter("ignore", ConvergenceWarning)
        table, results = compare(candidates, data, n_folds=DEMO["folds"],
                                 test_size=DEMO["test_size"], season=season)
    print("\nmean over folds (MAPE as a fraction; MASE against the seasonal naive "
          "in-sample error):")
    print(table.to_string(float_format=_metric))

    best = min(("LSTM(32)", "GRU(32)"), key=lambda name: table.loc[name, "MAE"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster = candidates[best].fit(data)
    forecast = forecaster.predict()
    lower, upper = results[best].prediction_intervals(forecast, coverage=0.9)
    target = forecast.columns[0]
    output = pd.DataFrame({target: forecast[target], "lower_90": lower[target],
                           "upper_90": upper[target]})
    output.to_csv(out_dir / "forecast.csv")
    print(f"\n{best} forecast of the next {horizon} steps with 90% conformal intervals "
          f"-> {out_dir / 'forecast.csv'}")
    print(output.round(1).to_string())
    try:
        import matplotlib
    except ImportError:
        print('(no plot: pip install "seqforecast[plot]" for forecast.png)')
        return
    matplotlib.use("Agg")
    from .plotting import plot_forecast
    ax = plot_forecast(data, forecast, lower=lower, upper=upper, coverage=0.9,
                       n_history=4 * horizon)
    ax.set_title(f"airline passengers: {best} forecast")
    ax.figure.savefig(out_dir / "forecast.png", dpi=120, bbox_inches="tight")
    print(f"plot -> {out_dir / 'forecast.png'}")


def run_forecast(args):
    """Backtest against the baselines (unless --no-backtest), then fit and forecast."""
    if args.model == "auto" and args.no_backtest:
        raise ValueError("--model auto picks the model by backtesting it: drop --no-backtest, "
                         "or name the model with --model")
    if args.quantiles and args.model == "auto":
        raise CommandError(f"--quantiles trains a network on the quantile levels, but --model "
                           f"auto may pick Ridge or the naive forecast, which give no "
                           f"quantiles: name the network, --model "
                           f"{' or '.join(sorted(MODELS))}")
    _check_outputs(args, {"the input file": args.file})
    if args.out and args.save and _same_file(args.out, args.save):
        raise CommandError(f"--out and --save both name {args.out}: the model would overwrite "
                           f"the forecast; give them different files")
    data, freq = _read_series(args)
    # From here on the series is regular at ``freq`` and has no missing values.
    args = argparse.Namespace(**{**vars(args), "freq": freq.freqstr, "missing": "error"})
    if args.quantiles and args.transform == "seasonal_diff":
        season, why = _season(args)
        if args.horizon > season:
            raise CommandError(f"--quantiles with --transform seasonal_diff gives quantiles of "
                               f"at most one season, {season} steps ({why}): a later step adds "
                               f"the forecast one season earlier, and quantiles do not add; "
                               f"use --horizon {season} or less, or --transform diff (or auto)")
    _check_reflected_levels(data, args, _origins(data, args, _season(args)[0]))
    _check_calendar(data, args)
    model = args.model
    if args.no_backtest:
        season = _season(args)[0] if args.transform in SEASONAL else 1
    else:
        model, season = _guard(data, args)
    forecaster = _make_forecaster(model, args, season)
    started = time.perf_counter()
    if model in MODELS and args.epochs:
        with _held_warnings():  # shown after the progress bar
            for epoch in range(1, args.epochs + 1):
                forecaster.partial_fit(data)
                _progress(epoch, args.epochs, forecaster.regressor_.loss_,
                          time.perf_counter() - started)
    elif model in MODELS:
        how = "for up to 50 epochs" if args.hidden else "with the default recipe"
        print(f"training {_label(model, args, season)} {how} ...", end="", file=sys.stderr,
              flush=True)
        with _held_warnings() as line:  # shown after the line
            warnings.simplefilter("ignore", ConvergenceWarning)  # the backtest says how it did
            forecaster.fit(data)
            regressor = forecaster.regressor_
            kept = {True: "recurrent part kept", False: "linear part only: the recurrent part "
                    "did not help on the most recent windows", None: ""}[regressor.recurrent_kept_]
            chosen = (f"; target transform {forecaster.target_transform_ or 'none'} (auto)"
                      if args.transform == "auto" else "")
            if forecaster.calendar_errors_:  # --calendar auto tried cycles
                chosen += f"; calendar {' and '.join(forecaster.calendar_) or 'none'} (auto)"
            line.append(f" {regressor.n_iter_} epochs, {time.perf_counter() - started:.1f} s"
                        f"{'; ' + kept if kept else ''}{chosen}")
    else:
        forecaster.fit(data)
    forecast = _forecast_table(forecaster)
    if args.save:
        forecaster.save(args.save)
        print(f"{_label(model, args, season)} saved -> {args.save}; seqforecast predict "
              f"{args.save} NEW.csv forecasts with it from newer rows", file=sys.stderr)
    _write_forecast(forecast, args)


def run_predict(args):
    """Forecast from the last rows of a CSV file with a model file, without training.

    Reads the file as ``forecast`` does (:func:`_read_series`), at the
    model's frequency, the model's column as the target, and forecasts with
    ``predict(data=...)``.
    """
    _check_outputs(args, {"the input file": args.file, "the model file": args.model_file})
    model = _load_model(args.model_file)
    # The model's column is the target; its frequency is the one the file must have.
    args = argparse.Namespace(**vars(args), target=model.channels_[0],
                              freq=model.freq_.freqstr)
    data, _ = _read_series(args, model)
    if getattr(model, "calendar_", None) and not isinstance(data.index, pd.DatetimeIndex):
        raise CommandError(f"the model reads the {' and '.join(model.calendar_)} cycles of the "
                           f"times, but the time column of {args.file} holds durations or "
                           f"counts: give a file with dates and times")
    _check_reflected_levels(data, args, [len(data) - 1], model)
    _write_forecast(_forecast_table(model, horizon=args.horizon, data=data), args)


def _check_calendar(data, args):
    """Refuse a --calendar of cycles that the series cannot give the networks, before any
    training, and note when --calendar auto can try none that it would otherwise."""
    short = args.window < args.horizon
    if isinstance(args.calendar, list):
        cycles = ",".join(args.calendar)
        if not isinstance(data.index, pd.DatetimeIndex):
            raise CommandError(f"--calendar {cycles} reads the time of day, week or year, but "
                               f"the time column holds durations or counts: use --calendar none")
        if short:
            raise CommandError(f"--calendar {cycles}: the networks read the calendar of the "
                               f"forecast times inside the window, which needs --window >= "
                               f"--horizon ({args.horizon}); use --window {args.horizon} or "
                               f"more, or --calendar none")
    elif args.calendar == "auto" and short and unseen_cycles([data.index], args.window):
        _note(f"--calendar auto tries no cycle: the networks read the calendar of the forecast "
              f"times inside the window, which needs --window >= --horizon ({args.horizon}); "
              f"--window {args.horizon} or more lets them")


def _forecast_table(forecaster, **options):
    """``forecaster.predict(**options)`` and, for a probabilistic forecaster, a column per
    quantile level of ``quantiles_``, named ``{target}_q{level}``."""
    forecast = forecaster.predict(**options)
    if forecaster.quantiles_ is None:
        return forecast
    if forecaster.strategy == "recursive" and len(forecast) > 1:
        raise CommandError(f"the model forecasts quantiles of one step only (it was saved with "
                           f"strategy='recursive'), and --horizon is {len(forecast)}: use "
                           f"--horizon 1 for quantile columns, or save a model trained with "
                           f"strategy='direct'")
    quantiles = forecaster.predict_quantiles(**options)
    quantiles.columns = [f"{target}_q{_level_text(level)}"
                         for target, level in quantiles.columns]
    return pd.concat([forecast, quantiles], axis=1)


def _load_model(path):
    """The forecaster in a model file, or an error saying why the file is not one."""
    try:
        model = load(path)
    except FileNotFoundError:
        raise CommandError(f"there is no model file {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a folder, not a model file") from None
    except ModelFileError as error:
        if not path.lower().endswith(".csv"):
            raise
        raise CommandError(f"{error}; the model file comes first: seqforecast predict MODEL "
                           f"FILE.csv") from None
    forecaster = isinstance(model, (SequenceForecaster, NaiveForecaster))
    if not (forecaster and hasattr(model, "history_")):
        what = "an unfitted " if forecaster else "a model of class "
        raise CommandError(f"{path} holds {what}{type(model).__name__}, not a fitted "
                           f"forecaster: seqforecast predict reads the files that seqforecast "
                           f"forecast --save writes")
    if len(model.channels_) > 1:
        columns = ", ".join(repr(column) for column in model.channels_)
        raise CommandError(f"the model in {path} reads the columns {columns}: seqforecast "
                           f"predict reads one, as the models of seqforecast forecast --save "
                           f"do; forecast from several columns in Python, with "
                           f"seqforecast.load(path).predict(data=...)")
    return model


def _write_forecast(forecast, args):
    """The forecast CSV to --out (saying so on standard error), else to standard output.

    Written as the input was read: its separator and decimal mark (--sep ';' --decimal ','
    gives a file that the same spreadsheet opens; a decimal comma in a comma-separated file
    is quoted, "12,5").  Times read as counts of a step (--period-freq h, D, ...) are
    written as counts.
    """
    if isinstance(forecast.index, pd.TimedeltaIndex):
        step = pd.Timedelta(_offset(args.period_freq, "--period-freq"))
        forecast = forecast.set_axis(pd.Index(forecast.index // step, name=forecast.index.name))
    written = dict(sep=_separator(args), decimal=args.decimal)
    if args.out:
        forecast.to_csv(args.out, **written)
        print(f"{len(forecast)}-step forecast of {args.target!r} -> {args.out}", file=sys.stderr)
    else:
        print(forecast.to_csv(**written), end="")


def _read_series(args, model=None):
    """The target column of the CSV file on regular timestamps, and their frequency.

    Checks what the library would refuse (columns, times, order, frequency,
    missing rows and values, length, the transform's domain) and raises
    :class:`CommandError` naming the option to add; reports on standard error
    what it read in a way the user did not say (years, UTC) and what ``--fill``
    did.  For ``predict``, ``model`` is the loaded forecaster: the file must
    be at its frequency and hold the rows it reads.
    """
    fill = _fill_policy(args)
    raw, header, text_of = _read_csv(args)
    time_column = args.time_column or _default_time_column(raw, header, args.target)
    for column in (time_column, args.target):
        _check_unique(column, header)
    for column in (time_column, args.target):
        if column not in raw.columns:
            raise CommandError(_no_column(column, raw, args))
    if time_column == args.target and len(raw.columns) == 1:
        raise CommandError(f"{args.file} has one column, {args.target!r}: a forecast needs a "
                           f"time column too (dates, times or integer years), and the column "
                           f"to forecast; add the time column to the file")
    if time_column == args.target:
        raise CommandError(f"{_target_words(args)} is the time column; name the time column "
                           f"with --time-column")
    if raw.empty:
        raise CommandError(f"{args.file} has a header but no rows")
    times = _time_values(raw, time_column)
    if pd.api.types.is_float_dtype(times):  # 01.2018 read as 1.2018: the text decides
        times = _month_points(times, text_of(time_column), time_column, args)
    index, freq_hint = _parse_times(times, time_column, args)
    data = pd.DataFrame({args.target: _numbers(raw[args.target], args).to_numpy()}, index=index)
    if time_column not in header:  # pandas' 'Unnamed: 0' for an empty header: written as read
        data.index.name = None
    data = _in_order(data, args)
    if fill == "none" or len(data) < 2:  # no rows can be added: check the length first
        _check_length(data, args, None, model)
    freq = _frequency_of(data.index, freq_hint, args, model)
    first_row = 0
    if model is not None and fill == "none":
        # predict reads the last lookback_ steps: a gap or a missing value before them is
        # not the model's to refuse (--fill would have filled them from the rows around).
        grid = _grid(data.index, freq)
        if len(grid) > model.lookback_:
            first_row = int(data.index.searchsorted(grid[-model.lookback_]))
            data = data.iloc[first_row:]
    data = _regular(data, freq, fill, args, first_row)
    _check_length(data, args, freq, model)
    _check_transform(data, args, model)
    return data, freq


# A time of day: 00:05, 7:30:00, 23:59:59.5.
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"


def _month_points(numbers, text, name, args):
    """A time column that pandas read as numbers: as text where --time-format reads it, or an
    error with the format for months and years written 01.2018 (read 1.2018); else as read."""
    if text is None or args.time_format in _SERIAL:
        return numbers
    if args.time_format:
        return text
    if text.str.fullmatch(r"\d{1,2}\.\d{4}").all():
        raise CommandError(f"the time column {name!r} holds {text.iloc[0]!r}, which reads as the "
                           f"number {numbers.iloc[0]:g}: if it is a month and a year, add "
                           f"--time-format '%m.%Y'")
    return numbers


def _time_values(raw, name):
    """The values of the time column ``name``, read with the column after it when that column
    holds the times of day of its dates (saying so); times of day without dates are refused."""
    values = raw[name]
    if _times_of_day(values):
        shown = ", ".join(values.astype(str).str.strip().iloc[:3])
        raise CommandError(f"the time column {name!r} holds times of day without dates "
                           f"({shown}, ...): the forecast needs dates too; write the date with "
                           f"each time (2024-01-31 00:05), or name the column of dates and "
                           f"times with --time-column")
    after = raw.columns.get_loc(name) + 1
    if (after == len(raw.columns) or pd.api.types.is_numeric_dtype(values)
            or values.astype(str).str.contains(":").any()
            or not _times_of_day(raw.iloc[:, after])):
        return values
    clock = raw.columns[after]
    _note(f"the dates in {name!r} and the times of day in {clock!r} are read together as "
          f"timestamps")
    return values.str.strip().str.cat(raw[clock].str.strip(), sep=" ")


def _times_of_day(values):
    """Whether every value is a time of day (00:05, 7:30:00) written as text."""
    return (not pd.api.types.is_numeric_dtype(values)
            and values.astype(str).str.strip().str.fullmatch(_CLOCK).all())


def _default_time_column(raw, header, target):
    """The first column, or the first with a name when the first has none (a row index that
    pandas wrote) and that one is not ``target``, saying so."""
    named = next((column for column, name in zip(raw.columns, header) if name), target)
    if header[0] or named == target:
        return raw.columns[0]
    _note(f"the first column has no header (a row index?): the time column is {named!r}, the "
          f"first with a name; --time-column names another")
    return named


def _check_unique(column, header):
    """Refuse a column name that the header gives more than once (pandas would rename all but
    the first)."""
    positions = [str(i + 1) for i, name in enumerate(header) if name == column]
    if len(positions) > 1:
        times = "twice" if len(positions) == 2 else f"{len(positions)} times"
        raise CommandError(f"the header names {column!r} {times}, columns "
                           f"{', '.join(positions[:-1])} and {positions[-1]}: rename one")


def _target_words(args):
    """How a message names the target column: by its option, or as the model's column."""
    if args.command == "predict":
        return f"{args.target!r}, the column the model forecasts,"
    return f"--target {args.target!r}"


def _fill_policy(args):
    """--fill, with --missing as its old name."""
    if args.missing is None:
        return args.fill or "none"
    old = {"interpolate": "interpolate", "error": "none"}[args.missing]
    if args.fill not in (None, old):
        raise CommandError(f"--missing {args.missing} and --fill {args.fill} disagree; give "
                           f"--fill alone (--missing is its old name)")
    return old


def _separator(args):
    """--sep as a character ('tab' and '\\t' name a tab)."""
    return {"tab": "\t", "\\t": "\t"}.get(args.sep, args.sep)


def _read_csv(args):
    """The table in the file, the names its header gives (pandas renames repeated names and
    names empty ones 'Unnamed: 0'), and a function that reads a column's text (stripped)."""
    sep = _separator(args)
    decimal_given = args.decimal is not None
    if not decimal_given:  # a point that separates thousands leaves the comma for decimals
        args.decimal = "," if args.thousands == "." else "."
    if len(sep) != 1 or len(args.decimal) != 1 or len(args.thousands or ".") != 1:
        raise CommandError(f"--sep, --decimal and --thousands take one character each, e.g. "
                           f"--sep ';' --decimal ',' --thousands '.'; got --sep {args.sep!r} "
                           f"--decimal {args.decimal!r}"
                           + (f" --thousands {args.thousands!r}" if args.thousands else ""))
    if args.thousands == args.decimal:
        raise CommandError(f"--thousands and --decimal are both {args.decimal!r}: give the "
                           f"thousands separator and the decimal mark, e.g. --thousands '.' "
                           f"--decimal ','")
    try:
        with open(args.file, "rb") as file:  # read once: the file may be a pipe
            content = file.read()
    except FileNotFoundError:
        raise CommandError(f"there is no file {args.file}") from None
    except IsADirectoryError:
        raise CommandError(f"{args.file} is a folder, not a CSV file") from None
    hint = _SEPARATOR_HINT.match(content)
    if hint:  # a spreadsheet's first line, sep=;
        content = content[hint.end():]
        if hint[1].decode() != sep:
            sep = args.sep = hint[1].decode()
            _note(f"the first line of {args.file}, sep={sep}, names its separator: read with "
                  f"--sep {_shown_sep(sep)}")
    # _numbers reads the target's text with --thousands (pandas would read the dates
    # 01.02.2024 as numbers) and with a --decimal that is also --sep ("100,00" in quotes;
    # pandas then reads no decimal mark, so that 1.200 stays text and is not read as 1.2).
    options = dict(sep=sep, encoding="utf-8-sig", skipinitialspace=True,
                   decimal="\0" if args.decimal == sep else args.decimal)
    try:
        raw = pd.read_csv(io.BytesIO(content), **options)
        if not raw.index.equals(pd.RangeIndex(len(raw))):  # pandas made fields row labels
            raw = _without_row_labels(raw, content, options, args)
        header = pd.read_csv(io.BytesIO(content), header=None, nrows=1, dtype=str,
                             keep_default_na=False, **options).iloc[0]
    except pd.errors.EmptyDataError:
        raise CommandError(f"{args.file} is empty") from None
    except UnicodeDecodeError:
        if content[:2] == b"PK":  # a zip archive, as model files are
            raise CommandError(f"{args.file} is a model file, not a CSV file: forecast with "
                               f"it with seqforecast predict {args.file} FILE.csv") from None
        raise CommandError(f"{args.file} is not UTF-8 text: save it as UTF-8 (\"CSV UTF-8\" in "
                           f"a spreadsheet)") from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        line = found and int(found[2]) + bool(hint)  # pandas did not see the sep= line
        detail = (f"line {line} has {found[3]} fields, the lines before it {found[1]}"
                  if found else str(error).strip().splitlines()[-1])
        raise CommandError(f"cannot read {args.file} as a table: {detail}; check the separator "
                           f"(--sep, now {_shown_sep(sep)}) and the decimal mark (--decimal, "
                           f"now {args.decimal!r})") from None
    raw.columns = [_column_name(column) for column in raw.columns]

    @functools.cache
    def text_table():  # read again as text once, when a check needs it
        table = pd.read_csv(io.BytesIO(content), dtype=str, **options)
        table.columns = [_column_name(name) for name in table.columns]
        return table

    def text_of(column):  # None where pandas made fields row labels (raw was fixed up)
        table = text_table()
        if not table.index.equals(pd.RangeIndex(len(table))) or column not in table.columns:
            return None
        return table[column].str.strip()

    if not (decimal_given or args.thousands) and args.target in raw.columns:
        _check_points(raw[args.target], text_of, args)
    return raw, [_column_name(name) for name in header], text_of


# A number that thousands separated by points would write: 1.090, -12.500 (not 0.125).
_POINT_GROUPED = re.compile(r"[-+]?[1-9]\d{0,2}\.\d{3}")


def _check_points(values, text_of, args):
    """Refuse a target that pandas read with decimal points where the file most likely has
    thousands separators: whole numbers (960) beside numbers with exactly three digits after
    a point (1.090, read as 1.09; 1.000, read as 1), and nothing else.  --decimal '.' says
    they are decimals.  (A column of such pointed numbers alone is not refused: a sensor
    written to three decimals looks the same.)"""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    size = np.abs(numbers)
    if not ((size >= 1) & (size < 1000) & (np.round(numbers * 1000) == numbers * 1000)).any():
        return  # cheap: no value that 1.090 could have become
    text = text_of(args.target)
    if text is None:
        return
    text = text.dropna()
    pointed = text.str.fullmatch(_POINT_GROUPED.pattern)
    whole = text.str.fullmatch(r"[-+]?\d+")
    if pointed.all() and _separator(args) == ";" and len(text):  # a European file's 1.090?
        _note(f"every number in {args.target!r} has three digits after a point ({text.iloc[0]}): "
              f"read as decimals; if the point separates thousands, add --thousands '.'")
    elif pointed.any() and whole.any() and (pointed | whole).all():
        first, whole_text = text[pointed].iloc[0], text[whole].iloc[0]
        raise CommandError(
            f"the column {args.target!r} holds whole numbers such as {whole_text!r} and "
            f"numbers with three digits after a point such as {first!r}: if the point "
            f"separates thousands ({first} = {first.replace('.', '')}), add --thousands '.'; "
            f"if it is the decimal mark ({first} = {float(first):g}), add --decimal '.'")


# Excel's first line naming the separator (with or without a byte-order mark before it).
_SEPARATOR_HINT = re.compile(rb"(?:\xef\xbb\xbf)?sep=([^\r\n])\r?\n")


def _without_row_labels(raw, content, options, args):
    """The table of a file whose rows have more fields than its header (pandas made the
    first fields row labels): read again without them where each row just ends with the
    separator (its last field empty), without the labels where they count the rows 1, 2, ...
    (R's row names), else an error."""
    if raw.index.nlevels == 1 and raw.iloc[:, -1].isna().all():
        return pd.read_csv(io.BytesIO(content), index_col=False, **options)
    numbers = pd.to_numeric(raw.index, errors="coerce")
    if raw.index.nlevels == 1 and np.array_equal(numbers, np.arange(1, len(raw) + 1)):
        _note(f"the rows of {args.file} start with row numbers 1, 2, ... that the header does "
              f"not name (R's write.table): not read")
        return raw.reset_index(drop=True)
    other = _other_separator([str(name) for name in raw.columns], args)
    if other:
        raise CommandError(f"{args.file}: {other}")
    sep = _separator(args)
    names = ", ".join(repr(name) for name in raw.columns)
    raise CommandError(f"the rows of {args.file} have more fields than its header ({names}): "
                       f"if that is not its first line, delete the lines above it; numbers "
                       f"with a decimal comma in a file separated by commas? Quote them "
                       f"(\"100,13\") or separate the fields with another character (--sep "
                       f"';'); else check the separator (--sep, now {_shown_sep(sep)})")


def _column_name(text):
    """A column name as the command compares it: without surrounding spaces, in Unicode NFC
    (a header written with decomposed accents matches the name typed)."""
    return unicodedata.normalize("NFC", str(text).strip())


def _shown_sep(sep):
    return "tab" if sep == "\t" else repr(sep)


def _other_separator(columns, args):
    """What to say when the header's names hold another separator than --sep, else None."""
    sep = _separator(args)
    for other in (";", "\t", "|", ","):
        if other != sep and any(other in name for name in columns):
            option = "tab" if other == "\t" else f"'{other}'"
            return (f"its header {columns[0]!r} holds {_shown_sep(other)}, so the file seems "
                    f"separated by {_shown_sep(other)}, not {_shown_sep(sep)}: add --sep "
                    f"{option}")
    return None


def _no_column(column, raw, args):
    """The message for a column that the file lacks: a wrong --sep, or a wrong name."""
    columns = list(raw.columns)
    other = _other_separator(columns, args)
    if other:
        return f"no column {column!r} in {args.file}: {other}"
    if column == args.target and args.command == "predict":
        advice = f"the model {args.model_file} forecasts {column!r} from its last rows"
    else:
        advice = (f"name the column with "
                  f"{'--target' if column == args.target else '--time-column'}")
    if any(name.startswith("Unnamed: ") for name in columns):  # pandas' name for no name
        advice += (f" (pandas names a column 'Unnamed: N' where the header has no name: is "
                   f"the first line of {args.file} its header? Delete any lines above it)")
    return (f"no column {column!r} in {args.file}; its columns: "
            f"{', '.join(repr(name) for name in columns)}; {advice}")


def _parse_times(values, name, args):
    """The time column as a DatetimeIndex (or TimedeltaIndex), and the frequency it implies."""
    missing = values.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0]) + 1
        raise CommandError(f"row {row} of {args.file} has no time in the column {name!r}: "
                           f"delete the row or fill in its time")
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if args.time_format in _SERIAL:
        return _serial_times(values, numeric, name, args), None
    if args.time_format and "%s" in args.time_format:
        raise CommandError(f"--time-format {args.time_format}: pandas does not read %s; for "
                           f"seconds since 1970-01-01 (Unix times) use --time-format unix")
    if numeric:
        return _integer_times(values.to_numpy(float), name, args)
    if args.period_freq:
        text = pd.to_numeric(values, errors="coerce").isna().to_numpy()
        row = int(np.flatnonzero(text)[0]) if text.any() else 0
        raise CommandError(f"--period-freq reads a time column of integers; {name!r} holds "
                           f"text, such as {str(values.iloc[row])!r} in row {row + 1}: drop "
                           f"--period-freq, or correct the row")
    return _dates(values.astype(str).str.strip(), name, args), None


# --time-format for numbers: pandas' unit and origin, the numbers that look like such times,
# and what they are.
_SERIAL = {"unix": ("s", "unix", 1e9, 2e9, "seconds since 1970-01-01 (Unix times)"),
           "excel": ("D", "1899-12-30", 20_000, 80_000,
                     "days since 1899-12-30 (spreadsheet dates)")}


# The years that --time-format unix and excel read: numbers beyond them are some other count
# (Unix milliseconds read as seconds are dates in the year 56,000).
_SERIAL_YEARS = (1900, 2200)


def _serial_times(values, numeric, name, args):
    """Numbers read as --time-format unix (in UTC, saying so) or excel (fractions of a day are
    times, to the millisecond)."""
    unit, origin, _, _, what = _SERIAL[args.time_format]
    if not numeric:
        raise CommandError(f"--time-format {args.time_format} reads numbers, {what}; {name!r} "
                           f"holds text such as {str(values.iloc[0])!r}: drop --time-format "
                           f"{args.time_format}, or name another column with --time-column")
    numbers = values.to_numpy(float)
    try:
        parsed = pd.to_datetime(numbers, unit=unit, origin=origin).round("ms")
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None or not (_SERIAL_YEARS[0] <= parsed.min().year
                              and parsed.max().year <= _SERIAL_YEARS[1]):
        unit_hint = ("; milliseconds since 1970 are 1000 times more: divide them by 1000"
                     if args.time_format == "unix" else "")
        raise CommandError(f"the time column {name!r} holds numbers from {numbers.min():.15g} "
                           f"to {numbers.max():.15g}, which as {what} are not dates from "
                           f"{_SERIAL_YEARS[0]} to {_SERIAL_YEARS[1]}{unit_hint}; check the "
                           f"column (--time-column) and --time-format")
    if args.time_format == "unix":
        parsed = parsed.tz_localize("UTC")
        _note(f"the numbers in {name!r} are read as {what} in UTC (--time-format unix), and the "
              f"forecast is in UTC")
    return pd.DatetimeIndex(parsed, name=name)


def _serial_hint(numbers):
    """'; if they are ..., add --time-format unix' (or excel) for numbers in the range of such
    times, else ''."""
    for option, (_, _, low, high, what) in _SERIAL.items():
        if low <= numbers.min() and numbers.max() <= high:
            return f"; if they are {what}, add --time-format {option}"
    return ""


def _integer_times(numbers, name, args):
    """Years (``--period-freq Y`` or plausible years), counts of a step, or --time-format."""
    shown = ", ".join(f"{value:.15g}" for value in numbers[:3])
    if not np.array_equal(numbers, np.round(numbers)):
        raise CommandError(f"the time column {name!r} holds numbers, not dates ({shown}, ...); "
                           f"name the date column with --time-column{_serial_hint(numbers)}")
    integers = numbers.astype(np.int64)
    if args.time_format:
        return _dates(pd.Series(integers.astype(str)), name, args), None
    # The frequency: the unit times the most common step (10 for years 1800, 1810, ...).
    steps = np.diff(np.unique(integers))
    step = int(np.bincount(steps).argmax()) if len(steps) else 1
    if args.period_freq:
        offset = _offset(args.period_freq, "--period-freq")
        if isinstance(offset, (pd.offsets.YearBegin, pd.offsets.YearEnd)) and offset.n == 1:
            return _years(integers, offset, name), offset * step
        if isinstance(offset, (pd.offsets.Tick, pd.offsets.Day)):  # a fixed step
            return pd.TimedeltaIndex(integers * pd.Timedelta(offset), name=name), offset * step
        raise CommandError(f"--period-freq {args.period_freq}: integer times can be years "
                           f"(--period-freq Y) or counts of a fixed step (--period-freq h, D, "
                           f"30min, ...); for numbers such as 202401 use --time-format %Y%m")
    if 1000 <= integers.min() and integers.max() <= 2200:
        offset = pd.offsets.YearBegin()
        _note(f"the time column {name!r} holds integers from {integers.min()} to "
              f"{integers.max()}: read as years (--period-freq Y)")
        return _years(integers, offset, name), offset * step
    digits = {len(str(abs(value))) for value in integers}
    compact = {8: "--time-format %Y%m%d for 20240131", 6: "--time-format %Y%m for 202401"}.get(
        digits.pop() if len(digits) == 1 else 0, "--time-format %Y%m for 202401")
    raise CommandError(f"the time column {name!r} holds numbers, not dates ({shown}, ...): name "
                       f"the date column with --time-column, or say how to read the numbers: "
                       f"--period-freq Y for years, --period-freq h (or D, min, ...) for counts "
                       f"of hours (days, minutes, ...), {compact}{_serial_hint(integers)}")


def _years(integers, offset, name):
    if integers.min() < 1:
        raise CommandError(f"the time column {name!r} holds years below 1; only years from 1 on "
                           f"can be read")
    # Whole seconds: nanoseconds (pandas 2's unit) hold the years 1677 to 2262 only.
    starts = pd.DatetimeIndex((integers - 1970).astype("datetime64[Y]").astype("datetime64[s]"))
    return pd.DatetimeIndex(starts + type(offset)(0, month=offset.month), name=name)


def _dates(strings, name, args):
    """Text times as a DatetimeIndex: --time-format, --dayfirst, mixed UTC offsets in UTC."""
    with warnings.catch_warnings(record=True) as caught:  # pandas' advice is for Python users
        warnings.simplefilter("always")
        parsed = _to_datetime(strings, name, args)
    if not (args.time_format or args.dayfirst):
        _check_day_month(strings, parsed, name)
        if any("dayfirst" in str(warning.message) and "%d" in str(warning.message)
               for warning in caught):
            _note(f"the times in {name!r} are read day first ({strings.iloc[0]}); --dayfirst "
                  f"says so")
    return pd.DatetimeIndex(parsed, name=name)


def _to_datetime(strings, name, args):
    """``pd.to_datetime`` of the text times, read as ISO 8601 when pandas' format of the first
    row fails on ISO dates (2024-01-01, then 2024-01-01 01:00:00), in UTC (saying so) when the
    UTC offsets differ; an error naming the row that cannot be read."""
    options = dict(format=args.time_format, dayfirst=args.dayfirst)
    if not args.time_format and strings.str.fullmatch(r"[A-Za-z]{3}-\d{2}").all():
        # Jan-18, a spreadsheet's mmm-yy: pandas reads the 18th of January in the year 1.
        try:
            parsed = pd.to_datetime(strings, format="%b-%y")
        except ValueError:  # not English month names: the checks below say what to do
            pass
        else:
            _note(f"the times in {name!r} are read as months and two-digit years "
                  f"({strings.iloc[0]} is {parsed.iloc[0]:%B %Y}); --time-format says otherwise")
            return parsed
    parsed = failed = None
    try:
        parsed = pd.to_datetime(strings, **options)
    except (ValueError, OverflowError) as error:
        failed = error
    if failed and not args.time_format and strings.str.match(r"\d{4}-\d{2}-\d{2}").all():
        options["format"] = "ISO8601"
        try:
            parsed, failed = pd.to_datetime(strings, **options), None
        except (ValueError, OverflowError):
            pass
    yearless = not (args.time_format or strings.str.contains(r"\d{3}").any())
    if yearless and (failed is None and parsed.dtype != object and parsed.dt.year.min() < 100
                     or failed is not None):
        raise CommandError(f"the time column {name!r} holds times without a year of 3 or 4 "
                           f"digits, such as {strings.iloc[0]!r}, which pandas reads in the "
                           f"year 1 or so: say how to read them with --time-format (e.g. "
                           f"'%b-%y' for Jan-18, '%d.%m.%y' for 31.01.18)")
    if failed is None and parsed.dtype != object:
        return parsed
    if isinstance(failed, pd.errors.OutOfBoundsDatetime):  # pandas 2: nanoseconds
        raise CommandError(f"the time column {name!r} holds times outside the years 1677 to "
                           f"2262, which pandas {pd.__version__} cannot hold ({failed}); pandas 3 "
                           f"reads them: pip install 'pandas>=3'") from None
    if failed is not None and args.time_format and "directive" in str(failed):
        raise CommandError(f"--time-format {args.time_format}: {failed}; the directives are "
                           f"Python's strftime ones (%Y %m %d %H %M %S ...)") from None
    # Different UTC offsets: pandas 3 raises, naming them; pandas 2 gives objects (and warns).
    if failed is not None and "mixed time" not in str(failed).lower():
        raise CommandError(_unreadable(strings, name, args, failed)) from None
    parsed = pd.to_datetime(strings, **options, utc=True)
    _note(f"the times in {name!r} have different UTC offsets (daylight-saving time): read in "
          f"UTC, and the forecast is in UTC")
    return parsed


# Dates with the day and the month as numbers, either way round: 01/02/2024, 1.2.24 00:00.
_DAY_MONTH = re.compile(r"\d{1,2}([/.-])\d{1,2}\1(\d{4}|\d{2})(?:[ T](.+))?")


def _check_day_month(strings, parsed, name):
    """Refuse dates that read month first (``parsed``) and day first as different times."""
    found = _DAY_MONTH.fullmatch(strings.iloc[0])
    if not found:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            day_first = pd.to_datetime(strings, dayfirst=True)
        except (ValueError, OverflowError):
            return
    differ = np.flatnonzero(pd.DatetimeIndex(day_first) != pd.DatetimeIndex(parsed))
    if not len(differ):
        return
    row, sep = int(differ[0]), found[1]
    month_first = f"%m{sep}%d{sep}{'%Y' if len(found[2]) == 4 else '%y'}"
    clock = found[3] and re.sub(r"\d+:\d+(:\d+)?", lambda time: "%H:%M" + ":%S" * bool(time[1]),
                                found[3])
    example = month_first + (f" {clock}" if clock else "")
    raise CommandError(f"the dates in {name!r} read both month first and day first: row "
                       f"{row + 1}, {strings.iloc[row]!r}, is {_day(parsed[row])} month first "
                       f"and {_day(day_first[row])} day first; add --dayfirst if the day comes "
                       f"first, else --time-format '{example}'")


def _day(stamp):
    """'2 January', as a message names the day of a date."""
    return f"{stamp.day} {stamp:%B}"


def _unreadable(strings, name, args, error):
    """Which row does not parse, against which format, and the option that reads it."""
    guessed = re.search(r"match format \"([^\"]+)\"", str(error))
    used = args.time_format or (guessed[1] if guessed else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if used:
            bad = pd.to_datetime(strings, format=used, errors="coerce", utc=True).isna()
        else:
            bad = pd.Series([pd.isna(pd.to_datetime(text, errors="coerce", utc=True))
                             for text in strings])
    row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
    value = strings.iloc[row]
    message = f"the time column {name!r} cannot be read as dates: row {row + 1} holds {value!r}"
    if used:
        message += (f", which does not match --time-format {used}" if args.time_format else
                    f", which does not match the format of the first row, {used}")
    if args.time_format:
        return message + "; correct --time-format, or the row"
    day_first = used.replace("%m", "%_").replace("%d", "%m").replace("%_", "%d") if used else \
        "%d/%m/%Y"
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}.*", value) and not args.dayfirst:
        sep = re.search(r"[/.-]", value)[0]
        return (message + f"; if the day comes first (31{sep}01{sep}2024) add --dayfirst, else "
                          f"name the format with --time-format, e.g. --time-format "
                          f"'{day_first}'")
    return (message + "; name the format with --time-format, e.g. --time-format "
                      "'%d.%m.%Y %H:%M', correct the row, or name another time column with "
                      "--time-column")


def _numbers(values, args):
    """The target column as floats, or an error naming the first row that is not a number."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if not pd.api.types.is_numeric_dtype(values):
        # The marks of --decimal and --thousands; a point that is neither is not a number.
        marks = str.maketrans({".": "!", **({args.thousands: ""} if args.thousands else {}),
                               args.decimal: "."})
        stripped = values.str.strip()
        if args.thousands == " ":  # also the no-break spaces that spreadsheets write
            stripped = stripped.str.replace("[\u00a0\u202f]", " ", regex=True)
        converted = pd.to_numeric(stripped.str.translate(marks), errors="coerce")
        if args.thousands:  # a thousands mark separates groups of three digits, or nothing
            grouped = re.compile(rf"[-+]?\d{{1,3}}({re.escape(args.thousands)}\d{{3}})*"
                                 rf"({re.escape(args.decimal)}\d+)?")
            misplaced = stripped.str.contains(args.thousands, regex=False).fillna(False) & ~(
                stripped.str.fullmatch(grouped).fillna(False).astype(bool))
            if misplaced.any():
                row = int(np.flatnonzero(misplaced.to_numpy())[0])
                raise CommandError(
                    f"the column {args.target!r} holds {str(values.iloc[row])!r} in row "
                    f"{row + 1}, whose --thousands {args.thousands!r} does not separate groups "
                    f"of three digits: is {args.thousands!r} the decimal mark (--decimal "
                    f"{args.thousands!r})? Else correct the row")
        text = (values.notna() & converted.isna()).to_numpy()
        if text.any():
            row = int(np.flatnonzero(text)[0])
            raise CommandError(_not_a_number(values, row, args))
        values = converted
    values = values.astype(float)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0]) + 1
        raise CommandError(f"the column {args.target!r} holds an infinite value in row {row}: "
                           f"correct the row")
    return values


# A number with thousands separators, a decimal mark or both: 10.012,57, 1 234,5, 1000,5.
_WRITTEN_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(([., '\u00a0\u202f])\d{3}(?:\2\d{3})*)|\d+)"
                             r"(?:([.,])\d+)?")


def _not_a_number(values, row, args):
    """The message for the target's value in ``row`` (from 0) of ``values`` (text) that is not
    a number, with the --thousands and --decimal that read it when it is a number written
    with them."""
    value = str(values.iloc[row])
    message = (f"the column {args.target!r} holds text, not numbers: row {row + 1} holds "
               f"{value!r}")
    found = _WRITTEN_NUMBER.fullmatch(value.strip())
    if found:
        thousands, decimal = found[2], found[3]
        if thousands == "," and not decimal and found[1].count(",") == 1:
            # 12,500: 12500 or 12.5.  The other rows tell: thousands where one has two
            # groups or a decimal point after them (1,234,567, 1,234.5), a decimal comma
            # where one has other than three digits after it (12,5); else both readings.
            commas = values.dropna().astype(str).str.strip()
            commas = commas[commas.str.contains(",", regex=False)]
            if commas.str.fullmatch(r"[-+]?\d{1,3}(,\d{3}){2,}(\.\d+)?|"
                                    r"[-+]?\d{1,3}(,\d{3})+\.\d+").any():
                decimal = None
            elif commas.str.fullmatch(r"[-+]?\d{1,3},\d{3}").all():
                number = value.strip()
                return (f"{message}, which is {number.replace(',', '')} if the comma separates "
                        f"thousands (add --thousands ','), or {number.replace(',', '.')} if it "
                        f"is the decimal mark (add --decimal ',')")
            else:
                thousands, decimal = None, ","
        if thousands in ("\u00a0", "\u202f"):  # --thousands ' ' reads no-break spaces too
            thousands = " "
        options = [f"--{option} '{mark}'" for option, mark in (("thousands", thousands),
                                                               ("decimal", decimal))
                   if mark and mark != getattr(args, option)]
        if options and thousands != decimal:
            what = ("thousands separators" if "--thousands" in options[0] else
                    f"a decimal {'comma' if decimal == ',' else 'point'}")
            return f"{message}; the numbers have {what}: add {' '.join(options)}"
    another = "" if args.command == "predict" else ", or name another column with --target"
    return f"{message}; only numbers can be forecast: correct the row{another}"


def _in_order(data, args):
    """No duplicate times; sorted by time (--sort sorts)."""
    index = data.index
    repeated = index.duplicated(keep=False)
    if repeated.any():
        first = index[repeated][0]
        rows = _listed([str(row + 1) for row in np.flatnonzero(index == first)])
        hint = (" (a daylight-saving hour written twice? write the times with their UTC "
                "offset, e.g. 2024-10-27T02:00+02:00, and they are read in UTC)"
                if isinstance(index, pd.DatetimeIndex) and index.tz is None
                and first != first.normalize()
                and first.hour < 4 else "")  # clocks change at night
        raise CommandError(f"the time {_when(first, args)} appears in rows {rows}{hint}: each "
                           f"time may appear once; delete the extra rows")
    if index.is_monotonic_increasing:
        return data
    if args.sort:
        return data.sort_index()
    stamps = index.to_numpy()
    row = int(np.flatnonzero(stamps[1:] < stamps[:-1])[0]) + 1
    raise CommandError(f"the rows are not sorted by time: row {row + 1} "
                       f"({_when(index[row], args)}) comes after row {row} "
                       f"({_when(index[row - 1], args)}); add --sort to sort them")


def _frequency_of(index, hint, args, model):
    """The frequency to read the file at: ``model``'s (predict), --freq, the one --period-freq
    or integer years imply (``hint``), else the inferred one."""
    if model is not None:
        return _model_frequency(index, hint, model.freq_, args)
    if args.freq:
        return _offset(args.freq, "--freq", index)
    return hint or _inferred_offset(index)


def _model_frequency(index, hint, freq, args):
    """The model's frequency ``freq``, unless the file's timestamps are at another one.

    Daily timestamps lie on an hourly grid (23 rows missing a day): the
    frequency that ``forecast`` would read the file at (``hint``, else the
    inferred one) holds them in fewer rows than ``freq``, and the file is
    refused.  :func:`_regular` names timestamps off the grid of ``freq``.
    """
    try:
        own = hint or _inferred_offset(index)
    except CommandError:  # no frequency holds the timestamps: the model's grid decides
        return freq
    if own != freq and len(_grid(index, own)) < len(_grid(index, freq)):
        raise CommandError(f"the rows of {args.file} are {_describe(own)}, the model "
                           f"{args.model_file} forecasts {_describe(freq)}: it needs a file "
                           f"of {_describe(freq)} rows (--fill fills missing rows, it does not "
                           f"change the frequency)")
    return freq


def _regular(data, offset, fill, args, first_row=0):
    """``data`` on the grid of ``offset``, missing rows and values filled per ``fill``; its
    first row is row ``first_row`` (from 0) of the file, for the messages."""
    index, target = data.index, args.target
    grid = _grid(index, offset)
    off_grid = ~index.isin(grid)
    # Rows off the grid without a value (a calendar's blank weekends, with --freq B) are left
    # out, saying so; row numbers stay those of the file.
    empty = off_grid & data[target].isna().to_numpy()
    off_grid &= ~empty
    if off_grid.any():
        row = int(np.flatnonzero(off_grid)[0])
        day = (f", a {index[row]:%A}" if isinstance(index, pd.DatetimeIndex)
               and not isinstance(offset, pd.offsets.Tick) else "")
        start = ("" if row == 0 else
                 f" counted from row {first_row + 1} ({_when(index[0], args)})")
        # Times a little off the grid (a sensor's clock): rounding is the user's to decide.
        near = (isinstance(offset, pd.offsets.Tick) and row > 0
                and abs(index[row] - index[row].round(offset)) < pd.Timedelta(offset) / 10)
        advice = (f"; if the times are the grid's with a clock's jitter, round them to "
                  f"{_describe(offset)} in the file first" if near else "")
        raise CommandError(f"row {first_row + row + 1} ({_when(index[row], args)}{day}) is not a "
                           f"timestamp of {_describe(offset)}{start}, "
                           f"{_frequency_source(args)}{advice}")
    if data[target].isna().all():  # before any advice to fill: there is nothing to fill from
        another = "" if args.command == "predict" else ": name another column with --target"
        raise CommandError(f"the column {target!r} has no values{another}")
    if empty.any():
        _note(f"left out {int(empty.sum())} row{'s' * int(empty.sum() > 1)} without a value of "
              f"{target!r} at times that {_describe(offset)} does not hold "
              f"({_times(index[empty], args)})")
    added = grid.difference(index)
    values = data[target].isna().to_numpy() & ~empty
    n_values = int(values.sum())
    what = "it" if len(added) + n_values == 1 else "them"
    if fill == "none":
        if len(added):
            rows = f"{len(added)} row{'s' * (len(added) > 1)}"
            another = "" if args.freq else ", or --freq to name another frequency"
            raise CommandError(f"the timestamps are irregular: {rows} missing at "
                               f"{_times(added, args)} for the frequency {_describe(offset)}; add "
                               f"--fill interpolate (or --fill ffill) to fill {what}{another}")
        if values.any():
            first = index[values][0]
            weekends = (" (they all fall on weekends: for business days only, add --freq B)"
                        if isinstance(index, pd.DatetimeIndex) and offset == pd.offsets.Day()
                        and (index[values].day_of_week >= 5).all() else "")
            raise CommandError(f"the column {target!r} has {n_values} missing "
                               f"value{'s' * (n_values > 1)}, the first in row "
                               f"{first_row + int(np.flatnonzero(values)[0]) + 1} "
                               f"({_when(first, args)})"
                               f"{weekends}; add --fill interpolate (or --fill ffill) to fill "
                               f"{what}")
        return data[~empty]
    full = data.reindex(grid)  # without the rows off the grid
    present = full[target].notna().to_numpy()
    start = int(np.argmax(present))
    stop = len(full) - (int(np.argmax(present[::-1])) if fill == "interpolate" else 0)
    kept = full.iloc[start:stop]
    how = ("by linear interpolation in time (--fill interpolate)" if fill == "interpolate" else
           "with the previous value (--fill ffill)")
    filled = (kept.interpolate(method="time") if fill == "interpolate" else kept.ffill())
    added = added[added.isin(kept.index)]
    if len(added):
        rows = f"row{'s' * (len(added) > 1)} for the missing timestamp{'s' * (len(added) > 1)}"
        _note(f"reindexed to {_describe(offset)}: added {len(added)} {rows} "
              f"{_times(added, args)}, filled {how}")
    gaps = kept.index[kept[target].isna().to_numpy() & ~kept.index.isin(added)]
    if len(gaps):
        _note(f"filled {len(gaps)} missing value{'s' * (len(gaps) > 1)} of {target!r} at "
              f"{_times(gaps, args)} {how}")
    _warn_long_fill(kept[target].isna().to_numpy(), kept.index, how, args)
    for rows, where in ((full.index[:start], "start"), (full.index[stop:], "end")):
        if len(rows):
            _note(f"dropped {len(rows)} row{'s' * (len(rows) > 1)} at the {where} without a "
                  f"value of {target!r} ({_times(rows, args)})")
    return filled


def _warn_long_fill(made, index, how, args):
    """Warn when ``forecast`` fills a run of rows (``made``: the filled rows of ``index``) as
    long as a --window: some windows then hold no observed value, and the model learns the
    filling as if it were data."""
    if args.command != "forecast" or not made.any():
        return
    edges = np.flatnonzero(np.diff(np.r_[0, made.astype(np.int8), 0]))
    starts, stops = edges[::2], edges[1::2]
    longest = int(np.argmax(stops - starts))
    length = int(stops[longest] - starts[longest])
    if length >= args.window:
        first, last = index[starts[longest]], index[stops[longest] - 1]
        print(f"seqforecast: warning: {length} rows in a row, from {_when(first, args)} to "
              f"{_when(last, args)}, were filled {how}: at least --window {args.window} rows, "
              f"so some training windows hold no observed value and the model learns the "
              f"filling as data; to train on observed rows only, keep the rows after the gap "
              f"(delete those before it)", file=sys.stderr)


def _frequency_source(args):
    """Where the frequency of :func:`_regular` comes from, and how to change it."""
    if args.command == "predict":
        return f"the frequency of the model {args.model_file}: it needs a file at that frequency"
    if not args.freq:
        return (f"the frequency --period-freq {args.period_freq} names; name the frequency of "
                f"the file with --freq")
    return (f"the frequency --freq {args.freq} names: the command reads rows on its grid and "
            f"does not resample; round or aggregate the times to it in the file first (e.g. "
            f"daily means for --freq D), or give the file's own frequency to --freq")


def _inferred_offset(index):
    """pandas' frequency of regular timestamps, else the one whose grid holds every timestamp
    with the fewest rows (B for weekdays with holidays); an error when there is none."""
    if len(index) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            freq = _infer_freq(index)
        if freq is not None:
            return pd.tseries.frequencies.to_offset(freq)
    if len(index) < 2:
        raise CommandError("one row has no frequency: add rows, or --freq")
    steps = pd.Series(index[1:] - index[:-1])
    counts = steps.value_counts()
    step = counts.index[counts == counts.max()].min()
    candidates = []
    if isinstance(index, pd.DatetimeIndex):
        first = index[0]
        weekday, month = f"{first:%a}".upper(), f"{first:%b}".upper()
        candidates = ["B", f"W-{weekday}", "MS", "ME", f"QS-{month}", f"QE-{month}",
                      f"YS-{month}", f"YE-{month}"]
    candidates.append(f"{step.days}D" if step % pd.Timedelta(days=1) == pd.Timedelta(0)
                      else pd.tseries.frequencies.to_offset(step).freqstr)
    span, best, near = index[-1] - index[0], None, None
    for candidate in candidates:
        offset = pd.tseries.frequencies.to_offset(candidate)
        fixed = isinstance(offset, (pd.offsets.Tick, pd.offsets.Day))
        if (fixed and span / pd.Timedelta(offset) > 20 * len(index) + 1000
                or not offset.is_on_offset(index[0])):  # far too many rows, or off the grid
            continue
        grid = _grid(index, offset)
        inside = index.isin(grid)
        if inside.all() and (best is None or len(grid) < len(best[1])):
            best = offset, grid
        elif near is None and (~inside).sum() <= 3 and len(grid) <= 1.1 * len(index):
            near = offset, np.flatnonzero(~inside)  # all but a few rows, hardly any added
    if near is not None and (best is None or len(best[1]) > 2 * len(index)):
        # One mistyped date among weekly rows: B holds them all, with 80% of the rows made up.
        offset, rows = near
        shown = _listed([f"{row + 1} ({_when(index[row], None)}, a {index[row]:%A})"
                         if isinstance(index, pd.DatetimeIndex) else f"{row + 1} ({index[row]})"
                         for row in rows])
        raise CommandError(f"the timestamps are {_describe(offset)} but for row"
                           f"{'s' * int(len(rows) > 1)} {shown}: correct "
                           f"{'them' if len(rows) > 1 else 'it'}, or name the frequency with "
                           f"--freq")
    if best is None:
        common = ", ".join(_duration(value) for value in counts.index[:3])
        raise CommandError(f"cannot infer the frequency of the timestamps: the steps between "
                           f"rows vary ({common}, ...) and no frequency holds them all; name it "
                           f"with --freq, or check the time column (--time-column); readings at "
                           f"irregular times must be aggregated to regular ones first (e.g. "
                           f"hourly means): the command does not resample")
    return best[0]


def _grid(index, offset):
    """Every timestamp of ``offset`` from the first to the last of ``index``."""
    try:
        if isinstance(index, pd.TimedeltaIndex):
            return pd.timedelta_range(index[0], index[-1], freq=offset, unit=index.unit,
                                      name=index.name)
        return pd.date_range(index[0], index[-1], freq=offset, unit=index.unit,
                             name=index.name)
    except (ValueError, TypeError, AttributeError):
        raise CommandError(f"the frequency {offset.freqstr} does not apply to counts of steps: "
                           f"use a fixed step such as h or D") from None


def _offset(text, option, index=None):
    """The offset a frequency names, forgiving the old pandas aliases (H, T, S, M, Q, Y, A)."""
    text = text.strip()
    candidate = text
    parts = re.fullmatch(r"(\d*)([A-Za-z]+)(-[A-Za-z]{3})?", text)
    if parts:
        count, unit, anchor = parts[1], parts[2], parts[3] or ""
        unit = {"H": "h", "T": "min", "S": "s", "L": "ms", "U": "us", "N": "ns", "A": "Y",
                "d": "D", "y": "Y", "BH": "bh"}.get(unit, unit)
        if unit in ("M", "Q", "Y"):  # start or end: the one the first timestamp is on
            starts = pd.tseries.frequencies.to_offset(f"{count}{unit}S{anchor}")
            on_start = index is None or not isinstance(index, pd.DatetimeIndex) \
                or starts.is_on_offset(index[0])
            unit += "S" if on_start else "E"
        candidate = f"{count}{unit}{anchor}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.tseries.frequencies.to_offset(candidate)
        except ValueError:
            raise CommandError(f"{option} {text!r} is not a frequency: use e.g. h (hourly), "
                               f"30min, D (daily), B (business days), W (weekly), MS or ME "
                               f"(month start or end), QS, YS") from None


_NAMES = {"min": "minutes", "h": "hourly", "D": "daily", "B": "business days", "W": "weekly",
          "MS": "month starts", "ME": "month ends", "QS": "quarter starts",
          "QE": "quarter ends", "YS": "years", "YE": "year ends", "s": "seconds"}


def _describe(offset):
    """'h (hourly)', 'B (business days)', '15min'."""
    base = offset.freqstr.split("-")[0]
    return f"{offset.freqstr} ({_NAMES[base]})" if base in _NAMES else offset.freqstr


def _when(stamp, args):
    """A timestamp as a person writes it: 2024-03-31 02:00, 2023-07-04, 1850-01-01; a count
    of --period-freq's step as the file writes it, 18."""
    if isinstance(stamp, pd.Timedelta):
        if args.period_freq is None:
            return str(stamp)
        return str(stamp // pd.Timedelta(_offset(args.period_freq, "--period-freq")))
    text = stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else
                          "%Y-%m-%d %H:%M" if stamp.second == 0 and stamp.microsecond == 0 else
                          "%Y-%m-%d %H:%M:%S")
    offset = stamp.strftime("%z") if stamp.tz is not None else ""
    return text + (f"{offset[:3]}:{offset[3:]}" if offset else "")


def _times(stamps, args):
    """The first five timestamps as :func:`_when` writes them, and how many more."""
    return _listed([_when(stamp, args) for stamp in stamps[:6]], len(stamps))


def _listed(items, total=None, shown=5):
    """'a, b, c, d, e and 3 more': the first ``shown`` of ``total`` items (default: all)."""
    total = len(items) if total is None else total
    return ", ".join(items[:shown]) + (f" and {total - shown} more" if total > shown else "")


def _duration(step):
    """1 day, 3 days, 01:00:00, 2 days 00:30:00."""
    step = pd.Timedelta(step)
    days, rest = step.days, step - pd.Timedelta(days=step.days)
    clock = str(rest).split(" days ")[-1] if rest else ""
    return " ".join(filter(None, [f"{days} day{'s' * (days != 1)}" if days else "", clock]))


def _check_length(data, args, freq, model):
    """Enough rows, or a 'too short' error with the numbers.

    ``predict`` (``model`` given): the last ``lookback_`` rows that the model
    reads; ``forecast``: one training window and the horizon after it (and
    the rows ``--transform`` reads before it, with the season of ``freq``).
    """
    if model is not None:
        needed = model.lookback_
        if len(data) < needed:
            raise CommandError(f"{args.file} has {len(data)} row{'s' * (len(data) != 1)}, too "
                               f"few for {args.model_file}, which needs at least {needed} rows: "
                               f"the model reads the last {needed}; use a longer file")
        return
    extra = _extra_rows(args, args.season or infer_season(freq))
    needed = args.window + extra + args.horizon
    if len(data) >= needed:
        return
    history = f" + {extra} for --transform {args.transform}" if extra else ""
    largest = len(data) - extra - args.horizon
    advice = (f"use a smaller --window (at most {largest}) or a longer file" if largest >= 1
              else "use a longer file")
    raise CommandError(f"the series has {len(data)} row{'s' * (len(data) != 1)}, too short: "
                       f"one training window of {args.window} rows (--window){history} and the "
                       f"{args.horizon} rows after it (--horizon) need {needed}; {advice}")


def _check_transform(data, args, model):
    """Refuse values that the target transform divides by: --transform's, or for ``predict``
    ``model``'s, in the rows that the model reads."""
    if model is None:
        chosen, who, advice = args.transform, f"--transform {args.transform}", "use"
    else:
        chosen = getattr(model, "target_transform_", None)
        who = f"the model {args.model_file} (--transform {chosen})"
        data, advice = data.iloc[-model.lookback_:], "fit and --save a model with"
    values = data[args.target]
    for transform, bad, what in (("log_return", values <= 0, "values <= 0"),
                                 ("return", values == 0, "zeros")):
        if chosen == transform and bad.any():
            first = values.index[bad.to_numpy()][0]
            raise CommandError(f"{who} divides by the values, and {args.target!r} has {what} "
                               f"(first at {_when(first, args)}: {values[first]:g}); {advice} "
                               f"--transform diff or none")


def _check_reflected_levels(data, args, origins, model=None):
    """Refuse quantile levels q without 1 - q where a forecast starting from one of the rows
    ``origins`` reads them.

    --transform return (and any transform that multiplies by the value a
    forecast starts from) turns the network's quantile of level 1 - q into
    the level-q quantile where that value is negative; a network trained on
    levels (--quantiles, loss='quantile') has no other.  ``model``: the
    model of ``predict``, with its transform and levels; else --transform
    and --quantiles.
    """
    if model is None:
        transform, levels, trained = args.transform, args.quantiles, bool(args.quantiles)
    else:
        transform, levels = getattr(model, "target_transform_", None), model.quantiles_
        trained = getattr(getattr(model, "regressor_", None), "trained_loss_", None) == "quantile"
    if not trained or transform not in _SCALING_TRANSFORMS:
        return
    absent = sorted({_reflected(level) for level in levels} - set(levels))
    values = data[args.target].to_numpy()
    negative = [row for row in origins if values[row] < 0]
    if not (absent and negative):
        return
    row = negative[0]
    if model is not None:
        where = f"the last row of {args.file}"
    elif row == len(data) - 1:
        where = "the last row"
    else:
        where = "where a fold of the backtest starts (--no-backtest skips the backtest)"
    who = (f"--transform {transform}" if model is None else
           f"the model {args.model_file} (--transform {transform})")
    listed = ",".join(_level_text(level) for level in sorted({*levels, *absent}))
    lacking = ", ".join(_level_text(level) for level in absent)
    rule = (f"{who} multiplies the forecast by the value it starts from, and "
            f"{args.target!r} is negative there: {values[row]:g} at "
            f"{_when(data.index[row], args)}, {where}; where it is negative the quantile of "
            f"level q is the network's of level 1 - q")
    if model is None:
        raise CommandError(f"{rule}, so --quantiles must hold 1 - q of each level: add "
                           f"{lacking} (--quantiles {listed}), or use --transform diff or none")
    raise CommandError(f"{rule}, and the model was trained on the levels "
                       f"{', '.join(map(_level_text, levels))}, without {lacking}: fit and "
                       f"--save a model with --quantiles {listed}")


# What the files to write hold, by option.
_OUTPUTS = {"--out": "the forecast", "--save": "the model"}


def _check_outputs(args, inputs):
    """Refuse the files to write (--out, and forecast's --save) that cannot be written or that
    name one of ``inputs`` ({what: path}), before anything runs."""
    for option, what in _OUTPUTS.items():
        out = getattr(args, option[2:], None)
        if out == "":  # an unset shell variable: "$MODEL"
            raise CommandError(f"{option} is empty: give a file name, or drop {option}")
        if out is None:
            continue
        _check_out(out, option)
        for name, path in inputs.items():
            if _same_file(out, path):
                raise CommandError(f"{option} {out} is {name}: {what} would overwrite it; give "
                                   f"them different files")


def _same_file(first, second):
    """Whether two paths name the same file: os.path.samefile when both exist, else their
    absolute normalised paths."""
    if os.path.exists(first) and os.path.exists(second):
        return os.path.samefile(first, second)
    return (os.path.normcase(os.path.abspath(first))
            == os.path.normcase(os.path.abspath(second)))


def _check_out(out, option):
    """Refuse a file to write (--out, --save) that cannot be written, before any training."""
    path = pathlib.Path(out)
    folder = path.parent
    if path.is_dir():
        example = path / ("model.npz" if option == "--save" else "forecast.csv")
        raise CommandError(f"{option} {out} is a folder: give a file name, e.g. {option} "
                           f"{example}")
    if not folder.is_dir():
        raise CommandError(f"{option} {out}: there is no folder {folder}; create it (mkdir -p "
                           f"{folder}) or choose another {option}")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists()
                                                     and not os.access(path, os.W_OK)):
        raise CommandError(f"{option} {out}: cannot write there (permission denied); choose "
                           f"another {option}")


def _note(text):
    print(f"seqforecast: {text}", file=sys.stderr)


# Library messages written for Python callers, and what the command says instead.
_REWRITES = (
    (r"\bnp\.\w+\(([^()]*)\)", r"\1"),  # np.int64(1) -> 1
    (r"cannot infer the frequency of (\S+) timestamps \(irregular, or gaps\): pass freq=\.\.\. "
     r"and make the series regular, e\.g\. data\.asfreq\(freq\) and fill the new rows",
     "cannot infer the frequency of the timestamps (irregular, or gaps): name it with --freq "
     "and add --fill interpolate (or --fill ffill) to fill the missing rows"),
    (r"; sort it with sort_index\(\)", "; add --sort to sort the rows"),
    (r"fill them, or pass missing='interpolate'",
     "add --fill interpolate (or --fill ffill) to fill them"),
    (r"pass freq=\.\.\.", "name it with --freq"),
    (r"this forecaster predicts at most (\d+) steps \(strategy='direct', horizon=\d+\); "
     r"got (\d+)", r"the model forecasts at most \1 steps, the --horizon it was fitted with; got "
                  r"--horizon \2: forecast fewer, or fit and --save a model with --horizon \2"),
    (r"which calendar=\S+ may add: rename them, or set calendar=None",
     "which --calendar may add: rename them in the file, or use --calendar none"),
    (r"target_transform='(\w+)'", r"--transform \1"),
    (r"\b(window|horizon|season)=(\d+)", r"--\1 \2"),
    (r"\bfreq=(\S+)", r"--freq \1"),
    (r"missing='(\w+)'", r"--missing \1"),
)


# Warnings, and what the command says instead (after _REWRITES): the fold a warning comes from
# (once for all folds), a column for a list of one, the options of the command instead of the
# estimator's parameters.
_WARNING_REWRITES = (
    (r"^fold \d+: ", ""),
    (r"\[('[^']*')\]", r"\1"),  # the columns ['sales'] -> 'sales'
    (r"(?s)Lower learning_rate_init.*",
     "The forecast uses the restored weights; try the default recipe (without --epochs), fewer "
     "--epochs or a smaller --hidden."),
)


def _cli_message(error):
    """A library error in the command's terms: its options, no Python reprs."""
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    elif isinstance(error, OSError) and error.filename and error.strerror:
        text = f"{error.strerror}: {error.filename}"
    else:
        text = str(error)
    return _rephrased(text)


def _rephrased(text, rewrites=_REWRITES):
    """``text`` with each (pattern, replacement) of ``rewrites`` applied in turn."""
    for pattern, replacement in rewrites:
        text = re.sub(pattern, replacement, text)
    return text


def _warning_printer():
    """A :func:`warnings.showwarning` that prints each distinct warning once, on one line of
    standard error in the command's terms, without the file and line it comes from."""
    shown = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = _rephrased(_rephrased(str(message)), _WARNING_REWRITES)
        if text not in shown:
            shown.add(text)
            print(f"seqforecast: warning: {text}", file=sys.stderr)
    return show


@contextlib.contextmanager
def _held_warnings():
    """Hold the warnings raised while a line is being written on standard error (they would
    end up in it); on leaving, end the line with what was appended to the list yielded, and
    show them, also when the block raised."""
    ending, held = [], []
    try:
        with warnings.catch_warnings(record=True) as held:
            try:
                yield ending
            finally:
                print("".join(ending), file=sys.stderr)
    finally:
        for caught in held:
            warnings.showwarning(caught.message, caught.category, caught.filename,
                                 caught.lineno)


def _metric(value):
    """A number of the backtest table: 3 decimals; 4 significant digits below 0.1 (the errors
    of a series of small values: 3 decimals would print 0.000); exponent form from a billion."""
    if value and abs(value) < 0.1:
        return f"{value:#.4g}"
    return f"{value:.3f}" if abs(value) < 1e9 else f"{value:.3e}"


def _make_forecaster(model, args, season=1):
    """The forecaster that ``model`` names, built from the command's options.

    The one place where the candidates are built: 'lstm', 'gru', 'rnn' (the
    networks), 'ridge' (Ridge on the same lags and target transform) and
    'naive' (the seasonal naive forecast with ``season``).
    """
    if model == "naive":
        return NaiveForecaster(season, args.horizon, freq=args.freq, missing=args.missing)
    calendar = args.calendar
    if model == "ridge":
        regressor, calendar = Ridge(), None  # the baseline: the lags only
    elif args.epochs or args.hidden:
        regressor = MODELS[model](args.hidden or 32, learning_rate_init=3e-3,
                                  max_iter=args.epochs or 50, random_state=args.seed)
    else:
        regressor = model  # the default recipe
    quantile = ({"loss": "quantile", "quantiles": args.quantiles}
                if args.quantiles and model in MODELS else {})
    return SequenceForecaster(regressor, window=args.window, horizon=args.horizon,
                              missing=args.missing, freq=args.freq, random_state=args.seed,
                              target_transform=_target_transform(args), calendar=calendar,
                              season=season if args.transform in SEASONAL else None, **quantile)


def _label(model, args, season):
    """How the table and the messages name a candidate."""
    if model in MODELS:
        return f"{model.upper()}({args.hidden or 32})"
    if model == "ridge":
        return "Ridge on lags"
    return "last value" if season == 1 else f"seasonal naive ({season})"


def _guard(data, args):
    """Backtest the candidates on the same folds and print the table to standard error.

    Returns the model to forecast with (the one picked for ``--model auto``)
    and the season.  Warns when the chosen network does worse than a
    baseline; skips the backtest, saying so, when the series is too short
    for one fold.
    """
    season, why = _season(args)
    models = AUTO_CANDIDATES if args.model == "auto" else (args.model, *BASELINES)
    fallback = "lstm" if args.model == "auto" else args.model
    needed = _training_rows(args, season)
    n_folds = _guard_folds(data, args, season)
    if n_folds < 1:
        print(f"seqforecast: the series has {len(data)} rows, too few to backtest against the "
              f"baselines (one fold needs {needed} training rows and {args.horizon} test rows): "
              f"backtest guard skipped, forecasting with {fallback} directly", file=sys.stderr)
        return fallback, season
    labels = {model: _label(model, args, season) for model in models}
    forecasters = {labels[model]: _make_forecaster(model, args, season) for model in models}
    print(f"backtest of {', '.join(forecasters)}: {n_folds} rolling-origin fold"
          f"{'s' if n_folds > 1 else ''} of {args.horizon} rows at the end of {len(data)}; MASE "
          f"against the seasonal naive forecast with season {season} ({why})", file=sys.stderr)
    with warnings.catch_warnings():  # the table reports how well each model did
        warnings.simplefilter("ignore", ConvergenceWarning)
        table, _ = compare(forecasters, data, n_folds=n_folds, test_size=args.horizon,
                           season=season)
    print("mean over folds (MAPE as a fraction):", file=sys.stderr)
    print(table.to_string(float_format=_metric), file=sys.stderr)
    values = data[args.target]
    if values.min() < 0 < values.max():
        _note(f"{args.target!r} crosses zero, and MAPE divides by the actual values: near zero "
              f"they make it large whatever the forecast; judge by MAE or MASE here")
    if args.model == "auto":
        ranked = table.sort_values(["MASE", "MAE"]).index  # NaN last
        model = _pick(table, [labels[m] for m in models])
        model = next(m for m in models if labels[m] == model)
        others = ", ".join(f"{label} {table.loc[label, 'MASE']:.3f}" for label in ranked
                           if label != labels[model])
        chosen = table.loc[labels[model]]
        why = (f"the lowest backtest MASE, {chosen['MASE']:.3f} (the simplest model within "
               f"{AUTO_TIE:.1%} of the lowest; then {others})"
               if not np.isnan(chosen["MASE"]) else
               f"no MASE is defined (the series' in-sample seasonal naive error is 0), so the "
               f"lowest backtest MAE, {chosen['MAE']:.4g}")
        print(f"seqforecast: --model auto picked {labels[model]}: {why}; forecasting with it "
              f"refitted on the whole series", file=sys.stderr)
        return model, season
    warning = _beaten(table, labels[args.model], [labels[m] for m in BASELINES],
                      bool(args.quantiles))
    if warning:
        print(warning, file=sys.stderr)
    return args.model, season


def _guard_folds(data, args, season):
    """How many folds the guard backtests: up to :data:`GUARD_FOLDS` of ``--horizon`` rows
    each, after the rows that one fold trains on (less than 1: too few rows for a fold)."""
    return min(GUARD_FOLDS, (len(data) - _training_rows(args, season)) // args.horizon)


def _origins(data, args, season):
    """The rows that ``forecast``'s quantile forecasts start from, earliest first: the last row
    before each fold of the guard's backtest (none with --no-backtest), and the last row."""
    n_folds = 0 if args.no_backtest else max(_guard_folds(data, args, season), 0)
    return [len(data) - 1 - fold * args.horizon for fold in range(n_folds, -1, -1)]


def _season(args):
    """The season (``--season``, or from the series' frequency ``--freq``) and where it came
    from."""
    if args.season is not None:
        return args.season, "--season"
    return infer_season(args.freq), f"from the frequency {args.freq}; --season to change"


def _pick(table, candidates):
    """The simplest of ``candidates`` (simplest first) whose MASE ties with the lowest.

    A tie is a MASE within :data:`AUTO_TIE` of the lowest; NaN never wins
    unless every MASE is NaN (then the lowest MAE).
    """
    lowest = table.loc[candidates, "MASE"].min()
    tied = [c for c in candidates if table.loc[c, "MASE"] <= lowest * (1 + AUTO_TIE)]
    return tied[0] if tied else table.loc[candidates].sort_values("MAE").index[0]


def _beaten(table, model, baselines, quantiles=False):
    """A warning when ``model``'s MASE is worse than the best baseline's by more than
    :data:`AUTO_TIE`, the share within which --model auto calls two MASEs tied (and picks the
    simpler model), else None.  With ``quantiles`` (--quantiles, which --model auto refuses)
    it does not advise --model auto."""
    best = table.loc[baselines].sort_values(["MASE", "MAE"]).index[0]  # NaN last
    mase, best_mase = table.loc[model, "MASE"], table.loc[best, "MASE"]
    if not mase > best_mase * (1 + AUTO_TIE):
        return None
    advice = ("--model auto cannot pick a baseline with --quantiles: the baselines give no "
              "quantiles" if quantiles else
              "try --model auto, which forecasts with the model of lowest MASE")
    return (f"seqforecast: warning: {model} forecasts worse than {best} in the backtest (MASE "
            f"{mase:.3f} against {best_mase:.3f}); {advice}")


def _extra_rows(args, season):
    """Rows before a window that ``--transform`` reads (the value it differences from)."""
    return {"diff": 1, "return": 1, "log_return": 1, "seasonal_diff": season}.get(args.transform, 0)


def _training_rows(args, season):
    """Training rows a fold needs: one training window, and more than one season (MASE)."""
    return max(args.window + _extra_rows(args, season) + args.horizon, season + 1)


def _target_transform(args):
    return None if args.transform == "none" else args.transform


def _calendar(text):
    """``--calendar``: 'auto', 'none', or cycles separated by commas."""
    if text in ("auto", "none"):
        return None if text == "none" else text
    cycles = [part.strip() for part in text.split(",")]
    unknown = [cycle for cycle in cycles if cycle not in CYCLES]
    if unknown or len(set(cycles)) != len(cycles):
        what = (f"{', '.join(map(repr, unknown))} "
                f"{'is not a cycle' if len(unknown) == 1 else 'are not cycles'}" if unknown
                else "a cycle is given twice")
        raise argparse.ArgumentTypeError(f"{what}: give 'auto', 'none' or cycles among "
                                         f"{', '.join(CYCLES)} separated by commas, e.g. "
                                         f"--calendar week,year")
    return cycles


def _positive(text):
    """An integer from 1 on: --horizon, --window, --epochs, --hidden, --season."""
    return _integer(text, 1, None, "a positive integer")


def _seed(text):
    """--seed: an integer from 0 to 2**32 - 1, the seeds numpy takes."""
    return _integer(text, 0, 2**32 - 1, f"an integer from 0 to {2**32 - 1}")


def _integer(text, low, high, what):
    """``text`` as an integer from ``low`` to ``high`` (None: no limit), else argparse's error
    saying it must be ``what``."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def _levels(text):
    """``--quantiles``: levels in (0, 1) separated by commas, 0.5 among them, increasing, kept
    to 12 decimals as the library keeps them (:func:`~seqforecast._checks.round_level`)."""
    example = "e.g. --quantiles 0.05,0.5,0.95"
    levels, parts = [], [part.strip() for part in text.split(",")]
    for part in parts:
        try:
            level = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a number: give levels "
                                             f"separated by commas, {example}") from None
        if not 0 < round_level(level) < 1:
            hint = (f" (a percentage? write {level / 100:g})" if 1 < level < 100 else
                    f" (to 12 decimals, as the levels are kept, it is {round_level(level):g})"
                    if 0 < level < 1 else "")
            raise argparse.ArgumentTypeError(f"the levels must be between 0 and 1, got "
                                             f"{part}{hint}")
        level = round_level(level)
        if level in levels:
            earlier = parts[levels.index(level)]
            raise argparse.ArgumentTypeError(
                f"{part} is given twice" if float(earlier) == float(part) else
                f"{earlier} and {part} are the same level to 12 decimals, as the levels are "
                f"kept: give it once")
        levels.append(level)
    if 0.5 not in levels:
        raise argparse.ArgumentTypeError(f"0.5 is missing: the forecast column is the median, "
                                         f"so the network is trained on it too; {example}")
    return tuple(sorted(levels))


def _level_text(level):
    """A quantile level as the column names and messages write it: 12 significant digits
    without trailing zeros (0.05, 0.333333333333; 1e-05 below 1e-4), so that distinct
    levels, kept to 12 decimals, have distinct names."""
    return f"{level:.12g}"


def _progress(done, total, loss, seconds, width=30):
    filled = round(width * done / total)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] epoch {done}/{total}  loss {loss:.4g}"
          f"  {seconds:.1f} s", end="", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
