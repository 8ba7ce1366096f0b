"""Forecasters on pandas time series: SequenceForecaster and NaiveForecaster.

A forecaster is fitted on a DataFrame (or Series) indexed by time and
``predict(horizon)`` returns a DataFrame indexed by the next ``horizon``
timestamps.  Several series with the same columns, passed as a dict, train
one global model.  ``forecast_block(data)`` forecasts from every origin of
a block of rows that follows the fit, the forecasts that ``score`` and
:func:`seqforecast.evaluation.backtest` measure.  A probabilistic forecaster
(a SequenceForecaster with ``loss='quantile'``, ``'gaussian'`` or
``'student_t'``) also forecasts quantiles, ``predict_quantiles`` and
``predict_interval``, mapped back through its transforms exactly.

This module holds the forecasters (``_Forecaster``, their shared base,
:class:`SequenceForecaster`, :class:`NaiveForecaster`), the default
recurrent regressor (:func:`default_regressor` and its training recipe
constants), :data:`MAX_STEPS` and :func:`central_levels`.  Backtesting,
comparison, metrics, their scores of quantile forecasts and prediction
intervals are in :mod:`seqforecast.evaluation`; frequencies and timestamps
in :mod:`seqforecast.timeindex`.
"""
import copy
import math
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from ._checks import (as_decimal, check_column_list, check_fitted, check_int,
                      check_int_parameters, check_levels, is_bool, is_choice, is_int, is_real,
                      round_level, shown)
from .calendar import (CYCLES, calendar_columns, calendar_values, check_calendar,
                       unseen_cycles)
from .metrics import average_error
from .persistence import save
from .training.losses import PROBABILISTIC_LOSSES
from .training.selection import held_out_count
from .timeindex import _frequency, _future_index, infer_season
from .windowing import (SeriesTooShortError, SlidingWindowTransformer, check_series,
                        missing_values)

# The most steps ``predict`` forecasts beyond a direct forecaster's horizon.  A
# recursive forecaster calls its regressor once per step, feeding each forecast
# back (its errors compound): 10,000 steps take seconds (Ridge) to minutes, and
# every step holds rows in memory (10**9 steps asked for 7.45 GiB).  Raise it
# (seqforecast.forecasting.MAX_STEPS = ...) to forecast further.
MAX_STEPS = 10_000
# How to get quantiles from a forecaster that gives none.
_QUANTILE_ADVICE = ("fit a SequenceForecaster with loss='quantile', 'gaussian' or 'student_t' "
                    "and a seqforecast recurrent regressor (regressor='lstm', 'gru' or 'rnn'), "
                    "or take split-conformal intervals around the point forecasts from a "
                    "backtest: backtest(forecaster, data).prediction_intervals(forecast, "
                    "coverage)")
# The target transforms whose inverse multiplies by the origin's value (o * g(p), g
# increasing): a decreasing map where that value is negative.
_SCALING_TRANSFORMS = ("return", "log_return", "last_value")


