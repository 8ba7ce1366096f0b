"""Small predicates and checks shared by the argument checks of the public classes."""
import numbers

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted


def is_bool(value):
    """True for True or False (Python's or NumPy's), not for a truthy value such as 'no'."""
    return isinstance(value, (bool, np.bool_))


def is_int(value, low=1):
    """True for an int (not a bool) of at least ``low``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def is_real(value, low=-np.inf, high=np.inf, *, include_low=True):
    """True for a real number (not a bool) in ``[low, high)``, or ``(low, high)`` with
    ``include_low=False``."""
    return (isinstance(value, numbers.Real) and not is_bool(value)
            and (low <= value if include_low else low < value) and value < high)


def is_choice(value, choices):
    """True for one of ``choices``; False, not an error, for an unhashable value (a list)."""
    try:
        hash(value)
    except TypeError:
        return False
    return value in choices


def shown(value):
    """``value`` for an error message: its repr, with its type unless it is a number."""
    if value is None or isinstance(value, numbers.Number):
        return repr(value)
    if isinstance(value, str):
        return f"{value!r} (a str)"
    return f"a {type(value).__name__}"


def check_int(value, name, low=1, *, low_name=None):
    """``value`` as an int if it is one (not a bool) of at least ``low``, else a ValueError.

    The error names the parameter ``name`` and shows the value; ``low_name``
    says where the bound comes from (``test_size`` >= ``horizon``).
    """
    if is_int(value, low):
        return int(value)
    bound = low if low_name is None else f"{low_name} ({low})"
    raise ValueError(f"{name} must be an int >= {bound}, got {shown(value)}")


def check_int_parameters(owner, rules):
    """Check the int parameters of an estimator: ``rules`` is ``((name, lowest value), ...)``."""
    for name, low in rules:
        check_int(getattr(owner, name), name, low)


def is_column_name(value):
    """True for what names one column: a str or a number (compared as a str, as the columns are)."""
    return isinstance(value, (str, numbers.Number))


def repeated(labels):
    """The labels that occur more than once in ``labels``, sorted."""
    labels = pd.Index(labels)
    return sorted(set(labels[labels.duplicated()]))


def check_column_list(name, value, columns):
    """The columns that the option ``name`` lists, as str: None lists none, a name one.

    Parameters
    ----------
    name : str
        The option, for the error messages (``targets``).
    value : None, str or number, or list-like of them
    columns : list of str
        The data's columns.

    Returns
    -------
    list of str

    Raises
    ------
    TypeError
        If ``value`` is neither a column name nor a list of them.
    ValueError
        If it names a column twice, or a column that the data lacks.
    """
    if value is None:
        return []
    if not (is_column_name(value) or pd.api.types.is_list_like(value)):
        raise TypeError(f"{name} must be a column name or a list of column names, got "
                        f"{shown(value)}")
    names = [value] if is_column_name(value) else list(value)
    odd = [c for c in names if not is_column_name(c)]
    if odd:
        raise TypeError(f"{name} must list column names (str), but holds {shown(odd[0])}")
    names = [str(c) for c in names]
    twice = repeated(names)
    if twice:
        raise ValueError(f"{name} names the columns {twice} more than once: list each column "
                         f"once")
    unknown = [c for c in names if c not in columns]
    if unknown:
        raise ValueError(f"{name} names unknown columns {unknown}; the data has {columns}")
    return names


def round_level(level):
    """A quantile level rounded to 12 decimals: so that ``1 - q`` of a level is a level (1/3
    and 2/3) and a coverage of 0.9 gives 0.05 and 0.95 as written."""
    return round(level, 12)


def as_decimal(value):
    """A number as a float; a float32 (or float16) as the shortest decimal that it rounds
    from (float32 0.1 is 0.1, not 0.10000000149)."""
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return float(str(value))
    return float(value)


def check_levels(levels, name="quantiles", *, median=False):
    """Quantile levels as an increasing tuple of floats, or a ValueError that names what is wrong.

    Parameters
    ----------
    levels : float or sequence of float
        Distinct numbers in (0, 1), in any order; one number is one level.
    name : str
        The parameter's name, for the error.
    median : bool, default=False
        Require 0.5 among them.

    Returns
    -------
    tuple of float
        Sorted, rounded to 12 decimals (as
        :func:`seqforecast.forecasting.central_levels` rounds, so that ``1 -
        q`` of a level is a level: 1/3 and 2/3).
    """
    given = repr(levels) if isinstance(levels, (list, tuple, np.ndarray)) else shown(levels)
    if np.ndim(levels) == 0 and not isinstance(levels, (str, bytes, dict)):
        items = [levels.item() if isinstance(levels, np.ndarray) else levels]
    elif isinstance(levels, (str, bytes, dict)) or not hasattr(levels, "__iter__"):
        items = []
    else:
        items = list(levels)
    values = [round_level(as_decimal(q)) if is_real(q) else None
              for q in items]
    if not values or not all(q is not None and 0 < q < 1 for q in values):
        raise ValueError(f"{name} must be levels in (0, 1), e.g. (0.05, 0.5, 0.95), kept to "
                         f"12 decimals (so from 1e-12 to 1 - 1e-12), got {given}")
    if len(set(values)) < len(values):
        raise ValueError(f"{name} repeats a level: {given}")
    if median and 0.5 not in values:
        raise ValueError(f"{name} must include the median 0.5 (what predict returns), got "
                         f"{given}")
    return tuple(sorted(values))


def check_fitted(estimator):
    """scikit-learn's ``check_is_fitted(estimator)``, which raises NotFittedError, for one of
    seqforecast's estimators (they define ``__sklearn_is_fitted__``), without its look at the
    estimator's tags when fitted: a few microseconds of every prediction."""
    if not estimator.__sklearn_is_fitted__():
        check_is_fitted(estimator)
