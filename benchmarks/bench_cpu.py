"""seqforecast's CPU kernels against PyTorch on the CPU, measured in the same run.

For each cell and size it times

* a training step as the estimators run it (:class:`~seqforecast.training.
  trainer.Trainer`, reusing its arrays from one step to the next): forward,
  mean squared error of a linear head on the last hidden state, backward
  (BPTT), Adam update;
* single-window inference: one sequence (batch 1) through the network and head;

with the same thread count for both libraries (seqforecast's BLAS calls use
``seqforecast.threads.KERNEL_BLAS_THREADS``, 1 by default, as its estimators
do), and prints milliseconds and
speed-up ratios (PyTorch time / seqforecast time; > 1 means seqforecast is
faster).  It also measures, in fresh processes, the first training step with
an empty Numba cache (compilation included) and with a warm cache.

Run ``pip install -e ".[benchmark]"`` first (PyTorch is not a dependency of
seqforecast).  Usage::

    python benchmarks/bench_cpu.py [--threads 2] [--repeat 20] [--quick]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
from options import cpu_text, load_text, positive_int

CASES = ([(kind, h, 1, 48, 1) for kind in ("lstm", "gru", "rnn") for h in (16, 32, 64, 128, 256)]
         + [(kind, 64, 8, 96, 2) for kind in ("lstm", "gru", "rnn")])
BATCH = 64


def best_time(fn, repeat, sync=lambda: None):
    """Median of ``repeat`` timed calls after two warm-up calls, in milliseconds.

    ``sync()`` ends each call (on a GPU: wait for the device).
    """
    fn()
    fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def ours(kind, hidden, features, steps, layers, repeat):
    from seqforecast.network import Network
    from seqforecast.recurrent import Cell
    from seqforecast.threads import kernel_threads
    from seqforecast.training.optimizers import Adam
    from seqforecast.training.trainer import Trainer

    rng = np.random.RandomState(0)
    net = Network(Cell(kind), features, (hidden,) * layers, 1, rng)
    trainer = Trainer(net, Adam(net.params))
    x = rng.randn(steps, BATCH, features).astype(np.float32)
    y = rng.randn(BATCH, 1).astype(np.float32)
    x1 = np.ascontiguousarray(x[:, :1])

    def train_step():
        trainer.step(x, y)

    with kernel_threads():  # the estimators' threading policy (seqforecast.threads)
        return best_time(train_step, repeat), best_time(lambda: net.predict(x1), 10 * repeat)


def theirs(kind, hidden, features, steps, layers, repeat):
    import torch

    torch.manual_seed(0)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    net = module(features, hidden, num_layers=layers)
    head = torch.nn.Linear(hidden, 1)
    opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=1e-3)
    x = torch.randn(steps, BATCH, features)
    y = torch.randn(BATCH, 1)
    x1 = x[:, :1].contiguous()

    def train_step():
        opt.zero_grad()
        out, _ = net(x)
        loss = torch.mean((head(out[-1]) - y) ** 2)
        loss.backward()
        opt.step()

    def predict():
        with torch.no_grad():
            out, _ = net(x1)
            return head(out[-1])

    return best_time(train_step, repeat), best_time(predict, 10 * repeat)


FIRST_STEP = textwrap.dedent("""
    import time
    start = time.perf_counter()
    import numpy as np
    from seqforecast.network import Network
    from seqforecast.recurrent import Cell
    from seqforecast.training.optimizers import Adam
    rng = np.random.RandomState(0)
    net = Network(Cell("lstm"), 1, (32,), 1, rng)
    opt = Adam(net.params)
    net.loss_gradient(rng.randn(48, 64, 1).astype(np.float32),
                      rng.randn(64, 1).astype(np.float32))
    opt.update(net.params, net.grad)
    print(time.perf_counter() - start)
""")


def first_step_seconds():
    """Import + first LSTM training step in a fresh process: (cold cache, warm cache)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = lambda: float(subprocess.run(  # noqa: E731
            [sys.executable, "-c", FIRST_STEP], env=env, check=True,
            capture_output=True, text=True).stdout)
        return run(), run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=positive_int, default=os.cpu_count(),
                        help="PyTorch's threads (default: the CPU count)")
    parser.add_argument("--repeat", type=positive_int, default=20,
                        help="timed repetitions per case, median taken")
    parser.add_argument("--quick", action="store_true", help="only hidden 32 and 128")
    args = parser.parse_args()

    import numba
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    cases = [c for c in CASES if not args.quick or c[1] in (32, 128)]
    from seqforecast.threads import KERNEL_BLAS_THREADS
    print(f"threads={args.threads} (seqforecast BLAS: {KERNEL_BLAS_THREADS})  batch={BATCH}  "
          f"torch {torch.__version__}  numba {numba.__version__}  float32; {cpu_text()}; "
          f"{load_text()} at the start")
    header = (f"{'cell':5} {'hidden':>6} {'feat':>4} {'steps':>5} {'layers':>6} | "
              f"{'train ms':>9} {'torch':>8} {'ratio':>6} | "
              f"{'infer ms':>9} {'torch':>8} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for case in cases:
        train, infer = ours(*case, args.repeat)
        t_train, t_infer = theirs(*case, args.repeat)
        print(f"{case[0]:5} {case[1]:6d} {case[2]:4d} {case[3]:5d} {case[4]:6d} | "
              f"{train:9.3f} {t_train:8.3f} {t_train / train:5.2f}x | "
              f"{infer:9.4f} {t_infer:8.4f} {t_infer / infer:5.2f}x", flush=True)
    cold, warm = first_step_seconds()
    print(f"\nfirst LSTM training step in a fresh process (import included): "
          f"empty cache {cold:.1f} s, warm cache {warm:.2f} s")


if __name__ == "__main__":
    main()
