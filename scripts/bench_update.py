"""Benchmark of one row-parallel programming (update) step: SPICE versus the fast engine.

    .venv/bin/python scripts/bench_update.py [--rows 64 --cols 64] [--full-array] [--json runs/bench_update.json]

The array: M x N 1T1R cells (--cell 0T1R for a passive array with V/2 half-select) holding the
soft-bounds RRAM preset of Yao et al., Nature 577, 641 (2020) (spicelim.devices.presets.
yao2020_taox_hfox; SPICE runs its Verilog-A model compiled by OpenVAF and loaded through OSDI),
wire resistance r_row = r_col = 1 ohm per segment and r_source = 10 ohm drivers by default, so the
programming pulses see IR drop. The pulses are YAO2020_PROGRAMMING turned into line waveforms by
WritePulses.from_conditions (SET 2.0 V on the bit line with the gate at 1.8 V, RESET 1.8 V on the
source line with the gate at 4.7 V, 50 ns flat tops, 2 ns edges, 10 ns rest after each pulse).

The step is a Manhattan (sign) update: every cell (i, j) gets a sign s[i, j] in {-1, 0, +1},
drawn uniformly from a seeded RNG, and the array is updated row by row. Row i receives one SET
slot that pulses, in parallel, the cells of the row with s = +1, then one RESET slot for the cells
with s = -1; cells with s = 0 are inhibited (WritePulses.schedule(shape, cell, s)).
  row step    the slots of one row (--row; default 0, the row farthest from the column drivers,
              so its cells see the most column-wire drop); the other rows are idle.
  array step  every row in turn: 2 M slots in one transient. Only with --full-array, because
              SPICE needs minutes for it at 64 x 64.
The devices start from states drawn uniformly in [g_min, g_max] (seeded).

Per step it prints:
  spice s       wall time of Crossbar.apply_pulses(backend="spice"): netlist writing, the ngspice
                worker, the transfer of the state vectors (best of --repeats runs for the row step,
                one run for the array step)
  worker s      the part spent in the ngspice worker (SpiceBackend.last_seconds: circuit loading,
                the transient, fetching the vectors) and its share of the total
  fast s        wall time of Crossbar.apply_pulses(backend="fast") (best of the same runs)
  spice/fast    ratio of the two wall times
  points        ngspice's accepted time points and its smallest time step; the fast engine's
                nonlinear network solves (counted); the breakpoints of the schedule
and the agreement of the final states: max and rms |fast - spice| as a fraction of the state
range g_max - g_min, and relative to the mean |state change| (by SPICE) of the pulsed cells,
over all cells, the pulsed cells and the cells that received no pulse; plus the largest change
of a cell that received no pulse (disturb) in each backend.

Then the time-step check on a smaller array (--check-size, default 16 x 16; the row and the array
step unless --check-steps says otherwise):
SPICE at its default largest step (pulse width / 10) against SPICE at a finer one (pulse width /
--fine-divisions, default 40), with the fast engine at its default step (width / 3) and at the
fine step, so the fast-vs-SPICE difference can be set beside SPICE's own time-step error.
Peak resident memory of the ngspice worker and numpy's peak during one fast row step (traced,
untimed) close the report; --json writes everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

import spicelim
from spicelim.comparison import agreement
from spicelim.devices.presets import YAO2020_PROGRAMMING, yao2020_taox_hfox
from spicelim.fast.transient import PulseSolver
from spicelim.programming import WritePulses
from spicelim.spice import SpiceBackend

# the read benchmark's machine line and /proc reader
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_read import machine, status_kb


class TimeAxisRecorder:
    """Wraps a SpiceBackend's NgspiceWorker and keeps the time axis of the last transient.

    Every request also asks ngspice for its `time` vector, which is removed from the answer
    before the backend sees it, so the backend works exactly as without the wrapper. The largest
    time step is read from the netlist's `.tran` line (TMAX).
    """

    def __init__(self, worker):
        self._worker = worker
        self.last_time: np.ndarray | None = None
        self.last_tmax: float | None = None

    def run(self, netlist, vectors, length, **kwargs):
        tran = [ln.split() for ln in netlist.splitlines() if ln.lower().startswith(".tran")]
        self.last_tmax = float(tran[-1][4]) if tran and len(tran[-1]) > 4 else None
        out = self._worker.run(netlist, list(vectors) + ["time"], length, **kwargs)
        self.last_time = out.vectors.pop("time")
        return out

    def __getattr__(self, name):
        return getattr(self._worker, name)


def source_revision() -> str:
    """The git commit of the checkout, with "-dirty" when files differ from it ("?" outside git)."""
    res = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "describe", "--always", "--dirty"],
                         check=False, capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else "?"


def spice_backend(timeout_s: float) -> tuple[SpiceBackend, TimeAxisRecorder]:
    backend = SpiceBackend(timeout_s=timeout_s)
    recorder = TimeAxisRecorder(backend.worker)
    backend.worker = recorder
    return backend, recorder


@contextlib.contextmanager
def counting_fast_solves():
    """Count the fast engine's network solves (PulseSolver.solve calls) inside the block; yields a one-item list.

    The counter wraps the method for the duration of the block only; it costs about a microsecond
    per solve, against milliseconds for the solve itself.
    """
    original = PulseSolver.solve
    count = [0]

    def counted(self, *args, **kwargs):
        count[0] += 1
        return original(self, *args, **kwargs)

    PulseSolver.solve = counted
    try:
        yield count
    finally:
        PulseSolver.solve = original


def make_problem(m: int, n: int, cell: str, seed: int, row: int):
    """Device, pulses, initial states (M, N) and the signs (M, N) of each step kind ("row", "array")."""
    device = yao2020_taox_hfox()
    pulses = WritePulses.from_conditions(YAO2020_PROGRAMMING)
    rng = np.random.default_rng(seed)
    s0 = rng.uniform(device.g_min, device.g_max, (m, n))
    signs = rng.integers(-1, 2, (m, n))
    row_signs = np.zeros_like(signs)
    row_signs[row] = signs[row]
    steps = {"row": row_signs, "array": signs}
    return device, pulses, s0, steps


def state_agreement(test: np.ndarray, ref: np.ndarray, s0: np.ndarray, pulsed: np.ndarray, span: float) -> dict:
    """Differences test - ref of final states, as fractions of the state range and of the mean |change| of ref."""
    change = np.abs(ref - s0)
    mean_change = float(change[pulsed].mean()) if pulsed.any() else float("nan")
    out = {"mean_abs_change_of_pulsed_frac_range": mean_change / span}
    for name, mask in (("all", np.ones_like(pulsed)), ("pulsed", pulsed), ("not_pulsed", ~pulsed)):
        if not mask.any():
            out[name] = None
            continue
        a = agreement(test, ref, scale=span, mask=mask)
        out[name] = {"cells": a.count, "max_frac_range": a.max_rel, "rms_frac_range": a.rms_rel,
                     "max_rel_mean_change": a.max_abs / mean_change, "rms_rel_mean_change": a.rms_abs / mean_change}
    return out


def run_backend(xb, s0, schedule, backend: str, max_step, recorder=None) -> dict:
    """One timed programming transient from s0; wall time, worker time, final states, time-axis facts."""
    xb.set_state(s0)
    spice = xb.backend("spice") if backend == "spice" else None
    with counting_fast_solves() as solves:
        t0 = time.perf_counter()
        final = np.array(xb.apply_pulses(schedule, backend=backend, max_step=max_step).state)
        wall = time.perf_counter() - t0
    out = {"wall_s": wall, "final": final}
    if spice is not None:
        t = recorder.last_time
        out.update(worker_s=spice.last_seconds, time_points=int(t.size), min_dt_s=float(np.min(np.diff(t))),
                   max_step_s=recorder.last_tmax)
    else:
        # the FastBackend's default largest step is a third of the shortest pulse width
        out.update(max_step_s=max_step if max_step is not None else schedule.default_step(3), fast_solves=solves[0])
    return out


def bench_step(xb, recorder, s0, counts, pulses, kind: str, repeats: int, max_step, span: float) -> dict:
    """Time one step kind on both backends (alternating, best kept) and compare their final states."""
    schedule = pulses.schedule(xb.shape, xb.params.cell, counts)
    best: dict[str, dict] = {}
    for _ in range(repeats):
        for backend in ("spice", "fast"):
            res = run_backend(xb, s0, schedule, backend, max_step, recorder)
            if backend not in best or res["wall_s"] < best[backend]["wall_s"]:
                best[backend] = res
    sp, fa = best["spice"], best["fast"]
    pulsed = counts != 0
    slots = int(sum(int(np.any(r > 0)) + int(np.any(r < 0)) for r in counts))
    idle_move = {b: float(np.max(np.abs(best[b]["final"] - s0)[~pulsed], initial=0.0)) / span for b in best}
    return {
        "step": kind, "rows": xb.shape[0], "cols": xb.shape[1], "cell": xb.params.cell,
        "pulsed_cells": int(pulsed.sum()), "set_cells": int((counts > 0).sum()), "reset_cells": int((counts < 0).sum()),
        "slots": slots, "breakpoints": int(schedule.t.size), "duration_s": schedule.duration, "runs": repeats,
        "spice_s": sp["wall_s"], "worker_s": sp["worker_s"], "fast_s": fa["wall_s"], "spice_over_fast": sp["wall_s"] / fa["wall_s"],
        "spice_max_step_s": sp["max_step_s"], "spice_time_points": sp["time_points"], "spice_min_dt_s": sp["min_dt_s"],
        "fast_max_step_s": fa["max_step_s"], "fast_solves": fa["fast_solves"],
        "agreement": state_agreement(fa["final"], sp["final"], s0, pulsed, span),
        "not_pulsed_max_change_frac_range": idle_move,
    }


def check_time_step(m: int, n: int, args, kinds: list[str]) -> list[dict]:
    """SPICE at its default step vs a fine step, with the fast engine at both, on an m x n array."""
    device, pulses, s0, steps = make_problem(m, n, args.cell, args.seed, min(args.row, m - 1))
    span = device.g_max - device.g_min
    fine = min(pulses.set_timing.width, pulses.reset_timing.width) / args.fine_divisions
    backend, recorder = spice_backend(args.timeout)
    rows = []
    try:
        with spicelim.Crossbar(m, n, args.cell, r_row=args.r_row, r_col=args.r_col, r_source=args.r_source,
                               device=device, backends={"spice": backend}) as xb:
            warm_up(xb, device, pulses)
            for kind in kinds:
                counts = steps[kind]
                schedule = pulses.schedule(xb.shape, args.cell, counts)
                runs = {("spice", "default"): run_backend(xb, s0, schedule, "spice", None, recorder),
                        ("spice", "fine"): run_backend(xb, s0, schedule, "spice", fine, recorder),
                        ("fast", "default"): run_backend(xb, s0, schedule, "fast", None),
                        ("fast", "fine"): run_backend(xb, s0, schedule, "fast", fine)}
                pulsed = counts != 0
                pairs = {}
                for (a, b) in ((("fast", "default"), ("spice", "default")), (("fast", "default"), ("spice", "fine")),
                               (("spice", "default"), ("spice", "fine")), (("fast", "fine"), ("spice", "fine")),
                               (("fast", "fine"), ("fast", "default"))):
                    pairs[f"{a[0]} {a[1]} - {b[0]} {b[1]}"] = state_agreement(runs[a]["final"], runs[b]["final"], s0,
                                                                              pulsed, span)
                rows.append({
                    "step": kind, "rows": m, "cols": n, "pulsed_cells": int(pulsed.sum()),
                    "breakpoints": int(schedule.t.size), "fine_max_step_s": fine,
                    "runs": {f"{b} {s}": {k: v for k, v in r.items() if k != "final"} for (b, s), r in runs.items()},
                    "pairs": pairs,
                })
    finally:
        backend.close()
    return rows


def warm_up(xb, device, pulses) -> None:
    """Start the ngspice worker and load the OSDI library outside the timing (one 1 x 2 transient)."""
    with spicelim.Crossbar(1, 2, xb.params.cell, device=device, backends=xb.backends) as tiny:
        tiny.set_state(np.full((1, 2), device.g_min))
        for backend in ("spice", "fast"):
            tiny.apply_pulses(pulses.schedule((1, 2), xb.params.cell, np.array([[1, -1]])), backend=backend)


def fast_numpy_peak(xb, s0, counts, pulses) -> float:
    """numpy's traced allocation peak, MiB, during one fast run of `counts` (untimed: tracing slows it)."""
    xb.set_state(s0)
    tracemalloc.start()
    try:
        xb.apply_pulses(pulses.schedule(xb.shape, xb.params.cell, counts), backend="fast")
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------- printing

