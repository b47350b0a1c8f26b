"""Published closed-form approximations of a crossbar read with wire resistance, used as fast models.

Each takes the array's parameters (spicelim.params.CrossbarParams), the cell conductances G
(M x N, siemens) and a batch of row voltages V (B x M, volts), and returns the column currents
(B x N, amperes) of a forward read into ideal virtual grounds, in the geometry of DESIGN.md: row i
is driven at its left end through r_source and one r_row segment before every cell; column j is
sensed at its bottom end after one r_col segment below every cell. A 1T1R cell is its device in
series with the selector's linear on-resistance (NmosSelector.on_resistance), an approximation
the fast backend does not make. Both models are linear in V and cost O(B M N): no linear solve.

series_path: every cell sees, in series, the whole wire path from its driver and to its sense
    node, carrying only its own current:
        G_eff[i, j] = 1 / (1/G[i, j] + r_source + r_row (j + 1) + r_col (M - i)),   I = V G_eff.
    This is the per-cell wire model of the NeuroSim simulators (the read of a cell with its wire
    path in series, as in the Array::ReadCell of MLP+NeuroSim); cite P.-Y. Chen, X. Peng and S. Yu,
    "NeuroSim: A circuit-level macro model for benchmarking neuro-inspired architectures in online
    learning", IEEE Trans. Comput.-Aided Des. 37(12), 3067-3080 (2018). NeuroSim has no driver
    resistance; adding r_source to the path is ours. The model ignores that a wire segment also
    carries the currents of the cells beyond it, so with many rows active it underestimates the
    IR drop by a factor of the order of the line length: it suits single-cell and sparse reads.

first_order: the ideal cell currents G V flow through the wires; each cell's voltage is reduced by
    the drops they cause along its row (every segment carries the currents of the cells to its
    right) and along its column (every segment carries the currents of the rows above it), and the
    cell currents are computed once more from the reduced voltages:
        I0[i, j] = G[i, j] V[i]
        drop_row[i, j] = sum_{k<=j} rho_k sum_{l>=k} I0[i, l],   rho_0 = r_source + r_row, rho_k = r_row
        drop_col[i, j] = r_col sum_{k>=i} sum_{l<=k} I0[l, j]
        I[j] = sum_i G[i, j] (V[i] - drop_row[i, j] - drop_col[i, j]).
    It is the first step of the fixed-point (Jacobi) solution of the wire network that CrossSim
    iterates to convergence (T. P. Xiao, B. Feinberg, J. N. Rohan, C. H. Bennett, S. Agarwal and
    M. J. Marinella, "Analysis and mitigation of parasitic resistance effects for analog in-memory
    neural network acceleration", Semicond. Sci. Technol. 36, 114004 (2021)). Exact to first order
    in the wire resistance, its error grows as the square of eps = (r_source + r N / 2) x (a row's
    total conductance); it overestimates the drop, and past eps of about 0.5 it is further from the
    truth than the ideal product.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError
from ..params import CrossbarParams
from ..validation import batch_of_vectors, finite_array


def _checked(params, g, v) -> tuple[np.ndarray, np.ndarray, bool]:
    """(conductances (M, N), row voltages (B, M), whether v was one vector) after checking them."""
    if not isinstance(params, CrossbarParams):
        raise InvalidParameterError(f"params must be CrossbarParams, got {type(params).__name__}")
    g = finite_array("conductance (S)", g, params.shape)
    if np.any(g <= 0):
        raise InvalidParameterError("conductance must be > 0 S everywhere")
    v, single = batch_of_vectors("v (row voltages, V)", v, params.rows)
    return g, v, single


def _result(out: np.ndarray, single: bool) -> np.ndarray:
    if not np.all(np.isfinite(out)):
        raise InvalidParameterError("the currents overflow a float: give conductances, voltages and resistances of"
                                    " ordinary magnitude")
    return out[0] if single else out


def _cell_conductance(params: CrossbarParams, g: np.ndarray) -> np.ndarray:
    """The conductance of each whole cell: the device, in series with the selector's on-resistance (1T1R)."""
    if params.has_selector:
        return 1.0 / (1.0 / g + params.selector.on_resistance)
    return g


def series_path(params: CrossbarParams, g: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Column currents of the per-cell series-path model (NeuroSim); see the module docstring."""
    g, v, single = _checked(params, g, v)
    m, n = g.shape
    path = params.r_source + params.r_row * np.arange(1, n + 1)[None, :] + params.r_col * (m - np.arange(m))[:, None]
    with np.errstate(all="ignore"):
        g_eff = 1.0 / (1.0 / _cell_conductance(params, g) + path)
        out = v @ g_eff
    return _result(out, single)


def first_order(params: CrossbarParams, g: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Column currents of the first-order wire correction (one Jacobi step, as in CrossSim); see the module docstring."""
    g, v, single = _checked(params, g, v)
    gc = _cell_conductance(params, g)
    n = gc.shape[1]
    with np.errstate(all="ignore"):
        i0 = v[:, :, None] * gc[None, :, :]  # (B, M, N) ideal cell currents
        # row i, segment k (before cell k) carries the currents of cells k..N-1
        row_segment = np.flip(np.cumsum(np.flip(i0, axis=2), axis=2), axis=2)
        rho = np.full(n, params.r_row)
        rho[0] += params.r_source
        drop_row = np.cumsum(row_segment * rho, axis=2)
        # column j, the segment below row k carries the currents of rows 0..k; cell i sees segments i..M-1
        col_segment = np.cumsum(i0, axis=1) * params.r_col
        drop_col = np.flip(np.cumsum(np.flip(col_segment, axis=1), axis=1), axis=1)
        out = np.einsum("bij,ij->bj", v[:, :, None] - drop_row - drop_col, gc)
    return _result(out, single)


#: the closed forms by name
CLOSED_FORMS = {"series-path": series_path, "first-order": first_order}
