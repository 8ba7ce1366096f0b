"""Elman RNN cell, one hidden unit of one sample at a time.

``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` with ``act`` tanh or relu.
The matrix products are done by the sequence kernels; these functions hold the
element-wise part, for every target.
"""
from .activations import ONE, ZERO, tanh


def rnn_forward(a, relu):
    """New hidden value from the pre-activation ``a``."""
    if relu:
        return a if a > ZERO else ZERO * a
    return tanh(a)


def rnn_backward(dh, h, relu):
    """Gradient w.r.t. the pre-activation, from ``dh = dL/dh_t`` and ``h_t``."""
    if relu:
        return dh if h > ZERO else ZERO * dh
    return dh * (ONE - h * h)
