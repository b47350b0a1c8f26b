"""The fast and ideal backends against hand-solved circuits and circuit laws (no ngspice needed)."""

import numpy as np
import pytest
from reference import solve_crossbar

import spicelim


def series_current(v, g, r_source, r_row, r_col):
    """1x1 array: driver, one row segment, the device and one column segment in series."""
    return v / (r_source + r_row + 1 / g + r_col)


@pytest.mark.parametrize("r_row,r_col,r_source", [(0, 0, 0), (2.5, 2.5, 0), (0.1, 10, 5), (0, 3, 7), (4, 0, 0)])
def test_1x1_series_circuit(r_row, r_col, r_source):
    xb = spicelim.Crossbar(1, 1, r_row=r_row, r_col=r_col, r_source=r_source)
    xb.set_conductance([[2e-4]])
    for v in (0.2, -0.35):
        want = series_current(v, 2e-4, r_source, r_row, r_col)
        assert xb.read([v], backend="fast")[0] == pytest.approx(want, rel=1e-12)
        assert xb.read([v], backend="fast", transpose=True)[0] == pytest.approx(want, rel=1e-12)


def test_2x2_row_ladder_by_hand():
    """Ideal columns (r_col = 0), ideal drivers: each row is a two-node ladder solved in closed form."""
    g = np.array([[1e-3, 4e-4], [2e-4, 8e-4]])
    r = 5.0
    a = 1 / r
    v = np.array([0.3, -0.2])
    cols = np.zeros(2)
    for i in range(2):
        g0, g1 = g[i]
        x0 = a * v[i] / (2 * a + g0 - a * a / (a + g1))
        x1 = a * x0 / (a + g1)
        cols += [g0 * x0, g1 * x1]
    xb = spicelim.Crossbar(2, 2, r_row=r, r_col=0.0)
    xb.set_conductance(g)
    np.testing.assert_allclose(xb.read(v, backend="fast"), cols, rtol=1e-12)


def test_ideal_backend_is_v_at_g(rng):
    g = rng.uniform(1e-6, 1e-4, (5, 3))
    xb = spicelim.Crossbar(5, 3, r_row=2.5, r_col=2.5, r_source=10)
    xb.set_conductance(g)
    v = rng.uniform(-1, 1, (4, 5))
    u = rng.uniform(-1, 1, (4, 3))
    np.testing.assert_allclose(xb.read(v, backend="ideal"), v @ g, rtol=1e-14)
    np.testing.assert_allclose(xb.read(u, backend="ideal", transpose=True), u @ g.T, rtol=1e-14)


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
def test_fast_equals_ideal_when_wires_vanish(rng, cell):
    g = rng.uniform(1e-6, 1e-4, (4, 6))
    xb = spicelim.Crossbar(4, 6, cell)
    xb.set_conductance(g)
    v = rng.uniform(-0.3, 0.3, (3, 4))
    # 1T1R: the selector's level-1 on-resistance 1 / (KP W/L (V_G - VTO)) = 1 / (120e-6 * 2 * 4.2) ohm in series.
    r_on = 0.0 if cell == "0T1R" else 1 / (120e-6 * 2 * 4.2)
    np.testing.assert_allclose(xb.read(v, backend="fast"), v @ (1 / (1 / g + r_on)), rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 7), (8, 5)])
def test_fast_matches_independent_dense_solve(rng, shape):
    g = rng.uniform(1e-6, 1e-3, shape)
    xb = spicelim.Crossbar(*shape, r_row=1.5, r_col=4.0, r_source=20.0)
    xb.set_conductance(g)
    v = rng.uniform(-0.3, 0.3, shape[0])
    u = rng.uniform(-0.3, 0.3, shape[1])
    np.testing.assert_allclose(xb.read(v, backend="fast"), solve_crossbar(g, v, 1.5, 4.0, 20.0), rtol=1e-9)
    np.testing.assert_allclose(xb.read(u, backend="fast", transpose=True),
                               solve_crossbar(g, u, 1.5, 4.0, 20.0, transpose=True), rtol=1e-9)


