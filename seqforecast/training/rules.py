"""The scalar rules of training: each optimizer's update and each loss, for one element.

Written once, as plain functions of scalars (and two helpers that read a
loss's outputs and write its slopes), and compiled by each device:
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
* A loss rule is ``rule(p0, p1, p2, y, a) -> (value, d0, d1, d2)`` for one
  target value ``y`` and the network outputs that predict it: one output
  ``p0`` for a point forecast or a quantile, or a distribution's parameters
  ``p0`` (location), ``p1`` (scale, through softplus) and ``p2`` (Student's
  t degrees of freedom, through ``2 + softplus``); outputs a rule does not
  read are passed as ``p0`` and get slope 0.  ``a`` is the rule's constant:
  Huber's threshold, the quantile level, a fixed number of degrees of
  freedom (0: learned from ``p2``).  ``d0..d2`` are the slopes of ``value``
  with respect to ``p0..p2``.
"""
import math
import types

import numpy as np

from ..cells.activations import HALF, ONE, ZERO

TWO = np.float32(2.0)
#: The smallest scale a distribution output can take: ``softplus(p1) + SCALE_FLOOR``.
SCALE_FLOOR = 1e-6
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LOG_PI = math.log(math.pi)


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


def squared_error_rule(p0, p1, p2, y, a):
    """``(p0 - y)**2`` and its slope."""
    diff = p0 - y
    return diff * diff, TWO * diff, ZERO * diff, ZERO * diff


def absolute_error_rule(p0, p1, p2, y, a):
    """``|p0 - y|`` and its slope (0 at 0).

    ``ZERO * diff`` gives each constant ``diff``'s type, so that every branch
    returns the same types once compiled.
    """
    diff = p0 - y
    if diff > ZERO:
        return diff, ONE + ZERO * diff, ZERO * diff, ZERO * diff
    if diff < ZERO:
        return -diff, -ONE + ZERO * diff, ZERO * diff, ZERO * diff
    return ZERO * diff, ZERO * diff, ZERO * diff, ZERO * diff


def huber_rule(p0, p1, p2, y, a):
    """``0.5 d**2`` within ``a`` of zero, ``a (|d| - 0.5 a)`` beyond, for ``d = p0 - y``."""
    diff = p0 - y
    size = abs(diff)
    if size <= a:
        return HALF * diff * diff, diff, ZERO * diff, ZERO * diff
    return a * (size - HALF * a), a if diff > ZERO else -a, ZERO * diff, ZERO * diff


def pinball_rule(p0, p1, p2, y, a):
    """The pinball loss of the level-``a`` quantile ``p0``: ``(1 - a) d`` above, ``-a d`` below.

    ``d = p0 - y``; its expectation is least at the ``a``-quantile of ``y``
    (Koenker & Bassett 1978).  The slope is 0 at ``d = 0``.
    """
    diff = p0 - y
    if diff > ZERO:
        return (ONE - a) * diff, ONE - a + ZERO * diff, ZERO * diff, ZERO * diff
    if diff < ZERO:
        return -a * diff, -a + ZERO * diff, ZERO * diff, ZERO * diff
    return ZERO * diff, ZERO * diff, ZERO * diff, ZERO * diff


def logistic(x):
    """``1 / (1 + exp(-x))`` without overflow: the slope of :func:`softplus`.

    The distribution rules and their helpers use Python floats, not the
    float32 constants: with math's results (Python floats, which NumPy
    scalars treat as weak) a float32 constant would round float64 values to
    float32 where the rules run as Python (the CUDA simulator).
    """
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus(x):
    """``log(1 + exp(x))`` without overflow: the positive map of scale outputs."""
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def digamma(x):
    """The digamma function ``d log Gamma(x) / dx`` for ``x > 0``.

    The recurrence ``psi(x) = psi(x + 1) - 1/x`` up to ``x >= 6``, then
    the asymptotic series to ``x**-10`` (error below 1e-10 there).
    """
    result = 0.0
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))
    return result + math.log(x) - 0.5 / x - series


