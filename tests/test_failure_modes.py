"""What the regressors do when a fit goes wrong: blow-ups, oversized models, huge
predictions, values the dtype cannot hold."""
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from seqforecast import GRURegressor, LSTMRegressor, RNNRegressor, SequenceForecaster, estimators
from seqforecast.backends import cpu
from seqforecast.datasets import load_airline_passengers

ESTIMATORS = [RNNRegressor, LSTMRegressor, GRURegressor]


def _airline(window=12):
    """Lag windows of the standardised airline series and the next value."""
    passengers = load_airline_passengers()["passengers"].to_numpy(np.float64)
    z = (passengers - passengers.mean()) / passengers.std()
    return np.lib.stride_tricks.sliding_window_view(z[:-1], window), z[window:]


def _fit_recording(model, X, y):
    """Fit and return the messages of the ConvergenceWarnings that say training diverged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [str(w.message) for w in caught
            if issubclass(w.category, ConvergenceWarning) and "diverged" in str(w.message)]


def _on_the_data_scale(model, X, y):
    prediction = model.predict(X)
    spread = y.max() - y.min()
    assert np.all((prediction > y.min() - spread) & (prediction < y.max() + spread))
    assert r2_score(y, prediction) > -1


# -- the divergence policy -------------------------------------------------------------

@pytest.mark.parametrize("rate", [10.0, 0.5, 1e10])
@pytest.mark.parametrize("batch_size", ["auto", 16])
def test_a_blown_up_fit_warns_and_keeps_weights_on_the_data_scale(rate, batch_size):
    X, y = _airline()
    model = LSTMRegressor(hidden_sizes=32, learning_rate_init=rate, batch_size=batch_size,
                          max_iter=50, random_state=0)
    messages = _fit_recording(model, X, y)
    assert len(messages) == 1
    assert f"learning_rate_init (now {rate})" in messages[0]
    assert "clip_global_norm" in messages[0]
    _on_the_data_scale(model, X, y)


def test_a_fit_whose_last_update_blows_up_restores_its_start():
    """One batch per epoch: the epoch's loss is that of the weights before its update."""
    X, y = _airline()
    model = LSTMRegressor(hidden_sizes=32, learning_rate_init=10.0, max_iter=1, random_state=0)
    messages = _fit_recording(model, X, y)
    assert len(messages) == 1 and "by epoch 1: the weights it ended with" in messages[0]
    assert "this fit started from" in messages[0]
    start = LSTMRegressor(hidden_sizes=32, learning_rate_init=1e-30, max_iter=1, random_state=0)
    _fit_recording(start, X, y)
    np.testing.assert_allclose(model.predict(X), start.predict(X), rtol=1e-5, atol=1e-6)


def test_the_restored_weights_are_the_best_trained_ones():
    """A GRU that learns for two epochs, then blows up: the trained weights come back."""
    X, y = _airline()
    model = GRURegressor(hidden_sizes=32, learning_rate_init=0.1, max_iter=50, random_state=0)
    messages = _fit_recording(model, X, y)
    assert len(messages) == 1 and "the best epoch so far" in messages[0]
    assert r2_score(y, model.predict(X)) > 0.5  # the start's R^2 is below 0
    assert model.n_iter_ < 50


def test_with_an_autoregressive_path_a_blow_up_falls_back_to_the_linear_start():
    X, y = _airline()
    settings = dict(hidden_sizes=32, ar_window=12, random_state=0)
    model = LSTMRegressor(learning_rate_init=10.0, max_iter=50, **settings)
    messages = _fit_recording(model, X, y)
    assert len(messages) == 1 and "this fit started from" in messages[0]
    start = LSTMRegressor(learning_rate_init=1e-30, max_iter=1, **settings)
    _fit_recording(start, X, y)
    np.testing.assert_allclose(model.predict(X), start.predict(X), rtol=1e-5, atol=1e-6)
    # That start is about the ridge regression: the random head's part is small.
    ridge = Ridge(alpha=1.0).fit(X, y)
    assert r2_score(y, model.predict(X)) > r2_score(y, ridge.predict(X)) - 0.01
    # With early stopping, the model ends as the ridge regression itself.
    held = LSTMRegressor(learning_rate_init=10.0, max_iter=50, early_stopping=True, **settings)
    _fit_recording(held, X, y)
    assert held.recurrent_kept_ is False
    np.testing.assert_allclose(held.predict(X), ridge.predict(X), rtol=1e-4, atol=1e-4)


