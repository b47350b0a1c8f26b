"""Programming study: write-verify against open-loop programming of a 1T1R array with device non-idealities.

A 1T1R array of the TaOx/HfOx soft-bounds preset (devices.presets, Yao et al. 2020 conditions)
with wire resistance, cycle-to-cycle noise, device-to-device spread and stuck cells is programmed
from random states to random conductance targets twice: closed loop (write-verify, reading
every cell between pulses) and open loop (the nominal cell's pulse count, no reads). The study
reports the fraction of healthy cells within tolerance, the pulses used, the stuck cells found,
and plots target against result, the error distributions and the cells still being pulsed per
write-verify iteration.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..crossbar import Crossbar
from ..devices.presets import YAO2020_PROGRAMMING, yao2020_taox_hfox
from ..programming.write_verify import WritePulses, program_open_loop, write_verify
from ..variability import Variability
from .plots import _pyplot


def run_programming_study(out_dir, size: int = 32, backend: str = "fast", r_wire: float = 1.0, c2c: float = 0.1,
                          d2d: float = 0.1, stuck: float = 0.01, max_pulses: int = 60, seed: int = 0) -> dict:
    """Program a size x size 1T1R array both ways; write plots and programming.json into out_dir."""
    dev = yao2020_taox_hfox()
    pulses = WritePulses.from_conditions(YAO2020_PROGRAMMING)
    tol = YAO2020_PROGRAMMING.verify_tolerance
    var = Variability(c2c=c2c, d2d={"alpha_set": d2d, "alpha_reset": d2d},
                      stuck_on=stuck / 2, stuck_off=stuck / 2, seed=seed)
    rng = np.random.default_rng(seed)
    s0 = rng.uniform(dev.g_min, dev.g_max, (size, size))
    target = rng.uniform(dev.g_min + 0.05 * (dev.g_max - dev.g_min), dev.g_max - 0.15 * (dev.g_max - dev.g_min),
                         (size, size))
    reports, seconds = {}, {}
    for label, program in (("write-verify", write_verify), ("open loop", program_open_loop)):
        with Crossbar(size, size, cell="1T1R", r_row=r_wire, r_col=r_wire, r_source=10.0, device=dev,
                      variability=var) as xb:
            xb.set_state(s0)
            t0 = time.perf_counter()
            kwargs = {"progress": True} if program is write_verify else {}
            reports[label] = program(xb, target, pulses, tol, max_pulses=max_pulses, backend=backend, **kwargs)
            seconds[label] = time.perf_counter() - t0
    summary = {"size": size, "backend": backend, "r_wire_ohm": r_wire, "tolerance_S": tol, "c2c": c2c, "d2d": d2d,
               "stuck_fraction": stuck, "seed": seed, "methods": {}}
    for label, rep in reports.items():
        healthy = rep.stuck == 0
        summary["methods"][label] = {
            "healthy_within_tolerance": rep.healthy_success_rate,
            "stuck_cells": int((~healthy).sum()),
            "reported_unresponsive": int(rep.unresponsive.sum()),
            "unresponsive_that_are_stuck": int((rep.unresponsive & ~healthy).sum()),
            "mean_pulses": float(rep.pulses.mean()),
            "max_pulses": int(rep.pulses.max()),
            "iterations": rep.iterations,
            "rms_error_healthy_S": float(np.sqrt(np.mean(rep.error[healthy] ** 2))),
            "seconds": seconds[label],
        }
    out = Path(out_dir)  # written only once everything has been simulated
    out.mkdir(parents=True, exist_ok=True)
    summary["files"] = _plots(out, reports, tol)
    (out / "programming.json").write_text(json.dumps(summary, indent=2))
    return summary


def _plots(out: Path, reports: dict, tol: float) -> list[str]:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    for label, rep in reports.items():
        healthy = rep.stuck == 0
        axes[0].plot(rep.target[healthy] * 1e6, rep.conductance[healthy] * 1e6, ".", ms=2, alpha=0.6, label=label)
        axes[1].hist(rep.error[healthy] * 1e6, bins=80, histtype="step", label=label)
    wv = reports["write-verify"]
    axes[0].plot(wv.target[wv.stuck != 0] * 1e6, wv.conductance[wv.stuck != 0] * 1e6, "kx", ms=5, label="stuck cells")
    lims = [wv.target.min() * 1e6, wv.target.max() * 1e6]
    axes[0].plot(lims, lims, "k-", lw=0.8)
    axes[0].set_xlabel("target conductance (uS)")
    axes[0].set_ylabel("programmed conductance (uS)")
    axes[0].legend(fontsize=8)
    for x in (-tol, tol):
        axes[1].axvline(x * 1e6, color="k", lw=0.8, ls="--")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("programmed - target, healthy cells (uS); dashed: tolerance")
    axes[1].legend(fontsize=8)
    axes[2].plot(np.arange(1, len(wv.cells_pulsed) + 1), wv.cells_pulsed, marker=".")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("write-verify iteration")
    axes[2].set_ylabel("cells pulsed")
    n = wv.target.shape[0]
    fig.suptitle(f"Programming a {n}x{n} 1T1R TaOx/HfOx array: write-verify vs open loop", fontsize=11)
    fig.tight_layout()
    path = out / "programming.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [str(path)]
