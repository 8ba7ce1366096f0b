"""Property-based tests (hypothesis): every input works or fails with an error that names it.

The property, for the estimators, the window transformer and the forecasters:
an input either works, and then the output is finite, of the right shape and
(for the forecasters) indexed by the right timestamps, or it raises a
ValueError or TypeError whose message says what is wrong (not an internal
message such as "list index out of range" or a KeyError).  Inputs that must
fail (NaN, empty arrays, mismatched lengths, unsorted timestamps, ...) are
checked to fail.

The runs are reproducible (``derandomize=True``, no example database) and
bounded: about 700 examples in all (about 10 s on 2 cores), networks of at
most 4 units trained for one epoch on a handful of samples.  About half of
the examples are valid input and the rest spoil one thing each, so that both
sides of the property are exercised (``--hypothesis-show-statistics`` counts
what worked and which errors were raised).

Every bug these tests found has a reproducer at the end of the file, named
for the behaviour it now asserts (the right result or the clear error).
"""
import math
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from seqforecast import (GRURegressor, LSTMRegressor, NaiveForecaster, RNNRegressor,
                         SequenceForecaster, SlidingWindowTransformer, backtest)

try:
    from numpy.exceptions import ComplexWarning
except ImportError:  # numpy < 2
    from numpy import ComplexWarning


# SEQFORECAST_FUZZ=N runs N times as many examples, from a random seed (a deeper search,
# e.g. before a release: SEQFORECAST_FUZZ=20 pytest tests/test_fuzz.py).  Unset: the
# fixed, bounded run that CI does.
DEPTH = int(os.environ.get("SEQFORECAST_FUZZ", "0") or 0)


def fuzz_settings(max_examples):
    """Reproducible and bounded: a fixed example sequence, no database, no deadline."""
    return settings(max_examples=max_examples * max(DEPTH, 1), deadline=None,
                    derandomize=not DEPTH, database=None, print_blob=bool(DEPTH),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# Messages that come from the inside of Python, numpy or pandas, not from a check that
# names the problem (lower case).
INTERNAL_MESSAGES = (
    "list index out of range", "index out of range", "out of bounds for axis",
    "'nonetype' object", "unhashable", "not subscriptable", "object is not iterable",
    "not supported between instances", "has no attribute", "object of type",
    "too many indices", "could not be broadcast", "cannot reshape array",
    "unsupported operand", "division by zero", "unexpected keyword argument",
    "required positional argument", "must not contain infs or nans", "truth value of",
)


def check_message(error):
    """A ValueError/TypeError whose message is not empty and not an internal one."""
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    message = str(error).strip()
    assert message, f"{type(error).__name__} without a message"
    lower = message.lower()
    for internal in INTERNAL_MESSAGES:
        assert internal not in lower, f"internal message: {type(error).__name__}: {message}"
    # A KeyError's repr ("KeyError: 'x'") or a bare quoted key is not an explanation.
    assert not re.fullmatch(r"['\"][^'\"]*['\"]", message), f"bare key: {message}"
    assert "keyerror" not in lower, message


def attempt(function):
    """``(result, None)`` or ``(None, error)`` for a ValueError/TypeError with a good message.

    Any other exception propagates (a crash); a ComplexWarning (the imaginary
    part of an input dropped silently) is an error too.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", ComplexWarning)
        try:
            result = function()
        except (ValueError, TypeError) as error:
            check_message(error)
            event(f"{type(error).__name__}: {_first_words(error)}")
            return None, error
        event("works")
        return result, None


def _first_words(error):
    """An error message without its numbers and names, to count kinds of errors."""
    return re.sub(r"[\d'\"\[\(].*", "", str(error).splitlines()[0])[:50]


def is_count(value):
    """A positive int, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def assert_finite(values, what):
    values = np.asarray(values, dtype=np.float64)
    assert np.isfinite(values).all(), f"{what} is not finite: {values}"


# ---------------------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------------------

REGRESSORS = [RNNRegressor, LSTMRegressor, GRURegressor]
SPECIALS = [None, np.nan, np.inf, -np.inf, 0.0, 5e-324, 1e-40, 3e38, 1e39, 1e300, -1e300]


def make_array(seed, shape, kind, scale=1.0, special=None):
    """A random array of a kind, and what it holds: ``(array, facts)``.

    facts: ``invalid`` (values no float can hold: NaN, inf, None, letters,
    a nonzero imaginary part), ``max_abs`` and ``min_abs`` of the nonzero
    float values (None when not numeric).
    """
    rng = np.random.default_rng(seed)
    base = np.asarray(rng.standard_normal(shape))
    facts = {"invalid": False, "max_abs": None, "min_abs": None}
    if kind in ("float64", "float32", "float16", "object_float", "object_none", "numeric_str",
                "complex", "complex_real"):
        values = np.asarray(base * scale)
        if special is not None and values.size:
            values.flat[int(rng.integers(values.size))] = special
        with np.errstate(all="ignore"):
            if kind in ("float32", "float16"):
                values = values.astype(kind)
            values = values.astype(np.float64)
        finite = values[np.isfinite(values) & (values != 0)]
        facts.update(invalid=not np.isfinite(values).all(),
                     max_abs=float(np.abs(finite).max()) if finite.size else 0.0,
                     min_abs=float(np.abs(finite).min()) if finite.size else 0.0)
        if kind in ("float32", "float16"):
            with np.errstate(all="ignore"):
                array = values.astype(kind)
        elif kind == "object_float":
            array = values.astype(object)
        elif kind == "object_none":
            array = values.astype(object)
            if array.size:
                array.flat[0] = None
                facts["invalid"] = True
        elif kind == "numeric_str":
            array = values.astype(str)
        elif kind == "complex":
            array = values + 1j
            facts["invalid"] = facts["invalid"] or values.size > 0
        elif kind == "complex_real":
            array = values + 0j
        else:
            array = values
        return np.asarray(array), facts  # 0-D arithmetic gives numpy scalars
    if kind in ("int64", "int8", "uint8"):
        info = np.iinfo(kind)
        array = rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True)
        array = array.astype(kind)
        nonzero = np.abs(array[array != 0]).astype(float)
        facts.update(max_abs=float(nonzero.max()) if nonzero.size else 0.0,
                     min_abs=float(nonzero.min()) if nonzero.size else 0.0)
        return array, facts
    if kind == "bool":
        return base > 0, {**facts, "max_abs": 1.0, "min_abs": 1.0}
    if kind == "letters":
        array = np.full(shape, "abc", dtype=object)
        return array, {**facts, "invalid": array.size > 0}
    if kind == "datetime":
        return (np.datetime64("2024-01-01") + (base * 1000).astype("timedelta64[D]"),
                facts)
    raise AssertionError(kind)


FLOAT_LIMITS = {"float32": float(np.finfo(np.float32).max),
                "float64": float(np.finfo(np.float64).max)}


def out_of_range(facts, dtype):
    """Whether numeric values are beyond what the model's dtype holds (tiny ones: either way)."""
    if facts["max_abs"] is None:
        return False
    return facts["max_abs"] > FLOAT_LIMITS[dtype]


@st.composite
def regressor_params(draw, n_timesteps):
    params = {"hidden_sizes": draw(st.sampled_from([1, 2, 4, (2, 3)])),
              "dtype": draw(st.sampled_from(["float32", "float64"])),
              "max_iter": 1, "random_state": 0}
    extra = draw(st.sampled_from(["none", "none", "ar_window", "early_stopping", "batch_size",
                                  "dropout", "tbptt", "solver", "loss", "relu_or_peephole"]))
    if extra == "ar_window":
        params["ar_window"] = draw(st.integers(1, max(1, n_timesteps + 1)))
    elif extra == "early_stopping":
        params.update(early_stopping=True,
                      validation_fraction=draw(st.sampled_from([0.1, 0.5, 0.9])))
    elif extra == "batch_size":
        params["batch_size"] = draw(st.integers(1, 8))
    elif extra == "dropout":
        params["dropout"] = 0.5
    elif extra == "tbptt":
        params["tbptt_steps"] = draw(st.integers(1, 3))
    elif extra == "solver":
        params["solver"] = draw(st.sampled_from(["sgd", "rmsprop"]))
    elif extra == "loss":
        params["loss"] = draw(st.sampled_from(["absolute_error", "huber"]))
    return params, extra


