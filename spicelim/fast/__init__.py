"""Behavioural backends: "ideal" (v @ G) and "fast" (exact linear solve of the network with wires)."""

from .backend import FastBackend, IdealBackend
from .blocks import BlockSystem
from .nodal import NodalSystem, cell_conductance

__all__ = ["BlockSystem", "FastBackend", "IdealBackend", "NodalSystem", "cell_conductance"]
