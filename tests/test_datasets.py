"""The dataset loaders: index, columns, frequency, documented gaps.

The files in the wheel and the lookup of the files: tests/test_packaging.py.
"""
import pathlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from seqforecast import datasets

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO / "datasets"  # the one copy of the bundled files


@dataclass
class Case:
    loader: str
    file: str
    key: list  # the file's columns that name a row: its time, and the ticker for the stocks
    file_rows: int
    repeated_times: int  # rows dropped because their timestamp repeats the previous one
    index_name: str
    columns: dict  # returned column -> dtype
    freq: str = None  # None: irregular or gappy, see the gap tests
    tz: str = None


CASES = [
    Case("load_airline_passengers", "airline_passengers_monthly_1949_1960.csv", ["month"], 144, 0,
         "date", {"passengers": "int64"}, freq="MS"),
    Case("load_co2", "statsmodels_co2_weekly_1958_2001.csv", ["date"], 2284, 0,
         "date", {"co2_ppm": "float64"}, freq="W-SAT"),
    Case("load_sunspots", "statsmodels_sunspots_yearly_1700_2008.csv", ["YEAR"], 309, 0,
         "date", {"sunspot_number": "float64"}, freq="YS"),
    Case("load_nile", "statsmodels_nile_yearly_1871_1970.csv", ["year"], 100, 0,
         "date", {"volume_1e8_m3": "int64"}, freq="YS"),
    Case("load_electricity_demand", "pmdarima_taylor_halfhourly_2000.csv", ["timestamp"], 4032, 0,
         "time", {"demand_mw": "float64"}, freq="30min"),
    Case("load_sea_temperature", "bokeh_sea_surface_temperature_30min.csv.gz", ["time (UTC)"],
         19226, 1, "time", {"temperature_c": "float64"}, tz="UTC"),
    Case("load_seattle_weather", "vega_seattle_weather_daily_2012_2015.csv", ["date"], 1461, 0,
         "date", {"precipitation_mm": "float64", "temp_max_c": "float64",
                  "temp_min_c": "float64", "wind_m_s": "float64", "weather": "category"},
         freq="D"),
    Case("load_cycling", "bokeh_cycling_1hz.csv.gz", ["time"], 4391, 63, "elapsed",
         {"position_lat": "int64", "position_long": "int64", "altitude_m": "float64",
          "power_w": "int64", "cadence_rpm": "int64", "distance_m": "float64",
          "speed_m_s": "float64"}),
    Case("load_water_flow", "river_water_flow_hourly_2022.csv", ["Time"], 1268, 0,
         "time", {"flow_l_s": "float64"}, tz="UTC"),
    Case("load_glucose", "bokeh_cgm_glucose_5min.csv.gz", ["datetime"], 52281, 3,
         "time", {"isig": "float64", "glucose_mg_dl": "int64"}),
    Case("load_stocks", "bokeh_stocks_daily_2000_2013.csv.gz", ["Ticker", "Date"], 12154, 0,
         "date", {"open": "float64", "high": "float64", "low": "float64", "close": "float64",
                  "volume": "int64", "adj_close": "float64"}),
    Case("load_msft", "pmdarima_msft_daily_1986_2017.csv", ["Date"], 7983, 0,
         "date", {"open": "float64", "high": "float64", "low": "float64", "close": "float64",
                  "volume": "int64"}),
    Case("load_sp500_returns", "river_sp500_returns_daily_2013_2018.csv.gz", ["date"], 1257, 0,
         "date", {c: "float64" for c in ["aapl", "amzn", "ibm", "intc", "jnj", "jpm", "ko",
                                         "msft", "wmt", "xom", "next_day_return"]}),
]
IDS = [case.loader for case in CASES]


def _load(case):
    return getattr(datasets, case.loader)()


def _raw(case, **kwargs):
    with (DATA / case.file).open("rb") as f:
        return pd.read_csv(f, compression="gzip" if case.file.endswith(".gz") else None, **kwargs)


def _time_index(df):
    """The time level: the stocks are indexed by (ticker, date)."""
    return df.index.get_level_values("date") if df.index.nlevels > 1 else df.index


