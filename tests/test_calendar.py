"""Calendar cycles as future covariates: their values, which cycles 'auto' tries and keeps, and
a forecaster with them through every path (predict, data=, update, backtest, files)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from seqforecast import SequenceForecaster, backtest, load
from seqforecast.calendar import calendar_columns, calendar_values, unseen_cycles


def test_calendar_values_are_the_phases_of_the_wall_clock():
    index = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 12:00", "2024-01-07 18:00",
                              "2024-12-31 00:00", "2023-07-02 06:00"])
    values = calendar_values(index, ["day", "week", "year"])
    assert values.shape == (5, 6)
    day = np.array([0, 0.5, 0.75, 0, 0.25])
    week = np.array([0, 0.5, 6.75, 1, 6.25]) / 7  # 2024-01-01 is a Monday
    year = np.array([0, 0.5, 6.75, 365, 182.25]) / np.array([366, 366, 366, 366, 365])
    for column, phase in enumerate((day, week, year)):
        np.testing.assert_allclose(values[:, 2 * column], np.sin(2 * np.pi * phase), atol=1e-12)
        np.testing.assert_allclose(values[:, 2 * column + 1], np.cos(2 * np.pi * phase),
                                   atol=1e-12)
    zoned = pd.date_range("2024-03-30 22:00", periods=6, freq="h", tz="Europe/London")
    np.testing.assert_allclose(calendar_values(zoned, ["day"])[:, 0],
                               np.sin(2 * np.pi * zoned.hour.to_numpy() / 24), atol=1e-12)
    assert calendar_columns(["week"]) == ["calendar week sin", "calendar week cos"]


def test_auto_tries_the_cycles_a_window_cannot_hold_that_the_series_spans_twice():
    half_hours = pd.date_range("2024-01-01", periods=48 * 60, freq="30min")
    assert unseen_cycles([half_hours], 96) == ["week"]  # two days hold a day
    assert unseen_cycles([half_hours], 24) == ["day", "week"]
    assert unseen_cycles([half_hours[:48 * 10]], 24) == ["day"]  # ten days: not two weeks
    days = pd.date_range("2012-01-01", periods=4 * 365, freq="D")
    assert unseen_cycles([days], 28) == ["year"]
    assert unseen_cycles([days], 6) == ["week", "year"]
    assert unseen_cycles([days, days[:300]], 6) == ["week"]  # every series spans two
    months = pd.date_range("1949-01-01", periods=144, freq="MS")
    assert unseen_cycles([months], 24) == unseen_cycles([months], 12) == []  # 12 hold a year
    assert unseen_cycles([months], 11) == ["year"]
    assert unseen_cycles([pd.timedelta_range(0, periods=4000, freq="s")], 60) == []


def _weekly(n_days=70, weekend=5.0, seed=0):
    """Hourly rows: a daily cycle, and a weekend level that a 48-hour window cannot place."""
    index = pd.date_range("2024-01-01", periods=24 * n_days, freq="h", name="time")
    rng = np.random.default_rng(seed)
    hour = index.hour.to_numpy()
    level = np.where(index.day_of_week.to_numpy() >= 5, weekend, 0.0)
    values = 10 + 2 * np.sin(2 * np.pi * hour / 24) + level + rng.normal(0, 0.2, len(index))
    return pd.DataFrame({"load": values}, index=index)


def test_auto_keeps_the_week_that_only_the_calendar_explains():
    data = _weekly()
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24).fit(data)
    assert forecaster.calendar_ == ["week"]
    assert forecaster.calendar_errors_["with"] < 0.5 * forecaster.calendar_errors_["without"]
    assert forecaster.channels_ == ["load"]
    assert forecaster.windower_.channels_ == ["load", "calendar week sin", "calendar week cos"]
    scores = {calendar: backtest(SequenceForecaster(Ridge(), window=48, horizon=24,
                                                    calendar=calendar),
                                 data, n_folds=2, test_size=24 * 7).by_fold["MAE"].mean()
              for calendar in ("auto", None)}
    assert scores["auto"] < 0.7 * scores[None]  # one harmonic of a weekend step: not all of it


def test_auto_leaves_out_a_calendar_that_forecasts_the_recent_rows_worse():
    # A weekend effect in the older rows only: the newest 20% (the hold-out) have none.
    data = _weekly()
    data.iloc[-24 * 14:] = _weekly(weekend=0.0).iloc[-24 * 14:].to_numpy()
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24).fit(data)
    assert forecaster.calendar_errors_["with"] > forecaster.calendar_errors_["without"]
    assert forecaster.calendar_ == []
    assert forecaster.windower_.channels_ == ["load"]


@pytest.mark.parametrize("with_calendar, kept", [(0.97, True), (0.985, False), (1.1, False)])
def test_auto_keeps_a_calendar_that_lowers_the_hold_out_error_by_more_than_2_percent(
        monkeypatch, with_calendar, kept):
    def errors(self, frames, n_test, scored, calendar, **settings):
        return [1.0 if calendar is None else with_calendar]

    monkeypatch.setattr(SequenceForecaster, "_proxy_errors", errors)
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24, target_transform=None)
    forecaster.fit(_weekly())
    assert forecaster.calendar_errors_ == {"without": 1.0, "with": with_calendar}
    assert forecaster.calendar_ == (["week"] if kept else [])


def test_a_calendar_needs_nothing_from_the_user_in_any_path(tmp_path):
    data = _weekly(n_days=40)
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24, calendar=["day", "week"])
    forecaster.fit(data.iloc[:-30])
    forecast = forecaster.predict()
    assert forecast.index.equals(forecaster.forecast_index())
    assert forecaster._future_covariates() == []
    # data= and update read the timestamps of the new rows
    pd.testing.assert_frame_equal(forecaster.predict(data=data), forecaster.update(
        data.iloc[-30:]).predict())
    path = tmp_path / "model.sfm"
    forecaster.save(path)
    pd.testing.assert_frame_equal(load(path).predict(), forecaster.predict())
    # the windows of a forecast are those of the fit: a one-row shift moves the calendar
    actual, predicted, origins = forecaster.forecast_block(
        data.iloc[-24:], data.iloc[:-24][forecaster.channels_])
    assert predicted.shape == (1, 24, 1)
    np.testing.assert_allclose(predicted[0, :, 0], forecaster.predict(data=data.iloc[:-24])
                               .to_numpy()[:, 0], rtol=1e-12)


def test_a_recursive_and_a_global_forecaster_read_each_row_s_calendar():
    data = _weekly(n_days=35)
    recursive = SequenceForecaster(Ridge(), window=48, horizon=30, strategy="recursive",
                                   calendar=["week"]).fit(data)
    assert len(recursive.predict()) == 30
    series = {"a": data, "b": _weekly(n_days=35, seed=1).shift(3, freq="h")}
    both = SequenceForecaster(Ridge(), window=48, horizon=24, calendar=["week"]).fit(series)
    forecast = both.predict()
    alone = both.predict(data={"b": series["b"]})
    np.testing.assert_allclose(forecast.loc["b"].to_numpy(), alone.loc["b"].to_numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("calendar, message", [
    ("week", "calendar must be 'auto', None or a list"),
    (["hour"], "calendar must be 'auto', None or a list"),
    (["week", "week"], "distinct"),
    ([], "calendar must be"),
])
def test_calendar_values_are_checked(calendar, message):
    with pytest.raises(ValueError, match=message):
        SequenceForecaster(Ridge(), window=48, calendar=calendar).fit(_weekly(n_days=10))


def test_a_calendar_of_durations_or_of_a_taken_column_name_is_refused():
    data = _weekly(n_days=10)
    durations = data.set_axis(data.index - data.index[0])
    with pytest.raises(ValueError, match="indexed by TimedeltaIndex .durations.: set calendar"):
        SequenceForecaster(Ridge(), window=48, calendar=["day"]).fit(durations)
    assert SequenceForecaster(Ridge(), window=48).fit(durations).calendar_ == []
    taken = data.assign(**{"calendar day sin": 0.0})
    with pytest.raises(ValueError, match="calendar day sin.*rename them, or set calendar=None"):
        SequenceForecaster(Ridge(), window=48, targets="load", future_covariates=[
            "calendar day sin"], calendar=["day"]).fit(taken)


def test_a_calendar_needs_timestamps_and_a_window_as_long_as_the_horizon():
    data = _weekly(n_days=20)
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24, calendar=["week"]).fit(data)
    with pytest.raises(ValueError, match=r"calendar cycles \['week'\] of the timestamps, but "
                                         r"these rows are indexed by TimedeltaIndex"):
        forecaster.predict(data=data.set_axis(data.index - data.index[0]))
    with pytest.raises(ValueError, match=r"it needs window >= horizon \(24\), and window is 12"):
        SequenceForecaster(Ridge(), window=12, horizon=24, calendar=["week"]).fit(data)
    auto = SequenceForecaster(Ridge(), window=12, horizon=24).fit(data)  # nothing tried
    assert auto.calendar_ == [] and auto.calendar_errors_ == {}
    assert SequenceForecaster(Ridge(), window=12, horizon=24, strategy="recursive",
                              calendar=["week"]).fit(data).calendar_ == ["week"]


def test_a_global_model_scores_the_calendar_on_the_series_long_enough_for_it():
    series = {"long": _weekly(), "short": _weekly(n_days=15, seed=1)}  # short: no window left
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24).fit(series)   # before its
    assert forecaster.calendar_ == ["week"]                                        # hold-out
    assert np.isfinite(list(forecaster.calendar_errors_.values())).all()


def test_a_forecaster_written_before_the_calendar_loads_with_none(tmp_path):
    import pickle

    data = _weekly(n_days=20)
    old = SequenceForecaster(Ridge(), window=48, horizon=24, calendar=None).fit(data)
    expected = old.predict()
    for name in ("calendar", "calendar_", "calendar_errors_"):
        del old.__dict__[name]
    del old._fitted_with["calendar"]
    path = tmp_path / "old.sfm"
    old.save(path)
    for loaded in (load(path), pickle.loads(pickle.dumps(old))):
        assert loaded.get_params()["calendar"] is None and loaded.calendar_ == []
        pd.testing.assert_frame_equal(loaded.predict(), expected)


def test_calendar_cycles_in_another_order_are_the_same_fitted_parameter():
    forecaster = SequenceForecaster(Ridge(), window=48, horizon=24, calendar=["week", "day"])
    forecaster.fit(_weekly(n_days=20))
    assert forecaster.calendar_ == ["day", "week"]
    forecaster.set_params(calendar=("day", "week")).predict()  # not refused


def test_rows_in_another_time_zone_read_the_phases_on_the_fitted_clock():
    index = pd.date_range("2024-05-01", periods=24 * 7 * 5, freq="h", tz="Europe/Berlin")
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"load": 100 + 50 * np.sin(2 * np.pi * index.hour / 24)
                         + rng.normal(0, 20, len(index))}, index=index)
    forecaster = SequenceForecaster(Ridge(), window=3, horizon=3, calendar=["day"],
                                    target_transform=None).fit(data)
    expected = forecaster.predict().to_numpy()
    for zone in ("UTC", "America/New_York"):
        np.testing.assert_array_equal(forecaster.predict(data=data.tz_convert(zone)).to_numpy(),
                                      expected)


def test_a_column_named_as_a_calendar_channel_is_refused_also_by_auto():
    data = _weekly(n_days=20).rename(columns={"load": "calendar week sin"})
    with pytest.raises(ValueError, match=r"\['calendar week sin'\], which calendar='auto' may "
                                         r"add: rename them, or set calendar=None"):
        SequenceForecaster(Ridge(), window=48, horizon=24).fit(data)
