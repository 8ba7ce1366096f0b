"""One training step on a batch: loss and gradient, L2 penalty, clipping, update.

The step policy is written here once, for every backend: the network's
backend (:mod:`seqforecast.backends`) carries out each part on its arrays,
and takes the decisions that depend on values (clip or not, update or not)
where the values are, so that on the GPU a step copies back one record.
"""
from typing import NamedTuple

import numpy as np

from .clipping import check_threshold
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
    step_norms : list of ndarray of shape (T,), or None
        Per layer, ``||dL/dh_t||`` at each time step (before hidden
        clipping), where the backend keeps its arrays on the host (the CPU;
        arrays of the trainer's workspace, valid until the next step); None
        elsewhere (they are summed where they are, see
        :meth:`Trainer.pop_step_norms`).
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
        On any backend (see :meth:`~seqforecast.network.Network.on`).
    optimizer : SGD, Adam or RMSprop
        See :mod:`seqforecast.training.optimizers`.  Its rule,
        hyperparameters and step count are used; its state is used in place
        on the CPU, copied to another backend here and back by :meth:`sync`.
    loss : Loss, default=squared_error
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
    tbptt_steps : int, optional
        Truncated BPTT window; None for full BPTT.
    dropout : float, default=0.0
        Dropout between recurrent layers.

    Attributes
    ----------
    workspace
        The backend's arrays of a step, reused by the next one: a step on a
        batch of the previous one's shape allocates no array of its own.
    """

    def __init__(self, network, optimizer, loss=squared_error, alpha=0.0, clip_value=None,
                 clip_norm=None, clip_global_norm=None, clip_hidden_norm=None, tbptt_steps=None,
                 dropout=0.0):
        for name, bound in (("clip_value", clip_value), ("clip_norm", clip_norm),
                            ("clip_global_norm", clip_global_norm)):
            if bound is not None:
                check_threshold(name, bound)
        self.network, self.optimizer, self.loss, self.alpha = network, optimizer, loss, alpha
        self.clip_value, self.clip_norm = clip_value, clip_norm
        self.clip_global_norm, self.clip_hidden_norm = clip_global_norm, clip_hidden_norm
        self.tbptt_steps, self.dropout = tbptt_steps, dropout
        backend = self.backend = network.backend
        self.state = [backend.to_device(s) for s in optimizer.state]
        self.workspace = backend.workspace()
        self._record = backend.record()
        self._norm_sum, self._n_steps = None, 0

    def step(self, x, y, seed=None):
        """Loss, gradient and one update on the batch ``x`` (T, B, I), ``y`` (B, n_outputs).

        ``x`` and ``y`` are arrays of the network's backend; ``seed`` seeds
        the dropout masks.  Returns a :class:`StepResult`.

        The policy: the loss and its gradient; the L2 penalty; the gradient's
        norm, and no update when it or the loss is not finite; clipping by
        value, then per tensor, then globally; no update when an entry is too
        large to square in the dtype; the optimizer's update, and whether it
        made a parameter NaN or infinite.
        """
        net, backend, record = self.network, self.backend, self._record
        grad, optimizer = net.grad, self.optimizer
        clipping = any(bound is not None
                       for bound in (self.clip_value, self.clip_norm, self.clip_global_norm))
        if self._norm_sum is None:  # never a workspace's array: it outlives the step
            self._norm_sum = backend.to_device(np.zeros((len(net.layers), x.shape[0])))
        with self.workspace:
            step_norms = net.gradient_into(record, x, y, self.loss, self.tbptt_steps,
                                           self.clip_hidden_norm, self.dropout, seed)
            backend.add_step_norms(self._norm_sum, step_norms)
            self._n_steps += 1
            if self.alpha:
                backend.add_l2(net, self.alpha / x.shape[1], record)
            backend.judge(grad, record, check_size=not clipping)
            if self.clip_value is not None:
                backend.clip_value(grad, self.clip_value, record)
            if self.clip_norm is not None:
                for tensor in net.grad_tensors:
                    backend.clip_norm(tensor, self.clip_norm, record)
            if self.clip_global_norm is not None:
                backend.clip_norm(grad, self.clip_global_norm, record)
            if clipping:
                backend.check_size(grad, record)
            backend.update(optimizer.rule, net.params, grad, self.state,
                           optimizer.hyper(optimizer.t + 1), record)
            loss, norm, clipped, go, bad = backend.read(record)
        if go:
            optimizer.t += 1  # counts the updates made
        return StepResult(loss, norm, clipped, step_norms if backend.on_host else None,
                          go and not bad)

    def pop_step_norms(self):
        """Mean per-layer step norms over the steps since the last call, (n_layers, T); resets."""
        if not self._n_steps:
            return None
        mean = self.backend.to_host(self._norm_sum) / self._n_steps
        self._norm_sum, self._n_steps = None, 0
        return mean

    def sync(self):
        """Copy the optimizer's state from the backend to the optimizer (no-op on the CPU)."""
        for state, host in zip(self.state, self.optimizer.state):
            if host.size:
                self.backend.copy_to_host(state, host)
