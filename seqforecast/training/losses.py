"""Regression losses, point and probabilistic: the mean over all targets and its gradient.

Each loss is one scalar *rule* of :mod:`seqforecast.training.rules`,
``rule(p0, p1, p2, y, a) -> (value, d0, d1, d2)``, written once and applied
by the CPU (:mod:`seqforecast.cpu.elementwise`) and the GPU
(:mod:`seqforecast.cuda.rules`).  A :class:`Loss` is callable on arrays:
``loss(y_pred, y_true)`` returns ``(loss, grad)``, ``grad = d loss /
d y_pred`` of the same shape and dtype as ``y_pred``.

A probabilistic loss makes the network predict several outputs per target
value (``Loss.width``): one per quantile level (``'quantile'``), or a
distribution's location and scale, and for Student's t with learned degrees
of freedom a third output (``'gaussian'``, ``'student_t'``).  Target column
``k`` is predicted by outputs ``k * width`` to ``(k + 1) * width - 1``.  The
loss also reads those outputs back: :meth:`Loss.point` (the median or the
location), :meth:`Loss.quantiles`, and says where a linear start puts them
(:meth:`Loss.start`).
"""
from typing import Callable, NamedTuple

import numpy as np
from scipy import special, stats

from .._checks import check_levels
from ..cpu.elementwise import mean_loss
from .rules import (SCALE_FLOOR, absolute_error_rule, gaussian_rule, huber_rule, pinball_rule,
                    squared_error_rule, student_t_rule)

#: The losses whose outputs are a predictive distribution.
PROBABILISTIC_LOSSES = ("quantile", "gaussian", "student_t")
#: Degrees of freedom a learned Student's t starts from: tails clearly heavier than the
#: normal's, a variance that exists.
STUDENT_T_START_DF = 10.0


class Loss(NamedTuple):
    """A mean loss over all target values and constants, ``loss(y_pred, y_true) -> (value, grad)``.

    Attributes
    ----------
    name : str
        A key of :data:`LOSSES`.
    rule : function
        ``rule(p0, p1, p2, y, a) -> (value, d0, d1, d2)`` on scalars.
    constants : tuple of float
        The rule's constant ``a``, one block of outputs per constant:
        Huber's threshold; the quantile levels; Student's t degrees of
        freedom (0: learned).
    group : int, default=1
        Outputs per constant: 1, or the distribution's parameters.
    """

    name: str
    rule: Callable
    constants: tuple = (1.0,)
    group: int = 1

    @property
    def width(self):
        """Network outputs per target value."""
        return len(self.constants) * self.group

    @property
    def probabilistic(self):
        return self.name in PROBABILISTIC_LOSSES

    @property
    def likelihood(self):
        """Whether the value is a negative log-likelihood (in nats, of any sign)."""
        return self.name in ("gaussian", "student_t")

    def __call__(self, y_pred, y_true, sample_losses=None):
        """Mean loss and its gradient.

        Parameters
        ----------
        y_pred : ndarray of shape (n_samples, n_targets * width)
        y_true : ndarray of shape (n_samples, n_targets)
        sample_losses : ndarray of shape (n_samples,), float64, optional
            Receives each sample's mean loss.

        Returns
        -------
        value : float
        grad : ndarray like ``y_pred``
        """
        if y_pred.shape != (len(y_true), y_true.shape[1] * self.width):
            raise ValueError(f"the {self.name} loss needs {self.width} predictions per target: "
                             f"y_pred of shape (n, {self.width} * {y_true.shape[1]}) for y_true "
                             f"{y_true.shape}, got {y_pred.shape}")
        grad = np.empty_like(y_pred)
        constants = np.asarray(self.constants, y_pred.dtype)
        value = mean_loss(self.rule, y_pred, y_true, constants, self.group, grad, sample_losses)
        if sample_losses is not None:
            sample_losses /= y_true.shape[1] * len(self.constants)
        return value, grad

    def sample_losses(self, y_pred, y_true):
        """Each sample's mean loss, ndarray of shape (n_samples,), float64."""
        out = np.empty(len(y_true))
        self(y_pred, y_true, out)
        return out

    # -- reading the outputs ------------------------------------------------------------

    def _parameters(self, outputs):
        """Outputs (n, n_targets * width) as (n, n_targets, width), float64."""
        outputs = np.asarray(outputs, np.float64)
        return outputs.reshape(len(outputs), -1, self.width)

    def _distribution(self, outputs):
        """Location, scale and degrees of freedom (or None), each (n, n_targets)."""
        p = self._parameters(outputs)
        scale = np.logaddexp(0.0, p[..., 1]) + SCALE_FLOOR
        if self.name == "gaussian":
            return p[..., 0], scale, None
        df = self.constants[0] or 2.0 + np.logaddexp(0.0, p[..., 2])
        return p[..., 0], scale, np.broadcast_to(df, scale.shape)

    def point(self, outputs):
        """The point forecast: the output itself, the median, or the location.

        Parameters
        ----------
        outputs : ndarray of shape (n_samples, n_targets * width)

        Returns
        -------
        ndarray of shape (n_samples, n_targets)
        """
        if self.name == "quantile":
            return self.quantiles(outputs, (0.5,))[..., 0]
        if self.probabilistic:
            return self._distribution(outputs)[0]
        return outputs

    def quantiles(self, outputs, levels):
        """Quantiles of the predictive distribution, sorted along the last axis.

        For ``'quantile'`` the outputs of those of the trained levels asked
        for, after sorting each target's trained quantiles (Chernozhukov et
        al. 2010: sorting repairs crossing quantiles, and a sorted estimate is
        never further from the true quantile function); for a distribution,
        its quantile function at ``levels``.

        Parameters
        ----------
        outputs : ndarray of shape (n_samples, n_targets * width)
        levels : sequence of float in (0, 1)
            For ``'quantile'``, a subset of ``constants``.

        Returns
        -------
        ndarray of shape (n_samples, n_targets, len(levels)), float64
        """
        levels = np.asarray(levels, np.float64)
        if self.name == "quantile":
            trained = np.sort(self._parameters(outputs), axis=-1)
            return trained[..., np.searchsorted(self.constants, levels)]
        location, scale, df = self._distribution(outputs)
        if df is None:
            standard = special.ndtri(levels)
        else:
            standard = stats.t.ppf(levels, df[..., None])
        return location[..., None] + scale[..., None] * standard

    # -- starting values ----------------------------------------------------------------

    @property
    def locations(self):
        """Which of a target's ``width`` outputs move with its level, bool (width,).

        A linear start puts its regression into these (a point forecast, every
        quantile, a location); the others (scale, degrees of freedom) get
        the constants of :meth:`start`.
        """
        if self.name in ("gaussian", "student_t"):
            return np.arange(self.width) == 0
        return np.ones(self.width, bool)

    def start(self, residuals):
        """Outputs that predict the distribution of ``residuals`` with no inputs.

        Parameters
        ----------
        residuals : ndarray of shape (n_samples, n_targets * width)
            Per output, the errors around the level its location output
            predicts (a point forecast's and a location's are used as they
            are; a scale's column is ignored).

        Returns
        -------
        ndarray of shape (n_targets * width,), float64
            For a point loss the mean; for ``'quantile'`` each column's
            empirical quantile at its level; for a distribution the location's
            mean, and the scale (and degrees of freedom) through the inverse
            of their maps, matched to the residuals' standard deviation.
        """
        r = self._parameters(residuals)
        out = np.empty_like(r[0])
        if self.name == "quantile":
            for j, level in enumerate(self.constants):
                out[:, j] = np.quantile(r[:, :, j], level, axis=0)
        elif self.probabilistic:
            out[:, 0] = r[:, :, 0].mean(axis=0)
            spread = np.maximum(r[:, :, 0].std(axis=0), 10 * SCALE_FLOOR)
            df = self.constants[0] if self.name == "student_t" else 0.0
            if self.name == "student_t" and not df:
                df = STUDENT_T_START_DF
                out[:, 2] = _inverse_softplus(df - 2.0)
            if df > 2:  # the t's scale whose standard deviation is the residuals'
                spread = spread * np.sqrt((df - 2.0) / df)
            out[:, 1] = _inverse_softplus(spread - SCALE_FLOOR)
        else:
            out[:] = r.mean(axis=0)
        return out.ravel()


