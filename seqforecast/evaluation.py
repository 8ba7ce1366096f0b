"""Evaluation of forecasters: rolling-origin backtests, comparisons, metrics, intervals.

Classes
-------
BacktestResult
    What :func:`backtest` measured: the forecasts and their errors, metrics
    per fold and per horizon step, and conformal prediction intervals from
    the backtest's residuals; for a probabilistic forecaster also its
    quantile forecasts, their interval scores and pinball losses per step,
    and conformalised quantile regression (CQR) of its intervals.

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
``_warn_undefined_mase``, ``_interval_scores``, ``_pinball``) and the
conformal quantile of scores (``_conformal_rank``, ``_per_step_and_target``).
This module imports :mod:`seqforecast.forecasting`, never the reverse.
"""
import bisect
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import mean_absolute_percentage_error

from ._checks import check_int, is_int, is_real, shown
from .forecasting import _Forecaster, central_levels, central_pairs
from .metrics import average_error
from .training.losses import Loss
from .training.rules import pinball_rule
from .timeindex import _frequency
from .windowing import SeriesTooShortError, as_frame, check_series, missing_values

#: A seasonal naive in-sample error below this share of a target's largest magnitude is
#: rounding, not variation: MASE is then undefined, as for an error of 0 (:func:`_naive_scale`).
REPEAT_TOLERANCE = 1e-12


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
        every ``season`` rows (for season 1, they are constant), to within
        :data:`REPEAT_TOLERANCE` of their largest magnitude.
    by_step : pandas.DataFrame
        The same metrics per horizon step, over all folds.
    quantile_predictions : pandas.DataFrame or None
        For a probabilistic forecaster (``quantiles_`` not None): its
        quantile forecasts, one row per row of ``predictions`` (same index)
        and one column per level of ``quantiles_``, increasing; else None.
    interval_by_step : pandas.DataFrame or None
        For a probabilistic forecaster: indexed by (step, coverage), one
        row per step and central interval among its levels (the levels q
        and 1 - q, q < 0.5, of nominal coverage 1 - 2q), over all folds,
        origins and targets: ``empirical_coverage`` (the share of actual
        values within [lower, upper]), ``interval_score`` (the mean
        interval score of Gneiting and Raftery, 2007: ``(u - l) + (2 /
        alpha) (l - y) [y < l] + (2 / alpha) (y - u) [y > u]`` with
        ``alpha = 1 - coverage``; lower is better, in the targets' units)
        and ``mean_width``; empty when the levels hold no such pair.  Else
        None.
    pinball_by_step : pandas.Series or None
        For a probabilistic forecaster: the pinball (quantile) loss per
        step, ``max(q (y - f), (q - 1) (y - f))`` for the level-q forecast
        f, averaged over the levels, folds, origins and targets; else None.
    """

    predictions: pd.DataFrame
    by_fold: pd.DataFrame
    by_step: pd.DataFrame
    quantile_predictions: pd.DataFrame | None = None
    interval_by_step: pd.DataFrame | None = None
    pinball_by_step: pd.Series | None = None

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
        return _per_step_and_target(np.abs(self.predictions["error"]), self.predictions,
                                    coverage, "backtest errors", f"coverage={coverage}")

    def prediction_intervals(self, forecast, coverage=0.9, gamma=None):
        """Lower and upper bounds around a forecast of a single series.

        Parameters
        ----------
        forecast : pandas.DataFrame
            ``forecaster.predict(h)`` with h up to the backtested horizon:
            some or all of the backtested targets as columns, its rows the
            steps 1 to h in time order.
        coverage : float, default=0.9
        gamma : float or 'auto', optional
            Use the half-widths of adaptive conformal inference with this
            step (or DtACI's, 'auto'), after the backtest (:meth:`adaptive_corrections` with
            ``method='split'``), instead of the static ones.

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
        _check_one_series(forecast, "forecast")
        widths = (self.interval_half_widths(coverage) if gamma is None else
                  self.adaptive_corrections(coverage, "split", gamma=gamma)[1])
        half = _aligned(widths, forecast.columns, forecast.index, "forecast", "backtest errors")
        return forecast - half, forecast + half

    def interval_corrections(self, coverage=0.9, side="both"):
        """Conformalised quantile regression's corrections per horizon step and target.

        CQR (Romano, Patterson and Candes, 2019) calibrates the model's own
        central interval [l, u] of ``coverage`` (its quantiles of levels
        (1 - c)/2 and (1 + c)/2) on the backtest: each forecast's
        conformity score is ``E = max(l - y, y - u)`` (negative inside the
        interval), and the correction of a step and target is the
        ``ceil((n + 1) * coverage)``-th smallest of its n scores.  The
        interval [l - E_c, u + E_c] then holds a new value with probability
        at least ``coverage`` when the scores are exchangeable, widening
        intervals that were too narrow and narrowing (E_c < 0) those that
        were too wide, while keeping how the model's width adapts to each
        origin.

        ``side='lower'`` and ``'upper'`` give the asymmetric version (Romano
        et al., section 4, darts' ``symmetric=False``): each bound is
        calibrated alone, by the scores ``l - y`` or ``y - u``, at the level
        ``(1 + coverage) / 2``, so that each tail misses at most ``(1 -
        coverage) / 2`` of new values.  It needs about twice the scores, and
        it fixes a model whose interval is off on one side only (a lower
        tail learned from outliers, say), which moving both bounds alike
        cannot.

        Parameters
        ----------
        coverage : float, default=0.9
        side : {'both', 'lower', 'upper'}, default='both'
            The bounds the correction is for: both (symmetric CQR), or the
            lower or the upper one alone.

        Returns
        -------
        pandas.DataFrame of shape (horizon, n_targets)
            Indexed by step, one column per target, in the targets' units.

        Raises
        ------
        ValueError
            If the backtest has no quantile forecasts (a point forecaster),
            lacks the two levels of ``coverage``, or has too few forecasts
            per step for it.
        """
        scores, level = self._cqr_scores(coverage, side)
        what = (f"coverage={coverage}" if side == "both" else
                f"coverage={coverage} with side={side!r} (each bound at {level})")
        return _per_step_and_target(scores, self.predictions, level, "backtest forecasts", what)

    def _cqr_scores(self, coverage, side):
        """CQR's conformity scores of ``side`` (aligned with ``predictions``) and the level of
        their conformal quantile; the errors of :meth:`interval_corrections`."""
        levels = central_levels(coverage)
        if self.quantile_predictions is None:
            raise ValueError("the backtest has no quantile forecasts: CQR calibrates a "
                             "probabilistic forecaster's intervals (loss='quantile', 'gaussian' "
                             "or 'student_t'); for a point forecaster, prediction_intervals "
                             "gives split-conformal intervals")
        absent = [level for level in levels if level not in self.quantile_predictions.columns]
        if absent:
            raise ValueError(f"coverage={coverage} calibrates the interval between the levels "
                             f"{levels[0]} and {levels[1]}, but the backtest forecast the levels "
                             f"{list(self.quantile_predictions.columns)}: backtest a forecaster "
                             f"with quantiles=[..., {levels[0]}, {levels[1]}, ...]")
        if side not in ("both", "lower", "upper"):
            raise ValueError(f"side must be 'both', 'lower' or 'upper', got {shown(side)}")
        lower, upper = (self.quantile_predictions[level] for level in levels)
        actual = self.predictions["actual"]
        scores = {"both": lambda: np.maximum(lower - actual, actual - upper),
                  "lower": lambda: lower - actual, "upper": lambda: actual - upper}[side]()
        return scores, coverage if side == "both" else (1 + coverage) / 2

    def adaptive_corrections(self, coverage=0.9, method="cqr", side="both", gamma=0.005,
                             window=None):
        """Adaptive conformal inference along the backtest, origin by origin in time order.

        Split conformal and CQR assume that the errors of the backtest and
        those of later forecasts are exchangeable; a series whose volatility
        or behaviour drifts breaks that, and the static corrections then over-
        or under-cover.  Adaptive conformal inference (ACI, Gibbs & Candes
        2021) keeps the coverage on target over time instead: each forecast
        uses the conformal quantile, at level ``1 - alpha_t``, of the scores
        whose actuals were known at its origin (a step-h forecast's, h
        origins later), and every miss or hit, once known, moves ``alpha_t
        += gamma * (alpha - miss)``: after misses the intervals widen, after
        a run of hits they narrow.  Per step and target.

        Parameters
        ----------
        coverage : float, default=0.9
        method : {'cqr', 'split'}, default='cqr'
            The scores: those of :meth:`interval_corrections` (needs quantile
            forecasts) or the absolute errors of :meth:`interval_half_widths`.
        side : {'both', 'lower', 'upper'}, default='both'
            As for :meth:`interval_corrections` ('both' only for 'split').
        gamma : float or 'auto', default=0.005
            The step of ``alpha_t``: larger adapts faster and fluctuates more
            (Gibbs & Candes 2021 use 0.005).  'auto': no step to choose;
            DtACI (Gibbs & Candes 2024) runs one ``alpha_t`` per step of
            ``DTACI_GAMMAS`` (0.001 to 0.128) and uses their mean weighted
            by how well each has tracked the scores so far.
        window : int, optional
            Use only the most recent ``window`` known scores; None: all.

        Returns
        -------
        history : pandas.Series
            Aligned with ``predictions``: the correction (or half-width) each
            backtest forecast had, from what was known at its origin; +inf
            while no score was known, the largest known score while
            ``alpha_t`` asked for more scores than were known.
        latest : pandas.DataFrame of shape (horizon, n_targets)
            The corrections for forecasts made after the backtest (its last
            ``alpha_t`` and every score), as :meth:`interval_corrections`
            returns them.
        """
        if isinstance(gamma, str) and gamma == "auto":
            gammas = DTACI_GAMMAS
        elif is_real(gamma, 0, include_low=False):
            gammas = (gamma,)
        else:
            raise ValueError(f"gamma must be a positive number or 'auto', got {shown(gamma)}")
        if window is not None and not is_int(window):
            raise ValueError(f"window must be a positive int or None, got {shown(window)}")
        if method == "split":
            if side != "both":
                raise ValueError("split-conformal intervals are symmetric: side must be 'both'")
            if not is_real(coverage, 0, 1, include_low=False):
                raise ValueError(f"coverage must be a number in (0, 1), got {shown(coverage)}")
            scores, level = self.predictions["error"].abs(), coverage
        elif method == "cqr":
            scores, level = self._cqr_scores(coverage, side)
        else:
            raise ValueError(f"method must be 'cqr' or 'split', got {shown(method)}")
        history = np.empty(len(scores))
        latest = {}
        origins = self.predictions["origin"].to_numpy()
        for key, group in pd.Series(np.asarray(scores, float)).groupby(
                [self.predictions["step"].to_numpy(), self.predictions["target"].to_numpy()]):
            rows = group.index.to_numpy()[np.argsort(origins[group.index], kind="stable")]
            history[rows], latest[key] = _adaptive(group[rows].to_numpy(), 1 - level, gammas,
                                                   key[0], window)
        return (pd.Series(history, index=self.predictions.index),
                _step_by_target(latest, self.predictions))

    def conformalized_intervals(self, quantile_forecast, coverage=0.9, symmetric=True,
                                gamma=None):
        """The model's own central interval around a new forecast, calibrated by CQR.

        Backtest, forecast, calibrate::

            result = backtest(forecaster, data)
            quantiles = forecaster.fit(data).predict_quantiles()
            lower, upper = result.conformalized_intervals(quantiles, coverage=0.9)

        Parameters
        ----------
        quantile_forecast : pandas.DataFrame
            ``forecaster.predict_quantiles(h)`` of a single series, with h up
            to the backtested horizon (its rows the steps 1 to h in time
            order), holding the levels (1 - c)/2 and (1 + c)/2 for some or
            all of the backtested targets.
        coverage : float, default=0.9
        symmetric : bool, default=True
            Move both bounds by the symmetric correction, or each by its own
            (:meth:`interval_corrections` with ``side='lower'`` and
            ``'upper'``).
        gamma : float or 'auto', optional
            Use the corrections of adaptive conformal inference with this
            step (or DtACI's, 'auto'), after the backtest (:meth:`adaptive_corrections`'s
            ``latest``), instead of the static ones.

        Returns
        -------
        lower, upper : pandas.DataFrame
            Indexed as ``quantile_forecast``, one column per target: its
            levels (1 - c)/2 and (1 + c)/2 moved out (or in) by
            :meth:`interval_corrections`.  Where a negative correction is
            more than half the model's width, lower > upper: the backtest's
            intervals were far too wide.

        Raises
        ------
        TypeError
            If ``quantile_forecast`` is not a frame of ``(target,
            quantile)`` columns.
        ValueError
            If it holds several series, lacks a level, or has targets or
            steps the backtest did not forecast; as :meth:`interval_corrections`.
        """
        columns = getattr(quantile_forecast, "columns", None)
        if not (isinstance(quantile_forecast, pd.DataFrame)
                and list(columns.names) == ["target", "quantile"]):
            raise TypeError(f"quantile_forecast must be the DataFrame that "
                            f"forecaster.predict_quantiles() returns, with (target, quantile) "
                            f"columns, got {shown(quantile_forecast)}")
        _check_one_series(quantile_forecast, "quantile_forecast")
        levels = central_levels(coverage)
        bounds = []
        for level in levels:
            if level not in columns.get_level_values("quantile"):
                raise ValueError(f"quantile_forecast has the levels "
                                 f"{sorted(set(columns.get_level_values('quantile')))}; "
                                 f"coverage={coverage} needs {level}: "
                                 f"predict_quantiles(quantiles=[{levels[0]}, {levels[1]}])")
            bounds.append(quantile_forecast.xs(level, axis=1, level="quantile")
                          .rename_axis(columns=None))

        def correction(side):
            table = (self.interval_corrections(coverage, side) if gamma is None else
                     self.adaptive_corrections(coverage, "cqr", side, gamma)[1])
            return _aligned(table, bounds[0].columns, quantile_forecast.index,
                            "quantile_forecast", "backtest forecasts")

        lower = correction("both" if symmetric else "lower")
        upper = lower if symmetric else correction("upper")
        return bounds[0] - lower, bounds[1] + upper


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
        With the quantile forecasts at the forecaster's ``quantiles_`` and
        their scores when it is probabilistic (see :class:`BacktestResult`).

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
        per_column, column, first = missing_values(as_frame(data))
        raise ValueError(f"backtest needs data without missing values, got "
                         f"{sum(per_column.values())}, the first in column {column!r} at "
                         f"{first}: filling them fold by fold "
                         f"would leak the future into the training rows (and a missing actual "
                         f"cannot be scored); fill the data first")
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
    rows, fold_metrics, fold_quantiles = [], [], []
    fitted = None
    for fold in range(n_folds):
        end = start + fold * test_size
        train, test = data.iloc[:end], data.iloc[end:end + test_size]
        if fitted is None or fold % every == 0:
            try:
                fitted = clone(forecaster).fit(train)
            except SeriesTooShortError as error:  # the first fold's rows are the fewest
                raise SeriesTooShortError(
                    f"the first fold trains on the {end} rows before its test blocks "
                    f"({n_folds} folds of {test_size} rows, of {len(data)}): {error}; use "
                    f"fewer folds (n_folds) or a smaller test_size") from None
        history = train[fitted.channels_].iloc[-fitted.lookback_:]
        levels = fitted.quantiles_
        actual, predicted, origins, *quantiles = fitted.forecast_block(test, history, levels)
        if quantiles:
            fold_quantiles.append(pd.DataFrame(quantiles[0].reshape(-1, len(levels)),
                                               columns=pd.Index(levels, name="quantile")))
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
    predictions = predictions.drop(columns="scale")
    if not fold_quantiles:
        return BacktestResult(predictions, by_fold, by_step)
    quantiles = pd.concat(fold_quantiles, ignore_index=True)
    steps, actual = predictions["step"], predictions["actual"]
    return BacktestResult(predictions, by_fold, by_step, quantiles,
                          _interval_scores(actual, quantiles, steps),
                          _pinball(actual, quantiles).groupby(steps).mean().rename("pinball"))


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
    ValueError
        If they forecast different horizons (their tables would not compare).
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
    horizons = {name: forecaster.horizon for name, forecaster in forecasters.items()}
    if len(set(horizons.values())) > 1:
        raise ValueError(f"the forecasters forecast different horizons, {horizons}: their mean "
                         f"metrics would average different steps from different origins; give "
                         f"them one horizon, or backtest each alone")
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


#: ``gamma='auto'`` of adaptive conformal inference: DtACI's experts and its weights' learning
#: and mixing rates, as Gibbs & Candes (2024) ran it (their published code's defaults).
DTACI_GAMMAS = (0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128)
_DTACI_ETA, _DTACI_SIGMA = 2.72, 1 / 1000


def _conformal_rank(n, coverage):
    """1-based rank ``ceil((n + 1) * coverage)``, robust to rounding (0.07 * 100 = 7.000...1):
    at least 1 for a coverage above 0."""
    rank = math.ceil((n + 1) * coverage - 1e-9)
    return max(rank, 1) if coverage > 0 else rank


def _adaptive(scores, alpha, gammas, delay, window):
    """Adaptive conformal inference over one series of ``scores`` in time order.

    The score of position i is known from position ``i + delay`` on.  Returns
    the correction of every position, from the scores and misses known then,
    and the correction after the last position, from all of them.  Each is
    the conformal quantile at level ``1 - alpha_t`` of the known scores.
    Where that level asks for more scores than are known (``alpha_t`` near
    or below 0, after a run of misses) Gibbs and Candes's interval is
    unbounded, and where it asks for none (``alpha_t`` near or above 1)
    empty: the largest and the smallest known score stand in for them, and
    ``alpha_t`` moves as the unbounded interval (a hit) or the empty one (a
    miss) would make it, so that it stays within ``[-gamma, 1 + gamma]``.
    +inf while no score is known.

    With several ``gammas`` (DtACI, Gibbs & Candes 2024) each runs its own
    ``alpha_t``, moved by its own misses (whether its interval would have
    covered), and a forecast uses their mean weighted by how well each has
    tracked ``beta_t``, the largest level whose interval covered the score:
    every known score multiplies an expert's weight by ``exp(-eta * loss)``,
    ``loss`` its pinball loss at level ``alpha`` on ``beta_t - alpha_t``,
    and the weights are then mixed with the uniform ones at ``sigma``.  With
    one ``gamma`` this is the ACI above.
    """
    gammas = np.asarray(gammas, float)
    known, n, target = [], len(scores), alpha
    alphas = np.full(len(gammas), alpha)  # each expert's alpha_t
    weights = np.full(len(gammas), 1 / len(gammas))
    out = np.empty(n)
    # Per forecast and expert, whether its set was as computed (0), unbounded (1) or empty
    # (-1), and its correction: what decides the expert's miss once the score is known.
    kinds = np.zeros((n, len(gammas)), np.int8)
    corrections = np.empty((n, len(gammas)))

    def learn(j):  # score j and whether its forecast was covered become known
        nonlocal weights
        miss = (kinds[j] == -1) | ((kinds[j] == 0) & (scores[j] > corrections[j]))
        if len(gammas) > 1:
            stop = j - delay + 1 if j >= delay else 0  # known at j's origin: [lo, stop)
            lo = 0 if window is None else max(stop - window, 0)
            below = np.count_nonzero(scores[lo:stop] < scores[j])
            gap = (1 - below / (stop - lo + 1)) - used[j]  # beta_t - alpha_t of each expert
            losses = target * gap - np.minimum(gap, 0)
            weights = weights * np.exp(-_DTACI_ETA * losses)
            weights = (1 - _DTACI_SIGMA) * weights / weights.sum() + _DTACI_SIGMA / len(gammas)
        alphas[:] += gammas * (target - miss)
        bisect.insort(known, scores[j])
        if window is not None and len(known) > window:
            known.pop(bisect.bisect_left(known, scores[j - window]))

    def correction(level):
        """The correction at ``alpha_t = level`` from the known scores, and the kind of its set."""
        if not known:
            return np.inf, 1
        if level <= 0:
            return known[-1], 1
        rank = _conformal_rank(len(known), 1 - level) if level < 1 else 0
        if rank > len(known):
            return known[-1], 1
        if rank <= 0:
            return known[0], -1
        return known[rank - 1], 0

    used = np.empty((n, len(gammas)))  # the experts' alpha_t at each forecast
    for i in range(n):
        if i >= delay:
            learn(i - delay)
        used[i] = alphas
        for e, level in enumerate(alphas):
            corrections[i, e], kinds[i, e] = correction(level)
        out[i] = corrections[i, 0] if len(gammas) == 1 else correction(weights @ alphas)[0]
    for j in range(max(n - delay, 0), n):
        learn(j)
    return out, correction(weights @ alphas)[0]


def _per_step_and_target(scores, predictions, level, what, asked):
    """The conformal quantile of ``scores`` (aligned with ``predictions``) per step and target.

    The ``ceil((n + 1) * level)``-th smallest (at least the smallest) of the
    n scores of each group, as a (step x target) DataFrame whose columns
    keep the targets' order; a ValueError, saying how many ``what`` the
    setting ``asked`` for needs, when a group has too few.
    """
    quantiles = {}
    for key, group in pd.Series(np.asarray(scores), index=predictions.index).groupby(
            [predictions["step"], predictions["target"]]):
        values = np.sort(group.to_numpy())
        rank = _conformal_rank(len(values), level)
        if rank > len(values):
            needed = next(n for n in range(1, 10 ** 7) if _conformal_rank(n, level) <= n)
            raise ValueError(f"{asked} needs at least {needed} {what} per step; there are "
                             f"{len(values)}")
        quantiles[key] = values[rank - 1]
    return _step_by_target(quantiles, predictions)


def _step_by_target(values, predictions):
    """``{(step, target): value}`` as a (step x target) DataFrame, the targets in the order of
    the forecaster (that of ``predictions``), not sorted."""
    targets = list(dict.fromkeys(predictions["target"]))
    return pd.Series(values).rename_axis(["step", "target"]).unstack("target")[targets]


def _check_one_series(forecast, name):
    """Refuse a forecast frame of several series: the backtest scored one."""
    if isinstance(forecast.index, pd.MultiIndex):
        raise ValueError(f"{name} holds several series (a global model's forecast); the "
                         f"backtest scored one: pass that series' forecast, {name}.loc[series]")


def _aligned(table, columns, index, name, what):
    """The first ``len(index)`` rows of a (step x target) ``table``, its ``columns`` in order,
    as an array for the rows of forecast ``name`` (steps 1, 2, ... in time order: ``index``
    increasing); a ValueError when the index is not, or the backtest lacks a target or steps."""
    if not (index.is_monotonic_increasing and index.is_unique):
        raise ValueError(f"{name}'s rows are read as its steps 1, 2, ... in time order, but its "
                         f"index is not increasing: pass it as the forecaster returns it")
    n_steps = len(index)
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise ValueError(f"{name} has the columns {list(columns)}, but the backtest forecast "
                         f"{list(table.columns)}: {unknown} have no {what}")
    if n_steps > len(table):
        raise ValueError(f"the backtest covered {len(table)} steps; the {name} has {n_steps}")
    return table.iloc[:n_steps][list(columns)].to_numpy()


def _interval_scores(actual, quantiles, steps):
    """Empirical coverage, interval score and mean width per step and central interval.

    ``quantiles`` has one column per level; each pair of levels q < 0.5 and
    1 - q bounds a central interval of coverage 1 - 2q (rounded as
    :func:`~seqforecast.forecasting.central_levels` rounds).
    """
    y, rows = np.asarray(actual), []
    for coverage, low, high in central_pairs(list(quantiles.columns)):
        alpha = 2 * low
        lower, upper = quantiles[low].to_numpy(), quantiles[high].to_numpy()
        score = ((upper - lower) + (2 / alpha) * np.maximum(lower - y, 0)
                 + (2 / alpha) * np.maximum(y - upper, 0))
        rows.append(pd.DataFrame({"step": steps, "coverage": coverage,
                                  "empirical_coverage": (lower <= y) & (y <= upper),
                                  "interval_score": score, "mean_width": upper - lower}))
    if not rows:
        return pd.DataFrame(columns=["empirical_coverage", "interval_score", "mean_width"],
                            index=pd.MultiIndex.from_arrays([[], []], names=["step", "coverage"]))
    return pd.concat(rows).groupby(["step", "coverage"]).mean().astype(float)


def _pinball(actual, quantiles):
    """Pinball loss of each row, averaged over the levels (the columns of ``quantiles``): the
    training loss's rule (:func:`~seqforecast.training.rules.pinball_rule`)."""
    loss = Loss("quantile", pinball_rule, tuple(quantiles.columns.to_numpy(dtype=float)))
    values = loss.sample_losses(quantiles.to_numpy(dtype=float),
                                np.asarray(actual, dtype=float)[:, None])
    return pd.Series(values, index=quantiles.index)


def _metrics(actual, predicted, scale):
    """MAE, RMSE, MAPE (sklearn's) and MASE; ``scale`` broadcasts against the last axis."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    # MAPE divides by the actual values: undefined (NaN) when one of them is 0.
    mape = (np.nan if (actual == 0).any() else
            mean_absolute_percentage_error(actual.reshape(-1), predicted.reshape(-1)))
    # MASE divides by the naive scale: undefined (NaN) when one of them is 0 (see _naive_scale).
    mase = (np.nan if (np.asarray(scale) == 0).any() else
            float(np.mean(np.abs(predicted - actual) / scale)))
    return {"MAE": average_error(actual.reshape(-1), predicted.reshape(-1)),
            "RMSE": average_error(actual.reshape(-1), predicted.reshape(-1), squared=True),
            "MAPE": mape, "MASE": mase}


def _naive_scale(values, season):
    """In-sample MAE of the seasonal naive forecast per column (MASE's denominator).

    0 for a column that repeats itself every ``season`` rows (a constant
    one, for season 1): its MASE is undefined.  An error below
    :data:`REPEAT_TOLERANCE` of the column's largest magnitude counts as 0:
    it is rounding (a cycle computed in floating point, ``sin(2 pi t / 7)``,
    repeats to 1e-15), and dividing by it gave MASE values of 1e14.
    """
    if len(values) <= season:
        raise ValueError(f"MASE needs more than season={season} training rows")
    scale = np.array([average_error(column[:-season], column[season:]) for column in values.T])
    scale[scale <= REPEAT_TOLERANCE * np.abs(values).max(axis=0)] = 0
    return scale


def _warn_undefined_mase(scale, targets, season, fold):
    """Warn that ``fold``'s MASE is NaN if the naive scale of a target is 0."""
    flat = [target for target, value in zip(targets, scale) if value == 0]
    if flat:
        how = "are constant" if season == 1 else f"repeat every season={season} rows"
        warnings.warn(f"fold {fold}: MASE is undefined (NaN): the training rows of {flat} {how}, "
                      f"so the seasonal naive forecast that scales MASE has no in-sample error "
                      f"(a scale of 0)", UserWarning, stacklevel=3)
