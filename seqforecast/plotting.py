"""Plots of forecasts and of training diagnostics (needs matplotlib).

matplotlib is optional (``pip install "seqforecast[plot]"``): it is imported
only when one of these functions is called.  Each function draws on the
given ``ax`` or, when ``ax`` is None, on a new figure, and returns the Axes.
The training diagnostics take a fitted RNN regressor, or a
:class:`~seqforecast.SequenceForecaster` fitted with one (its ``regressor_``).
"""
import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._checks import is_int, is_real, shown
from .forecasting import SequenceForecaster, _reflected, central_pairs
from .training.losses import PROBABILISTIC_LOSSES
from .windowing import as_frame

# Units for a TimedeltaIndex axis, largest first: the first whose span is
# at least two units is used.
_TIMEDELTA_UNITS = (("days", pd.Timedelta(days=1)), ("hours", pd.Timedelta(hours=1)),
                    ("minutes", pd.Timedelta(minutes=1)), ("seconds", pd.Timedelta(seconds=1)))


def _axes(ax):
    """Return ``ax``, or the Axes of a new figure when ``ax`` is None."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError('seqforecast.plotting needs matplotlib: pip install '
                          '"seqforecast[plot]"') from error
    if ax is None:
        ax = plt.subplots()[1]
    elif not isinstance(ax, plt.Axes):
        raise TypeError(f"ax must be a matplotlib Axes, e.g. fig, ax = plt.subplots(), got "
                        f"{shown(ax)}")
    return ax


def _recording(estimator, attributes, plot):
    """The fitted estimator that records ``attributes``: ``estimator``, or a forecaster's regressor.

    ``plot`` names the calling function in errors.
    """
    needed = ("a fitted RNNRegressor, LSTMRegressor or GRURegressor, or a SequenceForecaster "
              "fitted with one")
    if isinstance(estimator, type):
        raise TypeError(f"{plot} needs {needed}; got the class {estimator.__name__}, not an "
                        f"instance")
    if not hasattr(estimator, "fit"):
        raise TypeError(f"{plot} needs {needed}; got {shown(estimator)}")
    check_is_fitted(estimator)
    if isinstance(estimator, SequenceForecaster):
        estimator = estimator.regressor_
        owner = f"the forecaster's regressor, {type(estimator).__name__},"
    else:
        owner = type(estimator).__name__
    absent = [name for name in attributes if not hasattr(estimator, name)]
    if absent:
        raise TypeError(f"{plot} draws {', '.join(attributes)}, which {owner} does not record: "
                        f"it needs {needed}")
    if not len(getattr(estimator, attributes[0])):
        raise ValueError(f"{plot} has nothing to draw: {owner} recorded no epoch (its fit "
                         f"stopped in its first epoch: training diverged, as its warning said)")
    return estimator


def _check_same_frame(frame, name, reference, reference_name):
    """Raise ValueError unless ``frame`` has the index and columns of ``reference``."""
    for what in ("index", "columns"):
        got, expected = getattr(frame, what), getattr(reference, what)
        if not got.equals(expected):
            raise ValueError(f"{name} must have the same {what} as {reference_name}; "
                             f"{name}.{what}: {list(got)}, {reference_name}.{what}: "
                             f"{list(expected)}")


def _positive(values):
    """``values`` as a float array with non-positive entries masked (NaN) for a log scale."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def plot_forecast(history, forecast, actual=None, lower=None, upper=None, ax=None,
                  n_history=None, coverage=None, quantiles=None):
    """Plot observed values, a forecast and, optionally, the truth, an interval and quantile bands.

    Each target column gets one colour: a solid line for its history, a
    dashed line for its forecast, a dotted line for the actual future values,
    a shaded band between ``lower`` and ``upper``, and one lighter band per
    central interval of ``quantiles`` (nested bands overlap, so the shade
    darkens towards the middle).

    Parameters
    ----------
    history : DataFrame or Series of shape (n_history_points, n_targets)
        Observed values, indexed by time: a DatetimeIndex (its ticks
        labelled concisely, ``matplotlib.dates.ConciseDateFormatter``), a
        TimedeltaIndex (drawn in days, hours, minutes or seconds) or a
        numeric index.
    forecast : DataFrame or Series of shape (n_forecast_points, n_targets)
        Predicted values, indexed by the future times (an index of the same
        kind as ``history``'s), with the columns of ``history``.
    actual : DataFrame or Series of shape (n_forecast_points, n_targets), default=None
        True future values, with the index and columns of ``forecast``.
    lower, upper : DataFrame or Series of shape (n_forecast_points, n_targets), default=None
        Bounds of a prediction interval, with the index and columns of
        ``forecast``.  Give both or neither.
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.
    n_history : int, default=None
        Show only the last ``n_history`` points of ``history``; None shows
        all of them.
    coverage : float, default=None
        Nominal coverage of the interval, in (0, 1), e.g. 0.9: the band is
        labelled "90% interval".  Needs ``lower`` and ``upper``.
    quantiles : DataFrame, default=None
        Quantile forecasts as ``forecaster.predict_quantiles()`` returns
        them: the index of ``forecast``, columns ``(target, quantile)`` for
        the targets of ``forecast``.  Each pair of levels q < 0.5 and 1 - q
        is drawn as a band labelled with its coverage ("50% band", "90%
        band"); a level 0.5 draws nothing (the forecast line shows the
        point); any other level without its partner 1 - q is an error.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.

    Raises
    ------
    ValueError
        If the columns of ``forecast`` differ from those of ``history``, if
        ``actual``, ``lower`` or ``upper`` do not have the index and columns
        of ``forecast``, if only one of ``lower`` and ``upper`` is given, if
        ``coverage`` or ``n_history`` is invalid, or if ``quantiles`` does
        not have the index and targets of ``forecast`` or holds a level
        without its partner.
    TypeError
        If an argument is not a DataFrame or Series, or the indexes of
        ``history`` and ``forecast`` are of different kinds.
    """
    history = as_frame(history, "history")
    forecast = as_frame(forecast, "forecast")
    for name, frame in (("history", history), ("forecast", forecast)):
        if frame.empty:
            raise ValueError(f"{name} has no rows: there is nothing to draw")
    if isinstance(forecast.index, pd.MultiIndex):
        raise ValueError("forecast holds several series (a global model's forecast): plot "
                         "one, e.g. forecast.loc[name], with that series' history")
    if not forecast.columns.equals(history.columns):
        raise ValueError(f"forecast must have the columns of history; forecast.columns: "
                         f"{list(forecast.columns)}, history.columns: {list(history.columns)}")
    index_kind = history.index.dtype.kind
    if index_kind not in "Mmiuf":
        raise TypeError(f"history must be indexed by a DatetimeIndex, a TimedeltaIndex or a "
                        f"numeric index, got {type(history.index).__name__}")
    if forecast.index.dtype.kind != index_kind:
        raise TypeError(f"forecast's index ({forecast.index.dtype}) must be of the kind of "
                        f"history's ({history.index.dtype})")
    if getattr(history.index, "tz", None) != getattr(forecast.index, "tz", None):
        raise ValueError(f"history and forecast are in different time zones "
                         f"({getattr(history.index, 'tz', None)} and "
                         f"{getattr(forecast.index, 'tz', None)})")
    if (lower is None) != (upper is None):
        raise ValueError("give both lower and upper, or neither")
    if coverage is not None:
        if lower is None:
            raise ValueError("coverage labels the interval: give lower and upper too")
        if not is_real(coverage, 0, 1, include_low=False):
            raise ValueError(f"coverage must be in (0, 1), got {shown(coverage)}")
    others = {}
    for name, frame in (("actual", actual), ("lower", lower), ("upper", upper)):
        if frame is not None:
            others[name] = as_frame(frame, name)
            _check_same_frame(others[name], name, forecast, "forecast")
    bands = None if quantiles is None else _bands(quantiles, forecast)
    if n_history is not None:
        if not is_int(n_history):
            raise ValueError(f"n_history must be a positive int or None, got {shown(n_history)}")
        history = history.iloc[-n_history:]

    ax = _axes(ax)
    xlabel = history.index.name or "time"
    history_x, forecast_x = history.index, forecast.index
    if index_kind == "m":
        span = max(history_x.max(), forecast_x.max()) - min(history_x.min(), forecast_x.min())
        unit_name, unit = next((item for item in _TIMEDELTA_UNITS if span >= 2 * item[1]),
                               _TIMEDELTA_UNITS[-1])
        history_x, forecast_x = history_x / unit, forecast_x / unit
        xlabel = f"{xlabel} ({unit_name})"
    band = "interval" if coverage is None else f"{100 * coverage:g}% interval"
    for column in forecast.columns:
        (line,) = ax.plot(history_x, history[column], label=f"{column} (history)")
        color = line.get_color()
        ax.plot(forecast_x, forecast[column], linestyle="--", color=color,
                label=f"{column} (forecast)")
        if "actual" in others:
            ax.plot(forecast_x, others["actual"][column], linestyle=":", color=color,
                    label=f"{column} (actual)")
        if "lower" in others:
            ax.fill_between(forecast_x, others["lower"][column], others["upper"][column],
                            color=color, alpha=0.2, label=f"{column} ({band})")
        for share, low, high in bands or ():
            ax.fill_between(forecast_x, quantiles[(column, low)], quantiles[(column, high)],
                            color=color, alpha=0.15, linewidth=0,
                            label=f"{column} ({100 * share:g}% band)")
    if index_kind == "M":
        _concise_dates(ax, history_x.tz)
    ax.set_title("Forecast")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(str(forecast.columns[0]) if len(forecast.columns) == 1 else "value")
    ax.legend()
    return ax


