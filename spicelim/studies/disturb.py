"""Half-select disturb: how far the other cells of a passive array move while one cell is programmed.

A passive (0T1R) array has no selector, so programming one cell with a pulse of V volts puts a
voltage on every other cell too. The half-select schemes of spicelim.programming choose it:
  "V/2": the cells sharing the selected row or column see V/2, the rest 0 V;
  "V/3": every other cell sees V/3 in magnitude (the unselected ones with the opposite sign).
A cell whose voltage crosses the device's switching threshold changes its state: a disturb.

The study starts every cell at the same state (mid-window by default), applies n identical
pulses to the selected cell (or to a whole row), SET (+V) and separately RESET (-V), for every
scheme and amplitude, and measures the state change of every cell. Changes are reported as
fractions of the device's state range, grouped by what the cell shares with the selected one:
"selected", "same row", "same column" and "unselected". The half-selected cells are those of
the same row or column; the disturb ratio is their largest |change| over the selected cell's.
Pulse counts are applied cumulatively (1, then up to 2, then up to 5 ...), each chunk a
transient starting from the state the previous one left, so one run yields every count.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..backend import TRANSIENT, require
from ..crossbar import Crossbar
from ..devices import VTEAM, SoftBoundsRRAM, StanfordPKU, Yakopcic
from ..devices.base import MemristorModel
from ..errors import InvalidParameterError
from ..params import MAX_LINES
from ..programming import (
    HALF_SELECT_SCHEMES,
    PulseSchedule,
    PulseTiming,
    Slot,
    cell_slot,
    row_slot,
)
from ..programming.pulses import MAX_PULSE_VOLTS
from ..programming.schemes import MAX_PULSES_PER_CELL
from ..validation import (
    array_shape,
    boolean,
    choice,
    choice_list,
    index,
    integer_list,
    number_list,
    real_number,
    show,
)
from .plots import _pyplot

GROUPS = ("selected", "same row", "same column", "unselected")
HALF_SELECTED = ("same row", "same column")
TARGETS = ("cell", "row")
POLARITIES = {"SET": 1.0, "RESET": -1.0}


# ----------------------------------------------------------------------------- device facts
def switching_thresholds(device: MemristorModel) -> tuple[float, float]:
    """The device's positive and negative switching thresholds, volts (v_pos > 0 > v_neg).

    Models with a sharp threshold report it (SoftBoundsRRAM v_set_th / v_reset_th, VTEAM v_off /
    v_on, Yakopcic v_p / -v_n); others (Stanford-PKU, whose switching is gated by the field)
    report +-read_limit, the largest |V| that leaves the state practically untouched.
    """
    if isinstance(device, SoftBoundsRRAM):
        return device.v_set_th, device.v_reset_th
    if isinstance(device, VTEAM):
        return device.v_off, device.v_on
    if isinstance(device, Yakopcic):
        return device.v_p, -device.v_n
    return device.read_limit, -device.read_limit


#: Sweep defaults per model: pulse magnitudes (V) and plateau width (s). Each range lets the
#: half-selected voltage of V/2 cross the switching threshold while V/3 stays below it.
_DEFAULT_SWEEPS: dict[type, tuple[tuple[float, ...], float]] = {
    SoftBoundsRRAM: ((1.2, 1.4, 1.6, 1.8, 2.0, 2.2), 50e-9),  # thresholds +-0.8 V
    VTEAM: ((0.45, 0.55, 0.65, 0.75, 0.85), 1e-6),  # thresholds +-0.3 V
    Yakopcic: ((0.2, 0.25, 0.3, 0.35, 0.4, 0.44), 1e-5),  # thresholds +0.16 / -0.15 V
    StanfordPKU: ((1.6, 1.8, 2.0, 2.2, 2.4, 2.6), 2e-8),  # field-gated, about 1.05 V at g_min
}


def default_sweep(device: MemristorModel) -> tuple[tuple[float, ...], PulseTiming]:
    """Default pulse magnitudes (volts) and slot timing (seconds) for `device`'s model."""
    for kind, (amplitudes, width) in _DEFAULT_SWEEPS.items():
        if isinstance(device, kind):
            return amplitudes, PulseTiming(width=width)
    v_pos, v_neg = switching_thresholds(device)
    v_th = min(v_pos, -v_neg)
    return tuple(np.round(np.linspace(1.5 * v_th, 2.8 * v_th, 6), 6)), PulseTiming()