def test_partial_fit_judges_its_first_epoch_by_the_starting_weights():
    X, y = _airline()
    model = LSTMRegressor(hidden_sizes=32, learning_rate_init=10.0, batch_size=16,
                          random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 1.*started from"):
        model.partial_fit(X, y)
    _on_the_data_scale(model, X, y)


@pytest.mark.parametrize("rate", [10.0, 3.0, 1e3])
def test_partial_fit_judges_the_weights_its_last_update_left(rate):
    """One batch per call: the epoch's loss is that of the weights before its only update,
    so the weights the call ends with are judged after it, as fit judges its own."""
    X, y = _airline()
    model = LSTMRegressor(hidden_sizes=8, learning_rate_init=rate, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.partial_fit(X, y)
    messages = [str(w.message) for w in caught if "diverged" in str(w.message)]
    assert len(messages) == 1 and "the weights its last update left" in messages[0]
    _on_the_data_scale(model, X, y)


def test_every_partial_fit_that_blows_up_is_caught_after_a_rolled_back_one():
    """The epoch a roll-back rejects was recorded with its loss first: it became the lowest
    loss later calls judged against (3.4e5), and their blow-ups went unseen. The restored
    weights' loss is now the reference, and loss_ and best_loss_ describe them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 20, 1)).astype(np.float32)
    y = (X[:, -1, 0] + 0.5 * np.tanh(X[:, -4:, 0].sum(1))).astype(np.float32)
    model = RNNRegressor(16, activation="relu", batch_size=20, random_state=0,
                         learning_rate_init=0.3)
    for call in range(3):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.partial_fit(X, y)
        assert any("diverged" in str(w.message) for w in caught), call
        error = np.mean((model.predict(X) - y) ** 2)
        assert error < 2 * y.var(), (call, error)
        assert model.best_loss_ == pytest.approx(error, rel=1e-5) == model.loss_


def test_sound_partial_fits_pass_over_their_data_only_to_train(monkeypatch):
    """The last update is screened on its own batch: sound partial_fit calls measure no
    training loss on all their samples, and their weights are those of the same epochs of
    fit."""
    X, y = _airline()
    measured = []
    original = estimators.LSTMRegressor._training_loss

    def recording(self, *args):
        measured.append(1)
        return original(self, *args)

    monkeypatch.setattr(estimators.LSTMRegressor, "_training_loss", recording)
    params = dict(hidden_sizes=8, batch_size=32, shuffle=False, random_state=0)
    model = LSTMRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(3):
            model.partial_fit(X, y)
    # Only the starting weights' loss, the policy's reference, measured once because the
    # first epoch's loss is above that of predicting the mean: no pass per call.
    assert len(measured) == 1 and model.loss_curve_[0] > model._mean_loss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = LSTMRegressor(max_iter=3, **params).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), fitted.predict(X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_sound_fit_raises_no_divergence_warning(cls):
    X, y = _airline()
    model = cls(hidden_sizes=16, learning_rate_init=1e-2, max_iter=30, random_state=0)
    assert _fit_recording(model, X, y) == []
    assert r2_score(y, model.predict(X)) > 0.8


@pytest.mark.parametrize("early_stopping", [False, True])
def test_the_policy_leaves_a_fit_that_never_blows_up_unchanged(early_stopping, monkeypatch):
    X, y = _airline()
    params = dict(hidden_sizes=8, learning_rate_init=3e-2, batch_size=32, max_iter=40,
                  early_stopping=early_stopping, tol=1e-2, n_iter_no_change=3, random_state=0)
    with_policy = LSTMRegressor(**params)
    assert _fit_recording(with_policy, X, y) == []
    monkeypatch.setattr(estimators, "_BLOWUP_FACTOR", np.inf)
    without = LSTMRegressor(**params)
    _fit_recording(without, X, y)
    assert with_policy.n_iter_ == without.n_iter_ < 40  # stopped by the patience rule
    np.testing.assert_array_equal(with_policy.predict(X), without.predict(X))


def test_a_sound_fit_measures_the_training_loss_only_of_its_final_weights(monkeypatch):
    """The starting weights' loss, a reference of the divergence policy, is measured only
    when a loss comes near a blow-up: a sound fit passes over its training data once
    (the final weights' check) besides its epochs."""
    X, y = _airline()
    measured = []
    original = estimators.LSTMRegressor._training_loss

    def recording(self, model, *args):
        measured.append(model.params.copy())
        return original(self, model, *args)

    monkeypatch.setattr(estimators.LSTMRegressor, "_training_loss", recording)
    model = LSTMRegressor(hidden_sizes=8, ar_window=12, max_iter=3, random_state=0)
    assert _fit_recording(model, X, y) == []
    assert max(model.loss_curve_) < model._mean_loss  # no loss near a blow-up
    assert len(measured) == 1
    np.testing.assert_array_equal(measured[0], model._network.params)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_constant_targets_are_no_sign_of_divergence(cls):
    """Predicting a constant target's mean costs nothing, so a blow-up is judged against
    predictions off by 1 there: a sound fit does not warn, a blown-up one still does."""
    X = np.random.default_rng(0).normal(size=(100, 10))
    y = np.full(100, 3.0)
    sound = cls(hidden_sizes=8, max_iter=30, batch_size=10, learning_rate_init=1e-2,
                learning_rate="cosine", random_state=0)
    assert _fit_recording(sound, X, y) == []
    assert np.abs(sound.predict(X) - 3.0).max() < 0.3
    blown = cls(hidden_sizes=8, max_iter=20, learning_rate_init=1e3, random_state=0)
    messages = _fit_recording(blown, X, y)
    assert len(messages) == 1 and "off by 1 where the targets are constant" in messages[0]
    assert np.abs(blown.predict(X) - 3.0).max() < 10.0


def _steady_counter(n):
    return pd.DataFrame({"count": 100.0 + 5 * np.arange(n)},
                        index=pd.date_range("2024-01-01", periods=n, freq="h"))


def _cycle_and_trend(n):
    t = np.arange(n)
    return pd.DataFrame({"load": 10 + 0.05 * t + np.sin(2 * np.pi * t / 12)},
                        index=pd.date_range("2024-01-01", periods=n, freq="h"))


@pytest.mark.parametrize("series, transform", [(_steady_counter, "diff"),
                                               (_cycle_and_trend, "auto")])
def test_targets_constant_up_to_rounding_fit_without_a_divergence_warning(series, transform):
    """Differenced, a counter's targets are all 0; a cycle of 12 hours on a trend, differenced
    over 24 hours (the 'auto' choice), is 1.2 up to rounding. The ridge start fits them to the
    last bits, and Adam's first steps then raise a loss of 1e-16 to 1e-4: no blow-up."""
    data = series(300)
    forecaster = SequenceForecaster("gru", window=24, horizon=6, target_transform=transform,
                                    random_state=3)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Training diverged")
        forecaster.fit(data.iloc[:294])
    np.testing.assert_allclose(forecaster.predict().to_numpy()[:, 0],
                               data.to_numpy()[294:, 0], rtol=1e-3)


def test_spikes_far_below_the_targets_variance_are_not_blow_ups():
    """Near zero loss, Adam's epoch losses jump a thousandfold and back: no divergence."""
    t = np.arange(300)
    wave = np.sin(t * 2 * np.pi / 25)
    X, y = np.lib.stride_tricks.sliding_window_view(wave[:-1], 20), wave[20:]
    model = GRURegressor(hidden_sizes=8, learning_rate_init=3e-2, batch_size=32, max_iter=150,
                         n_iter_no_change=1000, alpha=0.0, random_state=0)
    assert _fit_recording(model, X, y) == []
    curve = np.array(model.loss_curve_)
    assert np.max(curve[1:] / np.minimum.accumulate(curve)[:-1]) > estimators._BLOWUP_FACTOR


# -- a model far beyond its data --------------------------------------------------------

def test_a_model_far_beyond_its_data_warns_before_allocating():
    X, y = np.random.RandomState(0).randn(5, 4), np.arange(5.0)
    model = LSTMRegressor(hidden_sizes=300, max_iter=1)  # 363,901 parameters for 25 values
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(UserWarning, match=r"363,901 parameters for 5 training samples "
                                              r"\(25 values in X and y\)"):
            model.fit(X, y)
    assert not hasattr(model, "_network")  # the warning came before the model was built
    with pytest.warns(UserWarning) as caught:  # it blames the data, not the memory
        LSTMRegressor(hidden_sizes=128, max_iter=1).fit(X, y)
    message = next(str(w.message) for w in caught if "parameters for" in str(w.message))
    assert "may fit the noise" in message and "memory" not in message


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_training_step_beyond_the_machines_memory_warns(monkeypatch):
    X, y = np.random.RandomState(0).randn(50, 10), np.arange(50.0)
    model = GRURegressor(hidden_sizes=8, max_iter=1)
    monkeypatch.setattr(cpu, "_physical_memory", lambda: 2 ** 10)
    with pytest.warns(UserWarning, match=r"training step needs about .* GiB of memory "
                                         r"\(\d+% of this machine's 9.54e-07 GiB\)"):
        model.fit(X, y)
    for memory in (2 ** 40, None):  # plenty, or unknown: no warning
        monkeypatch.setattr(cpu, "_physical_memory", lambda: memory)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)  # a UserWarning too
            model.fit(X, y)


def test_the_machines_memory_is_known_here():
    assert cpu._physical_memory() > 2 ** 20


# -- prediction in bounded memory -------------------------------------------------------

def test_predict_needs_little_memory_beyond_its_input():
    rng = np.random.RandomState(0)
    X = rng.randn(20_000, 48, 4).astype(np.float32)
    model = LSTMRegressor(hidden_sizes=8, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:200], rng.randn(200))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model.predict(X)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.nbytes, peak / X.nbytes


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_chunked_predictions_are_bit_identical(cls, monkeypatch):
    rng = np.random.RandomState(0)
    X, y = rng.randn(300, 9, 2), rng.randn(300, 2)
    model = cls(hidden_sizes=(5, 4), ar_window=3, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    monkeypatch.setattr(cpu, "PREDICT_CHUNK", 2 ** 40)  # one chunk
    whole = model.predict(X)
    monkeypatch.setattr(cpu, "PREDICT_CHUNK", 2000)  # a few samples per chunk
    np.testing.assert_array_equal(model.predict(X), whole)


# -- values float32 cannot represent ----------------------------------------------------

@pytest.mark.parametrize("value, what", [(1e200, "too large"), (-1e39, "too large"),
                                         (1e-300, "too small"), (np.float32(1e-40), "too small")])
def test_values_float32_cannot_represent_are_refused(value, what):
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 6), rng.randn(40)
    X_bad, y_bad = X.astype(np.asarray(value).dtype), y.copy()
    X_bad[3, 2] = value
    model = GRURegressor(hidden_sizes=3, max_iter=1, random_state=0)
    pattern = (f"X has values {what} for dtype float32.*dtype='float64'.*scale the data.*"
               f"StandardScaler")
    with pytest.raises(ValueError, match=pattern):
        model.fit(X_bad, y)
    y_bad[7] = value
    with pytest.raises(ValueError, match=f"y has values {what} for dtype float32.*"
                                         f"TransformedTargetRegressor"):
        model.fit(X, y_bad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        with pytest.raises(ValueError, match=f"X has values {what}"):
            model.predict(X_bad)
        model.set_params(dtype="float64")
        if abs(float(value)) > 1e154:  # float64 holds them, but training squares them
            with pytest.raises(ValueError, match="too large to train on in dtype float64"):
                model.fit(X_bad, y_bad)
            model.fit(X, y)
        else:
            model.fit(X_bad, y_bad)
    assert np.isfinite(model.predict(X_bad)).all()  # predicting needs no squares


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
def test_the_range_scan_finds_the_first_value_numpy_finds(monkeypatch, dtype, layout):
    """find_outside, the compiled scan behind the range and finiteness checks, finds what the
    numpy expression it replaced finds, compared in the array's dtype (plus NaN), at and next
    to every bound, in place or block by block (a few rows at a time)."""
    from seqforecast.cpu import scans

    monkeypatch.setattr(scans, "PREDICT_CHUNK", 100)
    rng = np.random.RandomState(0)
    f32 = np.finfo(np.float32)
    trained = np.sqrt(float(f32.max)) / 2  # the training bound of float32
    bounds = [(float(f32.max), float(f32.tiny)), (trained, float(f32.tiny))]
    if dtype is not np.float32:  # the finiteness test of float64
        bounds.append((float(np.finfo(np.float64).max), 0.0))
    near = [np.float32(v) for v in (f32.max, f32.tiny, trained)]
    with np.errstate(over="ignore"):  # the float32 after max is inf
        near = [w for v in near for w in (v, np.nextafter(v, np.float32(0)),
                                          np.nextafter(v, np.float32(np.inf)))]
    specials = [np.nan, np.inf, -1e39, 1e-40, -1e-42, 0.0, -0.0, 1e38, *near, *[-v for v in near]]
    for trial in range(80):
        a = rng.randn(12, 5, 3).astype(dtype)
        with np.errstate(over="ignore"):  # -1e39 is -inf in float32
            for _ in range(trial % 4):
                a[rng.randint(12), rng.randint(5), rng.randint(3)] = specials[
                    rng.randint(len(specials))]
        view = {"C": a, "F": np.asfortranarray(a), "strided": a.transpose(1, 0, 2)[:, ::2],
                "reversed": a[::-1, :, ::-1]}[layout]
        values = np.ascontiguousarray(view).reshape(-1)
        for large, tiny in bounds:
            with np.errstate(over="ignore"):
                size = np.abs(values)
                outside = np.isnan(values) | (size > large) | ((size < tiny) & (size > 0))
            found = scans.find_outside(view, large, tiny)
            if outside.any():
                expected = values[outside][0]
                assert found is not None and (np.isnan(found) if np.isnan(expected)
                                              else found == expected), (large, tiny)
            else:
                assert found is None, (large, tiny, found)
        if dtype is not np.longdouble:  # all_finite takes float32 and float64
            assert scans.all_finite(view) == bool(np.isfinite(view).all())


def test_float32_input_to_a_float64_model_is_taken_as_it_is():
    """Every float32 value, its square too, is a float64: nothing to check, nothing said."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 6).astype(np.float32), rng.randn(40).astype(np.float32)
    X[0, :2] = np.finfo(np.float32).max, np.float32(1e-40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GRURegressor(hidden_sizes=3, max_iter=1, learning_rate="cosine",
                             dtype="float64", random_state=0).fit(X, y)
        prediction = model.predict(X)
    np.testing.assert_array_equal(prediction, model.predict(X.astype(np.float64)))


def test_zeros_and_float32_extremes_are_accepted():
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 6), rng.randn(40)
    X[0, :3] = 0.0, np.finfo(np.float32).tiny, 1e18  # squares still within float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GRURegressor(hidden_sizes=3, max_iter=1).fit(X, y)
