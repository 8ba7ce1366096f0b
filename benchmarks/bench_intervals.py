"""Interval benchmark: the quantile forecaster's conformalised intervals against split-conformal
intervals around the point forecast, on the bundled sensor series and the stocks' log returns.

Run: ``pip install -e ".[benchmark]" && python benchmarks/bench_intervals.py`` (``--quick``
for a smoke run, ``--series`` for a subset, ``--seeds N``, ``--gammas 0.01,0.02,auto`` for
ACI-CQR at more steps than the default's, 'auto' being DtACI's).

Protocol
--------
Every series is taken as :mod:`bench_accuracy` prepares it (the same grid, gap filling, last
4,000 rows, window, horizon, season and test-block length); the stocks' prices are turned
into daily log returns (a price carried over an exchange holiday gives a return of 0).
Each model is fitted once, on the rows before the first of ``2 * CAL_FOLDS`` test blocks
(``backtest(..., refit=False)``; ``--refit``: refitted before every block), with
``target_transform`` as in the accuracy benchmark (None for the returns), and forecasts from
every origin of the blocks.  The first
``CAL_FOLDS`` blocks only calibrate; each of the last ``CAL_FOLDS`` blocks is scored with
intervals calibrated on the ``CAL_FOLDS`` blocks just before it, as a deployed model is
recalibrated on its recent forecasts as their actuals come in.  Calibration never sees the
scored actuals, and calibration and scoring use the same fitted model (conformal
guarantees assume one model; with ``--refit`` each block's forecasts come from its own fit,
as when a backtest calibrates the intervals of a model refitted on all the data).

* ``quantile``: ``SequenceForecaster(regressor='lstm', loss='quantile',
  quantiles=(0.05, 0.5, 0.95))``: the default recipe trained on the pinball loss.
  ``raw``: its own 5%-95% interval; ``CQR``: that interval moved by the conformalised
  quantile regression correction of the calibration folds
  (:meth:`~seqforecast.evaluation.BacktestResult.interval_corrections`, per step);
  ``asymmetric CQR``: each bound moved by its own correction (``side='lower'`` and
  ``'upper'``); ``ACI-CQR``: adaptive conformal inference on the CQR scores
  (:meth:`~seqforecast.evaluation.BacktestResult.adaptive_corrections`, ``gamma=GAMMA``),
  run origin by origin through all six blocks, each forecast corrected from the scores known
  at its origin; ``asymmetric ACI-CQR``: the same for each bound alone.
* ``split-conformal``: the default point forecaster (``regressor='lstm'``, squared error),
  the forecast plus or minus the conformal quantile of the calibration folds' absolute
  errors per step (:meth:`~seqforecast.evaluation.BacktestResult.interval_half_widths`):
  what seqforecast offered before; ``split-conformal, ACI``: the same with adaptive
  conformal inference on the absolute errors.

Scores on the scored folds, for the nominal 90% interval, over every origin, step and
target: empirical coverage, the mean interval score of Gneiting & Raftery (2007, lower is
better, in the series' units) and the mean width.  For the returns, also the correlation
(Pearson and Spearman, over origins and steps) between the CQR interval's width and the
realised absolute return it covers: positive when the width tracks volatility.
"""
import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from seqforecast.evaluation import BacktestResult, backtest
from seqforecast.forecasting import SequenceForecaster

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_accuracy import SERIES, environment_report, prepare  # noqa: E402
from options import positive_int  # noqa: E402

COVERAGE = 0.9
LEVELS = (0.05, 0.5, 0.95)
CAL_FOLDS = 3
GAMMA = 0.005
# The methods' rows by their short names in the summary.
SHORT = {"raw": "quantile, raw", "CQR": "quantile, CQR", "asym": "quantile, asymmetric CQR",
         "split": "split-conformal", "ACI-CQR": "quantile, ACI-CQR",
         "ACI asym": "quantile, asymmetric ACI-CQR",
         "ACI split": "split-conformal, ACI"}
# (method, against): interval-score ratios in the summary.  The goal compares with today's
# split-conformal intervals; ACI against ACI on the point forecast is the like-for-like one.
COMPARED = (("CQR", "split"), ("asym", "split"), ("ACI-CQR", "split"), ("ACI-CQR", "ACI split"),
            ("ACI asym", "split"), ("ACI asym", "ACI split"))
SENSORS = ("electricity", "sea_temperature", "seattle_temp_max", "cycling_speed", "water_flow",
           "glucose")
RETURNS = ("msft", "aapl")
QUICK_SERIES = ("water_flow", "msft")


def series_data(spec):
    """The frame a series is backtested on, its target transform and a note on what was done."""
    data, notes = prepare(spec)
    if spec.name in RETURNS:
        prices = data.iloc[:, 0]
        data = np.log(prices).diff().iloc[1:].rename(f"{spec.name}_log_return").to_frame()
        return data, None, notes + "; daily log returns of the prepared prices"
    return data, spec.transform, notes


