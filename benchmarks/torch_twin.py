"""A PyTorch twin of seqforecast's default recurrent regressor, for benchmarks only.

:class:`TorchRecurrentRegressor` builds the same network and trains it with
the same recipe as seqforecast's default regressor (see the class
docstring), with ``torch.nn.LSTM``/``torch.nn.GRU`` and ``torch.optim.Adam``
instead of seqforecast's Numba kernels.  :class:`TorchDefaultRegressor`
takes its settings from ``seqforecast.forecasting.default_regressor`` at
each fit, sized to the windows it is given, exactly as
``SequenceForecaster(regressor="lstm")`` sizes its own regressor, so the
two sides stay in sync when the recipe changes.  Both are scikit-learn
regressors that read 3-D windows, so a :class:`~seqforecast.SequenceForecaster`
wraps them exactly as it wraps ``LSTMRegressor``/``GRURegressor`` (same
windows, same scaling).
``benchmarks/bench_accuracy.py`` uses it to tell the recipe's accuracy from
the implementation's: if seqforecast and its twin differ a lot on a series,
one of the two implementations (not the recipe) is the cause.

PyTorch is never a run-time dependency of seqforecast: it is needed by this
file only (``pip install -e ".[benchmark]"``).
"""
import copy
import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

_CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
# Parameters with the same name and meaning in seqforecast's regressors and the twin.
_SHARED = ("ar_window", "ar_alpha", "learning_rate_init", "beta_1", "beta_2", "epsilon",
           "alpha", "batch_size", "max_iter", "max_steps", "clip_global_norm",
           "early_stopping", "validation_fraction", "n_iter_no_change", "tol", "random_state")
# What the twin implements and nothing else: the settings a regressor must have to be mirrored.
_RECIPE = {"solver": "adam", "loss": "squared_error", "learning_rate": "cosine",
           "shuffle": True, "dropout": 0.0, "dtype": "float32", "clip_value": None,
           "clip_norm": None, "clip_hidden_norm": None, "tbptt_steps": None,
           "peephole": False, "coupled_gates": False}


class _Network(torch.nn.Module):
    """One recurrent layer, a linear head on its last hidden state, plus a linear AR path."""

    def __init__(self, cell, n_features, hidden_size, n_outputs, ar_window):
        super().__init__()
        self.recurrent = _CELLS[cell](n_features, hidden_size, batch_first=True)
        self.head = torch.nn.Linear(hidden_size, n_outputs)
        self.ar_window = ar_window
        self.ar = (torch.nn.Linear(ar_window * n_features, n_outputs, bias=False)
                   if ar_window else None)

    def forward(self, x):
        output, _ = self.recurrent(x)
        y = self.head(output[:, -1])
        if self.ar is not None:
            y = y + self.ar(x[:, x.shape[1] - self.ar_window:].flatten(1))
        return y

    def weights(self):
        """The tensors the L2 penalty applies to: every weight, no bias."""
        return [p for name, p in self.named_parameters() if "weight" in name]


