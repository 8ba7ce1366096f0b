"""SequenceForecaster, NaiveForecaster and backtest on pandas series."""
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge, SGDRegressor
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from seqforecast import (GRURegressor, LSTMRegressor, NaiveForecaster, RNNRegressor,
                         SequenceForecaster, backtest, compare, load)
from seqforecast.datasets import load_airline_passengers


def _sine(n=200, freq="h", start="2024-01-01", period=12.0):
    """A sine with a trend: exactly an order-3 linear recurrence, so lags predict it exactly."""
    t = np.arange(n)
    index = pd.date_range(start, periods=n, freq=freq, name="time")
    return pd.DataFrame({"load": 10 + 0.05 * t + np.sin(2 * np.pi * t / period)}, index=index)


def _truth(n_total, n_fit, steps, **kwargs):
    return _sine(n_total, **kwargs)["load"].to_numpy()[n_fit:n_fit + steps]


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_a_linear_model_forecasts_a_linear_recurrence_exactly(strategy):
    data = _sine()
    forecaster = SequenceForecaster(LinearRegression(), window=6, horizon=5, strategy=strategy)
    forecast = forecaster.fit(data.iloc[:150]).predict()
    assert list(forecast.columns) == ["load"]
    assert list(forecast.index) == list(data.index[150:155])
    np.testing.assert_allclose(forecast["load"], data["load"].iloc[150:155], atol=1e-6)
    if strategy == "recursive":  # any horizon
        longer = forecaster.predict(horizon=30)
        np.testing.assert_allclose(longer["load"], data["load"].iloc[150:180], atol=1e-5)
    else:
        with pytest.raises(ValueError, match="at most 5 steps"):
            forecaster.predict(horizon=6)


@pytest.mark.parametrize("freq", ["MS", "B", "30min", "W-SUN"])
def test_future_timestamps_follow_the_inferred_frequency(freq):
    data = _sine(60, freq=freq)
    data = data.set_axis(pd.DatetimeIndex(list(data.index), name="time"))  # no freq carried
    forecast = SequenceForecaster(Ridge(), window=4, horizon=3).fit(data).predict()
    expected = pd.date_range(data.index[-1], periods=4, freq=freq)[1:]
    assert list(forecast.index) == list(expected) and forecast.index.name == "time"


def test_timedelta_index_and_timezones_across_a_clock_change():
    data = _sine(50)
    elapsed = data.set_axis(pd.timedelta_range(0, periods=50, freq="s", name="elapsed"))
    forecast = SequenceForecaster(Ridge(), window=4, horizon=2).fit(elapsed).predict()
    assert list(forecast.index) == [pd.Timedelta(seconds=50), pd.Timedelta(seconds=51)]
    # Hourly in Paris up to the night of 2024-03-31, when clocks jump from 2:00 to 3:00.
    aware = data.set_axis(pd.date_range("2024-03-29 06:00", periods=50, freq="h",
                                        tz="Europe/Paris", name="time"))
    forecast = SequenceForecaster(Ridge(), window=4, horizon=2).fit(aware.iloc[:-2]).predict()
    assert list(forecast.index) == list(aware.index[-2:])


def test_test_blocks_must_be_regular_and_follow_the_fit():
    data = _sine(120)
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=3).fit(data.iloc[:80])
    with pytest.raises(ValueError, match="not regular at the fitted frequency h: row 5"):
        forecaster.score(data.iloc[80:].drop(data.index[85]))
    with pytest.raises(ValueError, match="must start right after the fitted series"):
        forecaster.score(data.iloc[81:])
    with pytest.raises(ValueError, match="cannot infer the frequency"):
        backtest(forecaster, data.drop(data.index[100]), n_folds=2, test_size=10)
    two_rows = data.iloc[:2].set_axis(pd.DatetimeIndex(data.index[:2], freq=None))
    with pytest.raises(ValueError, match=r"from 2 row\(s\) \(pandas needs 3\): pass freq="):
        NaiveForecaster().fit(two_rows)
    gappy = data.assign(load=data["load"].where(data.index != data.index[100]))
    with pytest.raises(ValueError, match="backtest needs data without missing values"):
        backtest(forecaster, gappy, n_folds=2, test_size=10)
    # A covariate's NaN is named by column and timestamp, not called an actual.
    with_covariate = data.assign(hour=np.where(data.index == data.index[7], np.nan, 1.0))
    with pytest.raises(ValueError, match=f"got 1, the first in column 'hour' at "
                                         f"{data.index[7]}: filling them"):
        backtest(SequenceForecaster(Ridge(), window=6, horizon=3, past_covariates="hour"),
                 with_covariate, n_folds=2, test_size=10)
    for refit in (0, -1, 1.5):
        with pytest.raises(ValueError, match="refit must be True, False or a positive int"):
            backtest(forecaster, data, n_folds=2, test_size=10, refit=refit)


