"""Sense lines read through TIAs, for the behavioural backends (fast, ideal).

Each sensed line end is replaced by the TIA's equivalent at its operating region:
  - linear region: a source of A0 V_+ / (1 + A0) behind r_f / (1 + A0) (TIA.sense_thevenin);
    an ideal op-amp is the limit, a source V_+ with no resistance (an exact virtual ground);
  - saturated output: the rail voltage behind r_f (the output is a source, the sense node floats
    with the array).
The region of every (read, line) is found by solving, checking the outputs against the rails and
solving again with the saturated lines changed (an active-set iteration; the model is piecewise
linear, so it ends when no region changes). The SPICE backend puts the op-amp macro model itself
in the netlist instead.
"""

from __future__ import annotations

import numpy as np

from ..bias import LineBias
from ..errors import ConvergenceError

_MAX_PASSES = 20


def _terminal(tia, v_plus: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source volts and series ohms of every sense terminal (region -1/0/+1: low rail, linear, high rail)."""
    v_th, r_th = tia.sense_thevenin(v_plus)
    if tia.v_out_max is None:
        return v_th, np.full(v_plus.shape, r_th)
    volts = np.where(region == 0, v_th, region * tia.v_out_max)
    ohms = np.where(region == 0, r_th, tia.r_f)
    return volts, ohms


def _with_sense(bias: LineBias, rows: bool, volts: np.ndarray, ohms: np.ndarray) -> LineBias:
    """`bias` with the sensed line ends (rows or columns) set to the given sources and one resistance per line."""
    if rows:
        return LineBias(row_v=volts, col_v=bias.col_v, row_r=ohms, col_r=bias.col_r, row_float=bias.row_float,
                        col_float=bias.col_float)
    return LineBias(row_v=bias.row_v, col_v=volts, row_r=bias.row_r, col_r=ohms, row_float=bias.row_float,
                    col_float=bias.col_float)


def sense_through_tia(operate, bias: LineBias, rows: bool, tia, v_plus: np.ndarray):
    """Solve a batch with every sensed line (rows if `rows`, else columns) ending in `tia`.

    operate(bias) -> OperatingPoints solves one LineBias. v_plus: (B, L) + input voltages.
    Returns (currents (B, L) flowing from the array into the sense nodes, TIA outputs (B, L) volts,
    currents (B, K) flowing from the array into the other (driven) terminals).
    """
    region = np.zeros(v_plus.shape, dtype=np.int8)
    for _ in range(_MAX_PASSES):
        volts, ohms = _terminal(tia, v_plus, region)
        current = np.empty(v_plus.shape)
        drivers = np.empty((v_plus.shape[0], bias.shape[1] if rows else bias.shape[0]))
        # A LineBias has one resistance per line: solve each pattern of regions separately.
        patterns, index = np.unique(ohms, axis=0, return_inverse=True)
        for k in range(patterns.shape[0]):
            items = np.flatnonzero(index.ravel() == k)
            part = LineBias(row_v=bias.row_v[items], col_v=bias.col_v[items], row_r=bias.row_r, col_r=bias.col_r,
                            row_float=bias.row_float, col_float=bias.col_float)
            out = operate(_with_sense(part, rows, volts[items], patterns[k]))
            current[items] = out.row_current if rows else out.col_current
            drivers[items] = out.col_current if rows else out.row_current
        v_sense = volts + current * ohms
        v_out = np.where(region == 0, v_sense - current * tia.r_f, region * (tia.v_out_max or 0.0))
        if tia.v_out_max is None:
            return current, v_out, drivers
        new = np.where(v_out > tia.v_out_max, 1, np.where(v_out < -tia.v_out_max, -1, 0)).astype(np.int8)
        # a saturated output stays saturated while the op-amp input still drives it past the rail
        drive = tia.open_loop_gain * (v_plus - v_sense)
        new = np.where(region != 0, np.where(region * drive >= tia.v_out_max, region, 0), new).astype(np.int8)
        if np.array_equal(new, region):
            return current, np.clip(v_out, -tia.v_out_max, tia.v_out_max), drivers
        region = new
    raise ConvergenceError("the TIA output regions did not settle (linear / saturated) in "
                           f"{_MAX_PASSES} passes")


class _Currents:
    """The two terminal-current arrays an operate() result carries."""

    def __init__(self, row_current: np.ndarray, col_current: np.ndarray):
        self.row_current, self.col_current = row_current, col_current


def ideal_array_operate(conductance: np.ndarray, rows: bool):
    """operate(bias) for the ideal backend with TIAs: no wires, ideal drivers, sensed ends behind their resistance.

    Every driven line sits at its source voltage; sensed line j (a column, or a row if `rows`) sits at
    V_j + I_j r_j, so I_j = (sum_i G_ij v_i - V_j sum_i G_ij) / (1 + r_j sum_i G_ij) in closed form.
    """
    g = conductance.T if rows else conductance  # (driven, sensed)
    g_sum = g.sum(axis=0)

    def operate(bias: LineBias):
        v_in, v_src, r = (bias.col_v, bias.row_v, bias.row_r) if rows else (bias.row_v, bias.col_v, bias.col_r)
        sensed = (v_in @ g - v_src * g_sum) / (1 + r * g_sum)
        v_sense = v_src + sensed * r
        drivers = -(v_in * g.sum(axis=1) - v_sense @ g.T)  # from the array into each driver
        return _Currents(row_current=sensed, col_current=drivers) if rows else \
            _Currents(row_current=drivers, col_current=sensed)

    return operate
