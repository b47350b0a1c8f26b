"""The three programming engines on the same updates: ngspice, the quasi-static transient, the slot engine.

    .venv/bin/python scripts/bench_update_engines.py [--size 32] [--seed 0] [--json runs/bench_update_engines.json]

An N x N 1T1R tile of the TaOx/HfOx preset (yao2020_taox_hfox) holding N/2 differential pairs
per row, 1 ohm wires, 10 ohm drivers, random initial conductances, YAO2020_PROGRAMMING pulses,
pairs moved by a SET pulse on one device and a RESET pulse on the other (the in-situ setting);
the pulses each update rule gives (spicelim.learning.tiles.DifferentialTile):
  sign       the sign rule: one pulse pair per weight by a random sign, row by row;
  counts     the mixed-precision and threshold rules: 0 to 3 pulse pairs of either sign per
             weight, row by row;
  outer      the stochastic and Tiki-taka rules: the pulse-coincidence outer product of one
             sample (coincidence_schedule, 10 slots per phase), every word line on, idle lines
             at half the pulse.
For each: wall time per engine, and the error of every cell's conductance change against
ngspice (the reference): max and rms |dG_engine - dG_spice| over the cells that moved, as a
fraction of their mean |dG_spice|, and the largest change of a cell that should not have moved.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import spicelim
from spicelim.comparison import agreement
from spicelim.devices.presets import YAO2020_PROGRAMMING, yao2020_taox_hfox
from spicelim.learning import TileSpec
from spicelim.learning.tiles import DifferentialTile
from spicelim.programming import WritePulses

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_read import machine  # noqa: E402

ENGINES = ("spice", "fast", "fast-slots")


def schedules(n: int, rng) -> dict:
    spec = TileSpec(max_rows=n, max_cols=n, r_wire=1.0, r_source=10.0, pair_update="both", backend="fast-slots")
    tile = DifferentialTile(n, n // 2, spec)
    signs = rng.integers(-1, 2, (n, n // 2))
    counts = rng.integers(-3, 4, (n, n // 2))
    outer, _ = tile.coincidence_schedule(rng.uniform(0, 1, (1, n)), rng.uniform(-1, 1, (1, n // 2)), 10, rng)
    return {"sign": tile.pair_schedule(signs), "counts": tile.pair_schedule(counts), "outer": outer}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    dev = yao2020_taox_hfox()
    n = args.size
    s0 = rng.uniform(dev.g_min, dev.g_max, (n, n))
    rows = []
    print(f"{machine()}; {n}x{n} 1T1R, TaOx/HfOx preset, 1 ohm wires, 10 ohm drivers, seed {args.seed}")
    with spicelim.Crossbar(n, n, "1T1R", r_row=1.0, r_col=1.0, r_source=10.0, device=dev) as xb:
        xb.set_state(s0)  # start the ngspice worker and load the OSDI library outside the timing
        warm = WritePulses.from_conditions(YAO2020_PROGRAMMING).schedule((n, n), "1T1R", np.eye(n, dtype=int))
        xb.apply_pulses(warm, backend="spice")
        for kind, schedule in schedules(n, rng).items():
            final, seconds = {}, {}
            for engine in ENGINES:
                xb.set_state(s0)
                t0 = time.perf_counter()
                final[engine] = xb.apply_pulses(schedule, backend=engine).state
                seconds[engine] = time.perf_counter() - t0
            change = final["spice"] - s0
            moved = np.abs(change) > 1e-6 * (dev.g_max - dev.g_min)
            mean_change = float(np.mean(np.abs(change[moved])))
            row = {"update": kind, "slots": int(schedule.t.size), "cells_moved": int(moved.sum()),
                   "mean_abs_change_S": mean_change, "seconds": seconds}
            for engine in ENGINES[1:]:
                a = agreement(final[engine] - s0, change, scale=mean_change, mask=moved)
                row[engine] = {"max_rel_mean_change": a.max_rel, "rms_rel_mean_change": a.rms_rel,
                               "unmoved_max_change_S": float(np.max(np.abs(final[engine] - s0)[~moved], initial=0))}
            rows.append(row)
    print("\n| update | cells moved | spice s | fast s | fast-slots s | fast: max / rms error | fast-slots: max / rms"
          " error |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["seconds"]
        print(f"| {r['update']} | {r['cells_moved']} | {s['spice']:.2f} | {s['fast']:.2f} | {s['fast-slots']:.2f} |"
              f" {r['fast']['max_rel_mean_change']:.2%} / {r['fast']['rms_rel_mean_change']:.2%} |"
              f" {r['fast-slots']['max_rel_mean_change']:.2%} / {r['fast-slots']['rms_rel_mean_change']:.2%} |")
    print("(errors: |dG - dG_spice| of the cells ngspice moved, as a fraction of their mean |dG_spice|)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"size": n, "seed": args.seed, "updates": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
