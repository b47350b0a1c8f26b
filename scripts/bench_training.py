"""Seconds per training epoch: every layer on the fast backend, and the last layer in ngspice.

    .venv/bin/python scripts/bench_training.py [--epochs 3] [--json runs/bench_training.json]

1. Fast backend: digits MLP 64-32-10 trained in situ (both layers on 1T1R tiles with 1 ohm wires,
   selectors, TIA and 8-bit ADC on every line, spread, noise and stuck cells: the realistic
   conditions), mixed-precision rule, reads by the fast backend and updates by the slot engine.
   One epoch = 1,438 training images: forward reads of both layers, transposed reads of the
   last, the updates, and the test-set read (359 images). Every minibatch is one programming
   step of every array (and a fresh factorisation for the next reads), so the epoch's cost
   depends on the minibatch: run with 10 (lr 0.2, the in-situ table's setting) and with 32
   (lr 0.6). The cost also falls as training converges (fewer pairs need pulses).
2. SPICE in the loop: the hybrid demo's last layer (33 x 20 devices) trained with every forward
   read, transposed read, programming transient and verify read in ngspice, on 30 % of the
   training set (431 images) with the threshold rule; the first layer on the fast backend.
Epoch time = the trainer's read and update wall time (metrics.csv columns read_seconds and
update_seconds), averaged over the epochs run; both cases in one run of this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from spicelim.learning.demo import demo_config
from spicelim.learning.experiment import RunConfig, run_experiment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_read import machine  # noqa: E402


def epoch_seconds(cfg: RunConfig) -> tuple[float, float, float, dict]:
    res = run_experiment(cfg, progress=False)
    hist = res["history"]
    reads = float(np.mean([h["read_seconds"] for h in hist]))
    updates = float(np.mean([h["update_seconds"] for h in hist]))
    return reads + updates, reads, updates, {"accuracy": [h["test_accuracy"] for h in hist],
                                             "per_epoch_s": [h["read_seconds"] + h["update_seconds"] for h in hist]}


def in_situ(epochs: int, batch_size: int, lr: float) -> RunConfig:
    return RunConfig.from_dict({"seed": 0, "software": {"epochs": 20}, "arrays": {"pair_update": "both"},
                                "training": {"mode": "in-situ", "rule": "mixed", "lr": lr, "epochs": epochs,
                                             "batch_size": batch_size}})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    spice = demo_config(0, "spice")
    spice = RunConfig.from_dict({**spice.as_dict(), "training": {**spice.as_dict()["training"],
                                                                  "epochs": args.epochs}})
    print(machine())
    rows = {}
    cases = (("fast backend, both layers in situ, minibatch 10", in_situ(args.epochs, 10, 0.2)),
             ("fast backend, both layers in situ, minibatch 32", in_situ(args.epochs, 32, 0.6)),
             ("ngspice, last layer (hybrid), minibatch 10", spice))
    for label, cfg in cases:
        total, reads, updates, extra = epoch_seconds(cfg)
        rows[label] = {"seconds_per_epoch": total, "read_seconds": reads, "update_seconds": updates, **extra}
        print(f"{label}: {total:.2f} s per epoch (reads {reads:.2f} s, updates {updates:.2f} s)", flush=True)
    print("\n| case | s / epoch (mean) | reads s | updates s | s per epoch | test accuracy per epoch |"
          "\n|---|---|---|---|---|---|")
    for label, r in rows.items():
        print(f"| {label} | {r['seconds_per_epoch']:.2f} | {r['read_seconds']:.2f} | {r['update_seconds']:.2f} |"
              f" {', '.join(f'{x:.2f}' for x in r['per_epoch_s'])} |"
              f" {', '.join(f'{100 * a:.2f} %' for a in r['accuracy'])} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