# Kinds and scales of arrays that a regressor should take, and the ways to spoil them.
GOOD_KINDS = ["float64", "float64", "float32", "int64", "int8", "uint8", "bool",
              "object_float", "numeric_str", "float16"]
BAD_KINDS = ["object_none", "letters", "complex", "complex_real", "datetime"]
GOOD_SCALES = [1.0, 1.0, 1e-30, 1e-6, 1e6, 1e30]
EXTREME_SCALES = [1e-300, 1e-40, 1e37, 1e300]
ESTIMATOR_SPOILERS = ["x_ndim", "empty", "x_kind", "x_special", "x_scale", "y_kind",
                      "y_special", "y_scale", "y_length", "y_ndim"]


@st.composite
def estimator_fits(draw):
    """Valid X and y for a regressor, about half of the time with one thing spoiled."""
    spoiler = draw(st.sampled_from(["none"] * len(ESTIMATOR_SPOILERS) + ESTIMATOR_SPOILERS))
    ndim = draw(st.sampled_from([2, 3]))
    if spoiler == "x_ndim":
        ndim = draw(st.sampled_from([1, 4]))
    n, steps = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    features = draw(st.integers(1, 2))
    if spoiler == "empty":
        axis = draw(st.sampled_from(["samples", "steps", "features"]))
        n, steps, features = (0 if axis == "samples" else n, 0 if axis == "steps" else steps,
                              0 if axis == "features" else features)
    shape = {1: (n,), 2: (n, steps), 3: (n, steps, features), 4: (n, steps, features, 1)}[ndim]

    def array_spec(prefix):
        kinds = BAD_KINDS + ["float64"] if spoiler == f"{prefix}_kind" else GOOD_KINDS
        specials = SPECIALS[1:] if spoiler == f"{prefix}_special" else [None]
        scales = EXTREME_SCALES if spoiler == f"{prefix}_scale" else GOOD_SCALES
        return (draw(st.sampled_from(kinds)), draw(st.sampled_from(scales)),
                draw(st.sampled_from(specials)))

    x_kind, x_scale, x_special = array_spec("x")
    y_kind, y_scale, y_special = array_spec("y")
    y_length = n + (draw(st.sampled_from([-1, 1])) if spoiler == "y_length" else 0)
    y_ndim = draw(st.sampled_from([0, 3] if spoiler == "y_ndim" else [1, 1, 2]))
    y_shape = {0: (), 1: (max(y_length, 0),), 2: (max(y_length, 0), draw(st.integers(1, 3))),
               3: (max(y_length, 0), 1, 1)}[y_ndim]
    params, extra = draw(regressor_params(steps))
    event(f"spoiler: {spoiler}")
    return {"regressor": draw(st.sampled_from(REGRESSORS)), "params": params,
            "container": draw(st.sampled_from(["array", "array", "array", "list", "frame"])),
            "x": (draw(st.integers(0, 2 ** 32 - 1)), shape, x_kind, x_scale, x_special),
            "y": (draw(st.integers(0, 2 ** 32 - 1)), y_shape, y_kind, y_scale, y_special)}


def _fit_must_fail(case, X, x_facts, y, y_facts):
    """Why this fit must raise (None when it may work)."""
    dtype = case["params"]["dtype"]
    if X.ndim not in (2, 3):
        return "X is not 2-D or 3-D"
    if 0 in X.shape:
        return "X is empty"
    if y.ndim not in (1, 2) or 0 in y.shape:  # also 0-D
        return "y is not 1-D or 2-D, or empty"
    if len(y) != len(X):
        return "X and y have different lengths"
    if x_facts["invalid"] or y_facts["invalid"]:
        return "NaN, inf, None, letters or complex values"
    if out_of_range(x_facts, dtype) or out_of_range(y_facts, dtype):
        return f"values beyond {dtype}"
    return None


@fuzz_settings(max_examples=80)
@given(estimator_fits())
def test_estimators_fit_and_predict_or_say_why_not(case):
    X, x_facts = make_array(*case["x"])
    y, y_facts = make_array(*case["y"])
    note(f"X {X.dtype} {X.shape} {x_facts}; y {y.dtype} {y.shape} {y_facts}; "
         f"{case['container']}")
    given_X = X
    if case["container"] == "list":
        given_X = X.tolist()
    elif case["container"] == "frame" and X.ndim == 2:
        given_X = pd.DataFrame(X, columns=[f"lag{i}" for i in range(X.shape[1])])
    model = case["regressor"](**case["params"])
    must_fail = _fit_must_fail(case, X, x_facts, y, y_facts)
    fitted, error = attempt(lambda: model.fit(given_X, y))
    if error is not None:
        return
    assert must_fail is None, f"fit accepted bad input ({must_fail})"
    prediction, error = attempt(lambda: model.predict(given_X))
    assert error is None, f"predict failed on the training X: {error!r}"
    expected = (len(X),) if y.ndim == 1 else (len(X), y.shape[1])
    assert prediction.shape == expected and prediction.dtype == np.float64
    assert_finite(prediction, "the prediction")
    assert model.n_timesteps_in_ == X.shape[1]


def _fitted(regressor, ndim, dtype):
    key = (regressor, ndim, dtype)
    if key not in _FITTED:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((6, 3, 2)[:ndim])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITTED[key] = regressor(2, max_iter=1, random_state=0, dtype=dtype).fit(
                X, rng.standard_normal((6, 2)))
    return _FITTED[key]


_FITTED = {}


@st.composite
def predict_inputs(draw):
    """X like the training data, about half of the time with one thing spoiled."""
    spoiler = draw(st.sampled_from(["none"] * 6 + ["ndim", "empty", "steps", "features", "kind",
                                                   "special", "scale"]))
    fit_ndim = draw(st.sampled_from([2, 3]))
    ndim = draw(st.sampled_from([1, 2, 3, 4])) if spoiler == "ndim" else fit_ndim
    n = 0 if spoiler == "empty" else draw(st.integers(1, 5))
    steps = draw(st.sampled_from([0, 1, 4])) if spoiler == "steps" else 3
    features = draw(st.sampled_from([0, 1, 3])) if spoiler == "features" else 2
    shape = {1: (n,), 2: (n, steps), 3: (n, steps, features), 4: (n, steps, features, 1)}[ndim]
    kind = draw(st.sampled_from(BAD_KINDS if spoiler == "kind" else GOOD_KINDS))
    scale = draw(st.sampled_from(EXTREME_SCALES if spoiler == "scale" else GOOD_SCALES))
    special = draw(st.sampled_from(SPECIALS[1:] if spoiler == "special" else [None]))
    event(f"spoiler: {spoiler}")
    return {"regressor": draw(st.sampled_from(REGRESSORS)), "fit_ndim": fit_ndim,
            "dtype": draw(st.sampled_from(["float32", "float64"])),
            "x": (draw(st.integers(0, 2 ** 32 - 1)), shape, kind, scale, special)}


@fuzz_settings(max_examples=60)
@given(predict_inputs())
def test_a_fitted_estimator_predicts_or_says_why_not(case):
    model = _fitted(case["regressor"], case["fit_ndim"], case["dtype"])
    X, facts = make_array(*case["x"])
    note(f"X {X.dtype} {X.shape} {facts}")
    layout = (6, 3, 2)[1:case["fit_ndim"]]
    must_fail = (X.ndim != case["fit_ndim"] or X.shape[1:] != layout or len(X) == 0
                 or facts["invalid"] or out_of_range(facts, case["dtype"]))
    prediction, error = attempt(lambda: model.predict(X))
    if error is not None:
        return
    assert not must_fail, f"predict accepted {X.dtype} {X.shape} {facts}"
    assert prediction.shape == (len(X), 2) and prediction.dtype == np.float64
    assert_finite(prediction, "the prediction")


# ---------------------------------------------------------------------------------------
# Frames: random series with random columns, values and indexes
# ---------------------------------------------------------------------------------------

GOOD_COLUMNS = ["float", "float", "float", "int", "object_float", "nullable_int"]
BAD_COLUMNS = ["bool", "str", "complex", "complex_real", "category", "datetime"]
GOOD_INDEXES = ["daily", "daily", "hourly", "monthly", "timedelta", "range", "irregular"]
BAD_INDEXES = ["shuffled", "duplicate", "strings", "float_nan", "nat", "mixed"]
BAD_VALUES = [np.nan, np.inf, -np.inf, 0.0, -1.0, 1e300, 1e-300]


