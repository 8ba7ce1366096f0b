"""seqforecast: recurrent neural networks for time-series forecasting, written with Numba."""
from .estimators import GRURegressor, LSTMRegressor, RNNRegressor
from .evaluation import backtest, compare
from .forecasting import NaiveForecaster, SequenceForecaster, default_regressor
from .recurrent import Cell
from .windowing import SlidingWindowTransformer

__version__ = "0.1.0"
__all__ = ["Cell", "GRURegressor", "LSTMRegressor", "NaiveForecaster", "RNNRegressor",
           "SequenceForecaster", "SlidingWindowTransformer", "backtest", "compare",
           "default_regressor"]
