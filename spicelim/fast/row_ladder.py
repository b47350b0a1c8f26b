"""Programming solves of 1T1R arrays in which each pulse turns on one word line: every row on its own.

In a row-by-row programming slot of a 1T1R array only the selected row's word line is on. A
transistor whose gate is at most VTO above the lowest source voltage cannot conduct (level-1
model: every node sits between the lowest and the highest source), so the cells of the other rows
carry no current and the selected row is an independent circuit:

    V_row --[r_source + r_row]-- R0 --[r_row]-- R1 -- ... -- R(N-1)
                                 |                 |
                              device            device
                                 X0                 X(N-1)
                              NMOS (gate on)     NMOS
                                 C0                 C(N-1)
                        [(M - i) r_col + r_source]  ...
                               V_col[0]           V_col[N-1]

(the column line below row i carries only that cell's current down to its sense end). Slots on
different rows therefore commute, and the k-th slot of every row can be solved together: one
Newton solve of M such ladders at once. Each Newton step condenses the two inner nodes of every
cell (device-to-selector X, selector source C) into the row node, leaving one tridiagonal
system over all rows (one banded LAPACK solve). The result is the full network's solution up to
the leakage of SPICE's GMIN on the other rows' nodes (1e-12 S per node).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError
from .line_relaxation import tridiagonal_lines
from .transient import _DIFF_H, _DV_LIMIT, _MAX_NEWTON, _V_TOL, level1_nmos


def rows_isolated(params, rows: np.ndarray, cols: np.ndarray, gate: np.ndarray) -> bool:
    """True when at most one word line can conduct in this bias (1T1R; the rest off for every node voltage)."""
    if not params.has_selector:
        return False
    vto = params.selector.card.get("vto", 0.0)
    lowest = min(float(rows.min()), float(cols.min()), 0.0)
    return int(np.count_nonzero(gate > vto + lowest)) <= 1


class RowLadders:
    """M independent one-row circuits of an M x N 1T1R array (see the module docstring)."""

    def __init__(self, params, device):
        sel = params.selector
        card = sel.card
        self.params, self.device = params, device
        self.beta = card.get("kp", 2e-5) * sel.w / (sel.l - 2 * card.get("ld", 0.0))
        self.vto, self.lam = card.get("vto", 0.0), card.get("lambda", 0.0)
        m, n = params.shape
        self.r_row = params.r_row
        self.r_first = params.r_source + params.r_row  # row source to the first cell
        # resistance from row i's cell down its column to the column source
        self.r_col = ((m - np.arange(m)) * params.r_col + params.r_source)[:, None] * np.ones((1, n))
        self._last = None  # (bias, r, x, c) of the last solve: rows biased alike start from its solution

    def _elements(self, r, x, c, gate, state):
        """Device current and conductance, selector current and its drain / source derivatives."""
        dev = self.device
        vd = r - x
        i_d = dev.current(vd, state)
        g_d = (dev.current(vd + _DIFF_H, state) - dev.current(vd - _DIFF_H, state)) / (2 * _DIFF_H)
        i_s, s_d, s_s = level1_nmos(x, gate, c, self.beta, self.vto, self.lam)
        return i_d, g_d, i_s, s_d, s_s

    def solve(self, v_row: np.ndarray, v_col: np.ndarray, gate: np.ndarray, state: np.ndarray):
        """Row node, device-low and column node voltages (each M x N) for sources v_row (M,), v_col (M, N), gate (M,)."""
        m, n = self.params.shape
        gate = np.broadcast_to(np.asarray(gate, dtype=float)[:, None], (m, n))
        v_row = np.asarray(v_row, dtype=float)
        r = np.repeat(v_row[:, None], n, axis=1)
        c = np.array(v_col, dtype=float)
        x = 0.5 * (r + c)
        bias = np.column_stack([v_row, c, gate[:, 0]])
        if self._last is not None and self._last[0].shape == bias.shape:
            same = np.all(self._last[0] == bias, axis=1)[:, None]  # rows biased as last time
            r, x, c = (np.where(same, old, new) for old, new in zip(self._last[1:], (r, x, c)))
        col_free = self.r_col > 0
        g_col = np.where(col_free, 1.0 / np.where(col_free, self.r_col, 1.0), 0.0)
        for _ in range(_MAX_NEWTON):
            i_d, g_d, i_s, s_d, s_s = self._elements(r, x, c, gate, state)
            # residuals: currents leaving each node
            f_x = -i_d + i_s
            f_c = np.where(col_free, -i_s + (c - v_col) * g_col, 0.0)
            f_r = self._row_residual(r, v_row, i_d)
            # the 2 x 2 block of each cell's inner nodes (x, c); a fixed column node is an identity row
            a00, a01 = g_d + s_d, np.where(col_free, s_s, 0.0)
            a10, a11 = np.where(col_free, -s_d, 0.0), np.where(col_free, -s_s + g_col, 1.0)
            det = a00 * a11 - a01 * a10
            inv00, inv01 = a11 / det, -a01 / det
            inv10, inv11 = -a10 / det, a00 / det
            lf0 = inv00 * f_x + inv01 * f_c  # (A^-1 f_local)_x
            # Schur complement onto the row nodes: coupling r <-> x is -g_d both ways
            diag_extra = -g_d * g_d * inv00
            rhs = -f_r - g_d * lf0
            dr = self._row_step(g_d + diag_extra, rhs)
            # back-substitute: A dl = -f_local - b dr, b = (-g_d, 0)
            b0 = -g_d * dr
            dx = -(inv00 * (f_x + b0) + inv01 * f_c)
            dc = -(inv10 * (f_x + b0) + inv11 * f_c)
            dr, dx, dc = (np.clip(d, -_DV_LIMIT, _DV_LIMIT) for d in (dr, dx, dc))
            r, x, c = r + dr, x + dx, c + np.where(col_free, dc, 0.0)
            if max(np.abs(dr).max(), np.abs(dx).max(), np.abs(dc).max()) < _V_TOL:
                self._last = (bias, r, x, c)
                return r, x, c
        raise ConvergenceError("the row-by-row programming solve found no operating point (Newton's method did"
                               f" not converge in {_MAX_NEWTON} iterations)")

    def _row_residual(self, r, v_row, i_d):
        if self.r_row > 0:
            f = i_d.copy()
            f[:, 0] += (r[:, 0] - v_row) / self.r_first
            f[:, 1:] += (r[:, 1:] - r[:, :-1]) / self.r_row
            f[:, :-1] += (r[:, :-1] - r[:, 1:]) / self.r_row
            return f
        if self.r_first == 0:
            return np.zeros_like(r)  # the row is its source: r stays at V_row
        total = i_d.sum(axis=1, keepdims=True) + (r[:, :1] - v_row[:, None]) / self.r_first  # one node per row
        return np.repeat(total, r.shape[1], axis=1) / r.shape[1]

    def _row_step(self, g_cell, rhs):
        """Newton step of the row nodes: a tridiagonal system per row (one merged node without row wires)."""
        m, n = rhs.shape
        if self.r_row > 0:
            g = 1.0 / self.r_row
            diag = g_cell.copy()
            diag[:, 0] += 1.0 / self.r_first
            diag[:, 1:] += g
            diag[:, :-1] += g
            return tridiagonal_lines(diag, -g, rhs)
        if self.r_first == 0:
            return np.zeros((m, n))
        # one node per row: the residual above is the row's KCL spread over its N entries
        d = rhs.sum(axis=1) / (g_cell.sum(axis=1) + 1.0 / self.r_first)
        return np.repeat(d[:, None], n, axis=1)

    def branch_current(self, r, x, state) -> np.ndarray:
        """(M, N) current through each cell, row to column, amperes."""
        return self.device.current(r - x, state)
