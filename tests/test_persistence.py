"""Model files: save and load round trips, and clear errors for files that are not right."""
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import seqforecast
from seqforecast import (GRURegressor, LSTMRegressor, ModelFileError, NaiveForecaster,
                         RecurrentRegressor, RNNRegressor, SequenceForecaster, load)
from seqforecast.persistence import FORMAT_VERSION

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = {
    "rnn-tanh": lambda: RNNRegressor(4, max_iter=2),
    "rnn-relu-2-layers": lambda: RNNRegressor((4, 3), activation="relu", max_iter=2),
    "lstm": lambda: LSTMRegressor(4, max_iter=2),
    "lstm-peephole-coupled": lambda: LSTMRegressor(4, peephole=True, coupled_gates=True,
                                                   max_iter=2),
    "lstm-ar-float64-sgd": lambda: LSTMRegressor(4, ar_window=3, dtype="float64", solver="sgd",
                                                 max_iter=2),
    "gru-rmsprop-dropout": lambda: GRURegressor((4, 4), dropout=0.3, solver="rmsprop",
                                                max_iter=2),
    "gru-early-stopping": lambda: GRURegressor(4, early_stopping=True, max_iter=3,
                                               learning_rate="cosine"),
    "recurrent-rnn-relu": lambda: RecurrentRegressor(4, cell="rnn", activation="relu",
                                                     max_iter=2),
}


def _sequences(n=40, steps=6, features=2, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, features))
    return X, X[:, -3:, 0] @ rng.normal(size=(3, outputs))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_loaded_estimator_predicts_and_trains_on_bit_identically(name, tmp_path):
    X, y = _sequences()
    estimator = ESTIMATORS[name]().set_params(random_state=0, batch_size=8).fit(X, y)
    estimator.save(tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")
    assert type(loaded) is type(estimator) and loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if estimator.early_stopping:  # partial_fit refuses it; a warm-started fit continues
        estimator.set_params(warm_start=True, max_iter=1)
        loaded.set_params(warm_start=True, max_iter=1)
        train = lambda model: model.fit(X, y)  # noqa: E731
    else:
        train = lambda model: model.partial_fit(X[::-1], y[::-1])  # noqa: E731
    train(estimator), train(loaded)
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    assert loaded.loss_curve_ == estimator.loss_curve_
    assert loaded.t_ == estimator.t_ and loaded.n_iter_ == estimator.n_iter_


def test_unfitted_and_one_dimensional_estimators(tmp_path):
    LSTMRegressor(hidden_sizes=(8, 4), peephole=True).save(tmp_path / "unfitted.npz")
    unfitted = load(tmp_path / "unfitted.npz")
    assert unfitted.get_params() == LSTMRegressor(hidden_sizes=(8, 4), peephole=True).get_params()
    assert not hasattr(unfitted, "_network")
    X, y = _sequences(outputs=1)
    estimator = RNNRegressor(3, max_iter=2, random_state=0).fit(X[:, :, 0], y[:, 0])  # 2-D X
    estimator.save(tmp_path / "flat.npz")
    prediction = load(tmp_path / "flat.npz").predict(X[:, :, 0])
    assert prediction.shape == (40,)
    np.testing.assert_array_equal(prediction, estimator.predict(X[:, :, 0]))


def _frame(n=260, phase=0.0):
    t = np.arange(n)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    level = 10 + np.sin(2 * np.pi * t / 24 + phase) + 0.01 * t
    return pd.DataFrame({"load": level, "temp": np.cos(t / 7), "hour": index.hour * 1.0},
                        index=index)


def _rnn():
    return RNNRegressor(4, max_iter=2, batch_size=16, random_state=0)


FORECASTERS = {  # (forecaster, what it is fitted on: 260 rows, of which it sees 240)
    "covariates-log-return": (
        lambda: SequenceForecaster(_rnn(), window=12, horizon=4, past_covariates="temp",
                                   future_covariates="hour", target_transform="log_return"),
        lambda: _frame()),
    "seasonal-diff-window-norm-default-lstm": (
        lambda: SequenceForecaster("lstm", window=24, horizon=3, target_transform="seasonal_diff",
                                   season=24, window_norm="standard", random_state=0),
        lambda: _frame()[["load"]]),
    "recursive-gru": (
        lambda: SequenceForecaster(GRURegressor(4, max_iter=2, batch_size=16, random_state=0),
                                   window=12, horizon=5, strategy="recursive",
                                   future_covariates="hour"),
        lambda: _frame()[["load", "hour"]]),
    "global-ridge-pipeline": (
        lambda: SequenceForecaster(make_pipeline(StandardScaler(), Ridge()), window=12,
                                   horizon=4, targets="load", past_covariates=["temp", "hour"]),
        lambda: {"a": _frame(), "b": _frame(phase=1.0)}),
    "naive": (lambda: NaiveForecaster(season=24, horizon=6), lambda: _frame()["load"]),
}


def _rows(data, start, stop):
    if isinstance(data, dict):
        return {name: frame.iloc[start:stop] for name, frame in data.items()}
    return data.iloc[start:stop]


@pytest.mark.parametrize("name", FORECASTERS)
def test_a_loaded_forecaster_forecasts_and_updates_bit_identically(name, tmp_path):
    build, data = FORECASTERS[name]
    data = data()
    forecaster = build().fit(_rows(data, 0, 240))
    forecaster.save(tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")
    assert loaded.get_params().keys() == forecaster.get_params().keys()
    hours = _frame(280)[["hour"]]
    for start in (240, 250):
        future = hours.iloc[start:] if name in ("covariates-log-return", "recursive-gru") else None
        pd.testing.assert_frame_equal(loaded.predict(future_covariates=future),
                                      forecaster.predict(future_covariates=future),
                                      check_exact=True)
        refit = hasattr(getattr(forecaster, "regressor_", None), "partial_fit")
        for model in (forecaster, loaded):
            model.update(_rows(data, start, start + 10), refit=refit)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "UTC+01:00", zoneinfo.ZoneInfo("UTC"),
                                  zoneinfo.ZoneInfo("Europe/Paris")], ids=repr)