def make_index(kind, n, rng):
    """An index of a kind: timestamps, positions or worse."""
    if kind in ("daily", "hourly", "monthly", "irregular", "shuffled", "duplicate", "nat"):
        freq = {"hourly": "h", "monthly": "MS"}.get(kind, "D")
        stamps = pd.date_range("2021-01-01", periods=n, freq=freq, name="time")
        if kind == "irregular" and n > 2:
            stamps = stamps + pd.to_timedelta(rng.integers(0, 12, n).cumsum(), unit="h")
        if kind == "shuffled" and n > 1:
            stamps = stamps[rng.permutation(n)]
        if kind == "duplicate" and n > 1:
            stamps = stamps[np.r_[0, np.arange(n - 1)]]
        if kind == "nat" and n:
            stamps = pd.DatetimeIndex([pd.NaT, *stamps[1:]], name="time")
        return stamps
    if kind == "timedelta":
        return pd.timedelta_range(0, periods=n, freq="s", name="time")
    if kind == "range":
        return pd.RangeIndex(n)
    if kind == "strings":
        return pd.Index([f"t{i}" for i in range(n)])
    if kind == "float_nan":
        return pd.Index([np.nan, *range(1, n)], dtype=float)[:n]
    if kind == "mixed":  # str and int labels, which cannot be ordered
        return pd.Index([0, "t1", *range(2, n)][:n], dtype=object)
    raise AssertionError(kind)


def index_is_clean(index):
    """Sorted, unique and without missing labels."""
    return (not index.hasnans and index.is_unique
            and (len(index) < 2 or bool(index.is_monotonic_increasing)))


def make_column(kind, n, rng, scale, special, positive):
    values = rng.standard_normal(n) * scale
    if positive:
        values = np.abs(values) + scale
    if special is not None and n:
        values[int(rng.integers(n))] = special
    if kind == "float":
        return values
    if kind == "int":
        return rng.integers(1 if positive else -50, 50, n)
    if kind == "bool":
        return values > 0
    if kind == "str":
        return np.array([f"v{i}" for i in range(n)], dtype=object)
    if kind == "complex":
        return values + 1j
    if kind == "complex_real":
        return values + 0j
    if kind == "category":
        return pd.Categorical(rng.choice(["a", "b"], n))
    if kind == "datetime":
        return pd.date_range("2000-01-01", periods=n, freq="D")
    if kind == "nullable_int":
        column = pd.array(rng.integers(1, 50, n), dtype="Int64")
        if n and special is not None:
            column[0] = pd.NA
        return column
    if kind == "object_float":
        return values.astype(object)
    raise AssertionError(kind)


FRAME_SPOILERS = ["column_kind", "index", "value", "names", "empty", "scale"]


@st.composite
def frames(draw, spoiler="none", min_rows=1, max_rows=40):
    """``(frame, facts)``: a numeric frame indexed by time, or spoiled as ``spoiler`` says.

    facts: per column (by name as a str) its kind, its values as floats (None
    when not numeric) and whether they hold NaN or inf; the index kind.
    """
    n = 0 if spoiler == "empty" else draw(st.integers(min_rows, max_rows))
    count = draw(st.integers(1, 3))
    names = ["y", "x", "z"][:count]
    if spoiler == "names":  # duplicates, ints, ints that collide with strings
        names = draw(st.lists(st.sampled_from(["y", "x", 0, 1, "0"]), min_size=count,
                              max_size=count))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    scale = draw(st.sampled_from([1e-300, 1e-200, 1e200, 1e300] if spoiler == "scale"
                                 else [1.0, 1.0, 1e-100, 1e-10, 1e10, 1e100]))
    positive = draw(st.booleans())
    spoiled = draw(st.integers(0, count - 1))
    columns, facts = {}, {}
    for position, name in enumerate(names):
        spoil = position == spoiled
        kind = draw(st.sampled_from(BAD_COLUMNS if spoil and spoiler == "column_kind"
                                    else GOOD_COLUMNS))
        special = draw(st.sampled_from(BAD_VALUES)) if spoil and spoiler == "value" else None
        column = make_column(kind, n, rng, scale, special, positive)
        columns[position] = column
        numeric = kind in ("float", "int", "complex_real", "object_float", "nullable_int")
        if kind == "nullable_int":
            values = pd.array(column, dtype="Float64").to_numpy(np.float64, na_value=np.nan)
        elif numeric:
            values = np.real(np.asarray(column, dtype=complex)).astype(float)
        else:
            values = None
        facts[str(name)] = {"kind": kind, "values": values,
                            "bad": None if numeric else f"{kind} column",
                            "nan": values is not None and bool(np.isnan(values).any()),
                            "inf": values is not None and bool(np.isinf(values).any())}
    frame = pd.DataFrame(columns)
    frame.columns = names
    index_kind = draw(st.sampled_from(BAD_INDEXES if spoiler == "index" else GOOD_INDEXES))
    frame.index = make_index(index_kind, n, rng)
    return frame, {"columns": facts, "index_kind": index_kind}


def frame_problem(frame, facts):
    """Why ``check_series`` must refuse this frame (None when it may accept it)."""
    names = [str(c) for c in frame.columns]
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        return "empty"
    if len(set(names)) != len(names):
        return "duplicate column names"
    for column in facts["columns"].values():
        if column["bad"] and column["kind"] != "bool":  # bool: either way
            return column["bad"]
    if not index_is_clean(frame.index):
        return "unsorted, duplicate or missing timestamps"
    for column in facts["columns"].values():
        if column["nan"]:
            return "missing values"
        if column["inf"]:
            return "infinite values"
    return None


# ---------------------------------------------------------------------------------------
# SlidingWindowTransformer
# ---------------------------------------------------------------------------------------

TRANSFORMER_SPOILERS = ["window", "horizon", "stride", "gap", "transform", "season",
                        "roles", "length"]
BAD_PARAMETERS = {"window": [0, -1, 2.0, "3", None, True], "horizon": [0, 1.5, None],
                  "stride": [0, -2, 1.0], "gap": [-1, 0.5]}


@st.composite
def transformer_cases(draw):
    """A frame and transformer parameters, about half of the time with one thing spoiled."""
    spoilers = FRAME_SPOILERS + TRANSFORMER_SPOILERS
    spoiler = draw(st.sampled_from(["none"] * len(spoilers) + spoilers))
    event(f"spoiler: {spoiler}")
    frame, facts = draw(frames(spoiler if spoiler in FRAME_SPOILERS else "none",
                               min_rows=1 if spoiler == "length" else 8,
                               max_rows=5 if spoiler == "length" else 40))
    transform = draw(st.sampled_from([None, None, "diff", "return", "log_return",
                                      "last_value", "seasonal_diff", "seasonal_diff"]))
    season = draw(st.sampled_from([1, 2, 3, 7])) if transform == "seasonal_diff" else None
    if spoiler == "transform":
        transform = draw(st.sampled_from(["foo", "Diff", "seasonal"]))
    if spoiler == "season":
        transform, season = draw(st.sampled_from([("seasonal_diff", 0), ("seasonal_diff", 2.5),
                                                  ("seasonal_diff", None), ("diff", 3),
                                                  (None, 1)]))
    params = {"window": draw(st.sampled_from([1, 2, 3, 5, 8, np.int64(4)])),
              "horizon": draw(st.sampled_from([1, 1, 2, 3])),
              "stride": draw(st.sampled_from([1, 1, 2, 5])),
              "gap": draw(st.sampled_from([0, 0, 1, 3])),
              "target_transform": transform, "season": season,
              "flatten": draw(st.booleans())}
    if spoiler in BAD_PARAMETERS:
        params[spoiler] = draw(st.sampled_from(BAD_PARAMETERS[spoiler]))
    # Roles: each column a target, past or future covariate; targets listed or implied.
    columns = list(frame.columns)
    roles = {"targets": [], "past_covariates": [], "future_covariates": []}
    for column in columns:
        roles[draw(st.sampled_from(list(roles)))].append(column)
    if not roles["targets"] and columns:
        roles["targets"].append(roles[max(roles, key=lambda r: len(roles[r]))].pop())
    if spoiler == "roles":
        how = draw(st.sampled_from(["unknown", "two_roles", "no_role", "no_target"]))
        if how == "unknown":
            roles[draw(st.sampled_from(list(roles)))].append("unknown")
        elif how == "two_roles":
            roles[draw(st.sampled_from(["past_covariates", "future_covariates"]))].append(
                roles["targets"][0])
        elif how == "no_role" and len(columns) > 1:
            roles["targets"] = roles["targets"][:1]
            roles["past_covariates"] = roles["future_covariates"] = []
        else:
            roles["past_covariates"] += roles["targets"]
            roles["targets"] = []
    implied = draw(st.booleans()) and spoiler != "roles"
    for name, listed in roles.items():
        value = listed or None
        if name == "targets" and implied:
            value = None
        elif value is not None and len(value) == 1 and draw(st.booleans()):
            value = value[0]  # a single name
        params[name] = value
    return frame, facts, params


