"""Programming pulses on the lines of an array: timing, and the schedule every backend simulates.

A `PulseSchedule` gives the source voltage of every row driver, column driver and (1T1R) word
line as piecewise-linear waveforms on one time axis. Schedules are built from *slots*: in each
slot every line ramps from 0 V to its own level in `rise`, holds it for `width`, ramps back in
`fall`, then rests at 0 V for `gap`. A line's level is its programming voltage (selected lines),
its half-select bias (V/2 or V/3 schemes) or 0 V. Programming schemes (schemes.py) only choose
the levels; this module turns them into waveforms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import finite_array, real_number

#: Largest line voltage of a programming pulse or word line, volts.
MAX_PULSE_VOLTS = 100.0
#: Shortest pulse width, edge or (non-zero) gap, seconds.
MIN_PULSE_TIME = 1e-15
#: Most slots in one schedule.
MAX_SLOTS = 200_000
#: Most intervals of the largest time step a transient may be cut into (schedule duration / max_step).
MAX_TIME_STEPS = 200_000


@dataclass(frozen=True)
class PulseTiming:
    """Timing of one programming slot, seconds.

    width: flat top (> 0). rise, fall: linear edges (> 0). gap: rest at 0 V after the pulse (>= 0).
    """

    width: float = 50e-9
    rise: float = 2e-9
    fall: float = 2e-9
    gap: float = 10e-9

    def __post_init__(self):
        for name in ("width", "rise", "fall"):
            value = real_number(f"pulse {name} (s)", getattr(self, name))
            if not MIN_PULSE_TIME <= value <= 1.0:
                raise InvalidParameterError(f"pulse {name} must lie in [{MIN_PULSE_TIME:g}, 1] s, got {value:g}")
            object.__setattr__(self, name, value)
        gap = real_number("pulse gap (s)", self.gap)
        if not (gap == 0 or MIN_PULSE_TIME <= gap <= 1.0):
            raise InvalidParameterError(f"pulse gap must be 0 or lie in [{MIN_PULSE_TIME:g}, 1] s, got {gap:g}")
        object.__setattr__(self, "gap", gap)

    @property
    def period(self) -> float:
        return self.rise + self.width + self.fall + self.gap


@dataclass(frozen=True, eq=False)
class Slot:
    """Line levels (volts) during one pulse slot: rows (M,), columns (N,), word lines (M,) or None.

    timing: this slot's own timing (None: the schedule's default timing).
    """

    row: np.ndarray
    col: np.ndarray
    gate: np.ndarray | None = None
    timing: PulseTiming | None = None

    def __post_init__(self):
        for name in ("row", "col", "gate"):
            value = getattr(self, name)
            if value is None and name == "gate":
                continue
            arr = finite_array(f"slot {name} levels (V)", value)
            if arr.ndim != 1 or arr.size < 1:
                raise ShapeError(f"slot {name} levels must be a 1-D array, got shape {arr.shape}")
            if np.any(np.abs(arr) > MAX_PULSE_VOLTS):
                raise InvalidParameterError(f"slot {name} levels must lie within +-{MAX_PULSE_VOLTS:g} V")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.gate is not None and self.gate.shape != self.row.shape:
            raise ShapeError("slot gate levels need one word line per row")
        if self.timing is not None and not isinstance(self.timing, PulseTiming):
            raise InvalidParameterError(f"slot timing must be a PulseTiming or None, got {type(self.timing).__name__}")


@dataclass(frozen=True, eq=False)
class PulseSchedule:
    """Source waveforms of every line end during one programming transient.

    Attributes:
        t: (K,) strictly increasing times, seconds, starting at 0.
        row_v: (K, M) row-driver source voltages, volts.
        col_v: (K, N) column-driver source voltages, volts.
        gate_v: (K, M) word-line voltages for 1T1R arrays, volts; None for passive arrays.
        timing: the default slot timing the schedule was built with (None for a hand-made schedule).
        pulse_width: the shortest pulse width of its slots, seconds (None for a hand-made schedule).
    """

    t: np.ndarray
    row_v: np.ndarray
    col_v: np.ndarray
    gate_v: np.ndarray | None = None
    timing: PulseTiming | None = None
    pulse_width: float | None = None

    def __post_init__(self):
        t = finite_array("schedule t (s)", self.t)
        if t.ndim != 1 or t.size < 2:
            raise ShapeError(f"schedule t must be 1-D with at least 2 points, got shape {t.shape}")
        if t[0] != 0 or np.any(np.diff(t) <= 0):
            raise InvalidParameterError("schedule t must start at 0 s and increase strictly")
        arrays = {"t": t}
        if self.row_v is None or self.col_v is None:
            raise InvalidParameterError("a schedule needs row_v and col_v waveforms")
        for name in ("row_v", "col_v", "gate_v"):
            value = getattr(self, name)
            if value is None:
                continue
            arr = finite_array(f"schedule {name} (V)", value)
            if arr.ndim != 2 or arr.shape[0] != t.size:
                raise ShapeError(f"schedule {name} must be ({t.size}, lines), got {arr.shape}")
            arrays[name] = arr
        if self.gate_v is not None and arrays["gate_v"].shape[1] != arrays["row_v"].shape[1]:
            raise ShapeError("schedule gate_v needs one word line per row")
        for name, arr in arrays.items():
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.row_v.shape[1], self.col_v.shape[1])

    @property
    def duration(self) -> float:
        return float(self.t[-1])

    def check_step(self, max_step: float | None) -> float | None:
        """`max_step` (seconds, > 0, or None for the backend's default of a tenth of the shortest pulse
        width at the finest) if the transient stays within MAX_TIME_STEPS intervals of it."""
        finest = self.default_step(10)
        step = finest if max_step is None else real_number("max_step (s)", max_step, minimum=0.0, strict=True)
        if self.duration / step > MAX_TIME_STEPS:
            what = f"max_step {step:g} s" if max_step is not None else f"its pulses (default step {step:g} s)"
            raise InvalidParameterError(f"{what} would cut this {self.duration:g} s schedule into more than"
                                        f" {MAX_TIME_STEPS} steps: the step must be at least"
                                        f" {self.duration / MAX_TIME_STEPS:g} s")
        return None if max_step is None else step

    def default_step(self, per_width: int) -> float:
        """1/per_width of the shortest pulse width (of the shortest breakpoint interval for a hand-made schedule)."""
        width = self.pulse_width if self.pulse_width else float(np.min(np.diff(self.t)))
        return width / per_width

    @classmethod
    def from_slots(cls, slots: list[Slot], timing: PulseTiming) -> PulseSchedule:
        """Concatenate slots: each ramps every line to its level, holds it, ramps back, rests.

        `timing` is the default; a slot with its own timing (SET and RESET widths differ) uses that.
        """
        if not isinstance(slots, (list, tuple)) or not slots or not all(isinstance(x, Slot) for x in slots):
            raise InvalidParameterError("a pulse schedule needs at least one slot: a non-empty list of Slot")
        if len(slots) > MAX_SLOTS:
            raise InvalidParameterError(f"a pulse schedule holds at most {MAX_SLOTS} slots, got {len(slots)}")
        if not isinstance(timing, PulseTiming):
            raise InvalidParameterError("timing must be a PulseTiming")
        m, n = np.shape(slots[0].row), np.shape(slots[0].col)
        if any(np.shape(x.row) != m or np.shape(x.col) != n or (x.gate is not None and np.shape(x.gate) != m)
               for x in slots) or len(m) != 1 or len(n) != 1:
            raise ShapeError("every slot needs the same (M,) row, (N,) column and (M,) word-line levels")
        gated = slots[0].gate is not None
        if any((s.gate is not None) != gated for s in slots):
            raise InvalidParameterError("either every slot sets the word lines or none does")
        k = len(slots)
        timings = [s.timing or timing for s in slots]
        if not all(isinstance(x, PulseTiming) for x in timings):
            raise InvalidParameterError("slot timings must be PulseTiming")
        periods = np.array([x.period for x in timings])
        start = np.concatenate([[0.0], np.cumsum(periods)[:-1]])
        offsets = np.array([[0.0, x.rise, x.rise + x.width, x.rise + x.width + x.fall] for x in timings])
        t = (start[:, None] + offsets).ravel()
        on = np.array([0.0, 1.0, 1.0, 0.0])

        def waves(levels: list[np.ndarray]) -> np.ndarray:
            lv = np.stack(levels)  # (k, lines)
            return (on[None, :, None] * lv[:, None, :]).reshape(4 * k, lv.shape[1])

        row, col = waves([s.row for s in slots]), waves([s.col for s in slots])
        gate = waves([s.gate for s in slots]) if gated else None
        if timings[-1].gap > 0:  # rest at 0 V until the end of the last slot's gap
            t = np.append(t, periods.sum())
            row, col = np.vstack([row, row[-1:]]), np.vstack([col, col[-1:]])
            gate = None if gate is None else np.vstack([gate, gate[-1:]])
        keep = np.append(np.diff(t) > 0, True)  # slots without a gap: one's end (0 V) is the next one's start
        t, row, col = t[keep], row[keep], col[keep]
        gate = None if gate is None else gate[keep]
        return cls(t=t, row_v=row, col_v=col, gate_v=gate, timing=timing,
                   pulse_width=min(x.width for x in timings))

    def interpolate(self, when: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Source voltages at times `when` (L,): (L, M), (L, N), (L, M) or None."""
        def at(arr):
            idx = np.clip(np.searchsorted(self.t, when, side="right") - 1, 0, self.t.size - 2)
            frac = ((when - self.t[idx]) / (self.t[idx + 1] - self.t[idx]))[:, None]
            return arr[idx] + (arr[idx + 1] - arr[idx]) * frac
        return at(self.row_v), at(self.col_v), None if self.gate_v is None else at(self.gate_v)