class _Forecaster(BaseEstimator):
    """Validation, timestamps, prediction and scoring shared by the forecasters.

    Subclasses set ``self.targets_``, ``self.channels_`` and ``self.lookback_``
    in ``_fit(frames)`` and forecast in ``_forecast(values, origins, n_steps)``;
    ``_int_parameters`` lists their int parameters and the least value of each.
    """

    _int_parameters = (("horizon", 1),)
    # The parameters a fit builds the forecaster's state from (windows, scalers, transform,
    # network): set to other values after it, they would no longer describe it.
    _fit_parameters = ()

    def fit(self, data, y=None):
        """Fit on one series, or on several (one global model).

        The parameters take effect here: one that shapes the fitted state
        (``_fit_parameters``: the window, horizon, transforms, ...) set to
        another value afterwards is refused with a ValueError by
        :meth:`predict`, :meth:`update`, :meth:`score` and the other methods
        that read that state, until it is set back or the forecaster is
        fitted again.

        Parameters
        ----------
        data : pandas.DataFrame or pandas.Series, or dict of str to either
            Indexed by a sorted DatetimeIndex (or TimedeltaIndex) with a
            regular frequency; a dict holds several series with the same
            columns.  Column labels are strings, as in every forecast: an
            unnamed Series is ``"y"``, and a label that is not a string
            becomes ``str(label)`` (:func:`~seqforecast.windowing.as_frame`).
        y : None
            Ignored; the targets are columns of ``data``.

        Returns
        -------
        self
        """
        if y is not None:
            raise TypeError("y must be None: the targets are columns of data")
        self._check_parameters()
        frames = self._check_data(data, fitting=True)
        self._fit(frames)
        self._remember(frames, fitting=True)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "history_")

    def _check_parameters(self):
        """Raise a ValueError for an int parameter that is not one, or too small or large,
        and for a ``missing`` that is not a policy."""
        check_int_parameters(self, self._int_parameters)
        self._check_steps(self.horizon)
        if not is_choice(self.missing, ("error", "interpolate")):
            raise ValueError(f"missing must be 'error' or 'interpolate', got {self.missing!r}")

    def _remember(self, frames, fitting=False):
        """Keep the last rows of each series that the next forecast (and a refit) reads,
        and, ``fitting``, the parameters the fit used (:meth:`_check_fitted` compares)."""
        self.history_ = {name: frame[self.channels_].iloc[-self._kept_rows():]
                         for name, frame in frames.items()}
        if fitting:
            self._fitted_with = {name: _frozen(name, getattr(self, name))
                                 for name in self._fit_parameters}

    def _check_fitted(self):
        """Raise unless fitted with the parameters it has now (NotFittedError if not fitted).

        Raises
        ------
        ValueError
            If a parameter of ``_fit_parameters`` was set to another value
            after the fit: parameters take effect at fit.
        """
        check_fitted(self)
        for name, value in getattr(self, "_fitted_with", {}).items():  # {}: a file from before
            if _frozen(name, getattr(self, name)) != _frozen(name, value):  # value: as saved
                raise ValueError(f"{name}={getattr(self, name)!r} is set, but the forecaster "
                                 f"was fitted with {name}={value!r}: parameters take effect at "
                                 f"fit; fit it again, or set {name} back")

    def _kept_rows(self):
        """Rows of each series that ``history_`` keeps: what a forecast reads."""
        return self.lookback_

    def predict(self, horizon=None, future_covariates=None, data=None):
        """Forecast the next ``horizon`` steps after the fitted data, or after ``data``.

        Parameters
        ----------
        horizon : int, optional
            Steps to forecast; defaults to the ``horizon`` the forecaster was
            built with (a direct forecaster cannot go beyond it, the others
            beyond :data:`MAX_STEPS`).
        future_covariates : pandas.DataFrame, or dict of them, optional
            Values of the future covariates at the forecast timestamps, for
            at least the next ``horizon`` steps (a direct forecaster reads
            the full horizon it was built with, even when asked for fewer
            steps); required when the forecaster has future covariates, an
            error otherwise.  Other columns are ignored.  A dict, keyed like
            the series, when several are forecast.
        data : pandas.DataFrame or pandas.Series, or dict of str to either, optional
            Forecast from the end of these rows instead of the end of the
            fitted (and :meth:`update`-d) series, with the fitted weights and
            scalers: recent rows of a fitted series, or of a series the
            model never saw (a global model forecasting a new sensor).  The
            fitted columns (none more), at the fitted frequency, at least the
            last ``lookback_`` rows (the only ones read); checked as
            :meth:`fit` checks its data.  A dict forecasts each of its
            series.

        Returns
        -------
        pandas.DataFrame of shape (horizon, n_targets)
            Indexed by the forecast timestamps, one column per target.  With
            several series (fitted on a dict and ``data`` None, or ``data``
            a dict) the series are stacked, with the series name as the
            outer index level.
        """
        self._check_fitted()
        k = len(self.targets_)
        return self._frames(horizon, future_covariates, data, lambda values, n_steps, history: (
            self._forecast(values, self._last_origin(), n_steps)[0],
            _first(history.columns, k)))

    def predict_quantiles(self, horizon=None, quantiles=None, future_covariates=None, data=None):
        """Quantiles of the forecast distribution of the next ``horizon`` steps.

        Needs a probabilistic forecaster (``quantiles_`` not None): a
        :class:`SequenceForecaster` whose regressor was trained with
        ``loss='quantile'``, ``'gaussian'`` or ``'student_t'``.  The
        regressor's quantiles of the targets it was trained on (relative to
        the window's origin, scaled, normalised) are mapped back through
        every transform the forecaster applies: ``scale`` and
        ``window_norm`` (increasing affine maps) and ``target_transform``
        (adding, or multiplying by, the origin's value); a map that
        decreases (multiplying by a negative origin value, with 'return' or
        'last_value') turns the level-q quantile into the level 1 - q one,
        so that level's is read instead.  Each level's quantile is thus
        exact; they increase along the levels.

        Parameters
        ----------
        horizon : int, optional
            Steps to forecast; defaults to ``horizon``.  A recursive
            forecaster gives quantiles of one step only (later steps read
            earlier forecasts, whose uncertainty the regressor never saw).
        quantiles : sequence of float, optional
            Levels in (0, 1), distinct, in any order (the columns are in
            increasing order).  None: the forecaster's own, ``quantiles_``.
            With ``loss='quantile'``, levels the regressor was trained on;
            with 'gaussian' or 'student_t', any.
        future_covariates, data
            As for :meth:`predict`.

        Returns
        -------
        pandas.DataFrame of shape (horizon, n_targets * n_quantiles)
            Indexed as :meth:`predict`'s forecast (several series stacked
            under an outer 'series' level); columns a MultiIndex
            ``(target, quantile)`` with the levels named 'target' and
            'quantile', the targets in order and, within each, the levels
            increasing: ``frame["load"]`` has one column per level,
            ``frame.xs(0.5, axis=1, level="quantile")`` one per target.

        Raises
        ------
        ValueError
            If the forecaster gives no quantiles (the message says how to
            get them), a level is not in (0, 1), repeated or (loss='quantile')
            not trained, or a recursive forecaster is asked for more than
            one step.
        """
        self._check_fitted()
        levels = self._levels(quantiles)
        return self._quantile_frames(horizon, levels, future_covariates, data)

    def predict_interval(self, coverage=0.9, horizon=None, future_covariates=None, data=None):
        """Central prediction intervals: the forecast quantiles of levels (1 - c)/2 and (1 + c)/2.

        Parameters
        ----------
        coverage : float, default=0.9
            Nominal coverage ``c`` in (0, 1).  With ``loss='quantile'`` the
            regressor must have been trained on both levels (0.05 and 0.95
            for 0.9).
        horizon, future_covariates, data
            As for :meth:`predict`.

        Returns
        -------
        lower, upper : pandas.DataFrame
            Each shaped and indexed as :meth:`predict`'s forecast (one
            column per target), as
            :meth:`~seqforecast.evaluation.BacktestResult.prediction_intervals`
            and :func:`~seqforecast.plotting.plot_forecast` take them.

        Raises
        ------
        ValueError
            As :meth:`predict_quantiles`, or for a coverage outside (0, 1).
        """
        self._check_fitted()
        levels = self._levels(central_levels(coverage))
        frame = self._quantile_frames(horizon, levels, future_covariates, data)
        return tuple(frame.xs(level, axis=1, level="quantile").rename_axis(columns=None)
                     for level in levels)

    @property
    def quantiles_(self):
        """The levels of :meth:`predict_quantiles`'s default, or None for point forecasts only."""
        return None

    def _levels(self, quantiles):
        """Checked levels of ``quantiles`` (None: ``quantiles_``), increasing; a ValueError
        saying how to get quantiles from a forecaster that gives none."""
        raise ValueError(f"{type(self).__name__} forecasts points only, it gives no quantiles: "
                         f"{_QUANTILE_ADVICE}")

    def _quantile_frames(self, horizon, levels, future_covariates, data):
        """:meth:`predict_quantiles`'s frames for checked ``levels``."""
        columns = pd.MultiIndex.from_product([self.targets_, levels],
                                             names=["target", "quantile"])
        return self._frames(horizon, future_covariates, data, lambda values, n_steps, _: (
            self._forecast_quantiles(values, self._last_origin(), n_steps, levels)[0]
            .reshape(n_steps, -1), columns))

    def _last_origin(self):
        """The origin of a forecast after the rows of :meth:`_extend`: its last observed row."""
        return np.array([self.lookback_ - 1])

    def _frames(self, horizon, future_covariates, data, forecast):
        """Forecast frames of each series, stacked as :meth:`predict` documents.

        ``forecast(values, n_steps, history)`` returns the forecast of one
        series, (n_steps, n_columns), and its columns.
        """
        n_steps = self._check_steps(horizon)
        if data is None:
            histories, several = self.history_, self._names is not None
        else:
            several = isinstance(data, dict)
            histories = {name: _columns(frame, self.channels_)
                         for name, frame in self._check_new_data(data).items()}
        if not several:
            future_covariates = {None: future_covariates}
        elif future_covariates is not None:
            if not isinstance(future_covariates, dict):
                raise TypeError("several series are forecast: pass future_covariates as a dict "
                                "with the same keys")
            unknown = [name for name in future_covariates if name not in histories]
            if unknown:
                raise ValueError(f"future_covariates has the keys {unknown}, which are not among "
                                 f"the series forecast, {list(histories)}")
        results = {}
        for name, history in histories.items():
            covariates = None if future_covariates is None else future_covariates.get(name)
            label = "future_covariates" if name is None else f"future_covariates[{name!r}]"
            index, values = self._extend(history, n_steps, covariates, label)
            values, columns = forecast(values, n_steps, history)
            results[name] = pd.DataFrame(values, index=_first(index, n_steps), columns=columns)
        if not several:
            return results[None]
        return pd.concat(results, names=_stacked_names(results))

    def update(self, new_rows, refit=False):
        """Append newly observed rows, so that the next :meth:`predict` starts after them.

        The forecaster keeps only the rows its next forecast reads and, for
        a :class:`SequenceForecaster`, the rows the windows ending in new
        targets read (``lookback_ + horizon - 1`` per series for the direct
        strategy): updating in a loop does not grow its memory.

        Parameters
        ----------
        new_rows : pandas.DataFrame or pandas.Series, or dict of str to either
            The rows that follow the stored history (``history_``), starting
            at its next timestamp, at the fitted frequency, with the fitted
            columns; for a forecaster fitted on several series a dict keyed
            by (some of) their names.  Checked as :meth:`fit` checks its data;
            with ``missing='interpolate'`` the missing values of its first
            rows are interpolated from the stored last row.
        refit : bool, default=False
            :class:`SequenceForecaster` only: also train the regressor on the
            windows whose targets the new rows complete (one per new row, or
            every ``stride``-th of them counted back from the newest):
            one epoch of its ``partial_fit``, with the fitted scalers and
            transform.  A seqforecast regressor trains it with early
            stopping off, a batch size of at most the number of new windows,
            and a constant learning rate of ``learning_rate_init`` where it
            was 'cosine' (whose schedule a finished fit has run down to 0);
            its other settings, optimizer state and random state carry on.

        Returns
        -------
        self
        """
        self._check_fitted()
        if refit and not hasattr(self, "_refit"):
            raise TypeError(f"{type(self).__name__} has nothing to refit: call update(new_rows)")
        if (self._names is None) == isinstance(new_rows, dict):
            raise TypeError("the forecaster was fitted on several series: pass new_rows as a "
                            "dict keyed by their names" if self._names is not None else
                            "the forecaster was fitted on one series: pass new_rows as a "
                            "DataFrame or Series, not a dict")
        frames = self._check_new_data(new_rows, continuing=True)
        extended = {name: pd.concat([self.history_[name], _columns(frame, self.channels_)])
                    for name, frame in frames.items()}
        if refit:
            self._refit({name: (extended[name], len(self.history_[name])) for name in frames})
        for name, frame in extended.items():
            self.history_[name] = frame.iloc[-self._kept_rows():]
        return self

    def _check_new_data(self, data, continuing=False):
        """``{name: checked frame}`` of :meth:`predict`'s ``data`` or :meth:`update`'s rows.

        The fitted columns (in any order) and frequency; for an update, rows
        that continue the stored history; else at least ``lookback_`` rows.
        """
        single = not isinstance(data, dict)
        frames = {None: data} if single else dict(data)
        if not frames:
            raise ValueError("data holds no series")
        what = "new_rows" if continuing else "data"
        _check_names(frames, what)
        checked = {}
        for name, frame in frames.items():
            label = what if single else f"{what}[{name!r}]"
            if continuing and name not in self.history_:
                raise ValueError(f"{label}: the forecaster was not fitted on a series named "
                                 f"{name!r}; it has {list(self.history_)}")
            unnamed = isinstance(frame, pd.Series) and frame.name is None
            last = self.history_[name].iloc[-1:] if continuing else None
            continues = (last is not None and isinstance(frame, (pd.Series, pd.DataFrame))
                         and len(frame) and _zone(frame.index) == _zone(last.index)
                         and frame.index[0] == last.index[-1] + self.freq_)
            frame = check_series(frame, label, self.missing, before=last if continues else None)
            _frequency(frame.index, self.freq_, label)
            columns = list(frame.columns)
            absent = [c for c in self._columns if c not in columns]
            extra = [c for c in columns if c not in self._columns]
            if unnamed and (absent or extra):
                advice = (f"name it, e.g. {label}.rename({self._columns[0]!r})"
                          if len(self._columns) == 1 else
                          "pass a DataFrame with all of them")
                raise ValueError(f"{label} is an unnamed Series; the forecaster was fitted on "
                                 f"the columns {self._columns}: {advice}")
            if absent or extra:
                raise ValueError(f"{label} has the columns {columns}; the forecaster was fitted "
                                 f"on {self._columns}" + (f": {absent} are missing" if absent
                                                          else f": {extra} are not among them"))
            if continuing:
                last = self.history_[name].index[-1]
                _check_zone(frame.index, last, label)
                expected = last + self.freq_
                if frame.index[0] != expected:
                    raise ValueError(f"{label} must continue the series, whose last row is at "
                                     f"{last}: its first row must be at {expected}, not "
                                     f"{frame.index[0]}")
            elif len(frame) < self.lookback_:
                raise ValueError(f"{label} has {len(frame)} rows; forecasting reads the last "
                                 f"lookback_ = {self.lookback_}")
            windower = getattr(self, "windower_", None)
            if windower is not None and windower.target_transform in _SCALING_TRANSFORMS:
                read = frame if continuing else frame.iloc[len(frame) - self.lookback_:]
                windower.check_values(read[self.channels_].to_numpy(), label, read.index)
            checked[name] = frame
        return checked

    def save(self, path):
        """Write this forecaster to one portable file; :func:`seqforecast.load` reads it back.

        The file holds no pickle: see :mod:`seqforecast.persistence` for its
        format.  A loaded copy predicts bit-identically and continues (``update``,
        ``partial_fit``) as this one would.

        Parameters
        ----------
        path : str or os.PathLike
        """
        save(self, path)

    def forecast_index(self, horizon=None):
        """The timestamps that :meth:`predict` forecasts: the ``horizon`` steps after the fit.

        Handy to build the ``future_covariates`` frame (holidays, weather forecasts).

        Returns
        -------
        pandas.DatetimeIndex or pandas.TimedeltaIndex
            For a forecaster fitted on several series, a MultiIndex of
            (series, timestamp), as :meth:`predict` indexes its forecast:
            each series' steps after its own last row.
        """
        self._check_fitted()
        n_steps = self._check_steps(horizon)
        indexes = {name: _future_index(history.index[-1], self.freq_, n_steps,
                                       history.index.name)
                   for name, history in self.history_.items()}
        if self._names is None:
            return indexes[None]
        # Stacked as predict stacks its frames, so the series' names come out alike (an int
        # stays an int next to a str, a tuple spreads over levels).
        frames = {name: pd.DataFrame(index=index) for name, index in indexes.items()}
        return pd.concat(frames, names=_stacked_names(frames)).index

    def score(self, data, y=None):
        """Negative mean absolute error of forecasts over a test block that follows the fit.

        Every row of ``data`` but the last ``horizon`` is a forecast origin
        (so is the last fitted row); each forecasts ``horizon`` steps and is
        compared with ``data``.  This is what ``GridSearchCV(forecaster,
        cv=TimeSeriesSplit(...))`` maximises.

        Parameters
        ----------
        data : pandas.DataFrame or pandas.Series
            The rows right after the fitted series, same columns.

        Returns
        -------
        float
        """
        actual, predicted, _ = self.forecast_block(data)
        return -average_error(actual.reshape(-1), predicted.reshape(-1))

    def forecast_block(self, data, history=None, quantiles=None):
        """Forecasts from every origin in a block of rows that follows the fit, with the actuals.

        The forecaster is not refitted: each origin forecasts ``horizon``
        steps from the rows up to it.  The origins are the last row before
        ``data`` and every row of ``data`` that leaves at least ``horizon``
        rows after it (a direct forecaster with future covariates needs as
        many rows as its windows read ahead, if more).  :meth:`score` and
        :func:`seqforecast.evaluation.backtest` measure these forecasts.

        Parameters
        ----------
        data : pandas.DataFrame or pandas.Series of shape (n_rows, n_columns)
            The rows right after ``history``, at the fitted frequency, with
            (at least) the fitted columns ``channels_``.
        history : pandas.DataFrame of shape (n_history, n_channels), optional
            The rows before ``data`` that the first forecasts read: (at
            least) the ``channels_`` columns, and at least the last
            ``lookback_`` rows, e.g.
            ``train[forecaster.channels_].iloc[-forecaster.lookback_:]``.
            Default: the end of the fitted series (``history_``), for a
            forecaster fitted on a single series.
        quantiles : sequence of float, optional
            Also forecast these quantile levels (as :meth:`predict_quantiles`
            does), for a probabilistic forecaster.

        Returns
        -------
        actual : numpy.ndarray of shape (n_origins, horizon, n_targets)
            The targets (``targets_``) at the ``horizon`` steps after each origin.
        predicted : numpy.ndarray of shape (n_origins, horizon, n_targets)
            Their forecasts, in the series' units.
        origins : numpy.ndarray of int of shape (n_origins,)
            The origins' positions in the rows of ``history`` followed by
            ``data`` (``len(history) - 1``: the last row of ``history``).
        predicted_quantiles : numpy.ndarray of shape (n_origins, horizon, n_targets, n_quantiles)
            Only when ``quantiles`` is given: the forecast quantiles, the
            levels increasing along the last axis.

        Raises
        ------
        ValueError
            If ``history`` is None for a forecaster fitted on several
            series, or ``data`` does not start right after ``history``, is
            not regular at the fitted frequency, has too few rows for one
            origin, or it or ``history`` lacks a fitted column; for ``quantiles``, as
            :meth:`predict_quantiles`.
        """
        self._check_fitted()
        levels = None if quantiles is None else self._levels(quantiles)
        if history is None:
            if self._names is not None:
                raise ValueError("scoring needs a forecaster fitted on a single series")
            history = self.history_[None]
        test = check_series(data, "data", self.missing)
        _check_zone(test.index, history.index[-1], "data")
        expected = _future_index(history.index[-1], self.freq_, len(test))
        if test.index[0] != expected[0]:
            raise ValueError(f"data must start right after the fitted series, at {expected[0]}; "
                             f"it starts at {test.index[0]} (a TimeSeriesSplit must have gap=0)")
        wrong = np.flatnonzero(test.index != expected)  # equal times, whatever their unit
        if len(wrong):
            raise ValueError(f"data is not regular at the fitted frequency "
                             f"{self.freq_.freqstr}: row {wrong[0]} is {test.index[wrong[0]]}, "
                             f"expected {expected[wrong[0]]}")
        values = self._with_calendar(
            np.concatenate([_channel_values(history, self.channels_, "history"),
                            _channel_values(test, self.channels_, "data")]),
            history.index, test.index)
        n_steps = self._check_steps(None)
        first = len(history) - 1
        last = len(values) - 1 - max(n_steps, self._future_rows(n_steps))
        if last < first:
            raise ValueError(f"data has {len(test)} rows; forecasting {n_steps} steps needs at "
                             f"least {max(n_steps, self._future_rows(n_steps))}")
        origins = np.arange(first, last + 1)
        predicted = self._forecast(values, origins, n_steps)
        k = len(self.targets_)
        actual = values[origins[:, None] + np.arange(1, n_steps + 1), :k]
        if levels is None:
            return actual, predicted, origins
        return actual, predicted, origins, self._forecast_quantiles(values, origins, n_steps,
                                                                    levels)

    # -- shared plumbing ------------------------------------------------------------

    def _check_data(self, data, fitting):
        """``{name: checked frame}``; a single series is keyed None."""
        single = not isinstance(data, dict)
        frames = {None: data} if single else dict(data)
        if not frames:
            raise ValueError("data holds no series")
        _check_names(frames, "data")
        checked, columns, kind = {}, None if fitting else self._columns, None
        for name, frame in frames.items():
            label = _series_label(name)
            frame = check_series(frame, label, self.missing)
            freq = _frequency(frame.index, self.freq, label)
            if kind is None:
                kind = type(frame.index)
            elif type(frame.index) is not kind:
                raise ValueError(f"{label} is indexed by a {type(frame.index).__name__}, the "
                                 f"first series by a {kind.__name__}: the series of one model "
                                 f"need the same kind of index (times, or durations)")
            if fitting and not checked:
                self.freq_, columns = freq, list(frame.columns)
            if freq != self.freq_:
                raise ValueError(f"{label} has frequency {freq.freqstr}, the fitted series "
                                 f"{self.freq_.freqstr}")
            if columns is not None and list(frame.columns) != columns:
                raise ValueError(f"{label} has columns {list(frame.columns)}, the first series "
                                 f"{columns}")
            checked[name] = frame
        if fitting:
            self._names, self._columns = None if single else list(checked), columns
        return checked

    def _check_steps(self, horizon):
        n_steps = check_int(self.horizon if horizon is None else horizon, "horizon")
        limit, why = self._max_steps()
        if n_steps > limit:
            raise ValueError(f"this forecaster predicts at most {limit} steps ({why}); got "
                             f"{n_steps}")
        return n_steps

    def _max_steps(self):
        """The most steps a forecast may have, and why."""
        return MAX_STEPS, ("seqforecast.forecasting.MAX_STEPS: time and memory grow with the "
                           "steps; forecast fewer, or raise MAX_STEPS")

    def _future_rows(self, n_steps):
        """Rows past the origin that a forecast of ``n_steps`` reads (future covariates)."""
        return n_steps

    def _extend(self, history, n_steps, covariates, label):
        """The future timestamps, and the last ``lookback_`` rows of ``history`` and the future
        rows as one value array; errors call ``covariates`` ``label``."""
        n_future = self._future_rows(n_steps)
        index = _future_index(history.index[-1], self.freq_, n_future, history.index.name)
        past = history.to_numpy()[-self.lookback_:]
        values = np.full((len(past) + n_future, len(self.channels_)), np.nan)
        values[:len(past)] = past
        future_columns = self._future_covariates()
        if covariates is not None and not future_columns:
            raise ValueError("future_covariates were given, but the forecaster has none")
        if future_columns:
            if covariates is None:
                raise ValueError(f"this forecaster needs {label} with the columns "
                                 f"{future_columns} for the timestamps {index[0]} .. {index[-1]}")
            covariates = check_series(_covariate_frame(covariates, future_columns, label),
                                      label, missing="keep")
            naive = [getattr(labels, "tz", None) is None for labels in (covariates.index, index)]
            if naive[0] != naive[1]:  # another time zone is fine: the same instants are found
                _check_zone(covariates.index, index[0], label)
            missing = index.difference(covariates.index)
            if len(missing):
                raise ValueError(f"{label} has {len(covariates)} rows but lacks "
                                 f"{len(missing)} of the {n_future} timestamps needed, the first "
                                 f"{missing[0]}")
            read = covariates.loc[index, future_columns]
            if read.isna().any(axis=None):  # NaN in rows not read is no concern
                per_column, column, first = missing_values(read)
                raise ValueError(f"{label} has {sum(per_column.values())} missing values at "
                                 f"the {n_future} timestamps read, the first in column "
                                 f"{column!r} at {first}; fill them")
            positions = [self.channels_.index(column) for column in future_columns]
            values[len(past):, positions] = read.to_numpy()
        return index, self._with_calendar(values, history.index[-len(past):], index)

    def _future_covariates(self):
        """The future covariates a forecast reads from the user."""
        return []

    def _with_calendar(self, values, *indexes):
        """``values`` (rows, channels) and the calendar channels at the timestamps of its
        rows (the labels of ``indexes``, one index after the other) side by side: ``values``
        itself for a forecaster without them (which joins no indexes)."""
        return values


