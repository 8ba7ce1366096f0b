"""Numba CPU kernels that run one recurrent layer over a whole sequence.

Arrays are C-contiguous and time-major.  Gate values are stored gate-major,
``gates[k, t]`` being the ``(B, H)`` block of gate ``k`` at step ``t``: every
operand of the element-wise loops is a contiguous run that LLVM vectorises
(the activations are call-free, see :mod:`seqforecast.cells.activations`).  For a
layer with ``G`` gates (1 RNN, 4 LSTM, 3 GRU) and hidden size ``H``:

* forward: each step computes its input projections, ``G`` products
  ``(B, I) @ (I, H)`` (written where the unit loop reads them, while they
  are in cache), one product ``(B, H) @ (H, G*H)`` for all gates and one
  element-wise pass over the cell's unit equations, over all ``B*H`` units
  of the step at once;
* backward: each step runs the cell's backward equations and ``G`` products
  for ``dL/dh_{t-1}``; the weight gradients are products over all steps at
  once, ``(H, T*B) @ (T*B, I or H)``, after the time loop.

The hidden side's weights, the same at every step, are packed once per call
into column panels (:func:`seqforecast.cpu.products.pack_panels`), and each
step's product runs register tiles over them
(:func:`seqforecast.cpu.products.matmul_panels`).

Every product that yields a per-sample result (states, gates, ``dL/dh``,
``dL/dx``) is :func:`seqforecast.cpu.products.matmul` or ``matmul_panels`` (the
same bits), whose rows do not depend on the other rows of the batch, and the
element-wise arithmetic of a unit reads that unit's values only, in a loop
over a row's units that runs the same code for every row (which of a row's
units fall in the vectorised body and which in the scalar remainder depends
on the hidden size only; tested with hidden sizes that are not multiples of
the vector width): a window's forward pass (and so its prediction) is
bit-identical whatever else shares its batch.  The backward loop runs over all
units of its samples at once, so there the split between body and remainder
depends on the samples too; its arithmetic has no activation, only
multiplications, additions and fused multiply-adds, the same operations in
both, so a window's gradients are bit-identical in any batch as well (tested
alone, in batches, permuted and split over threads).  The weight gradients, which
sum over the batch, are products of the same kind,
:func:`seqforecast.cpu.products.matmul_tn` (the samples of all steps added in
order): the kernels call no BLAS.
Reductions have a fixed order, so equal inputs give bit-identical results.

:func:`forward_blocks`, :func:`backward_blocks`, :func:`weight_gradient_blocks` and
:func:`input_gradient_blocks` run a kernel over several blocks of samples (or of
gates) at once, on Numba's threads; :mod:`seqforecast.threads` chooses the blocks.

The kernels are written once for every cell: what differs between cells is
read from :mod:`seqforecast.cells.spec`.  Each cell's element-wise passes
are compiled from its unit equations (:func:`_unit_loops`), and the kernels
reach them through one dispatch on the cell's code (:func:`_by_code`); the
rest (which biases enter the projections, the gated hidden side, the skip
path, the peepholes' gradients) comes from per-code tables of the specs.
"""
import math

import numpy as np
from numba import njit, prange

from ..cells.activations import ZERO
from ..cells.spec import BY_CODE, read_diag
from ..config import CPU_FASTMATH
from .borrow import borrow
from .products import matmul, matmul_panels, matmul_tn, pack_panels

_JIT = dict(cache=True, nogil=True, fastmath=CPU_FASTMATH, error_model="numpy")
_read_diag = njit(inline="always")(read_diag)


@njit(inline="always")
def _read_products(m, b, j, H, n, zero):
    """``(m[b, j], m[b, H + j], m[b, 2H + j], m[b, 3H + j])``: sample ``b``'s products of
    unit ``j`` of each gate, from the gates' products side by side; zeros past ``n`` gates."""
    return (m[b, j], m[b, H + j] if n > 1 else zero, m[b, 2 * H + j] if n > 2 else zero,
            m[b, 3 * H + j] if n > 3 else zero)


