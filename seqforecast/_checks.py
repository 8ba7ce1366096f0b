"""Small predicates and checks shared by the argument checks of the public classes."""
import numbers

import numpy as np


def is_int(value, low=1):
    """True for an int (not a bool) of at least ``low``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def is_real(value, low=-np.inf, high=np.inf, *, include_low=True):
    """True for a real number in ``[low, high)``, or ``(low, high)`` with ``include_low=False``."""
    return (isinstance(value, numbers.Real)
            and (low <= value if include_low else low < value) and value < high)


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
