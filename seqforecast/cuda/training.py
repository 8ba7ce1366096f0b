"""A network and its training step kept on the GPU: what ``device='cuda'`` runs.

:class:`DeviceNetwork` holds a :class:`~seqforecast.network.Network`'s
parameters and gradient on the device; :class:`DeviceTrainer` runs
:class:`~seqforecast.training.trainer.Trainer`'s step there (loss, L2
penalty, clipping, optimizer update, divergence checks) with the same rules
(:mod:`seqforecast.training.losses`, :mod:`seqforecast.training.optimizers`)
and the same order of operations.  Decisions that depend on values (clip or
not, diverged or not) are taken on the device, so a step copies back one
record of five numbers: loss, gradient norm, clipped, whether the update
went, and whether it made a parameter NaN or infinite.
"""
import math

import numpy as np
from numba import cuda

from ..config import CUDA_PREDICT_CHUNK as PREDICT_CHUNK
from ..config import CUDA_THREADS as THREADS
from ..recurrent import unpack
from ..training.trainer import StepResult
from .elementwise import fill
from .products import matmul
from .recurrent import backward, forward
from .reductions import MAX_ABS, NON_FINITE, SUM_SQUARES, column_sums, summarize
from .rules import apply_update, mean_loss
from .workspace import Workspace, empty

# Slots of the step record (GO and BAD are the update's control, see rules.apply_update).
LOSS, NORM, CLIPPED, GO, BAD = range(5)


