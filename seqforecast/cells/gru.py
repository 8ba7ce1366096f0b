"""GRU cell in PyTorch's formulation (gate order r, z, n), one hidden unit at a time.

``x_*`` are the input-side pre-activations ``W_i* x_t + b_i*`` and ``m_*`` the
hidden-side ones ``W_h* h_{t-1} + b_h*``; they stay apart because the reset
gate multiplies the hidden side of the candidate::

    r = sigmoid(x_r + m_r)
    z = sigmoid(x_z + m_z)
    n = tanh(x_n + r m_n)
    h_t = (1 - z) n + z h_{t-1}

So the input projections hold ``x_*`` alone and the kernels add the
hidden-side biases to the ``m_*`` (the spec's ``gated_hidden_bias``); ``aux``
is ``m_n``, whose gradient (``d_aux``) differs from ``x_n``'s.
:mod:`seqforecast.cells.spec` describes the arguments, which every cell shares.
"""
from .activations import ONE, ZERO, sigmoid, tanh


def forward(x0, x1, x2, x3, m0, m1, m2, m3, h_prev, c_prev, p0, p1, p2, coupled_gates, relu):
    """One step forward, ``m`` with biases: return ``(r, z, n, 0, h_t, 0, m_n)``."""
    r = sigmoid(x0 + m0)
    z = sigmoid(x1 + m1)
    n = tanh(x2 + r * m2)
    return r, z, n, ZERO * n, (ONE - z) * n + z * h_prev, ZERO * n, m2


def backward(dh, dc, g0, g1, g2, g3, h_prev, c_prev, aux, p0, p1, p2, coupled_gates, relu):
    """One unit's step back from ``dh``.

    Return ``(dx_r, dx_z, dx_n, 0, dm_n, 0, dh z)``, ``dh z`` being the part
    of ``dL/dh_{t-1}`` that bypasses the weights.
    """
    r, z, n, m_n = g0, g1, g2, aux
    dx_n = dh * (ONE - z) * (ONE - n * n)
    dx_r = dx_n * m_n * r * (ONE - r)
    dx_z = dh * (h_prev - n) * z * (ONE - z)
    return dx_r, dx_z, dx_n, ZERO * dh, dx_n * r, ZERO * dh, dh * z
