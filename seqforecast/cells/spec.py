"""The cell specification: one record per cell kind, the one place a cell is described.

Everything that depends on the kind of cell reads it from :data:`SPECS`: the
kernels' dispatch codes and gate counts (:mod:`seqforecast.cpu.layer`,
:mod:`seqforecast.cuda.layer`), the parameter layout and validation of
:class:`seqforecast.recurrent.Cell`, the estimators' registry
(:data:`seqforecast.estimators.REGRESSORS`, checked against it at import), the
command line's model list and the NumPy reference's gate table
(``tests/reference.py``).  The element-wise equations live in the cell's own
module (:mod:`~seqforecast.cells.rnn`, :mod:`~seqforecast.cells.lstm`,
:mod:`~seqforecast.cells.gru`); the record points to them.
"""
from dataclasses import dataclass
from typing import Callable, Optional

from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward


@dataclass(frozen=True)
class CellSpec:
    """What a recurrent cell is, in the terms every layer of the package needs.

    Attributes
    ----------
    name : str
        The cell's name in the API ('lstm'): ``Cell(kind=name)``, the
        forecaster's ``regressor=name``, the command line's ``--model``.
    code : int
        Its dispatch constant in the compiled kernels.
    gates : tuple of str
        The gate blocks of the weight matrices, in PyTorch's order: ``G =
        len(gates)`` blocks of ``H`` rows in ``weight_ih`` (G*H, I),
        ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,).
    cell_state : bool
        Whether it carries a cell state ``c`` besides ``h``.
    aux : str or None
        What the kernels' auxiliary buffer (T, B, H) holds for the backward
        pass, or None when it holds nothing.
    gated_hidden_bias : tuple of str
        Gates whose hidden-side pre-activation (bias included) another gate
        multiplies, so that their ``bias_hh`` cannot be added with ``bias_ih``
        before the time loop (the GRU's candidate ``n``, scaled by ``r``).
    options : tuple of str
        The cell's own options of :class:`~seqforecast.recurrent.Cell`.
    forward, backward : callable
        Its element-wise equations for one hidden unit (scalars in, scalars
        out), which each target's kernels compile from here.
    """

    name: str
    code: int
    gates: tuple
    cell_state: bool
    aux: Optional[str]
    gated_hidden_bias: tuple
    options: tuple
    forward: Callable
    backward: Callable

    @property
    def n_gates(self):
        """``G``, the number of gate blocks."""
        return len(self.gates)


SPECS = {spec.name: spec for spec in (
    CellSpec("rnn", 0, gates=("h",), cell_state=False, aux=None,
             gated_hidden_bias=(), options=("activation",),
             forward=rnn_forward, backward=rnn_backward),
    CellSpec("lstm", 1, gates=("i", "f", "g", "o"), cell_state=True,
             aux="tanh(c_t)", gated_hidden_bias=(), options=("peephole", "coupled_gates"),
             forward=lstm_forward, backward=lstm_backward),
    CellSpec("gru", 2, gates=("r", "z", "n"), cell_state=False,
             aux="W_hn h_{t-1} + b_hn", gated_hidden_bias=("n",), options=(),
             forward=gru_forward, backward=gru_backward),
)}

# The kernels' dispatch codes, and gate counts by code.
RNN, LSTM, GRU = (SPECS[name].code for name in ("rnn", "lstm", "gru"))
N_GATES = {spec.code: spec.n_gates for spec in SPECS.values()}
