"""Accuracy benchmark: seqforecast's recurrent forecasters against baselines on the bundled data.

Run (from the repository root, ``pip install -e ".[benchmark]"`` first)::

    python benchmarks/bench_accuracy.py --quick                 # smoke run, a couple of minutes
    python benchmarks/bench_accuracy.py --series nile airline   # a subset, every seed
    nice python benchmarks/bench_accuracy.py > benchmarks/results/accuracy_$(date +%F).txt

Progress goes to stderr, the report to stdout.

Protocol
--------
Every model is scored on the same rolling-origin folds of the same series:
:func:`seqforecast.evaluation.backtest` with ``refit=True`` (expanding
window: each fold is fitted on every row before its test block) and
``n_folds`` test blocks of ``test_size`` rows at the end of the series.
Every row of a test block that leaves ``horizon`` rows after it (and the
last training row) is a forecast origin; each forecasts ``horizon`` steps.
MAE and MASE are those of ``backtest`` (MASE divides by the in-sample MAE
of the seasonal naive forecast with the series' season), averaged over the
folds.  Seconds per fold are the backtest's wall time (fit and forecasts)
divided by the folds.

The models (one ``SequenceForecaster`` each, with the series' window,
horizon and ``target_transform``, unless said otherwise):

* ``sf LSTM``, ``sf GRU``: seqforecast with its default recurrent recipe,
  ``SequenceForecaster(regressor="lstm" | "gru", random_state=seed)``,
  which sizes ``seqforecast.forecasting.default_regressor`` to each fold's
  training windows (see :func:`seqforecast_forecaster`);
* ``torch LSTM``, ``torch GRU``: the same recipe in PyTorch
  (``benchmarks/torch_twin.py``: its settings come from the same
  ``default_regressor`` call at each fit), wrapped the same way;
* ``Ridge``: ``sklearn.linear_model.Ridge()`` on the same lag windows
  (``calendar=None``: the lags only);
* ``Ridge calendar``: the same with the forecaster's default
  ``calendar='auto'`` (the calendar cycles longer than the window, kept
  where they lower Ridge's error on the most recent 20% of the training rows
  by more than 2%), the inputs the networks and their twins get.  Not
  ranked: it shows what the calendar gives a linear model, apart from what
  the recurrence adds;
* ``Ridge auto-alpha``: the same with its penalty chosen as the networks'
  default recipe chooses their linear path's (``ar_alpha='auto'``): by the
  evidence, :func:`seqforecast.training.selection.ridge_alpha`, on all
  training windows (the report says the penalty chosen in each fold),
  without calendar.  Not ranked: it tells what the penalty gives a linear
  model apart from what the recurrence adds;
* ``Ridge LOO``: scikit-learn's ``RidgeCV`` over the same candidate
  penalties, chosen by the leave-one-out error over all training windows
  (valid for a purely autoregressive model by Bergmeir, Hyndman & Koo 2018,
  and blind to a shift of the newest windows), without calendar.  Not ranked,
  for the same reason;
* ``AutoETS``: statsforecast's AutoETS with the series' season, fitted on
  each fold's training rows; from each origin it forecasts with the fitted
  parameters and the state filtered up to that origin (``forward``), as the
  windowed models forecast from each origin without refitting;
* ``seasonal naive``: ``NaiveForecaster(season)`` (the last value when the
  season is 1), and ``last value`` as well where the season is > 1.

The neural models run with seeds 0, 1, 2 (``--seeds``); the tables show
the mean over seeds and the standard deviation of MASE over seeds.
Ranks are by MASE among sf LSTM, sf GRU, Ridge, AutoETS and seasonal
naive (a model that failed on a series is left out of that series' ranks).
Every model runs single-threaded (BLAS, Numba, PyTorch).

The series and their settings are in :data:`SERIES`, one place, chosen
once from each series' frequency and nature, not tuned to any model:

* season: the period of a cycle the phenomenon is known to have, when it
  spans at most 60 steps (daily cycle of half-hourly and hourly sensors,
  yearly cycle of monthly and weekly data); otherwise 1 (weather's yearly
  cycle in daily data, glucose's daily cycle in 5-minute data, stocks,
  cycling, yearly data);
* window: about two seasons, or a natural span of history; horizon: one
  season, or a natural span ahead;
* target_transform: the forecaster's default 'auto' (None, 'diff' or
  'seasonal_diff', chosen at each fit by Ridge's forecasts of the most
  recent 20% of the fold's training rows, the same for every windowed
  model) for sensors and stationary yearly series;
  'log_return' for prices and the airline series (multiplicative growth);
  'diff' for CO2 (an additive trend that leaves the training range);
* gaps: the series is put on a regular grid, runs of at most ``max_gap``
  missing steps are filled (linear interpolation, or the last price for
  stocks on exchange holidays), and the longest stretch without a longer
  gap is kept; each series' line in the report says what was done;
* length: at most the last 4,000 rows, to bound the run time;
* folds: three test blocks (four seasons for the daily weather) of a
  natural length: a week, a few days, a trading year, two years, ...

Reading the tables
------------------
* With season 1 and a horizon > 1, MASE compares multi-step errors with
  the in-sample one-step naive error, so it is above 1 for every model on
  a random-walk-like series (stocks, cycling, glucose): compare models
  within a series, and with the naive row.
* Stocks are scored on prices: a stock whose price rose over the years
  (MSFT, AAPL) has test errors far larger than the in-sample price changes
  of its cheaper years, hence MASE of 3 to 8 for every model.
* The water-flow stretch has two drops to about 24 l/s (the anomalies the
  loader mentions) in its training rows; they inflate MASE's denominator,
  so every MASE there is small.
* AutoETS reports the model it chose per fold; with a season above 24 it
  may choose no seasonal component (as R's ets() would).

Run time: 1785 s (just under 30 minutes) for the full run with three seeds
on the 2-core development machine, with other processes sharing its cores
(``benchmarks/results/accuracy_2026-12-01.txt``); about 45% of it is the
PyTorch GRU, whose recurrence runs op by op on the CPU (12 to 15 s per
fold on the half-hourly and 1 s series).  If a run must be shorter, lower
the folds of the half-hourly and cycling series first.  ``--quick`` takes
about 75 s.
"""
import argparse
import datetime
import hashlib
import os
import platform
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge, RidgeCV
from threadpoolctl import threadpool_limits

