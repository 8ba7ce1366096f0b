"""The CUDA backend: numba device arrays and the kernels of :mod:`seqforecast.cuda`.

Arrays come from :func:`seqforecast.cuda.workspace.empty`: inside a
:class:`~seqforecast.cuda.workspace.Workspace` a repeated computation (a
training step, a forward pass) reuses the arrays of its previous run.  A
step's values live in a device record (:mod:`seqforecast.cuda.step`), so a
training step copies back five numbers and nothing else.
"""
import functools

import numpy as np
from numba import cuda

from ..config import CUDA_PREDICT_CHUNK, CUDA_THREADS
from ..cuda import layer, step
from ..cuda.elementwise import dropout_mask, fill, gather_rows, gather_samples, multiply
from ..cuda.launch import grid_1d
from ..cuda.products import matmul
from ..cuda.reductions import column_sums, summarize
from ..cuda.rules import apply_update, mean_loss
from ..cuda.workspace import Workspace, empty, view


class Record:
    """A step's values on the device, and the statistics of the last array summarised.

    Attributes
    ----------
    values : float64 device array of 5
        Slots :data:`seqforecast.cuda.step.LOSS` ... ``BAD``.
    info : float64 device array of 3
        :func:`~seqforecast.cuda.reductions.summarize`'s statistics of ``summary_of``.
    summary_of : device array or None
        The array ``info`` describes as it is now (None when unknown).
    """

    def __init__(self):
        self.values = cuda.device_array(5, np.float64)
        self.info = cuda.device_array(3, np.float64)
        self.summary_of = None

    def summarize(self, a):
        """Make ``info`` describe ``a`` (one reduction unless it does already)."""
        if self.summary_of is not a:
            summarize(a, self.info)
            self.summary_of = a


class CUDABackend:
    """The :class:`~seqforecast.backends.Backend` of an NVIDIA GPU (see there for every method)."""

    name = "cuda"
    on_host = False
    layer = layer

    # -- arrays -------------------------------------------------------------------------

    empty = staticmethod(empty)
    multiply = staticmethod(multiply)

    @staticmethod
    def zeros(shape, dtype):
        out = empty(shape, dtype)
        fill(out, 0)
        return out

    @staticmethod
    @functools.lru_cache(maxsize=None)
    def shared_zeros(shape, dtype):
        out = cuda.device_array(shape, dtype)  # never from a workspace
        fill(out, 0)
        return out

    @staticmethod
    def initial(out, states, index):
        if states is None:
            fill(out, 0)
        else:
            out.copy_to_device(states[index])

    @staticmethod
    def to_device(a):
        return cuda.to_device(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a

    @staticmethod
    def to_host(a):
        return a.copy_to_host()

    @staticmethod
    def copy_to_host(a, out):
        a.copy_to_host(out)

    @staticmethod
    def copy_from_host(a, out):
        out.copy_to_device(np.ascontiguousarray(a))

    @staticmethod
    def workspace():
        return Workspace()

    @staticmethod
    def dropout_masks(shape, sizes, dtype, p, seed):
        return [dropout_mask((*shape, size), dtype, p, seed, index)
                for index, size in enumerate(sizes)]

    @staticmethod
    def batches(x, y, order):
        workspace = Workspace()

        def take(batch):  # a batch overwrites the arrays of the last one of its shape
            with workspace:
                return gather_samples(x, order[batch]), gather_rows(y, order[batch])

        return take

    @staticmethod
    def predict_rows(bytes_per_sequence):
        return CUDA_PREDICT_CHUNK

    check_hidden = staticmethod(layer.check_hidden)

    @staticmethod
    def memory():
        return None

    # -- the head -----------------------------------------------------------------------

    @staticmethod
    def outputs(last, x_ar, weight, bias, ar_weight, out):
        matmul(last, weight, out, bias=bias, trans_b=True)
        if ar_weight is not None:  # summed over the AR steps, one launch
            matmul(x_ar, ar_weight, out, accumulate=True, trans_b=True)

    @staticmethod
    def output_gradients(d_pred, last, x_ar, weight, grad, d_last):
        matmul(d_pred, last, grad["weight"], trans_a=True)
        column_sums(d_pred, grad["bias"])
        if x_ar is not None:
            matmul(d_pred, x_ar, grad["ar_weight"], trans_a=True)
        matmul(d_pred, weight, d_last)

    # -- the training step --------------------------------------------------------------

    @staticmethod
    def record():
        return Record()

    @staticmethod
    def read(record):
        loss, norm, clipped, go, bad = record.values.copy_to_host()
        return float(loss), float(norm), bool(clipped), bool(go), bool(bad)

    @staticmethod
    def loss(loss, pred, y, d_pred, record):
        mean_loss(loss.rule, pred, y, _constants(loss.constants, pred.dtype.str), loss.group,
                  d_pred, view(record.values, step.LOSS))

    @staticmethod
    def add_l2(network, scale, record):
        summarize(network.params, record.info, mask=network.weight_mask)
        record.summary_of = None
        step.add_l2[grid_1d(network.grad.size), CUDA_THREADS](
            network.grad, network.params, network.weight_mask, scale, record.values,
            record.info)

    @staticmethod
    def judge(grad, record, check_size):
        record.summary_of = None  # the gradient is new
        record.summarize(grad)
        step.judge[1, 1](record.values, record.info, _limit(grad), check_size)

    @staticmethod
    def clip_value(grad, bound, record):
        record.summarize(grad)
        step.clip_value[grid_1d(grad.size), CUDA_THREADS](
            grad, grad.dtype.type(bound), record.values, record.info)
        record.summary_of = None

    @staticmethod
    def clip_norm(grad, max_norm, record):
        flat = grad if grad.ndim == 1 else grad.reshape(grad.size)
        record.summarize(flat)
        step.clip_norm[grid_1d(flat.size), CUDA_THREADS](flat, max_norm, record.values,
                                                          record.info)
        record.summary_of = None

    @staticmethod
    def check_size(grad, record):
        record.summarize(grad)
        step.check_size[1, 1](record.values, record.info, _limit(grad))

    @staticmethod
    def update(rule, params, grad, state, hyper, record):
        apply_update(rule, params, grad, *state, hyper, view(record.values, step.GO))

    @staticmethod
    def add_step_norms(total, step_norms):
        for index, norms in enumerate(step_norms):
            step.add_norms[grid_1d(norms.size), CUDA_THREADS](total, index, norms)


def _limit(grad):
    """The largest gradient entry whose square the dtype holds."""
    return np.sqrt(np.finfo(grad.dtype).max)


CUDA = CUDABackend()


@functools.lru_cache(maxsize=None)
def _constants(values, dtype):
    """A loss's constants on the device, copied once per loss and dtype."""
    return cuda.to_device(np.asarray(values, dtype))