def _names(value):
    if value is None:
        return []
    return [str(value)] if isinstance(value, (str, int, float)) else [str(v) for v in value]


def _transformer_must_fail(params, frame, facts):
    """Why fit + transform must raise (None when they may work)."""
    for name, low in (("window", 1), ("horizon", 1), ("stride", 1), ("gap", 0)):
        value = params[name]
        if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                and value >= low):
            return f"bad {name}"
    transform, season = params["target_transform"], params["season"]
    if transform not in (None, "diff", "return", "log_return", "last_value", "seasonal_diff"):
        return "unknown transform"
    if transform == "seasonal_diff" and not (isinstance(season, int) and season >= 1):
        return "seasonal_diff without a valid season"
    if transform != "seasonal_diff" and season is not None:
        return "season without seasonal_diff"
    problem = frame_problem(frame, facts)
    if problem:
        return problem
    columns = [str(c) for c in frame.columns]
    roles = {name: _names(params[name])
             for name in ("targets", "past_covariates", "future_covariates")}
    for names in roles.values():
        if any(name not in columns for name in names):
            return "unknown column"
        if len(set(names)) != len(names):
            return "a column named twice"
    covariates = roles["past_covariates"] + roles["future_covariates"]
    targets = roles["targets"] if params["targets"] is not None else [
        c for c in columns if c not in covariates]
    if not targets:
        return "no target"
    if set(targets) & set(covariates) or set(roles["past_covariates"]) & set(
            roles["future_covariates"]):
        return "a column with two roles"
    if set(columns) - set(targets) - set(covariates):
        return "a column without a role"
    if roles["future_covariates"] and params["window"] < params["gap"] + params["horizon"]:
        return "future covariates need a longer window"
    lag = {None: 0, "last_value": 0, "seasonal_diff": season}.get(transform, 1)
    if len(frame) < params["window"] + lag + params["gap"] + params["horizon"]:
        return "too short"
    target_values = np.concatenate([facts["columns"][t]["values"] for t in targets
                                    if facts["columns"][t]["values"] is not None] or [[]])
    if transform == "log_return" and (target_values <= 0).any():
        return "log_return of values <= 0"
    if transform in ("return", "last_value") and (target_values == 0).any():
        return "division by a zero target"
    return None


@fuzz_settings(max_examples=200)
@given(transformer_cases())
def test_the_window_transformer_works_or_says_why_not(case):
    frame, facts, params = case
    note(f"{params}\n{frame.dtypes.to_dict()}\nindex {facts['index_kind']}\n{frame.head(8)}")
    must_fail = _transformer_must_fail(params, frame, facts)
    windower = SlidingWindowTransformer(**params)

    def run():
        windower.fit(frame)
        return windower.transform(frame), windower.transform_targets(frame), \
            windower.origins(frame)

    result, error = attempt(run)
    if error is not None:
        return
    assert must_fail is None, f"the transformer accepted bad input ({must_fail})"
    X, Y, origins = result
    n_channels, k = len(windower.channels_), windower.n_targets_
    window, horizon, gap = params["window"], params["horizon"], params["gap"]
    assert len(X) == len(Y) == len(origins) >= 1
    assert X.shape[1:] == ((window * n_channels,) if params["flatten"] else (window, n_channels))
    assert Y.shape[1:] == (horizon * k,)
    assert_finite(X, "the windows")
    assert_finite(Y, "the targets")
    # Origins: every stride-th row counted back from the last one with all its targets.
    positions = frame.index.get_indexer(origins)
    assert positions[-1] == len(frame) - 1 - gap - horizon
    assert (np.diff(positions) == params["stride"]).all()
    # Without a transform, the last step of a window is the origin's row and the targets
    # are the rows after the gap.
    frame = frame.rename(columns=str)
    if params["target_transform"] is None:
        values = frame[windower.channels_[:k]].to_numpy(dtype=np.float64)
        last = X.reshape(len(X), window, n_channels)[:, -1, :k]
        np.testing.assert_array_equal(last, values[positions])
        rows = positions[:, None] + np.arange(gap + 1, gap + horizon + 1)
        np.testing.assert_array_equal(Y, values[rows].reshape(len(X), -1))
    else:  # the inverse transform gives the targets back
        values = frame[windower.channels_].to_numpy(dtype=np.float64)
        restored = windower.inverse_transform_targets(
            Y, windower.origin_values(values, positions))
        rows = positions[:, None] + np.arange(gap + 1, gap + horizon + 1)
        np.testing.assert_allclose(restored, values[rows, :k].reshape(len(X), -1),
                                   rtol=1e-6, atol=1e-9 * np.abs(values[:, :k]).max())


# ---------------------------------------------------------------------------------------
# Forecasters
# ---------------------------------------------------------------------------------------

FREQS = ["D", "h", "MS", "W-SUN", "B", "30min"]
SERIES_SPOILERS = ["gap", "nan", "nan_first", "inf", "duplicate", "unsorted", "range_index",
                   "text_column", "complex_column", "nat_index"]
# "nan" (an interior NaN) is fine with missing='interpolate'.
PERTURBATIONS = ["none"] * 8 + SERIES_SPOILERS


@st.composite
def series_frames(draw, min_rows=12, max_rows=50, spoil=True):
    """``(frame, facts)``: a regular series of 1-3 columns, perhaps spoiled in one way."""
    perturbation = draw(st.sampled_from(PERTURBATIONS + ["short"])) if spoil else "none"
    n = draw(st.integers(1, 6) if perturbation == "short" else st.integers(min_rows, max_rows))
    freq = draw(st.sampled_from(FREQS))
    timedelta = draw(st.integers(0, 5)) == 0
    index = (pd.timedelta_range("1D", periods=n, freq="h", name="time") if timedelta else
             pd.date_range("2020-01-01", periods=n, freq=freq, name="time"))
    freq = "h" if timedelta else freq
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    # Up to 1e100: scale=False hands the raw values to Ridge, whose normal equations
    # overflow beyond about 1e150 (a limit of Ridge, not of seqforecast).
    scale = draw(st.sampled_from([1.0, 1.0, 1.0, 1e-200, 1e-8, 1e8, 1e100]))
    n_columns = draw(st.integers(1, 3))
    t = np.arange(n)
    data = {"y": scale * (10 + np.sin(t / 2.0) + 0.1 * rng.standard_normal(n))}
    for name in ("x1", "x2")[:n_columns - 1]:
        data[name] = rng.standard_normal(n)
    frame = pd.DataFrame(data, index=index)
    row = draw(st.integers(1, max(1, n - 2))) if n > 2 else 0
    column = draw(st.sampled_from(list(frame.columns)))
    if perturbation in ("gap", "nan", "duplicate", "unsorted") and n <= 3:
        perturbation = "none"  # needs a few rows
    if perturbation == "gap":
        frame = frame.drop(frame.index[row])
    elif perturbation == "nan":  # an interior row
        frame.iloc[row, frame.columns.get_loc(column)] = np.nan
    elif perturbation == "nan_first":
        frame.iloc[0, frame.columns.get_loc(column)] = np.nan
    elif perturbation == "inf":
        frame.iloc[row, frame.columns.get_loc(column)] = np.inf
    elif perturbation == "duplicate":
        frame = frame.iloc[np.r_[0, np.arange(n - 1)]]
    elif perturbation == "unsorted":
        frame = frame.iloc[::-1]
    elif perturbation == "range_index":
        frame = frame.reset_index(drop=True)
    elif perturbation == "nat_index":
        frame.index = frame.index.where(np.arange(n) != row)  # NaT at that row
    elif perturbation == "text_column":
        frame[column] = [f"v{i}" for i in range(len(frame))]
    elif perturbation == "complex_column":
        frame[column] = frame[column] + 1j
    elif perturbation != "short":
        perturbation = "none"
    return frame, {"freq": freq, "perturbation": perturbation, "column": column,
                   "n": len(frame)}