def test_partial_fit_trains_epoch_by_epoch_and_checks_its_input():
    data = _sine(120)
    forecaster = SequenceForecaster(GRURegressor(8, random_state=0), window=6, horizon=3,
                                    target_transform=None)  # a seasonal difference of 0s
    for _ in range(3):
        forecaster.partial_fit(data)
    assert forecaster.regressor_.n_iter_ == 3
    fitted = SequenceForecaster(GRURegressor(8, random_state=0, max_iter=3, shuffle=True),
                                window=6, horizon=3, target_transform=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted.fit(data)
    np.testing.assert_allclose(forecaster.predict(), fitted.predict(), rtol=1e-6)
    with pytest.raises(ValueError, match="has columns"):
        forecaster.partial_fit(data.assign(other=1.0))
    with pytest.raises(TypeError, match="Ridge has no partial_fit"):
        SequenceForecaster(Ridge(), window=6).partial_fit(data)
    assert not hasattr(SequenceForecaster(Ridge(), window=6), "history_")


@pytest.mark.parametrize("max_iter", [None, 3])
def test_partial_fit_after_fit_trains_as_update_with_refit(max_iter):
    """The default recipe fits with early stopping and a cosine rate, which partial_fit
    refuses or has run down: after fit, partial_fit trains one epoch with early stopping off,
    a batch of at most its windows and a constant rate, and restores the settings."""
    data = _sine(200)
    regressor = "gru" if max_iter is None else GRURegressor(
        8, max_iter=max_iter, batch_size=32, learning_rate="cosine", random_state=0)
    forecaster = SequenceForecaster(regressor, window=8, horizon=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster.fit(data.iloc[:150])
    fitted = forecaster.regressor_
    settings = {name: fitted.get_params()[name]
                for name in ("early_stopping", "batch_size", "learning_rate")}
    assert settings["learning_rate"] == "cosine"
    assert settings["early_stopping"] == (max_iter is None)
    if max_iter:
        assert fitted.n_iter_ == max_iter  # the schedule run down to 0
    epochs, before = fitted.n_iter_, fitted._network.params.copy()
    forecaster.partial_fit(data.iloc[140:])  # 27 windows, fewer than the batch of 32
    assert fitted.n_iter_ == epochs + 1 and np.any(fitted._network.params != before)
    assert {name: fitted.get_params()[name] for name in settings} == settings
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        SequenceForecaster(GRURegressor(8, early_stopping=True), window=6).partial_fit(data)


def test_single_output_regressors():
    from sklearn.svm import SVR
    data = _sine(120)
    one_step = SequenceForecaster(SVR(), window=6, horizon=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DataConversionWarning for a 1-column target
        assert one_step.fit(data).predict().shape == (1, 1)
    with pytest.raises(ValueError, match="SVR predicts one output, but the direct strategy "
                                         "needs 3"):
        SequenceForecaster(SVR(), window=6, horizon=3).fit(data)
    assert SequenceForecaster(SVR(), window=6, horizon=3, strategy="recursive").fit(
        data).predict().shape == (3, 1)


@pytest.mark.parametrize("wrapper", ["MultiOutputRegressor", "RegressorChain", "Pipeline",
                                     "GridSearchCV"])
def test_multi_output_regressors_get_a_2d_target_at_horizon_1(wrapper):
    import sklearn.multioutput
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    data = _sine(120)
    if wrapper == "Pipeline":  # whose tags do not pass single_output on
        wrapped = make_pipeline(FunctionTransformer(),
                                sklearn.multioutput.MultiOutputRegressor(Ridge()))
    elif wrapper == "GridSearchCV":
        wrapped = GridSearchCV(sklearn.multioutput.MultiOutputRegressor(Ridge()),
                               {"estimator__alpha": [1.0]}, cv=2)
    else:
        wrapped = getattr(sklearn.multioutput, wrapper)(Ridge())
    forecast = SequenceForecaster(wrapped, window=6, horizon=1).fit(data).predict()
    plain = SequenceForecaster(Ridge(), window=6, horizon=1).fit(data).predict()
    np.testing.assert_allclose(forecast, plain, rtol=1e-12)
    forecaster = SequenceForecaster(
        sklearn.multioutput.MultiOutputRegressor(SGDRegressor(random_state=0)), window=6,
        horizon=1).fit(data.iloc[:80])
    before = forecaster.regressor_.estimators_[0].coef_.copy()
    forecaster.partial_fit(data.iloc[80:])  # trains on a 2-D target too
    assert not np.array_equal(forecaster.regressor_.estimators_[0].coef_, before)
    assert forecaster.predict().shape == (1, 1)


def test_future_covariates_are_used_and_checked():
    data = _sine(300, period=24)
    data["hour"] = data.index.hour.astype(float)
    data["load"] += 3 * (data["hour"] >= 18)  # an evening jump only the calendar tells
    fit, future = data.iloc[:250], data.iloc[250:]
    # Without a target transform: a seasonal difference would learn the daily jump too.
    with_calendar = SequenceForecaster(Ridge(1e-6), window=24, horizon=12, target_transform=None,
                                       future_covariates=["hour"]).fit(fit)
    # The natural future frame: the unknown target is NaN and is not read.
    forecast = with_calendar.predict(future_covariates=future.assign(load=np.nan))
    error = np.abs(forecast["load"] - future["load"].iloc[:12]).max()
    without = SequenceForecaster(Ridge(1e-6), window=24, horizon=12,
                                 target_transform=None).fit(fit[["load"]]).predict()
    assert error < 0.5 * np.abs(without["load"] - future["load"].iloc[:12]).max()
    with pytest.raises(ValueError, match=r"needs future_covariates with the columns \['hour'\] "
                                         r"for the timestamps"):
        with_calendar.predict()
    with pytest.raises(ValueError, match="lacks 2 of the 12 timestamps needed"):
        with_calendar.predict(future_covariates=future[["hour"]].iloc[:10])
    with pytest.raises(ValueError, match=r"lacks the columns \['hour'\]"):
        with_calendar.predict(future_covariates=future[["load"]])
    with pytest.raises(ValueError, match="the forecaster has none"):
        SequenceForecaster(Ridge(), window=24).fit(fit[["load"]]).predict(
            future_covariates=future[["hour"]])


def test_recursive_strategy_refuses_past_covariates():
    data = _sine().assign(other=1.0)
    with pytest.raises(ValueError, match="cannot use past covariates"):
        SequenceForecaster(Ridge(), window=4, strategy="recursive",
                           past_covariates=["other"]).fit(data)


def test_several_series_train_one_global_model():
    series = {"a": _sine(120), "b": _sine(120, period=12.0) * 2, "c": _sine(80) + 5}
    forecaster = SequenceForecaster(Ridge(1e-8), window=6, horizon=4).fit(series)
    forecast = forecaster.predict()
    assert forecast.index.names == ["series", "time"]
    assert forecast.groupby(level="series").size().to_dict() == {"a": 4, "b": 4, "c": 4}
    # One model: the same fitted regressor serves every series (all are this recurrence).
    for name, data in series.items():
        single = SequenceForecaster(Ridge(1e-8), window=6, horizon=4).fit(data).predict()
        np.testing.assert_allclose(forecast.loc[name]["load"], single["load"], rtol=1e-4)
    with pytest.raises(ValueError, match="has columns"):
        SequenceForecaster(Ridge(), window=4).fit({"a": _sine(), "b": _sine().rename(
            columns={"load": "other"})})


def test_score_is_the_negative_mae_over_the_following_block():
    data = _sine(200) + np.random.RandomState(0).randn(200, 1) * 0.1
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=3, target_transform=None)
    forecaster.fit(data.iloc[:150])
    errors = []
    for end in range(150, 198):  # origins: the last fitted row to the last with 3 targets
        f = SequenceForecaster(Ridge(), window=6, horizon=3, target_transform=None)
        f.regressor_, f.windower_ = forecaster.regressor_, forecaster.windower_
        f.input_scaler_, f.target_scaler_ = forecaster.input_scaler_, forecaster.target_scaler_
        f.channels_, f.targets_ = forecaster.channels_, forecaster.targets_
        f.lookback_, f.freq_, f._names = forecaster.lookback_, forecaster.freq_, None
        f.calendar_ = forecaster.calendar_
        f.history_ = {None: data.iloc[end - 6:end]}
        errors.append(np.abs(f.predict()["load"].to_numpy() - data["load"].iloc[end:end + 3]))
    assert forecaster.score(data.iloc[150:]) == pytest.approx(-np.mean(errors), rel=1e-9)
    with pytest.raises(ValueError, match="must start right after the fitted series"):
        forecaster.score(data.iloc[151:])
    # A block in another time zone is refused as update refuses it, not crashed on.
    utc = data.tz_localize("UTC")
    zoned = SequenceForecaster(Ridge(), window=6, horizon=3, target_transform=None)
    zoned.fit(utc.iloc[:150])
    assert zoned.score(utc.iloc[150:]) == forecaster.score(data.iloc[150:])
    with pytest.raises(ValueError, match=r"data is in the time zone Europe/Paris, the series "
                                         r"in UTC: convert it first, e.g. "
                                         r"data.tz_convert\('UTC'\)"):
        zoned.score(utc.iloc[150:].tz_convert("Europe/Paris"))
    with pytest.raises(ValueError, match="time zone None, the series in UTC: both need a time "
                                         "zone, or neither"):
        zoned.score(data.iloc[150:])


def test_grid_search_with_time_series_split_on_a_dataframe():
    data = _sine(240, period=24) + np.random.RandomState(1).randn(240, 1) * 0.05
    search = GridSearchCV(SequenceForecaster(Ridge(1e-3), window=4, horizon=6),
                          {"window": [4, 30]}, cv=TimeSeriesSplit(n_splits=3, test_size=24))
    search.fit(data)
    assert search.best_params_ == {"window": 30}  # a window that sees a whole period
    assert search.best_score_ > search.cv_results_["mean_test_score"].min()


def test_backtest_rmse_stays_finite_where_the_squared_errors_overflow():
    """Errors near 1e200 square beyond float64: RMSE is then computed from the errors scaled
    by the largest, 1e200 times that of the same series at unit scale (scikit-learn's
    overflowed to inf with a RuntimeWarning); at ordinary scales it is scikit-learn's."""
    rng = np.random.RandomState(0)
    data = _sine(300, period=24) + rng.randn(300, 1) * 0.2
    results = {}
    for scale in (1.0, 1e200):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            results[scale] = backtest(SequenceForecaster(Ridge(), window=24, horizon=4),
                                      data * scale, n_folds=3, test_size=30).by_fold
    np.testing.assert_allclose(results[1e200]["RMSE"], 1e200 * results[1.0]["RMSE"], rtol=1e-9)
    np.testing.assert_allclose(results[1e200]["MAE"], 1e200 * results[1.0]["MAE"], rtol=1e-9)
    folds = backtest(SequenceForecaster(Ridge(), window=24, horizon=4), data, n_folds=3,
                     test_size=30).predictions
    fold = folds[folds["fold"] == 0]  # its rows in the order the metrics read them
    assert results[1.0]["RMSE"][0] == root_mean_squared_error(fold["actual"], fold["predicted"])


def test_backtest_metrics_near_the_ends_of_float64():
    """Sums and squares that would overflow near 1e307 or lose digits near 1e-170: MAE,
    RMSE and MASE (whose seasonal-naive scale sums differences) are those of the unit-scale
    series times the scale, without a RuntimeWarning; RMSE where scikit-learn's squares
    overflow, and the forecaster's score (a grid search's), too."""
    from seqforecast.metrics import average_error

    rng = np.random.RandomState(0)
    data = _sine(300, period=24) + 3 + rng.randn(300, 1) * 0.2
    unit = backtest(SequenceForecaster(Ridge(), window=24, horizon=4), data, n_folds=2,
                    test_size=30, season=24).by_fold
    for scale in (1e307 / 5, 1e-170):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            got = backtest(SequenceForecaster(Ridge(), window=24, horizon=4), data * scale,
                           n_folds=2, test_size=30, season=24).by_fold
        for metric in ("MAE", "RMSE"):
            np.testing.assert_allclose(got[metric], scale * unit[metric], rtol=1e-6)
        np.testing.assert_allclose(got["MASE"], unit["MASE"], rtol=1e-6)
    edge = math.sqrt(np.finfo(float).max / 3)
    scale = np.finfo(float).max / (1.2 * np.abs(data.to_numpy()).max())  # errors sum past it
    unit_score = SequenceForecaster(Ridge(), window=24, horizon=4).fit(data.iloc[:240]).score(
        data.iloc[240:])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert math.isclose(average_error(np.zeros(3), np.full(3, edge), squared=True), edge,
                            rel_tol=1e-15)
        score = SequenceForecaster(Ridge(), window=24, horizon=4).fit(
            data.iloc[:240] * scale).score(data.iloc[240:] * scale)  # what a grid search reads
    assert math.isclose(score, scale * unit_score, rel_tol=1e-6)


def test_backtest_folds_steps_and_conformal_intervals():
    rng = np.random.RandomState(0)
    data = _sine(400, period=24) + rng.randn(400, 1) * 0.2
    forecaster = SequenceForecaster(Ridge(), window=24, horizon=4)
    result = backtest(forecaster, data, n_folds=4, test_size=40)
    assert list(result.by_fold.index) == [0, 1, 2, 3]
    assert list(result.by_step.index) == [1, 2, 3, 4]
    assert list(result.by_fold.columns) == ["MAE", "RMSE", "MAPE", "MASE"]
    # Each fold forecasts from its 37 origins (the last fitted row + 36 in the block), 4 steps.
    assert len(result.predictions) == 4 * 37 * 4
    first = result.predictions[result.predictions["fold"] == 0]
    fitted = SequenceForecaster(Ridge(), window=24, horizon=4).fit(data.iloc[:240])
    assert fitted.score(data.iloc[240:280]) == pytest.approx(-result.by_fold.loc[0, "MAE"])
    assert first["origin"].iloc[0] == data.index[239]
    step = result.predictions[result.predictions["step"] == 2]
    assert result.by_step.loc[2, "MAE"] == pytest.approx(step["error"].abs().mean())
    # Conformal half-width: the ceil((n + 1) 0.9) / n quantile of the absolute errors.
    widths = result.interval_half_widths(0.9)
    sizes = np.sort(step["error"].abs().to_numpy())
    assert widths.loc[2, "load"] == sizes[int(np.ceil((len(sizes) + 1) * 0.9)) - 1]
    forecast = forecaster.fit(data).predict()
    lower, upper = result.prediction_intervals(forecast, coverage=0.9)
    np.testing.assert_allclose(upper["load"] - forecast["load"], widths["load"].to_numpy())
    assert (lower["load"] < forecast["load"]).all()
    # Coverage on fresh data from the same process: close to the promised 90%.
    fresh = _sine(1400, period=24) + rng.randn(1400, 1) * 0.2
    fresh_result = backtest(forecaster, fresh, n_folds=1, test_size=1000)
    inside = (fresh_result.predictions["error"].abs().to_numpy()
              <= np.repeat(widths["load"].to_numpy()[None], 997, axis=0).ravel())
    assert 0.85 < inside.mean() < 0.95
    assert list(forecaster.forecast_index()) == list(forecast.index)
    with pytest.raises(ValueError, match="needs at least 19 backtest errors per step"):
        backtest(forecaster, data, n_folds=1, test_size=10).interval_half_widths(0.95)


def test_mape_is_undefined_at_zero_and_naive_needs_named_targets():
    data = pd.DataFrame({"y": np.tile([0.0, 1, 2, 3], 50), "x": 1.0},
                        index=pd.date_range("2020-01-01", periods=200, name="time"))
    result = backtest(NaiveForecaster(horizon=2, targets=["y"]), data, n_folds=2)
    assert result.by_fold["MAPE"].isna().all() and (result.by_fold["MAE"] > 0).all()
    assert set(result.predictions["target"]) == {"y"}
    with pytest.raises(ValueError, match="name the ones to forecast"):
        NaiveForecaster().fit(data)


def test_compare_backtests_each_forecaster_on_the_same_folds():
    data = _sine(200) + np.random.RandomState(0).randn(200, 1) * 0.1
    forecasters = {"ridge": SequenceForecaster(Ridge(), window=6, horizon=2),
                   "last value": NaiveForecaster(horizon=2)}
    table, results = compare(forecasters, data, n_folds=3, test_size=20)
    assert list(table.index) == ["ridge", "last value"]
    assert list(table.columns) == ["MAE", "RMSE", "MAPE", "MASE", "seconds"]
    alone = backtest(forecasters["ridge"], data, n_folds=3, test_size=20)
    assert table.loc["ridge", "MAE"] == pytest.approx(alone.by_fold["MAE"].mean())
    assert table.loc["ridge", "MAE"] < table.loc["last value", "MAE"]
    assert set(results) == {"ridge", "last value"}


def test_a_backtest_whose_first_fold_is_too_short_says_so_in_its_terms():
    data = _sine(144, freq="MS")
    with pytest.raises(ValueError, match=r"the first fold trains on the 4 rows before its test "
                                         r"blocks \(10 folds of 14 rows, of 144\): the series "
                                         r"has 4 rows, but window=12.*use fewer folds"):
        backtest(SequenceForecaster(Ridge(), window=12, horizon=3), data, n_folds=10,
                 test_size=14)
    with pytest.raises(ValueError, match=r"the first fold trains on the 4 rows.*fewer than "
                                         r"season=12"):
        backtest(NaiveForecaster(season=12, horizon=3), data, n_folds=10, test_size=14)


def test_backtest_refit_options():
    data = _sine(200) + np.random.RandomState(0).randn(200, 1) * 0.1
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=2)
    always = backtest(forecaster, data, n_folds=3, test_size=20)
    once = backtest(forecaster, data, n_folds=3, test_size=20, refit=False)
    assert always.by_fold.loc[0, "MAE"] == once.by_fold.loc[0, "MAE"]
    assert always.by_fold.loc[2, "MAE"] != once.by_fold.loc[2, "MAE"]
    every_two = backtest(forecaster, data, n_folds=3, test_size=20, refit=2)
    assert every_two.by_fold.loc[1, "MAE"] == once.by_fold.loc[1, "MAE"]
    assert every_two.by_fold.loc[2, "MAE"] == always.by_fold.loc[2, "MAE"]


def test_naive_forecasters():
    data = load_airline_passengers()
    last = NaiveForecaster().fit(data.iloc[:-12])
    assert (last.predict(12)["passengers"] == data["passengers"].iloc[-13]).all()
    seasonal = NaiveForecaster(season=12).fit(data.iloc[:-12]).predict(15)
    np.testing.assert_array_equal(seasonal["passengers"].iloc[:12],
                                  data["passengers"].iloc[-24:-12])
    np.testing.assert_array_equal(seasonal["passengers"].iloc[12:],
                                  data["passengers"].iloc[-24:-21])
    # MASE: the error over the in-sample MAE of the seasonal naive forecast (season 12).
    result = backtest(NaiveForecaster(horizon=1), data, n_folds=2, test_size=12, season=12)
    train = data["passengers"].to_numpy()[:-24]
    scale = np.mean(np.abs(train[12:] - train[:-12]))
    fold = result.predictions[result.predictions["fold"] == 0]
    assert result.by_fold.loc[0, "MASE"] == pytest.approx(fold["error"].abs().mean() / scale)
    with pytest.raises(ValueError, match="targets is empty"):
        NaiveForecaster(targets=[]).fit(data)


def test_recurrent_forecasters_beat_the_baselines_on_airline_passengers():
    data = load_airline_passengers()
    fit, test = data.iloc[:-12], data["passengers"].iloc[-12:].to_numpy()

    def mae(forecaster):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            forecast = forecaster.fit(fit).predict(12)["passengers"].to_numpy()
        return np.mean(np.abs(forecast - test))

    settings = dict(learning_rate_init=3e-3, batch_size=16, max_iter=200, early_stopping=True,
                    validation_fraction=0.2, n_iter_no_change=20, random_state=0)
    lstm = mae(SequenceForecaster(LSTMRegressor(32, **settings), window=24, horizon=12,
                                  target_transform="log_return"))
    gru = mae(SequenceForecaster(GRURegressor(32, **settings), window=24, horizon=12,
                                 strategy="recursive", target_transform="log_return"))
    seasonal = mae(NaiveForecaster(season=12, horizon=12))
    assert lstm < 0.7 * seasonal and gru < 0.7 * seasonal, (lstm, gru, seasonal)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.iloc[::-1], "not sorted by time"),
    (lambda d: pd.concat([d.iloc[:5], d.iloc[4:]]), "duplicate timestamps"),
    (lambda d: d.assign(load=d["load"].where(d.index != d.index[7])), "missing values"),
    (lambda d: d.drop(d.index[10]), "cannot infer the frequency"),
    (lambda d: d.iloc[:8], "the series has 8 rows, but window=6"),
    (lambda d: d.assign(kind="x"), "non-numeric columns"),
    (lambda d: d.reset_index(drop=True), "DatetimeIndex or TimedeltaIndex"),
])
def test_bad_series_get_clear_errors(change, message):
    with pytest.raises((ValueError, TypeError), match=message):
        SequenceForecaster(Ridge(), window=6, horizon=3).fit(change(_sine(60)))