class TorchRecurrentRegressor(RegressorMixin, BaseEstimator):
    """LSTM or GRU regressor in PyTorch that mirrors seqforecast's default recipe.

    Benchmark-only twin of ``seqforecast.forecasting.default_regressor``;
    seqforecast itself never imports PyTorch.  Use :func:`twin_of` to build
    one with the parameters of a given seqforecast regressor.

    The model: one ``torch.nn.LSTM``/``GRU`` layer (batch_first) of
    ``hidden_size`` units, a linear head on its last hidden state, plus a
    linear autoregressive path from the flattened last ``ar_window`` steps
    of all input features straight to every output (no bias: the head's
    bias is the only bias of the sum).

    The recipe:

    * initialisation: the AR weights and the head bias are the ridge
      regression (scikit-learn ``Ridge(alpha=ar_alpha_)``) of the targets on
      the flattened training windows (the validation windows excluded) of
      what the head leaves of the targets; the head and the recurrent layer
      have PyTorch's default init; ``ar_alpha='auto'`` first chooses the
      penalty on that regression problem with seqforecast's own
      :func:`seqforecast.training.selection.ridge_alpha` (the evidence);
    * squared error (mean over samples and outputs) plus
      ``alpha / (2 * batch) * ||W||^2`` on the weights, not the biases
      (scikit-learn's MLP scaling);
    * Adam, shuffled batches of ``batch_size`` (the last one of an epoch may
      be smaller); a budget of ``max_steps`` optimizer steps, at most
      ``max_iter`` epochs (None: no limit of that kind): ``ceil(budget /
      batches per epoch)`` epochs, the last one stopping when the budget is
      spent; the learning rate follows a cosine from ``learning_rate_init``
      to 0 over the budget, set before each step (seqforecast's regressors
      count ``max_iter`` epochs and have no ``max_steps``: :func:`twin_of`
      then gives ``max_steps=None``, a budget of ``max_iter`` whole epochs);
    * the gradient clipped to a global L2 norm of ``clip_global_norm``;
    * early stopping on the most recent ``validation_fraction`` of the
      windows (the last ones in the order given, never a random draw): R^2
      on them after each epoch; the starting (ridge) weights score as epoch
      0; the weights of the best epoch are kept; training stops when the
      score has not improved by ``tol`` for more than ``n_iter_no_change``
      epochs in a row;
    * then (with early stopping and an AR path, also after a divergence
      rolled the weights back) the AR weights and the head bias are solved again by ridge on all the
      windows, held-out ones included, with the recurrent part as the best
      epoch left it; the model so finished is compared on the held-out
      windows with the ridge regression alone on all the windows (head
      weight zero), and the recurrent part is kept only when it lowers the
      held-out squared error significantly: seqforecast's own test,
      :func:`seqforecast.training.selection.improves_significantly` (a
      one-sided Diebold-Mariano test), is used for that decision.

    Deterministic given ``random_state`` (``torch.manual_seed`` for the
    weights, a numpy ``RandomState`` for the shuffling); float32; PyTorch
    runs on ``n_threads`` threads, 1 by default like seqforecast's kernels
    (:mod:`seqforecast.threads`): on the 2-core development machine two
    PyTorch threads made a fit 30 to 80 times slower whenever another
    process kept a core busy (OpenMP threads spinning), and one thread is
    the fair comparison with the single-threaded Numba kernels.

    Parameters
    ----------
    cell : {'lstm', 'gru'}, default='lstm'
    hidden_size : int, default=32
    ar_window : int or None, default=None
        Input steps the AR path reads; None: the whole window; 0: no AR path
        (the head then has PyTorch's default init).
    ar_alpha : float or 'auto', default=1.0
    learning_rate_init : float, default=3e-3
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
    alpha : float, default=1e-4
    batch_size : int, default=32
    max_iter : int or None, default=None
    max_steps : int or None, default=1000
        One of the two must be set.
    clip_global_norm : float or None, default=1.0
    early_stopping : bool, default=True
    validation_fraction : float, default=0.2
    n_iter_no_change : int, default=20
    tol : float, default=1e-4
    random_state : int or None, default=None
    n_threads : int, default=1

    Attributes
    ----------
    network_ : torch.nn.Module
    n_steps_ : int
        Optimizer steps taken.
    n_iter_ : int
        Epochs run.
    validation_scores_ : list of float
        R^2 on the held-out windows: the start, then after each epoch.
    best_validation_score_ : float
    ar_alpha_ : float or None
        The penalty of the AR path's ridge regressions (None without one).
    recurrent_kept_ : bool
        Whether the finishing test kept the recurrent part (early stopping
        with an AR path only).
    """

    def __init__(self, cell="lstm", hidden_size=32, *, ar_window=None, ar_alpha=1.0,
                 learning_rate_init=3e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, alpha=1e-4,
                 batch_size=32, max_iter=None, max_steps=1000, clip_global_norm=1.0,
                 early_stopping=True,
                 validation_fraction=0.2, n_iter_no_change=20, tol=1e-4, random_state=None,
                 n_threads=1):
        self.cell = cell
        self.hidden_size = hidden_size
        self.ar_window = ar_window
        self.ar_alpha = ar_alpha
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_steps = max_steps
        self.clip_global_norm = clip_global_norm
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True   # (n_samples, n_timesteps, n_features)
        tags.target_tags.multi_output = True   # one head predicts every column of y
        return tags

    def fit(self, X, y):
        """Train on windows X (n, T, F) or (n, T) and targets y (n,) or (n, n_outputs)."""
        if self.cell not in _CELLS:
            raise ValueError(f"cell must be one of {list(_CELLS)}, got {self.cell!r}")
        torch.set_num_threads(self.n_threads)
        X, y = _as_windows(X), np.asarray(y, dtype=np.float32)
        self._y_ndim = y.ndim
        y = y.reshape(len(y), -1)
        self.n_timesteps_in_, self.n_features_in_ = X.shape[1:]
        rng = check_random_state(self.random_state)
        torch.manual_seed(int(rng.randint(2 ** 31)))
        X_train, y_train, X_val, y_val = self._split(X, y)
        if self.batch_size > len(X_train):
            raise ValueError(f"batch_size={self.batch_size} is larger than the "
                             f"{len(X_train)} training samples")
        ar_window = X.shape[1] if self.ar_window is None else self.ar_window
        self.network_ = _Network(self.cell, X.shape[2], self.hidden_size, y.shape[1],
                                 ar_window)
        auto_alpha = bool(ar_window) and self.ar_alpha == "auto"
        self.ar_alpha_ = None if not ar_window or auto_alpha else self.ar_alpha
        if ar_window:  # start as the linear model of what the random head leaves
            self._solve_autoregressive(X_train, y_train, choose_alpha=auto_alpha)
        self._train(torch.from_numpy(X_train), torch.from_numpy(y_train), X_val, y_val, rng)
        if self.early_stopping and ar_window:
            self._finish_autoregressive(X, y, X_val, y_val)
        return self

    def predict(self, X):
        """Predictions, (n,) or (n, n_outputs) like the training y, float64."""
        check_is_fitted(self)
        torch.set_num_threads(self.n_threads)
        out = self._predict(torch.from_numpy(_as_windows(X))).astype(np.float64)
        return out[:, 0] if self._y_ndim == 1 else out

    # -- training -------------------------------------------------------------------

    def _split(self, X, y):
        """Training part and the most recent ``validation_fraction`` of the windows."""
        from seqforecast.training.selection import held_out_count

        if not self.early_stopping:
            return X, y, None, None
        n_val = held_out_count(self.validation_fraction, len(X))
        if n_val < 2 or n_val >= len(X):
            raise ValueError(f"early_stopping needs at least 2 validation samples and 1 "
                             f"training sample; {len(X)} samples hold out {n_val}")
        cut = len(X) - n_val
        return X[:cut], y[:cut], X[cut:], y[cut:]

    def _solve_autoregressive(self, X, y, choose_alpha=False):
        """AR weights and head bias := ridge regression of ``y - head(h_T)`` on the lags.

        ``choose_alpha``: first choose the penalty ``ar_alpha_`` on that
        problem, as seqforecast's ``ar_alpha='auto'`` does.
        """
        from seqforecast.training.selection import ridge_alpha

        net = self.network_
        with torch.no_grad():
            net.ar.weight.zero_()
            net.head.bias.zero_()
        lags, residual = self._left_by_head(X, y)
        if choose_alpha:
            self.ar_alpha_ = ridge_alpha(lags, residual)
        ridge = Ridge(alpha=self.ar_alpha_).fit(lags, residual)
        with torch.no_grad():
            net.ar.weight.copy_(torch.from_numpy(ridge.coef_.reshape(y.shape[1], -1)))
            net.head.bias.copy_(torch.from_numpy(np.atleast_1d(ridge.intercept_)))

    def _left_by_head(self, X, y):
        """The flattened last ``ar_window`` steps and ``y - head(h_T)``, float64."""
        residual = y.astype(np.float64) - self._predict(torch.from_numpy(X))
        lags = X[:, X.shape[1] - self.network_.ar_window:].reshape(len(X), -1)
        return lags.astype(np.float64), residual

    def _finish_autoregressive(self, X, y, X_val, y_val):
        """The linear part on all windows; the recurrent part only if it helps significantly."""
        from seqforecast.training.selection import improves_significantly

        net = self.network_
        self._solve_autoregressive(X, y)
        with_recurrent, loss_with = copy.deepcopy(net.state_dict()), self._losses(X_val, y_val)
        with torch.no_grad():
            net.head.weight.zero_()
        self._solve_autoregressive(X, y)
        self.recurrent_kept_ = improves_significantly(self._losses(X_val, y_val), loss_with,
                                                      y_val.shape[1] - 1)
        if self.recurrent_kept_:
            net.load_state_dict(with_recurrent)

    def _losses(self, X, y):
        """Each sample's squared error, the mean over outputs."""
        return np.mean((self._predict(torch.from_numpy(X)) - y) ** 2, axis=1)

    def _train(self, X, y, X_val, y_val, rng):
        """The epochs; returns whether training diverged (the best weights are then restored)."""
        net, n_train = self.network_, len(X)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate_init,
                                     betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        batches_per_epoch = math.ceil(n_train / self.batch_size)
        limits = [self.max_steps, None if self.max_iter is None else self.max_iter
                  * batches_per_epoch]
        if limits == [None, None]:
            raise ValueError("max_iter and max_steps cannot both be None")
        self._budget = min(limit for limit in limits if limit is not None)
        n_epochs = math.ceil(self._budget / batches_per_epoch)
        self.n_steps_ = self.n_iter_ = 0
        self.validation_scores_ = []
        best_state, no_improvement = copy.deepcopy(net.state_dict()), 0
        if self.early_stopping:
            self.best_validation_score_ = self._score(X_val, y_val)  # the start is epoch 0
            self.validation_scores_.append(self.best_validation_score_)
        for _ in range(n_epochs):
            order = torch.from_numpy(rng.permutation(n_train))
            for start in range(0, n_train, self.batch_size):
                if self.n_steps_ == self._budget:
                    break
                batch = order[start:start + self.batch_size]
                if not self._step(optimizer, X[batch], y[batch]):
                    net.load_state_dict(best_state)
                    return True
            self.n_iter_ += 1
            if not self.early_stopping:
                continue
            score = self._score(X_val, y_val)
            self.validation_scores_.append(score)
            no_improvement = (no_improvement + 1
                              if score < self.best_validation_score_ + self.tol else 0)
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                best_state = copy.deepcopy(net.state_dict())
            if no_improvement > self.n_iter_no_change:
                break
        if self.early_stopping:
            net.load_state_dict(best_state)
        return False

    def _step(self, optimizer, x, y):
        """One optimizer step at the cosine schedule's rate; False if the loss is not finite."""
        done = self.n_steps_ / self._budget
        for group in optimizer.param_groups:
            group["lr"] = self.learning_rate_init * 0.5 * (1.0 + math.cos(math.pi * done))
        optimizer.zero_grad()
        net = self.network_
        loss = torch.nn.functional.mse_loss(net(x), y)
        if self.alpha:
            penalty = sum((w * w).sum() for w in net.weights())
            loss = loss + self.alpha / (2 * len(x)) * penalty
        if not torch.isfinite(loss):
            return False
        loss.backward()
        if self.clip_global_norm is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), self.clip_global_norm)
        optimizer.step()
        self.n_steps_ += 1
        return True

    def _predict(self, X):
        self.network_.eval()
        with torch.no_grad():
            out = self.network_(X).numpy()
        self.network_.train()
        return out

    def _score(self, X, y):
        return r2_score(y, self._predict(torch.from_numpy(X)))


