"""A recurrent network for regression: a stack of recurrent layers and a linear head.

All parameters live in one flat vector (``params``) and all gradients in
another (``grad``), with per-tensor views into both, so optimizers and
global-norm clipping work on one array.
"""
import numpy as np

from .recurrent import backward, forward, init_parameters, parameter_shapes, unpack
from .training.losses import squared_error


class Network:
    """Recurrent layers whose last hidden state feeds a linear layer.

    Parameters
    ----------
    cell : Cell
    input_size : int
        Features per time step.
    hidden_sizes : tuple of int
        Hidden size of each recurrent layer.
    n_outputs : int
        Outputs of the linear head.
    random_state : numpy.random.RandomState
        Source of the initial weights.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        All parameters: the layers in order, then the head.
    layers : list of dict
        Views of ``params``, one dict per recurrent layer.
    head_weight : ndarray of shape (n_outputs, hidden_sizes[-1])
    head_bias : ndarray of shape (n_outputs,)
    grad : ndarray of shape (n_params,)
        Gradient filled by :meth:`loss_gradient`, laid out like ``params``.
    """

    def __init__(self, cell, input_size, hidden_sizes, n_outputs, random_state,
                 dtype=np.float32):
        self.cell = cell
        self.hidden_sizes = tuple(hidden_sizes)
        layer_params, layers = init_parameters(cell, input_size, hidden_sizes,
                                               random_state, dtype)
        top = self.hidden_sizes[-1]
        bound = 1.0 / np.sqrt(top)
        head = random_state.uniform(-bound, bound, n_outputs * (top + 1)).astype(dtype)
        self.params = np.concatenate([layer_params, head])
        self._shapes = parameter_shapes(cell, input_size, hidden_sizes) + [
            {"weight": (n_outputs, top), "bias": (n_outputs,)}]
        *self.layers, head_views = unpack(self.params, self._shapes)
        self.head_weight, self.head_bias = head_views["weight"], head_views["bias"]
        self.grad = np.zeros_like(self.params)
        *self._grad_layers, grad_head = unpack(self.grad, self._shapes)
        self._grad_head_weight, self._grad_head_bias = grad_head["weight"], grad_head["bias"]

    def predict(self, x):
        """Outputs of the head for a batch of sequences.

        Parameters
        ----------
        x : ndarray of shape (T, B, input_size)

        Returns
        -------
        ndarray of shape (B, n_outputs)
        """
        last = forward(self.cell, self.layers, x).output[-1]
        return last @ self.head_weight.T + self.head_bias

    def loss_gradient(self, x, y, tbptt=None, hidden_clip=None, dropout=0.0, seed=None):
        """Mean squared error of a batch and its gradient, written into ``grad``.

        Parameters
        ----------
        x : ndarray of shape (T, B, input_size)
        y : ndarray of shape (B, n_outputs)
        tbptt, hidden_clip, dropout, seed
            See :func:`seqforecast.recurrent.forward` and ``backward``.

        Returns
        -------
        loss : float
        step_norms : list of ndarray of shape (T,)
            Per layer, ``||dL/dh_t||`` at each step.
        """
        fwd = forward(self.cell, self.layers, x, dropout=dropout, seed=seed)
        expected = (x.shape[1], self.head_bias.shape[0])
        if not isinstance(y, np.ndarray) or y.shape != expected:
            raise ValueError(f"y must be an array of shape {expected}, got "
                             f"{getattr(y, 'shape', type(y).__name__)}")
        if y.dtype != self.params.dtype:
            raise TypeError(f"y has dtype {y.dtype} but the network is {self.params.dtype}")
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite values")
        last = fwd.output[-1]
        loss, d_pred = squared_error(last @ self.head_weight.T + self.head_bias, y)
        np.dot(d_pred.T, last, out=self._grad_head_weight)
        np.sum(d_pred, axis=0, out=self._grad_head_bias)
        d_output = np.zeros_like(fwd.output)
        np.dot(d_pred, self.head_weight, out=d_output[-1])
        bwd = backward(fwd.cache, d_output, tbptt=tbptt, hidden_clip=hidden_clip,
                       grads=self._grad_layers)
        return loss, bwd.step_norms
