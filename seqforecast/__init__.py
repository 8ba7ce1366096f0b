"""seqforecast: recurrent neural networks for time-series forecasting, written with Numba."""
from .estimators import GRURegressor, LSTMRegressor, RNNRegressor
from .recurrent import Cell

__version__ = "0.1.0"
__all__ = ["Cell", "GRURegressor", "LSTMRegressor", "RNNRegressor"]
