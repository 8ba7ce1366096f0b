"""Numba CPU kernels that run one recurrent layer over a whole sequence.

Arrays are C-contiguous and time-major.  Gate values are stored gate-major,
``gates[k, t]`` being the ``(B, H)`` block of gate ``k`` at step ``t``: every
operand of the element-wise loops is a contiguous run that LLVM vectorises
(the activations are call-free, see :mod:`seqforecast.cells.activations`).  For a
layer with ``G`` gates (1 RNN, 4 LSTM, 3 GRU) and hidden size ``H``:

* forward: the input projections of all steps are ``G`` products
  ``(T*B, I) @ (I, H)`` before the time loop; each step adds ``G`` products
  ``(B, H) @ (H, H)`` and one element-wise pass over the cell equations of
  :mod:`seqforecast.cells`, over all ``B*H`` units of the step at once;
* backward: each step runs the cell's backward equations and ``G`` products
  for ``dL/dh_{t-1}``; the weight gradients are products over all steps at
  once, ``(H, T*B) @ (T*B, I or H)``, after the time loop.

Every product that yields a per-sample result (states, gates, ``dL/dh``,
``dL/dx``) is :func:`seqforecast.cpu.products.matmul`, whose rows do not
depend on the other rows of the batch, and the element-wise arithmetic of a
unit reads that unit's values only (the vectorised body and the scalar
remainder of a loop perform the same operations; tested with hidden sizes
that are not multiples of the vector width): a window's forward pass (and so
its prediction) is bit-identical whatever else shares its batch.  The weight
gradients, which sum over the batch, go to BLAS through Numba's ``np.dot``.
Reductions have a fixed order, so equal inputs give bit-identical results.
"""
import math

import numpy as np
from numba import njit

from ..cells.spec import GRU, LSTM, SPECS
from ..config import CPU_FASTMATH
from .products import linear, matmul

_JIT = dict(cache=True, nogil=True, fastmath=CPU_FASTMATH, error_model="numpy")



def _compiled(name):
    """A cell's equations (:data:`~seqforecast.cells.spec.SPECS`), inlined into the kernels."""
    return (njit(inline="always")(SPECS[name].forward),
            njit(inline="always")(SPECS[name].backward))


_rnn_forward, _rnn_backward = _compiled("rnn")
_lstm_forward, _lstm_backward = _compiled("lstm")
_gru_forward, _gru_backward = _compiled("gru")


@njit(**_JIT)
def project_inputs(cell, x, params, gates):
    """Input projections of every step, with the biases that add up front.

    Parameters
    ----------
    cell : CellArgs
    x : ndarray of shape (T, B, I)
        Layer input.
    params : LayerParams
        Both biases are added here, except the GRU's hidden-side ones, which
        the reset gate multiplies.
    gates : ndarray of shape (G, T, B, H)
        Receives ``x_t @ W_ih.T + bias`` per gate.
    """
    kind, w_ih, b_ih, b_hh = cell.kind, params.weight_ih, params.bias_ih, params.bias_hh
    T, B, I = x.shape
    G, H = gates.shape[0], gates.shape[3]
    x_2d = x.reshape(T * B, I)
    for k in range(G):
        rows = slice(k * H, (k + 1) * H)
        bias = b_ih[rows] if kind == GRU else b_ih[rows] + b_hh[rows]
        linear(x_2d, w_ih[rows], bias, gates[k].reshape(T * B, H))


