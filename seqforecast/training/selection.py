"""Choices a fit makes from its samples: the linear path's ridge penalty, and whether the
recurrent part stays.

:func:`ridge_alpha` picks the ridge penalty of the linear autoregressive
path (``ar_alpha='auto'``) by the evidence: the marginal likelihood of the
training samples under each candidate.

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


def ridge_alpha(X, y, alphas=RIDGE_ALPHAS):
    """The ridge penalty under which the samples are most probable (the evidence).

    Ridge regression with penalty ``alpha`` is the posterior mean of a
    linear model whose weights have a Gaussian prior, of variance
    ``sigma^2 / alpha`` for noise of variance ``sigma^2``.  Each candidate
    is scored by the marginal likelihood of the targets under that model
    (MacKay 1992; Bishop 2006, section 3.5), with the intercept's flat
    prior (centred samples, ``m = n_samples - 1``) and each output's noise
    variance at its maximum, one penalty for all outputs::

        log p(y | alpha) = sum over outputs of -m/2 log(q(alpha) / m)
                           - n_outputs / 2 sum_i log(1 + s_i^2 / alpha)
        q(alpha) = sum_i (u_i'y)^2 / (1 + s_i^2 / alpha) + |y - U U'y|^2

    from the centred inputs' singular values ``s_i`` and left singular
    vectors ``u_i``: one decomposition for all candidates, of the smaller
    of the two Gram matrices (an eigendecomposition, a tenth of the time
    of a tall matrix's SVD; directions whose ``s_i^2`` is below its
    rounding, the matrix's size times ``eps`` times the largest, count as
    0).  A penalty too
    small pays in the determinant for weights the data do not need; one
    too large, in ``q`` for the fit it loses.  The samples given are all
    read, the newest included: given the training windows, a level shift
    among them calls for the inputs and a small penalty, where a penalty
    judged on the most recent, held-out windows took the largest (the
    README's "Forecast quality").  Overlapping windows are not independent
    samples, which makes the data look more informative than they are:
    the choice leans to smaller penalties.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    alphas : sequence of positive float, default=RIDGE_ALPHAS

    Returns
    -------
    float
        The candidate of highest evidence; of equal evidence (to 1e-9 of
        it, relative), the largest penalty, the simplest model.  Outputs
        that do not vary, which every candidate fits, carry no evidence
        and are left out; with none left, or fewer than 3 samples (every
        candidate has the same evidence), the largest.
    """
    alphas = tuple(float(alpha) for alpha in alphas)
    if not alphas or not all(0 < alpha < np.inf for alpha in alphas):
        raise ValueError(f"the candidate penalties must be positive and finite, and at least "
                         f"one, got {alphas}")
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64).reshape(len(X), -1)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("the ridge penalty's samples hold NaN or infinite values; the "
                         "evidence needs finite inputs and targets")
    y = y[:, np.ptp(y, axis=0) > 0]  # an output that does not vary: any candidate fits it
    m = len(X) - 1
    if m < 2 or not y.size:
        return max(alphas)
    centred, target = X - X.mean(axis=0), y - y.mean(axis=0)
    tall = len(X) > X.shape[1]
    s2, vectors = np.linalg.eigh(centred.T @ centred if tall else centred @ centred.T)
    keep = s2 > len(s2) * np.finfo(np.float64).eps * s2.max()
    s2 = s2[keep]
    U = centred @ vectors[:, keep] / np.sqrt(s2) if tall else vectors[:, keep]
    projected = U.T @ target  # (rank, n_outputs)
    rotated = projected ** 2
    rest = ((target - U @ projected) ** 2).sum(axis=0)
    scores = []
    for alpha in alphas:
        growth = 1 + s2 / alpha  # the prior's covariance along each u_i, over sigma^2
        fit = (rotated / growth[:, None]).sum(axis=0) + rest
        scores.append(-m / 2 * np.log(fit / m).sum()
                      - y.shape[1] / 2 * np.log(growth).sum())
    best = max(scores)
    return max(alpha for alpha, score in zip(alphas, scores)
               if score >= best - 1e-9 * max(1.0, abs(best)))


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