@pytest.mark.parametrize("index, advice", [
    (pd.period_range("2020-01", periods=60, freq="M"), "got PeriodIndex: convert it with "
                                                      "data.to_timestamp()"),
    (pd.RangeIndex(60), "got RangeIndex: a RangeIndex numbers the rows; give them their times, "
                        "e.g. data.index = pd.date_range(start, periods=len(data), freq='D')"),
    (pd.Index(np.arange(1900, 1960)), "got Index of int64: for years, data.index = "
                                      "pd.to_datetime(data.index.astype(str), format='%Y'); "
                                      "for counts"),
    (pd.Index(np.arange(1900.0, 1960.0)), "pd.to_datetime(data.index.astype(int).astype(str), "
                                          "format='%Y')"),
    (pd.CategoricalIndex(np.arange(60)), "give data the times of its rows as its index"),
    (pd.Index(pd.date_range("2020-01-01", periods=60).strftime("%Y-%m-%d")),
     "parse the times with data.index = pd.to_datetime(data.index)"),  # Index of str or object
])
def test_an_index_without_times_gets_the_conversion_it_needs(index, advice):
    data = _sine(60).set_axis(index)
    with pytest.raises(TypeError) as raised:
        SequenceForecaster(Ridge(), window=6, horizon=3).fit(data)
    assert advice in str(raised.value)
    with pytest.raises(TypeError, match=re.escape(advice.replace("data", "frame"))):
        SequenceForecaster(Ridge(), window=6, horizon=3).fit({"a": data})  # code for a frame