# ----------------------------------------------------------------------------- geometry
def cell_groups(shape: tuple[int, int], row: int, col: int | None) -> dict[str, np.ndarray]:
    """Boolean (M, N) masks of the groups in GROUPS; col=None selects the whole row."""
    same_row = np.zeros(shape, dtype=bool)
    same_row[row, :] = True
    if col is None:
        selected = same_row
        same_col = ~same_row
        return {"selected": selected, "same row": np.zeros(shape, dtype=bool), "same column": same_col,
                "unselected": np.zeros(shape, dtype=bool)}
    same_col = np.zeros(shape, dtype=bool)
    same_col[:, col] = True
    selected = same_row & same_col
    return {"selected": selected, "same row": same_row & ~selected, "same column": same_col & ~selected,
            "unselected": ~(same_row | same_col)}


def program_slot(shape: tuple[int, int], row: int, col: int | None, amplitude: float, scheme: str) -> Slot:
    """The passive-array slot pulsing cell (row, col), or the whole row when col is None."""
    if col is None:
        return row_slot(shape, "0T1R", row, np.ones(shape[1], dtype=bool), amplitude, scheme)
    return cell_slot(shape, "0T1R", row, col, amplitude, scheme)


def slot_cell_voltages(slot: Slot) -> np.ndarray:
    """(M, N) volts across every cell during the plateau with ideal lines: row level minus column level."""
    return slot.row[:, None] - slot.col[None, :]


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class GroupStats:
    """State change of one group of cells, as fractions of the state range (dimensionless).

    n_cells: cells in the group. nominal_v: the plateau voltage the scheme puts on them with
    ideal lines, volts (None if the group is empty or not uniform). max_abs, mean_abs: largest
    and mean |change|; mean: signed mean change. All None for an empty group.
    """

    n_cells: int
    nominal_v: float | None
    max_abs: float | None
    mean_abs: float | None
    mean: float | None


@dataclass(frozen=True, eq=False)
class DisturbRun:
    """The array after `n_pulses` identical pulses of `amplitude` volts (+ SET, - RESET) under `scheme`.

    change: (M, N) state change of every cell, model units. span: the state range, model units.
    cell_voltage: (M, N) plateau voltage of every cell with ideal lines, volts (from the scheme).
    groups: (M, N) masks of GROUPS.
    """

    scheme: str
    amplitude: float
    n_pulses: int
    change: np.ndarray
    span: float
    cell_voltage: np.ndarray
    groups: dict[str, np.ndarray]

    @property
    def fraction(self) -> np.ndarray:
        """(M, N) state change as a fraction of the state range."""
        return self.change / self.span

    def stats(self, group: str) -> GroupStats:
        mask = self.groups[group]
        if not mask.any():
            return GroupStats(0, None, None, None, None)
        f = self.fraction[mask]
        volts = self.cell_voltage[mask]
        nominal = float(volts[0]) if np.allclose(volts, volts[0], rtol=0, atol=1e-12) else None
        return GroupStats(int(mask.sum()), nominal, float(np.max(np.abs(f))), float(np.mean(np.abs(f))),
                          float(np.mean(f)))

    @property
    def selected_change(self) -> float:
        """Mean signed change of the selected cell(s), fraction of the state range."""
        return float(np.mean(self.fraction[self.groups["selected"]]))

    def _max_abs(self, names) -> float:
        mask = np.zeros_like(self.groups["selected"])
        for name in names:
            mask |= self.groups[name]
        return float(np.max(np.abs(self.fraction[mask]), initial=0.0))

    @property
    def half_selected_max(self) -> float:
        """Largest |change| of a half-selected cell (same row or column), fraction of the state range."""
        return self._max_abs(HALF_SELECTED)

    @property
    def disturb_max(self) -> float:
        """Largest |change| of any cell that is not selected, fraction of the state range."""
        return self._max_abs(("same row", "same column", "unselected"))

    @property
    def disturb_ratio(self) -> float | None:
        """half_selected_max / |selected_change|; None when the selected cell did not move."""
        sel = abs(self.selected_change)
        return self.half_selected_max / sel if sel > 0 else None

    def summary(self) -> dict:
        return {"scheme": self.scheme, "amplitude_v": self.amplitude, "n_pulses": self.n_pulses,
                "selected_change": self.selected_change, "half_selected_max": self.half_selected_max,
                "disturb_max": self.disturb_max, "disturb_ratio": self.disturb_ratio,
                "groups": {g: self.stats(g).__dict__ for g in GROUPS}}


