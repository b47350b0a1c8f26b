"""The backend contract: what every simulator of an array implements, and what it declares it can do.

A backend solves one array in the state Python hands it (an `ArraySnapshot`):

    operate(array, bias, sense=None, nodes=False) -> OperatingPoints   operating points of a batch
    apply_pulses(array, schedule, max_step, energy) -> PulseResult     a programming transient
    close()                                                             free processes and caches

Reads through the periphery pass `SenseTerminals` (which lines are sensed, through which TIA,
with which injected noise current). The default `operate` handles them for any backend that can
solve plain terminals (`solve`): each TIA becomes its exact equivalent, a source behind a
resistance in its linear region or the rail behind r_f when saturated (periphery.sensing). A
backend that simulates the op-amp itself (ngspice) overrides `operate`.

What a backend can do beyond plain reads is declared in `capabilities`; the shared layer checks
them with `require` and raises `MissingCapability` before anything runs, so controllers, studies
and sweeps never ask for a backend by name. A user's backend subclasses ArrayBackend, implements
`solve` (and `apply_pulses` if it declares TRANSIENT) and is registered by name with
`spicelim.register_backend`. Backends cross process boundaries by pickling: process-bound
resources (an ngspice worker, factorisation caches) are not part of their state and start again on
demand.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .bias import LineBias, SenseTerminals
from .devices.base import with_cell_params
from .errors import InvalidParameterError, MissingCapability
from .params import CrossbarParams
from .periphery.sensing import solve_with_sense
from .results import OperatingPoints, PulseResult
from .validation import show

#: apply_pulses: programming transients from the array's state.
TRANSIENT = "transient"
#: operate(nodes=True): every node voltage (IR-drop maps, per-cell currents).
NODE_VOLTAGES = "node_voltages"
#: line ends left floating (cell selection with the other lines open).
FLOATING_LINES = "floating_lines"
#: SenseTerminals.quantizer: an ADC simulated inside the circuit.
NETLIST_QUANTIZER = "netlist_quantizer"
#: the devices' own I-V model in every cell (not only their chord conductance).
DEVICE_MODELS = "device_models"

CAPABILITIES = (TRANSIENT, NODE_VOLTAGES, FLOATING_LINES, NETLIST_QUANTIZER, DEVICE_MODELS)


@dataclass(frozen=True, eq=False)
class ArraySnapshot:
    """The array as a backend solves it: geometry, cells and the state they hold now.

    Attributes:
        params: geometry, cell kind, wires, drivers, selector.
        conductance: (M, N) device conductances, siemens (the chord conductance at the read voltage
            for memristor cells); one array object per device state, so backends may cache by identity.
        device: the memristor model in every cell (None: linear resistors of `conductance`).
        state: (M, N) device states in the model's unit (None without a device).
        cell_params: per-cell values (M, N) of spread device parameters, or None.
        read_limit: the smallest switching threshold of any cell, volts (None without a device).
    """

    params: CrossbarParams
    conductance: np.ndarray
    device: object | None = None
    state: np.ndarray | None = None
    cell_params: Mapping[str, np.ndarray] | None = None
    read_limit: float | None = None

    def __post_init__(self):
        if not isinstance(self.params, CrossbarParams):
            raise InvalidParameterError(f"params must be CrossbarParams, got {type(self.params).__name__}")
        if not isinstance(self.conductance, np.ndarray) or self.conductance.shape != self.params.shape \
                or not np.all(np.isfinite(self.conductance)) or np.any(self.conductance <= 0):
            raise InvalidParameterError(f"conductance must be a positive finite {self.params.shape} array")
        if self.device is not None:
            if not isinstance(self.state, np.ndarray) or self.state.shape != self.params.shape:
                raise InvalidParameterError(f"a snapshot with a device needs its {self.params.shape} states")
            if self.read_limit is None:
                object.__setattr__(self, "read_limit", float(self.device.read_limit) if not self.cell_params
                                   else None)
            if self.read_limit is None:
                raise InvalidParameterError("a snapshot with spread parameters needs their read_limit")

    @property
    def shape(self) -> tuple[int, int]:
        return self.params.shape

    @cached_property
    def cell_device(self):
        """The device with per-cell parameter arrays (the device itself without spread)."""
        return with_cell_params(self.device, self.cell_params)


def has(backend, capability: str) -> bool:
    """True when `backend` declares `capability`."""
    return capability in getattr(backend, "capabilities", ())


def require(backend, capability: str, what: str) -> None:
    """Raise MissingCapability (naming `what` needed it) unless `backend` declares `capability`."""
    if not has(backend, capability):
        raise MissingCapability(f"{what} needs a backend with the {show(capability)} capability; backend"
                                f" {getattr(backend, 'name', type(backend).__name__)!r} declares"
                                f" {sorted(getattr(backend, 'capabilities', ()))}")


def check_operate(backend, bias: LineBias, sense: SenseTerminals | None, nodes: bool) -> None:
    """The capability checks of one operate() call, before anything is solved."""
    if nodes:
        require(backend, NODE_VOLTAGES, "node voltages (solve, read_cell)")
        if sense is not None:
            raise InvalidParameterError("node maps are solved with ideal sense nodes: ask for nodes without sense")
    if bias.row_float.any() or bias.col_float.any():
        require(backend, FLOATING_LINES, "floating line ends")
    if sense is not None:
        sense.check(bias)
        if sense.quantizer is not None:
            require(backend, NETLIST_QUANTIZER, "quantizer='netlist'")


class ArrayBackend(ABC):
    """Base class of every backend (see the module docstring).

    Subclasses set `name` and `capabilities` and implement `solve`; backends with TRANSIENT
    implement `apply_pulses`.
    """

    name: str = "custom"
    capabilities: frozenset[str] = frozenset()

    def operate(self, array: ArraySnapshot, bias: LineBias, *, sense: SenseTerminals | None = None,
                nodes: bool = False) -> OperatingPoints:
        """Solve a batch of operating points; with `sense`, the sensed ends through their TIAs.

        Returns terminal currents (B, M) and (B, N) flowing from the array into each line end
        (including any injected current at the sensed ends), TIA outputs in `sense_out` (B, L)
        when the read has TIAs, and node maps when `nodes` (only without `sense`).
        """
        check_operate(self, bias, sense, nodes)
        if sense is None:
            return self.solve(array, bias, sensed=None, nodes=nodes)
        return solve_with_sense(lambda b: self.solve(array, b, sensed=sense.side), bias, sense, self.name)

    @abstractmethod
    def solve(self, array: ArraySnapshot, bias: LineBias, *, sensed: str | None = None,
              nodes: bool = False) -> OperatingPoints:
        """Operating points with every tied line end a source behind its resistance (LineBias).

        sensed: "rows" or "cols" when those ends are sense terminals (a TIA's equivalent source and
            resistance, which a backend must keep even if it idealises drivers), else None.
        nodes: also return node maps (only asked of backends declaring NODE_VOLTAGES).
        """

    def apply_pulses(self, array: ArraySnapshot, schedule, *, max_step: float | None = None,
                     energy: bool = False) -> PulseResult:
        """Run the programming transient of `schedule` from `array.state` (backends declaring TRANSIENT)."""
        require(self, TRANSIENT, "programming pulses")
        raise NotImplementedError(f"{type(self).__name__} declares {show(TRANSIENT)} but does not implement apply_pulses")

    def close(self) -> None:
        """Free what the backend holds outside Python objects (processes, caches); it may be used again after."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={show(self.name)})"
