"""SlidingWindowTransformer: window content, targets, transforms and their inverse, bad input."""
import re
import warnings

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


@pytest.mark.parametrize("target_transform",  # 'seasonal_diff': the tests below
                         sorted(t for t in TRANSFORMS if t not in (None, "seasonal_diff")))
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
    origins = windows.training_origins(len(frame))
    np.testing.assert_array_equal(windows.origin_values(frame.to_numpy(), origins), last)
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
    assert list(windows.get_feature_names_out(list(frame.columns))) == list(
        windows.get_feature_names_out())
    with pytest.raises(ValueError, match=r"input_features \['x'\] are not the columns"):
        windows.get_feature_names_out(["x"])
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
    frame.iloc[:, 1] = np.nan  # an empty column: said before any advice to fill
    for missing in ("error", "interpolate"):
        with pytest.raises(ValueError, match=r"data has columns without a value: \['p'\]; drop "
                                             r"them or fill them in"):
            check_series(frame, missing=missing)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.iloc[[0, 2, 1] + list(range(3, len(f)))], "not sorted by time: row 2"),
    (lambda f: pd.concat([f.iloc[:3], f.iloc[2:]]), "duplicate timestamps"),
    (lambda f: f.assign(label="x"), r"non-numeric columns \['label'\]"),
    (lambda f: f.assign(a=np.inf), "infinite"),
    (lambda f: f.assign(p=np.where(np.arange(len(f)) > 2, -np.inf, 1.0)),
     r"contains infinite values \(\d+\), the first in column 'p' at 2024-01-01 03:00"),
    # A categorical column is refused whatever the other columns' dtypes (float categories,
    # beside float columns, once slipped through).
    (lambda f: f.assign(p=pd.Categorical(np.arange(len(f)) % 3 * 1.0)),
     r"non-numeric columns \['p'\]"),
    (lambda f: f.assign(p=pd.Categorical(np.arange(len(f)) % 3)).astype({"a": "Int64"}),
     r"non-numeric columns \['p'\]"),
    # Times in a column, the index a RangeIndex: the advice is to make them the index.
    (lambda f: f.reset_index(), r"non-numeric columns \['time'\]: if 'time' holds the times, "
                                r"make it the index, set_index\('time'\) \(the index is a "
                                r"RangeIndex\)$"),
    (lambda f: f.reset_index().astype({"time": str}).assign(label="x"),
     r"set_index\('time'\) after pd.to_datetime .*; encode the others as numbers or drop them"),
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
    with pytest.raises(ValueError, match=r"6 rows, but window=4 \(\+1 row for 'diff'\) "
                                         r"and horizon=2 need at least 7"):
        windows.transform(frame)
    negative = frame.assign(a=frame["a"] - 3)
    log = SlidingWindowTransformer(2, targets=["a"], past_covariates=["p", "f"],
                                   target_transform="log_return").fit(negative)
    with pytest.raises(ValueError, match="needs positive targets"):
        log.transform(negative)
    with pytest.raises(ValueError, match="lacks the columns"):
        log.transform(frame[["a", "p"]])


def _seasonal(frame, window, horizon, season=3, **params):
    return SlidingWindowTransformer(window, horizon, target_transform="seasonal_diff",
                                    season=season, **params).fit(frame)


@pytest.mark.parametrize("gap", [0, 2])
@pytest.mark.parametrize("horizon", [2, 3, 8])  # shorter than, equal to, longer than the season
def test_seasonal_diff_targets_invert_exactly(horizon, gap):
    rng = np.random.RandomState(1)
    frame = pd.DataFrame(rng.randn(60, 4).cumsum(axis=0), columns=["a", "b", "p", "f"],
                         index=pd.date_range("2024-01-01", periods=60, freq="h"))
    windows = _seasonal(frame, 10, horizon, gap=gap, targets=["a", "b"], past_covariates=["p"],
                        future_covariates=["f"])
    Y = windows.transform_targets(frame)
    values, origins = frame.to_numpy(), windows.training_origins(len(frame))
    last = windows.origin_values(values, origins)
    assert Y.shape == (len(origins), horizon * 2) and last.shape == (len(origins), 3, 2)
    np.testing.assert_array_equal(last[:, -1], values[origins, :2])  # oldest first
    np.testing.assert_array_equal(last[:, 0], values[origins - 2, :2])
    # Step-major, as the other transforms: both targets of step 1, then step 2, ...
    future = values[origins[:, None] + np.arange(gap + 1, gap + horizon + 1), :2]
    np.testing.assert_allclose(windows.inverse_transform_targets(Y, last),
                               future.reshape(len(origins), -1), rtol=1e-12)
    # Without a gap the targets are the plain seasonal differences.
    if gap == 0:
        earlier = values[origins[:, None] + np.arange(1, horizon + 1) - 3, :2]
        np.testing.assert_allclose(Y, (future - earlier).reshape(len(origins), -1), rtol=1e-12)