def test_bad_options():
    data = _sine(60)
    with pytest.raises(ValueError, match=r"targets names unknown columns \['price'\]"):
        SequenceForecaster(Ridge(), window=6, targets=["price"]).fit(data)
    with pytest.raises(ValueError, match="strategy must be"):
        SequenceForecaster(Ridge(), window=6, strategy="multi").fit(data)
    with pytest.raises(ValueError, match="not regular at frequency 2h"):
        SequenceForecaster(Ridge(), window=6, freq="2h").fit(data)
    forecaster = SequenceForecaster(Ridge(), window=6).fit(data)
    with pytest.raises(ValueError, match="horizon must be an int >= 1, got 0"):
        forecaster.predict(0)
    filled = data.assign(load=data["load"].where(data.index != data.index[7]))
    interpolated = SequenceForecaster(Ridge(), window=6, missing="interpolate").fit(filled)
    assert np.isfinite(interpolated.predict()["load"]).all()


def _seasonal(n=240, season=12, freq="MS"):
    """A seasonal pattern on a straight line: its seasonal difference is constant."""
    t = np.arange(n)
    pattern = np.sin(2 * np.pi * t / season) + 0.3 * (t % season == 3)
    index = pd.date_range("2000-01-01", periods=n, freq=freq, name="time")
    return pd.DataFrame({"sales": 50 + 0.2 * t + 5 * pattern}, index=index)


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_seasonal_difference_forecasts_a_seasonal_trend_exactly(strategy):
    """Seasonal differences of trend + season are constant: a constant model is exact."""
    from sklearn.dummy import DummyRegressor

    data = _seasonal()
    forecaster = SequenceForecaster(DummyRegressor(), window=4, horizon=18, strategy=strategy,
                                    target_transform="seasonal_diff", season=12, scale=False)
    forecast = forecaster.fit(data.iloc[:200]).predict()
    np.testing.assert_allclose(forecast["sales"], data["sales"].iloc[200:218], rtol=1e-12)
    assert forecaster.lookback_ == 16


@pytest.mark.parametrize("norm", ["standard", "last"])
def test_window_norm_maps_forecasts_back_exactly(norm):
    """A model that predicts 0 on the normalised scale forecasts each window's own level."""
    from sklearn.dummy import DummyRegressor

    data = _seasonal()
    data["sales"] += np.repeat([0.0, 1000.0], 120)  # a level shift
    forecaster = SequenceForecaster(DummyRegressor(strategy="constant", constant=np.zeros(3)),
                                    window=6, horizon=3, window_norm=norm, scale=False,
                                    target_transform=None)
    forecast = forecaster.fit(data.iloc[:200]).predict()
    window = data["sales"].iloc[194:200].to_numpy()
    level = window.mean() if norm == "standard" else window[-1]
    np.testing.assert_allclose(forecast["sales"], level, rtol=1e-12)
    # On the normalised scale the targets of a window are (y - shift) / spread.
    X, Y = forecaster._training_windows({None: data.iloc[:200]})  # flat lag vectors
    raw = data["sales"].to_numpy()
    first = raw[:6]
    shift = first.mean() if norm == "standard" else first[-1]
    spread = first.std() if norm == "standard" else 1.0
    np.testing.assert_allclose(X[0], (first - shift) / spread, rtol=1e-12)
    np.testing.assert_allclose(Y[0], (raw[6:9] - shift) / spread, rtol=1e-12)


def test_window_norm_serves_series_of_different_scales_with_one_model():
    """A global linear model on 'standard' windows: the same shape at scales 1 and 1000."""
    base = _sine(300, period=24.0)
    frames = {"small": base, "large": base * 1000 + 5e4}
    forecaster = SequenceForecaster(LinearRegression(), window=24, horizon=6,
                                    window_norm="standard").fit(frames)
    forecast = forecaster.predict()
    small = forecast.loc["small", "load"].to_numpy()
    large = forecast.loc["large", "load"].to_numpy()
    np.testing.assert_allclose(large, small * 1000 + 5e4, rtol=1e-6)


def test_cell_names_build_the_default_recipe_sized_to_the_data():
    from seqforecast import default_regressor

    data = _sine(300)
    forecaster = SequenceForecaster("gru", window=24, horizon=6, random_state=3).fit(data)
    regressor = forecaster.regressor_
    assert isinstance(regressor, GRURegressor)
    n_windows = 300 - 24 - 6 + 1
    expected = default_regressor("gru", 24, n_windows, random_state=3).get_params()
    assert regressor.get_params() == expected
    assert expected["ar_window"] == 24 and expected["learning_rate"] == "cosine"
    assert expected["ar_alpha"] == "auto"
    # About 1000 optimizer steps whatever the length: epochs x batches per epoch.
    for n in (40, 300, 5000):
        params = default_regressor("lstm", 24, n).get_params()
        n_train = n - int(np.ceil(0.2 * n))
        batches = int(np.ceil(n_train / params["batch_size"]))
        assert 1000 <= params["max_iter"] * batches < 1000 + batches
    assert not default_regressor("lstm", 4, 5).early_stopping  # too few windows to hold out
    with pytest.raises(ValueError, match="regressor must be an estimator or one of"):
        SequenceForecaster("transformer").fit(data)
    with pytest.raises(ValueError, match="cell must be one of"):
        default_regressor("cnn")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_default_recipe_follows_a_level_shift_in_the_newest_windows(cell):
    """The README's case: a weekly cycle at level 10 that steps to 40 at row 160 of 200.  A
    penalty judged on the newest, held-out windows (the shift in all of them) took the
    largest candidate there and forecast 21; the evidence, read on the training windows,
    whose weekly cycle calls for a small penalty, keeps the forecast at the new level."""
    rng = np.random.default_rng(0)
    values = 10 + np.tile([0, 1, 2, 3, 2, 1, 0], 30)[:200] + rng.normal(0, 0.3, 200)
    values[160:] += 30
    data = pd.DataFrame({"y": values}, index=pd.date_range("2021-01-01", periods=200, freq="D"))
    forecaster = SequenceForecaster(cell, window=14, horizon=3, target_transform=None,
                                    random_state=0).fit(data)
    assert forecaster.regressor_.ar_alpha_ <= 10
    expected = 40 + np.tile([0, 1, 2, 3, 2, 1, 0], 30)[200:203]
    np.testing.assert_allclose(forecaster.predict()["y"], expected, atol=2.5)