@njit(inline="always")
def _rows(a, t, first, stop, present, other):
    """``a[t, first:stop]``, or ``other`` (never used) where the cell lacks ``a``."""
    return a[t, first:stop] if present else other


@njit(inline="always")
def _gate_rows(a, t, first, stop, n):
    """The views ``a[k, t, first:stop]`` of the first ``n`` gates, 4 of them (repeats past
    ``n``, never used): a cell's gates in :func:`_read_rows` and :func:`_write_rows`."""
    return (a[0, t, first:stop], a[min(1, n - 1), t, first:stop],
            a[min(2, n - 1), t, first:stop], a[min(3, n - 1), t, first:stop])


@njit(inline="always")
def _read_rows(a, at, n, zero):
    """``(a[0][at], ..., a[3][at])`` of a tuple of gate views, zeros past ``n`` gates."""
    return (a[0][at], a[1][at] if n > 1 else zero, a[2][at] if n > 2 else zero,
            a[3][at] if n > 3 else zero)


@njit(inline="always")
def _write_rows(a, at, n, v0, v1, v2, v3):
    """``a[k][at] = v_k`` for the first ``n`` gate views of a tuple."""
    a[0][at] = v0
    if n > 1:
        a[1][at] = v1
    if n > 2:
        a[2][at] = v2
    if n > 3:
        a[3][at] = v3


@njit(inline="always")
def _runs(a, n):
    """The 4 views of a tuple of :func:`_gate_rows`, each ``(rows, H)`` and C-contiguous, as
    runs of their ``n = rows * H`` values (no copy), for :func:`_read_rows` by one index."""
    return a[0].reshape(n), a[1].reshape(n), a[2].reshape(n), a[3].reshape(n)


# What the kernels read of the cell specs, by cell code: the gate with a gated hidden
# side (-1: none; then every hidden bias is added in the projections), whether h_{t-1}
# has a path around the weights, and per peephole row (gate, offset into c), -1 padded.
_GATED = np.array([spec.gated_gate for spec in BY_CODE])
_SKIP = np.array([spec.skip for spec in BY_CODE])
_PEEPHOLES = np.full((len(BY_CODE), max(len(spec.peepholes) for spec in BY_CODE), 2), -1)
for _spec in BY_CODE:
    for _row, _gate_offset in enumerate(_spec.peephole_rows):
        _PEEPHOLES[_spec.code, _row] = _gate_offset


