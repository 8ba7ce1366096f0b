"""scikit-learn regressors on recurrent networks: RNNRegressor, LSTMRegressor, GRURegressor.

This module is plumbing: input validation, batches, epochs, early stopping,
the learning-rate schedule and the fitted attributes.  The mathematics lives
in :mod:`seqforecast.network` (the model) and :mod:`seqforecast.training`
(losses, optimizers, clipping, one training step).
"""
import functools
import math
import numbers
import time
import warnings
from dataclasses import fields
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.validation import check_array, check_X_y, validate_data

from ._checks import check_fitted, check_levels, is_bool, is_int, is_real
from .backends import DEVICES, get_backend
from .cpu.scans import all_finite, find_outside
from .network import Network, count_parameters, forward_bytes
from .persistence import save
from .cells.spec import SPECS
from .recurrent import Cell
from .threads import kernel_threads
from .training.losses import LOSSES, Loss, make_loss
from .training.optimizers import SGD, Adam, RMSprop
from .training.schedules import cosine
from .training.selection import held_out_count, improves_significantly, ridge_alpha
from .training.trainer import Trainer

# The learning rate an 'adaptive' schedule stops at (as in scikit-learn's MLP).
_MIN_LEARNING_RATE = 1e-6
# Seconds between progress lines within one epoch when verbose.
_PROGRESS_EVERY = 10.0
# The divergence policy (see the regressors' Notes): a training loss more than this many
# times the lowest of the fit (its starting weights' or an epoch's), and above the loss
# of predicting the mean of y, means the weights have blown up.  Mini-batch noise moves
# a healthy fit's epoch loss by a few times at most; the airline series at
# learning_rate_init=0.5 jumps 70-fold in its second epoch.  The mean's loss spares
# fits near zero loss, whose epoch losses can spike a thousandfold (Adam on a
# noiseless sine) while staying far below the targets' variance.
_BLOWUP_FACTOR = 10
# Targets whose spread is at most this fraction of their size (at least 1) are constant to
# the policy: eight units in the last place of float32.
_CONSTANT_SPREAD = 1e-6
# fit warns before building a model with more parameters than this per value of its
# training data (every number in X and y): far past the usual overparameterisation of
# networks (an LSTM of 32 units on a hundred 12-step lag windows has about 3 per value).
_MAX_PARAMETERS_PER_VALUE = 1000
# ... or one whose training step needs more than this share of the machine's memory.
_MAX_MEMORY_SHARE = 0.5
# Copies of the parameters a fit holds at its peak: the weights, their gradient, two
# optimizer moments and the update's temporaries, the weights of the start, those the
# epoch and the best epoch started from and those the best epoch ended with (10
# measured with Adam and 16 million parameters).
_PARAMETER_COPIES = 10

