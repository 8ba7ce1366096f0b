"""The ``seqforecast`` command line."""
import argparse
import os
import re
import threading
import time
import unicodedata
import warnings
from importlib.metadata import entry_points

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

import seqforecast
from seqforecast.cli import (AUTO_TIE, _beaten, _cli_message, _forecast_table,
                            _make_forecaster, infer_season, main)
from seqforecast.datasets import load_airline_passengers
from seqforecast.forecasting import NaiveForecaster, SequenceForecaster
from seqforecast.windowing import check_series


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
    # One epoch on 3 lags of a weekly series, levels: the network cannot see the season
    # that the seasonal naive forecast copies.
    out = tmp_path / "forecast.csv"
    assert main(["forecast", str(_weekly_csv(tmp_path)), "--target", "y", "--horizon", "7",
                 "--epochs", "1", "--window", "3", "--transform", "none",
                 "--out", str(out)]) == 0
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
    assert _beaten(table, "LSTM(32)", baselines, quantiles=True).endswith(
        "against 0.700); --model auto cannot pick a baseline with --quantiles: the baselines "
        "give no quantiles")
    table.loc["LSTM(32)", "MASE"] = 0.7 * (1 + AUTO_TIE)  # a tie, as --model auto ties
    assert _beaten(table, "LSTM(32)", baselines) is None
    table.loc["LSTM(32)", "MASE"] = 0.7 * (1 + 2 * AUTO_TIE)
    assert _beaten(table, "LSTM(32)", baselines) is not None
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


# -- reading ordinary CSV files: one option each, and errors that name it -------------------

def _forecast(capsys, path, *arguments, horizon=3, window=8):
    """Run ``seqforecast forecast`` quickly; (exit status, standard output, standard error)."""
    status = main(["forecast", str(path), "--horizon", str(horizon), "--window", str(window),
                   "--epochs", "1", "--no-backtest", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _printed(out, sep=",", decimal="."):
    """The forecast CSV printed on standard output (with the input's --sep and --decimal)."""
    return pd.read_csv(pd.io.common.StringIO(out), index_col=0, sep=sep, decimal=decimal)


def _assert_cli_error(err, option):
    """An error line, the last, that names ``option``; no Python advice or reprs."""
    assert err.splitlines()[-1].startswith("seqforecast: error: ") and option in err
    for python in ("np.", "pass freq=", "freq=...", "asfreq", "missing='", "sort_index",
                   "Traceback", "data."):
        assert python not in err


def test_hourly_local_times_with_the_daylight_saving_hour_missing(tmp_path, capsys):
    # Europe/Paris local times: 2024-03-31 02:00 does not exist, so the file skips it.
    times = pd.date_range("2024-03-29", "2024-04-01 23:00", freq="h")
    times = times[times != pd.Timestamp("2024-03-31 02:00")]
    load = 50 + 10 * np.sin(2 * np.pi * times.hour / 24)
    path = tmp_path / "load.csv"
    pd.DataFrame({"time": times.strftime("%Y-%m-%d %H:%M"), "load": load}).to_csv(path,
                                                                                  index=False)
    status, out, err = _forecast(capsys, path, "--target", "load")
    assert status == 2
    assert ("the timestamps are irregular: 1 row missing at 2024-03-31 02:00 for the frequency "
            "h (hourly); add --fill interpolate (or --fill ffill) to fill it") in err
    _assert_cli_error(err, "--fill interpolate")
    # --freq h alone does not make the row appear.
    _assert_cli_error(_forecast(capsys, path, "--target", "load", "--freq", "h")[2], "--fill")

    status, out, err = _forecast(capsys, path, "--target", "load", "--fill", "interpolate")
    assert status == 0
    assert ("seqforecast: reindexed to h (hourly): added 1 row for the missing timestamp "
            "2024-03-31 02:00, filled by linear interpolation in time") in err
    forecast = _printed(out)
    assert out.startswith("time,load\n")
    assert list(forecast.index) == ["2024-04-02 00:00:00", "2024-04-02 01:00:00",
                                    "2024-04-02 02:00:00"]


def _stock_csv(tmp_path):
    """Closing prices on business days, without the market holidays 2023-07-04 and 12-25."""
    days = pd.bdate_range("2023-06-01", "2023-12-29")
    days = days[~days.isin(pd.to_datetime(["2023-07-04", "2023-12-25"]))]
    close = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, len(days)))
    path = tmp_path / "stock.csv"
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": close.round(2)}).to_csv(
        path, index=False)
    return path, days


def test_business_days_with_market_holidays(tmp_path, capsys):
    path, days = _stock_csv(tmp_path)
    status, _, err = _forecast(capsys, path, "--target", "Close")
    assert status == 2
    assert ("2 rows missing at 2023-07-04, 2023-12-25 for the frequency B (business days); add "
            "--fill interpolate (or --fill ffill) to fill them") in err
    _assert_cli_error(err, "--fill ffill")

    # --fill ffill alone finds the business days: weekdays only, every holiday on their grid.
    # The backtest runs here: the guard works on the filled series.
    assert main(["forecast", str(path), "--target", "Close", "--horizon", "3", "--window", "8",
                 "--epochs", "1", "--fill", "ffill"]) == 0
    captured = capsys.readouterr()
    assert ("reindexed to B (business days): added 2 rows for the missing timestamps "
            "2023-07-04, 2023-12-25, filled with the previous value (--fill ffill)") in captured.err
    assert "season 5 (from the frequency B" in captured.err
    forecast = _printed(captured.out)
    assert list(forecast.index) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # --freq B says so explicitly, with the same result.
    status, out, err = _forecast(capsys, path, "--target", "Close", "--freq", "B", "--fill",
                                 "ffill")
    assert status == 0 and "added 2 rows" in err
    assert list(_printed(out).index) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # --freq D reindexes to calendar days: the weekends are filled too.
    status, out, err = _forecast(capsys, path, "--target", "Close", "--freq", "D", "--fill",
                                 "ffill")
    assert status == 0 and "reindexed to D (daily): added 62 rows" in err  # weekends, holidays


def test_integer_years_as_the_time_column(tmp_path, capsys):
    years = np.arange(1821, 1901)
    path = tmp_path / "sunspots.csv"
    pd.DataFrame({"year": years, "spots": 50 + 40 * np.sin(2 * np.pi * years / 11)}).to_csv(
        path, index=False)
    status, out, err = _forecast(capsys, path, "--target", "spots")
    assert status == 0
    assert ("seqforecast: the time column 'year' holds integers from 1821 to 1900: read as "
            "years (--period-freq Y)") in err
    assert out.startswith("year,spots\n")
    assert list(_printed(out).index) == ["1901-01-01", "1902-01-01", "1903-01-01"]
    # --period-freq Y says so: no note.
    status, out_y, err = _forecast(capsys, path, "--target", "spots", "--period-freq", "Y")
    assert status == 0 and "read as years" not in err and out_y == out
    # Integers that are not years are refused, naming --period-freq; with it they count steps.
    pd.DataFrame({"t": np.arange(80), "y": np.sin(np.arange(80) / 3)}).to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and "the time column 't' holds numbers, not dates" in err
    _assert_cli_error(err, "--period-freq Y for years")
    status, out, _ = _forecast(capsys, path, "--target", "y", "--period-freq", "h")
    assert status == 0
    assert list(_printed(out).index) == [80, 81, 82]  # counts, as read


def test_day_first_dates(tmp_path, capsys):
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    path = tmp_path / "meter.csv"
    pd.DataFrame({"date": days.strftime("%d/%m/%Y"), "kwh": np.arange(60.0) % 7}).to_csv(
        path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "kwh")
    assert status == 2
    assert ("the time column 'date' cannot be read as dates: row 13 holds '13/01/2024', which "
            "does not match the format of the first row, %m/%d/%Y; if the day comes first "
            "(31/01/2024) add --dayfirst") in err
    _assert_cli_error(err, "--dayfirst")
    status, out, _ = _forecast(capsys, path, "--target", "kwh", "--dayfirst")
    assert status == 0
    assert list(_printed(out).index) == ["2024-03-01", "2024-03-02", "2024-03-03"]
    # --time-format names the format instead.
    status, out_format, _ = _forecast(capsys, path, "--target", "kwh", "--time-format",
                                      "%d/%m/%Y")
    assert status == 0 and out_format == out
    status, _, err = _forecast(capsys, path, "--target", "kwh", "--time-format", "%d.%m.%Y")
    assert status == 2
    assert "row 1 holds '01/01/2024', which does not match --time-format %d.%m.%Y" in err