@njit(**_JIT)
def forward_steps(cell, params, states, hh, zero_state):
    """Run one layer's recurrence forward, after :func:`project_inputs`.

    Parameters
    ----------
    cell : CellArgs
    params : LayerParams
        ``weight_hh``, ``bias_hh`` and ``peephole`` (zeros for a plain LSTM)
        are read.
    states : LayerStates
        ``h[0]`` (and ``c[0]``) is the initial state (read); ``h[1:]`` and
        ``c[1:]`` receive the states.  ``gates``, in: the input
        projections; out: the activated gates (LSTM i, f, g, o; GRU r, z, n;
        RNN h).  ``aux`` receives ``tanh(c_t)`` (LSTM) or ``W_hn h_{t-1} +
        b_hn`` (GRU).
    hh : ndarray of shape (G, B, H), C-contiguous
        Workspace: ``hh[k] = h_{t-1} @ W_hk.T`` for each gate ``k``.
    zero_state : bool
        Start from zero: ``h[0]`` (and ``c[0]``) are set to 0 instead of read.
    """
    kind, coupled_gates, relu = cell
    w_hh, b_hh, peephole = params.weight_hh, params.bias_hh, params.peephole
    h, c, gates, aux = states
    G, T, B, H = gates.shape
    if zero_state:
        h[0] = 0
        if kind == LSTM:
            c[0] = 0
    # One sample: one product for all gates, h_{t-1} (1, H) @ W_hh.T (H, G*H), whose
    # (1, G*H) result is laid out as (G, 1, H).  A batch: one product per gate, each
    # gate's weights and results contiguous.  The same sums, in the same order.
    w_t = np.ascontiguousarray(w_hh.T) if B == 1 else np.empty((0, 0), w_hh.dtype)
    w_blocks = np.empty((0 if B == 1 else G, H, H), w_hh.dtype)
    for k in range(w_blocks.shape[0]):
        w_blocks[k] = w_hh[k * H:(k + 1) * H].T
    for t in range(T):
        if B == 1:
            matmul(h[t], w_t, hh.reshape(1, G * H), False)
        else:
            for k in range(G):
                matmul(h[t], w_blocks[k], hh[k], False)
        # Each unit's result depends on its own values only, whatever its place in
        # the batch; the loops index the states' own arrays (not views of them), which
        # lets the compiler vectorise them.
        if kind == LSTM:
            _lstm_units(t, gates, hh, c, aux, h, peephole, coupled_gates)
        elif kind == GRU:
            _gru_units(t, gates, hh, b_hh, aux, h)
        else:
            _rnn_units(t, gates, hh, h, relu)


@njit(**_JIT)
def _lstm_units(t, gates, m, c, aux, h, peephole, coupled_gates):
    """Step ``t`` of the LSTM's units, after the products ``m`` (4, B, H) of ``h_{t-1}``."""
    B, H = gates.shape[2], gates.shape[3]
    for b in range(B):
        for j in range(H):
            (gates[0, t, b, j], gates[1, t, b, j], gates[2, t, b, j], gates[3, t, b, j],
             c[t + 1, b, j], aux[t, b, j], h[t + 1, b, j]) = _lstm_forward(
                gates[0, t, b, j] + m[0, b, j], gates[1, t, b, j] + m[1, b, j],
                gates[2, t, b, j] + m[2, b, j], gates[3, t, b, j] + m[3, b, j],
                c[t, b, j], peephole[0, j], peephole[1, j], peephole[2, j], coupled_gates)


@njit(**_JIT)
def _gru_units(t, gates, m, b_hh, aux, h):
    """Step ``t`` of the GRU's units; its hidden-side biases are added here (``b_hh``)."""
    B, H = gates.shape[2], gates.shape[3]
    for b in range(B):
        for j in range(H):
            aux[t, b, j] = m[2, b, j] + b_hh[2 * H + j]
            gates[0, t, b, j], gates[1, t, b, j], gates[2, t, b, j], h[t + 1, b, j] = \
                _gru_forward(gates[0, t, b, j], gates[1, t, b, j], gates[2, t, b, j],
                             m[0, b, j] + b_hh[j], m[1, b, j] + b_hh[H + j], aux[t, b, j],
                             h[t, b, j])


@njit(**_JIT)
def _rnn_units(t, gates, m, h, relu):
    """Step ``t`` of the Elman RNN's units."""
    B, H = gates.shape[2], gates.shape[3]
    for b in range(B):
        for j in range(H):
            gates[0, t, b, j] = _rnn_forward(gates[0, t, b, j] + m[0, b, j], relu)
            h[t + 1, b, j] = gates[0, t, b, j]


