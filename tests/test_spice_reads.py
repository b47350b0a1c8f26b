"""ngspice reads against the fast backend, hand-solved circuits and an independent solver."""

import numpy as np
import pytest
from reference import solve_crossbar

import spicelim

pytestmark = pytest.mark.spice

CASES = [  # (rows, cols, r_row, r_col, r_source)
    (1, 1, 0.1, 0.1, 0.0), (2, 2, 10.0, 10.0, 25.0), (5, 3, 2.5, 2.5, 0.0), (3, 8, 0.1, 10.0, 5.0),
    (16, 16, 2.5, 2.5, 10.0), (24, 10, 10.0, 0.1, 0.0), (7, 13, 1.0, 0.0, 3.0), (9, 4, 0.0, 2.0, 0.0),
    (4, 5, 0.0, 0.0, 7.0),
]


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("m,n,r_row,r_col,r_source", CASES)
def test_spice_equals_fast_passive(spice_backend, rng, m, n, r_row, r_col, r_source):
    xb = spicelim.Crossbar(m, n, "0T1R", r_row=r_row, r_col=r_col, r_source=r_source, backends={"spice": spice_backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-3, (m, n)))
    v = rng.uniform(-0.3, 0.3, (4, m))
    u = rng.uniform(-0.3, 0.3, (4, n))
    assert rel_err(xb.read(v, backend="spice"), xb.read(v, backend="fast")) < 1e-6
    assert rel_err(xb.read(u, backend="spice", transpose=True), xb.read(u, backend="fast", transpose=True)) < 1e-6
    single = xb.read(v[0], backend="spice")
    assert single.shape == (n,)
    assert rel_err(single, xb.read(v[0], backend="fast")) < 1e-6


def test_spice_1x1_and_2x2_by_hand(spice_backend):
    xb = spicelim.Crossbar(1, 1, r_row=3.0, r_col=2.0, r_source=5.0, backends={"spice": spice_backend})
    xb.set_conductance([[1e-3]])
    assert xb.read([0.25], backend="spice")[0] == pytest.approx(0.25 / (5 + 3 + 1000 + 2), rel=1e-9)
    g = np.array([[1e-3, 4e-4], [2e-4, 8e-4]])
    xb = spicelim.Crossbar(2, 2, backends={"spice": spice_backend})  # ideal lines: i = v @ G exactly
    xb.set_conductance(g)
    v = np.array([0.3, -0.2])
    np.testing.assert_allclose(xb.read(v, backend="spice"), v @ g, rtol=1e-9)
    np.testing.assert_allclose(xb.read(v, backend="spice", transpose=True), v @ g.T, rtol=1e-9)


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
def test_spice_against_independent_solver(spice_backend, rng, cell):
    g = rng.uniform(1e-6, 1e-4, (3, 4))
    xb = spicelim.Crossbar(3, 4, cell, r_row=2.0, r_col=3.0, r_source=10.0, backends={"spice": spice_backend})
    xb.set_conductance(g)
    v = np.array([0.2, -0.1, 0.15])
    u = np.array([0.1, 0.2, -0.2, 0.05])
    # Relative to the largest current: ngspice stops Newton at its abstol (1e-12 A) and adds gmin.
    assert rel_err(xb.read(v, backend="spice"), solve_crossbar(g, v, 2.0, 3.0, 10.0, cell)) < 1e-6
    assert rel_err(xb.read(u, backend="spice", transpose=True),
                   solve_crossbar(g, u, 2.0, 3.0, 10.0, cell, transpose=True)) < 1e-6


def test_1t1r_fast_linear_selector_error_is_small(spice_backend, rng):
    """The fast model's linear on-resistance (at V_S = 0) against the level-1 transistor in ngspice."""
    xb = spicelim.Crossbar(16, 16, "1T1R", r_row=2.5, r_col=2.5, backends={"spice": spice_backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-4, (16, 16)))
    v = rng.uniform(-0.2, 0.2, (4, 16))
    assert rel_err(xb.read(v, backend="fast"), xb.read(v, backend="spice")) < 1e-3
    # Transposed: the selector's source sits at the driven column voltage, so V_GS drops by up to
    # 0.2 V of 4.2 V overdrive and the on-resistance rises: a percent-level error.
    assert rel_err(xb.read(v, backend="fast", transpose=True), xb.read(v, backend="spice", transpose=True)) < 2e-2


