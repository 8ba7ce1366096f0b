"""Regression losses: the mean over all entries and its gradient w.r.t. the predictions.

Each loss is one scalar *rule* of :mod:`seqforecast.training.rules`,
``rule(diff, delta) -> (value, slope)`` for ``diff = y_pred - y_true``,
written once and applied by the CPU
(:mod:`seqforecast.cpu.elementwise`) and the GPU (:mod:`seqforecast.cuda.
rules`).  A :class:`Loss` is callable on arrays: ``loss(y_pred, y_true)``
with both of shape (n_samples, n_outputs) returns ``(loss, grad)``, ``grad =
d loss / d y_pred`` of the same shape and dtype as ``y_pred``.
"""
from typing import Callable, NamedTuple

import numpy as np

from ..cpu.elementwise import mean_loss
from .rules import absolute_error_rule, huber_rule, squared_error_rule


class Loss(NamedTuple):
    """A mean loss over all entries, callable as ``loss(y_pred, y_true) -> (value, grad)``.

    Attributes
    ----------
    rule : function
        ``rule(diff, delta) -> (value, slope)`` on scalars.
    delta : float
        The rule's parameter (Huber's threshold; unused by the others).
    """

    rule: Callable
    delta: float = 1.0

    def __call__(self, y_pred, y_true):
        grad = np.empty_like(y_pred)
        value = mean_loss(self.rule, y_pred, y_true, y_pred.dtype.type(self.delta), grad)
        return value, grad


squared_error = Loss(squared_error_rule)
absolute_error = Loss(absolute_error_rule)


def huber(y_pred, y_true, delta=1.0):
    """Mean Huber loss: quadratic within ``delta`` of the target, linear beyond.

    ``0.5 * d**2`` for ``|d| <= delta`` and ``delta * (|d| - 0.5 * delta)``
    otherwise (PyTorch's ``HuberLoss``), so errors beyond ``delta`` pull with
    a bounded force: robust to outliers such as sensor glitches.
    """
    return make_loss("huber", delta)(y_pred, y_true)


def make_loss(name, delta=1.0):
    """The :class:`Loss` called ``name`` in :data:`LOSSES`, with Huber's ``delta``."""
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    return Loss(LOSSES[name].rule, float(delta))


LOSSES = {"squared_error": squared_error, "absolute_error": absolute_error,
          "huber": Loss(huber_rule)}
