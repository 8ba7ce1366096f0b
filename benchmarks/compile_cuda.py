"""Compile every CUDA kernel launch of seqforecast for a GPU, on a machine without one.

Numba's simulator runs kernels as Python and never type-checks them; a
typing error would first show on a GPU.  This script runs a training step,
a forward pass and ``predict`` (every cell and variant, float32 and float64,
the persistent kernels with shared and with global weights, the step-wise
path, clipping, L2, dropout and truncated BPTT) and the stack functions with
given states, with numba-cuda's real compiler: device arrays are numpy
arrays in disguise, and each launch compiles its kernel to PTX for an
H100 (compute capability 9.0) for the argument types it got, instead of
running, and its launch configuration is checked (threads per block, grid
size, static plus dynamic shared memory within 48 KiB).  At the end every
kernel of :mod:`seqforecast.cuda` must have been compiled.  Run with
warnings as errors, so that a launch that would warn on a GPU fails.

Needs numba-cuda and NVVM, no GPU or driver (written against numba-cuda
0.30.4; it replaces two of its internals)::

    pip install 'numba-cuda[cu13]'
    python -W error benchmarks/compile_cuda.py
"""
import argparse
import importlib.util
import math
import re
import sys
import types

import numpy as np
from numba import cuda
from numba.cuda import dispatcher


class HostDeviceArray(np.ndarray):
    """A numpy array with the methods of a numba device array that seqforecast uses."""

    def copy_to_host(self, ary=None):
        if ary is None:
            return np.array(self)
        ary[...] = self
        return ary

    def copy_to_device(self, ary):
        self[...] = ary

    def is_c_contiguous(self):
        return self.flags.c_contiguous

    def reshape(self, *shape):
        if not self.flags.c_contiguous:  # as numba's device arrays
            raise NotImplementedError("reshaping a strided device array requires a copy")
        return super().reshape(*shape)


def device_array(shape, dtype=np.float64, **kwargs):
    return np.zeros(shape, dtype).view(HostDeviceArray)


compiled = {}


SHARED_BYTES = 48 * 1024  # per block, without opting in to more


def static_shared_bytes(ptx):
    """Bytes of the fixed-size shared arrays declared in a kernel's PTX."""
    sizes = (re.search(r"\.shared\s+\.align\s+\d+\s+\.b8\s+\S+\[(\d+)\]", line)
             for line in ptx.splitlines() if ".extern" not in line)
    return sum(int(size[1]) for size in sizes if size)


def compile_launch(launch, *args):
    """In place of a launch: compile the kernel for these arguments' types, check the launch."""
    kernel = launch.dispatcher
    name = kernel.py_func.__qualname__
    signature = tuple(kernel.typeof_pyval(a) for a in args)
    if (kernel.py_func, signature) not in compiled:
        ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
        compiled[kernel.py_func, signature] = static_shared_bytes(ptx)
    grid, block = tuple(launch.griddim), tuple(launch.blockdim)
    shared = compiled[kernel.py_func, signature] + launch.sharedmem
    if not (1 <= math.prod(block) <= 1024 and min(grid) >= 1 and max(grid[1:]) <= 65535
            and shared <= SHARED_BYTES):
        raise RuntimeError(f"{name}: grid {grid}, block {block} and {shared} bytes of shared "
                           f"memory would not launch")


cuda.device_array = device_array
cuda.device_array_like = lambda a, **kwargs: device_array(a.shape, a.dtype)
cuda.to_device = lambda a, **kwargs: np.array(a).view(HostDeviceArray)
dispatcher._LaunchConfiguration.__call__ = compile_launch
# Device functions are compiled for the current device: make it an H100.
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))

from seqforecast.backends.cuda import CUDA  # noqa: E402
from seqforecast.cuda import (elementwise, launch, layer, products, reductions,  # noqa: E402
                              rules, step)
