"""The crossbar as a resistive network: numbered nodes, readable node names and wire segments.

Both backends build from this one description, so the netlist and the fast nodal solve cannot
disagree about topology. Ideal (zero-ohm) row or column lines merge their nodes into the line's
end node instead of writing zero-ohm resistors.

Node kinds (names as they appear in netlists):
    d{i}      row i end, where the row driver connects (through r_source)
    r{i}_{j}  row line at cell (i, j)
    c{i}_{j}  column line at cell (i, j)
    s{j}      column j end, the sense node
    x{i}_{j}  1T1R only: between the device and the selector's drain
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .params import CrossbarParams


@dataclass(frozen=True, eq=False)
class CrossbarNetwork:
    params: CrossbarParams

    @cached_property
    def _numbering(self):
        p = self.params
        m, n = p.shape
        row_end = np.arange(m)
        col_end = m + np.arange(n)
        count = m + n

        def new_block() -> np.ndarray:  # M x N fresh node ids
            nonlocal count
            ids = np.arange(count, count + m * n).reshape(m, n)
            count += m * n
            return ids

        row_node = new_block() if p.r_row > 0 else np.repeat(row_end[:, None], n, axis=1)
        col_node = new_block() if p.r_col > 0 else np.repeat(col_end[None, :], m, axis=0)
        inner = new_block() if p.has_selector else None
        return row_end, col_end, row_node, col_node, inner, count

    @property
    def row_end(self) -> np.ndarray:
        """(M,) node id of D[i]."""
        return self._numbering[0]

    @property
    def col_end(self) -> np.ndarray:
        """(N,) node id of S[j]."""
        return self._numbering[1]

    @property
    def row_node(self) -> np.ndarray:
        """(M, N) node id of R[i, j]."""
        return self._numbering[2]

    @property
    def col_node(self) -> np.ndarray:
        """(M, N) node id of C[i, j]."""
        return self._numbering[3]

    @property
    def inner_node(self) -> np.ndarray | None:
        """(M, N) node id between device and selector (1T1R), else None."""
        return self._numbering[4]

    @property
    def n_nodes(self) -> int:
        return self._numbering[5]

    @property
    def device_low_node(self) -> np.ndarray:
        """(M, N) node at the device's column-side terminal (C[i, j], or the selector drain in 1T1R)."""
        return self.inner_node if self.params.has_selector else self.col_node

    @cached_property
    def names(self) -> list[str]:
        """Readable netlist name of every node id."""
        m, n = self.params.shape
        out = [""] * self.n_nodes
        for i in range(m):
            out[self.row_end[i]] = f"d{i}"
        for j in range(n):
            out[self.col_end[j]] = f"s{j}"
        if self.params.r_row > 0:
            for i in range(m):
                for j in range(n):
                    out[self.row_node[i, j]] = f"r{i}_{j}"
        if self.params.r_col > 0:
            for i in range(m):
                for j in range(n):
                    out[self.col_node[i, j]] = f"c{i}_{j}"
        if self.inner_node is not None:
            for i in range(m):
                for j in range(n):
                    out[self.inner_node[i, j]] = f"x{i}_{j}"
        return out

    def wire_segments(self):
        """Yield (label, node_a, node_b, ohms) arrays of line segments, one group per line kind.

        Row segment labelled (i, j) is the one before cell (i, j) (D[i]->R[i,0], R[i,j-1]->R[i,j]);
        column segment (i, j) the one after it (C[i,j]->C[i+1,j], C[M-1,j]->S[j]).
        """
        p = self.params
        if p.r_row > 0:
            left = np.concatenate([self.row_end[:, None], self.row_node[:, :-1]], axis=1)
            yield "row", left, self.row_node, p.r_row
        if p.r_col > 0:
            below = np.concatenate([self.col_node[1:, :], self.col_end[None, :]], axis=0)
            yield "col", self.col_node, below, p.r_col


@lru_cache(maxsize=8)
def network_of(params: CrossbarParams) -> CrossbarNetwork:
    """The (cached) network of `params`: node numbering and names are built once per geometry."""
    return CrossbarNetwork(params)
