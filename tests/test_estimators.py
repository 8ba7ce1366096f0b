"""The scikit-learn regressors: API conformance, training options, bad input."""
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqforecast import GRURegressor, LSTMRegressor, RecurrentRegressor, RNNRegressor
from seqforecast.datasets import load_airline_passengers

ESTIMATORS = [RNNRegressor, LSTMRegressor, GRURegressor]


# A probabilistic model too ('quantile' and 'gaussian' at their defaults need more than
# check_regressors_train's 200 one-batch epochs for its R^2 > 0.5, as 'absolute_error' does).
@parametrize_with_checks([cls() for cls in ESTIMATORS] + [RecurrentRegressor(cell="gru"),
                                                          LSTMRegressor(loss="student_t")])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_scikit_learn_conformance(estimator, check):
    check(estimator)


def _sequences(n=120, steps=8, features=1, seed=0):
    """Noisy sums of the last inputs: a task a recurrent net learns in a few epochs."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, steps, features)
    y = X[:, -3:, :].sum(axis=(1, 2)) + 0.05 * rng.randn(n)
    return (X[:, :, 0] if features == 1 else X), y


def _quiet(estimator, X, y, method="fit"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return getattr(estimator, method)(X, y)


@pytest.mark.parametrize("named, options", [
    (RNNRegressor, dict(activation="relu")),
    (LSTMRegressor, dict(peephole=True, coupled_gates=True)),
    (GRURegressor, {})], ids=["rnn", "lstm", "gru"])
def test_recurrent_regressor_is_the_named_regressor_with_its_cell_as_a_parameter(named, options):
    X, y = _sequences()
    params = dict(hidden_sizes=5, max_iter=3, random_state=0, **options)
    want = _quiet(named(**params), X, y)
    got = _quiet(RecurrentRegressor(cell=want._cell().kind, **params), X, y)
    np.testing.assert_array_equal(got.predict(X), want.predict(X))
    np.testing.assert_array_equal(got.loss_curve_, want.loss_curve_)


def test_a_grid_search_chooses_the_cell():
    X, y = _sequences()
    search = GridSearchCV(RecurrentRegressor(hidden_sizes=4, max_iter=2, random_state=0),
                          {"cell": ["lstm", "gru", "rnn"]}, cv=TimeSeriesSplit(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert [p["cell"] for p in search.cv_results_["params"]] == ["lstm", "gru", "rnn"]
    assert search.best_estimator_.cell == search.best_params_["cell"]


@pytest.mark.parametrize("params, message", [
    (dict(cell="tcn"), "cell kind must be one of"),
    (dict(cell="gru", peephole=True), "LSTM options"),
    (dict(cell="lstm", activation="relu"), "only available for the 'rnn' cell")])
def test_recurrent_regressor_refuses_an_unknown_cell_or_another_cells_option(params, message):
    X, y = _sequences(n=20)
    with pytest.raises(ValueError, match=message):
        RecurrentRegressor(max_iter=1, **params).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_same_random_state_gives_identical_weights_and_predictions(cls):
    X, y = _sequences(features=2)
    params = dict(hidden_sizes=(6, 5), dropout=0.2, batch_size=32, max_iter=5, random_state=3)
    a = _quiet(cls(**params), X, y)
    b = _quiet(cls(**params), X, y)
    for layer_a, layer_b in zip(a.layers_, b.layers_):
        for name in layer_a:
            np.testing.assert_array_equal(layer_a[name], layer_b[name])
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = _quiet(cls(**{**params, "random_state": 4}), X, y)
    assert not np.array_equal(a.predict(X), c.predict(X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_pickle_joblib_and_clone(cls, tmp_path):
    X, y = _sequences()
    model = _quiet(cls(hidden_sizes=4, max_iter=3, random_state=0), X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(model.predict(X), restored.predict(X))
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(model.predict(X), joblib.load(tmp_path / "model.joblib").predict(X))
    # The restored model trains on exactly like the original (optimizer state and views kept).
    model.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(model.predict(X), restored.predict(X))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    assert not hasattr(fresh, "n_iter_")


def test_fitted_attributes_and_shapes():
    X, y = _sequences(n=100, steps=7, features=3)
    Y = np.column_stack([y, 2 * y])  # a two-step horizon
    model = _quiet(LSTMRegressor(hidden_sizes=(5, 4), max_iter=4, random_state=0,
                                 batch_size=25), X, Y)
    assert model.predict(X).shape == (100, 2) and model.predict(X).dtype == np.float64
    assert (model.n_features_in_, model.n_timesteps_in_, model.n_outputs_) == (3, 7, 2)
    assert model.n_iter_ == 4 and model.t_ == 400 and len(model.loss_curve_) == 4
    assert len(model.grad_norm_mean_) == len(model.grad_norm_max_) == 4
    assert all(m <= M for m, M in zip(model.grad_norm_mean_, model.grad_norm_max_))
    assert model.step_grad_norms_[0].shape == (2, 7)
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.validation_scores_ is None and model.best_validation_score_ is None
    assert model.layers_[0]["weight_ih"].shape == (4 * 5, 3)
    assert model.layers_[1]["weight_hh"].shape == (4 * 4, 4)
    assert model.head_weight_.shape == (2, 4) and model.head_bias_.shape == (2,)
    # 1-D y predicts 1-D.
    assert _quiet(GRURegressor(max_iter=1), X, y).predict(X).shape == (100,)


def test_dataframe_input_records_feature_names():
    X, y = _sequences(steps=5)
    frame = pd.DataFrame(X, columns=[f"lag_{k}" for k in range(5, 0, -1)])
    model = _quiet(RNNRegressor(max_iter=2, random_state=0), frame, y)
    assert list(model.feature_names_in_) == list(frame.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(model.predict(frame), model.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"lag_1": "other"}))


def test_training_loss_falls_and_fits_the_task():
    X, y = _sequences(n=300, steps=10)
    model = LSTMRegressor(hidden_sizes=16, learning_rate_init=1e-2, max_iter=60,
                          random_state=0, batch_size=50, n_iter_no_change=100)
    _quiet(model, X, y)
    assert model.loss_curve_[-1] < 0.1 * model.loss_curve_[0]
    X_test, y_test = _sequences(n=200, steps=10, seed=1)
    assert model.score(X_test, y_test) > 0.8


def test_lstm_beats_last_value_on_airline_passengers():
    """One-month-ahead log changes of a real series, held-out last two years."""
    passengers = load_airline_passengers()["passengers"]
    level = np.log(passengers.to_numpy(np.float64))
    changes = np.diff(level)
    window, test = 24, 24
    X = np.lib.stride_tricks.sliding_window_view(changes[:-1], window)
    y = changes[window:]  # y[k] is the change into month k + window + 1
    scale = changes[:-test].std()
    model = LSTMRegressor(hidden_sizes=32, learning_rate_init=3e-3, batch_size=16, max_iter=150,
                          random_state=0, n_iter_no_change=1000)
    _quiet(model, X[:-test] / scale, y[:-test] / scale)
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    actual = passengers.to_numpy(np.float64)[-test:]
    previous = passengers.to_numpy(np.float64)[-test - 1:-1]
    forecast = previous * np.exp(model.predict(X[-test:] / scale) * scale)
    rmse_model = np.sqrt(np.mean((forecast - actual) ** 2))
    rmse_last = np.sqrt(np.mean((previous - actual) ** 2))
    assert rmse_model < 0.75 * rmse_last, (rmse_model, rmse_last)


def test_early_stopping_holds_out_the_most_recent_samples_in_order():
    X, y = _sequences(n=100)
    params = dict(hidden_sizes=4, max_iter=1, shuffle=False, random_state=0, batch_size=30)
    stopped = _quiet(GRURegressor(early_stopping=True, validation_fraction=0.2, **params), X, y)
    # The same model trained on the first 80 samples only, without a hold-out.
    plain = _quiet(GRURegressor(**params), X[:80], y[:80])
    np.testing.assert_array_equal(stopped.predict(X), plain.predict(X))
    assert stopped.validation_scores_[0] == pytest.approx(
        r2_score(y[80:], stopped.predict(X[80:])), rel=1e-5)


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = _sequences(n=200)
    model = LSTMRegressor(hidden_sizes=8, learning_rate_init=2e-2, max_iter=300,
                          early_stopping=True, n_iter_no_change=5, random_state=0)
    model.fit(X, y)  # stops early: no ConvergenceWarning expected
    assert model.n_iter_ < 300
    best = int(np.argmax(model.validation_scores_))
    assert model.n_iter_ == best + 1 + model.n_iter_no_change + 1
    assert r2_score(y[180:], model.predict(X[180:])) == pytest.approx(
        model.best_validation_score_, rel=1e-5)


def test_adaptive_learning_rate_divides_by_five_until_the_floor(capsys):
    X, y = _sequences(n=40)
    model = RNNRegressor(hidden_sizes=3, learning_rate="adaptive", tol=1e9, n_iter_no_change=1,
                         max_iter=100, random_state=0, verbose=True)
    model.fit(X, y)
    assert capsys.readouterr().out.count("Learning rate lowered to") == 4
    # Epoch 1 sets the best loss; then every 2 epochs without improvement divide the rate
    # by 5 (1e-3 -> 1.6e-6, four times) and 2 more stop it, below 1e-6.
    assert model._optimizer.learning_rate == pytest.approx(1.6e-6)
    assert model.n_iter_ == 1 + 2 * 4 + 2


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_solvers_and_losses_train(solver, loss):
    X, y = _sequences(n=200)
    rate = {"adam": 1e-2, "sgd": 5e-2, "rmsprop": 3e-3}[solver]
    model = _quiet(GRURegressor(hidden_sizes=8, solver=solver, loss=loss, max_iter=20,
                                batch_size=25, learning_rate_init=rate, n_iter_no_change=100,
                                random_state=0), X, y)
    assert model.loss_curve_[-1] < 0.6 * model.loss_curve_[0]
    assert model.score(X, y) > 0.5


def test_partial_fit_continues_like_fit():
    X, y = _sequences()
    fitted = _quiet(LSTMRegressor(hidden_sizes=4, max_iter=3, random_state=0), X, y)
    stepped = LSTMRegressor(hidden_sizes=4, random_state=0)
    for _ in range(3):
        stepped.partial_fit(X, y)
    np.testing.assert_array_equal(fitted.predict(X), stepped.predict(X))
    assert stepped.n_iter_ == 3 and stepped._optimizer.t == fitted._optimizer.t


def test_warm_start_continues_from_the_previous_weights():
    X, y = _sequences()
    model = _quiet(GRURegressor(hidden_sizes=6, max_iter=5, random_state=0), X, y)
    first = model.loss_curve_[:]
    model.set_params(warm_start=True)
    _quiet(model, X, y)
    assert model.n_iter_ == 10 and model.loss_curve_[:5] == first
    assert model.loss_curve_[5] < first[0]
    with pytest.raises(ValueError, match=r"cannot continue training \(warm_start, "
                                         r"partial_fit\): the parameters now ask for another "
                                         r"model than the fitted one, hidden_sizes \(6,\) -> "
                                         r"\(7,\); fit a new model"):
        model.set_params(hidden_sizes=7).fit(X, y)
    peephole = _quiet(LSTMRegressor(hidden_sizes=4, max_iter=1, warm_start=True), X, y)
    with pytest.raises(ValueError, match=r"cell 'lstm' -> 'lstm' \(peephole=True\)"):
        peephole.set_params(peephole=True).fit(X, y)
    # predict's shape follows the y of the last fit: a column vector now.
    assert _quiet(model.set_params(hidden_sizes=6), X, y[:, None]).predict(X[:2]).shape == (2, 1)


def test_partial_fit_after_the_cosine_schedule_has_ended_says_so():
    """The schedule runs its max_iter epochs down to a rate of 0: a partial_fit after it
    would train nothing while counting an epoch, so it is refused with what to do."""
    X, y = _sequences()
    model = _quiet(LSTMRegressor(hidden_sizes=4, max_iter=3, learning_rate="cosine",
                                 random_state=0), X, y)
    with pytest.raises(ValueError, match="learning_rate='cosine' has run its max_iter=3 "
                                         "epochs down to a rate of 0"):
        model.partial_fit(X, y)
    assert model.n_iter_ == 3
    before = model.predict(X)
    model.set_params(learning_rate="constant").partial_fit(X, y)
    assert model.n_iter_ == 4 and not np.array_equal(model.predict(X), before)
    fresh = LSTMRegressor(hidden_sizes=4, max_iter=2, learning_rate="cosine", random_state=0)
    for _ in range(2):
        fresh.partial_fit(X, y)
    with pytest.raises(ValueError, match="max_iter=2 epochs down to a rate of 0"):
        fresh.partial_fit(X, y)
    # Calls on chunks of other sizes: the schedule counts epochs, not steps (a small chunk
    # after a large one was refused after 1 of 2 epochs; a large one after the plan ran
    # out was taken, its rate back up).
    rates = []
    chunked = LSTMRegressor(hidden_sizes=4, max_iter=2, learning_rate="cosine", batch_size=10,
                            random_state=0)
    for size in (40, 20):
        chunked.partial_fit(X[:size], y[:size])
        rates.append(chunked._optimizer.learning_rate)
    assert rates == pytest.approx([1e-3 * 0.5 * (1 + np.cos(np.pi * 3 / 8)),
                                   1e-3 * 0.5 * (1 + np.cos(np.pi * 3 / 4))])
    with pytest.raises(ValueError, match="max_iter=2 epochs down to a rate of 0"):
        chunked.partial_fit(X, y)


@pytest.mark.parametrize("option", ["clip_global_norm", "clip_norm", "clip_value"])
def test_clipping_options_are_counted_and_norms_recorded(option):
    X, y = _sequences()
    model = _quiet(RNNRegressor(hidden_sizes=6, max_iter=3, batch_size=40,
                                random_state=0, **{option: 1e-6}), X, y)
    assert model.n_clipped_steps_ == 3 * 3
    assert min(model.grad_norm_mean_) > 1e-4  # recorded before clipping
    loose = _quiet(RNNRegressor(hidden_sizes=6, max_iter=3, batch_size=40,
                                clip_value=1e6, random_state=0), X, y)
    assert loose.n_clipped_steps_ == 0


def test_truncated_bptt_and_hidden_clipping_reach_the_kernels():
    X, y = _sequences(steps=9)
    model = _quiet(LSTMRegressor(hidden_sizes=4, max_iter=1, tbptt_steps=3, random_state=0), X, y)
    norms = model.step_grad_norms_[0][0]
    assert np.all(norms[:6] == 0) and np.all(norms[6:] > 0)
    clipped = _quiet(LSTMRegressor(hidden_sizes=4, max_iter=1, clip_hidden_norm=1e-6,
                                   random_state=0), X, y)
    free = _quiet(LSTMRegressor(hidden_sizes=4, max_iter=1, random_state=0), X, y)
    assert not np.array_equal(clipped.predict(X), free.predict(X))


def test_divergence_restores_the_start_weights_when_the_best_epoch_is_bad_too():
    X, y = _sequences()
    params = dict(hidden_sizes=8, activation="relu", solver="sgd", momentum=0.0, random_state=0)
    model = _quiet(RNNRegressor(max_iter=3, **params), X, y)
    before = model.predict(X)
    # A warm start with an absurd step: the first epoch's update blows the weights up,
    # the second epoch's loss is infinite, and so is the loss of the "best" (first) epoch.
    model.set_params(warm_start=True, learning_rate_init=1e6, max_iter=50)
    with pytest.warns(ConvergenceWarning, match="diverged.*this fit started from.*"
                                                "learning_rate_init.*clip"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.predict(X), before)
    # The model stays usable: a sane learning rate trains on from the restored weights.
    _quiet(model.set_params(learning_rate_init=1e-3, max_iter=2), X, y)
    assert np.isfinite(model.predict(X)).all() and np.isfinite(model.loss_curve_[-1])


def test_divergence_restores_the_best_epoch(monkeypatch):
    from seqforecast.training import trainer
    X, y = _sequences()
    params = dict(hidden_sizes=6, batch_size=40, n_iter_no_change=100, random_state=0)
    reference = _quiet(LSTMRegressor(max_iter=3, **params), X, y)
    real_step, calls = trainer.Trainer.step, []

    def failing_step(self, x, y, seed=None):
        calls.append(1)
        result = real_step(self, x, y, seed)
        return result._replace(finite=False) if len(calls) == 3 * 3 + 2 else result

    monkeypatch.setattr(trainer.Trainer, "step", failing_step)
    model = LSTMRegressor(max_iter=10, **params)
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 4.*best epoch"):
        model.fit(X, y)
    assert model.n_iter_ == 3 and np.argmin(model.loss_curve_) == 2
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


def test_divergence_in_the_last_update_and_in_partial_fit_is_caught():
    X, y = _sequences(n=60)
    params = dict(hidden_sizes=4, solver="sgd", momentum=0.0, learning_rate_init=1e37,
                  random_state=0)
    for fit in ("fit", "partial_fit"):
        model = RNNRegressor(max_iter=1, **params)
        with pytest.warns(ConvergenceWarning, match="diverged"):
            getattr(model, fit)(X, 100 * y)
        assert np.isfinite(model.predict(X)).all()


def test_divergence_seen_on_the_validation_samples_is_caught():
    X, y = _sequences(n=60)
    model = RNNRegressor(hidden_sizes=4, solver="sgd", momentum=0.0, learning_rate_init=1e37,
                         early_stopping=True, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model.fit(X, 100 * y)
    assert np.isfinite(model.predict(X)).all()


def test_max_iter_reached_warns():
    X, y = _sequences()
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        GRURegressor(hidden_sizes=3, max_iter=2).fit(X, y)


def test_verbose_reports_progress_within_long_epochs(capsys, monkeypatch):
    from seqforecast import estimators
    monkeypatch.setattr(estimators, "_PROGRESS_EVERY", 0.0)
    X, y = _sequences()
    _quiet(GRURegressor(hidden_sizes=3, max_iter=1, batch_size=30, verbose=1), X, y)
    assert capsys.readouterr().out.count("  epoch 1: batch") == 4


def test_verbose_reports_every_epoch(capsys):
    X, y = _sequences()
    _quiet(LSTMRegressor(hidden_sizes=3, max_iter=3, early_stopping=True, verbose=True), X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 3
    for word in ("loss", "validation R2", "grad norm", "clipped", " s"):
        assert word in lines[0]
    # With a probabilistic loss the validation score is minus the loss, and says so.
    _quiet(LSTMRegressor(hidden_sizes=3, max_iter=1, early_stopping=True, verbose=True,
                         loss="gaussian"), X, y)
    assert "validation score (minus the loss)" in capsys.readouterr().out
    # Why an adaptive rate stopped: no division by 5 is left above the floor.
    _quiet(LSTMRegressor(hidden_sizes=3, max_iter=20, learning_rate="adaptive",
                         learning_rate_init=2e-6, n_iter_no_change=1, tol=10.0, verbose=True,
                         random_state=0), X, y)
    assert ("Training loss did not improve by more than tol=10.0 for 2 epochs, and the "
            "learning rate (2e-06) divided by 5 would fall below 1e-06; stopping."
            in capsys.readouterr().out)


def test_verbose_says_what_early_stopping_restored_and_kept(capsys):
    X, y = _sequences()
    model = _quiet(GRURegressor(hidden_sizes=3, max_iter=4, early_stopping=True, ar_window=4,
                                random_state=0, verbose=True), X, y)
    out = capsys.readouterr().out.splitlines()
    start = f"validation R2 {model.validation_scores_[0]:.4f}"
    assert out[0].startswith("Start (the linear part at its ridge solution): validation R2 ")
    assert start in out[1] and out[1].startswith("Epoch 1")
    scores = model.validation_scores_
    best = int(np.argmax(scores))
    restored = (f"those of epoch {best + 1}" if scores[best] == model.best_validation_score_
                else "those of the start: no epoch improved on it")
    assert out[5] == (f"Restored the weights with the best validation R2 "
                      f"({model.best_validation_score_:.4f}), {restored}")
    kept = "kept" if model.recurrent_kept_ else "dropped"
    assert out[6].startswith(f"Recurrent part {kept}: held-out loss ")
    assert len(out) == 7


def test_float64_training_agrees_with_float32():
    X, y = _sequences()
    params = dict(hidden_sizes=3, max_iter=2, random_state=0, shuffle=False)
    double = _quiet(LSTMRegressor(dtype="float64", **params), X, y)
    single = _quiet(LSTMRegressor(**params), X, y)
    assert double.layers_[0]["weight_hh"].dtype == np.float64
    assert single.layers_[0]["weight_hh"].dtype == np.float32
    np.testing.assert_allclose(double.predict(X), single.predict(X), rtol=1e-4, atol=1e-5)


def test_predict_in_chunks_matches_one_batch(monkeypatch):
    from seqforecast.backends import cpu
    X, y = _sequences(n=50)
    model = _quiet(GRURegressor(hidden_sizes=4, max_iter=1, random_state=0), X, y)
    whole = model.predict(X)
    monkeypatch.setattr(cpu, "PREDICT_CHUNK", 7)
    np.testing.assert_allclose(model.predict(X), whole, rtol=1e-6)


def test_lists_and_frames_as_input():
    X, y = _sequences(n=40, steps=5)
    from_lists = _quiet(RNNRegressor(hidden_sizes=3, max_iter=2, random_state=0),
                        X.tolist(), y.tolist())
    from_arrays = _quiet(RNNRegressor(hidden_sizes=3, max_iter=2, random_state=0), X, y)
    np.testing.assert_array_equal(from_lists.predict(X.tolist()), from_arrays.predict(X))
    column = _quiet(RNNRegressor(hidden_sizes=3, max_iter=2, random_state=0), X,
                    pd.DataFrame({"target": y}))
    assert column.predict(X).shape == (40, 1)  # a 2-D y predicts 2-D
    np.testing.assert_array_equal(column.predict(X)[:, 0], from_arrays.predict(X))
    integers = _quiet(RNNRegressor(hidden_sizes=3, max_iter=1), (X * 10).astype(int), y)
    assert integers.predict((X * 10).astype(int)).dtype == np.float64


def test_partial_fit_refuses_early_stopping_and_a_layout_change():
    X, y = _sequences(n=40, features=2)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        LSTMRegressor(early_stopping=True).partial_fit(X, y)
    model = LSTMRegressor(hidden_sizes=3).partial_fit(X, y)
    with pytest.raises(ValueError, match="X must be 3-D like the data"):
        model.partial_fit(X[:, :, 0], y)


def test_warm_start_with_early_stopping_judges_the_new_hold_out():
    X, y = _sequences(n=200)
    model = _quiet(GRURegressor(hidden_sizes=4, max_iter=5, early_stopping=True,
                                random_state=0), X[:100], y[:100])
    model.set_params(warm_start=True)
    _quiet(model, X, y)
    new_scores = model.validation_scores_[-(model.n_iter_ - 5):]
    assert model.best_validation_score_ == max(new_scores)
    assert model.score(X[180:], y[180:]) == pytest.approx(max(new_scores), rel=1e-5)


def test_a_failed_fit_leaves_the_model_unfitted():
    X, y = _sequences(n=60)
    model = _quiet(GRURegressor(hidden_sizes=3, max_iter=1), X, y)
    with pytest.raises(ValueError, match="batch_size=100 is larger"):
        model.set_params(batch_size=100).fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


@pytest.mark.parametrize("bad, message", [
    ({"hidden_sizes": 0}, "hidden_sizes"),
    ({"hidden_sizes": (4, "a")}, "hidden_sizes"),
    ({"loss": "hinge"}, "loss must be one of"),
    ({"solver": "lbfgs"}, "solver must be one of"),
    ({"learning_rate": "invscaling"}, "learning_rate must be one of"),
    ({"learning_rate_init": -1.0}, "learning_rate_init must be a positive number"),
    ({"dropout": 1.0}, "dropout must be in"),
    ({"validation_fraction": 0.0}, "validation_fraction must be in"),
    ({"alpha": -1.0}, "alpha must be a non-negative"),
    ({"max_iter": 0}, "max_iter must be a positive int"),
    ({"tbptt_steps": 0}, "tbptt_steps must be a positive int or None"),
    ({"clip_global_norm": 0.0}, "clip_global_norm must be a positive number or None"),
    ({"clip_value": np.inf}, "clip_value must be a positive number or None"),
    ({"batch_size": "all"}, "batch_size must be a positive int or 'auto'"),
    ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
    ({"hidden_sizes": None}, "hidden_sizes"),
    ({"epsilon": 0.0}, "epsilon must be a positive number"),
    ({"batch_size": True}, "batch_size must be a positive int or 'auto'"),
    ({"dtype": None}, "dtype must be 'float32' or 'float64', got None"),
    ({"warm_start": "no"}, "warm_start must be True or False, got 'no'"),
    ({"early_stopping": "False"}, "early_stopping must be True or False"),
    ({"shuffle": 2}, "shuffle must be True or False, got 2"),
    ({"nesterovs_momentum": "no"}, "nesterovs_momentum must be True or False"),
    ({"peephole": "no"}, "peephole must be True or False"),
    ({"coupled_gates": 1}, "coupled_gates must be True or False"),
    ({"verbose": "x"}, "verbose must be True, False or a non-negative int, got 'x'"),
])
def test_bad_hyperparameters_are_named(bad, message):
    X, y = _sequences(n=20)
    with pytest.raises(ValueError, match=message):
        LSTMRegressor(**bad).fit(X, y)


def test_bad_cell_options():
    X, y = _sequences(n=20)
    with pytest.raises(ValueError, match="activation"):
        RNNRegressor(activation="sigmoid").fit(X, y)


def test_bad_input_gets_clear_errors():
    X, y = _sequences(n=50, steps=6, features=2)
    model = LSTMRegressor(hidden_sizes=3, max_iter=1, random_state=0)
    with pytest.raises(NotFittedError):
        model.predict(X)
    bad = X.copy()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, y)
    bad[3, 2, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        model.fit(bad, y)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, np.where(np.arange(50) == 7, np.nan, y))
    with pytest.raises(ValueError, match="4-D"):
        model.fit(X[..., None], y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D"):
        model.fit(X[:, 0, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="at least one time step and one feature"):
        model.fit(X[:, :0], y)
    with pytest.raises(ValueError, match="at least one time step and one feature"):
        model.fit(X[:, :, :0], y)
    with pytest.raises(ValueError, match="y has values too large for dtype float32"):
        model.fit(X, np.full(50, 1e300))
    with pytest.raises(ValueError, match="could not convert string to float"):
        model.fit(np.full((5, 3), "a"), np.zeros(5))
    with pytest.raises(ValueError, match="batch_size=64 is larger than the 50 training samples"):
        model.set_params(batch_size=64).fit(X, y)
    with pytest.raises(ValueError, match="batch_size=50 is larger than the 45 training samples "
                                         r"\(early_stopping held out 5 of the 50 samples, "
                                         r"validation_fraction=0.1\)"):
        model.set_params(batch_size=50, early_stopping=True).fit(X, y)
    model.set_params(early_stopping=False)
    with pytest.raises(ValueError, match="early_stopping needs at least 2 validation samples"):
        model.set_params(batch_size="auto", early_stopping=True,
                         validation_fraction=0.01).fit(X[:10], y[:10])
    model.set_params(early_stopping=False)
    _quiet(model, X, y)
    with pytest.raises(ValueError, match="X has 5 time steps, but LSTMRegressor was fitted with 6"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="X has 3 features per time step, but LSTMRegressor was "
                                         "fitted with 2"):
        model.predict(np.concatenate([X, X[..., :1]], axis=2))
    with pytest.raises(ValueError, match="X must be 3-D like the data"):
        model.predict(X[:, :, 0])
    with pytest.raises(ValueError, match="y has 2 outputs, but the model was fitted with 1"):
        model.partial_fit(X, np.column_stack([y, y]))
    univariate = _quiet(GRURegressor(hidden_sizes=3, max_iter=1), X[:, :, 0], y)
    with pytest.raises(ValueError, match="X has 5 features, but GRURegressor is expecting 6"):
        univariate.predict(X[:, :5, 0])
    with pytest.raises(ValueError, match="X must be 2-D like the data"):
        univariate.predict(X)


def test_single_layer_dropout_warns():
    X, y = _sequences(n=20)
    with pytest.warns(UserWarning, match="no effect with a single layer"):
        _quiet(GRURegressor(hidden_sizes=3, dropout=0.5, max_iter=1), X, y)


def test_device_cuda_without_a_gpu_says_why():
    from seqforecast.cuda import check_available

    try:
        check_available()
    except RuntimeError:
        pass
    else:
        pytest.skip("a CUDA device (or Numba's simulator) is available here")
    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 5), rng.randn(20)
    why = r"numba-cuda package, which is not installed: pip install 'seqforecast\[cuda\]'|no usable NVIDIA GPU"
    model = LSTMRegressor(hidden_sizes=3, device="cuda", max_iter=1)
    with pytest.raises(RuntimeError, match=why):
        model.fit(X, y)
    assert not hasattr(model, "n_iter_")
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        fitted = LSTMRegressor(hidden_sizes=3, max_iter=1, batch_size=10).fit(X, y)
    with pytest.raises(RuntimeError, match=why):
        fitted.set_params(device="cuda").predict(X)
    with pytest.raises(ValueError, match=r"device must be one of \('cpu', 'cuda'\), got 'gpu'"):
        LSTMRegressor(device="gpu").fit(X, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_windows_prediction_does_not_depend_on_its_batch(cls, dtype):
    """Bit-identical predictions alone, in any order and in batches of any size.

    BLAS products round a row differently depending on its place in the
    batch (scikit-learn's check_methods_sample_order_invariance failed on
    AMD EPYC machines); the kernels' own products must not.
    """
    X, y = _sequences(n=67, steps=6, features=3)
    model = _quiet(cls(hidden_sizes=(7, 5), max_iter=2, random_state=0, dtype=dtype), X, y)
    full = model.predict(X)
    order = np.random.RandomState(1).permutation(len(X))
    np.testing.assert_array_equal(model.predict(X[order]), full[order])
    alone = np.array([model.predict(X[i:i + 1])[0] for i in range(len(X))])
    np.testing.assert_array_equal(alone, full)
    for size in (2, 3, 5, 33):
        parts = [model.predict(X[i:i + size]) for i in range(0, len(X), size)]
        np.testing.assert_array_equal(np.concatenate(parts), full)


def _sines(n=300, window=8):
    """Windows of a sum of two sines: an exact linear recurrence of order 4."""
    t = np.arange(n)
    v = np.sin(0.3 * t) + 0.5 * np.sin(0.7 * t + 1)
    X = np.lib.stride_tricks.sliding_window_view(v[:-1], window)
    return X, v[window:]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_autoregressive_path_alone_is_the_least_squares_fit(cls):
    """On a noiseless linear recurrence the ridge start (alpha 0) is exact, and kept."""
    X, y = _sines()
    model = cls(hidden_sizes=6, ar_window=4, ar_alpha=0.0, max_iter=3, early_stopping=True,
                dtype="float64", random_state=0).fit(X, y)
    lags = np.c_[X[:, -4:], np.ones(len(X))]
    exact = lags @ np.linalg.lstsq(lags, y, rcond=None)[0]
    np.testing.assert_allclose(model.predict(X), exact, atol=1e-9)


@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor])
def test_autoregressive_start_is_ridge_and_a_useless_recurrent_part_is_dropped(cls):
    from sklearn.linear_model import Ridge

    X, y = _sequences(n=200, steps=10)
    y = y + X[:, -5] * 0.7  # a linear part for the AR path
    settings = dict(hidden_sizes=5, ar_window=6, ar_alpha=2.0, random_state=0)
    # Without early stopping: the start is the randomly started head plus the ridge
    # regression, on the training samples, of what the head leaves.
    start = _quiet(cls(max_iter=1, learning_rate_init=1e-12, **settings), X, y)
    net = start._network
    linear = net.snapshot()
    net.ar_weight[...], net.head_bias[...] = 0, 0
    head = start.predict(X)
    net.restore(linear)
    assert np.abs(head).max() > 0.01 and start.recurrent_kept_ is None
    rest = Ridge(alpha=2.0).fit(X[:, -6:], y - head)
    np.testing.assert_allclose(start.predict(X), head + rest.predict(X[:, -6:]), rtol=1e-4,
                               atol=1e-4)
    ridge = Ridge(alpha=2.0).fit(X[:, -6:], y)
    # A learning rate far too high: the recurrent part is worse than the ridge regression
    # on the held-out samples, so the model ends as the ridge regression on all samples.
    wild = _quiet(cls(max_iter=4, learning_rate_init=5.0, early_stopping=True,
                      validation_fraction=0.2, **settings), X, y)
    assert wild.recurrent_kept_ is False and np.all(wild.head_weight_ == 0)
    np.testing.assert_allclose(wild.predict(X), ridge.predict(X[:, -6:]), rtol=1e-4, atol=1e-4)
    # Training on (warm start, partial_fit) runs no test: the head moves, the verdict goes.
    wild.set_params(warm_start=True, early_stopping=False, learning_rate_init=1e-3)
    assert _quiet(wild, X, y).recurrent_kept_ is None and np.any(wild.head_weight_ != 0)


def test_a_recurrent_part_that_helps_is_kept():
    """The sign of a lag 8 steps back decides y: the ridge on 2 steps cannot see it."""
    rng = np.random.RandomState(0)
    X = rng.randn(600, 10)
    y = 0.5 * X[:, -1] + np.abs(X[:, 2]) + 0.05 * rng.randn(600)
    model = _quiet(GRURegressor(hidden_sizes=8, ar_window=2, max_iter=60, batch_size=32,
                                learning_rate_init=1e-2, early_stopping=True,
                                validation_fraction=0.2, random_state=0), X, y)
    assert model.recurrent_kept_ is True and np.any(model.head_weight_ != 0)
    assert model.score(X[480:], y[480:]) > 0.5


@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor])
def test_automatic_ar_alpha_is_chosen_on_the_training_samples(cls, monkeypatch):
    """'auto' is selection.ridge_alpha on what the head leaves of the training samples (the
    held-out ones excluded); the linear part is then solved with it, at the start and at the
    end."""
    import seqforecast.estimators as estimators

    X, y = _sequences(n=120, steps=8)
    y = y + 0.7 * X[:, -2]
    seen = []

    def spy(X_train, y_train):
        seen.append((X_train.copy(), y_train.copy()))
        return 10.0

    monkeypatch.setattr(estimators, "ridge_alpha", spy)
    settings = dict(hidden_sizes=4, ar_window=3, max_iter=2, early_stopping=True,
                    validation_fraction=0.25, random_state=0)
    model = _quiet(cls(ar_alpha="auto", **settings), X, y)
    assert model.ar_alpha_ == 10.0 and len(seen) == 1
    X_train, y_train = seen[0]
    np.testing.assert_array_equal(X_train, X[:90, -3:].astype(np.float32))  # its dtype
    # What the head leaves: the targets less the randomly started head (AR path and bias 0).
    head = cls(**{**settings, "early_stopping": False, "max_iter": 1,
                  "learning_rate_init": 1e-12})
    net = _quiet(head, X, y)._network
    net.ar_weight[...], net.head_bias[...] = 0, 0
    left = y.astype(np.float32) - head.predict(X)
    assert np.abs(head.predict(X)).max() > 0.01
    np.testing.assert_allclose(y_train[:, 0], left[:90], rtol=1e-5, atol=1e-6)
    # The same model as a fixed penalty of 10: the choice feeds every ridge solve.
    fixed = _quiet(cls(ar_alpha=10.0, **settings), X, y)
    assert fixed.ar_alpha_ == 10.0
    np.testing.assert_array_equal(model.predict(X), fixed.predict(X))
    # A warm start keeps the model's penalty (no new choice), with or without early
    # stopping; partial_fit too; a number replaces it where a solve uses it.
    model.set_params(warm_start=True)
    assert _quiet(model, X, y).ar_alpha_ == 10.0 and len(seen) == 1
    model.set_params(early_stopping=False)
    assert _quiet(model, X, y).ar_alpha_ == 10.0
    assert _quiet(model, X, y, "partial_fit").ar_alpha_ == 10.0 and len(seen) == 1
    model.set_params(ar_alpha=0.5)
    assert _quiet(model, X, y, "partial_fit").ar_alpha_ == 10.0  # nothing solved
    assert _quiet(model.set_params(early_stopping=True), X, y).ar_alpha_ == 0.5
    assert _quiet(cls(hidden_sizes=3, max_iter=1, ar_alpha="auto"), X, y).ar_alpha_ is None
    # Without early stopping, and in a first partial_fit, on all the samples given.
    for method in ("fit", "partial_fit"):
        fresh = cls(ar_alpha="auto", **{**settings, "early_stopping": False})
        assert _quiet(fresh, X, y, method).ar_alpha_ == 10.0
        assert len(seen[-1][0]) == len(X)


@pytest.mark.parametrize("loss", ["quantile", "gaussian"])
def test_automatic_ar_alpha_with_a_probabilistic_loss_and_a_saved_model(
        loss, tmp_path, monkeypatch):
    """The choice reads the location outputs only; the fitted penalty survives a model file,
    and a file saved before 'auto' existed gets its number back."""
    import seqforecast.estimators as estimators
    from seqforecast.persistence import load, save
    from seqforecast.training.selection import RIDGE_ALPHAS, ridge_alpha

    X, y = _sequences(n=120, steps=8)
    y2 = np.c_[y, 0.5 * y + X[:, -1]]
    settings = dict(hidden_sizes=4, ar_window=3, max_iter=2, early_stopping=True,
                    validation_fraction=0.25, random_state=0, loss=loss)
    widths = []
    monkeypatch.setattr(estimators, "ridge_alpha",
                        lambda X, y: widths.append(y.shape[1]) or ridge_alpha(X, y))
    model = _quiet(GRURegressor(ar_alpha="auto", **settings), X, y2)
    assert model.ar_alpha_ in RIDGE_ALPHAS
    # Every quantile level of both targets; of a Gaussian, the two locations, not the scales.
    assert widths == [2 * len(model.quantiles) if loss == "quantile" else 2]
    fixed = _quiet(GRURegressor(ar_alpha=model.ar_alpha_, **settings), X, y2)
    np.testing.assert_array_equal(model.predict(X), fixed.predict(X))
    save(model, tmp_path / "auto.sfm")
    restored = load(tmp_path / "auto.sfm")
    assert restored.ar_alpha_ == model.ar_alpha_
    old = pickle.loads(pickle.dumps(fixed))
    state = old.__getstate__()
    del state["ar_alpha_"]
    old.__setstate__(state)
    assert old.ar_alpha_ == fixed.ar_alpha_


def test_ar_alpha_must_be_a_penalty_or_auto():
    X, y = _sequences(n=40, steps=5)
    for value in ("Auto", None, -0.5):
        with pytest.raises(ValueError, match="ar_alpha must be a non-negative number or 'auto'"):
            GRURegressor(ar_window=2, ar_alpha=value).fit(X, y)


def test_cosine_schedule_decays_to_zero_over_max_iter_without_a_warning(monkeypatch):
    from seqforecast.training.trainer import Trainer

    X, y = _sequences(n=100)
    model = GRURegressor(hidden_sizes=3, learning_rate="cosine", learning_rate_init=0.01,
                         batch_size=25, max_iter=3, random_state=0)
    seen, step = [], Trainer.step

    def recording(trainer, *args, **kwargs):
        seen.append(trainer.optimizer.learning_rate)
        return step(trainer, *args, **kwargs)

    monkeypatch.setattr(Trainer, "step", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    total = 3 * 4  # epochs x batches
    expected = [0.005 * (1 + np.cos(np.pi * k / total)) for k in range(total)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_autoregressive_options_are_checked():
    X, y = _sequences(n=40, steps=5)
    for value in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match="ar_window must be a positive int or None"):
            LSTMRegressor(ar_window=value).fit(X, y)
    with pytest.raises(ValueError, match="ar_window=6 is longer than the 5 time steps"):
        LSTMRegressor(ar_window=6).fit(X, y)
    with pytest.raises(ValueError, match="ar_alpha must be a non-negative number or 'auto'"):
        LSTMRegressor(ar_window=2, ar_alpha=-1).fit(X, y)
    model = _quiet(LSTMRegressor(hidden_sizes=3, ar_window=2, max_iter=1), X, y)
    with pytest.raises(ValueError, match="ar_window 2 -> 3; fit a new model"):
        model.set_params(ar_window=3, warm_start=True).fit(X, y)
    restored = pickle.loads(pickle.dumps(model.set_params(ar_window=2)))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_two_dimensional_x_with_other_time_steps_says_they_are_time_steps():
    X, y = _sequences()
    model = _quiet(LSTMRegressor(hidden_sizes=3, max_iter=1), X, y)
    with pytest.raises(ValueError, match="X has 6 features, but LSTMRegressor is expecting 8 "
                                         "features as input: with 2-D X each column is a time "
                                         "step, and LSTMRegressor was fitted with 8"):
        model.predict(X[:, :6])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        model.predict(X[0])


def test_a_fit_without_early_stopping_drops_an_earlier_fits_validation_scores():
    """Warm-started after a fit with early stopping, a fit without it kept the earlier
    scores, which plot_loss_curve then drew against this fit's last epochs."""
    X, y = _sequences()
    model = _quiet(GRURegressor(4, max_iter=3, early_stopping=True, warm_start=True,
                                random_state=0), X, y)
    assert len(model.validation_scores_) == 3 and model.best_validation_score_ is not None
    _quiet(model.set_params(early_stopping=False, max_iter=2), X, y)
    assert model.n_iter_ == 5
    assert model.validation_scores_ is None and model.best_validation_score_ is None
    _quiet(model.set_params(early_stopping=True), X, y)
    assert len(model.validation_scores_) == 2
    _quiet(model.set_params(early_stopping=False), X, y, "partial_fit")
    assert model.validation_scores_ is None