def forecaster(spec, transform, seed, probabilistic):
    options = dict(loss="quantile", quantiles=LEVELS) if probabilistic else {}
    return SequenceForecaster(regressor="lstm", window=spec.window, horizon=spec.horizon,
                              target_transform=transform, random_state=seed, **options)


def _part(result, folds):
    """The backtest restricted to ``folds``, as a BacktestResult (its per-row tables)."""
    rows = result.predictions["fold"].isin(folds).to_numpy()
    quantiles = (None if result.quantile_predictions is None
                 else result.quantile_predictions[rows].reset_index(drop=True))
    return BacktestResult(result.predictions[rows].reset_index(drop=True), result.by_fold,
                          result.by_step, quantiles)


def _per_row(scored, table):
    """Per row of ``scored``, the (step, target) entry of a calibration ``table``."""
    index = pd.MultiIndex.from_frame(scored.predictions[["step", "target"]])
    return table.stack().reindex(index).to_numpy()


def _scores(actual, lower, upper):
    alpha = 1 - COVERAGE
    score = ((upper - lower) + (2 / alpha) * np.maximum(lower - actual, 0)
             + (2 / alpha) * np.maximum(actual - upper, 0))
    return {"coverage": np.mean((lower <= actual) & (actual <= upper)),
            "interval score": score.mean(), "width": np.mean(upper - lower)}


def _calibrated(quantile, point, fold):
    """Lower and upper bounds of each method on the rows of ``fold``, calibrated on the
    ``CAL_FOLDS`` folds before it."""
    cal_q, scored_q = _part(quantile, range(fold - CAL_FOLDS, fold)), _part(quantile, [fold])
    cal_p, scored_p = _part(point, range(fold - CAL_FOLDS, fold)), _part(point, [fold])
    lower = scored_q.quantile_predictions[LEVELS[0]].to_numpy()
    upper = scored_q.quantile_predictions[LEVELS[-1]].to_numpy()
    both = _per_row(scored_q, cal_q.interval_corrections(COVERAGE))
    below = _per_row(scored_q, cal_q.interval_corrections(COVERAGE, side="lower"))
    above = _per_row(scored_q, cal_q.interval_corrections(COVERAGE, side="upper"))
    half = _per_row(scored_p, cal_p.interval_half_widths(COVERAGE))
    forecast = scored_p.predictions["predicted"].to_numpy()
    return {"quantile, raw": (lower, upper),
            "quantile, CQR": (lower - both, upper + both),
            "quantile, asymmetric CQR": (lower - below, upper + above),
            "split-conformal": (forecast - half, forecast + half)}


def run_series(spec, seed, refit, gammas=()):
    data, transform, notes = series_data(spec)
    results, seconds = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, probabilistic in (("quantile", True), ("point", False)):
            started = time.perf_counter()
            results[name] = backtest(forecaster(spec, transform, seed, probabilistic), data,
                                     n_folds=2 * CAL_FOLDS, test_size=spec.test_size,
                                     refit=refit, season=spec.season)
            seconds[name] = time.perf_counter() - started
    scored = _part(results["quantile"], range(CAL_FOLDS, 2 * CAL_FOLDS))
    bounds = [_calibrated(results["quantile"], results["point"], fold)
              for fold in range(CAL_FOLDS, 2 * CAL_FOLDS)]
    actual = scored.predictions["actual"].to_numpy()
    rows = {method: _scores(actual, *(np.concatenate([b[method][i] for b in bounds])
                                      for i in (0, 1)))
            for method in bounds[0]}
    # Adaptive conformal inference along all six blocks, scored on the last three.
    scored_rows = results["quantile"].predictions["fold"].to_numpy() >= CAL_FOLDS
    lower = scored.quantile_predictions[LEVELS[0]].to_numpy()
    upper = scored.quantile_predictions[LEVELS[-1]].to_numpy()
    below, above, both = (results["quantile"].adaptive_corrections(
        COVERAGE, side=side, gamma=GAMMA)[0].to_numpy()[scored_rows]
        for side in ("lower", "upper", "both"))
    rows["quantile, ACI-CQR"] = _scores(actual, lower - both, upper + both)
    rows["quantile, asymmetric ACI-CQR"] = _scores(actual, lower - below, upper + above)
    for gamma in gammas:
        both = results["quantile"].adaptive_corrections(
            COVERAGE, gamma=gamma)[0].to_numpy()[scored_rows]
        rows[_gamma_row(gamma)] = _scores(actual, lower - both, upper + both)
    point = results["point"].predictions
    half = results["point"].adaptive_corrections(COVERAGE, "split", gamma=GAMMA)[0]
    forecast = point["predicted"].to_numpy()[scored_rows]
    rows["split-conformal, ACI"] = _scores(point["actual"].to_numpy()[scored_rows],
                                           forecast - half[scored_rows],
                                           forecast + half[scored_rows])
    extra = {}
    if spec.name in RETURNS:
        lower, upper = (np.concatenate([b["quantile, CQR"][i] for b in bounds]) for i in (0, 1))
        width, size = upper - lower, np.abs(actual)
        extra = {"pearson": stats.pearsonr(width, size)[0],
                 "spearman": stats.spearmanr(width, size)[0]}
    return notes, pd.DataFrame(rows).T, extra, seconds


