"""Held-out choices: the linear path's ridge penalty, and whether the recurrent part stays.

:func:`ridge_alpha` picks the ridge penalty of the linear autoregressive
path (``ar_alpha='auto'``) by how well each candidate, fitted on the
training samples, forecasts the held-out ones.

Early stopping picks the best of many epochs on a few held-out windows, so
the best score is optimistic: on a short series the recurrent part of a
model can "improve" on its linear start by chance and then forecast worse.
:func:`improves_significantly` asks for evidence instead: a one-sided
Diebold-Mariano test (Diebold & Mariano 1995) on the per-sample loss
differences, with a Newey-West variance because the errors of overlapping
forecast windows are correlated, and the small-sample correction of Harvey,
Leybourne & Newbold (1997): the statistic scaled by
``sqrt((n + 1 - 2h + h (h - 1) / n) / n)`` and compared with Student's t
with ``n - 1`` degrees of freedom, for ``h < n`` (fewer samples than the
horizon are no evidence).

Its size, measured on simulated ``h``-step forecast errors of two equal
models (``tests/test_selection.py``): 4-6% for one-step forecasts, where
the normal critical value alone found a gain in 10-20% of draws on 2-5
samples; 9-13% for horizons of 3 to 24 steps, where the Bartlett weights
underestimate the variance of overlapping errors.  A test that keeps only
non-overlapping forecasts has its nominal 5% there, but on the electricity
series it dropped a recurrent part that beats Ridge by 30% in some folds:
dropping a useful part costs more than keeping a useless one, which early
stopping has held near its linear start.

Two limits, both in what the estimator knows of its samples: it takes
``lags`` as its number of outputs minus 1 (right for one target's direct
forecasts, more than needed for several targets or the recursive
strategy), and a global model's held-out windows come series by series
(:meth:`~seqforecast.forecasting.SequenceForecaster._windows_of`), whose
lags do not reach across series that share shocks.
"""
import math

import numpy as np
from scipy.stats import t as student_t

#: The test's one-sided level.
LEVEL = 0.05

#: The penalties :func:`ridge_alpha` chooses among: 1e-3 to 1e4 in half-decade steps.
RIDGE_ALPHAS = tuple(10.0 ** (k / 2) for k in range(-6, 9))


def held_out_count(validation_fraction, n_samples):
    """How many of ``n_samples`` samples, the most recent, early stopping holds out."""
    return math.ceil(validation_fraction * n_samples)


def ridge_alpha(X_train, y_train, X_held, y_held, alphas=RIDGE_ALPHAS):
    """The ridge penalty whose fit on the training samples forecasts the held-out ones best.

    Every candidate is scikit-learn's :class:`~sklearn.linear_model.Ridge`
    with an intercept, solved from one eigendecomposition, so that the
    candidates together cost about one fit: of the centred training
    samples' Gram matrix ``X'X = V diag(lam) V'`` (weights ``V diag(1 /
    (lam + alpha)) V'X'y``), or, with as many features as samples or more, of
    ``XX' = U diag(lam) U'`` (weights ``X'U diag(1 / (lam + alpha)) U'y``).

    Parameters
    ----------
    X_train : ndarray of shape (n_train, n_features)
    y_train : ndarray of shape (n_train,) or (n_train, n_outputs)
    X_held : ndarray of shape (n_held, n_features)
    y_held : ndarray of shape (n_held,) or (n_held, n_outputs)
    alphas : sequence of positive float, default=RIDGE_ALPHAS

    Returns
    -------
    float
        The candidate with the lowest mean squared error over the held-out
        samples and outputs; of equal errors, the largest penalty (the
        simplest model).
    """
    if not all(alpha > 0 for alpha in alphas):
        raise ValueError(f"the candidate penalties must be positive, got {tuple(alphas)}")
    X_train, X_held = np.asarray(X_train, np.float64), np.asarray(X_held, np.float64)
    y_train = np.asarray(y_train, np.float64).reshape(len(X_train), -1)
    y_held = np.asarray(y_held, np.float64).reshape(len(X_held), -1)
    x_mean, y_mean = X_train.mean(axis=0), y_train.mean(axis=0)
    centred, held = X_train - x_mean, X_held - x_mean
    if centred.shape[1] < centred.shape[0]:  # primal: (n_features, n_features)
        lam, V = np.linalg.eigh(centred.T @ centred)
        rotated = V.T @ (centred.T @ (y_train - y_mean))
        held = held @ V
    else:  # dual: (n_train, n_train)
        lam, U = np.linalg.eigh(centred @ centred.T)
        rotated = U.T @ (y_train - y_mean)
        held = (held @ centred.T) @ U
    lam = np.maximum(lam, 0)[:, None]  # rounding can leave a zero eigenvalue negative
    errors = [np.mean((held @ (rotated / (lam + alpha)) + y_mean - y_held) ** 2)
              for alpha in alphas]
    best = min(errors)
    return float(max(alpha for alpha, error in zip(alphas, errors) if error == best))


def improves_significantly(loss_before, loss_after, lags):
    """Whether ``loss_after`` is lower than ``loss_before`` beyond what noise explains.

    Parameters
    ----------
    loss_before, loss_after : ndarray of shape (n_samples,)
        Each held-out sample's loss under the two models, in time order.
    lags : int
        Autocorrelation lags in the Newey-West variance (Bartlett weights);
        for forecasts ``h`` steps ahead from consecutive origins, ``h - 1``.

    Returns
    -------
    bool
        True when the mean loss difference is positive and its corrected
        Diebold-Mariano statistic exceeds the one-sided :data:`LEVEL`
        critical value of Student's t with ``n_samples - 1`` degrees of
        freedom; False unless there are more samples than ``lags + 1``.
    """
    d = np.asarray(loss_before, np.float64) - np.asarray(loss_after, np.float64)
    n, h = d.size, lags + 1
    if n <= h:  # the correction, (n - h)(n - h + 1) / n^2, needs h < n
        return False
    mean = d.mean()
    if not mean > 0:
        return False
    correction = (n + 1 - 2 * h + h * (h - 1) / n) / n
    centred = d - mean
    variance = centred @ centred / n
    for lag in range(1, lags + 1):  # lags < n - 1
        variance += 2 * (1 - lag / (lags + 1)) * (centred[lag:] @ centred[:-lag]) / n
    if variance <= 0:  # every sample improved by the same amount
        return True
    statistic = math.sqrt(correction) * mean / math.sqrt(variance / n)
    return bool(statistic > student_t.ppf(1 - LEVEL, n - 1))
