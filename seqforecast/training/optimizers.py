"""Optimizers that update one flat parameter vector in place.

Each keeps its state (moments, velocity) for one parameter vector and has an
``update(params, grad)`` method and a ``learning_rate`` attribute that a
schedule may lower between steps.  The formulas are PyTorch's
(``torch.optim.SGD``, ``Adam``, ``RMSprop``), so settings carry over.
"""
import numpy as np


class _Optimizer:
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
        self._step(params, grad)


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

    def __init__(self, params, learning_rate, momentum=0.9, nesterov=True):
        super().__init__(params, learning_rate)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity = np.zeros(self._shape, self._dtype)

    def _step(self, params, grad):
        if self.momentum == 0:
            params -= self._dtype.type(self.learning_rate) * grad
            return
        self.velocity *= self._dtype.type(self.momentum)
        self.velocity += grad
        step = grad + self._dtype.type(self.momentum) * self.velocity if self.nesterov \
            else self.velocity.copy()
        step *= self._dtype.type(self.learning_rate)
        params -= step


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
    learning_rate : float, default=1e-3
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    """

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(params, learning_rate)
        for name, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1), got {beta}")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.m = np.zeros(self._shape, self._dtype)
        self.v = np.zeros(self._shape, self._dtype)
        self._work = np.empty(self._shape, self._dtype)

    def _step(self, params, grad):
        b1, b2, work = self.beta_1, self.beta_2, self._work
        self.m *= b1
        self.m += (1 - b1) * grad
        self.v *= b2
        np.multiply(grad, grad, out=work)
        work *= 1 - b2
        self.v += work
        # v_hat = v / (1 - b2**t), m_hat = m / (1 - b1**t), step = lr m_hat / (sqrt(v_hat) + eps)
        np.sqrt(self.v / (1 - b2 ** self.t), out=work)
        work += self.epsilon
        np.divide(self.m, work, out=work)
        work *= self.learning_rate / (1 - b1 ** self.t)
        params -= work


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

    def __init__(self, params, learning_rate=1e-3, rho=0.9, epsilon=1e-8):
        super().__init__(params, learning_rate)
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1), got {rho}")
        self.rho, self.epsilon = rho, epsilon
        self.v = np.zeros(self._shape, self._dtype)
        self._work = np.empty(self._shape, self._dtype)

    def _step(self, params, grad):
        work = self._work
        self.v *= self.rho
        np.multiply(grad, grad, out=work)
        work *= 1 - self.rho
        self.v += work
        np.sqrt(self.v, out=work)
        work += self.epsilon
        np.divide(grad, work, out=work)
        work *= self.learning_rate
        params -= work
