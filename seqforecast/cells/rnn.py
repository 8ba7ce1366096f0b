"""Elman RNN cell, one hidden unit of one sample at a time.

``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` with ``act`` tanh or relu
(``relu``).  :mod:`seqforecast.cells.spec` describes the arguments, which
every cell shares.
"""
from .activations import ONE, ZERO, tanh


def forward(x0, x1, x2, x3, m0, m1, m2, m3, h_prev, c_prev, p0, p1, p2, coupled_gates, relu):
    """One unit's step forward: return ``(h_t, 0, 0, 0, h_t, 0, 0)``."""
    a = x0 + m0
    if relu:
        h = a if a > ZERO else ZERO * a
    else:
        h = tanh(a)
    return h, ZERO * h, ZERO * h, ZERO * h, h, ZERO * h, ZERO * h


def backward(dh, dc, g0, g1, g2, g3, h_prev, c_prev, aux, p0, p1, p2, coupled_gates, relu):
    """One unit's step back from ``dh``: return ``(da, 0, 0, 0, 0, 0, 0)``."""
    if relu:
        da = dh if g0 > ZERO else ZERO * dh
    else:
        da = dh * (ONE - g0 * g0)
    return da, ZERO * dh, ZERO * dh, ZERO * dh, ZERO * dh, ZERO * dh, ZERO * dh
