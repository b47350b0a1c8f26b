"""A layer's weights on memristor arrays: differential pairs on tiles, read forward and backward.

A fully connected layer y = x W + b (W: n_in x n_out) sits on a grid of tiles. Each tile is one
array (spicelim.Crossbar) holding a block of W as differential conductance pairs, G+ on column
2k and G- on column 2k + 1 (periphery.DifferentialPairs): a weight w becomes
G+ - G- = (g_max - g_min) w / w_max, clipped to +-w_max. The bias is one more input row held at
the read voltage. A layer larger than the tile size (rows: inputs plus the bias row; columns: two
per output) is split, and the controller (the digital periphery) adds the partial outputs.

The three operations run on the arrays through whichever backend the tile uses:
  - forward: the inputs of each sample, scaled so the largest is v_read, drive the rows; the
    columns are sensed through their TIAs and ADCs and each pair's currents subtracted;
  - backward: the errors of each sample, scaled the same way (so no read can disturb the
    devices), drive each pair's two columns, and the rows are sensed: a transposed read of the
    same arrays gives (G+ - G-) d, the error backpropagated to the layer's inputs;
  - update: programming pulses (spicelim.programming) on the same arrays.
Scaling each sample to the read voltage and back is digital and exact; everything in between is
the circuit: wires, selectors, device spread and noise, TIA and ADC.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..crossbar import Crossbar
from ..devices.base import MemristorModel
from ..devices.presets import YAO2020_PROGRAMMING, yao2020_taox_hfox
from ..errors import InvalidParameterError, ShapeError
from ..fast.nodal import cell_conductance
from ..params import CELL_KINDS, MAX_LINES, MAX_RESISTANCE
from ..periphery.adc import ADC, MAX_BITS
from ..periphery.differential import SUBTRACTION, DifferentialPairs, read_signed
from ..periphery.energy import ReadCost, read_cost
from ..periphery.inputs import bit_serial, split_sign
from ..periphery.tia import TIA
from ..programming.pulses import MAX_SLOTS, PulseSchedule
from ..programming.schemes import outer_product
from ..programming.write_verify import (
    ProgrammingReport,
    WritePulses,
    measurable_window,
    measure_conductance,
    write_verify,
)
from ..results import PulseResult
from ..spice.backend import SpiceBackend
from ..validation import (
    batch_of_vectors,
    boolean,
    choice,
    finite_array,
    integer_array,
    non_negative_int,
    positive_int,
    real_number,
)
from ..variability import Variability

WINDOW_MARGIN = 0.02  # the weight window keeps this fraction of the device window clear of each bound
MAX_PAIR_PULSES = 100  # pulses one pair may get in one update
PAIR_UPDATES = ("set", "both")
MAX_INPUT_BITS = 16  # bit-serial input resolution


@dataclass(frozen=True)
class TileSpec:
    """How a layer's weights sit on arrays; every tile of the layer is built alike.

    max_rows: most input rows per tile (the bias row counts). max_cols: most device columns per
        tile (two per output), even. Yao et al. 2020 used 128 x 16 arrays.
    cell: "1T1R" or "0T1R". r_wire: resistance of every row and column segment, ohms.
    r_source: driver resistance, ohms. device: the memristor model of every cell (default: the
        TaOx/HfOx preset of Yao et al. 2020). variability: device non-idealities; each tile draws
        its own from the layer's seed.
    tia: the TIA on every sensed line (None: ideal virtual grounds). adc_bits: resolution of the
        ADC behind every TIA (needs a tia; its full scale is calibrated per line, `calibrate`).
        adc_energy: joules per conversion of those ADCs (counted by read_cost; default 0).
    v_read: volts on a line driven by the largest input (or error) of a sample.
    w_max: the weight magnitude that spans the whole conductance window; larger weights clip.
    subtraction: "digital" (each column through its own ADC) or "analog" (the pair subtracted
        before conversion: a differential TIA forward, opposite drive voltages backward).
    backend: the backend of every read and update ("fast", "spice", "ideal" or a user's own;
        "fast-slots" reads like "fast" and programs by the slot engine, the one to train with).
    pulses: the programming pulses (default: Yao et al.'s 1T1R conditions for 1T1R cells, the
        library default for passive arrays).
    verify_tolerance: acceptance band of closed-loop writes, siemens of one device.
    input_bits: how forward inputs reach the rows. None: a voltage proportional to each input (an
        ideal DAC); b: b-bit bit-serial pulse trains (Yao et al. 2020: 8 bits at 0.2 V), each
        sample's inputs quantised to b-bit codes of its largest magnitude, one read per bit with
        v_read on the rows whose bit is set, the pair outputs (after the ADCs) added with weights
        2^bit; negative inputs take a second pass of their own. Backward reads stay analog.
    pair_update: how a pair's weight is moved by update pulses: "set" (SET pulses only, on G+ to
        raise the weight and on G- to lower it: the gradual direction of filamentary devices) or
        "both" (SET on one device and RESET on the other; larger steps, and devices do not creep up).
    """

    max_rows: int = 128
    max_cols: int = 128
    cell: str = "1T1R"
    r_wire: float = 1.0
    r_source: float = 0.0
    device: MemristorModel = field(default_factory=yao2020_taox_hfox)
    variability: Variability | None = None
    tia: TIA | None = None
    adc_bits: int | None = None
    v_read: float = 0.2
    w_max: float = 1.0
    subtraction: str = "digital"
    backend: object = "fast"
    pulses: WritePulses | None = None
    verify_tolerance: float = YAO2020_PROGRAMMING.verify_tolerance
    pair_update: str = "set"
    input_bits: int | None = None
    adc_energy: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "max_rows", positive_int("max_rows", self.max_rows, maximum=MAX_LINES))
        object.__setattr__(self, "max_cols", positive_int("max_cols", self.max_cols, maximum=MAX_LINES))
        if self.max_cols < 2 or self.max_cols % 2:
            raise InvalidParameterError(f"max_cols holds pairs of columns: an even number >= 2, got {self.max_cols}")
        if self.max_rows < 2:
            raise InvalidParameterError(f"max_rows must be at least 2 (an input and the bias row), got {self.max_rows}")
        choice("cell", self.cell, CELL_KINDS)
        object.__setattr__(self, "r_wire", real_number("r_wire (ohm)", self.r_wire, minimum=0.0,
                                                       maximum=MAX_RESISTANCE))
        object.__setattr__(self, "r_source", real_number("r_source (ohm)", self.r_source, minimum=0.0,
                                                         maximum=MAX_RESISTANCE))
        if not isinstance(self.device, MemristorModel):
            raise InvalidParameterError(f"device must be a spicelim.devices model, got {type(self.device).__name__}")
        if self.variability is not None and not isinstance(self.variability, Variability):
            raise InvalidParameterError(f"variability must be a spicelim.Variability or None, got"
                                        f" {type(self.variability).__name__}")
        if self.tia is not None and not isinstance(self.tia, TIA):
            raise InvalidParameterError(f"tia must be a periphery.TIA or None, got {type(self.tia).__name__}")
        if self.adc_bits is not None:
            object.__setattr__(self, "adc_bits", positive_int("adc_bits", self.adc_bits, maximum=MAX_BITS))
            if self.tia is None:
                raise InvalidParameterError("an ADC digitises TIA outputs: give the tiles a tia as well")
        v = real_number("v_read (V)", self.v_read, minimum=0.0, strict=True)
        if v >= self.device.read_limit:
            raise InvalidParameterError(f"v_read {v:g} V would switch the devices (read limit"
                                        f" {self.device.read_limit:g} V)")
        object.__setattr__(self, "v_read", v)
        object.__setattr__(self, "w_max", real_number("w_max", self.w_max, minimum=0.0, strict=True, maximum=1e6))
        choice("subtraction", self.subtraction, SUBTRACTION)
        if self.subtraction == "analog" and self.tia is None:
            raise InvalidParameterError("analog subtraction needs TIAs on the sensed lines")
        if self.pulses is None:
            object.__setattr__(self, "pulses", WritePulses.from_conditions(YAO2020_PROGRAMMING)
                               if self.cell == "1T1R" else WritePulses())
        if not isinstance(self.pulses, WritePulses):
            raise InvalidParameterError(f"pulses must be a WritePulses or None, got {type(self.pulses).__name__}")
        if self.cell == "1T1R" and (self.pulses.v_gate_set is None or self.pulses.v_gate_reset is None):
            raise InvalidParameterError("1T1R tiles need pulses with v_gate_set and v_gate_reset")
        choice("pair_update", self.pair_update, PAIR_UPDATES)
        object.__setattr__(self, "adc_energy", real_number("adc_energy (J)", self.adc_energy, minimum=0.0,
                                                           maximum=1.0))
        if self.input_bits is not None:
            object.__setattr__(self, "input_bits", positive_int("input_bits", self.input_bits,
                                                                maximum=MAX_INPUT_BITS))
        object.__setattr__(self, "verify_tolerance", real_number("verify_tolerance (S)", self.verify_tolerance,
                                                                 minimum=0.0, strict=True, maximum=1.0))

    @property
    def pairs(self) -> DifferentialPairs:
        """The conductance window each device of a pair uses (siemens), inside the device's own."""
        dev = self.device
        g = sorted(float(dev.conductance(np.asarray(b, dtype=float), self.v_read)) for b in dev.state_bounds)
        pad = WINDOW_MARGIN * (g[1] - g[0])
        return DifferentialPairs(g_min=g[0] + pad, g_max=g[1] - pad)