@dataclass(frozen=True, eq=False)
class DisturbStudy:
    """Every run of a half-select disturb sweep and the conditions it ran under.

    model: device class name. shape: (M, N). selected: (row, col), col None for a row target.
    backend: name of the backend that ran it. r_wire, r_source: ohms. timing: the slot timing. state0: initial
    state of every cell, model units; span: state range, model units. thresholds: (v_pos, v_neg)
    volts. amplitudes: pulse magnitudes, volts. seconds: wall time of the sweep.
    """

    model: str
    shape: tuple[int, int]
    selected: tuple[int, int | None]
    backend: str
    r_wire: float
    r_source: float
    timing: PulseTiming
    state0: float
    span: float
    thresholds: tuple[float, float]
    amplitudes: tuple[float, ...]
    pulse_counts: tuple[int, ...]
    schemes: tuple[str, ...]
    polarities: tuple[str, ...]
    runs: list[DisturbRun]
    seconds: float

    def run(self, scheme: str, amplitude: float, n_pulses: int | None = None) -> DisturbRun:
        """The run of `scheme` at the signed `amplitude` (volts) after n_pulses (default: the most)."""
        n = self.pulse_counts[-1] if n_pulses is None else n_pulses
        for r in self.runs:
            if r.scheme == scheme and np.isclose(r.amplitude, amplitude, rtol=0, atol=1e-12) and r.n_pulses == n:
                return r
        raise InvalidParameterError(f"no run with scheme {show(scheme)}, amplitude {amplitude:g} V and {n} pulses")

    def to_json(self) -> dict:
        """The numbers of the study; change maps (fractions of the state range) at the largest count."""
        n_max = self.pulse_counts[-1]
        return {
            "model": self.model, "shape": list(self.shape), "selected": list(self.selected),
            "backend": self.backend, "r_wire_ohm": self.r_wire, "r_source_ohm": self.r_source,
            "timing_s": self.timing.__dict__, "state0": self.state0, "state_range": self.span,
            "thresholds_v": list(self.thresholds), "amplitudes_v": list(self.amplitudes),
            "pulse_counts": list(self.pulse_counts), "schemes": list(self.schemes),
            "polarities": list(self.polarities), "seconds": self.seconds,
            "runs": [r.summary() for r in self.runs],
            "maps": [{"scheme": r.scheme, "amplitude_v": r.amplitude, "n_pulses": r.n_pulses,
                      "fraction": r.fraction.tolist()} for r in self.runs if r.n_pulses == n_max],
        }


# ----------------------------------------------------------------------------- the sweep
def _check_inputs(shape, amplitudes, n_pulses, schemes, polarities, target, cell):
    m, n = array_shape("shape", shape, maximum=MAX_LINES)
    if m < 2 or n < 2:
        raise InvalidParameterError(f"a disturb study needs at least 2 x 2 cells, got {m} x {n}")
    amps = tuple(number_list("pulse amplitude (V)", amplitudes, minimum=0.0, strict=True, maximum=MAX_PULSE_VOLTS))
    counts = tuple(integer_list("n_pulses", n_pulses, 1, MAX_PULSES_PER_CELL))
    schemes = choice_list("schemes", schemes, HALF_SELECT_SCHEMES)
    polarities = choice_list("polarities", polarities, tuple(POLARITIES))
    choice("target", target, TARGETS)
    if cell is None:
        row, col = m // 2, n // 2
    elif isinstance(cell, (tuple, list)) and len(cell) == 2:
        row, col = index("selected row", cell[0], m), index("selected col", cell[1], n)
    else:
        raise InvalidParameterError(f"cell must be a (row, col) pair or None, got {show(cell)}")
    return (m, n), amps, counts, schemes, polarities, (row, None if target == "row" else col)