from seqforecast import datasets, forecasting
from seqforecast.evaluation import backtest
from seqforecast.forecasting import NaiveForecaster, SequenceForecaster
from seqforecast.training.selection import RIDGE_ALPHAS, ridge_alpha

sys.path.insert(0, str(Path(__file__).resolve().parent))
from options import cpu_text, load_text, positive_int  # noqa: E402
from torch_twin import TorchDefaultRegressor  # noqa: E402

MAX_ROWS = 4000
SEEDS = (0, 1, 2)
RANKED = ("sf LSTM", "sf GRU", "Ridge", "AutoETS", "seasonal naive")
TWINS = {"sf LSTM": "torch LSTM", "sf GRU": "torch GRU"}
TIE = 0.005  # MASE ratios to Ridge within 0.5% of 1 are ties
QUICK_SERIES = ("airline", "nile", "water_flow", "msft")
QUICK_FOLDS = 2


@dataclass(frozen=True)
class Series:
    """One benchmark series and its settings.

    ``load`` returns the raw column (a pandas Series); ``freq`` is the grid
    it is put on; ``binned``: the timestamps are irregular and are binned
    to the grid (mean per bin) instead of aligned to it; ``fill``:
    'interpolate' (linear) or 'ffill' for the runs of at most ``max_gap``
    missing steps.
    """

    name: str
    load: Callable[[], pd.Series]
    freq: str
    season: int
    window: int
    horizon: int
    n_folds: int
    test_size: int
    transform: str | None = "auto"
    max_gap: int = 0
    fill: str = "interpolate"
    binned: bool = False
    why: str = ""


def _column(loader, column, *args):
    return lambda: loader(*args)[column].astype(float)