def _unit_loops(spec):
    """A cell's loops over the units of one step, its unit equations inlined.

    Each unit's result depends on its own values only, whatever its place in
    the batch, and the loops over ``j`` run over contiguous values, which
    lets the compiler vectorise them.  What the spec says (the gate count,
    the cell state, ...) are constants of the loops: the reads and writes of
    what a cell lacks are compiled away.

    The loops run over views of the samples ``first .. stop-1`` at step
    ``t`` (:func:`_rows`), from row 0: the same loops over rows ``first ..
    stop-1`` of the whole arrays ran 6-10 times slower with hidden sizes of
    16 and 32 (LSTM, AMD EPYC with AVX-512; the vectorised loop over ``j``
    then did a fixed amount of scalar work per row).  The backward loop runs
    over all of the samples' units in one run (every operand is a C-contiguous
    ``(rows, H)`` view, :func:`_runs`; the peepholes come repeated per sample,
    :func:`_unit_diag`): entering a vectorised loop once per row cost about
    70 ns (the checks that its many arrays do not overlap), most of an LSTM
    16's backward units (48 steps of 32 samples: 120 us against 38 for the
    same units as 4 samples of 128).  The forward loop, whose products are not
    in runs of a sample's units (:func:`_read_products`), runs per row; its
    entry is cheap next to its activations.

    The loops, like :func:`_by_code`, are inlined into the kernels that call
    them, so that a cached kernel holds all of its code: a call from a kernel
    into a function compiled on its own ran different machine code in the
    process that compiled it than in later ones that loaded the kernel from
    Numba's cache (results differed in the last bits).
    """
    forward, backward = njit(inline="always")(spec.forward), njit(inline="always")(spec.backward)
    G, P, state, has_aux = spec.n_gates, len(spec.peepholes), spec.cell_state, spec.aux is not None
    apart, gated, skip = spec.gated_gate >= 0, spec.gated_gate, spec.skip

    @njit(inline="always")
    def forward_units(cell, t, first, stop, arrays):
        """Step ``t`` of the units of samples ``first .. stop-1``, after the products
        ``m`` (B, G*H) of ``h_{t-1}`` (gate ``k`` in columns ``k*H .. (k+1)*H-1``).

        ``arrays`` is ``(m, h, c, gates, aux, b_hh, diag)``, ``b_hh`` (G, H).
        """
        m, h, c, gates, aux, b_hh, diag = arrays
        H = h.shape[2]
        m = m[first:stop]
        x = _gate_rows(gates, t, first, stop, G)
        h_prev, h_next = h[t, first:stop], h[t + 1, first:stop]
        c_prev, c_next = _rows(c, t, first, stop, state, h_prev), _rows(c, t + 1, first, stop,
                                                                        state, h_next)
        a_t = _rows(aux, t, first, stop, has_aux, h_next)
        b_hh = b_hh.reshape(G, 1, H)  # as gate rows
        for b in range(stop - first):
            for j in range(H):
                m0, m1, m2, m3 = _read_products(m, b, j, H, G, ZERO)
                if apart:  # the hidden-side biases, kept out of the projections
                    bias = _read_rows(b_hh, (0, j), G, ZERO)
                    m0, m1, m2, m3 = m0 + bias[0], m1 + bias[1], m2 + bias[2], m3 + bias[3]
                x0, x1, x2, x3 = _read_rows(x, (b, j), G, ZERO)
                p0, p1, p2 = _read_diag(diag, j, P, ZERO)
                g0, g1, g2, g3, h_t, c_t, a = forward(
                    x0, x1, x2, x3, m0, m1, m2, m3, h_prev[b, j], c_prev[b, j] if state else ZERO,
                    p0, p1, p2, cell.coupled_gates, cell.relu)
                _write_rows(x, (b, j), G, g0, g1, g2, g3)
                if state:
                    c_next[b, j] = c_t
                if has_aux:
                    a_t[b, j] = a
                h_next[b, j] = h_t

    @njit(inline="always")
    def backward_units(cell, t, first, stop, arrays):
        """Step ``t`` of the units of samples ``first .. stop-1`` back.

        ``arrays`` is ``(dh, dc, direct, h, c, gates, aux, diag, d_gates,
        d_aux)``: from ``dh`` and ``dc`` (B, H), ``dc`` receives ``dL/dc_{t-1}``
        and ``direct`` the skip path's part of ``dL/dh_{t-1}``; ``diag`` is
        ``_unit_diag(peephole, stop - first)``.  One loop over the samples'
        units, unit ``j`` of sample ``first + b`` at ``b*H + j``.
        """
        dh, dc, direct, h, c, gates, aux, diag, d_gates, d_aux = arrays
        n = (stop - first) * dh.shape[1]
        dh = dh[first:stop].reshape(n)
        dc = dc[first:stop].reshape(n)
        direct = direct[first:stop].reshape(n) if skip else dh
        g = _runs(_gate_rows(gates, t, first, stop, G), n)
        d = _runs(_gate_rows(d_gates, t, first, stop, G), n)
        h_prev = h[t, first:stop]
        c_prev = _rows(c, t, first, stop, state, h_prev).reshape(n)
        a_t = _rows(aux, t, first, stop, has_aux, h_prev).reshape(n)
        d_a_t = _rows(d_aux, t, first, stop, gated >= 0, h_prev).reshape(n)
        h_prev = h_prev.reshape(n)
        for i in range(n):
            g0, g1, g2, g3 = _read_rows(g, i, G, ZERO)
            p0, p1, p2 = _read_diag(diag, i, P, ZERO)
            d0, d1, d2, d3, d_a, dc_prev, around = backward(
                dh[i], dc[i] if state else ZERO, g0, g1, g2, g3, h_prev[i],
                c_prev[i] if state else ZERO, a_t[i] if has_aux else ZERO,
                p0, p1, p2, cell.coupled_gates, cell.relu)
            _write_rows(d, i, G, d0, d1, d2, d3)
            if gated >= 0:
                d_a_t[i] = d_a
            if state:
                dc[i] = dc_prev
            if skip:
                direct[i] = around

    return forward_units, backward_units


