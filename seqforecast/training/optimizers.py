"""Optimizers that update one flat parameter vector in place."""
import numpy as np


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Updated in place by :meth:`update`.
    learning_rate : float, default=1e-3
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    """

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.params = params
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self._work = np.empty_like(params)

    def update(self, grad):
        """One step along the gradient ``grad`` of shape (n_params,)."""
        if grad.shape != self.params.shape or grad.dtype != self.params.dtype:
            raise ValueError(f"grad must be a {self.params.dtype} array of shape "
                             f"{self.params.shape}, got {grad.dtype} {grad.shape}")
        self.t += 1
        b1, b2, work = self.beta_1, self.beta_2, self._work
        self.m *= b1
        self.m += (1 - b1) * grad
        self.v *= b2
        np.multiply(grad, grad, out=work)
        work *= 1 - b2
        self.v += work
        step = self.learning_rate * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        np.sqrt(self.v, out=work)
        work += self.epsilon
        np.divide(self.m, work, out=work)
        work *= step
        self.params -= work