SERIES = [
    Series("electricity", _column(datasets.load_electricity_demand, "demand_mw"), "30min",
           season=48, window=96, horizon=48, n_folds=3, test_size=336,
           why="daily cycle; two days in, the next day out; one-week folds"),
    Series("sea_temperature", _column(datasets.load_sea_temperature, "temperature_c"), "30min",
           season=48, window=96, horizon=48, n_folds=3, test_size=336, max_gap=1,
           why="daily cycle; two days in, the next day out; one-week folds"),
    Series("seattle_temp_max", _column(datasets.load_seattle_weather, "temp_max_c"), "D",
           season=1, window=28, horizon=7, n_folds=4, test_size=91,
           why="no cycle within 60 days; four weeks in, a week out; 2015's four seasons"),
    Series("cycling_speed", _column(datasets.load_cycling, "speed_m_s"), "1s",
           season=1, window=60, horizon=10, n_folds=3, test_size=300, max_gap=3,
           why="no cycle; a minute in, 10 s out; five-minute folds"),
    Series("water_flow", _column(datasets.load_water_flow, "flow_l_s"), "h",
           season=24, window=48, horizon=24, n_folds=3, test_size=72, max_gap=3,
           why="daily cycle; two days in, the next day out; three-day folds; two "
               "anomalous drops in the training rows"),
    Series("glucose", _column(datasets.load_glucose, "glucose_mg_dl"), "5min",
           season=1, window=36, horizon=12, n_folds=3, test_size=144, max_gap=6, binned=True,
           why="daily cycle of 288 steps is too long; 3 h in, 1 h out; 12-hour folds"),
    Series("msft", _column(datasets.load_msft, "close"), "B",
           season=1, window=20, horizon=5, n_folds=3, test_size=250, max_gap=5,
           transform="log_return", fill="ffill",
           why="prices; a month of trading days in, a week out; one-year folds"),
    Series("aapl", _column(datasets.load_stocks, "adj_close", "AAPL"), "B",
           season=1, window=20, horizon=5, n_folds=3, test_size=250, max_gap=5,
           transform="log_return", fill="ffill",
           why="prices (adjusted close: a split in 2005); as msft"),
    Series("airline", _column(datasets.load_airline_passengers, "passengers"), "MS",
           season=12, window=24, horizon=12, n_folds=3, test_size=24,
           transform="log_return",
           why="yearly cycle, multiplicative growth; as the README demo"),
    Series("co2", _column(datasets.load_co2, "co2_ppm"), "W-SAT",
           season=52, window=104, horizon=52, n_folds=3, test_size=104, max_gap=4,
           transform="diff",
           why="yearly cycle, additive trend; two years in, one out; two-year folds"),
    Series("sunspots", _column(datasets.load_sunspots, "sunspot_number"), "YS",
           season=1, window=22, horizon=11, n_folds=3, test_size=22,
           why="the ~11-year cycle is not fixed; two cycles in, one out"),
    Series("nile", _column(datasets.load_nile, "volume_1e8_m3"), "YS",
           season=1, window=10, horizon=5, n_folds=3, test_size=10,
           why="yearly flows; ten years in, five out"),
]


# -- data ---------------------------------------------------------------------------

def prepare(spec, max_rows=MAX_ROWS):
    """The series on a regular grid without gaps, as a one-column frame, and what was done."""
    raw = spec.load().rename(spec.name)
    if spec.binned:
        grid = raw.resample(spec.freq).mean()
    else:
        grid = raw.reindex(_grid(raw.index, spec.freq))
    missing = grid.isna()
    notes = [f"{len(raw)} rows"]
    if spec.binned:
        notes.append(f"irregular timestamps binned to {spec.freq} means")
    if missing.any():
        runs = _runs(missing)
        short = missing & (runs <= spec.max_gap)
        filled = grid.interpolate() if spec.fill == "interpolate" else grid.ffill()
        grid = grid.where(~short, filled)
        how = "linear interpolation" if spec.fill == "interpolate" else "the last value"
        notes.append(f"{int(missing.sum())} missing steps on the {spec.freq} grid; "
                     f"{int(short.sum())} in gaps of <= {spec.max_gap} steps filled by {how}")
        present = grid.notna()
        stretch = _runs(present).where(present, 0)
        longest = int(stretch.max())
        if longest < len(grid):
            first = int(np.flatnonzero(stretch.to_numpy() == longest)[0])
            grid = grid.iloc[first:first + longest]
            notes.append(f"longest stretch without a longer gap kept: {len(grid)} rows")
    else:
        notes.append("no gaps")
    if len(grid) > max_rows:
        grid = grid.iloc[-max_rows:]
        notes.append(f"last {max_rows} rows used")
    notes.append(f"{grid.index[0]} .. {grid.index[-1]}")
    return grid.to_frame(), "; ".join(notes)


