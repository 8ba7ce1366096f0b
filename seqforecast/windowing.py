"""Training windows from time series: SlidingWindowTransformer and its building blocks.

A window ends at its *forecast origin* ``o`` (a row of the series): it holds
the ``window`` rows up to and including ``o``, and its targets are the
``horizon`` rows after ``o + gap``.  Channels have one of three roles:

* targets: what is forecast; also inputs, optionally made relative to the
  origin (``target_transform``);
* past covariates: inputs known up to the origin only (another sensor);
* future covariates: inputs known ahead (calendar features, a work-day
  flag).  Their channel is read ``gap + horizon`` rows later than the others,
  so the last step of a window carries their value at the last forecast time
  and the window covers every forecast time.

Rows are positions: the series must be sorted, without duplicate
timestamps or missing values (:func:`check_series` says which, and where).
"""
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._set_output import _get_output_config

from ._checks import (check_column_list, check_fitted, check_int_parameters, is_bool, is_choice,
                      is_int, repeated)

# transform: (window steps from an earlier row, targets relative to a reference row, inverse).
# The earlier row is the one before, the reference row the origin; for 'seasonal_diff'
# both are ``season`` rows before (see SlidingWindowTransformer._reference_offsets).
_DIFF = (lambda v, prev: v - prev, lambda v, o: v - o, lambda p, o: o + p)
TRANSFORMS = {
    None: None,
    "diff": _DIFF,
    "return": (lambda v, prev: v / prev - 1, lambda v, o: v / o - 1, lambda p, o: o * (1 + p)),
    "log_return": (lambda v, prev: np.log(v / prev), lambda v, o: np.log(v / o),
                   lambda p, o: o * np.exp(p)),
    "last_value": (None, lambda v, o: v / o, lambda p, o: o * p),
    "seasonal_diff": _DIFF,  # from the value one season earlier
}
# Transforms whose window steps need rows before the window.
_NEEDS_PREVIOUS = ("diff", "return", "log_return", "seasonal_diff")
# What to do with complex numbers, which every check refuses (numpy would drop their
# imaginary part with a warning).
_COMPLEX_ADVICE = ("forecasting needs real numbers: split each column into its real and "
                   "imaginary parts (np.real, np.imag) or use its magnitude (np.abs)")


class SeriesTooShortError(ValueError):
    """A series has fewer rows than one training window and its targets need."""


def as_frame(data, name="data"):
    """``data`` as a DataFrame with the column labels of every forecaster: strings.

    A Series becomes a one-column frame named after it (``"y"`` if unnamed),
    and other labels become ``str(label)`` (as darts names a series'
    components), so that the columns of a forecast are those of the frame
    its series gives here.

    Raises
    ------
    TypeError
        Neither a Series nor a DataFrame.
    """
    if isinstance(data, pd.Series):
        data = data.to_frame("y" if data.name is None else data.name)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas Series or DataFrame indexed by time, got "
                        f"{type(data).__name__}")
    if not all(isinstance(column, str) for column in data.columns):
        data = data.rename(columns=str)
    return data


