"""SlidingWindowTransformer: window content, targets, transforms and their inverse, bad input."""
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from seqforecast import SlidingWindowTransformer
from seqforecast.windowing import TRANSFORMS, check_series


def _frame(n=12):
    """Columns whose values name their row: a = t + 1, p = 100 + t, f = 1000 + t."""
    t = np.arange(n, dtype=float)
    index = pd.date_range("2024-01-01", periods=n, freq="h", name="time")
    return pd.DataFrame({"a": t + 1, "p": 100 + t, "f": 1000 + t}, index=index)


def test_windows_targets_and_origins_line_up():
    frame = _frame()
    windows = SlidingWindowTransformer(3, 2, targets=["a"], past_covariates=["p"],
                                       future_covariates=["f"]).fit(frame)
    X, Y = windows.transform(frame), windows.transform_targets(frame)
    origins = windows.origins(frame)
    # Origins 2 .. 9 (the targets of origin 9 are rows 10 and 11).
    assert X.shape == (8, 3, 3) and Y.shape == (8, 2)
    assert list(origins) == list(frame.index[2:10])
    first = X[0]
    np.testing.assert_array_equal(first[:, 0], [1, 2, 3])           # a at rows 0..2
    np.testing.assert_array_equal(first[:, 1], [100, 101, 102])     # p at rows 0..2
    np.testing.assert_array_equal(first[:, 2], [1002, 1003, 1004])  # f two rows later
    np.testing.assert_array_equal(Y[0], [4, 5])                     # a at rows 3, 4
    np.testing.assert_array_equal(Y[-1], [11, 12])
    assert windows.channels_ == ["a", "p", "f"]


def test_gap_with_future_covariates_reads_the_covariate_at_the_forecast_times():
    frame = _frame(20)
    windows = SlidingWindowTransformer(4, 2, gap=2, targets=["a"], past_covariates=["p"],
                                       future_covariates=["f"]).fit(frame)
    X, Y = windows.transform(frame), windows.transform_targets(frame)
    # Origin row 3: targets at rows 6 and 7; the covariate channel reads rows 4 .. 7.
    np.testing.assert_array_equal(Y[0], [7, 8])
    np.testing.assert_array_equal(X[0, :, 2], [1004, 1005, 1006, 1007])
    assert list(windows.get_target_names_out()) == ["a_h3", "a_h4"]
    with pytest.raises(ValueError, match=r"future covariates need window >= gap \+ horizon"):
        SlidingWindowTransformer(3, 2, gap=2, targets=["a"], past_covariates=["p"],
                                 future_covariates=["f"]).fit(frame)


def test_the_callers_frame_is_not_changed_and_integer_labels_work():
    frame = pd.DataFrame({0: np.arange(10.0), 1: np.ones(10)},
                         index=pd.date_range("2024", periods=10, freq="D"))
    windows = SlidingWindowTransformer(3, targets=[0], past_covariates=[1]).fit(frame)
    assert list(frame.columns) == [0, 1]
    assert windows.channels_ == ["0", "1"] and windows.transform(frame).shape == (7, 3, 2)


def test_stride_counts_back_from_the_last_origin_and_gap_skips_rows():
    frame = _frame()
    windows = SlidingWindowTransformer(2, 1, stride=3, gap=1, targets=["a"],
                                       past_covariates=["p", "f"]).fit(frame)
    origins = windows.origins(frame)
    # The last origin is row 9 (target row 11 after a gap of one row).
    assert list(origins) == list(frame.index[[3, 6, 9]])
    np.testing.assert_array_equal(windows.transform_targets(frame)[:, 0], [6, 9, 12])


@pytest.mark.parametrize("target_transform", sorted(t for t in TRANSFORMS if t))
def test_relative_targets_invert_exactly(target_transform):
    rng = np.random.RandomState(0)
    values = 50 * np.exp(np.cumsum(0.05 * rng.randn(40)))
    frame = pd.DataFrame({"price": values, "volume": rng.rand(40)},
                         index=pd.bdate_range("2024-01-01", periods=40))
    windows = SlidingWindowTransformer(5, 3, past_covariates=["volume"],
                                       target_transform=target_transform).fit(frame)
    Y = windows.transform_targets(frame)
    last = frame.loc[windows.origins(frame), ["price"]].to_numpy()
    future = np.column_stack([frame["price"].shift(-h).loc[windows.origins(frame)]
                              for h in (1, 2, 3)])
    np.testing.assert_allclose(windows.inverse_transform_targets(Y, last), future, rtol=1e-12)
    X = windows.transform(frame)
    origin = windows.lookback_ - 1  # the first window's origin row
    rows, previous = values[origin - 4:origin + 1], values[max(origin - 5, 0):origin]
    expected = {"diff": lambda: rows - previous, "return": lambda: rows / previous - 1,
                "log_return": lambda: np.log(rows / previous), "last_value": lambda: rows / rows[-1]}
    np.testing.assert_allclose(X[0, :, 0], expected[target_transform](), rtol=1e-12)
    np.testing.assert_array_equal(X[0, :, 1], frame["volume"].to_numpy()[origin - 4:origin + 1])


