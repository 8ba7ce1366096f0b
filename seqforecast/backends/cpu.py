"""The CPU backend: numpy arrays and the Numba kernels of :mod:`seqforecast.cpu`.

Arrays are numpy arrays, so moving data "to the device" is at most a
contiguous copy, and a step's values are plain Python numbers in a
:class:`StepRecord`.  Inside a workspace (a training step, a chunk of
``predict``, the batches of an epoch) the arrays of the previous run of the
same shapes are reused: fresh memory costs a page fault per page on first
touch.  The computations are those of the CPU before the backends existed,
in the same order: results are bit-identical.
"""
import functools
import os
from dataclasses import dataclass

import numpy as np

from types import SimpleNamespace

from ..config import PREDICT_CHUNK
from ..cpu import layer
from ..cpu.elementwise import apply_update, mean_loss
from ..cpu.products import linear, matmul, matmul_tn
from ..threads import run_blocks
from ..training.clipping import clip_by_global_norm, clip_by_value, global_norm
from ..workspace import Allocator

#: The host's allocator: numpy arrays, reused inside a workspace.
HOST = Allocator(np.empty)


def _forward_steps(cell, x, params, states, hh, zero_state):
    """:func:`seqforecast.cpu.layer.forward_steps` over all samples, in blocks of samples
    on several threads (:func:`seqforecast.threads.run_blocks`)."""
    G, _, B, H = states.gates.shape
    run_blocks(layer.forward_steps, layer.forward_blocks,
               (cell, x, params, states, hh, zero_state), B, G * H * (H + x.shape[2]))


def _backward_steps(cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates,
                    step_norms, zero_state):
    """:func:`seqforecast.cpu.layer.backward_steps` over all samples, in blocks of samples
    on several threads; ``step_norms`` (T,) receives ``||dL/dh_t||`` over the batch."""
    G, T, B, H = states.gates.shape
    row_sq = HOST.empty((T, B), np.float64)
    run_blocks(layer.backward_steps, layer.backward_blocks,
               (cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates, row_sq,
                zero_state), B, G * H * H)
    layer.step_norms(row_sq, step_norms)


def _weight_gradients(cell, x, params, states, d_gates, dx, grads):
    """:func:`seqforecast.cpu.layer.weight_gradients` over all gates, in blocks of gate rows
    on several threads, then :func:`seqforecast.cpu.layer.input_gradients` (unless ``dx`` is
    empty) in blocks of samples."""
    G, _, B, H = states.gates.shape
    I = x.shape[2]
    run_blocks(layer.weight_gradients, layer.weight_gradient_blocks,
               (cell, x, states, d_gates, grads), G * H, B * (H + I))
    if dx.size:
        run_blocks(layer.input_gradients, layer.input_gradient_blocks, (params, d_gates, dx),
                   B, G * H * I)


def _lag_rows(x_ar):
    """The autoregressive path's inputs a sample to a row, (B, steps * features), from ``x_ar``
    (steps, B, features) time-major: a scratch array of the active workspace (3-D, so that no
    2-D scratch array of the head shares it)."""
    steps, batch, features = x_ar.shape
    rows = HOST.scratch((batch, steps, features), x_ar.dtype)
    rows[...] = x_ar.transpose(1, 0, 2)
    return rows.reshape(batch, -1)


#: The layer kernels as the stack driver calls them (the interface of
#: :mod:`seqforecast.cuda.layer`): the recurrences over a whole batch.
LAYER = SimpleNamespace(forward_steps=_forward_steps, backward_steps=_backward_steps,
                        weight_gradients=_weight_gradients)


@dataclass
class StepRecord:
    """The values of one training step, see :class:`seqforecast.backends.Backend`."""

    loss: float = 0.0
    norm: float = 0.0
    clipped: bool = False
    go: bool = False
    bad: bool = False


