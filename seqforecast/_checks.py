"""Small predicates shared by the argument checks of the public classes."""
import numbers

import numpy as np


def is_int(value, low=1):
    """True for an int (not a bool) of at least ``low``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def is_real(value, low=-np.inf, high=np.inf, *, include_low=True):
    """True for a real number in ``[low, high)``, or ``(low, high)`` with ``include_low=False``."""
    return (isinstance(value, numbers.Real)
            and (low <= value if include_low else low < value) and value < high)
