"""What one sweep point runs: a task turns a parameter set and a seed into a row of metrics.

Built-in tasks:

- "read": a random array read with random inputs on one backend, through an optional TIA and
  ADC. Metrics: its error against the ideal product v @ G and, when a reference backend is named,
  against that backend's answer (both relative to the largest current), and seconds per read.
- "train": one learning experiment (spicelim.learning.experiment) with any of its configuration
  keys as dotted parameters ("arrays.r_wire", "training.lr", "seed", ...). Metrics: the software
  baseline, the accuracy after transfer to the arrays and after training on them.

A user's own task is a SweepTask around any function f(params, seed, backends) -> {metric: value}
(`backends` is the spicelim.Backends of the worker running the point: one ngspice worker process
per Dask worker). Tasks check a point's parameters before anything runs, and never ask which
backend they were given: they pass names on to the arrays.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..errors import InvalidParameterError
from ..validation import positive_int, show

#: a parameter every task accepts: a replicate number, which changes the point's id and so its seed
REPLICATE = "replicate"
#: the number of a point's random draw (a column of random designs; part of the point's id)
SAMPLE = "sample"
#: parameters of the design that the task itself does not see
DESIGN_PARAMETERS = (REPLICATE, SAMPLE)


@dataclass(frozen=True)
class SweepTask:
    """A named function run at every point of a sweep.

    name: saved with the results (and part of every point's id).
    run: f(params: dict, seed: int, backends: spicelim.Backends) -> dict of metrics (numbers or strings).
    defaults: every parameter the task takes, with its default value; a sweep may vary only these.
    check: optional f(params) raising InvalidParameterError for a bad parameter set; called for
        every point before the sweep starts.
    backend_parameter: the parameter naming the backend the point runs on (recorded per row), if any.
    version: bump when the task's numbers change, so old results are not resumed into a new table.
    """

    name: str
    run: Callable
    defaults: Mapping = field(default_factory=dict)
    check: Callable | None = None
    backend_parameter: str | None = None
    version: int = 1

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError(f"a task's name must be a non-empty string, got {show(self.name)}")
        if not callable(self.run):
            raise InvalidParameterError(f"task {self.name!r}: run must be callable, got {show(self.run)}")
        if self.check is not None and not callable(self.check):
            raise InvalidParameterError(f"task {self.name!r}: check must be callable or None")
        if not isinstance(self.defaults, Mapping) or not all(isinstance(k, str) for k in self.defaults):
            raise InvalidParameterError(f"task {self.name!r}: defaults must map parameter names to values")
        reserved = set(self.defaults) & set(DESIGN_PARAMETERS)
        if reserved:
            raise InvalidParameterError(f"task {self.name!r}: {', '.join(sorted(reserved))} is a name the sweep"
                                        " design uses; call the parameter something else")
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        if self.backend_parameter is not None and (not isinstance(self.backend_parameter, str)
                                                   or self.backend_parameter not in self.defaults):
            raise InvalidParameterError(f"task {self.name!r}: backend_parameter {show(self.backend_parameter)} is"
                                        " not one of its parameters")
        object.__setattr__(self, "version", positive_int("task version", self.version))

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.defaults)


# --------------------------------------------------------------------------- read
READ_DEFAULTS = {
    "rows": 32, "cols": 32, "cell": "0T1R",
    "r_wire": 2.5,  # ohms per segment, rows and columns
    "r_source": 0.0,  # driver output resistance, ohms
    "device": "resistor",  # or a device preset name (its own conductance window)
    "g_min": 1e-6, "g_max": 2e-5,  # siemens: HRS and LRS of resistor cells
    "pattern": "uniform",  # "uniform" in [g_min, g_max], or "binary": HRS with probability hrs_fraction
    "hrs_fraction": 0.5,
    "v_read": 0.2,  # inputs uniform in [0, v_read], volts
    "batch": 8,  # input vectors per point
    "tia_r_f": 0.0,  # ohms; 0: ideal virtual ground, no TIA
    "tia_gain": 0.0,  # op-amp open-loop gain; 0: ideal
    "adc_bits": 0,  # 0: no ADC (needs a TIA)
    "backend": "spice",
    "reference": "none",  # a second backend to compare with, or "none"
}
PATTERNS = ("uniform", "binary")


def _presets() -> dict:
    from ..devices.presets import yao2020_taox_hfox

    return {"yao2020": yao2020_taox_hfox}


def _read_check(p: Mapping) -> None:
    from ..registry import backend_names
    from ..validation import choice, non_negative_int, positive_int, real_number

    presets = _presets()
    choice("device", p["device"], ("resistor", *presets))
    choice("pattern", p["pattern"], PATTERNS)
    positive_int("batch", p["batch"], maximum=4096)
    non_negative_int("adc_bits", p["adc_bits"], maximum=16)
    real_number("hrs_fraction", p["hrs_fraction"], minimum=0.0, maximum=1.0)
    real_number("v_read (V)", p["v_read"], minimum=0.0, strict=True, maximum=10.0)
    real_number("tia_gain", p["tia_gain"], minimum=0.0)
    g_min = real_number("g_min (S)", p["g_min"], minimum=0.0, strict=True, maximum=1.0)
    g_max = real_number("g_max (S)", p["g_max"], minimum=0.0, strict=True, maximum=1.0)
    if not g_min <= g_max:
        raise InvalidParameterError(f"g_min must be <= g_max, got {g_min:g} and {g_max:g}")
    if p["device"] != "resistor" and (p["g_min"], p["g_max"]) != (READ_DEFAULTS["g_min"], READ_DEFAULTS["g_max"]):
        raise InvalidParameterError(f"g_min and g_max set the window of resistor cells; the {p['device']!r}"
                                    " preset has its own")
    if p["adc_bits"] and not p["tia_r_f"]:
        raise InvalidParameterError("an ADC digitises TIA outputs: adc_bits > 0 needs tia_r_f > 0")
    if p["reference"] != "none":
        choice("reference", p["reference"], backend_names())
    _read_array(p, backends=None).close()  # the array's own checks (sizes, resistances, TIA, backends)


def _read_array(p: Mapping, backends):
    from ..crossbar import Crossbar
    from ..periphery import ADC, TIA

    tia = adc = None
    if p["tia_r_f"]:
        tia = TIA(r_f=p["tia_r_f"], gain=p["tia_gain"] or None)
        if p["adc_bits"]:
            adc = ADC(bits=p["adc_bits"])
    device = None if p["device"] == "resistor" else _presets()[p["device"]]()
    return Crossbar(p["rows"], p["cols"], p["cell"], r_row=p["r_wire"], r_col=p["r_wire"], r_source=p["r_source"],
                    device=device, read_voltage=p["v_read"], tia=tia, adc=adc, backend=p["backend"],
                    backends=backends)


def _read_run(p: Mapping, seed: int, backends) -> dict:
    import time

    from ..comparison import agreement

    rng = np.random.default_rng(seed)
    with _read_array(p, backends) as xb:
        g_min, g_max = (xb.device.g_min, xb.device.g_max) if xb.device is not None else (p["g_min"], p["g_max"])
        if p["pattern"] == "binary":
            g = np.where(rng.random(xb.shape) < p["hrs_fraction"], g_min, g_max)
        else:
            g = rng.uniform(g_min, g_max, xb.shape)
        xb.set_state(g) if xb.device is not None else xb.set_conductance(g)
        v = rng.uniform(0.0, p["v_read"], (p["batch"], xb.shape[0]))
        ideal = v @ g
        if xb.adc is not None:
            xb.calibrate_adc(rng.uniform(0.0, p["v_read"], (p["batch"], xb.shape[0])), margin=1.25)
        t0 = time.perf_counter()
        out = xb.read(v)
        seconds = time.perf_counter() - t0
        vs_ideal = agreement(out, ideal)
        row = {"error_vs_ideal_max": vs_ideal.max_rel, "error_vs_ideal_rms": vs_ideal.rms_rel,
               "s_per_read": seconds / p["batch"]}
        if p["reference"] != "none":
            t0 = time.perf_counter()
            ref = xb.read(v, backend=p["reference"])
            ref_seconds = time.perf_counter() - t0
            vs_ref = agreement(out, ref)
            row.update({"error_vs_reference_max": vs_ref.max_rel, "error_vs_reference_rms": vs_ref.rms_rel,
                        "reference_s_per_read": ref_seconds / p["batch"]})
        return row


READ = SweepTask("read", _read_run, READ_DEFAULTS, check=_read_check, backend_parameter="backend")


# --------------------------------------------------------------------------- train
def _train_defaults() -> dict:
    from ..learning.experiment import RunConfig

    return dict(_flatten(RunConfig().as_dict()))


def _flatten(d: Mapping, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, Mapping):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def _train_config(p: Mapping):
    from ..learning.experiment import RunConfig

    raw: dict = {}
    for key, value in p.items():
        *sections, name = key.split(".")
        node = raw
        for s in sections:
            node = node.setdefault(s, {})
        node[name] = tuple(value) if isinstance(value, list) else value
    return RunConfig.from_dict(raw)


def _train_run(p: Mapping, seed: int, backends) -> dict:
    from ..learning.experiment import run_experiment

    res = run_experiment(_train_config(p), progress=False)
    return {k: res[k] for k in ("baseline_accuracy", "transfer_accuracy", "trained_accuracy")}


BUILT_IN = ("read", "train")


def get_task(task) -> SweepTask:
    """The SweepTask itself, or the built-in task of that name."""
    if isinstance(task, SweepTask):
        return task
    if not isinstance(task, str):
        raise InvalidParameterError(f"task must be a SweepTask or one of {BUILT_IN}, got {show(task)}")
    if task == "read":
        return READ
    if task == "train":  # (its defaults import the learning package: built only when asked for)
        return SweepTask("train", _train_run, _train_defaults(), check=_train_config,
                         backend_parameter="training.backends")
    raise InvalidParameterError(f"task must be a SweepTask or one of {BUILT_IN}, got {show(task)}")


def plain_metric(name: str, value):
    """A metric value as a float, int, bool, string, or nested lists of finite floats (from an array);
    anything else is refused with the metric's name."""
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf" or arr.ndim == 0 or arr.ndim > 2:
            raise InvalidParameterError(f"metric {name} must be a 1-D or 2-D array of numbers, got {show(value)}")
        if not np.all(np.isfinite(arr)):
            raise InvalidParameterError(f"metric {name} holds non-finite values")
        return arr.astype(float).tolist()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        if not np.isfinite(x):
            raise InvalidParameterError(f"metric {name} is not finite ({x})")
        return x
    if isinstance(value, str):
        return value
    raise InvalidParameterError(f"metric {name} must be a number or a string, got {show(value)}")
