"""Stacks of recurrent layers on the GPU: forward pass and backpropagation through time.

The counterpart of :mod:`seqforecast.recurrent`, with the same conventions,
arguments and results, on numba device arrays: ``x`` (T, B, I), layers as
dicts of device arrays with PyTorch's names and layouts.  Arguments are not
validated here (the estimators and :mod:`seqforecast.recurrent` do that);
results are device arrays, some of them views into the cache.

``options`` (``persistent``, ``samples_per_block``, ``shared_weights``) pick
the kernel strategy, see :func:`seqforecast.cuda.layer.forward_steps`.
"""
import numpy as np
from numba import cuda

from ..recurrent import BackwardResult, ForwardResult, _KINDS, _check_positive
from . import layer
from .arrays import dropout_mask, fill, multiply, row_norms


def forward(cell, layers, x, h0=None, c0=None, dropout=0.0, seed=None, masks=None, **options):
    """Run a stack of recurrent layers over a batch of sequences on the GPU.

    Parameters are those of :func:`seqforecast.recurrent.forward` as device
    arrays.  With ``dropout`` the masks are drawn on the device from
    ``seed`` (a different generator than the CPU's: equal seeds give equal
    masks on one target only).

    Returns
    -------
    ForwardResult
        With device arrays; ``output`` is a view of the top layer's states.
    """
    T, B, _ = x.shape
    dtype = x.dtype
    sizes = [lay["weight_hh"].shape[1] for lay in layers]
    if masks is None and dropout > 0:
        masks = [dropout_mask((T, B, size), dtype, dropout, seed, index)
                 for index, size in enumerate(sizes[:-1])]
    kind = _KINDS[cell.kind]
    cache = {"cell": cell, "layers": layers, "inputs": [], "states": [], "masks": masks,
             "options": options}
    inp = x
    h_n, c_n = [], [] if cell.has_cell_state else None
    for index, (lay, size) in enumerate(zip(layers, sizes)):
        h = cuda.device_array((T + 1, B, size), dtype)
        _initial(h[0], h0, index)
        c = cuda.device_array((T + 1, B, size) if cell.has_cell_state else (0, 0, 0), dtype)
        if cell.has_cell_state:
            _initial(c[0], c0, index)
        gates = cuda.device_array((cell.n_gates, T, B, size), dtype)
        aux = cuda.device_array((T, B, size) if cell.kind != "rnn" else (0, 0, 0), dtype)
        layer.project_inputs(kind, inp, lay["weight_ih"], lay["bias_ih"], lay["bias_hh"], gates)
        layer.forward_steps(kind, lay["weight_hh"], lay["bias_hh"], _peephole(lay, size, dtype),
                            cell.coupled, cell.activation == "relu", h, c, gates, aux,
                            cuda.device_array((cell.n_gates, B, size), dtype), **options)
        cache["inputs"].append(inp)
        cache["states"].append((h, c, gates, aux))
        h_n.append(h[T])
        if cell.has_cell_state:
            c_n.append(c[T])
        inp = h[1:]
        if masks is not None and index < len(layers) - 1:
            inp = multiply(inp, masks[index])
    return ForwardResult(inp, h_n, c_n, cache)


def backward(cache, d_output, d_hn=None, d_cn=None, tbptt=None, hidden_clip=None, grads=None):
    """Backpropagation through time (full or truncated) through the whole stack on the GPU.

    Parameters are those of :func:`seqforecast.recurrent.backward` as device
    arrays; ``grads`` (one dict of device arrays per layer) receives the
    parameter gradients, new arrays when omitted.

    Returns
    -------
    BackwardResult
        With device arrays; ``step_norms`` are float64 arrays of shape (T,).
    """
    cell, layers, options = cache["cell"], cache["layers"], cache["options"]
    h_top = cache["states"][-1][0]
    T, B = h_top.shape[0] - 1, h_top.shape[1]
    dtype = h_top.dtype
    tbptt = _check_positive("tbptt", tbptt, int)
    hidden_clip = _check_positive("hidden_clip", hidden_clip, float)
    kind = _KINDS[cell.kind]
    n = len(layers)
    if grads is None:
        grads = [{name: cuda.device_array(value.shape, dtype) for name, value in lay.items()}
                 for lay in layers]
    dh0, step_norms = [None] * n, [None] * n
    dc0 = [None] * n if cell.has_cell_state else None
    d_h = d_output
    for index in range(n - 1, -1, -1):
        lay = layers[index]
        size = lay["weight_hh"].shape[1]
        inp = cache["inputs"][index]
        h, c, gates, aux = cache["states"][index]
        grad = grads[index]
        dh = cuda.device_array((B, size), dtype)
        dc = cuda.device_array((B, size), dtype)
        _initial(dh, d_hn, index)
        _initial(dc, d_cn, index)
        dgates = cuda.device_array(gates.shape, dtype)
        dm_n = cuda.device_array(aux.shape, dtype)
        dx = cuda.device_array(inp.shape, dtype)
        row_sq = cuda.device_array((T, B), np.float64)
        layer.backward_steps(kind, lay["weight_hh"], _peephole(lay, size, dtype), cell.coupled,
                             cell.activation == "relu", h, c, gates, aux, d_h, dh, dc, tbptt,
                             hidden_clip, dgates, dm_n, row_sq, **options)
        layer.weight_gradients(kind, inp, lay["weight_ih"], h, c, dgates, dm_n, dx,
                               grad["weight_ih"], grad["weight_hh"], grad["bias_ih"],
                               grad["bias_hh"],
                               grad.get("peephole", cuda.device_array((3, size), dtype)))
        norms = cuda.device_array(T, np.float64)
        row_norms(row_sq, norms)
        dh0[index], step_norms[index] = dh, norms
        if dc0 is not None:
            dc0[index] = dc
        masks = cache["masks"]
        d_h = dx if masks is None or index == 0 else multiply(dx, masks[index - 1])
    return BackwardResult(grads, d_h, dh0, dc0, step_norms)


def _initial(out, states, index):
    """``out`` = ``states[index]`` (a device array), or zeros."""
    if states is None:
        fill(out, 0)
    else:
        out.copy_to_device(states[index])


def _peephole(lay, size, dtype):
    peephole = lay.get("peephole")
    if peephole is None:
        peephole = cuda.device_array((3, size), dtype)
        fill(peephole, 0)
    return peephole