def _by_code(functions, code=0):
    """``f(kind, *args)`` calling ``functions[kind](*args)``, for the loops' five arguments."""
    head = functions[0]
    if len(functions) == 1:
        @njit(inline="always")
        def only(kind, cell, t, first, stop, arrays):
            head(cell, t, first, stop, arrays)
        return only
    rest = _by_code(functions[1:], code + 1)

    @njit(inline="always")
    def select(kind, cell, t, first, stop, arrays):
        if kind == code:
            head(cell, t, first, stop, arrays)
        else:
            rest(kind, cell, t, first, stop, arrays)
    return select


_LOOPS = [_unit_loops(spec) for spec in BY_CODE]
_forward_units = _by_code([loops[0] for loops in _LOOPS])
_backward_units = _by_code([loops[1] for loops in _LOOPS])


#: Features under which a step's input projections run one pass per row (:func:`_project`).
_FEW_FEATURES = 4


@njit(inline="always")
def _project(x, w_in, bias, gates, t, first, stop):
    """Step ``t``'s input projections of samples ``first .. stop-1``: ``gates[k, t, b] =
    bias[k] + x[t, b] @ w_in[k]`` for each gate ``k``.

    Each sum starts from the bias and adds the features' products in order, the operations
    of :func:`~seqforecast.cpu.products.matmul`, so both ways below give the same bits.
    With fewer than :data:`_FEW_FEATURES` features (where ``matmul`` has no blocks of four
    to run) a row's bias and products are written in one pass: with a pass for the biases
    and one for the products, 48 steps of 32 samples of one feature took 186-189 us
    instead of 171-174 for an LSTM 16 (the whole forward pass), 44 instead of 38-40 for
    an RNN 16.

    Parameters
    ----------
    x : ndarray of shape (T, B, I)
    w_in : ndarray of shape (G, I, H), C-contiguous
    bias : ndarray of shape (G, H)
    gates : ndarray of shape (G, T, B, H)
    t, first, stop : int
    """
    I = x.shape[2]
    H = gates.shape[3]
    x_t = x[t, first:stop]
    for k in range(gates.shape[0]):
        rows, w_k, b_k = gates[k, t, first:stop], w_in[k], bias[k]
        if I < _FEW_FEATURES:
            for b in range(stop - first):
                x0, x1, x2 = x_t[b, 0], x_t[b, min(1, I - 1)], x_t[b, min(2, I - 1)]
                for j in range(H):
                    v = b_k[j] + x0 * w_k[0, j]
                    if I > 1:
                        v += x1 * w_k[1, j]
                    if I > 2:
                        v += x2 * w_k[2, j]
                    rows[b, j] = v
        else:
            # Element by element: a row assigned at a time (rows[b] = b_k) took 0.2 ms
            # more per LSTM 16 batch.
            for b in range(stop - first):
                for j in range(H):
                    rows[b, j] = b_k[j]
            matmul(x_t, w_k, rows, True)