def _concise_dates(ax, tz):
    """Date ticks on the x-axis of ``ax`` whose labels do not overlap: matplotlib's
    AutoDateLocator with its ConciseDateFormatter, which writes each tick with the shortest
    label (1958, Apr, Jul) and the rest once, at the end of the axis; ``tz``: the dates' time
    zone (None: naive)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    locator = AutoDateLocator(tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=tz))


def _bands(quantiles, forecast):
    """The central intervals of a quantile frame: ``(coverage, low, high)``, widest first.

    Raises a TypeError or ValueError unless ``quantiles`` is a frame of
    ``(target, quantile)`` columns with the index and targets of ``forecast``
    whose levels other than 0.5 come in pairs q, 1 - q.
    """
    columns = getattr(quantiles, "columns", None)
    if not (isinstance(quantiles, pd.DataFrame)
            and list(columns.names) == ["target", "quantile"]):
        got = (f"columns named {list(columns.names)}" if isinstance(quantiles, pd.DataFrame)
               else shown(quantiles))
        raise TypeError(f"quantiles must be a DataFrame with (target, quantile) columns, as "
                        f"forecaster.predict_quantiles() returns, got {got}")
    if not quantiles.index.equals(forecast.index):
        raise ValueError(f"quantiles must have the index of forecast; quantiles.index: "
                         f"{list(quantiles.index)}, forecast.index: {list(forecast.index)}")
    levels = sorted(set(columns.get_level_values(1)))
    absent = [(target, level) for target in forecast.columns for level in levels
              if (target, level) not in columns]
    if absent:
        raise ValueError(f"quantiles lacks the columns {absent}: it needs the levels {levels} "
                         f"of every target of forecast, {list(forecast.columns)}")
    unpaired = [level for level in levels if level != 0.5 and _reflected(level) not in levels]
    if unpaired:
        raise ValueError(f"quantiles has the levels {unpaired} without their partners 1 - q: "
                         f"bands are drawn between the levels q and 1 - q")
    return central_pairs(levels)


def plot_loss_curve(estimator, ax=None):
    """Plot the training loss per epoch and, with early stopping, the validation score.

    The loss is drawn on a log scale when all its values are positive; the
    validation score (R^2, or minus the loss for a probabilistic loss) on a
    second y-axis (``ax.twinx()``) sharing the epochs.

    Parameters
    ----------
    estimator : fitted RNNRegressor, LSTMRegressor or GRURegressor, or SequenceForecaster
        Its ``loss_curve_`` (list of float, one per epoch) is drawn, and its
        ``validation_scores_`` (list of float or None) when not None.  When
        fewer epochs have a validation score than a loss (fits without early
        stopping followed by fits with it), the scores are drawn against the
        last epochs.  A forecaster's ``regressor_`` is drawn.
    ax : matplotlib Axes, default=None
        Axes to draw the loss on; None draws on a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The Axes of the loss; the validation score, if any, is on its twin.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` (or the forecaster's regressor) records no loss
        curve, or ``ax`` is not an Axes.
    ValueError
        If it recorded no epoch (a fit that diverged in its first).
    """
    estimator = _recording(estimator, ("loss_curve_",), "plot_loss_curve")
    ax = _axes(ax)
    loss = np.asarray(estimator.loss_curve_, dtype=float)
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, marker=".", label="training loss")  # a marker: one epoch shows
    if np.all(loss > 0):
        ax.set_yscale("log")
    ax.set_title("Loss curve")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    handles, labels = ax.get_legend_handles_labels()
    scores = getattr(estimator, "validation_scores_", None)
    if scores:
        twin = ax.twinx()
        name = ("validation score (minus the loss)"
                if getattr(estimator, "trained_loss_", None) in PROBABILISTIC_LOSSES
                else "validation $R^2$")
        twin.plot(epochs[len(epochs) - len(scores):], scores, marker=".", color="tab:orange",
                  label=name)
        twin.set_ylabel(name)
        twin_handles, twin_labels = twin.get_legend_handles_labels()
        handles, labels = handles + twin_handles, labels + twin_labels
    ax.legend(handles, labels)
    return ax


def plot_gradient_norms(estimator, ax=None):
    """Plot the mean and max global gradient norm per epoch on a log scale.

    The norms are those before clipping; when the estimator's
    ``clip_global_norm`` is set, it is drawn as a horizontal line.

    Parameters
    ----------
    estimator : fitted RNNRegressor, LSTMRegressor or GRURegressor, or SequenceForecaster
        Its ``grad_norm_mean_`` and ``grad_norm_max_`` (lists of float, one
        per epoch: mean and max over the batches) are drawn; a forecaster's
        ``regressor_``'s.
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` (or the forecaster's regressor) records no gradient
        norms, or ``ax`` is not an Axes.
    ValueError
        If it recorded no epoch (a fit that diverged in its first).
    """
    estimator = _recording(estimator, ("grad_norm_mean_", "grad_norm_max_"),
                           "plot_gradient_norms")
    ax = _axes(ax)
    epochs = np.arange(1, len(estimator.grad_norm_mean_) + 1)
    ax.plot(epochs, _positive(estimator.grad_norm_mean_), marker=".", label="mean over batches")
    ax.plot(epochs, _positive(estimator.grad_norm_max_), marker=".", label="max over batches")
    threshold = getattr(estimator, "clip_global_norm", None)
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle=":",
                   label=f"clipping threshold (clip_global_norm={threshold:g})")
    ax.set_yscale("log")
    ax.set_title("Global gradient norm before clipping")
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm")
    ax.legend()
    return ax


def plot_step_gradient_norms(estimator, epochs=None, layer=-1, ax=None):
    """Plot how the gradient norm changes as it flows back through time.

    For each chosen epoch, the norm of ``dL/dh_t`` (mean over batches) at
    each time step t of the input window is drawn against the number of
    steps back from the output, ``n_timesteps - 1 - t``, on a log scale: a
    falling line is a vanishing gradient, a rising one an exploding
    gradient.  Zero norms (steps beyond a truncated-BPTT window) are masked.

    Parameters
    ----------
    estimator : fitted RNNRegressor, LSTMRegressor or GRURegressor, or SequenceForecaster
        Its ``step_grad_norms_`` (list, one per epoch, of ndarray of shape
        (n_layers, n_timesteps)) is drawn; a forecaster's ``regressor_``'s.
    epochs : int or sequence of int, default=None
        Epoch numbers to draw, from 1 to ``len(step_grad_norms_)``: an int
        is one epoch (``epochs=3`` draws the third), a sequence several;
        None draws the first, the middle and the last epoch.
    layer : int, default=-1
        Index of the recurrent layer; -1 is the last (top) layer.
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on, one line per epoch.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` records no gradient norms through time, an epoch
        or ``layer`` is not an int, or ``ax`` is not an Axes.
    ValueError
        If ``epochs`` is empty, or an epoch or ``layer`` is out of range, or
        no epoch was recorded (a fit that diverged in its first).
    """
    estimator = _recording(estimator, ("step_grad_norms_",), "plot_step_gradient_norms")
    norms = estimator.step_grad_norms_
    n_epochs = len(norms)
    epochs = _epoch_numbers(epochs, n_epochs)
    n_layers, n_timesteps = norms[0].shape
    if not _is_index(layer):
        raise TypeError(f"layer must be an int (a layer index, -1 for the top), got "
                        f"{shown(layer)}")
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer must be in {-n_layers}..{n_layers - 1}, got {layer}")
    ax = _axes(ax)
    steps_back = np.arange(n_timesteps)
    for epoch in epochs:
        ax.plot(steps_back, _positive(norms[epoch - 1][layer, ::-1]), marker=".",
                label=f"epoch {epoch}")
    ax.set_yscale("log")
    ax.set_title(f"Gradient norm through time, layer {layer % n_layers + 1} of {n_layers}")
    ax.set_xlabel("steps back from the output (n_timesteps - 1 - t)")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.legend()
    return ax


def _is_index(value):
    """True for an int that is not a bool, of any sign."""
    return is_int(value, -np.inf)


def _epoch_numbers(epochs, n_epochs):
    """``epochs`` of :func:`plot_step_gradient_norms` as a list of checked epoch numbers."""
    if epochs is None:
        return sorted({1, (n_epochs + 1) // 2, n_epochs})
    if _is_index(epochs):
        epochs = [epochs]
    elif isinstance(epochs, str) or not hasattr(epochs, "__iter__"):
        raise TypeError(f"epochs must be an epoch number or a list of them, e.g. [1, "
                        f"{n_epochs}], got {shown(epochs)}")
    epochs = list(epochs)
    if not epochs:
        raise ValueError("epochs is empty: give epoch numbers, or None for the first, middle "
                         "and last")
    for epoch in epochs:
        if not _is_index(epoch):
            raise TypeError(f"epochs must hold epoch numbers (ints), got {shown(epoch)}")
        if not 1 <= epoch <= n_epochs:
            raise ValueError(f"epochs must be in 1..{n_epochs}, got {epoch}")
    return epochs
