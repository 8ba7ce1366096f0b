"""One training step on a batch: loss and gradient, L2 penalty, clipping, update."""
from typing import NamedTuple

import numpy as np

from .clipping import clip_by_global_norm, clip_by_norm, clip_by_value, global_norm
from .losses import squared_error


class StepResult(NamedTuple):
    """What :meth:`Trainer.step` returns.

    Attributes
    ----------
    loss : float
        Loss of the batch, L2 penalty included.
    grad_norm : float
        Global L2 norm of the gradient before any clipping.
    clipped : bool
        Whether ``clip_value``, ``clip_norm`` or ``clip_global_norm`` changed
        the gradient.
    step_norms : list of ndarray of shape (T,)
        Per layer, ``||dL/dh_t||`` at each time step (before hidden clipping).
    finite : bool
        False when training has diverged: the loss or the gradient is NaN
        or infinite, or the gradient is too large to square in the dtype
        (the parameters are then left unchanged), or the update made a
        parameter NaN or infinite (the caller must restore them).
    """

    loss: float
    grad_norm: float
    clipped: bool
    step_norms: list
    finite: bool


class Trainer:
    """Applies one optimizer step per batch to a :class:`~seqforecast.network.Network`.

    Parameters
    ----------
    network : Network
    optimizer : object with ``update(params, grad)``
        See :mod:`seqforecast.training.optimizers`.
    loss : callable, default=squared_error
        See :mod:`seqforecast.training.losses`.
    alpha : float, default=0.0
        L2 penalty on the weights (not the biases): ``alpha / (2 * batch)
        * ||W||**2`` is added to the loss, as in scikit-learn's MLP.
    clip_value : float, optional
        Clamp every gradient entry to ``[-clip_value, clip_value]``.
    clip_norm : float, optional
        Rescale each parameter tensor's gradient to at most this L2 norm.
    clip_global_norm : float, optional
        Rescale the whole gradient to at most this global L2 norm.
    clip_hidden_norm : float, optional
        Inside BPTT, rescale each sample's ``dL/dh_t`` to at most this norm.
    tbptt : int, optional
        Truncated BPTT window; None for full BPTT.
    dropout : float, default=0.0
        Dropout between recurrent layers.
    """

    def __init__(self, network, optimizer, loss=squared_error, alpha=0.0, clip_value=None,
                 clip_norm=None, clip_global_norm=None, clip_hidden_norm=None, tbptt=None,
                 dropout=0.0):
        self.network, self.optimizer, self.loss, self.alpha = network, optimizer, loss, alpha
        self.clip_value, self.clip_norm = clip_value, clip_norm
        self.clip_global_norm, self.clip_hidden_norm = clip_global_norm, clip_hidden_norm
        self.tbptt, self.dropout = tbptt, dropout
        self._norm_sum, self._n_steps = 0.0, 0

    def step(self, x, y, seed=None):
        """Loss, gradient and one update on the batch ``x`` (T, B, I), ``y`` (B, n_outputs).

        ``seed`` seeds the dropout masks.  Returns a :class:`StepResult`.
        """
        net = self.network
        loss, step_norms = net.loss_gradient(x, y, tbptt=self.tbptt,
                                             hidden_clip=self.clip_hidden_norm,
                                             dropout=self.dropout, seed=seed, loss=self.loss)
        self._norm_sum = self._norm_sum + np.array(step_norms)
        self._n_steps += 1
        if self.alpha:
            scale = self.alpha / x.shape[1]
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                for param, grad, is_weight in zip(net.param_tensors, net.grad_tensors,
                                                  net.is_weight):
                    if is_weight:
                        loss += 0.5 * scale * float(np.dot(param.ravel(), param.ravel()))
                        grad += param.dtype.type(scale) * param
        norm = global_norm([net.grad])
        if not (np.isfinite(loss) and np.isfinite(norm)):
            return StepResult(loss, norm, False, step_norms, False)
        clipped = False
        if self.clip_value is not None:
            clipped |= bool(np.abs(net.grad).max() > self.clip_value)
            clip_by_value([net.grad], self.clip_value)
        if self.clip_norm is not None:
            clipped |= bool((clip_by_norm(net.grad_tensors, self.clip_norm) > self.clip_norm).any())
        if self.clip_global_norm is not None:
            clipped |= clip_by_global_norm([net.grad], self.clip_global_norm) > self.clip_global_norm
        # A squared entry must fit the dtype, or Adam's and RMSprop's second moment
        # overflows to inf and freezes the parameter without a NaN anywhere.
        limit = np.sqrt(np.finfo(net.grad.dtype).max)  # no entry exceeds the pre-clip norm
        if norm > limit and np.abs(net.grad).max() > limit:
            return StepResult(loss, norm, clipped, step_norms, False)
        with np.errstate(over="ignore", invalid="ignore"):  # reported through `finite`
            self.optimizer.update(net.params, net.grad)
        return StepResult(loss, norm, clipped, step_norms, bool(np.isfinite(net.params).all()))

    def pop_step_norms(self):
        """Mean per-layer step norms over the steps since the last call, (n_layers, T); resets."""
        if not self._n_steps:
            return None
        mean = self._norm_sum / self._n_steps
        self._norm_sum, self._n_steps = 0.0, 0
        return mean