# The default training recipe, in optimizer steps rather than epochs, so that a
# short series gets many epochs and a long one few (see default_regressor).
TRAINING_STEPS = 1000
PATIENCE_STEPS = 500
HOLD_OUT = 0.2
# calendar='auto' keeps its cycles when they lower Ridge's hold-out error by more than this
# fraction: two more inputs lower it a little by chance alone (on the daily log returns of
# MSFT and AAPL, where a calendar has nothing to tell, the year moved it by -0.9% to +1.1%).
CALENDAR_GAIN = 0.02


def default_regressor(cell="lstm", window=24, n_windows=1000, random_state=None):
    """The recurrent regressor a :class:`SequenceForecaster` builds from a cell name.

    One layer of 32 units with a linear autoregressive path over the whole
    window that starts at the ridge regression on the window of what the
    randomly initialised recurrent head leaves of the targets (the model
    starts as about Ridge on the same lags and the recurrent part learns
    what it leaves).  It trains for
    about :data:`TRAINING_STEPS` optimizer steps of 32 windows (epochs =
    steps / batches per epoch) with Adam at 3e-3 decaying to 0 along a
    cosine, global-norm clipping at 1, and early stopping on the most
    recent 20% of the windows that keeps the best weights, the ridge start
    included, after :data:`PATIENCE_STEPS` steps without improvement.

    Why: with epochs instead of steps a small series got a few hundred
    optimizer steps in all and never learned its seasonal copy, and a
    randomly started network lost to Ridge and to seasonal naive on smooth
    seasonal series; starting at the linear model and judging every epoch
    on the newest windows keeps what the recurrent part adds and drops
    what it does not.  A fixed penalty of 1 was too little for short series
    with long windows (on the accuracy benchmark Ridge with the evidence's
    penalty beat it by 3.9% on airline and 7.8% on Nile); a penalty judged
    on the newest, held-out windows failed where those had shifted level,
    while the evidence reads the training windows and needs no held-out
    judge (see the README).

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}, default='lstm'
    window : int, default=24
        Time steps per training window (the autoregressive path's length).
    n_windows : int, default=1000
        Training windows the regressor will be fitted on (sizes the batch,
        the epochs and the patience).
    random_state : int or None, default=None

    Returns
    -------
    RNNRegressor, LSTMRegressor or GRURegressor
        Unfitted.
    """
    from .estimators import REGRESSORS

    if not is_choice(cell, REGRESSORS):
        raise ValueError(f"cell must be one of {sorted(REGRESSORS)}, got {cell!r}")
    check_int(window, "window")
    check_int(n_windows, "n_windows")
    n_val = held_out_count(HOLD_OUT, n_windows)
    early_stopping = n_val >= 2 and n_windows - n_val >= 1
    n_train = n_windows - n_val if early_stopping else n_windows
    batch_size = min(32, n_train)
    batches = math.ceil(n_train / batch_size)
    return REGRESSORS[cell](
        hidden_sizes=32, ar_window=window, ar_alpha="auto", batch_size=batch_size,
        max_iter=math.ceil(TRAINING_STEPS / batches), learning_rate_init=3e-3,
        learning_rate="cosine", clip_global_norm=1.0, early_stopping=early_stopping,
        validation_fraction=HOLD_OUT, n_iter_no_change=math.ceil(PATIENCE_STEPS / batches),
        random_state=random_state)