def test_semicolon_separated_file(tmp_path, capsys):
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    path = tmp_path / "semicolon.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "y": np.arange(40.0) % 5}).to_csv(
        path, index=False, sep=";")
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2
    assert "no column 'y' in" in err and "seems separated by ';', not ',': add --sep ';'" in err
    _assert_cli_error(err, "--sep ';'")
    status, out, _ = _forecast(capsys, path, "--target", "y", "--sep", ";")
    assert status == 0 and out.startswith("date;y\n2024-02-10;")  # written as read
    # Decimal commas, as such files often have, name --decimal.
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"),
                  "y": [f"{v:.1f}".replace(".", ",") for v in np.arange(40.0) % 5]}).to_csv(
        path, index=False, sep=";")
    status, _, err = _forecast(capsys, path, "--target", "y", "--sep", ";")
    assert status == 2 and "row 1 holds '0,0'" in err
    _assert_cli_error(err, "add --decimal ','")
    status, out_comma, _ = _forecast(capsys, path, "--target", "y", "--sep", ";", "--decimal",
                                     ",")
    assert status == 0 and out_comma == out.replace(".", ",")  # written as read


def test_a_one_row_csv_is_too_short(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("date,y\n2024-01-01,1.5\n")
    status, _, err = _forecast(capsys, path, "--target", "y", window=24)
    assert status == 2
    assert err == ("seqforecast: error: the series has 1 row, too short: one training window "
                   "of 24 rows (--window) and the 3 rows after it (--horizon) need 27; use a "
                   "longer file\n")
    # 20 rows: the numbers, and the largest --window that fits.
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=20), "y": 1.0}).to_csv(
        path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y", "--transform", "diff", window=24)
    assert status == 2
    assert ("the series has 20 rows, too short: one training window of 24 rows (--window) + 1 "
            "for --transform diff and the 3 rows after it (--horizon) need 28; use a smaller "
            "--window (at most 16) or a longer file") in err


@pytest.mark.parametrize("option, name", [("--out", "forecast.csv"), ("--save", "model.npz")])
def test_a_bad_out_or_save_path_fails_before_training(tmp_path, capsys, option, name):
    path = _weekly_csv(tmp_path)
    # The default recipe (no --epochs) with the backtest: it would train for seconds.
    for out, message in ((tmp_path / "missing" / name,
                          f"there is no folder {tmp_path / 'missing'}; create it"),
                         (tmp_path, f"is a folder: give a file name, e.g. {option} "
                                    f"{tmp_path / name}")):
        started = time.perf_counter()
        assert main(["forecast", str(path), "--target", "y", "--horizon", "7", option,
                     str(out)]) == 2
        assert time.perf_counter() - started < 5
        captured = capsys.readouterr()
        assert captured.out == "" and message in captured.err
        assert len(captured.err.splitlines()) == 1  # no backtest table, no training line
        _assert_cli_error(captured.err, option)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--out",
                 str(tmp_path / "same.csv"), "--save", str(tmp_path / "same.csv")]) == 2
    assert "--out and --save both name" in capsys.readouterr().err
    # The demo's --out-dir too: a folder inside a file cannot be made.
    assert main(["demo", "--out-dir", str(path / "demo")]) == 2
    err = capsys.readouterr().err
    assert "cannot create the folder" in err and len(err.splitlines()) == 1


def test_fill_fills_missing_values_and_missing_is_its_old_name(tmp_path, capsys):
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    y = np.arange(40.0)
    y[[0, 1, 10]] = np.nan  # two empty rows at the start, one gap
    frame = pd.DataFrame({"date": days, "y": y}).drop(index=[20, 21])  # two missing rows
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and "2 rows missing at 2024-01-21, 2024-01-22" in err
    _assert_cli_error(err, "--fill interpolate")
    status, out, err = _forecast(capsys, path, "--target", "y", "--missing", "interpolate")
    assert status == 0
    assert "added 2 rows for the missing timestamps 2024-01-21, 2024-01-22" in err
    assert "filled 1 missing value of 'y' at 2024-01-11 by linear interpolation" in err
    assert "dropped 2 rows at the start without a value of 'y' (2024-01-01, 2024-01-02)" in err
    np.testing.assert_allclose(_printed(out)["y"], [40, 41, 42], atol=0.5)  # y is a line
    assert _forecast(capsys, path, "--target", "y", "--fill", "interpolate")[1] == out
    status, _, err = _forecast(capsys, path, "--target", "y", "--fill", "ffill")
    assert status == 0 and "with the previous value (--fill ffill)" in err
    # Missing values alone, without missing rows.
    pd.DataFrame({"date": days, "y": y}).to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2
    assert "the column 'y' has 3 missing values, the first in row 1 (2024-01-01)" in err
    _assert_cli_error(err, "--fill interpolate")
    status, _, err = _forecast(capsys, path, "--target", "y", "--missing", "interpolate",
                               "--fill", "ffill")
    assert status == 2 and "--missing interpolate and --fill ffill disagree" in err


def test_times_with_utc_offsets_and_unsorted_rows(tmp_path, capsys):
    # Local times with their offsets across the spring change: regular in UTC.
    utc = pd.date_range("2024-03-30", periods=72, freq="h", tz="UTC")
    local = utc.tz_convert("Europe/Paris").strftime("%Y-%m-%dT%H:%M:%S%z")
    path = tmp_path / "offsets.csv"
    frame = pd.DataFrame({"time": local, "y": np.sin(np.arange(72) / 4)})
    frame.to_csv(path, index=False)
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 0 and "different UTC offsets (daylight-saving time): read in UTC" in err
    assert _printed(out).index[0] == "2024-04-02 00:00:00+00:00"
    # Newest first: --sort.
    frame.iloc[::-1].to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and "not sorted by time" in err
    _assert_cli_error(err, "--sort")
    status, out_sorted, _ = _forecast(capsys, path, "--target", "y", "--sort")
    assert status == 0 and out_sorted == out


@pytest.mark.parametrize("content, arguments, option", [
    ("date,y\n2024-01-01,1\n2024-01-02,x\n", [], "--target"),  # text in the target column
    ("date,y\n2024-01-01 02:00,1\n2024-01-01 02:00,2\n", [], "delete the extra rows"),
    ("date,y\n2024-01-01,1\n2024-01-02,2\n", ["--freq", "fortnightly"], "--freq"),
    ("date,y\nyesterday,1\ntoday,2\n", [], "--time-format"),
    ("date,y\n2024-01-01,1\n,2\n", [], "fill in its time"),
    ("date,y\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n", ["--target", "z"], "--target"),
    ("date,y\n2024-01-01,1\n2024-01-02,2,3\n", [], "--sep"),
    ("date,y\n2024-01-01 00:00,1\n2024-01-01 01:30,2\n2024-01-01 02:00,3\n",
     ["--freq", "h"], "--freq"),
    ("date,y\n2024-01-01 00:00,1\n2024-01-01 00:07,2\n2024-01-01 01:00,3\n"
     "2024-01-01 01:05,3\n", [], "--freq"),
])
def test_errors_say_what_to_type(tmp_path, capsys, content, arguments, option):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    status, out, err = _forecast(capsys, path, "--target", "y", *arguments, window=1,
                                 horizon=1)
    assert status == 2 and out == ""
    _assert_cli_error(err, option)
    assert len(err.splitlines()) == 1