def _series_problem(facts, missing, used):
    """Why a forecaster must refuse the series (None when it may accept it)."""
    perturbation = facts["perturbation"]
    if perturbation in ("gap", "duplicate", "unsorted", "range_index", "text_column",
                        "complex_column", "inf", "nat_index"):
        return perturbation
    if perturbation == "nan_first" and facts["column"] in used:
        return "a missing first value"
    if perturbation == "nan" and missing == "error" and facts["column"] in used:
        return "a missing value"
    return None


def expected_index(frame, freq, steps):
    """The ``steps`` timestamps after the last one, computed here (not by the package)."""
    last = frame.index[-1]
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(last, pd.Timedelta):
        return pd.timedelta_range(last + offset, periods=steps, freq=offset)
    return pd.date_range(last + offset, periods=steps, freq=offset)


@st.composite
def forecaster_params(draw, columns, spoil=True):
    spoiler = draw(st.sampled_from(["none"] * 6 + ["window", "strategy", "unknown_target",
                                                   "freq"] if spoil else ["none"]))
    strategy = draw(st.sampled_from(["direct", "direct", "recursive"]))
    if spoiler == "strategy":
        strategy = draw(st.sampled_from(["sideways", "Direct", None]))
    transform = draw(st.sampled_from([None, None, "diff", "log_return", "return",
                                      "last_value", "seasonal_diff"]))
    others = [c for c in columns if c != "y"]
    roles = {"targets": ["y"], "past_covariates": [], "future_covariates": []}
    for column in others:
        roles[draw(st.sampled_from(["past_covariates", "future_covariates", "targets"]))].append(
            column)
    if spoiler == "unknown_target":
        roles["targets"].append("unknown")
    return {"window": draw(st.sampled_from([0, -1] if spoiler == "window" else [1, 2, 3, 4, 6])),
            "horizon": draw(st.sampled_from([1, 2, 3, 5])), "strategy": strategy,
            "target_transform": transform,
            "season": draw(st.sampled_from([2, 4])) if transform == "seasonal_diff" else None,
            "window_norm": draw(st.sampled_from([None, None, "standard", "last"])),
            "scale": draw(st.sampled_from([True, True, False])),
            "missing": draw(st.sampled_from(["error", "interpolate"])),
            "stride": draw(st.sampled_from([1, 1, 2])),
            "freq": "wrong" if spoiler == "freq" else draw(st.sampled_from([None, "given"])),
            **{name: value or None for name, value in roles.items()}}


def future_covariates_for(forecaster, frame, freq, n_rows, kind, columns, rng):
    """A future_covariates argument: right, or wrong in one way."""
    index = expected_index(frame, freq, n_rows)
    if kind == "none":
        return None
    if not columns:  # none needed: "right" passes none, the others pass some
        return None if kind == "right" else pd.DataFrame({"other": np.ones(n_rows)}, index)
    covariates = pd.DataFrame(rng.standard_normal((n_rows, len(columns))), index=index,
                              columns=columns)
    if kind == "extra_column":
        covariates["other"] = 1.0
    elif kind == "missing_column":
        covariates = covariates.iloc[:, 1:] if len(columns) > 1 else covariates.rename(
            columns={columns[0]: "other"})
    elif kind == "short":
        covariates = covariates.iloc[:-1]
    elif kind == "shifted":
        covariates.index = covariates.index + 7 * pd.tseries.frequencies.to_offset(freq)
    elif kind == "nan":
        covariates.iloc[-1, 0] = np.nan
    elif kind == "series" and len(columns) == 1:
        covariates = covariates[columns[0]]
    elif kind == "ndarray":
        covariates = covariates.to_numpy()
    return covariates


def _predict_must_fail(forecaster, params, steps, covariate_kind, future_columns):
    if steps is not None and not is_count(steps):
        return "bad horizon"
    n_steps = params["horizon"] if steps is None else steps
    if params["strategy"] == "direct" and n_steps > params["horizon"]:
        return "beyond a direct forecaster's horizon"
    if future_columns and covariate_kind in ("none", "missing_column", "short", "shifted",
                                             "nan", "ndarray"):
        return f"future covariates: {covariate_kind}"
    if not future_columns and covariate_kind not in ("none", "right"):
        return "future covariates that are not needed"
    return None


def check_forecast(forecaster, params, frame, facts, rng, steps, covariate_kind):
    """predict(steps) works, right index and columns, finite; or fails as it must."""
    future_columns = list(forecaster.windower_.future_covariates_) if hasattr(
        forecaster, "windower_") else []
    n_steps = params["horizon"] if steps is None else steps
    if is_count(n_steps):
        n_rows = (params["horizon"] if params["strategy"] == "direct" else n_steps)
    else:
        n_rows = 3
    covariates = future_covariates_for(forecaster, frame, facts["freq"], max(n_rows, 1),
                                       covariate_kind, future_columns, rng)
    must_fail = _predict_must_fail(forecaster, params, steps, covariate_kind, future_columns)
    forecast, error = attempt(lambda: forecaster.predict(steps, future_covariates=covariates))
    if error is not None:
        if must_fail is None:
            # Refusing a forecast the model can make is a failure too.
            raise AssertionError(f"predict({steps!r}) failed on good input: {error!r}")
        return
    assert must_fail is None, f"predict accepted bad input ({must_fail})"
    assert isinstance(forecast, pd.DataFrame)
    assert list(forecast.columns) == forecaster.targets_
    assert forecast.index.equals(expected_index(frame, facts["freq"], n_steps)), forecast.index
    assert_finite(forecast.to_numpy(dtype=np.float64), "the forecast")


STEPS = st.sampled_from([None, None, 1, 2, 4, 9, 0, -1, 1.5, "2", True])
COVARIATE_KINDS = st.sampled_from(["right", "right", "right", "none", "extra_column",
                                   "missing_column", "short", "shifted", "nan", "series",
                                   "ndarray"])


def _fit_problem(params, frame, facts):
    """Why SequenceForecaster.fit must raise (None when it may work)."""
    used = [c for c in frame.columns]
    problem = _series_problem(facts, params["missing"], used)
    if problem:
        return problem
    if params["window"] < 1:
        return "window < 1"
    if params["strategy"] not in ("direct", "recursive"):
        return "unknown strategy"
    if params["strategy"] == "recursive" and params["past_covariates"]:
        return "recursive with past covariates"
    if params["targets"] and "unknown" in params["targets"]:
        return "unknown target column"
    if params["freq"] == "wrong":
        return "wrong freq"
    if params["future_covariates"] and params["strategy"] == "direct" and \
            params["window"] < params["horizon"]:
        return "future covariates need a longer window"
    return None


def _build_forecaster(params, regressor, facts):
    freq = {"given": facts["freq"], "wrong": "7min"}.get(params["freq"])
    return SequenceForecaster(regressor, **{**params, "freq": freq})


@fuzz_settings(max_examples=150)
@given(series_frames(), st.data())
def test_a_ridge_forecaster_fits_and_predicts_or_says_why_not(frame_and_facts, data):
    frame, facts = frame_and_facts
    params = data.draw(forecaster_params(list(frame.columns)))
    note(f"{params}\n{facts}\n{frame.head(10)}")
    forecaster = _build_forecaster(params, Ridge(), facts)
    fit_problem = _fit_problem(params, frame, facts)
    fitted, error = attempt(lambda: forecaster.fit(frame))
    if error is not None:
        return
    assert fit_problem is None, f"fit accepted bad input ({fit_problem})"
    rng = np.random.default_rng(0)
    check_forecast(forecaster, params, frame, facts, rng, data.draw(STEPS, "steps"),
                   data.draw(COVARIATE_KINDS, "future covariates"))
    check_forecast(forecaster, params, frame, facts, rng, None, "right")