class SequenceForecaster(_Forecaster):
    """Forecast a time series with any scikit-learn regressor on sliding windows.

    Parameters
    ----------
    regressor : {'lstm', 'gru', 'rnn'}, regressor or None, default=None
        Fitted on the windows: a seqforecast RNN regressor reads them as
        3-D sequences, any other (e.g. ``Ridge``) as flat lag vectors.
        A cell name builds the tuned default of :func:`default_regressor`
        for that cell (sized to the training windows at each fit); None is
        'lstm'.  An estimator is cloned and trained as it is configured,
        except for ``ar_window`` below.
    window : int, default=24
        Time steps the regressor sees.
    horizon : int, default=1
        Steps forecast.
    strategy : {'direct', 'recursive'}, default='direct'
        'direct': one regressor output per step and target (all steps at
        once).  'recursive': a one-step model fed its own forecasts, for any
        horizon; its inputs must be targets or future covariates.
    targets, past_covariates, future_covariates : str, list of str or None
        Column roles, see :class:`~seqforecast.windowing.SlidingWindowTransformer`.
    target_transform : {'auto', None, 'diff', 'return', 'log_return', 'last_value', \
'seasonal_diff'}, default='auto'
        Model the targets relative to the last observed value, or to the
        value one ``season`` earlier (see the transformer); forecasts are
        turned back into levels exactly.  'auto' chooses among None, 'diff'
        and 'seasonal_diff' (when the season is > 1) at each fit: the one
        whose Ridge regression on the same windows forecasts the most recent
        :data:`HOLD_OUT` of the rows best (mean squared error, each target
        relative to its variance), fitted on the rows before them
        (``transform_errors_`` holds the errors, ``target_transform_`` the
        choice).  Why: no single transform suits every series (a level
        model loses to seasonal naive on a series that repeats its day, a
        differenced one on a mean-reverting series), and a linear model
        on the recent rows tells them apart in milliseconds.  Multiplicative
        series (prices) are better modelled with 'log_return', which 'auto'
        never picks: ask for it.  For a probabilistic forecaster (``loss``
        below) whose horizon is longer than the season, 'seasonal_diff' is
        no candidate (see ``loss``).
    season : int or None, default=None
        The period, in rows, of ``target_transform='seasonal_diff'`` (and
        of the 'seasonal_diff' candidate of 'auto', where None means
        :func:`~seqforecast.timeindex.infer_season` of the frequency).
    ar_window : 'auto', int or None, default='auto'
        The linear autoregressive path of a seqforecast RNN regressor (see
        its ``ar_window``): 'auto' turns it on over the whole window when
        the regressor leaves it off, an int sets it, None leaves the
        regressor as it is.  Other regressors ignore it.
    window_norm : {None, 'standard', 'last'}, default=None
        Per-window normalisation of the target channels (RevIN, Kim et al.
        2022): each window's target channels, and its targets, are shifted
        by that window's own mean and divided by its standard deviation
        ('standard'), or shifted by its last value ('last'), before the
        regressor sees them; forecasts are mapped back with the same
        numbers.  One model then serves series whose level drifts and
        series of different scales.  Applied after ``target_transform``
        and before ``scale``.
    calendar : 'auto', None, or list or tuple of {'day', 'week', 'year'}, default='auto'
        Calendar cycles given to the regressor as future covariates
        computed from the timestamps (see :mod:`seqforecast.calendar`):
        two channels per cycle, the sine and cosine of each row's phase in
        it, named ``'calendar week sin'`` and so on; a forecast needs
        nothing more from the user.  'auto': the cycles a window cannot
        hold (longer than ``window`` rows) that every series spans at
        least twice, kept only if they lower the hold-out error of a Ridge
        regression on the windows (scored as for
        ``target_transform='auto'``, ``calendar_errors_``) by more than
        :data:`CALENDAR_GAIN` (2%); none for a TimedeltaIndex, and none
        where the direct strategy's window is shorter than the horizon
        (future covariates are read inside the window).  Why: the lags
        show a model the cycles inside its window, but not the week of
        half-hourly demand read two days at a time, nor the year of daily
        temperatures; the hold-out guards a series whose training rows
        hold anomalies that a calendar would learn (on the accuracy
        benchmark's water flow, the week made Ridge's forecasts nine times
        worse).  A list: those cycles, always; None: none.
    random_state : int or None, default=None
        Seeds the regressor built from a cell name (ignored otherwise).
    loss : str or None, default=None
        Set on the regressor (its ``loss`` parameter, with the tuned
        defaults of a cell name kept); None leaves the regressor's own.
        'quantile', 'gaussian' and 'student_t' make a probabilistic
        forecaster: :meth:`predict` forecasts the median ('quantile') or
        the distribution's location, and :meth:`predict_quantiles` and
        :meth:`predict_interval` its quantiles, mapped back through
        ``scale``, ``window_norm`` and ``target_transform`` exactly.  Two
        set-ups have no exact quantiles and are refused at fit: the
        recursive strategy beyond one step (each step reads earlier
        forecasts) and 'seasonal_diff' beyond one season (a step adds the
        forecast one season earlier, and quantiles do not add).  A
        regressor without a ``loss`` parameter (Ridge) is refused.
    quantiles : sequence of float or None, default=None
        Set on the regressor (its ``quantiles``): the levels trained with
        ``loss='quantile'`` (0.5 among them), or the default levels of
        :meth:`predict_quantiles` for 'gaussian' and 'student_t'; None
        leaves the regressor's own (0.05, 0.5, 0.95).  An error with a
        loss that gives no quantiles.
    scale : bool, default=True
        Standardise every input channel and every target (after
        ``target_transform``) with :class:`~sklearn.preprocessing.StandardScaler`
        fitted on the training windows; forecasts are scaled back.  It is
        fitted at unit scale, so that series of any magnitude (1e-300,
        1e200) reach the regressor, a float32 one included, at unit scale.
    stride : int, default=1
        Rows between training windows.
    freq : str or None, default=None
        Frequency of the timestamps; inferred from the index when None.
    missing : {'error', 'interpolate'}, default='error'
        What to do with missing values in the data.

    Attributes
    ----------
    regressor_ : regressor
        The fitted clone.
    windower_ : SlidingWindowTransformer
    targets_ : list of str
    channels_ : list of str
        The columns of the data the windows read, in their order: the
        targets, then the past and the future covariates (the calendar's
        channels, computed from the timestamps, are not among them:
        ``windower_.channels_`` ends with them).
    lookback_ : int
        Rows of history a forecast reads (``window``, plus the rows the
        target transform differences from: 1, or ``season``).
    freq_ : pandas.DateOffset
    history_ : dict
        The last rows of each fitted series, ``channels_`` only (key None
        for a single series): the ``lookback_`` rows the next forecast
        reads and, for :meth:`update` with ``refit=True``, the rows before
        them that the windows ending in new targets read
        (``lookback_ + horizon - 1`` in all, direct strategy).
    input_scaler_, target_scaler_ : sklearn.preprocessing.StandardScaler
        With ``scale=True``: the standardisation of the window channels
        (per channel) and of the targets (per output) that the regressor
        sees.
    target_transform_ : str or None
        The target transform fitted with ('auto' resolved).
    season_ : int or None
        Its season ('seasonal_diff'), else None.
    transform_errors_ : dict
        For ``target_transform='auto'``: each candidate's hold-out error
        (inf where the rows were too few to fit or score it); else empty.
    calendar_ : list of str
        The calendar cycles fitted with ('auto' resolved; empty for none).
    calendar_errors_ : dict
        For ``calendar='auto'`` with cycles to try: the hold-out error
        ``'without'`` and ``'with'`` them (inf where a Ridge regression could
        not be fitted or scored on the rows); else empty.
    quantiles_ : tuple of float or None
        The levels :meth:`predict_quantiles` forecasts by default (the
        regressor's ``quantiles``, increasing) for a probabilistic
        forecaster; None for one that forecasts points only.
    """

    _int_parameters = (("window", 1), ("horizon", 1), ("stride", 1))
    _fit_parameters = ("window", "horizon", "strategy", "targets", "past_covariates",
                       "future_covariates", "target_transform", "season", "ar_window",
                       "window_norm", "calendar", "scale", "stride", "freq", "loss",
                       "quantiles")
    # What a parameter added later was for a forecaster written before it (a model file, a
    # pickle), where its default would make the refits of such a forecaster differ.
    _legacy_defaults = {"calendar": None}

    def __init__(self, regressor=None, window=24, horizon=1, strategy="direct", *, targets=None,
                 past_covariates=None, future_covariates=None, target_transform="auto",
                 season=None, ar_window="auto", window_norm=None, calendar="auto", scale=True,
                 stride=1, freq=None, missing="error", random_state=None, loss=None,
                 quantiles=None):
        self.regressor = regressor
        self.window = window
        self.horizon = horizon
        self.strategy = strategy
        self.targets = targets
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.target_transform = target_transform
        self.season = season
        self.ar_window = ar_window
        self.window_norm = window_norm
        self.calendar = calendar
        self.scale = scale
        self.stride = stride
        self.freq = freq
        self.missing = missing
        self.random_state = random_state
        self.loss = loss
        self.quantiles = quantiles

    def __setstate__(self, state):
        for name, value in self._legacy_defaults.items():
            state.setdefault(name, value)
        if "history_" in state:  # fitted before the calendar: with none
            state.setdefault("calendar_", [])
            state.setdefault("calendar_errors_", {})
        super().__setstate__(state)

    @property
    def quantiles_(self):
        """The fitted regressor's ``quantiles_``: the levels it was trained on (loss='quantile')
        or gives by default ('gaussian', 'student_t'), increasing; None for point forecasts."""
        check_fitted(self)
        return getattr(self.regressor_, "quantiles_", None)

    def _levels(self, quantiles):
        """Checked levels of ``quantiles`` (None: ``quantiles_``), increasing: trained ones
        for loss='quantile'; a ValueError saying how to get quantiles if there are none."""
        own = self.quantiles_
        if own is None:
            regressor = self.regressor_
            loss = getattr(regressor, "trained_loss_", None)
            what = (f"its regressor, {type(regressor).__name__}, was trained with loss={loss!r}"
                    if loss is not None else
                    f"its regressor, {type(regressor).__name__}, predicts points only")
            raise ValueError(f"this forecaster gives no quantiles: {what}; {_QUANTILE_ADVICE}")
        if quantiles is None:
            return own
        levels = check_levels(quantiles)
        self._check_trained(levels)
        return levels

    def _check_trained(self, levels, why=""):
        """Raise unless a regressor trained with loss='quantile' was trained on ``levels``."""
        own = self.quantiles_
        untrained = [level for level in levels if level not in own]
        if untrained and self.regressor_.trained_loss_ == "quantile":
            raise ValueError(f"the regressor was trained with loss='quantile' on the levels "
                             f"{list(own)}, not on {untrained}{why}: ask for trained levels, "
                             f"or fit with quantiles=... including them (or with "
                             f"loss='gaussian' or 'student_t', which give any level)")

    def _loss_settings(self, regressor):
        """``loss`` and ``quantiles`` (those not None) to set on ``regressor``, and whether
        the forecaster is then probabilistic.

        Raises
        ------
        ValueError
            If ``regressor`` has no such parameter, or ``quantiles`` is
            given with a loss that gives no quantiles.
        """
        settings = {name: value for name, value in (("loss", self.loss),
                                                    ("quantiles", self.quantiles))
                    if value is not None}
        params = regressor.get_params()
        for name, value in settings.items():
            if name not in params:
                raise ValueError(
                    f"{name}={value!r} is set on the regressor, but {type(regressor).__name__} "
                    f"has no parameter {name!r}: probabilistic forecasts need a seqforecast "
                    f"recurrent regressor (regressor='lstm', 'gru' or 'rnn', or one of their "
                    f"estimators); for split-conformal intervals around any regressor's "
                    f"forecasts, see BacktestResult.prediction_intervals")
        loss = settings.get("loss", params.get("loss"))
        probabilistic = _gives_quantiles(regressor, loss)
        if "quantiles" in settings and not probabilistic:
            raise ValueError(f"quantiles={self.quantiles!r} is given, but the regressor's loss "
                             f"is {loss!r}, which gives no quantiles: pass loss='quantile' "
                             f"(trained on these levels), 'gaussian' or 'student_t'")
        return settings, probabilistic

    def partial_fit(self, data, y=None):
        """One more epoch of the regressor's ``partial_fit`` on the windows of ``data``.

        The first call fixes the windows' layout and scalers, as :meth:`fit`
        does; the command line uses it to show progress.  A regressor built
        from a cell name then trains without early stopping (``partial_fit``
        holds nothing out).  After :meth:`fit`, each call trains as
        :meth:`update` with ``refit=True`` does: early stopping off, a batch
        of at most the windows given, and a constant rate of
        ``learning_rate_init`` where it was 'cosine' (the fit ran that
        schedule down); the regressor's settings are restored after.
        """
        if not hasattr(self._template(), "partial_fit"):
            raise TypeError(f"{type(self.regressor).__name__} has no partial_fit")
        first = not hasattr(self, "history_")
        if first:
            self._check_parameters()
            frames = self._check_data(data, fitting=True)
            X, Y = self._prepare(frames, incremental=True)
            self._fit_scalers(X, Y)
            self._after_fit = False
        else:
            self._check_fitted()
            frames = self._check_data(data, fitting=False)
            if self._names != (None if None in frames else list(frames)):
                raise ValueError(f"partial_fit got the series {list(frames)}; the first call "
                                 f"had {self._names or [None]}")
            X, Y = self._training_windows(frames)
        after_fit = self.__dict__.get("_after_fit", True)  # False from a first partial_fit
        self._partial_fit_regressor(X, Y, self._one_epoch_settings(len(X)) if after_fit else {})
        self._remember(frames, fitting=first)
        return self

    def _fit(self, frames):
        X, Y = self._prepare(frames)
        self._fit_scalers(X, Y)
        self.regressor_.fit(*self._scaled(X, Y))
        self._after_fit = True

    def _template(self):
        """The regressor as given, or the class a cell name stands for (unfitted, unsized).

        Raises
        ------
        ValueError
            For an unknown cell name.
        TypeError
            For anything else that is not an estimator instance with ``fit``
            and ``predict``.
        """
        from .estimators import REGRESSORS

        regressor = "lstm" if self.regressor is None else self.regressor
        cells = ", ".join(repr(cell) for cell in sorted(REGRESSORS))
        if isinstance(regressor, str):
            if regressor not in REGRESSORS:
                raise ValueError(f"regressor must be an estimator or one of {cells}, got "
                                 f"{regressor!r}")
            return REGRESSORS[regressor]()
        if isinstance(regressor, type):
            raise TypeError(f"regressor is the class {regressor.__name__}: pass an instance, "
                            f"{regressor.__name__}(...)")
        if not (hasattr(regressor, "fit") and hasattr(regressor, "predict")):
            raise TypeError(f"regressor must be an estimator with fit and predict (e.g. "
                            f"Ridge()) or one of {cells}, got {shown(regressor)}")
        return regressor

    def _configured(self, n_windows, incremental):
        """The regressor to fit on ``n_windows`` training windows."""
        if isinstance(self.regressor, str) or self.regressor is None:
            regressor = default_regressor(self.regressor or "lstm", self.window, n_windows,
                                          self.random_state)
            if incremental:
                regressor.set_params(early_stopping=False)
        else:
            regressor = clone(self.regressor)
        if "ar_window" in regressor.get_params() and self.ar_window is not None:
            if self.ar_window != "auto":
                regressor.set_params(ar_window=self.ar_window)
            elif regressor.get_params()["ar_window"] is None:
                regressor.set_params(ar_window=self.window)
        return regressor.set_params(**self._loss_settings(regressor)[0])

    def _prepare(self, frames, incremental=False):
        if not is_choice(self.strategy, ("direct", "recursive")):
            raise ValueError(f"strategy must be 'direct' or 'recursive', got {self.strategy!r}")
        if self.strategy == "recursive" and self.past_covariates:
            raise ValueError("strategy='recursive' feeds forecasts back as inputs, so it cannot "
                             "use past covariates (unknown in the future): make them future "
                             "covariates or use strategy='direct'")
        if not is_choice(self.window_norm, (None, "standard", "last")):
            raise ValueError(f"window_norm must be None, 'standard' or 'last', got "
                             f"{self.window_norm!r}")
        if not (is_choice(self.ar_window, (None, "auto")) or is_int(self.ar_window)):
            raise ValueError(f"ar_window must be 'auto', a positive int or None, got "
                             f"{self.ar_window!r}")
        if is_int(self.ar_window) and self.ar_window > self.window:
            raise ValueError(f"ar_window={self.ar_window} reads more steps than a window has: "
                             f"window={self.window}")
        if not (self.season is None or is_int(self.season)):
            raise ValueError(f"season must be a positive int (rows per cycle) or None (from "
                             f"the frequency), got {self.season!r}")
        if not is_bool(self.scale):
            raise ValueError(f"scale must be True or False, got {self.scale!r}")
        check_calendar(self.calendar)
        template = self._template()
        tags = get_tags(template)
        three_d = tags.input_tags.three_d_array
        probabilistic = self._loss_settings(template)[1]
        if probabilistic and self.strategy == "recursive" and self.horizon > 1:
            raise ValueError(f"a probabilistic forecaster with strategy='recursive' gives "
                             f"quantiles of one step only (each later step reads earlier "
                             f"forecasts, whose uncertainty the regressor does not see), and "
                             f"horizon={self.horizon}: use strategy='direct', or horizon=1")
        self.target_transform_, self.season_ = self._chosen_transform(frames, probabilistic)
        if (probabilistic and self.target_transform_ == "seasonal_diff"
                and is_int(self.season_) and self.horizon > self.season_):
            raise ValueError(f"a probabilistic forecaster with target_transform='seasonal_diff' "
                             f"gives quantiles of season={self.season_} steps at most (a later "
                             f"step adds the forecast one season earlier, and a sum of quantiles "
                             f"is not a quantile of the sum), and horizon={self.horizon}: use "
                             f"another target_transform (e.g. 'diff' or None), or a horizon of "
                             f"at most {self.season_}")
        self.calendar_ = self._chosen_calendar(frames)
        columns = calendar_columns(self.calendar_)
        first = next(iter(frames.values()))
        self._calendar_clock = first.index[:0]  # its time zone: the clock of the phases
        future = check_column_list("future_covariates", self.future_covariates,
                                   list(first.columns))
        self.windower_ = SlidingWindowTransformer(
            self.window, self.horizon if self.strategy == "direct" else 1, stride=self.stride,
            targets=self.targets, past_covariates=self.past_covariates,
            future_covariates=future + columns,
            target_transform=self.target_transform_, season=self.season_,
            flatten=not three_d).fit(first.assign(**dict(zip(
                columns, self._calendar(first.index).T))) if columns else first)
        self.channels_ = self.windower_.channels_[:len(self.windower_.channels_) - len(columns)]
        self.targets_ = self.channels_[:self.windower_.n_targets_]
        self.lookback_ = self.windower_.lookback_
        X, Y = self._training_windows(frames)
        self.regressor_ = self._configured(len(X), incremental)
        if Y.shape[1] > 1 and not tags.target_tags.multi_output:
            raise ValueError(f"{type(self.regressor_).__name__} predicts one output, but the "
                             f"direct strategy needs {Y.shape[1]} (steps x targets): wrap it in "
                             f"sklearn.multioutput.MultiOutputRegressor or use "
                             f"strategy='recursive' with one target")
        return X, Y

    def _chosen_transform(self, frames, probabilistic):
        """The target transform and season to fit with: as given, or chosen for 'auto'.

        For 'auto', each candidate is a Ridge regression on this
        forecaster's windows with that transform, fitted on each series but
        its last :data:`HOLD_OUT` of rows (at least a horizon) and scored on
        forecasts from every origin in them; ties go to the earlier
        candidate (None, 'diff', 'seasonal_diff'; the last only when the
        season is > 1 and, for a ``probabilistic`` forecaster, at least the
        horizon).  A candidate that some series is too short to train on is
        not scored (inf); the others are scored on the same series, those
        whose first rows hold a training window for each, the most demanding
        candidates left out (inf) while no series does; with none, every
        score is inf, a warning says so, and the transform is None.
        """
        self.transform_errors_ = {}
        if self.target_transform != "auto":
            return self.target_transform, self.season
        season = infer_season(self.freq_) if self.season is None else self.season
        seasonal = is_int(season, 2) and not (probabilistic and self.horizon > season)
        candidates = [None, "diff"] + (["seasonal_diff"] if seasonal else [])
        n_test = self._hold_out_rows(frames)
        heads = {name: frame.iloc[:-n_test[name]] for name, frame in frames.items()}

        def rows(names):  # the rows that hold one training window for each of the candidates
            return max(self._window_rows(name, season) for name in names)

        # The candidates every series can train on, scored on the series whose heads hold a
        # window for each; the most demanding is dropped (scored inf) while there are none.
        scorable = [c for c in candidates
                    if all(len(frame) >= rows([c]) for frame in frames.values())]
        scored = []
        while scorable and not scored:  # (in name order: the mean's sum does not follow the dict)
            scored = sorted((name for name, head in heads.items() if len(head) >= rows(scorable)),
                            key=_name_order)
            if not scored:
                scorable.pop()
        for candidate in candidates:
            errors = [np.inf]
            if scored and candidate in scorable:
                errors = self._proxy_errors(
                    frames, n_test, scored, calendar=None, target_transform=candidate,
                    season=season if candidate == "seasonal_diff" else None)
            error = float(np.mean(errors))
            self.transform_errors_[candidate] = error if np.isfinite(error) else np.inf
        best = min(candidates, key=self.transform_errors_.__getitem__)
        if not scored and all(len(frame) >= rows([None]) for frame in frames.values()):
            warnings.warn(f"target_transform='auto' could not score a candidate: no series "
                          f"holds {rows([None])} rows (a window and its targets) before its "
                          f"last {HOLD_OUT:.0%} of rows (at least a horizon), which score "
                          f"the candidates; fitted with target_transform=None", UserWarning)
        return best, season if best == "seasonal_diff" else None

    def _hold_out_rows(self, frames):
        """``{name: rows}``: the last rows of each series that the 'auto' choices score on,
        :data:`HOLD_OUT` of them and at least a horizon."""
        return {name: max(math.ceil(HOLD_OUT * len(frame)), self.horizon)
                for name, frame in frames.items()}

    def _window_rows(self, transform, season):
        """Rows that hold one training window and its targets with ``transform``."""
        differenced = {None: 0, "seasonal_diff": season}.get(transform, 1)
        return self.window + differenced + (self.horizon if self.strategy == "direct" else 1)

    def _proxy_errors(self, frames, n_test, scored, **settings):
        """Hold-out errors of a Ridge regression on this forecaster's windows with ``settings``:
        fitted on the ``scored`` series but their last ``n_test`` rows, each series' error
        on forecasts from every origin in those rows (relative to its variance there);
        ``[inf]`` where the rows were too few for its windows or origins."""
        heads = {name: frames[name].iloc[:-n_test[name]] for name in scored}
        proxy = clone(self).set_params(regressor=Ridge(), loss=None, quantiles=None, **settings)
        try:
            proxy.fit(heads if self._names else heads[None])
            return [_relative_squared_error(*proxy.forecast_block(
                        frames[name].iloc[-n_test[name]:], proxy.history_[name])[:2],
                        heads[name][proxy.targets_].to_numpy())
                    for name in scored]
        except ValueError:
            return [np.inf]

    def _chosen_calendar(self, frames):
        """The calendar cycles to fit with: as given, or chosen for 'auto' (see ``calendar``).

        For 'auto', the cycles of :func:`~seqforecast.calendar.unseen_cycles`
        are kept if a Ridge regression on this forecaster's windows (with the
        target transform chosen) forecasts the last :data:`HOLD_OUT` of the
        rows with them with an error more than :data:`CALENDAR_GAIN` lower
        than without, scored as :meth:`_chosen_transform` scores its
        candidates, on the series whose rows before those hold a training
        window.
        """
        self.calendar_errors_ = {}
        if self.calendar is None:
            return []
        indexes = [frame.index for frame in frames.values()]
        short = self.strategy == "direct" and self.window < self.horizon
        tried = list(CYCLES) if self.calendar == "auto" else self.calendar
        taken = [column for column in calendar_columns(tried)
                 if column in next(iter(frames.values())).columns]
        if taken:
            raise ValueError(f"the data has the columns {taken}, which calendar={self.calendar!r} "
                             f"may add: rename them, or set calendar=None")
        if self.calendar != "auto":
            if not isinstance(indexes[0], pd.DatetimeIndex):
                raise ValueError(f"calendar={self.calendar!r} reads the time of day, week or "
                                 f"year of the timestamps, but the data is indexed by "
                                 f"{type(indexes[0]).__name__} (durations): set calendar=None")
            if short:
                raise ValueError(f"calendar={self.calendar!r} is read at the forecast times, "
                                 f"inside the window (as future covariates are): it needs "
                                 f"window >= horizon ({self.horizon}), and window is "
                                 f"{self.window}; set a longer window, or calendar=None")
            return [cycle for cycle in CYCLES if cycle in self.calendar]
        cycles = [] if short else unseen_cycles(indexes, self.window)
        n_test = self._hold_out_rows(frames)
        least = self._window_rows(self.target_transform_, self.season_)
        scored = sorted((name for name, frame in frames.items()
                         if len(frame) - n_test[name] >= least), key=_name_order)
        if not (cycles and scored):
            return []
        settings = dict(target_transform=self.target_transform_, season=self.season_)
        self.calendar_errors_ = {
            what: float(np.mean(self._proxy_errors(frames, n_test, scored, calendar=calendar,
                                                   **settings)))
            for what, calendar in (("without", None), ("with", cycles))}
        errors = self.calendar_errors_
        return cycles if errors["with"] < (1 - CALENDAR_GAIN) * errors["without"] else []

    def _calendar(self, index):
        """The fitted calendar channels at the timestamps ``index``, (len(index), 2 * cycles).

        Zoned timestamps are read on the clock of the first series fitted (a
        forecast from rows given in UTC reads the phases the model learnt on
        Berlin's clock); naive ones as they are.
        """
        zone = self._calendar_clock.tz
        if zone is not None and index.tz is not None:
            index = index.tz_convert(zone)
        return calendar_values(index, self.calendar_)

    def _with_calendar(self, values, *indexes):
        if not self.calendar_:
            return values
        index = indexes[0].append(list(indexes[1:])) if len(indexes) > 1 else indexes[0]
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError(f"the forecaster reads the calendar cycles {self.calendar_} of the "
                             f"timestamps, but these rows are indexed by "
                             f"{type(index).__name__} (durations): give their timestamps")
        return np.concatenate([values, self._calendar(index)], axis=1)

    def _training_windows(self, frames):
        # frames already checked by _check_data; the transform's domain is checked here
        series = {name: frame[self.channels_].to_numpy() for name, frame in frames.items()}
        for name, values in series.items():
            self.windower_.check_values(values, _series_label(name), frames[name].index)
        return self._windows_of((name, values, frames[name].index, 0)
                                for name, values in series.items())

    def _windows_of(self, series, held_out=True):
        """Training windows and targets of value arrays, stacked in time order, with
        ``window_norm`` applied.

        ``series`` yields ``(name, values, index, first_new)``: the series'
        name (None for a single one), the channels in order, their
        timestamps, and the first row a window's targets must reach (0:
        every window); values checked already (:meth:`_training_windows`,
        :meth:`_check_new_data`).  A series too short for one window is named
        in the error.  The windows of several series are ordered by how far
        into their own series they come (window ``i`` of ``n`` at
        ``(i + 1) / n``), then by their origins' timestamps, then by series
        name: the last windows, which a regressor's early stopping holds
        out, are the newest of every series in the same proportion (not the
        last series' windows, nor only the series that end last), and the
        order does not depend on the order of the dict.  Those held out
        (:meth:`_held_out`; none unless ``held_out``) are then ordered by
        series, then time.
        """
        series = sorted(series, key=lambda item: _name_order(item[0]))
        windower, X, Y, stamps = self.windower_, [], [], []
        for name, values, index, first_new in series:
            values = self._with_calendar(values, index)
            try:
                origins = windower.training_origins(len(values))
            except SeriesTooShortError as error:
                if name is None:
                    raise
                raise SeriesTooShortError(f"{_series_label(name)}: {error}") from None
            origins = origins[origins + windower.lead_ >= first_new]
            X.append(windower.windows(values, origins))
            Y.append(windower.window_targets(values, origins))
            stamps.append(index[origins])
        X, Y = np.concatenate(X), np.concatenate(Y)
        if len(stamps) > 1:  # zoned timestamps compared as UTC, naive ones as they are
            keys = [labels.tz_convert(None) if getattr(labels, "tz", None) else labels
                    for labels in stamps]
            units = {labels.unit for labels in keys}  # compared in the coarsest (1500 in ns: no)
            coarsest = min(units, key=["s", "ms", "us", "ns"].index)
            keys = [labels.as_unit(coarsest) for labels in keys]
            by_time = keys[0].append(keys[1:]).argsort(kind="stable")  # series order on ties
            time_rank = np.empty(len(by_time), dtype=np.int64)
            time_rank[by_time] = np.arange(len(by_time))
            progress = np.concatenate([np.arange(1, len(labels) + 1) / len(labels)
                                       for labels in stamps])
            owner = np.repeat(np.arange(len(stamps)), [len(labels) for labels in stamps])
            order = np.lexsort((time_rank, progress))
            # The windows early stopping holds out, each series' together (in time order):
            # the significance test reads a series' forecasts in sequence.
            held = order[len(order) - (self._held_out(len(order)) if held_out else 0):]
            held[...] = held[np.lexsort((time_rank[held], owner[held]))]
            X, Y = X[order], Y[order]
        if self.window_norm is None:
            return X, Y
        shift, spread = self._window_stats(X)
        return self._normalised(X, shift, spread), self._targets_normalised(Y, shift, spread)

    def _held_out(self, n_windows):
        """How many of ``n_windows`` training windows, the last ones, the regressor's early
        stopping holds out (0 for a regressor without it)."""
        params = self._configured(n_windows, incremental=False).get_params()
        if not params.get("early_stopping") or "validation_fraction" not in params:
            return 0
        return held_out_count(params["validation_fraction"], n_windows)

    def _kept_rows(self):
        """What a forecast reads, and what the windows whose last target is new read."""
        return self.lookback_ + self.windower_.lead_ - 1

    def _refit(self, series):
        """One epoch of the regressor's partial_fit on the windows that new rows complete.

        ``series`` maps a name to (its stored and new rows, the number stored).
        """
        if not hasattr(self.regressor_, "partial_fit"):
            raise TypeError(f"update(refit=True) trains the regressor with partial_fit, which "
                            f"{type(self.regressor_).__name__} lacks")
        X, Y = self._windows_of(((name, frame.to_numpy(), frame.index, n_stored)
                                 for name, (frame, n_stored) in series.items()),
                                held_out=False)  # partial_fit: no early stopping
        if not len(X):
            return
        self._partial_fit_regressor(X, Y, self._one_epoch_settings(len(X)))

    def _one_epoch_settings(self, n_windows):
        """The regressor's settings for one more epoch on ``n_windows`` windows after a fit.

        Early stopping off, a batch of at most ``n_windows``, and a constant
        rate where it was 'cosine' (whose schedule a finished fit has run
        down to 0).
        """
        params = self.regressor_.get_params()
        settings = {}
        if params.get("early_stopping"):
            settings["early_stopping"] = False
        if is_int(params.get("batch_size")) and params["batch_size"] > n_windows:
            settings["batch_size"] = n_windows
        if params.get("learning_rate") == "cosine":
            settings["learning_rate"] = "constant"
        return settings

    def _partial_fit_regressor(self, X, Y, settings):
        """One epoch of the regressor's partial_fit on windows ``X, Y``, with ``settings``
        (parameters) set for it and restored after.

        A regressor that is not seqforecast's (whose own divergence policy keeps
        the weights it had) is copied first and put back if its partial_fit
        raises: the forecaster then keeps the model it had, as its stored rows
        are kept.
        """
        from sklearn.neural_network import MLPRegressor

        from .estimators import _RecurrentRegressor

        regressor = self.regressor_
        ours = isinstance(regressor, _RecurrentRegressor)
        if isinstance(regressor, MLPRegressor) and getattr(regressor, "best_loss_", 0) is None:
            raise ValueError(
                f"{type(regressor).__name__} was fitted with early_stopping=True, and its "
                f"partial_fit cannot go on from such a fit (scikit-learn leaves best_loss_ "
                f"None): to train it further on new rows, fit the forecaster again with "
                f"MLPRegressor(early_stopping=False)")
        kept = None if ours else copy.deepcopy(regressor)
        before = {name: value for name, value in regressor.get_params().items()
                  if name in settings}
        regressor.set_params(**settings)
        try:
            regressor.partial_fit(*self._scaled(X, Y))
        except BaseException:
            if kept is not None:
                self.regressor_ = kept  # its settings as they were before the call
            raise
        finally:
            regressor.set_params(**before)

    def _window_stats(self, X):
        """Each window's shift and spread for ``window_norm``, both (n_windows, n_targets).

        A window whose target channel is constant keeps a spread of 1.
        """
        k = len(self.targets_)
        target = X.reshape(len(X), -1, len(self.windower_.channels_))[:, :, :k]
        if self.window_norm == "last":
            return target[:, -1].copy(), np.ones((len(X), k))
        exponents = _unit_exponents(target, axis=1)[:, None]  # mean and std at unit scale
        unit = np.ldexp(target, -exponents)
        shift = np.ldexp(unit.mean(axis=1), exponents[:, 0])
        spread = np.ldexp(unit.std(axis=1), exponents[:, 0])
        return shift, np.where(spread > 1e-12 * np.abs(shift), spread, 1.0)

    def _normalised(self, X, shift, spread):
        """Windows with their target channels shifted and divided, X's shape."""
        k = len(self.targets_)
        out = X.reshape(len(X), -1, len(self.windower_.channels_)).copy()
        out[:, :, :k] = (out[:, :, :k] - shift[:, None]) / spread[:, None]
        return out.reshape(X.shape)

    def _targets_normalised(self, Y, shift, spread):
        """Targets (n_windows, n_steps * n_targets) on their window's scale."""
        n, k = len(Y), len(self.targets_)
        return ((Y.reshape(n, -1, k) - shift[:, None]) / spread[:, None]).reshape(n, -1)

    def _fit_scalers(self, X, Y):
        if self.scale:
            self.input_scaler_ = _standard_scaler(self._steps(X))
            self.target_scaler_ = _standard_scaler(Y)

    def _steps(self, X):
        """Windows as rows of single time steps, (n_windows * window, n_channels)."""
        return X.reshape(-1, len(self.windower_.channels_))

    def _scaled(self, X, Y=None):
        if self.scale:  # StandardScaler.transform's arithmetic, without its input checks
            X = ((self._steps(X) - self.input_scaler_.mean_) / self.input_scaler_.scale_
                 ).reshape(X.shape)
            Y = None if Y is None else (Y - self.target_scaler_.mean_) / self.target_scaler_.scale_
        if Y is None:
            return (X,)
        # One column goes 1-D to a single-output regressor (e.g. SVR); a multi-output one
        # (MultiOutputRegressor, RegressorChain, also in a Pipeline or a search) needs 2-D.
        flat = Y.shape[1] == 1 and not _multi_output_only(self.regressor_)
        return X, Y[:, 0] if flat else Y

    def _regressor_inputs(self, X):
        """Windows (n_windows, ...) as the regressor reads them, and the windows' shift and
        spread of ``window_norm`` (or None) that :meth:`_unscaled` undoes."""
        stats = None if self.window_norm is None else self._window_stats(X)
        (scaled,) = self._scaled(X if stats is None else self._normalised(X, *stats))
        return scaled, stats

    def _predict_windows(self, X):
        scaled, stats = self._regressor_inputs(X)
        prediction = np.asarray(self.regressor_.predict(scaled), dtype=np.float64)
        return self._unscaled(prediction.reshape(len(X), -1), stats)

    def _window_quantiles(self, X, levels):
        """The regressor's quantiles of the windows' targets, one (n_windows, n_outputs)
        array per level, on the targets' scale (as :meth:`_predict_windows`)."""
        scaled, stats = self._regressor_inputs(X)
        quantiles = np.asarray(self.regressor_.predict_quantiles(scaled, quantiles=list(levels)),
                               dtype=np.float64).reshape(len(X), -1, len(levels))
        return [self._unscaled(quantiles[..., j], stats) for j in range(len(levels))]

    def _unscaled(self, prediction, stats):
        """Regressor outputs (n_windows, n_outputs) with ``scale`` and ``window_norm`` undone
        (``stats``: the windows' shift and spread, or None); increasing affine maps."""
        if self.scale:
            prediction = prediction * self.target_scaler_.scale_ + self.target_scaler_.mean_
        if stats is None:
            return prediction
        (shift, spread), n, k = stats, len(prediction), len(self.targets_)
        return (prediction.reshape(n, -1, k) * spread[:, None] + shift[:, None]).reshape(n, -1)

    def _max_steps(self):
        if self.strategy == "direct":
            return self.horizon, f"strategy='direct', horizon={self.horizon}"
        return super()._max_steps()

    def _future_rows(self, n_steps):
        return self.windower_.lead_ if self.strategy == "direct" else n_steps

    def _future_covariates(self):
        return [column for column in self.windower_.future_covariates_
                if column in self.channels_]

    def _forecast(self, values, origins, n_steps):
        """Forecasts in the series' units, (n_origins, n_steps, n_targets).

        ``values`` holds the channels in order; rows past each origin hold
        the future covariates (other channels are not read there).
        """
        windower, k = self.windower_, len(self.targets_)
        if self.strategy == "direct":
            prediction = self._predict_windows(windower.windows(values, origins))
            prediction = windower.inverse_transform_targets(
                prediction, windower.origin_values(values, origins))
            return prediction.reshape(len(origins), -1, k)[:, :n_steps]
        # Recursive: each origin gets its own copy of the rows it reads, and its
        # one-step forecasts are written into that copy as the next rows.
        length = self.lookback_ + n_steps
        rows = origins[:, None] + np.arange(1 - self.lookback_, n_steps + 1)  # (n, length)
        local = values[rows].reshape(-1, values.shape[1])
        local_origins = np.arange(len(origins)) * length + self.lookback_ - 1
        out = np.empty((len(origins), n_steps, k))
        for step in range(n_steps):
            current = local_origins + step
            prediction = self._predict_windows(windower.windows(local, current))
            prediction = windower.inverse_transform_targets(
                prediction, windower.origin_values(local, current))
            local[current + 1, :k] = prediction
            out[:, step] = prediction
        return out

    def _forecast_quantiles(self, values, origins, n_steps, levels):
        """Quantile forecasts in the series' units, (n_origins, n_steps, n_targets, n_levels).

        ``levels`` checked and increasing.  Where the inverse target
        transform decreases (a negative origin value of a
        :data:`_SCALING_TRANSFORMS` transform) a level's quantile is the
        map of the regressor's quantile of the reflected level, 1 - level.
        """
        if self.strategy == "recursive" and n_steps > 1:
            raise ValueError(f"strategy='recursive' gives quantiles of one step only (each "
                             f"later step reads earlier forecasts, whose uncertainty the "
                             f"regressor does not see); got horizon={n_steps}: ask for one step, "
                             f"or use strategy='direct'")
        windower, n, k = self.windower_, len(origins), len(self.targets_)
        references = windower.origin_values(values, origins)
        flipped = (references < 0 if self.target_transform_ in _SCALING_TRANSFORMS
                   else np.zeros((n, k), dtype=bool))
        needed = set(levels)
        if flipped.any():
            reflected = [_reflected(level) for level in levels]
            self._check_trained(reflected, f" (the reflected levels 1 - q, read where the "
                                           f"origin value that target_transform="
                                           f"{self.target_transform_!r} multiplies by is "
                                           f"negative)")
            needed |= set(reflected)
        needed = sorted(needed)
        quantiles = self._window_quantiles(windower.windows(values, origins), needed)
        mapped = {level: windower.inverse_transform_targets(quantile, references)
                  .reshape(n, -1, k)[:, :n_steps] for level, quantile in zip(needed, quantiles)}
        return np.stack([np.where(flipped[:, None], mapped[_reflected(level)], mapped[level])
                         if flipped.any() else mapped[level] for level in levels], axis=-1)