_PARAMETERS_DOC = """
    dropout : float, default=0.0
        Probability of dropping each output of a recurrent layer before it
        enters the next one (training only; needs two or more layers).
    ar_window : int or None, default=None
        Add a linear autoregressive path (LSTNet's "highway"): a linear map
        from the last ``ar_window`` time steps of every input feature
        straight to every output, added to the recurrent head's output and
        trained with it.  A fit starts it at the ridge regression (``ar_alpha_``)
        on those steps of what the randomly initialised recurrent head
        leaves of y, so training begins at (about) the linear model.  The
        head is not started at zero: its gradient, and so the recurrent
        layers', would start at zero too, and a GRU then sat for many
        epochs on that plateau.  With ``early_stopping`` that
        start is the validation score to beat (the recurrent part is kept
        only where it improves on the linear model), and once the best
        epoch is restored the AR path and the bias are solved again, by
        ridge on all samples (the held-out ones included) with the
        recurrent part fixed, so the linear part does not lose the most
        recent samples.  The recurrent part is then kept only if, on the
        held-out samples, it beats the ridge regression alone (solved on the
        same samples) by more than chance: a one-sided Diebold-Mariano test
        at 5% with Harvey, Leybourne & Newbold's small-sample correction
        (:mod:`seqforecast.training.selection`), ``recurrent_kept_``.  None:
        no such path.
    ar_alpha : float or 'auto', default=1.0
        L2 penalty of that ridge regression (scikit-learn's
        :class:`~sklearn.linear_model.Ridge` ``alpha``), ``ar_alpha_``.
        'auto' chooses it when a new model starts: of
        :data:`~seqforecast.training.selection.RIDGE_ALPHAS` (1e-3 to 1e4),
        the one under which the training samples (not those early stopping
        holds out) are most probable (the evidence,
        :func:`~seqforecast.training.selection.ridge_alpha`), on what the
        randomly initialised head leaves of y, as the start reads it; a
        warm start keeps the penalty its model has.  One penalty does
        not suit every number of samples and lags: a short series with a
        long window needs more.
    loss : {'squared_error', 'absolute_error', 'huber', 'quantile', 'gaussian', \
'student_t'}, default='squared_error'
        Training loss, the mean over samples and outputs.  The last three
        make the model probabilistic (see :meth:`predict_quantiles`):
        'quantile' predicts each level of ``quantiles`` (one output per
        level and target; the pinball loss averaged over levels),
        'gaussian' and 'student_t' a location and a scale (through softplus)
        per target, trained by negative log-likelihood; :meth:`predict` then
        returns the median or the location.
    huber_delta : float, default=1.0
        Where the Huber loss turns from quadratic to linear.
    quantiles : tuple of float, default=(0.05, 0.5, 0.95)
        With ``loss='quantile'`` the levels trained: distinct, in (0, 1), in
        any order, the median 0.5 among them (what :meth:`predict` returns).  With
        'gaussian' or 'student_t' the levels :meth:`predict_quantiles` gives
        by default.
    student_t_df : float or None, default=None
        Degrees of freedom of 'student_t'; None: learned per output, as
        ``2 + softplus`` of a third output (a finite variance), starting at 10.
    solver : {'adam', 'sgd', 'rmsprop'}, default='adam'
        Optimizer (PyTorch's formulas).
    learning_rate_init : float, default=0.001
        Initial step size.
    learning_rate : {'constant', 'adaptive', 'cosine'}, default='constant'
        'adaptive' divides the step size by 5 each time more than
        ``n_iter_no_change`` epochs in a row fail to improve the training
        loss (or the validation score with ``early_stopping``) by ``tol``;
        :meth:`fit` stops when another division would take it below 1e-6.
        'cosine' decays it at every optimizer step from
        ``learning_rate_init`` to 0 along half a cosine over the
        ``max_iter`` epochs (Loshchilov & Hutter 2017, without restarts);
        reaching ``max_iter`` is then the plan and raises no
        ConvergenceWarning.
    alpha : float, default=0.0001
        L2 penalty on the weights (not the biases), scaled by the batch size
        as in :class:`~sklearn.neural_network.MLPRegressor`.
    batch_size : int or 'auto', default='auto'
        Samples per optimizer step; 'auto' is ``min(200, n_samples)``.  A
        batch larger than the training samples is an error.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training samples).
    shuffle : bool, default=True
        Shuffle the training samples before each epoch.  Each sample is a
        whole window, so shuffling never reorders time inside a sequence.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the dropout masks; an
        int gives bit-identical weights and predictions on every run.
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.
    early_stopping : bool, default=False
        Hold out the most recent ``validation_fraction`` of the samples, in
        the order given (never a random draw: that would leak the future
        into training), stop when their score (R^2, or minus the loss for a
        probabilistic ``loss``) has not improved by ``tol`` for
        more than ``n_iter_no_change`` epochs, and keep the weights of the
        best epoch of this fit.  Pass the samples in time order.
        :meth:`partial_fit` refuses it.
    validation_fraction : float, default=0.1
        Share of the samples (the last ones) held out for early stopping.
    n_iter_no_change : int, default=10
        Training stops (or, with ``learning_rate='adaptive'``, the step size
        is lowered) when more than this many epochs in a row bring no
        improvement by ``tol``.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for 'sgd'.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Numerical stability term of 'adam' and 'rmsprop'.
    rho : float, default=0.9
        Decay rate of 'rmsprop''s squared-gradient average.
    clip_value : float or None, default=None
        Clamp every gradient entry to ``[-clip_value, clip_value]``.
    clip_norm : float or None, default=None
        Rescale each weight or bias tensor's gradient to at most this L2 norm.
    clip_global_norm : float or None, default=None
        Rescale the whole gradient to at most this L2 norm (Pascanu et al.
        2013): the usual remedy for exploding gradients.
    clip_hidden_norm : float or None, default=None
        Inside backpropagation through time, rescale each sample's
        ``dL/dh_t`` to at most this norm at every step and layer.
    tbptt_steps : int or None, default=None
        Truncated backpropagation through time: gradients flow back at most
        this many steps.  None: full BPTT.
    warm_start : bool, default=False
        Start :meth:`fit` from the weights of the previous fit (the
        optimizer, the best loss and score, and the patience start afresh;
        the curves and counters go on).
    verbose : bool or int, default=False
        Print one line per epoch (loss, validation score, gradient norm,
        clipped steps, time) and a progress line every 10 s within a long
        epoch.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of weights and computation (float64 for gradient checks).
    device : {'cpu', 'cuda'}, default='cpu'
        Where fit and predict run.  'cuda' runs the numba.cuda kernels on an
        NVIDIA GPU (install the ``[cuda]`` extra): during a fit the weights,
        the optimizer state and the training data stay on the GPU and each
        step copies back five numbers (loss, gradient norm, clipped, whether
        the update went, whether it made a parameter non-finite); the fitted
        model is the same numpy model as with 'cpu' (picklable, and it can go
        on training on either device).  Dropout masks come from a different
        generator on each device.  Hidden sizes up to 1024.

    Attributes
    ----------
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss (penalty included) of each epoch, averaged over batches.
    validation_scores_ : list of float or None
        R^2 on the held-out samples after each epoch run with
        ``early_stopping``; with a probabilistic ``loss``, minus the loss on
        them (R^2 of the median or location would not judge the spread).
        They are the last epochs' (a warm-started fit with ``early_stopping``
        adds to them); a fit without it, or a partial_fit, sets None.
    best_loss_ : float
        Lowest training loss of an epoch in the last :meth:`fit` (and the
        :meth:`partial_fit` calls since).
    best_validation_score_ : float or None
        Best validation score of the last fit (``early_stopping`` only).
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen (epochs times samples).
    grad_norm_mean_, grad_norm_max_ : list of float
        Per epoch, mean and max over batches of the global gradient norm
        (L2 penalty included) before ``clip_value``, ``clip_norm`` and
        ``clip_global_norm`` (after ``clip_hidden_norm``, which acts inside
        BPTT).
    step_grad_norms_ : list of ndarray of shape (n_layers, n_timesteps)
        Per epoch, the norm of ``dL/dh_t`` at each time step (mean over
        batches, before hidden clipping): how the gradient vanishes or
        explodes as it flows back in time.
    n_clipped_steps_ : int
        Optimizer steps whose gradient ``clip_value``, ``clip_norm`` or
        ``clip_global_norm`` changed.
    ar_alpha_ : float or None
        The penalty the linear path's ridge regressions were last solved
        with (``ar_alpha``, or the one 'auto' chose); None without
        ``ar_window``.
    recurrent_kept_ : bool or None
        With ``ar_window`` and ``early_stopping``: whether the recurrent part
        improved significantly on the ridge regression alone over the
        held-out samples and was kept (False: the model is that ridge
        regression, its head weight zero).  None otherwise.
    layers_ : list of dict
        Weights of each recurrent layer with PyTorch's names and layouts:
        ``weight_ih`` (G*H, n_in), ``weight_hh`` (G*H, H), ``bias_ih`` and
        ``bias_hh`` (G*H,), ``peephole`` (3, H) for a peephole LSTM.
    head_weight_ : ndarray of shape (n_outputs * width, hidden_sizes[-1])
    head_bias_ : ndarray of shape (n_outputs * width,)
        The linear layer on the last hidden state, ``width`` outputs per
        target: 1, or with a probabilistic ``loss`` one per quantile level,
        or the distribution's parameters (location, raw scale, and for a
        learned Student's t the raw degrees of freedom), target by target.
        Like ``MLPRegressor.coefs_``, ``layers_``, ``head_weight_`` and
        ``head_bias_`` are the model's own arrays: further training changes
        them, and writing to them changes the model.
    n_features_in_ : int
        Columns of X for 2-D X (one per time step); features per time step
        for 3-D X.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X was a DataFrame with string column names.
    n_timesteps_in_ : int
        Time steps per sequence.
    n_outputs_ : int
        Targets per sample (the columns of y).
    trained_loss_ : str
        The loss the model was last trained with: what its outputs mean,
        whatever ``loss`` says now.
    quantiles_ : tuple of float or None
        The levels :meth:`predict_quantiles` gives by default, increasing:
        for ``trained_loss_='quantile'`` those trained (the only ones it
        gives), for 'gaussian' and 'student_t' ``quantiles`` as it was at
        the fit (they give any level); None for a point loss.

    Notes
    -----
    X is either 2-D, (n_samples, n_timesteps), each row one univariate
    sequence in time order (e.g. lag windows), or 3-D, (n_samples,
    n_timesteps, n_features).  y is 1-D or 2-D (several outputs, e.g. a
    multi-step horizon predicted directly); :meth:`predict` returns the
    same shape family.  Inputs and targets are not rescaled: put a scaler
    in a :class:`~sklearn.pipeline.Pipeline` and use
    :class:`~sklearn.compose.TransformedTargetRegressor` for targets far
    from unit scale.  With ``dtype='float32'``, values beyond float32's
    range or nonzero values below its smallest normal number (about 1.2e-38)
    are refused with a ValueError rather than silently lost.

    Divergence policy.  Training has diverged when a step's loss, gradient
    or update is NaN or infinite, when the predictions on the validation
    samples are, or when the weights have blown up: an epoch's training
    loss is more than 10 times the lowest of the fit (that of the weights
    it started from, or of an epoch) and above the loss of predicting each
    output's mean (for an output the training targets hold constant, up to
    float32's rounding, of predicting it off by 1).  Training then stops
    and, of the weights the fit started from (with ``ar_window``, the ridge
    regression), those the best epoch ended with and those it started
    from, the ones with the lowest loss on the training samples are
    restored; a :class:`~sklearn.exceptions.ConvergenceWarning` names the
    learning rate and the clipping options.  :meth:`fit` also judges the
    weights it ends with (after ``max_iter`` epochs, or when the loss or
    the validation score stops improving) by the same rule, and restores
    and warns alike; so does :meth:`partial_fit` (its weights screened on
    the batch of its last update, and judged on all its samples when that
    batch's loss has blown up).  Training that never blows up is unchanged
    by the policy.

    Before building a new model, :meth:`fit` warns (UserWarning) when it
    would have more than 1,000 parameters per value of its training data
    (every number in X and y) or a training step would need more than half
    of the machine's memory.  :meth:`predict` works through the samples in
    chunks of bounded memory.
"""


class _Diverged(Exception):
    """Training diverged within an epoch; the message says how."""


class _Epoch(NamedTuple):
    """What one pass over the batches measured (see ``_run_epoch``).

    Attributes
    ----------
    loss : float
        Mean loss per training sample, L2 penalty included, as the steps saw it.
    grad_norms : list of float
        Each step's global gradient norm before clipping.
    clipped : int
        Steps whose gradient a clipping option changed.
    step_norms : ndarray of shape (n_layers, n_timesteps) or None
        Mean ``||dL/dh_t||`` per layer and step over the epoch's steps.
    batches : int
    started_from : ndarray of shape (n_params,)
        The parameters before the epoch's first step.
    """

    loss: float
    grad_norms: list
    clipped: int
    step_norms: object
    batches: int
    started_from: np.ndarray


def _class_doc(title, cell_doc):
    """A regressor's docstring: its title and cell options, then the shared parameters."""
    return f"""{title}

    Parameters
    ----------
    hidden_sizes : int or tuple of int, default=32
        Hidden size of the recurrent layer, or of each stacked layer.{cell_doc}""" + \
        _PARAMETERS_DOC