def test_flat_windows_have_names_and_a_pandas_output():
    frame = _frame()
    windows = SlidingWindowTransformer(2, 2, targets=["a"], past_covariates=["p"],
                                       future_covariates=["f"], flatten=True).fit(frame)
    assert list(windows.get_feature_names_out()) == [
        "a_t-1", "p_t-1", "f_t+1", "a_t+0", "p_t+0", "f_t+2"]
    assert list(windows.get_target_names_out()) == ["a_h1", "a_h2"]
    out = windows.set_output(transform="pandas").transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list(windows.origins(frame))
    np.testing.assert_array_equal(out.loc[frame.index[1]].to_numpy(),
                                  [1, 100, 1002, 2, 101, 1003])
    cube = SlidingWindowTransformer(2, targets=["a"], past_covariates=["p", "f"])
    with pytest.raises(ValueError, match="needs flatten=True"):
        cube.set_output(transform="pandas").fit(frame).transform(frame)


def test_series_input_and_clone():
    series = _frame()["a"]
    windows = SlidingWindowTransformer(4, 2).fit(series)
    assert windows.transform(series).shape == (7, 4, 1)
    assert clone(windows).get_params() == windows.get_params()


def test_missing_values_error_or_interpolate():
    frame = _frame()
    frame.iloc[4, 0] = np.nan
    with pytest.raises(ValueError, match="1 missing values .* column 'a' at 2024-01-01 04:00"):
        check_series(frame)
    filled = check_series(frame, missing="interpolate")
    assert filled.iloc[4, 0] == 5.0
    frame.iloc[0, 1] = np.nan
    with pytest.raises(ValueError, match="at its start or end"):
        check_series(frame, missing="interpolate")


@pytest.mark.parametrize("change, message", [
    (lambda f: f.iloc[[0, 2, 1] + list(range(3, len(f)))], "not sorted by time: row 2"),
    (lambda f: pd.concat([f.iloc[:3], f.iloc[2:]]), "duplicate timestamps"),
    (lambda f: f.assign(label="x"), r"non-numeric columns \['label'\]"),
    (lambda f: f.assign(a=np.inf), "infinite"),
    (lambda f: f.iloc[:0], "empty"),
])
def test_bad_series(change, message):
    with pytest.raises((ValueError, TypeError), match=message):
        SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"]).fit(
            change(_frame()))


@pytest.mark.parametrize("params, message", [
    ({"targets": ["b"]}, r"targets names unknown columns \['b'\]"),
    ({"targets": ["a"], "past_covariates": ["p"]}, r"columns \['f'\] are neither targets nor "
                                                   "covariates"),
    ({"targets": ["a", "p"], "past_covariates": ["p", "f"]}, "both targets and covariates"),
    ({"past_covariates": ["p"], "future_covariates": ["p", "f"]}, "both a past and a future"),
    ({"past_covariates": ["a", "p", "f"]}, "no target column"),
    ({"window": 0}, "window must be an int >= 1"),
    ({"gap": -1}, "gap must be an int >= 0"),
    ({"target_transform": "log"}, "target_transform must be one of"),
])
def test_bad_roles_and_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        SlidingWindowTransformer(**{"window": 3, **params}).fit(_frame())


def test_too_short_series_and_impossible_transforms():
    frame = _frame(6)
    windows = SlidingWindowTransformer(4, 2, targets=["a"], past_covariates=["p", "f"],
                                       target_transform="diff").fit(frame)
    with pytest.raises(ValueError, match=r"6 rows, but window=4 \(\+1 row for 'diff'\), gap=0 "
                                         r"and horizon=2 need at least 7"):
        windows.transform(frame)
    negative = frame.assign(a=frame["a"] - 3)
    log = SlidingWindowTransformer(2, targets=["a"], past_covariates=["p", "f"],
                                   target_transform="log_return").fit(negative)
    with pytest.raises(ValueError, match="needs positive targets"):
        log.transform(negative)
    with pytest.raises(ValueError, match="lacks the columns"):
        log.transform(frame[["a", "p"]])