class NaiveForecaster(_Forecaster):
    """The benchmark forecasts: the last value, or the value one season earlier.

    Parameters
    ----------
    season : int, default=1
        1: every step repeats the last value; m > 1: step h repeats the
        value m steps before it (seasonal naive).
    horizon : int, default=1
        Steps :meth:`score` and :func:`~seqforecast.evaluation.backtest` evaluate.
    targets : str, list of str or None, default=None
        Columns to forecast (a str names one, each at most once); None: the
        only column (data with several columns must name its targets).
    freq : str or None, default=None
        Frequency of the timestamps; inferred from the index when None.
    missing : {'error', 'interpolate'}, default='error'
        What to do with missing values in the data.

    Attributes
    ----------
    targets_, channels_ : list of str
        The columns forecast (the same list: the naive forecast reads its
        targets only).
    lookback_ : int
        Rows of history a forecast reads: ``season``.
    freq_ : pandas.DateOffset
    history_ : dict
        The last ``lookback_`` rows of each fitted series (key None for a
        single series).
    """

    _int_parameters = (("season", 1), ("horizon", 1))
    _fit_parameters = ("season", "targets", "freq")

    def __init__(self, season=1, horizon=1, *, targets=None, freq=None, missing="error"):
        self.season = season
        self.horizon = horizon
        self.targets = targets
        self.freq = freq
        self.missing = missing

    def _fit(self, frames):
        columns = list(next(iter(frames.values())).columns)
        if self.targets is None and len(columns) > 1:
            raise ValueError(f"the data has several columns {columns}: name the ones to "
                             f"forecast with targets=[...]")
        targets = columns if self.targets is None else check_column_list("targets", self.targets,
                                                                         columns)
        if not targets:
            raise ValueError("targets is empty: name at least one column to forecast")
        self.targets_ = self.channels_ = targets
        self.lookback_ = self.season
        shortest = min(len(frame) for frame in frames.values())
        if shortest < self.season:
            raise SeriesTooShortError(f"the series has {shortest} rows, fewer than "
                                      f"season={self.season}")

    def _forecast(self, values, origins, n_steps):
        steps = np.arange(1, n_steps + 1)
        back = self.season * np.ceil(steps / self.season).astype(int)
        return values[origins[:, None] + steps - back]


