"""Numba kernels for the CPU.

Importing the package registers the CPU's versions of the cells' activations
(:mod:`seqforecast.cpu.activations`), so every kernel compiled here uses them.
"""
from . import activations

__all__ = ["activations"]