def test_a_fitted_model_predicts_in_its_dtype_until_fitted_again():
    X, y = _sequences()
    model = _quiet(GRURegressor(hidden_sizes=3, max_iter=1, random_state=0), X, y)
    expected = model.predict(X)
    model.set_params(dtype="float64")
    np.testing.assert_array_equal(model.predict(X), expected)
    assert model.layers_[0]["weight_hh"].dtype == np.float32
    assert _quiet(model, X, y).layers_[0]["weight_hh"].dtype == np.float64


def test_predict_has_the_shape_of_the_last_partial_fits_y():
    X, y = _sequences()
    model = _quiet(GRURegressor(hidden_sizes=3, random_state=0), X, y, "partial_fit")
    assert model.predict(X[:2]).shape == (2,)
    _quiet(model, X, y[:, None], "partial_fit")
    assert model.predict(X[:2]).shape == (2, 1)
    _quiet(model, X, y, "partial_fit")
    assert model.predict(X[:2]).shape == (2,)


@pytest.mark.parametrize("name", ["learning_rate_init", "tol", "alpha", "clip_global_norm",
                                  "huber_delta", "validation_fraction"])
def test_a_bool_is_not_a_number_for_a_real_parameter(name):
    X, y = _sequences()
    with pytest.raises(ValueError, match=f"{name} must be .*, got True"):
        GRURegressor(hidden_sizes=3, max_iter=1, **{name: True}).fit(X, y)


def test_a_fits_training_loss_reuses_its_arrays_from_chunk_to_chunk(monkeypatch):
    """The training loss that judges a fit's final weights (the divergence policy), one chunk
    of windows per ``Network.predict`` call, runs inside the network's ``keeping_arrays``:
    a chunk's arrays are not let go for the next one to take fresh.  Without early stopping
    it makes all of a fit's predict calls; the estimator's own ``predict`` runs outside."""
    from seqforecast.backends import cpu
    from seqforecast.network import Network

    calls = []
    predict = Network.predict

    def spy(self, x, check_input=True):
        calls.append(getattr(self._threads, "keeping", False))
        return predict(self, x, check_input)

    monkeypatch.setattr(Network, "predict", spy)
    monkeypatch.setattr(cpu, "PREDICT_CHUNK", 1)  # chunks of a batch: 10 windows
    rng = np.random.RandomState(0)
    X, y = rng.randn(60, 5, 1), rng.randn(60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GRURegressor(4, max_iter=2, batch_size=10, random_state=0).fit(X, y)
    assert len(calls) >= 6 and all(calls)
    model.predict(X)
    assert calls[-1] is False
