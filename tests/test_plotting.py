"""Tests of seqforecast.plotting: what is drawn, not just that it runs."""
import importlib
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402

import seqforecast  # noqa: E402
from seqforecast import LSTMRegressor, RNNRegressor, plotting  # noqa: E402
from seqforecast.plotting import (plot_forecast, plot_gradient_norms,  # noqa: E402
                                  plot_loss_curve, plot_step_gradient_norms)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _fit(estimator):
    """Fit on 100 windows of 12 steps for a few epochs (the ConvergenceWarning is expected)."""
    rng = np.random.RandomState(0)
    X = rng.randn(100, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, X[:, -3:].sum(1))


@pytest.fixture(scope="module")
def lstm():
    """A two-layer LSTM fitted with early stopping and global clipping."""
    return _fit(LSTMRegressor(hidden_sizes=(8, 4), max_iter=5, early_stopping=True,
                              clip_global_norm=0.5, random_state=0))


@pytest.fixture(scope="module")
def rnn_tbptt():
    """An RNN fitted without early stopping, gradients truncated after 4 of 12 steps."""
    return _fit(RNNRegressor(hidden_sizes=8, max_iter=4, tbptt_steps=4, random_state=0))


def _frames(columns=("a", "b"), n_history=10, n_forecast=4):
    times = pd.date_range("2020-01-01", periods=n_history + n_forecast, freq="D", name="date")
    rng = np.random.RandomState(1)
    values = rng.randn(n_history + n_forecast, len(columns))
    history = pd.DataFrame(values[:n_history], index=times[:n_history], columns=list(columns))
    forecast = pd.DataFrame(values[n_history:] + 0.1, index=times[n_history:],
                            columns=list(columns))
    return history, forecast


def _labels(ax):
    return ax.get_legend_handles_labels()[1]


# plot_forecast

def test_forecast_lines_and_labels():
    history, forecast = _frames()
    actual = forecast - 0.3
    ax = plot_forecast(history, forecast, actual=actual)
    lines = ax.get_lines()
    assert len(lines) == 6  # history, forecast and actual for each of two columns
    assert [line.get_label() for line in lines] == [
        "a (history)", "a (forecast)", "a (actual)", "b (history)", "b (forecast)", "b (actual)"]
    np.testing.assert_array_equal(lines[0].get_ydata(), history["a"])
    np.testing.assert_array_equal(lines[4].get_ydata(), forecast["b"])
    np.testing.assert_array_equal(lines[5].get_ydata(), actual["b"])
    assert lines[1].get_linestyle() == "--"
    # One colour per column across its history, forecast and actual lines.
    assert lines[0].get_color() == lines[1].get_color() == lines[2].get_color()
    assert lines[0].get_color() != lines[3].get_color()
    assert ax.get_legend() is not None
    assert ax.get_title() == "Forecast"
    assert ax.get_xlabel() == "date" and ax.get_ylabel() == "value"


def test_forecast_interval_band_with_coverage():
    history, forecast = _frames(columns=["y"])
    lower, upper = forecast - 1.0, forecast + 1.0
    ax = plot_forecast(history["y"], forecast, lower=lower, upper=upper, coverage=0.9)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    assert bands[0].get_label() == "y (90% interval)"
    assert "y (90% interval)" in _labels(ax)
    # The band spans exactly lower..upper.
    vertices = bands[0].get_paths()[0].vertices
    assert vertices[:, 1].min() == pytest.approx(lower["y"].min())
    assert vertices[:, 1].max() == pytest.approx(upper["y"].max())
    assert ax.get_ylabel() == "y"


def test_forecast_n_history_and_given_axes():
    history, forecast = _frames(columns=["y"])
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_forecast(history, forecast, ax=right, n_history=3)
    assert ax is right and not left.get_lines()
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), history["y"].iloc[-3:])


