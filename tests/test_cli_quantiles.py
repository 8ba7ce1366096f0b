"""``seqforecast forecast --quantiles`` and ``predict`` of a probabilistic model."""
import numpy as np
import pandas as pd
import pytest

import seqforecast
from seqforecast import LSTMRegressor, SequenceForecaster
from seqforecast.cli import main

QUICK = ["--epochs", "2", "--hidden", "4", "--window", "8", "--no-backtest"]


@pytest.fixture
def weekly(tmp_path):
    """Daily rows of a weekly series with noise, as a CSV file."""
    t = np.arange(120)
    y = 20 + 6 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(0).normal(0, 0.5, 120)
    path = tmp_path / "weekly.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=120, freq="D"), "y": y}).to_csv(
        path, index=False)
    return path


@pytest.mark.parametrize("levels, message", [
    ("0.05,abc,0.95", "argument --quantiles: 'abc' is not a number: give levels separated by "
                      "commas, e.g. --quantiles 0.05,0.5,0.95"),
    ("5,50,95", "the levels must be between 0 and 1, got 5 (a percentage? write 0.05)"),
    ("0,0.5", "the levels must be between 0 and 1, got 0"),
    ("0.5,0.9,0.5", "0.5 is given twice"),
    ("0.05,0.95", "0.5 is missing: the forecast column is the median"),
    ("0.1,0.5,0.1000000000001", "0.1 and 0.1000000000001 are the same level to 12 decimals, "
                                "as the levels are kept: give it once"),
    ("1e-13,0.5", "the levels must be between 0 and 1, got 1e-13 (to 12 decimals, as the levels "
                  "are kept, it is 0)"),
])
def test_quantile_levels_are_checked_before_anything_is_read(capsys, levels, message):
    with pytest.raises(SystemExit) as exit_:
        main(["forecast", "missing.csv", "--target", "y", "--horizon", "3",
              "--quantiles", levels])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_quantiles_need_a_network_not_model_auto(weekly, capsys):
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "3", "--model", "auto",
                 "--quantiles", "0.1,0.5,0.9"]) == 2
    assert capsys.readouterr().err == (
        "seqforecast: error: --quantiles trains a network on the quantile levels, but --model "
        "auto may pick Ridge or the naive forecast, which give no quantiles: name the network, "
        "--model gru or lstm or rnn\n")


def test_forecast_and_predict_write_a_column_per_quantile(weekly, tmp_path, capsys):
    out, model = tmp_path / "forecast.csv", tmp_path / "model.npz"
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "4", *QUICK,
                 "--transform", "diff", "--quantiles", "0.9,0.1,0.5", "--out", str(out),
                 "--save", str(model)]) == 0
    capsys.readouterr()
    forecast = pd.read_csv(out, index_col=0, parse_dates=True)
    assert list(forecast.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert list(forecast.index) == list(pd.date_range("2024-04-30", periods=4, freq="D"))
    assert (forecast["y_q0.1"] <= forecast["y_q0.5"]).all()
    assert (forecast["y_q0.5"] <= forecast["y_q0.9"]).all()
    np.testing.assert_allclose(forecast["y"], forecast["y_q0.5"], rtol=1e-12)
    loaded = seqforecast.load(model)
    assert loaded.regressor_.loss == "quantile" and loaded.quantiles_ == (0.1, 0.5, 0.9)
    # predict from the same file writes the same table; --horizon cuts it.
    assert main(["predict", str(model), str(weekly)]) == 0
    assert capsys.readouterr().out == out.read_text()
    assert main(["predict", str(model), str(weekly), "--horizon", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "date,y,y_q0.1,y_q0.5,y_q0.9" and len(printed) == 3


def test_predict_writes_the_levels_of_a_distribution_model_saved_from_python(weekly, tmp_path,
                                                                             capsys):
    data = pd.read_csv(weekly, index_col=0, parse_dates=True)
    forecaster = SequenceForecaster(LSTMRegressor(4, max_iter=2, random_state=0), window=8,
                                    horizon=3, target_transform="diff", loss="gaussian",
                                    quantiles=(0.025, 0.5, 0.975))
    with pytest.warns(Warning):  # too few epochs to converge
        forecaster.fit(data)
    forecaster.save(tmp_path / "gaussian.npz")
    assert main(["predict", str(tmp_path / "gaussian.npz"), str(weekly)]) == 0
    printed = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), index_col=0)
    assert list(printed.columns) == ["y", "y_q0.025", "y_q0.5", "y_q0.975"]
    quantiles = forecaster.predict_quantiles()
    np.testing.assert_allclose(printed.iloc[:, 1:], quantiles.to_numpy(), rtol=1e-12)


def test_the_guard_backtests_the_quantile_network_against_point_baselines(weekly, capsys):
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "3", "--epochs", "2",
                 "--hidden", "4", "--window", "8", "--quantiles", "0.25,0.5,0.75"]) == 0
    captured = capsys.readouterr()
    for model in ("LSTM(4)", "Ridge on lags", "seasonal naive (7)"):
        assert model in captured.err
    assert captured.out.splitlines()[0] == "date,y,y_q0.25,y_q0.5,y_q0.75"


def test_seasonal_differences_beyond_a_season_are_refused_before_training(weekly, capsys):
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "8", *QUICK,
                 "--transform", "seasonal_diff", "--quantiles", "0.1,0.5,0.9"]) == 2
    assert capsys.readouterr().err == (
        "seqforecast: error: --quantiles with --transform seasonal_diff gives quantiles of at "
        "most one season, 7 steps (from the frequency D; --season to change): a later step adds "
        "the forecast one season earlier, and quantiles do not add; use --horizon 7 or less, or "
        "--transform diff (or auto)\n")
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "7", *QUICK,
                 "--transform", "seasonal_diff", "--quantiles", "0.1,0.5,0.9"]) == 0


