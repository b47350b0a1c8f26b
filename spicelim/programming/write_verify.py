"""Programming conductance targets into an array: closed-loop write-verify and open-loop pulses.

Write-verify (as Yao et al., Nature 577, 641 (2020) programmed their 1T1R arrays): read every
cell, give each cell outside the tolerance band one SET or RESET pulse, read again, and repeat
until every cell is inside its band or out of its pulse budget. Cells are read one row at a time
(that row at v_read, every other line at 0 V), so the verify read measures what the periphery
would measure, IR drop included. All rows are pulsed in one transient per iteration, row by row,
with the cells of a row pulsed in parallel.

By default every pulse of a polarity is identical, as in Yao et al. A deterministic cell then
converges only if the tolerance is wider than about half its conductance step; otherwise it
settles into a cycle around its target (cycle-to-cycle noise breaks such cycles, as it does in
real devices). `backoff` < 1 shrinks a cell's pulse amplitude by that factor each time its error
changes sign (down to `min_scale` of the full amplitude, by moving its column's voltage toward
its row's), and grows it back by the same factor after a pulse that did not move the cell, so a
reduced pulse that falls below the switching threshold recovers.

A cell that a later read finds outside its band again (its neighbours' programming shifts the
IR drop; read noise) is pulsed again. The loop runs at most `max_pulses` iterations, and no
cell gets more than `max_pulses` pulses. A cell that receives `stuck_after` pulses in a row
without its measured conductance moving by a tenth of the tolerance is reported as unresponsive (stuck) and left alone, so the loop always
ends. (A stuck cell's reading still shifts a little when its neighbours change the IR drop,
which restarts the count.) A healthy cell pushed to its bound whose reading still misses the
target, because IR drop keeps the read below it, looks the same to the loop and is reported
unresponsive too.

Open-loop programming applies, without reading, the number of pulses the nominal cell (no
wires, no spread, no noise) needs to go from its present state to the target.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from ..backend import TRANSIENT, ArraySnapshot, require
from ..errors import InvalidParameterError
from ..fast.nodal import cell_conductance
from ..params import CrossbarParams
from ..validation import boolean, choice, finite_array, positive_int, real_number, show
from .pulses import MAX_PULSE_VOLTS, PulseSchedule, PulseTiming
from .schemes import (
    HALF_SELECT_SCHEMES,
    MAX_PULSES_PER_CELL,
    array_update,
    pulse_amplitude,
    row_slot,
)

G_MAX_DEVICE = 1e3  # siemens: the largest device conductance an array accepts (crossbar.G_MAX)


@dataclass(frozen=True)
class WritePulses:
    """The programming pulses of an array, as applied to its lines.

    set_amplitude (> 0) and reset_amplitude (< 0): volts across the selected line pair.
    set_timing, reset_timing: pulse timing of SET and RESET slots.
    v_gate_set, v_gate_reset: word-line voltages during SET and RESET (1T1R only), volts.
    scheme: half-select scheme of passive arrays, "V/2" or "V/3".
    """

    set_amplitude: float = 1.5
    reset_amplitude: float = -1.5
    set_timing: PulseTiming = field(default_factory=PulseTiming)
    reset_timing: PulseTiming = field(default_factory=PulseTiming)
    v_gate_set: float | None = None
    v_gate_reset: float | None = None
    scheme: str = "V/2"

    def __post_init__(self):
        object.__setattr__(self, "set_amplitude", pulse_amplitude("set_amplitude", self.set_amplitude, +1))
        object.__setattr__(self, "reset_amplitude", pulse_amplitude("reset_amplitude", self.reset_amplitude, -1))
        if not isinstance(self.set_timing, PulseTiming) or not isinstance(self.reset_timing, PulseTiming):
            raise InvalidParameterError("set_timing and reset_timing must be PulseTiming")
        for name in ("v_gate_set", "v_gate_reset"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, real_number(f"{name} (V)", value, minimum=-MAX_PULSE_VOLTS,
                                                           maximum=MAX_PULSE_VOLTS))
        choice("scheme", self.scheme, HALF_SELECT_SCHEMES)

    @classmethod
    def from_conditions(cls, cond, rise: float = 2e-9, fall: float = 2e-9, gap: float = 10e-9) -> WritePulses:
        """From a devices.presets.ProgrammingConditions (line voltages, widths and gate voltages of a 1T1R cell)."""
        return cls(set_amplitude=cond.v_set_bl, reset_amplitude=-cond.v_reset_sl,
                   set_timing=PulseTiming(width=cond.t_set, rise=rise, fall=fall, gap=gap),
                   reset_timing=PulseTiming(width=cond.t_reset, rise=rise, fall=fall, gap=gap),
                   v_gate_set=cond.v_set_gate, v_gate_reset=cond.v_reset_gate)

    def schedule(self, shape, cell: str, counts, scale: np.ndarray | None = None) -> PulseSchedule:
        """Row-by-row schedule giving cell (i, j) counts[i, j] SET (> 0) or -counts[i, j] RESET (< 0) pulses.

        scale: optional (M, N) amplitude factors in (0, 1].
        """
        return PulseSchedule.from_slots(
            array_update(shape, cell, counts, self.set_amplitude, self.reset_amplitude, self.scheme, self.v_gate_set,
                         self.v_gate_reset, set_timing=self.set_timing, reset_timing=self.reset_timing, scale=scale),
            self.set_timing)


@dataclass(frozen=True, eq=False)
class ProgrammingReport:
    """Outcome of programming an array toward conductance targets (all arrays (M, N)).

    target: siemens. conductance: final conductance as a verify read measures it (cell conductance,
    I / v_read, with the selector and the IR drop), siemens. error: conductance - target, siemens.
    pulses: programming pulses each cell received. converged: |error| <= tolerance.
    unresponsive: cells given up on because pulses did not move them (write-verify only).
    stuck: the array's stuck-cell map (+1 stuck on, -1 stuck off, 0 healthy), for reference.
    iterations: verify iterations (write-verify) or 0 (open loop).
    cells_pulsed: number of cells pulsed in each iteration (write-verify), or () (open loop).
    """

    target: np.ndarray
    conductance: np.ndarray
    error: np.ndarray
    pulses: np.ndarray
    converged: np.ndarray
    unresponsive: np.ndarray
    stuck: np.ndarray
    iterations: int
    tolerance: float
    cells_pulsed: tuple[int, ...] = ()

    @property
    def healthy_success_rate(self) -> float:
        """Fraction of healthy (not stuck) cells that ended within tolerance."""
        healthy = self.stuck == 0
        return float(self.converged[healthy].mean()) if healthy.any() else float("nan")


def _check_targets(xb, target, tolerance: float) -> tuple[np.ndarray, float]:
    """Targets are cell conductances as a verify read measures them (I / v_read: device plus selector)."""
    if xb.device is None:
        raise InvalidParameterError("programming needs memristor cells: create the array with device=...")
    g = finite_array("target conductance (S)", target, xb.shape)
    lo, hi = measurable_window(xb)
    if np.any(g < lo) or np.any(g > hi):
        raise InvalidParameterError(f"targets must lie in the conductance window a read can measure, [{lo:g}, {hi:g}] S"
                                    " (the device window, in series with the selector for 1T1R)")
    tol = real_number("tolerance (S)", tolerance, minimum=0.0, strict=True)
    return g, tol


def measurable_window(xb) -> tuple[float, float]:
    """(lowest, highest) conductance a verify read of a cell can be programmed to: the nominal device
    window, in series with the selector for 1T1R (siemens)."""
    device_window = np.sort(xb.device.conductance(np.array(xb.device.state_bounds), xb.read_voltage))
    lo, hi = cell_conductance(xb.params, device_window)
    return float(lo), float(hi)


def _check_read_voltage(v_read: float) -> float:
    v = real_number("v_read (V)", v_read)
    if v == 0:
        raise InvalidParameterError("v_read must be non-zero")
    return v


def measure_conductance(xb, v_read: float, backend=None) -> np.ndarray:
    """Row-by-row verify read: row i at v_read with every other line at 0 V gives G[i, :] = I / v_read.

    This is the conductance of the whole cell (the device, plus the selector of a 1T1R cell) with
    the IR drop of the read, as the periphery measures it: through the TIAs (and device read noise),
    but not through the inference ADC, whose range is set for whole-column sums; a verify read of
    one cell per column is digitised by the programming loop's own converter at full precision.
    """
    v_read = _check_read_voltage(v_read)
    r = xb.sense(np.eye(xb.shape[0]) * v_read, backend=backend)
    return xb.readout.currents(r.sensed_current, r.v_out, None, transpose=False) / v_read


def write_verify(xb, target, pulses: WritePulses, tolerance: float, *, max_pulses: int = 100,
                 v_read: float = 0.2, backend=None, stuck_after: int = 8, backoff: float = 1.0,
                 min_scale: float = 0.75, min_change: float | None = None, progress: bool = True) -> ProgrammingReport:
    """Closed-loop programming of `xb` (a Crossbar with a memristor device) toward `target` siemens.

    tolerance: acceptance band, siemens. max_pulses: pulse budget of each cell.
    stuck_after: pulses without response after which a cell is reported unresponsive.
    min_change: the change of a cell's reading, siemens, that counts as a response (default half the
        tolerance; raise it above the read noise when reads are noisy).
    backoff, min_scale: amplitude factor per overshoot and its floor (backoff = 1: identical pulses).
    """
    g_target, tol = _check_targets(xb, target, tolerance)
    if not isinstance(pulses, WritePulses):
        raise InvalidParameterError("pulses must be a WritePulses")
    budget = positive_int("max_pulses", max_pulses, maximum=100000)
    stuck_after = positive_int("stuck_after", stuck_after)
    progress = boolean("progress", progress)
    v_read = _check_read_voltage(v_read)
    moved_by = tol / 2 if min_change is None else real_number("min_change (S)", min_change, minimum=0.0, strict=True)
    if not 0 < real_number("backoff", backoff) <= 1 or not 0 < real_number("min_scale", min_scale) <= 1:
        raise InvalidParameterError("backoff and min_scale must lie in (0, 1]")
    if backoff < 1 and xb.params.cell == "0T1R" and pulses.scheme == "V/3" and min_scale < 1 / 3:
        raise InvalidParameterError("under the V/3 scheme min_scale must be >= 1/3 (smaller pulses would put more"
                                    " than V/3 on unselected cells)")
    shape = xb.shape
    count = np.zeros(shape, dtype=np.int64)
    scale = np.ones(shape)
    last_sign = np.zeros(shape, dtype=np.int64)
    idle_pulses = np.zeros(shape, dtype=np.int64)
    reference = measure_conductance(xb, v_read, backend)  # conductance when the idle count last reset
    unresponsive = np.zeros(shape, dtype=bool)
    measured = reference
    iterations = 0
    pulsed: list[int] = []
    bar = tqdm(total=budget, desc="write-verify", unit="iteration", disable=not progress, leave=False)
    try:
        while True:
            error = measured - g_target
            sign = np.where(error < -tol, 1, np.where(error > tol, -1, 0))
            moved = np.abs(measured - reference) > moved_by
            idle_pulses[moved] = 0
            reference = np.where(moved, measured, reference)
            unresponsive |= (idle_pulses >= stuck_after) & (sign != 0)
            want = (sign != 0) & ~unresponsive & (count < budget)
            if not want.any() or iterations == budget:
                break
            if backoff < 1:
                overshot = want & (last_sign != 0) & (sign != last_sign)
                scale[overshot] = np.maximum(scale[overshot] * backoff, min_scale)
            counts = np.where(want, sign, 0)
            xb.apply_pulses(pulses.schedule(shape, xb.params.cell, counts, scale if backoff < 1 else None),
                            backend=backend)
            count += want
            idle_pulses += want
            pulsed.append(int(want.sum()))
            last_sign = np.where(want, sign, last_sign)
            before = measured
            measured = measure_conductance(xb, v_read, backend)
            if backoff < 1:
                idle = want & (np.abs(measured - before) <= moved_by)
                scale[idle] = np.minimum(scale[idle] / backoff, 1.0)
            iterations += 1
            bar.update(1)
            bar.set_postfix(left=int(want.sum()))
    finally:
        bar.close()
    error = measured - g_target
    return ProgrammingReport(target=g_target, conductance=measured, error=error, pulses=count,
                             converged=np.abs(error) <= tol, unresponsive=unresponsive, stuck=xb.stuck.copy(),
                             iterations=iterations, tolerance=tol, cells_pulsed=tuple(pulsed))


def nominal_pulse_response(xb, pulses: WritePulses, n_pulses: int, polarity: int, backend=None) -> np.ndarray:
    """States (P + 1, M, N) of the array's cells after 0..P identical pulses, for the nominal cell.

    The nominal cell is the array's device and selector without wires, spread or noise: every cell
    is simulated as an isolated cell of a 1 x (M N) array with ideal lines, starting from its
    present state, one transient per pulse on `backend` (default: the array's).
    """
    if not isinstance(pulses, WritePulses):
        raise InvalidParameterError("pulses must be a WritePulses")
    n_pulses = positive_int("n_pulses", n_pulses, maximum=MAX_PULSES_PER_CELL)
    if isinstance(polarity, (bool, np.bool_)) or not isinstance(polarity, numbers.Integral) or polarity not in (1, -1):
        raise InvalidParameterError(f"polarity must be +1 (SET) or -1 (RESET), got {show(polarity)}")
    impl = xb.backend(backend)
    require(impl, TRANSIENT, "the nominal pulse response")
    m, n = xb.shape
    k = m * n
    state = np.array(xb.state, dtype=float).reshape(1, k)
    trace = [state.reshape(m, n)]
    amp, gate, timing = ((pulses.set_amplitude, pulses.v_gate_set, pulses.set_timing) if polarity > 0 else
                         (pulses.reset_amplitude, pulses.v_gate_reset, pulses.reset_timing))
    params = CrossbarParams(rows=1, cols=k, cell=xb.params.cell, selector=xb.params.selector)
    slot = row_slot((1, k), xb.params.cell, 0, np.ones(k, dtype=bool), amp, pulses.scheme, gate)
    schedule = PulseSchedule.from_slots([slot], timing)
    dev = xb.device
    for _ in range(n_pulses):
        cell = ArraySnapshot(params=params, conductance=dev.conductance(state, xb.read_voltage), device=dev,
                             state=state, read_limit=float(dev.read_limit))
        state = np.asarray(impl.apply_pulses(cell, schedule).state, dtype=float)
        trace.append(state.reshape(m, n))
    return np.stack(trace)


def program_open_loop(xb, target, pulses: WritePulses, tolerance: float, *, max_pulses: int = 100,
                      backend=None, v_read: float = 0.2, model_backend="fast") -> ProgrammingReport:
    """Open-loop programming: apply, without reading, the pulse count the nominal cell needs to reach `target`.

    target: cell conductances as write_verify's verify read measures them, siemens; for 1T1R cells
    the selector's on-resistance is taken off to get the device target. Each cell gets the number
    of identical SET or RESET pulses (at most max_pulses) that brings the nominal device closest to
    it (see nominal_pulse_response); the real array then receives them in one transient, with its
    wires, spread and noise. The report's conductance is one final verify read (the same quantity
    write_verify reports), taken after programming and not used to correct anything; the read's
    IR drop is not corrected for, so wires bias open-loop results low (closing the loop removes it).
    backend: the backend of the array's transient and its final read (default: the array's).
    model_backend: the backend that simulates the nominal cells (isolated cells, no wires).
    """
    g_target, tol = _check_targets(xb, target, tolerance)
    if not isinstance(pulses, WritePulses):
        raise InvalidParameterError("pulses must be a WritePulses")
    require(xb.backend(model_backend), TRANSIENT, "the nominal pulse response (model_backend)")
    budget = positive_int("max_pulses", max_pulses, maximum=10000)
    v_read = _check_read_voltage(v_read)
    dev = xb.device
    counts = np.zeros(xb.shape, dtype=np.int64)
    g_now = xb.conductance
    r_on = xb.params.selector.on_resistance if xb.params.has_selector else 0.0
    g_device_target = 1.0 / np.maximum(1.0 / g_target - r_on, 1.0 / G_MAX_DEVICE)
    for polarity in (1, -1):
        trace = nominal_pulse_response(xb, pulses, budget, polarity, model_backend)
        g_trace = dev.conductance(trace, xb.read_voltage)
        best = np.argmin(np.abs(g_trace - g_device_target[None]), axis=0)
        wants = (g_device_target > g_now) if polarity > 0 else (g_device_target < g_now)
        counts = np.where(wants, polarity * best, counts)
    if np.any(counts):
        xb.apply_pulses(pulses.schedule(xb.shape, xb.params.cell, counts), backend=backend)
    g_final = measure_conductance(xb, v_read, backend)
    error = g_final - g_target
    return ProgrammingReport(target=g_target, conductance=g_final, error=error, pulses=np.abs(counts),
                             converged=np.abs(error) <= tol, unresponsive=np.zeros(xb.shape, dtype=bool),
                             stuck=xb.stuck.copy(), iterations=0, tolerance=tol)
