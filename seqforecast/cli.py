"""The ``seqforecast`` command: ``seqforecast demo`` and ``seqforecast forecast FILE.csv``."""
import argparse
import pathlib
import sys
import time
import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from .datasets import load_airline_passengers
from .estimators import REGRESSORS as MODELS
from .forecasting import NaiveForecaster, SequenceForecaster, compare
from .windowing import SlidingWindowTransformer, check_series

# What ``forecast --model auto`` backtests, and the baselines the guard compares a network with.
AUTO_CANDIDATES = ("lstm", "gru", "ridge", "naive")
BASELINES = ("ridge", "naive")
# The guard's backtest: up to this many folds of ``horizon`` rows each.
GUARD_FOLDS = 3

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
    forecast = commands.add_parser("forecast", help="forecast a column of a CSV file")
    forecast.add_argument("file", help="CSV file with a time column and numeric columns")
    forecast.add_argument("--target", required=True, help="the column to forecast")
    forecast.add_argument("--horizon", type=_positive, required=True, help="steps to forecast")
    forecast.add_argument("--model", choices=[*sorted(MODELS), "auto"], default="lstm",
                          help="the network (default: %(default)s); 'auto': backtest lstm, gru, "
                               "Ridge on lags and the seasonal naive forecast and forecast with "
                               "the one of lowest MASE")
    forecast.add_argument("--out", help="output CSV (default: print to the terminal)")
    forecast.add_argument("--time-column", help="timestamp column (default: the first column)")
    forecast.add_argument("--window", type=_positive, default=24, help="input steps (%(default)s)")
    forecast.add_argument("--epochs", type=_positive,
                          help="train the network for this many epochs with a progress bar "
                               "(default: the default recipe, about 1000 optimizer steps with "
                               "early stopping on the most recent windows)")
    forecast.add_argument("--hidden", type=_positive,
                          help="hidden units of a network trained with --epochs (default 32)")
    forecast.add_argument("--transform",
                          choices=["none", "diff", "return", "log_return", "seasonal_diff"],
                          default="none", help="model changes instead of levels "
                                               "('seasonal_diff': from one season earlier)")
    forecast.add_argument("--missing", choices=["error", "interpolate"], default="error")
    forecast.add_argument("--freq", help="frequency of the timestamps, e.g. 'D' or '30min' "
                                         "(default: inferred)")
    forecast.add_argument("--seed", type=int, default=0)
    forecast.add_argument("--season", type=_positive,
                          help="season of the seasonal naive baseline and of MASE (default: "
                               "from the frequency: 24 hourly, 48 half-hourly, 7 daily, "
                               "5 business-daily, 52 weekly, 12 monthly, 4 quarterly, else 1)")
    forecast.add_argument("--no-backtest", action="store_true",
                          help="skip the backtest against the baselines (Ridge on lags, "
                               "seasonal naive) that runs before the forecast")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(pathlib.Path(args.out_dir))
        else:
            run_forecast(args)
    except (ValueError, TypeError, KeyError, OSError) as error:
        print(f"seqforecast: error: {error}", file=sys.stderr)
        return 2
    return 0


