"""Point-forecast errors that stay finite where the errors are: MAE and RMSE (average_error).

They are scikit-learn's, bit for bit, at ordinary scales.  Near the ends of
float64 scikit-learn's sums overflow (near 1e307 a series' seasonal-naive
scale was ``inf``, so that every MASE read 0) and its squares overflow or lose
digits (errors beyond about 1e154, or below 1e-150); there the errors are
divided by the largest first and the result multiplied back.
"""
import math

import numpy as np
from sklearn import metrics

# Below this, the squares of errors lose digits (float64's normal numbers start at 2.2e-308).
_SMALLEST_SQUARED = 1e-150


def average_error(actual, predicted, squared=False):
    """The mean absolute error of ``predicted`` against ``actual``, or the root mean squared
    error.

    Parameters
    ----------
    actual, predicted : ndarray of shape (n,)
    squared : bool, default=False
        The root mean squared error instead.

    Returns
    -------
    float
        scikit-learn's, unless its sum (of the squares) would overflow or the
        squares lose digits: then the errors are divided by the largest, the
        mean taken and multiplied back.
    """
    errors = predicted - actual
    largest = float(np.abs(errors).max()) if errors.size else 0.0
    room = 0.5 * np.finfo(float).max / max(1, errors.size)  # for the sum
    if squared:
        ordinary = _SMALLEST_SQUARED <= largest <= math.sqrt(room)
        sklearn = metrics.root_mean_squared_error
    else:
        ordinary = largest <= room
        sklearn = metrics.mean_absolute_error
    if not math.isfinite(largest) or largest == 0 or ordinary:
        return sklearn(actual, predicted)
    scaled = np.abs(errors / largest)
    if squared:
        return largest * math.sqrt(float(np.mean(np.square(scaled))))
    return largest * float(np.mean(scaled))
