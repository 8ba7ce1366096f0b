"""Named records of what the layer kernels take, on both devices.

:mod:`seqforecast.recurrent` builds them for each layer of a stack and hands
them to a backend's layer kernels (:mod:`seqforecast.cpu.layer`,
:mod:`seqforecast.cuda.layer`); Numba compiles the CPU kernels for them as
it does for tuples.  For a layer with ``G`` gates (``CellSpec.gates``),
hidden size ``H``, input size ``I``, ``T`` steps and ``B`` samples:
"""
from typing import NamedTuple


class CellArgs(NamedTuple):
    """The cell as the kernels see it.

    Attributes
    ----------
    kind : int
        The cell's code (``CellSpec.code``), which selects its kernels.
    coupled_gates : bool
        LSTM with coupled input-forget gate, ``f = 1 - i``.
    relu : bool
        Elman RNN with relu instead of tanh.
    """

    kind: int
    coupled_gates: bool
    relu: bool


class LayerParams(NamedTuple):
    """A layer's parameters, or their gradients, in PyTorch's layouts.

    Attributes
    ----------
    weight_ih : array of shape (G*H, I)
    weight_hh : array of shape (G*H, H)
    bias_ih, bias_hh : array of shape (G*H,)
    peephole : array of shape (P, H) or (0, H)
        The diagonal weights, one row per ``CellSpec.peepholes`` (the LSTM's
        i, f, o).  As parameters, zeros for a layer without peepholes; as
        gradients, (0, H) for such a layer (no gradient is computed).
    """

    weight_ih: object
    weight_hh: object
    bias_ih: object
    bias_hh: object
    peephole: object


class LayerStates(NamedTuple):
    """A layer's arrays of a forward pass, kept for the backward pass.

    Attributes
    ----------
    h : array of shape (T+1, B, H)
        ``h[0]`` the initial state, ``h[t]`` the output of step ``t``.
    c : array of shape (T+1, B, H), or (0, 0, 0) without a cell state
        The cell states (``CellSpec.cell_state``), laid out like ``h``.
    gates : array of shape (G, T, B, H)
        The activated gates (gate-major: ``gates[k, t]`` is a (B, H) block).
    aux : array of shape (T, B, H), or (0, 0, 0)
        What the cell's backward pass also needs (``CellSpec.aux``).
    """

    h: object
    c: object
    gates: object
    aux: object


class GateGradients(NamedTuple):
    """Gradients w.r.t. a layer's gate pre-activations, from the backward recurrence.

    Attributes
    ----------
    gates : array of shape (G, T, B, H)
        W.r.t. each gate's pre-activation (its input side).
    aux : array of shape (T, B, H), or (0, 0, 0)
        W.r.t. a gated hidden side (``CellSpec.gated_hidden_bias``: the
        GRU's ``W_hn h_{t-1} + b_hn``), the only hidden-side pre-activation
        whose gradient differs from the input side's.
    """

    gates: object
    aux: object
