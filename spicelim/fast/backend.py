"""The "fast" and "ideal" backends: behavioural solves under the same contract as the SPICE backend."""

from __future__ import annotations

import warnings

import numpy as np

from ..backend import (
    FLOATING_LINES,
    NODE_VOLTAGES,
    TRANSIENT,
    ArrayBackend,
    ArraySnapshot,
)
from ..bias import LineBias
from ..params import CrossbarParams
from ..registry import register_backend
from ..results import OperatingPoints, PulseResult
from ..validation import positive_int
from .blocks import BlockSystem
from .nodal import NodalSystem, terminal_pattern
from .transient import run_schedule

CHUNK_VALUES = 2**24  # at most this many M * N * B values per solve (128 MiB per work array)


SELECTOR_WARN_FRACTION = 0.1  # of the selector's overdrive V_G - VTO


def warn_if_selector_nonlinear(params: CrossbarParams, bias: LineBias) -> None:
    """Warn when line voltages reach 10 % of the selector overdrive: the linear on-resistance then errs by ~ V / V_ov.

    A driven column raises the selector's source, which lowers its overdrive by the same voltage
    (transposed reads), and V_DS grows with the input; the level-1 on-resistance changes by roughly
    V / (V_G - VTO) in either case.
    """
    sel = params.selector
    overdrive = sel.v_gate - sel.card.get("vto", 0.0)
    volts = max(np.max(np.abs(bias.row_v)), np.max(np.abs(bias.col_v)))
    if volts > SELECTOR_WARN_FRACTION * overdrive:
        warnings.warn(f"line voltages up to {volts:g} V are {100 * volts / overdrive:.0f} % of the selector overdrive"
                      f" ({overdrive:g} V): the fast backend's linear 1T1R selector may err by about that fraction;"
                      " use backend='spice' for this read", stacklevel=4)


def _idealised(bias: LineBias, sensed: str | None) -> LineBias:
    """`bias` with ideal drivers: every resistance zeroed except those of the sense terminals."""
    keep_rows, keep_cols = sensed == "rows", sensed == "cols"
    return LineBias(row_v=bias.row_v, col_v=bias.col_v,
                    row_r=bias.row_r if keep_rows else np.zeros_like(bias.row_r),
                    col_r=bias.col_r if keep_cols else np.zeros_like(bias.col_r),
                    row_float=bias.row_float, col_float=bias.col_float)


