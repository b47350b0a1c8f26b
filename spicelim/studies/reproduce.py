"""`spicelim reproduce yao2020`: the seed experiment over several seeds, and its sensitivity table.

    res = reproduce_yao2020({"arrays": {"r_wire": 2.0}}, "runs/yao2020", seeds=[0, 1, 2])
    table = sensitivity_yao2020({}, "runs/yao2020-sensitivity",
                                {"arrays.r_wire": [1, 20], "arrays.adc_bits": [4, 6], "arrays.d2d": [0.0, 0.3]})

Seeds run one after the other into <out>/seed-<s>/ (each resumable, see studies.yao2020) and the
report (<out>/report.md, <out>/summary.json) sets every seed and their mean beside the paper;
<out>/seeds.png plots every seed's accuracies and the fraction of the drop hybrid training won back.

The sensitivity table varies one setting at a time from the base configuration (a dotted key of
the configuration and its values). Every variant is a point of a resumable sweep on Dask
(spicelim.sweeps: a LocalCluster by default, or a scheduler address), each running the whole
experiment in its own folder with the test set read in the worker itself; variants of the arrays,
the training or the circuit share the base's software baseline (trained once). The table: accuracy after transfer and after hybrid
training, the recovered fraction and the energy efficiency of every variant.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..checkpoint import atomic_write
from ..errors import InvalidParameterError
from ..sweeps import SweepSpec, SweepTask, run_sweep
from ..validation import non_negative_int, path_value, show
from .yao2020 import (
    SEED_PAPER,
    Yao2020Config,
    format_report,
    load_images,
    recovery,
    run_yao2020,
    software_baseline,
)

#: The sensitivity table's default variations (each value of each key once, the rest at the base:
#: 1 ohm wires, 8-bit ADCs, 10 % device-to-device spread, 1 % stuck devices, no relaxation).
SENSITIVITY = {"arrays.r_wire": [10.0, 40.0], "arrays.adc_bits": [4, 6], "arrays.d2d": [0.0, 0.3],
               "arrays.stuck": [0.005, 0.02], "arrays.relaxation": [0.03, 0.1]}


def with_setting(raw: dict, key: str, value) -> dict:
    """A copy of the nested configuration `raw` with `key` ("section.name", or a top-level name) set to `value`."""
    if not isinstance(raw, dict):
        raise InvalidParameterError(f"the configuration must be a table of sections, got {show(raw)}")
    if not isinstance(key, str) or not key or key.count(".") > 1:
        raise InvalidParameterError(f"a setting is named section.key (or seed), got {show(key)}")
    try:
        out = json.loads(json.dumps(raw, allow_nan=False))
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidParameterError("settings must be plain values: numbers, strings, booleans, lists, tables")
    section, _, name = key.partition(".")
    if not name:
        out[section] = value
    else:
        if not isinstance(out.get(section, {}), dict):
            raise InvalidParameterError(f"[{section}] must be a table")
        out.setdefault(section, {})[name] = value
    return out


def _config(raw) -> Yao2020Config:
    if not isinstance(raw, dict):
        raise InvalidParameterError(f"the configuration must be a table of sections, got {show(raw)}")
    return Yao2020Config.from_dict(raw)


def reproduce_yao2020(raw: dict, out, seeds=(0,), progress: bool = True) -> dict:
    """Run the experiment for every seed (configuration `raw` over the defaults); returns results and report."""
    out = path_value("out", out)
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise InvalidParameterError("seeds must be a non-empty list of integers")
    seeds = [non_negative_int("seed", s, maximum=2**32 - 1) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise InvalidParameterError(f"seeds repeat: {seeds}")
    configs = [_config(with_setting(raw, "seed", s)) for s in seeds]  # every seed's configuration checked first
    results = [run_yao2020(cfg, out / f"seed-{cfg.seed}", progress=progress) for cfg in configs]
    report = format_report(results)
    atomic_write(out / "report.md", lambda tmp: Path(tmp).write_text(report + "\n"))
    atomic_write(out / "summary.json", lambda tmp: Path(tmp).write_text(json.dumps(results, indent=1)))
    plot = plot_seeds(out / "seeds.png", results)
    return {"results": results, "report": report,
            "files": [str(out / "report.md"), str(out / "summary.json"), str(plot)]}


def plot_seeds(path: Path, results: list[dict]) -> Path:
    """Every seed's accuracies (baseline, after transfer, FC exact, after hybrid training and with exact
    updates) and the fraction of the drop hybrid training won back, in situ and with exact updates, beside
    the paper's."""
    from ..learning.plots import _pyplot

    plt = _pyplot()
    seeds = np.arange(len(results))
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    rows = (("software baseline", "baseline", "o"), ("after transfer", "after_transfer", "v"),
            ("after transfer, FC exact", "exact_fc", "s"), ("after hybrid training", "after_hybrid", "^"),
            ("with exact updates", "exact_updates", "x"))
    for label, key, marker in rows:
        acc = [r[key] if key == "baseline" else r[key]["all"] for r in results]
        a.plot(seeds, 100 * np.asarray(acc), marker=marker, linestyle="none", label=label)
    a.set_ylabel("MNIST test accuracy (%)")
    a.legend(fontsize=7)
    width = 0.38
    for k, (label, key) in enumerate((("hybrid training", "recovery"), ("exact updates", "recovery_exact_updates"))):
        b.bar(seeds + (k - 0.5) * width, [100 * (r[key] if r[key] is not None else np.nan) for r in results],
              width, label=label)
    paper = SEED_PAPER
    b.axhline(100 * recovery(paper["baseline"], paper["transfer"], paper["hybrid"]), color="k", linestyle="--",
              label="Yao et al. 2020")
    b.axhline(0, color="k", linewidth=0.5)
    b.set_ylabel("drop recovered (%)")
    b.legend(fontsize=7)
    for ax in (a, b):
        ax.set_xticks(seeds, [f"seed {r['seed']}" for r in results], fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _variant(params: dict) -> tuple[str, dict]:
    """(folder name, configuration) of a sensitivity point: the base, or the base with one key changed."""
    raw = json.loads(params["config"])
    if not params["variant"]:
        return "base", raw
    key, _, value = params["variant"].partition("=")
    return params["variant"], with_setting(raw, key, json.loads(value))


def _sensitivity_point(params: dict, seed: int, backends) -> dict:
    name, raw = _variant(params)
    raw = with_setting(raw, "system", {**raw.get("system", {}), "eval_workers": 0})  # no Dask inside a Dask worker
    cfg = Yao2020Config.from_dict(raw)
    folder = Path(params["out"]) / name
    folder.mkdir(parents=True, exist_ok=True)
    shared = Path(params["out"]) / "software.npz"
    if _shares_software(params["variant"]) and shared.exists() and not (folder / "software.npz").exists():
        shutil.copyfile(shared, folder / "software.npz")
    res = run_yao2020(cfg, folder, progress=False)
    return {"baseline": res["baseline"], "after_transfer": res["after_transfer"]["all"],
            "after_hybrid": res["after_hybrid"]["all"],
            "gops_per_watt": res["energy"]["gops_per_watt"], "experiment_seconds": sum(res["seconds"].values())}


def _shares_software(variant: str) -> bool:
    """True when a variant's software baseline is the base's: it changes the arrays, the training or the circuit."""
    key = variant.partition("=")[0]
    return not key or key.split(".")[0] in ("arrays", "training") or key in ("system.groups", "system.conv_backend",
                                                                            "system.t_read", "system.eval_workers")


def _check_point(params: dict) -> None:
    Yao2020Config.from_dict(_variant(params)[1])


SENSITIVITY_TASK = SweepTask("yao2020-sensitivity", _sensitivity_point,
                             defaults={"config": "{}", "variant": "", "out": ""}, check=_check_point)


def sensitivity_yao2020(raw: dict, out, variations: dict | None = None, *, scheduler=None, workers: int = 2,
                        progress: bool = True) -> dict:
    """One experiment per value of each varied key (the others at `raw`'s), as a resumable Dask sweep."""
    out = path_value("out", out)
    base = _config(raw)
    variations = SENSITIVITY if variations is None else variations
    if not isinstance(variations, dict) or not variations:
        raise InvalidParameterError("variations must map dotted configuration keys to lists of values")
    variants = [""]
    for key, values in variations.items():
        if not isinstance(key, str) or "." not in key or not isinstance(values, (list, tuple)) or not values:
            raise InvalidParameterError(f"a variation is a dotted key (e.g. arrays.r_wire) and a list of values,"
                                        f" got {show(key)}: {show(values)}")
        variants += [f"{key}={json.dumps(v)}" for v in values]
    # the configuration as given (not base.as_dict()): defaults that follow a setting, such as the ADC's
    # conversion energy following its bits, must follow it in the variants too
    config = json.dumps(with_setting(raw, "seed", base.seed))
    spec = SweepSpec(SENSITIVITY_TASK, grid={"variant": variants}, fixed={"config": config, "out": str(out)},
                     name="yao2020 sensitivity")
    for variant in variants:  # every variant's configuration checked before anything runs
        _check_point({"config": config, "variant": variant})
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "software.npz").exists():  # the shared software baseline (every variant: same seed and data)
        software_baseline(base, load_images(base), out, progress)
    res = run_sweep(spec, out / "sweep", scheduler=scheduler, workers=workers, progress=progress)
    rows = res.table.to_pylist()
    table = format_sensitivity(rows)
    atomic_write(out / "sensitivity.md", lambda tmp: Path(tmp).write_text(table + "\n"))
    return {"rows": rows, "table": table, "files": [str(out / "sensitivity.md")] + [str(f) for f in res.files]}


def format_sensitivity(rows: list[dict]) -> str:
    """One line per variant: software baseline, accuracy after transfer and after hybrid training, recovery, GOP/s/W."""
    lines = ["| variant | software baseline | after transfer | after hybrid training | recovered | GOP/s/W | s |",
             "|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["variant"].partition("=")[0], _number(r["variant"]))):
        label = r["variant"].replace("=", " = ") or "base"
        if r.get("status") != "ok":
            lines.append(f"| {label} | failed: {r.get('error', '')} | | | | | |")
            continue
        rec = recovery(r["baseline"], r["after_transfer"], r["after_hybrid"])
        lines.append(f"| {label} | {100 * r['baseline']:.2f} % | {100 * r['after_transfer']:.2f} % |"
                     f" {100 * r['after_hybrid']:.2f} % | {'-' if rec is None else f'{100 * rec:.0f} %'} |"
                     f" {r['gops_per_watt']:,.0f} | {r['experiment_seconds']:.0f} |")
    return "\n".join(lines)


def _number(variant: str) -> float:
    try:
        return float(json.loads(variant.partition("=")[2] or "0"))
    except (TypeError, ValueError):
        return 0.0
