"""Real time series shipped with seqforecast, one loader per file.

Every bundled data file is a byte-for-byte copy of public data that ships inside a package
on PyPI; the ``README.md`` beside them records where each one comes from and its license.
Nothing was synthesised.

Where the files are: the repository keeps the one copy of them in its top-level
``datasets/`` folder; the wheel ships that folder inside the package as
``seqforecast/datasets/data/`` (a ``package-dir`` mapping in ``pyproject.toml``).  The
loaders look for a file first in the installed package data,
``importlib.resources.files("seqforecast.datasets") / "data" / <file name>``, then in the
source checkout this module was imported from, ``<repository>/datasets/<file name>`` (an
editable install, or the checkout on ``sys.path``), and raise :class:`FileNotFoundError`
naming both places if neither has it.

Conventions shared by the loaders:

* The result is a :class:`pandas.DataFrame` whose index is sorted and unique: a
  :class:`~pandas.DatetimeIndex` named ``"date"`` for daily or coarser data and ``"time"``
  for sub-daily data, a :class:`~pandas.TimedeltaIndex` named ``"elapsed"`` for the cycling
  ride, and a ``("ticker", "date")`` :class:`~pandas.MultiIndex` for
  :func:`load_stocks`.  Column names are snake_case and carry their unit where they have
  one (``co2_ppm``, ``demand_mw``, ``flow_l_s``, ...).
* ``index.freq`` is set only where every step of the file is the same (checked by pandas
  when the loader sets it); otherwise it is ``None`` and the docstring lists the gaps.
* Gaps are never filled.  Missing values stay NaN, missing timestamps are not invented;
  to get a regular grid, choose it yourself, e.g. ``df.asfreq("30min")`` (adds NaN rows),
  then ``df.interpolate()`` or whatever suits the series.
* The only rows dropped are exact repeats of a timestamp (sea temperature, glucose,
  cycling): the first row in file order is kept, so the index is unique.  Each such
  loader says how many rows that is.
* Time zones: the two files that state one (sea temperature with ``Z``, water flow with
  ``+01:00``/``+02:00`` offsets) are returned timezone-aware in UTC.  The other files carry
  no zone and are returned naive, as written.
* The raw files can be read directly at the places above.
"""
from functools import partial
from importlib.resources import files
from pathlib import Path

import pandas as pd

__all__ = [
    "load_airline_passengers",
    "load_co2",
    "load_cycling",
    "load_electricity_demand",
    "load_glucose",
    "load_msft",
    "load_nile",
    "load_sea_temperature",
    "load_seattle_weather",
    "load_sp500_returns",
    "load_stocks",
    "load_sunspots",
    "load_water_flow",
]


# The two places a bundled file can be, in the order they are searched (see the module
# docstring): the package data of an installed wheel, and the source checkout's datasets/
# folder (this file is <repository>/seqforecast/datasets/__init__.py).
_PACKAGE_DATA = files(__package__) / "data"
_CHECKOUT_DATA = Path(__file__).resolve().parents[2] / "datasets"


def _data_file(name):
    """The bundled file ``name``: a path (or :class:`~importlib.resources.abc.Traversable`).

    Raises :class:`FileNotFoundError`, naming both places, when neither has it.
    """
    for folder in (_PACKAGE_DATA, _CHECKOUT_DATA):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"bundled data file {name!r} not found: neither in the installed package data "
        f"({_PACKAGE_DATA}) nor in the source checkout's datasets folder ({_CHECKOUT_DATA}). "
        f"Reinstall seqforecast (a broken install), or restore the file in datasets/.")