def test_library_messages_are_rephrased_for_the_command_line():
    index = pd.date_range("2024-01-01", periods=6, freq="D")
    messages = []
    for data, call in (
            (pd.DataFrame({"y": [1.0, np.nan, 3, 4, 5, 6]}, index=index), check_series),
            (pd.DataFrame({"y": np.arange(6.0)}, index=index[::-1]), check_series),
            (pd.DataFrame({"y": np.arange(5.0)}, index=index.delete(3)),
             lambda data: SequenceForecaster(Ridge(), window=2).fit(data))):
        with pytest.raises(ValueError) as raised:
            call(data)
        messages.append((str(raised.value), _cli_message(raised.value)))
    (nan, nan_cli), (unsorted, unsorted_cli), (gaps, gaps_cli) = messages
    assert "missing='interpolate'" in nan and "add --fill interpolate" in nan_cli
    assert "np." not in nan_cli and "{'y': 1}" in nan_cli
    assert "sort_index" in unsorted and "add --sort" in unsorted_cli
    assert "pass freq=" in gaps
    assert gaps_cli == ("cannot infer the frequency of the timestamps (irregular, or gaps): name "
                        "it with --freq and add --fill interpolate (or --fill ffill) to fill the "
                        "missing rows")
    assert _cli_message(KeyError("price")) == "price"


def test_model_auto_breaks_ties_towards_the_simpler_model():
    from seqforecast.cli import _pick

    table = pd.DataFrame({"MASE": [1.0, 0.7935, 0.8, 0.79], "MAE": [5.0, 4.0, 4.0, 3.9]},
                         index=["naive", "ridge", "gru", "lstm"])
    assert _pick(table, list(table.index)) == "ridge"  # within 0.5% of the lowest (0.79)
    table.loc["lstm", "MASE"] = 0.7
    assert _pick(table, list(table.index)) == "lstm"
    table["MASE"] = np.nan
    assert _pick(table, list(table.index)) == "lstm"  # all NaN: the lowest MAE


# -- a fitted model in production: `forecast --save MODEL`, then `predict MODEL NEW.csv` -----

# A small network, quick to train: the lookback is 8 rows (9 with --transform diff).
QUICK = ["--epochs", "2", "--hidden", "4", "--window", "8", "--no-backtest"]


def _save(capsys, path, model, *arguments, target="y", horizon=7):
    """``seqforecast forecast ... --save model``; (standard output, standard error)."""
    assert main(["forecast", str(path), "--target", target, "--horizon", str(horizon),
                 *arguments, "--save", str(model)]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def _predict(capsys, model, path, *arguments):
    """``seqforecast predict model path ...``; (exit status, standard output, standard error)."""
    status = main(["predict", str(model), str(path), *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_predict_forecasts_from_newer_rows_with_the_saved_model(tmp_path, capsys):
    series = pd.read_csv(_weekly_csv(tmp_path), index_col=0, parse_dates=True)
    first, later = tmp_path / "first.csv", tmp_path / "later.csv"
    series.iloc[:100].to_csv(first)
    series.iloc[60:].to_csv(later)  # 20 rows after the fitted ones
    model = tmp_path / "model.npz"
    _, err = _save(capsys, first, model, *QUICK, "--transform", "diff")
    assert f"LSTM(4) saved -> {model}; seqforecast predict {model} NEW.csv" in err
    out = tmp_path / "forecast.csv"
    status, printed, err = _predict(capsys, model, later, "--out", str(out))
    assert status == 0 and printed == ""
    assert err == f"7-step forecast of 'y' -> {out}\n"
    # The library's forecast from the same rows, written as `forecast` writes one.
    expected = seqforecast.load(model).predict(data=series.iloc[60:])
    assert out.read_text() == expected.to_csv()
    assert list(expected.index) == list(pd.date_range("2024-04-30", periods=7, freq="D"))
    # --horizon: fewer steps than the model's (its default); standard output without --out.
    status, printed, _ = _predict(capsys, model, later, "--horizon", "3")
    assert status == 0 and printed == expected.iloc[:3].to_csv()


def test_calendar_cycles_reach_the_networks_and_a_saved_model_reads_new_rows_times(
        tmp_path, capsys):
    series = pd.read_csv(_weekly_csv(tmp_path, rows=160), index_col=0, parse_dates=True)
    first, later = tmp_path / "first.csv", tmp_path / "later.csv"
    series.iloc[:140].to_csv(first)
    series.iloc[100:].to_csv(later)
    model = tmp_path / "model.npz"
    _save(capsys, first, model, *QUICK, "--transform", "none", "--calendar", "week,year")
    fitted = seqforecast.load(model)
    assert fitted.calendar_ == ["week", "year"] and fitted.channels_ == ["y"]
    status, printed, _ = _predict(capsys, model, later)
    assert status == 0
    assert printed == fitted.predict(data=series.iloc[100:]).to_csv()
    _save(capsys, first, model, *QUICK, "--calendar", "none")
    assert seqforecast.load(model).calendar_ == []
    # The Ridge baseline of the backtest reads the lags only, as the benchmark's does.
    args = argparse.Namespace(horizon=3, window=8, missing="error", freq=None, seed=0,
                              transform="auto", calendar=["week"], quantiles=None,
                              epochs=None, hidden=None)
    assert _make_forecaster("ridge", args).calendar is None
    assert _make_forecaster("gru", args).calendar == ["week"]


def test_the_command_says_what_the_calendar_did_and_refuses_what_it_cannot_do(tmp_path,
                                                                             capsys):
    path = _weekly_csv(tmp_path, rows=160)  # daily: a window of 5 days cannot hold the week
    model = tmp_path / "model.npz"
    _, err = _save(capsys, path, model, "--window", "5", "--no-backtest", horizon=3)
    chosen = seqforecast.load(model)
    assert f"; calendar {' and '.join(chosen.calendar_) or 'none'} (auto)" in err
    assert chosen.calendar_errors_  # tried
    status = main(["forecast", str(path), "--target", "y", "--horizon", "9", "--window", "8",
                   "--calendar", "week"])
    assert status == 2
    err = capsys.readouterr().err
    assert ("--calendar week: the networks read the calendar of the forecast times inside the "
            "window, which needs --window >= --horizon (9); use --window 9 or more, or "
            "--calendar none") in err and "training" not in err
    assert main(["forecast", str(path), "--target", "y", "--horizon", "9", "--window", "5",
                 "--epochs", "1", "--hidden", "4", "--no-backtest"]) == 0
    assert ("--calendar auto tries no cycle: the networks read the calendar of the forecast "
            "times inside the window, which needs --window >= --horizon (9)"
            ) in capsys.readouterr().err


@pytest.mark.parametrize("value, message", [
    ("hour", "'hour' is not a cycle: give 'auto', 'none' or cycles among day, week, year"),
    ("week,week", "a cycle is given twice"),
])
def test_calendar_option_names_the_cycles(tmp_path, capsys, value, message):
    with pytest.raises(SystemExit):
        main(["forecast", str(_weekly_csv(tmp_path)), "--target", "y", "--horizon", "3",
              "--calendar", value])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("arguments, saved", ids=["lstm", "auto"], argvalues=[
    (QUICK, SequenceForecaster),
    # --model auto picks the seasonal naive forecast on 3 lags (see above): that is saved.
    (["--epochs", "1", "--window", "3", "--model", "auto"], NaiveForecaster),
])
def test_predict_from_the_files_own_rows_repeats_the_forecast(tmp_path, capsys, arguments,
                                                              saved):
    path, model = _weekly_csv(tmp_path), tmp_path / "model.npz"
    forecast, _ = _save(capsys, path, model, *arguments)
    assert type(seqforecast.load(model)) is saved
    status, printed, _ = _predict(capsys, model, path)
    assert status == 0 and printed == forecast


def test_predict_reads_the_file_with_the_reading_options_again(tmp_path, capsys):
    # Business days without two market holidays: --fill ffill, at the frequency B.
    path, _ = _stock_csv(tmp_path)
    model = tmp_path / "stock.npz"
    forecast, _ = _save(capsys, path, model, *QUICK, "--fill", "ffill", target="Close",
                        horizon=3)
    status, _, err = _predict(capsys, model, path)
    # Only the holiday among the rows the model reads counts: 2023-07-04 comes long before.
    assert status == 2 and err.endswith(
        "error: the timestamps are irregular: 1 row missing at 2023-12-25 for the frequency B "
        "(business days); add --fill interpolate (or --fill ffill) to fill it\n")
    _assert_cli_error(err, "--fill ffill")
    status, printed, err = _predict(capsys, model, path, "--fill", "ffill")
    assert status == 0 and printed == forecast and "added 2 rows" in err
    path.write_text("".join(path.read_text().splitlines(True)[:-5]))  # ends before 12-25
    status, printed, _ = _predict(capsys, model, path)
    assert status == 0 and len(_printed(printed)) == 3  # the gap of 07-04 is not read
    lines = path.read_text().splitlines(True)  # ends on Thursday 2023-12-21
    blank = lines[:-2] + [lines[-2].split(",")[0] + ",\n", lines[-1]]
    path.write_text("".join(blank))  # a missing value among the rows the model reads
    status, _, err = _predict(capsys, model, path)
    assert status == 2 and f"has 1 missing value, the first in row {len(lines) - 2} " \
                           f"({lines[-2].split(',')[0]})" in err  # the file's row number
    path.write_text("".join(lines + ["2023-12-22,101.0\n", "2023-12-23,\n", "2023-12-24,\n"]))
    status, printed, err = _predict(capsys, model, path)  # ends with a blank weekend
    assert status == 0 and "left out 2 rows without a value" in err
    assert list(_printed(printed).index) == ["2023-12-25", "2023-12-26", "2023-12-27"]
    # predict shares forecast's reading options, but takes the frequency from the model.
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]  # the options, in brackets
    for option in ("--sep", "--decimal", "--time-column", "--time-format", "--dayfirst",
                   "--period-freq", "--sort", "--fill", "--horizon", "--out"):
        assert f"[{option}" in usage
    assert "[--freq " not in usage and "[--target" not in usage


@pytest.fixture
def production(tmp_path, capsys, monkeypatch):
    """In the working directory (short names in the messages): weekly.csv, model.npz saved from
    it (lookback 8 rows) and the files that ``predict`` refuses."""
    monkeypatch.chdir(tmp_path)
    frame = pd.read_csv(_weekly_csv(tmp_path))
    _save(capsys, "weekly.csv", "model.npz", *QUICK, "--transform", "none")
    (tmp_path / "junk.npz").write_text("date,y\n")
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "model.npz").read_bytes()[:500])
    seqforecast.save(Ridge(), "ridge.npz")
    frame.rename(columns={"y": "sales"}).to_csv("other.csv", index=False)
    frame.iloc[-5:].to_csv("short.csv", index=False)
    frame.iloc[::7].to_csv("weekly_rows.csv", index=False)
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=48, freq="h"),
                  "y": np.arange(48.0)}).to_csv("hourly.csv", index=False)


