"""Point-forecast errors that stay finite where the errors are: MAE and RMSE.

They are scikit-learn's, bit for bit, at ordinary scales.  Near the ends of
float64 scikit-learn's sums overflow (a series near 1e307 had an MAE of
``inf``, and a MASE of 0 divided by it) and its squares overflow or lose
digits (errors beyond about 1e154, or below 1e-150); there the errors are
divided by the largest first and the result multiplied back.
"""
import math

import numpy as np
from sklearn import metrics

# Below this, the squares of errors lose digits (float64's normal numbers start at 2.2e-308).
_SMALLEST_SQUARED = 1e-150


def mean_absolute_error(actual, predicted):
    """Mean absolute error of ``predicted`` against ``actual``.

    Parameters
    ----------
    actual, predicted : ndarray of shape (n,)

    Returns
    -------
    float
        scikit-learn's unless the sum of the errors could overflow.
    """
    errors = predicted - actual
    largest = float(np.abs(errors).max()) if errors.size else 0.0
    if not math.isfinite(largest) or largest <= 0.5 * np.finfo(float).max / max(1, errors.size):
        return metrics.mean_absolute_error(actual, predicted)
    return largest * float(np.mean(np.abs(errors / largest)))


def root_mean_squared_error(actual, predicted):
    """Root mean squared error of ``predicted`` against ``actual``.

    Parameters
    ----------
    actual, predicted : ndarray of shape (n,)

    Returns
    -------
    float
        scikit-learn's unless the squares of the errors would overflow or lose digits.
    """
    errors = predicted - actual
    largest = float(np.abs(errors).max()) if errors.size else 0.0
    if not math.isfinite(largest) or largest == 0 or _SMALLEST_SQUARED <= largest <= 0.5 * (
            math.sqrt(np.finfo(float).max / errors.size)):
        return metrics.root_mean_squared_error(actual, predicted)
    return largest * math.sqrt(float(np.mean(np.square(errors / largest))))