def _load(name, time_column, index_name, columns, parse=pd.to_datetime, freq=None,
          drop_repeated_times=False, **read_csv_kwargs):
    """Read the bundled file ``name`` (found by :func:`_data_file`) into a DataFrame indexed
    by its parsed time column.

    ``columns`` maps the file's column names to the returned names; other columns are
    not returned.  The time column is read as text and converted by ``parse``.  With
    ``drop_repeated_times`` only the first row of each repeated timestamp is kept.  Setting
    ``freq`` makes pandas check that every step of the index follows it.
    """
    compression = "gzip" if name.endswith(".gz") else None
    with _data_file(name).open("rb") as f:
        raw = pd.read_csv(f, compression=compression, dtype={time_column: str},
                          **read_csv_kwargs)
    df = raw[list(columns)].rename(columns=columns)
    df.index = pd.Index(parse(raw[time_column]), name=index_name)
    if drop_repeated_times:
        df = df[~df.index.duplicated(keep="first")]
    if freq is not None:
        df.index = pd.DatetimeIndex(df.index, freq=freq)
    return df


def load_airline_passengers():
    """Monthly international airline passengers, 1949-1960 (Box & Jenkins).

    =========  ===========================================================
    Rows       144, January 1949 to December 1960
    Frequency  monthly, ``index.freq == "MS"`` (month start)
    Gaps       none
    Source     river 0.26.1, ``river/datasets/airline-passengers.csv``
    License    BSD-3-Clause (river)
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (first day of the month). Column:

        - ``passengers`` (int64): passengers in the month, thousands.

    Examples
    --------
    >>> from seqforecast.datasets import load_airline_passengers
    >>> df = load_airline_passengers()
    >>> df.shape, df.index.freqstr
    ((144, 1), 'MS')
    """
    return _load("airline_passengers_monthly_1949_1960.csv", "month", "date",
                 {"passengers": "passengers"}, parse=partial(pd.to_datetime, format="%Y-%m"),
                 freq="MS")


def load_co2():
    """Weekly atmospheric CO2 at Mauna Loa, Hawaii, 1958-2001.

    Weekly averages of continuous air samples (Keeling & Whorf, Scripps Institution of
    Oceanography), dated by the Saturday that ends each week.

    =========  ===========================================================
    Rows       2284, 1958-03-29 to 2001-12-29
    Frequency  weekly, ``index.freq == "W-SAT"``: no week is missing
    Gaps       59 weeks have no value (NaN in ``co2_ppm``, as in the file), in 22 runs,
               the longest 18 weeks; they are not filled
    Source     statsmodels 0.15.0, ``statsmodels/datasets/co2/co2.csv``
    License    public domain
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date``. Column:

        - ``co2_ppm`` (float64): CO2 mole fraction, ppm; NaN where the file has no value.

    Examples
    --------
    >>> from seqforecast.datasets import load_co2
    >>> df = load_co2()
    >>> int(df["co2_ppm"].isna().sum())
    59
    >>> filled = df.interpolate("time")  # one possible choice, made by the caller
    """
    return _load("statsmodels_co2_weekly_1958_2001.csv", "date", "date", {"co2": "co2_ppm"},
                 parse=partial(pd.to_datetime, format="%Y%m%d"), freq="W-SAT")


def load_sunspots():
    """Yearly sunspot number, 1700-2008 (NOAA National Geophysical Data Center).

    =========  ===========================================================
    Rows       309, 1700 to 2008
    Frequency  yearly, ``index.freq == "YS"`` (1 January of each year)
    Gaps       none
    Source     statsmodels 0.15.0, ``statsmodels/datasets/sunspots/sunspots.csv``
    License    public domain
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (1 January of the year). Column:

        - ``sunspot_number`` (float64): yearly sunspot number.

    Examples
    --------
    >>> from seqforecast.datasets import load_sunspots
    >>> load_sunspots().index[[0, -1]].year.tolist()
    [1700, 2008]
    """
    return _load("statsmodels_sunspots_yearly_1700_2008.csv", "YEAR", "date",
                 {"SUNACTIVITY": "sunspot_number"}, parse=partial(pd.to_datetime, format="%Y"),
                 freq="YS")


