"""Behavioural backends: "ideal" (v @ G), "fast" (exact linear solve of the network with wires, quasi-static
programming transients) and "fast-slots" (the same reads, programming by one network solve per pulse)."""

from .backend import FastBackend, IdealBackend
from .blocks import BlockSystem
from .nodal import NodalSystem, cell_conductance
from .slots import SlotBackend

__all__ = ["BlockSystem", "FastBackend", "IdealBackend", "NodalSystem", "SlotBackend", "cell_conductance"]
