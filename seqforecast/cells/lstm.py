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
"""
from .activations import ONE, ZERO, sigmoid, tanh


def lstm_forward(a_i, a_f, a_g, a_o, c_prev, p_i, p_f, p_o, coupled_gates):
    """Return ``(i, f, g, o, c_t, tanh(c_t), h_t)``."""
    i = sigmoid(a_i + p_i * c_prev)
    if coupled_gates:
        f = ONE - i
    else:
        f = sigmoid(a_f + p_f * c_prev)
    g = tanh(a_g)
    c = f * c_prev + i * g
    o = sigmoid(a_o + p_o * c)
    tc = tanh(c)
    return i, f, g, o, c, tc, o * tc


def lstm_backward(dh, dc, i, f, g, o, c_prev, tc, p_i, p_f, p_o, coupled_gates):
    """Back through one step.

    ``dh`` and ``dc`` are the total gradients w.r.t. ``h_t`` and (from step
    t+1 only) ``c_t``.  Return the gradients w.r.t. the four pre-activations
    and w.r.t. ``c_{t-1}``: ``(da_i, da_f, da_g, da_o, dc_prev)``.
    """
    da_o = dh * tc * o * (ONE - o)
    dc = dc + dh * o * (ONE - tc * tc) + da_o * p_o
    da_g = dc * i * (ONE - g * g)
    if coupled_gates:
        da_i = dc * (g - c_prev) * i * (ONE - i)
        da_f = ZERO * dc
    else:
        da_i = dc * g * i * (ONE - i)
        da_f = dc * c_prev * f * (ONE - f)
    dc_prev = dc * f + da_i * p_i + da_f * p_f
    return da_i, da_f, da_g, da_o, dc_prev