class _RecurrentRegressor(RegressorMixin, BaseEstimator):
    """Everything the three regressors share; subclasses only name their cell."""

    def _cell(self):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # One head predicts all columns of a 2-D y (e.g. a whole horizon).
        tags.target_tags.multi_output = True
        # 3-D X, (n_samples, n_timesteps, n_features), is a native input.
        tags.input_tags.three_d_array = True
        return tags

    # -- public API -----------------------------------------------------------------

    def fit(self, X, y):
        """Train on sequences X and targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        with kernel_threads():
            return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """One epoch on X and y, continuing from the current weights and optimizer state.

        Parameters and return value as :meth:`fit`.  The first call
        initializes the model and its optimizer (the ``solver`` then set);
        later calls need the same number of time steps, features and
        outputs, and keep that optimizer.  ``early_stopping`` is refused.
        """
        with kernel_threads():
            return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predict from sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_features)
            Same layout, time steps and features as the training data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs), float64
            1-D when the y of the last fit or partial_fit was 1-D.
        """
        check_fitted(self)
        out = self._fitted_loss().point(self._outputs(X))
        out = out.astype(np.float64)  # scikit-learn's regressors predict float64
        return out[:, 0] if self._y_ndim == 1 else out

    def predict_quantiles(self, X, quantiles=None):
        """Quantiles of the predictive distribution of a probabilistic model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_features)
        quantiles : float or sequence of float, optional
            Levels in (0, 1), in any order.  With ``loss='quantile'``, some of
            the levels trained (default: all of them); with 'gaussian' or
            'student_t', any (default: ``self.quantiles``).

        Returns
        -------
        ndarray of shape (n_samples, n_outputs, n_quantiles), float64
            ``(n_samples, n_quantiles)`` when the last training y was 1-D; the
            levels in increasing order along the last axis, and so are the
            quantiles: those a 'quantile' model predicts crossed are sorted,
            which can only bring them closer to the true ones (Chernozhukov
            et al. 2010).

        Raises
        ------
        ValueError
            For a point loss, or levels the model cannot give.
        """
        check_fitted(self)
        loss = self._fitted_loss()
        if not loss.probabilistic:
            raise ValueError(f"{type(self).__name__} with loss={loss.name!r} predicts a point, "
                             f"not a distribution: fit with loss='quantile', 'gaussian' or "
                             f"'student_t' to get quantiles")
        if quantiles is None:
            levels = self.quantiles_
        else:
            levels = check_levels(quantiles)
        if loss.name == "quantile":
            missing = [q for q in levels if q not in loss.constants]
            if missing:
                raise ValueError(f"the model was trained for the quantiles {loss.constants}; "
                                 f"{missing} are not among them (a 'gaussian' or 'student_t' "
                                 f"model gives any)")
        out = loss.quantiles(self._outputs(X), levels)
        return out[:, 0] if self._y_ndim == 1 else out

    def _outputs(self, X):
        """The network's outputs (n_samples, n_outputs * width) for checked input ``X``."""
        X = self._validate_X(X, reset=False)
        x = X.transpose(1, 0, 2)  # a view: the network copies it time-major chunk by chunk
        # No kernel_threads(): a forward pass makes its products itself, without BLAS.
        return self._network.on(get_backend(self.device)).predict(x, check_input=False)

    def save(self, path):
        """Write this estimator to one portable file; :func:`seqforecast.load` reads it back.

        The file holds no pickle: see :mod:`seqforecast.persistence` for its
        format.  A loaded copy predicts bit-identically and continues training (``partial_fit``,
        ``warm_start``) as this one would.

        Parameters
        ----------
        path : str or os.PathLike
        """
        save(self, path)

    @property
    def layers_(self):
        check_fitted(self)
        return self._network.layers

    @property
    def head_weight_(self):
        check_fitted(self)
        return self._network.head_weight

    @property
    def head_bias_(self):
        check_fitted(self)
        return self._network.head_bias

    @property
    def trained_loss_(self):
        check_fitted(self)
        return self._fitted_loss().name

    @property
    def quantiles_(self):
        check_fitted(self)
        if hasattr(self, "_trained_levels"):
            return self._trained_levels
        return self._levels(self._fitted_loss())  # a file saved before they were recorded

    def _levels(self, loss):
        """The levels of :attr:`quantiles_` for a model trained with ``loss`` now."""
        if not loss.probabilistic:
            return None
        return loss.constants if loss.name == "quantile" else check_levels(self.quantiles)

    # -- validation -----------------------------------------------------------------

    def _validate_X(self, X, y=None, reset=True):
        """Checked input in the model's dtype.

        Returns X of shape (n_samples, n_timesteps, n_features); with y, the
        tuple ``(X, y of shape (n_samples, n_outputs), y.ndim as given)``.
        ``reset`` records the input's layout (fit), else checks against it.
        """
        name = type(self).__name__
        # A fitted model predicts in its own dtype (a dtype set since acts at the next fit).
        dtype = self._dtype() if reset else self._network.params.dtype
        accepted = (dtype, np.float64)  # float64 is cast after the range check below
        if not hasattr(X, "shape"):  # a list or another array-like
            X = np.asarray(X)
        ndim = X.ndim
        checked = False  # finite and within dtype's range, found so by one scan
        if not reset and 3 in (ndim, self._X_ndim) and ndim != self._X_ndim:
            raise ValueError(f"X must be {self._X_ndim}-D like the data {name} was fitted on, "
                             f"got {ndim}-D input")
        if ndim > 3:
            raise ValueError(f"X must be 2-D (n_samples, n_timesteps) or 3-D (n_samples, "
                             f"n_timesteps, n_features), got {ndim}-D input")
        if ndim == 3:
            if y is None:
                checked = _checked_already(X, accepted, dtype)
                if not checked:
                    X = check_array(X, dtype=accepted, allow_nd=True)
            else:
                X, y = check_X_y(X, y, dtype=accepted, allow_nd=True, multi_output=True,
                                 y_numeric=True)
            if 0 in X.shape[1:]:
                raise ValueError(f"X has shape {X.shape}: a sequence needs at least one time "
                                 f"step and one feature")
            if reset:
                self.n_features_in_ = X.shape[2]
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            elif X.shape[2] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[2]} features per time step, but {name} "
                                 f"was fitted with {self.n_features_in_}")
        else:
            if not reset and ndim == 2 and X.shape[1] != self.n_timesteps_in_:  # sklearn's words
                raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting "
                                 f"{self.n_timesteps_in_} features as input: with 2-D X each "
                                 f"column is a time step, and {name} was fitted with "
                                 f"{self.n_timesteps_in_}")
            if y is None:
                X = validate_data(self, X, reset=reset, dtype=accepted)
            else:
                X, y = validate_data(self, X, y, reset=reset, dtype=accepted, multi_output=True,
                                     y_numeric=True)
            X = X[:, :, np.newaxis]
        if reset:
            self.n_timesteps_in_ = X.shape[1]
            self._X_ndim = ndim
        elif X.shape[1] != self.n_timesteps_in_:
            raise ValueError(f"X has {X.shape[1]} time steps, but {name} was fitted with "
                             f"{self.n_timesteps_in_}")
        X = X.astype(dtype, copy=False) if checked else _as_dtype("X", X, dtype,
                                                                  training=y is not None)
        if y is None:
            return X
        y = _as_dtype("y", y, dtype, training=True)
        return X, y.reshape(len(y), -1), y.ndim

    def _dtype(self):
        try:
            dtype = None if self.dtype is None else np.dtype(self.dtype)  # np.dtype(None): f8
        except TypeError:
            dtype = None
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return dtype

    def _hidden_sizes(self):
        sizes = self.hidden_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        if not isinstance(sizes, (tuple, list)) or not sizes or not all(is_int(s) for s in sizes):
            raise ValueError(f"hidden_sizes must be a positive int or a non-empty tuple of "
                             f"positive ints, got {self.hidden_sizes!r}")
        return tuple(int(s) for s in sizes)

    def _check_hyperparameters(self):
        params = self.get_params(deep=False)
        for names, valid, what in _HYPERPARAMETER_RULES:
            for name in names:
                if name in params and not valid(params[name]):
                    raise ValueError(f"{name} must be {what}, got {params[name]!r}")

    # -- training -------------------------------------------------------------------

    def _fit(self, X, y, incremental):
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None")
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True: it trains one "
                             "epoch on the data it is given; hold data out yourself")
        self._check_hyperparameters()
        loss = self._loss()  # checks the loss's settings (its quantile levels, df) too
        sizes, cell, dtype = self._hidden_sizes(), self._cell(), self._dtype()
        backend = get_backend(self.device)
        for size in sizes:
            backend.check_hidden(size)
        if self.dropout > 0 and len(sizes) == 1:
            warnings.warn("dropout acts between stacked recurrent layers and has no effect "
                          "with a single layer", UserWarning)
        ar_window = self.ar_window or 0
        resume = (incremental or self.warm_start) and hasattr(self, "_network")
        if resume:
            net = self._network
            changed = [f"{name} {old} -> {new}" for name, old, new in (
                ("cell", _cell_text(net.cell), _cell_text(cell)),
                ("hidden_sizes", net.hidden_sizes, sizes),
                ("dtype", net.params.dtype, dtype), ("ar_window", net.ar_window, ar_window))
                if old != new]
            if changed:
                raise ValueError(f"cannot continue training (warm_start, partial_fit): the "
                                 f"parameters now ask for another model than the fitted one, "
                                 f"{'; '.join(changed)}; fit a new model to change them")
        else:
            self.__dict__.pop("_network", None)  # a fit that fails below leaves it unfitted
        X, y, y_ndim = self._validate_X(X, y, reset=not resume)
        if ar_window > X.shape[1]:
            raise ValueError(f"ar_window={ar_window} is longer than the {X.shape[1]} time steps "
                             f"of X")
        if resume and y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} outputs, but the model was fitted with "
                             f"{self.n_outputs_}")
        if resume:
            fitted = self._fitted_loss()
            if (fitted.probabilistic or loss.probabilistic) and _meaning(fitted) != _meaning(loss):
                raise ValueError(f"cannot continue training: the model was fitted with "
                                 f"{_loss_text(fitted)}, which gives its outputs their meaning, "
                                 f"and the parameters now ask for {_loss_text(loss)}; fit a new "
                                 f"model to change it")
        early_stopping = self.early_stopping
        if early_stopping:
            n_samples = len(X)
            n_val = held_out_count(self.validation_fraction, n_samples)
            if n_val < 2 or n_val >= n_samples:
                raise ValueError(
                    f"early_stopping needs at least 2 validation samples and 1 training "
                    f"sample: validation_fraction={self.validation_fraction} of {n_samples} "
                    f"samples holds out {n_val}")
            # The most recent samples, in the order given: never a random draw.
            X_held, y_held = X[n_samples - n_val:], y[n_samples - n_val:]
            x_val, y_val = np.ascontiguousarray(X_held.transpose(1, 0, 2)), y_held
            X, y = X[:n_samples - n_val], y[:n_samples - n_val]
        auto_alpha = bool(ar_window) and self.ar_alpha == "auto"
        n_train = len(X)
        batch_size = min(200, n_train) if self.batch_size == "auto" else self.batch_size
        if batch_size > n_train:
            held = (f" (early_stopping held out {n_val} of the {n_samples} samples, "
                    f"validation_fraction={self.validation_fraction})" if early_stopping else "")
            raise ValueError(f"batch_size={batch_size} is larger than the {n_train} training "
                             f"samples{held}; lower batch_size or pass more samples")
        if (resume and incremental and self.learning_rate == "cosine"
                and self._schedule_epochs >= self.max_iter):
            raise ValueError(f"learning_rate='cosine' has run its max_iter={self.max_iter} "
                             f"epochs down to a rate of 0: partial_fit would change nothing; "
                             f"set learning_rate='constant' to go on training at "
                             f"learning_rate_init, or fit anew")

        x_host, y_host = np.ascontiguousarray(X.transpose(1, 0, 2)), y
        if not resume:
            self._check_size(backend, cell, sizes, dtype, X.shape,
                             y.shape[1] * loss.width, batch_size)
            self._initialize(cell, sizes, dtype, y.shape[1], y_ndim)
            self._trained_with, self._trained_levels = _meaning(loss), self._levels(loss)
            self.ar_alpha_ = None if not ar_window or auto_alpha else float(self.ar_alpha)
            if ar_window:  # start as the linear model of what the random head leaves
                self._solve_autoregressive(x_host, y, choose_alpha=auto_alpha)
        else:
            if not incremental:
                self._optimizer = self._make_optimizer()  # warm start: the weights carry over
            self._y_ndim = y_ndim  # predict's shape follows the y of the last call
        if not incremental:
            self._start_fit(early_stopping)
        self.recurrent_kept_ = None  # until this call's significance test, if it runs one
        self._start_params = self._network.params.copy()
        settings = (self._optimizer, loss, self.alpha, self.clip_value, self.clip_norm,
                    self.clip_global_norm, self.clip_hidden_norm, self.tbptt_steps, self.dropout)
        model = self._network.on(backend)
        trainer = Trainer(model, *settings)
        x_train, y = backend.to_device(x_host), backend.to_device(y)  # once per fit
        try:
            self._train(model, trainer, x_train, y,
                        backend.to_device(x_val) if early_stopping else None,
                        y_val if early_stopping else None, batch_size, incremental)
        finally:
            trainer.sync()
            if model is not self._network:
                self._network.restore(model.snapshot())
        if early_stopping and ar_window:
            if not auto_alpha:  # a warm start with 'auto' keeps the model's penalty
                self.ar_alpha_ = float(self.ar_alpha)
            self._finish_autoregressive(
                x_host, y_host,
                np.ascontiguousarray(np.concatenate([X, X_held]).transpose(1, 0, 2)),
                np.concatenate([y_host, y_held]), x_val, y_val)
        self._trained_with, self._trained_levels = _meaning(loss), self._levels(loss)
        return self

    def _train(self, model, trainer, x_train, y, x_val, y_val, batch_size, incremental):
        """The epochs of one fit or partial_fit call, on ``model`` (the network on its backend).

        Applies the divergence policy (see the regressors' Notes) within and,
        for :meth:`fit`, after the epochs.
        """
        n_train, early_stopping = y.shape[0], x_val is not None
        stopped = False
        backend = model.backend
        in_order = backend.batches(x_train, y, backend.to_device(np.arange(n_train)))

        def training_loss():
            return self._training_loss(model, in_order, n_train,
                                       max(batch_size, model.chunk_rows(x_train.shape[0])))

        def lowest_loss():
            return self._lowest_loss(model, training_loss)

        self._set_loss_references(backend.to_host(y))
        if self.learning_rate == "constant":  # as set now (set_params between partial_fits)
            self._optimizer.learning_rate = self.learning_rate_init
        if early_stopping and self.ar_window:  # the ridge start is the score to beat
            self.best_validation_score_ = self._held_out_score(model.predict(x_val), y_val)
            if self.verbose:
                print(f"Start (the linear part at its ridge solution): validation "
                      f"{self._score_name()} {self.best_validation_score_:.4f}")
        for _ in range(1 if incremental else self.max_iter):
            started = time.perf_counter()
            order = self._rng.permutation(n_train) if self.shuffle else np.arange(n_train)
            take = backend.batches(x_train, y, backend.to_device(order))
            try:
                epoch = self._run_epoch(model, trainer, take, n_train, batch_size, started)
                score = self._validation_score(model, x_val, y_val) if early_stopping else None
            except _Diverged as failure:
                self._roll_back(model, f"in epoch {self.n_iter_ + 1}: {failure}", training_loss)
                return
            self._record_epoch(model, epoch, score, n_train)
            if self.verbose:
                self._print_epoch(epoch, score, time.perf_counter() - started)
            if self._blown_up(epoch.loss, lowest_loss):
                self._roll_back(model, f"in epoch {self.n_iter_}: its training loss rose to "
                                f"{self._against_references(epoch.loss, lowest_loss)}",
                                training_loss)
                return
            if incremental:  # no later epoch's loss will see what the last update did
                loss = self._loss_after_last_update(model, take, n_train, batch_size,
                                                    lowest_loss, training_loss)
                if loss is not None:
                    self._roll_back(model, f"in epoch {self.n_iter_}: the weights its last "
                                    f"update left have a training loss of "
                                    f"{self._against_references(loss, lowest_loss)}",
                                    training_loss)
                    return
            if self._no_improvement_count > self.n_iter_no_change:
                if (self.learning_rate == "adaptive"
                        and self._optimizer.learning_rate / 5 >= _MIN_LEARNING_RATE):
                    self._optimizer.learning_rate /= 5
                    self._no_improvement_count = 0
                    if self.verbose:
                        print(f"Learning rate lowered to {self._optimizer.learning_rate:g}")
                elif not incremental:
                    if self.verbose:
                        what = "validation score" if early_stopping else "training loss"
                        floor = (f", and the learning rate ({self._optimizer.learning_rate:g}) "
                                 f"divided by 5 would fall below {_MIN_LEARNING_RATE:g}"
                                 if self.learning_rate == "adaptive" else "")
                        print(f"{what.capitalize()} did not improve by more than tol="
                              f"{self.tol} for {self.n_iter_no_change + 1} epochs{floor}; "
                              f"stopping.")
                    stopped = True
                    break
        if not (stopped or incremental or self.learning_rate == "cosine"):
            warnings.warn(f"Maximum iterations ({self.max_iter}) reached and the optimization "
                          f"hasn't converged yet.", ConvergenceWarning)
        if early_stopping:
            model.restore(self._best_params)
            if self.verbose:
                best = (f"epoch {self._best_epoch}" if self._best_epoch > self._first_epoch
                        else "the start: no epoch improved on it")
                print(f"Restored the weights with the best validation {self._score_name()} "
                      f"({self.best_validation_score_:.4f}), those of {best}")
        if not incremental:
            loss = training_loss()
            if self._blown_up(loss, lowest_loss):
                self._roll_back(model, f"by epoch {self.n_iter_}: the weights it ended with have "
                                f"a training loss of {self._against_references(loss, lowest_loss)}",
                                training_loss)

    def _set_loss_references(self, targets):
        """What :meth:`_blown_up` judges a loss by, for one fit or partial_fit call.

        The loss of predicting each output's mean of ``targets`` (the
        training targets; for a probabilistic loss, their distribution, see
        :meth:`~seqforecast.training.losses.Loss.start`; for an output they
        hold constant, its value plus 1, except with a likelihood), and the loss of the
        starting weights when no epoch has a loss to compare with yet (a new
        fit, or the first partial_fit; measured when first needed, see
        :meth:`_lowest_loss`); otherwise the best epoch's loss serves.
        """
        loss = self._loss()
        start = loss.start(np.repeat(targets, loss.width, axis=1))
        means = np.broadcast_to(start, (len(targets), start.size)).astype(targets.dtype)
        # Constant up to float32's rounding (e.g. seasonal differences of a trend and a
        # cycle, scaled): such an output costs nothing to predict, and near 0 a loss moves a
        # thousandfold with Adam's steps alone; there the reference is a prediction off by 1
        # (the estimators expect targets on about unit scale).
        constant = (np.ptp(targets, axis=0)
                    <= _CONSTANT_SPREAD * np.maximum(1.0, np.abs(targets).max(axis=0)))
        self._mean_text = "predicting the mean"
        if constant.any() and not loss.likelihood:
            means = means + np.repeat(constant, loss.width)
            self._mean_text += " (off by 1 where the targets are constant)"
        self._mean_loss = loss(means, targets)[0]
        self._start_loss = None if self.best_loss_ == np.inf else np.inf

    def _blown_up(self, loss, lowest_loss):
        """Whether a training loss says the weights have blown up (the divergence policy).

        True when ``loss`` is not finite, or when it is above the loss of
        predicting the mean and more than :data:`_BLOWUP_FACTOR` times the
        lowest loss of this fit (the starting weights' or the best epoch's),
        which ``lowest_loss()`` gives, asked only in that case.  A negative
        log-likelihood ('gaussian', 'student_t') moves by a constant when y is
        rescaled and can be negative, so ratios mean nothing there: it has
        blown up when it rose above the lowest by ``_BLOWUP_FACTOR - 1``
        times the lowest's lead over predicting the mean, and by at least
        that many nats.
        """
        if not np.isfinite(loss):
            return True
        if loss <= self._mean_loss:
            return False
        lowest = lowest_loss()
        if self._loss().likelihood:
            return loss - lowest > (_BLOWUP_FACTOR - 1) * max(self._mean_loss - lowest, 1.0)
        return loss > _BLOWUP_FACTOR * lowest

    def _lowest_loss(self, model, training_loss):
        """The lowest training loss of this fit: its starting weights' or its best epoch's.

        The starting weights' loss is measured the first time it is asked for
        (one pass over the training samples, which a fit that never comes near
        blowing up does not spend).
        """
        if self._start_loss is None:
            current = model.snapshot()
            model.restore(self._start_params)
            self._start_loss = training_loss()
            model.restore(current)
        return min(self.best_loss_, self._start_loss)

    def _loss_after_last_update(self, model, take, n_train, batch_size, lowest_loss,
                                training_loss):
        """The training loss of the weights a :meth:`partial_fit` ends with if they have blown
        up, else None.

        :meth:`fit` judges the weights it ends with on all its samples; a
        ``partial_fit`` call, one epoch, first screens them on the batch of its
        last update (``take`` gives the epoch's batches): an update that blows
        the weights up raises the loss of the batch it came from first.  Only
        a blown-up loss there is confirmed on all the training samples.
        """
        x, y = take(list(gen_batches(n_train, batch_size))[-1])
        with np.errstate(all="ignore"):  # blown-up weights give inf or NaN: judged below
            batch_loss = self._loss()(model.predict(x), model.backend.to_host(y))[0]
        if not self._blown_up(batch_loss, lowest_loss):
            return None
        loss = training_loss()
        return loss if self._blown_up(loss, lowest_loss) else None

    def _against_references(self, loss, lowest_loss):
        """``loss`` and what :meth:`_blown_up` compared it with, for a warning."""
        return (f"{loss:.3g} (the lowest of this fit: {lowest_loss():.3g}; "
                f"{self._mean_text}: {self._mean_loss:.3g})")

    def _training_loss(self, model, take, n_train, rows):
        """Loss of the model's weights on the training samples (no penalty), ``rows`` at a time
        (as many as :meth:`~seqforecast.network.Network.predict` takes, and at least a batch:
        fewer, larger forward passes than the training steps')."""
        loss = self._loss()
        total = 0.0
        with model.keeping_arrays():  # one forward pass's arrays for all the chunks
            for batch in gen_batches(n_train, rows):
                x, y = take(batch)
                y = model.backend.to_host(y)
                with np.errstate(all="ignore"):  # blown-up weights give inf or NaN: judged above
                    total += loss(model.predict(x), y)[0] * y.shape[0]
        return total / n_train

    def _validation_score(self, model, x_val, y_val):
        """The held-out score; raises :class:`_Diverged` if a prediction is not finite."""
        prediction = model.predict(x_val)
        if not np.isfinite(prediction).all():
            raise _Diverged("the predictions on the validation samples became NaN or infinite")
        return self._held_out_score(prediction, y_val)

    def _held_out_score(self, outputs, y):
        """R^2 of the network's ``outputs`` for ``y``; minus the loss for a probabilistic loss."""
        loss = self._loss()
        if loss.probabilistic:
            return -loss(outputs, y)[0]
        return r2_score(y, outputs)

    def _check_size(self, backend, cell, sizes, dtype, shape, n_outputs, batch_size):
        """Warn before building a model far beyond its training data or this machine's memory.

        ``shape`` is that of the training samples, (n_samples, n_timesteps,
        n_features).  A training step holds the forward pass of a batch and
        about as much again in backpropagation, and the parameters'
        :data:`_PARAMETER_COPIES`; compared with ``backend.memory()``, where known.
        """
        n_samples, n_timesteps, n_features = shape
        n_params = count_parameters(cell, n_features, sizes, n_outputs, self.ar_window or 0)
        n_values = n_samples * (n_timesteps * n_features + n_outputs)
        step = (2 * batch_size * forward_bytes(cell, n_features, sizes, n_timesteps, dtype)
                + _PARAMETER_COPIES * n_params * dtype.itemsize)
        memory = backend.memory()
        too_large = memory is not None and step > _MAX_MEMORY_SHARE * memory
        model = f"{type(self).__name__} with hidden_sizes={sizes}"
        if too_large:
            warnings.warn(
                f"{model}: a training step needs about {step / 2 ** 30:.3g} GiB of memory "
                f"({step / memory:.0%} of this machine's {memory / 2 ** 30:.3g} GiB) for "
                f"batch_size={batch_size} and {n_timesteps:,} time steps. Fitting may be slow "
                f"or run out of memory; lower hidden_sizes or batch_size, or give shorter "
                f"sequences.", UserWarning)
        if n_params > _MAX_PARAMETERS_PER_VALUE * n_values:
            warnings.warn(
                f"{model} has {n_params:,} parameters for {n_samples:,} training samples "
                f"({n_values:,} values in X and y): far more than the data can determine. "
                f"It may fit the noise; lower hidden_sizes or give more samples.", UserWarning)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_network")

    def __setstate__(self, state):
        """Restore a pickled or saved estimator, after checking its arrays against its network.

        The kernels index the optimizer's state and the kept parameter vectors
        as they index the network's parameters, without bounds checks: a
        damaged or crafted file must fail here, not write past an array.
        """
        super().__setstate__(state)
        if "_schedule_steps" in self.__dict__:  # saved before the schedule counted epochs
            del self.__dict__["_schedule_steps"]
            self._schedule_epochs = min(self.n_iter_, self.max_iter)
        network = self.__dict__.get("_network")
        if network is None:
            return
        if "ar_alpha_" not in self.__dict__:  # saved before ar_alpha could be 'auto'
            self.ar_alpha_ = float(self.ar_alpha) if network.ar_window else None
        params = network.params
        kept = [getattr(self, name, None) for name in
                ("_best_params", "_best_start_params", "_start_params")]
        optimizer = self.__dict__.get("_optimizer")
        state_arrays = [] if optimizer is None else [a for a in optimizer.state if a.size]
        for array in kept + state_arrays:
            if array is not None and (not isinstance(array, np.ndarray)
                                      or array.shape != params.shape
                                      or array.dtype != params.dtype):
                raise ValueError(f"the estimator's saved state does not fit its network of "
                                 f"{params.size} {params.dtype} parameters")
        if optimizer is not None and (optimizer._shape != params.shape
                                      or optimizer._dtype != params.dtype):
            raise ValueError("the estimator's optimizer does not fit its network")
        # predict hands its checked input to the network unchecked (check_input=False)
        features = self.__dict__.get("n_features_in_") if self.__dict__.get("_X_ndim") == 3 else 1
        if features != network.input_size:
            raise ValueError(f"the estimator's saved state does not fit its network: it checks "
                             f"inputs of {features} features per time step, the network "
                             f"takes {network.input_size}")

    def _initialize(self, cell, sizes, dtype, n_outputs, y_ndim):
        self._rng = check_random_state(self.random_state)
        self._network = Network(cell, self.n_features_in_ if self._X_ndim == 3 else 1, sizes,
                                n_outputs * self._loss().width, self._rng, dtype,
                                self.ar_window or 0)
        self._optimizer = self._make_optimizer()
        self._best_params = self._best_start_params = self._network.params.copy()
        self.n_outputs_ = n_outputs
        self._y_ndim = y_ndim
        self.loss_ = None
        self.loss_curve_ = []
        self.validation_scores_ = None
        self.best_loss_ = np.inf
        self.best_validation_score_ = None
        self.grad_norm_mean_, self.grad_norm_max_, self.step_grad_norms_ = [], [], []
        self.n_iter_ = self.t_ = self.n_clipped_steps_ = 0
        self._no_improvement_count = self._schedule_epochs = 0
        self.recurrent_kept_ = None

    def _solve_autoregressive(self, x, y, choose_alpha=False):
        """Set the AR path and the bias to the ridge regression of what the head leaves.

        ``x`` (n_timesteps, n_samples, n_features) time-major and ``y``
        (n_samples, n_outputs): the AR weights and the output bias of every
        output that moves with its target's level (all of them, but for a
        distribution's scale; see :attr:`~seqforecast.training.losses.Loss.
        locations`) become the ridge regression (``ar_alpha_``) of ``y -
        head(h_T)`` on the last ``ar_window`` steps, the recurrent part as
        it is.  ``choose_alpha``: choose ``ar_alpha_`` first, by the
        evidence of that regression problem (``ar_alpha='auto'``).  With
        a probabilistic loss the biases then start where the loss puts the
        ridge's residuals (:meth:`~seqforecast.training.losses.Loss.start`):
        each quantile at its level's empirical quantile, the scale at their
        spread.
        """
        net, loss = self._network, self._loss()
        net.ar_weight[...] = 0
        net.head_bias[...] = 0
        moving = np.tile(loss.locations, y.shape[1])
        lags, residual, head = self._left_by_head(x, y, moving)
        if choose_alpha:
            self.ar_alpha_ = ridge_alpha(lags, residual)
        ridge = Ridge(alpha=self.ar_alpha_).fit(lags, residual)
        coef = ridge.coef_.reshape(-1, self.ar_window, x.shape[2])
        net.ar_weight[:, moving] = coef.transpose(1, 0, 2)
        net.head_bias[moving] = ridge.intercept_
        if loss.probabilistic:
            errors = np.zeros_like(head)  # Loss.start reads the location outputs' columns
            errors[:, moving] = residual - ridge.predict(lags).reshape(residual.shape)
            start = loss.start(errors)
            net.head_bias[moving] += start[moving]
            net.head_bias[~moving] = start[~moving] - head[:, ~moving].mean(axis=0)

    def _left_by_head(self, x, y, moving):
        """The linear path's regression problem: its inputs and what the head leaves of y.

        ``x`` (n_timesteps, n_samples, n_features) time-major, ``y``
        (n_samples, n_outputs), ``moving`` (n_outputs * loss width,) the
        outputs the linear path serves.  Returns the last ``ar_window``
        steps flattened, (n_samples, ar_window * n_features), the targets
        less the network's outputs, (n_samples, moving.sum()), both
        float64, and the network's outputs, (n_samples, n_outputs * width).
        """
        width = self._loss().width
        head = self._network.predict(x)
        residual = np.repeat(y, width, axis=1)[:, moving].astype(np.float64) - head[:, moving]
        lags = self._network.ar_inputs(x).transpose(1, 0, 2).reshape(x.shape[1], -1)
        return lags.astype(np.float64), residual, head

    def _finish_autoregressive(self, x_train, y_train, x, y, x_val, y_val):
        """After early stopping: the linear part on all samples, the recurrent part if it helps.

        The hold-out chose the recurrent part's epoch; the linear part need
        not lose the most recent samples, so it is solved again on all of
        them (``x`` time-major, ``y``).  Then the model is compared on the
        held-out samples with the ridge regression alone, solved on the same
        samples: the recurrent part is kept only when its improvement is
        significant (:func:`~seqforecast.training.selection.
        improves_significantly`); otherwise the model becomes that ridge
        regression (head weight zero) and ``recurrent_kept_`` is False.

        With a probabilistic loss the ridge regression is not the loss's
        minimiser (it fits the mean, not each quantile or the spread), so the
        trained model is kept as it is and compared with the linear model
        alone (head weight zero), solved as the start is solved but on the
        training samples alone (``x_train``, ``y_train``); the linear model
        that replaces it is solved on all samples.
        """
        net, loss = self._network, self._loss()

        def held_out_loss():  # squared error, or the loss of a predicted distribution
            if loss.probabilistic:
                return loss.sample_losses(net.predict(x_val), y_val)
            return np.mean((net.predict(x_val) - y_val) ** 2, axis=1)

        if not loss.probabilistic:
            self._solve_autoregressive(x, y)
        with_recurrent, loss_with = net.snapshot(), held_out_loss()
        net.head_weight[...] = 0
        self._solve_autoregressive(*((x_train, y_train) if loss.probabilistic else (x, y)))
        loss_without = held_out_loss()
        self.recurrent_kept_ = improves_significantly(loss_without, loss_with, y_val.shape[1] - 1)
        if self.verbose:
            print(f"Recurrent part {'kept' if self.recurrent_kept_ else 'dropped'}: held-out "
                  f"loss {np.mean(loss_with):.6g} with it, {np.mean(loss_without):.6g} with the "
                  f"linear part alone ("
                  + ("significantly lower" if self.recurrent_kept_ else
                     "not significantly lower: the model is the linear part, solved on all "
                     "samples") + ")")
        if self.recurrent_kept_:
            net.restore(with_recurrent)
        elif loss.probabilistic:
            self._solve_autoregressive(x, y)

    def _start_fit(self, early_stopping):
        """Each fit call judges improvement afresh (its data, its hold-out)."""
        self._schedule_epochs = 0
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        self._best_params = self._best_start_params = self._network.params.copy()
        self._best_epoch = self._first_epoch = self.n_iter_
        if early_stopping:
            self.validation_scores_ = self.validation_scores_ or []
            self.best_validation_score_ = -np.inf
        else:  # an earlier fit's scores would be read as this fit's last epochs'
            self.validation_scores_ = self.best_validation_score_ = None

    def _make_optimizer(self):
        params, rate = self._network.params, self.learning_rate_init
        if self.solver == "sgd":
            return SGD(params, rate, self.momentum, self.nesterovs_momentum)
        if self.solver == "rmsprop":
            return RMSprop(params, rate, self.rho, self.epsilon)
        return Adam(params, rate, self.beta_1, self.beta_2, self.epsilon)

    def _loss(self):
        """The loss the parameters ask for (a fit trains with it)."""
        return make_loss(self.loss, self.huber_delta, self.quantiles, self.student_t_df)

    def _fitted_loss(self):
        """The loss the model was last trained with: what its outputs mean, whatever the
        parameters say now (the parameters' loss for a model saved before it was recorded)."""
        trained = getattr(self, "_trained_with", None)
        if trained is None:
            return self._loss()
        name, constants, group = trained
        return Loss(name, LOSSES[name].rule, tuple(constants), group)

    def _run_epoch(self, model, trainer, take, n_train, batch_size, started):
        """One pass over the batches; raises :class:`_Diverged` when a step is not finite."""
        losses, norms, clipped = [], [], 0
        started_from = model.snapshot()
        batches = list(gen_batches(n_train, batch_size))
        last_report = started
        trainer.pop_step_norms()
        for number, batch in enumerate(batches, 1):
            x, y = take(batch)
            if self.learning_rate == "cosine":  # epochs done, in this epoch's batches
                self._optimizer.learning_rate = cosine(
                    self.learning_rate_init,
                    (self._schedule_epochs * len(batches) + number - 1)
                    / (self.max_iter * len(batches)))
            seed = int(self._rng.randint(2 ** 31)) if self.dropout > 0 else None
            result = trainer.step(x, y, seed)
            if not result.finite:
                raise _Diverged(f"the loss became {result.loss:.3g} and the gradient norm "
                                f"{result.grad_norm:.3g}")
            losses.append(result.loss * y.shape[0])
            norms.append(result.grad_norm)
            clipped += result.clipped
            if self.verbose and time.perf_counter() - last_report > _PROGRESS_EVERY:
                last_report = time.perf_counter()
                print(f"  epoch {self.n_iter_ + 1}: batch {number}/{len(batches)}, "
                      f"loss {result.loss:.6g}, {last_report - started:.1f} s")
        self._schedule_epochs += 1
        return _Epoch(sum(losses) / n_train, norms, clipped, trainer.pop_step_norms(),
                      len(batches), started_from)

    def _roll_back(self, model, what, training_loss):
        """Stop training: restore usable weights and warn (the divergence policy).

        Of the weights this fit started from, those the best epoch ended with
        and those it started from, the ones with the lowest loss on the
        training samples (``training_loss()``; the first of them on a tie):
        an epoch's loss is measured while its steps change the weights, so
        the weights it ends with may have blown up already.  ``what`` says
        when and how training diverged.
        """
        def loss_of(params):
            model.restore(params)
            loss = training_loss()
            return loss if np.isfinite(loss) else np.inf

        loss, restored, params = min(
            ((loss_of(params), name, params) for name, params in
             (("the weights this fit started from", self._start_params),
              ("the weights of the best epoch so far", self._best_params),
              ("the weights the best epoch so far started from", self._best_start_params))),
            key=lambda candidate: candidate[0])
        model.restore(params)
        # The restored weights are what later calls (partial_fit) judge a blow-up against:
        # the rejected epoch, recorded with its loss, must not become the lowest loss.
        self.loss_ = self.best_loss_ = loss
        self._best_params = self._best_start_params = params
        self._optimizer = self._make_optimizer()
        warnings.warn(
            f"Training diverged {what}. Training stopped and "
            f"{restored} were restored. Lower learning_rate_init (now "
            f"{self.learning_rate_init}) or clip the gradients (clip_global_norm, clip_norm, "
            f"clip_value or clip_hidden_norm; now {self.clip_global_norm}, {self.clip_norm}, "
            f"{self.clip_value}, {self.clip_hidden_norm}).", ConvergenceWarning)

    def _record_epoch(self, model, epoch, score, n_train):
        self.n_iter_ += 1
        self.t_ += n_train
        self.n_clipped_steps_ += epoch.clipped
        self.loss_ = loss = epoch.loss
        self.loss_curve_.append(loss)
        self.grad_norm_mean_.append(float(np.mean(epoch.grad_norms)))
        self.grad_norm_max_.append(float(np.max(epoch.grad_norms)))
        self.step_grad_norms_.append(epoch.step_norms)
        improved = loss < self.best_loss_
        if score is None:
            worse = loss > self.best_loss_ - self.tol
            self.validation_scores_ = None  # scores are the last epochs' (partial_fit's have none)
        else:
            self.validation_scores_.append(score)
            worse = score < self.best_validation_score_ + self.tol
            improved = score > self.best_validation_score_
            self.best_validation_score_ = max(score, self.best_validation_score_)
        self.best_loss_ = min(loss, self.best_loss_)
        self._no_improvement_count = self._no_improvement_count + 1 if worse else 0
        if improved:
            self._best_params, self._best_start_params = model.snapshot(), epoch.started_from
            self._best_epoch = self.n_iter_

    def _score_name(self):
        """What ``validation_scores_`` hold, for the verbose lines."""
        return "score (minus the loss)" if self._loss().probabilistic else "R2"

    def _print_epoch(self, epoch, score, elapsed):
        line = f"Epoch {self.n_iter_}: loss {epoch.loss:.6g}"
        if score is not None:
            line += f", validation {self._score_name()} {score:.4f}"
        line += (f", grad norm mean {self.grad_norm_mean_[-1]:.3g} max "
                 f"{self.grad_norm_max_[-1]:.3g}, clipped {epoch.clipped}/{epoch.batches}"
                 f" steps, {elapsed:.2f} s")
        print(line)