def test_seasonal_diff_in_a_gap_refers_to_the_same_season_before_the_origin():
    frame = _frame(30)
    windows = _seasonal(frame, 4, 6, gap=2, targets=["a"], past_covariates=["p", "f"])
    values = frame["a"].to_numpy()
    origin = windows.training_origins(len(frame))[0]  # the targets are rows origin + 3 .. 8
    # Rows origin + 1, + 2 (the gap) stand for origin - 2, origin - 1; later steps chain.
    references = origin + np.array([0, -2, -1, 3, 4, 5])
    rows = origin + np.arange(3, 9)
    np.testing.assert_array_equal(windows.transform_targets(frame)[0],
                                  values[rows] - values[references])


def test_seasonal_diff_windows_and_lookback():
    frame = _frame(20)
    windows = _seasonal(frame, 4, 2, season=5, targets=["a"], past_covariates=["p"],
                        future_covariates=["f"])
    assert windows.lookback_ == 4 + 5
    origins = windows.training_origins(len(frame))
    assert origins[0] == 8 and origins[-1] == 17
    X = windows.transform(frame)
    a = frame["a"].to_numpy()
    np.testing.assert_array_equal(X[0, :, 0], a[5:9] - a[0:4])           # v_t - v_{t-5}
    np.testing.assert_array_equal(X[0, :, 1], [105, 106, 107, 108])      # covariates as they are
    np.testing.assert_array_equal(X[0, :, 2], [1007, 1008, 1009, 1010])
    curved = np.sin(np.arange(20.0)) + 0.1 * np.arange(20.0) ** 2
    values = frame.assign(a=curved)[windows.channels_].to_numpy()
    np.testing.assert_array_equal(windows.windows(values, origins[[3]])[0, :, 0],  # origin 11
                                  curved[8:12] - curved[3:7])


def test_seasonal_diff_of_a_seasonal_series_with_a_trend_is_constant():
    season, trend = 12, 0.25
    t = np.arange(120)
    pattern = np.random.RandomState(2).randn(season)
    frame = pd.DataFrame({"y": 10 + pattern[t % season] + trend * t},
                         index=pd.date_range("2010-01", periods=120, freq="MS"))
    windows = _seasonal(frame, 6, 18, season=season)  # horizon longer than the season
    np.testing.assert_allclose(windows.transform_targets(frame), trend * season, rtol=1e-12)
    np.testing.assert_allclose(windows.transform(frame), trend * season, rtol=1e-12)


@pytest.mark.parametrize("params, message", [
    ({"target_transform": "seasonal_diff"}, "'seasonal_diff' needs season.*got None"),
    ({"target_transform": "seasonal_diff", "season": 0}, "needs season.*got 0"),
    ({"target_transform": "seasonal_diff", "season": -12}, "needs season.*got -12"),
    ({"target_transform": "seasonal_diff", "season": 2.0}, "needs season.*got 2.0"),
    ({"target_transform": "seasonal_diff", "season": True}, "needs season.*got True"),
    ({"target_transform": "diff", "season": 12}, "season is only used with "
                                                 "target_transform='seasonal_diff', not 'diff'"),
    ({"season": 12}, "season is only used with target_transform='seasonal_diff', not None"),
])
def test_seasonal_diff_bad_season(params, message):
    with pytest.raises(ValueError, match=message):
        SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"], **params).fit(
            _frame())


