"""LSTM cell (PyTorch's gate order i, f, g, o), one hidden unit at a time.

Pre-activations ``a_i, a_f, a_g, a_o`` are ``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh``
split in four.  Two variants are parameters of the same equations:

* peephole connections (Gers & Schmidhuber 2000): diagonal weights
  ``p_i, p_f`` let the input and forget gates see ``c_{t-1}`` and ``p_o`` lets
  the output gate see ``c_t``; with ``p = 0`` this is the plain LSTM;
* coupled input-forget gate: ``f = 1 - i`` (the forget-gate rows of the
  weights are then unused and receive zero gradient).

::

    i = sigmoid(a_i + p_i c_{t-1})
    f = sigmoid(a_f + p_f c_{t-1})      or  f = 1 - i  (coupled_gates)
    g = tanh(a_g)
    c_t = f c_{t-1} + i g
    o = sigmoid(a_o + p_o c_t)
    h_t = o tanh(c_t)

The unit equations' ``p0, p1, p2`` are ``p_i, p_f, p_o``, and ``aux`` is
``tanh(c_t)``; :mod:`seqforecast.cells.spec` describes the arguments, which
every cell shares.
"""
from .activations import ONE, ZERO, sigmoid, tanh


def forward(x0, x1, x2, x3, m0, m1, m2, m3, h_prev, c_prev, p0, p1, p2, coupled_gates, relu):
    """One unit's step forward: return ``(i, f, g, o, h_t, c_t, tanh(c_t))``."""
    i = sigmoid(x0 + m0 + p0 * c_prev)
    if coupled_gates:
        f = ONE - i
    else:
        f = sigmoid(x1 + m1 + p1 * c_prev)
    g = tanh(x2 + m2)
    c = f * c_prev + i * g
    o = sigmoid(x3 + m3 + p2 * c)
    tc = tanh(c)
    return i, f, g, o, o * tc, c, tc


def backward(dh, dc, g0, g1, g2, g3, h_prev, c_prev, aux, p0, p1, p2, coupled_gates, relu):
    """One unit's step back from ``dh`` and ``dc`` (from step t+1 only).

    Return ``(da_i, da_f, da_g, da_o, 0, dc_{t-1}, 0)``.
    """
    i, f, g, o, tc = g0, g1, g2, g3, aux
    da_o = dh * tc * o * (ONE - o)
    dc = dc + dh * o * (ONE - tc * tc) + da_o * p2
    da_g = dc * i * (ONE - g * g)
    if coupled_gates:
        da_i = dc * (g - c_prev) * i * (ONE - i)
        da_f = ZERO * dc
    else:
        da_i = dc * g * i * (ONE - i)
        da_f = dc * c_prev * f * (ONE - f)
    return da_i, da_f, da_g, da_o, ZERO * dh, dc * f + da_i * p0 + da_f * p1, ZERO * dh