def twin_of(regressor):
    """The :class:`TorchRecurrentRegressor` with the parameters of a seqforecast regressor.

    ``regressor`` is an unfitted ``LSTMRegressor`` or ``GRURegressor``, e.g.
    ``default_regressor("gru", window=48, n_windows=500, random_state=0)``;
    the shared parameters are copied from its ``get_params()``.  A regressor
    with a setting that the twin does not implement (another solver, loss
    or schedule, dropout, several layers, ...) is refused rather than
    mirrored wrongly.
    """
    params = regressor.get_params()
    cell = type(regressor).__name__.removesuffix("Regressor").lower()
    if cell not in _CELLS:
        raise ValueError(f"no twin for {type(regressor).__name__}")
    different = {name: params[name] for name, value in _RECIPE.items()
                 if name in params and params[name] != value}
    sizes = params["hidden_sizes"]
    sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
    if len(sizes) != 1:
        different["hidden_sizes"] = sizes
    if different:
        raise ValueError(f"the twin implements only the default recipe; this regressor has "
                         f"{different}")
    shared = {name: params[name] for name in _SHARED if name in params}
    shared["ar_window"] = shared.get("ar_window") or 0  # seqforecast: None means no AR path
    shared.setdefault("max_steps", None)  # seqforecast's regressors count epochs only
    return TorchRecurrentRegressor(cell, sizes[0], **shared)