# Where the error on values a dtype cannot hold points to, by input.
_RESCALERS = {"X": "a StandardScaler in a Pipeline", "y": "a TransformedTargetRegressor"}


def _as_dtype(name, a, dtype, training=False):
    """``a`` cast to ``dtype``; a ValueError if ``dtype`` cannot represent its values.

    A finite value beyond ``dtype``'s range would become infinite, and a
    nonzero one below its smallest normal number would lose its digits or
    become 0, and the forecasts with it.  Training data must moreover have
    squares within the range (the squared error and the ridge start of the
    autoregressive path square them), and so must an error between two such
    values: at most ``sqrt(max) / 2``, about 9.2e18 in float32 and 6.7e153
    in float64.  Checked by :func:`~seqforecast.cpu.scans.find_outside`;
    ``a`` is finite (checked before, with scikit-learn's messages).
    """
    bounds = _bounds(a, dtype, training)
    if bounds is not None:
        info, large = np.finfo(dtype), bounds[0]
        value = find_outside(a, *bounds)
        if value is not None:  # the message is made only now: predict of one window is fast
            if abs(value) > info.max:
                what = f"too large for dtype {dtype} (beyond +-{info.max:.3g})"
            elif abs(value) > large:
                what = (f"too large to train on in dtype {dtype}: beyond +-{large:.3g} "
                        f"the squares of their errors (the squared error, the ridge start "
                        f"of ar_window) overflow")
            else:
                what = (f"too small for dtype {dtype} (nonzero but below its smallest "
                        f"normal number, {info.tiny:.3g}: they would lose their digits "
                        f"or become 0)")
            remedy = "use dtype='float64' or scale" if dtype == np.float32 else "scale"
            raise ValueError(f"{name} has values {what}, e.g. {value:.3g}. "
                             f"{remedy.capitalize()} the data, e.g. with "
                             f"{_RESCALERS[name]}.")
    return a.astype(dtype, copy=False)


