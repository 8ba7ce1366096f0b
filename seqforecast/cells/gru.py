"""GRU cell in PyTorch's formulation (gate order r, z, n), one hidden unit at a time.

``x_*`` are the input-side pre-activations ``W_i* x_t + b_i*`` and ``m_*`` the
hidden-side ones ``W_h* h_{t-1} + b_h*``; they stay apart because the reset
gate multiplies the hidden side of the candidate::

    r = sigmoid(x_r + m_r)
    z = sigmoid(x_z + m_z)
    n = tanh(x_n + r m_n)
    h_t = (1 - z) n + z h_{t-1}
"""
from .activations import ONE, sigmoid, tanh


def gru_forward(x_r, x_z, x_n, m_r, m_z, m_n, h_prev):
    """Return ``(r, z, n, h_t)``."""
    r = sigmoid(x_r + m_r)
    z = sigmoid(x_z + m_z)
    n = tanh(x_n + r * m_n)
    return r, z, n, (ONE - z) * n + z * h_prev


def gru_backward(dh, r, z, n, m_n, h_prev):
    """Back through one step from ``dh = dL/dh_t``.

    Return ``(dx_r, dx_z, dx_n, dm_n, dh_direct)``: the gradients w.r.t. the
    input-side pre-activations (the hidden-side ones are the same for r and
    z), w.r.t. ``m_n``, and the part of ``dL/dh_{t-1}`` that bypasses the
    weights (``dh z``).
    """
    dx_n = dh * (ONE - z) * (ONE - n * n)
    dx_r = dx_n * m_n * r * (ONE - r)
    dx_z = dh * (h_prev - n) * z * (ONE - z)
    return dx_r, dx_z, dx_n, dx_n * r, dh * z