def load_nile():
    """Yearly flow of the river Nile at Aswan, 1871-1970 (Cobb 1978).

    The series has a well-known change point near 1898.

    =========  ===========================================================
    Rows       100, 1871 to 1970
    Frequency  yearly, ``index.freq == "YS"`` (1 January of each year)
    Gaps       none
    Source     statsmodels 0.15.0, ``statsmodels/datasets/nile/nile.csv``
    License    public domain
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (1 January of the year). Column:

        - ``volume_1e8_m3`` (int64): yearly discharge, 10^8 cubic metres.

    Examples
    --------
    >>> from seqforecast.datasets import load_nile
    >>> load_nile().shape
    (100, 1)
    """
    return _load("statsmodels_nile_yearly_1871_1970.csv", "year", "date",
                 {"volume": "volume_1e8_m3"}, parse=partial(pd.to_datetime, format="%Y"),
                 freq="YS")


def load_electricity_demand():
    """Half-hourly electricity demand in England and Wales, summer 2000 (Taylor 2003).

    Twelve full weeks, Monday 5 June to Sunday 27 August 2000.  pmdarima ships the values
    without timestamps; the timestamps in the file were rebuilt from the documented start,
    one every 30 minutes.  They are naive (local clock time); the period lies entirely in
    British Summer Time, so there is no clock change inside it.

    =========  ===========================================================
    Rows       4032, 2000-06-05 00:00 to 2000-08-27 23:30
    Frequency  half-hourly, ``index.freq == "30min"``
    Gaps       none
    Source     pmdarima 2.1.1, ``pmdarima.datasets.load_taylor``
    License    MIT (pmdarima)
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``time``. Column:

        - ``demand_mw`` (float64): electricity demand, MW.

    Examples
    --------
    >>> from seqforecast.datasets import load_electricity_demand
    >>> df = load_electricity_demand()
    >>> df.index.freqstr, len(df) // 336  # 336 half-hours a week
    ('30min', 12)
    """
    return _load("pmdarima_taylor_halfhourly_2000.csv", "timestamp", "time",
                 {"demand_mw": "demand_mw"}, freq="30min")


def load_sea_temperature():
    """Water temperature at the Gulf of Maine buoy B01, every 30 minutes, 2016-2017.

    NERACOOS buoy B01 (ERDDAP table ``B01_sbe37_all``).  The file's times are UTC (``Z``);
    the index is timezone-aware UTC.

    =========  ===========================================================
    Rows       19225 (19226 in the file), 2016-02-15 00:00 to 2017-03-22 00:00 UTC
    Frequency  30 minutes with gaps, so ``index.freq`` is None
    Gaps       24 half-hours are missing: 2016-06-14 13:30 (1) and 2016-07-08 02:00 to
               13:00 (23).  2017-03-21 16:30 appears twice in the file (4.276 and
               4.289 degC); the first is kept, the second dropped.  Nothing is filled:
               ``df.asfreq("30min")`` gives the regular grid with 24 NaN rows.
    Source     bokeh_sampledata 2026.1, the ``sea_surface_temperature`` sample data
    License    free to use and redistribute (NERACOOS)
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (``datetime64[..., UTC]``). Column:

        - ``temperature_c`` (float64): water temperature, degrees Celsius.

    Examples
    --------
    >>> from seqforecast.datasets import load_sea_temperature
    >>> df = load_sea_temperature()
    >>> str(df.index.tz), int(df.asfreq("30min")["temperature_c"].isna().sum())
    ('UTC', 24)
    """
    return _load("bokeh_sea_surface_temperature_30min.csv.gz", "time (UTC)", "time",
                 {"temperature (celsius)": "temperature_c"},
                 parse=partial(pd.to_datetime, utc=True), drop_repeated_times=True)