def check_series(data, name="data", missing="error", before=None):
    """A series or DataFrame checked for forecasting, as a float64 DataFrame.

    Parameters
    ----------
    data : pandas.Series or pandas.DataFrame
        Indexed by time (DatetimeIndex, TimedeltaIndex or a sorted numeric index).
    name : str, default="data"
        How error messages call it.
    missing : {'error', 'interpolate', 'keep'} or None, default='error'
        What to do with NaN values: raise, or interpolate them linearly in
        time (interior gaps only; leading or trailing NaN still raise);
        None raises too, for data that no ``missing`` option covers (the
        error then does not offer one); 'keep' leaves them, for a caller
        that reads some rows only and checks those.
    before : pandas.DataFrame or None, default=None
        Rows that precede ``data`` (checked already; some or all of its
        columns): with ``missing='interpolate'`` the missing values of
        ``data``'s first rows are interpolated from them.

    Returns
    -------
    pandas.DataFrame
        A copy, labelled as :func:`as_frame` labels it.

    Raises
    ------
    TypeError
        Not a Series or DataFrame, non-numeric or complex columns, or index
        labels that cannot be ordered (str and int mixed).
    ValueError
        Empty; missing (NaN or NaT), duplicate or unsorted timestamps; or
        missing values.
    """
    data = as_frame(data, name)
    if data.empty:
        raise ValueError(f"{name} is empty")
    if data.columns.has_duplicates:
        raise ValueError(f"{name} has duplicate column names: {repeated(data.columns)}")
    _check_dtypes(data, name)
    index = data.index
    _check_index(index, name)
    data = data.astype(np.float64)  # a copy: the caller's frame is left as it is
    if not is_choice(missing, ("error", "interpolate", "keep", None)):
        raise ValueError(f"missing must be 'error' or 'interpolate', got {missing!r}")
    if missing != "keep" and np.isnan(data.to_numpy()).any():
        empty = data.columns[data.isna().all()]
        if len(empty):  # before any advice to fill: there is nothing to fill them from
            raise ValueError(f"{name} has columns without a value: {list(empty)}; drop them "
                             f"or fill them in")
        if missing == "interpolate":
            method = "time" if isinstance(index, pd.DatetimeIndex) else "index"
            rows = data if before is None else pd.concat([before, data])[data.columns]
            data = rows.interpolate(method=method, limit_area="inside")
            data = data.iloc[len(data) - len(index):]  # without the rows before
            left = data.isna().any()
            if left.any():
                raise ValueError(f"{name} has missing values at its start or end (columns "
                                 f"{list(left.index[left])}), which cannot be interpolated")
        else:
            per_column, column, first = missing_values(data)
            option = "" if missing is None else ", or pass missing='interpolate'"
            raise ValueError(
                f"{name} has {sum(per_column.values())} missing values ({per_column}), the "
                f"first in column {column!r} at {first}; fill them{option}")
    infinite = np.isinf(data.to_numpy())
    if infinite.any():
        row, column = np.argwhere(infinite)[0]
        raise ValueError(f"{name} contains infinite values ({int(infinite.sum())}), "
                         f"the first in column {data.columns[column]!r} at {data.index[row]}")
    return data


def missing_values(frame):
    """Where ``frame`` holds NaN, for an error to name: the count of each column that has
    any (in column order), and the first of those columns with its first timestamp."""
    counts = frame.isna().sum()
    per_column = {c: int(n) for c, n in counts[counts > 0].items()}
    column = next(iter(per_column))
    return per_column, column, frame.index[frame[column].isna()][0]


def _check_dtypes(data, name):
    """Raise unless every column of ``data`` is numeric, not complex and not bool."""
    dtypes = data.dtypes
    if all(isinstance(dtype, np.dtype) and dtype.kind in "fiu" for dtype in dtypes):
        return  # numpy floats and integers, the usual case: no need of pandas' dtype tests
    complex_ = [c for c, dtype in dtypes.items() if pd.api.types.is_complex_dtype(dtype)]
    if complex_:
        raise TypeError(f"{name} has complex columns {complex_}: {_COMPLEX_ADVICE}")
    text = [c for c, dtype in dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)]
    if not text:
        return
    advice = "encode them as numbers or drop them"
    if not isinstance(data.index, (pd.DatetimeIndex, pd.TimedeltaIndex)):  # times in a column?
        times = [c for c in text if pd.api.types.is_datetime64_any_dtype(dtypes[c])
                 or pd.api.types.is_timedelta64_dtype(dtypes[c])]
        column = (times or text)[0]
        advice = (f"if {column!r} holds the times, make it the index, "
                  f"set_index({column!r})" + ("" if times else " after pd.to_datetime")
                  + f" (the index is a {type(data.index).__name__})"
                  + ("; encode the others as numbers or drop them" if len(text) > 1 else ""))
    raise TypeError(f"{name} has non-numeric columns {text}: {advice}")


