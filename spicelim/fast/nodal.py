"""Exact nodal analysis of the linear crossbar network with a sparse direct solver.

The network (wires, devices as conductances, terminals) is linear, so one factorisation of its
nodal matrix serves every input vector of a batch and every later batch with the same device
state and the same terminal pattern. The matrix is symmetric positive definite (a weighted graph
Laplacian plus the terminal conductances); it is factored by SuperLU in symmetric mode with a
minimum-degree ordering of A + A^T, which keeps the diagonal pivots of an SPD matrix.

1T1R cells: the selector is replaced by its linearised on-resistance (NmosSelector.on_resistance)
in series with the device. This is an approximation; scripts/bench_read.py measures its error.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..bias import LineBias
from ..network import network_of
from ..params import CrossbarParams
from ..results import OperatingPoints


def cell_conductance(params: CrossbarParams, conductance: np.ndarray) -> np.ndarray:
    """Conductance of each whole cell: the device, in series with the on selector for 1T1R (siemens)."""
    if not params.has_selector:
        return conductance
    return 1.0 / (1.0 / conductance + params.selector.on_resistance)


def selector_drain_voltage(params: CrossbarParams, g_cell: np.ndarray, row_v: np.ndarray,
                           col_v: np.ndarray) -> np.ndarray:
    """Voltage between device and linearised selector: C + I_cell * R_on (the column voltage for 0T1R)."""
    if not params.has_selector:
        return col_v
    return col_v + g_cell * (row_v - col_v) * params.selector.on_resistance


def terminal_pattern(bias: LineBias) -> tuple[bytes, ...]:
    """The part of a LineBias that changes the nodal matrix: floating terminals and their resistances."""
    return (bias.row_float.tobytes(), bias.col_float.tobytes(), bias.row_r.tobytes(), bias.col_r.tobytes())


class NodalSystem:
    """The factored nodal matrix of one (device state, terminal pattern); solves batches of biases."""

    def __init__(self, params: CrossbarParams, conductance: np.ndarray, bias: LineBias):
        net = network_of(params)
        self.params, self.net = params, net
        self.conductance = conductance
        self.pattern = terminal_pattern(bias)
        n = net.n_nodes
        g_cell = cell_conductance(params, conductance)
        a_list, b_list, w_list = [net.row_node.ravel()], [net.col_node.ravel()], [g_cell.ravel()]
        for _, a, b, r in net.wire_segments():
            a_list.append(a.ravel())
            b_list.append(b.ravel())
            w_list.append(np.full(a.size, 1.0 / r))
        a = np.concatenate(a_list)
        b = np.concatenate(b_list)
        w = np.concatenate(w_list)
        off = sp.coo_matrix((np.concatenate([-w, -w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                            shape=(n, n)).tocsr()
        degree = -np.asarray(off.sum(axis=1)).ravel()
        lap = (off + sp.diags(degree)).tocsr()
        self.laplacian = lap
        self.cell_g = g_cell

        # Terminals: r > 0 adds a conductance to the source; r == 0 fixes the node voltage.
        term_g = np.zeros(n)
        fixed = np.zeros(n, dtype=bool)
        for ends, floating, rs in ((net.row_end, bias.row_float, bias.row_r),
                                   (net.col_end, bias.col_float, bias.col_r)):
            tied = ~floating
            fixed[ends[tied & (rs == 0)]] = True
            soft = tied & (rs > 0)
            term_g[ends[soft]] += 1.0 / rs[soft]
        active = np.zeros(n, dtype=bool)
        active[a] = True
        active[b] = True
        active[net.row_end] = True
        active[net.col_end] = True
        unknown = active & ~fixed
        self.unknown = np.flatnonzero(unknown)
        self.fixed = np.flatnonzero(fixed)
        self.term_g = term_g
        a_uu = (lap[self.unknown][:, self.unknown] + sp.diags(term_g[self.unknown])).tocsc()
        self.coupling = lap[self.unknown][:, self.fixed].tocsr()
        self._lu = spla.splu(a_uu, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True}) \
            if self.unknown.size else None

    def solve(self, bias: LineBias, *, rows: bool = True, nodes: bool = False, name: str = "fast") -> OperatingPoints:
        """Solve every bias point of the batch; node maps only when `nodes` is True.

        `rows` is accepted for interface parity with BlockSystem: row currents cost nothing extra here.
        """
        if terminal_pattern(bias) != self.pattern:
            raise ValueError("bias has a different terminal pattern than the factored system")
        net, params = self.net, self.params
        bsz = bias.batch
        n = net.n_nodes
        # Source voltage seen by every terminal node, per batch item: (n_nodes, B).
        src = np.zeros((n, bsz))
        src[net.row_end] = bias.row_v.T
        src[net.col_end] = bias.col_v.T
        volts = np.zeros((n, bsz))
        volts[self.fixed] = src[self.fixed]
        if self._lu is not None:
            rhs = (self.term_g[self.unknown, None] * src[self.unknown]) - self.coupling @ volts[self.fixed]
            volts[self.unknown] = self._lu.solve(np.asfortranarray(rhs))

        def terminal_current(ends, floating, rs):
            out = np.full((bsz, ends.size), np.nan)
            soft = ~floating & (rs > 0)
            hard = ~floating & (rs == 0)
            if soft.any():
                out[:, soft] = ((volts[ends[soft]] - src[ends[soft]]) / rs[soft, None]).T
            if hard.any():
                out[:, hard] = -(self.laplacian[ends[hard]] @ volts).T
            return out

        row_i = terminal_current(net.row_end, bias.row_float, bias.row_r)
        col_i = terminal_current(net.col_end, bias.col_float, bias.col_r)
        row_v = low_v = col_v = None
        if nodes:
            row_v = volts[net.row_node].transpose(2, 0, 1)
            col_v = volts[net.col_node].transpose(2, 0, 1)
            low_v = selector_drain_voltage(params, self.cell_g, row_v, col_v)
        return OperatingPoints(row_current=row_i, col_current=col_i, row_v=row_v, device_low_v=low_v,
                               col_v=col_v, conductance=self.conductance, backend=name)
