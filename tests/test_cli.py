"""The ``seqforecast`` command line."""
from importlib.metadata import entry_points

import pandas as pd
import pytest

from seqforecast.cli import main
from seqforecast.datasets import load_airline_passengers


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
