"""Probabilistic forecasts: quantiles through the forecaster's transforms, their scores, CQR.

Most tests use :class:`probabilistic.GaussianRidge`, whose quantiles are
known exactly; the last ones use the recurrent estimators themselves.
"""
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from probabilistic import GaussianRidge
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from seqforecast import (GRURegressor, LSTMRegressor, NaiveForecaster, SequenceForecaster,
                         backtest, default_regressor)
from seqforecast.evaluation import BacktestResult, _interval_scores, _pinball
from seqforecast.forecasting import central_levels


def _frame(n=200, sign=1.0, seed=0):
    """Two noisy positive (or, with sign=-1, negative) targets a, b and a covariate c."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    return pd.DataFrame({"a": sign * (20 + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, .5, n)),
                         "b": sign * (50 + 0.1 * t + rng.normal(0, 1, n)),
                         "c": rng.normal(0, 1, n)}, index=index)


def _by_hand(forecaster, data, levels):
    """The quantile forecast after ``data``, (horizon, n_targets, n_levels), mapped back here.

    The regressor's quantiles of the last window, with the forecaster's
    scaling, window normalisation and target transform undone one by one,
    written out; a level's quantile is read at 1 - level where the inverse
    transform multiplies by a negative origin value.
    """
    windower, k = forecaster.windower_, len(forecaster.targets_)
    values = data[forecaster.channels_].to_numpy()[-forecaster.lookback_:]
    future = np.full((windower.lead_, len(forecaster.channels_)), np.nan)  # as predict pads
    X = windower.windows(np.concatenate([values, future]), np.array([len(values) - 1]))
    steps = X.reshape(-1, len(forecaster.channels_)).copy()
    target = steps[:, :k]
    shift, spread = np.zeros(k), np.ones(k)
    if forecaster.window_norm == "standard":
        shift, spread = target.mean(axis=0), target.std(axis=0)
    elif forecaster.window_norm == "last":
        shift = target[-1].copy()
    steps[:, :k] = (target - shift) / spread
    if forecaster.scale:
        steps = (steps - forecaster.input_scaler_.mean_) / forecaster.input_scaler_.scale_
    transform, origin = forecaster.target_transform_, values[-1, :k, None]
    decreasing = (origin[:, 0] < 0) & (transform in ("return", "log_return", "last_value"))
    both = sorted(set(levels) | ({round(1 - q, 12) for q in levels} if decreasing.any()
                                 else set()))
    raw = forecaster.regressor_.predict_quantiles(steps.reshape(X.shape), quantiles=both)
    raw = np.asarray(raw, dtype=float).reshape(-1, len(both))  # (horizon * k, levels)
    if forecaster.scale:
        scaler = forecaster.target_scaler_
        raw = raw * scaler.scale_[:, None] + scaler.mean_[:, None]
    raw = raw.reshape(-1, k, len(both)) * spread[:, None] + shift[:, None]
    if transform == "diff":
        raw = origin + raw
    elif transform == "return":
        raw = origin * (1 + raw)
    elif transform == "log_return":
        raw = origin * np.exp(raw)
    elif transform == "last_value":
        raw = origin * raw
    elif transform == "seasonal_diff":  # step h adds the row h - season after the origin
        season = forecaster.season_
        raw = values[len(values) - 1 - season + np.arange(1, len(raw) + 1), :k, None] + raw
    out = np.empty((len(raw), k, len(levels)))
    for j, level in enumerate(levels):
        mine = raw[:, :, both.index(level)]
        out[:, :, j] = (np.where(decreasing, raw[:, :, both.index(round(1 - level, 12))], mine)
                        if decreasing.any() else mine)
    return out


@pytest.mark.parametrize("transform, window_norm, scale, sign", [
    (None, None, True, 1), ("diff", "standard", True, 1), ("diff", "last", False, 1),
    ("return", "last", True, 1), ("log_return", None, True, 1), ("last_value", None, False, 1),
    ("seasonal_diff", "standard", True, 1), ("return", None, True, -1),
    ("last_value", "standard", True, -1), ("diff", "standard", True, -1)])
def test_quantiles_are_mapped_back_through_every_transform(transform, window_norm, scale, sign):
    data = _frame(sign=sign)
    forecaster = SequenceForecaster(
        GaussianRidge(quantiles=(0.1, 0.5, 0.9)), window=12, horizon=4, targets=["a", "b"],
        past_covariates="c", target_transform=transform, window_norm=window_norm, scale=scale,
        season=12 if transform == "seasonal_diff" else None,
        calendar=None).fit(data)  # _by_hand builds windows of the data's columns only
    levels = (0.05, 0.3, 0.5, 0.9)
    quantiles = forecaster.predict_quantiles(quantiles=[0.9, 0.05, 0.5, 0.3])
    assert list(quantiles.columns) == [(t, q) for t in ("a", "b") for q in levels]
    assert quantiles.columns.names == ["target", "quantile"]
    forecast = forecaster.predict()
    assert quantiles.index.equals(forecast.index)
    expected = _by_hand(forecaster, data, list(levels))
    np.testing.assert_allclose(quantiles.to_numpy().reshape(4, 2, 4), expected, rtol=1e-10)
    assert (np.diff(expected, axis=-1) > 0).all()  # increasing: a decreasing map was reflected
    # The normal's median is its mean: predict() forecasts the same values.
    np.testing.assert_allclose(quantiles.xs(0.5, axis=1, level="quantile"), forecast, rtol=1e-10)
    # The forecaster's own levels by default; the central interval of a coverage.
    assert forecaster.quantiles_ == (0.1, 0.5, 0.9)
    assert list(forecaster.predict_quantiles().columns.get_level_values(1)) == [0.1, 0.5, 0.9] * 2
    lower, upper = forecaster.predict_interval(0.8)
    for bound, level in ((lower, 0.1), (upper, 0.9)):
        assert bound.index.equals(forecast.index) and bound.columns.equals(forecast.columns)
        np.testing.assert_array_equal(bound, quantiles.xs(level, axis=1, level="quantile")
                                      if level in levels else
                                      forecaster.predict_quantiles().xs(level, axis=1,
                                                                        level="quantile"))


def test_a_negative_origin_reads_the_reflected_level_which_must_be_trained():
    negative, positive = _frame(sign=-1), _frame()
    asymmetric = GaussianRidge(loss="quantile", quantiles=(0.1, 0.5, 0.8))
    forecaster = SequenceForecaster(asymmetric, window=12, horizon=3, targets=["a", "b"],
                                    past_covariates="c", target_transform="last_value")
    fitted = forecaster.fit(positive)
    np.testing.assert_allclose(fitted.predict_quantiles().to_numpy().reshape(3, 2, 3),
                               _by_hand(fitted, positive, [0.1, 0.5, 0.8]), rtol=1e-10)
    with pytest.raises(ValueError, match=r"trained with loss='quantile' on the levels \[0.1, "
                                         r"0.5, 0.8\], not on \[0.9, 0.2\] \(the reflected "
                                         r"levels 1 - q, read where the origin value that "
                                         r"target_transform='last_value' multiplies by is "
                                         r"negative\)"):
        forecaster.fit(negative).predict_quantiles()
    # Symmetric levels reflect onto trained ones.
    symmetric = forecaster.set_params(regressor=GaussianRidge(loss="quantile",
                                                              quantiles=(0.2, 0.5, 0.8)))
    np.testing.assert_allclose(symmetric.fit(negative).predict_quantiles().to_numpy()
                               .reshape(3, 2, 3), _by_hand(symmetric, negative, [0.2, 0.5, 0.8]),
                               rtol=1e-10)
    with pytest.raises(ValueError, match=r"not on \[0.3\]: ask for trained levels"):
        symmetric.predict_quantiles(quantiles=[0.3, 0.5])
    with pytest.raises(ValueError, match=r"not on \[0.05, 0.95\]"):
        symmetric.predict_interval(0.9)


def test_several_series_are_stacked_as_predict_stacks_them():
    frames = {"north": _frame(seed=1)[["a"]], "south": _frame(seed=2)[["a"]]}
    forecaster = SequenceForecaster(GaussianRidge(), window=8, horizon=3,
                                    target_transform="diff").fit(frames)
    forecast, quantiles = forecaster.predict(), forecaster.predict_quantiles()
    assert quantiles.index.equals(forecast.index) and quantiles.index.names == ["series", "time"]
    lower, upper = forecaster.predict_interval(0.9, data={"east": frames["north"].iloc[:150]})
    assert list(lower.index.get_level_values("series")) == ["east"] * 3
    assert (lower["a"] < upper["a"]).all()


def test_recursive_forecasters_give_quantiles_of_one_step():
    data = _frame()[["a"]]
    forecaster = SequenceForecaster(GaussianRidge(), window=8, horizon=1,
                                    strategy="recursive").fit(data)
    np.testing.assert_allclose(forecaster.predict_quantiles().to_numpy().reshape(1, 1, 3),
                               _by_hand(forecaster, data, [0.05, 0.5, 0.95]), rtol=1e-10)
    with pytest.raises(ValueError, match="strategy='recursive' gives quantiles of one step only"
                                         ".*got horizon=2"):
        forecaster.predict_quantiles(horizon=2)
    with pytest.raises(ValueError, match="with strategy='recursive' gives quantiles of one step "
                                         "only .* and horizon=3: use strategy='direct'"):
        forecaster.set_params(horizon=3).fit(data)


def test_seasonal_differences_give_quantiles_of_one_season():
    data = _frame()[["a"]]
    with pytest.raises(ValueError, match="target_transform='seasonal_diff' gives quantiles of "
                                         "season=12 steps at most .* and horizon=13"):
        SequenceForecaster(GaussianRidge(), window=24, horizon=13,
                           target_transform="seasonal_diff", season=12).fit(data)
    # 'auto' leaves it out beyond a season for a probabilistic forecaster only.
    for regressor, horizon, candidate in ((GaussianRidge(), 13, False),
                                          (GaussianRidge(), 12, True), (Ridge(), 13, True)):
        forecaster = SequenceForecaster(regressor, window=24, horizon=horizon,
                                        season=12).fit(data)
        assert ("seasonal_diff" in forecaster.transform_errors_) == candidate


@pytest.mark.parametrize("build, call, message", [
    (lambda: SequenceForecaster(Ridge(), 8, 2, loss="quantile"), "fit",
     "loss='quantile' is set on the regressor, but Ridge has no parameter 'loss': probabilistic "
     "forecasts need a seqforecast recurrent regressor"),
    (lambda: SequenceForecaster(Ridge(), 8, 2, quantiles=[0.1, 0.9]), "fit",
     "Ridge has no parameter 'quantiles'"),
    (lambda: SequenceForecaster(GaussianRidge(loss="absolute_error"), 8, 2,
                                quantiles=[0.1, 0.5, 0.9]), "fit",
     "quantiles=\\[0.1, 0.5, 0.9\\] is given, but the regressor's loss is 'absolute_error', "
     "which gives no quantiles"),
    (lambda: SequenceForecaster(Ridge(), 8, 2), "quantiles",
     "this forecaster gives no quantiles: its regressor, Ridge, predicts points only; fit a "
     "SequenceForecaster with loss='quantile'.*prediction_intervals"),
    (lambda: SequenceForecaster(GaussianRidge(loss="squared_error"), 8, 2), "interval",
     "its regressor, GaussianRidge, was trained with loss='squared_error'"),
    (lambda: NaiveForecaster(12, 2), "quantiles",
     "NaiveForecaster forecasts points only, it gives no quantiles"),
    (lambda: SequenceForecaster(GaussianRidge(), 8, 2), "bad levels",
     "quantiles must be levels in \\(0, 1\\), e.g. \\(0.05, 0.5, 0.95\\), kept to 12 "
     "decimals \\(so from 1e-12 to 1 - 1e-12\\), got \\[0.5, 1.0\\]"),
    (lambda: SequenceForecaster(GaussianRidge(), 8, 2), "repeated",
     "quantiles repeats a level: \\[0.5, 0.5\\]"),
    (lambda: SequenceForecaster(GaussianRidge(), 8, 2), "str",
     "quantiles must be levels in \\(0, 1\\), e.g. \\(0.05, 0.5, 0.95\\), kept to 12 .*, "
     "got '0.5' \\(a str\\)"),
    (lambda: SequenceForecaster(GaussianRidge(), 8, 2), "coverage",
     "coverage must be a number in \\(0, 1\\), got 90"),
])
def test_errors_say_how_to_get_quantiles(build, call, message):
    data = _frame()[["a"]]
    forecaster = build()
    with pytest.raises(ValueError, match=message):
        forecaster.fit(data)
        {"quantiles": lambda: forecaster.predict_quantiles(),
         "interval": lambda: forecaster.predict_interval(),
         "bad levels": lambda: forecaster.predict_quantiles(quantiles=[0.5, 1.0]),
         "repeated": lambda: forecaster.predict_quantiles(quantiles=[0.5, 0.5]),
         "str": lambda: forecaster.predict_quantiles(quantiles="0.5"),
         "coverage": lambda: forecaster.predict_interval(90)}[call]()


def test_central_levels_are_exact_decimals():
    assert central_levels(0.9) == (0.05, 0.95)
    assert central_levels(0.95) == (0.025, 0.975)
    assert central_levels(0.5) == (0.25, 0.75)


# -- scores -------------------------------------------------------------------------

def test_interval_score_and_pinball_against_hand_computed_values():
    actual = pd.Series([0.0, 1.5, 3.0, 2.0])
    quantiles = pd.DataFrame({0.1: [1.0, 1.0, 1.0, 1.0], 0.5: [1.5, 1.5, 1.5, 1.5],
                              0.9: [2.0, 2.0, 2.0, 4.0]})
    steps = pd.Series([1, 1, 2, 2])
    scores = _interval_scores(actual, quantiles, steps)
    # alpha = 0.2: width + 10 * (l - y) below, + 10 * (y - u) above.
    assert list(scores.index) == [(1, 0.8), (2, 0.8)]
    np.testing.assert_allclose(scores["interval_score"], [(11 + 1) / 2, (11 + 3) / 2])
    np.testing.assert_allclose(scores["empirical_coverage"], [0.5, 0.5])
    np.testing.assert_allclose(scores["mean_width"], [1, 2])
    # Pinball of the rows: (max(q d, (q - 1) d) over the levels) / 3, d = y - f.
    rows = [(0.9 * 1 + 0.5 * 1.5 + 0.1 * 2) / 3, (0.1 * 0.5 + 0 + 0.1 * 0.5) / 3,
            (0.1 * 2 + 0.5 * 1.5 + 0.9 * 1) / 3, (0.1 * 1 + 0.5 * 0.5 + 0.1 * 2) / 3]
    np.testing.assert_allclose(_pinball(actual, quantiles), rows)


def test_backtest_scores_the_quantiles_per_step():
    data = _frame(400)[["a"]]
    levels = (0.05, 0.25, 0.5, 0.75, 0.95)
    forecaster = SequenceForecaster(GaussianRidge(quantiles=levels), window=12, horizon=3,
                                    target_transform="diff")
    result = backtest(forecaster, data, n_folds=3, test_size=40)
    point = backtest(forecaster.set_params(regressor=Ridge(alpha=1e-6)), data, n_folds=3,
                     test_size=40)
    assert point.quantile_predictions is None and point.interval_by_step is None
    assert point.pinball_by_step is None
    quantiles, predictions = result.quantile_predictions, result.predictions
    assert list(quantiles.columns) == list(levels) and quantiles.index.equals(predictions.index)
    np.testing.assert_allclose(quantiles[0.5], predictions["predicted"], rtol=1e-12)
    # Each fold's quantiles are those the fold's forecaster forecasts from each origin.
    fold = forecaster.set_params(regressor=GaussianRidge(quantiles=levels)).fit(data.iloc[:280])
    _, _, _, block = fold.forecast_block(data.iloc[280:320], quantiles=levels)
    np.testing.assert_allclose(quantiles[predictions["fold"] == 0],
                               block.reshape(-1, len(levels)), rtol=1e-12)
    # The scores, recomputed one forecast at a time.
    by_hand = {}
    for (step, coverage), (low, high) in (((s, c), central_levels(c)) for s in (1, 2, 3)
                                          for c in (0.5, 0.9)):
        rows = predictions.index[predictions["step"] == step]
        inside, score = [], []
        for row in rows:
            y = predictions.at[row, "actual"]
            l, u = quantiles.at[row, low], quantiles.at[row, high]
            alpha = 1 - coverage
            inside.append(l <= y <= u)
            score.append(u - l + 2 / alpha * max(l - y, 0) + 2 / alpha * max(y - u, 0))
        by_hand[(step, coverage)] = (np.mean(inside), np.mean(score))
    table = result.interval_by_step
    assert list(table.index) == list(by_hand)
    np.testing.assert_allclose(table[["empirical_coverage", "interval_score"]].to_numpy(),
                               list(by_hand.values()), rtol=1e-12)
    pinball = [np.mean([max(q * (y - f), (q - 1) * (y - f))
                        for row in predictions.index[predictions["step"] == step]
                        for q in levels
                        for y, f in [(predictions.at[row, "actual"], quantiles.at[row, q])]])
               for step in (1, 2, 3)]
    np.testing.assert_allclose(result.pinball_by_step, pinball, rtol=1e-12)
    # The point metrics are the point forecaster's (the normal's median is Ridge's mean).
    pd.testing.assert_frame_equal(result.by_step, point.by_step, rtol=1e-6)


# -- conformalised quantile regression ------------------------------------------------

def _calibration(width):
    """Backtest, fit and a later block of GaussianRidge intervals ``width`` times too wide."""
    data = _frame(1000, seed=3)[["a"]]
    forecaster = SequenceForecaster(GaussianRidge(width=width), window=12, horizon=2,
                                    target_transform="diff")
    result = backtest(forecaster, data.iloc[:700], n_folds=4, test_size=100)
    forecaster.fit(data.iloc[:700])
    actual, _, _, quantiles = forecaster.forecast_block(data.iloc[700:], quantiles=[0.05, 0.95])
    return result, forecaster, actual[..., 0], quantiles[:, :, 0]


@pytest.mark.parametrize("width", [0.4, 3.0])
def test_cqr_calibrates_intervals_that_are_too_narrow_or_too_wide(width):
    result, forecaster, actual, quantiles = _calibration(width)
    corrections = result.interval_corrections(0.9)
    assert list(corrections.columns) == ["a"] and list(corrections.index) == [1, 2]
    # The model's own coverage is far from 90%; CQR's, on later data, close to it.
    raw = ((quantiles[..., 0] <= actual) & (actual <= quantiles[..., 1])).mean()
    shift = corrections["a"].to_numpy()
    calibrated = ((quantiles[..., 0] - shift <= actual)
                  & (actual <= quantiles[..., 1] + shift)).mean()
    if width < 1:
        assert raw < 0.6 and (shift > 0).all()
    else:
        assert raw > 0.99 and (shift < 0).all()
    assert 0.85 <= calibrated <= 0.95
    # Around a new forecast: the model's own levels moved by the corrections.
    forecast = forecaster.predict_quantiles()
    lower, upper = result.conformalized_intervals(forecast, coverage=0.9)
    assert lower.index.equals(forecast.index) and list(lower.columns) == ["a"]
    np.testing.assert_allclose(lower["a"], forecast[("a", 0.05)] - shift)
    np.testing.assert_allclose(upper["a"], forecast[("a", 0.95)] + shift)
    # The correction is the ceil((n + 1) 0.9)-th smallest score E = max(l - y, y - u).
    predictions, qs = result.predictions, result.quantile_predictions
    first = predictions["step"] == 1
    scores = np.sort(np.maximum(qs.loc[first, 0.05] - predictions.loc[first, "actual"],
                                predictions.loc[first, "actual"] - qs.loc[first, 0.95]))
    assert shift[0] == scores[math.ceil((len(scores) + 1) * 0.9) - 1]


def test_cqr_errors_name_the_problem():
    data = _frame(300)[["a"]]
    point = backtest(SequenceForecaster(Ridge(), 8, 2), data, n_folds=2, test_size=30)
    with pytest.raises(ValueError, match="the backtest has no quantile forecasts.*"
                                         "prediction_intervals gives split-conformal"):
        point.interval_corrections()
    forecaster = SequenceForecaster(GaussianRidge(), 8, 2)
    result = backtest(forecaster, data, n_folds=2, test_size=30)
    with pytest.raises(ValueError, match="coverage=0.8 calibrates the interval between the "
                                         "levels 0.1 and 0.9, but the backtest forecast the "
                                         r"levels \[0.05, 0.5, 0.95\]"):
        result.interval_corrections(0.8)
    wide = backtest(SequenceForecaster(GaussianRidge(quantiles=(0.005, 0.995)), 8, 2), data,
                    n_folds=2, test_size=30)
    with pytest.raises(ValueError, match="coverage=0.99 needs at least 99 backtest forecasts "
                                         "per step; there are 58"):
        wide.interval_corrections(0.99)
    # Levels without a central pair: no interval scores, a pinball loss all the same.
    unpaired = backtest(SequenceForecaster(GaussianRidge(quantiles=(0.3, 0.5)), 8, 2), data,
                        n_folds=2, test_size=30)
    assert unpaired.interval_by_step.empty and list(unpaired.interval_by_step.columns) == [
        "empirical_coverage", "interval_score", "mean_width"]
    assert list(unpaired.pinball_by_step.index) == [1, 2]
    forecaster.fit(data)
    with pytest.raises(TypeError, match="quantile_forecast must be the DataFrame that "
                                        "forecaster.predict_quantiles"):
        result.conformalized_intervals(forecaster.predict())
    with pytest.raises(ValueError, match=r"coverage=0.9 needs 0.05: predict_quantiles\(quantiles"
                                         r"=\[0.05, 0.95\]\)"):
        result.conformalized_intervals(forecaster.predict_quantiles(quantiles=[0.5, 0.95]))
    longer = SequenceForecaster(GaussianRidge(), 8, 3).fit(data)
    with pytest.raises(ValueError, match="the backtest covered 2 steps; the quantile_forecast "
                                         "has 3"):
        result.conformalized_intervals(longer.predict_quantiles())
    several = SequenceForecaster(GaussianRidge(), 8, 2).fit({"x": data, "y": data})
    with pytest.raises(ValueError, match="holds several series"):
        result.conformalized_intervals(several.predict_quantiles())
    # One-sided CQR names the coverage asked for and the level of each bound.
    with pytest.raises(ValueError, match=r"coverage=0.99 with side='lower' \(each bound at "
                                         r"0.995\) needs at least 199 backtest forecasts per "
                                         r"step; there are 58"):
        wide.interval_corrections(0.99, side="lower")
    # The rows are the steps in time order: a reordered forecast is refused, not misread.
    quantiles = forecaster.predict_quantiles()
    for misordered in (quantiles.iloc[::-1], forecaster.predict().iloc[::-1]):
        with pytest.raises(ValueError, match="rows are read as its steps 1, 2, ... in time "
                                             "order, but its index is not increasing"):
            if "quantile" in misordered.columns.names:
                result.conformalized_intervals(misordered)
            else:
                point.prediction_intervals(misordered)


def test_per_step_tables_keep_the_targets_order_and_the_smallest_rank_is_1():
    """Columns in the forecaster's order, not sorted; a coverage so small that
    ceil((n + 1) c) rounds to 0 gives the smallest score (rank 1), not the largest."""
    data = _frame(300)
    result = backtest(SequenceForecaster(GaussianRidge(), 8, 2, targets=["b", "a"],
                                         past_covariates="c"), data, n_folds=2, test_size=30)
    errors = result.predictions.assign(error=lambda p: p["error"].abs())
    for coverage in (1e-9, 1e-12):
        widths = result.interval_half_widths(coverage)
        assert list(widths.columns) == ["b", "a"]
        expected = errors.groupby(["step", "target"])["error"].min().unstack()[["b", "a"]]
        np.testing.assert_array_equal(widths.to_numpy(), expected.to_numpy())
    assert list(result.interval_corrections(0.9).columns) == ["b", "a"]
    assert list(result.adaptive_corrections(0.9)[1].columns) == ["b", "a"]


# -- the recurrent estimators ------------------------------------------------------------

def _quiet(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


@pytest.mark.parametrize("loss", ["quantile", "gaussian", "student_t"])
def test_a_recurrent_regressor_s_quantiles_are_mapped_back_exactly(loss):
    data = _frame(160)
    regressor = LSTMRegressor(hidden_sizes=4, max_iter=3, random_state=0)
    forecaster = SequenceForecaster(regressor, window=12, horizon=3, targets=["a", "b"],
                                    past_covariates="c", target_transform="diff",
                                    window_norm="standard", loss=loss,
                                    quantiles=(0.1, 0.5, 0.9))
    _quiet(lambda: forecaster.fit(data))
    assert forecaster.regressor_.loss == loss and forecaster.quantiles_ == (0.1, 0.5, 0.9)
    assert regressor.loss == "squared_error"  # the forecaster's clone was changed, not it
    quantiles = forecaster.predict_quantiles()
    np.testing.assert_allclose(quantiles.to_numpy().reshape(3, 2, 3),
                               _by_hand(forecaster, data, [0.1, 0.5, 0.9]), rtol=1e-9)
    assert (np.diff(quantiles.to_numpy().reshape(3, 2, 3), axis=-1) >= 0).all()
    if loss == "quantile":  # predict() forecasts the median
        np.testing.assert_allclose(quantiles.xs(0.5, axis=1, level="quantile"),
                                   forecaster.predict(), rtol=1e-9)
    else:  # any level of the distribution
        lower, upper = forecaster.predict_interval(0.95)
        np.testing.assert_allclose(np.stack([lower, upper], axis=-1),
                                   _by_hand(forecaster, data, [0.025, 0.975]), rtol=1e-9)
    # The fitted regressor's parameters changed afterwards do not relabel its outputs.
    forecaster.regressor_.set_params(loss="squared_error", quantiles=(0.3, 0.7))
    assert forecaster.quantiles_ == (0.1, 0.5, 0.9)
    np.testing.assert_array_equal(forecaster.predict_quantiles(), quantiles)


def test_a_cell_name_keeps_the_default_recipe_with_the_loss():
    data = _frame(120)[["a"]]
    forecaster = SequenceForecaster("gru", window=8, horizon=2, random_state=1, loss="quantile",
                                    quantiles=(0.2, 0.5, 0.8)).partial_fit(data)
    regressor = forecaster.regressor_
    assert isinstance(regressor, GRURegressor)
    expected = default_regressor("gru", 8, forecaster.windower_.training_origins(120).size,
                                 random_state=1).set_params(
        early_stopping=False, loss="quantile", quantiles=(0.2, 0.5, 0.8))
    assert regressor.get_params() == expected.get_params()
    assert forecaster.predict_quantiles().shape == (2, 3)


def test_asymmetric_cqr_calibrates_each_bound_alone():
    """An interval too narrow below and too wide above: the asymmetric corrections move the
    lower bound out and the upper one in, each bound then missing about 5% of later values;
    each correction is the ceil((n + 1) 0.95)-th smallest of its one-sided scores."""
    result, forecaster, actual, quantiles = _calibration(1.0)
    table = result.quantile_predictions  # raise the bounds: 0.6 and 1.5 widths
    width = table[0.95] - table[0.05]
    table[0.05] += 0.6 * width
    table[0.95] += 1.5 * width
    lower = result.interval_corrections(0.9, side="lower")["a"].to_numpy()
    upper = result.interval_corrections(0.9, side="upper")["a"].to_numpy()
    assert (lower > 0).all() and (upper < 0).all()
    predictions, qs = result.predictions, result.quantile_predictions
    first = predictions["step"] == 1
    scores = np.sort(qs.loc[first, 0.05] - predictions.loc[first, "actual"])
    assert lower[0] == scores[math.ceil((len(scores) + 1) * 0.95) - 1]
    later = quantiles[..., 1] - quantiles[..., 0]
    low = quantiles[..., 0] + 0.6 * later - lower
    high = quantiles[..., 1] + 1.5 * later + upper
    assert 0.02 <= (actual < low).mean() <= 0.08 and 0.02 <= (actual > high).mean() <= 0.08
    forecast = forecaster.predict_quantiles()
    bounds = result.conformalized_intervals(forecast, coverage=0.9, symmetric=False)
    np.testing.assert_allclose(bounds[0]["a"], forecast[("a", 0.05)] - lower)
    np.testing.assert_allclose(bounds[1]["a"], forecast[("a", 0.95)] + upper)
    with pytest.raises(ValueError, match="side must be 'both', 'lower' or 'upper'"):
        result.interval_corrections(0.9, side="left")


def test_adaptive_conformal_inference_follows_a_change_of_volatility():
    """Errors whose spread triples halfway: static split-conformal half-widths from the first
    half under-cover the second; ACI's corrections, known at each origin, widen and cover
    about 90% of the second half.  The first correction of each series is +inf (no score yet),
    and a forecast never uses a score it could not know (delay = step)."""
    rng = np.random.RandomState(0)
    n, steps = 3000, 2
    spread = np.where(np.arange(n) < n // 2, 1.0, 3.0)
    errors = rng.randn(n, steps) * spread[:, None]
    predictions = pd.DataFrame({
        "fold": 0, "origin": np.repeat(pd.date_range("2020", periods=n, freq="h"), steps),
        "step": np.tile([1, 2], n), "target": "a", "actual": 0.0,
        "predicted": errors.reshape(-1), "error": errors.reshape(-1)})
    result = BacktestResult(predictions, None, None)
    history, latest = result.adaptive_corrections(0.9, method="split", gamma=0.01)
    assert history.index.equals(predictions.index)
    first = predictions.groupby("step").head(1).index
    assert np.isinf(history[first]).all()
    late = (predictions["origin"] >= predictions["origin"].iloc[2 * (n // 2 + 300)]).to_numpy()
    covered = (np.abs(predictions["error"]) <= history)[late].mean()
    assert 0.87 <= covered <= 0.93
    static = result.interval_half_widths(0.9)["a"].to_numpy()  # from both halves: too narrow
    assert (np.abs(predictions["error"][late]).to_numpy().reshape(-1, 2) > static).mean() > 0.15
    assert list(latest.index) == [1, 2] and list(latest.columns) == ["a"]
    assert (latest["a"] > 3.0).all()  # a 90% half-width of N(0, 3^2) is 4.9
    # The step-2 correction at an origin does not depend on the last two scores before it.
    changed = predictions.copy()
    row = predictions.index[(predictions["step"] == 2)][1000]
    changed.loc[row, "error"] = 1e6
    after, _ = BacktestResult(changed, None, None).adaptive_corrections(0.9, method="split",
                                                                        gamma=0.01)
    steps2 = predictions.index[predictions["step"] == 2]
    position = list(steps2).index(row)
    np.testing.assert_array_equal(after[steps2[:position + 2]], history[steps2[:position + 2]])
    assert (after[steps2[position + 2:]] != history[steps2[position + 2:]]).any()
    # DtACI (no step to choose) covers the second half as well, from what is known at each
    # origin only: its experts' weights too.
    history, _ = result.adaptive_corrections(0.9, method="split", gamma="auto")
    assert 0.87 <= (np.abs(predictions["error"]) <= history)[late].mean() <= 0.93
    after, _ = BacktestResult(changed, None, None).adaptive_corrections(0.9, method="split",
                                                                        gamma="auto")
    np.testing.assert_array_equal(after[steps2[:position + 2]], history[steps2[:position + 2]])
    assert (after[steps2[position + 2:]] != history[steps2[position + 2:]]).any()


def test_adaptive_cqr_around_a_new_forecast():
    result, forecaster, actual, quantiles = _calibration(0.4)
    history, latest = result.adaptive_corrections(0.9, gamma=0.05)
    scores, _ = result._cqr_scores(0.9, "both")
    assert ((scores <= history)[history.notna()].mean()) > 0.8
    forecast = forecaster.predict_quantiles()
    lower, upper = result.conformalized_intervals(forecast, coverage=0.9, gamma=0.05)
    np.testing.assert_allclose(lower["a"], forecast[("a", 0.05)] - latest["a"].to_numpy())
    np.testing.assert_allclose(upper["a"], forecast[("a", 0.95)] + latest["a"].to_numpy())
    lower, upper = result.conformalized_intervals(forecast, coverage=0.9, gamma="auto")
    latest = result.adaptive_corrections(0.9, gamma="auto")[1]
    np.testing.assert_allclose(upper["a"], forecast[("a", 0.95)] + latest["a"].to_numpy())
    for bad in (0, "Auto", None):
        with pytest.raises(ValueError, match="gamma must be a positive number or 'auto'"):
            result.adaptive_corrections(0.9, gamma=bad)
    with pytest.raises(ValueError, match="side must be 'both'"):
        result.adaptive_corrections(0.9, method="split", side="lower")


def test_levels_whose_mirror_is_not_exact_in_floats_still_pair(tmp_path):
    """1/3 and 2/3 bound the central interval of coverage 1/3 although 1 - 1/3 != 2/3 in
    floats: levels are rounded as central_levels rounds, everywhere."""
    levels = (1 / 3, 0.5, 2 / 3)
    forecaster = SequenceForecaster(GaussianRidge(quantiles=levels), window=8, horizon=2)
    result = backtest(forecaster, _frame()[["a"]], n_folds=2, test_size=40)
    coverages = result.interval_by_step.index.get_level_values("coverage").unique()
    assert len(coverages) == 1 and coverages[0] == pytest.approx(1 / 3)
    quantiles = forecaster.fit(_frame()[["a"]]).predict_quantiles()
    assert list(quantiles["a"].columns) == [round(q, 12) for q in levels]
    lower, upper = result.conformalized_intervals(quantiles, coverage=1 / 3)
    assert (lower["a"] < upper["a"]).all()


def test_aci_after_a_run_of_misses_uses_the_largest_known_score():
    """Where alpha_t falls to 0 or below, the correction is the largest score known so far
    (finite), not an unbounded interval; +inf only before any score is known."""
    from seqforecast.evaluation import _adaptive

    scores = np.array([1.0] * 5 + [100.0] * 30)
    history, latest = _adaptive(scores, 0.1, (0.1,), 1, None)
    assert np.isinf(history[0]) and np.isfinite(history[1:]).all()
    running_max = np.maximum.accumulate(scores)[:-1]
    assert (history[1:] == running_max).sum() >= 20
    assert latest == 100.0


def test_aci_sets_that_are_empty_or_unbounded_move_alpha_as_the_theory_says():
    """alpha_t at or above 1 asks for the empty set: the smallest known score stands in and
    counts as a miss; at or below 0 the unbounded set: the largest stands in and counts as a
    hit, so alpha_t stays within [-gamma, 1 + gamma] and no run of misses winds it up.  The
    correction after the backtest reads every score, whatever the delay."""
    from seqforecast.evaluation import _adaptive

    history, _ = _adaptive(-np.arange(1.0, 11.0), 0.1, (1.0,), 1, None)
    assert history[-1] == -9.0  # nine hits with gamma 1: alpha ~ 1, the smallest known score
    # 200 ever larger scores (every forecast misses), then calm ones: with a window of 50,
    # the calm scores soon fill it, and alpha, not wound up by the misses, gives ~10% misses
    # (wound up to about -0.8, it would give none for some 1,800 steps).
    scores = np.r_[np.arange(200.0) * 10, np.random.RandomState(0).rand(600)]
    history, _ = _adaptive(scores, 0.1, (0.005,), 1, 50)
    assert 0.05 <= (scores[-300:] > history[-300:]).mean() <= 0.15
    scores = np.r_[np.ones(18), 100.0, 100.0]
    assert (_adaptive(scores, 0.1, (0.005,), 1, None)[1]
            == _adaptive(scores, 0.1, (0.005,), 3, None)[1])


def test_dtaci_with_identical_experts_is_aci():
    from seqforecast.evaluation import _adaptive

    scores = np.abs(np.random.RandomState(0).randn(500)) * np.linspace(1, 3, 500)
    for delay, window in ((1, None), (5, 40)):
        np.testing.assert_array_equal(_adaptive(scores, 0.1, (0.01,) * 3, delay, window)[0],
                                      _adaptive(scores, 0.1, (0.01,), delay, window)[0])


def _dtaci_by_definition(scores, alpha, gammas, delay, window):
    """DtACI as Gibbs & Candes write it, slowly: at each forecast the scores known then, the
    set of a level from them, beta by bisection on whether that set covers the score."""
    from seqforecast.evaluation import _DTACI_ETA, _DTACI_SIGMA

    def known(t):  # the scores whose actuals are known at forecast t
        stop = max(t - delay + 1, 0)
        return np.sort(scores[max(0, stop - (window or stop)):stop])

    def correction(known_scores, level):  # and its set: 'unbounded', 'empty' or 'computed'
        n = len(known_scores)
        rank = math.ceil((n + 1) * (1 - level) - 1e-9) if level < 1 else 0
        if n == 0 or level <= 0 or rank > n:
            return (known_scores[-1] if n else np.inf), "unbounded"
        if rank <= 0:
            return known_scores[0], "empty"
        return known_scores[rank - 1], "computed"

    def covers(known_scores, level, score):
        value, kind = correction(known_scores, level)
        return kind == "unbounded" or (kind == "computed" and score <= value)

    gammas = np.asarray(gammas)
    alphas, weights, used, out = np.full(len(gammas), alpha), np.ones(len(gammas)), [], []
    for t in range(len(scores)):
        j = t - delay
        if j >= 0:
            low, high = 0.0, 1.0
            for _ in range(60):
                middle = (low + high) / 2
                low, high = (middle, high) if covers(known(j), middle, scores[j]) else (low,
                                                                                         middle)
            gap = low - used[j]
            weights = weights * np.exp(-_DTACI_ETA * (alpha * gap - np.minimum(gap, 0)))
            weights = (1 - _DTACI_SIGMA) * weights / weights.sum() + _DTACI_SIGMA / len(gammas)
            missed = [not covers(known(j), level, scores[j]) for level in used[j]]
            alphas = alphas + gammas * (alpha - np.array(missed))
        used.append(alphas)
        weights = weights / weights.sum()
        out.append(correction(known(t), weights @ alphas)[0])
    return np.array(out)


@pytest.mark.parametrize("delay, window", [(1, None), (3, None), (2, 50)])
def test_dtaci_is_the_published_algorithm(delay, window):
    from seqforecast.evaluation import DTACI_GAMMAS, _adaptive

    rng = np.random.RandomState(1)
    scores = np.abs(np.r_[rng.randn(150), 4 * rng.randn(150)])
    np.testing.assert_allclose(_adaptive(scores, 0.1, DTACI_GAMMAS, delay, window)[0],
                               _dtaci_by_definition(scores, 0.1, DTACI_GAMMAS, delay, window),
                               rtol=0, atol=0)


def test_dtaci_follows_changes_of_scale_that_fix_one_step_and_not_the_other():
    """Scores that quadruple, then fall to an eighth: the smallest step (0.001) misses a third
    of the forecasts after the rise and none after the fall, the default (0.005) under-covers
    after the rise and over-covers after the fall; DtACI's experts (gamma='auto') stay near
    the 10% aimed at in each phase."""
    from seqforecast.evaluation import DTACI_GAMMAS, _adaptive

    rng = np.random.RandomState(0)
    scores = np.abs(np.r_[rng.randn(1000), 4 * rng.randn(1000), 0.5 * rng.randn(1000)])
    rise, calm = slice(1000, 1300), slice(2000, 3000)

    def misses(gammas):
        return scores > _adaptive(scores, 0.1, gammas, 1, None)[0]

    slow, default, auto = misses((0.001,)), misses((0.005,)), misses(DTACI_GAMMAS)
    assert slow[rise].mean() > 0.3 and slow[calm].mean() == 0
    assert default[rise].mean() > 0.15 and default[calm].mean() < 0.03
    assert auto[rise].mean() < 0.16 and 0.07 <= auto[calm].mean() <= 0.13
    assert 0.08 <= auto[100:].mean() <= 0.12


def test_a_float32_coverage_is_read_as_the_decimal_it_stands_for():
    """np.float32(0.9) is 0.8999999762: its levels are 0.05 and 0.95, as float32 levels are
    read, not 0.0500000119 (which a quantile model was not trained on)."""
    assert central_levels(np.float32(0.9)) == (0.05, 0.95)
    result, forecaster, _, _ = _calibration(0.4)
    pd.testing.assert_frame_equal(result.interval_corrections(np.float32(0.9)),
                                  result.interval_corrections(0.9))
    quantile_model = SequenceForecaster(GaussianRidge(loss="quantile"), window=8,
                                        horizon=2).fit(_frame()[["a"]])
    for bound, expected in zip(quantile_model.predict_interval(np.float32(0.9)),
                               quantile_model.predict_interval(0.9)):
        pd.testing.assert_frame_equal(bound, expected)


def test_quantiles_set_back_in_another_order_are_the_fitted_ones():
    forecaster = SequenceForecaster(GaussianRidge(quantiles=(0.05, 0.5, 0.95)), window=8,
                                    horizon=2, quantiles=[0.95, 0.5, 0.05]).fit(_frame()[["a"]])
    forecast = forecaster.predict()
    forecaster.set_params(quantiles=forecaster.quantiles_)
    pd.testing.assert_frame_equal(forecaster.predict(), forecast)
    # A file saved before the levels were compared sorted holds them as they were given.
    forecaster._fitted_with["quantiles"] = (0.95, 0.5, 0.05)
    pd.testing.assert_frame_equal(forecaster.predict(), forecast)
    forecaster.set_params(quantiles=(0.1, 0.5, 0.9))
    with pytest.raises(ValueError, match="quantiles=\\(0.1, 0.5, 0.9\\) is set"):
        forecaster.predict()


def test_level_and_degrees_of_freedom_messages_state_the_rule():
    X = np.random.RandomState(0).randn(20, 4, 1)
    with pytest.raises(ValueError, match="student_t_df must be a positive finite number or None "
                                         "\\(infinite degrees of freedom: loss='gaussian'\\)"):
        LSTMRegressor(2, loss="student_t", student_t_df=np.inf).fit(X, X[:, -1, 0])
    with pytest.raises(ValueError, match="from 1e-12 to 1 - 1e-12\\), got \\(1e-13, 0.5\\)"):
        LSTMRegressor(2, loss="quantile", quantiles=(1e-13, 0.5)).fit(X, X[:, -1, 0])