def half_select_disturb(device: MemristorModel, shape: tuple[int, int] = (16, 16), amplitudes=None,
                        n_pulses=(1, 2, 5, 10, 20), schemes=HALF_SELECT_SCHEMES, backend="fast",
                        r_wire: float = 0.0, r_source: float = 0.0, timing: PulseTiming | None = None,
                        target: str = "cell", cell: tuple[int, int] | None = None, initial_fraction: float = 0.5,
                        polarities=("SET", "RESET"), max_step: float | None = None, backends=None,
                        progress: bool = True) -> DisturbStudy:
    """Program one cell (or row) of a passive array repeatedly and measure every cell's state change.

    Args:
        device: the memristor model in every cell.
        shape: array size (M, N), at least 2 x 2.
        amplitudes: pulse magnitudes, volts (> 0); each is applied as +V (SET) and -V (RESET).
            Default: default_sweep(device).
        n_pulses: pulse count or counts; every count is reported (applied cumulatively).
        schemes: half-select schemes, from ("V/2", "V/3").
        backend: a backend with the transient capability: "fast" (quasi-static nodal transient),
            "spice" (ngspice transient) or a user's own.
        r_wire: resistance of every row and column segment, ohms. r_source: driver resistance, ohms.
        timing: slot timing, seconds (default: default_sweep(device)).
        target: "cell" (one cell) or "row" (every cell of the selected row at once).
        cell: selected (row, col); default the centre cell (M // 2, N // 2).
        initial_fraction: every cell's initial state as a fraction of its state range (0..1).
        polarities: from ("SET", "RESET").
        max_step: longest transient step, seconds (default: the backend's own).
        backends: a spicelim.Backends to share (the caller closes it); default a private one.
        progress: show a tqdm progress bar.
    """
    if not isinstance(device, MemristorModel):
        raise InvalidParameterError(f"device must be a spicelim.devices model, got {type(device).__name__}")
    sweep_amps, sweep_timing = default_sweep(device)
    shape, amps, counts, schemes, polarities, (row, col) = _check_inputs(
        shape, sweep_amps if amplitudes is None else amplitudes, n_pulses, schemes, polarities, target, cell)
    progress = boolean("progress", progress)
    timing = sweep_timing if timing is None else timing
    if not isinstance(timing, PulseTiming):
        raise InvalidParameterError(f"timing must be a PulseTiming, got {type(timing).__name__}")
    frac0 = real_number("initial_fraction", initial_fraction, minimum=0.0, maximum=1.0)
    lo, hi = device.state_bounds
    state0 = float(device.denormalise(frac0))
    r_wire = real_number("r_wire (ohm)", r_wire, minimum=0.0)
    r_source = real_number("r_source (ohm)", r_source, minimum=0.0)
    groups = cell_groups(shape, row, col)
    jobs = [(p, a, s) for p in polarities for a in amps for s in schemes]
    chunks = np.diff(np.concatenate([[0], counts]))
    start = np.full(shape, state0)
    runs: list[DisturbRun] = []
    name = type(device).__name__
    t0 = time.perf_counter()
    with Crossbar(shape[0], shape[1], "0T1R", r_row=r_wire, r_col=r_wire, r_source=r_source, device=device,
                  backends=backends, backend=backend) as xb:
        impl = xb.backend()
        require(impl, TRANSIENT, "the disturb study")
        for polarity, magnitude, scheme in tqdm(jobs, desc=f"{name} disturb ({impl.name})", unit="run",
                                                disable=not progress):
            amplitude = POLARITIES[polarity] * magnitude
            slot = program_slot(shape, row, col, amplitude, scheme)
            volts = slot_cell_voltages(slot)
            xb.set_state(start)
            for count, chunk in zip(counts, chunks):
                schedule = PulseSchedule.from_slots([slot] * int(chunk), timing)
                after = xb.apply_pulses(schedule, max_step=max_step).state
                runs.append(DisturbRun(scheme=scheme, amplitude=amplitude, n_pulses=int(count), change=after - start,
                                       span=hi - lo, cell_voltage=volts, groups=groups))
    return DisturbStudy(model=name, shape=shape, selected=(row, col), backend=impl.name, r_wire=r_wire,
                        r_source=r_source, timing=timing, state0=state0, span=hi - lo,
                        thresholds=switching_thresholds(device), amplitudes=amps, pulse_counts=counts,
                        schemes=schemes, polarities=polarities, runs=runs, seconds=time.perf_counter() - t0)