def test_the_forecaster_turns_the_autoregressive_path_on():
    data = _sine(120)
    lstm = LSTMRegressor(hidden_sizes=3, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on = SequenceForecaster(lstm, window=8, horizon=2).fit(data)
        own = SequenceForecaster(lstm.set_params(ar_window=3), window=8, horizon=2).fit(data)
        off = SequenceForecaster(lstm, window=8, horizon=2, ar_window=None).fit(data)
    assert on.regressor_.ar_window == 8 and own.regressor_.ar_window == 3
    assert off.regressor_.ar_window == 3  # None: the regressor as it was given
    assert lstm.ar_window == 3  # the given regressor itself is never changed
    with pytest.raises(ValueError, match="ar_window must be 'auto', a positive int or None"):
        SequenceForecaster(lstm, window=8, ar_window=0).fit(data)
    with pytest.raises(ValueError, match="window_norm must be None, 'standard' or 'last'"):
        SequenceForecaster(lstm, window=8, window_norm="revin").fit(data)


def test_default_forecaster_beats_seasonal_naive_and_matches_ridge_on_airline():
    """The README's main job in small: log returns, 12 months ahead, 2 folds."""
    data = load_airline_passengers()
    options = dict(window=24, horizon=12, target_transform="log_return")
    table, _ = compare({"lstm": SequenceForecaster("lstm", random_state=0, **options),
                        "ridge": SequenceForecaster(Ridge(), **options),
                        "naive": NaiveForecaster(12, horizon=12)},
                       data, n_folds=2, test_size=24, season=12)
    assert table.loc["lstm", "MASE"] < 0.8 * table.loc["naive", "MASE"]
    assert table.loc["lstm", "MASE"] < 1.05 * table.loc["ridge", "MASE"]


def test_int_options_are_checked_at_every_boundary():
    data = _sine(120)
    ridge = SequenceForecaster(Ridge(), window=6, horizon=2)
    for season, shown in ((-1, "-1"), (0, "0"), (1.5, "1.5"), ("12", r"'12' \(a str\)")):
        with pytest.raises(ValueError, match=f"season must be an int >= 1, got {shown}$"):
            backtest(ridge, data, n_folds=2, season=season)
        with pytest.raises(ValueError, match=f"season must be an int >= 1, got {shown}$"):
            compare({"ridge": ridge}, data, n_folds=2, season=season)
    for n_folds in (0, 2.0):
        with pytest.raises(ValueError, match=f"n_folds must be an int >= 1, got {n_folds}"):
            backtest(ridge, data, n_folds=n_folds)
    with pytest.raises(ValueError, match=r"test_size must be an int >= horizon \(2\), got 1"):
        backtest(ridge, data, n_folds=2, test_size=1)
    bad = [(SequenceForecaster(Ridge(), window=0), "window must be an int >= 1, got 0"),
           (SequenceForecaster(Ridge(), window=6, horizon=1.5), "horizon must be an int >= 1, "
                                                                "got 1.5"),
           (SequenceForecaster(Ridge(), window=6, strategy="recursive", horizon=0),
            "horizon must be an int >= 1, got 0"),  # the windows have horizon 1 whatever it is
           (SequenceForecaster(Ridge(), window=6, stride=0), "stride must be an int >= 1"),
           (NaiveForecaster(season=0), "season must be an int >= 1, got 0"),
           (NaiveForecaster(horizon=-1), "horizon must be an int >= 1, got -1")]
    for forecaster, message in bad:
        with pytest.raises(ValueError, match=message):
            forecaster.fit(data)
        with pytest.raises(ValueError, match=message):
            backtest(forecaster, data, n_folds=2)
        with pytest.raises(ValueError, match=message):  # before the good one is backtested
            compare({"good": ridge, "bad": forecaster}, data, n_folds=2)
    with pytest.raises(ValueError, match="horizon must be an int >= 1, got 0"):
        SequenceForecaster(GRURegressor(4), window=6, horizon=0).partial_fit(data)
    # numpy ints are ints; season 2 scales MASE by the naive forecast two steps back.
    result = backtest(ridge.set_params(window=np.int64(6)), data, n_folds=np.int64(2),
                      test_size=np.int32(20), season=np.int64(2))
    train = data["load"].to_numpy()[:80]
    fold = result.predictions[result.predictions["fold"] == 0]
    expected = fold["error"].abs().mean() / np.mean(np.abs(train[2:] - train[:-2]))
    assert result.by_fold.loc[0, "MASE"] == pytest.approx(expected)


@pytest.mark.parametrize("factor", [1e-300, 1e200])
@pytest.mark.parametrize("regressor, window_norm, rtol", [
    (Ridge(), None, 1e-9),
    (Ridge(), "standard", 1e-9),
    (LSTMRegressor(hidden_sizes=3, max_iter=2, random_state=0), None, 1e-5),  # float32
])
def test_extreme_magnitudes_forecast_on_the_right_scale(factor, regressor, window_norm, rtol):
    """1e-300 forecast the mean (the scaler's variance vanished), 1e200 gave 'contains NaN'."""
    data = _sine(120)

    def forecast(values):
        forecaster = SequenceForecaster(regressor, window=6, horizon=3, window_norm=window_norm,
                                        target_transform=None)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way
            warnings.simplefilter("ignore", ConvergenceWarning)
            forecaster.fit(values)
        return forecaster, forecaster.predict()["load"].to_numpy()

    unit, expected = forecast(data)
    scaled, got = forecast(data * factor)
    np.testing.assert_allclose(got / factor, expected, rtol=rtol)
    # The regressor saw the same unit-scale windows and targets at both magnitudes.
    seen = [f._scaled(*f._training_windows({None: d})) for f, d in ((unit, data),
                                                                    (scaled, data * factor))]
    for at_one, at_factor in zip(*seen):
        assert np.abs(at_one).max() < 10
        np.testing.assert_allclose(at_factor, at_one, rtol=1e-9, atol=1e-9)


def test_forecasts_have_a_documented_step_limit(monkeypatch):
    """Recursive predict(10**5) ran on silently, and 10**9 asked for 7.45 GiB."""
    from seqforecast import forecasting

    data = _sine(120)
    recursive = SequenceForecaster(Ridge(), window=6, strategy="recursive").fit(data)
    naive = NaiveForecaster(season=12).fit(data)
    for forecaster in (recursive, naive):
        for steps in (10_001, 10 ** 9):
            with pytest.raises(ValueError, match=rf"predicts at most 10000 steps \(seqforecast\."
                                                 rf"forecasting\.MAX_STEPS: .*\); got {steps}"):
                forecaster.predict(steps)
    assert forecasting.MAX_STEPS == 10_000
    monkeypatch.setattr(forecasting, "MAX_STEPS", 30)  # raise or lower it
    assert recursive.predict(30).shape == (30, 1)
    with pytest.raises(ValueError, match="at most 30 steps"):
        recursive.predict(31)
    with pytest.raises(ValueError, match="at most 30 steps .*; got 40"):
        SequenceForecaster(Ridge(), window=6, horizon=40, strategy="recursive").fit(data)


def test_complex_columns_are_refused_by_the_forecasters():
    data = _sine(120)
    data["hour"] = data.index.hour.astype(float)
    complex_load = data.assign(load=data["load"] + 0j)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before numpy drops the imaginary part
        for forecaster in (SequenceForecaster(Ridge(), window=6, future_covariates=["hour"]),
                           NaiveForecaster(targets=["load"])):
            with pytest.raises(TypeError, match=r"data has complex columns \['load'\]: "
                                                r"forecasting needs real numbers"):
                forecaster.fit(complex_load)
        with pytest.raises(TypeError, match=r"series 'b' has complex columns \['load'\]"):
            SequenceForecaster(Ridge(), window=6, future_covariates=["hour"]).fit(
                {"a": data, "b": complex_load})
        fitted = SequenceForecaster(Ridge(), window=6, future_covariates=["hour"]).fit(data)
        future = data.iloc[:1].set_axis(fitted.forecast_index()).assign(hour=1j)
        with pytest.raises(TypeError, match=r"future_covariates has complex columns \['hour'\]"):
            fitted.predict(future_covariates=future)
        with pytest.raises(TypeError, match=r"data has complex columns \['load'\]"):
            backtest(NaiveForecaster(targets=["load"]), complex_load, n_folds=2)


def test_compare_and_backtest_say_what_to_pass():
    data = _sine(120)
    ridge = SequenceForecaster(Ridge(), window=6)
    with pytest.raises(TypeError, match=r"forecasters\['ridge'\] must be a SequenceForecaster or "
                                        r"NaiveForecaster, got a Ridge: wrap a regressor as "
                                        r"SequenceForecaster\(Ridge\(\), window=\.\.\."):
        compare({"ridge": Ridge()}, data)
    with pytest.raises(TypeError, match=r"forecasters\['naive'\] is the class NaiveForecaster: "
                                        r"pass an instance"):
        compare({"ridge": ridge, "naive": NaiveForecaster}, data)
    with pytest.raises(TypeError, match="forecasters must be a dict of name to forecaster, e.g. "
                                        r".*got a list"):
        compare([ridge], data)
    with pytest.raises(ValueError, match="forecasters is empty"):
        compare({}, data)
    with pytest.raises(ValueError, match=r"the forecasters forecast different horizons, "
                                         r"\{'h1': 1, 'h3': 3\}: their mean metrics would "
                                         r"average different steps"):
        compare({"h1": NaiveForecaster(horizon=1), "h3": NaiveForecaster(horizon=3)}, data)
    with pytest.raises(TypeError, match="unexpected keyword argument 'folds'"):
        compare({"ridge": ridge}, data, folds=2)
    with pytest.raises(TypeError, match=r"forecaster must be a SequenceForecaster or "
                                        r"NaiveForecaster, got a Ridge: wrap"):
        backtest(Ridge(), data)
    with pytest.raises(TypeError, match="forecaster must be .*, got 'ridge' \\(a str\\)$"):
        backtest("ridge", data)
    with pytest.raises(TypeError, match="backtest scores one series, got a dict"):
        backtest(ridge, {"a": data, "b": data})
    with pytest.raises(TypeError, match="data must be a pandas Series or DataFrame"):
        backtest(ridge, data.to_numpy())
    with pytest.raises(ValueError, match="refit must be True, False or a positive int, got "
                                         r"'yes' \(a str\)"):
        backtest(ridge, data, refit="yes")


def test_prediction_intervals_name_the_columns_they_need():
    data = _sine(200) + np.random.RandomState(0).randn(200, 1) * 0.1
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=3)
    result = backtest(forecaster, data, n_folds=2, test_size=40)
    forecast = forecaster.fit(data).predict()
    with pytest.raises(ValueError, match=r"forecast has the columns \['demand'\], but the "
                                         r"backtest forecast \['load'\]: \['demand'\] have no "
                                         r"backtest errors"):
        result.prediction_intervals(forecast.rename(columns={"load": "demand"}))
    with pytest.raises(TypeError, match=r"forecast must be a DataFrame, as forecaster\.predict\(\) "
                                        r"returns, got a Series: pass forecast\.to_frame\(\)"):
        result.prediction_intervals(forecast["load"])
    with pytest.raises(ValueError, match="holds several series"):
        result.prediction_intervals(pd.concat({"a": forecast, "b": forecast}))
    for coverage, shown in ((90, "90"), ("90%", r"'90%' \(a str\)")):
        with pytest.raises(ValueError, match=rf"coverage must be a number in \(0, 1\), got "
                                             rf"{shown}"):
            result.prediction_intervals(forecast, coverage=coverage)
    lower, upper = result.prediction_intervals(forecast)
    assert (lower["load"] < forecast["load"]).all() and (forecast["load"] < upper["load"]).all()