@njit(**_JIT)
def backward_steps(cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates,
                   step_norms, zero_state):
    """Backpropagation through time for one layer, through the recurrence.
    :func:`weight_gradients` then turns the gate gradients into parameter
    and input gradients.

    Parameters
    ----------
    cell, params, states
        As given to and filled by :func:`forward_steps`.
    d_h : ndarray of shape (T, B, H)
        Gradient w.r.t. ``h_t`` from outside the recurrence (the loss, or
        the layer above).
    dh, dc : ndarray of shape (B, H)
        In: gradient w.r.t. the final states ``h_T`` and ``c_T``.
        Out: gradient w.r.t. the initial states ``h_0`` and ``c_0``.
    tbptt_steps : int
        If > 0, the gradient does not flow from step t into step t-1 when
        ``t > 0`` and ``(T - t) % tbptt_steps == 0``: blocks of
        ``tbptt_steps`` steps counted back from the last step, as if the
        state were detached.
    clip_hidden_norm : float
        If > 0, each sample's ``dL/dh_t`` is rescaled to this L2 norm at
        every step where it is larger.
    d_gates : GateGradients
        Receives the gradients w.r.t. the gates' pre-activations.
    step_norms : ndarray of shape (T,)
        Receives ``||dL/dh_t||`` over the batch, before hidden clipping.
    zero_state : bool
        The gradients w.r.t. the final states are zero: ``dh`` and ``dc``
        are set to 0 instead of read.
    """
    kind, coupled_gates, relu = cell
    w_hh, peephole = params.weight_hh, params.peephole
    h, c, gates, aux = states
    dgates, dm_n = d_gates
    G, T, B, H = gates.shape
    n = B * H
    if zero_state:
        dh[:] = 0
        dc[:] = 0
    p_i = _tile(peephole[0], B)
    p_f = _tile(peephole[1], B)
    p_o = _tile(peephole[2], B)
    d_hc, d_cc = dh, dc
    d_hf, d_cf = d_hc.reshape(n), d_cc.reshape(n)
    direct = np.empty((B, H), h.dtype)
    direct_f = direct.reshape(n)
    for t in range(T - 1, -1, -1):
        step_norms[t] = math.sqrt(_add_and_clip(d_hc, d_h[t], clip_hidden_norm))
        if kind == LSTM:
            g_i, g_f = gates[0, t].reshape(n), gates[1, t].reshape(n)
            g_g, g_o = gates[2, t].reshape(n), gates[3, t].reshape(n)
            d_i, d_f = dgates[0, t].reshape(n), dgates[1, t].reshape(n)
            d_g, d_o = dgates[2, t].reshape(n), dgates[3, t].reshape(n)
            c_prev = c[t].reshape(n)
            tanh_c = aux[t].reshape(n)
            for j in range(n):
                d_i[j], d_f[j], d_g[j], d_o[j], d_cf[j] = _lstm_backward(
                    d_hf[j], d_cf[j], g_i[j], g_f[j], g_g[j], g_o[j], c_prev[j],
                    tanh_c[j], p_i[j], p_f[j], p_o[j], coupled_gates)
        elif kind == GRU:
            g_r, g_z = gates[0, t].reshape(n), gates[1, t].reshape(n)
            g_n = gates[2, t].reshape(n)
            d_r, d_z = dgates[0, t].reshape(n), dgates[1, t].reshape(n)
            d_n = dgates[2, t].reshape(n)
            hidden_n = aux[t].reshape(n)
            d_hidden_n = dm_n[t].reshape(n)
            h_prev = h[t].reshape(n)
            for j in range(n):
                d_r[j], d_z[j], d_n[j], d_hidden_n[j], direct_f[j] = _gru_backward(
                    d_hf[j], g_r[j], g_z[j], g_n[j], hidden_n[j], h_prev[j])
        else:
            g_h = gates[0, t].reshape(n)
            d_a = dgates[0, t].reshape(n)
            for j in range(n):
                d_a[j] = _rnn_backward(d_hf[j], g_h[j], relu)

        if t > 0 and tbptt_steps > 0 and (T - t) % tbptt_steps == 0:
            d_hc[:] = 0
            d_cc[:] = 0
            continue
        for k in range(G):
            d_k = dm_n[t] if kind == GRU and k == 2 else dgates[k, t]
            matmul(d_k, w_hh[k * H:(k + 1) * H], d_hc, k > 0)
        if kind == GRU:
            d_hc += direct


