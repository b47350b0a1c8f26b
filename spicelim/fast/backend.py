"""The "fast" and "ideal" backends: behavioural solves with the same interface as the SPICE backend."""

from __future__ import annotations

import warnings

import numpy as np

from ..bias import LineBias
from ..errors import InvalidParameterError
from ..params import CrossbarParams
from ..results import OperatingPoints
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


class FastBackend:
    """Exact solve of the linear network with wires.

    Memristor cells enter as the chord conductance the Crossbar computed from their state; the
    `device` and `state` arguments are accepted for interface parity and not used.

    Resistive rows and columns use the block elimination of fast.blocks; ideal (zero-ohm) lines
    and arrays too large for it use the sparse nodal solve of fast.nodal.

    Keeps the factorisations of the last few (device state, terminal pattern) pairs, so repeated
    reads of an unchanged array (forward and transposed) cost one triangular solve per vector.
    """

    name = "fast"

    def __init__(self, cache_size: int = 4):
        self.cache_size = int(cache_size)
        self._cache: list[NodalSystem] = []

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

    def operate(self, params: CrossbarParams, conductance: np.ndarray, bias: LineBias, *,
                rows: bool = True, cols: bool = True, nodes: bool = False, device=None,
                state: np.ndarray | None = None, cell_params=None) -> OperatingPoints:
        if params.has_selector:
            warn_if_selector_nonlinear(params, bias)
        system = self.system(params, conductance, bias)
        step = max(1, CHUNK_VALUES // (params.rows * params.cols))  # bound the (M, N, B) work arrays
        parts = [system.solve(bias.take(k, min(k + step, bias.batch)), rows=rows, nodes=nodes, name=self.name)
                 for k in range(0, bias.batch, step)]
        return parts[0] if len(parts) == 1 else OperatingPoints.concatenate(parts)

    def apply_pulses(self, params: CrossbarParams, device, state: np.ndarray, schedule, *,
                     max_step: float | None = None, cell_params=None, cell_device=None,
                     energy: bool = False, read_limit: float | None = None) -> tuple[np.ndarray, float | None]:
        """Programming transient by quasi-static nonlinear solves (fast.transient).

        Returns (final states (M, N), energy the drivers delivered in joules, or None unless `energy`).
        max_step: longest step, seconds (default: a third of the pulse width; edges always get 4 steps).
        cell_device: the device with per-cell parameter arrays (device-to-device spread), if any.
        read_limit: the smallest switching threshold of any cell, volts (default: the device's own).
        """
        max_step = schedule.default_step(3) if max_step is None else max_step
        if read_limit is None and cell_device is not None:
            raise InvalidParameterError("with per-cell parameters, pass read_limit (the smallest threshold of any cell)")
        limit = device.read_limit if read_limit is None else read_limit
        return run_schedule(params, cell_device if cell_device is not None else device, state, schedule, max_step,
                            energy=energy, read_limit=limit)

    def close(self) -> None:
        self._cache = []


class IdealBackend:
    """No wires, no driver resistance, no selector: a forward read is exactly v @ G.

    Bias conditions with floating lines (cell selection) are solved as the same nodal problem with
    ideal lines, so sneak currents through the devices remain.
    """

    name = "ideal"

    def __init__(self):
        self._fast = FastBackend(cache_size=2)

    @staticmethod
    def ideal_params(params: CrossbarParams) -> CrossbarParams:
        return CrossbarParams(rows=params.rows, cols=params.cols, cell="0T1R")

    def operate(self, params: CrossbarParams, conductance: np.ndarray, bias: LineBias, *,
                rows: bool = True, cols: bool = True, nodes: bool = False, device=None,
                state: np.ndarray | None = None, cell_params=None) -> OperatingPoints:
        every_line_held = not (bias.row_float.any() or bias.col_float.any())
        if every_line_held:
            # Every line sits at its source voltage: device (i, j) sees row_v[i] - col_v[j].
            dv = bias.row_v[:, :, None] - bias.col_v[:, None, :]
            cell_i = conductance * dv
            row_v = np.broadcast_to(bias.row_v[:, :, None], dv.shape)
            col_v = np.broadcast_to(bias.col_v[:, None, :], dv.shape)
            return OperatingPoints(row_current=-cell_i.sum(axis=2), col_current=cell_i.sum(axis=1),
                                   row_v=row_v if nodes else None, device_low_v=col_v if nodes else None,
                                   col_v=col_v if nodes else None, conductance=conductance, backend=self.name)
        ideal = self.ideal_params(params)
        flat = LineBias(row_v=bias.row_v, col_v=bias.col_v, row_r=np.zeros_like(bias.row_r),
                        col_r=np.zeros_like(bias.col_r), row_float=bias.row_float, col_float=bias.col_float)
        return self._fast.system(ideal, conductance, flat).solve(flat, rows=rows, nodes=nodes, name=self.name)

    def apply_pulses(self, *args, **kwargs):
        raise InvalidParameterError("the ideal backend models reads only: program with backend='fast' or 'spice'")

    def close(self) -> None:
        self._fast.close()