def central_levels(coverage):
    """The quantile levels that bound the central interval of ``coverage``: (1 - c)/2, (1 + c)/2.

    Rounded to 12 decimals, so that 0.9 gives the levels 0.05 and 0.95 as
    written (not 0.04999999999999999).

    Raises
    ------
    ValueError
        If ``coverage`` is not a number in (0, 1).
    """
    if not is_real(coverage, 0, 1, include_low=False):
        raise ValueError(f"coverage must be a number in (0, 1), got {shown(coverage)}")
    coverage = as_decimal(coverage)  # a float32 0.9 as 0.9, as quantile levels are read
    return round_level((1 - coverage) / 2), round_level((1 + coverage) / 2)


def central_pairs(levels):
    """The central intervals that ``levels`` hold: ``(coverage, low, high)`` for every level
    ``low < 0.5`` whose partner ``high = 1 - low`` is among them, widest first.

    Parameters
    ----------
    levels : sequence of float
        Rounded as :func:`central_levels` rounds (as ``quantiles_`` and
        ``predict_quantiles`` give them).

    Returns
    -------
    list of tuple of float
    """
    return [(_reflected(2 * low), low, _reflected(low)) for low in sorted(levels)
            if low < 0.5 and _reflected(low) in levels]


def _reflected(level):
    """``1 - level``, rounded as :func:`central_levels` rounds."""
    return round_level(1 - level)


