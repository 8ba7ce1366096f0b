"""Optimizers that update one flat parameter vector in place.

Each keeps its state (moments, velocity) for one parameter vector and has an
``update(params, grad)`` method and a ``learning_rate`` attribute that a
schedule may lower between steps.  The formulas are PyTorch's
(``torch.optim.SGD``, ``Adam``, ``RMSprop``), so settings carry over.

Each optimizer's formula is one scalar *rule* of
:mod:`seqforecast.training.rules` (``rule``), for one parameter, its
gradient and its two state values, with the step's constants from
:meth:`~_Optimizer.hyper`; the CPU applies it in
:mod:`seqforecast.cpu.elementwise` and the GPU in :mod:`seqforecast.cuda.
rules`, on the same state arrays (``state``).  ``t`` counts the updates made.
"""
import numpy as np

from ..cpu.elementwise import apply_update
from .rules import adam_rule, rmsprop_rule, sgd_rule


class _Optimizer:
    rule = None

    def __init__(self, params, learning_rate):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        self.learning_rate = learning_rate
        self.t = 0
        self._shape, self._dtype = params.shape, params.dtype

    def update(self, params, grad):
        """One step: ``params`` (n_params,) moves along ``-grad`` (n_params,), in place."""
        for name, array in (("params", params), ("grad", grad)):
            if array.shape != self._shape or array.dtype != self._dtype:
                raise ValueError(f"{name} must be a {self._dtype} array of shape "
                                 f"{self._shape}, got {array.dtype} {array.shape}")
        self.t += 1
        apply_update(type(self).rule, params, grad, *self.state, self.hyper(self.t))

    @property
    def state(self):
        """The two state arrays the rule updates (the second may be empty)."""
        raise NotImplementedError

    def hyper(self, t):
        """The rule's constants for step ``t`` (1 for the first), in the parameters' dtype."""
        return tuple(self._dtype.type(value) for value in self._constants(t))


class SGD(_Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    ``v = momentum * v + grad``; the step is ``grad + momentum * v`` with
    Nesterov momentum, ``v`` without, times the learning rate.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        The vector to be optimized (only its shape and dtype are kept).
    learning_rate : float
    momentum : float, default=0.9
    nesterov : bool, default=True
    """

    rule = staticmethod(sgd_rule)

    def __init__(self, params, learning_rate, momentum=0.9, nesterov=True):
        super().__init__(params, learning_rate)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity = np.zeros(self._shape, self._dtype)

    @property
    def state(self):
        return self.velocity, np.empty(0, self._dtype)

    def _constants(self, t):
        return self.learning_rate, self.momentum, float(self.nesterov), 0.0, 0.0


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
    learning_rate : float, default=1e-3
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    """

    rule = staticmethod(adam_rule)

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(params, learning_rate)
        for name, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1), got {beta}")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.m = np.zeros(self._shape, self._dtype)
        self.v = np.zeros(self._shape, self._dtype)

    @property
    def state(self):
        return self.m, self.v

    def _constants(self, t):
        b1, b2 = self.beta_1, self.beta_2
        return self.learning_rate / (1 - b1 ** t), b1, b2, 1 - b2 ** t, self.epsilon


class RMSprop(_Optimizer):
    """RMSprop (Tieleman & Hinton 2012): steps scaled by a running RMS of the gradient.

    ``v = rho * v + (1 - rho) * grad**2``; the step is
    ``learning_rate * grad / (sqrt(v) + epsilon)``.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
    learning_rate : float, default=1e-3
    rho : float, default=0.9
    epsilon : float, default=1e-8
    """

    rule = staticmethod(rmsprop_rule)

    def __init__(self, params, learning_rate=1e-3, rho=0.9, epsilon=1e-8):
        super().__init__(params, learning_rate)
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1), got {rho}")
        self.rho, self.epsilon = rho, epsilon
        self.v = np.zeros(self._shape, self._dtype)

    @property
    def state(self):
        return self.v, np.empty(0, self._dtype)

    def _constants(self, t):
        return self.learning_rate, self.rho, self.epsilon, 0.0, 0.0
