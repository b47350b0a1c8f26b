"""One training experiment from a configuration: software baseline, transfer onto arrays, training on them.

    config = RunConfig.from_toml("run.toml")     # or RunConfig.from_dict({...}); every key is checked
    result = run_experiment(config, run_dir="runs/a")

Modes:
  "hybrid" (Yao et al. 2020): train the network in software, write-verify its weights onto the
      arrays, then train only the last layer on the arrays with the rule, on a fraction of the
      training data;
  "in-situ": every layer on arrays from random (Glorot-uniform) weights held by pairs centred in the
      window, trained with the rule throughout.
The configuration's keys (section.key, with defaults) are the fields of the dataclasses below.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ..devices.presets import yao2020_taox_hfox
from ..errors import InvalidParameterError
from ..periphery.tia import TIA
from ..registry import backend_names
from ..spice.backend import SpiceBackend
from ..validation import (
    boolean,
    choice,
    non_negative_int,
    path_value,
    positive_int,
    read_toml,
    real_number,
)
from ..variability import Variability
from .data import load_digits, load_idx, load_mnist_subset
from .network import ACTIVATIONS, DigitalLinear, Network, activate, glorot
from .rules import (
    RULES,
    DigitalSGD,
    MixedPrecisionUpdate,
    SignUpdate,
    StochasticUpdate,
    ThresholdUpdate,
    TikiTakaUpdate,
    pair_step,
)
from .tiles import PAIR_UPDATES, AnalogLinear, TileSpec
from .trainer import Trainer

DATASETS = ("digits", "mnist-subset", "idx")
DEVICES = {"yao2020": yao2020_taox_hfox}
MODES = ("hybrid", "in-situ")
ARRAY_RULES = tuple(r for r in RULES if r != "sgd")


@dataclass(frozen=True)
class DataConfig:
    name: str = "digits"
    images: str = ""
    labels: str = ""
    fraction: float = 1.0  # of the training set used on the arrays (hybrid: Yao et al. used 0.1)

    def __post_init__(self):
        choice("data.name", self.name, DATASETS)
        object.__setattr__(self, "fraction", real_number("data.fraction", self.fraction, minimum=0.0, strict=True,
                                                         maximum=1.0))
        if self.name == "idx" and not (self.images and self.labels):
            raise InvalidParameterError("data.name = 'idx' needs data.images and data.labels (IDX file paths)")


@dataclass(frozen=True)
class NetworkConfig:
    sizes: tuple = (64, 32, 10)
    activation: str = "relu"

    def __post_init__(self):
        if not isinstance(self.sizes, (list, tuple)):
            raise InvalidParameterError("network.sizes must be a list of layer widths, e.g. [64, 32, 10]")
        sizes = tuple(positive_int("network.sizes entry", n, maximum=1 << 16) for n in self.sizes)
        if len(sizes) < 2:
            raise InvalidParameterError("network.sizes needs at least an input and an output size")
        object.__setattr__(self, "sizes", sizes)
        choice("network.activation", self.activation, ACTIVATIONS)


@dataclass(frozen=True)
class SoftwareConfig:
    epochs: int = 60
    lr: float = 0.1
    batch_size: int = 32

    def __post_init__(self):
        object.__setattr__(self, "epochs", positive_int("software.epochs", self.epochs, maximum=10_000))
        object.__setattr__(self, "lr", real_number("software.lr", self.lr, minimum=0.0, strict=True, maximum=1e3))
        object.__setattr__(self, "batch_size", positive_int("software.batch_size", self.batch_size, maximum=1 << 20))


@dataclass(frozen=True)
class ArrayConfig:
    device: str = "yao2020"
    d2d: float = 0.1  # relative spread of g_min, g_max, alpha_set, alpha_reset
    c2c: float = 0.1
    stuck: float = 0.005  # fraction of stuck cells, half at each bound
    levels: int = 0  # distinguishable states per device (0: continuous)
    relaxation: float = 0.0  # post-programming relaxation, sigma as a fraction of the device window
    cell: str = "1T1R"
    r_wire: float = 1.0
    rows: int = 128
    cols: int = 128
    tia_r_f: float = 2e4  # 0: no TIA (and no ADC)
    adc_bits: int = 8  # 0: no ADC
    v_read: float = 0.2
    pair_update: str = "set"
    w_max_percentile: float = 99.5  # of |software weights| per layer: the weight that spans the window
    transfer_levels: int = 0  # hybrid transfer: each device to one of this many conductances (Yao: 8); 0: exact
    transfer_compensate: bool = False  # hybrid transfer: a pair's partner carries its weight where one device failed
    input_bits: int = 0  # forward inputs as bit-serial trains of this many bits (Yao: 8); 0: analog voltages
    tia_energy: float = 0.0  # joules per TIA and read (counted in read energies)
    adc_energy: float = 0.0  # joules per ADC conversion (counted in read energies)

    def __post_init__(self):
        choice("arrays.device", self.device, tuple(DEVICES))
        for name in ("d2d", "c2c", "stuck", "relaxation"):
            object.__setattr__(self, name, real_number(f"arrays.{name}", getattr(self, name), minimum=0.0, maximum=1.0))
        object.__setattr__(self, "levels", non_negative_int("arrays.levels", self.levels, maximum=1 << 20))
        object.__setattr__(self, "r_wire", real_number("arrays.r_wire", self.r_wire, minimum=0.0, maximum=1e6))
        object.__setattr__(self, "tia_r_f", real_number("arrays.tia_r_f", self.tia_r_f, minimum=0.0, maximum=1e12))
        object.__setattr__(self, "adc_bits", non_negative_int("arrays.adc_bits", self.adc_bits, maximum=16))
        if self.adc_bits and not self.tia_r_f:
            raise InvalidParameterError("arrays.adc_bits needs a TIA (arrays.tia_r_f > 0)")
        choice("arrays.pair_update", self.pair_update, PAIR_UPDATES)
        object.__setattr__(self, "transfer_levels", non_negative_int("arrays.transfer_levels", self.transfer_levels,
                                                                     maximum=1 << 16))
        if self.transfer_levels == 1:
            raise InvalidParameterError("arrays.transfer_levels must be 0 (exact) or at least 2")
        object.__setattr__(self, "transfer_compensate", boolean("arrays.transfer_compensate",
                                                                self.transfer_compensate))
        object.__setattr__(self, "w_max_percentile", real_number("arrays.w_max_percentile", self.w_max_percentile,
                                                                 minimum=1.0, maximum=100.0))
        object.__setattr__(self, "input_bits", non_negative_int("arrays.input_bits", self.input_bits, maximum=16))
        for name in ("tia_energy", "adc_energy"):
            object.__setattr__(self, name, real_number(f"arrays.{name}", getattr(self, name), minimum=0.0,
                                                       maximum=1.0))

    def spec(self, backend, w_max: float) -> TileSpec:
        var = None
        if self.d2d or self.c2c or self.stuck or self.levels or self.relaxation:
            var = Variability(d2d={k: self.d2d for k in ("g_min", "g_max", "alpha_set", "alpha_reset")} if self.d2d
                              else {}, c2c=self.c2c, stuck_on=self.stuck / 2, stuck_off=self.stuck / 2,
                              levels=self.levels or None, relaxation=self.relaxation)
        return TileSpec(max_rows=self.rows, max_cols=self.cols, cell=self.cell, r_wire=self.r_wire,
                        device=DEVICES[self.device](), variability=var,
                        tia=TIA(r_f=self.tia_r_f, energy_per_read=self.tia_energy) if self.tia_r_f else None,
                        adc_bits=self.adc_bits or None, adc_energy=self.adc_energy, v_read=self.v_read, w_max=w_max,
                        backend=backend, pair_update=self.pair_update, input_bits=self.input_bits or None)


@dataclass(frozen=True)
class TrainingConfig:
    mode: str = "hybrid"
    rule: str = "threshold"
    lr: float = 0.5
    threshold: float = 0.5  # in nominal pair steps (threshold and sign rules)
    iterations: int = 2  # closed-loop corrections (threshold rule)
    bl: int = 10  # slots per sample (stochastic and tiki-taka rules)
    transfer_lr: float = 1.0  # tiki-taka: A's rows are added to H times this
    transfer_rows: int = 4  # tiki-taka: rows of A read and transferred per minibatch
    chop: float = 0.0  # tiki-taka: probability a row's chopper sign flips after its read (0: plain TTv2)
    epochs: int = 5
    batch_size: int = 10
    backends: tuple = ("fast-slots", "fast-slots")  # one per layer
    transfer_backend: str = "fast-slots"  # the write-verify transfer's programming and verify reads

    def __post_init__(self):
        choice("training.mode", self.mode, MODES)
        choice("training.rule", self.rule, ARRAY_RULES)
        object.__setattr__(self, "lr", real_number("training.lr", self.lr, minimum=0.0, strict=True, maximum=1e3))
        object.__setattr__(self, "threshold", real_number("training.threshold", self.threshold, minimum=0.0,
                                                          maximum=1e3))
        object.__setattr__(self, "iterations", positive_int("training.iterations", self.iterations, maximum=100))
        object.__setattr__(self, "bl", positive_int("training.bl", self.bl, maximum=1000))
        object.__setattr__(self, "transfer_lr", real_number("training.transfer_lr", self.transfer_lr, minimum=0.0,
                                                            strict=True, maximum=1e3))
        object.__setattr__(self, "transfer_rows", positive_int("training.transfer_rows", self.transfer_rows,
                                                               maximum=1 << 16))
        object.__setattr__(self, "chop", real_number("training.chop", self.chop, minimum=0.0, maximum=1.0))
        object.__setattr__(self, "epochs", positive_int("training.epochs", self.epochs, maximum=10_000))
        object.__setattr__(self, "batch_size", positive_int("training.batch_size", self.batch_size, maximum=1 << 20))
        names = tuple(backend_names())
        if not isinstance(self.backends, (list, tuple)):
            raise InvalidParameterError("training.backends must be a list with one backend name per layer")
        object.__setattr__(self, "backends", tuple(choice("training.backends entry", b, names) for b in self.backends))
        choice("training.transfer_backend", self.transfer_backend, names)


SECTIONS = {"data": DataConfig, "network": NetworkConfig, "software": SoftwareConfig, "arrays": ArrayConfig,
            "training": TrainingConfig}


def parse_sections(raw, sections: dict, defaults: dict | None = None) -> dict:
    """{"seed": ..., section: dataclass(**table)} from a table of tables; unknown sections or keys are refused.

    defaults: {section: {key: value}} used where the table is silent (else the dataclass's defaults)."""
    if not isinstance(raw, dict):
        raise InvalidParameterError("a run configuration is a table of sections")
    unknown = set(raw) - set(sections) - {"seed"}
    if unknown:
        raise InvalidParameterError(f"unknown configuration key(s): {', '.join(sorted(unknown))}")
    parts = {"seed": raw.get("seed", 0)}
    for name, kind in sections.items():
        section = raw.get(name, {})
        if not isinstance(section, dict):
            raise InvalidParameterError(f"[{name}] must be a table")
        allowed = {f.name for f in fields(kind)}
        bad = set(section) - allowed
        if bad:
            raise InvalidParameterError(f"unknown key(s) in [{name}]: {', '.join(sorted(bad))}"
                                        f" (known: {', '.join(sorted(allowed))})")
        parts[name] = kind(**{**(defaults or {}).get(name, {}), **section})
    return parts


class SectionedConfig:
    """What every sectioned run configuration shares: reading TOML, plain values, a fingerprint."""

    @classmethod
    def from_toml(cls, path):
        return cls.from_dict(read_toml("configuration", path))

    def as_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    def fingerprint(self) -> str:
        """16 hex digits identifying every setting (checkpoints and result folders are bound to it)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunConfig(SectionedConfig):
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    software: SoftwareConfig = field(default_factory=SoftwareConfig)
    arrays: ArrayConfig = field(default_factory=ArrayConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self):
        object.__setattr__(self, "seed", non_negative_int("seed", self.seed, maximum=2**32 - 1))
        if len(self.training.backends) != len(self.network.sizes) - 1:
            raise InvalidParameterError(f"training.backends names {len(self.training.backends)} backends for"
                                        f" {len(self.network.sizes) - 1} layers")

    @classmethod
    def from_dict(cls, raw: dict) -> RunConfig:
        """Build from nested plain values; unknown sections or keys raise InvalidParameterError."""
        return cls(**parse_sections(raw, SECTIONS))



def load_data(cfg: RunConfig):
    d = cfg.data
    if d.name == "digits":
        return load_digits(seed=cfg.seed)
    if d.name == "mnist-subset":
        return load_mnist_subset(seed=cfg.seed)
    return load_idx(d.images, d.labels, seed=cfg.seed)


def train_software(cfg: RunConfig, data) -> Network:
    """The software baseline: the network in float64, trained with SGD and momentum."""
    sizes = cfg.network.sizes
    seeds = np.random.SeedSequence([cfg.seed, 1]).generate_state(len(sizes) - 1)
    net = Network([DigitalLinear(a, b, seed=int(s)) for a, b, s in zip(sizes[:-1], sizes[1:], seeds)],
                  cfg.network.activation)
    rules = [DigitalSGD(layer, cfg.software.lr) for layer in net.layers]
    Trainer(net, rules, data, epochs=cfg.software.epochs, batch_size=cfg.software.batch_size, seed=cfg.seed,
            progress=False).run()
    return net


def make_rule(cfg: TrainingConfig, layer: AnalogLinear, seed: int = 0):
    """The configured rule on one layer (seed: the rule's own random stream, if it has one)."""
    step = pair_step(layer.spec) if cfg.rule in ("threshold", "sign") else 0.0
    if cfg.rule == "threshold":
        return ThresholdUpdate(layer, cfg.lr, cfg.threshold * step, cfg.iterations)
    if cfg.rule == "sign":
        return SignUpdate(layer, cfg.lr, cfg.threshold * step)
    if cfg.rule == "stochastic":
        return StochasticUpdate(layer, cfg.lr, cfg.bl, seed=seed)
    if cfg.rule == "tiki-taka":
        return TikiTakaUpdate(layer, cfg.lr, cfg.bl, cfg.transfer_lr, min(cfg.transfer_rows, layer.n_rows),
                              chop=cfg.chop, seed=seed)
    return MixedPrecisionUpdate(layer, cfg.lr)


def run_experiment(cfg: RunConfig, run_dir=None, progress: bool = True) -> dict:
    """Run the configured experiment; returns accuracies, timings and the trainer (see the module docstring)."""
    if not isinstance(cfg, RunConfig):
        raise InvalidParameterError(f"cfg must be a RunConfig, got {type(cfg).__name__}")
    run_dir = None if run_dir is None else path_value("run_dir", run_dir)
    with threadpool_limits(limits=1):  # one BLAS thread per pool (see learning.trainer)
        return _run(cfg, run_dir, progress)


def _run(cfg: RunConfig, run_dir, progress: bool) -> dict:
    t0 = time.perf_counter()
    data = load_data(cfg)
    sizes = cfg.network.sizes
    if data.n_features != sizes[0] or data.n_classes != sizes[-1]:
        raise InvalidParameterError(f"network.sizes {list(sizes)} does not fit {data.name}: {data.n_features}"
                                    f" inputs and {data.n_classes} classes")
    software = train_software(cfg, data)
    baseline = software.accuracy(data.test_x, data.test_y)
    weights = software.weights()
    seeds = np.random.SeedSequence([cfg.seed, 2]).generate_state(len(weights))
    spice = SpiceBackend(run_dir=None if run_dir is None else Path(run_dir) / "netlists")
    backends = {"spice": spice}
    layers = []
    for k, ((w, b), name) in enumerate(zip(weights, cfg.training.backends)):
        w_max = float(np.percentile(np.abs(np.vstack([w, b[None]])), cfg.arrays.w_max_percentile))
        layers.append(AnalogLinear(w.shape[0], w.shape[1], cfg.arrays.spec(name, w_max), seed=int(seeds[k]),
                                   backends=backends))
    net = Network(layers, cfg.network.activation)
    try:
        if cfg.training.mode == "hybrid":
            for layer, (w, b) in zip(layers, weights):
                layer.program_weights(w, b, backend=cfg.training.transfer_backend, progress=progress,
                                      levels=cfg.arrays.transfer_levels or None,
                                      compensate=cfg.arrays.transfer_compensate)
        else:
            rng = np.random.default_rng([cfg.seed, 3])
            for layer in layers:  # Glorot-uniform weights, both devices of each pair around the window's middle
                w = np.clip(glorot(layer.n_in, layer.n_out, rng), -layer.spec.w_max, layer.spec.w_max)
                layer.set_weights(w, centered=True)
        calibrate(net, data.train_x[: min(500, data.train_y.size)])
        transfer = net.accuracy(data.test_x, data.test_y)
        t_transfer = time.perf_counter() - t0
        rules = [None] * len(layers)
        trained = [len(layers) - 1] if cfg.training.mode == "hybrid" else range(len(layers))
        rule_seeds = np.random.SeedSequence([cfg.seed, 4]).generate_state(len(layers))
        for k in trained:
            rules[k] = make_rule(cfg.training, layers[k], seed=int(rule_seeds[k]))
        subset = data.subset(cfg.data.fraction, seed=cfg.seed)
        trainer = Trainer(net, rules, subset, epochs=cfg.training.epochs, batch_size=cfg.training.batch_size,
                          seed=cfg.seed, run_dir=run_dir, fingerprint=cfg.fingerprint(), progress=progress)
        history = trainer.run()
        return {"baseline_accuracy": baseline, "transfer_accuracy": transfer,
                "trained_accuracy": history[-1]["test_accuracy"], "history": history, "trainer": trainer,
                "network": net, "seconds_transfer": t_transfer, "seconds": time.perf_counter() - t0}
    finally:
        spice.close()


def calibrate(net: Network, x: np.ndarray) -> None:
    """Calibrate every analog layer's ADCs on the inputs it sees for x, and unit errors backward."""
    a = x
    for k, layer in enumerate(net.layers):
        if isinstance(layer, AnalogLinear):
            layer.calibrate(a)
        a = np.atleast_2d(layer.forward(a))
        if k < len(net.layers) - 1:
            a = activate(net.activation, a)
