"""Scalar activation functions shared by every cell and every target.

``tanh`` and ``sigmoid`` are plain Python functions (exact, from :mod:`math`),
so the cell equations that call them run unchanged in pure Python.  Each
target binds them to its own versions when it compiles the equations: the
CPU's float32 rational approximation (:mod:`seqforecast.cpu.activations`),
the GPU's device functions (:mod:`seqforecast.cuda.layer`).

Constants are float32 so that float32 arithmetic stays float32 (a Python
``1.0`` would promote every expression to float64); in float64 code they
promote exactly.
"""
import math

import numpy as np

ZERO = np.float32(0.0)
ONE = np.float32(1.0)
HALF = np.float32(0.5)


def tanh(x):
    """Hyperbolic tangent of a scalar."""
    return math.tanh(x)


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))`` of a scalar, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