def test_seasonal_diff_short_series_bad_shapes_and_any_sign():
    frame = _frame(10).assign(a=lambda f: f["a"] - 5)  # zero and negative targets: no division
    windows = _seasonal(frame, 4, 2, targets=["a"], past_covariates=["p", "f"])
    message = (r"8 rows, but window=4 \(\+3 rows for 'seasonal_diff'\) and horizon=2 "
               r"need at least 9")
    with pytest.raises(ValueError, match=message):
        windows.transform(frame.iloc[:8])
    origins = windows.training_origins(len(frame))
    assert list(origins) == [6, 7] and windows.transform(frame).shape == (2, 4, 3)
    Y = windows.transform_targets(frame)
    last = windows.origin_values(frame[windows.channels_].to_numpy(), origins)
    np.testing.assert_array_equal(windows.inverse_transform_targets(Y, last), [[3, 4], [4, 5]])
    with pytest.raises(ValueError, match=r"last_values \(n_windows, 3, 1\); got \(2, 2\) and "
                                         r"\(2, 1\)"):
        windows.inverse_transform_targets(Y, last[:, -1])  # the origin's row only


@pytest.mark.parametrize("params, message", [
    ({"stride": 0}, "stride must be an int >= 1, got 0"),
    ({"stride": 1.5}, "stride must be an int >= 1, got 1.5"),
    ({"horizon": True}, "horizon must be an int >= 1, got True"),
    ({"window": "3"}, r"window must be an int >= 1, got '3' \(a str\)"),
    ({"gap": 0.5}, "gap must be an int >= 0, got 0.5"),
])
def test_int_parameters_must_be_ints_in_range(params, message):
    with pytest.raises(ValueError, match=message):
        SlidingWindowTransformer(**{"window": 3, **params}).fit(_frame())
    np_ints = {"window": np.int64(3), "horizon": np.int32(2), "gap": np.int64(0)}
    assert SlidingWindowTransformer(**np_ints).fit(_frame()).transform(_frame()).shape[1] == 3


def test_origins_outside_the_series_name_the_valid_range():
    """Origin 0 with window 3 used to read rows -2 and -1: the end of the array."""
    frame = _frame()
    windows = SlidingWindowTransformer(3, 2, targets=["a"], past_covariates=["p"],
                                       future_covariates=["f"]).fit(frame)
    values = frame[windows.channels_].to_numpy()
    inputs_only = SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"]).fit(frame)
    with pytest.raises(ValueError, match=r"origin 0 is out of range for 12 rows: an origin needs "
                                         r"lookback_ - 1 = 2 rows before it, so the valid "
                                         r"origins are 2\.\.11"):
        inputs_only.windows(values, np.array([5, 0]))
    # Targets, and future covariates, are read gap + horizon rows after the origin.
    for read in (windows.windows, windows.window_targets):
        with pytest.raises(ValueError, match=r"origin 10 is out of range for 12 rows: .* and gap "
                                             r"\+ horizon = 2 rows after it, so the valid "
                                             r"origins are 2\.\.9"):
            read(values, np.array([2, 10]))
    diff = SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"],
                                    target_transform="diff").fit(frame)
    with pytest.raises(ValueError, match=r"origin 2 .* lookback_ - 1 = 3 rows before it"):
        diff.origin_values(values, np.array([2]))
    with pytest.raises(ValueError, match=r"origin 3 is out of range for 4 rows: .* none is "
                                         r"valid: 5 rows are needed"):
        windows.window_targets(values[:4], np.array([3]))
    with pytest.raises(TypeError, match="origins must be a 1-D array of row positions"):
        windows.windows(values, np.array([2.0, 3.0]))
    with pytest.raises(ValueError, match=r"values must be 2-D, \(n_rows, 3\).*got shape \(12, 2\)"):
        windows.windows(values[:, :2], np.array([2]))
    # In range, the windows are those of transform.
    origins = windows.training_origins(len(values))
    np.testing.assert_array_equal(windows.windows(values, origins), windows.transform(frame))


