"""Device arrays reused from one run of a computation to the next.

:class:`Workspace` keeps the arrays of a repeated computation (a training
step, a forward pass), and :func:`empty` and :func:`scratch` are what the
kernels' callers allocate with: from the workspace active in the current
thread (``with workspace:``), or new device arrays outside one.
"""
import threading

import numpy as np
from numba import cuda

_active = threading.local()


class Workspace:
    """Device arrays kept from one run of a computation to the next.

    A device allocation costs about 0.2 ms on an H100, twice a kernel
    launch: a computation that runs again and again (a training step, a
    forward pass) takes its arrays from a workspace, and allocates nothing
    after its first run.

    * Inside ``with workspace:``, the n-th array asked of :func:`empty` is
      the array that the n-th request of an earlier run with the same
      *layout* got.  Runs are told apart by the shape of their first
      request (e.g. the full batches of an epoch and its smaller last one);
      the arrays of the :attr:`LAYOUTS` most recent layouts are kept.
    * Buffers that a function is done with before it returns (the parts of
      a split product or reduction) come from :func:`scratch`: one per
      shape and dtype, however many requests a run makes.

    Arrays of one run are overwritten by the next run of its layout: a
    result that must outlive the run has to be copied out of it first.  A
    workspace serves one run at a time.
    """

    #: How many layouts keep their arrays.
    LAYOUTS = 2

    def __init__(self):
        self._layouts = {}  # first request's (shape, dtype) -> its arrays; most recent last
        self._scratch = {}
        self._arrays, self._next, self._outer, self._running = [], 0, None, False

    def __enter__(self):
        if self._running:
            raise RuntimeError("this workspace is already serving a run")
        self._running, self._next = True, 0
        self._outer, _active.workspace = getattr(_active, "workspace", None), self
        return self

    def __exit__(self, *exc_info):
        _active.workspace, self._running = self._outer, False

    def take(self, shape, dtype):
        """The next array of this run, of the given shape and dtype."""
        key = (_shape(shape), np.dtype(dtype))
        if self._next == 0:
            self._arrays = self._layouts.pop(key, [])
            self._layouts[key] = self._arrays
            while len(self._layouts) > self.LAYOUTS:
                del self._layouts[next(iter(self._layouts))]
        index, self._next = self._next, self._next + 1
        if index == len(self._arrays):
            self._arrays.append(None)
        kept = self._arrays[index]
        if kept is None or (kept.shape, kept.dtype) != key:
            kept = self._arrays[index] = cuda.device_array(*key)
        return kept

    def scratch(self, shape, dtype):
        """This workspace's buffer of the given shape and dtype."""
        key = (_shape(shape), np.dtype(dtype))
        if key not in self._scratch:
            self._scratch[key] = cuda.device_array(*key)
        return self._scratch[key]

    def clear(self):
        """Let go of all arrays (freed once nothing else refers to them)."""
        self._layouts.clear()
        self._scratch.clear()
        self._arrays = []

    @property
    def n_arrays(self):
        """How many arrays the workspace holds."""
        return sum(map(len, self._layouts.values())) + len(self._scratch)


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)


def empty(shape, dtype):
    """An uninitialised device array: the active :class:`Workspace`'s, or a new one."""
    workspace = getattr(_active, "workspace", None)
    if workspace is None:
        return cuda.device_array(_shape(shape), dtype)
    return workspace.take(shape, dtype)


def scratch(shape, dtype):
    """A device array to be done with before the caller returns; see :class:`Workspace`.

    Launches run in order, so the next user of the same buffer cannot
    overwrite it before the kernels that read it have run.
    """
    workspace = getattr(_active, "workspace", None)
    if workspace is None:
        return cuda.device_array(_shape(shape), dtype)
    return workspace.scratch(shape, dtype)
