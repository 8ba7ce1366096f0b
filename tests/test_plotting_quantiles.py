"""plot_forecast's quantile bands: one shaded band per central interval, nested."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from probabilistic import GaussianRidge  # noqa: E402

from seqforecast import SequenceForecaster  # noqa: E402
from seqforecast.plotting import plot_forecast  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    """A two-target probabilistic forecaster of 4 steps at five levels, and its data."""
    t = np.arange(120)
    data = pd.DataFrame({"a": np.sin(t / 3) + 0.1 * np.cos(t), "b": 5 + np.cos(t / 4)},
                        index=pd.date_range("2024-01-01", periods=120, freq="D", name="date"))
    forecaster = SequenceForecaster(GaussianRidge(quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)),
                                    window=8, horizon=4, target_transform="diff").fit(data)
    return forecaster, data


def _bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_nested_central_intervals_are_shaded_darker_inside(fitted):
    forecaster, data = fitted
    forecast, quantiles = forecaster.predict(), forecaster.predict_quantiles()
    ax = plot_forecast(data, forecast, quantiles=quantiles, n_history=20)
    bands = _bands(ax)
    assert [band.get_label() for band in bands] == ["a (90% band)", "a (50% band)",
                                                    "b (90% band)", "b (50% band)"]
    # Each band spans its two levels of its target, in its target's colour; overlapping
    # translucent bands make the inner one darker.
    lines = {line.get_label(): line for line in ax.get_lines()}
    for band, (target, low, high) in zip(bands, [("a", .05, .95), ("a", .25, .75),
                                                 ("b", .05, .95), ("b", .25, .75)]):
        heights = band.get_paths()[0].vertices[:, 1]
        assert heights.min() == pytest.approx(quantiles[(target, low)].min())
        assert heights.max() == pytest.approx(quantiles[(target, high)].max())
        assert 0 < band.get_alpha() < 0.5
        np.testing.assert_allclose(band.get_facecolor()[0][:3],
                                   matplotlib.colors.to_rgb(lines[f"{target} (forecast)"]
                                                            .get_color()))
    assert "a (90% band)" in ax.get_legend_handles_labels()[1]


def test_bands_and_an_interval_together(fitted):
    forecaster, data = fitted
    forecast = forecaster.predict()
    quantiles = forecaster.predict_quantiles(quantiles=[0.1, 0.5, 0.9])
    lower, upper = forecaster.predict_interval(0.5)
    ax = plot_forecast(data, forecast, lower=lower, upper=upper, coverage=0.5,
                       quantiles=quantiles)
    assert [band.get_label() for band in _bands(ax)] == [
        "a (50% interval)", "a (80% band)", "b (50% interval)", "b (80% band)"]


def test_quantile_frames_that_cannot_be_drawn(fitted):
    forecaster, data = fitted
    forecast = forecaster.predict()
    with pytest.raises(ValueError, match=r"quantiles has the levels \[0.25\] without their "
                                         r"partners 1 - q"):
        plot_forecast(data, forecast, quantiles=forecaster.predict_quantiles(
            quantiles=[0.05, 0.25, 0.5, 0.95]))
    with pytest.raises(ValueError, match="quantiles must have the index of forecast"):
        plot_forecast(data, forecast, quantiles=forecaster.predict_quantiles().iloc[:2])
    with pytest.raises(ValueError, match=r"quantiles lacks the columns \[\('b', 0.05\)"):
        plot_forecast(data, forecast, quantiles=forecaster.predict_quantiles()[["a"]])
    with pytest.raises(TypeError, match="quantiles must be a DataFrame with \\(target, "
                                        "quantile\\) columns"):
        plot_forecast(data, forecast, quantiles=forecast)
    with pytest.raises(TypeError, match=r"quantiles must be a DataFrame with \(target, "
                                        r"quantile\) columns, .* got columns named "
                                        r"\['quantile', 'target'\]"):
        plot_forecast(data, forecast,
                      quantiles=forecaster.predict_quantiles().swaplevel(axis=1))
    for history, future, name in ((data.iloc[:0], forecast, "history"),
                                  (data, forecast.iloc[:0], "forecast")):
        with pytest.raises(ValueError, match=f"{name} has no rows: there is nothing to draw"):
            plot_forecast(history, future)
