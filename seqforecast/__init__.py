"""seqforecast: recurrent neural networks for time-series forecasting, written with Numba."""
from . import _version
from .estimators import GRURegressor, LSTMRegressor, RecurrentRegressor, RNNRegressor
from .evaluation import backtest, compare
from .forecasting import NaiveForecaster, SequenceForecaster, default_regressor
from .persistence import ModelFileError, load, save
from .recurrent import Cell
from .windowing import SlidingWindowTransformer

__version__ = _version.__version__

__all__ = ["Cell", "GRURegressor", "LSTMRegressor", "NaiveForecaster", "RNNRegressor",
           "RecurrentRegressor", "ModelFileError", "SequenceForecaster",
           "SlidingWindowTransformer", "backtest",
           "compare", "default_regressor", "load", "save"]