def _grid(index, freq):
    """Every timestamp at ``freq`` from the first of ``index`` to its last."""
    make = pd.timedelta_range if isinstance(index, pd.TimedeltaIndex) else pd.date_range
    return make(index[0], index[-1], freq=freq, name=index.name)


def _runs(flags):
    """For each element, the length of the run of equal values it belongs to."""
    run = (flags != flags.shift()).cumsum()
    return flags.groupby(run).transform("size")


# -- models -------------------------------------------------------------------------

def seqforecast_forecaster(cell, spec, seed):
    """seqforecast's default recurrent forecaster for ``cell``: the model under test."""
    return SequenceForecaster(regressor=cell, random_state=seed, **_sequence_options(spec))


def twin_forecaster(cell, spec, seed):
    """The PyTorch twin of that forecaster's regressor (sized at each fit), wrapped the same way."""
    return SequenceForecaster(TorchDefaultRegressor(cell, random_state=seed),
                              **_sequence_options(spec))


def ridge_forecaster(spec, calendar=None):
    """Ridge on the lag windows (``calendar=None``), or with the forecaster's calendar."""
    return SequenceForecaster(Ridge(), calendar=calendar, **_sequence_options(spec))


def evidence_ridge_forecaster(spec):
    return SequenceForecaster(EvidenceRidge(), calendar=None, **_sequence_options(spec))


class EvidenceRidge(Ridge):
    """Ridge with ``alpha`` chosen as ``ar_alpha='auto'`` chooses it: by the evidence.

    The networks choose on what their random head leaves of the targets of their
    training windows (the held-out ones excluded), this on the targets of all windows:
    about the same choice.  ``fit`` sets ``alpha`` (a forecaster fits a clone) and says it
    with a :class:`Choice` warning.
    """

    def fit(self, X, y):
        self.alpha = ridge_alpha(X, y)
        warnings.warn(f"alpha {self.alpha:g}", Choice)
        return super().fit(X, y)


class LeaveOneOutRidge(RidgeCV):
    """``RidgeCV`` over :data:`RIDGE_ALPHAS` (its efficient leave-one-out error, one penalty
    for all outputs); ``fit`` says the penalty with a :class:`Choice` warning."""

    def __init__(self, alphas=RIDGE_ALPHAS):
        super().__init__(alphas=alphas)

    def fit(self, X, y):
        super().fit(X, y)
        warnings.warn(f"alpha {self.alpha_:g}", Choice)
        return self


def _sequence_options(spec):
    return dict(window=spec.window, horizon=spec.horizon, target_transform=spec.transform)


class Choice(UserWarning):
    """Not a problem: says what a model chose for a fold (AutoETS its model, Ridge auto-alpha
    and Ridge LOO their penalty), so that the report can."""


class ETSForecaster(forecasting._Forecaster):
    """statsforecast's AutoETS as a seqforecast forecaster, so that ``backtest`` scores it.

    Fitted on the whole training part; from an origin inside a test block
    it forecasts with the fitted model filtered over the rows up to that
    origin (``AutoETS.forward``: the parameters are not re-estimated).
    Each fit says the model it chose with a :class:`Choice` warning.
    """

    def __init__(self, season=1, horizon=1, *, freq=None, missing="error"):
        self.season = season
        self.horizon = horizon
        self.freq = freq
        self.missing = missing

    def _fit(self, frames):
        from statsforecast.models import AutoETS

        (frame,) = frames.values()
        self.targets_ = self.channels_ = list(frame.columns)
        self.lookback_ = len(frame)  # the whole history: the state is filtered from the start
        self.model_ = AutoETS(season_length=self.season).fit(frame.iloc[:, 0].to_numpy(float))
        warnings.warn(self.model_.model_["method"], Choice)

    def _forecast(self, values, origins, n_steps):
        forecasts = [self.model_.forward(values[:origin + 1, 0], n_steps)["mean"]
                     for origin in origins]
        return np.asarray(forecasts)[:, :, np.newaxis]


