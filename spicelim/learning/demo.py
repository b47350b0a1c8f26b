"""The main demonstration: hybrid training on digits with the last layer on ngspice-simulated 1T1R tiles.

A 64-32-10 network is trained in software, written by write-verify onto TaOx/HfOx 1T1R tiles under
the realistic conditions (10 % device-to-device spread, 10 % cycle-to-cycle noise, 0.5 % stuck
cells, 1 ohm per wire segment, a TIA and an 8-bit ADC on every line), and its last layer is
then trained in situ with Yao et al.'s threshold-gated closed-loop rule on part of the training
set. The run is made twice from the same seed: with every read and update of the last layer in
ngspice, and with the fast backend (slot engine). The first layer stays on the fast backend in
both. The transfer's write-verify runs on the slot engine (see README: limits).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..spice.backend import SpiceBackend
from ..validation import non_negative_int, path_value
from .experiment import RunConfig, run_experiment
from .plots import plot_accuracy, plot_conductances
from .trainer import CHECKPOINT, METRICS

DEMO = {"data": {"fraction": 0.3}, "training": {"mode": "hybrid", "rule": "threshold", "lr": 0.5,
                                                "threshold": 0.5, "epochs": 2, "batch_size": 10}}


def demo_config(seed: int, last_layer_backend: str) -> RunConfig:
    raw = {"seed": seed, **{k: dict(v) for k, v in DEMO.items()}}
    raw["training"]["backends"] = ["fast-slots", last_layer_backend]
    return RunConfig.from_dict(raw)


def run_demo(out, seed: int = 0, progress: bool = True) -> dict:
    """Run the demonstration into `out`; returns accuracies (0..1), seconds and the files written."""
    out = path_value("out", out)
    seed = non_negative_int("seed", seed, maximum=2**32 - 1)
    t0 = time.perf_counter()
    runs = {}
    for label, backend in (("spice", "spice"), ("fast", "fast-slots")):
        run_dir = out / label
        (run_dir / CHECKPOINT).unlink(missing_ok=True)  # a demo always starts afresh
        runs[label] = run_experiment(demo_config(seed, backend), run_dir=run_dir, progress=progress)
    spice, fast = runs["spice"], runs["fast"]
    files = [str(out / label / METRICS) for label in runs]
    files.append(str(plot_accuracy(out / "accuracy.png",
                                   {"last layer in ngspice": [h["test_accuracy"] for h in spice["history"]],
                                    "last layer on the fast backend": [h["test_accuracy"] for h in fast["history"]]},
                                   {"software baseline": spice["baseline_accuracy"],
                                    "after transfer (ngspice reads)": spice["transfer_accuracy"]})))
    before, after = spice["trainer"].conductance_changes()
    last = sorted(k for k in before if k.startswith(f"layer{len(spice['network'].layers) - 1}_"))
    files.append(str(plot_conductances(out / "conductances.png", np.concatenate([before[k].ravel() for k in last]),
                                       np.concatenate([after[k].ravel() for k in last]),
                                       "last layer (ngspice): conductances and their changes")))
    files += write_netlist_example(spice["network"], out / "netlists")
    return {"seed": seed, "baseline_accuracy": spice["baseline_accuracy"],
            "transfer_accuracy": spice["transfer_accuracy"], "hybrid_accuracy": spice["trained_accuracy"],
            "fast_transfer_accuracy": fast["transfer_accuracy"], "fast_hybrid_accuracy": fast["trained_accuracy"],
            "spice_seconds": spice["seconds"], "fast_seconds": fast["seconds"],
            "seconds": time.perf_counter() - t0, "files": files}


def write_netlist_example(network, folder: Path) -> list[str]:
    """Keep the netlist of one forward read of the trained last layer's first tile (a file per read)."""
    tile = network.layers[-1].tiles[0][0]
    with SpiceBackend(run_dir=folder, keep_netlists=True) as spice:
        tile.array.read(np.full(tile.n_in, tile.spec.v_read), backend=spice)
        return [str(spice.last_netlist_path)] if spice.last_netlist_path is not None else []


def format_table(res: dict) -> str:
    rows = [("software baseline", res["baseline_accuracy"], res["baseline_accuracy"]),
            ("after write-verify transfer", res["transfer_accuracy"], res["fast_transfer_accuracy"]),
            ("after hybrid in-situ training", res["hybrid_accuracy"], res["fast_hybrid_accuracy"])]
    lines = ["| digits 64-32-10, test accuracy | last layer in ngspice | last layer on the fast backend |",
             "|---|---|---|"]
    lines += [f"| {label} | {100 * a:.2f} % | {100 * b:.2f} % |" for label, a, b in rows]
    lines.append(f"(seed {res['seed']}; ngspice run {res['spice_seconds']:.0f} s, fast run {res['fast_seconds']:.0f} s,"
                 f" total {res['seconds']:.0f} s)")
    return "\n".join(lines)
