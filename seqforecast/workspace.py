"""Arrays reused from one run of a computation to the next, on any device.

An :class:`Allocator` makes the arrays of one device (``numpy.empty`` on the
CPU, ``numba.cuda.device_array`` on the GPU) and knows the :class:`Workspace`
active in each thread; its :meth:`~Allocator.empty` and
:meth:`~Allocator.scratch` are what the kernels' callers allocate with: from
the active workspace (``with workspace:``), or new arrays outside one.

Fresh memory is slow: a device allocation costs about 0.2 ms on an H100,
twice a kernel launch, and on the CPU every page of a new array is zeroed by
the system the first time it is touched.  A computation that runs again and
again (a training step, a forward pass) takes its arrays from a workspace,
and allocates nothing after its first run.
"""
import threading

import numpy as np


class Allocator:
    """Where one device's arrays come from.

    Parameters
    ----------
    allocate : callable
        ``allocate(shape, dtype)``: a new uninitialised array.
    """

    def __init__(self, allocate):
        self.allocate = allocate
        self._active = threading.local()

    def workspace(self):
        """A new :class:`Workspace` of this allocator's arrays."""
        return Workspace(self)

    def empty(self, shape, dtype):
        """An uninitialised array: the active :class:`Workspace`'s, or a new one."""
        workspace = getattr(self._active, "workspace", None)
        if workspace is None:
            return self.allocate(_shape(shape), dtype)
        return workspace.take(shape, dtype)

    def scratch(self, shape, dtype):
        """An array to be done with before the caller returns; see :class:`Workspace`.

        On the GPU, launches run in order, so the next user of the same
        buffer cannot overwrite it before the kernels that read it have run.
        """
        workspace = getattr(self._active, "workspace", None)
        if workspace is None:
            return self.allocate(_shape(shape), dtype)
        return workspace.scratch(shape, dtype)


class Workspace:
    """Arrays kept from one run of a computation to the next.

    * Inside ``with workspace:``, the n-th array asked of
      :meth:`Allocator.empty` is the array that the n-th request of an
      earlier run with the same *layout* got.  Runs are told apart by the
      shape of their first request (e.g. the full batches of an epoch and
      its smaller last one); the arrays of the :attr:`LAYOUTS` most recent
      layouts are kept.
    * Buffers that a function is done with before it returns (the parts of
      a split product or reduction) come from :meth:`Allocator.scratch`:
      one per shape and dtype, however many requests a run makes.

    Arrays of one run are overwritten by the next run of its layout: a
    result that must outlive the run has to be copied out of it first.  A
    workspace serves one run at a time.

    Parameters
    ----------
    allocator : Allocator
    """

    #: How many layouts keep their arrays.
    LAYOUTS = 2

    def __init__(self, allocator):
        self._allocator = allocator
        self._layouts = {}  # first request's (shape, dtype) -> its arrays; most recent last
        self._scratch = {}
        self._arrays, self._next, self._outer, self._running = [], 0, None, False
        self._nbytes = 0  # of the arrays held, counted as they come and go

    def __enter__(self):
        if self._running:
            raise RuntimeError("this workspace is already serving a run")
        active = self._allocator._active
        self._running, self._next = True, 0
        self._outer, active.workspace = getattr(active, "workspace", None), self
        return self

    def __exit__(self, *exc_info):
        self._allocator._active.workspace, self._running = self._outer, False

    def take(self, shape, dtype):
        """The next array of this run, of the given shape and dtype."""
        index = self._next
        if 0 < index < len(self._arrays) and type(shape) is tuple:  # the common case first:
            kept = self._arrays[index]  # a later request of a run that has been before
            if kept is not None and kept.shape == shape and kept.dtype == dtype:
                self._next = index + 1
                return kept
        key = (_shape(shape), np.dtype(dtype))
        if self._next == 0:
            self._arrays = self._layouts.pop(key, [])
            self._layouts[key] = self._arrays
            while len(self._layouts) > self.LAYOUTS:
                self._nbytes -= _nbytes(self._layouts.pop(next(iter(self._layouts))))
        index, self._next = self._next, self._next + 1
        if index == len(self._arrays):
            self._arrays.append(None)
        kept = self._arrays[index]
        if kept is None or (kept.shape, kept.dtype) != key:
            self._nbytes -= _nbytes([kept])
            kept = self._arrays[index] = self._allocator.allocate(*key)
            self._nbytes += kept.nbytes
        return kept

    def scratch(self, shape, dtype):
        """This workspace's buffer of the given shape and dtype."""
        key = (_shape(shape), np.dtype(dtype))
        if key not in self._scratch:
            self._scratch[key] = self._allocator.allocate(*key)
            self._nbytes += self._scratch[key].nbytes
        return self._scratch[key]

    def clear(self):
        """Let go of all arrays (freed once nothing else refers to them)."""
        self._layouts.clear()
        self._scratch.clear()
        self._arrays, self._nbytes = [], 0

    @property
    def nbytes(self):
        """Bytes of the arrays the workspace holds."""
        return self._nbytes

    @property
    def n_arrays(self):
        """How many arrays the workspace holds."""
        return sum(map(len, self._layouts.values())) + len(self._scratch)


def _nbytes(arrays):
    """Bytes of the arrays of a list that holds arrays and Nones."""
    return sum(array.nbytes for array in arrays if array is not None)


def _shape(shape):
    if isinstance(shape, tuple):  # the common case, kept cheap: a workspace serves every step
        return shape
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
