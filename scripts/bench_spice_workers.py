"""Benchmark: the seed system's FC layer read in ngspice by one worker process and by two.

    .venv/bin/python scripts/bench_spice_workers.py [--images 100] [--rounds 2] [--json runs/bench_spice_workers.json]

The layer: the FC layer of `spicelim reproduce yao2020` (192 inputs and a bias row, 10 outputs) on
128 x 16 1T1R tiles of the TaOx/HfOx preset (2 x 2 tiles), 1 ohm wires, 8-bit bit-serial inputs
at 0.2 V, a TIA and an 8-bit ADC on every column, the weights set directly (uniform in +-w_max)
and the ADCs calibrated. Timed, in alternating rounds (the machine is noisy):
  forward   one minibatch: --images feature vectors (ReLU-like, seeded) through the tiles; 8 reads
            per image and tile (one per input bit), i.e. 32 x --images operating points
  verify    one verify read of every device (AnalogLinear.measured_weights: one-hot rows)
with SpiceBackend(workers=1) and SpiceBackend(workers=2). Prints the best time of each, their
ratio, and the largest difference between the two backends' outputs (weight units).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from spicelim.learning import AnalogLinear
from spicelim.spice import SpiceBackend
from spicelim.studies.yao2020 import Yao2020Config


def layer(workers: int) -> tuple[AnalogLinear, SpiceBackend]:
    cfg = Yao2020Config()
    spice = SpiceBackend(workers=workers)
    fc = AnalogLinear(192, 10, cfg.arrays.spec("spice", 0.7), seed=0, backends={"spice": spice})
    rng = np.random.default_rng(0)
    fc.set_weights(rng.uniform(-0.7, 0.7, (192, 10)), rng.uniform(-0.7, 0.7, 10))
    return fc, spice


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    x = np.maximum(np.random.default_rng(1).normal(0.5, 1.0, (args.images, 192)), 0.0)
    layers = {w: layer(w) for w in (1, 2)}
    for fc, _ in layers.values():
        fc.calibrate(x[:20])  # ADC full scales (read in ngspice; not timed)
    times = {w: {"forward": [], "verify": []} for w in layers}
    outputs = {}
    for r in range(args.rounds):
        for w in ((1, 2) if r % 2 == 0 else (2, 1)):
            fc, _ = layers[w]
            t0 = time.perf_counter()
            y = fc.forward(x)
            t1 = time.perf_counter()
            m = fc.measured_weights()
            t2 = time.perf_counter()
            times[w]["forward"].append(t1 - t0)
            times[w]["verify"].append(t2 - t1)
            outputs[w] = (y, m)
            print(f"round {r + 1}, {w} worker(s): forward {t1 - t0:.1f} s, verify {t2 - t1:.1f} s", flush=True)
    for _, spice in layers.values():
        spice.close()
    best = {w: {k: min(v) for k, v in t.items()} for w, t in times.items()}
    result = {"images": args.images, "operating_points_forward": 32 * args.images, "best_seconds": best,
              "speedup": {k: best[1][k] / best[2][k] for k in ("forward", "verify")},
              "max_output_difference": float(np.abs(outputs[1][0] - outputs[2][0]).max()),
              "max_verify_difference": float(np.abs(outputs[1][1] - outputs[2][1]).max())}
    print(f"{'':10}{'1 worker':>12}{'2 workers':>12}{'ratio':>8}")
    for k in ("forward", "verify"):
        print(f"{k:10}{best[1][k]:>10.1f} s{best[2][k]:>10.1f} s{result['speedup'][k]:>8.2f}")
    print(f"largest difference of the outputs {result['max_output_difference']:.2e}, of the verify reads"
          f" {result['max_verify_difference']:.2e} (weight units)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
