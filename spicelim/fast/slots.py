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
from ..errors import ConvergenceError
from ..registry import register_backend
from ..results import PulseResult
from .backend import FastBackend
from .line_relaxation import LineRelaxation, lines_relax
from .row_ladder import RowLadders, rows_isolated
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


def pulse_response(device, v_dev: np.ndarray, s: np.ndarray, duration, lo, hi, span) -> np.ndarray:
    """States after `duration` seconds (a number, or one per row as an (M, 1) array) at the held voltages v_dev (RK4)."""
    rate = np.abs(device.state_rate(v_dev, s))
    load = float(np.max(rate / span * duration)) if rate.size else 0.0  # largest state move, in ranges
    if load == 0:
        return s
    n = int(min(MAX_SUBSTEPS, max(1, np.ceil(load / MAX_STATE_STEP))))
    h = duration / n
    for _ in range(n):
        s = rk4_state(device, v_dev, s, h, lo, hi)
    return s


def _row_rounds(ladders, schedule, tops, s, read_limit, energy, lo, hi, span):
    """Run flat tops that each turn on one word line (see fast.row_ladder): the k-th top of every row together.

    Tops on different rows commute (the rows are independent circuits); a row's own tops keep their order.
    """
    m, n = s.shape
    by_row: dict[int, list] = {}
    for top in tops:
        gate = schedule.gate_v[top[0]]
        by_row.setdefault(int(np.argmax(gate)), []).append(top)
    delivered = 0.0
    for r in range(max(len(v) for v in by_row.values())):
        v_row, v_col, gate = np.zeros(m), np.zeros((m, n)), np.zeros(m)
        dur, edges, moves = np.zeros(m), np.zeros(m), np.zeros(m, dtype=bool)
        for i, row_tops in by_row.items():
            if r >= len(row_tops):
                continue
            k, dur[i], edges[i] = row_tops[r]
            v_row[i], v_col[i], gate[i] = schedule.row_v[k][i], schedule.col_v[k], schedule.gate_v[k][i]
            span_v = max(v_row[i], v_col[i].max(), 0.0) - min(v_row[i], v_col[i].min(), 0.0)
            moves[i] = span_v >= read_limit
        if not (moves.any() or energy):
            continue
        rv, xv, cv = ladders.solve(v_row, v_col, gate, s)
        if energy:
            power = np.sum(ladders.branch_current(rv, xv, s) * (v_row[:, None] - v_col), axis=1)
            delivered += float(np.sum(power * dur))
        if not moves.any():
            continue
        dur, edges = np.where(moves, dur, 0.0)[:, None], np.where(moves, edges, 0.0)[:, None]
        v_dev = np.where(moves[:, None], rv - xv, 0.0)
        for frac, weight in zip(EDGE_FRACTIONS, EDGE_WEIGHTS):  # the rising edge: the same voltages scaled
            s = pulse_response(ladders.device, frac * v_dev, s, weight * edges / 2, lo, hi, span)
        left = dur.copy()
        for _ in range(MAX_RESOLVES):  # the flat tops, solving again as the devices move
            fastest = np.max(np.abs(ladders.device.state_rate(v_dev, s)) / span, axis=1, keepdims=True)
            h = np.where(fastest * left <= RESOLVE_STATE_STEP, left,
                         RESOLVE_STATE_STEP / np.where(fastest > 0, fastest, 1.0))
            s = pulse_response(ladders.device, v_dev, s, h, lo, hi, span)
            left = left - h
            if np.all(left <= 1e-9 * dur):
                break
            rv, xv, _ = ladders.solve(v_row, v_col, gate, s)
            v_dev = np.where(moves[:, None], rv - xv, 0.0)
        else:
            s = pulse_response(ladders.device, v_dev, s, left, lo, hi, span)
        for frac, weight in zip(EDGE_FRACTIONS, EDGE_WEIGHTS):  # the falling edge
            s = pulse_response(ladders.device, frac * v_dev, s, weight * edges / 2, lo, hi, span)
    return s, delivered


def run_slots(params, device, state: np.ndarray, schedule, read_limit: float, energy: bool = False,
              isolate_rows: bool = True, relax_lines: bool = True):
    """Final states (M, N) after `schedule` by the slot engine, and the energy of the flat tops (or None).

    isolate_rows: solve flat tops that turn on one word line of a 1T1R array as independent rows
    (fast.row_ladder), several rows at once. relax_lines: solve the other flat tops by line
    relaxation (fast.line_relaxation), falling back to the whole-network LU where it does not
    converge. With both False every flat top is one sparse LU solve of the whole network.
    """
    solver = PulseSolver(params, device)
    ladders = RowLadders(params, device) if isolate_rows and params.has_selector else None
    relax = LineRelaxation(params, device) if relax_lines and lines_relax(params) else None

    def network_solve(rows, cols, gate, s, power: bool = False):
        """(device voltages (M, N), driver power in watts if asked) of one bias."""
        if relax is not None:
            try:
                r, x, c = relax.solve(rows, cols, gate, s)
                return r - x, (relax.supplied_power(r, x, s, rows, cols) if power else None)
            except ConvergenceError:
                pass
        v = solver.solve(rows, cols, gate, s)
        return solver.device_voltage(v), (solver.supplied_power(v, rows, cols, gate, s) if power else None)
    lo, hi = device.state_bounds
    span = np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)
    s = np.array(state, dtype=float)
    gate_zero = np.zeros(params.rows)
    delivered = 0.0
    pending: list = []  # consecutive one-word-line flat tops, run together

    def flush(s):
        nonlocal delivered
        if pending:
            s, e = _row_rounds(ladders, schedule, pending, s, read_limit, energy, lo, hi, span)
            delivered += e
            pending.clear()
        return s

    for top in flat_tops(schedule):
        k, duration, edges = top
        rows, cols = schedule.row_v[k], schedule.col_v[k]
        gate = schedule.gate_v[k] if schedule.gate_v is not None else gate_zero
        if ladders is not None and rows_isolated(params, rows, cols, gate):
            pending.append(top)
            continue
        s = flush(s)
        below = max(rows.max(), cols.max(), 0.0) - min(rows.min(), cols.min(), 0.0) < read_limit
        if below and not energy:
            continue  # no device sees more than the span of the sources: nothing moves
        v_dev, power = network_solve(rows, cols, gate, s, energy)
        if energy:
            delivered += power * duration
        if below:
            continue
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
            v_dev = network_solve(rows, cols, gate, s)[0]
        else:
            s = pulse_response(device, v_dev, s, left, lo, hi, span)
        for frac, weight in zip(EDGE_FRACTIONS, EDGE_WEIGHTS):  # the falling edge
            s = pulse_response(device, frac * v_dev, s, weight * edges / 2, lo, hi, span)
    s = flush(s)
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
