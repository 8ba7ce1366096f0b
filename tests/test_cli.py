"""The ``seqforecast`` command line."""
from importlib.metadata import entry_points

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from seqforecast.cli import _beaten, infer_season, main
from seqforecast.datasets import load_airline_passengers
from seqforecast.forecasting import SequenceForecaster


def test_console_script_is_installed():
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("seqforecast") == "seqforecast.cli:main"


def test_demo_backtests_prints_the_table_and_writes_the_forecast(tmp_path, capsys):
    assert main(["demo", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for model in ("LSTM(32)", "GRU(32)", "Ridge on lags", "last value", "seasonal naive (12)"):
        assert model in out
    for metric in ("MAE", "RMSE", "MAPE", "MASE"):
        assert metric in out
    forecast = pd.read_csv(tmp_path / "forecast.csv", index_col=0, parse_dates=True)
    assert list(forecast.columns) == ["passengers", "lower_90", "upper_90"]
    assert list(forecast.index) == list(pd.date_range("1961-01-01", periods=12, freq="MS"))
    assert (forecast["lower_90"] < forecast["passengers"]).all()
    assert (forecast["passengers"] < forecast["upper_90"]).all()
    assert (tmp_path / "forecast.png").stat().st_size > 10_000


def test_forecast_a_csv_with_a_progress_bar(tmp_path, capsys):
    path = tmp_path / "series.csv"
    load_airline_passengers().assign(other=1.0).to_csv(path)
    out = tmp_path / "forecast.csv"
    assert main(["forecast", str(path), "--target", "passengers", "--horizon", "6",
                 "--epochs", "3", "--model", "gru", "--transform", "log_return",
                 "--out", str(out)]) == 0
    assert "epoch 3/3" in capsys.readouterr().err
    forecast = pd.read_csv(out, index_col=0, parse_dates=True)
    assert list(forecast.columns) == ["passengers"]
    assert list(forecast.index) == list(pd.date_range("1961-01-01", periods=6, freq="MS"))
    assert forecast["passengers"].between(200, 900).all()
    # Without --out the forecast goes to standard output as CSV.
    assert main(["forecast", str(path), "--target", "passengers", "--horizon", "2",
                 "--epochs", "1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "date,passengers" and printed[1].startswith("1961-01-01")


@pytest.mark.parametrize("rows, arguments, message", [
    (None, ["--target", "price"], "no column 'price'"),
    (lambda frame: frame.iloc[::-1], ["--target", "passengers"], "not sorted by time"),
    (lambda frame: frame.iloc[:20], ["--target", "passengers"], "the series has 20 rows"),
    (lambda frame: frame.reset_index(drop=True), ["--target", "passengers"],
     "holds numbers, not dates"),
    (None, ["--target", "passengers", "--out", "/nonexistent/folder/out.csv"], "nonexistent"),
])
def test_forecast_errors_name_the_problem(tmp_path, capsys, rows, arguments, message):
    frame = load_airline_passengers()
    path = tmp_path / "series.csv"
    (frame if rows is None else rows(frame)).to_csv(path)
    assert main(["forecast", str(path), "--horizon", "3", "--epochs", "1", *arguments]) == 2
    assert message in capsys.readouterr().err


# -- the backtest guard of `seqforecast forecast` -------------------------------------------

def _weekly_csv(tmp_path, rows=120):
    """Daily rows of a strongly weekly series with a little noise, written to a CSV file."""
    t = np.arange(rows)
    noise = np.random.default_rng(0).normal(0, 0.3, rows)
    y = 20 + 6 * np.sin(2 * np.pi * t / 7) + 3 * np.cos(4 * np.pi * t / 7) + noise
    path = tmp_path / "weekly.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=rows, freq="D"), "y": y}).to_csv(
        path, index=False)
    return path


def _mase(err):
    """{model: MASE} read back from the table printed on standard error."""
    lines = err.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:4] == ["MAE", "RMSE",
                                                                            "MAPE", "MASE"])
    assert lines[header + 1].strip() == "model"
    table = {}
    for line in lines[header + 2:]:
        parts = line.rsplit(None, 5)
        try:
            table[parts[0]] = float(parts[4])
        except (IndexError, ValueError):  # the line after the table
            break
    return table


def test_forecast_backtests_against_the_baselines_first(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--epochs", "2",
                 "--model", "gru"]) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert "3 rolling-origin folds of 7 rows" in err
    assert "season 7 (from the frequency D" in err
    assert set(_mase(err)) == {"GRU(32)", "Ridge on lags", "seasonal naive (7)"}
    for metric in ("MAE", "RMSE", "MAPE", "MASE"):
        assert metric in err
    assert err.index("MASE") < err.index("epoch 2/2")  # the guard runs before the forecast
    # The table goes to standard error; standard output holds the forecast CSV only.
    printed = captured.out.splitlines()
    assert printed[0] == "date,y" and len(printed) == 8 and "MASE" not in captured.out
    # --season sets the seasonal naive baseline and the MASE scale.
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--epochs", "1",
                 "--season", "14"]) == 0
    err = capsys.readouterr().err
    assert "season 14 (--season)" in err
    assert set(_mase(err)) == {"LSTM(32)", "Ridge on lags", "seasonal naive (14)"}


