"""Compile every CUDA kernel launch of seqforecast for a GPU, on a machine without one.

Numba's simulator runs kernels as Python and never type-checks them; a
typing error would first show on a GPU.  This script runs a training step,
a forward pass and ``predict`` (every cell and variant, float32 and float64,
the persistent kernels with shared and with global weights, the step-wise
path, clipping, L2, dropout and truncated BPTT) and the stack functions with
given states, with numba-cuda's real compiler: device arrays are numpy
arrays in disguise, and each launch compiles its kernel to PTX for an
H100 (compute capability 9.0) for the argument types it got, instead of
running.  Warnings are errors, so a launch that would warn on a GPU fails.

Needs numba-cuda and NVVM, no GPU or driver (written against numba-cuda
0.30.4; it replaces two of its internals)::

    pip install 'numba-cuda[cu13]'
    python -W error benchmarks/compile_cuda.py
"""
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


def device_array(shape, dtype=np.float64, **kwargs):
    return np.zeros(shape, dtype).view(HostDeviceArray)


compiled = {}


def compile_launch(launch, *args):
    """In place of a launch: compile the kernel for these arguments' types."""
    kernel = launch.dispatcher
    signature = tuple(kernel.typeof_pyval(a) for a in args)
    if (kernel.py_func, signature) not in compiled:
        compiled[kernel.py_func, signature] = cuda.compile_ptx(kernel.py_func, signature,
                                                               cc=(9, 0))


cuda.device_array = device_array
cuda.device_array_like = lambda a, **kwargs: device_array(a.shape, a.dtype)
cuda.to_device = lambda a, **kwargs: np.array(a).view(HostDeviceArray)
dispatcher._LaunchConfiguration.__call__ = compile_launch
# Device functions are compiled for the current device: make it an H100.
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))

from seqforecast.cuda import arrays, layer, small_grids  # noqa: E402
from seqforecast.cuda import recurrent as gpu  # noqa: E402
from seqforecast.cuda.training import DeviceNetwork, DeviceTrainer  # noqa: E402
from seqforecast.network import Network  # noqa: E402
from seqforecast.recurrent import Cell  # noqa: E402
from seqforecast.training.losses import make_loss  # noqa: E402
from seqforecast.training.optimizers import SGD, Adam, RMSprop  # noqa: E402

arrays.multiprocessors = layer.multiprocessors = lambda: 132  # an H100's, for the split sizes

CELLS = [Cell("rnn"), Cell("rnn", activation="relu"), Cell("lstm"), Cell("lstm", peephole=True),
         Cell("lstm", coupled=True), Cell("gru")]
# (hidden size, kernel options): persistent with shared weights, with global weights (too
# large for shared memory, and forced), step-wise.
STRATEGIES = [(8, {}), (64, {}), (16, {"shared_weights": False}), (40, {"persistent": False})]
TRAINING = [(Adam, "squared_error", dict(alpha=0.1, clip_global_norm=1.0, tbptt=2, dropout=0.2)),
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
                network = Network(cell, 3, (hidden, hidden), 2, rng, dtype)
                for optimizer, loss, settings in TRAINING:
                    net = DeviceNetwork(network, options)
                    trainer = DeviceTrainer(net, optimizer(network.params.copy(), 0.01),
                                            make_loss(loss), **settings)
                    with small_grids():  # as the estimators gather their batches
                        batch = (arrays.gather_samples(x, index[:200]),
                                 arrays.gather_rows(y, index[:200]))
                    trainer.step(*batch, seed=3)
                    trainer.pop_step_norms()
                    net.forward(x)
                    net.predict(np.asarray(x))
                states = [cuda.to_device(rng.randn(300, hidden).astype(dtype)) for _ in range(2)]
                c_states = states if cell.has_cell_state else None
                with small_grids():
                    result = gpu.forward(cell, net.layers, x, h0=states, c0=c_states, **options)
                    gpu.backward(result.cache, device_array(result.output.shape, dtype),
                                 d_hn=states, d_cn=c_states)
    print(f"{len(compiled)} launch signatures of {len({f for f, _ in compiled})} kernels "
          f"compiled for compute capability 9.0")


if __name__ == "__main__":
    main()