def _stacked_names(frames):
    """The index names of ``frames`` (one per series) stacked under their keys: 'series', or
    'series_0', 'series_1', ... for tuple keys, whose items get a level each, then the time's."""
    first = next(iter(frames))
    series = ([f"series_{i}" for i in range(len(first))] if isinstance(first, tuple)
              else ["series"])
    return [*series, frames[first].index.name]


def _check_names(frames, what):
    """Raise unless the series' names, the keys of ``frames``, are all tuples of one length or
    none a tuple: the forecasts of several series are stacked under them (a tuple spreads over
    index levels)."""
    kinds = {len(name) if isinstance(name, tuple) else None for name in frames}
    if len(kinds) > 1:
        raise ValueError(f"{what}'s keys, the series' names, mix tuples of other lengths or "
                         f"other names: {list(frames)}; the forecasts are indexed by them, a "
                         f"tuple's items in levels of their own: make them all tuples of one "
                         f"length, or none")


def _name_order(name):
    """A sort key of series names of any types (None: a single series)."""
    return type(name).__name__, str(name)


def _multi_output_only(regressor):
    """Whether ``regressor`` takes 2-D targets only (tagged not ``single_output``), looking
    through a Pipeline's last step and a search's or a TransformedTargetRegressor's model,
    whose tags do not pass it on."""
    while True:
        if not get_tags(regressor).target_tags.single_output:
            return True
        inner = (regressor.steps[-1][1] if hasattr(regressor, "steps") else
                 getattr(regressor, "estimator", None) or getattr(regressor, "regressor", None))
        if not isinstance(inner, BaseEstimator):
            return False
        regressor = inner


