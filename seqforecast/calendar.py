"""Calendar cycles as inputs: each row's phase in the day, the week or the year, as a sine and
a cosine.

A window of ``window`` rows shows a model the cycles shorter than it (the day in two days of
half-hourly rows, through its lags), but not a longer one (the week in those two days, the
year in four weeks of daily rows), however it is trained.  A
:class:`~seqforecast.forecasting.SequenceForecaster` (``calendar``) gives its regressor such
cycles as future covariates computed from the timestamps, so that a forecast needs nothing
from the user: ``sin(2 pi phase)`` and ``cos(2 pi phase)``, a smooth periodic pair (the last
hour of a week lies next to its first).

Phases are read off the timestamps' wall clock (local time for a zoned index): the day from
midnight, the week from Monday 00:00, the year from 1 January 00:00 (of 366 days in a leap
year).
"""
import numpy as np
import pandas as pd

from ._checks import shown

#: The cycles, by name, and their lengths.
CYCLES = {"day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7),
          "year": pd.Timedelta(days=365.2425)}


def calendar_columns(cycles):
    """The names of the columns of ``cycles``: ``'calendar <cycle> sin'`` and ``... cos``."""
    return [f"calendar {cycle} {part}" for cycle in cycles for part in ("sin", "cos")]


def calendar_values(index, cycles):
    """The sine and cosine of each timestamp's phase in each cycle.

    Parameters
    ----------
    index : pandas.DatetimeIndex of length n
    cycles : list of str
        Names of :data:`CYCLES`, at least one.

    Returns
    -------
    ndarray of shape (n, 2 * len(cycles)), float64
        The columns :func:`calendar_columns` names.
    """
    day = (index.hour * 3600 + index.minute * 60 + index.second
           + index.microsecond / 1e6).to_numpy(float) / 86400
    phases = {"day": lambda: day,  # only the cycles asked for are computed
              "week": lambda: (index.day_of_week.to_numpy(float) + day) / 7,
              "year": lambda: (index.day_of_year.to_numpy(float) - 1 + day)
              / np.where(index.is_leap_year, 366, 365)}
    angles = [2 * np.pi * phases[cycle]() for cycle in cycles]
    return np.column_stack([f(angle) for angle in angles for f in (np.sin, np.cos)])


def unseen_cycles(indexes, window):
    """The cycles longer than a window of ``window`` rows that every series spans twice.

    A window that holds a whole cycle shows it through its lags; a series
    that does not hold two cycles cannot show a model what one looks like.
    A series' step is its mean spacing (business days, months), and a
    cycle must be longer than the window by more than half a step (twelve
    months hold a year of 365.24 days).

    Parameters
    ----------
    indexes : list of pandas.DatetimeIndex
        The series' timestamps.
    window : int

    Returns
    -------
    list of str
        Names of :data:`CYCLES`, shortest first; empty for durations (a
        TimedeltaIndex), which have no calendar, and for a series of one row.
    """
    if not all(isinstance(index, pd.DatetimeIndex) and len(index) > 1 for index in indexes):
        return []
    spans = [index[-1] - index[0] for index in indexes]
    steps = [span / (len(index) - 1) for span, index in zip(spans, indexes)]
    return [cycle for cycle, length in CYCLES.items()  # by half a row: 12 months hold a year
            if all(length > (window + 0.5) * step and span >= 2 * length
                   for span, step in zip(spans, steps))]


def check_calendar(calendar):
    """Raise a ValueError unless ``calendar`` is 'auto', None or a list of cycle names."""
    if calendar is None or (isinstance(calendar, str) and calendar == "auto"):
        return
    names = ", ".join(repr(cycle) for cycle in CYCLES)
    what = f"calendar must be 'auto', None or a list of distinct cycles among {names}"
    if isinstance(calendar, str) or not isinstance(calendar, (list, tuple)):
        raise ValueError(f"{what}, got {shown(calendar)}")
    if not calendar:
        raise ValueError(f"{what}, got an empty {type(calendar).__name__}: None for no calendar")
    for cycle in calendar:
        if not (isinstance(cycle, str) and cycle in CYCLES):
            raise ValueError(f"{what}, got {shown(cycle)} among them")
    if len(set(calendar)) != len(calendar):
        raise ValueError(f"{what}, got {list(calendar)}: a cycle twice")