class CPUBackend:
    """The :class:`~seqforecast.backends.Backend` of the CPU (see there for every method)."""

    name = "cpu"
    on_host = True
    layer = LAYER

    # -- arrays -------------------------------------------------------------------------

    empty = staticmethod(HOST.empty)

    @staticmethod
    @functools.lru_cache(maxsize=None)
    def shared_zeros(shape, dtype):
        return np.zeros(shape, dtype)  # writeable: Numba compiles read-only arrays apart

    @staticmethod
    def zeros(shape, dtype):
        out = HOST.empty(shape, dtype)
        out[...] = 0
        return out

    @staticmethod
    def multiply(a, b):
        return np.multiply(a, b, out=HOST.empty(a.shape, a.dtype))

    @staticmethod
    def initial(out, states, index):
        out[...] = 0 if states is None else states[index]

    @staticmethod
    def to_device(a):
        return np.ascontiguousarray(a)

    @staticmethod
    def to_host(a):
        return a.copy()

    @staticmethod
    def copy_to_host(a, out):
        if a is not out:
            out[...] = a

    copy_from_host = copy_to_host

    workspace = staticmethod(HOST.workspace)

    @staticmethod
    def dropout_masks(shape, sizes, dtype, p, seed):
        rng = np.random.default_rng(seed)
        return [(rng.random((*shape, size)) >= p).astype(dtype) / dtype.type(1 - p)
                for size in sizes]

    @staticmethod
    def batches(x, y, order):
        workspace = HOST.workspace()

        def take(batch):  # a batch overwrites the arrays of the last one of its shape
            index = order[batch]
            with workspace:
                xb = HOST.empty((x.shape[0], index.size, x.shape[2]), x.dtype)
                yb = HOST.empty((index.size, y.shape[1]), y.dtype)
            return (np.take(x, index, axis=1, out=xb, mode="clip"),
                    np.take(y, index, axis=0, out=yb, mode="clip"))

        return take

    @staticmethod
    def predict_rows(bytes_per_sequence):
        return max(1, PREDICT_CHUNK // bytes_per_sequence)

    @staticmethod
    def check_hidden(size):
        """Any hidden size runs on the CPU."""

    @staticmethod
    def memory():
        return _physical_memory()

    # -- the head -----------------------------------------------------------------------

    @staticmethod
    def outputs(last, x_ar, weight, bias, ar_weight, out):
        linear(last, weight, bias, out)
        if ar_weight is not None:  # one product over the window's steps and features
            steps, _, features = x_ar.shape
            weights = np.ascontiguousarray(ar_weight.transpose(0, 2, 1)).reshape(
                steps * features, -1)
            matmul(_lag_rows(x_ar), weights, out, True)

    @staticmethod
    def output_gradients(d_pred, last, x_ar, weight, grad, d_last):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is judged by the step
            np.dot(d_pred.T, last, out=grad["weight"])
            np.sum(d_pred, axis=0, out=grad["bias"])
            if x_ar is not None:  # one product over the window's steps and features
                steps, _, features = x_ar.shape
                product = HOST.scratch((d_pred.shape[1], steps * features), d_pred.dtype)
                matmul_tn(d_pred, _lag_rows(x_ar), product)
                grad["ar_weight"][...] = product.reshape(-1, steps, features).transpose(1, 0, 2)
            matmul(d_pred, weight, d_last, False)

    # -- the training step --------------------------------------------------------------

    @staticmethod
    def record():
        return StepRecord()

    @staticmethod
    def read(record):
        return record.loss, record.norm, record.clipped, record.go, record.bad

    @staticmethod
    def loss(loss, pred, y, d_pred, record):
        with np.errstate(over="ignore", invalid="ignore"):
            record.loss = mean_loss(loss.rule, pred, y, np.asarray(loss.constants, pred.dtype),
                                    loss.group, d_pred)

    @staticmethod
    def add_l2(network, scale, record):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is judged below
            for param, grad, is_weight in zip(network.param_tensors, network.grad_tensors,
                                              network.is_weight):
                if is_weight:
                    record.loss += 0.5 * scale * float(np.dot(param.ravel(), param.ravel()))
                    grad += param.dtype.type(scale) * param

    @staticmethod
    def judge(grad, record, check_size):
        record.norm = norm = global_norm([grad])
        record.go = bool(np.isfinite(record.loss) and np.isfinite(norm))
        record.clipped = record.bad = False
        if check_size:
            CPUBackend.check_size(grad, record)

    @staticmethod
    def clip_value(grad, bound, record):
        if record.go:
            record.clipped |= bool(np.abs(grad).max() > bound)
            clip_by_value([grad], bound)

    @staticmethod
    def clip_norm(grad, max_norm, record):
        if record.go:
            record.clipped |= clip_by_global_norm([grad], max_norm) > max_norm

    @staticmethod
    def check_size(grad, record):
        limit = np.sqrt(np.finfo(grad.dtype).max)  # no entry exceeds the pre-clip norm
        if record.go and record.norm > limit and np.abs(grad).max() > limit:
            record.go = False

    @staticmethod
    def update(rule, params, grad, state, hyper, record):
        if record.go:
            with np.errstate(over="ignore", invalid="ignore"):  # reported through `bad`
                apply_update(rule, params, grad, *state, hyper)
            record.bad = not np.isfinite(params).all()

    @staticmethod
    def add_step_norms(total, step_norms):
        for row, norms in zip(total, step_norms):
            row += norms


def _physical_memory():
    """Bytes of memory of this machine, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows) or no such name
        return None


CPU = CPUBackend()
