"""The scalar rules of training: each optimizer's update and each loss, for one element.

Written once, as plain functions of scalars, and compiled by each device:
the CPU's loops in :mod:`seqforecast.cpu.elementwise` (which select a rule
by its index in :data:`UPDATE_RULES` or :data:`LOSS_RULES`, so that they
are compiled once and cached on disk) and the GPU's kernels in
:mod:`seqforecast.cuda.rules`.  The optimizer classes
(:mod:`~seqforecast.training.optimizers`) and the losses
(:mod:`~seqforecast.training.losses`) name their rule here.

* An update rule is ``rule(p, g, s1, s2, hyper) -> (p, s1, s2)`` for one
  parameter ``p``, its gradient ``g`` and its two state values, with the
  step's constants in ``hyper`` (five scalars of the parameters' dtype).
  The formulas are PyTorch's (``torch.optim.SGD``, ``Adam``, ``RMSprop``).
* A loss rule is ``rule(diff, delta) -> (value, slope)`` for ``diff =
  y_pred - y_true`` (``delta``: Huber's threshold, unused by the others).
"""
import math

import numpy as np

from ..cells.activations import HALF, ONE, ZERO

TWO = np.float32(2.0)


def sgd_rule(p, g, velocity, unused, hyper):
    """SGD with optional (Nesterov) momentum; ``hyper = (lr, momentum, nesterov, -, -)``."""
    lr, momentum, nesterov = hyper[0], hyper[1], hyper[2]
    if momentum == ZERO:
        return p - lr * g, velocity, unused
    velocity = momentum * velocity + g
    step = g + momentum * velocity if nesterov != ZERO else velocity
    return p - lr * step, velocity, unused


def adam_rule(p, g, m, v, hyper):
    """Adam; ``hyper = (lr / (1 - beta_1**t), beta_1, beta_2, 1 - beta_2**t, epsilon)``."""
    lr_t, b1, b2, correction_2, eps = hyper
    m = b1 * m + (ONE - b1) * g
    v = b2 * v + (ONE - b2) * g * g
    return p - lr_t * m / (math.sqrt(v / correction_2) + eps), m, v


def rmsprop_rule(p, g, v, unused, hyper):
    """RMSprop; ``hyper = (lr, rho, epsilon, -, -)``."""
    lr, rho, eps = hyper[0], hyper[1], hyper[2]
    v = rho * v + (ONE - rho) * g * g
    return p - lr * g / (math.sqrt(v) + eps), v, unused


def squared_error_rule(diff, delta):
    """``diff**2`` and its slope."""
    return diff * diff, TWO * diff


def absolute_error_rule(diff, delta):
    """``|diff|`` and its slope (0 at 0).

    ``ZERO * diff`` gives each constant ``diff``'s type, so that every branch
    returns the same types once compiled.
    """
    if diff > ZERO:
        return diff, ONE + ZERO * diff
    if diff < ZERO:
        return -diff, -ONE + ZERO * diff
    return ZERO * diff, ZERO * diff


def huber_rule(diff, delta):
    """``0.5 diff**2`` within ``delta`` of zero, ``delta (|diff| - 0.5 delta)`` beyond."""
    size = abs(diff)
    if size <= delta:
        return HALF * diff * diff, diff
    return delta * (size - HALF * delta), delta if diff > ZERO else -delta


#: The update rules, in the order of the CPU loop's codes.
UPDATE_RULES = (sgd_rule, adam_rule, rmsprop_rule)
#: The loss rules, in the order of the CPU loop's codes.
LOSS_RULES = (squared_error_rule, absolute_error_rule, huber_rule)
