"""Probabilistic losses: values against closed forms, gradients, reading the outputs back,
and estimators that recover known distributions."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from sklearn.exceptions import ConvergenceWarning

import seqforecast
import seqforecast.estimators
from seqforecast import GRURegressor, LSTMRegressor, RNNRegressor
from seqforecast.training.losses import PROBABILISTIC_LOSSES, make_loss
from seqforecast.training.rules import SCALE_FLOOR, digamma

LOSS_OPTIONS = [("quantile", {}), ("quantile", {"quantiles": (0.1, 0.25, 0.5, 0.99)}),
                ("gaussian", {}), ("student_t", {}), ("student_t", {"df": 3.5})]


def _softplus(x):
    return np.logaddexp(0.0, x) + SCALE_FLOOR


@pytest.mark.parametrize("name, options", LOSS_OPTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_match_finite_differences(name, options, dtype):
    loss = make_loss(name, **options)
    rng = np.random.RandomState(1)
    y_pred, y_true = rng.randn(6, 2 * loss.width) * 1.5, rng.randn(6, 2)
    _, grad = loss(y_pred.astype(dtype), y_true.astype(dtype))
    assert grad.dtype == dtype
    numeric = np.empty_like(y_pred)
    for index in np.ndindex(*y_pred.shape):
        step = np.zeros_like(y_pred)
        step[index] = 1e-6
        numeric[index] = (loss(y_pred + step, y_true)[0] - loss(y_pred - step, y_true)[0]) / 2e-6
    tolerance = dict(rtol=1e-6, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad, numeric, **tolerance)


def test_values_match_closed_forms():
    rng = np.random.RandomState(2)
    y = rng.randn(5, 2)
    # Pinball: (1 - q) (p - y) above the target, q (y - p) below, averaged over levels.
    levels = (0.1, 0.5, 0.9)
    pred = rng.randn(5, 6)
    by_hand = np.mean([np.where(pred[:, 3 * k + j] > y[:, k], (1 - q) * (pred[:, 3 * k + j] - y[:, k]),
                                q * (y[:, k] - pred[:, 3 * k + j]))
                       for k in range(2) for j, q in enumerate(levels)])
    assert make_loss("quantile", quantiles=levels)(pred, y)[0] == pytest.approx(by_hand, rel=1e-12)
    # Gaussian and Student's t: minus scipy's log-densities.
    pred = rng.randn(5, 4)
    nll = -stats.norm.logpdf(y, pred[:, ::2], _softplus(pred[:, 1::2])).mean()
    assert make_loss("gaussian")(pred, y)[0] == pytest.approx(nll, rel=1e-12)
    pred = rng.randn(5, 6)
    df = 2 + np.logaddexp(0.0, pred[:, 2::3])
    nll = -stats.t.logpdf(y, df, pred[:, ::3], _softplus(pred[:, 1::3])).mean()
    assert make_loss("student_t")(pred, y)[0] == pytest.approx(nll, rel=1e-12)
    pred = rng.randn(5, 4)
    nll = -stats.t.logpdf(y, 4.5, pred[:, ::2], _softplus(pred[:, 1::2])).mean()
    assert make_loss("student_t", df=4.5)(pred, y)[0] == pytest.approx(nll, rel=1e-12)
    # Each sample's mean loss, as the significance test reads it.
    np.testing.assert_allclose(make_loss("student_t", df=4.5).sample_losses(pred, y),
                               -stats.t.logpdf(y, 4.5, pred[:, ::2],
                                               _softplus(pred[:, 1::2])).mean(axis=1))


def test_digamma_matches_scipy():
    points = [1e-3, 0.1, 0.5, 1.0, 2.5, 5.99, 6.0, 11.0, 1e4]
    np.testing.assert_allclose([digamma(x) for x in points], special.digamma(points),
                               rtol=1e-10, atol=1e-10)


def test_quantiles_read_from_the_outputs():
    rng = np.random.RandomState(3)
    pred = rng.randn(4, 4)
    levels = (0.05, 0.5, 0.8)
    gaussian = make_loss("gaussian").quantiles(pred, levels)
    np.testing.assert_allclose(gaussian, stats.norm.ppf(
        levels, pred[:, ::2, None], _softplus(pred[:, 1::2])[..., None]))
    t = make_loss("student_t", df=3.0).quantiles(pred, levels)
    np.testing.assert_allclose(t, stats.t.ppf(levels, 3.0, pred[:, ::2, None],
                                              _softplus(pred[:, 1::2])[..., None]))
    np.testing.assert_array_equal(make_loss("gaussian").point(pred), pred[:, ::2])
    # Crossed quantiles are sorted; the median is the middle one after sorting.
    loss = make_loss("quantile", quantiles=(0.1, 0.5, 0.9))
    crossed = np.array([[3.0, 1.0, 2.0]])
    np.testing.assert_array_equal(loss.quantiles(crossed, (0.1, 0.5, 0.9)), [[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(loss.quantiles(crossed, (0.9,)), [[[3.0]]])
    np.testing.assert_array_equal(loss.point(crossed), [[2.0]])


def test_loss_refuses_predictions_of_the_wrong_width():
    with pytest.raises(ValueError, match="needs 2 predictions per target"):
        make_loss("gaussian")(np.zeros((3, 2)), np.zeros((3, 2)))


def _outputs(model, X):
    """The network's raw outputs for 2-D X: ``width`` per target."""
    x = np.ascontiguousarray(X[:, :, None].transpose(1, 0, 2), model._network.params.dtype)
    return model._network.predict(x)


