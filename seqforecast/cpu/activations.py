"""The CPU's versions of the cells' activations, bound when Numba compiles the equations.

When Numba compiles :func:`seqforecast.cells.activations.tanh` and ``sigmoid``
for the CPU, the float32 versions are replaced by a rational approximation
that needs no library call and therefore vectorises (about 8x faster than
``tanhf`` on AVX2/AVX-512); the float64 versions stay exact, so float64
results can be compared with other libraries to 1e-12.  The CPU kernels
import this module, which registers the overloads, before compiling.

The approximation ``tanh(x) ~ x P(x^2) / Q(x^2)`` on ``|x| <= 9`` was fitted
for this package (least squares on the relative error, see
``benchmarks/fit_tanh.py``); in float32 arithmetic its largest error over
[-12, 12] is 3.3e-7, a few units in the last place.
"""
import math

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from ..cells.activations import HALF, sigmoid, tanh

_CLAMP = np.float32(9.0)
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (
    np.float32(0.9999999879728251),
    np.float32(0.1307300823742656),
    np.float32(0.0030917538282988414),
    np.float32(1.1029540897313517e-05),
    np.float32(-1.9738630781607057e-08),
    np.float32(5.0552685516897676e-11),
    np.float32(-7.948135387573625e-14),
)
_Q0, _Q1, _Q2, _Q3 = (
    np.float32(1.0),
    np.float32(0.4640633228724605),
    np.float32(0.024446337046150735),
    np.float32(0.0002528537209016274),
)



@register_jitable(inline="always")
def rational_tanh(x):
    """float32 ``tanh`` without library calls (clamped rational approximation)."""
    x = min(max(x, -_CLAMP), _CLAMP)
    s = x * x
    p = _P0 + s * (_P1 + s * (_P2 + s * (_P3 + s * (_P4 + s * (_P5 + s * _P6)))))
    q = _Q0 + s * (_Q1 + s * (_Q2 + s * _Q3))
    return x * p / q


@overload(tanh, inline="always")
def _tanh_cpu(x):
    if x == types.float32:
        return rational_tanh
    return lambda x: math.tanh(x)


@overload(sigmoid, inline="always")
def _sigmoid_cpu(x):
    if x == types.float32:
        return lambda x: HALF + HALF * rational_tanh(HALF * x)
    return sigmoid
