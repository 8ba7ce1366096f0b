"""Regression losses: the mean over all entries and its gradient w.r.t. the predictions.

Each function takes ``y_pred`` and ``y_true`` of shape (n_samples, n_outputs)
and returns ``(loss, grad)`` with ``grad = d loss / d y_pred`` of the same
shape and dtype as ``y_pred``.
"""
import numpy as np


def squared_error(y_pred, y_true):
    """Mean squared error, ``mean((y_pred - y_true)**2)``."""
    diff = y_pred - y_true
    return float(np.mean(diff * diff)), diff * diff.dtype.type(2.0 / diff.size)


def absolute_error(y_pred, y_true):
    """Mean absolute error, ``mean(|y_pred - y_true|)``; its gradient at 0 is 0."""
    diff = y_pred - y_true
    return float(np.mean(np.abs(diff))), np.sign(diff) * diff.dtype.type(1.0 / diff.size)


def huber(y_pred, y_true, delta=1.0):
    """Mean Huber loss: quadratic within ``delta`` of the target, linear beyond.

    ``0.5 * d**2`` for ``|d| <= delta`` and ``delta * (|d| - 0.5 * delta)``
    otherwise (PyTorch's ``HuberLoss``), so errors beyond ``delta`` pull with
    a bounded force: robust to outliers such as sensor glitches.
    """
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    diff = y_pred - y_true
    size = np.abs(diff)
    small = size <= delta
    loss = np.where(small, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    grad = np.where(small, diff, delta * np.sign(diff)) * diff.dtype.type(1.0 / diff.size)
    return float(np.mean(loss)), grad.astype(diff.dtype, copy=False)


LOSSES = {"squared_error": squared_error, "absolute_error": absolute_error, "huber": huber}
