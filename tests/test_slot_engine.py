"""The slot engine (backend "fast-slots"): one network solve per pulse, checked against the closed form
of the soft-bounds model, the quasi-static transient and ngspice on the same updates."""

import numpy as np
import pytest

from spicelim import Backends, Crossbar
from spicelim.devices import SoftBoundsRRAM
from spicelim.devices.presets import YAO2020_PROGRAMMING, yao2020_taox_hfox
from spicelim.fast.slots import flat_tops
from spicelim.programming import (
    PulseSchedule,
    PulseTiming,
    WritePulses,
    cell_slot,
    row_update,
)

DEV = SoftBoundsRRAM()
YAO = yao2020_taox_hfox()
PULSES = WritePulses.from_conditions(YAO2020_PROGRAMMING)


def test_flat_tops_and_their_edges():
    timing = PulseTiming(width=50e-9, rise=2e-9, fall=3e-9, gap=10e-9)
    sched = PulseSchedule.from_slots([cell_slot((2, 2), "0T1R", 0, 0, 1.5), cell_slot((2, 2), "0T1R", 1, 1, -1.5)],
                                     timing)
    tops = flat_tops(sched)
    assert [(round(d * 1e9, 6), round(e * 1e9, 6)) for _, d, e in tops] == [(50.0, 5.0), (50.0, 5.0)]


def test_reference_pulses_follow_the_closed_form():
    """Rectangular reference pulses on ideal lines: G_n = g_max - (g_max - G_0)(1 - alpha)^n."""
    timing = PulseTiming(width=DEV.t_ref, rise=1e-13, fall=1e-13, gap=5e-9)
    n = 6
    g0 = np.array([[3e-6, 8e-6, 1.2e-5]])
    sched = PulseSchedule.from_slots(row_update((1, 3), "0T1R", 0, [n, n, 0], DEV.v_set_ref, DEV.v_reset_ref), timing)
    with Crossbar(1, 3, device=DEV, backend="fast-slots") as xb:
        xb.set_state(g0)
        out = xb.apply_pulses(sched).state
    want = DEV.g_max - (DEV.g_max - g0[0, :2]) * (1 - DEV.alpha_set) ** n
    np.testing.assert_allclose(out[0, :2], want, rtol=2e-5)
    assert out[0, 2] == g0[0, 2]


def _update(n, backend, backends=None, seed=0):
    rng = np.random.default_rng(seed)
    s0 = rng.uniform(YAO.g_min, YAO.g_max, (n, n))
    counts = rng.integers(-1, 2, (n, n))
    with Crossbar(n, n, "1T1R", r_row=1.0, r_col=1.0, r_source=10.0, device=YAO, backends=backends) as xb:
        xb.set_state(s0)
        return s0, counts, xb.apply_pulses(PULSES.schedule((n, n), "1T1R", counts), backend=backend).state


def _error(test, ref, s0, counts):
    pulsed = counts != 0
    change = np.abs(ref - s0)[pulsed].mean()
    return np.max(np.abs(test - ref)[pulsed]) / change, np.max(np.abs(test - ref)[~pulsed])


def test_a_row_parallel_update_matches_the_quasi_static_transient():
    """8x8 1T1R, 1 ohm wires, Yao's pulses (2 ns edges, 50 ns tops, SET compliance at 1.8 V on the gate)."""
    s0, counts, slots = _update(8, "fast-slots")
    _, _, transient = _update(8, "fast")
    worst, idle = _error(slots, transient, s0, counts)
    assert worst < 0.02 and idle == 0  # within 2 % of the mean change; unpulsed cells stay put


@pytest.mark.spice
def test_a_row_parallel_update_matches_ngspice(spice_backend):
    s0, counts, slots = _update(6, "fast-slots", seed=1)
    _, _, spice = _update(6, "spice", Backends(spice=spice_backend), seed=1)
    worst, idle = _error(slots, spice, s0, counts)
    assert worst < 0.02 and idle < 1e-9 * (YAO.g_max - YAO.g_min)


def test_flat_top_energy_of_a_sub_threshold_pulse_by_hand():
    """0.6 V on a 10 uS cell behind 300 ohm for 50 ns: V^2 / (r_s + 1/G) x width (the edges are not counted)."""
    sched = PulseSchedule.from_slots([cell_slot((1, 1), "0T1R", 0, 0, 0.6)], PulseTiming(width=50e-9))
    with Crossbar(1, 1, r_source=300.0, device=DEV, backend="fast-slots") as xb:
        xb.set_state([[1e-5]])
        res = xb.apply_pulses(sched, measure_energy=True)
    assert res.state[0, 0] == 1e-5
    v = 0.6
    i = v / (300.0 + 1 / (DEV.conductance(np.array(1e-5), v)))  # the device's chord conductance at 0.6 V
    assert res.energy == pytest.approx(v * i * 50e-9, rel=1e-6)


