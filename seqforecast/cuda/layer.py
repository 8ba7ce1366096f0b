"""Numba CUDA kernels that run one recurrent layer over a whole sequence.

The entry points mirror :mod:`seqforecast.cpu.layer` (same names, same array
layouts, device arrays instead of numpy arrays), so the stack logic above
them is the same for both targets.  The design is the GPU's own:

* **Persistent recurrence** (hidden sizes up to :data:`PERSISTENT_MAX_HIDDEN`).
  One launch runs all time steps.  A thread block owns a few samples; each of
  its threads owns one hidden unit of one sample for the whole sequence,
  keeping that unit's ``h`` and ``c`` (forward) or ``dh`` and ``dc``
  (backward) in registers.  The block's hidden states live in shared memory,
  and so do the recurrent weights when they fit (48 KiB: in float32 an LSTM
  up to hidden 54, a GRU up to 62, an RNN up to 110 forward, and 50, 57 and
  100 backward, whose per-sample norms take 8 KiB); otherwise the weights
  are read through the L1 and L2 caches.  Blocks never wait for each
  other: samples are independent.
* **Step-wise recurrence** (larger hidden sizes).  Each step is a tiled
  matrix product ``(B, H) @ (H, H)`` for every gate (one batched launch),
  which reuses every loaded weight across 64 samples, followed by the same
  kernel as above run for a single step with the products as input.  It
  costs several launches per step; on an H100 the persistent kernels were
  5-10x faster at hidden 256 and faster in 6 of 8 cases at 512
  (``benchmarks/bench_cuda.py``), hence the threshold.
* Input projections and weight gradients are tiled products over all steps
  at once, split over ``T*B`` (with a deterministic reduction of the parts)
  when the output is too small to fill the GPU.

The kernels are written once for every cell: each kernel factory compiles
one cell's unit equations (:mod:`seqforecast.cells.spec`) for the device,
with this target's activations, and reads the cell's gates, states and
peepholes from its spec.  Every reduction has a fixed order,
so equal inputs give bit-identical results.
"""
import functools
import math
import types
from typing import NamedTuple

import numpy as np
from numba import config, cuda, float64

from ..cells.activations import HALF
from ..cells.spec import BY_CODE, read_diag, read_gates, write_gates
from ..config import CUDA_BLOCK_THREADS as BLOCK_THREADS
from ..config import CUDA_PERSISTENT_MAX_HIDDEN as PERSISTENT_MAX_HIDDEN
from .elementwise import fill
from .launch import jit, multiprocessors, numba_float
from .products import matmul, transpose
from .reductions import column_sums, row_norms
from .workspace import empty, view

#: Shared memory a kernel may use without opting in to more (bytes).
SHARED_BYTES = 48 * 1024
#: Threads per block of the recurrent kernels, at most (one per hidden unit of a sample).
MAX_THREADS = 1024
# Static shared memory of the backward kernel: its per-sample squared norms.
_ROWS_BYTES = MAX_THREADS * 8
# At most 64 registers per thread, so that blocks of 1024 threads can launch.
_RECURRENT_JIT = {} if config.ENABLE_CUDASIM else {"max_registers": 64}



if config.ENABLE_CUDASIM:
    # The simulator runs device code as Python, where math.tanh returns a Python
    # float that numpy arithmetic would round to float32: keep x's type.
    def _tanh_scalar(x):
        return type(x)(math.tanh(x))
else:
    _tanh_scalar = math.tanh


@cuda.jit(device=True)
def _tanh(x):
    return _tanh_scalar(x)


@cuda.jit(device=True)
def _sigmoid(x):
    return HALF + HALF * _tanh_scalar(HALF * x)


@cuda.jit(device=True)
def _owned_unit(hidden):
    """This thread's unit: ``(samples per block, sample in the block, unit j, sample b)``."""
    per_block = cuda.blockDim.x // hidden
    s = cuda.threadIdx.x // hidden
    return per_block, s, cuda.threadIdx.x - s * hidden, cuda.blockIdx.x * per_block + s


def _device(equation):
    """Compile a cell equation from :mod:`seqforecast.cells` for the GPU.

    The equation's code is used as written; only the names ``tanh`` and
    ``sigmoid`` are bound to this target's device functions.
    """
    scope = dict(equation.__globals__, tanh=_tanh, sigmoid=_sigmoid)
    code = types.FunctionType(equation.__code__, scope, equation.__name__)
    return cuda.jit(device=True)(code)


