"""The cell specification: one record per cell kind, the one place a cell is described.

Everything that depends on the kind of cell reads it from :data:`SPECS`: the
kernels of both targets (:mod:`seqforecast.cpu.layer`,
:mod:`seqforecast.cuda.layer`) compile the cell's unit equations into their
loops and take its gate count, biases, peepholes and buffers from here; so do
the parameter layout and validation of :class:`seqforecast.recurrent.Cell`,
the estimators' registry (:data:`seqforecast.estimators.REGRESSORS`, checked
against it at import), the command line's model list, and the tests' cell
lists and reference gate table.  The equations live in the cell's own module
(:mod:`~seqforecast.cells.rnn`, :mod:`~seqforecast.cells.lstm`,
:mod:`~seqforecast.cells.gru`); the record points to them.

The unit equations
------------------
Every cell's ``forward`` and ``backward`` have the same arguments and results,
so that the kernels of both targets call any cell the same way.  They are
plain Python on scalars, one hidden unit of one sample at one step; each
target compiles them with its own ``tanh`` and ``sigmoid``
(:mod:`seqforecast.cells.activations`), and its kernels do the reading and
writing::

    forward(x0, x1, x2, x3, m0, m1, m2, m3, h_prev, c_prev, p0, p1, p2,
            coupled_gates, relu) -> (g0, g1, g2, g3, h_t, c_t, aux)
    backward(dh, dc, g0, g1, g2, g3, h_prev, c_prev, aux, p0, p1, p2,
             coupled_gates, relu) -> (d0, d1, d2, d3, d_aux, dc_prev, skip)

* ``x_k``: gate k's input projection, ``W_ih x_t + b_ih`` plus ``b_hh``
  unless the cell keeps its hidden-side biases apart (``gated_hidden_bias``);
* ``m_k``: gate k's hidden-side product ``W_hh h_{t-1}``, plus ``b_hh`` when
  kept apart;
* ``h_prev``, ``c_prev``: the unit's ``h_{t-1}`` and ``c_{t-1}``;
* ``p0 .. p2``: the unit's diagonal weights, one per ``peepholes`` row (zeros
  when the option is off);
* ``g_k``: the activated gates, which the backward pass reads back; ``aux``:
  what the spec's ``aux`` names;
* ``dh``, ``dc``: the unit's total ``dL/dh_t`` and ``dL/dc_t`` (the latter
  from step t+1 only); ``d_k``: the gradients w.r.t. the gates'
  pre-activations (input side); ``d_aux``: w.r.t. the gated hidden side;
  ``dc_prev``: ``dL/dc_{t-1}``; ``skip``: the part of ``dL/dh_{t-1}`` that
  bypasses the weights;
* ``coupled_gates``, ``relu``: the options of :class:`~seqforecast.recurrent.Cell`.

Past a cell's gates, peepholes and states the arguments are zeros and the
results are ignored (return zeros there); a kernel reads and writes only what
the spec says the cell has.
"""
from dataclasses import dataclass
from typing import Callable, Optional

from . import gru, lstm, rnn

#: Gates and peephole rows a cell may have (the unit equations' ``x0 .. x3`` and
#: ``p0 .. p2``; the GPU kernels keep them in registers).
MAX_GATES, MAX_PEEPHOLES = 4, 3