def _series_label(name):
    """How an error names a series: 'data' for the single one (keyed None), else by name."""
    return "data" if name is None else f"series {name!r}"


def _frozen(name, value):
    """Parameter ``name``'s value as :meth:`_Forecaster._check_fitted` compares it: a sequence
    (list, tuple, array, pandas Index) as a tuple of its items (a copy: a list changed in place
    is a change), quantile levels and calendar cycles sorted (they may be given in any
    order)."""
    if not isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return value
    items = tuple(value)
    if name == "calendar" and all(isinstance(item, str) for item in items):
        return tuple(sorted(items))  # the cycles are used in one order
    return tuple(sorted(items)) if name == "quantiles" and all(map(is_real, items)) else items


def _zone(labels):
    """The time zone of timestamps, as a name ('None' for naive ones and durations)."""
    return str(getattr(labels, "tz", None))


def _check_zone(index, last, label):
    """Raise unless the rows ``index`` labels are in the time zone of ``last``, the last
    label of the series they follow."""
    zone, new_zone = getattr(last, "tz", None), getattr(index, "tz", None)
    if _zone(last) != _zone(index):
        advice = (f"convert it first, e.g. {label}.tz_convert({str(zone)!r})"
                  if zone and new_zone else "both need a time zone, or neither")
        raise ValueError(f"{label} is in the time zone {new_zone}, the series in {zone}: "
                         f"{advice}")


def _gives_quantiles(regressor, loss):
    """Whether ``regressor``, trained with ``loss``, forecasts quantiles."""
    return hasattr(regressor, "predict_quantiles") and loss in PROBABILISTIC_LOSSES


def _first(index, n):
    """The first ``n`` labels of a pandas index (itself when it has ``n``: slicing costs)."""
    return index if len(index) == n else index[:n]


def _columns(frame, columns):
    """``frame[columns]``, or ``frame`` itself when it has just these columns in this order."""
    return frame if list(frame.columns) == columns else frame[columns]


def _channel_values(frame, channels, label):
    """The ``channels`` columns of ``frame``, by name, as an array; a ValueError naming
    those it lacks."""
    absent = [c for c in channels if c not in frame.columns]
    if absent:
        raise ValueError(f"{label} lacks the columns {absent}")
    return frame[channels].to_numpy()


def _covariate_frame(covariates, columns, label):
    """``future_covariates`` cut to the future covariates ``columns``, as a DataFrame.

    A Series is one column: it stands for a DataFrame when it is named like
    the only future covariate.  Anything else that is not a DataFrame is
    left to :func:`check_series` to refuse.  Errors call it ``label``.
    """
    if isinstance(covariates, pd.Series):
        if covariates.name is None or columns != [str(covariates.name)]:
            what = ("an unnamed Series" if covariates.name is None else
                    f"a Series named {covariates.name!r}")
            raise ValueError(f"{label} is {what}, but the forecaster's future "
                             f"covariates are {columns}: pass a DataFrame with the columns "
                             f"{columns}" + (f", e.g. series.to_frame({columns[0]!r})"
                                             if len(columns) == 1 else ""))
        covariates = covariates.to_frame(columns[0])
    if not isinstance(covariates, pd.DataFrame):
        return covariates
    covariates = covariates.rename(columns=str)
    absent = [c for c in columns if c not in covariates.columns]
    if absent:
        raise ValueError(f"{label} lacks the columns {absent}")
    return covariates[columns]


def _unit_exponents(values, axis):
    """Exponents ``e`` with ``|values| / 2**e < 1`` along ``axis``, the largest near 1 (0 if all 0).

    Dividing by a power of two is exact; it brings values to a scale whose
    squares neither overflow (beyond about 1e154) nor vanish (below about 1e-154).
    """
    return np.frexp(np.max(np.abs(values), axis=axis))[1]


def _standard_scaler(values):
    """A StandardScaler of the columns of ``values``, fitted at any magnitude.

    StandardScaler squares the values: beyond about 1e154 their variance
    overflows (the regressor got NaN), below about 1e-154 it vanishes and the
    scale falls back to 1 (the regressor got values near 0 and forecast the
    mean).  Fitted on the values divided by a power of two near each column's
    largest magnitude, with its mean and scale multiplied back (both exact),
    it maps the columns to unit scale, and back, as it does at magnitude 1.
    """
    exponents = _unit_exponents(values, axis=0)
    scaler = StandardScaler().fit(np.ldexp(values, -exponents))
    scaler.mean_ = np.ldexp(scaler.mean_, exponents)
    scaler.scale_ = np.ldexp(scaler.scale_, exponents)
    with np.errstate(over="ignore"):
        scaler.var_ = np.ldexp(scaler.var_, 2 * exponents)  # inf where it overflows
    return scaler


def _relative_squared_error(actual, predicted, reference):
    """Mean squared error of forecasts, each target's divided by its variance in ``reference``.

    ``actual`` and ``predicted`` (n_origins, n_steps, n_targets); ``reference``
    (n_rows, n_targets), the rows the model was fitted on.  A constant
    target is divided by 1.
    """
    # In units of each target's largest absolute value first, so that nothing squared
    # overflows or underflows (1e200 or 1e-170 choose as 1 does).
    size = np.max(np.abs(reference), axis=0)
    size = np.where(np.isfinite(size) & (size > 0), size, 1.0)
    spread = np.std(reference / size, axis=0)
    spread = np.where(spread > 0, spread, 1.0 / size)  # a constant target: divided by 1
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing forecast: inf
        return float(np.mean(((predicted - actual) / size / spread) ** 2))