def _scaled(name: str, x, length: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """(x / s, s, single): each sample divided by its largest magnitude s (0 -> 1)."""
    arr, single = batch_of_vectors(name, x, length)
    s = np.max(np.abs(arr), axis=1)
    s = np.where(s > 0, s, 1.0)
    return arr / s[:, None], s, single


class DifferentialTile:
    """One array holding an (n_in, n_out) block of weights as differential pairs (see the module docstring).

    n_in counts every row of the tile (a bias row is an ordinary input held at 1).
    seed: seeds the tile's device variability. backends: a spicelim.Backends to share.
    """

    def __init__(self, n_in: int, n_out: int, spec: TileSpec, seed: int = 0, backends=None):
        if not isinstance(spec, TileSpec):
            raise InvalidParameterError(f"spec must be a TileSpec, got {type(spec).__name__}")
        n_in = positive_int("n_in", n_in, maximum=spec.max_rows)
        n_out = positive_int("n_out", n_out, maximum=spec.max_cols // 2)
        seed = non_negative_int("seed", seed)
        self.spec, self.n_in, self.n_out = spec, n_in, n_out
        variability = None if spec.variability is None else replace(spec.variability, seed=seed)
        adc = None if spec.adc_bits is None else ADC(bits=spec.adc_bits, full_scale="calibrate", seed=seed,
                                                    energy_per_conversion=spec.adc_energy)
        self.array = Crossbar(n_in, 2 * n_out, spec.cell, r_row=spec.r_wire, r_col=spec.r_wire,
                              r_source=spec.r_source, device=spec.device, read_voltage=spec.v_read,
                              variability=variability, tia=spec.tia, adc=adc, backend=spec.backend,
                              backends=backends)
        self.pairs = spec.pairs
        # amperes per (volt of input x weight unit): I+ - I- = v (G+ - G-) = v gain w
        self.gain = (self.pairs.g_max - self.pairs.g_min) / spec.w_max
        self.set_weights(np.zeros((n_in, n_out)))  # fresh devices: every pair at the bottom of its window

    # ------------------------------------------------------------------ weights
    def set_weights(self, w, centered: bool = False) -> None:
        """Put the weights (n_in, n_out) on the devices directly (an ideal transfer: no programming pulses).

        Weights beyond +-w_max clip; stuck cells and finite levels apply as on any state the array holds.
        centered: both devices of a pair around the middle of the window, G+- = g_mid +- gain w / 2 (room
        to move either way, as in-situ training wants); else one device at g_min and the other above it.
        """
        w = np.clip(finite_array("weights", w, (self.n_in, self.n_out)), -self.spec.w_max, self.spec.w_max)
        if boolean("centered", centered):
            g = np.empty((self.n_in, 2 * self.n_out))
            g_mid = 0.5 * (self.pairs.g_min + self.pairs.g_max)
            g[:, 0::2], g[:, 1::2] = g_mid + 0.5 * self.gain * w, g_mid - 0.5 * self.gain * w
        else:
            g = self.pairs.conductances(w, w_max=self.spec.w_max)
        lo, hi = self.array.cell_device.state_bounds  # each cell's own window, under device-to-device spread
        self.array.set_state(np.clip(self.spec.device.state_for_conductance(g, self.spec.v_read), lo, hi))

    def weights(self) -> np.ndarray:
        """The weights (n_in, n_out) the devices hold now, from their conductances."""
        return self.pairs.weights(self.array.conductance, self.spec.w_max)

    def measured_weights(self) -> np.ndarray:
        """The weights (n_in, n_out) a verify read measures (row by row, IR drop and selectors included)."""
        g = self._device_conductance(measure_conductance(self.array, self.spec.v_read))
        return (g[:, 0::2] - g[:, 1::2]) / self.gain

    def _device_conductance(self, g_cell: np.ndarray) -> np.ndarray:
        """Device conductances from cell conductances a verify read measured: the selector's on-resistance,
        as the controller knows it, taken off."""
        if not self.array.params.has_selector:
            return g_cell
        return 1.0 / np.maximum(1.0 / g_cell - self.array.params.selector.on_resistance, 1e-3)

    def pulse_pairs(self, counts) -> PulseResult:
        """Programme signed pulse numbers (n_in, n_out) into the pairs: +k raises the weight by k pulses, -k lowers it.

        By spec.pair_update: "set": k SET pulses on G+ (raise) or on G- (lower); "both": k SET pulses
        on one device and k RESET pulses on the other. Returns the transient's result, energy measured.
        """
        schedule = self.pair_schedule(counts)
        if schedule is None:
            return PulseResult(state=self.array.state, energy=0.0, duration=0.0, backend="none")
        return self.array.apply_pulses(schedule, measure_energy=True)

    def pair_schedule(self, counts) -> PulseSchedule | None:
        """The row-by-row pulse schedule of pulse_pairs(counts) (None: no pulse at all)."""
        c = integer_array("pair pulse counts", counts, (self.n_in, self.n_out), bound=MAX_PAIR_PULSES)
        per_device = np.empty((self.n_in, 2 * self.n_out), dtype=np.int64)
        if self.spec.pair_update == "set":
            per_device[:, 0::2], per_device[:, 1::2] = np.maximum(c, 0), np.maximum(-c, 0)
        else:
            per_device[:, 0::2], per_device[:, 1::2] = c, -c
        if not per_device.any():
            return None
        return self.spec.pulses.schedule(self.array.shape, self.spec.cell, per_device)

    def coincidence_update(self, x, u, n_slots: int, rng: np.random.Generator) -> tuple[PulseResult, np.ndarray]:
        """Stochastic pulse-coincidence update of the pairs (Gokmen and Vlasov 2016), sample after sample.

        x (B, n_in): row firing probabilities in [-1, 1]. u (B, n_out): pair firing probabilities in
        [-1, 1], positive to raise the weight. For each sample, in each of n_slots slots per phase,
        row i fires with probability |x_i| and pair k with |u_k| (spicelim.programming.outer_product:
        every word line on, idle lines at half the pulse); where both fire the pair gets one pulse
        in the direction of x_i u_k. By spec.pair_update: "set": a SET pulse on G+ (raise) or G-
        (lower); "both": a SET pulse on one device in the SET phase and a RESET pulse on the other in
        the RESET phase. Pair (i, k) thus expects n_slots sum_b |x_bi u_bk| pulses. All samples'
        slots run as one transient. Returns its result and the pulses each device got (n_in, 2 n_out).
        """
        schedule, hits = self.coincidence_schedule(x, u, n_slots, rng)
        if schedule is None:
            return PulseResult(state=self.array.state, energy=0.0, duration=0.0, backend="none"), hits
        return self.array.apply_pulses(schedule, measure_energy=True), hits

    def coincidence_schedule(self, x, u, n_slots: int, rng: np.random.Generator
                             ) -> tuple[PulseSchedule | None, np.ndarray]:
        """The pulse schedule of coincidence_update (None: no slot fired) and the pulses each device gets."""
        x, _ = batch_of_vectors("x (row firing probabilities)", x, self.n_in)
        u, _ = batch_of_vectors("u (pair firing probabilities)", u, self.n_out)
        if x.shape[0] != u.shape[0]:
            raise ShapeError(f"{x.shape[0]} row vectors but {u.shape[0]} pair vectors")
        if np.any(np.abs(x) > 1) or np.any(np.abs(u) > 1):
            raise InvalidParameterError("firing probabilities must lie in [-1, 1]")
        n_slots = positive_int("n_slots", n_slots, maximum=MAX_SLOTS)
        if not isinstance(rng, np.random.Generator):
            raise InvalidParameterError("rng must be a numpy Generator (np.random.default_rng(seed))")
        p, shape = self.spec.pulses, self.array.shape

        def devices(up, down):  # pair probabilities onto the columns: G+ gets `up`, G- gets `down`
            d = np.empty(2 * self.n_out)
            d[0::2], d[1::2] = up, down
            return d

        slots = []
        for xb, ub in zip(x, u):
            if self.spec.pair_update == "set":  # SET pulses only: rows split by sign, each device by direction
                phases = [(np.maximum(xb, 0), devices(np.maximum(ub, 0), np.maximum(-ub, 0))),
                          (np.maximum(-xb, 0), devices(np.maximum(-ub, 0), np.maximum(ub, 0)))]
            else:
                phases = [(xb, devices(ub, -ub))]
            for rows, cols in phases:
                if rows.any() and cols.any():
                    slots += outer_product(shape, self.spec.cell, rows, cols, p.set_amplitude, p.reset_amplitude,
                                           n_slots, rng, v_gate=p.v_gate_set, v_gate_reset=p.v_gate_reset,
                                           set_timing=p.set_timing, reset_timing=p.reset_timing)
            if len(slots) > MAX_SLOTS:
                raise InvalidParameterError(f"this update needs more than {MAX_SLOTS} slots; lower n_slots")
        hits = np.zeros(shape, dtype=np.int64)
        for slot in slots:  # coincidences: the cells that see the full pulse
            amplitude = p.set_amplitude if slot.row.max() > slot.col.max() else -p.reset_amplitude
            hits += np.abs(slot.row[:, None] - slot.col[None, :]) >= amplitude * (1 - 1e-9)
        return (PulseSchedule.from_slots(slots, p.set_timing) if slots else None), hits


    def center(self) -> None:
        """Both devices of every pair to the middle of the pair window (weight 0, room to move either way)."""
        self.set_weights(np.zeros((self.n_in, self.n_out)), centered=True)

    def relax(self) -> int:
        """Let the devices programmed since the last relax() relax (Crossbar.relax); returns how many moved."""
        return self.array.relax()

    def program_weights(self, w, max_pulses: int = 100, progress: bool = False, backend=None,
                        levels: int | None = None, compensate: bool = False) -> ProgrammingReport:
        """Write-verify the weights (n_in, n_out) onto the pairs (each device to its target within verify_tolerance).

        backend: the backend of the pulses and verify reads (default: the tile's). levels: program
        every device to the nearest of this many conductances evenly spaced over the pair window
        (Yao et al. 2020: 8 per device, so 15 weight levels per pair); None: the exact targets.
        compensate: where write-verify could not bring one device of a pair into its band (a stuck
        or unresponsive device), the partner is written again, to the conductance that makes the
        pair's difference the weight given the conductance the verify read measured on the failed
        device (clipped to the pair window, snapped to the levels). The report then counts both passes.
        """
        w = np.clip(finite_array("weights", w, (self.n_in, self.n_out)), -self.spec.w_max, self.spec.w_max)
        compensate = boolean("compensate", compensate)
        k = None if levels is None else positive_int("levels", levels, maximum=1 << 16) - 1
        if k is not None and k < 1:
            raise InvalidParameterError("levels must be at least 2")

        def snap(g):  # to the nearest of the levels over the pair window
            if k is None:
                return g
            span = self.pairs.g_max - self.pairs.g_min
            return self.pairs.g_min + span * np.round((g - self.pairs.g_min) / span * k) / k

        g_dev = snap(self.pairs.conductances(w, w_max=self.spec.w_max))
        options = {"max_pulses": max_pulses, "v_read": self.spec.v_read, "backend": backend, "progress": progress}
        first = write_verify(self.array, cell_conductance(self.array.params, g_dev), self.spec.pulses,
                             self.spec.verify_tolerance, **options)
        if not compensate:
            return first
        failed = ~first.converged
        plus, minus = failed[:, 0::2], failed[:, 1::2]
        redo_minus, redo_plus = plus & ~minus, minus & ~plus  # one device failed: write its partner again
        if not (redo_minus.any() or redo_plus.any()):
            return first
        g_meas = self._device_conductance(first.conductance)
        span_w = self.gain * w
        partner = g_dev.copy()
        partner[:, 1::2] = np.where(redo_minus, g_meas[:, 0::2] - span_w, g_dev[:, 1::2])
        partner[:, 0::2] = np.where(redo_plus, g_meas[:, 1::2] + span_w, g_dev[:, 0::2])
        target = cell_conductance(self.array.params, snap(np.clip(partner, self.pairs.g_min, self.pairs.g_max)))
        keep = np.zeros_like(failed)  # the failed devices of those pairs stay as they are
        keep[:, 0::2], keep[:, 1::2] = redo_minus, redo_plus
        target[keep] = np.clip(first.conductance[keep], *measurable_window(self.array))
        second = write_verify(self.array, target, self.spec.pulses, self.spec.verify_tolerance, **options)
        return replace(second, pulses=first.pulses + second.pulses, unresponsive=first.unresponsive
                       | second.unresponsive, iterations=first.iterations + second.iterations,
                       cells_pulsed=first.cells_pulsed + second.cells_pulsed)

    # ------------------------------------------------------------------ reads
    def forward(self, x, backend=None) -> np.ndarray:
        """x (B, n_in) or (n_in,) -> x W (B, n_out) or (n_out,), read on the array.

        backend: a name or an ArrayBackend to read on (default: the array's).
        """
        u, s, single = _scaled("x (tile inputs)", x, self.n_in)
        full_scale = self._pair_full_scale()
        i = np.zeros((u.shape[0], self.n_out))
        for sign, weights, volts in self._forward_drives(u):
            per_read = read_signed(self.array, volts.reshape(-1, self.n_in), backend=backend,
                                   subtraction=self.spec.subtraction, full_scale=full_scale)
            i += sign * np.tensordot(weights, per_read.reshape(weights.size, u.shape[0], self.n_out), axes=(0, 0))
        y = i * (s / (self.spec.v_read * self.gain))[:, None]
        return y[0] if single else y

    def _forward_drives(self, u: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """How inputs u in [-1, 1] (B, n_in) drive the rows: [(sign, weights (S,), volts (S, B, n_in))].

        The pair currents of u v_read are sum over passes of sign * sum_s weights_s I(volts_s): one
        analog read, or (spec.input_bits) one read per bit of each sign's codes, weights 2^s / (2^b - 1).
        """
        bits = self.spec.input_bits
        if bits is None:
            return [(1.0, np.ones(1), u[None] * self.spec.v_read)]
        top = (1 << bits) - 1
        weights = np.exp2(np.arange(bits)) / top
        drives = []
        for sign, part in zip((1.0, -1.0), split_sign(u)):
            codes = np.rint(part * top).astype(np.int64)
            if codes.any():
                drives.append((sign, weights, bit_serial(codes, bits, self.spec.v_read)))
        return drives or [(1.0, np.ones(1), np.zeros((1,) + u.shape))]

    def read_cost(self, x, **options) -> ReadCost:
        """Energy and latency of the forward read of each sample of x (B, n_in), mean over the batch.

        Every read the inputs take is simulated (each bit of a bit-serial input is a read of its own);
        options go to periphery.energy.read_cost (t_read, t_adc, dac_energy). Counted: see that module.
        """
        u, _, _ = _scaled("x (tile inputs)", x, self.n_in)
        drives = self._forward_drives(u)
        volts = np.concatenate([v.reshape(-1, self.n_in) for _, _, v in drives])
        cost = read_cost(self.array, volts, macs=self.n_in * self.n_out, **options)
        return cost.scaled(sum(w.size for _, w, _ in drives))

    def backward(self, d) -> np.ndarray:
        """d (B, n_out) or (n_out,) -> d W^T (B, n_in) or (n_in,), by a transposed read of the same array."""
        u, s, single = _scaled("d (tile errors)", d, self.n_out)
        i = read_signed(self.array, u * self.spec.v_read, subtraction=self.spec.subtraction, transpose=True)
        y = i * (s / (self.spec.v_read * self.gain))[:, None]
        return y[0] if single else y

    def _pair_full_scale(self):
        """Full scale of the pair ADCs of an analog forward subtraction: the calibrated column full scales' sum."""
        if self.spec.subtraction != "analog" or self.array.adc is None:
            return None
        fs = self.array.readout.full_scale(False)
        return fs[0::2] + fs[1::2]

    def calibrate(self, x, d=None, margin: float = 1.25) -> None:
        """Set the ADC full scales from representative inputs x (B, n_in) and errors d (B, n_out), margin x the largest output.

        Without errors, the backward full scale comes from unit errors on every pair.
        """
        if self.array.adc is None:
            return
        u, _, _ = _scaled("x (calibration inputs)", x, self.n_in)
        volts = np.concatenate([v.reshape(-1, self.n_in) for _, _, v in self._forward_drives(u)])
        self.array.calibrate_adc(volts, margin=margin)
        d = np.ones((1, self.n_out)) if d is None else d
        u, _, _ = _scaled("d (calibration errors)", d, self.n_out)
        u = u * self.spec.v_read
        if self.spec.subtraction == "analog":  # every way the backward reads drive the columns
            drive = np.zeros((u.shape[0], 2 * self.n_out))
            drive[:, 0::2], drive[:, 1::2] = u, -u
        else:
            drive = np.zeros((2 * u.shape[0], 2 * self.n_out))
            drive[: u.shape[0], 0::2], drive[u.shape[0]:, 1::2] = u, u
        self.array.calibrate_adc(drive, transpose=True, margin=margin)


class AnalogLinear:
    """A fully connected layer y = x W + b on a grid of DifferentialTiles (see the module docstring).

    n_in, n_out: layer size. spec: how every tile is built. bias: a bias row (held at 1).
    seed: seeds every tile's variability (each tile its own stream).
    backends: a spicelim.Backends (or {name: backend}) every tile shares. By default the tiles
        share one ngspice worker and each keeps its own fast backend (its factorisation cache).
    """

    def __init__(self, n_in: int, n_out: int, spec: TileSpec, bias: bool = True, seed: int = 0, backends=None):
        if not isinstance(spec, TileSpec):
            raise InvalidParameterError(f"spec must be a TileSpec, got {type(spec).__name__}")
        self.n_in = positive_int("n_in", n_in, maximum=1 << 20)
        self.n_out = positive_int("n_out", n_out, maximum=1 << 20)
        self.spec, self.bias = spec, boolean("bias", bias)
        rows = self.n_in + self.bias
        self.row_blocks = [(k, min(k + spec.max_rows, rows)) for k in range(0, rows, spec.max_rows)]
        per_tile = spec.max_cols // 2
        self.col_blocks = [(k, min(k + per_tile, self.n_out)) for k in range(0, self.n_out, per_tile)]
        seeds = np.random.SeedSequence(non_negative_int("seed", seed)).generate_state(
            len(self.row_blocks) * len(self.col_blocks))
        self._spice = None
        if backends is None:
            self._spice = SpiceBackend()  # not started until a tile reads or programs on ngspice
            backends = {"spice": self._spice}
        self.tiles = [[DifferentialTile(r1 - r0, c1 - c0, spec, seed=int(seeds[a * len(self.col_blocks) + b]),
                                        backends=backends)
                       for b, (c0, c1) in enumerate(self.col_blocks)]
                      for a, (r0, r1) in enumerate(self.row_blocks)]

    @property
    def n_tiles(self) -> int:
        return len(self.row_blocks) * len(self.col_blocks)

    def _augmented(self, x) -> tuple[np.ndarray, bool]:
        arr, single = batch_of_vectors("x (layer inputs)", x, self.n_in)
        if self.bias:
            arr = np.hstack([arr, np.ones((arr.shape[0], 1))])
        return arr, single

    def set_weights(self, w, b=None, centered: bool = False) -> None:
        """Put W (n_in, n_out) and b (n_out,) on the tiles directly (an ideal transfer; centered: see
        DifferentialTile.set_weights)."""
        w = self._stacked(w, b)
        for tile, r, k in self.blocks():
            tile.set_weights(w[r, k], centered=centered)

    def weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(W, b) as the devices hold them now."""
        w = np.zeros((self.n_in + self.bias, self.n_out))
        for a, (r0, r1) in enumerate(self.row_blocks):
            for c, (c0, c1) in enumerate(self.col_blocks):
                w[r0:r1, c0:c1] = self.tiles[a][c].weights()
        return (w[: self.n_in], w[self.n_in]) if self.bias else (w, None)

    def forward(self, x, backend=None) -> np.ndarray:
        """x (B, n_in) -> x W + b (B, n_out), every product read on the tiles (backend: default the tiles')."""
        xa, single = self._augmented(x)
        y = np.zeros((xa.shape[0], self.n_out))
        for a, (r0, r1) in enumerate(self.row_blocks):
            for c, (c0, c1) in enumerate(self.col_blocks):
                y[:, c0:c1] += self.tiles[a][c].forward(xa[:, r0:r1], backend=backend)
        return y[0] if single else y

    def backward(self, d) -> np.ndarray:
        """d (B, n_out) -> d W^T (B, n_in): the error at the layer's inputs, by transposed reads."""
        arr, single = batch_of_vectors("d (layer errors)", d, self.n_out)
        dx = np.zeros((arr.shape[0], self.n_in + self.bias))
        for a, (r0, r1) in enumerate(self.row_blocks):
            for c, (c0, c1) in enumerate(self.col_blocks):
                dx[:, r0:r1] += self.tiles[a][c].backward(arr[:, c0:c1])
        out = dx[:, : self.n_in]
        return out[0] if single else out

    def calibrate(self, x, d=None, margin: float = 1.25) -> None:
        """Calibrate every tile's ADCs on representative inputs x (B, n_in) and errors d (B, n_out)."""
        xa, _ = self._augmented(x)
        if d is not None:
            d, _ = batch_of_vectors("d (calibration errors)", d, self.n_out)
        for a, (r0, r1) in enumerate(self.row_blocks):
            for c, (c0, c1) in enumerate(self.col_blocks):
                self.tiles[a][c].calibrate(xa[:, r0:r1], None if d is None else d[:, c0:c1], margin)

    def _stacked(self, w, b) -> np.ndarray:
        """W (n_in, n_out) with the bias row b (n_out,; default 0) below it: the weights of the layer's rows."""
        w = finite_array("W", w, (self.n_in, self.n_out))
        if self.bias:
            b = np.zeros(self.n_out) if b is None else finite_array("b", b, (self.n_out,))
            w = np.vstack([w, b[None, :]])
        elif b is not None:
            raise InvalidParameterError("this layer has no bias")
        return w

    def blocks(self):
        """(tile, row slice, output slice) of every tile: which block of the (n_rows, n_out) weights it holds."""
        for a, (r0, r1) in enumerate(self.row_blocks):
            for c, (c0, c1) in enumerate(self.col_blocks):
                yield self.tiles[a][c], slice(r0, r1), slice(c0, c1)

    @property
    def n_rows(self) -> int:
        """Rows the layer drives: its inputs, and the bias row."""
        return self.n_in + self.bias

    def augmented(self, x) -> np.ndarray:
        """Layer inputs (B, n_in) with the bias input (1) appended: (B, n_rows)."""
        return self._augmented(x)[0]

    def pulse_pairs(self, counts) -> tuple[float, float]:
        """Programme signed pair pulse numbers (n_rows, n_out) (see DifferentialTile.pulse_pairs).

        Returns (energy in joules, duration in seconds; the tiles are programmed in parallel)."""
        c = integer_array("pair pulse counts", counts, (self.n_rows, self.n_out), bound=MAX_PAIR_PULSES)
        energy, duration = 0.0, 0.0
        for tile, r, k in self.blocks():
            res = tile.pulse_pairs(c[r, k])
            energy += res.energy or 0.0
            duration = max(duration, res.duration)
        return energy, duration

    def coincidence_update(self, x, u, n_slots: int, rng: np.random.Generator) -> tuple[float, float, np.ndarray]:
        """Stochastic pulse-coincidence update of every tile (DifferentialTile.coincidence_update).

        x (B, n_rows): row firing probabilities, bias row last; u (B, n_out): pair firing probabilities.
        Returns (energy in joules, duration in seconds, pulses each pair got (n_rows, n_out))."""
        x, _ = batch_of_vectors("x (row firing probabilities)", x, self.n_rows)
        u, _ = batch_of_vectors("u (pair firing probabilities)", u, self.n_out)
        energy, duration = 0.0, 0.0
        hits = np.zeros((self.n_rows, self.n_out), dtype=np.int64)
        for tile, r, k in self.blocks():
            res, h = tile.coincidence_update(x[:, r], u[:, k], n_slots, rng)
            energy += res.energy or 0.0
            duration = max(duration, res.duration)
            hits[r, k] = h[:, 0::2] + h[:, 1::2]
        return energy, duration, hits

    def read_rows(self, rows) -> np.ndarray:
        """The weights of the given rows (bias row: n_in), (len(rows), n_out), read on the tiles: one-hot inputs."""
        rows = integer_array("rows", rows, None, bound=self.n_rows - 1)
        if rows.ndim != 1 or np.any(rows < 0):
            raise ShapeError(f"rows must be a 1-D list of row indices in [0, {self.n_rows})")
        out = np.zeros((rows.size, self.n_out))
        for tile, r, k in self.blocks():
            sel = np.flatnonzero((rows >= r.start) & (rows < r.stop))
            if sel.size:
                onehot = np.zeros((sel.size, tile.n_in))
                onehot[np.arange(sel.size), rows[sel] - r.start] = 1.0
                out[sel, k] = tile.forward(onehot)
        return out

    def center(self) -> None:
        """Both devices of every pair to the middle of the pair window (every weight 0)."""
        for tile, _, _ in self.blocks():
            tile.center()

    def relax(self) -> int:
        """Let every tile's freshly programmed devices relax (Crossbar.relax); returns how many moved."""
        return sum(tile.relax() for tile, _, _ in self.blocks())

    def measured_weights(self) -> np.ndarray:
        """The weights (n_rows, n_out), bias row last, as verify reads measure them."""
        w = np.zeros((self.n_rows, self.n_out))
        for tile, r, k in self.blocks():
            w[r, k] = tile.measured_weights()
        return w

    def program_weights(self, w, b=None, max_pulses: int = 100, progress: bool = False,
                        backend=None, levels: int | None = None, compensate: bool = False) -> list[ProgrammingReport]:
        """Write-verify W (n_in, n_out) and b (n_out,) onto the tiles; one report per tile (levels, compensate:
        see DifferentialTile.program_weights)."""
        w = self._stacked(w, b)
        return [tile.program_weights(w[r, k], max_pulses=max_pulses, progress=progress, backend=backend,
                                     levels=levels, compensate=compensate) for tile, r, k in self.blocks()]

    def state_dict(self) -> dict:
        """Every tile's array state (devices, random streams, ADC calibration)."""
        return {"shape": [self.n_in, self.n_out], "bias": self.bias,
                "tiles": {f"{a}_{c}": self.tiles[a][c].array.state_dict()
                          for a in range(len(self.row_blocks)) for c in range(len(self.col_blocks))}}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state_dict() of a layer built alike."""
        if not isinstance(state, dict) or state.get("shape") != [self.n_in, self.n_out] \
                or state.get("bias") != self.bias or not isinstance(state.get("tiles"), dict):
            raise ShapeError(f"saved layer state does not fit this {self.n_in} x {self.n_out} layer")
        names = {f"{a}_{c}" for a in range(len(self.row_blocks)) for c in range(len(self.col_blocks))}
        if set(state["tiles"]) != names:
            raise ShapeError("saved layer state has a different tile grid")
        old = self.state_dict()
        try:
            for a in range(len(self.row_blocks)):
                for c in range(len(self.col_blocks)):
                    self.tiles[a][c].array.load_state_dict(state["tiles"][f"{a}_{c}"])
        except BaseException:  # leave the layer as it was
            for a in range(len(self.row_blocks)):
                for c in range(len(self.col_blocks)):
                    self.tiles[a][c].array.load_state_dict(old["tiles"][f"{a}_{c}"])
            raise

    def close(self) -> None:
        """Stop the simulators the layer started (its ngspice worker) and drop cached factorisations."""
        for row in self.tiles:
            for tile in row:
                tile.array.close()
        if self._spice is not None:
            self._spice.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