def test_forecast_timedelta_index_in_hours():
    times = pd.timedelta_range("0h", periods=12, freq="h", name="elapsed")
    history = pd.DataFrame({"y": np.arange(8.0)}, index=times[:8])
    forecast = pd.DataFrame({"y": np.arange(8.0, 12.0)}, index=times[8:])
    ax = plot_forecast(history, forecast)
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [8, 9, 10, 11])
    assert ax.get_xlabel() == "elapsed (hours)"


def _tick_labels(ax):
    """The x tick labels drawn within the axes, left to right: (text, left, right), in pixels."""
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    low, high = ax.get_xlim()
    boxes = [(label.get_text(), label.get_window_extent(renderer))
             for label, x in zip(ax.get_xticklabels(), ax.get_xticks())
             if label.get_text() and low <= x <= high]
    return sorted(((text, box.x0, box.x1) for text, box in boxes), key=lambda label: label[1])


@pytest.mark.parametrize("freq, periods, tz", [
    ("MS", 48, None), ("W", 200, None), ("D", 120, None), ("h", 60, "Europe/Paris")])
@pytest.mark.parametrize("bands", [False, True])
def test_forecast_date_labels_do_not_overlap(freq, periods, tz, bands):
    """Dates were labelled in full (1957-01 1957-07 ... for months), overlapping; the labels
    are now concise, at the dates' time zone's round times."""
    index = pd.date_range("1957-01-01", periods=periods, freq=freq, tz=tz, name="date")
    data = pd.DataFrame({"y": np.sin(np.arange(periods))}, index=index)
    history, forecast = data.iloc[:-12], data.iloc[-12:]
    extra = {}
    if bands:  # a 90% interval and 50% and 90% quantile bands
        levels = {0.05: -2.0, 0.25: -1.0, 0.5: 0.0, 0.75: 1.0, 0.95: 2.0}
        quantiles = pd.concat({("y", level): forecast["y"] + shift
                               for level, shift in levels.items()}, axis=1)
        extra = dict(lower=forecast - 2, upper=forecast + 2, coverage=0.9,
                     quantiles=quantiles.rename_axis(columns=["target", "quantile"]))
    ax = plot_forecast(history, forecast, **extra)
    labels = _tick_labels(ax)
    assert len(labels) >= 4
    assert all(right < left for (_, _, right), (_, left, _) in zip(labels, labels[1:])), labels
    if freq == "MS":
        assert [text for text, _, _ in labels] == ["1957", "Jul", "1958", "Jul", "1959", "Jul",
                                                   "1960", "Jul", "1961"]
    if tz is not None:  # ticks on the hours of the dates' own time zone, not UTC's
        hours = [matplotlib.dates.num2date(x, tz=tz).hour for x in ax.get_xticks()]
        assert set(hours) <= {0, 6, 12, 18}, hours


@pytest.mark.parametrize("name", ["actual", "lower", "upper"])
def test_forecast_mismatched_index(name):
    history, forecast = _frames()
    frames = {"actual": None, "lower": forecast - 1, "upper": forecast + 1}
    frames[name] = forecast.iloc[:-1]
    with pytest.raises(ValueError, match=f"{name} must have the same index as forecast"):
        plot_forecast(history, forecast, **frames)


def test_forecast_mismatched_columns():
    history, forecast = _frames()
    with pytest.raises(ValueError, match="actual must have the same columns as forecast"):
        plot_forecast(history, forecast, actual=forecast.rename(columns={"b": "c"}))
    with pytest.raises(ValueError, match="forecast must have the columns of history"):
        plot_forecast(history[["a"]], forecast)


def test_forecast_invalid_arguments():
    history, forecast = _frames()
    with pytest.raises(ValueError, match="give both lower and upper"):
        plot_forecast(history, forecast, lower=forecast)
    with pytest.raises(ValueError, match="give lower and upper too"):
        plot_forecast(history, forecast, coverage=0.9)
    with pytest.raises(ValueError, match=r"coverage must be in \(0, 1\)"):
        plot_forecast(history, forecast, lower=forecast, upper=forecast, coverage=90)
    with pytest.raises(ValueError, match="n_history"):
        plot_forecast(history, forecast, n_history=0)
    with pytest.raises(TypeError, match="must be of the kind of history's"):
        plot_forecast(history, forecast.reset_index(drop=True))
    with pytest.raises(TypeError, match="forecast must be a pandas Series or DataFrame"):
        plot_forecast(history, forecast.to_numpy())


