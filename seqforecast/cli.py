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
from .estimators import GRURegressor, LSTMRegressor, RNNRegressor
from .forecasting import NaiveForecaster, SequenceForecaster, compare

MODELS = {"lstm": LSTMRegressor, "gru": GRURegressor, "rnn": RNNRegressor}

# The demo: monthly airline passengers, 12 months ahead from 24 months of log returns,
# backtested on 3 folds of 24 months.
DEMO = dict(window=24, horizon=12, season=12, folds=3, test_size=24,
            target_transform="log_return", epochs=200, batch_size=16)


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
    forecast.add_argument("--model", choices=sorted(MODELS), default="lstm")
    forecast.add_argument("--out", help="output CSV (default: print to the terminal)")
    forecast.add_argument("--time-column", help="timestamp column (default: the first column)")
    forecast.add_argument("--window", type=_positive, default=24, help="input steps (%(default)s)")
    forecast.add_argument("--epochs", type=_positive, default=50,
                          help="training epochs (%(default)s)")
    forecast.add_argument("--hidden", type=_positive, default=32, help="hidden units (%(default)s)")
    forecast.add_argument("--transform", choices=["none", "diff", "return", "log_return"],
                          default="none", help="model changes instead of levels")
    forecast.add_argument("--missing", choices=["error", "interpolate"], default="error")
    forecast.add_argument("--freq", help="frequency of the timestamps, e.g. 'D' or '30min' "
                                         "(default: inferred)")
    forecast.add_argument("--seed", type=int, default=0)
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
        regressor = MODELS[kind](32, learning_rate_init=3e-3, batch_size=DEMO["batch_size"],
                                 max_iter=DEMO["epochs"], early_stopping=True,
                                 validation_fraction=0.2, n_iter_no_change=20, random_state=0)
        return SequenceForecaster(regressor, window=window, horizon=horizon,
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
    """Fit a recurrent forecaster on one column of a CSV file with a progress bar."""
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
    data = data[[args.target]]
    regressor = MODELS[args.model](args.hidden, learning_rate_init=3e-3, random_state=args.seed)
    forecaster = SequenceForecaster(
        regressor, window=args.window, horizon=args.horizon, missing=args.missing, freq=args.freq,
        target_transform=None if args.transform == "none" else args.transform)
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        forecaster.partial_fit(data)
        _progress(epoch, args.epochs, forecaster.regressor_.loss_, time.perf_counter() - started)
    print(file=sys.stderr)
    forecast = forecaster.predict()
    if args.out:
        forecast.to_csv(args.out)
        print(f"{args.horizon}-step forecast of {args.target!r} -> {args.out}", file=sys.stderr)
    else:
        print(forecast.to_csv(), end="")


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
