"""Gradient clipping, the classic remedy for exploding gradients in recurrent nets.

Each function clips a list of gradient arrays in place and returns the norm(s)
measured before clipping, so a training loop can record how often and how hard
it clipped.  Per-step clipping of ``dL/dh_t`` inside BPTT is the
``clip_hidden_norm`` option of :func:`seqforecast.recurrent.backward`.
"""
import numpy as np


def global_norm(grads):
    """L2 norm of all gradient arrays taken together.

    Parameters
    ----------
    grads : list of ndarray

    Returns
    -------
    float
    """
    return float(np.sqrt(sum(_squared_norm(g) for g in grads)))


def _squared_norm(g):
    """Sum of squares, accumulated in float64 (float32 overflows for exploding gradients)."""
    flat = g.ravel().astype(np.float64)
    return float(np.dot(flat, flat))


def clip_by_value(grads, clip_value):
    """Clamp every gradient entry to ``[-clip_value, clip_value]``, in place.

    Parameters
    ----------
    grads : list of ndarray
    clip_value : float
        Positive bound.

    Returns
    -------
    float
        The global norm before clipping.
    """
    check_threshold("clip_value", clip_value)
    norm = global_norm(grads)
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
    return norm


def clip_by_norm(grads, max_norm):
    """Rescale each gradient array whose L2 norm exceeds ``max_norm``, in place.

    Parameters
    ----------
    grads : list of ndarray
    max_norm : float

    Returns
    -------
    ndarray of shape (len(grads),)
        Each array's norm before clipping.
    """
    check_threshold("max_norm", max_norm)
    norms = np.sqrt([_squared_norm(g) for g in grads])
    for g, norm in zip(grads, norms):
        if np.isfinite(norm) and norm > max_norm:
            g *= g.dtype.type(max_norm / norm)
    return norms


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    The direction of the whole update is kept (Pascanu et al. 2013).

    Parameters
    ----------
    grads : list of ndarray
    max_norm : float

    Returns
    -------
    float
        The global norm before clipping.  If it is not finite the gradients
        are left as they are: no rescaling can repair them, and the caller
        must see the divergence.
    """
    check_threshold("max_norm", max_norm)
    norm = global_norm(grads)
    if np.isfinite(norm) and norm > max_norm:
        for g in grads:
            g *= g.dtype.type(max_norm / norm)
    return norm


def check_threshold(name, value):
    """Raise ``ValueError`` unless ``value``, the argument ``name``, is positive and finite."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
