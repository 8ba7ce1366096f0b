"""Time-index helpers: frequencies, regularity checks, future timestamps and seasons.

Functions
---------
infer_season
    The season (in rows) of a pandas frequency where it is obvious (24 for
    hourly, 7 for daily, 12 for monthly, ...), else 1.
_frequency
    The frequency of a series' DatetimeIndex or TimedeltaIndex, given or
    inferred, and a check that the index is regular at it.
_infer_freq
    ``pandas.infer_freq``, returning an offset where pandas allows it.
_future_index
    The timestamps that follow the last one at a frequency.

The forecasters (:mod:`seqforecast.forecasting`), the evaluation
(:mod:`seqforecast.evaluation`) and the command line use them; this module
imports no other part of seqforecast.
"""
import functools

import numpy as np
import pandas as pd


def infer_season(freq):
    """The season of a frequency where it is obvious, else 1.

    24 for hourly, 48 for 30-minute, 7 for daily, 5 for business-daily,
    52 for weekly, 12 for monthly and 4 for quarterly data.

    Parameters
    ----------
    freq : str or pandas.DateOffset or None

    Returns
    -------
    int
    """
    if freq is None:
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, (pd.offsets.Tick, pd.offsets.Day)):  # fixed steps (Day: pandas 3)
        by_step = {pd.Timedelta(hours=1): 24, pd.Timedelta(minutes=30): 48,
                   pd.Timedelta(days=1): 7}
        return by_step.get(pd.Timedelta(offset), 1)
    if offset.n != 1:
        return 1
    if type(offset) is pd.offsets.BusinessDay:  # not a CustomBusinessDay with its own week
        return 5
    if isinstance(offset, pd.offsets.Week):
        return 52
    if isinstance(offset, (pd.offsets.MonthBegin, pd.offsets.MonthEnd,
                           pd.offsets.BusinessMonthBegin, pd.offsets.BusinessMonthEnd)):
        return 12
    if isinstance(offset, (pd.offsets.QuarterBegin, pd.offsets.QuarterEnd,
                           pd.offsets.BQuarterBegin, pd.offsets.BQuarterEnd)):
        return 4
    return 1


def _frequency(index, freq, label):
    if not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
        raise TypeError(f"{label} must be indexed by a DatetimeIndex or TimedeltaIndex, got "
                        f"{_index_text(index)}: {_index_advice(index, label)}")
    if freq is None:
        freq = index.freq or (_infer_freq(index) if len(index) >= 3 else None)
        if freq is None and len(index) < 3:
            raise ValueError(f"cannot infer the frequency of {label}'s timestamps from "
                             f"{len(index)} row(s) (pandas needs 3): pass freq=...")
        if freq is None:
            raise ValueError(f"cannot infer the frequency of {label}'s timestamps (irregular, "
                             f"or gaps): pass freq=... and make the series regular, e.g. "
                             f"data.asfreq(freq) and fill the new rows")
    try:
        freq = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        raise ValueError(f"freq={freq!r} is not a pandas frequency: e.g. 'h', '30min', 'D', "
                         f"'B', 'W', 'MS'") from None
    if _fixed_steps(index, freq):
        return freq
    expected = _future_index(index[0] - freq, freq, len(index))
    wrong = np.flatnonzero(index != expected)  # equal times, whatever their unit
    if len(wrong):
        raise ValueError(f"{label} is not regular at frequency {freq.freqstr}: row {wrong[0]} "
                         f"is {index[wrong[0]]}, expected {expected[wrong[0]]}")
    return freq


def _fixed_steps(index, freq):
    """Whether every step of ``index`` is ``freq``, a fixed duration (a quick check).

    False also where it cannot tell quickly (a calendar frequency such as
    months, or a step finer than the index's unit): the caller then
    compares the index with the one ``freq`` generates.
    """
    if not isinstance(freq, pd.offsets.Tick):
        return False
    ticks, rest = _ticks(freq, index.unit)
    return not rest and bool((np.diff(index.asi8) == ticks).all())


@functools.lru_cache(maxsize=64)
def _ticks(freq, unit):
    """``divmod(freq, one unit)``: a fixed frequency in units of an index (``'ns'``, ``'s'``,
    ...), and the rest; computed once per pair (12 us, half of a forecast's check of its
    index's steps)."""
    return divmod(pd.Timedelta(freq), pd.Timedelta(1, unit=unit))


def _infer_freq(index):
    try:  # pandas >= 3.1 warns unless it may return an offset
        with pd.option_context("future.infer_freq_returns_offset", True):
            return pd.infer_freq(index)
    except pd.errors.OptionError:
        return pd.infer_freq(index)


def _future_index(last, freq, periods, name=None):
    """The ``periods`` timestamps after ``last``, in its unit (e.g. seconds for the years
    before 1677, which nanoseconds cannot hold)."""
    make = pd.timedelta_range if isinstance(last, pd.Timedelta) else pd.date_range
    return make(start=last + freq, periods=periods, freq=freq, name=name, unit=last.unit)


def _index_text(index):
    """'PeriodIndex', 'RangeIndex', 'Index of int64'."""
    name = type(index).__name__
    return f"{name} of {index.dtype}" if name == "Index" else name


def _index_advice(index, label):
    """How to give ``label`` (the message's name of a frame: 'data', or "series 'a'", written
    ``frame`` in the code shown) the timestamps it lacks."""
    label = label if label.isidentifier() else "frame"
    if isinstance(index, pd.PeriodIndex):
        return f"convert it with {label}.to_timestamp()"
    if isinstance(index, pd.RangeIndex):
        return (f"a RangeIndex numbers the rows; give them their times, e.g. {label}.index = "
                f"pd.date_range(start, periods=len({label}), freq='D')")
    if pd.api.types.is_integer_dtype(index.dtype) or (
            pd.api.types.is_float_dtype(index.dtype) and np.all(np.mod(index, 1) == 0)):
        years = f"{label}.index{'.astype(int)' * (index.dtype.kind == 'f')}.astype(str)"
        return (f"for years, {label}.index = pd.to_datetime({years}, format='%Y'); for "
                f"counts of a step, {label}.index = pd.to_timedelta({label}.index, unit='h') "
                f"(or 'D', 'min', ...)")
    if not isinstance(index, pd.MultiIndex) and (pd.api.types.is_object_dtype(index.dtype)
                                                 or pd.api.types.is_string_dtype(index.dtype)):
        return f"parse the times with {label}.index = pd.to_datetime({label}.index)"
    return f"give {label} the times of its rows as its index"
