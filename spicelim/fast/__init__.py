"""Behavioural backends: "ideal" (v @ G) and "fast" (exact sparse nodal solve with wires)."""

from .backend import FastBackend, IdealBackend
from .nodal import NodalSystem, cell_conductance

__all__ = ["FastBackend", "IdealBackend", "NodalSystem", "cell_conductance"]