class FastBackend(ArrayBackend):
    """Exact solve of the linear network with wires, and quasi-static programming transients.

    Memristor cells enter reads as the chord conductance of their state (ArraySnapshot.conductance);
    1T1R selectors as their linearised on-resistance. Resistive rows and columns use the block
    elimination of fast.blocks; ideal (zero-ohm) lines and arrays too large for it use the sparse
    nodal solve of fast.nodal. Programming transients are fast.transient's quasi-static solves of
    the nonlinear network.

    Keeps the factorisations of the last few (device state, terminal pattern) pairs, so repeated
    reads of an unchanged array (forward and transposed) cost one triangular solve per vector. The
    cache is not part of the backend's state: a pickled FastBackend starts with an empty one.
    """

    name = "fast"
    capabilities = frozenset({TRANSIENT, NODE_VOLTAGES, FLOATING_LINES})

    def __init__(self, cache_size: int = 4):
        self.cache_size = positive_int("cache_size", cache_size)
        self._cache: list[BlockSystem | NodalSystem] = []

    def __getstate__(self):
        return {"name": self.name, "cache_size": self.cache_size}

    def __setstate__(self, state):
        self.__init__(state["cache_size"])
        self.name = state["name"]

    def system(self, params: CrossbarParams, conductance: np.ndarray, bias: LineBias) -> BlockSystem | NodalSystem:
        pattern = terminal_pattern(bias)
        for entry in self._cache:
            if entry.conductance is conductance and entry.pattern == pattern and entry.params == params:
                return entry
        kind = BlockSystem if BlockSystem.applies(params) else NodalSystem
        entry = kind(params, conductance, bias)
        # Factorisations of an older device state will never be used again: drop them.
        fresh = [e for e in self._cache if e.conductance is conductance]
        self._cache = [entry] + fresh[: self.cache_size - 1]
        return entry

    def solve(self, array: ArraySnapshot, bias: LineBias, *, sensed: str | None = None,
              nodes: bool = False) -> OperatingPoints:
        params = array.params
        if params.has_selector:
            warn_if_selector_nonlinear(params, bias)
        system = self.system(params, array.conductance, bias)
        step = max(1, CHUNK_VALUES // (params.rows * params.cols))  # bound the (M, N, B) work arrays
        parts = [system.solve(bias.take(k, min(k + step, bias.batch)), nodes=nodes, name=self.name)
                 for k in range(0, bias.batch, step)]
        return parts[0] if len(parts) == 1 else OperatingPoints.concatenate(parts)

    def apply_pulses(self, array: ArraySnapshot, schedule, *, max_step: float | None = None,
                     energy: bool = False) -> PulseResult:
        """Programming transient by quasi-static nonlinear solves (fast.transient).

        max_step: longest step, seconds (default: a third of the pulse width; edges always get 4 steps).
        """
        max_step = schedule.default_step(3) if max_step is None else max_step
        final, delivered = run_schedule(array.params, array.cell_device, array.state, schedule, max_step,
                                        energy=energy, read_limit=array.read_limit)
        return PulseResult(state=final, energy=delivered, duration=schedule.duration, backend=self.name)

    def close(self) -> None:
        self._cache = []


class IdealBackend(ArrayBackend):
    """No wires, no driver resistance, no selector: a forward read is exactly v @ G.

    Sense terminals keep their resistance (a TIA's residual r_f / (1 + A0), or r_f behind a
    saturated output), solved in closed form: a sensed line j sits at V_j + I_j r_j, so
    I_j = (sum_i G_ij v_i - V_j sum_i G_ij) / (1 + r_j sum_i G_ij). Bias conditions with floating
    lines (cell selection) are solved as the same nodal problem with ideal lines, so sneak
    currents through the devices remain.
    """

    name = "ideal"
    capabilities = frozenset({NODE_VOLTAGES, FLOATING_LINES})

    def __init__(self):
        self._fast = FastBackend(cache_size=2)

    @staticmethod
    def ideal_params(params: CrossbarParams) -> CrossbarParams:
        return CrossbarParams(rows=params.rows, cols=params.cols, cell="0T1R")

    def solve(self, array: ArraySnapshot, bias: LineBias, *, sensed: str | None = None,
              nodes: bool = False) -> OperatingPoints:
        g = array.conductance
        flat = _idealised(bias, sensed)
        if flat.row_float.any() or flat.col_float.any():
            system = self._fast.system(self.ideal_params(array.params), g, flat)
            return system.solve(flat, nodes=nodes, name=self.name)
        # Every line held: the driven side sits at its sources, the sensed side behind its resistances.
        if sensed == "rows":
            v_in, v_src, r, gg = flat.col_v, flat.row_v, flat.row_r, g.T
        else:
            v_in, v_src, r, gg = flat.row_v, flat.col_v, flat.col_r, g
        g_sum = gg.sum(axis=0)
        sensed_i = (v_in @ gg - v_src * g_sum) / (1 + r * g_sum)  # (B, L) into the sense-side terminals
        v_line = v_src + sensed_i * r  # (B, L) voltage of each sense-side line
        other_i = -(v_in * gg.sum(axis=1) - v_line @ gg.T)  # (B, K) into the driven-side terminals
        row_i, col_i = (sensed_i, other_i) if sensed == "rows" else (other_i, sensed_i)
        row_v = low_v = col_v = None
        if nodes:
            rv, cv = (v_line, v_in) if sensed == "rows" else (v_in, v_line)
            shape = (bias.batch,) + g.shape
            row_v = np.broadcast_to(rv[:, :, None], shape)
            col_v = low_v = np.broadcast_to(cv[:, None, :], shape)
        return OperatingPoints(row_current=row_i, col_current=col_i, row_v=row_v, device_low_v=low_v, col_v=col_v,
                               conductance=g, backend=self.name)

    def __getstate__(self):
        return {"name": self.name}

    def __setstate__(self, state):
        self.__init__()
        self.name = state["name"]

    def close(self) -> None:
        self._fast.close()


register_backend("fast", FastBackend)
register_backend("ideal", IdealBackend)
