"""A small probabilistic regressor with known quantiles, for the forecaster-level tests.

:class:`GaussianRidge` is Ridge regression with a normal error of each
output's residual standard deviation times ``width``: its quantiles are
``mean + width * sigma * z_q`` exactly, so that tests can check what the
forecasters and the evaluation do with them (mapping, scoring,
calibration) in milliseconds, independently of how the recurrent
estimators learn them.  It follows the recurrent estimators' contract:
``loss``, ``quantiles``, the fitted ``trained_loss_`` and ``quantiles_``, and
``predict_quantiles(X, quantiles=None)`` of
shape (n_samples, n_outputs, n_quantiles), or (n_samples, n_quantiles) for
a 1-D ``y``; with ``loss='quantile'`` only trained levels.
"""
import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from seqforecast._checks import check_levels
from seqforecast.training.losses import PROBABILISTIC_LOSSES


class GaussianRidge(RegressorMixin, BaseEstimator):
    """Ridge with normal quantiles ``width`` times as wide as its residuals'."""

    def __init__(self, loss="gaussian", quantiles=(0.05, 0.5, 0.95), width=1.0):
        self.loss = loss
        self.quantiles = quantiles
        self.width = width

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        X = X.reshape(len(X), -1)
        self.ridge_ = Ridge(alpha=1e-6).fit(X, y)
        self.sigma_ = np.std(y - self.ridge_.predict(X), axis=0)
        # What the forecaster reads of a fitted probabilistic regressor, as the estimators give it.
        self.trained_loss_ = self.loss
        self.quantiles_ = (check_levels(self.quantiles) if self.loss in PROBABILISTIC_LOSSES
                           else None)
        return self

    def predict(self, X):
        return self.ridge_.predict(X.reshape(len(X), -1))

    def predict_quantiles(self, X, quantiles=None):
        levels = np.asarray(self.quantiles if quantiles is None else quantiles, dtype=float)
        if self.loss == "quantile" and not set(levels) <= set(self.quantiles):
            raise ValueError(f"untrained levels {levels}")
        mean = self.predict(X)
        return (mean[..., None]
                + self.width * np.asarray(self.sigma_)[..., None] * stats.norm.ppf(levels))
