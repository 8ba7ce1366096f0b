"""Evaluation of forecasters: rolling-origin backtests, comparisons, metrics, intervals.

Classes
-------
BacktestResult
    What :func:`backtest` measured: the forecasts and their errors, metrics
    per fold and per horizon step, and conformal prediction intervals from
    the backtest's residuals.

Functions
---------
backtest
    Replays a forecaster on rolling origins (refitting on an expanding
    window) and measures MAE, RMSE, MAPE and MASE per fold and per step.
compare
    Backtests several forecasters on the same folds and tabulates their
    mean metrics.

The forecasts of each fold come from the forecaster's public
:meth:`~seqforecast.forecasting.SequenceForecaster.forecast_block`; the
private helpers below compute the metrics (``_metrics``, ``_naive_scale``,
``_warn_undefined_mase``) and the conformal rank (``_conformal_rank``).
This module imports :mod:`seqforecast.forecasting`, never the reverse.
"""
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import (mean_absolute_error, mean_absolute_percentage_error,
                             root_mean_squared_error)

from ._checks import check_int, is_int, is_real, shown
from .forecasting import _Forecaster
from .timeindex import _frequency
from .windowing import check_series


@dataclass
class BacktestResult:
    """What :func:`backtest` measured.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per fold, origin, step and target: ``actual``, ``predicted``
        and ``error`` (predicted - actual).
    by_fold : pandas.DataFrame
        MAE, RMSE, MAPE and MASE per fold (over all its origins, steps and
        targets).  MAPE is a fraction, and NaN where an actual value is 0.
        MASE is NaN where the in-sample error of the seasonal naive forecast
        (its denominator) is 0: the fold's training rows of a target repeat
        every ``season`` rows (for season 1, they are constant).
    by_step : pandas.DataFrame
        The same metrics per horizon step, over all folds.
    """

    predictions: pd.DataFrame
    by_fold: pd.DataFrame
    by_step: pd.DataFrame

    def interval_half_widths(self, coverage=0.9):
        """Conformal half-widths per horizon step and target.

        The ``ceil((n + 1) * coverage)``-th smallest of the n absolute
        backtest errors of each step and target (split conformal
        prediction), so that a new error falls inside with probability at
        least ``coverage`` when errors are exchangeable.

        Returns
        -------
        pandas.DataFrame of shape (horizon, n_targets)
        """
        if not is_real(coverage, 0, 1, include_low=False):
            raise ValueError(f"coverage must be a number in (0, 1), got {shown(coverage)}")
        widths = {}
        for key, errors in self.predictions.groupby(["step", "target"])["error"]:
            sizes = np.sort(np.abs(errors.to_numpy()))
            rank = _conformal_rank(len(sizes), coverage)
            if rank > len(sizes):
                needed = next(n for n in range(1, 10 ** 7) if _conformal_rank(n, coverage) <= n)
                raise ValueError(f"coverage={coverage} needs at least {needed} backtest errors "
                                 f"per step; there are {len(sizes)}")
            widths[key] = sizes[rank - 1]
        return pd.Series(widths).rename_axis(["step", "target"]).unstack("target")

    def prediction_intervals(self, forecast, coverage=0.9):
        """Lower and upper bounds around a forecast of a single series.

        Parameters
        ----------
        forecast : pandas.DataFrame
            ``forecaster.predict(h)`` with h up to the backtested horizon:
            some or all of the backtested targets as columns.
        coverage : float, default=0.9

        Returns
        -------
        lower, upper : pandas.DataFrame
            Same index and columns as ``forecast``.

        Raises
        ------
        TypeError
            If ``forecast`` is not a DataFrame.
        ValueError
            If it holds several series, columns the backtest did not
            forecast, or more steps than it did.
        """
        if not isinstance(forecast, pd.DataFrame):
            hint = ": pass forecast.to_frame()" if isinstance(forecast, pd.Series) else ""
            raise TypeError(f"forecast must be a DataFrame, as forecaster.predict() returns, got "
                            f"{shown(forecast)}{hint}")
        if isinstance(forecast.index, pd.MultiIndex):
            raise ValueError("forecast holds several series (a global model's forecast); the "
                             "backtest scored one: pass that series' forecast, forecast.loc[name]")
        widths = self.interval_half_widths(coverage)
        unknown = [c for c in forecast.columns if c not in widths.columns]
        if unknown:
            raise ValueError(f"forecast has the columns {list(forecast.columns)}, but the backtest "
                             f"forecast {list(widths.columns)}: {unknown} have no backtest errors")
        if len(forecast) > len(widths):
            raise ValueError(f"the backtest covered {len(widths)} steps; the forecast has "
                             f"{len(forecast)}")
        half = widths.iloc[:len(forecast)][list(forecast.columns)].to_numpy()
        return forecast - half, forecast + half