@njit(**_JIT)
def forward_steps(cell, x, params, states, hh, zero_state, first, stop):
    """Run one layer forward for samples ``first .. stop-1``: at each step the input
    projections, then the recurrence.

    Samples are independent: calls on disjoint ranges may run at the same time
    (the kernel holds no lock), and each sample's results are the same for
    any split.

    Parameters
    ----------
    cell : CellArgs
    x : ndarray of shape (T, B, I)
        Layer input.
    params : LayerParams
        ``weight_ih``, ``bias_ih``, ``weight_hh``, ``bias_hh`` and
        ``peephole`` (zeros for a cell whose option is off) are read.  Both
        biases enter the projections, unless the cell keeps its hidden-side
        biases apart (a gated hidden side, ``CellSpec.gated_hidden_bias``).
    states : LayerStates
        ``h[0]`` (and ``c[0]``) is the initial state (read); ``h[1:]`` and
        ``c[1:]`` receive the states, ``gates`` the activated gates (each
        step's input projections ``x_t @ W_ih.T + bias`` first), ``aux``
        what the cell keeps there (``CellSpec.aux``).
    hh : ndarray of shape (G, B, H), C-contiguous
        Workspace, used as (B, G*H): row ``b`` receives ``h_{t-1}[b] @ W_hh.T``,
        the products of all gates side by side.
    zero_state : bool
        Start from zero: ``h[0]`` (and ``c[0]``) are set to 0 instead of read.
    first, stop : int
        The samples to run.
    """
    x, params, states, hh = borrow((x, params, states, hh))
    w_ih, b_ih, w_hh = params.weight_ih, params.bias_ih, params.weight_hh
    h, c, gates, aux = states
    G, T, B, H = gates.shape
    I = x.shape[2]
    if zero_state:
        h[0, first:stop] = 0
        c[:1, first:stop] = 0
    # The input side per gate, (I, H), and its biases; one product for all gates per
    # step on the hidden side, h_{t-1} (B, H) @ W_hh.T (H, G*H): wider rows than a
    # product per gate, so fewer passes over h_{t-1}'s rows.
    w_in = np.ascontiguousarray(w_ih.reshape(G, H, I).transpose(0, 2, 1))
    bias = b_ih.reshape(G, H) if _GATED[cell.kind] >= 0 else (b_ih + params.bias_hh).reshape(G, H)
    panels = pack_panels(w_hh.T, 1)[0]
    m = hh.reshape(B, G * H)
    b_hh = params.bias_hh.reshape(G, H)
    for t in range(T):
        # Projected here, a step at a time, the block's gate values are still in cache
        # when the units read them.
        _project(x, w_in, bias, gates, t, first, stop)
        matmul_panels(h[t, first:stop], panels, m[first:stop], False)
        _forward_units(cell.kind, cell, t, first, stop,
                       (m, h, c, gates, aux, b_hh, params.peephole))


@njit(**_JIT)
def _unit_diag(diag, rows):
    """The peepholes ``diag`` (P, H) repeated for ``rows`` samples, (P, rows * H): the values
    of the units of the backward loop's run (``out[r, b*H + j] = diag[r, j]``)."""
    P, H = diag.shape
    out = np.empty((P, rows * H), diag.dtype)
    for r in range(P):
        for b in range(rows):
            for j in range(H):
                out[r, b * H + j] = diag[r, j]
    return out


@njit(**_JIT)
def backward_steps(cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates,
                   row_sq, zero_state, first, stop):
    """Backpropagation through time for one layer, through the recurrence, for samples
    ``first .. stop-1`` (independent, as in :func:`forward_steps`).
    :func:`weight_gradients` and :func:`input_gradients` then turn the gate
    gradients into parameter and input gradients, and :func:`step_norms` the
    per-sample norms into the batch's.

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
    row_sq : ndarray of shape (T, B), float64
        Receives each sample's ``||dL/dh_t||^2``, before hidden clipping.
    zero_state : bool
        The gradients w.r.t. the final states are zero: ``dh`` and ``dc``
        are set to 0 instead of read.
    first, stop : int
        The samples to run.
    """
    params, states, d_h, dh, dc, d_gates, row_sq = borrow((params, states, d_h, dh, dc, d_gates,
                                                          row_sq))
    w_hh = params.weight_hh
    h, c, gates, aux = states
    dgates, d_aux = d_gates
    gated, skip = _GATED[cell.kind], _SKIP[cell.kind]
    G, T, B, H = gates.shape
    if zero_state:
        dh[first:stop] = 0
        dc[first:stop] = 0
    direct = np.empty((B if skip else 0, H), h.dtype)  # the skip path's part of dh
    panels = pack_panels(w_hh, G)  # gate k's rows of w_hh, (H, H)
    diag = _unit_diag(params.peephole, stop - first)  # per unit of the backward loop's run
    for t in range(T - 1, -1, -1):
        _add_and_clip(dh, d_h[t], clip_hidden_norm, row_sq[t], first, stop)
        _backward_units(cell.kind, cell, t, first, stop,
                        (dh, dc, direct, h, c, gates, aux, diag, dgates, d_aux))
        if t > 0 and tbptt_steps > 0 and (T - t) % tbptt_steps == 0:
            dh[first:stop] = 0
            dc[first:stop] = 0
            continue
        for k in range(G):
            d_k = d_aux[t] if k == gated else dgates[k, t]
            matmul_panels(d_k[first:stop], panels[k], dh[first:stop], k > 0)
        if skip:
            dh[first:stop] += direct[first:stop]


