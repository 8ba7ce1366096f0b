"""Vanishing gradients on real data: a plain RNN against an LSTM.

Both models read 48-month windows of the standardised monthly log changes of
the airline passengers series and predict the next change.  After training,
the figure shows, for each model, the norm of dL/dh_t against the number of
steps back from the output (first, middle and last epoch) and the global
gradient norm per epoch.  The script prints, for each model, the ratio of the
gradient norm at the oldest step of the window to the norm at the newest: the
smaller the ratio, the less the oldest inputs can change the weights.  Needs
matplotlib; runs in a few seconds on 2 cores.

    python examples/plot_gradients.py --out gradient_norms.png
"""
import argparse
import time
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from seqforecast import LSTMRegressor, RNNRegressor  # noqa: E402
from seqforecast.datasets import load_airline_passengers  # noqa: E402
from seqforecast.plotting import plot_gradient_norms, plot_step_gradient_norms  # noqa: E402
from paths import png_path  # noqa: E402

WINDOW, EPOCHS = 48, 30


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gradient_norms.png", type=png_path,
                        help="path of the PNG to write (default: gradient_norms.png in the "
                             "current folder)")
    out = parser.parse_args().out

    passengers = load_airline_passengers()["passengers"].to_numpy(np.float64)
    changes = np.diff(np.log(passengers))
    changes = (changes - changes.mean()) / changes.std()
    X = np.lib.stride_tricks.sliding_window_view(changes[:-1], WINDOW)
    y = changes[WINDOW:]  # y[k] is the change right after window X[k]
    print(f"{len(X)} windows of {WINDOW} monthly log changes")

    # Both models get the same budget: EPOCHS epochs (n_iter_no_change=EPOCHS keeps them from
    # stopping early, so the ConvergenceWarning at max_iter is expected) of 6 batches each.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    settings = dict(hidden_sizes=16, batch_size=16, max_iter=EPOCHS, n_iter_no_change=EPOCHS,
                    random_state=0)
    models = {"RNN": RNNRegressor(**settings), "LSTM": LSTMRegressor(**settings)}
    fig, axes = plt.subplots(2, len(models), figsize=(12, 9))
    for (name, model), (step_ax, norm_ax) in zip(models.items(), axes.T):
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
        print(f"{name}(16): {model.n_iter_} epochs in {seconds:.1f} s, training loss "
              f"{model.loss_curve_[0]:.3f} -> {model.loss_curve_[-1]:.3f}")
        for epoch in (1, model.n_iter_):
            norms = model.step_grad_norms_[epoch - 1][-1]  # last layer, oldest step first
            ratio = norms[0] / norms[-1]
            print(f"  epoch {epoch:2d}: gradient norm at the oldest step / newest step "
                  f"{ratio:.3g} (a factor {ratio ** (1 / (WINDOW - 1)):.3f} per step)")
        plot_step_gradient_norms(model, ax=step_ax)
        plot_gradient_norms(model, ax=norm_ax)
        for ax in (step_ax, norm_ax):
            ax.set_title(f"{name}(16): {ax.get_title()}")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"figure written to {out}")


if __name__ == "__main__":
    main()