def _inverse_softplus(value):
    """``x`` with ``log(1 + exp(x)) == value`` (for ``value > 0``)."""
    return value + np.log(-np.expm1(-value))


squared_error = Loss("squared_error", squared_error_rule)
absolute_error = Loss("absolute_error", absolute_error_rule)


def huber(y_pred, y_true, delta=1.0):
    """Mean Huber loss: quadratic within ``delta`` of the target, linear beyond.

    ``0.5 * d**2`` for ``|d| <= delta`` and ``delta * (|d| - 0.5 * delta)``
    otherwise (PyTorch's ``HuberLoss``), so errors beyond ``delta`` pull with
    a bounded force: robust to outliers such as sensor glitches.
    """
    return make_loss("huber", delta)(y_pred, y_true)


def make_loss(name, delta=1.0, quantiles=(0.05, 0.5, 0.95), df=None):
    """The :class:`Loss` called ``name`` in :data:`LOSSES`.

    Parameters
    ----------
    name : str
    delta : float, default=1.0
        Huber's threshold.
    quantiles : sequence of float, default=(0.05, 0.5, 0.95)
        The levels of ``'quantile'``, or the default levels of a distribution's
        quantiles: distinct, in (0, 1), in any order (sorted), for ``'quantile'``
        0.5 among them.
    df : float or None, default=None
        Student's t degrees of freedom; None: learned.
    """
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    if name == "huber":
        return Loss(name, huber_rule, (float(delta),))
    if name == "quantile":
        return Loss(name, pinball_rule, check_levels(quantiles, median=True))
    if name in PROBABILISTIC_LOSSES:
        check_levels(quantiles)  # the default levels of the distribution's quantiles
    if name == "gaussian":
        return Loss(name, gaussian_rule, (0.0,), 2)
    if name == "student_t":
        if df is not None and not df > 0:
            raise ValueError(f"Student's t degrees of freedom must be positive, got {df}")
        return Loss(name, student_t_rule, (0.0,), 3) if df is None else Loss(
            name, student_t_rule, (float(df),), 2)
    return {"squared_error": squared_error, "absolute_error": absolute_error}[name]


#: Every loss by name, with its default settings.
LOSSES = {name: make_loss(name) for name in ("squared_error", "absolute_error", "huber",
                                              *PROBABILISTIC_LOSSES)}
