"""The training rules on the GPU: optimizer updates and losses applied to whole arrays.

The rules themselves live with their concept (:mod:`seqforecast.training.
optimizers`, :mod:`seqforecast.training.losses`) as scalar functions;
:func:`apply_update` and :func:`mean_loss` compile them for the device and
apply them to every element, as :mod:`seqforecast.cpu.elementwise` does on
the CPU.  The mean loss adds its blocks' parts in a fixed order.
"""
import functools
import math

import numpy as np
from numba import cuda, float64

from ..config import CUDA_THREADS as THREADS
from ..training.rules import bound, read_outputs, write_slopes
from .launch import grid_1d, jit, reduction_blocks
from .workspace import scratch, view

@functools.lru_cache(maxsize=None)
def _update_kernel(rule):
    device_rule = cuda.jit(device=True)(rule)

    @jit
    def kernel(params, grad, state_1, state_2, hyper, control):
        i = cuda.grid(1)
        if i < params.size and control[0] != 0:
            s2 = state_2[i] if state_2.size else params[i] * 0
            params[i], state_1[i], s2 = device_rule(params[i], grad[i], state_1[i], s2, hyper)
            if state_2.size:
                state_2[i] = s2
            if not math.isfinite(params[i]):
                control[1] = 1.0  # every writer writes the same value

    return kernel


def apply_update(rule, params, grad, state_1, state_2, hyper, control):
    """Apply an optimizer's element rule to every parameter, unless ``control[0]`` is zero.

    Parameters
    ----------
    rule : function
        ``rule(p, g, s1, s2, hyper) -> (p, s1, s2)`` on scalars, see
        :mod:`seqforecast.training.optimizers`.
    params, grad, state_1 : device array of shape (n,)
    state_2 : device array of shape (n,) or (0,)
    hyper : tuple of 5 scalars of the parameters' dtype
    control : float64 device array of 2
        ``control[0] == 0`` skips the update (a step found to diverge on the
        device); ``control[1]`` is set to 1 if the update made a parameter
        NaN or infinite (and left as it is otherwise).
    """
    _update_kernel(rule)[grid_1d(params.size), THREADS](
        params, grad, state_1, state_2, hyper, control)


_read_outputs, _write_slopes = (cuda.jit(device=True)(f) for f in (read_outputs, write_slopes))


@functools.lru_cache(maxsize=None)
def _loss_kernel(rule):
    device_rule = cuda.jit(device=True)(bound(rule, cuda.jit(device=True)))

    @jit
    def kernel(y_pred, y_true, constants, group, scale, d_pred, parts):
        """Per block: its sum of the loss into ``parts``; every entry of ``d_pred``."""
        cache = cuda.shared.array(THREADS, float64)
        tid = cuda.threadIdx.x
        total = 0.0
        calls = constants.size
        for i in range(cuda.grid(1), y_true.size * calls, cuda.gridsize(1)):
            r, rest = i // (y_true.shape[1] * calls), i % (y_true.shape[1] * calls)
            k, j = rest // calls, rest % calls
            o = rest * group
            p0, p1, p2 = _read_outputs(y_pred, r, o, group)
            value, d0, d1, d2 = device_rule(p0, p1, p2, y_true[r, k], constants[j])
            _write_slopes(d_pred, r, o, group, d0, d1, d2, scale)
            total += value
        cache[tid] = total
        cuda.syncthreads()
        step = THREADS // 2
        while step > 0:
            if tid < step:
                cache[tid] += cache[tid + step]
            cuda.syncthreads()
            step //= 2
        if tid == 0:  # a single block writes the mean itself
            parts[cuda.blockIdx.x] = cache[0] / (y_true.size * calls if cuda.gridDim.x == 1
                                                 else 1)

    return kernel


@jit
def _mean_finish(parts, size, out):
    if cuda.grid(1) == 0:
        total = 0.0
        for z in range(parts.shape[0]):
            total += parts[z]
        out[0] = total / size


def mean_loss(rule, y_pred, y_true, constants, group, d_pred, out):
    """Mean of a loss rule over all targets and constants, and its gradient, on the device.

    The layout of :func:`seqforecast.cpu.elementwise.mean_loss`.

    Parameters
    ----------
    rule : function
        ``rule(p0, p1, p2, y, a) -> (value, d0, d1, d2)`` on scalars, see
        :mod:`seqforecast.training.rules`.
    y_pred, d_pred : device array of shape (n, k * n_constants * group)
        ``d_pred`` receives ``d loss / d y_pred``.
    y_true : device array of shape (n, k)
    constants : device array of shape (n_constants,), the predictions' dtype
    group : int
        Outputs per constant, 1 to 3.
    out : float64 device array
        ``out[0]`` receives the loss.
    """
    count = y_true.size * constants.size
    blocks = reduction_blocks(count)
    parts = view(out, 0, 1) if blocks == 1 else scratch(blocks, np.float64)
    scale = y_pred.dtype.type(1.0 / count)
    _loss_kernel(rule)[blocks, THREADS](y_pred, y_true, constants, group, scale, d_pred, parts)
    if blocks > 1:
        _mean_finish[1, 1](parts, count, out)
