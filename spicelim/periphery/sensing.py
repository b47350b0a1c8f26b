"""Sense lines read through TIAs, for every backend that solves plain terminals (fast, ideal, a user's own).

Each sensed line end is replaced by the TIA's equivalent at its operating region:
  - linear region: a source of A0 V_+ / (1 + A0) behind r_f / (1 + A0) (TIA.sense_thevenin);
    an ideal op-amp is the limit, a source V_+ with no resistance (an exact virtual ground);
  - saturated output: the rail voltage behind r_f (the output is a source, the sense node floats
    with the array).
The region of every (read, line) is found by solving, checking the outputs against the rails and
solving again with the saturated lines changed (an active-set iteration; the model is piecewise
linear, so it ends when no region changes). A current injected at a sense node (device read noise)
enters as its Norton equivalent. The SPICE backend puts the op-amp macro model and the injected
current sources in the netlist instead.
"""

from __future__ import annotations

import numpy as np

from ..bias import LineBias, SenseTerminals
from ..errors import ConvergenceError
from ..results import OperatingPoints

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


def solve_with_sense(solve, bias: LineBias, sense: SenseTerminals, name: str) -> OperatingPoints:
    """Solve a batch with every sensed line ending in `sense.tia` (or an ideal virtual ground).

    solve(bias) -> OperatingPoints solves plain terminals (a source behind a resistance per line).
    A current injected at a sense node (sense.injected) flows through the TIA like array current;
    for the array it shifts the terminal's source by I R (the Norton equivalent).
    Returns terminal currents (the sensed ones including the injection) and the TIA outputs.
    """
    rows, tia = sense.rows, sense.tia
    lines = bias.shape[0] if rows else bias.shape[1]
    injected = np.zeros((bias.batch, lines)) if sense.injected is None else sense.injected
    if tia is None:  # ideal virtual grounds: the injection adds to the sensed current only
        out = solve(bias)
        row_i, col_i = out.row_current, out.col_current
        if sense.injected is not None:
            row_i, col_i = (row_i + injected, col_i) if rows else (row_i, col_i + injected)
        return OperatingPoints.from_currents(row_i, col_i, out.conductance, name)
    v_plus = sense.v_plus
    region = np.zeros(v_plus.shape, dtype=np.int8)
    for _ in range(_MAX_PASSES):
        volts, ohms = _terminal(tia, v_plus, region)
        array_i = np.empty(v_plus.shape)
        drivers = np.empty((v_plus.shape[0], bias.shape[1] if rows else bias.shape[0]))
        # A LineBias has one resistance per line: solve each pattern of regions separately.
        if np.all(ohms == ohms[:1]):  # one pattern (every output linear, or saturated alike): no sorting
            patterns, index = ohms[:1], np.zeros(ohms.shape[0], dtype=np.int64)
        else:
            patterns, index = np.unique(ohms, axis=0, return_inverse=True)
        for k in range(patterns.shape[0]):
            items = np.flatnonzero(index.ravel() == k) if patterns.shape[0] > 1 else slice(None)
            part = LineBias(row_v=bias.row_v[items], col_v=bias.col_v[items], row_r=bias.row_r, col_r=bias.col_r,
                            row_float=bias.row_float, col_float=bias.col_float)
            source = volts[items] + injected[items] * patterns[k]
            out = solve(_with_sense(part, rows, source, patterns[k]))
            array_i[items] = out.row_current if rows else out.col_current
            drivers[items] = out.col_current if rows else out.row_current
        current = array_i + injected
        v_sense = volts + current * ohms
        v_out = np.where(region == 0, v_sense - current * tia.r_f, region * (tia.v_out_max or 0.0))
        new = region
        if tia.v_out_max is not None:
            new = np.where(v_out > tia.v_out_max, 1, np.where(v_out < -tia.v_out_max, -1, 0)).astype(np.int8)
            # a saturated output stays saturated while the op-amp input still drives it past the rail
            drive = tia.open_loop_gain * (v_plus - v_sense)
            new = np.where(region != 0, np.where(region * drive >= tia.v_out_max, region, 0), new).astype(np.int8)
        if np.array_equal(new, region):
            if tia.v_out_max is not None:
                v_out = np.clip(v_out, -tia.v_out_max, tia.v_out_max)
            row_i, col_i = (current, drivers) if rows else (drivers, current)
            return OperatingPoints(row_current=row_i, col_current=col_i, row_v=None, device_low_v=None, col_v=None,
                                   conductance=out.conductance, backend=name, sense_out=v_out)
        region = new
    raise ConvergenceError("the TIA output regions did not settle (linear / saturated) in "
                           f"{_MAX_PASSES} passes")
