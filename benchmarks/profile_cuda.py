"""Where a CUDA training step and forward pass spend their time.

Default: one line per stage, each synchronised (mean of 3 calls after a
warm-up): a bare kernel launch, an allocation, the input projections, the
layer's forward pass (projections and recurrence) with the persistent and
with the step-wise recurrence, the whole forward pass, a training step, and
large matrix products, for an LSTM with hidden 32, batch 1024,
48 steps, float32.  Needs an NVIDIA GPU and numba-cuda.

``--count``: the kernel launches and device allocations of one training
step (Adam, no clipping) and one forward pass with the head, after a first
step has filled the workspaces.  These fixed costs (about 0.1 ms per launch
and 0.2 ms per allocation on an H100) dominate at small hidden sizes.  It
also runs under Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``), with a
small problem and one multiprocessor, which splits fewer products.

``--host``: whether the host or the GPU sets the speed of a training step
and a forward pass, for a few cells and sizes: the time until the host
returns from 10 calls (the step's copy of its record replaced by constants,
so that nothing waits for the GPU) and until the GPU is idle too.  Equal
times mean that the GPU waits for Python.  Usage::

    python benchmarks/profile_cuda.py [--count | --host]
"""
import argparse
import contextlib
import time

import numpy as np
from numba import config, cuda

from bench_cuda import device_problem
from options import require_gpu
from seqforecast.backends.cuda import CUDA, CUDABackend
from seqforecast.cuda import layer
from seqforecast.cuda.elementwise import fill
from seqforecast.cuda.launch import Launch
from seqforecast.cuda.products import matmul
from seqforecast.recurrent import Cell, _cell_args, _params, forward_layers
from seqforecast.records import LayerStates

T, B, H = 48, 1024, 32


def report(name, fn, repeat=3):
    fn()
    cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    cuda.synchronize()
    print(f"{name:38s} {1e3 * (time.perf_counter() - start) / repeat:10.3f} ms", flush=True)


@contextlib.contextmanager
def counting():
    """Count kernel launches and device allocations (``cuda.device_array``) in the block."""
    counts = {"launches": 0, "allocations": 0}
    launch, allocate = Launch.__call__, cuda.device_array

    def counted_launch(self, *args):
        counts["launches"] += 1
        return launch(self, *args)

    def counted_allocation(*args, **kwargs):
        counts["allocations"] += 1
        return allocate(*args, **kwargs)

    Launch.__call__, cuda.device_array = counted_launch, counted_allocation
    try:
        yield counts
    finally:
        Launch.__call__, cuda.device_array = launch, allocate


def count():
    """Launches and allocations of a repeated training step and forward pass, per cell."""
    steps, batch = (4, 8) if config.ENABLE_CUDASIM else (T, B)
    print(f"hidden {H}, batch {batch}, {steps} steps, one layer; "
          f"{'simulator' if config.ENABLE_CUDASIM else cuda.get_current_device().name}")
    for kind in ("rnn", "lstm", "gru"):
        net, trainer, x, y = device_problem(kind, H, batch, steps)
        trainer.step(x, y)
        with counting() as train:
            trainer.step(x, y)
        net.outputs(x)
        with counting() as infer:
            net.outputs(x)
        print(f"{kind:5s} training step: {train['launches']:3d} launches, "
              f"{train['allocations']:2d} allocations | forward + head: "
              f"{infer['launches']:3d} launches, {infer['allocations']:2d} allocations")


def host():
    """Host time against time to idle of 10 training steps and 10 forward passes."""
    cases = ([("lstm", 4, 8, 4)] if config.ENABLE_CUDASIM else
             [("lstm", 32, 1024, 48), ("gru", 64, 1024, 48), ("lstm", 64, 4096, 48),
              ("lstm", 128, 4096, 48), ("lstm", 256, 1024, 48)])
    print("ms per call: until the host returns / until the GPU is idle")
    read = CUDABackend.__dict__["read"]
    for kind, hidden, batch, steps in cases:
        net, trainer, x, y = device_problem(kind, hidden, batch, steps)
        timings = []
        CUDABackend.read = staticmethod(lambda record: (0.0, 0.0, False, True, False))
        try:
            for fn in (lambda: trainer.step(x, y), lambda: net.outputs(x)):
                fn()
                cuda.synchronize()
                start = time.perf_counter()
                for _ in range(10):
                    fn()
                returned = time.perf_counter()
                cuda.synchronize()
                idle = time.perf_counter()
                timings += [100 * (returned - start), 100 * (idle - start)]
        finally:
            CUDABackend.read = read
        print(f"{kind:5s} hidden {hidden:4d} batch {batch:5d} steps {steps:4d} | training step "
              f"{timings[0]:8.3f} / {timings[1]:8.3f} | forward + head {timings[2]:8.3f} / "
              f"{timings[3]:8.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--count", action="store_true",
                      help="count launches and allocations instead of timing")
    mode.add_argument("--host", action="store_true",
                      help="host time against GPU time of a training step and forward pass")
    options = parser.parse_args()
    require_gpu("profile_cuda.py")
    if options.count:
        return count()
    if options.host:
        return host()
    rng = np.random.RandomState(0)
    net, trainer, x, y = device_problem("lstm", H, B, T)
    cell = Cell("lstm")
    args, params = _cell_args(cell), _params(CUDA, net.layers[0], len(cell.spec.peepholes))
    gates = cuda.device_array((4, T, B, H), np.float32)
    h, c = (cuda.device_array((T + 1, B, H), np.float32) for _ in range(2))
    aux, hh = cuda.device_array((T, B, H), np.float32), cuda.device_array((4, B, H), np.float32)
    states = LayerStates(h, c, gates, aux)
    one = cuda.device_array(1, np.float32)
    report("kernel launch (fill 1 value)", lambda: fill(one, 0))
    report("allocation of the gates", lambda: cuda.device_array(gates.shape, np.float32))
    report("input projections", lambda: layer.project_inputs(args, x, params, gates))
    for persistent in (True, False):
        report(f"projections + recurrence, {'persistent' if persistent else 'step-wise'}",
               lambda: layer.forward_steps(args, x, params, states, hh, True,
                                           persistent=persistent))
    report("forward pass", lambda: forward_layers(CUDA, Cell("lstm"), net.layers, x))
    report("training step", lambda: trainer.step(x, y))
    for n in (1024, 4096):
        a, b = (cuda.to_device(rng.randn(n, n).astype(np.float32)) for _ in range(2))
        out = cuda.device_array((n, n), np.float32)
        matmul(a, b, out)
        cuda.synchronize()
        start = time.perf_counter()
        matmul(a, b, out)
        cuda.synchronize()
        seconds = time.perf_counter() - start
        print(f"matmul {n}x{n}x{n}: {2 * n ** 3 / seconds / 1e12:.2f} TFLOP/s")
    forward = layer._forward_kernel(args.kind, np.dtype(np.float32)).dispatcher
    for kernel in forward.overloads.values():
        print(f"persistent LSTM forward: {kernel.regs_per_thread} registers, "
              f"{kernel.local_mem_per_thread} B of local memory per thread")


if __name__ == "__main__":
    main()