@pytest.mark.parametrize("arguments, message", ids=[
    "not a model file", "truncated", "arguments swapped", "not a forecaster", "no model file",
    "no CSV file", "no target column", "too few rows", "weekly rows", "hourly rows", "horizon",
], argvalues=[
    (["junk.npz", "weekly.csv"], "junk.npz is not a seqforecast model file"),
    (["truncated.npz", "weekly.csv"], "truncated.npz is not a seqforecast model file, or it is "
                                      "truncated or damaged"),
    (["weekly.csv", "model.npz"], "the model file comes first: seqforecast predict MODEL "
                                  "FILE.csv"),
    (["ridge.npz", "weekly.csv"], "ridge.npz holds a model of class Ridge, not a fitted "
                                  "forecaster"),
    (["missing.npz", "weekly.csv"], "there is no model file missing.npz"),
    (["model.npz", "missing.csv"], "there is no file missing.csv"),
    (["model.npz", "other.csv"], "no column 'y' in other.csv; its columns: 'date', 'sales'; "
                                 "the model model.npz forecasts 'y' from its last rows"),
    (["model.npz", "short.csv"], "short.csv has 5 rows, too few for model.npz, which needs at "
                                 "least 8 rows: the model reads the last 8"),
    (["model.npz", "weekly_rows.csv"], "the rows of weekly_rows.csv are W-MON (weekly), the "
                                       "model model.npz forecasts D (daily)"),
    (["model.npz", "hourly.csv"], "is not a timestamp of D (daily) counted from row 1 "
                                  "(2024-01-01), the frequency of the model model.npz"),
    (["model.npz", "weekly.csv", "--horizon", "8"], "the model forecasts at most 7 steps, the "
                                                    "--horizon it was fitted with; got "
                                                    "--horizon 8"),
])
def test_predict_errors_name_the_problem(production, capsys, arguments, message):
    status, out, err = _predict(capsys, *arguments)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err
    _assert_cli_error(err, "")


# -- files the QA review found misread or refused in the wrong words -------------------------

def test_out_and_save_may_not_overwrite_the_input_or_the_model(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _weekly_csv(tmp_path)
    (tmp_path / "link.csv").symlink_to(tmp_path / "weekly.csv")
    for option, path, what in (("--out", "./weekly.csv", "the forecast"),
                               ("--out", "link.csv", "the forecast"),
                               ("--save", "weekly.csv", "the model")):
        status, out, err = _forecast(capsys, "weekly.csv", "--target", "y", option, path)
        assert status == 2 and out == ""
        assert err == (f"seqforecast: error: {option} {path} is the input file: {what} would "
                       f"overwrite it; give them different files\n")
    before = (tmp_path / "weekly.csv").read_text()
    for path, name in (("weekly.csv", "the input file"), ("model.npz", "the model file")):
        status, out, err = _predict(capsys, "model.npz", "weekly.csv", "--out", path)
        assert status == 2 and out == ""
        assert f"--out {path} is {name}: the forecast would overwrite it" in err
    assert (tmp_path / "weekly.csv").read_text() == before


@pytest.mark.parametrize("times, sep, example, row, first", [
    (pd.date_range("2024-01-01", periods=30, freq="MS").strftime("%d/%m/%Y"), ",",
     "%m/%d/%Y", "row 2, '01/02/2024', is 2 January month first and 1 February day first",
     "2026-07-01"),
    (pd.date_range("2024-01-01", periods=60, freq="h").strftime("%d.%m.%Y %H:%M"), ";",
     "%m.%d.%Y %H:%M", "row 25, '02.01.2024 00:00', is 1 February month first and 2 January "
                       "day first", "2024-01-03 12:00:00"),
])
def test_dates_that_read_both_day_and_month_first_are_refused(tmp_path, capsys, times, sep,
                                                              example, row, first):
    path = tmp_path / "ambiguous.csv"
    pd.DataFrame({"date": times, "y": np.arange(len(times)) % 5.0}).to_csv(path, index=False,
                                                                        sep=sep)
    status, out, err = _forecast(capsys, path, "--target", "y", "--sep", sep, window=4)
    assert status == 2 and out == ""
    assert err == (f"seqforecast: error: the dates in 'date' read both month first and day "
                   f"first: {row}; add --dayfirst if the day comes first, else --time-format "
                   f"'{example}'\n")
    status, out, _ = _forecast(capsys, path, "--target", "y", "--sep", sep, "--dayfirst",
                               window=4)
    assert status == 0 and _printed(out, sep).index[0] == first
    status, _, err = _forecast(capsys, path, "--target", "y", "--sep", sep, "--time-format",
                               example, window=4)
    assert status == 2 and "the timestamps are irregular" in err  # month first: gaps


def test_times_of_day_are_read_with_the_dates_before_them(tmp_path, capsys):
    stamps = pd.date_range("2024-01-01", periods=30, freq="h")
    path = tmp_path / "twocol.csv"
    frame = pd.DataFrame({"date": stamps.strftime("%Y-%m-%d"), "time": stamps.strftime("%H:%M"),
                          "y": np.arange(30) % 4.0})
    frame.to_csv(path, index=False)
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 0
    assert ("seqforecast: the dates in 'date' and the times of day in 'time' are read together "
            "as timestamps") in err
    assert list(_printed(out).index) == ["2024-01-02 06:00:00", "2024-01-02 07:00:00",
                                         "2024-01-02 08:00:00"]
    # Times of day alone: pandas would add today's date.
    frame.drop(columns="date").to_csv(path, index=False)
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and out == ""
    assert ("the time column 'time' holds times of day without dates (00:00, 01:00, 02:00, "
            "...): the forecast needs dates too") in err
    _assert_cli_error(err, "--time-column")


def test_the_duplicate_times_message_counts_the_rows_it_leaves_out(tmp_path, capsys):
    path = tmp_path / "dup.csv"
    path.write_text("date,y\n" + "2024-01-01,1\n" * 7)
    status, _, err = _forecast(capsys, path, "--target", "y", window=1, horizon=1)
    assert status == 2
    assert "the time 2024-01-01 appears in rows 1, 2, 3, 4, 5 and 2 more: each time" in err


@pytest.mark.parametrize("start", [0, 1000])
def test_an_unnamed_first_column_is_a_row_index_not_the_time_column(tmp_path, capsys, start):
    path = tmp_path / "indexed.csv"
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    pd.DataFrame({"date": days, "y": np.arange(30) % 4.0},
                 index=range(start, start + 30)).to_csv(path)  # header ',date,y'
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 0
    assert ("seqforecast: the first column has no header (a row index?): the time column is "
            "'date', the first with a name; --time-column names another") in err
    assert list(_printed(out).index) == ["2024-01-31", "2024-02-01", "2024-02-02"]


def test_a_time_column_without_a_header_is_written_without_one(tmp_path, capsys):
    """``df.to_csv()`` of a frame whose dates are its unnamed index: the forecast's time
    column is headed as it was read, empty (pandas' name for it, 'Unnamed: 0', was written)."""
    path = tmp_path / "unnamed.csv"
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    pd.DataFrame({"y": np.arange(30) % 4.0}, index=days).to_csv(path)  # header ',y'
    status, out, _ = _forecast(capsys, path, "--target", "y")
    assert status == 0
    assert out.splitlines()[0] == ",y"


def test_a_column_name_given_twice_is_refused(tmp_path, capsys):
    path = tmp_path / "dupcol.csv"
    path.write_text("date,y,y\n" + "".join(f"2024-01-{day:02},{day},{-day}\n"
                                           for day in range(1, 21)))
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and out == ""
    assert err == "seqforecast: error: the header names 'y' twice, columns 2 and 3: rename one\n"


def test_target_names_match_headers_with_spaces_and_decomposed_accents(tmp_path, capsys):
    path = tmp_path / "accents.csv"
    name = "Temp °C Größe"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=20, freq="D"),
                  f" {unicodedata.normalize('NFD', name)} ": np.arange(20) % 4.0}).to_csv(
        path, index=False)
    for target in (name, f" {name} "):
        status, out, _ = _forecast(capsys, path, "--target", target)
        assert status == 0 and out.startswith(f"date,{name}\n")