@pytest.mark.parametrize("r_wire, r_source", [(1.0, 0.0), (0.0, 0.0), (2.0, 50.0), (0.0, 50.0)])
def test_rows_solved_apart_match_the_whole_network(r_wire, r_source):
    """Row-by-row 1T1R updates: each word line's row solved as its own ladder (all rows at once) gives the
    states and energy of solving every slot on the whole array (which differs only by GMIN leakage)."""
    from spicelim.fast.slots import run_slots
    from spicelim.variability import Variability

    rng = np.random.default_rng(3)
    var = Variability(d2d={"g_max": 0.1, "alpha_set": 0.1}, seed=1)
    with Crossbar(9, 6, "1T1R", r_row=r_wire, r_col=r_wire, r_source=r_source, device=YAO, variability=var) as xb:
        lo, hi = YAO.state_bounds
        xb.set_state(rng.uniform(lo, lo + 0.6 * (hi - lo), xb.shape))
        snap = xb.snapshot()
    sched = PULSES.schedule(snap.state.shape, "1T1R", rng.integers(-3, 4, snap.state.shape))
    whole, e_whole = run_slots(snap.params, snap.cell_device, snap.state, sched, snap.read_limit, True,
                               isolate_rows=False, relax_lines=False)
    apart, e_apart = run_slots(snap.params, snap.cell_device, snap.state, sched, snap.read_limit, True,
                               isolate_rows=True)
    assert np.max(np.abs(whole - snap.state)) > 0.2 * (hi - lo)  # the update moves cells a lot
    assert np.max(np.abs(apart - whole)) < 1e-4 * (hi - lo)
    assert e_apart == pytest.approx(e_whole, rel=1e-4)


def _coincidence_case(cell, r_wire, r_source, seed=4):
    """A 10 x 8 array in mid-window states and the slots of a stochastic outer-product update (all word lines on)."""
    from spicelim.programming import outer_product
    from spicelim.variability import Variability

    rng = np.random.default_rng(seed)
    var = Variability(d2d={"g_max": 0.1, "alpha_set": 0.1}, seed=seed)
    with Crossbar(10, 8, cell, r_row=r_wire, r_col=r_wire, r_source=r_source, device=YAO, variability=var) as xb:
        lo, hi = YAO.state_bounds
        xb.set_state(rng.uniform(lo, lo + 0.7 * (hi - lo), xb.shape))
        snap = xb.snapshot()
    slots = outer_product(snap.state.shape, cell, rng.uniform(-1, 1, 10), rng.uniform(-1, 1, 8),
                          PULSES.set_amplitude, PULSES.reset_amplitude, 6, rng,
                          v_gate=PULSES.v_gate_set if cell == "1T1R" else None)
    return snap, PulseSchedule.from_slots(slots, PULSES.set_timing)


@pytest.mark.parametrize("cell, r_wire, r_source", [("1T1R", 1.0, 0.0), ("1T1R", 3.0, 40.0), ("0T1R", 1.0, 0.0),
                                                    ("0T1R", 2.0, 25.0)])
def test_line_relaxation_solves_the_whole_network(cell, r_wire, r_source):
    """Rows and columns relaxed in turn give the operating point of the sparse LU solve of the whole array
    (node voltages to 2 uV, driver power to the LU's GMIN leakage), and a whole outer-product update
    the same states and energy."""
    from spicelim.fast.line_relaxation import LineRelaxation
    from spicelim.fast.slots import run_slots
    from spicelim.fast.transient import PulseSolver

    snap, sched = _coincidence_case(cell, r_wire, r_source)
    rows, cols = sched.row_v[2], sched.col_v[2]  # the first slot's flat top
    gate = sched.gate_v[2] if sched.gate_v is not None else np.zeros(10)
    assert rows.max() > 0 and 0 < np.count_nonzero(rows == rows.max()) < 10  # some rows fire, some do not
    whole = PulseSolver(snap.params, snap.cell_device)
    v = whole.solve(rows, cols, gate, snap.state)
    relax = LineRelaxation(snap.params, snap.cell_device)
    r, x, c = relax.solve(rows, cols, gate, snap.state)
    net = whole.net
    assert np.max(np.abs(r - v[net.row_node])) < 2e-6
    assert np.max(np.abs(c - v[net.col_node])) < 2e-6
    assert np.max(np.abs((r - x) - whole.device_voltage(v))) < 2e-6
    # the LU solve also feeds GMIN (1e-12 S) at every node, at most n_nodes GMIN V^2 of power
    gmin_power = whole.size * 1e-12 * max(rows.max(), cols.max()) ** 2
    assert relax.supplied_power(r, x, snap.state, rows, cols) == pytest.approx(
        whole.supplied_power(v, rows, cols, gate, snap.state), abs=gmin_power)
    lo, hi = YAO.state_bounds
    lu, e_lu = run_slots(snap.params, snap.cell_device, snap.state, sched, snap.read_limit, True, relax_lines=False)
    relaxed, e_relaxed = run_slots(snap.params, snap.cell_device, snap.state, sched, snap.read_limit, True)
    assert np.max(np.abs(lu - snap.state)) > 0.05 * (hi - lo)  # the update moves cells
    assert np.max(np.abs(relaxed - lu)) < 1e-4 * (hi - lo)
    assert e_relaxed == pytest.approx(e_lu, rel=1e-4)


def test_line_relaxation_gives_way_to_the_whole_network_where_it_diverges():
    """Wires far more resistive than the cells couple the lines too strongly: the relaxation says so (ConvergenceError)
    and the slot engine falls back to the whole-network solve, with the same result."""
    from spicelim.errors import ConvergenceError
    from spicelim.fast.line_relaxation import LineRelaxation
    from spicelim.fast.slots import run_slots

    snap, sched = _coincidence_case("0T1R", 1e6, 0.0)
    rows, cols = sched.row_v[2], sched.col_v[2]
    with pytest.raises(ConvergenceError):
        LineRelaxation(snap.params, snap.cell_device).solve(rows, cols, np.zeros(10), snap.state)
    lu, _ = run_slots(snap.params, snap.cell_device, snap.state, sched, snap.read_limit, relax_lines=False)
    relaxed, _ = run_slots(snap.params, snap.cell_device, snap.state, sched, snap.read_limit)
    assert np.array_equal(relaxed, lu)
