"""Where a CUDA forward pass spends its time: one line per stage, each synchronised.

Times (mean of 3 calls after a warm-up) a bare kernel launch, an allocation,
the input projections, the persistent and the step-wise recurrence, the whole
forward pass, and large matrix products, for an LSTM with hidden 32, batch
1024, 48 steps, float32.  Needs an NVIDIA GPU and numba-cuda.  Usage::

    python benchmarks/profile_cuda.py
"""
import time

import numpy as np
from numba import cuda

from seqforecast.cuda import arrays, layer
from seqforecast.cuda.recurrent import forward
from seqforecast.cuda.training import DeviceNetwork
from seqforecast.network import Network
from seqforecast.recurrent import Cell

T, B, H, I = 48, 1024, 32, 8


def report(name, fn, repeat=3):
    fn()
    cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    cuda.synchronize()
    print(f"{name:32s} {1e3 * (time.perf_counter() - start) / repeat:10.3f} ms", flush=True)


def main():
    rng = np.random.RandomState(0)
    net = DeviceNetwork(Network(Cell("lstm"), I, (H,), 1, rng))
    lay = net.layers[0]
    x = cuda.to_device(rng.randn(T, B, I).astype(np.float32))
    gates = cuda.device_array((4, T, B, H), np.float32)
    h, c = (cuda.device_array((T + 1, B, H), np.float32) for _ in range(2))
    arrays.fill(h, 0)
    arrays.fill(c, 0)
    aux, hh = cuda.device_array((T, B, H), np.float32), cuda.device_array((4, B, H), np.float32)
    peephole = cuda.device_array((3, H), np.float32)
    arrays.fill(peephole, 0)
    one = cuda.device_array(1, np.float32)
    recurrence = (layer.LSTM, lay["weight_hh"], lay["bias_hh"], peephole, False, False, h, c,
                  gates, aux, hh)
    report("kernel launch (fill 1 value)", lambda: arrays.fill(one, 0))
    report("allocation of the gates", lambda: cuda.device_array(gates.shape, np.float32))
    report("input projections", lambda: layer.project_inputs(
        layer.LSTM, x, lay["weight_ih"], lay["bias_ih"], lay["bias_hh"], gates))
    report("recurrence, persistent", lambda: layer.forward_steps(*recurrence, persistent=True))
    report("recurrence, step-wise", lambda: layer.forward_steps(*recurrence, persistent=False))
    report("forward pass", lambda: forward(Cell("lstm"), net.layers, x))
    for n in (1024, 4096):
        a, b = (cuda.to_device(rng.randn(n, n).astype(np.float32)) for _ in range(2))
        out = cuda.device_array((n, n), np.float32)
        arrays.matmul(a, b, out)
        cuda.synchronize()
        start = time.perf_counter()
        arrays.matmul(a, b, out)
        cuda.synchronize()
        seconds = time.perf_counter() - start
        print(f"matmul {n}x{n}x{n}: {2 * n ** 3 / seconds / 1e12:.2f} TFLOP/s")
    for kernel in layer._forward_kernel(layer.LSTM, np.dtype(np.float32)).overloads.values():
        print(f"persistent LSTM forward: {kernel.regs_per_thread} registers, "
              f"{kernel.local_mem_per_thread} B of local memory per thread")


if __name__ == "__main__":
    main()
