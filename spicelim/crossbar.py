"""The crossbar array: parameters, device state, and reads through any backend.

Python owns the device state. A read hands the present conductances to a backend as fixed
values; the three backends ("spice", "fast", "ideal") share one interface, so everything built on
a Crossbar runs unchanged on any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import bias as biases
from .devices.base import MemristorModel
from .devices.nmos import NmosSelector
from .errors import InvalidParameterError
from .fast import FastBackend, IdealBackend
from .params import CrossbarParams
from .periphery.adc import ADC
from .periphery.sensing import ideal_array_operate, sense_through_tia
from .periphery.tia import TIA
from .programming.pulses import PulseSchedule
from .results import OperatingPoints, SensedRead
from .spice import SpiceBackend
from .validation import batch_of_vectors, finite_array, real_number
from .variability import DeviceVariation, Variability

BACKENDS = ("spice", "fast", "ideal")
G_MIN, G_MAX = 1e-15, 1e3  # siemens: the range a device conductance may take


@dataclass(frozen=True)
class UpdateCost:
    """Energy the line drivers delivered during one programming transient (joules) and its duration (seconds)."""

    energy: float
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


class Crossbar:
    """An M x N memristor crossbar with wire resistance, drivers and sense nodes.

    Args:
        rows, cols: array size M x N.
        cell: "0T1R" (passive) or "1T1R" (NMOS selector between device and column line).
        r_row, r_col: resistance of one row / column wire segment, ohms (0 = ideal line).
        r_source: driver output resistance, ohms.
        selector: NmosSelector for 1T1R cells (default: models/nmos_1t1r.lib, W/L = 2/1, V_G = 5 V).
        device: a memristor model (spicelim.devices) in every cell; its state, set with set_state(),
            then is the array's memory. The spice backend simulates the device's Verilog-A model;
            the fast and ideal backends use its chord conductance i(v)/v at `read_voltage`, exact
            for devices with a linear I-V (VTEAM with iv="linear" or "exponential").
        read_voltage: the voltage of that chord conductance, volts.
        spice: a SpiceBackend to use (share one between arrays to share its ngspice worker; the
            caller then closes it). By default the array starts its own on the first SPICE read.
        variability: seeded device non-idealities (spicelim.Variability): device-to-device spread,
            cycle-to-cycle noise, stuck cells, read noise, finite levels. None: ideal devices.
        tia: a periphery.TIA on every sensed line (columns in forward reads, rows in transposed
            reads) instead of an ideal virtual ground; reads then return -V_out / r_f. read(),
            read_codes(), read_tia_output() and sense() go through it; solve() and read_cell()
            keep ideal sense nodes.
        adc: a periphery.ADC digitising every TIA output (needs a tia); reads return the currents
            reconstructed from the codes, read_codes() the codes themselves.

    The geometry follows DESIGN.md: row i is driven at its left end through r_source, column j
    is sensed at its bottom end by an ideal virtual ground.
    """

    def __init__(self, rows: int, cols: int, cell: str = "0T1R", r_row: float = 0.0, r_col: float = 0.0,
                 r_source: float = 0.0, selector: NmosSelector | None = None, spice: SpiceBackend | None = None,
                 device: MemristorModel | None = None, read_voltage: float = 0.2,
                 variability: Variability | None = None, tia: TIA | None = None, adc: ADC | None = None):
        self.params = CrossbarParams(rows=rows, cols=cols, cell=cell, r_row=r_row, r_col=r_col,
                                     r_source=r_source, selector=selector)
        if spice is not None and not isinstance(spice, SpiceBackend):
            raise InvalidParameterError("spice must be a SpiceBackend")
        self._spice = spice
        self._owns_spice = spice is None  # a backend passed in may serve other arrays: never close it here
        self._fast = FastBackend()
        self._ideal = IdealBackend()
        self._g: np.ndarray | None = None
        if device is not None and not isinstance(device, MemristorModel):
            raise InvalidParameterError(f"device must be a spicelim.devices model, got {type(device).__name__}")
        self.device = device
        self.read_voltage = real_number("read_voltage (V)", read_voltage)
        if self.read_voltage == 0:
            raise InvalidParameterError("read_voltage must be non-zero")
        self._state: np.ndarray | None = None
        if variability is not None and not isinstance(variability, Variability):
            raise InvalidParameterError(f"variability must be a spicelim.Variability, got {type(variability).__name__}")
        self.variation = DeviceVariation(variability or Variability(), self.shape, device)
        if tia is not None and not isinstance(tia, TIA):
            raise InvalidParameterError(f"tia must be a spicelim.periphery.TIA, got {type(tia).__name__}")
        if adc is not None and not isinstance(adc, ADC):
            raise InvalidParameterError(f"adc must be a spicelim.periphery.ADC, got {type(adc).__name__}")
        if adc is not None and tia is None:
            raise InvalidParameterError("an ADC digitises TIA output voltages: give the array a tia as well")
        self.tia, self.adc = tia, adc
        self._adc_full_scale: dict[bool, np.ndarray] = {}  # calibrated per-line full scale, by transpose
        self.last_update: UpdateCost | None = None  # energy and duration of the last measured programming call

    # ------------------------------------------------------------------ state
    @property
    def shape(self) -> tuple[int, int]:
        return self.params.shape

    @property
    def conductance(self) -> np.ndarray:
        """Present device conductances (M, N), siemens (read-only view)."""
        if self._g is None:
            setter = "set_conductance(G)" if self.device is None else "set_state(S)"
            raise InvalidParameterError(f"no device state yet: call {setter} first")
        return self._g

    @property
    def state(self) -> np.ndarray:
        """Present device states (M, N) in the model's unit (read-only view); arrays with a device only."""
        if self._state is None:
            raise InvalidParameterError("no device state yet: call set_state(S) first")
        return self._state

    @property
    def stuck(self) -> np.ndarray:
        """(M, N) int8: +1 where a cell is stuck at its high-conductance bound, -1 at its low one, else 0."""
        return self.variation.stuck

    @property
    def cell_device(self):
        """The device model with any spread parameters as (M, N) arrays (for its numpy equations)."""
        return self.variation.cell_device(self.device)

    def set_state(self, s) -> None:
        """Set every memristor's state (model units, shape (M, N), within each cell's state bounds).

        Stuck cells keep their stuck state, and with finite levels every state snaps to the nearest level.
        """
        if self.device is None:
            raise InvalidParameterError("this array has linear cells: set their conductance with set_conductance(G)")
        arr = finite_array(f"state ({self.device.state_unit})", s, self.shape)
        dev = self.cell_device
        lo, hi = dev.state_bounds
        if np.any(arr < lo) or np.any(arr > hi):
            raise InvalidParameterError(f"states must lie within the cells' state bounds (model: [{self.device.state_bounds[0]:g},"
                                        f" {self.device.state_bounds[1]:g}] {self.device.state_unit})")
        self._store_state(self.variation.settle(self.device, arr))

    def _store_state(self, arr: np.ndarray) -> None:
        g = self.cell_device.conductance(arr, self.read_voltage)
        self._check_conductance(g)
        arr.setflags(write=False)
        g.setflags(write=False)
        self._state, self._g = arr, g

    def set_conductance(self, g) -> None:
        """Set every device's conductance, siemens, shape (M, N); each in [G_MIN, G_MAX] (1e-15 to 1e3 S)."""
        if self.device is not None:
            raise InvalidParameterError(f"this array holds {type(self.device).__name__} devices: use set_state()")
        arr = finite_array("conductance G (S)", g, self.shape)
        self._check_conductance(arr)
        arr.setflags(write=False)
        self._g = arr

    @staticmethod
    def _check_conductance(arr: np.ndarray) -> None:
        if np.any(arr <= 0):
            bad = tuple(int(k) for k in np.argwhere(arr <= 0)[0])
            raise InvalidParameterError(f"conductance must be > 0 S everywhere; G{list(bad)} = {arr[bad]:g}")
        outside = (arr < G_MIN) | (arr > G_MAX)
        if np.any(outside):
            bad = tuple(int(k) for k in np.argwhere(outside)[0])
            raise InvalidParameterError(f"conductance must lie in [{G_MIN:g}, {G_MAX:g}] S (1 mOhm to 1 POhm);"
                                        f" G{list(bad)} = {arr[bad]:g}")

    # ------------------------------------------------------------------ backends
    def backend(self, name: str):
        """The backend object called `name` ("spice", "fast" or "ideal")."""
        if name == "fast":
            return self._fast
        if name == "ideal":
            return self._ideal
        if name == "spice":
            if self._spice is None:
                self._spice = SpiceBackend()
            return self._spice
        raise InvalidParameterError(f"backend must be one of {BACKENDS}, got {name!r}")

    def _read_bias(self, x, transpose: bool):
        if not isinstance(transpose, (bool, np.bool_)):
            raise InvalidParameterError(f"transpose must be True or False, got {transpose!r}")
        m, n = self.shape
        if transpose:
            u, single = batch_of_vectors("u (column voltages, V)", x, n)
            return biases.transposed(u, m, self.params.r_source), single
        v, single = batch_of_vectors("v (row voltages, V)", x, m)
        return biases.forward(v, n, self.params.r_source), single

    def _cells(self) -> dict:
        if self.device is None:
            return {}
        return {"device": self.device, "state": self.state, "cell_params": self.variation.cell_params or None}

    def _check_read_voltages(self, volts: np.ndarray) -> None:
        """A read must not switch the devices: every applied voltage stays below their thresholds."""
        limit = None if self.device is None else self.variation.read_limit(self.device)
        if limit is not None and np.max(np.abs(volts)) >= limit:
            raise InvalidParameterError(
                f"read voltages up to {np.max(np.abs(volts)):g} V would switch the {type(self.device).__name__}"
                f" devices: keep them below {limit:g} V")

    # ------------------------------------------------------------------ reads
    def read(self, v, backend: str = "spice", transpose: bool = False, quantizer: str = "python") -> np.ndarray:
        """Vector-matrix multiply in the array.

        Forward: v (M,) or (B, M) volts on the rows -> (N,) or (B, N) amperes into the column
        sense nodes. Transposed: u (N,) or (B, N) volts on the columns -> (M,) or (B, M) amperes
        into the row sense nodes (positive for positive inputs in both directions).
        With a TIA the result is -V_out / r_f; with an ADC, the same from the reconstructed codes.
        quantizer: "python" (ADC applied to the simulated TIA outputs) or "netlist" (the ADC's
            quantizer is a behavioural source in the ngspice netlist; spice backend only).
        """
        if quantizer not in ("python", "netlist"):
            raise InvalidParameterError(f"quantizer must be 'python' or 'netlist', got {quantizer!r}")
        if self.adc is None:
            if quantizer == "netlist":
                raise InvalidParameterError("quantizer='netlist' needs an ADC: create the array with adc=ADC(...)")
            r = self.sense(v, backend, transpose)
            res = r.sensed_current if self.tia is None else self.tia.sensed_current(r.v_out)
            return res[0] if r.single else res
        codes, single = self._codes(v, backend, transpose, quantizer)
        volts = self.adc.to_volts(codes, full_scale=self._full_scale(transpose))
        res = self.tia.sensed_current(volts)
        return res[0] if single else res

    def read_codes(self, v, backend: str = "spice", transpose: bool = False, quantizer: str = "python") -> np.ndarray:
        """The ADC codes (int64, 0 .. 2^bits - 1) of a read; see read()."""
        if self.adc is None:
            raise InvalidParameterError("this array has no ADC: create it with adc=ADC(...)")
        codes, single = self._codes(v, backend, transpose, quantizer)
        return codes[0] if single else codes

    def read_tia_output(self, v, backend: str = "spice", transpose: bool = False) -> np.ndarray:
        """The TIA output voltages (volts) of a read, before any ADC."""
        if self.tia is None:
            raise InvalidParameterError("this array has no TIA: create it with tia=TIA(...)")
        r = self.sense(v, backend, transpose)
        return r.v_out[0] if r.single else r.v_out

    def calibrate_adc(self, v, backend: str = "fast", transpose: bool = False, margin: float = 1.0) -> np.ndarray:
        """Set each line's ADC full scale to margin x the largest |TIA output| over the calibration inputs v."""
        if self.adc is None:
            raise InvalidParameterError("this array has no ADC to calibrate")
        fs = self.adc.calibrate(self.sense(v, backend, transpose).v_out, margin=margin)
        self._adc_full_scale[bool(transpose)] = fs
        return fs

    def _full_scale(self, transpose: bool):
        if self.adc.full_scale != "calibrate":
            return None
        fs = self._adc_full_scale.get(bool(transpose))
        if fs is None:
            raise InvalidParameterError("the ADC full scale is 'calibrate': call calibrate_adc() first")
        return fs

    def _codes(self, v, backend: str, transpose: bool, quantizer: str):
        if quantizer not in ("python", "netlist"):
            raise InvalidParameterError(f"quantizer must be 'python' or 'netlist', got {quantizer!r}")
        if quantizer == "netlist":
            if backend != "spice":
                raise InvalidParameterError("the netlist quantizer runs in ngspice: use backend='spice'")
            if self.variation.variability.read_noise > 0:
                raise InvalidParameterError("device read noise is added in Python, after ngspice: use quantizer='python'"
                                            " for arrays with read noise")
            r = self.sense(v, backend, transpose, netlist_adc=True)
            return r.codes, r.single
        r = self.sense(v, backend, transpose)
        return self.adc.convert(r.v_out, full_scale=self._full_scale(transpose)), r.single

    def sense(self, v, backend: str = "spice", transpose: bool = False, netlist_adc: bool = False) -> SensedRead:
        """Solve a read through the sense periphery: driver and sense currents, TIA outputs (see SensedRead)."""
        impl = self.backend(backend)
        bias, single = self._read_bias(v, transpose)
        g = self.conductance
        inputs = bias.col_v if transpose else bias.row_v
        self._check_read_voltages(inputs)
        cells = self._cells()
        if self.tia is None:
            out = impl.operate(self.params, g, bias, rows=True, cols=True, **cells)
            sensed, drivers = (out.row_current, out.col_current) if transpose else (out.col_current, out.row_current)
            return SensedRead(inputs=inputs, driver_current=drivers, single=single, v_out=None, codes=None,
                              sensed_current=self.variation.read_noise(sensed, inputs, g, transpose))
        lines = self.shape[0] if transpose else self.shape[1]
        v_plus = self.tia.noninverting_input((bias.batch, lines))
        if backend == "spice":
            extra = {}
            if netlist_adc:
                extra = {"sense_adc": self.adc, "sense_adc_scale": self._full_scale(transpose)}
            out = impl.operate(self.params, g, bias, rows=True, cols=True, sense_tia=self.tia, sense_plus=v_plus,
                               sense_rows=transpose, **cells, **extra)
            sensed, v_out = (out.row_current if transpose else out.col_current), out.sense_out
            drivers = out.col_current if transpose else out.row_current
        else:
            operate = (ideal_array_operate(g, transpose) if backend == "ideal" else
                       lambda b: impl.operate(self.params, g, b, rows=True, cols=True, **cells))
            sensed, v_out, drivers = sense_through_tia(operate, bias, transpose, self.tia, v_plus)
        noisy = self.variation.read_noise(sensed, inputs, g, transpose)
        if noisy is not sensed:  # device read noise enters the TIA as extra current
            v_out = v_out - (noisy - sensed) * self.tia.r_f
            if self.tia.v_out_max is not None:
                v_out = np.clip(v_out, -self.tia.v_out_max, self.tia.v_out_max)
        return SensedRead(inputs=inputs, driver_current=drivers, sensed_current=noisy, v_out=v_out,
                          codes=out.codes if netlist_adc else None, single=single)

    def solve(self, v, backend: str = "fast", transpose: bool = False) -> OperatingPoints:
        """Like read(), but returns every node voltage and device current (IR-drop maps)."""
        impl = self.backend(backend)
        bias, _ = self._read_bias(v, transpose)
        g = self.conductance
        self._check_read_voltages(bias.row_v if not transpose else bias.col_v)
        return impl.operate(self.params, g, bias, nodes=True, **self._cells())

    def read_cell(self, row: int, col: int, v_read: float = 0.2, scheme: str = "float",
                  backend: str = "fast") -> CellRead:
        """Read one cell with its row at v_read and its column at 0 V; other lines per `scheme`.

        scheme: "float" (other lines open), "V/2" (other lines at v_read/2) or "V/3" (other rows
        at v_read/3, other columns at 2 v_read/3). Biased lines are driven through r_source.
        """
        if real_number("v_read (V)", v_read) == 0:
            raise InvalidParameterError("v_read must be non-zero")
        for name, k, lim in (("row", row, self.shape[0]), ("col", col, self.shape[1])):
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < lim:
                raise InvalidParameterError(f"{name} must be an integer in [0, {lim}), got {k!r}")
        bias = biases.select_cell(self.shape, int(row), int(col), v_read, scheme, self.params.r_source)
        g = self.conductance
        self._check_read_voltages(np.array([v_read]))
        impl = self.backend(backend)
        out = impl.operate(self.params, g, bias, rows=False, cols=True, nodes=True, **self._cells())
        selected = float(out.cell_current[0, row, col])
        sensed = float(out.col_current[0, col])
        return CellRead(selected_current=selected, sensed_current=sensed, sneak_current=sensed - selected,
                        expected_current=float(v_read * g[row, col]), scheme=scheme,
                        backend=backend)

    # ------------------------------------------------------------------ programming
    def apply_pulses(self, schedule: PulseSchedule, backend: str = "spice", max_step: float | None = None,
                     measure_energy: bool = False) -> np.ndarray:
        """Run a programming transient (spicelim.programming) and keep the devices' final states.

        Each transient starts from the present state; the final states, with any cycle-to-cycle
        noise, stuck cells and finite levels applied, become the array's state and are returned.
        max_step: largest time step, seconds (default: the backend's own, from the pulse width).
        measure_energy: also integrate the power every line driver delivers over the transient;
            the result is kept in `last_update` (an UpdateCost: joules, seconds).
        """
        if self.device is None:
            raise InvalidParameterError("programming pulses need memristor cells: create the array with device=...")
        if not isinstance(schedule, PulseSchedule):
            raise InvalidParameterError(f"schedule must be a PulseSchedule, got {type(schedule).__name__}")
        if schedule.shape != self.shape:
            raise InvalidParameterError(f"schedule is for a {schedule.shape} array, this one is {self.shape}")
        if (schedule.gate_v is None) == self.params.has_selector:
            raise InvalidParameterError("a 1T1R array needs word-line waveforms (gate_v) in its schedule; a passive"
                                        " array must not have them")
        if max_step is not None:
            max_step = real_number("max_step (s)", max_step, minimum=0.0, strict=True)
        impl = self.backend(backend)
        before = self.state
        after, delivered = impl.apply_pulses(self.params, self.device, before, schedule, max_step=max_step,
                                             cell_params=self.variation.cell_params or None,
                                             cell_device=self.cell_device if self.variation.cell_params else None,
                                             energy=bool(measure_energy),
                                             read_limit=self.variation.read_limit(self.device))
        self.last_update = UpdateCost(energy=delivered, duration=schedule.duration, backend=backend) \
            if measure_energy else None
        self._store_state(self.variation.programmed(self.device, before, after))
        return self.state

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Stop the ngspice worker this array started (if any) and drop cached factorisations."""
        if self._spice is not None and self._owns_spice:
            self._spice.close()
        self._fast.close()
        self._ideal.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        p = self.params
        return (f"Crossbar({p.rows}x{p.cols} {p.cell}, r_row={p.r_row:g} ohm, r_col={p.r_col:g} ohm,"
                f" r_source={p.r_source:g} ohm)")