@pytest.mark.parametrize("option, value", [
    ("strategy", ["direct"]), ("window_norm", np.array(["last", "standard"])),
    ("ar_window", np.array([1, 2])), ("missing", np.array(["error", "interpolate"])),
])
def test_an_option_given_as_a_list_or_array_is_refused_by_name(option, value):
    """A choice is one value: a list or an array of them is refused with the option's name
    (an array used to give numpy's 'truth value of an array is ambiguous')."""
    with pytest.raises(ValueError, match=f"^{option} must be"):
        SequenceForecaster(Ridge(), window=3, **{option: value}).fit(_sine(50))


def _auto_cases(n=600):
    rng = np.random.RandomState(0)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    day = np.tile(rng.randn(24) * 5, n // 24)
    return index, {
        # The same day again and again on a level that wanders: one season back forecasts.
        "seasonal_diff": day + np.cumsum(0.3 * rng.randn(n)),
        # A random walk that drifts out of its training range: the last value is the forecast.
        "diff": np.cumsum(1 + rng.randn(n)),
        # Noise around a fixed mean: the mean is the forecast.
        None: rng.randn(n)}


def test_auto_target_transform_is_the_one_whose_ridge_forecasts_the_hold_out_best():
    index, cases = _auto_cases()
    for expected, values in cases.items():
        data = pd.DataFrame({"y": values}, index=index)
        auto = SequenceForecaster(Ridge(), window=12, horizon=6).fit(data)
        assert auto.target_transform_ == expected
        assert auto.season_ == (24 if expected == "seasonal_diff" else None)  # hourly: a day
        assert list(auto.transform_errors_) == [None, "diff", "seasonal_diff"]
        assert auto.transform_errors_[expected] == min(auto.transform_errors_.values())
        # Each error: Ridge with that transform fitted on the first 80% of the rows,
        # scored on forecasts from every origin in the last 20%, relative to the variance.
        named = SequenceForecaster(Ridge(), window=12, horizon=6, target_transform=expected,
                                   season=auto.season_)
        actual, predicted, _ = named.fit(data.iloc[:480]).forecast_block(data.iloc[480:])
        assert auto.transform_errors_[expected] == pytest.approx(
            np.mean((predicted - actual) ** 2) / np.var(values[:480]), rel=1e-12)
        # The fit is the fit with the chosen transform named.
        pd.testing.assert_frame_equal(auto.predict(), named.fit(data).predict())


def test_auto_target_transform_candidates_season_and_short_series():
    index, cases = _auto_cases()
    data = pd.DataFrame({"y": cases["seasonal_diff"]}, index=index)
    # An explicit season is the candidate's season; a transform named is not chosen.
    auto = SequenceForecaster(Ridge(), window=12, horizon=6, season=12).fit(data)
    assert auto.season_ in (None, 12)
    named = SequenceForecaster(Ridge(), window=12, horizon=6, target_transform="diff").fit(data)
    assert (named.target_transform_, named.transform_errors_) == ("diff", {})
    # Yearly data has no season to difference: two candidates.
    yearly = data.set_axis(pd.date_range("1500", periods=len(data), freq="YS", name="time",
                                         unit="s"))  # 600 years: past the range of ns
    assert list(SequenceForecaster(Ridge(), window=12, horizon=6).fit(yearly)
                .transform_errors_) == [None, "diff"]
    # Too few rows for a seasonal candidate's windows: it is skipped (inf), the fit goes on.
    short = SequenceForecaster(Ridge(), window=4, horizon=2).fit(data.iloc[:30])
    assert short.transform_errors_["seasonal_diff"] == np.inf
    assert np.isfinite(short.transform_errors_[None])
    # A global model chooses one transform for all its series, each scored relative to
    # its own variance: with per-window normalisation, a copy at another scale and level
    # changes no error.
    glob = SequenceForecaster(Ridge(), window=12, horizon=6, window_norm="standard")
    scaled = clone(glob).fit({"a": data, "b": data * 1e3 + 7})
    glob.fit({"a": data, "b": data})
    assert glob.target_transform_ == scaled.target_transform_ == "seasonal_diff"
    assert scaled.transform_errors_ == pytest.approx(glob.transform_errors_, rel=1e-6)


@pytest.mark.parametrize("name, value", [
    ("horizon", 5), ("window", 8), ("scale", False), ("strategy", "recursive"),
    ("window_norm", "standard"), ("target_transform", "diff"), ("stride", 2)])
def test_parameters_set_after_the_fit_are_refused_until_the_next_fit(name, value, tmp_path):
    """Parameters take effect at fit: set to another value afterwards they are refused by
    every method that reads the fitted state (a horizon of 5 gave 3 rows), until they are
    set back or the forecaster is fitted again, also after a round trip through a file."""
    data = _sine(200)
    forecaster = SequenceForecaster(RNNRegressor(hidden_sizes=4, max_iter=2, random_state=0),
                                    window=12, horizon=3, target_transform=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster.fit(data.iloc[:180])
    before = forecaster.predict()
    original = forecaster.get_params()[name]
    forecaster.set_params(**{name: value})
    calls = [forecaster.predict, forecaster.forecast_index,
             lambda: forecaster.score(data.iloc[180:]),
             lambda: forecaster.update(data.iloc[180:181]),
             lambda: forecaster.partial_fit(data)]
    for call in calls:
        with pytest.raises(ValueError, match=rf"{name}={value!r} is set, but the forecaster "
                                             rf"was fitted with {name}={original!r}: "
                                             rf"parameters take effect at fit"):
            call()
    forecaster.set_params(**{name: original})
    pd.testing.assert_frame_equal(forecaster.predict(), before)
    forecaster.save(tmp_path / "model")
    loaded = load(tmp_path / "model")
    with pytest.raises(ValueError, match="parameters take effect at fit"):
        loaded.set_params(**{name: value}).predict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert len(loaded.fit(data).predict()) == loaded.horizon


def test_a_list_parameter_changed_in_place_is_a_change():
    data = _sine(200).assign(other=lambda d: d["load"] * 2)
    targets = ["load"]
    forecaster = SequenceForecaster(Ridge(), window=12, horizon=3, targets=targets,
                                    past_covariates=["other"], target_transform=None).fit(data)
    targets.append("other")
    with pytest.raises(ValueError, match=r"targets=\['load', 'other'\] is set, but the "
                                         r"forecaster was fitted with targets=\('load',\)"):
        forecaster.predict()
    targets.pop()
    forecaster.predict()


def test_a_naive_forecaster_s_horizon_is_only_the_default_number_of_steps():
    data = _sine(200)
    naive = NaiveForecaster(season=12, horizon=3).fit(data)
    assert len(naive.set_params(horizon=7).predict()) == 7
    with pytest.raises(ValueError, match="season=6 is set, but the forecaster was fitted "
                                         "with season=12"):
        naive.set_params(season=6).predict()


@pytest.mark.parametrize("scale", [1e100, 1e-170, 1e160, 1e200])
def test_the_automatic_transform_is_the_same_in_any_units(scale):
    """Its hold-out errors are computed in units of the series' size: nothing squared
    overflows or underflows, and the choice and the forecast scale with the data."""
    index = pd.date_range("2020-01-01", periods=60, freq="h")
    trend = pd.Series(np.arange(60) * 3.0 + np.sin(np.arange(60)), index=index, name="y")
    unit = SequenceForecaster(Ridge(), window=4, horizon=2).fit(trend)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scaled = SequenceForecaster(Ridge(), window=4, horizon=2).fit(trend * scale)
    assert scaled.target_transform_ == unit.target_transform_ == "diff"
    for candidate, error in unit.transform_errors_.items():
        assert scaled.transform_errors_[candidate] == pytest.approx(error, rel=1e-9)
    np.testing.assert_allclose(scaled.predict() / scale, unit.predict(), rtol=1e-9)


def test_the_forecast_index_of_several_series_is_predict_s():
    a = _sine(40, start="2024-01-01")
    b = _sine(60, start="2024-06-01") * 2
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=3).fit({"a": a, "b": b})
    index = forecaster.forecast_index()
    assert index.equals(forecaster.predict().index)
    assert list(index.get_level_values("series")) == ["a"] * 3 + ["b"] * 3
    assert index.get_level_values(1)[3] == b.index[-1] + b.index.freq


@pytest.mark.parametrize("parameters, message", [
    (dict(season=0), "season must be a positive int .* got 0"),
    (dict(season=2.5), "season must be a positive int .* got 2.5"),
    (dict(scale="False"), "scale must be True or False, got 'False'"),
    (dict(ar_window=10), "ar_window=10 reads more steps than a window has: window=6"),
    (dict(freq="xyz"), "freq='xyz' is not a pandas frequency"),
    (dict(missing=None), "missing must be 'error' or 'interpolate', got None")])
def test_forecaster_parameters_are_checked_in_its_terms(parameters, message):
    with pytest.raises(ValueError, match=message):
        SequenceForecaster(Ridge(), window=6, **parameters).fit(_sine(60))


def test_errors_of_one_of_several_series_name_it():
    a, b = _sine(40), _sine(40) - 20
    with pytest.raises(ValueError, match="needs positive targets; series 'b' has values <= 0"):
        SequenceForecaster(Ridge(), window=3, target_transform="log_return").fit({"a": a, "b": b})
    with pytest.raises(ValueError, match=r"series 'b': the series has 4 rows, but window=3 and "
                                         r"horizon=2 need at least 5"):
        SequenceForecaster(Ridge(), window=3, horizon=2, target_transform=None).fit(
            {"a": a, "b": b.iloc[:4]})
    # Future covariates with a NaN: missing= does not cover them, and the error does not offer it.
    data = _sine(60).assign(hour=lambda d: d.index.hour.astype(float))
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=2, future_covariates="hour",
                                    missing="interpolate").fit(data)
    future = pd.DataFrame({"hour": [0.0, np.nan]}, index=forecaster.forecast_index())
    with pytest.raises(ValueError, match=r"future_covariates has 1 missing values at the 2 "
                                         r"timestamps read, the first in column 'hour' at "
                                         f"{future.index[1]}; fill them$"):
        forecaster.predict(future_covariates=future)
    # Rows that are not read may hold NaN (extra rows are allowed); infinities are refused.
    longer = pd.DataFrame({"hour": [np.nan, 0.0, 1.0, np.nan]},
                          index=pd.date_range(future.index[0] - pd.Timedelta("1h"),
                                              periods=4, freq="h", name="time"))
    pd.testing.assert_frame_equal(
        forecaster.predict(future_covariates=longer),
        forecaster.predict(future_covariates=longer.iloc[1:3]))
    with pytest.raises(ValueError, match="future_covariates contains infinite values"):
        forecaster.predict(future_covariates=longer.fillna(np.inf))