def test_windows_without_future_covariates_reach_the_last_row():
    """Only future covariates are read after the origin: a window may end at the last row,
    although its targets lie past the data (window_targets refuses that origin)."""
    frame = _frame()
    values = frame.to_numpy()  # a = t + 1, p = 100 + t, f = 1000 + t at row t
    for transform, target in ((None, lambda rows: rows + 1.0), ("diff", np.ones_like)):
        windows = SlidingWindowTransformer(5, 3, targets="a", past_covariates=["p", "f"],
                                           target_transform=transform).fit(frame)
        got = windows.windows(values, np.array([8, 11]))
        for window, origin in zip(got, (8, 11)):
            rows = np.arange(origin - 4, origin + 1.0)
            np.testing.assert_array_equal(window, np.column_stack([target(rows), 100 + rows,
                                                                   1000 + rows]))
        with pytest.raises(ValueError, match=r"origin 11 is out of range for 12 rows: .* and "
                                             r"gap \+ horizon = 3 rows after it, so the valid "
                                             r"origins are \d\.\.8"):
            windows.window_targets(values, np.array([8, 11]))


def test_missing_values_are_refused_with_advice_the_transformer_can_follow():
    """SlidingWindowTransformer has no missing= option: its error does not offer one."""
    frame = _frame()
    frame.iloc[4, 2] = np.nan
    windows = SlidingWindowTransformer(3, targets="a", past_covariates="p",
                                       future_covariates="f")
    message = (r"^X has 1 missing values \({'f': 1}\), the first in column 'f' at "
               r"2024-01-01 04:00:00; fill them$")
    with pytest.raises(ValueError, match=message):
        windows.fit(frame)
    windows.fit(frame.fillna(0.0))
    with pytest.raises(ValueError, match=message):
        windows.transform(frame)


def test_complex_values_are_refused_with_advice():
    frame = _frame()
    complex_frame = frame.assign(a=frame["a"] + 1j)
    windows = SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"]).fit(frame)
    values = complex_frame[windows.channels_].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before numpy drops the imaginary part
        with pytest.raises(TypeError, match=r"data has complex columns \['a'\]: forecasting needs "
                                            r"real numbers: split .* \(np\.real, np\.imag\)"):
            check_series(complex_frame)
        with pytest.raises(TypeError, match=r"X has complex columns \['a'\]"):
            SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"]).fit(
                complex_frame)
        with pytest.raises(TypeError, match=r"X has complex columns"):
            windows.transform(complex_frame)
        for read in (windows.windows, windows.window_targets, windows.origin_values):
            with pytest.raises(TypeError, match="values holds complex numbers"):
                read(values, np.array([2]))
        diff = SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"],
                                        target_transform="diff").fit(frame)
        with pytest.raises(TypeError, match="Y holds complex numbers"):
            diff.inverse_transform_targets(np.ones((1, 1)) * 1j, np.ones((1, 1)))
        with pytest.raises(TypeError, match="last_values holds complex numbers"):
            diff.inverse_transform_targets(np.ones((1, 1)), np.ones((1, 1)) * 1j)


def test_an_inverse_transform_that_overflows_says_so():
    frame = pd.DataFrame({"a": np.arange(1.0, 11.0)},
                         index=pd.date_range("2024-01-01", periods=10, freq="D"))
    log = SlidingWindowTransformer(3, 2, target_transform="log_return").fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from numpy on the way
        np.testing.assert_allclose(log.inverse_transform_targets([[0.0, 700.0]], [[1.0]]),
                                   [[1.0, np.exp(700.0)]])
        with pytest.raises(ValueError, match=r"the inverse of target_transform='log_return' "
                                             r"overflows: window 0's step 2 of target 0 is "
                                             r"710 relative to its reference"):
            log.inverse_transform_targets([[0.0, 710.0]], [[1.0]])