@pytest.mark.parametrize("data", [
    pd.Series(np.sin(np.arange(60) / 3), index=pd.date_range("2024-01-01", periods=60,
                                                             freq="h")),  # unnamed: "y"
    pd.DataFrame(np.random.RandomState(0).randn(60, 2),
                 index=pd.date_range("2024-01-01", periods=60, freq="h"))])  # columns 0, 1
def test_forecast_of_the_series_a_forecaster_was_fitted_on(data):
    from sklearn.linear_model import Ridge
    forecast = seqforecast.SequenceForecaster(Ridge(), window=6, horizon=3).fit(data).predict()
    ax = plot_forecast(data, forecast, lower=forecast - 1, upper=forecast + 1)
    assert len(ax.get_lines()) == 2 * forecast.shape[1]
    assert _labels(ax)[:2] == [f"{forecast.columns[0]} (history)",
                               f"{forecast.columns[0]} (forecast)"]


# plot_loss_curve

def test_loss_curve_with_validation(lstm):
    ax = plot_loss_curve(lstm)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), lstm.loss_curve_)
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(1, 6))
    assert ax.get_yscale() == "log"
    twin = [other for other in ax.figure.axes if other is not ax]
    assert len(twin) == 1
    np.testing.assert_array_equal(twin[0].get_lines()[0].get_ydata(), lstm.validation_scores_)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "training loss", "validation $R^2$"]
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "Loss curve"


def test_loss_curve_without_validation(rnn_tbptt):
    assert rnn_tbptt.validation_scores_ is None
    ax = plot_loss_curve(rnn_tbptt)
    assert len(ax.figure.axes) == 1 and len(ax.get_lines()) == 1
    assert _labels(ax) == ["training loss"]


# plot_gradient_norms

def test_gradient_norms_with_clipping_threshold(lstm):
    ax = plot_gradient_norms(lstm)
    mean, largest, threshold = ax.get_lines()
    np.testing.assert_array_equal(mean.get_ydata(), lstm.grad_norm_mean_)
    np.testing.assert_array_equal(largest.get_ydata(), lstm.grad_norm_max_)
    np.testing.assert_array_equal(threshold.get_ydata(), [0.5, 0.5])
    assert "clipping threshold" in threshold.get_label()
    assert ax.get_yscale() == "log"
    assert len(_labels(ax)) == 3


def test_gradient_norms_without_clipping(rnn_tbptt):
    ax = plot_gradient_norms(rnn_tbptt)
    assert len(ax.get_lines()) == 2
    assert _labels(ax) == ["mean over batches", "max over batches"]


# plot_step_gradient_norms

def test_step_gradient_norms_default_epochs(lstm):
    ax = plot_step_gradient_norms(lstm)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["epoch 1", "epoch 3", "epoch 5"]
    # Steps back from the output: the last time step comes first.
    np.testing.assert_array_equal(lines[2].get_xdata(), np.arange(12))
    np.testing.assert_array_equal(lines[2].get_ydata(), lstm.step_grad_norms_[4][-1, ::-1])
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "Gradient norm through time, layer 2 of 2"
    assert ax.get_legend() is not None


def test_step_gradient_norms_chosen_epochs_and_layer(lstm):
    ax = plot_step_gradient_norms(lstm, epochs=[2], layer=0)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), lstm.step_grad_norms_[1][0, ::-1])
    assert "layer 1 of 2" in ax.get_title()