def test_a_loaded_forecaster_forecasts_in_the_same_time_zone_object(zone, tmp_path):
    """Equal frames, index dtypes included: a zoneinfo zone is not read back as pytz's."""
    data = _frame()[["load"]].tz_localize(zone)
    forecaster = NaiveForecaster(season=24, horizon=3).fit(data)
    forecaster.save(tmp_path / "model.npz")
    expected, got = forecaster.predict(), load(tmp_path / "model.npz").predict()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.index.dtype == expected.index.dtype and got.equals(expected)


def test_a_file_loads_in_a_fresh_process(tmp_path):
    X, y = _sequences()
    estimator = LSTMRegressor(4, max_iter=2, random_state=0, ar_window=2).fit(X, y)
    estimator.save(tmp_path / "model.npz")
    np.save(tmp_path / "X.npy", X)
    model, data, out = (str(tmp_path / name) for name in ("model.npz", "X.npy", "out.npy"))
    script = (f"import numpy as np, seqforecast; m = seqforecast.load({model!r}); "
              f"np.save({out!r}, m.predict(np.load({data!r})))")
    subprocess.run([sys.executable, "-c", script], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), estimator.predict(X))


def test_the_file_is_a_zip_of_json_and_npy_without_pickle(tmp_path):
    X, y = _sequences()
    estimator = LSTMRegressor(4, max_iter=2, random_state=0).fit(X, y)
    estimator.save(tmp_path / "model.npz")
    with zipfile.ZipFile(tmp_path / "model.npz") as archive:
        header = json.loads(archive.read("header.json"))
    assert header["format"] == "seqforecast-model" and header["format_version"] == FORMAT_VERSION
    assert header["class"] == "seqforecast.estimators.LSTMRegressor"
    assert header["versions"]["seqforecast"] == seqforecast.__version__
    with np.load(tmp_path / "model.npz", allow_pickle=False) as arrays:
        for name in arrays.files:
            if name != "header.json":
                assert arrays[name].dtype != object
        np.testing.assert_array_equal(arrays["_network/layer0.weight_hh"],
                                      estimator.layers_[0]["weight_hh"])
        np.testing.assert_array_equal(arrays["_network/head.weight"], estimator.head_weight_)


