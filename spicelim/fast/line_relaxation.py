"""Programming solves of whole arrays by line relaxation: rows, then columns, each line on its own.

A fully parallel programming slot (a stochastic outer-product update turns every word line on)
couples all cells, and one sparse LU of the whole nodal Jacobian costs tens of milliseconds
on a 64 x 64 1T1R array. But in a crossbar the wires conduct far better than the cells (1 ohm
segments against cells of tens of kilohms), so the lines are nearly independent:

  - with every column node held, each row is a ladder (driver, row segments, and at each cell
    the device and selector in series down to the held column node): one tridiagonal system;
  - with every row node held, each column is the same kind of ladder up to the held row nodes.

Alternating the two (Newton's method whose linear systems are solved approximately by one block
Gauss-Seidel sweep each: the rows, then the columns with the rows' new voltages) converges to
the network's operating point: at the fixed point every node's Kirchhoff current law holds, so
it is the same solution as the whole-network solve (up to SPICE's GMIN of 1e-12 S per node).
Each cell's inner node (between the device and the selector) is solved locally for the present
line voltages, by Newton steps safeguarded by bisection (its current through the device equals
the selector's, and it lies between the row and column voltages).

The iteration contracts by roughly the ratio of the cells' total conductance along a line to the
wire conductance; when it stops contracting (long lines, large wire resistance, many cells on)
`solve` raises ConvergenceError and the caller falls back to the whole-network solve.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from ..errors import ConvergenceError
from .transient import _DIFF_H, _DV_LIMIT, _V_TOL, level1_nmos

MAX_SWEEPS = 200  # row-and-column sweeps of one solve at the most
_INNER_TOL = 1e-10  # volts: the inner nodes are solved tighter than the lines
_MAX_INNER = 60


def lines_relax(params) -> bool:
    """True when the array's rows and columns both have wire segments (the ladders need them)."""
    return params.r_row > 0 and params.r_col > 0


def tridiagonal_lines(diag: np.ndarray, off: float, rhs: np.ndarray) -> np.ndarray:
    """Solve every line's tridiagonal system at once: diag, rhs (lines, cells); off: the coupling of neighbours."""
    k, p = diag.shape
    upper = np.full((k, p), off)
    upper[:, -1] = 0.0  # no coupling from one line's last cell to the next line's first
    bands = np.zeros((3, k * p))
    bands[0, 1:] = upper.ravel()[:-1]
    bands[1] = diag.ravel()
    bands[2, :-1] = upper.ravel()[:-1]
    return solve_banded((1, 1), bands, rhs.ravel(), check_finite=False).reshape(k, p)