@dataclass(frozen=True)
class Model:
    name: str
    build: Callable  # (spec, seed) -> forecaster
    seeded: bool


MODELS = [
    Model("sf LSTM", lambda spec, seed: seqforecast_forecaster("lstm", spec, seed), True),
    Model("sf GRU", lambda spec, seed: seqforecast_forecaster("gru", spec, seed), True),
    Model("torch LSTM", lambda spec, seed: twin_forecaster("lstm", spec, seed), True),
    Model("torch GRU", lambda spec, seed: twin_forecaster("gru", spec, seed), True),
    Model("Ridge", lambda spec, seed: ridge_forecaster(spec), False),
    Model("Ridge calendar", lambda spec, seed: ridge_forecaster(spec, "auto"), False),
    Model("Ridge auto-alpha", lambda spec, seed: evidence_ridge_forecaster(spec), False),
    Model("Ridge LOO", lambda spec, seed: SequenceForecaster(
        LeaveOneOutRidge(), calendar=None, **_sequence_options(spec)), False),
    Model("AutoETS", lambda spec, seed: ETSForecaster(spec.season, spec.horizon), False),
    Model("seasonal naive", lambda spec, seed: NaiveForecaster(spec.season, spec.horizon), False),
    Model("last value", lambda spec, seed: NaiveForecaster(1, spec.horizon), False),
]


def models_for(spec, names=None):
    """The models ``names`` (None: all); last value only where the season is > 1."""
    return [m for m in MODELS if (names is None or m.name in names)
            and (m.name != "last value" or spec.season > 1)]


# -- running ------------------------------------------------------------------------

def score(model, spec, data, seed):
    """One backtest: MAE, MASE and seconds per fold, or the error that stopped it.

    Returns the outcome and the warnings raised, as "Category: message" strings.
    """
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        try:
            result = backtest(model.build(spec, seed), data, n_folds=spec.n_folds,
                              test_size=spec.test_size, refit=True, season=spec.season)
        except Exception as error:  # a model failing on a series is a result, reported n/a
            outcome = {"error": f"{type(error).__name__}: {error}"}
        else:
            means = result.by_fold.mean()
            outcome = {"MAE": means["MAE"], "MASE": means["MASE"],
                       "s/fold": (time.perf_counter() - started) / spec.n_folds}
    return outcome, [_warning_text(w) for w in raised]


def _warning_text(w):
    if issubclass(w.category, Choice):
        return f"chose {w.message}"
    return f"{w.category.__name__}: {str(w.message)[:200]}"


def auto_choices(spec, data):
    """What target_transform='auto' and calendar='auto' chose in each fold (the same for
    every model that has them)."""
    start = len(data) - spec.n_folds * spec.test_size
    fitted = [ridge_forecaster(spec, "auto").fit(data.iloc[:start + fold * spec.test_size])
              for fold in range(spec.n_folds)]
    said = ""
    if spec.transform == "auto":
        said += "; auto chose " + _counted(str(f.target_transform_) for f in fitted)
    tried = [f for f in fitted if f.calendar_errors_]
    if tried:
        said += "; calendar: " + _counted(" and ".join(f.calendar_) or "none" for f in tried)
    return said


def _counted(choices):
    """'a (2x), b (1x)': how often each choice was made, in order of first appearance."""
    return ", ".join(f"{name} ({count}x)" for name, count in Counter(choices).items())