def _checked_already(X, dtypes, dtype):
    """Whether ``X`` is an array that ``check_array(X, dtype=dtypes, allow_nd=True)`` returns as
    it is, and whose values :func:`_as_dtype` lets through into ``dtype`` for a prediction:
    a non-empty numpy array of one of ``dtypes`` with finite values that ``dtype`` holds.

    One scan for both checks, which spares predictions of a few windows sklearn's checks
    (they take longer than the network); anything else goes through those checks, and
    gets their errors.
    """
    if not (type(X) is np.ndarray and X.dtype in dtypes and X.size > 0):
        return False
    bounds = _bounds(X, dtype, training=False)
    return all_finite(X) if bounds is None else find_outside(X, *bounds) is None


def _bounds(a, dtype, training):
    """``(large, tiny)``, the magnitudes :func:`_as_dtype` allows ``a``'s values into ``dtype``
    (see there), or None where every value of ``a``'s dtype is allowed: a narrower float type
    holds only values that ``dtype`` holds, squares included."""
    if a.dtype.kind != "f" or a.dtype.itemsize < dtype.itemsize:
        return None
    info = np.finfo(dtype)
    return (math.sqrt(info.max) / 2 if training else info.max), info.tiny


def _cell_text(cell):
    """A cell as its parameters name it: 'lstm', 'lstm (peephole=True)'."""
    options = [f"{field.name}={getattr(cell, field.name)!r}" for field in fields(cell)[1:]
               if getattr(cell, field.name) != field.default]
    return repr(cell.kind) + (f" ({', '.join(options)})" if options else "")


