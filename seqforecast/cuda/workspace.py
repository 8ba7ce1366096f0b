"""The GPU's arrays: device arrays reused from one run of a computation to the next.

:func:`empty` and :func:`scratch` are what the kernels' callers allocate
with, from the :class:`Workspace` active in the current thread (``with
workspace:``) or as new device arrays; see :mod:`seqforecast.workspace`.
"""
from numba import cuda

from .. import workspace

#: The device's allocator (``numba.cuda.device_array``, looked up at each call).
DEVICE = workspace.Allocator(lambda shape, dtype: cuda.device_array(shape, dtype))
empty, scratch = DEVICE.empty, DEVICE.scratch


class Workspace(workspace.Workspace):
    """A :class:`seqforecast.workspace.Workspace` of device arrays."""

    def __init__(self):
        super().__init__(DEVICE)
