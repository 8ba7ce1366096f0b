"""Regression losses: value and gradient w.r.t. the predictions."""
import numpy as np


def squared_error(y_pred, y_true):
    """Mean squared error over all entries, ``mean((y_pred - y_true)**2)``.

    Parameters
    ----------
    y_pred, y_true : ndarray of shape (n_samples, n_outputs)

    Returns
    -------
    loss : float
    grad : ndarray of shape (n_samples, n_outputs)
        ``d loss / d y_pred``.
    """
    diff = y_pred - y_true
    return float(np.mean(diff * diff)), diff * diff.dtype.type(2.0 / diff.size)