def test_forecast_warns_when_the_network_loses_to_a_baseline(tmp_path, capsys):
    # One epoch on 3 lags of a weekly series: the network cannot see the season that the
    # seasonal naive forecast copies.
    out = tmp_path / "forecast.csv"
    assert main(["forecast", str(_weekly_csv(tmp_path)), "--target", "y", "--horizon", "7",
                 "--epochs", "1", "--window", "3", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    mase = _mase(err)
    best = "seasonal naive (7)"
    assert mase[best] < mase["Ridge on lags"] and mase["LSTM(32)"] > 2 * mase[best]
    warning = next(line for line in err.splitlines() if "warning" in line)
    assert warning == (f"seqforecast: warning: LSTM(32) forecasts worse than {best} in the "
                       f"backtest (MASE {mase['LSTM(32)']:.3f} against {mase[best]:.3f}); try "
                       f"--model auto, which forecasts with the model of lowest MASE")
    assert "epoch 1/1" in err  # and it still forecasts with the network it was asked for
    assert len(pd.read_csv(out)) == 7


def test_the_warning_compares_mase_with_the_best_baseline():
    table = pd.DataFrame({"MAE": [1.0, 2.0, 3.0], "MASE": [0.5, 0.9, 0.7]},
                         index=["LSTM(32)", "Ridge on lags", "seasonal naive (7)"])
    baselines = ["Ridge on lags", "seasonal naive (7)"]
    assert _beaten(table, "LSTM(32)", baselines) is None
    table.loc["LSTM(32)", "MASE"] = 0.8
    assert "LSTM(32) forecasts worse than seasonal naive (7) in the backtest (MASE 0.800 " \
           "against 0.700); try --model auto" in _beaten(table, "LSTM(32)", baselines)
    table.loc["LSTM(32)", "MASE"] = np.nan  # nothing to compare: no warning
    assert _beaten(table, "LSTM(32)", baselines) is None


def test_model_auto_forecasts_with_the_lowest_mase(tmp_path, capsys):
    # On 3 lags of a weekly series the seasonal naive forecast wins by far.
    path, out = _weekly_csv(tmp_path), tmp_path / "forecast.csv"
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--epochs", "1",
                 "--window", "3", "--model", "auto", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    mase = _mase(err)
    assert set(mase) == {"LSTM(32)", "GRU(32)", "Ridge on lags", "seasonal naive (7)"}
    assert min(mase, key=mase.get) == "seasonal naive (7)"
    assert (f"--model auto picked seasonal naive (7): the lowest backtest MASE, "
            f"{mase['seasonal naive (7)']:.3f}") in err
    assert "epoch" not in err  # a baseline: no training epochs
    # The forecast is the seasonal naive's on the whole series: the last week again.
    forecast = pd.read_csv(out, index_col=0, parse_dates=True)
    series = pd.read_csv(path, index_col=0, parse_dates=True)
    assert list(forecast.columns) == ["y"]
    assert list(forecast.index) == list(pd.date_range("2024-04-30", periods=7, freq="D"))
    np.testing.assert_allclose(forecast["y"], series["y"].iloc[-7:])


def test_model_auto_refits_the_winner_on_the_whole_series(tmp_path, capsys):
    # On 24 lags Ridge beats the seasonal naive forecast; a network may beat Ridge.
    path, out = _weekly_csv(tmp_path), tmp_path / "forecast.csv"
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--epochs", "1",
                 "--model", "auto", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    mase = _mase(err)
    winner = min(mase, key=mase.get)
    assert f"--model auto picked {winner}: the lowest backtest MASE" in err
    forecast = pd.read_csv(out, index_col=0, parse_dates=True)
    assert list(forecast.index) == list(pd.date_range("2024-04-30", periods=7, freq="D"))
    if winner == "Ridge on lags":
        series = pd.read_csv(path, index_col=0, parse_dates=True)
        expected = SequenceForecaster(Ridge(), window=24, horizon=7).fit(series).predict()
        np.testing.assert_allclose(forecast["y"], expected["y"])
        assert "epoch" not in err
    else:
        assert winner in ("LSTM(32)", "GRU(32)") and "epoch 1/1" in err


def test_no_backtest_prints_no_table(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--epochs", "1",
                 "--no-backtest"]) == 0
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err
    assert "MASE" not in captured.err and "backtest" not in captured.err
    assert len(captured.out.splitlines()) == 8
    # --model auto has nothing to pick from without the backtest.
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--model", "auto",
                 "--no-backtest"]) == 2
    assert "--model auto picks the model by backtesting it" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["lstm", "auto"])