def _saved(tmp_path):
    X, y = _sequences()
    path = tmp_path / "model.npz"
    GRURegressor(4, max_iter=1, random_state=0).fit(X, y).save(path)
    return path


def _rewrite(path, change):
    """The archive at ``path`` with its header passed through ``change``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(members["header.json"])
    change(header)
    members["header.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_truncated_damaged_and_foreign_files_are_named(tmp_path):
    path = _saved(tmp_path)
    data = path.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated.npz is not a seqforecast model file, "
                                             "or it is truncated or damaged"):
        load(tmp_path / "truncated.npz")
    damaged = bytearray(data)
    start = data.index(b"\x93NUMPY", data.index(b"layer0.weight_hh.npy"))
    damaged[start + 200] ^= 0xFF  # a weight's bytes: the member's CRC no longer matches
    (tmp_path / "damaged.npz").write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError, match="damaged"):
        load(tmp_path / "damaged.npz")
    (tmp_path / "text.npz").write_text("y,time\n1,2024-01-01\n")
    with pytest.raises(ModelFileError, match="text.npz is not a seqforecast model file"):
        load(tmp_path / "text.npz")
    np.savez(tmp_path / "arrays.npz", a=np.zeros(3))
    with pytest.raises(ModelFileError, match="a zip archive but not a seqforecast model file"):
        load(tmp_path / "arrays.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


@pytest.mark.parametrize("change, message", [
    (lambda h: h.update(format_version=FORMAT_VERSION + 1),
     f"written by seqforecast 0.1.0 in model-file format {FORMAT_VERSION + 1}; this seqforecast "
     f".* reads formats up to {FORMAT_VERSION}: upgrade seqforecast"),
    (lambda h: h.update(format_version="1"), "no valid format_version"),
    (lambda h: h.update(format="something-else"), "not a seqforecast model file"),
    (lambda h: h["state"]["__object__"].__setitem__(0, "os.system"),
     "names the class os.system, which seqforecast does not load"),
    (lambda h: h["state"]["__object__"][1].__setitem__("_network", {"__eval__": "1"}),
     "unknown tag '__eval__'"),
    (lambda h: h["state"]["__object__"][1]["_network"]["__network__"].update(hidden_sizes=[5]),
     r"layer0.weight_ih is float32 \(12, 2\), the layout needs float32 \(15, 2\)"),
    (lambda h: h["state"]["__object__"][1]["_optimizer"]["__object__"][1].update(
        m={"__array__": "nowhere"}), "the array 'nowhere' is missing"),
    (lambda h: h["state"]["__object__"][1]["_optimizer"]["__object__"][1].update(
        m={"__array__": "_network/head.bias"}),
     "the estimator's saved state does not fit its network of 106 float32 parameters"),
    (lambda h: h["state"]["__object__"][1].update(n_features_in_=5),
     "it checks inputs of 5 features per time step, the network takes 2"),
    (lambda h: h["state"]["__object__"].__setitem__(0, "seqforecast.datasets.Path"),
     "names the class seqforecast.datasets.Path, which this installation does not define"),
    (lambda h: h["state"]["__object__"].__setitem__(0, "sklearn.linear_model.tests.test_sgd.X"),
     "does not define as a loadable class"),
    (lambda h: h["state"]["__object__"][1].__setitem__("loss", {"__numpy__": ["O", 1]}),
     "a NumPy scalar of dtype object is not part of a model file"),
    (lambda h: h["state"]["__object__"][1].__setitem__("loss", {"__index__": {
        "kind": "datetime", "unit": "ns", "tz": "dateutil//etc/passwd", "freq": None,
        "name": None, "ticks": {"__array__": "_network/head.bias"}}}),
     "'dateutil//etc/passwd' is not the name of a time zone"),
])
def test_headers_that_are_not_right_are_named(change, message, tmp_path):
    path = _saved(tmp_path)
    _rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_a_header_nested_too_deeply_is_named(tmp_path):
    path = _saved(tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    text = members["header.json"].decode()
    members["header.json"] = text.replace('"squared_error"', "[" * 5000 + "]" * 5000).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="nested too deeply or too large to read"):
        load(path)


def test_arrays_are_checked_before_memory_is_taken(tmp_path):
    path = _saved(tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "<f8", "fortran_order": False,
                                                "shape": (2 ** 40,)})
    members["_network/head.bias.npy"] = huge.getvalue()  # says 8 TiB, holds nothing
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"its header says \(1099511627776,\) float64"):
        load(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:  # a zip bomb's way
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="is compressed, which seqforecast never writes"):
        load(path)


def test_objects_a_file_cannot_hold_are_refused_when_saving(tmp_path):
    class Custom(Ridge):
        pass

    with pytest.raises(TypeError, match="cannot hold a .*Custom: only classes of seqforecast"):
        SequenceForecaster(Custom(), window=4).fit(_frame()["load"]).save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())  # nothing written, no partial file left
    estimator = RNNRegressor(random_state=np.random.RandomState(0))
    estimator.save(tmp_path / "m.npz")  # a RandomState is data: it is kept
    assert load(tmp_path / "m.npz").random_state.randint(10 ** 9) == \
        np.random.RandomState(0).randint(10 ** 9)
    estimator.set_params(random_state=lambda: 0)
    with pytest.raises(TypeError, match="cannot hold random_state, a function"):
        estimator.save(tmp_path / "m.npz")
    estimator.set_params(random_state=0, dtype=np.float64)  # a NumPy type is data
    estimator.save(tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").dtype is np.float64
    estimator.set_params(dtype=np.ndarray)
    with pytest.raises(TypeError, match="cannot hold dtype, the class ndarray"):
        estimator.save(tmp_path / "m.npz")
    days = _frame(40).set_axis(pd.date_range("2024-01-01", periods=40, name="time",
                                             freq=pd.offsets.CustomBusinessDay(
                                                 holidays=["2024-01-15"])))
    forecaster = NaiveForecaster().fit(days["load"])
    with pytest.raises(TypeError, match="the frequency <CustomBusinessDay>: its name 'C' "
                                        "leaves out some of its settings"):
        forecaster.save(tmp_path / "m.npz")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m.npz"]  # no partial files


def test_series_ids_a_file_cannot_hold_are_named_in_the_terms_of_fitting(tmp_path):
    series = _frame(40)[["load"]]
    advice = (r", a {}: the series ids \(the keys of the dict the forecaster was fitted on\) "
              r"must be str, int, float or bool, or tuples of them, to be saved; fit on a dict "
              r"with str keys, e.g. {{str\(name\): frame for name, frame in data.items\(\)}}$")
    for forecaster in (SequenceForecaster(Ridge(), window=5, horizon=2), NaiveForecaster()):
        forecaster.fit({pd.Timestamp("2020-01-01"): series, pd.Timestamp("2021-01-01"): series})
        with pytest.raises(TypeError, match=r"^a model file cannot hold the series id "
                                            r"Timestamp\('2020-01-01 00:00:00'\)"
                                            + advice.format("Timestamp")):
            forecaster.save(tmp_path / "m.npz")
    forecaster.fit({("shop", 1): series, ("shop", pd.Timestamp("2020-01-01")): series})
    with pytest.raises(TypeError, match=r"^a model file cannot hold the series id \('shop', "
                                        r"Timestamp\('2020-01-01 00:00:00'\)\)"
                                        + advice.format("tuple")):
        forecaster.save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())  # nothing written, no partial file left
    # Tuples of str and numbers are kept as they are: the forecast is indexed by them.
    forecaster = SequenceForecaster(Ridge(), window=5, horizon=2).fit(
        {("shop", 1): series, ("shop", 2.5): 2 * series})
    forecaster.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert list(loaded.history_) == [("shop", 1), ("shop", 2.5)]
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict(), check_exact=True)


def test_a_model_file_is_made_as_other_files_are(tmp_path):
    """Its mode follows the umask (mkstemp's 0600 is only the partial file's), a file it
    replaces keeps its mode, and a missing folder is named, not the partial file."""
    model = NaiveForecaster().fit(_frame(40)["load"])
    previous = os.umask(0o022)
    try:
        model.save(tmp_path / "m.npz")
        assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o644
        os.umask(0o077)
        model.save(tmp_path / "private.npz")
        assert stat.S_IMODE((tmp_path / "private.npz").stat().st_mode) == 0o600
        (tmp_path / "m.npz").chmod(0o640)
        model.save(tmp_path / "m.npz")
        assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o640
    finally:
        os.umask(previous)
    with pytest.raises(FileNotFoundError, match=f"cannot save to .*: there is no folder "
                                                f"{tmp_path / 'missing'}"):
        model.save(tmp_path / "missing" / "m.npz")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m.npz", "private.npz"]


def test_saving_writes_through_links_and_never_replaces_what_is_not_a_file(tmp_path,
                                                                         monkeypatch):
    """A symbolic link is written through, as open() does (a 'current model' link kept
    pointing at its file); a folder, a pipe (or a device: /dev/full was replaced as root), ''
    and a failure to write are refused naming the path given, not the partial file."""
    model = NaiveForecaster().fit(_frame(40)["load"])
    (tmp_path / "v7.npz").write_bytes(b"")
    (tmp_path / "current.npz").symlink_to("v7.npz")
    model.save(tmp_path / "current.npz")
    assert (tmp_path / "current.npz").is_symlink()
    assert load(tmp_path / "v7.npz").season == model.season
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    for name, error, reason in (("pipe", OSError, "it is not a regular file"),
                                ("folder", IsADirectoryError, "it is a folder; give a file name")):
        with pytest.raises(error, match=f"cannot save to {tmp_path / name}: {reason}"):
            model.save(tmp_path / name)
    assert stat.S_ISFIFO((tmp_path / "pipe").stat().st_mode)
    with pytest.raises(FileNotFoundError, match="cannot save to '': give a file name"):
        model.save("")

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system", str(tmp_path / ".m.npz.x.partial"))

    monkeypatch.setattr("tempfile.mkstemp", read_only)
    with pytest.raises(OSError, match=f"cannot save to {tmp_path / 'm.npz'}: Read-only file "
                                      f"system: '{tmp_path / 'm.npz'}'$"):
        model.save(tmp_path / "m.npz")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["current.npz", "folder", "pipe",
                                                                "v7.npz"]


def test_a_loaded_forecaster_continues_partial_fit(tmp_path):
    data = _frame()[["load"]]
    forecaster = SequenceForecaster(_rnn(), window=12, horizon=4, target_transform="diff")
    forecaster.partial_fit(data.iloc[:200])
    forecaster.save(tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")
    for model in (forecaster, loaded):
        model.partial_fit(data.iloc[:240])
    np.testing.assert_array_equal(loaded.predict(), forecaster.predict())
    assert loaded.regressor_.n_iter_ == forecaster.regressor_.n_iter_ == 2


def test_a_file_written_before_a_parameter_existed_loads_with_its_default(tmp_path):
    """Files written before a constructor parameter was added (here the probabilistic losses'
    quantiles and student_t_df, and the forecaster's loss and quantiles) load with that
    parameter at its default, and predict and clone as before."""
    from sklearn.base import clone

    rng = np.random.RandomState(0)
    data = pd.DataFrame({"y": rng.randn(120).cumsum()},
                        index=pd.date_range("2020-01-01", periods=120, freq="D"))
    forecaster = SequenceForecaster(LSTMRegressor(3, max_iter=2, random_state=0), window=8,
                                    horizon=2).fit(data)
    path, old = tmp_path / "new.sqf", tmp_path / "old.sqf"
    forecaster.save(path)
    removed = []

    def drop_new_parameters(node):
        if isinstance(node, dict):
            for key in ("quantiles", "student_t_df", "loss"):
                if key in node and (key != "loss" or node[key] is None):
                    removed.append(key)
                    del node[key]
            for value in node.values():
                drop_new_parameters(value)
        elif isinstance(node, list):
            for value in node:
                drop_new_parameters(value)

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(old, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "header.json":
                header = json.loads(content)
                drop_new_parameters(header["state"])
                content = json.dumps(header).encode()
            target.writestr(item, content)
    # The forecaster's loss and quantiles; quantiles and student_t_df of its regressor, given
    # and fitted.
    assert sorted(removed) == ["loss"] + ["quantiles"] * 3 + ["student_t_df"] * 2
    loaded = seqforecast.load(old)
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())
    assert clone(loaded).get_params()["quantiles"] is None
    assert loaded.regressor_.get_params()["quantiles"] == (0.05, 0.5, 0.95)