def gaussian_rule(p0, p1, p2, y, a):
    """Negative log-likelihood of ``y`` under N(``p0``, ``sigma**2``), ``sigma = softplus(p1)``.

    ``log sigma + z**2 / 2 + log(2 pi) / 2`` with ``z = (y - p0) / sigma``
    (``sigma`` is at least :data:`SCALE_FLOOR`).
    """
    sigma = softplus(p1) + SCALE_FLOOR
    z = (y - p0) / sigma
    value = math.log(sigma) + 0.5 * z * z + _HALF_LOG_2PI
    return value, -z / sigma, (1.0 - z * z) / sigma * logistic(p1), 0.0


def student_t_rule(p0, p1, p2, y, a):
    """Negative log-likelihood of ``y`` under Student's t: location ``p0``, scale
    ``softplus(p1)``, ``nu = a`` degrees of freedom, or ``nu = 2 + softplus(p2)`` when
    ``a`` is 0 (learned, with a finite variance).

    ``lgamma(nu/2) - lgamma((nu+1)/2) + log(nu pi)/2 + log sigma + (nu+1)/2
    log(1 + z**2/nu)``, ``z = (y - p0) / sigma``.
    """
    learned = not a > 0.0
    nu = 2.0 + softplus(p2) if learned else a + 0.0
    sigma = softplus(p1) + SCALE_FLOOR
    z = (y - p0) / sigma
    zz = z * z
    log_term = math.log1p(zz / nu)
    value = (math.lgamma(0.5 * nu) - math.lgamma(0.5 * (nu + 1.0)) + 0.5 * (math.log(nu) + _LOG_PI)
             + math.log(sigma) + 0.5 * (nu + 1.0) * log_term)
    pull = (nu + 1.0) / (nu + zz)
    d_nu = 0.0
    if learned:
        d_nu = (0.5 * (digamma(0.5 * nu) - digamma(0.5 * (nu + 1.0))) + 0.5 / nu
                + 0.5 * log_term - 0.5 * pull * zz / nu) * logistic(p2)
    return value, -pull * z / sigma, (1.0 - pull * zz) / sigma * logistic(p1), d_nu


def read_outputs(y_pred, r, o, group):
    """The ``group`` outputs of row ``r`` from column ``o`` on, as a loss rule's ``p0, p1, p2``
    (``p0`` stands in for the outputs a loss does not have)."""
    p0 = y_pred[r, o]
    return p0, y_pred[r, o + 1] if group > 1 else p0, y_pred[r, o + 2] if group > 2 else p0


def write_slopes(d_pred, r, o, group, d0, d1, d2, scale):
    """A loss rule's slopes of the ``group`` outputs of row ``r`` from column ``o`` on, times
    ``scale``, into ``d_pred``."""
    d_pred[r, o] = d0 * scale
    if group > 1:
        d_pred[r, o + 1] = d1 * scale
    if group > 2:
        d_pred[r, o + 2] = d2 * scale


#: The scalar functions the loss rules call; each target compiles them with the rules.
HELPERS = (logistic, softplus, digamma)


def bound(rule, compile_helper):
    """``rule`` calling the :data:`HELPERS` as compiled by ``compile_helper`` (a target's
    ``jit``), ready for that target to compile it."""
    scope = dict(rule.__globals__, **{f.__name__: compile_helper(f) for f in HELPERS})
    return types.FunctionType(rule.__code__, scope, rule.__name__)


#: The update rules, in the order of the CPU loop's codes.
UPDATE_RULES = (sgd_rule, adam_rule, rmsprop_rule)
#: The loss rules, in the order of the CPU loop's codes.
LOSS_RULES = (squared_error_rule, absolute_error_rule, huber_rule, pinball_rule, gaussian_rule,
              student_t_rule)