@fuzz_settings(max_examples=10)
@given(series_frames(max_rows=30, spoil=False), st.data())
def test_a_tiny_network_forecaster_fits_and_predicts_or_says_why_not(frame_and_facts, data):
    frame, facts = frame_and_facts
    params = data.draw(forecaster_params(list(frame.columns), spoil=False))
    regressor = data.draw(st.sampled_from([GRURegressor, LSTMRegressor, RNNRegressor]))(
        2, max_iter=1, random_state=0)
    note(f"{params}\n{facts}\n{regressor}")
    forecaster = _build_forecaster(params, regressor, facts)
    fit_problem = _fit_problem(params, frame, facts)
    fitted, error = attempt(lambda: forecaster.fit(frame))
    if error is not None:
        return
    assert fit_problem is None, f"fit accepted bad input ({fit_problem})"
    check_forecast(forecaster, params, frame, facts, np.random.default_rng(0),
                   data.draw(STEPS, "steps"), "right")


@st.composite
def naive_cases(draw):
    """Series and NaiveForecaster options, about half of the time with one thing spoiled."""
    spoiler = draw(st.sampled_from(["none"] * 4 + ["series", "season", "targets", "steps"]))
    frame_and_facts = draw(series_frames(spoil=spoiler == "series"))
    season = draw(st.sampled_from([0, 2.0, None, 100] if spoiler == "season" else [1, 2, 3, 7]))
    targets = draw(st.sampled_from([["q"], ["y", "q"], []] if spoiler == "targets" else
                                   [["y"], "y", None, ["y", "x1"]]))
    if targets is None and len(frame_and_facts[0].columns) > 1:
        targets = ["y"]
    if targets == ["y", "x1"] and "x1" not in frame_and_facts[0].columns:
        targets = ["y"]
    steps = draw(STEPS if spoiler == "steps" else st.sampled_from([None, 1, 2, 4, 9]))
    return (frame_and_facts, season, draw(st.sampled_from([1, 2, 5])), targets,
            draw(st.sampled_from(["error", "interpolate"])), steps)


@fuzz_settings(max_examples=60)
@given(naive_cases())
def test_the_naive_forecaster_repeats_the_last_season_or_says_why_not(case):
    frame_and_facts, season, horizon, targets, missing, steps = case
    frame, facts = frame_and_facts
    note(f"season={season} horizon={horizon} targets={targets} {facts}\n{frame.head()}")
    forecaster = NaiveForecaster(season, horizon, targets=targets, missing=missing)
    fitted, error = attempt(lambda: forecaster.fit(frame))
    if error is not None:
        return
    problem = _series_problem(facts, missing, list(frame.columns))
    assert problem is None, f"fit accepted bad input ({problem})"
    assert isinstance(season, int) and 1 <= season <= len(frame)
    forecast, error = attempt(lambda: forecaster.predict(steps))
    n_steps = horizon if steps is None else steps
    if error is not None:
        assert not is_count(n_steps), f"predict({steps!r}) refused: {error!r}"
        return
    assert is_count(n_steps)
    names = forecaster.targets_
    assert forecast.index.equals(expected_index(frame, facts["freq"], n_steps))
    # missing='interpolate' fills interior gaps linearly in time.
    method = "time" if isinstance(frame.index, pd.DatetimeIndex) else "index"
    history = frame[names].interpolate(method=method, limit_area="inside").to_numpy()[-season:]
    expected = history[np.arange(n_steps) % season]
    np.testing.assert_allclose(forecast.to_numpy(), expected, rtol=1e-12)
    assert_finite(forecast.to_numpy(), "the forecast")


@fuzz_settings(max_examples=30)
@given(series_frames(min_rows=20, max_rows=60),
       st.sampled_from(["naive", "naive", "ridge"]), st.integers(1, 4),
       st.sampled_from([None, 2, 4, 7, 0]), st.sampled_from([True, False, 2]),
       st.sampled_from([1, 2, 12]))
def test_a_backtest_scores_every_fold_or_says_why_not(frame_and_facts, model, n_folds,
                                                     test_size, refit, season):
    frame, facts = frame_and_facts
    forecaster = (NaiveForecaster(1, 2) if model == "naive" else
                  SequenceForecaster(Ridge(), window=3, horizon=2))
    note(f"{model} n_folds={n_folds} test_size={test_size} refit={refit} season={season}")
    result, error = attempt(lambda: backtest(forecaster, frame, n_folds=n_folds,
                                             test_size=test_size, refit=refit, season=season))
    if error is not None:
        return
    assert _series_problem(facts, "error", list(frame.columns)) is None
    assert list(result.by_fold.index) == list(range(n_folds))
    assert list(result.by_fold.columns) == ["MAE", "RMSE", "MAPE", "MASE"]
    assert_finite(result.by_fold[["MAE", "RMSE"]], "MAE and RMSE")
    # MASE is NaN where it is undefined (a constant training fold), never infinite.
    assert not np.isinf(result.by_fold["MASE"]).any() and not np.isinf(result.by_step["MASE"]).any()
    assert_finite(result.predictions[["actual", "predicted", "error"]], "the predictions")


SCORE_SPOILERS = ["skip_first", "gap", "renamed", "nan", "short", "elsewhere", "extra_column"]


@st.composite
def score_cases(draw):
    """A fitted forecaster and the rows after its fit, perhaps spoiled in one way."""
    frame, facts = draw(series_frames(min_rows=20, max_rows=50, spoil=False))
    frame = frame[["y"]]
    horizon = draw(st.integers(1, 3))
    cut = draw(st.integers(12, len(frame) - 1))
    spoiler = draw(st.sampled_from(["none"] * len(SCORE_SPOILERS) + SCORE_SPOILERS))
    test = frame.iloc[cut:].copy()
    if spoiler == "skip_first":
        test = test.iloc[1:]
    elif spoiler == "gap" and len(test) > 2:
        test = test.drop(test.index[1])
    elif spoiler == "gap":
        spoiler = "none"
    elif spoiler == "renamed":
        test = test.rename(columns={"y": "q"})
    elif spoiler == "nan":
        test.iloc[draw(st.integers(0, len(test) - 1)), 0] = np.nan
    elif spoiler == "short":
        test = test.iloc[:horizon - 1]
    elif spoiler == "elsewhere":
        test.index = test.index + 1000 * pd.tseries.frequencies.to_offset(facts["freq"])
    elif spoiler == "extra_column":
        test["other"] = 1.0
    elif spoiler != "none":
        spoiler = "none"
    model = draw(st.sampled_from(["naive", "ridge", "ridge_recursive"]))
    season = draw(st.integers(1, 4))
    forecaster = (NaiveForecaster(season, horizon) if model == "naive" else
                  SequenceForecaster(Ridge(), window=3, horizon=horizon,
                                     strategy="recursive" if "recursive" in model else "direct"))
    return forecaster, frame.iloc[:cut], test, spoiler, season


