"""Whether a trained model beats its starting point on held-out samples, beyond noise.

Early stopping picks the best of many epochs on a few held-out windows, so
the best score is optimistic: on a short series the recurrent part of a
model can "improve" on its linear start by chance and then forecast worse.
:func:`improves_significantly` asks for evidence instead: a one-sided
Diebold-Mariano test (Diebold & Mariano 1995) on the per-sample loss
differences, with a Newey-West variance because the errors of overlapping
forecast windows are correlated, and the small-sample correction of Harvey,
Leybourne & Newbold (1997): the statistic scaled by
``sqrt((n + 1 - 2h + h (h - 1) / n) / n)`` and compared with Student's t
with ``n - 1`` degrees of freedom.  Without it the test's size on a few
held-out windows is far above its nominal 5% (about 15% with 3 samples).
"""
import math

import numpy as np
from scipy.stats import t as student_t

#: The test's one-sided level.
LEVEL = 0.05


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
        True when the mean loss difference is positive and its corrected
        Diebold-Mariano statistic exceeds the one-sided :data:`LEVEL`
        critical value of Student's t with ``n_samples - 1`` degrees of
        freedom; False with fewer than 2 samples, or too few for the
        correction at this horizon (its factor not positive).
    """
    d = np.asarray(loss_before, np.float64) - np.asarray(loss_after, np.float64)
    n, h = d.size, lags + 1
    correction = (n + 1 - 2 * h + h * (h - 1) / n) / n if n else 0.0
    mean = d.mean() if n else 0.0
    if not (mean > 0 and n >= 2 and correction > 0):
        return False
    centred = d - mean
    variance = centred @ centred / n
    for lag in range(1, min(lags, n - 1) + 1):
        variance += 2 * (1 - lag / (lags + 1)) * (centred[lag:] @ centred[:-lag]) / n
    if variance <= 0:  # every sample improved by the same amount
        return True
    statistic = math.sqrt(correction) * mean / math.sqrt(variance / n)
    return bool(statistic > student_t.ppf(1 - LEVEL, n - 1))