def test_predict_of_a_recursive_quantile_model_beyond_one_step_says_what_to_do(weekly, tmp_path,
                                                                              capsys):
    data = pd.read_csv(weekly, index_col=0, parse_dates=True)
    forecaster = SequenceForecaster(LSTMRegressor(4, max_iter=2, random_state=0), window=8,
                                    strategy="recursive", loss="quantile")
    with pytest.warns(Warning):  # too few epochs to converge
        forecaster.fit(data)
    forecaster.save(tmp_path / "recursive.npz")
    assert main(["predict", str(tmp_path / "recursive.npz"), str(weekly), "--horizon", "3"]) == 2
    assert capsys.readouterr().err == (
        "seqforecast: error: the model forecasts quantiles of one step only (it was saved with "
        "strategy='recursive'), and --horizon is 3: use --horizon 1 for quantile columns, or "
        "save a model trained with strategy='direct'\n")
    assert main(["predict", str(tmp_path / "recursive.npz"), str(weekly), "--horizon", "1"]) == 0


def test_quantile_columns_are_named_by_the_level_to_12_decimals(weekly, tmp_path, capsys):
    """Levels that agree to 6 significant digits have their own columns, named as the library
    keeps the levels (rounded to 12 decimals); forecast and predict name them alike."""
    out, model = tmp_path / "forecast.csv", tmp_path / "model.npz"
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "2", *QUICK,
                 "--transform", "diff", "--quantiles",
                 "0.1234564,0.05,0.5,0.1234561,0.3333333333333333", "--out", str(out),
                 "--save", str(model)]) == 0
    capsys.readouterr()
    header = "date,y,y_q0.05,y_q0.1234561,y_q0.1234564,y_q0.333333333333,y_q0.5"
    assert out.read_text().splitlines()[0] == header
    assert seqforecast.load(model).quantiles_ == (0.05, 0.1234561, 0.1234564, 0.333333333333,
                                                  0.5)
    assert main(["predict", str(model), str(weekly)]) == 0
    assert capsys.readouterr().out == out.read_text()


def _negated(path, rows, tmp_path):
    """The series of the CSV file ``path`` with its values at ``rows`` negated, as a CSV file."""
    data = pd.read_csv(path, index_col=0)
    data.iloc[rows, 0] *= -1
    data.to_csv(tmp_path / "negative.csv")
    return tmp_path / "negative.csv"


def test_levels_without_their_reflection_are_refused_before_training_where_return_mirrors_them(
        weekly, tmp_path, capsys):
    """--transform return multiplies by the value a forecast starts from: where it is negative,
    the level-q quantile is the network's of level 1 - q, which it must have been trained on."""
    negative = _negated(weekly, slice(None), tmp_path)
    assert main(["forecast", str(negative), "--target", "y", "--horizon", "3", *QUICK,
                 "--transform", "return", "--quantiles", "0.1,0.5,0.75"]) == 2
    assert capsys.readouterr().err == (  # no progress bar: nothing was trained
        "seqforecast: error: --transform return multiplies the forecast by the value it starts "
        "from, and 'y' is negative there: -20.5824 at 2024-04-29, the last row; where it is "
        "negative the quantile of level q is the network's of level 1 - q, so --quantiles must "
        "hold 1 - q of each level: add 0.25, 0.9 (--quantiles 0.1,0.25,0.5,0.75,0.9), or use "
        "--transform diff or none\n")
    # The backtest forecasts from the last row before each of its 3 folds of 3 rows: 110, 113
    # and 116 (row 113 negative here); the forecast from row 119, positive.
    negative = _negated(weekly, [113], tmp_path)
    command = ["forecast", str(negative), "--target", "y", "--horizon", "3", "--epochs", "2",
               "--hidden", "4", "--window", "8", "--transform", "return"]
    assert main([*command, "--quantiles", "0.1,0.5"]) == 2
    assert capsys.readouterr().err == (
        "seqforecast: error: --transform return multiplies the forecast by the value it starts "
        "from, and 'y' is negative there: -24.792 at 2024-04-23, where a fold of the backtest "
        "starts (--no-backtest skips the backtest); where it is negative the quantile of level "
        "q is the network's of level 1 - q, so --quantiles must hold 1 - q of each level: add "
        "0.9 (--quantiles 0.1,0.5,0.9), or use --transform diff or none\n")
    assert main([*command, "--quantiles", "0.1,0.5", "--no-backtest"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "date,y,y_q0.1,y_q0.5"
    assert main([*command, "--quantiles", "0.1,0.5,0.9"]) == 0
    forecast = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), index_col=0)
    assert list(forecast.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]


def test_predict_refuses_levels_without_their_reflection_from_a_negative_last_row(
        weekly, tmp_path, capsys):
    model = tmp_path / "model.npz"
    assert main(["forecast", str(weekly), "--target", "y", "--horizon", "3", *QUICK,
                 "--transform", "return", "--quantiles", "0.1,0.5", "--save", str(model)]) == 0
    capsys.readouterr()
    negative = _negated(weekly, [-1], tmp_path)
    assert main(["predict", str(model), str(negative)]) == 2
    assert capsys.readouterr().err == (
        f"seqforecast: error: the model {model} (--transform return) multiplies the forecast by "
        f"the value it starts from, and 'y' is negative there: -20.5824 at 2024-04-29, the last "
        f"row of {negative}; where it is negative the quantile of level q is the network's of "
        f"level 1 - q, and the model was trained on the levels 0.1, 0.5, without 0.9: fit and "
        f"--save a model with --quantiles 0.1,0.5,0.9\n")
    assert main(["predict", str(model), str(_negated(weekly, [-2], tmp_path))]) == 0