def test_a_series_too_short_for_a_fold_skips_the_guard(tmp_path, capsys, model):
    # 35 rows: enough to fit window 24 + horizon 7, not for 31 training + 7 test rows.
    path = _weekly_csv(tmp_path, rows=35)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--epochs", "1",
                 "--model", model]) == 0
    captured = capsys.readouterr()
    assert ("the series has 35 rows, too few to backtest against the baselines (one fold "
            "needs 31 training rows and 7 test rows): backtest guard skipped, forecasting "
            "with lstm directly") in captured.err
    assert "MASE" not in captured.err and "epoch 1/1" in captured.err
    printed = captured.out.splitlines()
    assert printed[0] == "date,y" and len(printed) == 8


@pytest.mark.parametrize("freq, season", [
    ("h", 24), ("60min", 24), ("30min", 48), ("D", 7), ("B", 5), ("W", 52), ("W-MON", 52),
    ("MS", 12), ("ME", 12), ("BME", 12), ("QS", 4), ("QE-DEC", 4),
    ("YS", 1), ("2h", 1), ("15min", 1), ("2D", 1), ("2MS", 1), ("C", 1), (None, 1),
])
def test_season_from_the_frequency(freq, season):
    assert infer_season(freq) == season
    if freq is not None:
        assert infer_season(pd.tseries.frequencies.to_offset(freq)) == season


def test_forecast_with_the_default_recipe_and_a_seasonal_difference(tmp_path, capsys):
    """No --epochs: the network of SequenceForecaster('gru'), trained with early stopping."""
    path = _weekly_csv(tmp_path)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--model", "gru",
                 "--window", "14", "--no-backtest", "--transform", "seasonal_diff"]) == 0
    captured = capsys.readouterr()
    assert "training GRU(32) with the default recipe ... " in captured.err
    assert "epoch 1/" not in captured.err  # no progress bar: one fit
    forecast = pd.read_csv(pd.io.common.StringIO(captured.out), index_col=0, parse_dates=True)
    data = pd.read_csv(path, index_col=0, parse_dates=True)
    assert len(forecast) == 7 and forecast.index[0] == data.index[-1] + pd.Timedelta(days=1)
    # The seasonal difference used the season of the daily frequency (7), not 1.
    expected = SequenceForecaster("gru", window=14, horizon=7, random_state=0,
                                  target_transform="seasonal_diff", season=7).fit(data)
    np.testing.assert_allclose(forecast["y"], expected.predict()["y"], rtol=1e-6)