@njit(**_JIT)
def weight_gradients(cell, x, params, states, d_gates, dx, grads):
    """Parameter and input gradients of one layer from its gate gradients.

    Products over all steps at once, after :func:`backward_steps`.

    Parameters
    ----------
    cell, x, params, states
        As in :func:`project_inputs` and :func:`forward_steps`.
    d_gates : GateGradients
        As filled by :func:`backward_steps`.
    dx : ndarray of shape (T, B, I), or (0, 0, 0)
        Receives the gradient w.r.t. the input; an empty array skips it
        (the first layer of a network, whose input needs no gradient).
    grads : LayerParams
        Receives the parameter gradients; its ``peephole`` is (0, H) for a
        layer without peepholes.
    """
    kind, w_ih, h, c = cell.kind, params.weight_ih, states.h, states.c
    dgates, dm_n = d_gates
    dw_ih, dw_hh, db_ih, db_hh, dpeephole = grads
    T, B, I = x.shape
    G, H = dgates.shape[0], dgates.shape[3]
    x_2d = x.reshape(T * B, I)
    h_2d = h[:T].reshape(T * B, H)
    input_grad = dx.size > 0
    for k in range(G):
        d_in = dgates[k].reshape(T * B, H)
        d_hid = dm_n.reshape(T * B, H) if kind == GRU and k == 2 else d_in
        rows = slice(k * H, (k + 1) * H)
        np.dot(d_in.T, x_2d, dw_ih[rows])
        np.dot(d_hid.T, h_2d, dw_hh[rows])
        _column_sums(d_in, db_ih[rows])
        _column_sums(d_hid, db_hh[rows])
        if input_grad:
            matmul(d_in, w_ih[rows], dx.reshape(T * B, I), k > 0)
    if dpeephole.shape[0]:
        c_2d = c.reshape((T + 1) * B, H)
        _column_dots(dgates[0].reshape(T * B, H), c_2d[:T * B], dpeephole[0])
        _column_dots(dgates[1].reshape(T * B, H), c_2d[:T * B], dpeephole[1])
        _column_dots(dgates[3].reshape(T * B, H), c_2d[B:], dpeephole[2])


@njit(**_JIT)
def _add_and_clip(dh, d_h, clip_hidden_norm):
    """``dh += d_h``; rescale rows longer than ``clip_hidden_norm``; return ``||dh||^2`` before."""
    B, H = dh.shape
    total = 0.0
    for b in range(B):
        row = 0.0
        for j in range(H):
            dh[b, j] += d_h[b, j]
            row += dh[b, j] * dh[b, j]
        total += row
        if clip_hidden_norm > 0 and row > clip_hidden_norm * clip_hidden_norm:
            dh[b] *= clip_hidden_norm / math.sqrt(row)
    return total


@njit(**_JIT)
def _tile(v, repeats):
    """``v`` repeated ``repeats`` times end to end, shape (repeats * len(v),)."""
    out = np.empty(repeats * v.size, v.dtype)
    for r in range(repeats):
        out[r * v.size:(r + 1) * v.size] = v
    return out


@njit(**_JIT)
def _column_sums(a, out):
    """``out[:] = a.sum(axis=0)`` for a 2-D array, rows added in order."""
    out[:] = 0
    for r in range(a.shape[0]):
        for k in range(a.shape[1]):
            out[k] += a[r, k]


@njit(**_JIT)
def _column_dots(a, b, out):
    """``out[:] = (a * b).sum(axis=0)`` for 2-D arrays, rows added in order."""
    out[:] = 0
    for r in range(a.shape[0]):
        for k in range(a.shape[1]):
            out[k] += a[r, k] * b[r, k]