def _check_index(index, name):
    """Raise unless ``index`` has no missing labels, no duplicates and is sorted (and is not
    the (series, time) MultiIndex of several series, which go in a dict)."""
    if isinstance(index, pd.MultiIndex):
        level = index.names[0] if index.names[0] is not None else 0
        raise TypeError(f"{name} has a MultiIndex: one series is indexed by time alone; several "
                        f"series go in a dict of frames, e.g. {{key: frame.droplevel(0) for "
                        f"key, frame in data.groupby(level={level!r})}}")
    if index.hasnans:
        position = int(np.flatnonzero(index.isna())[0])
        raise ValueError(f"{name} has missing timestamps (NaN or NaT index labels) in "
                         f"{_rows_text(int(index.isna().sum()))}, the first at row {position}; "
                         f"drop those rows, data[data.index.notna()], or fill in their timestamps")
    if (isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex))
            and bool((np.diff(index.asi8) > 0).all())):
        return  # strictly increasing: sorted, without duplicates (the quick test)
    if index.has_duplicates:
        raise ValueError(f"{name} has duplicate timestamps, e.g. "
                         f"{index[index.duplicated()][0]}")
    if not index.is_monotonic_increasing:
        position = _first_unsorted(index, name)
        raise ValueError(f"{name} is not sorted by time: row {position + 1} "
                         f"({index[position + 1]}) comes before row {position} "
                         f"({index[position]}); sort it with sort_index()")


def _first_unsorted(index, name):
    """Row before the first label of ``index`` that is smaller than the one before it.

    A TypeError, that says so, if labels cannot be compared (str and int mixed).
    """
    stamps = index.to_numpy()
    try:
        return int(np.flatnonzero(stamps[1:] < stamps[:-1])[0])
    except TypeError:
        kinds = sorted({type(label).__name__ for label in stamps})
        raise TypeError(f"{name}'s index mixes labels of the types {kinds}, which cannot be "
                        f"put in time order: index it by time (a DatetimeIndex) or by "
                        f"numbers") from None