@njit(cache=True, nogil=True, error_model="numpy")  # no fastmath: the sums in the written order
def step_norms(row_sq, out):
    """``out[t] = sqrt(sum_b row_sq[t, b])``, the samples added in order.

    Parameters
    ----------
    row_sq : ndarray of shape (T, B), float64
        As filled by :func:`backward_steps`.
    out : ndarray of shape (T,), float64
        Receives ``||dL/dh_t||`` over the batch.
    """
    for t in range(row_sq.shape[0]):
        total = 0.0
        for b in range(row_sq.shape[1]):
            total += row_sq[t, b]
        out[t] = math.sqrt(total)


@njit(**_JIT)
def weight_gradients(cell, x, states, d_gates, grads, first, stop):
    """Parameter gradients of rows ``first .. stop-1`` of one layer's gates (row ``k*H + j``:
    unit ``j`` of gate ``k``, as in ``weight_ih``) from its gate gradients.

    Products over all steps at once, after :func:`backward_steps`.  Rows are
    independent: calls on disjoint ranges may run at the same time, and each
    row's results are the same for any split (each element's products are
    added in order, whichever rows share its call).

    Parameters
    ----------
    cell, x, states
        As in :func:`forward_steps`.
    d_gates : GateGradients
        As filled by :func:`backward_steps`.
    grads : LayerParams
        Receives the parameter gradients of the rows (of the peepholes too,
        by unit); its ``peephole`` is (0, H) for a layer without peepholes.
    first, stop : int
        The rows to run, of ``G*H``.
    """
    x, states, d_gates, grads = borrow((x, states, d_gates, grads))
    h, c = states.h, states.c
    dgates, d_aux = d_gates
    dw_ih, dw_hh, db_ih, db_hh, dpeephole = grads
    gated = _GATED[cell.kind]
    T, B, I = x.shape
    H = dgates.shape[3]
    x_2d = x.reshape(T * B, I)
    h_2d = h[:T].reshape(T * B, H)
    c_2d = c.reshape(c.shape[0] * B, H)  # (0, H) without a cell state, and no peepholes
    for k in range(first // H, (stop - 1) // H + 1):
        lo, hi = max(first - k * H, 0), min(stop - k * H, H)  # the gate's units in the range
        d_in = _columns(dgates[k].reshape(T * B, H), lo, hi)
        d_hid = _columns(d_aux.reshape(T * B, H), lo, hi) if k == gated else d_in
        rows = slice(k * H + lo, k * H + hi)
        matmul_tn(d_in, x_2d, dw_ih[rows])
        matmul_tn(d_hid, h_2d, dw_hh[rows])
        _column_sums(d_in, db_ih[rows])
        if k == gated:
            _column_sums(d_hid, db_hh[rows])
        else:  # the same sums
            db_hh[rows] = db_ih[rows]
        for r in range(dpeephole.shape[0]):
            if _PEEPHOLES[cell.kind, r, 0] == k:
                offset = _PEEPHOLES[cell.kind, r, 1]
                _column_dots(d_in, _columns(c_2d[offset * B:(offset + T) * B], lo, hi),
                             dpeephole[r, lo:hi])


@njit(**_JIT)
def input_gradients(params, d_gates, dx, first, stop):
    """The gradient w.r.t. one layer's input of samples ``first .. stop-1``, after
    :func:`backward_steps` (independent samples, as in :func:`forward_steps`).

    Parameters
    ----------
    params : LayerParams
        ``weight_ih`` is read.
    d_gates : GateGradients
        As filled by :func:`backward_steps`.
    dx : ndarray of shape (T, B, I)
        Receives the samples' gradients, ``sum_k d_gates[k] @ W_ih[k]``, the gates in order.
    first, stop : int
        The samples to run.
    """
    params, d_gates, dx = borrow((params, d_gates, dx))
    w_ih, dgates = params.weight_ih, d_gates.gates
    G, T, _, H = dgates.shape
    for t in range(T):
        for k in range(G):
            matmul(dgates[k, t, first:stop], w_ih[k * H:(k + 1) * H], dx[t, first:stop], k > 0)


@njit(**_JIT)
def _add_and_clip(dh, d_h, clip_hidden_norm, row_sq, first, stop):
    """For rows ``first .. stop-1``: ``dh += d_h``, ``row_sq`` = each row's squared norm,
    then rows longer than ``clip_hidden_norm`` rescaled to it."""
    H = dh.shape[1]
    dh, d_h, row_sq = dh[first:stop], d_h[first:stop], row_sq[first:stop]  # from row 0, see
    for b in range(stop - first):                                            # _unit_loops
        row = 0.0
        for j in range(H):
            dh[b, j] += d_h[b, j]
            row += dh[b, j] * dh[b, j]
        row_sq[b] = row
        if clip_hidden_norm > 0 and row > clip_hidden_norm * clip_hidden_norm:
            dh[b] *= clip_hidden_norm / math.sqrt(row)


@njit(**_JIT)
def _columns(a, lo, hi):
    """Columns ``lo .. hi-1`` of a C-contiguous 2-D array: ``a`` itself when they are all of
    them, else a C-contiguous copy (a view of some columns only, whose rows have a stride
    known at run time only, made the products and sums over it up to 40% slower)."""
    if lo == 0 and hi == a.shape[1]:
        return a
    return np.ascontiguousarray(a[:, lo:hi])


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


# -- The kernels over several blocks at once, on Numba's threads ------------------------------
# Here, in the kernels' own file, so that Numba's cache of the wrappers (which hold their own
# copies of the kernels) is renewed whenever the kernels change.  Each block is a kernel call
# of its own; the blocks' rows are independent, so the results are those of one call over
# all rows, bit for bit (see CPU_FASTMATH in seqforecast.config for why that holds in a
# process that loads the wrappers from the cache too).

_BLOCKS = dict(cache=True, nogil=True, parallel=True)


@njit(**_BLOCKS)
def forward_blocks(cell, x, params, states, hh, zero_state, bounds):
    """:func:`forward_steps` for samples ``bounds[i] .. bounds[i+1]-1``, the blocks at once.

    Parameters
    ----------
    cell, x, params, states, hh, zero_state
        As in :func:`forward_steps`.
    bounds : ndarray of shape (n_blocks + 1,), int64
        The blocks' first samples, then the last block's stop.
    """
    for i in prange(bounds.size - 1):
        forward_steps(cell, x, params, states, hh, zero_state, bounds[i], bounds[i + 1])


@njit(**_BLOCKS)
def backward_blocks(cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates,
                    row_sq, zero_state, bounds):
    """:func:`backward_steps` for the blocks of samples of ``bounds``, at once (see
    :func:`forward_blocks`)."""
    for i in prange(bounds.size - 1):
        backward_steps(cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm,
                       d_gates, row_sq, zero_state, bounds[i], bounds[i + 1])


@njit(**_BLOCKS)
def weight_gradient_blocks(cell, x, states, d_gates, grads, bounds):
    """:func:`weight_gradients` for the blocks of gate rows of ``bounds``, at once (see
    :func:`forward_blocks`)."""
    for i in prange(bounds.size - 1):
        weight_gradients(cell, x, states, d_gates, grads, bounds[i], bounds[i + 1])


@njit(**_BLOCKS)
def input_gradient_blocks(params, d_gates, dx, bounds):
    """:func:`input_gradients` for the blocks of samples of ``bounds``, at once (see
    :func:`forward_blocks`)."""
    for i in prange(bounds.size - 1):
        input_gradients(params, d_gates, dx, bounds[i], bounds[i + 1])