def backtest(forecaster, data, n_folds=5, test_size=None, refit=True, season=1):
    """Rolling-origin evaluation: refit on an expanding window, forecast the next block.

    The last ``n_folds * test_size`` rows of ``data`` are cut into
    ``n_folds`` consecutive test blocks.  For each block the forecaster is
    fitted on every row before it (see ``refit``) and forecasts
    ``horizon`` steps from every origin in the block, as
    :meth:`~seqforecast.forecasting.SequenceForecaster.score` does.

    Parameters
    ----------
    forecaster : SequenceForecaster or NaiveForecaster
        Cloned before fitting.
    data : pandas.DataFrame or pandas.Series
        One series.
    n_folds : int, default=5
    test_size : int, optional
        Rows per test block; default ``max(horizon, len(data) // (2 * n_folds))``.
    refit : bool or int, default=True
        True: refit for every fold; False: fit on the first fold's training
        rows only (later folds reuse it, with the newer rows as history);
        an int k: refit every k folds.
    season : int, default=1
        Season of the naive forecast that scales MASE (1: last value).

    Returns
    -------
    BacktestResult

    Raises
    ------
    TypeError
        If ``forecaster`` is not a seqforecast forecaster (a regressor must be
        wrapped in a SequenceForecaster) or ``data`` is not one series.
    ValueError
        If an int option (or an int parameter of the forecaster) is not an
        int, or too small, or the data is too short or not regular.

    Warns
    -----
    UserWarning
        For a fold whose MASE is undefined (NaN, see :class:`BacktestResult`).
    """
    _check_forecaster(forecaster, "forecaster")
    forecaster._check_parameters()
    n_folds = check_int(n_folds, "n_folds")
    season = check_int(season, "season")
    if not (isinstance(refit, bool) or is_int(refit)):
        raise ValueError(f"refit must be True, False or a positive int, got {shown(refit)}")
    if isinstance(data, Mapping):
        raise TypeError("backtest scores one series, got a dict: backtest each series on its "
                        "own, {name: backtest(forecaster, frame) for name, frame in data.items()}")
    if isinstance(data, pd.DataFrame | pd.Series) and data.isna().any(axis=None):
        raise ValueError("backtest needs data without missing values: NaN actuals cannot be "
                         "scored, and filling them across folds would leak the future into "
                         "the training rows; fill the data first")
    data = check_series(data, "data")
    _frequency(data.index, forecaster.freq, "data")
    horizon = forecaster.horizon
    test_size = max(horizon, len(data) // (2 * n_folds)) if test_size is None else test_size
    test_size = check_int(test_size, "test_size", horizon, low_name="horizon")
    start = len(data) - n_folds * test_size
    if start < 1:
        raise ValueError(f"{n_folds} folds of {test_size} rows need more than "
                         f"{n_folds * test_size} rows; data has {len(data)}")
    every = 1 if refit is True else (math.inf if refit is False else int(refit))
    rows, fold_metrics = [], []
    fitted = None
    for fold in range(n_folds):
        end = start + fold * test_size
        train, test = data.iloc[:end], data.iloc[end:end + test_size]
        if fitted is None or fold % every == 0:
            fitted = clone(forecaster).fit(train)
        history = train[fitted.channels_].iloc[-fitted.lookback_:]
        actual, predicted, origins = fitted.forecast_block(test, history)
        scale = _naive_scale(train[fitted.targets_].to_numpy(), season)
        _warn_undefined_mase(scale, fitted.targets_, season, fold)
        fold_metrics.append(_metrics(actual, predicted, scale))
        n, steps, k = actual.shape
        origin_index = history.index.append(test.index)[origins]
        rows.append(pd.DataFrame({
            "fold": fold,
            "origin": np.repeat(origin_index, steps * k),
            "step": np.tile(np.repeat(np.arange(1, steps + 1), k), n),
            "target": np.tile(fitted.targets_, n * steps),
            "actual": actual.reshape(-1),
            "predicted": predicted.reshape(-1),
            "scale": np.tile(scale, n * steps)}))
    predictions = pd.concat(rows, ignore_index=True)
    predictions["error"] = predictions["predicted"] - predictions["actual"]
    by_fold = pd.DataFrame(fold_metrics, index=pd.RangeIndex(n_folds, name="fold"))
    by_step = pd.DataFrame(
        {step: _metrics(group["actual"].to_numpy(), group["predicted"].to_numpy(),
                        group["scale"].to_numpy())
         for step, group in predictions.groupby("step")}).T.rename_axis("step")
    return BacktestResult(predictions.drop(columns="scale"), by_fold, by_step)


def compare(forecasters, data, **backtest_options):
    """Backtest several forecasters on the same folds and tabulate their mean metrics.

    Parameters
    ----------
    forecasters : dict of str to SequenceForecaster or NaiveForecaster
        A scikit-learn regressor goes in a SequenceForecaster first, e.g.
        ``{"ridge": SequenceForecaster(Ridge(), window=24)}``.
    data : pandas.DataFrame or pandas.Series
    **backtest_options
        Passed to :func:`backtest` (``n_folds``, ``test_size``, ``refit``, ``season``).

    Returns
    -------
    table : pandas.DataFrame
        One row per forecaster: MAE, RMSE, MAPE and MASE averaged over the
        folds, and the seconds its backtest took.
    results : dict of str to BacktestResult

    Raises
    ------
    TypeError
        If ``forecasters`` is not a dict of forecasters; each is checked
        before any is backtested.
    """
    if not isinstance(forecasters, Mapping):
        raise TypeError(f"forecasters must be a dict of name to forecaster, e.g. "
                        f"{{'ridge': SequenceForecaster(Ridge(), window=24)}}, got "
                        f"{shown(forecasters)}")
    if not forecasters:
        raise ValueError("forecasters is empty: give at least one")
    for name, forecaster in forecasters.items():
        _check_forecaster(forecaster, f"forecasters[{name!r}]")
        forecaster._check_parameters()
    results, rows = {}, {}
    for name, forecaster in forecasters.items():
        started = time.perf_counter()
        results[name] = backtest(forecaster, data, **backtest_options)
        rows[name] = {**results[name].by_fold.mean(), "seconds": time.perf_counter() - started}
    return pd.DataFrame(rows).T.rename_axis("model"), results


def _check_forecaster(forecaster, label):
    """Raise a TypeError unless ``forecaster`` is a seqforecast forecaster; ``label`` names it."""
    if isinstance(forecaster, _Forecaster):
        return
    if isinstance(forecaster, type) and issubclass(forecaster, _Forecaster):
        raise TypeError(f"{label} is the class {forecaster.__name__}: pass an instance, "
                        f"{forecaster.__name__}(...)")
    hint = (f": wrap a regressor as SequenceForecaster({forecaster!r}, window=..., horizon=...)"
            if hasattr(forecaster, "fit") and hasattr(forecaster, "predict") else "")
    raise TypeError(f"{label} must be a SequenceForecaster or NaiveForecaster, got "
                    f"{shown(forecaster)}{hint}")


def _conformal_rank(n, coverage):
    """1-based rank ``ceil((n + 1) * coverage)``, robust to rounding (0.07 * 100 = 7.000...1)."""
    return math.ceil((n + 1) * coverage - 1e-9)


def _metrics(actual, predicted, scale):
    """MAE, RMSE, MAPE (sklearn's) and MASE; ``scale`` broadcasts against the last axis."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    # MAPE divides by the actual values: undefined (NaN) when one of them is 0.
    mape = (np.nan if (actual == 0).any() else
            mean_absolute_percentage_error(actual.reshape(-1), predicted.reshape(-1)))
    # MASE divides by the naive scale: undefined (NaN) when one of them is 0 (see _naive_scale).
    mase = (np.nan if (np.asarray(scale) == 0).any() else
            float(np.mean(np.abs(predicted - actual) / scale)))
    return {"MAE": mean_absolute_error(actual.reshape(-1), predicted.reshape(-1)),
            "RMSE": root_mean_squared_error(actual.reshape(-1), predicted.reshape(-1)),
            "MAPE": mape, "MASE": mase}


def _naive_scale(values, season):
    """In-sample MAE of the seasonal naive forecast per column (MASE's denominator).

    0 for a column that repeats itself every ``season`` rows (a constant
    one, for season 1): its MASE is undefined.
    """
    if len(values) <= season:
        raise ValueError(f"MASE needs more than season={season} training rows")
    return np.array([mean_absolute_error(column[season:], column[:-season])
                     for column in values.T])


def _warn_undefined_mase(scale, targets, season, fold):
    """Warn that ``fold``'s MASE is NaN if the naive scale of a target is 0."""
    flat = [target for target, value in zip(targets, scale) if value == 0]
    if flat:
        how = "are constant" if season == 1 else f"repeat every season={season} rows"
        warnings.warn(f"fold {fold}: MASE is undefined (NaN): the training rows of {flat} {how}, "
                      f"so the seasonal naive forecast that scales MASE has no in-sample error "
                      f"(a scale of 0)", UserWarning, stacklevel=3)
