"""The published closed-form read models against hand-solved lines and the exact nodal solve."""

import numpy as np
import pytest

import spicelim
from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.fast.closed_forms import first_order, series_path
from spicelim.params import CrossbarParams


def test_single_cell_by_hand():
    p = CrossbarParams(1, 1, r_row=3.0, r_col=2.0, r_source=5.0)
    g, v = np.array([[1e-3]]), np.array([0.1])
    # the series path of one cell is the whole circuit: exact
    assert series_path(p, g, v)[0] == pytest.approx(0.1 / (1e3 + 10.0), rel=1e-12)
    # first order in the wire resistance: G V (1 - G R)
    assert first_order(p, g, v)[0] == pytest.approx(1e-4 * (1 - 1e-3 * 10.0), rel=1e-12)


def test_ideal_lines_give_the_ideal_product(rng):
    p = CrossbarParams(5, 4)
    g, v = rng.uniform(1e-6, 1e-4, (5, 4)), rng.uniform(-0.2, 0.2, (3, 5))
    np.testing.assert_allclose(series_path(p, g, v), v @ g, rtol=1e-12)
    np.testing.assert_allclose(first_order(p, g, v), v @ g, rtol=1e-12)
    # 1T1R: the selector's on-resistance in series with every device
    p1 = CrossbarParams(5, 4, "1T1R")
    g1 = 1 / (1 / g + p1.selector.on_resistance)
    np.testing.assert_allclose(series_path(p1, g, v), v @ g1, rtol=1e-12)
    np.testing.assert_allclose(first_order(p1, g, v), v @ g1, rtol=1e-12)


def test_first_order_drops_along_a_uniform_row_and_column():
    """Uniform G on one line: the first-order drop before cell j of a row is r G V (j + 1)(2N - j) / 2; on a
    column the drop below cell i is r G V sum_{k >= i} (k + 1) (every segment carries the cells above it)."""
    n, r, g0, v0 = 7, 2.0, 1e-4, 0.2
    row = CrossbarParams(1, n, r_row=r)
    j = np.arange(n)
    want = g0 * (v0 - r * g0 * v0 * (j + 1) * (2 * n - j) / 2)
    np.testing.assert_allclose(first_order(row, np.full((1, n), g0), [v0]), want, rtol=1e-12)
    col = CrossbarParams(n, 1, r_col=r)
    drop = r * g0 * v0 * np.array([sum(k + 1 for k in range(i, n)) for i in range(n)])
    np.testing.assert_allclose(first_order(col, np.full((n, 1), g0), np.full(n, v0)), [np.sum(g0 * (v0 - drop))],
                               rtol=1e-12)
    # the series path: each cell alone behind r (j + 1) of row wire
    np.testing.assert_allclose(series_path(row, np.full((1, n), g0), [v0]), v0 / (1 / g0 + r * (j + 1)), rtol=1e-12)


@pytest.mark.parametrize("cell", ["0T1R", "1T1R"])
def test_against_the_exact_nodal_solve(cell, rng):
    """First order: error second order in r (halving r quarters it) and far below the ideal product's;
    the series path sees a fraction of the drop only (it is closer than the ideal product, but not by much)."""
    g = rng.uniform(1e-6, 2e-5, (48, 48))
    v = rng.uniform(0, 0.2, (4, 48))
    errs = {}
    for r in (0.5, 1.0):
        xb = spicelim.Crossbar(48, 48, cell, r_row=r, r_col=r, r_source=2.0, backend="fast")
        xb.set_conductance(g)
        exact = xb.read(v)

        def err(out):
            return float(np.max(np.abs(out - exact)) / np.max(np.abs(exact)))

        errs[r] = (err(v @ (1 / (1 / g + (xb.params.selector.on_resistance if cell == "1T1R" else 0)))),
                   err(series_path(xb.params, g, v)), err(first_order(xb.params, g, v)))
    for r in (0.5, 1.0):
        ideal, series, first = errs[r]
        assert first < 0.1 * ideal and series < ideal and series > 0.5 * ideal
    assert 3.0 < errs[1.0][2] / errs[0.5][2] < 4.5  # O(r^2)
    assert 1.6 < errs[1.0][0] / errs[0.5][0] < 2.2  # the ideal product's error is O(r)


@pytest.mark.parametrize("call", [series_path, first_order])
def test_bad_input_is_refused(call):
    p = CrossbarParams(2, 2, r_row=1.0)
    with pytest.raises(ShapeError):
        call(p, np.ones((3, 2)) * 1e-5, [0.1, 0.1])
    with pytest.raises(ShapeError):
        call(p, np.ones((2, 2)) * 1e-5, [0.1, 0.1, 0.1])
    with pytest.raises(InvalidParameterError, match="> 0"):
        call(p, np.zeros((2, 2)), [0.1, 0.1])
    with pytest.raises(InvalidParameterError, match="finite"):
        call(p, np.full((2, 2), np.nan), [0.1, 0.1])
    with pytest.raises(InvalidParameterError, match="overflow"):
        call(CrossbarParams(2, 2), np.full((2, 2), 1e300), [1e300, 1e300])
    with pytest.raises(InvalidParameterError, match="CrossbarParams"):
        call("2x2", np.ones((2, 2)), [0.1, 0.1])
