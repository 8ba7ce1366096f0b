"""The recurrent cells: their unit equations, written once for every target, and their
specification (:mod:`seqforecast.cells.spec`)."""
from .spec import SPECS, CellSpec

__all__ = ["CellSpec", "SPECS"]