def test_iso_dates_whose_midnight_rows_have_no_time(tmp_path, capsys):
    stamps = pd.date_range("2024-01-01", periods=50, freq="h")
    path = tmp_path / "midnight.csv"
    texts = [f"{stamp:%Y-%m-%d}" if stamp.hour == 0 else f"{stamp:%Y-%m-%d %H:%M:%S}"
             for stamp in stamps]  # what pandas writes for such timestamps
    pd.DataFrame({"date": texts, "y": np.arange(50) % 4.0}).to_csv(path, index=False)
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 0 and err.endswith("\n") and "error" not in err
    assert list(_printed(out).index) == ["2024-01-03 02:00:00", "2024-01-03 03:00:00",
                                         "2024-01-03 04:00:00"]


@pytest.mark.parametrize("written, sep, reading, advice", [
    ("{:,.2f}", ",", ["--thousands", ","], "thousands separators: add --thousands ','"),
    ("{:_.2f}", ";", ["--thousands", ".", "--decimal", ","],
     "thousands separators: add --thousands '.' --decimal ','"),
    ("{:.2f}", ",", ["--decimal", ","], "a decimal comma: add --decimal ','"),  # Google Sheets
])
def test_numbers_with_thousands_separators_or_quoted_decimal_commas(tmp_path, capsys, written,
                                                                    sep, reading, advice):
    values = 10_000 + 100 * (np.arange(30) % 4) + 0.25
    texts = [written.format(value) for value in values]
    if written == "{:_.2f}":  # 10.100,25, dates 01.01.2024 that --thousands '.' leaves alone
        texts = [text.replace(".", ",").replace("_", ".") for text in texts]
        days = pd.date_range("2024-01-13", periods=30).strftime("%d.%m.%Y")
    else:
        texts = [text.replace(".", ",") if written == "{:.2f}" else text for text in texts]
        days = pd.date_range("2024-01-01", periods=30).strftime("%Y-%m-%d")
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"date": days, "y": texts}).to_csv(path, index=False, sep=sep)
    status, out, err = _forecast(capsys, path, "--target", "y", "--sep", sep)
    assert status == 2 and out == ""
    assert err.endswith(f"seqforecast: error: the column 'y' holds text, not numbers: row 1 "
                        f"holds {texts[0]!r}; the numbers have {advice}\n")
    # The model keeps the last rows it read: the numbers written.
    _save(capsys, path, tmp_path / "model.npz", "--sep", sep, *reading, *QUICK, horizon=3)
    history = next(iter(seqforecast.load(tmp_path / "model.npz").history_.values()))
    np.testing.assert_array_equal(history["y"], values[-len(history):])


@pytest.mark.parametrize("option, numbers, first", [
    ("unix", 1709251200 + 3600 * np.arange(30),  # 2024-03-01 00:00 UTC, hourly
     "2024-03-02 06:00:00+00:00"),
    ("excel", np.arange(45292, 45322), "2024-01-31"),
])
def test_unix_times_and_spreadsheet_day_numbers(tmp_path, capsys, option, numbers, first):
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"t": numbers, "y": np.arange(30) % 4.0}).to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and err.endswith(f"add --time-format {option}\n")
    status, out, err = _forecast(capsys, path, "--target", "y", "--time-format", option)
    assert status == 0 and _printed(out).index[0] == first
    assert ("the numbers in 't' are read as seconds since 1970-01-01 (Unix times) in UTC "
            "(--time-format unix), and the forecast is in UTC" in err) == (option == "unix")
    status, _, err = _forecast(capsys, path, "--target", "y", "--time-format", "%s")
    assert status == 2 and err == ("seqforecast: error: --time-format %s: pandas does not read "
                                   "%s; for seconds since 1970-01-01 (Unix times) use "
                                   "--time-format unix\n")


def test_spreadsheet_day_numbers_with_times(tmp_path, capsys):
    path = tmp_path / "excel.csv"
    pd.DataFrame({"t": 45292 + np.arange(30) / 24, "y": np.arange(30) % 4.0}).to_csv(
        path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and "holds numbers, not dates (45292, 45292.0416666667" in err
    assert err.endswith("if they are days since 1899-12-30 (spreadsheet dates), add "
                        "--time-format excel\n")
    status, out, _ = _forecast(capsys, path, "--target", "y", "--time-format", "excel")
    assert status == 0 and _printed(out).index[0] == "2024-01-02 06:00:00"


def test_a_file_of_one_column_needs_a_time_column(tmp_path, capsys):
    path = tmp_path / "single.csv"
    path.write_text("value\n" + "".join(f"{value}\n" for value in range(30)))
    status, out, err = _forecast(capsys, path, "--target", "value")
    assert status == 2 and out == ""
    assert err == (f"seqforecast: error: {path} has one column, 'value': a forecast needs a "
                   f"time column too (dates, times or integer years), and the column to "
                   f"forecast; add the time column to the file\n")


def test_warnings_are_one_line_each_once_in_the_commands_terms(tmp_path, capsys, monkeypatch):
    def diverging(forecaster, **options):
        for _ in range(2):
            warnings.warn("Training diverged in epoch 2. Training stopped and the weights of "
                          "the best epoch so far were restored. Lower learning_rate_init (now "
                          "0.003) or clip the gradients (clip_global_norm, ...).",
                          ConvergenceWarning)
        return _forecast_table(forecaster, **options)

    monkeypatch.setattr("seqforecast.cli._forecast_table", diverging)
    status, _, err = _forecast(capsys, _weekly_csv(tmp_path), "--target", "y")
    assert status == 0 and ".py" not in err
    assert err.count("\nseqforecast: warning: ") == 1
    assert ("\nseqforecast: warning: Training diverged in epoch 2. Training stopped and the "
            "weights of the best epoch so far were restored. The forecast uses the restored "
            "weights; try the default recipe (without --epochs), fewer --epochs or a smaller "
            "--hidden.\n") in err
    # A constant series: MASE is undefined in each fold of each model, said once.
    path = tmp_path / "constant.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40), "y": 5.0}).to_csv(
        path, index=False)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "3", "--window", "7",
                 "--epochs", "1", "--hidden", "4"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "MASE is" in line]
    assert warned == ["seqforecast: warning: MASE is undefined (NaN): the training rows of 'y' "
                      "repeat every --season 7 rows, so the seasonal naive forecast that "
                      "scales MASE has no in-sample error (a scale of 0)"]