@dataclass(frozen=True)
class CellSpec:
    """What a recurrent cell is, in the terms every layer of the package needs.

    Attributes
    ----------
    name : str
        The cell's name in the API ('lstm'): ``Cell(kind=name)``, the
        forecaster's ``regressor=name``, the command line's ``--model``.
    code : int
        Its number in the compiled kernels: the codes are 0, 1, 2, ...
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
        At most one gate, the last, whose hidden-side pre-activation (bias
        included) another gate multiplies (the GRU's candidate ``n``, scaled
        by ``r``).  Its hidden side then has its own gradient (``d_aux``),
        and the cell adds all its hidden-side biases itself: the input
        projections hold ``W_ih x_t + b_ih`` alone.
    skip : bool
        Whether ``h_{t-1}`` also reaches ``h_t`` around the weights (the
        GRU's ``z h_{t-1}``): ``backward``'s second result is then added to
        ``dL/dh_{t-1}``.
    peepholes : tuple of (str, int)
        Diagonal weights (option ``peephole``), one row each: the gate whose
        pre-activation gets ``p * c``, and which cell state it sees, -1 for
        ``c_{t-1}`` and 0 for ``c_t``.
    options : tuple of str
        The cell's own options of :class:`~seqforecast.recurrent.Cell`.
    forward, backward : callable
        Its unit equations (see the module's docstring).
    """

    name: str
    code: int
    gates: tuple
    cell_state: bool
    aux: Optional[str]
    gated_hidden_bias: tuple
    skip: bool
    peepholes: tuple
    options: tuple
    forward: Callable
    backward: Callable

    def __post_init__(self):
        if not 1 <= self.n_gates <= MAX_GATES or len(self.peepholes) > MAX_PEEPHOLES:
            raise ValueError(f"a cell has 1 to {MAX_GATES} gates and at most {MAX_PEEPHOLES} "
                             f"peepholes, {self.name!r} has {self.gates}, {self.peepholes}")
        if self.gated_hidden_bias not in ((), self.gates[-1:]):
            raise ValueError(f"only the last gate's hidden bias can be gated, {self.name!r} "
                             f"gates {self.gated_hidden_bias}")
        if self.gated_hidden_bias and not self.aux:
            raise ValueError(f"{self.name!r}: a gated hidden side needs the aux buffer")

    @property
    def n_gates(self):
        """``G``, the number of gate blocks."""
        return len(self.gates)

    @property
    def gated_gate(self):
        """The index of the gate in ``gated_hidden_bias``, or -1."""
        return self.n_gates - 1 if self.gated_hidden_bias else -1

    @property
    def ungated_gates(self):
        """How many gates, from the first, share their hidden side's gradient with the input
        side's: all but the gated one, which comes last."""
        return self.n_gates - bool(self.gated_hidden_bias)

    @property
    def peephole_rows(self):
        """Per row of the diagonal weights: ``(gate index, offset into c)``, ``c[t + offset]``
        being the state that gate sees at step ``t``."""
        return tuple((self.gates.index(gate), sees + 1) for gate, sees in self.peepholes)


SPECS = {spec.name: spec for spec in (
    CellSpec("rnn", 0, gates=("h",), cell_state=False, aux=None, gated_hidden_bias=(),
             skip=False, peepholes=(), options=("activation",),
             forward=rnn.forward, backward=rnn.backward),
    CellSpec("lstm", 1, gates=("i", "f", "g", "o"), cell_state=True, aux="tanh(c_t)",
             gated_hidden_bias=(), skip=False, peepholes=(("i", -1), ("f", -1), ("o", 0)),
             options=("peephole", "coupled_gates"),
             forward=lstm.forward, backward=lstm.backward),
    CellSpec("gru", 2, gates=("r", "z", "n"), cell_state=False, aux="W_hn h_{t-1} + b_hn",
             gated_hidden_bias=("n",), skip=True, peepholes=(), options=(),
             forward=gru.forward, backward=gru.backward),
)}

# -- moving a unit's values between the kernels' arrays and the unit equations ----------
# Plain functions, compiled like the equations (``read_diag`` by both targets; the CPU
# reads and writes gates through per-step row views, see seqforecast.cpu.layer); ``n`` is
# a constant of the calling kernel, so what lies past a cell's gates or peepholes is never
# touched.


def read_gates(a, t, b, j, n, zero):
    """``(a[0, t, b, j], ..., a[3, t, b, j])``, zeros past the first ``n`` gates."""
    return (a[0, t, b, j], a[1, t, b, j] if n > 1 else zero, a[2, t, b, j] if n > 2 else zero,
            a[3, t, b, j] if n > 3 else zero)


def write_gates(a, t, b, j, n, v0, v1, v2, v3):
    """``a[k, t, b, j] = v_k`` for the first ``n`` gates."""
    a[0, t, b, j] = v0
    if n > 1:
        a[1, t, b, j] = v1
    if n > 2:
        a[2, t, b, j] = v2
    if n > 3:
        a[3, t, b, j] = v3


def read_diag(diag, j, n, zero):
    """The unit's diagonal weights ``(p0, p1, p2)``, zeros past the first ``n`` rows."""
    return (diag[0, j] if n > 0 else zero, diag[1, j] if n > 1 else zero,
            diag[2, j] if n > 2 else zero)


#: The specs in the order of their codes, ``BY_CODE[spec.code] is spec``.
BY_CODE = tuple(sorted(SPECS.values(), key=lambda spec: spec.code))
if [spec.code for spec in BY_CODE] != list(range(len(BY_CODE))):
    raise ValueError("the cells' codes must be 0, 1, 2, ...")