def pct(x) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:.3g} %"


def print_main(rows: list[dict]) -> None:
    print("\n| step | array | cells pulsed (SET / RESET) | slots | breakpoints | spice s | worker s (share) | fast s "
          "| spice/fast | spice points (smallest dt) | fast solves |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['rows']}x{r['cols']} {r['cell']} | {r['pulsed_cells']} ({r['set_cells']} / "
              f"{r['reset_cells']}) | {r['slots']} | {r['breakpoints']} | {r['spice_s']:.3f} | {r['worker_s']:.3f} "
              f"({100 * r['worker_s'] / r['spice_s']:.0f} %) | {r['fast_s']:.3f} | {r['spice_over_fast']:.1f} "
              f"| {r['spice_time_points']} ({r['spice_min_dt_s']:.1e} s) | {r['fast_solves']} |")
    spice_steps = ", ".join(sorted({f"{r['spice_max_step_s']:.3g} s" for r in rows}))
    fast_steps = ", ".join(sorted({f"{r['fast_max_step_s']:.3g} s" for r in rows}))
    runs = " / ".join(f"{r['runs']} run{'s' if r['runs'] > 1 else ''} ({r['step']} step)" for r in rows)
    print(f"(largest time step: spice {spice_steps}, fast {fast_steps}; times: best of {runs})")
    print("\nFinal-state agreement, |fast - spice|; 'range' = g_max - g_min, 'mean |change|' = mean |spice final -"
          " initial| over the pulsed cells")
    print("| step | cells | n | max / range | rms / range | max / mean |change| | rms / mean |change| |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        a = r["agreement"]
        for part in ("all", "pulsed", "not_pulsed"):
            p = a[part]
            if p is None:
                continue
            print(f"| {r['step']} | {part.replace('_', ' ')} | {p['cells']} | {pct(p['max_frac_range'])} "
                  f"| {pct(p['rms_frac_range'])} | {pct(p['max_rel_mean_change'])} | {pct(p['rms_rel_mean_change'])} |")
    for r in rows:
        idle = r["not_pulsed_max_change_frac_range"]
        print(f"{r['step']} step: mean |change| of the pulsed cells {pct(r['agreement']['mean_abs_change_of_pulsed_frac_range'])}"
              f" of the range; largest change of a cell without pulse: spice {pct(idle['spice'])}, fast {pct(idle['fast'])}")


def print_check(rows: list[dict]) -> None:
    if not rows:
        return
    r0 = rows[0]
    print(f"\nTime-step check on {r0['rows']}x{r0['cols']}: SPICE default step vs fine step"
          f" ({r0['fine_max_step_s']:.3g} s), fast default vs fine")
    print("| step | run | largest step s | wall s | worker s | points (smallest dt) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        for name, run in r["runs"].items():
            pts = (f"{run['time_points']} ({run['min_dt_s']:.1e} s)" if "time_points" in run
                   else f"{run['fast_solves']} solves")
            worker = f"{run['worker_s']:.3f}" if "worker_s" in run else "-"
            print(f"| {r['step']} | {name} | {run['max_step_s']:.3g} | {run['wall_s']:.3f} | {worker} | {pts} |")
    print("\n| step | difference | pulsed: max / range | pulsed: rms / range | max / mean |change| "
          "| rms / mean |change| | not pulsed: max / range |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        for name, a in r["pairs"].items():
            p, q = a["pulsed"], a["not_pulsed"]
            print(f"| {r['step']} | {name} | {pct(p['max_frac_range'])} | {pct(p['rms_frac_range'])} "
                  f"| {pct(p['max_rel_mean_change'])} | {pct(p['rms_rel_mean_change'])} "
                  f"| {pct(q['max_frac_range']) if q else '-'} |")
    print("('mean |change|' is that of the second run of each pair over the pulsed cells)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--cols", type=int, default=64)
    ap.add_argument("--cell", choices=["1T1R", "0T1R"], default="1T1R")
    ap.add_argument("--r-row", type=float, default=1.0, help="row wire segment, ohms")
    ap.add_argument("--r-col", type=float, default=1.0, help="column wire segment, ohms")
    ap.add_argument("--r-source", type=float, default=10.0, help="driver output resistance, ohms")
    ap.add_argument("--row", type=int, default=0, help="row of the row step")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-step", type=float, default=None,
                    help="largest time step of both backends, seconds (default: each backend's own)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of the row step per backend (best kept)")
    ap.add_argument("--full-array", action="store_true", help="also time the whole-array step (slow in SPICE)")
    ap.add_argument("--check-size", type=int, default=16, help="N of the N x N time-step check (0: skip it)")
    ap.add_argument("--check-steps", nargs="+", choices=["row", "array"], default=["row", "array"])
    ap.add_argument("--fine-divisions", type=int, default=40, help="fine step = pulse width / this")
    ap.add_argument("--timeout", type=float, default=3600.0, help="longest one ngspice run may take, seconds")
    ap.add_argument("--json", default="runs/bench_update.json")
    args = ap.parse_args()
    if not 0 <= args.row < args.rows:
        ap.error(f"--row must lie in [0, {args.rows})")

    m, n = args.rows, args.cols
    device, pulses, s0, steps = make_problem(m, n, args.cell, args.seed, args.row)
    span = device.g_max - device.g_min
    backend, recorder = spice_backend(args.timeout)
    try:
        with spicelim.Crossbar(m, n, args.cell, r_row=args.r_row, r_col=args.r_col, r_source=args.r_source,
                               device=device, backends={"spice": backend}) as xb:
            warm_up(xb, device, pulses)
            gated = xb.params.has_selector
            gate_set = f" gate {pulses.v_gate_set:g} V" if gated else ""
            gate_reset = f" gate {pulses.v_gate_reset:g} V" if gated else ""
            scheme = "" if gated else f", {pulses.scheme} half-select"
            header = (f"{machine()}; libngspice {backend.worker.version} (worker); spicelim {source_revision()}\n"
                      f"{xb!r}, Yao 2020 soft-bounds preset (Verilog-A via OSDI in SPICE), pulses from"
                      f" YAO2020_PROGRAMMING: SET {pulses.set_amplitude:g} V{gate_set}, RESET"
                      f" {pulses.reset_amplitude:g} V{gate_reset}, width {pulses.set_timing.width * 1e9:g} ns{scheme};"
                      f" seed {args.seed}")
            print(header, flush=True)
            print("step: Manhattan update, signs uniform in {-1, 0, +1}; row by row one SET slot (+1 cells) and one"
                  f" RESET slot (-1 cells), columns in parallel. row step = row {args.row} only; array step = all"
                  f" {m} rows" + ("" if args.full_array else " (not run: pass --full-array)"), flush=True)
            kinds = ["row"] + (["array"] if args.full_array else [])
            rows = [bench_step(xb, recorder, s0, steps[k], pulses, k, args.repeats if k == "row" else 1,
                               args.max_step, span) for k in kinds]
            worker_peak = status_kb(backend.worker.pid, "VmHWM") / 1024
            numpy_peak = fast_numpy_peak(xb, s0, steps["row"], pulses)
    finally:
        backend.close()
    print_main(rows)
    print(f"\npeak resident memory of the ngspice worker: {worker_peak:.0f} MB; numpy peak in one fast row step"
          f" (traced): {numpy_peak:.1f} MB", flush=True)

    check = []
    if args.check_size:
        k = args.check_size
        check = check_time_step(k, k, args, args.check_steps)
        print_check(check)

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": header, "args": vars(args), "steps": rows,
                               "worker_peak_mb": worker_peak, "fast_numpy_peak_mb": numpy_peak,
                               "time_step_check": check}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
