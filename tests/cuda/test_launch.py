"""The direct launch path of :class:`seqforecast.cuda.launch.Kernel`, on stand-ins.

It needs a GPU to launch anything; here numba-cuda's dispatcher, compiled
kernel, device array and ``cuda.core``'s launch are replaced by stand-ins
that record what they are given, to check which path each launch takes and
what the direct path passes.  ``tests/cuda/test_cuda.py`` compares the two
paths' results on a GPU.
"""
import ctypes
from types import SimpleNamespace

import numpy as np
import pytest

from seqforecast import config
from seqforecast.cuda import launch


class DeviceArray:
    """Stands for numba-cuda's ``DeviceNDArray``: its dtype, ndim and memory-view shim."""

    def __init__(self, a):
        self.dtype, self.ndim = a.dtype, a.ndim
        self._strided_memory_view_shim = SimpleNamespace(
            ptr=a.ctypes.data, shape=a.shape, dtype=a.dtype, size=a.size,
            _layout=SimpleNamespace(strides_in_bytes=a.strides,
                                    is_contiguous_c=a.flags.c_contiguous,
                                    is_contiguous_f=a.flags.f_contiguous))


def numba_type(value):
    if isinstance(value, DeviceArray):
        layout = value._strided_memory_view_shim._layout
        return "array", value.dtype, value.ndim, layout.is_contiguous_c
    return tuple(map(numba_type, value)) if type(value) is tuple else type(value)


class Compiled:
    """Stands for a compiled kernel; ``_prepare_args`` packs as numba-cuda 0.30 does."""

    debug = cooperative = launch_config_sensitive = False

    def __init__(self, argument_types, shift=0):
        self.argument_types, self.shift = argument_types, shift
        self._codelibrary = SimpleNamespace(get_cufunc=lambda: SimpleNamespace(kernel=self))

    def _prepare_args(self, ty, value, stream, retr, out):
        if isinstance(value, DeviceArray):
            view = value._strided_memory_view_shim
            out.extend([0, 0, view.size, view.dtype.itemsize, view.ptr + self.shift,
                        *view.shape, *view._layout.strides_in_bytes])
        elif type(value) is tuple:
            for t, v in zip(ty, value):
                self._prepare_args(t, v, stream, retr, out)
        elif type(value) in (bool, np.bool_):
            out.append(value)
        else:
            ctype = {int: ctypes.c_int64, float: ctypes.c_double, np.float32: ctypes.c_float,
                     np.float64: ctypes.c_double}[type(value)]
            out.append(ctype(value))


class Dispatcher:
    """Stands for numba-cuda's dispatcher: compiles on a launch, records launches."""

    extensions = None

    def __init__(self, log, shift=0):
        self.overloads, self.log, self.shift = {}, log, shift

    def typeof_pyval(self, value):
        return numba_type(value)

    def __getitem__(self, configuration):
        return Configured(self, configuration)


class Configured:
    """Stands for numba-cuda's configured launch."""

    stream = "default stream"

    def __init__(self, dispatcher, configuration):
        self.dispatcher, self.configuration = dispatcher, configuration

    def __call__(self, *args):
        signature = tuple(map(numba_type, args))
        self.dispatcher.overloads.setdefault(signature, Compiled(signature,
                                                                 self.dispatcher.shift))
        self.dispatcher.log.append(("numba", self.configuration, args))


def values(params):
    return [getattr(p, "value", p) for p in params]


@pytest.fixture
def log(monkeypatch):
    """The launches made, with the direct path on and stand-ins for numba-cuda's API."""
    made = []

    def configure(**options):
        made.append(("configuration", options))
        return options

    def direct_launch(stream, configuration, function, *params):
        made.append(("direct", stream, configuration, values(params)))

    api = launch._API(DeviceArray, configure, direct_launch)
    monkeypatch.setattr(launch, "_direct_api", lambda: api)
    monkeypatch.setattr(config, "CUDA_DIRECT_LAUNCH", True)
    return made


def run(kernel, grid, block, *args, stream=0, shared=0):
    kernel[grid, block, stream, shared](*args)


def test_a_layout_launches_through_numba_once_then_directly(log):
    kernel = launch.Kernel(Dispatcher(log))
    a, b = (DeviceArray(np.zeros((3, 4), np.float32)) for _ in range(2))
    run(kernel, 2, 64, a, 5, np.float32(0.5), (np.float32(1), np.float32(2)), True)
    assert [entry[0] for entry in log] == ["numba"]
    run(kernel, (2, 3, 1), 64, b, 7, np.float32(1.5), (np.float32(3), np.float32(4)), False,
        shared=128)
    run(kernel, (2, 3, 1), 64, a, 8, np.float32(2.5), (np.float32(5), np.float32(6)), True,
        shared=128)
    view = b._strided_memory_view_shim
    assert log[1] == ("configuration", dict(grid=(2, 3, 1), block=64, shmem_size=128))
    assert log[2] == ("direct", "default stream", log[1][1],
                      [0, 0, 12, 4, view.ptr, 3, 4, 16, 4, 7, 1.5, 3.0, 4.0, False])
    assert log[3][0] == "direct" and log[3][3][4] == a._strided_memory_view_shim.ptr
    assert len(log) == 4  # the launch configuration was made once


def test_another_layout_compiles_through_numba_first(log):
    kernel = launch.Kernel(Dispatcher(log))
    contiguous = DeviceArray(np.zeros((4, 6)))
    strided = DeviceArray(np.zeros((4, 6))[:, ::2])
    for args in [(contiguous, 1.0), (strided, 1.0), (contiguous, np.float64(1.0)),
                 (strided, 2.0), (contiguous, 3.0)]:
        run(kernel, 1, 32, *args)
    assert [entry[0] for entry in log if entry[0] != "configuration"] == [
        "numba", "numba", "numba", "direct", "direct"]
    assert len(kernel.dispatcher.overloads) == 3


def test_what_cannot_launch_directly_keeps_numbas_path(log, monkeypatch):
    kernel = launch.Kernel(Dispatcher(log))
    device = DeviceArray(np.zeros(3))
    for _ in range(2):
        run(kernel, 1, 32, np.zeros(3))  # a host array
        run(kernel, 1, 32, device, stream=1)  # another stream
        run(kernel, 1, 32, device, (1.0, "a"))  # a tuple holding a string
    assert [entry[0] for entry in log] == ["numba"] * 6
    monkeypatch.setattr(config, "CUDA_DIRECT_LAUNCH", False)
    run(kernel, 1, 32, device)
    run(kernel, 1, 32, device)
    assert [entry[0] for entry in log] == ["numba"] * 8


def test_a_packing_unlike_numbas_is_never_used(log):
    kernel = launch.Kernel(Dispatcher(log, shift=8))
    a = DeviceArray(np.zeros(3))
    for _ in range(3):
        run(kernel, 1, 32, a, 2)
    assert [entry[0] for entry in log] == ["numba"] * 3
    assert list(kernel.direct.values()) == [None]