def test_step_gradient_norms_masks_zeros(rnn_tbptt):
    """Beyond the truncation window the norms are zero: masked, not -inf on the log scale."""
    norms = rnn_tbptt.step_grad_norms_[-1][-1, ::-1]
    assert np.all(norms[4:] == 0) and np.all(norms[:4] > 0)
    ax = plot_step_gradient_norms(rnn_tbptt, epochs=[4])
    ydata = ax.get_lines()[0].get_ydata()
    np.testing.assert_array_equal(ydata[:4], norms[:4])
    assert np.all(np.isnan(ydata[4:]))
    ax.figure.canvas.draw()  # the log scale renders
    assert np.all(np.isfinite(ax.get_ylim())) and ax.get_ylim()[0] > 0


def test_step_gradient_norms_out_of_range(lstm):
    with pytest.raises(ValueError, match=r"epochs must be in 1\.\.5, got 6"):
        plot_step_gradient_norms(lstm, epochs=[6])
    with pytest.raises(ValueError, match=r"layer must be in -2\.\.1, got 2"):
        plot_step_gradient_norms(lstm, layer=2)


# Shared behaviour

@pytest.mark.parametrize("plot", [plot_loss_curve, plot_gradient_norms, plot_step_gradient_norms])
def test_unfitted_estimator(plot):
    with pytest.raises(NotFittedError):
        plot(LSTMRegressor())


def test_missing_matplotlib(monkeypatch, lstm):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "seqforecast\[plot\]"'):
        plot_loss_curve(lstm)


