"""Device curves: a pinched hysteresis loop under a sine, and conductance versus pulse number (LTP/LTD).

Each curve is simulated with the Verilog-A model in ngspice, its behavioural twin, and the numpy
equations, so the plot shows at a glance whether the three implementations agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..devices.base import MemristorModel
from ..devices.simulate import simulate
from ..spice.worker import NgspiceWorker
from .plots import _pyplot

IMPLEMENTATIONS = (("spice", "verilog-a"), ("spice", "behavioural"), ("fast", None))


def sine(amplitude: float, frequency: float, periods: int = 2, points_per_period: int = 400):
    t = np.linspace(0.0, periods / frequency, periods * points_per_period + 1)
    return t, amplitude * np.sin(2 * np.pi * frequency * t)


def pulse_train(amplitudes, width: float, gap: float, edge: float):
    """PWL of rectangular pulses; returns t, v and the times at the middle of each gap (read points)."""
    t, v, reads = [0.0], [0.0], []
    for a in amplitudes:
        t0 = t[-1] + gap
        reads.append(t[-1] + gap / 2)
        t += [t0, t0 + edge, t0 + edge + width, t0 + 2 * edge + width]
        v += [0.0, a, a, 0.0]
    t.append(t[-1] + gap)
    v.append(0.0)
    reads.append(t[-1] - gap / 2)
    return np.array(t), np.array(v), np.array(reads)


def device_curves(dev: MemristorModel, out_dir: Path, *, sine_amplitude: float, sine_frequency: float,
                  set_amplitude: float, reset_amplitude: float, pulse_width: float, pulses: int,
                  state0: float | None = None, v_read: float = 0.1) -> dict:
    """Write `<model>_hysteresis.png` and `<model>_ltp_ltd.png`; return the numbers plotted."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lo, hi = dev.state_bounds
    s0 = (lo + hi) / 2 if state0 is None else state0
    name = type(dev).__name__.lower()
    t_s, v_s = sine(sine_amplitude, sine_frequency)
    t_p, v_p, reads = pulse_train([set_amplitude] * pulses + [reset_amplitude] * pulses, pulse_width,
                                  gap=pulse_width, edge=pulse_width / 50)
    # The pulse train starts near the bound that the first (SET-polarity) pulses move away from.
    rising = dev.state_rate(np.array([set_amplitude]), np.array([(lo + hi) / 2]))[0] > 0
    ltp_start = lo + 0.02 * (hi - lo) if rising else hi - 0.02 * (hi - lo)
    results: dict = {"model": name, "hysteresis": {}, "ltp_ltd": {}}
    worker = NgspiceWorker()
    try:
        for backend, twin in tqdm(IMPLEMENTATIONS, desc=f"{name} curves", unit="implementation"):
            label = twin or "numpy"
            kw = {"worker": worker} if backend == "spice" else {}
            loop = simulate(dev, t_s, v_s, state0=s0, backend=backend, twin=twin, **kw)
            train = simulate(dev, t_p, v_p, state0=ltp_start, backend=backend, twin=twin, **kw)
            g = dev.conductance(np.interp(reads, train.t, train.state), v_read)
            results["hysteresis"][label] = {"v": loop.v.tolist(), "i": loop.current.tolist()}
            results["ltp_ltd"][label] = g.tolist()
    finally:
        worker.close()

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    for label, curve in results["hysteresis"].items():
        ax.plot(curve["v"], np.asarray(curve["i"]) * 1e6, label=label, lw=1.2)
    ax.set_xlabel("voltage (V)")
    ax.set_ylabel("current (uA)")
    ax.set_title(f"{name}: {sine_amplitude:g} V, {sine_frequency:g} Hz sine (pinched hysteresis)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"{name}_hysteresis.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    for marker, (label, g) in zip("os^", results["ltp_ltd"].items()):
        ax.plot(np.arange(len(g)), np.asarray(g) * 1e6, marker=marker, ms=3, lw=1, label=label)
    ax.axvline(pulses, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(f"pulse number ({pulses} x {set_amplitude:g} V, then {pulses} x {reset_amplitude:g} V;"
                  f" {pulse_width * 1e9:g} ns)")
    ax.set_yscale("log")
    ax.set_ylabel(f"conductance at {v_read:g} V (uS)")
    ax.set_title(f"{name}: conductance versus pulse number", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"{name}_ltp_ltd.png", dpi=120)
    plt.close(fig)
    results["files"] = [str(out / f"{name}_{kind}") for kind in ("hysteresis.png", "ltp_ltd.png", "curves.json")]
    (out / f"{name}_curves.json").write_text(json.dumps(results))
    return results