def test_the_backtest_table_writes_huge_errors_in_exponent_form(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    frame = pd.read_csv(path)
    frame["y"] *= 1e300
    frame.to_csv(path, index=False)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--window", "7",
                 "--epochs", "1", "--hidden", "4", "--transform", "none"]) == 0
    err = capsys.readouterr().err
    row = next(line for line in err.splitlines() if line.startswith("seasonal naive (7) "))
    assert re.fullmatch(r"seasonal naive \(7\) +\d\.\d{3}e\+(299|300) .*", row)
    assert len(row) < 80


def test_the_backtest_table_keeps_the_digits_of_tiny_errors(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    frame = pd.read_csv(path)
    frame["y"] *= 1e-6
    frame.to_csv(path, index=False)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--window", "7",
                 "--epochs", "1", "--hidden", "4", "--transform", "none"]) == 0
    err = capsys.readouterr().err
    row = next(line for line in err.splitlines() if line.startswith("seasonal naive (7) "))
    mae, rmse = (float(v) for v in row.split()[3:5])
    assert 0 < mae <= rmse < 1e-3  # not 0.000
    assert re.fullmatch(r"seasonal naive \(7\) +\d\.\d{3}e-0\d +\d\.\d{3}e-0\d .*", row)


@pytest.mark.parametrize("option, value, message", [
    ("--seed", "-1", "argument --seed: must be an integer from 0 to 4294967295, got '-1'"),
    ("--seed", "4294967296", "must be an integer from 0 to 4294967295, got '4294967296'"),
    ("--horizon", "2.5", "argument --horizon: must be a positive integer, got '2.5'"),
    ("--window", "abc", "argument --window: must be a positive integer, got 'abc'"),
    ("--window", "0", "argument --window: must be a positive integer, got '0'"),
])
def test_integer_options_are_checked_by_the_parser(tmp_path, capsys, option, value, message):
    with pytest.raises(SystemExit) as raised:
        main(["forecast", str(_weekly_csv(tmp_path)), "--target", "y", "--horizon", "3",
              option, value])
    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(message)


def test_a_model_file_given_as_the_csv_and_a_file_as_the_demo_folder(production, capsys):
    status, out, err = _forecast(capsys, "model.npz", "--target", "y")
    assert status == 2 and out == ""
    assert err == ("seqforecast: error: model.npz is a model file, not a CSV file: forecast "
                   "with it with seqforecast predict model.npz FILE.csv\n")
    assert main(["demo", "--out-dir", "weekly.csv"]) == 2
    assert capsys.readouterr().err == ("seqforecast: error: --out-dir weekly.csv is a file, "
                                       "not a folder: choose another --out-dir\n")


def test_decimal_commas_in_a_tab_separated_file_name_the_tab(tmp_path, capsys):
    path = tmp_path / "tab.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=20).strftime("%Y-%m-%d"),
                  "y": [f"{value},5" for value in range(20)]}).to_csv(path, index=False,
                                                                      sep="\t")
    status, _, err = _forecast(capsys, path, "--target", "y", "--decimal", ",")
    assert status == 2 and err.endswith("seems separated by tab, not ',': add --sep tab\n")
    status, _, err = _forecast(capsys, path, "--target", "y", "--sep", "tab")
    assert status == 2 and err.endswith("the numbers have a decimal comma: add --decimal ','\n")
    assert _forecast(capsys, path, "--target", "y", "--sep", "tab", "--decimal", ",")[0] == 0


def test_hidden_alone_trains_a_plain_network_and_says_so(tmp_path, capsys):
    path = _weekly_csv(tmp_path, rows=60)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "3", "--window", "7",
                 "--hidden", "4", "--no-backtest"]) == 0
    err = capsys.readouterr().err
    assert "training LSTM(4) for up to 50 epochs ..." in err and "default recipe" not in err


@pytest.mark.parametrize("option, numbers, message", [
    ("unix", 1704067200000 + 86400000 * np.arange(30),
     "holds numbers from 1704067200000 to 1706572800000, which as seconds since 1970-01-01 "
     "(Unix times) are not dates from 1900 to 2200; milliseconds since 1970 are 1000 times "
     "more: divide them by 1000"),
    ("excel", -4708 + np.arange(30),
     "holds numbers from -4708 to -4679, which as days since 1899-12-30 (spreadsheet dates) "
     "are not dates from 1900 to 2200")])
def test_numbers_that_are_no_dates_in_the_format_given_are_refused(tmp_path, capsys, option,
                                                                   numbers, message):
    """Unix milliseconds read as seconds were dates in the year 56079, and negative day
    numbers dates in 1887: refused, not forecast."""
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"t": numbers, "y": np.arange(30) % 4.0}).to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y", "--time-format", option)
    assert status == 2 and message in err


@pytest.mark.parametrize("values, options, row", [
    (["100,0", "104,27", "98,5"], ["--thousands", ","], "'104,27' in row 1"),
    (["10.000,00", "10.00,5", "9.999,10"],
     ["--sep", ";", "--thousands", ".", "--decimal", ","], "'10.00,5' in row 1")])
def test_a_thousands_separator_must_separate_groups_of_three(tmp_path, capsys, values, options,
                                                             row):
    """A decimal comma read as a thousands separator made 100,0 into 1000; a mark out of
    place is refused, naming the row."""
    sep = ";" if ";" in options else ","
    lines = ["date" + sep + "sales"] + [f"2024-01-{day:02d}{sep}\"{values[day % 3]}\""
                                        for day in range(1, 31)]
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(lines) + "\n")
    status, _, err = _forecast(capsys, path, "--target", "sales", *options)
    assert status == 2 and f"holds {row}, whose --thousands" in err
    assert "does not separate groups of three digits" in err


def _lines(path, header, rows):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_decimal_comma_in_a_comma_separated_file_never_reads_a_point(tmp_path, capsys):
    # "1.200" with --decimal ',' is 1200 written with a thousands point, never 1.2.
    rows = [f"2024-01-{day:02d},{day}.{200 + day}" for day in range(1, 31)]
    path = _lines(tmp_path / "points.csv", "date,amount", rows)
    status, _, err = _forecast(capsys, path, "--target", "amount", "--decimal", ",")
    assert status == 2 and "row 1 holds '1.201'" in err
    _assert_cli_error(err, "--thousands '.'")
    status, out, _ = _forecast(capsys, path, "--target", "amount", "--decimal", ",",
                               "--thousands", ".")
    assert status == 0 and _printed(out, decimal=",")["amount"].abs().max() > 100  # thousands
    assert out.splitlines()[1].count('"') == 2  # "1234,5": the decimal comma, quoted


def test_thousands_points_are_not_read_as_decimals(tmp_path, capsys):
    # A German export of visitor counts: 960, 1.090 (= 1090); pandas reads 1.090 as 1.09.
    counts = 900 + 37 * np.arange(40) % 400
    texts = [f"{n:,}".replace(",", ".") for n in counts]
    days = pd.date_range("2024-01-01", periods=40).strftime("%d.%m.%Y")
    path = _lines(tmp_path / "visitors.csv", "Datum;Besucher",
                  [f"{day};{text}" for day, text in zip(days, texts)])
    reading = ["--target", "Besucher", "--sep", ";", "--dayfirst"]
    status, out, err = _forecast(capsys, path, *reading)
    assert status == 2 and out == ""
    first = next(text for text in texts if "." in text)
    assert err.endswith(
        f"the column 'Besucher' holds whole numbers such as '900' and numbers with three "
        f"digits after a point such as {first!r}: if the point separates thousands ({first} = "
        f"{first.replace('.', '')}), add --thousands '.'; if it is the decimal mark ({first} = "
        f"{float(first):g}), add --decimal '.'\n")
    _save(capsys, path, tmp_path / "model.npz", *reading[2:], "--thousands", ".", *QUICK,
          target="Besucher", horizon=3)
    history = next(iter(seqforecast.load(tmp_path / "model.npz").history_.values()))
    np.testing.assert_array_equal(history["Besucher"], counts[-len(history):])
    status, _, _ = _forecast(capsys, path, *reading, "--decimal", ".")  # decimals, said so
    assert status == 0


