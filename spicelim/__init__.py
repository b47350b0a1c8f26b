"""spicelim: circuit-level ngspice co-simulation of memristor crossbars for learning-in-memory.

    import spicelim
    xb = spicelim.Crossbar(rows=64, cols=32, cell="0T1R", r_row=2.5, r_col=2.5)
    xb.set_conductance(G)                    # siemens, (64, 32)
    i = xb.read(v, backend="spice")          # volts (64,) or (B, 64) -> amperes (32,) or (B, 32)
"""

from . import devices, errors, programming
from .backend import ArrayBackend, ArraySnapshot
from .checkpoint import load_state, save_state
from .comparison import Agreement, BackendComparison, agreement, compare_backends
from .crossbar import CellRead, Crossbar
from .errors import (
                     ConvergenceError,
                     InvalidParameterError,
                     MissingCapability,
                     NetlistInjectionError,
                     ShapeError,
                     SimulationError,
                     SimulationTimeout,
                     SpicelimError,
                     WorkerCrash,
)
from .params import CrossbarParams
from .registry import (
                     Backends,
                     backend_names,
                     create_backend,
                     register_backend,
                     unregister_backend,
)
from .results import OperatingPoints, PulseResult
from .variability import Variability

__version__ = "0.1.0"

__all__ = ["Agreement", "ArrayBackend", "ArraySnapshot", "BackendComparison", "Backends", "CellRead",
           "ConvergenceError", "Crossbar", "CrossbarParams", "InvalidParameterError", "MissingCapability",
           "NetlistInjectionError", "OperatingPoints", "PulseResult", "ShapeError", "SimulationError",
           "SimulationTimeout", "SpicelimError", "Variability", "WorkerCrash", "agreement", "backend_names",
           "compare_backends", "create_backend", "devices", "errors", "load_state", "programming",
           "register_backend", "save_state", "unregister_backend"]