def _meaning(loss):
    """What gives a loss's outputs their meaning: its name, constants and outputs per constant
    (a plain tuple, kept with the model)."""
    return loss.name, loss.constants, loss.group


def _loss_text(loss):
    """A loss in the estimators' parameters, for an error."""
    if loss.name == "quantile":
        return f"loss='quantile', quantiles={loss.constants}"
    if loss.name == "student_t":
        return f"loss='student_t', student_t_df={loss.constants[0] or None}"
    return f"loss={loss.name!r}"


def _or_none(valid):
    return lambda value: value is None or valid(value)


# (parameters, test, what a valid value is): checked at the start of every fit.
_HYPERPARAMETER_RULES = [
    (("loss",), lambda v: v in tuple(LOSSES), f"one of {tuple(LOSSES)}"),
    (("device",), lambda v: v in DEVICES, f"one of {DEVICES}"),
    (("solver",), lambda v: v in ("adam", "sgd", "rmsprop"), "one of ('adam', 'sgd', 'rmsprop')"),
    (("learning_rate",), lambda v: v in ("constant", "adaptive", "cosine"),
     "one of ('constant', 'adaptive', 'cosine')"),
    (("ar_window",), _or_none(is_int), "a positive int or None"),
    (("student_t_df",), _or_none(lambda v: is_real(v, 0, include_low=False)),
     "a positive finite number or None (infinite degrees of freedom: loss='gaussian')"),
    (("ar_alpha",), lambda v: (isinstance(v, str) and v == "auto") or is_real(v, 0),
     "a non-negative number or 'auto'"),
    (("learning_rate_init", "huber_delta", "epsilon"),
     lambda v: is_real(v, 0, include_low=False), "a positive number"),
    (("clip_value", "clip_norm", "clip_global_norm", "clip_hidden_norm"),
     _or_none(lambda v: is_real(v, 0, include_low=False)), "a positive number or None"),
    (("dropout", "momentum", "beta_1", "beta_2", "rho"), lambda v: is_real(v, 0, 1), "in [0, 1)"),
    (("validation_fraction",), lambda v: is_real(v, 0, 1, include_low=False), "in (0, 1)"),
    (("alpha", "tol"), lambda v: is_real(v, 0), "a non-negative number"),
    (("max_iter", "n_iter_no_change"), is_int, "a positive int"),
    (("tbptt_steps",), _or_none(is_int), "a positive int or None"),
    (("batch_size",), lambda v: (isinstance(v, str) and v == "auto") or is_int(v),
     "a positive int or 'auto'"),
    (("shuffle", "early_stopping", "warm_start", "nesterovs_momentum", "peephole",
      "coupled_gates"), is_bool, "True or False"),
    (("verbose",), lambda v: is_bool(v) or is_int(v, 0),
     "True, False or a non-negative int"),
]