def transfer(xb, backend, transpose):
    m, n = xb.shape
    k = n if transpose else m
    return xb.read(np.eye(k), backend=backend, transpose=transpose)  # row b: response to unit input b


def test_reciprocity(rng):
    """With ideal drivers, forward and transposed reads see the same network: T_transposed = T_forward^T."""
    xb = spicelim.Crossbar(6, 4, r_row=3.0, r_col=1.0, r_source=0.0)
    xb.set_conductance(rng.uniform(1e-5, 1e-3, (6, 4)))
    fwd = transfer(xb, "fast", False)  # (M, N): column currents per unit row input
    bwd = transfer(xb, "fast", True)  # (N, M): row currents per unit column input
    np.testing.assert_allclose(bwd, fwd.T, rtol=1e-10)


def test_current_conservation(rng):
    """Everything the drivers push in comes out at the sense nodes, and each node map obeys Ohm's law."""
    xb = spicelim.Crossbar(5, 7, r_row=2.0, r_col=2.0, r_source=15.0)
    g = rng.uniform(1e-5, 1e-3, (5, 7))
    xb.set_conductance(g)
    v = rng.uniform(-0.3, 0.3, (3, 5))
    op = xb.solve(v, backend="fast")
    np.testing.assert_allclose(op.col_current.sum(axis=1), -op.row_current.sum(axis=1), rtol=1e-10)
    # Column j current = sum of its cell currents; row terminal current = -(sum of its cell currents).
    np.testing.assert_allclose(op.col_current, op.cell_current.sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(op.row_current, -op.cell_current.sum(axis=2), rtol=1e-10)
    # Driver: row terminal current = (V(D) - v) / r_source, with D one segment before R[i, 0].
    v_d = op.row_v[:, :, 0] - op.row_current * 2.0  # current flows D -> R[i,0]: V_D = V_R0 + I*r_row
    np.testing.assert_allclose(op.row_current, (v_d - v) / 15.0, rtol=1e-8)


def test_passive_sneak_paths_ideal_lines():
    """2x2, ideal lines, other lines floating: the sneak path is the other three cells in series."""
    g = np.array([[1e-4, 2e-4], [4e-4, 5e-4]])
    xb = spicelim.Crossbar(2, 2)
    xb.set_conductance(g)
    r = xb.read_cell(0, 0, v_read=0.2, scheme="float", backend="fast")
    sneak = 0.2 / (1 / g[0, 1] + 1 / g[1, 1] + 1 / g[1, 0])
    assert r.selected_current == pytest.approx(0.2 * g[0, 0], rel=1e-12)
    assert r.sneak_current == pytest.approx(sneak, rel=1e-12)
    # V/2: unselected row 1 and column 1 both at V/2; cell (1, 1) sees 0 V, (0, 1) and (1, 0) see V/2.
    r2 = xb.read_cell(0, 0, v_read=0.2, scheme="V/2", backend="fast")
    assert r2.sneak_current == pytest.approx(0.1 * g[1, 0], rel=1e-12)  # only (1, 0) feeds column 0
    r3 = xb.read_cell(0, 0, v_read=0.3, scheme="V/3", backend="ideal")
    assert r3.sneak_current == pytest.approx(0.1 * g[1, 0], rel=1e-12)  # row 1 at V/3 into column 0 at 0 V


def test_ir_drop_map_ohms_law(rng):
    xb = spicelim.Crossbar(4, 4, r_row=10.0, r_col=10.0)
    xb.set_conductance(rng.uniform(1e-4, 1e-3, (4, 4)))
    op = xb.solve(np.full(4, 0.2), backend="fast")
    # Voltage falls monotonically along each driven row, and no device sees more than the read voltage.
    assert np.all(np.diff(op.row_v[0], axis=1) < 0)
    assert np.all(op.device_voltage < 0.2) and np.all(op.device_voltage > 0)


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
@pytest.mark.parametrize("m,n,r_source", [(1, 1, 0.0), (3, 8, 5.0), (9, 2, 0.0), (6, 6, 12.0)])
def test_block_elimination_equals_sparse_nodal_solve(rng, cell, m, n, r_source):
    """The two exact solvers of the fast backend agree to round-off on every kind of bias."""
    from spicelim import bias as biases
    from spicelim.fast import BlockSystem, NodalSystem

    p = spicelim.CrossbarParams(m, n, cell, r_row=2.0, r_col=0.7, r_source=r_source)
    g = rng.uniform(1e-6, 1e-3, (m, n))
    cases = [biases.forward(rng.uniform(-1, 1, (3, m)), n, r_source),
             biases.transposed(rng.uniform(-1, 1, (3, n)), m, r_source),
             biases.select_cell((m, n), m - 1, 0, 0.3, "float", r_source),
             biases.select_cell((m, n), 0, n - 1, 0.3, "V/3", r_source)]
    for bias in cases:
        a = BlockSystem(p, g, bias).solve(bias, nodes=True)
        b = NodalSystem(p, g, bias).solve(bias, nodes=True)
        scale = np.nanmax(np.abs(b.col_current))
        np.testing.assert_allclose(a.col_current, b.col_current, rtol=0, atol=1e-10 * scale)
        np.testing.assert_allclose(a.row_current, b.row_current, rtol=0, atol=1e-10 * scale)
        np.testing.assert_allclose(a.row_v, b.row_v, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.device_low_v, b.device_low_v, rtol=0, atol=1e-12)
        fwd_only = BlockSystem(p, g, bias).solve(bias, rows=False)
        np.testing.assert_array_equal(fwd_only.col_current, a.col_current)


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
def test_long_batches_through_the_response_matrices_equal_the_sparse_nodal_solve(rng, cell):
    """A batch longer than 2 (M + N) goes through the unit-voltage responses: the same currents to round-off."""
    from spicelim import bias as biases
    from spicelim.fast import BlockSystem, NodalSystem
    from spicelim.fast.blocks import RESPONSE_BATCH

    m, n = 7, 5
    p = spicelim.CrossbarParams(m, n, cell, r_row=2.0, r_col=0.7, r_source=3.0)
    g = rng.uniform(1e-6, 1e-3, (m, n))
    batch = RESPONSE_BATCH * (m + n) + 1
    for bias in (biases.forward(rng.uniform(-1, 1, (batch, m)), n, 3.0),
                 biases.transposed(rng.uniform(-1, 1, (batch, n)), m, 3.0)):
        block = BlockSystem(p, g, bias)
        a = block.solve(bias)
        assert block._response is not None  # the long batch took the response path
        b = NodalSystem(p, g, bias).solve(bias)
        scale = np.nanmax(np.abs(b.col_current))
        np.testing.assert_allclose(a.col_current, b.col_current, rtol=0, atol=1e-10 * scale)
        np.testing.assert_allclose(a.row_current, b.row_current, rtol=0, atol=1e-10 * scale)
        short = BlockSystem(p, g, bias).solve(bias.take(0, 3))  # the sweeps, vector by vector
        np.testing.assert_allclose(a.col_current[:3], short.col_current, rtol=0, atol=1e-12 * scale)


def test_fast_1t1r_warns_when_inputs_approach_the_selector_overdrive():
    import warnings

    import spicelim

    with spicelim.Crossbar(2, 2, cell="1T1R") as xb:
        xb.set_conductance(np.full((2, 2), 1e-5))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            xb.read(np.array([0.2, 0.1]), backend="fast")  # 5 % of the 4.2 V overdrive: silent
        with pytest.warns(UserWarning, match="overdrive"):
            xb.read(np.array([0.8, 0.1]), backend="fast")