def run_series(spec, data, seeds, models=None):
    """The table (per model: MAE and MASE, means over seeds, MASE's sd over seeds, s/fold)
    and remarks (per model: its error, the warnings raised and how often)."""
    rows, remarks = {}, {}
    for model in models_for(spec, models):
        runs, raised = [], Counter()
        for seed in (seeds if model.seeded else seeds[:1]):
            outcome, texts = score(model, spec, data, seed)
            shown = outcome.get("error") or f"MASE {outcome['MASE']:.3f}"
            print(f"  {spec.name:17s} {model.name:15s} seed {seed}: {shown}", file=sys.stderr)
            runs.append(outcome)
            raised.update(texts)
        notes = [f"{text} ({count}x)" for text, count in sorted(raised.items())]
        failed = [r["error"] for r in runs if "error" in r]
        if failed:
            notes.insert(0, f"n/a, {failed[0]}")
            rows[model.name] = dict.fromkeys(("MAE", "MASE", "MASE sd", "s/fold"), np.nan)
        else:
            frame = pd.DataFrame(runs)
            rows[model.name] = {
                "MAE": frame["MAE"].mean(), "MASE": frame["MASE"].mean(),
                "MASE sd": frame["MASE"].std(ddof=0) if len(frame) > 1 else np.nan,
                "s/fold": frame["s/fold"].mean()}
        if notes:
            remarks[model.name] = notes
    return pd.DataFrame(rows).T.rename_axis("model"), remarks


# -- report -------------------------------------------------------------------------

def series_report(spec, notes, table, remarks, n_seeds):
    n_origins = spec.test_size - spec.horizon + 1
    lines = [f"== {spec.name} ({spec.freq}): {notes}",
             f"   season {spec.season}, window {spec.window}, horizon {spec.horizon}, "
             f"target_transform {spec.transform}; {spec.n_folds} folds x {spec.test_size} rows "
             f"({n_origins} origins each); {spec.why}",
             f"   MAE in the series' units, MASE against the seasonal naive ({spec.season}); "
             f"neural models: mean over {n_seeds} seed(s), sd = MASE's spread over seeds"]
    text = table.to_string(float_format=lambda v: f"{v:.4g}", na_rep="n/a")
    lines += ["   " + line for line in text.splitlines()]
    lines += [f"   {name}: {note}" for name, notes in remarks.items() for note in notes]
    return "\n".join(lines)


