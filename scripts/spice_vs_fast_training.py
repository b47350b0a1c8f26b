"""The same in-situ training run with every read and update in ngspice, and on the fast backend.

    .venv/bin/python scripts/spice_vs_fast_training.py [--seed 0] [--epochs 3] [--sizes 64,32,10]
        [--fraction 1.0] [--lr 0.2] [--json runs/spice_vs_fast.json]

Digits, an MLP (default 64-32-10), every layer on 1T1R tiles under the realistic conditions (the
arrays.* defaults: TaOx/HfOx preset, 10 % spread, 10 % cycle-to-cycle noise, 0.5 % stuck cells,
1 ohm wires, TIA and 8-bit ADC), trained from random weights by the mixed-precision rule (the
in-situ table's setting) on a fraction of the training set. Run once with backend "spice" on
every layer (forward reads, transposed reads, programming transients and test reads all solved
by ngspice) and once with "fast-slots", from the same seed: same initial devices, same noise
streams, same minibatches. Prints the accuracy
per epoch of both, their difference, and the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from spicelim.learning.experiment import RunConfig, run_experiment


def config(backend: str, args) -> RunConfig:
    sizes = [int(n) for n in args.sizes.split(",")]
    return RunConfig.from_dict({
        "seed": args.seed, "network": {"sizes": sizes}, "software": {"epochs": 20},
        "data": {"fraction": args.fraction}, "arrays": {"pair_update": "both"},
        "training": {"mode": "in-situ", "rule": "mixed", "lr": args.lr, "epochs": args.epochs, "batch_size": 10,
                     "backends": [backend] * (len(sizes) - 1), "transfer_backend": backend}})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--sizes", default="64,32,10")
    ap.add_argument("--fraction", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out = {}
    for backend in ("fast-slots", "spice"):
        t0 = time.perf_counter()
        res = run_experiment(config(backend, args), progress=True)
        out[backend] = {"accuracy": [h["test_accuracy"] for h in res["history"]],
                        "seconds": time.perf_counter() - t0}
        print(f"{backend}: test accuracy per epoch {[round(a, 4) for a in out[backend]['accuracy']]}"
              f" in {out[backend]['seconds']:.0f} s", flush=True)
    diff = out["spice"]["accuracy"][-1] - out["fast-slots"]["accuracy"][-1]
    print("\n| backend | final test accuracy | wall time s |\n|---|---|---|")
    for backend in ("spice", "fast-slots"):
        print(f"| {backend} | {out[backend]['accuracy'][-1]:.2%} | {out[backend]['seconds']:.0f} |")
    print(f"spice - fast: {diff * 100:+.2f} points (seed {args.seed}, {args.epochs} epochs)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"seed": args.seed, "epochs": args.epochs, "sizes": args.sizes,
                                         "fraction": args.fraction, "lr": args.lr, "runs": out,
                                         "difference_points": diff * 100}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