def load_seattle_weather():
    """Daily weather in Seattle, 2012-2015 (NOAA, via vega-datasets).

    ``weather`` is a label that vega-datasets derived from several fields of the NOAA
    record; it is returned as an unordered pandas categorical.

    =========  ===========================================================
    Rows       1461, 2012-01-01 to 2015-12-31
    Frequency  daily, ``index.freq == "D"``
    Gaps       none
    Source     vega_datasets 0.9.0, ``vega_datasets/_data/seattle-weather.csv``
    License    public domain (NOAA)
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date``. Columns:

        - ``precipitation_mm`` (float64): precipitation, mm.
        - ``temp_max_c``, ``temp_min_c`` (float64): daily maximum and minimum temperature,
          degrees Celsius.
        - ``wind_m_s`` (float64): wind speed, m/s.
        - ``weather`` (category): one of ``drizzle``, ``fog``, ``rain``, ``snow``, ``sun``.

    Examples
    --------
    >>> from seqforecast.datasets import load_seattle_weather
    >>> df = load_seattle_weather()
    >>> df["weather"].cat.categories.tolist()
    ['drizzle', 'fog', 'rain', 'snow', 'sun']
    """
    df = _load("vega_seattle_weather_daily_2012_2015.csv", "date", "date",
               {"precipitation": "precipitation_mm", "temp_max": "temp_max_c",
                "temp_min": "temp_min_c", "wind": "wind_m_s", "weather": "weather"},
               parse=partial(pd.to_datetime, format="%Y/%m/%d"), freq="D")
    df["weather"] = df["weather"].astype("category")
    return df


def load_cycling():
    """One bike ride recorded by a bike computer about once a second, 73 minutes.

    The index is the elapsed time since the start of the ride.  Units are those recorded
    by the device; the source does not document them, the ones below are what the values
    show (37 km in 73 minutes, speeds up to 15 m/s).

    =========  ===========================================================
    Rows       4328 (4391 in the file), elapsed 0:00:00 to 1:13:11
    Frequency  1 second with gaps, so ``index.freq`` is None
    Gaps       63 elapsed seconds appear twice in the file, each right after a skipped
               second (the recorder's clock rounding); the first row of each is kept and
               the second dropped.  64 seconds of the 0..4391 s grid have no row.  Nothing
               is filled; for a 1 s grid use
               ``df.reindex(pd.timedelta_range(df.index[0], df.index[-1], freq="1s"))``.
    Source     bokeh_sampledata 2026.1, ``_data/cycling.csv.gz``
    License    CC0
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``elapsed`` (:class:`~pandas.TimedeltaIndex`). Columns:

        - ``position_lat``, ``position_long`` (int64): raw integer GPS position as stored
          by the device (in FIT files such values are semicircles: degrees =
          value * 180 / 2**31).
        - ``altitude_m`` (float64): altitude, m.
        - ``power_w`` (int64): power, W.
        - ``cadence_rpm`` (int64): pedalling cadence, rpm.
        - ``distance_m`` (float64): cumulative distance, m.
        - ``speed_m_s`` (float64): speed, m/s.

    Examples
    --------
    >>> from seqforecast.datasets import load_cycling
    >>> df = load_cycling()
    >>> df.index.name, len(df)
    ('elapsed', 4328)
    """
    return _load("bokeh_cycling_1hz.csv.gz", "time", "elapsed",
                 {"position_lat": "position_lat", "position_long": "position_long",
                  "altitude": "altitude_m", "power": "power_w", "cadence": "cadence_rpm",
                  "distance": "distance_m", "speed": "speed_m_s"},
                 parse=pd.to_timedelta, drop_repeated_times=True)


def load_water_flow():
    """Hourly water flow in a branch of a water pipeline, Italy, March-May 2022.

    Donated by Tecnojest s.r.l.  The series has four anomalous stretches (three drops from
    water losses or maintenance, one peak from pumping).  The file's ISO times carry
    ``+01:00``/``+02:00`` offsets (the clock change of 2022-03-27 is inside the period);
    they are converted to UTC and the index is timezone-aware UTC, so the hourly steps
    stay one hour apart across the change.

    =========  ===========================================================
    Rows       1268, 2022-03-20 10:00 to 2022-05-16 20:00 UTC
    Frequency  hourly with gaps, so ``index.freq`` is None
    Gaps       111 hours are missing, in 10 gaps (UTC): 2022-03-29 02:00 (1),
               2022-04-19 02:00 (1), 2022-04-24 01:00 to 04-25 07:00 (31),
               2022-04-25 19:00 to 04-26 04:00 (10), 2022-05-10 12:00 to 17:00 (6),
               2022-05-10 22:00 to 05-11 19:00 (22), 2022-05-11 21:00 to 05-12 17:00 (21),
               2022-05-12 21:00 to 05-13 11:00 (15), 2022-05-13 14:00 (1) and
               2022-05-16 15:00 to 17:00 (3).  Nothing is filled:
               ``df.asfreq("h")`` gives the regular grid with 111 NaN rows.
    Source     river 0.26.1, ``river/datasets/water-flow.csv``
    License    BSD-3-Clause (river)
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (``datetime64[..., UTC]``). Column:

        - ``flow_l_s`` (float64): water flow, litres per second.

    Examples
    --------
    >>> from seqforecast.datasets import load_water_flow
    >>> df = load_water_flow()
    >>> len(df.asfreq("h")) - len(df)
    111
    >>> local = df.tz_convert("Europe/Rome")  # back to the local clock
    """
    return _load("river_water_flow_hourly_2022.csv", "Time", "time",
                 {"Water flow [l/s]": "flow_l_s"}, parse=partial(pd.to_datetime, utc=True))


