"""Element-wise equations of each recurrent cell, written once for every target.

The functions take and return scalars (one hidden unit of one sample); the
CPU and CUDA sequence kernels call them inside their loops.
"""
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

__all__ = [
    "rnn_forward", "rnn_backward",
    "lstm_forward", "lstm_backward",
    "gru_forward", "gru_backward",
]
