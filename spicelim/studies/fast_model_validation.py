"""Validation harness: fast read models against SPICE truth, over a grid, with one report.

Every grid point is a square array (size x size, passive or 1T1R) with wire resistance r_wire per
segment, whose cells are each in HRS (probability hrs_fraction) or LRS, with g_on / g_off =
on_off_ratio; the cells are resistors or memristor models ("device": the TaOx/HfOx preset, VTEAM,
Stanford-PKU), whose states are set to those conductances at the read voltage (clipped into the
device's window; the row records the ratio that results); a batch of random inputs is read by the reference (ngspice) and by every candidate
model. Candidates are backends by name ("ideal", "fast" or any registered backend) or functions
f(params, g, v) -> column currents: by default the two published closed forms of
spicelim.fast.closed_forms ("series-path", NeuroSim's per-cell wire path; "first-order", CrossSim's
first Jacobi step) and any the user passes. Per point and model: the largest and the mean error,
relative to the largest reference current, and seconds per read (one input vector). The points
run as a resumable sweep (spicelim.sweeps) on Dask.

The effect on a trained network: a 64-32-10 network trained in software on the digits, its first
layer on a 64 x 64 array of differential pairs (columns 2k and 2k+1 hold +w and -w of hidden unit
k), inputs as read voltages, the second layer digital. Its test accuracy with every read solved
by ngspice against the accuracy with each model's reads, for each wire resistance and cell.

write_report() turns the results into a markdown table, a CSV, and three plots: error against
array size, error against wire resistance, and time per read against error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..comparison import agreement
from ..errors import InvalidParameterError
from ..fast.closed_forms import CLOSED_FORMS
from ..sweeps import SweepSpec, SweepTask, run_sweep
from ..validation import show

DEFAULT_CANDIDATES = ("ideal", "fast", "series-path", "first-order")
POINT_DEFAULTS = {"models": list(DEFAULT_CANDIDATES), "reference": "spice", "device": "resistor", "size": 32, "cell": "0T1R", "r_wire": 1.0, "r_source": 0.0, "g_on": 2e-5, "on_off_ratio": 10.0,
                  "hrs_fraction": 0.5, "v_read": 0.2, "batch": 8}


def _candidates(models) -> dict:
    """{name: backend name or function} of the models under test (defaults plus the user's)."""
    out: dict = {name: CLOSED_FORMS.get(name, name) for name in DEFAULT_CANDIDATES}
    if models is None:
        return out
    if not isinstance(models, Mapping):
        raise InvalidParameterError(f"models must map names to backend names or functions, got {show(models)}")
    for name, model in models.items():
        if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
            raise InvalidParameterError(f"a model's name must be letters, digits, - and _, got {show(name)}")
        if not (callable(model) or isinstance(model, str)):
            raise InvalidParameterError(f"model {name!r} must be a backend name or a function f(params, g, v),"
                                        f" got {show(model)}")
        out[name] = model
    return out


def _devices() -> dict:
    """Device models a grid point may hold instead of resistors (their default parameters)."""
    from ..devices import VTEAM, StanfordPKU
    from ..devices.presets import yao2020_taox_hfox

    return {"yao2020": yao2020_taox_hfox, "vteam": VTEAM, "stanford-pku": StanfordPKU}


def _levels(p: Mapping, device) -> tuple[float, float]:
    """(HRS, LRS) conductances at the read voltage: g_on and g_on / on_off_ratio, clipped into a device's window."""
    g_on, g_off = p["g_on"], p["g_on"] / p["on_off_ratio"]
    if device is None:
        return g_off, g_on
    window = device.conductance(np.array(device.state_bounds), p["v_read"])
    lo, hi = float(np.min(window)), float(np.max(window))
    return min(max(g_off, lo), hi), min(max(g_on, lo), hi)


def _binary_conductances(p: Mapping, rng, shape, device=None) -> np.ndarray:
    g_off, g_on = _levels(p, device)
    return np.where(rng.random(shape) < p["hrs_fraction"], g_off, g_on)


def _check(p: Mapping) -> None:
    from ..registry import backend_names
    from ..validation import choice, positive_int, real_number

    positive_int("size", p["size"], maximum=1024)
    positive_int("batch", p["batch"], maximum=4096)
    real_number("g_on (S)", p["g_on"], minimum=0.0, strict=True, maximum=1.0)
    real_number("on_off_ratio", p["on_off_ratio"], minimum=1.0, maximum=1e9)
    real_number("hrs_fraction", p["hrs_fraction"], minimum=0.0, maximum=1.0)
    real_number("v_read (V)", p["v_read"], minimum=0.0, strict=True, maximum=10.0)
    choice("reference", p["reference"], backend_names())
    choice("device", p["device"], ("resistor", *_devices()))
    _array(p, None).close()


def _array(p: Mapping, backends):
    from ..crossbar import Crossbar

    device = None if p["device"] == "resistor" else _devices()[p["device"]]()
    return Crossbar(p["size"], p["size"], p["cell"], r_row=p["r_wire"], r_col=p["r_wire"], r_source=p["r_source"],
                    device=device, read_voltage=p["v_read"], backend="ideal", backends=backends)


def _timed(read: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = read()
    return np.asarray(out, dtype=float), time.perf_counter() - t0


def validation_task(models=None) -> SweepTask:
    """The sweep task of one grid point: every candidate model against the point's reference backend.

    The point's "models" parameter lists the candidates' names (it identifies the results); the
    candidates themselves are the defaults plus `models` ({name: backend name or function}).
    """
    candidates = _candidates(models)

    def run(p, seed, backends):
        rng = np.random.default_rng(seed)
        with _array(p, backends) as xb:
            g = _binary_conductances(p, rng, xb.shape, xb.device)
            if xb.device is None:
                xb.set_conductance(g)
            else:  # devices at the states of those conductances; the models see the chord conductances
                xb.set_state(xb.device.state_for_conductance(g, p["v_read"]))
                g = xb.conductance
            v = rng.uniform(0.0, p["v_read"], (p["batch"], xb.shape[0]))
            ref, ref_s = _timed(lambda: xb.read(v, backend=p["reference"]))
            g_off, g_on = _levels(p, xb.device)
            row = {"reference_s_per_read": ref_s / p["batch"], "on_off_effective": g_on / g_off,
                   "eps": float((p["r_source"] + p["r_wire"] * p["size"] / 2) * np.mean(g.sum(axis=1)))}
            for name, model in candidates.items():
                if isinstance(model, str):
                    out, s = _timed(lambda: xb.read(v, backend=model))
                else:
                    out, s = _timed(lambda: model(xb.params, g.copy(), v.copy()))
                if out.shape != ref.shape:
                    raise InvalidParameterError(f"model {name!r} returned shape {out.shape}, not {ref.shape}")
                a = agreement(out, ref)
                row.update({f"{name}_max_error": a.max_rel,
                            f"{name}_mean_error": float(np.mean(np.abs(out - ref))) / a.scale,
                            f"{name}_s_per_read": s / p["batch"]})
            return row

    return SweepTask("validate-read-models", run, POINT_DEFAULTS, check=_check, version=1)


def run_validation(out_dir="runs/validate", *, sizes=(16, 32, 64, 128, 256), r_wires=(0.5, 1.0, 2.5),
                   cells=("0T1R", "1T1R"), on_off_ratios=(10.0,), hrs_fractions=(0.5,), devices=("resistor",),
                   batch: int = 8,
                   models=None, reference: str = "spice", seed: int = 0, workers: int = 2, scheduler=None,
                   accuracy: bool = True, accuracy_r_wires=(1.0, 2.5, 5.0, 10.0), progress: bool = True) -> dict:
    """Run the grid as a resumable sweep in out_dir/points, the network check, and write the report."""
    out = Path(out_dir)
    task = validation_task(models)
    names = list(_candidates(models))
    spec = SweepSpec(task, grid={"size": list(sizes), "r_wire": list(r_wires), "cell": list(cells),
                                 "on_off_ratio": list(on_off_ratios), "hrs_fraction": list(hrs_fractions),
                                 "device": list(devices)},
                     fixed={"batch": batch, "models": names, "reference": reference}, seed=seed, name="validate")
    sweep = run_sweep(spec, out / "sweep", workers=workers, scheduler=scheduler, progress=progress)
    failed = [r for r in sweep.table.to_pylist() if r["status"] != "ok"]
    if failed:
        raise InvalidParameterError(f"{len(failed)} grid point(s) failed, first: {failed[0]['error']}"
                                    f" (results in {sweep.path})")
    acc = network_accuracy(models, r_wires=accuracy_r_wires, cells=cells, reference=reference,
                           seed=seed) if accuracy else []
    return write_report(sweep.table.to_pylist(), acc, names, out)


# ------------------------------------------------------------------------------------- network
def network_accuracy(models=None, *, r_wires=(1.0, 2.5, 5.0, 10.0), cells=("0T1R", "1T1R"), reference="spice",
                     seed: int = 0, g_min: float = 1e-6, g_max: float = 2e-5, v_read: float = 0.2) -> list[dict]:
    """Test accuracy of a digits network whose first layer is read on a 64 x 64 array, per model and case."""
    from ..crossbar import Crossbar
    from ..learning.experiment import RunConfig, load_data, train_software

    cfg = RunConfig.from_dict({"seed": seed, "network": {"sizes": (64, 32, 10)}, "software": {"epochs": 30}})
    data = load_data(cfg)
    net = train_software(cfg, data)
    (w1, b1), (w2, b2) = net.weights()
    w_max = float(np.max(np.abs(w1)))
    g = np.empty((64, 64))
    g[:, 0::2] = g_min + (g_max - g_min) * np.clip(w1, 0, None) / w_max
    g[:, 1::2] = g_min + (g_max - g_min) * np.clip(-w1, 0, None) / w_max
    x = data.test_x / max(float(np.max(data.test_x)), 1e-30)
    scale = w_max / ((g_max - g_min) * v_read) * float(np.max(data.test_x))
    v = x * v_read
    software = net.accuracy(data.test_x, data.test_y)

    def accuracy_of(currents: np.ndarray) -> float:
        hidden = np.maximum((currents[:, 0::2] - currents[:, 1::2]) * scale + (0 if b1 is None else b1), 0)
        logits = hidden @ w2 + (0 if b2 is None else b2)
        return float(np.mean(np.argmax(logits, axis=1) == data.test_y))

    candidates = _candidates(models)
    rows = []
    for cell in cells:
        for r in r_wires:
            with Crossbar(64, 64, cell, r_row=r, r_col=r, read_voltage=v_read, backend="ideal") as xb:
                xb.set_conductance(g)
                truth = accuracy_of(xb.read(v, backend=reference))
                row = {"cell": cell, "r_wire": r, "software": software, "reference": truth}
                for name, model in candidates.items():
                    out = xb.read(v, backend=model) if isinstance(model, str) else model(xb.params, g.copy(), v)
                    row[name] = accuracy_of(np.asarray(out, dtype=float))
                rows.append(row)
    return rows


# ------------------------------------------------------------------------------------- report
def write_report(rows: list[dict], accuracy_rows: list[dict], names: list[str], out_dir) -> dict:
    """Markdown and CSV tables and the three plots from the grid's rows; returns {"table", "files", ...}."""
    from .plots import plot_validation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["| device | on/off | HRS fraction | size | cell | r_wire (ohm) | eps | "
             + " | ".join(f"{n} max / mean (%)" for n in names)
             + " | ngspice s/read | " + " | ".join(f"{n} s/read" for n in names) + " |",
             "|" + "---|" * (7 + 2 * len(names) + 1)]
    order = ("device", "on_off_ratio", "hrs_fraction", "cell", "r_wire", "size")
    for r in sorted(rows, key=lambda r: tuple(r[k] for k in order)):
        errs = " | ".join(f"{100 * r[f'{n}_max_error']:.3g} / {100 * r[f'{n}_mean_error']:.3g}" for n in names)
        times = " | ".join(f"{r[f'{n}_s_per_read']:.2g}" for n in names)
        lines.append(f"| {r['device']} | {r['on_off_effective']:.3g} | {r['hrs_fraction']:g} | {r['size']} |"
                     f" {r['cell']} | {r['r_wire']:g} | {r['eps']:.3g} | {errs} | {r['reference_s_per_read']:.2g} |"
                     f" {times} |")
    table = "\n".join(lines)
    acc_table = ""
    if accuracy_rows:
        acc_lines = ["| cell | r_wire (ohm) | software | ngspice | " + " | ".join(names) + " |",
                     "|" + "---|" * (4 + len(names))]
        for a in accuracy_rows:
            acc_lines.append(f"| {a['cell']} | {a['r_wire']:g} | {100 * a['software']:.2f} | {100 * a['reference']:.2f}"
                             " | " + " | ".join(f"{100 * a[n]:.2f}" for n in names) + " |")
        acc_table = "\n".join(acc_lines)
    # the plots show the grid's first device, on/off ratio and HRS fraction
    first = tuple(rows[0][k] for k in ("device", "on_off_ratio", "hrs_fraction")) if rows else None
    plotted = [r for r in rows if tuple(r[k] for k in ("device", "on_off_ratio", "hrs_fraction")) == first]
    files = [out / "validation.md", out / "validation.json", *plot_validation(plotted, names, out)]
    files[0].write_text("# Fast read models against ngspice\n\nError relative to the largest ngspice current.\n\n"
                        + table + "\n" + ("\n## Test accuracy, digits 64-32-10, first layer on a 64x64 array\n\n"
                                          + acc_table + "\n" if acc_table else ""))
    files[1].write_text(json.dumps({"models": names, "grid": rows, "accuracy": accuracy_rows}, indent=1,
                                   default=str))
    return {"table": table, "accuracy_table": acc_table, "rows": rows, "accuracy": accuracy_rows,
            "files": [str(f) for f in files]}