def test_points_before_three_digits_everywhere_or_as_whole_thousands(tmp_path, capsys):
    days = pd.date_range("2024-01-01", periods=40).strftime("%Y-%m-%d")
    # 1.000 is read as 1.0, a whole number: beside 960 it is a thousands point as well.
    values = ["960", "1.000", "2.000", "850"] * 10
    path = _lines(tmp_path / "n.csv", "date;n", [f"{d};{v}" for d, v in zip(days, values)])
    status, _, err = _forecast(capsys, path, "--target", "n", "--sep", ";")
    assert status == 2 and "holds whole numbers such as '960' and numbers with three digits " \
                           "after a point such as '1.000'" in err
    # Every value with three decimals: a sensor's, or thousands? Read, with a note.
    values = ["1.000", "1.090", "1.500", "2.250"] * 10
    path = _lines(tmp_path / "n.csv", "date;n", [f"{d};{v}" for d, v in zip(days, values)])
    status, _, err = _forecast(capsys, path, "--target", "n", "--sep", ";")
    assert status == 0 and ("seqforecast: every number in 'n' has three digits after a point "
                            "(1.000): read as decimals; if the point separates thousands, add "
                            "--thousands '.'") in err


def test_a_comma_before_three_digits_names_both_readings(tmp_path, capsys):
    rows = [f'2024-01-{day:02d},"{1 + day % 3},{day * 7 % 1000:03d}"' for day in range(1, 31)]
    path = _lines(tmp_path / "visitors.csv", "date,visitors", rows)
    status, _, err = _forecast(capsys, path, "--target", "visitors")
    assert status == 2 and err.endswith(
        "row 1 holds '2,007', which is 2007 if the comma separates thousands (add --thousands "
        "','), or 2.007 if it is the decimal mark (add --decimal ',')\n")
    rows[5] = '2024-01-06,"2,5"'  # another row has a decimal comma: the column has them
    path = _lines(tmp_path / "visitors.csv", "date,visitors", rows)
    status, _, err = _forecast(capsys, path, "--target", "visitors")
    assert status == 2 and err.endswith("the numbers have a decimal comma: add --decimal ','\n")
    rows[5] = '2024-01-06,"1,234,567"'  # another row has two groups: thousands
    path = _lines(tmp_path / "visitors.csv", "date,visitors", rows)
    status, _, err = _forecast(capsys, path, "--target", "visitors")
    assert status == 2 and err.endswith("thousands separators: add --thousands ','\n")