class LineRelaxation:
    """Operating points of an M x N array under programming biases (see the module docstring)."""

    def __init__(self, params, device):
        if not lines_relax(params):
            raise ValueError("line relaxation needs row and column wire segments")
        self.params, self.device = params, device
        self.selector = params.has_selector
        if self.selector:
            sel = params.selector
            card = sel.card
            self.beta = card.get("kp", 2e-5) * sel.w / (sel.l - 2 * card.get("ld", 0.0))
            self.vto, self.lam = card.get("vto", 0.0), card.get("lambda", 0.0)
        self.g_row, self.g_col = 1.0 / params.r_row, 1.0 / params.r_col
        self.g_row_end = 1.0 / (params.r_source + params.r_row)  # row driver to the first cell
        self.g_col_end = 1.0 / (params.r_col + params.r_source)  # last cell to the column driver
        self._x = None  # inner nodes of the last solve: the next one starts there

    def cells(self, r, c, gate, state, x0=None):
        """Cell currents row to column (M, N), their derivatives by the row and column node voltages, inner nodes."""
        dev = self.device
        if not self.selector:
            vd = r - c
            i = dev.current(vd, state)
            g = (dev.current(vd + _DIFF_H, state) - dev.current(vd - _DIFF_H, state)) / (2 * _DIFF_H)
            return i, g, -g, c
        lo, hi = np.minimum(r, c), np.maximum(r, c)
        x = np.clip(0.5 * (r + c) if x0 is None else x0, lo, hi)
        for _ in range(_MAX_INNER):
            vd = r - x
            i_d = dev.current(vd, state)
            g_d = (dev.current(vd + _DIFF_H, state) - dev.current(vd - _DIFF_H, state)) / (2 * _DIFF_H)
            i_s, s_d, s_s = level1_nmos(x, gate, c, self.beta, self.vto, self.lam)
            f = i_d - i_s  # falls as x rises: the root is above x where f > 0
            lo, hi = np.where(f > 0, x, lo), np.where(f < 0, x, hi)
            step = f / (g_d + s_d)
            new = x + step
            new = np.where((new >= lo) & (new <= hi), new, 0.5 * (lo + hi))
            done = np.max(np.abs(new - x), initial=0.0) < _INNER_TOL
            x = new
            if done:
                break
        else:
            raise ConvergenceError("a cell's inner node did not converge in the line-relaxation solve")
        vd = r - x
        i_d = dev.current(vd, state)
        g_d = (dev.current(vd + _DIFF_H, state) - dev.current(vd - _DIFF_H, state)) / (2 * _DIFF_H)
        _, s_d, s_s = level1_nmos(x, gate, c, self.beta, self.vto, self.lam)
        den = g_d + s_d
        return i_d, g_d * s_d / den, g_d * s_s / den, x

    def solve(self, v_row, v_col, gate, state):
        """Row, inner and column node voltages (each M x N) for sources v_row (M,), v_col (N,) and word lines gate (M,).

        For arrays without selectors the inner node is the column node and gate is ignored.
        """
        m, n = self.params.shape
        v_row, v_col = np.asarray(v_row, dtype=float), np.asarray(v_col, dtype=float)
        gate = np.broadcast_to(np.asarray(gate, dtype=float)[:, None], (m, n)) if self.selector else None
        r = np.repeat(v_row[:, None], n, axis=1)
        c = np.repeat(v_col[None, :], m, axis=0)
        x = self._x if self._x is not None and self._x.shape == (m, n) else None
        last = np.inf
        for _ in range(MAX_SWEEPS):
            # one Newton step, its linear system solved by one block Gauss-Seidel sweep: the rows with the
            # column nodes held, then the columns with the new row nodes (the cell currents linearised)
            i, di_dr, di_dc, x = self.cells(r, c, gate, state, x)
            f = i.copy()
            f[:, 0] += (r[:, 0] - v_row) * self.g_row_end
            f[:, 1:] += (r[:, 1:] - r[:, :-1]) * self.g_row
            f[:, :-1] += (r[:, :-1] - r[:, 1:]) * self.g_row
            diag = di_dr + 2 * self.g_row
            diag[:, 0] += self.g_row_end - self.g_row
            diag[:, -1] -= self.g_row
            dr = np.clip(tridiagonal_lines(diag, -self.g_row, -f), -_DV_LIMIT, _DV_LIMIT)
            r = r + dr
            f = -(i + di_dr * dr).T  # columns worked on transposed, each column a line
            ct = c.T
            f[:, -1] += (ct[:, -1] - v_col) * self.g_col_end
            f[:, 1:] += (ct[:, 1:] - ct[:, :-1]) * self.g_col
            f[:, :-1] += (ct[:, :-1] - ct[:, 1:]) * self.g_col
            diag = -di_dc.T + 2 * self.g_col
            diag[:, -1] += self.g_col_end - self.g_col
            diag[:, 0] -= self.g_col
            dc = np.clip(tridiagonal_lines(diag, -self.g_col, -f), -_DV_LIMIT, _DV_LIMIT).T
            c = c + dc
            size = max(np.max(np.abs(dr), initial=0.0), np.max(np.abs(dc), initial=0.0))
            if not np.isfinite(size) or size > 2 * last + _V_TOL:
                break  # diverging: the lines are too strongly coupled for this iteration
            if size < _V_TOL:
                _, _, _, x = self.cells(r, c, gate, state, x)
                self._x = x
                return r, x, c
            last = size
        self._x = None
        raise ConvergenceError("the line-relaxation solve did not converge (lines too strongly coupled)")

    def supplied_power(self, r, x, state, v_row, v_col) -> float:
        """Power the line drivers deliver at a solved operating point, watts: sum_k V_k I_k.

        Each driver's current is the sum of its line's cell currents (Kirchhoff), which is exact to the
        cells' precision where the voltage across a one-ohm segment would not be."""
        i = self.device.current(r - x, state)
        return float(np.sum(np.asarray(v_row, dtype=float) * i.sum(axis=1))
                     - np.sum(np.asarray(v_col, dtype=float) * i.sum(axis=0)))