def load_glucose():
    """Continuous glucose monitor readings of one person, March-October 2010.

    The monitor reports about every 5 minutes, but not on a fixed grid: its clock shifts
    by a minute now and then and the sensor was sometimes off.  Times are naive (the
    device's local clock).

    =========  ===========================================================
    Rows       52278 (52281 in the file), 2010-03-24 09:51 to 2010-10-10 23:57
    Frequency  irregular, about 5 minutes, so ``index.freq`` is None
    Gaps       Of the 52277 steps between rows, 51697 are exactly 5 minutes, 392 are
               shorter (1 to 4 minutes) and 188 longer, 93 of them longer than an hour;
               the longest is 1 day 03:55 from 2010-07-22 20:26.  Three timestamps
               appear twice in the file with different readings (2010-05-20 03:21,
               2010-06-19 18:12, 2010-08-13 06:41); the first of each is kept.
               ``isig`` is NaN in 1061 rows (``nil`` in the file); ``glucose_mg_dl``
               has no missing value.  Nothing is filled or resampled; choose a grid
               yourself, e.g. ``df.resample("5min").mean()``.
    Source     bokeh_sampledata 2026.1, ``_data/CGM.csv.gz``
    License    public domain
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``time``. Columns:

        - ``isig`` (float64): the sensor's raw current signal (ISIG, as reported by the
          device); NaN where the file has ``nil``.
        - ``glucose_mg_dl`` (int64): glucose, mg/dL.

    Examples
    --------
    >>> from seqforecast.datasets import load_glucose
    >>> df = load_glucose()
    >>> int(df["isig"].isna().sum()), df.index.is_unique
    (1061, True)
    """
    return _load("bokeh_cgm_glucose_5min.csv.gz", "datetime", "time",
                 {"isig": "isig", "glucose": "glucose_mg_dl"}, drop_repeated_times=True,
                 na_values=["nil"])


def load_stocks(ticker=None):
    """Daily prices of AAPL, FB, GOOG, IBM and MSFT, 2000-2013 (Quandl WIKI).

    By default all tickers in long format: a ``("ticker", "date")`` MultiIndex, sorted by
    ticker then date.  Pass ``ticker`` to get one ticker's DataFrame indexed by date.

    =========  ===========================================================
    Rows       12154: AAPL, IBM and MSFT 3270 each (2000-03-01 to 2013-03-01), GOOG 2148
               (from 2004-08-19), FB 196 (from 2012-05-18)
    Frequency  trading days, so ``index.freq`` is None
    Gaps       no weekend rows; weekdays without trading (exchange holidays and closures
               such as 2001-09-11 to 09-14) have no row: 123 such weekdays for AAPL, IBM
               and MSFT, 79 for GOOG, 10 for FB.  Nothing is filled.
    Source     bokeh_sampledata 2026.1, ``_data/stocks.csv.gz``
    License    public domain (Quandl WIKI); the bokeh loader is BSD-3-Clause
    =========  ===========================================================

    Parameters
    ----------
    ticker : {"AAPL", "FB", "GOOG", "IBM", "MSFT"} or None, default=None
        Return only this ticker, indexed by ``date``.

    Returns
    -------
    pandas.DataFrame
        Index ``("ticker", "date")``, or ``date`` when ``ticker`` is given. Columns:

        - ``open``, ``high``, ``low``, ``close`` (float64): prices as traded, USD.
        - ``volume`` (int64): shares traded.
        - ``adj_close`` (float64): close adjusted for splits and dividends, USD.

    Examples
    --------
    >>> from seqforecast.datasets import load_stocks
    >>> load_stocks().index.names
    FrozenList(['ticker', 'date'])
    >>> load_stocks("FB").shape
    (196, 6)
    >>> wide = load_stocks()["adj_close"].unstack("ticker")  # one column per ticker
    """
    df = _load("bokeh_stocks_daily_2000_2013.csv.gz", "Date", "date",
               {"Ticker": "ticker", "Open": "open", "High": "high", "Low": "low",
                "Close": "close", "Volume": "volume", "Adj Close": "adj_close"})
    df = df.set_index("ticker", append=True).swaplevel().sort_index()
    if ticker is None:
        return df
    tickers = df.index.unique("ticker").tolist()
    if ticker not in tickers:
        raise ValueError(f"ticker must be one of {tickers} or None, got {ticker!r}")
    return df.xs(ticker, level="ticker")


