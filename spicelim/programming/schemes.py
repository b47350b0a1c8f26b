"""Programming schemes: which line carries which voltage in each pulse slot.

Conventions (geometry of DESIGN.md: the device's + terminal is on the row line):
  - SET pulses have a positive amplitude: the selected row is raised, the selected columns stay at 0 V.
  - RESET pulses have a negative amplitude: the selected row stays at 0 V and the selected columns
    are raised to |V|, so the device sees -|V| (for 1T1R this is the source-line RESET of a real
    cell: the selector then conducts with its source on the device side).

Passive (0T1R) arrays protect the other cells by biasing every other line (half-select schemes):
  "V/2": every unselected line at V/2, so half-selected cells see V/2 and the rest 0 V;
  "V/3": unselected rows at V/3 and unselected columns at 2V/3 (mirrored for RESET), so every
         unselected cell sees +-V/3.
1T1R arrays select with the word lines instead: only the selected row's gate is on, and its
voltage limits the current the transistor passes (the compliance). Inhibited columns of the
selected row are held at the row's voltage, so their cells see 0 V.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError
from ..params import CELL_KINDS, MAX_LINES
from ..validation import (
    array_shape,
    bool_array,
    choice,
    finite_array,
    index,
    integer_array,
    positive_int,
    real_number,
)
from .pulses import MAX_PULSE_VOLTS, MAX_SLOTS, PulseTiming, Slot

HALF_SELECT_SCHEMES = ("V/2", "V/3")
#: Most pulses one cell may be given in one update (the schedule grows with it).
MAX_PULSES_PER_CELL = 10_000
#: Most slots per phase of a stochastic outer-product update.
MAX_COINCIDENCE_SLOTS = 100_000


def _check_gate(cell: str, v_gate) -> float | None:
    if cell == "0T1R":
        return None
    if v_gate is None:
        raise InvalidParameterError("a 1T1R array needs the word-line voltage v_gate for programming")
    return real_number("v_gate (V)", v_gate, minimum=-MAX_PULSE_VOLTS, maximum=MAX_PULSE_VOLTS)


def pulse_amplitude(name: str, value, sign: int = 0) -> float:
    """A pulse amplitude, volts, |V| <= MAX_PULSE_VOLTS; sign +1 / -1 asks for a SET / RESET amplitude."""
    v = real_number(f"{name} (V)", value, minimum=-MAX_PULSE_VOLTS, maximum=MAX_PULSE_VOLTS)
    if v == 0 or (sign > 0 and v <= 0) or (sign < 0 and v >= 0):
        want = {1: "> 0 V", -1: "< 0 V", 0: "non-zero"}[sign]
        raise InvalidParameterError(f"{name} must be {want}, got {v:g} V")
    return v


def _timing(timing) -> PulseTiming | None:
    if timing is not None and not isinstance(timing, PulseTiming):
        raise InvalidParameterError(f"timing must be a PulseTiming or None, got {type(timing).__name__}")
    return timing


def _pulse_counts(counts, shape: tuple[int, ...]) -> np.ndarray:
    """Signed pulse numbers (+ SET, - RESET) of `shape`, each of magnitude at most MAX_PULSES_PER_CELL."""
    return integer_array("pulse counts", counts, shape, bound=MAX_PULSES_PER_CELL)


def row_slot(shape: tuple[int, int], cell: str, row: int, active, amplitude: float, scheme: str = "V/2",
             v_gate: float | None = None, scale=None, timing: PulseTiming | None = None) -> Slot:
    """One slot that pulses the cells (row, j) where `active[j]`, with `amplitude` volts (+SET / -RESET).

    scheme: half-select scheme of passive arrays ("V/2" or "V/3"); ignored for 1T1R.
    v_gate: word-line voltage of the selected row (1T1R only), volts.
    scale: optional (N,) factors in (0, 1]: cell (row, j) gets scale[j] * amplitude, by moving its
        column's voltage toward the row's (each column has its own driver).
    timing: the slot's own timing (None: the schedule's default).
    """
    choice("cell", cell, CELL_KINDS)
    m, n = array_shape("shape", shape, maximum=MAX_LINES)
    row = index("row", row, m)
    active = bool_array("active", active, (n,))
    v = pulse_amplitude("pulse amplitude", amplitude)
    choice("scheme", scheme, HALF_SELECT_SCHEMES)
    gate = _check_gate(cell, v_gate)
    timing = _timing(timing)
    a = abs(v)
    scale = np.ones(n) if scale is None else finite_array("scale", scale, (n,))
    if not np.all((scale > 0) & (scale <= 1)):
        raise InvalidParameterError(f"scale must hold ({n},) factors in (0, 1]")
    if cell == "0T1R" and scheme == "V/3" and np.any(scale[active] < 1 / 3):
        # an unselected cell on a scaled column sees a (scale - 2/3): beyond V/3 below scale = 1/3
        raise InvalidParameterError("under the V/3 scheme, scale must be >= 1/3 or unselected cells see more than V/3")
    pulse = a * scale  # per-column pulse magnitude
    rows, cols = np.zeros(m), np.zeros(n)
    if cell == "1T1R":
        if v > 0:
            rows[row] = a
            cols[:] = a
            cols[active] = a - pulse[active]
        else:
            cols[active] = pulse[active]
        gates = np.zeros(m)
        gates[row] = gate
        return Slot(row=rows, col=cols, gate=gates, timing=timing)
    other_row, other_col = (a / 2, a / 2) if scheme == "V/2" else (a / 3, 2 * a / 3)
    if v < 0:  # mirror: the columns carry the pulse
        other_row, other_col = (a / 2, a / 2) if scheme == "V/2" else (2 * a / 3, a / 3)
    rows[:] = other_row
    cols[:] = other_col
    if v > 0:
        rows[row] = a
        cols[active] = a - pulse[active]
    else:
        rows[row] = 0.0
        cols[active] = pulse[active]
    return Slot(row=rows, col=cols, timing=timing)


def cell_slot(shape: tuple[int, int], cell: str, row: int, col: int, amplitude: float, scheme: str = "V/2",
              v_gate: float | None = None, timing: PulseTiming | None = None) -> Slot:
    """One slot that pulses the single cell (row, col); see row_slot."""
    n = array_shape("shape", shape, maximum=MAX_LINES)[1]
    active = np.zeros(n, dtype=bool)
    active[index("col", col, n)] = True
    return row_slot(shape, cell, row, active, amplitude, scheme, v_gate, timing=timing)


def row_update(shape: tuple[int, int], cell: str, row: int, counts, set_amplitude: float, reset_amplitude: float,
               scheme: str = "V/2", v_gate_set: float | None = None, v_gate_reset: float | None = None,
               set_timing: PulseTiming | None = None, reset_timing: PulseTiming | None = None,
               scale=None) -> list[Slot]:
    """Row-parallel update of one row: cell (row, j) gets counts[j] SET pulses (> 0) or -counts[j] RESET pulses.

    All cells of the row that need a k-th SET pulse get it in the same slot; the RESET slots follow.
    set_timing, reset_timing: own timing of SET and RESET slots (None: the schedule's default).
    scale: optional (N,) amplitude factors of the row's cells (see row_slot).
    """
    m, n = array_shape("shape", shape, maximum=MAX_LINES)
    index("row", row, m)
    c = _pulse_counts(counts, (n,))
    pulse_amplitude("set_amplitude", set_amplitude, +1)
    pulse_amplitude("reset_amplitude", reset_amplitude, -1)
    if scale is not None:
        scale = finite_array("scale", scale, (n,))
    slots = [row_slot(shape, cell, row, c > k, set_amplitude, scheme, v_gate_set, scale=scale, timing=set_timing)
             for k in range(max(c.max(), 0))]
    slots += [row_slot(shape, cell, row, -c > k, reset_amplitude, scheme, v_gate_reset, scale=scale,
                       timing=reset_timing) for k in range(max(-c.min(), 0))]
    return slots


def array_update(shape: tuple[int, int], cell: str, counts, set_amplitude: float, reset_amplitude: float,
                 scheme: str = "V/2", v_gate_set: float | None = None, v_gate_reset: float | None = None,
                 set_timing: PulseTiming | None = None, reset_timing: PulseTiming | None = None,
                 scale=None) -> list[Slot]:
    """Row-by-row update of the whole array: counts (M, N) signed pulse numbers; rows with none are skipped.

    scale: optional (M, N) amplitude factors in (0, 1] (see row_slot).
    """
    shape = array_shape("shape", shape, maximum=MAX_LINES)
    c = _pulse_counts(counts, shape)
    if scale is not None:
        scale = finite_array("scale", scale, shape)
    n_slots = int(np.sum(np.maximum(c.max(axis=1), 0)) + np.sum(np.maximum(-c.min(axis=1), 0)))
    if n_slots > MAX_SLOTS:
        raise InvalidParameterError(f"these pulse counts need {n_slots} slots; a schedule holds at most {MAX_SLOTS}")
    slots: list[Slot] = []
    for i in range(shape[0]):
        if np.any(c[i]):
            slots += row_update(shape, cell, i, c[i], set_amplitude, reset_amplitude, scheme, v_gate_set,
                                v_gate_reset, set_timing, reset_timing, scale=None if scale is None else scale[i])
    return slots


def outer_product(shape: tuple[int, int], cell: str, x, delta, set_amplitude: float, reset_amplitude: float,
                  n_slots: int, rng: np.random.Generator, v_gate: float | None = None,
                  v_gate_reset: float | None = None, set_timing: PulseTiming | None = None,
                  reset_timing: PulseTiming | None = None) -> list[Slot]:
    """Fully parallel stochastic outer-product update (pulse coincidence, Gokmen and Vlasov 2016).

    In each of `n_slots` slots per phase, row i fires with probability |x[i]| and column j with
    probability |delta[j]| (both in [-1, 1]). Every line rests at |V|/2; a firing row moves by
    +-|V|/2 and a firing column by the opposite, so only a cell whose row and column fire together
    sees the full pulse V, the rest at most V/2, and no line goes below 0 V (a negative source
    line would forward-bias the selectors' junctions to the grounded substrate). Cell (i, j)
    therefore expects n_slots |x_i delta_j| pulses, SET where x_i delta_j > 0 and RESET where it
    is < 0. Four phases cover the sign combinations (x+ d+, x- d-: SET;
    x+ d-, x- d+: RESET). For 1T1R arrays every word line is on at v_gate (at v_gate_reset in the
    RESET phases, if given). set_timing, reset_timing: own timing of the SET and RESET slots (None:
    the schedule's default).
    """
    choice("cell", cell, CELL_KINDS)
    m, n = array_shape("shape", shape, maximum=MAX_LINES)
    x = finite_array("x", x, (m,))
    d = finite_array("delta", delta, (n,))
    if np.any(np.abs(x) > 1) or np.any(np.abs(d) > 1):
        raise InvalidParameterError("x and delta are firing probabilities: each must lie in [-1, 1]")
    set_amplitude = pulse_amplitude("set_amplitude", set_amplitude, +1)
    reset_amplitude = pulse_amplitude("reset_amplitude", reset_amplitude, -1)
    n_slots = positive_int("n_slots", n_slots, maximum=MAX_COINCIDENCE_SLOTS)
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError("rng must be a numpy Generator (np.random.default_rng(seed))")
    gate = _check_gate(cell, v_gate)
    gate_reset = gate if v_gate_reset is None else _check_gate(cell, v_gate_reset)
    set_timing, reset_timing = _timing(set_timing), _timing(reset_timing)
    slots: list[Slot] = []
    for row_sign, col_sign, amp in ((1, 1, set_amplitude), (-1, -1, set_amplitude),
                                    (1, -1, reset_amplitude), (-1, 1, reset_amplitude)):
        px = np.where(np.sign(x) == row_sign, np.abs(x), 0.0)
        pd = np.where(np.sign(d) == col_sign, np.abs(d), 0.0)
        if not (px.any() and pd.any()):
            continue
        for _ in range(int(n_slots)):
            fire_r = rng.random(m) < px
            fire_c = rng.random(n) < pd
            if not (fire_r.any() and fire_c.any()):
                continue
            half = abs(amp) / 2  # every line sits at |V|/2 unless it fires; a firing line moves by |V|/2
            if amp > 0:  # SET: firing rows up to |V|, firing columns down to 0 V
                row, col = np.where(fire_r, 2 * half, half), np.where(fire_c, 0.0, half)
            else:  # RESET: firing rows down to 0 V, firing columns up to |V|
                row, col = np.where(fire_r, 0.0, half), np.where(fire_c, 2 * half, half)
            g = gate if amp > 0 else gate_reset
            slots.append(Slot(row=row, col=col, gate=None if g is None else np.full(m, g),
                              timing=set_timing if amp > 0 else reset_timing))
    return slots