def summary_report(mase, mae):
    """Ranks, counts against Ridge, MASE >= 1, MAE against the seasonal naive forecast and
    the seqforecast/PyTorch ratios."""
    ranked = mase[[m for m in RANKED if m in mase.columns]]
    # Equal at the printed precision is a tie (a float32 network and a float64 linear model
    # that forecast alike differ in the last digits).
    ranks = ranked.round(3).rank(axis=1, method="average")
    lines = ["== MASE per series (mean over seeds)",
             mase.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a"), ""]
    if "seasonal naive" in mae.columns:
        relative = mae.div(mae["seasonal naive"], axis=0).drop(columns="seasonal naive")
        lines += [
            "== MAE / the seasonal naive forecast's MAE on the same folds (< 1: better than "
            "it; with season 1 and a multi-step horizon MASE is above 1 for every model, "
            "this is not)",
            relative.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a"),
            "   MAE >= seasonal naive's on: " + "; ".join(
                f"{name} {', '.join(relative.index[relative[name] >= 1]) or 'none'}"
                for name in relative.columns if name in RANKED), ""]
    if len(ranked.columns) > 1:
        lines.append(f"== mean rank by MASE among {', '.join(ranked.columns)} (1 = best; "
                     f"series where the model ran)")
        rank_table = pd.DataFrame({"mean rank": ranks.mean(), "series": ranks.count(),
                                   "MASE >= 1": (ranked >= 1).sum()})
        lines += [rank_table.to_string(float_format=lambda v: f"{v:.2f}"), ""]
    networks = [name for name in ("sf LSTM", "sf GRU") if name in mase.columns]
    for ridge in ("Ridge", "Ridge calendar", "Ridge auto-alpha", "Ridge LOO"):
        if ridge not in mase.columns or not networks:
            continue
        lines.append(f"== seqforecast against {ridge} (MASE ratio; within {TIE:.1%} counts as "
                     f"a tie)")
        for name in networks:
            both = mase[[name, ridge]].dropna()
            ratio = both[name] / both[ridge]
            lines.append(f"   {name}: of {len(both)} series, beats {ridge} on "
                         f"{int((ratio < 1 - TIE).sum())}, ties on "
                         f"{int((abs(ratio - 1) <= TIE).sum())}, more than 5% worse on "
                         f"{int((ratio > 1.05).sum())}; MASE >= 1 on "
                         f"{int((mase[name] >= 1).sum())} of {int(mase[name].count())}")
        lines.append("")
    ratios = {f"{name} / {twin}": mase[name] / mase[twin] for name, twin in TWINS.items()
              if name in mase.columns and twin in mase.columns}
    if ratios:
        lines.append("== seqforecast MASE / PyTorch twin MASE (1 = same accuracy)")
        lines.append(pd.DataFrame(ratios).to_string(float_format=lambda v: f"{v:.3f}",
                                                    na_rep="n/a"))
    return "\n".join(lines)


def environment_report():
    import numba
    import sklearn
    import statsforecast
    import torch

    state = _git("rev-parse", "--short", "HEAD")
    if _git("status", "--porcelain", "--", "seqforecast"):
        diff = hashlib.sha1(_git("diff", "HEAD", "--", "seqforecast").encode()).hexdigest()
        untracked = _git("ls-files", "--others", "--exclude-standard", "--", "seqforecast")
        state += (f" + uncommitted changes in seqforecast/ (sha1 of git diff HEAD: {diff[:10]}"
                  f"; untracked: {', '.join(untracked.split()) or 'none'})")
    recipe = forecasting.default_regressor("lstm", window=24, n_windows=1000).get_params()
    shown = {k: recipe[k] for k in sorted(recipe) if k not in ("random_state", "verbose")}
    return "\n".join([
        f"date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"machine: {platform.node()}, {os.cpu_count()} cores ({cpu_text()}), {load_text()} at "
        f"start; every model single-threaded",
        f"seqforecast: {state}; python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, scikit-learn {sklearn.__version__}, numba "
        f"{numba.__version__}, torch {torch.__version__}, statsforecast "
        f"{statsforecast.__version__}",
        f"default recipe, default_regressor('lstm', window=24, n_windows=1000): {shown}"])


def _git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[1],  # never the index lock
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# -- command line -------------------------------------------------------------------

def parse_args(argv=None):
    names = [s.name for s in SERIES]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: one seed, the series {', '.join(QUICK_SERIES)}, "
                             f"their last {QUICK_FOLDS} folds")
    parser.add_argument("--series", nargs="+", choices=names, metavar="NAME",
                        help=f"run only these series ({', '.join(names)})")
    parser.add_argument("--seeds", type=positive_int, help=f"seeds 0..N-1 (default {len(SEEDS)})")
    models = [m.name for m in MODELS]
    parser.add_argument("--models", nargs="+", choices=models, metavar="NAME",
                        help=f"run only these models (default all: {', '.join(models)})")
    return parser.parse_args(argv)


def selected(args):
    """The series specs and seeds to run."""
    names = args.series or (QUICK_SERIES if args.quick else [s.name for s in SERIES])
    specs = [s for s in SERIES if s.name in names]
    if args.quick:
        specs = [Series(**{**s.__dict__, "n_folds": min(s.n_folds, QUICK_FOLDS)})
                 for s in specs]
    n_seeds = args.seeds or (1 if args.quick else len(SEEDS))
    return specs, tuple(range(n_seeds))


def main(argv=None):
    args = parse_args(argv)
    specs, seeds = selected(args)
    started = time.perf_counter()
    print(environment_report())
    print(f"seeds {list(seeds)}; {'quick run; ' if args.quick else ''}series "
          f"{', '.join(s.name for s in specs)}\n")
    mase, mae = {}, {}
    with threadpool_limits(1):
        for spec in specs:
            data, notes = prepare(spec)
            notes += auto_choices(spec, data)
            table, remarks = run_series(spec, data, seeds, args.models)
            mase[spec.name], mae[spec.name] = table["MASE"], table["MAE"]
            print(series_report(spec, notes, table, remarks, len(seeds)) + "\n", flush=True)
    columns = [m.name for m in MODELS if any(m.name in t.index for t in mase.values())]
    print(summary_report(pd.DataFrame(mase).T[columns].rename_axis("series"),
                         pd.DataFrame(mae).T[columns].rename_axis("series")))
    print(f"\ntotal time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
