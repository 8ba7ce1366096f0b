"""The kernels of a training step's policy on the GPU: L2 penalty, judgement, clipping.

They read and write a step *record*, a float64 device array of five values
(slots :data:`LOSS`, :data:`NORM`, :data:`CLIPPED`, :data:`GO`, :data:`BAD`),
and the statistics of a gradient from
:func:`seqforecast.cuda.reductions.summarize`, so that every decision that
depends on a value (clip or not, update or not) is taken on the device.
:class:`seqforecast.training.trainer.Trainer` says in which order they run.
"""
import math

from numba import cuda

from .launch import jit
from .reductions import MAX_ABS, NON_FINITE, SUM_SQUARES

#: Slots of the step record (``GO`` and ``BAD`` are the update's control, see
#: :func:`seqforecast.cuda.rules.apply_update`).
LOSS, NORM, CLIPPED, GO, BAD = range(5)


@cuda.jit(device=True)
def _too_large(record, info, limit):
    """Whether a squared gradient entry could overflow the dtype."""
    return record[NORM] > limit and info[MAX_ABS] > limit


@jit
def judge(record, info, limit, check_size):
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


@jit
def add_l2(grad, params, mask, scale, record, info):
    """``grad += scale * W`` on the weights; the penalty ``scale/2 ||W||^2`` onto the loss."""
    i = cuda.grid(1)
    if i == 0:
        record[LOSS] += 0.5 * scale * info[SUM_SQUARES]
    if i < grad.size:
        grad[i] += scale * mask[i] * params[i]


@jit
def clip_value(grad, bound, record, info):
    """Clamp every entry to ``[-bound, bound]``; ``CLIPPED`` if ``info`` saw a larger one."""
    i = cuda.grid(1)
    if record[GO] == 0:
        return
    if i == 0 and info[MAX_ABS] > bound:
        record[CLIPPED] = 1.0
    if i < grad.size:
        grad[i] = min(max(grad[i], -bound), bound)


@jit
def clip_norm(grad, max_norm, record, info):
    """Rescale ``grad`` to ``max_norm`` if its norm (from ``info``) is larger."""
    i = cuda.grid(1)
    norm = math.sqrt(info[SUM_SQUARES])
    if record[GO] == 0 or not norm > max_norm:
        return
    if i == 0:
        record[CLIPPED] = 1.0
    if i < grad.size:
        grad[i] *= max_norm / norm


@jit
def check_size(record, info, limit):
    """After clipping: no update if a gradient entry is too large (see :func:`judge`)."""
    if cuda.grid(1) == 0 and _too_large(record, info, limit):
        record[GO] = 0.0


@jit
def add_norms(total, layer, norms):
    """``total[layer] += norms``."""
    t = cuda.grid(1)
    if t < norms.size:
        total[layer, t] += norms[t]