class SlidingWindowTransformer(TransformerMixin, BaseEstimator):
    """Turn a series or DataFrame (n_timesteps, n_channels) into windows with aligned targets.

    Parameters
    ----------
    window : int
        Time steps per window.
    horizon : int, default=1
        Target steps per window.
    stride : int, default=1
        Rows between consecutive forecast origins (counted back from the
        last possible one, so the most recent data is always used).
    gap : int, default=0
        Rows skipped between the origin and the first target.
    targets : str, list of str or None, default=None
        Target columns (a str names one); None: every column that is not a
        covariate.
    past_covariates, future_covariates : str, list of str or None, default=None
        Input columns known up to the origin, or known ahead (see the module
        docstring).  Every column must have a role: none is dropped silently,
        and none may be named twice.
    target_transform : str or None, default=None
        None, 'diff', 'return', 'log_return', 'last_value' or 'seasonal_diff'.
        Make the target channels relative, for prices and sensors with a
        level that drifts: window steps become differences, returns or log
        returns from the row before (one more row of history is needed), or
        ratios to the origin's value ('last_value', per-window scaling); the
        targets become the change from the origin's value in the same sense.
        'seasonal_diff' models the seasonal change instead: window steps and
        targets become ``y[t] - y[t - season]`` (``season`` more rows of
        history are needed); a target whose row ``t - season`` falls in the
        gap (neither observed nor forecast) is taken relative to the same
        season's last row at or before the origin.
        :meth:`inverse_transform_targets` undoes it exactly.
    season : int or None, default=None
        The period in rows (12 for monthly data with a yearly cycle, 24 for
        hourly data with a daily one): required with
        ``target_transform='seasonal_diff'``, and an error with any other.
    flatten : bool, default=False
        Return 2-D windows (n_windows, window * n_channels), step-major, for
        regressors that take a flat feature vector (e.g. Ridge).

    Attributes
    ----------
    targets_, past_covariates_, future_covariates_ : list of str
        The columns of each role.
    channels_ : list of str
        Channel order in the windows: targets, past covariates, future covariates.
    n_targets_ : int
    feature_names_in_ : ndarray of str
    n_features_in_ : int

    Examples
    --------
    >>> windows = SlidingWindowTransformer(window=24, horizon=6, targets=["demand"],
    ...                                    future_covariates=["workday"])
    >>> X = windows.fit_transform(frame)           # (n_windows, 24, 2)
    >>> Y = windows.transform_targets(frame)       # (n_windows, 6)
    >>> origins = windows.origins(frame)           # timestamps of the forecast origins
    """

    def __init__(self, window, horizon=1, *, stride=1, gap=0, targets=None, past_covariates=None,
                 future_covariates=None, target_transform=None, season=None, flatten=False):
        self.window = window
        self.horizon = horizon
        self.stride = stride
        self.gap = gap
        self.targets = targets
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.target_transform = target_transform
        self.season = season
        self.flatten = flatten

    def __sklearn_is_fitted__(self):
        return hasattr(self, "channels_")

    # -- fitting and layout ---------------------------------------------------------

    def fit(self, X, y=None):
        """Learn the columns and their roles from a series or DataFrame ``X``."""
        check_int_parameters(self, (("window", 1), ("horizon", 1), ("stride", 1), ("gap", 0)))
        if not is_choice(self.target_transform, TRANSFORMS):
            raise ValueError(f"target_transform must be one of {list(TRANSFORMS)}, got "
                             f"{self.target_transform!r}")
        if self.target_transform == "seasonal_diff" and not is_int(self.season, 1):
            raise ValueError(f"target_transform='seasonal_diff' needs season, the period in rows "
                             f"(an int >= 1), got {self.season!r}")
        if not is_bool(self.flatten):
            raise ValueError(f"flatten must be True or False, got {self.flatten!r}")
        if self.target_transform != "seasonal_diff" and self.season is not None:
            raise ValueError(f"season is only used with target_transform='seasonal_diff', not "
                             f"{self.target_transform!r}; leave it None")
        frame = check_series(X, "X", missing=None)
        columns = list(frame.columns)
        past = check_column_list("past_covariates", self.past_covariates, columns)
        future = check_column_list("future_covariates", self.future_covariates, columns)
        covariates = past + future
        if len(set(covariates)) != len(covariates):
            raise ValueError(f"a column cannot be both a past and a future covariate: "
                             f"{sorted(set(past) & set(future))}")
        if self.targets is None:
            targets = [c for c in columns if c not in covariates]
        else:
            targets = check_column_list("targets", self.targets, columns)
        if not targets:
            raise ValueError("there is no target column")
        if future and self.window < self.gap + self.horizon:
            need = "gap + horizon" if self.gap else "horizon"
            raise ValueError(f"future covariates need window >= {need} "
                             f"({self.gap + self.horizon}) so that a window covers every "
                             f"forecast time; window is {self.window}")
        overlap = set(targets) & set(covariates)
        if overlap:
            raise ValueError(f"columns {sorted(overlap)} are both targets and covariates")
        unused = [c for c in columns if c not in targets and c not in covariates]
        if unused:
            raise ValueError(f"columns {unused} are neither targets nor covariates: list them "
                             f"in past_covariates or future_covariates, or drop them")
        self.targets_, self.past_covariates_, self.future_covariates_ = targets, past, future
        self.channels_ = targets + past + future
        self.n_targets_ = len(targets)
        self.feature_names_in_ = np.array(columns, dtype=object)
        self.n_features_in_ = len(columns)
        return self

    @property
    def lookback_(self):
        """Rows of history one window reads.

        ``window``, plus 1 for differences and returns, or ``season`` for 'seasonal_diff'.
        """
        check_fitted(self)
        return self.window + (self._lag() if self.target_transform in _NEEDS_PREVIOUS else 0)

    @property
    def lead_(self):
        """How many rows after a step its future covariates are read (``gap + horizon``)."""
        return self.gap + self.horizon

    def get_feature_names_out(self, input_features=None):
        """Names of the flat window features: ``{channel}_t{offset}``, offsets from the origin.

        ``input_features``, if given, must be the fitted columns
        (``feature_names_in_``), as scikit-learn's transformers require.
        """
        check_fitted(self)
        if input_features is not None and list(input_features) != list(self.feature_names_in_):
            raise ValueError(f"input_features {list(input_features)} are not the columns the "
                             f"transformer was fitted on, {list(self.feature_names_in_)}")
        n_known = self.n_targets_ + len(self.past_covariates_)
        names = []
        for step in range(self.window - 1, -1, -1):
            for index, channel in enumerate(self.channels_):
                offset = -step + (self.lead_ if index >= n_known else 0)
                names.append(f"{channel}_t{offset:+d}")
        return np.array(names, dtype=object)

    def get_target_names_out(self):
        """Names of the target columns: ``{target}_h{step}``, step 1 first."""
        check_fitted(self)
        return np.array([f"{target}_h{h}" for h in range(self.gap + 1, self.lead_ + 1)
                         for target in self.channels_[:self.n_targets_]], dtype=object)

    # -- windows --------------------------------------------------------------------

    def transform(self, X):
        """Input windows for every origin that has all its targets in ``X``.

        Returns
        -------
        ndarray of shape (n_windows, window, n_channels), or (n_windows, window * n_channels)
        with ``flatten=True`` (a DataFrame indexed by the origins under
        ``set_output(transform="pandas")``).
        """
        values, index = self._values(X)
        origins = self.training_origins(len(values))
        windows = self.windows(values, origins)
        if _get_output_config("transform", self)["dense"] == "pandas":
            if not self.flatten:
                raise ValueError("set_output(transform='pandas') needs flatten=True: the "
                                 "windows are 3-D")
            return pd.DataFrame(windows, index=index[origins],
                                columns=self.get_feature_names_out())
        return windows

    def transform_targets(self, X):
        """Targets aligned with :meth:`transform`, relative to the origin as
        ``target_transform`` says.

        Returns
        -------
        ndarray of shape (n_windows, horizon * n_targets)
            Step-major: all targets of step 1, then step 2, ...  For
            'seasonal_diff', step ``h`` holds ``y[o + h] - y[o + h - season]``
            (see the ``target_transform`` parameter for a row in the gap).
        """
        values, _ = self._values(X)
        return self.window_targets(values, self.training_origins(len(values)))

    def origins(self, X):
        """Index labels (timestamps) of the forecast origins of :meth:`transform`'s windows."""
        values, index = self._values(X)
        return index[self.training_origins(len(values))]

    def inverse_transform_targets(self, Y, last_values):
        """Targets (or predictions of them) back in the series' units.

        Parameters
        ----------
        Y : array-like of shape (n_windows, n_steps * n_targets)
            Step-major, as :meth:`transform_targets` returns them (any number of
            steps, the first one ``gap + 1`` rows after the origin).
        last_values : array-like of shape (n_windows, n_targets) or (n_windows, season, n_targets)
            The targets' values at each window's origin; for 'seasonal_diff'
            at its last ``season`` rows, oldest first.  :meth:`origin_values`
            reads them.

        Returns
        -------
        ndarray of shape (n_windows, n_steps * n_targets)
        """
        check_fitted(self)
        Y = _real_array(Y, "Y")
        if self.target_transform is None:
            return Y
        k, last = self.n_targets_, _real_array(last_values, "last_values")
        seasonal = self.target_transform == "seasonal_diff"
        shape = (len(Y), self.season, k) if seasonal else (len(Y), k)
        if Y.ndim != 2 or last.shape != shape or Y.shape[1] % k:
            raise ValueError(f"Y must be (n_windows, n_steps * {k}) and last_values "
                             f"(n_windows{', ' + str(self.season) if seasonal else ''}, {k}); "
                             f"got {Y.shape} and {last.shape}")
        history = last if seasonal else last[:, None]  # (n_windows, n_rows, k), oldest first
        Y = Y.reshape(len(Y), -1, k)
        out = np.empty_like(Y)
        inverse = TRANSFORMS[self.target_transform][2]
        offsets = self._reference_offsets(np.arange(self.gap + 1, self.gap + Y.shape[1] + 1))
        observed = offsets <= 0  # steps whose reference is an observed row: all at once
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, in these terms
            out[:, observed] = inverse(Y[:, observed], history[:, offsets[observed] - 1])
            for step in np.flatnonzero(~observed):  # 'seasonal_diff' reading an earlier step
                out[:, step] = inverse(Y[:, step], out[:, offsets[step] - self.gap - 1])
        if not np.isfinite(out).all() and np.isfinite(Y).all() and np.isfinite(last).all():
            window, step, target = np.argwhere(~np.isfinite(out))[0]
            raise ValueError(f"the inverse of target_transform={self.target_transform!r} "
                             f"overflows: window {window}'s step {step + 1} of target "
                             f"{target} is {Y[window, step, target]:g} relative to its "
                             f"reference, beyond float64's range (~1.8e308)")
        return out.reshape(len(Y), -1)

    def origin_values(self, values, origins):
        """What :meth:`inverse_transform_targets` needs as ``last_values``.

        Parameters
        ----------
        values : ndarray of shape (n_rows, n_channels)
            Channels in :attr:`channels_` order.
        origins : ndarray of int of shape (n_windows,)

        Returns
        -------
        ndarray of shape (n_windows, n_targets) or (n_windows, season, n_targets)
            The targets at the origins; for 'seasonal_diff' at the last
            ``season`` rows up to each origin, oldest first.

        Raises
        ------
        ValueError
            If an origin has fewer than ``lookback_ - 1`` rows before it.
        """
        values, origins = self._rows(values, origins, after=0)
        if self.target_transform == "seasonal_diff":
            return values[origins[:, None] + np.arange(1 - self.season, 1), :self.n_targets_]
        return values[origins, :self.n_targets_]

    def windows(self, values, origins):
        """Input windows ending at the given rows of a value array.

        Parameters
        ----------
        values : ndarray of shape (n_rows, n_channels)
            Channels in :attr:`channels_` order.  Future covariates must be
            present ``lead_`` rows past each origin; other channels are read
            up to the origin only (later rows may hold NaN).
        origins : ndarray of int of shape (n_windows,)

        Returns
        -------
        ndarray of shape (n_windows, window, n_channels) or flattened.

        Raises
        ------
        ValueError
            If an origin has fewer than ``lookback_ - 1`` rows before it or,
            with future covariates, fewer than ``lead_`` rows after it,
            ``values`` does not have one column per channel, or
            ``target_transform`` overflows the float64 range on them.
        TypeError
            If ``values`` holds complex numbers or ``origins`` are not ints.
        """
        after = self.lead_ if self.future_covariates_ else 0
        values, origins = self._rows(values, origins, after)
        steps = origins[:, None] + np.arange(1 - self.window, 1)  # (n_windows, window)
        k, n_known = self.n_targets_, self.n_targets_ + len(self.past_covariates_)
        out = np.empty((len(origins), self.window, len(self.channels_)))
        target = values[steps, :k]
        if self.target_transform is None:
            out[..., :k] = target
        elif self.target_transform == "last_value":  # the targets' transform, per step
            out[..., :k] = self._transformed(1, target, values[origins, None, :k])
        else:
            out[..., :k] = self._transformed(0, target, values[steps - self._lag(), :k])
        out[..., k:n_known] = values[steps, k:n_known]
        if self.future_covariates_:  # the only channels read after the origin
            out[..., n_known:] = values[steps + self.lead_, n_known:]
        return out.reshape(len(origins), -1) if self.flatten else out

    def window_targets(self, values, origins):
        """Targets of the windows ending at ``origins`` (see :meth:`windows`).

        Every origin needs ``lookback_ - 1`` rows before it and ``lead_`` rows
        after it (a ValueError names the first that has not); a
        ``target_transform`` that overflows the float64 range raises a
        ValueError too.
        """
        values, origins = self._rows(values, origins, after=self.lead_)
        k, steps = self.n_targets_, np.arange(self.gap + 1, self.lead_ + 1)
        target = values[origins[:, None] + steps, :k]  # (n, horizon, k)
        if self.target_transform is not None:
            reference = values[origins[:, None] + self._reference_offsets(steps), :k]
            target = self._transformed(1, target, reference)
        return target.reshape(len(origins), -1)

    def _rows(self, values, origins, after):
        """Checked ``values`` (float64) and ``origins`` of :meth:`windows` and its siblings.

        An origin needs ``lookback_ - 1`` rows before it and ``after`` rows
        after it: numpy would read a negative row from the end of the array.
        """
        check_fitted(self)
        values = _real_array(values, "values")
        if values.ndim != 2 or values.shape[1] != len(self.channels_):
            raise ValueError(f"values must be 2-D, (n_rows, {len(self.channels_)}): the channels "
                             f"{self.channels_} in order; got shape {values.shape}")
        origins = np.asarray(origins)
        if origins.ndim != 1 or origins.dtype.kind not in "iu":
            raise TypeError(f"origins must be a 1-D array of row positions (ints), got "
                            f"{origins.ndim}-D {origins.dtype}")
        first, last = self.lookback_ - 1, len(values) - 1 - after
        outside = (origins < first) | (origins > last)
        if outside.any():
            needs = f"lookback_ - 1 = {_rows_text(first)} before it" + (
                f" and gap + horizon = {_rows_text(after)} after it" if after else "")
            valid = (f"the valid origins are {first}..{last}" if first <= last else
                     f"none is valid: {first + after + 1} rows are needed")
            raise ValueError(f"origin {origins[outside][0]} is out of range for {len(values)} "
                             f"rows: an origin needs {needs}, so {valid}")
        return values, origins

    def _lag(self):
        """Rows back to the row a window step is compared with (``season`` or 1)."""
        return self.season if self.target_transform == "seasonal_diff" else 1

    def _reference_offsets(self, steps):
        """Offsets from the origin of the rows that targets at offsets ``steps`` are relative to.

        The origin (0), or for 'seasonal_diff' the row ``season`` earlier: an
        observed row (<= 0) or an earlier target (> gap).  A row in the gap
        is neither, so the same season's last row at or before the origin
        stands in for it.
        """
        if self.target_transform != "seasonal_diff":
            return np.zeros_like(steps)
        offsets = steps - self.season
        in_gap = (offsets > 0) & (offsets <= self.gap)
        return np.where(in_gap, -(-steps % self.season), offsets)

    def _transformed(self, part, target, reference):
        """``target_transform`` of ``target`` from ``reference``: window steps or targets.

        ``part`` 0 gives window steps (from an earlier row), 1 targets (from a
        reference row); see :data:`TRANSFORMS`.

        Raises
        ------
        ValueError
            Where finite values give an infinite or NaN result: zeros or
            negative values it cannot take (:meth:`check_values`), else an
            overflow of the float64 range, which the error names.
        """
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            out = TRANSFORMS[self.target_transform][part](target, reference)
        broken = ~np.isfinite(out) & np.isfinite(target) & np.isfinite(reference)
        if broken.any():
            for operand in (target, reference):
                self._check_targets(np.broadcast_to(operand, out.shape)[broken], "values")
            raise _overflow_error(self.target_transform)
        return out

    def check_values(self, values, name="data", index=None):
        """Raise if the target channels of ``values`` (rows, channels) cannot take
        ``target_transform``; the error names the first value that cannot, its column and its
        row (its label in ``index``, else its position)."""
        target = values[:, :self.n_targets_]
        bad = self._untransformable(target)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            at = index[row] if index is not None else f"position {row}"
            raise ValueError(f"{self._domain_error(name)}: {target[row, column]:g} in column "
                             f"{self.channels_[column]!r} at row {at}")

    def _check_targets(self, target, name):
        """Raise if target values (any shape) cannot take ``target_transform``."""
        if self._untransformable(target).any():
            raise ValueError(self._domain_error(name))

    def _untransformable(self, target):
        """Where ``target_transform`` cannot take the target values (NaN it can: gaps)."""
        if self.target_transform == "log_return":
            return target <= 0
        if self.target_transform in ("return", "last_value"):
            return target == 0
        return np.zeros(np.shape(target), dtype=bool)

    def _domain_error(self, name):
        """What :meth:`_untransformable` values break, and that ``name`` holds some."""
        if self.target_transform == "log_return":
            return (f"target_transform='log_return' needs positive targets; {name} has values "
                    f"<= 0")
        return (f"target_transform={self.target_transform!r} divides by the targets; {name} "
                f"has zeros")

    def _values(self, X):
        check_fitted(self)
        frame = check_series(X, "X", missing=None)
        missing = [c for c in self.channels_ if c not in frame.columns]
        if missing:
            raise ValueError(f"X lacks the columns {missing} seen in fit")
        unseen = [c for c in frame.columns if c not in self.channels_]
        if unseen:
            raise ValueError(f"X has the columns {unseen}, which fit did not see: drop them, or "
                             f"fit with them as covariates")
        values = frame[self.channels_].to_numpy()
        self.check_values(values, "X", frame.index)
        return values, frame.index

    def training_origins(self, n_rows):
        """Rows that are forecast origins with all their targets in a series of ``n_rows``.

        Returns
        -------
        ndarray of int, ascending
        """
        check_fitted(self)
        first, last = self.lookback_ - 1, n_rows - 1 - self.lead_
        if last < first:
            extra = self.lookback_ - self.window
            history = (f" (+{_rows_text(extra)} for {self.target_transform!r})"
                       if extra else "")
            gap = f", gap={self.gap}" if self.gap else ""
            raise SeriesTooShortError(
                f"the series has {n_rows} rows, but window={self.window}{history}{gap} and "
                f"horizon={self.horizon} need at least {self.lookback_ + self.lead_}")
        return np.arange(last, first - 1, -self.stride)[::-1]


def _overflow_error(transform):
    """The ValueError for a ``transform`` whose results leave the float64 range."""
    if transform in ("diff", "seasonal_diff"):
        what = "differences between target values exceed the largest float64 (about 1.8e308)"
        advice = "divide the data by a large number first, or use another target_transform"
    else:
        what = ("ratios between target values leave the float64 range (about 1e-308 to "
                "1.8e308)")
        advice = ("ratios do not change when the data is rescaled: use target_transform='diff' "
                  "or None")
    return ValueError(f"target_transform={transform!r} overflows: {what}; {advice}")


def _rows_text(n):
    """'1 row', '2 rows'."""
    return f"{n} row{'s' * (n != 1)}"


def _real_array(values, name):
    """``values`` as a float64 array; complex numbers raise a TypeError instead of losing a part."""
    values = np.asarray(values)
    if np.iscomplexobj(values):
        raise TypeError(f"{name} holds complex numbers: {_COMPLEX_ADVICE}")
    return values.astype(np.float64, copy=False)