def test_spice_reciprocity_and_conservation(spice_backend, rng):
    xb = spicelim.Crossbar(5, 3, r_row=3.0, r_col=1.0, backends={"spice": spice_backend})
    xb.set_conductance(rng.uniform(1e-5, 1e-3, (5, 3)))
    fwd = xb.read(np.eye(5), backend="spice")
    bwd = xb.read(np.eye(3), backend="spice", transpose=True)
    np.testing.assert_allclose(bwd, fwd.T, rtol=1e-8)
    op = xb.solve(rng.uniform(-0.3, 0.3, (2, 5)), backend="spice")
    np.testing.assert_allclose(op.col_current.sum(axis=1), -op.row_current.sum(axis=1), rtol=1e-8)
    np.testing.assert_allclose(op.col_current, op.cell_current.sum(axis=1), rtol=1e-8)


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
def test_spice_node_maps_match_fast(spice_backend, rng, cell):
    xb = spicelim.Crossbar(6, 5, cell, r_row=5.0, r_col=5.0, r_source=2.0, backends={"spice": spice_backend})
    xb.set_conductance(rng.uniform(1e-5, 1e-4, (6, 5)))
    v = rng.uniform(0.1, 0.3, (2, 6))
    a, b = xb.solve(v, backend="spice"), xb.solve(v, backend="fast")
    tol = 1e-6 if cell == "0T1R" else 1e-3
    assert rel_err(a.device_voltage, b.device_voltage) < tol
    assert rel_err(a.cell_current, b.cell_current) < tol


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
@pytest.mark.parametrize("scheme", ["float", "V/2", "V/3"])
def test_sneak_read_spice_equals_fast(spice_backend, rng, scheme, cell):
    xb = spicelim.Crossbar(6, 6, cell, r_row=2.5, r_col=2.5, r_source=5.0, backends={"spice": spice_backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-4, (6, 6)))
    a = xb.read_cell(2, 3, v_read=0.3, scheme=scheme, backend="spice")
    b = xb.read_cell(2, 3, v_read=0.3, scheme=scheme, backend="fast")
    tol = 1e-6 if cell == "0T1R" else 2e-2  # 1T1R: the fast model's linear selector (see README)
    assert a.selected_current == pytest.approx(b.selected_current, rel=tol)
    assert a.sneak_current == pytest.approx(b.sneak_current, rel=tol, abs=1e-15)


def test_sneak_2x2_by_hand(spice_backend):
    g = np.array([[1e-4, 2e-4], [4e-4, 5e-4]])
    xb = spicelim.Crossbar(2, 2, backends={"spice": spice_backend})
    xb.set_conductance(g)
    r = xb.read_cell(0, 0, v_read=0.2, scheme="float", backend="spice")
    assert r.sneak_current == pytest.approx(0.2 / (1 / g[0, 1] + 1 / g[1, 1] + 1 / g[1, 0]), rel=1e-9)


def test_batches_split_across_netlists(tmp_path, rng):
    backend = spicelim.spice.SpiceBackend(run_dir=tmp_path, max_batch=3)
    xb = spicelim.Crossbar(4, 5, r_row=1.0, r_col=1.0, backends={"spice": backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-4, (4, 5)))
    v = rng.uniform(-0.2, 0.2, (7, 4))
    assert rel_err(xb.read(v, backend="spice"), xb.read(v, backend="fast")) < 1e-6
    backend.close()


def test_a_batch_split_over_two_workers_gives_the_same_operating_points(tmp_path, rng):
    """workers=2: 40 reads of a 1T1R memristor array with 1-ohm wires, split into two netlists solved at once
    on two ngspice processes, give the currents of one process, in order."""
    one = spicelim.spice.SpiceBackend(run_dir=tmp_path)
    two = spicelim.spice.SpiceBackend(run_dir=tmp_path, workers=2)
    assert two._chunks(40) == [(0, 20), (20, 40)] and one._chunks(40) == [(0, 40)]
    assert two._chunks(800) == [(0, 200), (200, 400), (400, 600), (600, 800)]  # 4 netlists of <= 256 points
    assert two._chunks(20) == [(0, 20)]  # too few points to share
    device = spicelim.devices.yao2020_taox_hfox()
    state = device.state_for_conductance(rng.uniform(3e-6, 1.8e-5, (6, 4)), 0.2)
    v = rng.uniform(0.0, 0.2, (40, 6))
    currents = []
    for backend in (one, two):
        xb = spicelim.Crossbar(6, 4, "1T1R", r_row=1.0, r_col=1.0, device=device, backends={"spice": backend})
        xb.set_state(state)
        currents.append(xb.read(v, backend="spice"))
    # the second netlist's first point starts Newton from a fresh guess, not from its neighbour's solution:
    # the same answer within ngspice's convergence tolerance (reltol 1e-3; seen here: 7e-6)
    np.testing.assert_allclose(currents[1], currents[0], rtol=1e-3, atol=0)
    assert all(w.pid is not None for w in two.workers)  # both processes took part
    for backend in (one, two):
        backend.close()
    with pytest.raises(spicelim.errors.InvalidParameterError, match="workers"):
        spicelim.spice.SpiceBackend(workers=0)