def test_every_file_has_one_loader():
    assert sorted(datasets.__all__) == sorted(IDS)
    shipped = sorted(p.name for p in DATA.iterdir() if p.name != "README.md")
    assert shipped == sorted(case.file for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_index_is_sorted_unique_and_typed(case):
    df = _load(case)
    assert df.index.is_monotonic_increasing and df.index.is_unique
    index = _time_index(df)
    expected_type = pd.TimedeltaIndex if case.index_name == "elapsed" else pd.DatetimeIndex
    assert isinstance(index, expected_type)
    assert index.name == case.index_name
    if expected_type is pd.DatetimeIndex:
        assert str(index.tz) == str(case.tz)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rows_columns_and_dtypes(case):
    df = _load(case)
    raw = _raw(case)
    assert len(raw) == case.file_rows
    assert raw.duplicated(case.key).sum() == case.repeated_times
    assert len(df) == case.file_rows - case.repeated_times
    assert df.dtypes.astype(str).to_dict() == case.columns


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_frequency_is_set_only_where_regular(case):
    df = _load(case)
    index = _time_index(df)
    if case.freq is None:
        assert getattr(index, "freq", None) is None
        assert index.unique().inferred_freq is None
    else:
        assert index.freq == pd.tseries.frequencies.to_offset(case.freq)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_silent_fills(case):
    """A NaN in the result is a missing value of the file, and nothing else."""
    df = _load(case)
    missing = {"load_co2": {"co2_ppm": 59}, "load_glucose": {"isig": 1061}}.get(case.loader, {})
    assert df.isna().sum()[lambda s: s > 0].to_dict() == missing
    raw = _raw(case, na_values=["nil"]).drop_duplicates(case.key)
    assert raw.isna().sum().sum() == sum(missing.values())


@pytest.mark.parametrize("loader, step, missing", [
    ("load_sea_temperature", "30min", 24),
    ("load_water_flow", "h", 111),
])
def test_documented_missing_timestamps(loader, step, missing):
    df = getattr(datasets, loader)()
    regular = df.asfreq(step)
    assert len(regular) - len(df) == missing
    assert regular.isna().sum().sum() == missing  # asfreq adds empty rows; values are the caller's


def test_cycling_missing_seconds():
    df = datasets.load_cycling()
    grid = pd.timedelta_range(df.index[0], df.index[-1], freq="1s")
    assert len(grid) - len(df) == 64
    assert df.index.isin(grid).all()


def test_glucose_steps():
    steps = pd.Series(datasets.load_glucose().index).diff().dropna()
    five = pd.Timedelta("5min")
    assert ((steps == five).sum(), (steps < five).sum(), (steps > five).sum()) == (51697, 392, 188)
    assert (steps > pd.Timedelta("1h")).sum() == 93
    assert steps.max() == pd.Timedelta("1 days 03:55:00")


@pytest.mark.parametrize("loader, absent_weekdays", [
    ("load_msft", {None: 279}),
    ("load_sp500_returns", {None: 45}),
    ("load_stocks", {"AAPL": 123, "IBM": 123, "MSFT": 123, "GOOG": 79, "FB": 10}),
])
def test_trading_days(loader, absent_weekdays):
    for ticker, absent in absent_weekdays.items():
        df = getattr(datasets, loader)(*([ticker] if ticker else []))
        assert (df.index.day_of_week < 5).all()
        assert len(pd.bdate_range(df.index[0], df.index[-1])) - len(df) == absent


def test_repeated_times_keep_the_first_row():
    df = datasets.load_sea_temperature()
    assert df.loc["2017-03-21 16:30Z", "temperature_c"] == 4.276
    glucose = datasets.load_glucose()
    assert glucose.loc["2010-05-20 03:21", "glucose_mg_dl"] == 122


def test_timezones_are_converted_to_utc():
    assert datasets.load_water_flow().index[0] == pd.Timestamp("2022-03-20 11:00+01:00")
    # The clock change of 2022-03-27 (01:00+01:00 then 03:00+02:00) is one UTC hour.
    flow = datasets.load_water_flow().loc["2022-03-27"]
    assert (flow.index[1:] - flow.index[:-1] == pd.Timedelta("1h")).all()
    assert datasets.load_sea_temperature().index[0] == pd.Timestamp("2016-02-15", tz="UTC")


def test_values_are_those_of_the_file():
    raw = _raw(CASES[0])
    np.testing.assert_array_equal(datasets.load_airline_passengers()["passengers"],
                                  raw["passengers"])
    msft = _raw(CASES[IDS.index("load_msft")])
    assert (msft["OpenInt"] == 0).all()  # the one column load_msft leaves out
    np.testing.assert_array_equal(datasets.load_msft()["close"], msft["Close"])


def test_load_stocks_one_ticker():
    long = datasets.load_stocks()
    assert long.index.names == ["ticker", "date"]
    assert long.index.unique("ticker").tolist() == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]
    fb = datasets.load_stocks("FB")
    assert isinstance(fb.index, pd.DatetimeIndex) and fb.index.name == "date"
    assert fb.shape == (196, 6)
    pd.testing.assert_frame_equal(fb, long.loc["FB"])
    with pytest.raises(ValueError, match="ticker must be one of"):
        datasets.load_stocks("TSLA")


def test_seattle_weather_label_is_categorical():
    weather = datasets.load_seattle_weather()["weather"]
    assert weather.cat.categories.tolist() == ["drizzle", "fog", "rain", "snow", "sun"]
    assert not weather.cat.ordered