# ----------------------------------------------------------------------------- report
def format_table(study: DisturbStudy) -> str:
    """A text table of the runs at the largest pulse count (changes in % of the state range)."""
    n_max = study.pulse_counts[-1]
    where = f"cell {study.selected}" if study.selected[1] is not None else f"row {study.selected[0]}"
    head = (f"{study.model}: {study.shape[0]}x{study.shape[1]} passive array, {where} programmed with {n_max}"
            f" pulses of {study.timing.width:g} s, r_wire = {study.r_wire:g} ohm, backend {study.backend}"
            f" ({study.seconds:.1f} s); thresholds {study.thresholds[0]:+g} / {study.thresholds[1]:+g} V")
    columns = (f"{'pulse':>6} {'V':>6} {'scheme':>6} {'selected %':>11} {'same row %':>11} {'same col %':>11}"
               f" {'unselected %':>13} {'ratio':>8}")
    lines = [head, columns]

    def pct(x):
        return "-" if x is None else f"{100 * x:.4f}"

    for r in study.runs:
        if r.n_pulses != n_max:
            continue
        st = {g: r.stats(g) for g in GROUPS}
        ratio = "-" if r.disturb_ratio is None else f"{r.disturb_ratio:.4f}"
        lines.append(f"{'SET' if r.amplitude > 0 else 'RESET':>6} {r.amplitude:>+6.2f} {r.scheme:>6}"
                     f" {pct(r.selected_change):>11} {pct(st['same row'].max_abs):>11}"
                     f" {pct(st['same column'].max_abs):>11} {pct(st['unselected'].max_abs):>13} {ratio:>8}")
    lines.append("(same row / same column / unselected: largest |change|; ratio: largest half-selected |change| /"
                 " |selected change|)")
    return "\n".join(lines)


def plot_disturb_maps(path: Path, study: DisturbStudy, magnitude: float | None = None) -> Path:
    """Change maps (% of the state range) per scheme (columns) and polarity (rows), selected cells greyed.

    magnitude: pulse magnitude to show, volts (default: the largest of the sweep); largest pulse count.
    """
    plt = _pyplot()
    a = max(study.amplitudes) if magnitude is None else magnitude
    rows = [(p, POLARITIES[p] * a) for p in study.polarities]
    fig, axes = plt.subplots(len(rows), len(study.schemes), squeeze=False, layout="constrained",
                             figsize=(3.6 * len(study.schemes) + 1.2, 3.5 * len(rows)))
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.6")
    for k, (polarity, amplitude) in enumerate(rows):
        runs = [study.run(s, amplitude) for s in study.schemes]
        maps = []
        for r in runs:
            f = 100 * r.fraction
            maps.append(np.where(r.groups["selected"], np.nan, f))
        lim = max(max(np.nanmax(np.abs(m), initial=0.0) for m in maps), 1e-12)
        for ax, r, img in zip(axes[k], runs, maps):
            im = ax.imshow(img, cmap=cmap, vmin=-lim, vmax=lim, origin="upper")
            ax.set_title(f"{r.scheme}, {polarity} {r.amplitude:+g} V x {r.n_pulses}\nselected (grey):"
                         f" {100 * r.selected_change:+.3g} %, others: max |change| {100 * r.disturb_max:.3g} %",
                         fontsize=8)
            ax.set_xlabel("column j")
            ax.set_ylabel("row i")
        fig.colorbar(im, ax=list(axes[k]), label="state change (% of range)", shrink=0.9)
    fig.suptitle(f"{study.model}: half-select disturb, {study.shape[0]}x{study.shape[1]} passive array"
                 f" ({study.backend})", fontsize=10)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _threshold_lines(ax, study: DisturbStudy, xmin: float, xmax: float) -> None:
    """Vertical lines at the pulse magnitudes where V, V/2 and V/3 reach the device thresholds."""
    v_pos, v_neg = study.thresholds
    for v_th in sorted({abs(v_pos), abs(v_neg)}):
        for factor, style, label in ((1, ":", "V"), (2, "--", "V/2"), (3, "-.", "V/3")):
            x = factor * v_th
            if xmin <= x <= xmax:
                ax.axvline(x, color="grey", lw=0.9, ls=style)
                ax.annotate(f"{label} = {v_th:g} V", (x, 0.98), xycoords=("data", "axes fraction"), rotation=90,
                            va="top", ha="right", fontsize=7, color="grey")