def _store_parameters(estimator, arguments):
    """Keep the constructor arguments as attributes, unchanged (scikit-learn's rule)."""
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


class RNNRegressor(_RecurrentRegressor):
    __doc__ = _class_doc("Elman recurrent network regressor.", """
    activation : {'tanh', 'relu'}, default='tanh'
        Nonlinearity of the recurrent layers.""")

    def __init__(self, hidden_sizes=32, *, activation="tanh", dropout=0.0,
                 ar_window=None, ar_alpha=1.0, loss="squared_error", huber_delta=1.0,
                 quantiles=(0.05, 0.5, 0.95), student_t_df=None, solver="adam",
                 learning_rate_init=1e-3, learning_rate="constant", alpha=1e-4,
                 batch_size="auto", max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8, rho=0.9,
                 clip_value=None, clip_norm=None, clip_global_norm=None,
                 clip_hidden_norm=None, tbptt_steps=None, warm_start=False, verbose=False,
                 dtype="float32", device="cpu"):
        _store_parameters(self, locals())

    def _cell(self):
        return Cell("rnn", activation=self.activation)


class LSTMRegressor(_RecurrentRegressor):
    __doc__ = _class_doc("Long short-term memory (LSTM) regressor.", """
    peephole : bool, default=False
        Peephole connections from the cell state to the gates.
    coupled_gates : bool, default=False
        Coupled input and forget gates, ``f = 1 - i``.""")

    def __init__(self, hidden_sizes=32, *, peephole=False, coupled_gates=False, dropout=0.0,
                 ar_window=None, ar_alpha=1.0, loss="squared_error", huber_delta=1.0,
                 quantiles=(0.05, 0.5, 0.95), student_t_df=None, solver="adam",
                 learning_rate_init=1e-3, learning_rate="constant", alpha=1e-4,
                 batch_size="auto", max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8, rho=0.9,
                 clip_value=None, clip_norm=None, clip_global_norm=None,
                 clip_hidden_norm=None, tbptt_steps=None, warm_start=False, verbose=False,
                 dtype="float32", device="cpu"):
        _store_parameters(self, locals())

    def _cell(self):
        return Cell("lstm", peephole=self.peephole, coupled_gates=self.coupled_gates)