def to_device(a):
    """A device copy of a numpy array (device arrays are returned as they are)."""
    return cuda.to_device(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a


class DeviceNetwork:
    """A :class:`~seqforecast.network.Network`'s parameters and gradient on the GPU.

    Parameters
    ----------
    network : Network
        Its cell, sizes and parameters (copied to the device).
    options : dict, optional
        Kernel strategy options, see :func:`seqforecast.cuda.layer.forward_steps`.

    Attributes
    ----------
    params, grad : device array of shape (n_params,)
        Laid out as ``network.params``.
    layers : list of dict
        Device views of ``params``, one dict per recurrent layer.
    head_weight, head_bias : device array
    ar_weight : device array of shape (ar_window, n_outputs, input_size) or None
        The autoregressive path (see :class:`~seqforecast.network.Network`).
    weight_mask : device array of shape (n_params,)
        1 for weights and peepholes, 0 for biases (what the L2 penalty applies to).
    workspace : Workspace
        The device arrays of :meth:`forward`; :meth:`predict` lets go of
        them when it returns.
    """

    def __init__(self, network, options=None):
        self.cell, self.n_outputs = network.cell, network.n_outputs
        self.options = options or {}
        self.params = cuda.to_device(network.params)
        self.grad = cuda.device_array_like(network.params)
        *self.layers, head = unpack(self.params, network.shapes)
        self.head_weight, self.head_bias = head["weight"], head["bias"]
        self.ar_weight = head.get("ar_weight")
        *self.grad_layers, self.grad_head = unpack(self.grad, network.shapes)
        self.grad_tensors = [a for layer in self.grad_layers + [self.grad_head]
                             for a in layer.values()]
        self.weight_mask = cuda.to_device(np.concatenate(
            [np.full(t.size, w, network.params.dtype)
             for t, w in zip(network.param_tensors, network.is_weight)]))
        self.workspace = Workspace()

    def snapshot(self):
        """A host copy of the parameters."""
        return self.params.copy_to_host()

    def restore(self, params):
        """Set the parameters from a host array of shape (n_params,)."""
        self.params.copy_to_device(np.ascontiguousarray(params))

    def _outputs(self, x, **kwargs):
        fwd = forward(self.cell, self.layers, x, **kwargs, **self.options)
        last = fwd.output[x.shape[0] - 1]
        pred = empty((x.shape[1], self.n_outputs), x.dtype)
        matmul(last, self.head_weight, pred, bias=self.head_bias, trans_b=True)
        if self.ar_weight is not None:  # summed over the AR steps, one launch
            matmul(self._ar_inputs(x), self.ar_weight, pred, accumulate=True, trans_b=True)
        return fwd, last, pred

    def _ar_inputs(self, x):
        """The last ``ar_window`` steps of ``x``, (ar_window, B, input_size)."""
        return x[x.shape[0] - self.ar_weight.shape[0]:]

    def predict(self, x):
        """Outputs of the head, as a numpy array of shape (B, n_outputs).

        ``x`` (T, B, input_size) is a numpy or device array; a numpy one is
        copied to the device in chunks of :data:`PREDICT_CHUNK` samples.
        """
        try:
            if not isinstance(x, np.ndarray):
                return self.forward(x).copy_to_host()
            out = np.empty((x.shape[1], self.n_outputs), x.dtype)
            for start in range(0, x.shape[1], PREDICT_CHUNK):
                chunk = np.ascontiguousarray(x[:, start:start + PREDICT_CHUNK])
                with self.workspace:
                    on_device = empty(chunk.shape, chunk.dtype)
                    on_device.copy_to_device(chunk)
                    pred = self._outputs(on_device)[2]
                    out[start:start + PREDICT_CHUNK] = pred.copy_to_host()
            return out
        finally:
            self.workspace.clear()  # a forward cache is large: keep none between calls

    def forward(self, x):
        """Outputs of the head for a device batch ``x`` (T, B, input_size).

        Returns
        -------
        device array of shape (B, n_outputs)
            From :attr:`workspace`: valid until the next call, which
            allocates nothing when ``x`` has the same shape.
        """
        with self.workspace:
            return self._outputs(x)[2]

    def loss_gradient(self, x, y, loss, record, tbptt=None, hidden_clip=None, dropout=0.0,
                      seed=None):
        """Loss of a batch into ``record[LOSS]`` and its gradient into ``grad``.

        Parameters
        ----------
        x : device array of shape (T, B, input_size)
        y : device array of shape (B, n_outputs)
        loss : Loss
            See :mod:`seqforecast.training.losses`.
        record : float64 device array
        tbptt, hidden_clip, dropout, seed
            As in :meth:`seqforecast.network.Network.loss_gradient`.

        Returns
        -------
        list of device array of shape (T,)
            Per layer, ``||dL/dh_t||`` at each step.
        """
        fwd, last, pred = self._outputs(x, dropout=dropout, seed=seed)
        d_pred = empty(pred.shape, pred.dtype)
        mean_loss(loss.rule, pred, y, x.dtype.type(loss.delta), d_pred, record[LOSS:])
        matmul(d_pred, last, self.grad_head["weight"], trans_a=True)
        column_sums(d_pred, self.grad_head["bias"])
        if self.ar_weight is not None:
            matmul(d_pred, self._ar_inputs(x), self.grad_head["ar_weight"], trans_a=True)
        d_output = empty(fwd.output.shape, x.dtype)
        fill(d_output, 0)
        matmul(d_pred, self.head_weight, d_output[x.shape[0] - 1])
        return backward(fwd.cache, d_output, tbptt=tbptt, hidden_clip=hidden_clip,
                        grads=self.grad_layers).step_norms


@cuda.jit(device=True)
def _too_large(record, info, limit):
    """Whether a squared gradient entry could overflow the dtype (see Trainer.step)."""
    return record[NORM] > limit and info[MAX_ABS] > limit


@cuda.jit
def _judge(record, info, limit, check_size):
    """The gradient norm, and whether the update may go (``GO``); resets ``CLIPPED``, ``BAD``.

    The update may go when loss and gradient are finite and, with
    ``check_size`` (no clipping pass follows), no entry is too large.
    """
    if cuda.grid(1) == 0:
        norm = math.sqrt(info[SUM_SQUARES]) if info[NON_FINITE] == 0 else math.nan
        record[NORM] = norm
        go = math.isfinite(record[LOSS]) and math.isfinite(norm)
        if check_size and _too_large(record, info, limit):
            go = False
        record[GO] = 1.0 if go else 0.0
        record[CLIPPED], record[BAD] = 0.0, 0.0


@cuda.jit
def _add_l2(grad, params, mask, scale, record, info):
    """``grad += scale * W`` on the weights; the penalty ``scale/2 ||W||^2`` onto the loss."""
    i = cuda.grid(1)
    if i == 0:
        record[LOSS] += 0.5 * scale * info[SUM_SQUARES]
    if i < grad.size:
        grad[i] += scale * mask[i] * params[i]


@cuda.jit
def _clip_value(grad, bound, record, info):
    i = cuda.grid(1)
    if record[GO] == 0:
        return
    if i == 0 and info[MAX_ABS] > bound:
        record[CLIPPED] = 1.0
    if i < grad.size:
        grad[i] = min(max(grad[i], -bound), bound)


@cuda.jit
def _clip_norm(grad, max_norm, record, info):
    """Rescale ``grad`` to ``max_norm`` if its norm (from ``info``) is larger."""
    i = cuda.grid(1)
    norm = math.sqrt(info[SUM_SQUARES])
    if record[GO] == 0 or not norm > max_norm:
        return
    if i == 0:
        record[CLIPPED] = 1.0
    if i < grad.size:
        grad[i] *= max_norm / norm


@cuda.jit
def _check_size(record, info, limit):
    """After clipping: no update if a gradient entry is too large (see :func:`_judge`)."""
    if cuda.grid(1) == 0 and _too_large(record, info, limit):
        record[GO] = 0.0


@cuda.jit
def _add_norms(total, layer, norms):
    t = cuda.grid(1)
    if t < norms.size:
        total[layer, t] += norms[t]


class DeviceTrainer:
    """:class:`~seqforecast.training.trainer.Trainer`'s step, on the GPU.

    Parameters
    ----------
    network : DeviceNetwork
    optimizer : SGD, Adam or RMSprop
        Its rule, hyperparameters and step count are used; its state is
        copied to the device here and back by :meth:`sync`.
    loss : Loss
    alpha, clip_value, clip_norm, clip_global_norm, clip_hidden_norm, tbptt, dropout
        As for :class:`~seqforecast.training.trainer.Trainer`.

    Attributes
    ----------
    workspace : Workspace
        The device arrays of a step, reused by the next one: a step on a
        batch of the previous one's shape allocates nothing.
    """

    def __init__(self, network, optimizer, loss, alpha=0.0, clip_value=None, clip_norm=None,
                 clip_global_norm=None, clip_hidden_norm=None, tbptt=None, dropout=0.0):
        self.network, self.optimizer, self.loss, self.alpha = network, optimizer, loss, alpha
        self.clip_value, self.clip_norm = clip_value, clip_norm
        self.clip_global_norm, self.clip_hidden_norm = clip_global_norm, clip_hidden_norm
        self.tbptt, self.dropout = tbptt, dropout
        self.state = [cuda.to_device(s) for s in optimizer.state]
        self._record = cuda.device_array(5, np.float64)
        self._info = cuda.device_array(3, np.float64)
        self._norm_sum, self._n_steps = None, 0
        self.workspace = Workspace()

    def step(self, x, y, seed=None):
        """Loss, gradient and one update on the device batch ``x`` (T, B, I), ``y`` (B, n_outputs).

        Returns a :class:`~seqforecast.training.trainer.StepResult` whose
        ``step_norms`` is None: they are summed on the device, see
        :meth:`pop_step_norms`.
        """
        net, record, info = self.network, self._record, self._info
        grad = net.grad
        threads = THREADS
        blocks = max(1, -(-grad.size // threads))
        limit = np.sqrt(np.finfo(grad.dtype).max)
        clipping = any(bound is not None
                       for bound in (self.clip_value, self.clip_norm, self.clip_global_norm))
        with self.workspace:
            step_norms = net.loss_gradient(x, y, self.loss, record, self.tbptt,
                                           self.clip_hidden_norm, self.dropout, seed)
            self._add_step_norms(step_norms)
            if self.alpha:
                summarize(net.params, info, mask=net.weight_mask)
                _add_l2[blocks, threads](grad, net.params, net.weight_mask,
                                         self.alpha / x.shape[1], record, info)
            summarize(grad, info)
            _judge[1, 1](record, info, limit, not clipping)
            # ``info`` describes the gradient as it is until a clipping pass changes it.
            if self.clip_value is not None:
                _clip_value[blocks, threads](grad, grad.dtype.type(self.clip_value), record,
                                             info)
            if self.clip_norm is not None:
                for tensor in net.grad_tensors:
                    flat = tensor.reshape(tensor.size)
                    summarize(flat, info)
                    _clip_norm[max(1, -(-flat.size // threads)), threads](
                        flat, self.clip_norm, record, info)
            if self.clip_global_norm is not None:
                if self.clip_value is not None or self.clip_norm is not None:
                    summarize(grad, info)
                _clip_norm[blocks, threads](grad, self.clip_global_norm, record, info)
            if clipping:
                summarize(grad, info)
                _check_size[1, 1](record, info, limit)
            self.optimizer.t += 1
            apply_update(self.optimizer.rule, net.params, grad, *self.state,
                         self.optimizer.hyper(), record[GO:])
            loss, norm, clipped, go, bad = record.copy_to_host()
        return StepResult(loss, norm, bool(clipped), None, bool(go) and not bad)

    def _add_step_norms(self, step_norms):
        if self._norm_sum is None:
            self._norm_sum = cuda.device_array((len(step_norms), step_norms[0].size), np.float64)
            fill(self._norm_sum, 0)
        for layer, norms in enumerate(step_norms):
            _add_norms[max(1, -(-norms.size // THREADS)), THREADS](self._norm_sum, layer, norms)
        self._n_steps += 1

    def pop_step_norms(self):
        """Mean per-layer step norms over the steps since the last call, (n_layers, T); resets."""
        if not self._n_steps:
            return None
        mean = self._norm_sum.copy_to_host() / self._n_steps
        fill(self._norm_sum, 0)
        self._n_steps = 0
        return mean

    def sync(self, network):
        """Copy the parameters to ``network`` and the optimizer state to the optimizer."""
        self.network.params.copy_to_host(network.params)
        for device, host in zip(self.state, self.optimizer.state):
            if host.size:
                device.copy_to_host(host)