_read_gates, _write_gates, _read_diag = (cuda.jit(device=True)(f)
                                         for f in (read_gates, write_gates, read_diag))


@functools.lru_cache(maxsize=None)
def _cell(kind):
    """The spec of the cell with code ``kind`` and its unit equations compiled for the GPU."""
    spec = BY_CODE[kind]
    return spec, _device(spec.forward), _device(spec.backward)


# -- the recurrence ---------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _forward_kernel(kind, dtype):
    spec, unit, _ = _cell(kind)
    G, P, state, has_aux = spec.n_gates, len(spec.peepholes), spec.cell_state, spec.aux is not None
    apart = spec.gated_gate >= 0
    dt = numba_float(dtype)
    zero = np.dtype(dtype).type(0)

    @jit(**_RECURRENT_JIT)
    def kernel(coupled_gates, relu, t_start, t_stop, use_hh, shared_weights, zero_state, w, b_hh,
               peephole, h, c, gates, aux, hh):
        """Steps ``t_start .. t_stop-1``; thread = (sample, unit), see :func:`forward_steps`.

        ``w`` is ``W_hh`` (G*H, H) with ``shared_weights`` (copied to shared
        memory transposed), its transpose (H, G*H) otherwise (read in place).
        """
        B, H = gates.shape[2], gates.shape[3]
        GH = G * H
        smem = cuda.shared.array(0, dt)
        tid = cuda.threadIdx.x
        per_block, s, j, b = _owned_unit(H)
        active = b < B
        w_start = per_block * H
        if shared_weights:  # read in W_hh's order, stored transposed
            for e in range(tid, H * GH, cuda.blockDim.x):
                smem[w_start + (e % H) * GH + e // H] = w[e // H, e % H]
        h_own, c_own = zero, zero
        p0, p1, p2 = zero, zero, zero
        if active:
            if zero_state:
                h[t_start, b, j] = zero
            else:
                h_own = h[t_start, b, j]
            if state:
                if zero_state:
                    c[t_start, b, j] = zero
                else:
                    c_own = c[t_start, b, j]
            p0, p1, p2 = _read_diag(peephole, j, P, zero)
        smem[s * H + j] = h_own
        cuda.syncthreads()
        for t in range(t_start, t_stop):
            m0, m1, m2, m3 = zero, zero, zero, zero
            if use_hh:
                if active:
                    m0 = hh[0, b, j]
                    if G > 1:
                        m1 = hh[1, b, j]
                    if G > 2:
                        m2 = hh[2, b, j]
                    if G > 3:
                        m3 = hh[3, b, j]
            else:
                for i in range(H):
                    hv = smem[s * H + i]
                    if shared_weights:
                        row = w_start + i * GH + j
                        m0 += smem[row] * hv
                        if G > 1:
                            m1 += smem[row + H] * hv
                        if G > 2:
                            m2 += smem[row + 2 * H] * hv
                        if G > 3:
                            m3 += smem[row + 3 * H] * hv
                    else:
                        m0 += w[i, j] * hv
                        if G > 1:
                            m1 += w[i, H + j] * hv
                        if G > 2:
                            m2 += w[i, 2 * H + j] * hv
                        if G > 3:
                            m3 += w[i, 3 * H + j] * hv
            if active:
                if apart:  # the hidden-side biases, kept out of the projections
                    m0 += b_hh[j]
                    if G > 1:
                        m1 += b_hh[H + j]
                    if G > 2:
                        m2 += b_hh[2 * H + j]
                    if G > 3:
                        m3 += b_hh[3 * H + j]
                x0, x1, x2, x3 = _read_gates(gates, t, b, j, G, zero)
                g0, g1, g2, g3, h_own, c_t, a = unit(x0, x1, x2, x3, m0, m1, m2, m3, h_own, c_own,
                                                     p0, p1, p2, coupled_gates, relu)
                _write_gates(gates, t, b, j, G, g0, g1, g2, g3)
                if state:
                    c_own = c_t
                    c[t + 1, b, j] = c_own
                if has_aux:
                    aux[t, b, j] = a
                h[t + 1, b, j] = h_own
            cuda.syncthreads()  # every thread has read h_{t-1}
            smem[s * H + j] = h_own
            cuda.syncthreads()

    return kernel


@functools.lru_cache(maxsize=None)
def _backward_kernel(kind, dtype):
    spec, _, unit = _cell(kind)
    G, P, state, has_aux = spec.n_gates, len(spec.peepholes), spec.cell_state, spec.aux is not None
    gated, skip = spec.gated_gate, spec.skip
    dt = numba_float(dtype)
    zero, cast = np.dtype(dtype).type(0), np.dtype(dtype).type

    @jit(**_RECURRENT_JIT)
    def kernel(coupled_gates, relu, t_start, t_stop, stepwise, shared_weights, zero_state,
               tbptt_steps, clip_hidden_norm, w_hh, peephole, h, c, gates, aux, d_h, dh, dc, dgates,
               d_aux, row_sq):
        """Steps ``t_stop-1`` down to ``t_start``; see :func:`backward_steps`."""
        T, B, H = gates.shape[1], gates.shape[2], gates.shape[3]
        GH = G * H
        smem = cuda.shared.array(0, dt)
        rows = cuda.shared.array(MAX_THREADS, float64)
        tid = cuda.threadIdx.x
        per_block, s, j, b = _owned_unit(H)
        active = b < B
        d_start = s * GH  # this sample's gate gradients in shared memory
        w_start = per_block * GH
        if shared_weights:
            for e in range(tid, GH * H, cuda.blockDim.x):
                smem[w_start + e] = w_hh[e // H, e % H]
        dh_own, dc_own, direct = zero, zero, zero
        p0, p1, p2 = zero, zero, zero
        if active:
            if not zero_state:
                dh_own = dh[b, j]
                if state:
                    dc_own = dc[b, j]
            p0, p1, p2 = _read_diag(peephole, j, P, zero)
        for t in range(t_stop - 1, t_start - 1, -1):
            # dL/dh_t in full, its squared norm per sample, then hidden clipping.
            if active:
                dh_own += d_h[t, b, j]
            smem[d_start + j] = dh_own * dh_own if active else zero
            cuda.syncthreads()
            if j == 0:
                total = 0.0
                for i in range(H):
                    total += smem[d_start + i]
                rows[s] = total
                if active:
                    row_sq[t, b] = total
            cuda.syncthreads()
            row = rows[s]
            if clip_hidden_norm > 0 and row > clip_hidden_norm * clip_hidden_norm:
                dh_own *= cast(clip_hidden_norm / math.sqrt(row))
            if active:
                g0, g1, g2, g3 = _read_gates(gates, t, b, j, G, zero)
                d0, d1, d2, d3, d_a, dc_t, around = unit(
                    dh_own, dc_own, g0, g1, g2, g3, h[t, b, j], c[t, b, j] if state else zero,
                    aux[t, b, j] if has_aux else zero, p0, p1, p2, coupled_gates, relu)
                if state:
                    dc_own = dc_t
                if skip:
                    direct = around
                _write_gates(dgates, t, b, j, G, d0, d1, d2, d3)
                if gated >= 0:
                    d_aux[t, b, j] = d_a
                # The gradients w.r.t. the hidden sides, for the product with W_hh.
                for k in range(G):
                    smem[d_start + k * H + j] = d_a if k == gated else dgates[k, t, b, j]
            if t > 0 and tbptt_steps > 0 and (T - t) % tbptt_steps == 0:
                dh_own, dc_own = zero, zero  # the state is a constant across this boundary
            elif stepwise:
                dh_own = direct  # the products are added by the caller
            else:
                cuda.syncthreads()
                acc = direct
                for e in range(GH):
                    if shared_weights:
                        acc += smem[d_start + e] * smem[w_start + e * H + j]
                    else:
                        acc += smem[d_start + e] * w_hh[e, j]
                dh_own = acc
            cuda.syncthreads()
        if active:
            dh[b, j] = dh_own
            if state:
                dc[b, j] = dc_own

    return kernel


def _samples_per_block(batch, hidden, samples_per_block):
    if samples_per_block is not None:
        per_block = int(samples_per_block)
        if not 1 <= per_block * hidden <= MAX_THREADS:
            raise ValueError(f"samples_per_block={per_block} with hidden size {hidden} "
                             f"needs {per_block * hidden} threads; the most is {MAX_THREADS}")
        return per_block
    # Enough blocks to occupy every multiprocessor, as few threads idle as possible.
    return max(1, min(BLOCK_THREADS // hidden, math.ceil(batch / (2 * multiprocessors()))))


def check_hidden(hidden):
    """Raise ``ValueError`` if the kernels cannot run a layer of this hidden size."""
    if hidden > MAX_THREADS:
        raise ValueError(f"the CUDA kernels support hidden sizes up to {MAX_THREADS}, "
                         f"got {hidden}")


class _Plan(NamedTuple):
    """How a recurrent kernel is launched: strategy, grid, block, shared memory."""

    persistent: bool
    blocks: int
    threads: int
    shared_weights: bool
    shared_bytes: int


def _plan(gates, per_sample, static_bytes, persistent, samples_per_block, shared_weights):
    """The launch of a recurrent kernel over ``gates`` (G, T, B, H).

    The kernel keeps ``per_sample`` values of each sample of its block in
    shared memory, has ``static_bytes`` of fixed shared arrays, and takes
    the strategy options of :func:`forward_steps`.
    """
    G, _, B, H = gates.shape
    check_hidden(H)
    persistent = H <= PERSISTENT_MAX_HIDDEN if persistent is None else persistent
    if persistent:
        per_block = _samples_per_block(B, H, samples_per_block)
    else:
        per_block, shared_weights = max(1, BLOCK_THREADS // H), False
    states = per_block * per_sample * gates.dtype.itemsize
    weights = G * H * H * gates.dtype.itemsize
    if shared_weights is None:
        shared_weights = states + weights + static_bytes <= SHARED_BYTES
    return _Plan(persistent, math.ceil(B / per_block), per_block * H, shared_weights,
                 states + weights * shared_weights)


def forward_steps(cell, x, params, states, hh, zero_state, persistent=None,
                  samples_per_block=None, shared_weights=None):
    """Run one layer forward: the input projections of all steps (:func:`project_inputs`),
    then the recurrence.

    Parameters
    ----------
    cell, x, params, states, hh, zero_state
        Records of device arrays and values as in
        :func:`seqforecast.cpu.layer.forward_steps` (``hh`` of shape (G, B, H)
        is the step-wise path's workspace).
    persistent : bool, optional
        One launch for all steps; default: hidden size up to
        :data:`PERSISTENT_MAX_HIDDEN`.
    samples_per_block : int, optional
        Samples per thread block of the persistent kernel.
    shared_weights : bool, optional
        Keep the recurrent weights in shared memory (default: when they fit).
    """
    kind, coupled_gates, relu = cell
    w_hh, b_hh, peephole = params.weight_hh, params.bias_hh, params.peephole
    h, c, gates, aux = states
    G, T, B, H = gates.shape
    project_inputs(cell, x, params, gates)
    plan = _plan(gates, H, 0, persistent, samples_per_block, shared_weights)
    launch = _forward_kernel(kind, gates.dtype)[plan.blocks, plan.threads, 0, plan.shared_bytes]
    if not plan.persistent:
        if zero_state:
            fill(h[0], 0)
            if BY_CODE[kind].cell_state:
                fill(c[0], 0)
        w_gates = w_hh.reshape(G, H, H)
        for t in range(T):
            matmul(h[t], w_gates, hh, trans_b=True)
            launch(coupled_gates, relu, t, t + 1, True, False, False, w_hh, b_hh, peephole, h,
                   c, gates, aux, hh)  # one step, use_hh: the products come from hh
        return
    # Read from global memory, the weights are transposed so that neighbouring units
    # read neighbouring addresses.
    w = w_hh if plan.shared_weights else transpose(w_hh)
    launch(coupled_gates, relu, 0, T, False, plan.shared_weights, zero_state, w, b_hh, peephole,
           h, c, gates, aux, hh)  # all steps, the products in the kernel


def backward_steps(cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates,
                   step_norms, zero_state, persistent=None, samples_per_block=None,
                   shared_weights=None):
    """Backpropagation through time for one layer, through the recurrence.

    Parameters
    ----------
    cell, params, states, d_h, dh, dc, tbptt_steps, clip_hidden_norm, d_gates
        Records of device arrays and values as in
        :func:`seqforecast.cpu.layer.backward_steps`.
    step_norms : device array of shape (T,), float64
        Receives ``||dL/dh_t||`` over the batch, before hidden clipping.
    zero_state : bool
        As in :func:`seqforecast.cpu.layer.backward_steps`.
    persistent, samples_per_block, shared_weights
        As in :func:`forward_steps`.
    """
    kind, coupled_gates, relu = cell
    w_hh, peephole = params.weight_hh, params.peephole
    h, c, gates, aux = states
    dgates, d_aux = d_gates
    G, T, B, H = gates.shape
    ungated = BY_CODE[kind].ungated_gates
    plan = _plan(gates, G * H, _ROWS_BYTES, persistent, samples_per_block, shared_weights)
    launch = _backward_kernel(kind, gates.dtype)[plan.blocks, plan.threads, 0, plan.shared_bytes]
    row_sq = empty((T, B), np.float64)  # each sample's ||dL/dh_t||^2
    if plan.persistent:
        launch(coupled_gates, relu, 0, T, False, plan.shared_weights, zero_state, tbptt_steps,
               clip_hidden_norm, w_hh, peephole, h, c, gates, aux, d_h, dh, dc, dgates, d_aux,
               row_sq)  # all steps
    else:
        for t in range(T - 1, -1, -1):
            # One step (stepwise: the products come after), no shared weights.
            launch(coupled_gates, relu, t, t + 1, True, False, zero_state and t == T - 1,
                   tbptt_steps, clip_hidden_norm, w_hh, peephole, h, c, gates, aux, d_h, dh, dc,
                   dgates, d_aux, row_sq)
            if t > 0 and tbptt_steps > 0 and (T - t) % tbptt_steps == 0:
                continue
            matmul(dgates[:ungated, t], w_hh[:ungated * H].reshape(ungated, H, H), dh,
                   accumulate=True)
            if ungated < G:  # the gated hidden side has its own gradient, d_aux
                matmul(d_aux[t], w_hh[ungated * H:], dh, accumulate=True)
    row_norms(row_sq, step_norms)


# -- products over all steps ------------------------------------------------------------


def project_inputs(cell, x, params, gates):
    """Input projections of every step, ``x_t @ W_ih.T + bias`` into ``gates`` (G, T, B, H),
    with the biases of :func:`seqforecast.cpu.layer.forward_steps`.

    One batched product over the gates, the biases added in its last pass.
    """
    kind, w_ih, b_ih, b_hh = cell.kind, params.weight_ih, params.bias_ih, params.bias_hh
    T, B, I = x.shape
    G, H = gates.shape[0], gates.shape[3]
    apart = BY_CODE[kind].gated_gate >= 0  # the cell adds the hidden-side biases itself
    matmul(view(x, shape=(T * B, I)), view(w_ih, shape=(G, H, I)),
           view(gates, shape=(G, T * B, H)), bias=view(b_ih, shape=(G, H)),
           bias_2=None if apart else view(b_hh, shape=(G, H)), trans_b=True)


def weight_gradients(cell, x, params, states, d_gates, dx, grads):
    """Parameter and input gradients, as :func:`seqforecast.cpu.layer.weight_gradients` and
    :func:`~seqforecast.cpu.layer.input_gradients` (which the CPU backend runs over blocks of
    gates and of samples) for the whole layer; ``dx`` (T, B, I), or (0, 0, 0) for none.

    Each product runs over all gates at once (batched), and ``dx`` sums
    over them in the same launch.
    """
    kind, w_ih, h, c = cell.kind, params.weight_ih, states.h, states.c
    dgates, d_aux = d_gates
    dw_ih, dw_hh, db_ih, db_hh, dpeephole = grads
    T, B, I = x.shape
    G, H = dgates.shape[0], dgates.shape[3]
    spec = BY_CODE[kind]
    ungated = spec.ungated_gates
    h_2d = view(h, 0, T, (T * B, H))
    d_in = view(dgates, shape=(G, T * B, H))
    x_2d = view(x, shape=(T * B, I))
    matmul(d_in, x_2d, view(dw_ih, shape=(G, H, I)), trans_a=True)
    column_sums(d_in, view(db_ih, shape=(G, H)))
    if dx.size:  # an empty dx: the input needs no gradient
        matmul(d_in, view(w_ih, shape=(G, H, I)), view(dx, shape=(T * B, I)))
    matmul(view(d_in, 0, ungated), h_2d, view(dw_hh, 0, ungated * H, (ungated, H, H)),
           trans_a=True)
    view(db_hh, 0, ungated * H).copy_to_device(view(db_ih, 0, ungated * H))
    if ungated < G:  # the gated hidden side has its own gradient, d_aux
        d_aux_2d = view(d_aux, shape=(T * B, H))
        matmul(d_aux_2d, h_2d, view(dw_hh, ungated * H), trans_a=True)
        column_sums(d_aux_2d, view(db_hh, ungated * H))
    c_2d = view(c, shape=((T + 1) * B, H)) if dpeephole.shape[0] else None
    for row, (k, offset) in enumerate(spec.peephole_rows[:dpeephole.shape[0]]):
        column_sums(view(d_in, k, k + 1, (T * B, H)), view(dpeephole, row, row + 1, (H,)),
                    view(c_2d, offset * B, (offset + T) * B))