def run_demo(out_dir):
    """Backtest LSTM and GRU against baselines, print the table, write the forecast."""
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
                                            target_transform=DEMO["target_transform"]),
        "last value": NaiveForecaster(1, horizon),
        f"seasonal naive ({season})": NaiveForecaster(season, horizon),
    }
    with warnings.catch_warnings():  # the table reports how well each model did
        warnings.simplefilter("ignore", ConvergenceWarning)
        table, results = compare(candidates, data, n_folds=DEMO["folds"],
                                 test_size=DEMO["test_size"], season=season)
    print("\nmean over folds (MAPE as a fraction; MASE against the seasonal naive "
          "in-sample error):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))

    best = min(("LSTM(32)", "GRU(32)"), key=lambda name: table.loc[name, "MAE"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster = candidates[best].fit(data)
    forecast = forecaster.predict()
    lower, upper = results[best].prediction_intervals(forecast, coverage=0.9)
    out_dir.mkdir(parents=True, exist_ok=True)
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
    data = _read_series(args)
    model = args.model
    if args.no_backtest:
        season = _season(data, args)[0] if args.transform == "seasonal_diff" else 1
    else:
        model, season = _guard(data, args)
    forecaster = _make_forecaster(model, args, season)
    started = time.perf_counter()
    if model in MODELS and args.epochs:
        for epoch in range(1, args.epochs + 1):
            forecaster.partial_fit(data)
            _progress(epoch, args.epochs, forecaster.regressor_.loss_,
                      time.perf_counter() - started)
        print(file=sys.stderr)
    elif model in MODELS:
        print(f"training {_label(model, args, season)} with the default recipe ...",
              end="", file=sys.stderr, flush=True)
        with warnings.catch_warnings():  # the backtest above says how well it does
            warnings.simplefilter("ignore", ConvergenceWarning)
            forecaster.fit(data)
        regressor = forecaster.regressor_
        kept = {True: "recurrent part kept", False: "linear part only: the recurrent part "
                "did not help on the most recent windows", None: ""}[regressor.recurrent_kept_]
        print(f" {regressor.n_iter_} epochs, {time.perf_counter() - started:.1f} s"
              f"{'; ' + kept if kept else ''}", file=sys.stderr)
    else:
        forecaster.fit(data)
    forecast = forecaster.predict()
    if args.out:
        forecast.to_csv(args.out)
        print(f"{args.horizon}-step forecast of {args.target!r} -> {args.out}", file=sys.stderr)
    else:
        print(forecast.to_csv(), end="")


def _read_series(args):
    """The target column of the CSV file, indexed by its time column."""
    raw = pd.read_csv(args.file)
    time_column = args.time_column or raw.columns[0]
    if time_column not in raw.columns:
        raise ValueError(f"no column {time_column!r} in {args.file}; columns: {list(raw.columns)}")
    if args.target not in raw.columns:
        raise ValueError(f"no column {args.target!r} in {args.file}; columns: "
                         f"{list(raw.columns)}")
    if pd.api.types.is_numeric_dtype(raw[time_column]):
        raise ValueError(f"the time column {time_column!r} holds numbers, not dates; name the "
                         f"date column with --time-column")
    data = raw.set_index(pd.DatetimeIndex(pd.to_datetime(raw[time_column]), name=time_column))
    return data[[args.target]]


def _make_forecaster(model, args, season=1):
    """The forecaster that ``model`` names, built from the command's options.

    The one place where the candidates are built: 'lstm', 'gru', 'rnn' (the
    networks), 'ridge' (Ridge on the same lags and target transform) and
    'naive' (the seasonal naive forecast with ``season``).
    """
    if model == "naive":
        return NaiveForecaster(season, args.horizon, freq=args.freq, missing=args.missing)
    if model == "ridge":
        regressor = Ridge()
    elif args.epochs or args.hidden:
        regressor = MODELS[model](args.hidden or 32, learning_rate_init=3e-3,
                                  max_iter=args.epochs or 50, random_state=args.seed)
    else:
        regressor = model  # the default recipe
    return SequenceForecaster(regressor, window=args.window, horizon=args.horizon,
                              missing=args.missing, freq=args.freq, random_state=args.seed,
                              target_transform=_target_transform(args),
                              season=season if args.transform == "seasonal_diff" else None)


def _label(model, args, season):
    """How the table and the messages name a candidate."""
    if model in MODELS:
        return f"{model.upper()}({args.hidden or 32})"
    if model == "ridge":
        return "Ridge on lags"
    return "last value" if season == 1 else f"seasonal naive ({season})"


def infer_season(freq):
    """The season of a frequency where it is obvious, else 1.

    24 for hourly, 48 for 30-minute, 7 for daily, 5 for business-daily,
    52 for weekly, 12 for monthly and 4 for quarterly data.

    Parameters
    ----------
    freq : str or pandas.DateOffset or None

    Returns
    -------
    int
    """
    if freq is None:
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, (pd.offsets.Tick, pd.offsets.Day)):  # fixed steps (Day: pandas 3)
        by_step = {pd.Timedelta(hours=1): 24, pd.Timedelta(minutes=30): 48,
                   pd.Timedelta(days=1): 7}
        return by_step.get(pd.Timedelta(offset), 1)
    if offset.n != 1:
        return 1
    if type(offset) is pd.offsets.BusinessDay:  # not a CustomBusinessDay with its own week
        return 5
    if isinstance(offset, pd.offsets.Week):
        return 52
    if isinstance(offset, (pd.offsets.MonthBegin, pd.offsets.MonthEnd,
                           pd.offsets.BusinessMonthBegin, pd.offsets.BusinessMonthEnd)):
        return 12
    if isinstance(offset, (pd.offsets.QuarterBegin, pd.offsets.QuarterEnd,
                           pd.offsets.BQuarterBegin, pd.offsets.BQuarterEnd)):
        return 4
    return 1


def _guard(data, args):
    """Backtest the candidates on the same folds and print the table to standard error.

    Returns the model to forecast with (the one picked for ``--model auto``)
    and the season.  Warns when the chosen network does worse than a
    baseline; skips the backtest, saying so, when the series is too short
    for one fold.
    """
    data = check_series(data, "data", args.missing)  # backtest refuses missing values
    season, why = _season(data, args)
    models = AUTO_CANDIDATES if args.model == "auto" else (args.model, *BASELINES)
    fallback = "lstm" if args.model == "auto" else args.model
    needed = _training_rows(args, season, data)
    n_folds = min(GUARD_FOLDS, (len(data) - needed) // args.horizon)
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
    print(table.to_string(float_format=lambda v: f"{v:.3f}"), file=sys.stderr)
    if args.model == "auto":
        ranked = table.sort_values(["MASE", "MAE"]).index  # NaN last
        model = next(model for model in models if labels[model] == ranked[0])
        others = ", ".join(f"{label} {table.loc[label, 'MASE']:.3f}" for label in ranked[1:])
        print(f"seqforecast: --model auto picked {ranked[0]}: the lowest backtest MASE, "
              f"{table.loc[ranked[0], 'MASE']:.3f} (then {others}); forecasting with it "
              f"refitted on the whole series", file=sys.stderr)
        return model, season
    warning = _beaten(table, labels[args.model], [labels[m] for m in BASELINES])
    if warning:
        print(warning, file=sys.stderr)
    return args.model, season


def _season(data, args):
    """The season (``--season``, or from the frequency) and where it came from."""
    if args.season is not None:
        return args.season, "--season"
    # Fitting the last-value forecaster checks the timestamps and finds their frequency.
    freq = NaiveForecaster(freq=args.freq, missing=args.missing).fit(data).freq_
    return infer_season(freq), f"from the frequency {freq.freqstr}; --season to change"


def _beaten(table, model, baselines):
    """A warning when ``model``'s MASE is worse than the best baseline's, else None."""
    best = table.loc[baselines].sort_values(["MASE", "MAE"]).index[0]  # NaN last
    mase, best_mase = table.loc[model, "MASE"], table.loc[best, "MASE"]
    if not mase > best_mase:
        return None
    return (f"seqforecast: warning: {model} forecasts worse than {best} in the backtest (MASE "
            f"{mase:.3f} against {best_mase:.3f}); try --model auto, which forecasts with the "
            f"model of lowest MASE")


def _training_rows(args, season, data):
    """Training rows a fold needs: one training window, and more than one season (MASE)."""
    seasonal = args.transform == "seasonal_diff"
    windower = SlidingWindowTransformer(args.window, args.horizon,
                                        target_transform=_target_transform(args),
                                        season=season if seasonal else None).fit(data)
    return max(windower.lookback_ + windower.lead_, season + 1)


def _target_transform(args):
    return None if args.transform == "none" else args.transform


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {value}")
    return value


def _progress(done, total, loss, seconds, width=30):
    filled = round(width * done / total)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] epoch {done}/{total}  loss {loss:.4g}"
          f"  {seconds:.1f} s", end="", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