def test_covariates_named_by_a_pandas_index_are_a_fitted_parameter_like_a_list():
    """``df.columns.drop('y')`` names the other columns: predict compares it with the fitted
    value as it compares a list (it raised numpy's ambiguous truth value)."""
    data = _sine(60).assign(p1=np.arange(60.0), p2=np.arange(60.0) ** 0.5)
    forecaster = SequenceForecaster(Ridge(), window=5, horizon=2, target_transform=None,
                                    past_covariates=data.columns.drop("load")).fit(data)
    assert forecaster.predict().shape == (2, 1)
    forecaster.set_params(past_covariates=pd.Index(["p1"]))
    with pytest.raises(ValueError, match="past_covariates=Index"):
        forecaster.predict()


def _series_pair():
    index = pd.date_range("2024-01-01", periods=120, freq="D")
    a = pd.DataFrame({"y": np.arange(120.0)}, index=index)
    b = pd.DataFrame({"y": 1000 + np.arange(40.0)}, index=index[:40])
    return a, b


def test_several_series_train_so_the_hold_out_is_the_newest_windows_of_each():
    """The regressor gets the windows of all series ordered by origin (then by series): the
    last 20% that early stopping holds out are the newest windows, not the last series'."""
    class Recording(Ridge):
        def fit(self, X, y):
            type(self).X = X.copy()
            return super().fit(X, y)

    a, b = _series_pair()
    seen = []
    for data in ({"a": a, "b": b}, {"b": b, "a": a}):
        SequenceForecaster(Recording(), window=5, horizon=1, target_transform=None,
                           scale=False).fit(data)
        last = Recording.X[:, -1]
        seen.append(last)
        # Origins 4 .. 118 of a and 4 .. 38 of b (the window's last value is the origin's).
        assert len(last) == 115 + 35
        from_b = last >= 1000
        origins = np.where(from_b, last - 1000, last)
        for series in (from_b, ~from_b):  # each series in time order
            assert (np.diff(origins[series]) > 0).all()
        assert last[0] == 4.0  # a's first window: the least far into its series
        # The last 20% (30 windows) are the newest of each series in proportion: the last 7
        # of b's 35 (which ends first) and the last 23 of a's 115.
        held = last[-30:]
        assert sorted(held[held >= 1000]) == list(1000.0 + np.arange(32, 39))
        assert sorted(held[held < 1000]) == list(np.arange(96.0, 119))
    np.testing.assert_array_equal(*seen)  # the dict's order does not matter


def test_forecast_index_of_several_series_is_predicts_index():
    a, _ = _series_pair()
    a = a.rename_axis("date")
    for keys, names in (((1, "b"), ["series", "date"]),
                        ((("shop", 1), ("shop", 2)), ["series_0", "series_1", "date"])):
        forecaster = SequenceForecaster(Ridge(), window=5, horizon=2,
                                        target_transform=None).fit(dict(zip(keys, (a, a))))
        index = forecaster.forecast_index()
        assert index.equals(forecaster.predict().index)
        assert [key for key in dict.fromkeys(index.droplevel(-1))] == list(keys)
        assert index.names == names == forecaster.predict().index.names  # a level a name


def test_several_series_with_and_without_a_time_zone_train_in_utc_order():
    a, _ = _series_pair()
    zoned = a.tz_localize("Asia/Tokyo")  # its midnights are 15:00 UTC the day before
    forecast = SequenceForecaster(Ridge(), window=5, horizon=2,
                                  target_transform=None).fit({"a": a, "z": zoned}).predict()
    assert forecast.shape == (4, 1)


def test_several_series_of_times_and_durations_are_refused_by_name():
    a, _ = _series_pair()
    ride = a.set_axis(pd.timedelta_range(0, periods=len(a), freq=a.index.freq))
    with pytest.raises(ValueError, match="series 'ride' is indexed by a TimedeltaIndex, the "
                                         "first series by a DatetimeIndex"):
        SequenceForecaster(Ridge(), window=5, horizon=2).fit({"a": a, "ride": ride})


