"""seqforecast's estimators against the same model in PyTorch, as a user trains and predicts.

For each cell and hidden size, on 4,096 windows of 48 steps and 1 feature (float32):

* training: seconds per epoch of ``LSTMRegressor(hidden_sizes=H, batch_size=64,
  shuffle=False, learning_rate_init=1e-3).fit(X, y)`` (GRU, RNN alike),
  against ``nn.LSTM`` + ``nn.Linear`` on the last state, MSE, Adam(1e-3),
  batches of 64 in order, ``torch.set_num_threads(2)``;
* ``predict`` of one window, and of all 4,096 windows.

Each measurement runs in a fresh process (Numba's cache warm, compilation
excluded by a first small fit), the two sides alternating A B B A, and the
table shows the medians and the ratios PyTorch time / seqforecast time
(> 1: seqforecast is faster).  PyTorch is a benchmark dependency only::

    pip install -e ".[benchmark]"
    python benchmarks/bench_estimators.py [--quick] [--rounds 1] [--epochs 2]
"""
import argparse
import os
import time
import warnings

import numpy as np
from alternating import child, medians
from options import cpu_text, load_text, positive_int

N_WINDOWS, STEPS, BATCH = 4096, 48, 64


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(N_WINDOWS, STEPS, 1).astype(np.float32)
    y = (X[:, -1, 0] + 0.5 * X[:, -5, 0] + 0.1 * rng.randn(N_WINDOWS)).astype(np.float32)
    return X, y


def _median_time(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def ours(kind, hidden, epochs):
    from sklearn.exceptions import ConvergenceWarning

    from seqforecast import GRURegressor, LSTMRegressor, RNNRegressor

    cls = {"lstm": LSTMRegressor, "gru": GRURegressor, "rnn": RNNRegressor}[kind]
    X, y = _data()
    settings = dict(hidden_sizes=hidden, batch_size=BATCH, shuffle=False,
                    learning_rate_init=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cls(max_iter=1, **settings).fit(X[:256], y[:256])  # compilation, if the cache is cold
        model = cls(max_iter=epochs, tol=0.0, **settings)
        start = time.perf_counter()
        model.fit(X, y)
        epoch = (time.perf_counter() - start) / model.n_iter_
    return {"epoch": epoch, "one": _median_time(lambda: model.predict(X[:1]), 200),
            "all": _median_time(lambda: model.predict(X), 5)}


def theirs(kind, hidden, epochs):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    X, y = (torch.from_numpy(a) for a in _data())
    rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](
        1, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)

    def forward(x):
        return head(rnn(x)[0][:, -1]).squeeze(1)

    def epoch():
        for start in range(0, N_WINDOWS, BATCH):
            optimizer.zero_grad()
            loss = torch.mean((forward(X[start:start + BATCH]) - y[start:start + BATCH]) ** 2)
            loss.backward()
            optimizer.step()

    epoch()  # warm-up
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    per_epoch = (time.perf_counter() - start) / epochs

    def predict(x):
        with torch.no_grad():
            return forward(x).numpy()

    return {"epoch": per_epoch, "one": _median_time(lambda: predict(X[:1]), 200),
            "all": _median_time(lambda: predict(X), 5)}


def main():
    if child(ours, theirs):
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="hidden 32 and 128 only")
    parser.add_argument("--cells", nargs="+", choices=["lstm", "gru", "rnn"],
                        default=["lstm", "gru", "rnn"])
    parser.add_argument("--rounds", type=positive_int, default=1,
                        help="A B B A rounds per case (each a fresh process per side)")
    parser.add_argument("--epochs", type=positive_int, default=2, help="timed epochs per fit")
    args = parser.parse_args()

    import numba
    import torch

    import seqforecast
    hiddens = (32, 128) if args.quick else (16, 32, 64, 128, 256)
    print(f"{N_WINDOWS} windows x {STEPS} steps x 1 feature, batch {BATCH}, float32; "
          f"seqforecast {seqforecast.__version__} (numba {numba.__version__}), "
          f"torch {torch.__version__} with 2 threads; {os.cpu_count()} cores "
          f"({cpu_text()}); medians of {2 * args.rounds} "
          f"fresh processes per side, A B B A; {load_text()} at the start")
    header = (f"{'cell':5} {'hidden':>6} | {'fit s/epoch':>11} {'torch':>7} {'ratio':>6} | "
              f"{'predict 1 ms':>12} {'torch':>7} {'ratio':>6} | "
              f"{'predict 4096 ms':>15} {'torch':>7} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for kind in args.cells:
        for hidden in hiddens:
            med = medians(__file__, args.rounds, kind, hidden, args.epochs)
            a, b = med["ours"], med["theirs"]
            print(f"{kind:5} {hidden:6d} | {a['epoch']:11.3f} {b['epoch']:7.3f} "
                  f"{b['epoch'] / a['epoch']:5.2f}x | {1e3 * a['one']:12.3f} "
                  f"{1e3 * b['one']:7.3f} {b['one'] / a['one']:5.2f}x | "
                  f"{1e3 * a['all']:15.1f} {1e3 * b['all']:7.1f} {b['all'] / a['all']:5.2f}x",
                  flush=True)


if __name__ == "__main__":
    main()
