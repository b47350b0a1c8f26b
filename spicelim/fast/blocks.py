"""Exact solve of a crossbar with resistive rows and columns by block elimination, row by row.

For r_row > 0 and r_col > 0 the nodal equations have a fixed structure: each row line is a
tridiagonal chain T_i, each cell couples R[i, j] to C[i, j] through its conductance, and column
segments couple C[i, j] to C[i +- 1, j]. Eliminating the row nodes of row i gives a dense,
symmetric positive-definite N x N matrix on that row's column nodes,

    H_i = G_i + K_i - G_i T_i^-1 G_i,

and the column nodes then form a block-tridiagonal system with off-diagonal blocks -I / r_col.
Block Cholesky elimination, S_0 = H_0, S_i = H_i - S_{i-1}^-1 / r_col^2, factors it with dense
BLAS-3 work only, and every batch of inputs is a forward and a backward sweep of matrix products.
This is the same linear network as fast.nodal.NodalSystem (which handles every other topology);
tests check that the two agree to round-off.

Line ends: the driver (or sense) resistance and the end segment are in series, so each end is a
conductance g_end = 1 / (r_wire + r_terminal) from the first (last) line node to the terminal
source, or nothing for a floating end.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas, lapack

from ..bias import LineBias
from ..params import CrossbarParams
from ..results import OperatingPoints
from .nodal import cell_conductance, selector_drain_voltage, terminal_pattern


def _symmetric_times(s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """s @ x for a symmetric C-ordered s and C-ordered x, through scipy's BLAS without copies.

    The factorisation runs in scipy's BLAS; mixing in numpy's (a separate OpenBLAS with its own
    thread pool) makes the two pools contend for the cores, so the sweeps stay in scipy's too.
    (s @ x)^T = x^T s, and both transposes are Fortran-ordered views.
    """
    return blas.dgemm(1.0, x.T, s.T).T


def end_conductance(r_wire: float, r_term: np.ndarray, floating: np.ndarray) -> np.ndarray:
    """Series conductance from the end node of each line to its terminal source (0 where floating)."""
    g = 1.0 / (r_wire + r_term)
    return np.where(floating, 0.0, g)


RESPONSE_BATCH = 2  # forward reads of more than this many times (M + N) vectors go through the response matrices


class BlockSystem:
    """Factored block-tridiagonal system of one (device state, terminal pattern); r_row, r_col > 0."""

    MAX_BYTES = 512 * 2**20  # the stored S_i^-1 blocks take 8 * M * N^2 bytes

    @classmethod
    def applies(cls, params: CrossbarParams) -> bool:
        """True for resistive rows and columns whose factor fits in MAX_BYTES."""
        m, n = params.shape
        return params.r_row > 0 and params.r_col > 0 and 8 * m * n * n <= cls.MAX_BYTES

    def __init__(self, params: CrossbarParams, conductance: np.ndarray, bias: LineBias):
        if not self.applies(params):
            raise ValueError("the block solver needs r_row > 0 and r_col > 0")
        m, n = params.shape
        self.params, self.conductance = params, conductance
        self.pattern = terminal_pattern(bias)
        self._response = None  # (N, M), (N, N): see _last_column_nodes_by_response
        self.cell_g = g = cell_conductance(params, conductance)
        a_row, a_col = 1.0 / params.r_row, 1.0 / params.r_col
        self.a_col = a_col
        self.g_row_end = end_conductance(params.r_row, bias.row_r, bias.row_float)  # (M,)
        self.g_col_end = end_conductance(params.r_col, bias.col_r, bias.col_float)  # (N,)

        # Main diagonal of the row chains T_i (off-diagonals are all -a_row): (M, N).
        main = g + 2 * a_row
        main[:, -1] -= a_row  # far end of the row line is open
        main[:, 0] += self.g_row_end - a_row  # the driver end: series conductance to the terminal

        # Column-chain diagonal K_i: segments above and below, the sense end below the last row.
        k = np.full((m, n), 2 * a_col)
        k[0] -= a_col
        k[-1] += self.g_col_end - a_col
        # Thomas-algorithm pivots of every row chain, for vectorised solves with all T_i at once.
        diag = main.copy()
        for j in range(1, n):
            diag[:, j] -= a_row * a_row / diag[:, j - 1]
        self.thomas_diag = diag
        self.a_row = a_row

        h_all = self._row_solve(np.broadcast_to(np.eye(n), (m, n, n)))  # (M, N, N): every T_i^-1
        self.t_inv_first = h_all[:, :, 0].copy()  # a row's response to its driver
        h_all *= -g[:, :, None]  # in place: H_i = G_i + K_i - G_i T_i^-1 G_i
        h_all *= g[:, None, :]
        idx = np.arange(n)
        h_all[:, idx, idx] += g + k
        self.s_inv = h_all  # overwritten block by block with S_i^-1
        for i in range(m):
            h = h_all[i]
            if i > 0:
                h -= a_col * a_col * self.s_inv[i - 1]
            chol, info = lapack.dpotrf(h, lower=1, clean=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"block {i} of the column system is not positive definite")
            inv, info = lapack.dpotri(chol, lower=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"block {i} of the column system is singular")
            self.s_inv[i] = inv + np.tril(inv, -1).T  # dpotri returns the lower triangle only

    def _row_solve(self, rhs: np.ndarray) -> np.ndarray:
        """Solve T_i x_i = rhs_i for every row at once; rhs and result are (M, N, B)."""
        n = rhs.shape[1]
        d, a = self.thomas_diag, self.a_row
        x = rhs.copy()
        for j in range(1, n):
            x[:, j] += (a / d[:, j - 1])[:, None] * x[:, j - 1]
        x[:, n - 1] /= d[:, n - 1][:, None]
        for j in range(n - 2, -1, -1):
            x[:, j] = (x[:, j] + a * x[:, j + 1]) / d[:, j][:, None]
        return x

    def _sweeps(self, row_v: np.ndarray, col_v: np.ndarray, backward: bool = True) -> tuple:
        """(column nodes (M, N, B; only the last row without `backward`), row sources (M, B), first row nodes (M, B)).

        row_v (B, M), col_v (B, N): terminal source voltages."""
        g, a = self.cell_g, self.a_col
        m = self.params.rows
        row_src = (self.g_row_end[None, :] * row_v).T  # (M, B): current injected at R[i, 0]
        # Column-node right-hand side: G_i T_i^-1 b_i, plus the sense-end injection below the last row.
        y = (g * self.t_inv_first)[:, :, None] * row_src[:, None, :]  # (M, N, B)
        y[-1] += (self.g_col_end[None, :] * col_v).T
        # Forward sweep: y_i += a S_{i-1}^-1 y_{i-1}; backward: C_i = S_i^-1 (y_i + a C_{i+1}).
        for i in range(1, m):
            y[i] += a * _symmetric_times(self.s_inv[i - 1], y[i - 1])
        c = np.empty_like(y)
        c[-1] = _symmetric_times(self.s_inv[-1], y[-1])
        if not backward:  # a forward read needs only the last row of column nodes
            return c, row_src, None
        for i in range(m - 2, -1, -1):
            y[i] += a * c[i + 1]
            c[i] = _symmetric_times(self.s_inv[i], y[i])
        # Row nodes: R_i = T_i^-1 (b_i + G_i C_i); the first node alone is a dot product with T_i^-1[:, 0].
        r0 = self.t_inv_first[:, 0][:, None] * row_src + np.einsum("mn,mnb->mb", self.t_inv_first, g[:, :, None] * c)
        return c, row_src, r0

    def _terminal_nodes_by_response(self, row_v: np.ndarray, col_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first row nodes (M, B), last column nodes (N, B)) as linear maps of the terminal voltages.

        Both are linear in the terminal sources: their responses to a unit volt on each row and each
        column terminal (M + N solves, once per factorisation) turn a long batch into matrix products."""
        m, n = self.params.shape
        if self._response is None:
            unit = np.eye(m + n)
            c, _, r0 = self._sweeps(unit[:, :m], unit[:, m:])
            self._response = np.ascontiguousarray(np.vstack([r0, c[-1]]))  # (M + N, M + N)
        nodes = blas.dgemm(1.0, self._response, np.hstack([row_v, col_v]).T)
        return nodes[:m], nodes[m:]

    def solve(self, bias: LineBias, *, rows: bool = True, nodes: bool = False, name: str = "fast") -> OperatingPoints:
        """Solve every bias point; `rows=False` skips what only the row currents and maps need.

        Batches longer than RESPONSE_BATCH (M + N) vectors without node maps go through the
        system's response to unit terminal voltages (the same linear map, two matrix products)."""
        if terminal_pattern(bias) != self.pattern:
            raise ValueError("bias has a different terminal pattern than the factored system")
        m = self.params.rows
        bsz = bias.batch
        if not nodes and bsz > RESPONSE_BATCH * (m + self.params.cols):
            r0, c_last = self._terminal_nodes_by_response(bias.row_v, bias.col_v)
            c = None
        else:
            c, row_src, r0 = self._sweeps(bias.row_v, bias.col_v, backward=rows or nodes)
            c_last = c[-1]
        col_i = np.where(bias.col_float, np.nan, self.g_col_end * (c_last.T - bias.col_v))
        if r0 is None:
            return OperatingPoints(row_current=np.full((bsz, m), np.nan), col_current=col_i, row_v=None,
                                   device_low_v=None, col_v=None, conductance=self.conductance, backend=name)
        row_i = np.where(bias.row_float, np.nan, self.g_row_end * (r0.T - bias.row_v))
        row_v = low_v = col_v = None
        if nodes:
            gc = self.cell_g[:, :, None] * c
            gc[:, 0, :] += row_src
            r = self._row_solve(gc)
            row_v = r.transpose(2, 0, 1)
            col_v = c.transpose(2, 0, 1)
            low_v = selector_drain_voltage(self.params, self.cell_g, row_v, col_v)
        return OperatingPoints(row_current=row_i, col_current=col_i, row_v=row_v, device_low_v=low_v, col_v=col_v,
                               conductance=self.conductance, backend=name)
