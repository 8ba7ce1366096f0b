"""seqforecast's CUDA kernels against PyTorch's cuDNN RNNs on the same GPU, in the same run.

For each cell (LSTM, GRU), hidden size, batch and sequence length it times

* a training step: forward, mean squared error of a linear head on the last
  hidden state, backward (BPTT), Adam update (seqforecast:
  :class:`~seqforecast.training.trainer.Trainer` on the CUDA backend, which copies its
  five-number step record back; PyTorch: ``nn.LSTM``/``nn.GRU`` + ``nn.Linear``
  + ``torch.optim.Adam``);
* inference: forward and head over the whole batch;

float32, data already on the GPU, 8 input features, one layer.  PyTorch runs
with its defaults (cuDNN, which may use TF32 tensor cores).  It prints
milliseconds (median of the timed repetitions after warm-up, each ended by
a device synchronisation) and ratios PyTorch time / seqforecast time: > 1
means seqforecast is faster.

Needs an NVIDIA GPU, numba-cuda and a CUDA build of PyTorch.  Usage::

    python benchmarks/bench_cuda.py [--repeat 5] [--budget 400] [--quick]
"""
import argparse
import time

import numpy as np

from bench_cpu import best_time
from options import positive_int, require_gpu

FEATURES = 8


def cases(quick):
    """The issue's grid, the main hidden sizes first (a time budget may cut the rest)."""
    hidden = (32, 64, 256) if quick else (32, 64, 256, 128, 512)
    for h in hidden:
        for kind in ("lstm", "gru"):
            for batch, steps in ((256, 48), (1024, 48), (4096, 48), (1024, 256)):
                yield kind, h, batch, steps


def device_problem(kind, hidden, batch, steps):
    """A one-layer network on the GPU, its Adam trainer, and a random batch ``x``, ``y`` there."""
    from numba import cuda

    from seqforecast.backends.cuda import CUDA
    from seqforecast.network import Network
    from seqforecast.recurrent import Cell
    from seqforecast.training.losses import squared_error
    from seqforecast.training.optimizers import Adam
    from seqforecast.training.trainer import Trainer

    rng = np.random.RandomState(0)
    net = Network(Cell(kind), FEATURES, (hidden,), 1, rng)
    device_net = net.on(CUDA)
    trainer = Trainer(device_net, Adam(net.params), squared_error)
    x = cuda.to_device(rng.randn(steps, batch, FEATURES).astype(np.float32))
    y = cuda.to_device(rng.randn(batch, 1).astype(np.float32))
    return device_net, trainer, x, y


def ours(kind, hidden, batch, steps, repeat):
    from numba import cuda

    device_net, trainer, x, y = device_problem(kind, hidden, batch, steps)
    train = best_time(lambda: trainer.step(x, y), repeat, cuda.synchronize)
    infer = best_time(lambda: device_net.outputs(x), repeat, cuda.synchronize)
    return train, infer


def theirs(kind, hidden, batch, steps, repeat):
    import torch

    torch.manual_seed(0)
    rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](FEATURES, hidden).cuda()
    head = torch.nn.Linear(hidden, 1).cuda()
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()))
    x = torch.randn(steps, batch, FEATURES, device="cuda")
    y = torch.randn(batch, 1, device="cuda")

    def train():
        opt.zero_grad()
        out, _ = rnn(x)
        loss = torch.nn.functional.mse_loss(head(out[-1]), y)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            out, _ = rnn(x)
            head(out[-1])

    sync = torch.cuda.synchronize
    return best_time(train, repeat, sync), best_time(infer, repeat, sync)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=positive_int, default=5)
    parser.add_argument("--budget", type=float, default=400.0,
                        help="stop starting new cases after this many seconds")
    parser.add_argument("--quick", action="store_true", help="fewer hidden sizes")
    parser.add_argument("--hidden", type=positive_int, nargs="*", help="only these hidden sizes")
    parser.add_argument("--persistent-max-hidden", type=int,
                        help="override seqforecast.cuda.layer.PERSISTENT_MAX_HIDDEN")
    args = parser.parse_args()
    require_gpu("bench_cuda.py", torch_too=True)
    if args.persistent_max_hidden is not None:
        from seqforecast.cuda import layer
        layer.PERSISTENT_MAX_HIDDEN = args.persistent_max_hidden
    import torch
    from numba import cuda

    print(f"GPU: {cuda.get_current_device().name}; PyTorch {torch.__version__}, cuDNN "
          f"{torch.backends.cudnn.version()}, cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}")
    header = (f"{'cell':5} {'hidden':>6} {'batch':>6} {'steps':>5} | {'train ms ours':>13} "
              f"{'cuDNN':>8} {'ratio':>6} | {'infer ms ours':>13} {'cuDNN':>8} {'ratio':>6}")
    print(header)
    started = time.perf_counter()
    for kind, hidden, batch, steps in cases(args.quick):
        if args.hidden and hidden not in args.hidden:
            continue
        if time.perf_counter() - started > args.budget:
            print("time budget reached; remaining cases skipped")
            break
        try:
            train, infer = ours(kind, hidden, batch, steps, args.repeat)
        except Exception as error:  # a failed launch is reported, the other cases go on
            print(f"{kind:5} {hidden:6d} {batch:6d} {steps:5d} | seqforecast failed: "
                  f"{type(error).__name__}: {str(error)[:150]}", flush=True)
            continue
        t_train, t_infer = theirs(kind, hidden, batch, steps, args.repeat)
        print(f"{kind:5} {hidden:6d} {batch:6d} {steps:5d} | {train:13.2f} {t_train:8.2f} "
              f"{t_train / train:6.2f} | {infer:13.2f} {t_infer:8.2f} {t_infer / infer:6.2f}",
              flush=True)


if __name__ == "__main__":
    main()