def _label(gamma):
    """A step as the tables name it: 0.01, or auto (DtACI)."""
    return "auto" if gamma == "auto" else f"{gamma:g}"


def _gamma_row(gamma):
    return f"quantile, ACI-CQR, gamma {_label(gamma)}"


def _methods(gammas):
    """The summary's methods by short name, and the (method, against) score ratios, with
    ACI-CQR at each step of ``--gammas`` against split-conformal."""
    short = {**SHORT, **{f"ACI-CQR {_label(g)}": _gamma_row(g) for g in gammas}}
    return short, COMPARED + tuple((f"ACI-CQR {_label(g)}", "split") for g in gammas)


def _summary_row(table, short, compared):
    """Coverage of every method and the interval-score ratios the goals are judged by."""
    row = {f"{name} coverage": table.loc[method, "coverage"] for name, method in short.items()}
    score = table["interval score"]
    row.update({f"{a} / {b} score": score[short[a]] / score[short[b]] for a, b in compared})
    return row


def parse_args(argv=None):
    names = list(SENSORS + RETURNS)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {', '.join(QUICK_SERIES)}, one seed")
    parser.add_argument("--series", nargs="+", choices=names, metavar="NAME",
                        help=f"run only these series ({', '.join(names)})")
    parser.add_argument("--seeds", type=positive_int,
                        help="seeds 0..N-1 (default 3; 1 with --quick)")
    parser.add_argument("--refit", action="store_true",
                        help="refit before every test block (default: one fit per model)")
    parser.add_argument("--gammas", type=_gammas, default=(), metavar="G,G,...",
                        help=f"also score ACI-CQR with these steps gamma, 'auto' for DtACI "
                             f"(the rows of the default, {GAMMA}, stay)")
    return parser.parse_args(argv)


def _gammas(text):
    try:
        values = tuple(part if part == "auto" else float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"give steps separated by commas, e.g. 0.01,0.02,auto, "
                                         f"got {text!r}") from None
    if not all(value == "auto" or 0 < value < float("inf") for value in values):
        raise argparse.ArgumentTypeError(f"the steps must be positive numbers, got {text!r}")
    return values


def main(argv=None):
    args = parse_args(argv)
    short, compared = _methods(args.gammas)
    names = args.series or (QUICK_SERIES if args.quick else SENSORS + RETURNS)
    specs = [s for s in SERIES if s.name in names]
    seeds = range(args.seeds or (1 if args.quick else 3))
    started = time.perf_counter()
    print(environment_report())
    print(f"nominal coverage {COVERAGE:.0%}; levels {LEVELS}; {CAL_FOLDS} calibration folds, "
          f"then {CAL_FOLDS} scored folds; "
          f"{'refitted before every block' if args.refit else 'one fit per model'}; seeds "
          f"{list(seeds)}\n")
    summary = []
    with threadpool_limits(1):
        for spec in specs:
            for seed in seeds:
                notes, table, extra, seconds = run_series(spec, seed, args.refit, args.gammas)
                print(f"== {spec.name} (seed {seed}; window {spec.window}, horizon "
                      f"{spec.horizon}, test blocks of {spec.test_size} rows): {notes}")
                print(table.to_string(float_format=lambda v: f"{v:.4g}"))
                if extra:
                    print(f"CQR width against the realised |return|: Pearson "
                          f"{extra['pearson']:.3f}, Spearman {extra['spearman']:.3f}")
                print(f"seconds (backtest of {2 * CAL_FOLDS} blocks): "
                      + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()) + "\n", flush=True)
                summary.append({"series": spec.name, "seed": seed,
                                **_summary_row(table, short, compared), **extra})
    frame = pd.DataFrame(summary).set_index(["series", "seed"])
    means = frame.groupby(level="series", sort=False).mean()
    print("== summary: 90% intervals on the scored folds, mean over seeds (score ratios below 1:"
          " a lower interval score than split-conformal's)")
    print(means.to_string(float_format=lambda v: f"{v:.3f}", na_rep=""))
    for method, against in compared:
        inside = means[f"{method} coverage"].between(0.88, 0.92)
        better = means[f"{method} / {against} score"] < 1
        print(f"{method}: coverage within 88-92% on {int(inside.sum())} of {len(means)} series; "
              f"interval score below {short[against]}'s on {int(better.sum())} of "
              f"{len(means)}")
    print(f"\ntotal time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
