"""Typed errors raised by spicelim.

Every error a user can trigger derives from :class:`SpicelimError`. Bad input is reported as a
subclass of both :class:`SpicelimError` and :class:`ValueError` before anything is simulated;
simulator failures derive from :class:`SimulationError` and say where the failing netlist was saved.
"""

from __future__ import annotations


class SpicelimError(Exception):
    """Base class of every spicelim error."""


class InvalidParameterError(SpicelimError, ValueError):
    """A parameter is out of range, non-finite, of the wrong type or unknown."""


class ShapeError(InvalidParameterError):
    """An array has the wrong shape for the crossbar it is used with."""


class NetlistInjectionError(InvalidParameterError):
    """A name or value would smuggle text (a newline, a dot-command, `.control`, `shell`) into a netlist."""


class EnvironmentProblem(SpicelimError, RuntimeError):
    """A required external tool (ngspice, libngspice, openvaf-r) is missing or unusable."""


class SimulationError(SpicelimError, RuntimeError):
    """ngspice failed. `netlist_path` names the saved netlist, `log_tail` holds the end of ngspice's output."""

    def __init__(self, message: str, netlist_path: str | None = None, log_tail: str = ""):
        self.netlist_path = netlist_path
        self.log_tail = log_tail
        text = message
        if netlist_path:
            text += f"\n  netlist: {netlist_path}"
        if log_tail:
            text += "\n  ngspice output (tail):\n    " + "\n    ".join(log_tail.splitlines())
        super().__init__(text)


class ConvergenceError(SimulationError):
    """ngspice found no solution even after its own aids (gmin stepping, source stepping)."""


class SimulationTimeout(SimulationError):
    """ngspice did not finish within the allowed time; its worker process was killed."""


class WorkerCrash(SimulationError):
    """The ngspice worker process died (for example a segmentation fault inside libngspice)."""


class MissingCapability(SpicelimError, TypeError):
    """A backend was asked for something it does not declare it can do (a transient, a netlist quantizer, ...)."""