def _heteroscedastic(n, seed=0):
    """y = 0.8 x_T + (0.2 + 0.6 |x_{T-1}|) e with e ~ N(0, 1): the spread depends on the input."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6)
    scale = 0.2 + 0.6 * np.abs(X[:, -2])
    return X, 0.8 * X[:, -1] + scale * rng.randn(n), 0.8 * X[:, -1], scale


@pytest.mark.parametrize("loss", PROBABILISTIC_LOSSES)
def test_estimators_recover_known_conditional_quantiles(loss):
    X, y, center, scale = _heteroscedastic(3000)
    model = LSTMRegressor(8, loss=loss, quantiles=(0.1, 0.5, 0.9), ar_window=6,
                          learning_rate_init=0.01, max_iter=40, batch_size=64, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:2500], y[:2500])
    predicted = model.predict_quantiles(X[2500:])
    assert predicted.shape == (500, 3)
    truth = center[2500:, None] + scale[2500:, None] * stats.norm.ppf([0.1, 0.5, 0.9])
    error = np.abs(predicted - truth).mean(axis=0)
    # The spread ranges over 0.2-2.6: one spread for all inputs would be off by about 0.35.
    assert (error < 0.15).all(), error
    np.testing.assert_array_equal(model.predict(X[2500:]), predicted[:, 1])
    covered = ((y[2500:] >= predicted[:, 0]) & (y[2500:] <= predicted[:, 2])).mean()
    assert 0.72 <= covered <= 0.88  # 80% nominal; 500 samples, sd 0.018


def test_a_learned_student_t_finds_heavy_tails():
    rng = np.random.RandomState(5)
    X = rng.randn(3000, 4)
    y = X[:, -1] + 0.5 * rng.standard_t(3, 3000)
    model = GRURegressor(4, loss="student_t", ar_window=4, learning_rate_init=0.01, max_iter=40,
                         batch_size=64, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    df = 2 + np.logaddexp(0.0, _outputs(model, X[:200])[:, 2])
    assert 2.3 < np.median(df) < 6  # started at 10; the truth is 3
    q = model.predict_quantiles(X[:200], (0.05, 0.95))
    truth = X[:200, -1, None] + 0.5 * stats.t.ppf([0.05, 0.95], 3)
    assert np.abs(q - truth).mean() < 0.15


@pytest.mark.parametrize("loss", PROBABILISTIC_LOSSES)
def test_the_linear_start_is_the_ridge_fit_with_the_residuals_distribution(loss):
    """With no step taken, the quantiles start at the ridge's residual quantiles and the scale
    at the residuals' spread: on the training windows, each level covers its share."""
    X, y, _, _ = _heteroscedastic(400, seed=1)
    model = RNNRegressor(3, loss=loss, quantiles=(0.1, 0.5, 0.9), ar_window=6,
                         learning_rate_init=1e-12, max_iter=1, shuffle=False, random_state=0,
                         dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    below = (y[:, None] <= model.predict_quantiles(X)).mean(axis=0)
    if loss == "quantile":
        np.testing.assert_allclose(below, [0.1, 0.5, 0.9], atol=1 / 400 + 1e-12)
    else:  # a fitted normal's (or t's) quantiles of heteroscedastic residuals: roughly
        np.testing.assert_allclose(below, [0.1, 0.5, 0.9], atol=0.06)
        outputs = _outputs(model, X)
        residual = y - model.predict(X)
        spread = _softplus(outputs[:, 1]).mean()
        if loss == "student_t":  # the scale of a t with 10 degrees of freedom
            spread *= np.sqrt(10 / 8)
        assert spread == pytest.approx(residual.std(), rel=0.02)


def test_multi_output_quantiles_and_early_stopping():
    X, y, _, _ = _heteroscedastic(600, seed=2)
    Y = np.stack([y, -2 * y], axis=1)
    model = GRURegressor(4, loss="quantile", quantiles=(0.25, 0.5, 0.75), ar_window=3,
                         early_stopping=True, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
    q = model.predict_quantiles(X[:50])
    assert q.shape == (50, 2, 3) and (np.diff(q, axis=-1) >= 0).all()
    assert model.predict(X[:50]).shape == (50, 2)
    assert model.head_bias_.shape == (6,)
    np.testing.assert_array_equal(model.predict_quantiles(X[:50], [0.75])[..., 0], q[..., 2])
    # The held-out score is minus the pinball loss (positive), not R^2 of the median (about 0.6).
    assert model.validation_scores_ and all(s < 0 for s in model.validation_scores_)
    assert model.best_validation_score_ >= max(model.validation_scores_)


def test_errors_in_the_users_terms():
    X, y, _, _ = _heteroscedastic(60)
    with pytest.raises(ValueError, match="include the median 0.5"):
        LSTMRegressor(2, loss="quantile", quantiles=(0.1, 0.9), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"levels in \(0, 1\).*got \(0.5, 1e-13\)"):
        LSTMRegressor(2, loss="quantile", quantiles=(0.5, 1e-13), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="student_t_df must be a positive finite number"):
        LSTMRegressor(2, loss="student_t", student_t_df=0, max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        point = LSTMRegressor(2, max_iter=1).fit(X, y)
        quantile = LSTMRegressor(2, loss="quantile", max_iter=1).fit(X, y)
        gaussian = LSTMRegressor(2, loss="gaussian", max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="predicts a point, not a distribution"):
        point.predict_quantiles(X)
    with pytest.raises(ValueError, match=r"\[0.3\] are not among them"):
        quantile.predict_quantiles(X, [0.3, 0.5])
    with pytest.raises(ValueError, match=r"levels in \(0, 1\)"):
        gaussian.predict_quantiles(X, [0.0, 0.5])
    assert gaussian.predict_quantiles(X, 0.3).shape == (60, 1)
    with pytest.raises(ValueError, match="fitted with loss='gaussian', which gives its outputs"):
        gaussian.set_params(loss="quantile", warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted with loss='quantile', quantiles=\(0.05, 0.5, "
                                         r"0.95\).*now ask for .*quantiles=\(0.1, 0.5, 0.9\)"):
        quantile.set_params(quantiles=(0.9, 0.5, 0.1)).partial_fit(X, y)
    with pytest.raises(ValueError, match="quantiles repeats a level"):
        LSTMRegressor(2, loss="gaussian", quantiles=(0.1, 0.1, 0.9), max_iter=1).fit(X, y)
    # Levels in any order come back sorted; the same levels as a list, or settings that do not
    # change what the outputs mean (a Gaussian's default levels), train on.
    np.testing.assert_array_equal(gaussian.predict_quantiles(X, [0.9, 0.1]),
                                  gaussian.predict_quantiles(X, (0.1, 0.9)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        quantile.set_params(quantiles=[0.95, 0.5, 0.05]).partial_fit(X, y)
        gaussian.set_params(loss="gaussian", quantiles=[0.2, 0.8], huber_delta=3.0).fit(X, y)


def test_outputs_keep_the_meaning_they_were_trained_with():
    """Parameters changed after a fit do not relabel the outputs: predict and
    predict_quantiles read them as the loss they were trained with."""
    X, y, _, _ = _heteroscedastic(100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LSTMRegressor(2, loss="quantile", max_iter=2, random_state=0).fit(X, y)
    before = model.predict_quantiles(X), model.predict(X)
    model.set_params(quantiles=(0.3, 0.5, 0.7), loss="student_t", student_t_df=1.0)
    np.testing.assert_array_equal(model.predict_quantiles(X), before[0])
    np.testing.assert_array_equal(model.predict(X), before[1])
    assert model.trained_loss_ == "quantile" and model.quantiles_ == (0.05, 0.5, 0.95)
    model.set_params(loss="squared_error")
    assert model.trained_loss_ == "quantile" and model.quantiles_ == (0.05, 0.5, 0.95)
    # A distribution's default levels are those of the fit too (it gives any level asked for).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gaussian = LSTMRegressor(2, loss="gaussian", quantiles=(0.2, 0.8), max_iter=2,
                                 random_state=0).fit(X, y)
    gaussian.set_params(quantiles=(0.25, 2))
    assert gaussian.quantiles_ == (0.2, 0.8)
    np.testing.assert_array_equal(gaussian.predict_quantiles(X),
                                  gaussian.predict_quantiles(X, [0.2, 0.8]))
    # A list of levels changed in place after the fit changes nothing either.
    levels = [0.05, 0.5, 0.95]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LSTMRegressor(2, loss="quantile", quantiles=levels, max_iter=2,
                              random_state=0).fit(X, y)
    levels[0] = 0.2
    np.testing.assert_array_equal(model.predict_quantiles(X), before[0])
    with pytest.raises(ValueError, match=r"\[0.2\] are not among them"):
        model.predict_quantiles(X, [0.2])


def test_a_negative_log_likelihood_is_no_sign_of_divergence():
    """Small-scale targets (daily returns) give negative losses: a fit whose loss falls below
    zero trains on, it is not stopped as diverged."""
    rng = np.random.RandomState(6)
    X = rng.randn(400, 5) * 0.05
    y = 0.5 * X[:, -1] + 0.05 * rng.randn(400)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LSTMRegressor(4, loss="gaussian", learning_rate_init=0.01, max_iter=60,
                              learning_rate="cosine", random_state=0).fit(X, y)
    assert min(model.loss_curve_) < -1 and model.n_iter_ == 60


def test_the_divergence_rule_of_a_log_likelihood_does_not_depend_on_the_units_of_y():
    """A rise of 0.11 nats from a lowest of -0.01 is no blow-up, whatever the scale of y; a
    rise of 12 nats above a lead of 1 over predicting the mean is."""
    model = LSTMRegressor(loss="gaussian")
    for mean_loss, lowest, loss, blown in ((-0.008, -0.01, 0.1, False),
                                           (-0.008 + np.log(10), -0.01 + np.log(10),
                                            0.1 + np.log(10), False),
                                           (0.0, -1.0, 11.5, True), (0.0, -1.0, 7.5, False)):
        model._mean_loss = mean_loss
        assert bool(model._blown_up(loss, lambda: lowest)) is blown
    assert model._blown_up(np.nan, lambda: 0.0)


def test_a_saved_probabilistic_model_predicts_the_same_quantiles(tmp_path):
    X, y, _, _ = _heteroscedastic(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LSTMRegressor(3, loss="student_t", quantiles=(0.2, 0.8), max_iter=2,
                              random_state=0).fit(X, y)
    model.save(tmp_path / "model.sqf")
    loaded = seqforecast.load(tmp_path / "model.sqf")
    np.testing.assert_array_equal(loaded.predict_quantiles(X), model.predict_quantiles(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_early_stopping_keeps_a_trained_quantile_model_or_the_linear_start(monkeypatch):
    """Where the spread depends on the inputs, the trained quantiles are kept as trained (each
    level its own linear path); where the recurrent part is not significantly better, the
    model becomes the linear start solved on all samples (one ridge path, shifted per level,
    each level covering its share of the samples)."""
    X, y, _, _ = _heteroscedastic(1500, seed=3)
    options = dict(loss="quantile", quantiles=(0.1, 0.5, 0.9), ar_window=6, early_stopping=True,
                   learning_rate_init=0.01, max_iter=30, batch_size=64, random_state=0,
                   dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        trained = GRURegressor(6, **options).fit(X, y)
    assert trained.recurrent_kept_
    paths = trained._network.ar_weight[:, :, 0]  # (ar_window, outputs)
    assert np.abs(paths[:, 0] - paths[:, 2]).max() > 1e-3
    monkeypatch.setattr(seqforecast.estimators, "improves_significantly",
                        lambda before, after, lags: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear = GRURegressor(6, **options).fit(X, y)
    assert not linear.recurrent_kept_
    np.testing.assert_array_equal(linear.head_weight_, 0)
    paths = linear._network.ar_weight[:, :, 0]
    np.testing.assert_allclose(paths[:, 0], paths[:, 2], rtol=1e-12)
    below = (y[:, None] <= linear.predict_quantiles(X)).mean(axis=0)
    np.testing.assert_allclose(below, [0.1, 0.5, 0.9], atol=1 / 1500 + 1e-12)


def test_levels_in_any_order_and_as_arrays():
    from seqforecast._checks import check_levels

    assert check_levels(np.array(0.5)) == (0.5,)
    assert check_levels(np.array([0.9, 0.1])) == (0.1, 0.9)
    assert check_levels([1 / 3, 2 / 3]) == (0.333333333333, 0.666666666667)
    with pytest.raises(ValueError, match="must include the median 0.5"):
        check_levels((0.1, 0.9), median=True)
    X, y, _, _ = _heteroscedastic(80)
    data = pd.DataFrame({"y": y}, index=pd.date_range("2024", periods=80, freq="h"))
    forecaster = seqforecast.SequenceForecaster(LSTMRegressor(2, max_iter=1), window=4,
                                                loss="gaussian", quantiles=(0.95, 0.05, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster.fit(data)
    assert forecaster.quantiles_ == (0.05, 0.5, 0.95)


def test_float32_levels_are_the_decimals_they_round_from():
    """Levels from a float32 array are 0.1, not 0.10000000149: a model trained on them gives
    the levels written as decimals, and so does a float64 model asked in float32."""
    X, y, _, _ = _heteroscedastic(100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LSTMRegressor(2, loss="quantile", max_iter=1, random_state=0,
                              quantiles=np.array([0.1, 0.5, 0.9], np.float32)).fit(X, y)
    assert model.quantiles_ == (0.1, 0.5, 0.9)
    np.testing.assert_array_equal(model.predict_quantiles(X, [0.1, 0.9]),
                                  model.predict_quantiles(X, np.float32([0.1, 0.9])))