from seqforecast.network import Network  # noqa: E402
from seqforecast.recurrent import backward_layers, cell_variants, forward_layers  # noqa: E402
from seqforecast.training.trainer import Trainer  # noqa: E402
from seqforecast.training.losses import make_loss  # noqa: E402
from seqforecast.training.optimizers import SGD, Adam, RMSprop  # noqa: E402

for module in (launch, products, reductions, layer):  # an H100's, for the split sizes
    module.multiprocessors = lambda: 132

CELLS = cell_variants()
# (hidden size, kernel options): persistent with shared weights, with global weights (too
# large for shared memory, and forced), at the edge of the shared-memory budget, step-wise.
STRATEGIES = [(8, {}), (64, {}), (16, {"shared_weights": False}), (52, {}),
              (40, {"persistent": False})]
TRAINING = [(Adam, "squared_error", dict(alpha=0.1, clip_global_norm=1.0, tbptt_steps=2,
                                          dropout=0.2)),
            (SGD, "huber", dict(clip_value=0.5, clip_norm=1.0, clip_hidden_norm=1.0)),
            (RMSprop, "absolute_error", dict(clip_value=0.5))]


def main():
    rng = np.random.RandomState(0)
    for dtype in (np.float32, np.float64):
        x = cuda.to_device(rng.randn(5, 300, 3).astype(dtype))
        y = cuda.to_device(rng.randn(300, 2).astype(dtype))
        index = cuda.to_device(np.arange(300)[::-1].copy())
        for cell in CELLS:
            for hidden, options in STRATEGIES:
                # With the linear autoregressive path over the last 2 of the 5 steps.
                network = Network(cell, 3, (hidden, hidden), 2, rng, dtype, ar_window=2)
                for optimizer, loss, settings in TRAINING:
                    net = network.on(CUDA, **options)
                    trainer = Trainer(net, optimizer(network.params.copy(), 0.01),
                                      make_loss(loss), **settings)
                    batch = (elementwise.gather_samples(x, index[:200]),
                             elementwise.gather_rows(y, index[:200]))
                    trainer.step(*batch, seed=3)
                    trainer.pop_step_norms()
                    net.outputs(x)
                    net.predict(np.asarray(x))
                states = [cuda.to_device(rng.randn(300, hidden).astype(dtype)) for _ in range(2)]
                c_states = states if cell.has_cell_state else None
                result = forward_layers(CUDA, cell, net.layers, x, h0=states, c0=c_states,
                                        **options)
                backward_layers(result.cache, device_array(result.output.shape, dtype),
                                d_hn=states, d_cn=c_states)
        many = device_array((40000, 1), dtype)  # a loss over more values than one block takes
        for loss in (make_loss(name) for name in ("huber", "quantile", "gaussian", "student_t")):
            outputs = device_array((40000, loss.width), dtype)
            rules.mean_loss(loss.rule, outputs, many, device_array(len(loss.constants), dtype),
                            loss.group, outputs, device_array(1, np.float64))
    kernels = {f.__qualname__.split(".")[0] for f, _ in compiled}
    modules = (products, reductions, elementwise, rules, layer, step)
    missing = {name for module in modules for name, value in vars(module).items()
               if name.endswith("_kernel") and hasattr(value, "cache_info")  # kernel factories
               or isinstance(value, launch.Kernel)
               or isinstance(value, dispatcher.CUDADispatcher)
               and not value.targetoptions.get("device")} - kernels
    if missing:
        raise RuntimeError(f"never launched, so not compiled: {sorted(missing)}")
    print(f"{len(compiled)} launch signatures of {len({f for f, _ in compiled})} kernels "
          f"compiled for compute capability 9.0")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help
    if importlib.util.find_spec("numba_cuda") is None:  # Numba's own CUDA is not enough
        sys.exit("compile_cuda.py needs numba-cuda and its NVVM, not installed here: "
                 "pip install 'numba-cuda[cu13]'")
    main()