def test_import_without_matplotlib(monkeypatch):
    """Importing the module does not import matplotlib."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "seqforecast.plotting")
    monkeypatch.delattr(seqforecast, "plotting")
    module = importlib.import_module("seqforecast.plotting")
    assert module is not plotting and callable(module.plot_forecast)


def test_forecast_refuses_mixed_time_zones_and_several_series():
    history, forecast = _frames(columns=["y"])
    with pytest.raises(ValueError, match="different time zones"):
        plot_forecast(history, forecast.tz_localize("UTC"))
    stacked = pd.concat({"a": forecast, "b": forecast}, names=["series", "time"])
    with pytest.raises(ValueError, match="holds several series"):
        plot_forecast(history, stacked)
    with pytest.raises(ValueError, match="n_history must be a positive int"):
        plot_forecast(history, forecast, n_history=2.5)


# What a user naturally passes

@pytest.fixture(scope="module")
def forecaster():
    """A SequenceForecaster fitted with a tiny LSTM for 3 epochs."""
    index = pd.date_range("2024-01-01", periods=60, freq="h", name="time")
    data = pd.DataFrame({"load": np.sin(np.arange(60) / 3.0)}, index=index)
    regressor = LSTMRegressor(hidden_sizes=3, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return seqforecast.SequenceForecaster(regressor, window=6).fit(data)


def test_diagnostics_draw_a_fitted_forecasters_regressor(forecaster):
    network = forecaster.regressor_
    ax = plot_loss_curve(forecaster)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), network.loss_curve_)
    ax = plot_gradient_norms(forecaster)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), network.grad_norm_mean_)
    ax = plot_step_gradient_norms(forecaster)
    assert [line.get_label() for line in ax.get_lines()] == ["epoch 1", "epoch 2", "epoch 3"]


@pytest.mark.parametrize("plot", [plot_loss_curve, plot_gradient_norms, plot_step_gradient_norms])
def test_diagnostics_refuse_what_records_no_training(plot):
    from sklearn.linear_model import Ridge

    index = pd.date_range("2024-01-01", periods=40, freq="h")
    data = pd.DataFrame({"y": np.arange(40.0)}, index=index)
    ridge = seqforecast.SequenceForecaster(Ridge(), window=4).fit(data)
    name = plot.__name__
    with pytest.raises(TypeError, match=rf"{name} draws .*, which the forecaster's regressor, "
                                        rf"Ridge, does not record: it needs a fitted RNNRegressor"):
        plot(ridge)
    with pytest.raises(TypeError, match=rf"{name} draws .*, which Ridge does not record"):
        plot(Ridge().fit(np.ones((3, 2)), np.ones(3)))
    with pytest.raises(TypeError, match=rf"{name} needs a fitted RNNRegressor.*; got the class "
                                        r"LSTMRegressor, not an instance"):
        plot(LSTMRegressor)
    with pytest.raises(TypeError, match=rf"{name} needs a fitted RNNRegressor.*; got a list"):
        plot([0.5, 0.4])
    with pytest.raises(NotFittedError):
        plot(seqforecast.SequenceForecaster(LSTMRegressor()))


def test_step_gradient_norms_epochs_is_an_epoch_number_or_a_list(lstm):
    """``epochs=3`` failed with "'int' object is not iterable": it draws epoch 3."""
    (line,) = plot_step_gradient_norms(lstm, epochs=3).get_lines()
    assert line.get_label() == "epoch 3"
    np.testing.assert_array_equal(line.get_ydata(), lstm.step_grad_norms_[2][-1, ::-1])
    labels = [line.get_label() for line in
              plot_step_gradient_norms(lstm, epochs=np.array([1, 5])).get_lines()]
    assert labels == ["epoch 1", "epoch 5"]
    with pytest.raises(ValueError, match=r"epochs must be in 1\.\.5, got 9"):
        plot_step_gradient_norms(lstm, epochs=9)
    with pytest.raises(ValueError, match="epochs is empty"):
        plot_step_gradient_norms(lstm, epochs=[])
    with pytest.raises(TypeError, match=r"epochs must be an epoch number or a list of them, e\.g\. "
                                        r"\[1, 5\], got '3' \(a str\)"):
        plot_step_gradient_norms(lstm, epochs="3")
    for epochs in (3.0, [1, 2.5]):
        with pytest.raises(TypeError, match="epochs must .* got (3.0|2.5)"):
            plot_step_gradient_norms(lstm, epochs=epochs)
    with pytest.raises(TypeError, match=r"layer must be an int \(a layer index, -1 for the top\), "
                                        r"got 0.5"):
        plot_step_gradient_norms(lstm, layer=0.5)


def test_ax_and_numbers_of_the_wrong_kind(lstm):
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes, e.g. fig, ax = "
                                        r"plt\.subplots\(\), got a Figure"):
        plot_loss_curve(lstm, ax=fig)
    history, forecast = _frames(columns=["y"])
    with pytest.raises(ValueError, match=r"coverage must be in \(0, 1\), got '90%' \(a str\)"):
        plot_forecast(history, forecast, lower=forecast, upper=forecast, coverage="90%")
    ax = plot_forecast(history, forecast, n_history=np.int64(3), ax=ax)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), history["y"].iloc[-3:])


def test_a_fit_that_recorded_no_epoch_is_refused_and_one_epoch_is_visible():
    """Training that diverges inside its first epoch records no epoch: the plots say so
    (plot_step_gradient_norms raised IndexError, the others drew empty axes). A single
    recorded epoch is drawn with a marker (a line of one point is invisible)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 30, 1)).astype(np.float32)
    y = X[:, -1, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RNNRegressor(16, max_iter=15, batch_size=20, learning_rate_init=1e10,
                             random_state=0).fit(X, y)
    assert model.n_iter_ == 0
    for plot in (plot_loss_curve, plot_gradient_norms, plot_step_gradient_norms):
        with pytest.raises(ValueError, match=f"{plot.__name__} has nothing to draw: "
                                             f"RNNRegressor recorded no epoch"):
            plot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = RNNRegressor(4, max_iter=1, random_state=0).fit(X, y)
    for plot in (plot_loss_curve, plot_gradient_norms):
        lines = plot(one).lines
        assert lines and all(len(line.get_xdata()) == 1 and line.get_marker() not in
                             (None, "None", "", " ") for line in lines if line.get_label()
                             in ("training loss", "mean over batches", "max over batches"))