@fuzz_settings(max_examples=50)
@given(score_cases())
def test_score_is_a_finite_negative_mae_or_says_why_not(case):
    forecaster, train, test, spoiler, season = case
    note(f"{forecaster} spoiler={spoiler}\ntrain {train.index[[0, -1]]}\n{test}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecaster.fit(train)
    score, error = attempt(lambda: forecaster.score(test))
    must_fail = spoiler in ("skip_first", "gap", "renamed", "nan", "short", "elsewhere") or \
        len(test) < forecaster.horizon
    if error is not None:
        assert must_fail, f"score refused good data: {error!r}"
        return
    assert not must_fail, f"score accepted bad data ({spoiler})"
    assert np.isfinite(score) and score <= 0
    if isinstance(forecaster, NaiveForecaster):  # the MAE of every origin, computed here
        values = np.r_[train["y"].to_numpy(), test["y"].to_numpy()]
        h, errors = forecaster.horizon, []
        for origin in range(len(train) - 1, len(values) - h):
            for step in range(1, h + 1):
                back = season * math.ceil(step / season)
                errors.append(abs(values[origin + step - back] - values[origin + step]))
        np.testing.assert_allclose(score, -np.mean(errors), rtol=1e-9)


@st.composite
def global_cases(draw):
    """Several series for one model, perhaps one of them unlike the others."""
    first, facts = draw(series_frames(min_rows=15, max_rows=30, spoil=False))
    first = first[["y"]]
    count = draw(st.integers(1, 3))
    keys = draw(st.lists(st.sampled_from(["a", "b", "c", 0, 1]), min_size=count,
                         max_size=count, unique=True))
    spoiler = draw(st.sampled_from(["none"] * 4 + ["columns", "freq", "short", "nan", "empty"]))
    series = {}
    for number, key in enumerate(keys):
        frame = first * (number + 1)
        frame.index = frame.index + number * pd.tseries.frequencies.to_offset(facts["freq"])
        series[key] = frame
    last = series[keys[-1]]
    if spoiler in ("columns", "freq") and len(keys) == 1:
        spoiler = "none"  # one series is unlike no other
    if spoiler == "columns":
        last = last.rename(columns={"y": "q"})
    elif spoiler == "freq" and isinstance(last.index, pd.DatetimeIndex):
        last.index = pd.date_range("2020", periods=len(last), freq="7min", name="time")
    elif spoiler == "short":
        last = last.iloc[:3]
    elif spoiler == "nan":
        last.iloc[5, 0] = np.nan
    elif spoiler == "empty":
        series = {}
    else:
        spoiler = "none"
    if series:
        series[keys[-1]] = last
    return series, facts, spoiler, draw(st.integers(1, 3))


@fuzz_settings(max_examples=40)
@given(global_cases())
def test_a_global_model_forecasts_every_series_or_says_why_not(case):
    series, facts, spoiler, horizon = case
    note(f"spoiler={spoiler} keys={list(series)}")
    forecaster = SequenceForecaster(Ridge(), window=3, horizon=horizon)
    fitted, error = attempt(lambda: forecaster.fit(series))
    if error is not None:
        assert spoiler != "none", f"fit refused good data: {error!r}"
        return
    assert spoiler == "none", f"fit accepted bad data ({spoiler})"
    forecast, error = attempt(lambda: forecaster.predict())
    assert error is None, repr(error)
    assert list(forecast.index.get_level_values(0).unique()) == list(series)
    for key, frame in series.items():
        part = forecast.xs(key, level=0)
        assert part.index.equals(expected_index(frame, facts["freq"], horizon))
    assert_finite(forecast.to_numpy(), "the forecast")


# ---------------------------------------------------------------------------------------
# Bugs found by the property tests, one reproducer each, now regression tests
# ---------------------------------------------------------------------------------------

def _daily(values, columns=("y",), start="2020-01-01"):
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    return pd.DataFrame(values, columns=list(columns),
                        index=pd.date_range(start, periods=len(values), freq="D"))


def expect_clear_error(function, *patterns):
    """The call raises ValueError/TypeError with a good message (matching a pattern)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError)) as info:
            function()
    check_message(info.value)
    if patterns:
        assert any(re.search(p, str(info.value), re.I) for p in patterns), str(info.value)


# One reproducer per bug the property tests found, each asserting the right behaviour
# or the clear error.


@pytest.mark.parametrize("make", [
    lambda: SlidingWindowTransformer(2),
    lambda: NaiveForecaster(),
    lambda: SequenceForecaster(Ridge(), 2),
], ids=["transformer", "naive", "ridge"])
@pytest.mark.parametrize("index", [
    pd.Index([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    pd.DatetimeIndex([pd.NaT, *pd.date_range("2020", periods=6, freq="D")]),
], ids=["nan", "nat"])
def test_an_index_with_missing_labels_is_refused(index, make):
    """windowing.check_series (every forecaster's too): an index with NaN/NaT labels gave
    IndexError 'index 0 is out of bounds for axis 0 with size 0'."""
    frame = pd.DataFrame({"y": np.arange(7.0)}, index=index)
    with pytest.raises(ValueError, match=r"missing timestamps \(NaN or NaT index labels\) in 1 "
                                         r"row, the first at row 0"):
        make().fit(frame)


def test_an_index_mixing_str_and_int_is_refused():
    """windowing.check_series: a str/int index gave TypeError "'<' not supported ..."."""
    frame = pd.DataFrame({"y": np.arange(4.0)}, index=[1, "b", 2, 3])
    with pytest.raises(TypeError, match=r"X's index mixes labels of the types \['int', 'str'\], "
                                        r"which cannot be put in time order"):
        SlidingWindowTransformer(2).fit(frame)


@pytest.mark.parametrize("make, pattern", [
    (lambda: SlidingWindowTransformer(2, target_transform=["diff"]),
     r"target_transform must be one of \[None, 'diff'.*\], got \['diff'\]"),
    (lambda: SlidingWindowTransformer(2, targets=1.5),
     r"targets names unknown columns \['1\.5'\]"),
    (lambda: NaiveForecaster(targets=1.5), r"targets names unknown columns \['1\.5'\]"),
    (lambda: NaiveForecaster(targets=[["y"]]), r"targets must list column names .*a list"),
    (lambda: SlidingWindowTransformer(2, past_covariates=object()),
     r"past_covariates must be a column name or a list of column names"),
], ids=["transform-list", "targets-float", "naive-targets-float", "naive-nested-list",
        "covariates-object"])
def test_options_that_are_unhashable_or_not_lists_are_refused(make, pattern):
    """SlidingWindowTransformer.fit gave 'unhashable type: list', and _checks.check_column_list
    (windowing._column_list then) and NaiveForecaster._fit "'float' object is not iterable".
    A number names one column (as a column label, compared as a str)."""
    expect_clear_error(lambda: make().fit(_daily(np.arange(1.0, 11.0))), pattern)


def test_a_number_names_one_column():
    """The column labelled 1.5 (a float label, a str in the checked frame) is targets=1.5."""
    frame = _daily(np.c_[np.arange(1.0, 11.0), np.ones(10)], ("y", 1.5))
    assert NaiveForecaster(targets=1.5).fit(frame).targets_ == ["1.5"]
    windower = SlidingWindowTransformer(2, targets=1.5, past_covariates="y").fit(frame)
    assert windower.channels_ == ["1.5", "y"]


@pytest.mark.parametrize("make, twice", [
    (lambda: SlidingWindowTransformer(2, targets=["y", "y"], past_covariates=["x"]), "targets"),
    (lambda: SlidingWindowTransformer(2, targets=["y"], past_covariates=["x", "x"]),
     "past_covariates"),
    (lambda: SlidingWindowTransformer(2, future_covariates=["x", "x"]), "future_covariates"),
    (lambda: NaiveForecaster(targets=["x", "x"]), "targets"),
    (lambda: SequenceForecaster(Ridge(), 2, targets=["y", "y"], past_covariates="x"),
     "targets"),
], ids=["targets", "past-covariates", "future-covariates", "naive-targets", "ridge-targets"])
def test_a_column_named_twice_in_a_role_is_refused(make, twice):
    """SlidingWindowTransformer.fit used a column named twice in targets twice (two identical
    channels, silently); named twice in past_covariates, the error said 'a column cannot be
    both a past and a future covariate: []'.  NaiveForecaster._fit forecast two identical
    "x" columns, silently."""
    frame = _daily(np.c_[np.arange(1.0, 11.0), np.ones(10)], ("y", "x"))
    with pytest.raises(ValueError, match=rf"^{twice} names the columns \['[xy]'\] more than "
                                         rf"once: list each column once$"):
        make().fit(frame)


def test_the_naive_forecaster_takes_a_target_named_by_a_string():
    """NaiveForecaster._fit iterated a str: targets="x1" failed with 'targets names unknown
    columns ['x', '1']'; a str names one column, as in SlidingWindowTransformer."""
    frame = _daily(np.c_[np.arange(1.0, 11.0), np.arange(21.0, 31.0)], ("y", "x1"))
    forecast = NaiveForecaster(targets="x1", horizon=2).fit(frame).predict()
    assert list(forecast.columns) == ["x1"]
    np.testing.assert_array_equal(forecast["x1"], [30.0, 30.0])


@pytest.mark.parametrize("transform, values, what", [
    ("diff", np.tile([1e308, -1e308], 8), "differences"),
    ("seasonal_diff", np.tile([1e308, 1e308, -1e308, -1e308], 4), "differences"),
    ("return", np.tile([1e300, 1e-300], 8), "ratios"),
    ("log_return", np.tile([1e300, 1e-300], 8), "ratios"),
    ("last_value", np.tile([1e300, 1e-300], 8), "ratios"),
])
@pytest.mark.parametrize("method", ["transform", "transform_targets"])
def test_a_transform_that_overflows_says_so(transform, values, what, method):
    """SlidingWindowTransformer.windows / window_targets gave inf windows and targets (with
    numpy's RuntimeWarning) for a transform that overflows."""
    frame = _daily(values)
    windower = SlidingWindowTransformer(3, 2, target_transform=transform,
                                        season=2 if transform == "seasonal_diff" else None)
    windower.fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match=rf"target_transform={transform!r} overflows: "
                                             rf"{what} between target values"):
            getattr(windower, method)(frame)
    with pytest.raises(ValueError, match="overflows"):  # a forecaster trains on the windows
        SequenceForecaster(Ridge(), 3, 2, target_transform=transform,
                           season=windower.season).fit(frame)


def test_a_transform_that_cannot_take_zeros_says_so_rather_than_overflow():
    """SlidingWindowTransformer.windows on values it was not fitted on: a zero to divide by
    is named as such, not as an overflow."""
    windower = SlidingWindowTransformer(2, target_transform="return").fit(
        _daily(np.arange(1.0, 11.0)))
    with pytest.raises(ValueError, match="divides by the targets; values has zeros"):
        windower.windows(np.array([[0.0], [1.0], [2.0]]), np.array([2]))


@pytest.mark.parametrize("future, pattern", [
    (pd.Series([1.0, 2.0]), r"future_covariates is an unnamed Series, but the forecaster's "
                            r"future covariates are \['b'\]: pass a DataFrame with the columns "
                            r"\['b'\], e\.g\. series\.to_frame\('b'\)"),
    (pd.Series([1.0, 2.0], name="c"), r"future_covariates is a Series named 'c', but"),
], ids=["unnamed", "misnamed"])
def test_an_unnamed_series_as_future_covariates_is_refused(future, pattern):
    """_Forecaster._extend: future_covariates as an unnamed Series gave KeyError
    "None of [Index(['b'])] are in the [columns]"."""
    frame = _daily(np.c_[np.arange(1.0, 31.0), np.sin(np.arange(30.0))], ("y", "b"))
    forecaster = SequenceForecaster(Ridge(), 3, 2, future_covariates=["b"]).fit(frame)
    future.index = forecaster.forecast_index()
    with pytest.raises(ValueError, match=pattern):
        forecaster.predict(future_covariates=future)


def test_a_series_named_like_the_future_covariate_stands_for_a_frame():
    frame = _daily(np.c_[np.arange(1.0, 31.0), np.sin(np.arange(30.0))], ("y", "b"))
    forecaster = SequenceForecaster(Ridge(), 3, 2, future_covariates="b").fit(frame)
    future = pd.Series([1.0, 2.0], index=forecaster.forecast_index(), name="b")
    pd.testing.assert_frame_equal(forecaster.predict(future_covariates=future),
                                  forecaster.predict(future_covariates=future.to_frame()))
    both = SequenceForecaster(Ridge(), 3, 2, future_covariates=["b", "c"]).fit(
        frame.assign(c=np.cos(np.arange(30.0))))
    with pytest.raises(ValueError, match=r"a Series named 'b', but the forecaster's future "
                                         r"covariates are \['b', 'c'\]: pass a DataFrame"):
        both.predict(future_covariates=future)


@pytest.mark.parametrize("regressor, error, pattern", [
    (["lstm"], TypeError, r"regressor must be an estimator with fit and predict \(e\.g\. "
                          r"Ridge\(\)\) or one of 'gru', 'lstm', 'rnn', got a list"),
    (5, TypeError, r"regressor must be an estimator with fit and predict .* got 5"),
    (Ridge, TypeError, r"regressor is the class Ridge: pass an instance, Ridge\(\.\.\.\)"),
    ("cnn", ValueError, r"regressor must be an estimator or one of 'gru', 'lstm', 'rnn', got "
                        r"'cnn'"),
], ids=["list", "int", "class", "unknown-cell"])
def test_a_regressor_that_is_not_an_estimator_is_refused(regressor, error, pattern):
    """SequenceForecaster._prepare (sklearn.utils.get_tags) gave AttributeError
    "'list' object has no attribute '__sklearn_tags__'"."""
    forecaster = SequenceForecaster(regressor, 3, 2)
    with pytest.raises(error, match=pattern):
        forecaster.fit(_daily(np.arange(1.0, 31.0)))
    if regressor != "cnn":
        with pytest.raises(error, match=pattern):  # partial_fit asks for the regressor first
            forecaster.partial_fit(_daily(np.arange(1.0, 31.0)))


def test_values_whose_squares_overflow_are_refused_for_training():
    """Squared errors and the ridge start of ar_window square the training values."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 4)) * 1e300, rng.standard_normal(6) * 1e300
    model = GRURegressor(2, max_iter=1, ar_window=2, dtype="float64", random_state=0)
    with pytest.raises(ValueError, match="too large to train on in dtype float64"):
        model.fit(X, y)
    model.fit(X / 1e300, y / 1e300)
    assert np.isfinite(model.predict(X)).all()  # predicting needs no squares
    # Below sqrt(max) but with errors whose squares overflow float32 (1.5e19 against -1.5e19:
    # the start's loss was inf, reported as a divergence with learning-rate advice).
    X32 = rng.standard_normal((100, 8, 1)).astype(np.float32)
    y32 = np.where(X32[:, -1, 0] > 0, 1.5e19, -1.5e19).astype(np.float32)
    with pytest.raises(ValueError, match="y has values too large to train on in dtype float32: "
                                         r"beyond \+-9.22e\+18"):
        LSTMRegressor(4, ar_window=2, max_iter=3, random_state=0).fit(X32, y32)


@pytest.mark.parametrize("season, values, how", [
    (1, np.r_[np.ones(20), np.arange(2.0, 12.0)], "are constant"),
    (2, np.r_[np.tile([1.0, 3.0], 10), np.arange(2.0, 12.0)], "repeat every season=2 rows"),
])
def test_the_mase_of_a_fold_whose_training_rows_repeat_is_nan_with_a_warning(season, values,
                                                                            how):
    """forecasting._metrics gave an infinite MASE with a divide-by-zero RuntimeWarning when
    the naive scale is 0; now MASE is NaN where it is undefined, as MAPE is, and a warning
    says why."""
    frame = _daily(values)
    with pytest.warns(UserWarning, match=rf"fold 0: MASE is undefined \(NaN\): the training "
                                         rf"rows of \['y'\] {how}") as caught:
        result = backtest(NaiveForecaster(1, 2), frame, n_folds=2, test_size=5, season=season)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(caught) == 1  # fold 1 trains on the first 5 test rows too: defined
    assert np.isnan(result.by_fold.loc[0, "MASE"]) and np.isfinite(result.by_fold.loc[1, "MASE"])
    assert np.isnan(result.by_step["MASE"]).all()  # a step's MASE covers fold 0 too
    assert np.isfinite(result.by_fold[["MAE", "RMSE", "MAPE"]].to_numpy()).all()


def test_a_cycle_that_repeats_up_to_rounding_has_no_mase():
    """sin(2 pi t / 7) repeats every 7 rows to about 1e-15: MASE divided by that gave 3e14.
    Below REPEAT_TOLERANCE of the largest value the scale is 0 and MASE undefined; a cycle
    with real noise, 1e-9 of its size, keeps its MASE."""
    t = np.arange(120)
    cycle = np.sin(2 * np.pi * t / 7)
    with pytest.warns(UserWarning, match="MASE is undefined"):
        result = backtest(NaiveForecaster(1), _daily(cycle), n_folds=2, test_size=7, season=7)
    assert np.isnan(result.by_fold["MASE"]).all()
    noisy = cycle + 1e-9 * np.random.default_rng(0).standard_normal(120)
    result = backtest(NaiveForecaster(1), _daily(noisy), n_folds=2, test_size=7, season=7)
    assert np.isfinite(result.by_fold["MASE"]).all()