class TorchDefaultRegressor(RegressorMixin, BaseEstimator):
    """The twin of the regressor ``SequenceForecaster(regressor=cell)`` builds.

    At each fit it asks ``seqforecast.forecasting.default_regressor(cell,
    window=n_timesteps, n_windows=n_samples, random_state=...)`` for the
    recipe sized to the windows it is given, as the forecaster does, and
    fits :func:`twin_of` that regressor.

    Parameters
    ----------
    cell : {'lstm', 'gru'}, default='lstm'
    random_state : int or None, default=None
    n_threads : int, default=1

    Attributes
    ----------
    regressor_ : TorchRecurrentRegressor
        The fitted twin.
    """

    def __init__(self, cell="lstm", *, random_state=None, n_threads=1):
        self.cell = cell
        self.random_state = random_state
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        from seqforecast.forecasting import default_regressor

        X = _as_windows(X)
        recipe = default_regressor(self.cell, window=X.shape[1], n_windows=len(X),
                                   random_state=self.random_state)
        self.regressor_ = twin_of(recipe).set_params(n_threads=self.n_threads).fit(X, y)
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.regressor_.predict(X)


def _as_windows(X):
    """X as a float32 array of shape (n_samples, n_timesteps, n_features)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 2:
        X = X[:, :, np.newaxis]
    if X.ndim != 3:
        raise ValueError(f"X must be 2-D or 3-D, got {X.ndim}-D")
    return np.ascontiguousarray(X)
