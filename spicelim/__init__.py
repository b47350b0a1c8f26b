"""spicelim: circuit-level ngspice co-simulation of memristor crossbars for learning-in-memory.

    import spicelim
    xb = spicelim.Crossbar(rows=64, cols=32, cell="0T1R", r_row=2.5, r_col=2.5)
    xb.set_conductance(G)                    # siemens, (64, 32)
    i = xb.read(v, backend="spice")          # volts (64,) or (B, 64) -> amperes (32,) or (B, 32)
"""

from . import devices, errors, programming
from .crossbar import BACKENDS, CellRead, Crossbar
from .errors import (
                     ConvergenceError,
                     InvalidParameterError,
                     NetlistInjectionError,
                     ShapeError,
                     SimulationError,
                     SimulationTimeout,
                     SpicelimError,
                     WorkerCrash,
)
from .params import CrossbarParams
from .results import OperatingPoints
from .variability import Variability

__version__ = "0.1.0"

__all__ = ["BACKENDS", "CellRead", "ConvergenceError", "Crossbar", "CrossbarParams", "InvalidParameterError",
           "NetlistInjectionError", "OperatingPoints", "ShapeError", "SimulationError", "SimulationTimeout",
           "SpicelimError", "Variability", "WorkerCrash", "devices", "errors", "programming"]
