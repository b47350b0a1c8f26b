"""What backends and arrays hand back: operating points, sensed reads, programming results, cell reads.

One result type per operation, the same for every backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class OperatingPoints:
    """Solution of the array for a batch of B bias points.

    Attributes:
        row_current: (B, M) amperes flowing from the array into each row terminal (NaN: floating
            or not computed). For a driven row this is minus the current its driver supplies.
        col_current: (B, N) amperes flowing from the array into each column terminal.
        row_v: (B, M, N) voltage of the row line at each cell, R[i, j], volts (None unless asked).
        device_low_v: (B, M, N) voltage at the device's column-side terminal: C[i, j] for 0T1R,
            the selector drain for 1T1R, volts.
        col_v: (B, M, N) voltage of the column line at each cell, C[i, j], volts.
        conductance: (M, N) device conductances the points were solved with, siemens.
        backend: name of the backend that produced the result.
        sense_out: (B, L) output voltages of the TIAs on the sensed lines, volts (None without TIAs).
        codes: (B, L) int64 codes of a quantizer simulated inside the netlist (None otherwise).
    """

    row_current: np.ndarray
    col_current: np.ndarray
    row_v: np.ndarray | None
    device_low_v: np.ndarray | None
    col_v: np.ndarray | None
    conductance: np.ndarray
    backend: str
    sense_out: np.ndarray | None = None
    codes: np.ndarray | None = None

    @classmethod
    def from_currents(cls, row_current, col_current, conductance: np.ndarray, backend: str) -> OperatingPoints:
        """Terminal currents only (no node maps): what a backend returns for a read."""
        return cls(row_current=np.asarray(row_current, dtype=float), col_current=np.asarray(col_current, dtype=float),
                   row_v=None, device_low_v=None, col_v=None, conductance=conductance, backend=backend)

    @classmethod
    def concatenate(cls, parts: list[OperatingPoints]) -> OperatingPoints:
        """Join the batches of several results of the same array and device state."""
        def cat(attr):
            values = [getattr(p, attr) for p in parts]
            return None if values[0] is None else np.concatenate(values, axis=0)

        first = parts[0]
        return cls(row_current=cat("row_current"), col_current=cat("col_current"), row_v=cat("row_v"),
                   device_low_v=cat("device_low_v"), col_v=cat("col_v"), conductance=first.conductance,
                   backend=first.backend, sense_out=cat("sense_out"), codes=cat("codes"))

    def _need_maps(self):
        if self.row_v is None:
            raise ValueError("node voltages were not computed: ask for them with Crossbar.solve()")

    @property
    def device_voltage(self) -> np.ndarray:
        """(B, M, N) volts across each memristive device (row side minus column side)."""
        self._need_maps()
        return self.row_v - self.device_low_v

    @property
    def cell_voltage(self) -> np.ndarray:
        """(B, M, N) volts across each whole cell, R[i, j] - C[i, j] (device plus selector)."""
        self._need_maps()
        return self.row_v - self.col_v

    @property
    def cell_current(self) -> np.ndarray:
        """(B, M, N) amperes through each device, from the row line toward the column line."""
        return self.conductance * self.device_voltage


@dataclass(frozen=True, eq=False)
class SensedRead:
    """One batch read through the sense periphery (see Crossbar.sense).

    Attributes:
        inputs: (B, K) source voltages of the driven lines (rows forward, columns transposed), volts.
        driver_current: (B, K) current flowing from the array into each driven terminal, amperes
            (minus what the driver supplies).
        sensed_current: (B, L) current flowing from the array into each sense node, amperes
            (including device read noise when the array has it).
        v_out: (B, L) TIA outputs, volts (None without TIAs).
        codes: (B, L) ADC codes of the netlist quantizer (None unless asked for).
        single: the input was one vector (callers return row 0).
    """

    inputs: np.ndarray
    driver_current: np.ndarray
    sensed_current: np.ndarray
    v_out: np.ndarray | None
    codes: np.ndarray | None
    single: bool


@dataclass(frozen=True, eq=False)
class PulseResult:
    """Outcome of one programming transient.

    Attributes:
        state: (M, N) device states after the transient, in the model's unit. A backend returns the
            simulated states; Crossbar.apply_pulses returns them after cycle-to-cycle noise, stuck
            cells and finite levels, as the array now holds them.
        energy: joules the line drivers delivered over the transient (None unless measured).
        duration: seconds the schedule lasts (the update's latency).
        backend: name of the backend that simulated it.
    """

    state: np.ndarray
    energy: float | None
    duration: float
    backend: str


@dataclass(frozen=True)
class CellRead:
    """Reading one selected cell with the other lines floating or biased (sneak-path study).

    Attributes:
        selected_current: amperes through the selected device.
        sensed_current: amperes flowing into the selected column's sense node.
        sneak_current: sensed minus selected: what the other cells add to the reading.
        expected_current: v_read times the selected device's conductance (no wires, no sneak).
        scheme: "float", "V/2" or "V/3".
    """

    selected_current: float
    sensed_current: float
    sneak_current: float
    expected_current: float
    scheme: str
    backend: str

    @property
    def read_error(self) -> float:
        """Relative error of the sensed current against the ideal single-cell current."""
        return (self.sensed_current - self.expected_current) / self.expected_current
