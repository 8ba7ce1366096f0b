"""Stacks of recurrent layers on the GPU: forward pass and backpropagation through time.

The counterpart of :mod:`seqforecast.recurrent`, with the same conventions,
arguments and results, on numba device arrays: ``x`` (T, B, I), layers as
dicts of device arrays with PyTorch's names and layouts.  The stack is run
by the same code as on the CPU (:func:`seqforecast.recurrent.forward_layers`
and ``backward_layers``) with the :data:`CUDA` target.  Arguments are not
validated here (the estimators and :mod:`seqforecast.recurrent` do that);
results are device arrays, some of them views into the cache.  Arrays are
made by :func:`seqforecast.cuda.workspace.empty`: inside a
:class:`~seqforecast.cuda.workspace.Workspace` they are reused by its next run
of the same shapes.

``options`` (``persistent``, ``samples_per_block``, ``shared_weights``) pick
the kernel strategy, see :func:`seqforecast.cuda.layer.forward_steps`.
"""
import functools

from numba import cuda

from ..recurrent import ForwardResult, Target, _check_positive, backward_layers, forward_layers
from . import layer
from .elementwise import dropout_mask, fill, multiply
from .workspace import empty


def _initial(out, states, index):
    """``out`` = ``states[index]`` (a device array), or zeros."""
    if states is None:
        fill(out, 0)
    else:
        out.copy_to_device(states[index])


@functools.lru_cache(maxsize=None)
def _zeros(shape, dtype):
    """A device array of zeros, made once per shape and dtype (never from a workspace)."""
    out = cuda.device_array(shape, dtype)
    fill(out, 0)
    return out


CUDA = Target(layer, empty, _initial, multiply, _zeros)


def forward(cell, layers, x, h0=None, c0=None, dropout=0.0, seed=None, masks=None, **options):
    """Run a stack of recurrent layers over a batch of sequences on the GPU.

    Parameters are those of :func:`seqforecast.recurrent.forward` as device
    arrays.  With ``dropout`` the masks are drawn on the device from
    ``seed`` (a different generator than the CPU's: equal seeds give equal
    masks on one target only).

    Returns
    -------
    ForwardResult
        With device arrays, views into the cache.
    """
    T, B, _ = x.shape
    if masks is None and dropout > 0:
        masks = [dropout_mask((T, B, lay["weight_hh"].shape[1]), x.dtype, dropout, seed, index)
                 for index, lay in enumerate(layers[:-1])]
    return ForwardResult(*forward_layers(CUDA, cell, layers, x, h0, c0, masks, options))


def backward(cache, d_output, d_hn=None, d_cn=None, tbptt=None, hidden_clip=None, grads=None):
    """Backpropagation through time (full or truncated) through the whole stack on the GPU.

    Parameters are those of :func:`seqforecast.recurrent.backward` as device
    arrays; ``grads`` (one dict of device arrays per layer) receives the
    parameter gradients; from :func:`~seqforecast.cuda.workspace.empty` when omitted.

    Returns
    -------
    BackwardResult
        With device arrays; ``step_norms`` are float64 arrays of shape (T,).
    """
    return backward_layers(cache, d_output, d_hn, d_cn, _check_positive("tbptt", tbptt, int),
                           _check_positive("hidden_clip", hidden_clip, float), grads)
