"""The crossbar array: geometry, devices, their state, and the operations on it through any backend.

Python owns the device state. A read hands a snapshot of the present state (backend.ArraySnapshot)
to a backend; every backend implements one contract (spicelim.backend), so everything built on a
Crossbar runs unchanged on the built-in "spice", "fast" and "ideal" backends and on a user's own
(spicelim.register_backend). What a read senses and how (TIA, ADC, their noise and calibration)
is the array's readout (periphery.readout.Readout); which simulators it uses and when they stop is
its Backends set (registry.Backends).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import bias as biases
from .backend import (
    FLOATING_LINES,
    NETLIST_QUANTIZER,
    NODE_VOLTAGES,
    TRANSIENT,
    ArraySnapshot,
    require,
)
from .devices.base import MemristorModel
from .devices.nmos import NmosSelector
from .errors import InvalidParameterError, ShapeError, SimulationError
from .fast import FastBackend, IdealBackend  # noqa: F401  (registers the built-in backends)
from .params import CrossbarParams
from .periphery.adc import ADC
from .periphery.readout import Readout
from .periphery.tia import TIA
from .programming.pulses import PulseSchedule
from .registry import Backends
from .results import CellRead, OperatingPoints, PulseResult, SensedRead
from .spice import SpiceBackend  # noqa: F401  (registers the built-in backends)
from .validation import (
    batch_of_vectors,
    boolean,
    choice,
    finite_array,
    index,
    non_negative_int,
    real_number,
    show,
)
from .variability import DeviceVariation, Variability

G_MIN, G_MAX = 1e-15, 1e3  # siemens: the range a device conductance may take
STATE_FORMAT = "spicelim.Crossbar/1"
QUANTIZERS = ("python", "netlist")

__all__ = ["Crossbar", "CellRead", "G_MAX", "G_MIN"]


def _require_finite(backend, what: str, *arrays) -> None:
    """Raise SimulationError unless every given array (None skipped) is finite."""
    for arr in arrays:
        if arr is not None and not np.all(np.isfinite(arr)):
            raise SimulationError(f"backend {show(backend.name)} returned non-finite values in a {what}: the circuit"
                                  " has no finite solution at these values")


class Crossbar:
    """An M x N memristor crossbar with wire resistance, drivers and a readout on its sensed lines.

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
        variability: seeded device non-idealities (spicelim.Variability): device-to-device spread,
            cycle-to-cycle noise, stuck cells, read noise, finite levels. None: ideal devices.
        tia: a periphery.TIA on every sensed line (columns in forward reads, rows in transposed
            reads) instead of an ideal virtual ground; reads then return -V_out / r_f. read(),
            read_codes(), read_tia_output() and sense() go through it; solve() and read_cell()
            keep ideal sense nodes.
        adc: a periphery.ADC digitising every TIA output (needs a tia); reads return the currents
            reconstructed from the codes, read_codes() the codes themselves.
        backend: the backend every call uses unless it names another: a registered name
            ("spice", "fast", "ideal" or a user's own) or an ArrayBackend instance.
        backends: the Backends set (or a {name: ArrayBackend} mapping) the array takes its
            backends from. Share one between arrays to share an ngspice worker; the caller then
            closes it. By default the array starts its own on first use and closes it with close().

    The geometry follows DESIGN.md: row i is driven at its left end through r_source, column j
    is sensed at its bottom end. `state_dict()` / `load_state_dict()` save and restore everything
    that changes as the array is used; an array pickles (its simulator processes do not travel
    and start again on demand).
    """

    def __init__(self, rows: int, cols: int, cell: str = "0T1R", r_row: float = 0.0, r_col: float = 0.0,
                 r_source: float = 0.0, selector: NmosSelector | None = None, device: MemristorModel | None = None,
                 read_voltage: float = 0.2, variability: Variability | None = None, tia: TIA | None = None,
                 adc: ADC | None = None, backend="spice", backends=None):
        self.params = CrossbarParams(rows=rows, cols=cols, cell=cell, r_row=r_row, r_col=r_col,
                                     r_source=r_source, selector=selector)
        if device is not None and not isinstance(device, MemristorModel):
            raise InvalidParameterError(f"device must be a spicelim.devices model, got {type(device).__name__}")
        self.device = device
        self.read_voltage = real_number("read_voltage (V)", read_voltage)
        if self.read_voltage == 0:
            raise InvalidParameterError("read_voltage must be non-zero")
        if variability is not None and not isinstance(variability, Variability):
            raise InvalidParameterError(f"variability must be a spicelim.Variability, got {type(variability).__name__}")
        self.readout = Readout(tia, adc)
        if backends is None:
            self.backends, self._owns_backends = Backends(), True
        elif isinstance(backends, Backends):
            self.backends, self._owns_backends = backends, False
        elif isinstance(backends, dict):
            self.backends, self._owns_backends = Backends(backends), True  # closes only what it creates
        else:
            raise InvalidParameterError(f"backends must be a spicelim.Backends or a dict of backends, got"
                                        f" {type(backends).__name__}")
        self.backends.get(backend)  # an unknown name fails here, not at the first read
        self.default_backend = backend
        self.variation = DeviceVariation(variability or Variability(), self.shape, device)
        self._g: np.ndarray | None = None
        self._state: np.ndarray | None = None

    # ------------------------------------------------------------------ state
    @property
    def shape(self) -> tuple[int, int]:
        return self.params.shape

    @property
    def tia(self) -> TIA | None:
        return self.readout.tia

    @property
    def adc(self) -> ADC | None:
        return self.readout.adc

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
        arr = self._checked_state(s)
        self._store_state(self.variation.settle(self.device, arr))

    def _checked_state(self, s) -> np.ndarray:
        arr = finite_array(f"state ({self.device.state_unit})", s, self.shape)
        lo, hi = self.cell_device.state_bounds
        if np.any(arr < lo) or np.any(arr > hi):
            raise InvalidParameterError(f"states must lie within the cells' state bounds (model: [{self.device.state_bounds[0]:g},"
                                        f" {self.device.state_bounds[1]:g}] {self.device.state_unit})")
        return arr

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

    def snapshot(self) -> ArraySnapshot:
        """The array as a backend solves it now: geometry, device, state, spread and read limit."""
        if self.device is None:
            return ArraySnapshot(params=self.params, conductance=self.conductance)
        return ArraySnapshot(params=self.params, conductance=self.conductance, device=self.device, state=self.state,
                             cell_params=self.variation.cell_params or None,
                             read_limit=self.variation.read_limit(self.device))

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict:
        """Everything that changes as the array is used, as plain values (numpy arrays, dicts, numbers).

        Device states (or conductances of linear cells), the stuck map, per-cell spread parameters,
        the states of every random stream (cycle-to-cycle, read noise, TIA and ADC noise) and the
        ADC calibration. Load it into an array built with the same arguments (load_state_dict),
        or write it to a file with spicelim.save_state.
        """
        return {
            "format": STATE_FORMAT, "shape": list(self.shape), "cell": self.params.cell,
            "device": None if self.device is None else type(self.device).__name__,
            "state": None if self._state is None else np.array(self._state),
            "conductance": None if self.device is not None or self._g is None else np.array(self._g),
            "variability": self.variation.state_dict(),
            "readout": self.readout.state_dict(),
        }

    def reseed_read_noise(self, seed: int) -> None:
        """Start the random streams of reads (device read noise, TIA and ADC noise) afresh from `seed`.

        For reads that must not depend on what the array read before, e.g. batches of a test set
        read by copies of one array on several workers in any order: each batch reseeds from its
        own seed. Device states and the programming (cycle-to-cycle) stream are not touched.
        """
        read_seq, periphery_seq = np.random.SeedSequence(non_negative_int("seed", seed)).spawn(2)
        self.variation.reseed_read_noise(read_seq)
        self.readout.reseed(periphery_seq)

    def load_state_dict(self, state: dict) -> None:
        """Restore a state_dict() of an array built with the same arguments; the array then continues exactly.

        Everything is checked before the array changes; on any error it is left as it was.
        """
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise InvalidParameterError(f"not a saved Crossbar state (format {show(STATE_FORMAT)})")
        device = None if self.device is None else type(self.device).__name__
        mine = {"shape": list(self.shape), "cell": self.params.cell, "device": device}
        theirs = {k: (list(state.get(k)) if k == "shape" and state.get(k) is not None else state.get(k)) for k in mine}
        if theirs != mine:
            raise InvalidParameterError(f"saved state is of a different array: {theirs}, this one is {mine}")
        old = (self.variation.state_dict(), self.readout.state_dict(), self._g, self._state)
        try:
            self.variation.load_state_dict(state["variability"], self.device)
            self.readout.load_state_dict(state["readout"])
            self._g = self._state = None
            if self.device is not None and state.get("state") is not None:
                self._store_state(self._checked_state(state["state"]))
            elif self.device is None and state.get("conductance") is not None:
                self.set_conductance(state["conductance"])
        except BaseException:
            self.variation.load_state_dict(old[0], self.device)
            self.readout.load_state_dict(old[1])
            self._g, self._state = old[2], old[3]
            raise

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._owns_backends = True  # a copy's backends are its own
        for arr in (self._g, self._state):
            if arr is not None:
                arr.setflags(write=False)

    # ------------------------------------------------------------------ backends
    def backend(self, which=None):
        """The backend instance `which` names (default: the array's default backend)."""
        return self.backends.get(self.default_backend if which is None else which)

    def _read_bias(self, x, transpose: bool):
        transpose = boolean("transpose", transpose)
        m, n = self.shape
        if transpose:
            u, single = batch_of_vectors("u (column voltages, V)", x, n)
            return biases.transposed(u, m, self.params.r_source), single
        v, single = batch_of_vectors("v (row voltages, V)", x, m)
        return biases.forward(v, n, self.params.r_source), single

    def _check_read_voltages(self, volts: np.ndarray) -> None:
        """A read must not switch the devices: every applied voltage stays below their thresholds."""
        limit = None if self.device is None else self.variation.read_limit(self.device)
        if limit is not None and np.max(np.abs(volts)) >= limit:
            raise InvalidParameterError(
                f"read voltages up to {np.max(np.abs(volts)):g} V would switch the {type(self.device).__name__}"
                f" devices: keep them below {limit:g} V")

    # ------------------------------------------------------------------ reads
    def read(self, v, backend=None, transpose: bool = False, quantizer: str = "python") -> np.ndarray:
        """Vector-matrix multiply in the array.

        Forward: v (M,) or (B, M) volts on the rows -> (N,) or (B, N) amperes into the column
        sense nodes. Transposed: u (N,) or (B, N) volts on the columns -> (M,) or (B, M) amperes
        into the row sense nodes (positive for positive inputs in both directions).
        With a TIA the result is -V_out / r_f; with an ADC, the same from the reconstructed codes.
        backend: a registered name or an ArrayBackend (default: the array's).
        quantizer: "python" (ADC applied to the simulated TIA outputs) or "netlist" (the ADC's
            quantizer simulated inside the circuit; backends with the netlist_quantizer capability).
        """
        choice("quantizer", quantizer, QUANTIZERS)
        if self.adc is None and quantizer == "netlist":
            raise InvalidParameterError("quantizer='netlist' needs an ADC: create the array with adc=ADC(...)")
        r = self.sense(v, backend, transpose, quantizer=quantizer if self.adc is not None else None)
        res = self.readout.currents(r.sensed_current, r.v_out, r.codes, transpose)
        return res[0] if r.single else res

    def read_codes(self, v, backend=None, transpose: bool = False, quantizer: str = "python") -> np.ndarray:
        """The ADC codes (int64, 0 .. 2^bits - 1) of a read; see read()."""
        if self.adc is None:
            raise InvalidParameterError("this array has no ADC: create it with adc=ADC(...)")
        r = self.sense(v, backend, transpose, quantizer=quantizer)
        return r.codes[0] if r.single else r.codes

    def read_tia_output(self, v, backend=None, transpose: bool = False) -> np.ndarray:
        """The TIA output voltages (volts) of a read, before any ADC."""
        if self.tia is None:
            raise InvalidParameterError("this array has no TIA: create it with tia=TIA(...)")
        r = self.sense(v, backend, transpose)
        return r.v_out[0] if r.single else r.v_out

    def calibrate_adc(self, v, backend=None, transpose: bool = False, margin: float = 1.0) -> np.ndarray:
        """Set each line's ADC full scale to margin x the largest |TIA output| over the calibration inputs v."""
        if self.adc is None:
            raise InvalidParameterError("this array has no ADC to calibrate")
        real_number("calibration margin", margin, minimum=0.0, strict=True)
        return self.readout.calibrate(self.sense(v, backend, transpose).v_out, transpose, margin=margin)

    def sense(self, v, backend=None, transpose: bool = False, quantizer: str | None = None) -> SensedRead:
        """Solve a read through the readout: driver and sense currents, TIA outputs, ADC codes (see SensedRead).

        quantizer: None (no conversion), "python" or "netlist" (see read()).
        """
        if quantizer is not None:
            choice("quantizer", quantizer, QUANTIZERS)
        impl = self.backend(backend)
        bias, single = self._read_bias(v, transpose)
        inputs = bias.col_v if transpose else bias.row_v
        self._check_read_voltages(inputs)
        g = self.conductance
        if quantizer is not None:
            if self.adc is None:
                raise InvalidParameterError("this array has no ADC: create it with adc=ADC(...)")
            self.readout.full_scale(transpose)  # a missing calibration fails before anything is drawn or solved
            if quantizer == "netlist":
                require(impl, NETLIST_QUANTIZER, "quantizer='netlist'")
        lines = self.shape[0] if transpose else self.shape[1]
        injected = self.variation.read_noise_current(inputs, g, transpose)
        terminals = self.readout.terminals(bias.batch, lines, transpose, injected, quantizer == "netlist")
        out = impl.operate(self.snapshot(), bias, sense=terminals)
        sensed, drivers = (out.row_current, out.col_current) if transpose else (out.col_current, out.row_current)
        _require_finite(impl, "read", sensed, drivers, out.sense_out)
        codes = out.codes if quantizer == "netlist" else None
        if quantizer == "python":
            codes = self.readout.convert(out.sense_out, transpose)
        return SensedRead(inputs=inputs, driver_current=drivers, sensed_current=sensed, v_out=out.sense_out,
                          codes=codes, single=single)

    def solve(self, v, backend=None, transpose: bool = False) -> OperatingPoints:
        """Like read(), but returns every node voltage and device current (IR-drop maps); ideal sense nodes."""
        impl = self.backend(backend)
        require(impl, NODE_VOLTAGES, "solve()")
        bias, _ = self._read_bias(v, transpose)
        self._check_read_voltages(bias.row_v if not transpose else bias.col_v)
        out = impl.operate(self.snapshot(), bias, nodes=True)
        _require_finite(impl, "node solve", out.row_current, out.col_current, out.row_v, out.col_v, out.device_low_v)
        return out

    def read_cell(self, row: int, col: int, v_read: float = 0.2, scheme: str = "float", backend=None) -> CellRead:
        """Read one cell with its row at v_read and its column at 0 V; other lines per `scheme`.

        scheme: "float" (other lines open), "V/2" (other lines at v_read/2) or "V/3" (other rows
        at v_read/3, other columns at 2 v_read/3). Biased lines are driven through r_source.
        """
        if real_number("v_read (V)", v_read) == 0:
            raise InvalidParameterError("v_read must be non-zero")
        row, col = index("row", row, self.shape[0]), index("col", col, self.shape[1])
        bias = biases.select_cell(self.shape, row, col, v_read, scheme, self.params.r_source)
        impl = self.backend(backend)
        require(impl, NODE_VOLTAGES, "read_cell()")
        if scheme == "float":
            require(impl, FLOATING_LINES, "read_cell(scheme='float')")
        g = self.conductance
        self._check_read_voltages(np.array([v_read]))
        out = impl.operate(self.snapshot(), bias, nodes=True)
        selected = float(out.cell_current[0, row, col])
        sensed = float(out.col_current[0, col])
        _require_finite(impl, "cell read", np.array([selected, sensed]))
        return CellRead(selected_current=selected, sensed_current=sensed, sneak_current=sensed - selected,
                        expected_current=float(v_read * g[row, col]), scheme=scheme, backend=impl.name)

    # ------------------------------------------------------------------ programming
    def apply_pulses(self, schedule: PulseSchedule, backend=None, max_step: float | None = None,
                     measure_energy: bool = False) -> PulseResult:
        """Run a programming transient (spicelim.programming) and keep the devices' final states.

        Each transient starts from the present state; the final states, with any cycle-to-cycle
        noise, stuck cells and finite levels applied, become the array's state. Returns a
        PulseResult: those states, the energy the line drivers delivered (joules, when
        measure_energy) and the schedule's duration (seconds).
        max_step: largest time step, seconds (default: the backend's own, from the pulse width).
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
        max_step = schedule.check_step(max_step)
        impl = self.backend(backend)
        require(impl, TRANSIENT, "apply_pulses()")
        before = self.state
        result = impl.apply_pulses(self.snapshot(), schedule, max_step=max_step, energy=boolean("measure_energy", measure_energy))
        after = np.asarray(result.state, dtype=float)
        if after.shape != self.shape or not np.all(np.isfinite(after)):
            raise ShapeError(f"backend {show(impl.name)} returned states of shape {after.shape} (or non-finite);"
                             f" the array is {self.shape}")
        self._store_state(self.variation.programmed(self.device, before, after))
        return replace(result, state=self.state)

    def relax(self) -> int:
        """Let the cells programmed since the last relax() relax (Variability.relaxation); returns how many moved.

        Call it when time passes after programming (after a transfer, between training steps): the
        move comes after the verify reads, so write-verify does not see it. No-op without relaxation.
        """
        waiting = 0 if self.device is None else int(self.variation.unrelaxed.sum())
        if waiting:  # nothing waiting: the state (and any cached factorisation of it) stays as it is
            self._store_state(self.variation.relax(self.device, self.state))
        return waiting

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Stop the simulators this array started (its ngspice worker) and drop cached factorisations."""
        if self._owns_backends:
            self.backends.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        p = self.params
        return (f"Crossbar({p.rows}x{p.cols} {p.cell}, r_row={p.r_row:g} ohm, r_col={p.r_col:g} ohm,"
                f" r_source={p.r_source:g} ohm)")