def plot_disturb_vs_amplitude(path: Path, study: DisturbStudy) -> Path:
    """Largest half-selected |change| (% of range) versus pulse magnitude, per scheme and polarity.

    Grey lines mark the magnitudes where the selected (V), half-selected V/2 and V/3 voltages reach
    the switching thresholds.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    amps = np.array(study.amplitudes)
    for scheme, colour in zip(study.schemes, ("tab:red", "tab:blue")):
        for polarity, style in zip(study.polarities, ("-o", "--s")):
            y = [100 * study.run(scheme, POLARITIES[polarity] * a).half_selected_max for a in amps]
            ax.plot(amps, y, style, color=colour, ms=4, label=f"{scheme} {polarity}")
    v_th = max(abs(t) for t in study.thresholds)
    span = max(amps.max(), 3 * v_th) - amps.min()
    xmin, xmax = amps.min() - 0.05 * span - 1e-3, max(amps.max(), 3 * v_th) + 0.05 * span + 1e-3
    _threshold_lines(ax, study, xmin, xmax)
    ax.set_xlim(xmin, xmax)
    ax.set_xlabel("pulse magnitude |V| (V)")
    ax.set_ylabel("largest half-selected |change| (% of range)")
    ax.set_title(f"{study.model}: disturb after {study.pulse_counts[-1]} pulses, {study.shape[0]}x{study.shape[1]}"
                 f" passive array ({study.backend})", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_disturb_vs_pulses(path: Path, study: DisturbStudy, magnitude: float | None = None) -> Path:
    """Selected change and largest half-selected |change| (% of range) versus pulse count at one magnitude."""
    plt = _pyplot()
    a = max(study.amplitudes) if magnitude is None else magnitude
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    counts = np.array(study.pulse_counts)
    for scheme, colour in zip(study.schemes, ("tab:red", "tab:blue")):
        for polarity, style in zip(study.polarities, ("-o", "--s")):
            runs = [study.run(scheme, POLARITIES[polarity] * a, n) for n in counts]
            ax.plot(counts, [100 * r.half_selected_max for r in runs], style, color=colour, ms=4,
                    label=f"{scheme} {polarity}: half-selected")
    sel = [abs(study.run(study.schemes[0], POLARITIES[study.polarities[0]] * a, n).selected_change) for n in counts]
    ax.plot(counts, 100 * np.array(sel), ":", color="k", label=f"selected cell ({study.polarities[0]}, |change|)")
    ax.set_xscale("log")
    ax.set_xticks(counts, [str(k) for k in counts])
    ax.set_xlabel("number of pulses")
    ax.set_ylabel("|state change| (% of range)")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_title(f"{study.model}: {a:g} V pulses, {study.shape[0]}x{study.shape[1]} passive array"
                 f" ({study.backend})", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_disturb_study(study: DisturbStudy, out_dir) -> list[Path]:
    """Write <model>_disturb_maps.png, _disturb_vs_amplitude.png, _disturb_vs_pulses.png and _disturb.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = study.model.lower()
    files = [plot_disturb_maps(out / f"{name}_disturb_maps.png", study),
             plot_disturb_vs_amplitude(out / f"{name}_disturb_vs_amplitude.png", study),
             plot_disturb_vs_pulses(out / f"{name}_disturb_vs_pulses.png", study)]
    path = out / f"{name}_disturb.json"
    path.write_text(json.dumps(study.to_json(), indent=1))
    return files + [path]
