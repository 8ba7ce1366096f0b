"""Whether a trained model beats its starting point on held-out samples, beyond noise.

Early stopping picks the best of many epochs on a few held-out windows, so
the best score is optimistic: on a short series the recurrent part of a
model can "improve" on its linear start by chance and then forecast worse.
:func:`improves_significantly` asks for evidence instead: a one-sided
Diebold-Mariano test (Diebold & Mariano 1995) on the per-sample loss
differences, with a Newey-West variance because the errors of overlapping
forecast windows are correlated.
"""
import math

import numpy as np

# One-sided 5% critical value of the standard normal distribution.
CRITICAL_VALUE = 1.6448536269514722


def improves_significantly(loss_before, loss_after, lags):
    """Whether ``loss_after`` is lower than ``loss_before`` beyond what noise explains.

    Parameters
    ----------
    loss_before, loss_after : ndarray of shape (n_samples,)
        Each held-out sample's loss under the two models, in time order.
    lags : int
        Autocorrelation lags in the Newey-West variance (Bartlett weights);
        for forecasts ``h`` steps ahead, ``h - 1``.

    Returns
    -------
    bool
        True when the mean loss difference is positive and its
        Diebold-Mariano statistic exceeds the one-sided 5% critical value.
    """
    d = np.asarray(loss_before, np.float64) - np.asarray(loss_after, np.float64)
    n = d.size
    mean = d.mean()
    if not mean > 0:
        return False
    centred = d - mean
    variance = centred @ centred / n
    for lag in range(1, min(lags, n - 1) + 1):
        variance += 2 * (1 - lag / (lags + 1)) * (centred[lag:] @ centred[:-lag]) / n
    return bool(variance <= 0 or mean / math.sqrt(variance / n) > CRITICAL_VALUE)