def load_msft():
    """Daily prices of Microsoft (MSFT), 1986-2017, adjusted for splits and dividends.

    The file's ``OpenInt`` column (open interest, 0 in every row) is not returned.

    =========  ===========================================================
    Rows       7983, 1986-03-13 to 2017-11-10
    Frequency  trading days, so ``index.freq`` is None
    Gaps       no weekend rows; 279 weekdays without trading have no row.  Nothing is
               filled.
    Source     pmdarima 2.1.1, ``pmdarima/datasets/data/msft.tar.gz`` (from the Kaggle
               "Huge Stock Market Dataset")
    License    pmdarima is MIT; the data's own license is not stated
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date``. Columns:

        - ``open``, ``high``, ``low``, ``close`` (float64): adjusted prices, USD.
        - ``volume`` (int64): shares traded.

    Examples
    --------
    >>> from seqforecast.datasets import load_msft
    >>> load_msft().columns.tolist()
    ['open', 'high', 'low', 'close', 'volume']
    """
    return _load("pmdarima_msft_daily_1986_2017.csv", "Date", "date",
                 {"Open": "open", "High": "high", "Low": "low", "Close": "close",
                  "Volume": "volume"})


def load_sp500_returns():
    """Daily returns of ten S&P 500 stocks, 2013-2018, in percent.

    Simple returns from split-adjusted closes of AAPL, AMZN, IBM, INTC, JNJ, JPM, KO, MSFT,
    WMT and XOM.  ``next_day_return`` is the next row's return of the equal-weighted
    portfolio of the ten (the mean of the next row's ten columns, to 1e-6), a forecasting
    target that needs no shifting.

    =========  ===========================================================
    Rows       1257, 2013-02-11 to 2018-02-06
    Frequency  trading days, so ``index.freq`` is None
    Gaps       no weekend rows; 45 weekdays without trading have no row.  Nothing is
               filled.
    Source     river 0.26.1, ``river/datasets/sp500.csv.gz``
    License    BSD-3-Clause (river)
    =========  ===========================================================

    Returns
    -------
    pandas.DataFrame
        Index ``date``. Columns (float64, percent: 1.0 means +1 %):

        - ``aapl``, ``amzn``, ``ibm``, ``intc``, ``jnj``, ``jpm``, ``ko``, ``msft``,
          ``wmt``, ``xom``: that day's return of each stock.
        - ``next_day_return``: the next trading day's equal-weighted return of the ten.

    Examples
    --------
    >>> from seqforecast.datasets import load_sp500_returns
    >>> df = load_sp500_returns()
    >>> X, y = df.drop(columns="next_day_return"), df["next_day_return"]
    """
    tickers = ["AAPL", "AMZN", "IBM", "INTC", "JNJ", "JPM", "KO", "MSFT", "WMT", "XOM"]
    return _load("river_sp500_returns_daily_2013_2018.csv.gz", "date", "date",
                 {**{t: t.lower() for t in tickers}, "next_day_return": "next_day_return"})
