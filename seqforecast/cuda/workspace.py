"""The GPU's arrays: device arrays reused from one run of a computation to the next,
and their views.

:func:`empty` and :func:`scratch` are what the kernels' callers allocate
with, from the :class:`Workspace` active in the current thread (``with
workspace:``) or as new device arrays; see :mod:`seqforecast.workspace`.
:func:`view` slices and reshapes them, once per array.
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


def view(a, start=None, stop=None, shape=None):
    """``a[start:stop]`` (along the first axis), reshaped to ``shape`` if given, made once
    per array and kept on it.

    numba-cuda takes about 40 us to slice a device array and 7 us to reshape
    one (measured on an H200's host), and a training step slices and
    reshapes the same arrays (its workspace's, the parameters') each time.
    A view shares ``a``'s memory, so it stays valid as long as ``a`` does.
    """
    views = getattr(a, "seqforecast_views", None)
    key = start, stop, shape
    found = None if views is None else views.get(key)
    if found is None:
        found = a if start is None and stop is None else a[start:stop]
        if shape is not None:
            found = found.reshape(*shape)
        if views is None:
            try:
                views = a.seqforecast_views = {}
            except AttributeError:  # an array that takes no attributes: made anew each time
                return found
        views[key] = found
    return found