def test_check_series_refuses_an_index_it_cannot_put_in_time_order():
    """Missing labels (NaN, NaT) and labels of types that do not compare are named as such,
    before the duplicate and the sorting checks."""
    values = {"y": np.arange(4.0)}
    with pytest.raises(ValueError, match=r"^data has missing timestamps \(NaN or NaT index "
                                         r"labels\) in 2 rows, the first at row 1; drop"):
        check_series(pd.DataFrame(values, index=pd.DatetimeIndex(
            ["2020-01-01", None, "2020-01-03", None])))
    with pytest.raises(TypeError, match=r"^data's index mixes labels of the types \['int', "
                                        r"'str'\], which cannot be put in time order"):
        check_series(pd.DataFrame(values, index=pd.Index([0, "b", 2, 3], dtype=object)))
    with pytest.raises(ValueError, match="data is not sorted by time: row 1"):  # one type
        check_series(pd.DataFrame(values, index=["b", "a", "c", "d"]))


def test_columns_fit_did_not_see_are_refused_not_dropped():
    frame = _frame(10)
    windows = SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"]).fit(frame)
    with pytest.raises(ValueError, match=r"X has the columns \['z'\], which fit did not see"):
        windows.transform(frame.assign(z=1.0))
    with pytest.raises(ValueError, match="flatten must be True or False, got 'False'"):
        SlidingWindowTransformer(3, flatten="False").fit(frame)


def test_values_a_transform_cannot_take_are_named_by_timestamp():
    frame = _frame(10)
    windows = SlidingWindowTransformer(3, targets=["a"], past_covariates=["p", "f"],
                                       target_transform="log_return").fit(frame.abs() + 1)
    bad = frame.abs() + 1
    bad.iloc[4, 0] = 0.0
    with pytest.raises(ValueError, match=f"needs positive targets; X has values <= 0: 0 in "
                                         f"column 'a' at row {bad.index[4]}"):
        windows.transform(bad)


def test_several_series_in_one_multiindex_frame_are_told_to_go_in_a_dict():
    """A (series, time) MultiIndex, as load_stocks returns it, is refused with the recipe
    for the dict that several series take (pandas raised 'isna is not defined')."""
    from sklearn.linear_model import Ridge

    from seqforecast import SequenceForecaster

    index = pd.date_range("2024-01-01", periods=30, freq="D")
    long = pd.concat({"a": pd.DataFrame({"y": np.arange(30.0)}, index=index),
                      "b": pd.DataFrame({"y": 2 * np.arange(30.0)}, index=index)},
                     names=["series", "date"])
    recipe = ("has a MultiIndex: one series is indexed by time alone; several series go in a "
              "dict of frames, e.g. {key: frame.droplevel(0) for key, frame in "
              "data.groupby(level='series')}")
    with pytest.raises(TypeError, match="^data " + re.escape(recipe)):
        SequenceForecaster(Ridge(), window=5, horizon=2).fit(long)
    with pytest.raises(TypeError, match="^X " + re.escape(recipe)):
        SlidingWindowTransformer(5).fit(long)
    data = {key: frame.droplevel(0) for key, frame in long.groupby(level="series")}
    forecast = SequenceForecaster(Ridge(), window=5, horizon=2).fit(data).predict()
    assert list(forecast.index.get_level_values(0)) == ["a", "a", "b", "b"]


@pytest.mark.parametrize("width", [1, 12])
def test_check_series_copies_numeric_columns_as_float64_and_names_the_others(width):
    stamps = pd.date_range("2024-01-01", periods=5, freq="h")
    kinds = [np.float64, np.float32, np.int64, np.uint8]
    frame = pd.DataFrame({f"c{i}": np.arange(5).astype(kinds[i % 4]) for i in range(width)},
                         index=stamps)
    checked = check_series(frame)
    assert checked.dtypes.tolist() == [np.float64] * width
    assert np.array_equal(checked.to_numpy(), np.tile(np.arange(5.0), (width, 1)).T)
    checked.iloc[0, 0] = 99.0  # a copy, also of a frame that is float64 already
    assert frame.iloc[0, 0] == 0
    for column, message in [(np.arange(5) > 2, "non-numeric"), (np.arange(5) + 1j, "complex"),
                            (pd.Categorical(np.arange(5.0)), "non-numeric"),
                            (np.array(["x"] * 5, dtype=object), "non-numeric")]:
        with pytest.raises(TypeError, match=rf"data has {message} columns \['bad'\]"):
            check_series(frame.assign(bad=column))
