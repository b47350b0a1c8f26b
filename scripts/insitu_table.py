"""Full in-situ training of every layer with every rule on arrays, under the realistic conditions, over seeds.

    .venv/bin/python scripts/insitu_table.py [--rules mixed,sign,...] [--seeds 0,1,2] [--json runs/insitu.json]

Digits, MLP 64-32-10, both layers on 1T1R tiles of the TaOx/HfOx preset (arrays.* defaults of
spicelim.learning.experiment: 10 % device-to-device spread, 10 % cycle-to-cycle noise, 0.5 %
stuck cells, 1 ohm per wire segment, TIA and 8-bit ADC on every line), pairs updated by SET on
one device and RESET on the other, the slot engine for every update (backend "fast-slots"),
from random Glorot-uniform weights. Each rule runs with the settings in RULE_SETTINGS (lr, and the
rule's own knobs; chosen on seed 0 by short runs). The sign and threshold rules run 5 epochs
(they stop improving or collapse before that), the outer-product rules 2, because each sample's
pulse trains are simulated slot by slot (see the printed seconds per epoch).
Prints a table of test accuracy per seed, mean and standard deviation, and seconds per epoch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from spicelim.learning.experiment import RunConfig, run_experiment

RULE_SETTINGS = {
    "mixed": {"lr": 0.2, "epochs": 10},
    "sign": {"lr": 2.0, "threshold": 0.5, "epochs": 5},
    "threshold": {"lr": 0.2, "threshold": 0.25, "iterations": 2, "epochs": 5},
    "stochastic": {"lr": 0.2, "bl": 10, "epochs": 2},
    "tiki-taka": {"lr": 0.2, "bl": 10, "transfer_lr": 0.3, "transfer_rows": 8, "chop": 0.5, "epochs": 2},
}


def config(rule: str, seed: int) -> RunConfig:
    return RunConfig.from_dict({
        "seed": seed, "software": {"epochs": 20},
        "arrays": {"pair_update": "both"},
        "training": {"mode": "in-situ", "rule": rule, "batch_size": 10, **RULE_SETTINGS[rule]}})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", default=",".join(RULE_SETTINGS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rules = args.rules.split(",")
    unknown = set(rules) - set(RULE_SETTINGS)
    if unknown:
        ap.error(f"unknown rule(s): {', '.join(sorted(unknown))} (known: {', '.join(RULE_SETTINGS)})")
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for rule in rules:
        accs, per_epoch = [], []
        for seed in seeds:
            t0 = time.perf_counter()
            res = run_experiment(config(rule, seed), progress=False)
            hist = res["history"]
            accs.append(res["trained_accuracy"])
            per_epoch.append(float(np.mean([h["read_seconds"] + h["update_seconds"] for h in hist])))
            print(f"{rule} seed {seed}: {res['trained_accuracy']:.2%} after {len(hist)} epochs"
                  f" ({time.perf_counter() - t0:.0f} s; per epoch {[round(h['test_accuracy'], 4) for h in hist]})",
                  flush=True)
        rows.append({"rule": rule, "settings": RULE_SETTINGS[rule], "seeds": seeds, "accuracy": accs,
                     "mean": float(np.mean(accs)), "std": float(np.std(accs)),
                     "seconds_per_epoch": float(np.mean(per_epoch))})
    print("\n| rule | settings | " + " | ".join(f"seed {s}" for s in seeds) + " | mean +- sd | s / epoch |")
    print("|---|---|" + "---|" * len(seeds) + "---|---|")
    for r in rows:
        knobs = ", ".join(f"{k} {v}" for k, v in r["settings"].items())
        print(f"| {r['rule']} | {knobs} | " + " | ".join(f"{a:.2%}" for a in r["accuracy"])
              + f" | {r['mean']:.2%} +- {r['std']:.2%} | {r['seconds_per_epoch']:.1f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