def test_future_covariates_of_several_series_are_named_by_series():
    index = pd.date_range("2024-01-01", periods=40, freq="D")
    x = np.random.RandomState(0).randn(40)
    a = pd.DataFrame({"y": 2 * x, "x": x}, index=index)
    b = a.set_axis(index + pd.Timedelta("5D"))
    forecaster = SequenceForecaster(Ridge(alpha=1e-9), window=5, horizon=2,
                                    future_covariates="x",
                                    target_transform=None).fit({"a": a.iloc[:-2],
                                                                "b": b.iloc[:-2]})
    covariates = {"a": a[["x"]], "b": b[["x"]]}
    both = forecaster.predict(future_covariates=covariates)
    np.testing.assert_allclose(both["y"], 2 * np.r_[x[-2:], x[-2:]], atol=1e-5)
    with pytest.raises(ValueError, match=r"needs future_covariates\['a'\] with the columns"):
        forecaster.predict(future_covariates={"b": covariates["b"]})
    with pytest.raises(ValueError, match=r"future_covariates\['b'\] has 40 rows but lacks 2"):
        forecaster.predict(future_covariates={"a": covariates["b"], "b": covariates["a"]})
    with pytest.raises(ValueError, match=r"future_covariates\['b'\] lacks the columns \['x'\]"):
        forecaster.predict(future_covariates={**covariates,
                                              "b": covariates["b"].rename(columns={"x": "X"})})
    with pytest.raises(ValueError, match=r"future_covariates has the keys \['c'\], which are "
                                         r"not among the series forecast, \['a', 'b'\]"):
        forecaster.predict(future_covariates={**covariates, "c": covariates["a"]})


def test_an_unnamed_series_for_a_model_of_several_columns_is_told_to_be_a_frame():
    data = _sine(60).assign(p=np.arange(60.0))
    forecaster = SequenceForecaster(Ridge(), window=5, horizon=2,
                                    past_covariates="p").fit(data.iloc[:40])
    with pytest.raises(ValueError, match=r"fitted on the columns \['load', 'p'\]: pass a "
                                         r"DataFrame with all of them"):
        forecaster.update(data["load"].iloc[40:42].rename(None))


def test_series_names_that_mix_tuples_and_others_are_refused():
    a, _ = _series_pair()
    for keys in ((("shop", 1), 3.5), (("shop", 1), ("shop", 1, "x"))):
        with pytest.raises(ValueError, match="data's keys, the series' names, mix tuples"):
            SequenceForecaster(Ridge(), window=5, horizon=2).fit(dict(zip(keys, (a, a))))
    fitted = SequenceForecaster(Ridge(), window=5, horizon=2).fit({("shop", 1): a})
    with pytest.raises(ValueError, match="data's keys, the series' names, mix tuples"):
        fitted.predict(data={("shop", 1): a, "new": a})


def test_forecast_block_reads_history_by_column_name_and_times_in_any_unit():
    rng = np.random.RandomState(0)
    index = pd.date_range("2024-01-01", periods=80, freq="D")
    data = pd.DataFrame({"cov": 100 * rng.randn(80), "y": np.sin(np.arange(80) / 3) + 10},
                        index=index)
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=2, targets="y",
                                    past_covariates="cov", target_transform=None)
    train, test = data.iloc[:60], data.iloc[60:70]
    forecaster.fit(train)
    expected = forecaster.forecast_block(test, history=train[forecaster.channels_].iloc[-6:])
    for history in (train.iloc[-6:], train.iloc[-6:].assign(extra=1.0)):  # cov before y
        got = forecaster.forecast_block(test, history=history)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"history lacks the columns \['cov'\]"):
        forecaster.forecast_block(test, history=train[["y"]])
    # The same times in seconds instead of nanoseconds are the rows that follow.
    seconds = test.set_axis(test.index.as_unit("s"))
    assert forecaster.score(seconds) == forecaster.score(test)
    for a, b in zip(forecaster.forecast_block(seconds), forecaster.forecast_block(test)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_series_timed_in_other_units_than_nanoseconds_forecast_in_their_unit(unit):
    index = pd.date_range("2024-01-01", periods=60, freq="D", unit=unit)
    data = pd.DataFrame({"y": np.arange(60.0) % 7 + 1}, index=index)
    forecaster = SequenceForecaster(Ridge(), window=6, horizon=3).fit(data)
    forecast = forecaster.predict()
    assert forecast.index.unit == unit
    assert list(forecast.index) == list(pd.date_range("2024-03-01", periods=3, freq="D"))
    nanoseconds = data.set_axis(index.as_unit("ns"))
    np.testing.assert_array_equal(
        forecast.to_numpy(), SequenceForecaster(Ridge(), window=6, horizon=3).fit(nanoseconds)
        .predict().to_numpy())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_global_models_forecasts_do_not_depend_on_the_order_of_its_dict():
    index = pd.date_range("2024-01-01", periods=120, freq="h")
    t = np.arange(120)
    a = pd.DataFrame({"y": np.sign(np.sin(t / 5))}, index=index)
    b = pd.DataFrame({"y": np.abs(np.sin(t / 9)) ** 3}, index=index)
    forecasts = [SequenceForecaster(GRURegressor(4, max_iter=3, random_state=0), window=12,
                                    horizon=3).fit(data).predict()
                 for data in ({"a": a, "b": b}, {"b": b, "a": a})]
    pd.testing.assert_frame_equal(forecasts[0].sort_index(), forecasts[1].sort_index(),
                                  check_exact=True)


def test_auto_transform_is_chosen_on_the_series_long_enough_to_score_it():
    rng = np.random.default_rng(0)
    index = pd.date_range("2024-01-01", periods=400, freq="h")
    walk = pd.DataFrame({"y": np.cumsum(rng.standard_normal(400)) + 100}, index=index)
    short = pd.DataFrame({"y": np.cumsum(rng.standard_normal(35)) + 100}, index=index[:35])
    alone = SequenceForecaster(Ridge(), window=24, horizon=6).fit({"walk": walk})
    both = SequenceForecaster(Ridge(), window=24, horizon=6).fit({"walk": walk, "short": short})
    # short is too short to train seasonal differences (54 rows): not a candidate; the others
    # are scored on walk alone.
    assert both.transform_errors_ == {**alone.transform_errors_, "seasonal_diff": np.inf}
    assert both.target_transform_ == alone.target_transform_ == "diff"
    # Where seasonal differences would win on the long series, the short one still trains.
    season = pd.DataFrame({"y": np.tile(rng.standard_normal(24) * 5, 17)[:400]
                           + np.cumsum(0.1 * rng.standard_normal(400))}, index=index)
    assert SequenceForecaster(Ridge(), window=24, horizon=6).fit(
        {"season": season}).target_transform_ == "seasonal_diff"
    mixed = SequenceForecaster(Ridge(), window=24, horizon=6).fit(
        {"season": season, "short": short.iloc[:40]})
    assert mixed.target_transform_ != "seasonal_diff" and mixed.predict().shape == (12, 1)
    # A recursive forecaster's windows need one target row, not a horizon.
    recursive = SequenceForecaster(Ridge(), window=24, horizon=24, strategy="recursive").fit(
        walk.iloc[:60].asfreq("h"))
    assert np.isfinite(recursive.transform_errors_[None])
    # No series long enough to score any candidate: a warning, and no transform.
    with pytest.warns(UserWarning, match="target_transform='auto' could not score a candidate"):
        none = SequenceForecaster(Ridge(), window=24, horizon=6).fit({"short": short})
    assert none.target_transform_ is None and set(none.transform_errors_.values()) == {np.inf}


def test_the_windows_a_global_model_holds_out_come_series_by_series():
    """Early stopping's windows: each series' newest, together and in time order, so that the
    significance test reads each series' forecasts in sequence; years before 1677 (seconds)
    beside nanoseconds are ordered too."""
    class Recording(Ridge):
        def __init__(self, alpha=1.0, early_stopping=True, validation_fraction=0.2):
            super().__init__(alpha=alpha)
            self.early_stopping, self.validation_fraction = early_stopping, validation_fraction

        def fit(self, X, y):
            type(self).X = X.copy()
            return super().fit(X, y)

    a, b = _series_pair()
    old = a.set_axis(pd.date_range("1500-01-01", periods=len(a), freq="D", unit="s"))
    for data in ({"a": a, "b": b}, {"a": a, "old": old + 1000}):
        SequenceForecaster(Recording(), window=5, horizon=1, target_transform=None,
                           scale=False).fit(data)
        held = Recording.X[-30:, -1]
        split = int(np.argmax(held >= 1000))
        assert (held[:split] < 1000).all() and (held[split:] >= 1000).all()  # a's, then b's
        assert (np.diff(held[:split]) > 0).all() and (np.diff(held[split:]) > 0).all()
