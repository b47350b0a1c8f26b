"""The slot engine: programming updates fast enough for training, one network solve per pulse.

A pulse schedule is a train of slots; in each, every line ramps to its level, holds it, ramps
back. The engine takes every flat top (an interval in which no source changes and some source
is on): one nonlinear DC solve of the array at the present device states gives each device's
voltage there, IR drop, half-select bias and selector compliance included. Each device then
moves by its own model's response to a rectangular pulse of that voltage and the flat top's
length: the state equation integrated with the voltage held, in RK4 sub-steps that move no
state by more than 2 % of its range.

What it leaves out, against the quasi-static transient (fast.transient) and ngspice: the edges
(a device moves a little while its voltage ramps through the threshold) and the change of the
network while the devices move during one flat top. Both are measured on the same updates
(tests/test_slot_engine.py, scripts/bench_update_engines.py). The transients stay the
reference engines.
"""

from __future__ import annotations

import numpy as np

from ..backend import ArraySnapshot
from ..registry import register_backend
from ..results import PulseResult
from .backend import FastBackend
from .transient import PulseSolver, rk4_state

MAX_STATE_STEP = 0.02  # largest state change in one RK4 sub-step, as a fraction of the state range
MAX_SUBSTEPS = 1000  # sub-steps of one flat top at the most
RESOLVE_STATE_STEP = 0.05  # the network is solved again after any state moves by this fraction of its range
MAX_RESOLVES = 40  # network solves in one flat top at the most


def flat_tops(schedule) -> list[tuple[int, float, float]]:
    """(breakpoint k, duration, edges) of every interval [t_k, t_k+1] in which no source changes and one is on.

    edges: the length of the ramps from and back to 0 V on either side of it (rise + fall), seconds.
    """
    t = schedule.t
    waves = [schedule.row_v, schedule.col_v] + ([schedule.gate_v] if schedule.gate_v is not None else [])
    steady = np.all([np.all(w[1:] == w[:-1], axis=1) for w in waves], axis=0)
    on = np.any(schedule.row_v != 0, axis=1) | np.any(schedule.col_v != 0, axis=1)
    out = []
    for k in np.flatnonzero(steady & on[:-1]):
        rise = t[k] - t[k - 1] if k >= 1 and not on[k - 1] else 0.0
        fall = t[k + 2] - t[k + 1] if k + 2 < t.size and not on[k + 2] else 0.0
        out.append((int(k), float(t[k + 1] - t[k]), float(rise + fall)))
    return out


#: Gauss-Legendre nodes and weights on [0, 1]: the fractions of the flat-top voltage a linear edge passes through.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(4)
EDGE_FRACTIONS, EDGE_WEIGHTS = 0.5 * (_NODES + 1), 0.5 * _WEIGHTS


def pulse_response(device, v_dev: np.ndarray, s: np.ndarray, duration: float, lo, hi, span) -> np.ndarray:
    """States after `duration` seconds at the held device voltages v_dev (RK4 sub-steps)."""
    rate = np.abs(device.state_rate(v_dev, s))
    fastest = float(np.max(rate / span)) if rate.size else 0.0
    if fastest == 0:
        return s
    n = int(min(MAX_SUBSTEPS, max(1, np.ceil(fastest * duration / MAX_STATE_STEP))))
    h = duration / n
    for _ in range(n):
        s = rk4_state(device, v_dev, s, h, lo, hi)
    return s


def run_slots(params, device, state: np.ndarray, schedule, read_limit: float, energy: bool = False):
    """Final states (M, N) after `schedule` by the slot engine, and the energy of the flat tops (or None)."""
    solver = PulseSolver(params, device)
    lo, hi = device.state_bounds
    span = np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)
    s = np.array(state, dtype=float)
    gate_zero = np.zeros(params.rows)
    delivered = 0.0
    for k, duration, edges in flat_tops(schedule):
        rows, cols = schedule.row_v[k], schedule.col_v[k]
        gate = schedule.gate_v[k] if schedule.gate_v is not None else gate_zero
        below = max(rows.max(), cols.max(), 0.0) - min(rows.min(), cols.min(), 0.0) < read_limit
        if below and not energy:
            continue  # no device sees more than the span of the sources: nothing moves
        v = solver.solve(rows, cols, gate, s)
        if energy:
            delivered += solver.supplied_power(v, rows, cols, gate, s) * duration
        if below:
            continue
        v_dev = solver.device_voltage(v)
        for frac, weight in zip(EDGE_FRACTIONS, EDGE_WEIGHTS):  # the rising edge: the same voltages scaled
            s = pulse_response(device, frac * v_dev, s, weight * edges / 2, lo, hi, span)
        left = duration
        for _ in range(MAX_RESOLVES):  # the flat top, solving the network again as the devices move
            fastest = float(np.max(np.abs(device.state_rate(v_dev, s)) / span))
            h = left if fastest * left <= RESOLVE_STATE_STEP else RESOLVE_STATE_STEP / fastest
            s = pulse_response(device, v_dev, s, h, lo, hi, span)
            left -= h
            if left <= 1e-9 * duration:
                break
            v_dev = solver.device_voltage(solver.solve(rows, cols, gate, s))
        else:
            s = pulse_response(device, v_dev, s, left, lo, hi, span)
        for frac, weight in zip(EDGE_FRACTIONS, EDGE_WEIGHTS):  # the falling edge
            s = pulse_response(device, frac * v_dev, s, weight * edges / 2, lo, hi, span)
    return s, (delivered if energy else None)


class SlotBackend(FastBackend):
    """Reads like the fast backend; programming by the slot engine (see the module docstring).

    The energy it reports counts the flat tops only (the edges are not simulated).
    """

    name = "fast-slots"

    def apply_pulses(self, array: ArraySnapshot, schedule, *, max_step: float | None = None,
                     energy: bool = False) -> PulseResult:
        """One solve per flat top; max_step is not used (the engine has no time step)."""
        final, delivered = run_slots(array.params, array.cell_device, array.state, schedule, array.read_limit,
                                     energy=energy)
        return PulseResult(state=final, energy=delivered, duration=schedule.duration, backend=self.name)


register_backend("fast-slots", SlotBackend)
