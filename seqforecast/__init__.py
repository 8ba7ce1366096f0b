"""seqforecast: recurrent neural networks for time-series forecasting, written with Numba."""
from .recurrent import Cell

__version__ = "0.1.0"
__all__ = ["Cell"]