def test_an_empty_target_column_is_named_before_any_advice_to_fill(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    frame = pd.read_csv(path)
    frame["empty"] = np.nan
    frame.to_csv(path, index=False)
    for fill in ([], ["--fill", "interpolate"]):
        status, _, err = _forecast(capsys, path, "--target", "empty", *fill)
        assert status == 2 and err == ("seqforecast: error: the column 'empty' has no values: "
                                       "name another column with --target\n")


def test_filling_a_gap_as_long_as_a_window_warns(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    frame = pd.read_csv(path)
    frame.loc[40:47, "y"] = np.nan  # 8 rows: one --window of 8
    frame.to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y", "--fill", "interpolate")
    assert status == 0
    assert ("seqforecast: warning: 8 rows in a row, from 2024-02-10 to 2024-02-17, were filled "
            "by linear interpolation in time (--fill interpolate): at least --window 8 rows, "
            "so some training windows hold no observed value") in err
    frame.loc[47, "y"] = 20.0  # 7 rows: every window holds an observed value
    frame.to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y", "--fill", "interpolate")
    assert status == 0 and "filled 7 missing values" in err and "warning" not in err


def test_readings_at_irregular_times_are_sent_to_aggregation_not_in_a_circle(tmp_path,
                                                                              capsys):
    minutes = np.cumsum(np.random.default_rng(0).integers(7, 300, 100))
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min")
    path = tmp_path / "irregular.csv"
    pd.DataFrame({"t": times, "y": np.arange(100.0)}).to_csv(path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and err.endswith("no frequency holds them all; name it with --freq, or "
                                        "check the time column (--time-column); readings at "
                                        "irregular times must be aggregated to regular ones "
                                        "first (e.g. hourly means): the command does not "
                                        "resample\n")
    status, _, err = _forecast(capsys, path, "--target", "y", "--freq", "D")
    assert status == 2 and err.endswith(
        "(2024-01-01 04:16), the frequency --freq D names: the command reads rows "
        "on its grid and does not resample; round or aggregate the times to it in the file "
        "first (e.g. daily means for --freq D), or give the file's own frequency to --freq\n")
    assert "leave --freq out" not in err


def test_months_with_two_digit_years_and_months_written_as_numbers(tmp_path, capsys):
    months = pd.date_range("2018-01-01", periods=40, freq="MS")
    y = [f"{v:.1f}" for v in 10 + np.arange(40) % 12]
    # A spreadsheet's mmm-yy: pandas read the 18th of January in the year 1 (or refused).
    path = _lines(tmp_path / "mmm.csv", "month,y", [f"{m:%b-%y},{v}" for m, v in zip(months, y)])
    status, out, err = _forecast(capsys, path, "--target", "y")
    assert status == 0 and list(_printed(out).index) == ["2021-05-01", "2021-06-01",
                                                         "2021-07-01"]
    assert "read as months and two-digit years (Jan-18 is January 2018)" in err
    german = [f"{m:%b-%y}".replace("May", "Mai").replace("Oct", "Okt") for m in months]
    path = _lines(tmp_path / "mai.csv", "month,y", [f"{m},{v}" for m, v in zip(german, y)])
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and "holds times without a year of 3 or 4 digits, such as 'Jan-18'" in err
    path = _lines(tmp_path / "slash.csv", "month,y", [f"{m:%b/%y},{v}" for m, v in zip(months, y)])
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and err.endswith(
        "the time column 'month' holds times without a year of 3 or 4 digits, such as "
        "'Jan/18', which pandas reads in the year 1 or so: say how to read them with "
        "--time-format (e.g. '%b-%y' for Jan-18, '%d.%m.%y' for 31.01.18)\n")
    # 01.2018 is read by pandas as the number 1.2018, and 10.2020 as 10.202.
    path = _lines(tmp_path / "points.csv", "d,y", [f"{m:%m.%Y},{v}" for m, v in zip(months, y)])
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and err.endswith("the time column 'd' holds '01.2018', which reads as "
                                        "the number 1.2018: if it is a month and a year, add "
                                        "--time-format '%m.%Y'\n")
    status, out, _ = _forecast(capsys, path, "--target", "y", "--time-format", "%m.%Y")
    assert status == 0 and _printed(out).index[0] == "2021-05-01"


@pytest.mark.parametrize("training", [[], ["--epochs", "2", "--no-backtest"]])
def test_warnings_of_training_come_after_its_status_line(tmp_path, capsys, training):
    path = _weekly_csv(tmp_path, rows=10)  # too few rows for --transform auto to score
    assert main(["forecast", str(path), "--target", "y", "--horizon", "3", "--window", "7",
                 *training]) == 0
    lines = capsys.readouterr().err.splitlines()
    warning = next(i for i, line in enumerate(lines) if "could not score" in line)
    assert lines[warning].startswith("seqforecast: warning: --transform auto could not score")
    assert "epoch" in lines[warning - 1]  # the status line or progress bar, ended before it


def test_a_calendar_with_blank_weekends_reads_as_business_days(tmp_path, capsys):
    days = pd.date_range("2024-01-01", periods=70)
    close = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, 70)).round(2)
    rows = [f"{day:%Y-%m-%d}," + ("" if day.day_of_week >= 5 else f"{value}")
            for day, value in zip(days, close)]
    path = _lines(tmp_path / "close.csv", "Date,Close", rows)
    status, _, err = _forecast(capsys, path, "--target", "Close")
    assert status == 2 and ("the column 'Close' has 20 missing values, the first in row 6 "
                            "(2024-01-06) (they all fall on weekends: for business days only, "
                            "add --freq B)") in err
    status, out, err = _forecast(capsys, path, "--target", "Close", "--freq", "B")
    assert status == 0 and err.startswith(
        "seqforecast: left out 20 rows without a value of 'Close' at times that B (business "
        "days) does not hold (2024-01-06, 2024-01-07, ")
    assert list(_printed(out).index) == ["2024-03-11", "2024-03-12", "2024-03-13"]
    rows[6] = "2024-01-07,101.0"  # a Sunday with a value: not dropped, refused
    path = _lines(tmp_path / "close.csv", "Date,Close", rows)
    status, _, err = _forecast(capsys, path, "--target", "Close", "--freq", "B")
    assert status == 2 and "row 7 (2024-01-07, a Sunday) is not a timestamp of B" in err


def test_one_mistyped_date_among_weekly_rows_is_named(tmp_path, capsys):
    # Business days hold Mondays and one Tuesday: read as B, 80% of the rows were made up.
    weeks = pd.date_range("2022-01-03", periods=80, freq="W-MON")
    weeks = weeks.where(weeks != "2022-12-19", pd.Timestamp("2022-12-20"))
    path = tmp_path / "weekly.csv"
    pd.DataFrame({"week": weeks.strftime("%Y-%m-%d"), "y": np.arange(80.0) % 5}).to_csv(
        path, index=False)
    status, _, err = _forecast(capsys, path, "--target", "y", "--fill", "interpolate")
    assert status == 2 and err == (
        "seqforecast: error: the timestamps are W-MON (weekly) but for row 51 (2022-12-20, a "
        "Tuesday): correct it, or name the frequency with --freq\n")


def test_mape_of_a_series_that_crosses_zero_gets_a_note(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    frame = pd.read_csv(path)
    frame["y"] -= 20  # a cycle around zero
    frame.to_csv(path, index=False)
    assert main(["forecast", str(path), "--target", "y", "--horizon", "7", "--window", "7",
                 "--epochs", "1", "--hidden", "4"]) == 0
    err = capsys.readouterr().err
    assert ("seqforecast: 'y' crosses zero, and MAPE divides by the actual values: near zero "
            "they make it large whatever the forecast; judge by MAE or MASE here") in err
    assert main(["forecast", str(_weekly_csv(tmp_path)), "--target", "y", "--horizon", "7",
                 "--window", "7", "--epochs", "1", "--hidden", "4"]) == 0
    assert "crosses zero" not in capsys.readouterr().err


def test_the_forecast_is_written_with_the_input_separator_and_decimal_mark(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    frame = pd.read_csv(path)
    frame.to_csv(path, index=False, sep=";", decimal=",")
    out = tmp_path / "forecast.csv"
    status, _, _ = _forecast(capsys, path, "--target", "y", "--sep", ";", "--decimal", ",",
                             "--out", str(out))
    assert status == 0
    text = out.read_text()
    assert text.startswith("date;y\n") and "." not in text and text.count(",") == 3
    written = pd.read_csv(out, sep=";", decimal=",", index_col=0)["y"]
    assert written.between(10, 30).all()


def test_rows_with_more_fields_than_the_header(tmp_path, capsys):
    # A separator that ends every row: read without the empty last field.
    path = _weekly_csv(tmp_path)
    trailing = _lines(tmp_path / "trailing.csv", "date,y",
                      [line + "," for line in path.read_text().splitlines()[1:]])
    status, out, _ = _forecast(capsys, trailing, "--target", "y")
    assert status == 0
    assert out == _forecast(capsys, path, "--target", "y")[1]
    # Unquoted decimal commas: refused, not shifted into the wrong columns.
    commas = _lines(tmp_path / "commas.csv", "date,y",
                    [f"2024-01-{day:02d},{day},5" for day in range(1, 31)])
    status, _, err = _forecast(capsys, commas, "--target", "y")
    assert status == 2 and "have more fields than its header ('date', 'y')" in err
    _assert_cli_error(err, "Quote them")


def test_a_file_from_a_pipe_is_read_once(tmp_path, capsys):
    path = _weekly_csv(tmp_path)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(path.read_bytes()))
    writer.start()
    status, out, _ = _forecast(capsys, fifo, "--target", "y")
    writer.join()
    assert status == 0 and out == _forecast(capsys, path, "--target", "y")[1]


def test_years_before_1677_are_read_as_years(tmp_path, capsys):
    path = _lines(tmp_path / "early.csv", "year,temp",
                  [f"{year},{10 + np.sin(year / 3):.4f}" for year in range(1500, 1600)])
    status, out, err = _forecast(capsys, path, "--target", "temp")
    assert status == 0 and "read as years" in err
    assert list(_printed(out).index) == ["1600-01-01", "1601-01-01", "1602-01-01"]


@pytest.mark.parametrize("option", ["--save", "--out"])
def test_an_empty_output_path_is_refused(option, tmp_path, capsys):
    status, _, err = _forecast(capsys, _weekly_csv(tmp_path), "--target", "y", option, "")
    assert status == 2
    _assert_cli_error(err, f"{option} is empty")


def test_spreadsheet_habits_no_break_spaces_and_a_separator_line(tmp_path, capsys):
    rows = [f"{day:02d}.01.2024;10\u00a0{day:03d},50" for day in range(1, 31)]
    path = _lines(tmp_path / "fr.csv", "sep=;\nDatum;Umsatz", rows)
    status, out, err = _forecast(capsys, path, "--target", "Umsatz", "--decimal", ",",
                                 "--thousands", " ", "--dayfirst")
    assert status == 0 and "sep=;, names its separator: read with --sep ';'" in err
    assert _printed(out, ";", ",")["Umsatz"].between(9_000, 11_000).all()
    assert out.startswith("Datum;Umsatz\n") and "," in out.splitlines()[1]  # as the file is
    status, _, err = _forecast(capsys, path, "--target", "Umsatz", "--decimal", ",",
                               "--dayfirst")
    assert status == 2
    _assert_cli_error(err, "add --thousands ' '")


def test_a_bad_time_format_names_the_option(tmp_path, capsys):
    status, _, err = _forecast(capsys, _weekly_csv(tmp_path), "--target", "y",
                               "--time-format", "%Y-%m-%d %H:%i")
    assert status == 2
    _assert_cli_error(err, "--time-format %Y-%m-%d %H:%i: 'i' is a bad directive")


def test_rows_that_start_with_r_row_names_are_read(tmp_path, capsys):
    # R's write.table: a header without a field for the row names 1, 2, ...
    path = _weekly_csv(tmp_path)
    lines = path.read_text().splitlines()
    named = _lines(tmp_path / "r.txt", '"date" "y"',
                   [f'"{row}" "{line.split(",")[0]}" {line.split(",")[1]}'
                    for row, line in enumerate(lines[1:], start=1)])
    status, out, err = _forecast(capsys, named, "--sep", " ", "--target", "y")
    assert status == 0 and "start with row numbers 1, 2, ... that the header does not" in err
    assert out == _forecast(capsys, path, "--target", "y")[1].replace(",", " ")


def test_line_numbers_count_a_separator_line(tmp_path, capsys):
    rows = [f"2024-01-{day:02d},{day}" for day in range(1, 31)]
    rows[5] += ",7"  # the 8th line of the file
    path = _lines(tmp_path / "sep.csv", "sep=,\ndate,y", rows)
    status, _, err = _forecast(capsys, path, "--target", "y")
    assert status == 2 and "line 8 has 3 fields, the lines before it 2" in err


def test_counts_of_a_step_are_named_as_counts_in_messages(tmp_path, capsys):
    path = _lines(tmp_path / "counts.csv", "t,y",
                  [f"{t},{50 + t % 24}" for t in range(80) if t != 18])
    status, _, err = _forecast(capsys, path, "--target", "y", "--period-freq", "h")
    assert status == 2 and "1 row missing at 18 for the frequency h" in err
    status, _, err = _forecast(capsys, path, "--target", "y", "--period-freq", "h",
                               "--fill", "interpolate")
    assert status == 0 and "for the missing timestamp 18, filled" in err
