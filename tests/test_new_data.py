"""Forecasting from new data without refitting: predict(data=...) and update(new_rows)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from seqforecast import NaiveForecaster, RNNRegressor, SequenceForecaster

# Three epochs of a tiny network: the tests are about rows and weights, not fit quality.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _series(n=300, freq="h", name="load", start="2024-01-01", phase=0.0):
    t = np.arange(n)
    index = pd.date_range(start, periods=n, freq=freq, name="time")
    return pd.DataFrame({name: 10 + np.sin(2 * np.pi * t / 24 + phase) + 0.01 * t}, index=index)


def _with_covariate(n=300):
    data = _series(n)
    return data.assign(hour=data.index.hour.astype(float))


def _with_nan(frame, row):
    frame = frame.copy()
    frame.iloc[row, 0] = np.nan
    return frame


def _rnn(**kwargs):
    return RNNRegressor(hidden_sizes=4, max_iter=3, batch_size=16, random_state=0, **kwargs)


FORECASTERS = {
    "ridge": lambda: SequenceForecaster(Ridge(), window=12, horizon=4),
    "rnn-diff-norm": lambda: SequenceForecaster(_rnn(), window=12, horizon=4,
                                                target_transform="diff", window_norm="standard"),
    "rnn-recursive": lambda: SequenceForecaster(_rnn(), window=12, horizon=3,
                                                strategy="recursive"),
    "naive": lambda: NaiveForecaster(season=24, horizon=5),
}


@pytest.mark.parametrize("name", FORECASTERS)
def test_predict_from_data_reads_only_its_last_rows(name):
    data = _series()
    forecaster = FORECASTERS[name]().fit(data.iloc[:200])
    fitted_end = forecaster.predict()
    np.testing.assert_array_equal(forecaster.predict(data=data.iloc[:200]), fitted_end)
    later = forecaster.predict(data=data.iloc[:260])
    assert later.index[0] == data.index[260] and later.index.freq == data.index.freq
    tail = data.iloc[260 - forecaster.lookback_:260]
    pd.testing.assert_frame_equal(forecaster.predict(data=tail), later, check_exact=True)
    assert not later.equals(fitted_end)


@pytest.mark.parametrize("name", FORECASTERS)
def test_update_moves_the_forecast_origin_and_keeps_memory_flat(name):
    data = _series()
    forecaster = FORECASTERS[name]().fit(data.iloc[:200])
    kept = len(forecaster.history_[None])
    for row in range(200, 240):
        forecaster.update(data.iloc[row:row + 1])
        assert len(forecaster.history_[None]) == kept
    forecaster.update(data.iloc[240:250])
    pd.testing.assert_frame_equal(forecaster.predict(), forecaster.predict(data=data.iloc[:250]),
                                  check_exact=True)
    assert forecaster.history_[None].index[-1] == data.index[249]


def test_updates_are_checked_against_the_stored_history():
    data = _series()
    forecaster = SequenceForecaster(Ridge(), window=12, horizon=4).fit(data.iloc[:200])
    with pytest.raises(ValueError, match=r"first row must be at 2024-01-09 08:00:00, not "
                                         r"2024-01-09 09:00:00"):
        forecaster.update(data.iloc[201:205])
    with pytest.raises(ValueError, match="must continue the series"):
        forecaster.update(data.iloc[190:205])  # overlaps what it has
    with pytest.raises(ValueError, match="not regular at frequency h"):
        forecaster.update(data.iloc[[200, 201, 203]])
    with pytest.raises(ValueError, match=r"columns \['load', 'extra'\].*\['extra'\] are not "
                                         r"among them"):
        forecaster.update(data.iloc[200:205].assign(extra=1.0))
    with pytest.raises(ValueError, match="1 missing values"):
        forecaster.update(_with_nan(data.iloc[200:205], 2))
    with pytest.raises(TypeError, match="fitted on one series: pass new_rows as a DataFrame"):
        forecaster.update({"a": data.iloc[200:205]})
    with pytest.raises(TypeError, match="Ridge lacks"):
        forecaster.update(data.iloc[200:205], refit=True)
    with pytest.raises(TypeError, match="NaiveForecaster has nothing to refit"):
        NaiveForecaster().fit(data.iloc[:200]).update(data.iloc[200:205], refit=True)
    paris = NaiveForecaster().fit(data.iloc[:200].tz_localize("Europe/Paris"))
    with pytest.raises(ValueError, match=r"new_rows is in the time zone UTC, the series in "
                                         r"Europe/Paris: convert it first, e.g. "
                                         r"new_rows.tz_convert\('Europe/Paris'\)"):
        paris.update(data.iloc[200:205].tz_localize("Europe/Paris").tz_convert("UTC"))
    assert forecaster.history_[None].index[-1] == data.index[199]  # nothing was appended


def test_predict_data_is_checked_like_fit_data():
    data = _with_covariate()
    forecaster = SequenceForecaster(Ridge(), window=12, horizon=4, target_transform=None,
                                    future_covariates="hour").fit(data.iloc[:200])
    future = data.iloc[200:204][["hour"]]
    with pytest.raises(ValueError, match="data has 11 rows; forecasting reads the last "
                                         "lookback_ = 12"):
        forecaster.predict(data=data.iloc[189:200], future_covariates=future)
    with pytest.raises(ValueError, match=r"\['hour'\] are missing"):
        forecaster.predict(data=data.iloc[:200][["load"]], future_covariates=future)
    with pytest.raises(ValueError, match="not regular at frequency h"):
        forecaster.predict(data=data.iloc[:200].asfreq("2h"), future_covariates=future)
    with pytest.raises(ValueError, match="1 missing values"):
        forecaster.predict(data=_with_nan(data.iloc[:200], 195), future_covariates=future)
    with pytest.raises(ValueError, match="needs future_covariates"):
        forecaster.predict(data=data.iloc[:180])
    forecast = forecaster.predict(data=data.iloc[:180][["hour", "load"]],
                                  future_covariates=data.iloc[180:184][["hour"]])
    assert list(forecast.index) == list(data.index[180:184])
    # Time zones: the same instants in another zone are found; with a zone on one side only
    # the error says so (it said the timestamps were missing).
    utc = data.tz_localize("UTC")
    zoned = SequenceForecaster(Ridge(), window=12, horizon=4, target_transform=None,
                               future_covariates="hour").fit(utc.iloc[:200])
    paris = utc.iloc[200:204][["hour"]].tz_convert("Europe/Paris")
    pd.testing.assert_frame_equal(zoned.predict(future_covariates=paris),
                                  forecaster.predict(data=data.iloc[:200], future_covariates=future)
                                  .tz_localize("UTC"))
    with pytest.raises(ValueError, match="future_covariates is in the time zone None, the "
                                         "series in UTC: both need a time zone, or neither"):
        zoned.predict(future_covariates=future)
    # An unnamed Series is named in the error, not as the column 'y' it was never given.
    plain = SequenceForecaster(Ridge(), window=12, horizon=4).fit(data.iloc[:200][["load"]])
    with pytest.raises(ValueError, match=r"data is an unnamed Series; the forecaster was "
                                         r"fitted on the columns \['load'\]: name it, e.g. "
                                         r"data.rename\('load'\)"):
        plain.predict(data=pd.Series(data["load"].to_numpy(), index=data.index))


def test_a_global_model_forecasts_a_series_it_never_saw():
    series = {name: _series(240, phase=phase) for name, phase in (("a", 0.0), ("b", 1.0))}
    forecaster = SequenceForecaster(Ridge(), window=24, horizon=6).fit(series)
    new = _series(100, phase=2.0, start="2025-01-01")
    alone = forecaster.predict(data=new)
    assert list(alone.index) == list(pd.date_range(new.index[-1], periods=7, freq="h")[1:])
    both = forecaster.predict(data={"new": new, "a": series["a"]})
    assert list(both.index.get_level_values("series").unique()) == ["new", "a"]
    pd.testing.assert_frame_equal(both.loc["new"], alone, check_freq=False, check_exact=True)
    pd.testing.assert_frame_equal(both.loc["a"], forecaster.predict().loc["a"], check_freq=False,
                                  check_exact=True)
    np.testing.assert_allclose(alone["load"], _series(106, phase=2.0)["load"].iloc[100:],
                               atol=0.05)  # it forecasts the new series, not a fitted one
    forecaster.update({"b": _series(250, phase=1.0).iloc[240:]})
    assert forecaster.history_["b"].index[-1] == _series(250).index[-1]
    assert forecaster.history_["a"].index[-1] == series["a"].index[-1]
    with pytest.raises(ValueError, match="not fitted on a series named 'c'"):
        forecaster.update({"c": new})
    with pytest.raises(TypeError, match="several series: pass new_rows as a dict"):
        forecaster.update(new)


def test_refit_trains_on_the_windows_the_new_rows_complete():
    data = _series()
    forecaster = SequenceForecaster(_rnn(learning_rate="cosine", early_stopping=True),
                                    window=12, horizon=4).fit(data.iloc[:200])
    regressor = forecaster.regressor_
    before, epochs, seen = regressor._network.snapshot(), regressor.n_iter_, regressor.t_
    forecaster.update(data.iloc[200:205], refit=True)
    assert regressor.n_iter_ == epochs + 1 and regressor.t_ == seen + 5  # one window per row
    assert not np.array_equal(regressor._network.snapshot(), before)
    # the fit's settings are back: early stopping, the cosine schedule, the batch size
    assert (regressor.early_stopping, regressor.learning_rate, regressor.batch_size) == (
        True, "cosine", 16)


def test_refit_continues_as_partial_fit_on_the_same_windows():
    data = _series()
    one = SequenceForecaster(_rnn(), window=12, horizon=4).fit(data.iloc[:200])
    other = SequenceForecaster(_rnn(), window=12, horizon=4).fit(data.iloc[:200])
    one.update(data.iloc[200:240], refit=True)
    windows = other.windower_.windows(data.to_numpy(), np.arange(196, 236))
    targets = other.windower_.window_targets(data.to_numpy(), np.arange(196, 236))
    other.regressor_.partial_fit(*other._scaled(windows, targets))
    other.update(data.iloc[200:240])
    np.testing.assert_array_equal(one.predict(), other.predict())


def test_a_refit_that_blows_up_warns_and_keeps_the_weights_before_it():
    """update(refit=True) trains one partial_fit epoch, often a single update: the weights it
    leaves are judged (the divergence policy), and blown-up ones are not kept."""
    data = _series()
    settings = dict(hidden_sizes=4, max_iter=3, random_state=0, learning_rate_init=1.0)
    forecaster = SequenceForecaster(RNNRegressor(**settings), window=12, horizon=4,
                                    target_transform=None).fit(data.iloc[:200])
    before = forecaster.regressor_._network.snapshot()
    with pytest.warns(ConvergenceWarning, match="the weights its last update left"):
        forecaster.update(data.iloc[200:212], refit=True)
    np.testing.assert_array_equal(forecaster.regressor_._network.snapshot(), before)
    assert forecaster.predict().abs().to_numpy().max() < 2 * data.to_numpy().max()


def test_an_mlp_fitted_with_early_stopping_is_refused_a_refit_before_it_trains():
    """scikit-learn's MLPRegressor cannot partial_fit on from an early-stopped fit (a
    TypeError after its weights changed): the update is refused first, and changes nothing."""
    from sklearn.neural_network import MLPRegressor

    data = _series()
    forecaster = SequenceForecaster(MLPRegressor(early_stopping=np.True_, max_iter=20,
                                                 random_state=0), window=12,
                                    horizon=1).fit(data.iloc[:200])
    weights, forecast = [w.copy() for w in forecaster.regressor_.coefs_], forecaster.predict()
    with pytest.raises(ValueError, match="fitted with early_stopping=True"):
        forecaster.update(data.iloc[200:210], refit=True)
    for before, after in zip(weights, forecaster.regressor_.coefs_):
        np.testing.assert_array_equal(after, before)
    pd.testing.assert_frame_equal(forecaster.predict(), forecast)
    forecaster.update(data.iloc[200:210])  # without refit it goes on
    assert forecaster.predict().index[0] == data.index[210]
    forecaster.regressor_.early_stopping = np.False_  # its flag changed after the fit
    with pytest.raises(ValueError, match="MLPRegressor\\(early_stopping=False\\)"):
        forecaster.update(data.iloc[210:215], refit=True)
    started = SequenceForecaster(MLPRegressor(max_iter=20, random_state=0), window=12,
                                 horizon=1)  # partial_fit first: an unfitted MLP trains
    started.partial_fit(data.iloc[:200]).partial_fit(data.iloc[:220])
    assert started.regressor_.t_ > 0 and started.predict().index[0] == data.index[220]


class _FailingPartialFit(Ridge):
    """A Ridge whose partial_fit changes its coefficients, then fails."""

    def partial_fit(self, X, y):
        self.coef_ = self.coef_ + 1.0
        raise RuntimeError("partial_fit failed half way")


def test_a_regressor_whose_partial_fit_fails_is_put_back_as_it_was():
    data = _series()
    forecaster = SequenceForecaster(_FailingPartialFit(), window=12,
                                    horizon=4).fit(data.iloc[:200])
    coef, forecast = forecaster.regressor_.coef_.copy(), forecaster.predict()
    with pytest.raises(RuntimeError, match="half way"):
        forecaster.update(data.iloc[200:210], refit=True)
    np.testing.assert_array_equal(forecaster.regressor_.coef_, coef)
    pd.testing.assert_frame_equal(forecaster.predict(), forecast)
    with pytest.raises(RuntimeError, match="half way"):
        forecaster.partial_fit(data.iloc[:210])
    np.testing.assert_array_equal(forecaster.regressor_.coef_, coef)


@pytest.mark.parametrize("transform, value, what", [
    ("log_return", 0.0, "needs positive targets; new_rows has values <= 0: 0"),
    ("return", 0.0, "divides by the targets; new_rows has zeros: 0"),
    ("log_return", -2.0, "needs positive targets; new_rows has values <= 0: -2")])
def test_updates_the_transform_cannot_take_are_refused_when_given(transform, value, what):
    """A value the target transform cannot take is refused by update, named by column and
    timestamp, and the forecaster goes on as before (not stuck on a row it cannot read)."""
    data = _series()
    forecaster = SequenceForecaster(Ridge(), window=12, horizon=4,
                                    target_transform=transform).fit(data.iloc[:200])
    before = forecaster.predict()
    bad = data.iloc[200:203].copy()
    bad.iloc[1, 0] = value
    with pytest.raises(ValueError, match=f"{what} in column 'load' at row "
                                         f"{data.index[201]}"):
        forecaster.update(bad, refit=True)
    pd.testing.assert_frame_equal(forecaster.predict(), before)
    forecaster.update(data.iloc[200:203])
    pd.testing.assert_frame_equal(
        forecaster.predict(), forecaster.predict(data=data.iloc[:203]))
    # predict(data=...) checks the rows it reads, and only those.
    with pytest.raises(ValueError, match=f"{what[:20]}.*data has .* at row {data.index[201]}"):
        forecaster.predict(data=pd.concat([data.iloc[:201], bad.iloc[1:]]))
    early = data.iloc[:203].copy()
    early.iloc[5, 0] = value
    pd.testing.assert_frame_equal(forecaster.predict(data=early), forecaster.predict())


@pytest.mark.parametrize("forecaster", [
    SequenceForecaster(Ridge(), window=6, horizon=2, missing="interpolate"),
    NaiveForecaster(season=3, missing="interpolate")])
def test_an_update_interpolates_its_first_rows_from_the_stored_last_row(forecaster):
    data = _series(120)
    gappy = data.copy()
    gappy.iloc[100:102, 0] = np.nan  # the first two rows of the update
    whole = clone(forecaster).fit(gappy.iloc[:103])  # interpolated at once
    forecaster = clone(forecaster).fit(data.iloc[:100]).update(gappy.iloc[100:103])
    kept = forecaster.history_[None]
    assert kept.index[0] <= gappy.index[100] and np.isfinite(kept.to_numpy()).all()
    pd.testing.assert_frame_equal(kept, whole.history_[None])
    trailing = gappy.iloc[103:106].copy()
    trailing.iloc[-1, 0] = np.nan  # the last row: nothing after it to interpolate towards
    with pytest.raises(ValueError, match="missing values at its start or end"):
        forecaster.update(trailing)