class GRURegressor(_RecurrentRegressor):
    __doc__ = _class_doc("Gated recurrent unit (GRU) regressor.", "")

    def __init__(self, hidden_sizes=32, *, dropout=0.0, ar_window=None, ar_alpha=1.0,
                 loss="squared_error", huber_delta=1.0, quantiles=(0.05, 0.5, 0.95),
                 student_t_df=None, solver="adam", learning_rate_init=1e-3,
                 learning_rate="constant", alpha=1e-4,
                 batch_size="auto", max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, rho=0.9, clip_value=None, clip_norm=None, clip_global_norm=None,
                 clip_hidden_norm=None, tbptt_steps=None, warm_start=False, verbose=False,
                 dtype="float32", device="cpu"):
        _store_parameters(self, locals())

    def _cell(self):
        return Cell("gru")


class RecurrentRegressor(_RecurrentRegressor):
    __doc__ = _class_doc("Recurrent network regressor with the cell as a parameter.", """
    cell : str, default='lstm'
        The recurrent cell, by its name in :data:`seqforecast.cells.spec.SPECS`
        ('rnn', 'lstm', 'gru'); a grid search can choose it.  ``RNNRegressor``,
        ``LSTMRegressor`` and ``GRURegressor`` are this model with the cell
        fixed.
    activation : {'tanh', 'relu'}, default='tanh'
    peephole : bool, default=False
    coupled_gates : bool, default=False
        The cells' options (see :class:`~seqforecast.recurrent.Cell`); those
        the chosen cell lacks must keep their defaults.""")

    def __init__(self, hidden_sizes=32, *, cell="lstm", activation="tanh", peephole=False,
                 coupled_gates=False, dropout=0.0, ar_window=None, ar_alpha=1.0,
                 loss="squared_error", huber_delta=1.0, quantiles=(0.05, 0.5, 0.95),
                 student_t_df=None, solver="adam", learning_rate_init=1e-3,
                 learning_rate="constant", alpha=1e-4, batch_size="auto", max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8, rho=0.9,
                 clip_value=None, clip_norm=None, clip_global_norm=None,
                 clip_hidden_norm=None, tbptt_steps=None, warm_start=False, verbose=False,
                 dtype="float32", device="cpu"):
        _store_parameters(self, locals())

    def _cell(self):
        return Cell(self.cell, activation=self.activation, peephole=self.peephole,
                    coupled_gates=self.coupled_gates)


#: A regressor for each cell of :data:`seqforecast.cells.spec.SPECS`, by the cell's name:
#: its named class, or :class:`RecurrentRegressor` with the cell set.
REGRESSORS = {cls()._cell().kind: cls for cls in (RNNRegressor, LSTMRegressor, GRURegressor)}
REGRESSORS.update({name: functools.partial(RecurrentRegressor, cell=name)
                   for name in SPECS if name not in REGRESSORS})
