"""Hybrid training over seeds: software baseline, drop after transfer, recovery by in-situ training of the last layer.

    .venv/bin/python scripts/hybrid_seeds.py [--seeds 0,1,2] [--backend spice] [--levels 8] [--json runs/hybrid.json]

The demo's configuration (spicelim.learning.demo.DEMO: digits, MLP 64-32-10, realistic conditions,
Yao et al.'s threshold-gated closed-loop rule on 30 % of the training set, 2 epochs), with the
last layer's reads and updates on --backend. --levels N programs every device at transfer to
one of N conductances over its window (Yao et al. 2020: 8 per device, 15 weight levels per
pair); the in-situ updates stay analog. Prints per seed: baseline, after transfer, after hybrid
training, the drop and the fraction of it recovered; then mean and standard deviation.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from spicelim.learning.demo import demo_config
from spicelim.learning.experiment import run_experiment


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--backend", default="spice")
    ap.add_argument("--levels", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        cfg = demo_config(seed, args.backend)
        cfg = replace(cfg, arrays=replace(cfg.arrays, transfer_levels=args.levels))
        res = run_experiment(cfg, progress=False)
        base, tr, hy = res["baseline_accuracy"], res["transfer_accuracy"], res["trained_accuracy"]
        drop = base - tr
        row = {"seed": seed, "baseline": base, "transfer": tr, "hybrid": hy, "drop_points": 100 * drop,
               "recovered": (hy - tr) / drop if drop > 0 else float("nan"), "seconds": res["seconds"]}
        rows.append(row)
        print(f"seed {seed}: baseline {base:.2%}, transfer {tr:.2%}, hybrid {hy:.2%}; drop {100 * drop:.2f} points,"
              f" recovered {row['recovered']:.0%} ({res['seconds']:.0f} s)", flush=True)
    levels = f", {args.levels} levels per device at transfer" if args.levels else ""
    print("\n| seed | software baseline | after transfer | after hybrid training | drop (points) | recovered |"
          "\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['baseline']:.2%} | {r['transfer']:.2%} | {r['hybrid']:.2%} |"
              f" {r['drop_points']:.2f} | {r['recovered']:.0%} |")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("baseline", "transfer", "hybrid", "drop_points")}
    sd = {k: float(np.std([r[k] for r in rows])) for k in mean}
    recovered = (mean["hybrid"] - mean["transfer"]) / (mean["baseline"] - mean["transfer"])
    print(f"| mean +- sd | {mean['baseline']:.2%} +- {sd['baseline']:.2%} | {mean['transfer']:.2%} +-"
          f" {sd['transfer']:.2%} | {mean['hybrid']:.2%} +- {sd['hybrid']:.2%} | {mean['drop_points']:.2f} +-"
          f" {sd['drop_points']:.2f} | {recovered:.0%} of the mean drop |")
    print(f"(last layer on {args.backend}{levels})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"backend": args.backend, "levels": args.levels, "seeds": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
