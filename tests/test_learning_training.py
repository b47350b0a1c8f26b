"""Learning on the arrays: update rules against the device's closed form, the training loop's checkpoints
(a run killed with SIGKILL resumes bit-identically), and typed errors for bad configurations."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from learning_cases import DEV, reference_spec

from spicelim.checkpoint import load_state
from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.learning import AnalogLinear, load_digits
from spicelim.learning.experiment import RunConfig, run_experiment
from spicelim.learning.network import DigitalLinear, Network, cross_entropy
from spicelim.learning.rules import (
    DigitalSGD,
    MixedPrecisionUpdate,
    ThresholdUpdate,
    pair_step,
)
from spicelim.learning.trainer import CHECKPOINT, CheckpointMismatch, Trainer


def test_network_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    net = Network([DigitalLinear(5, 4, seed=1), DigitalLinear(4, 3, seed=2)], "tanh")
    x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    logits, inputs, pre = net.forward(x)
    _, d = cross_entropy(logits, y)
    errors = net.errors(d, pre)
    grad = inputs[0].T @ errors[0]  # dL/dW of layer 0
    w0, b0 = net.layers[0].weights()
    h = 1e-6
    for i, j in [(0, 0), (2, 1), (4, 3)]:
        wp, wm = w0.copy(), w0.copy()
        wp[i, j] += h
        wm[i, j] -= h
        net.layers[0].set_weights(wp, b0)
        lp = cross_entropy(net.forward(x)[0], y)[0]
        net.layers[0].set_weights(wm, b0)
        lm = cross_entropy(net.forward(x)[0], y)[0]
        assert grad[i, j] == pytest.approx((lp - lm) / (2 * h), rel=1e-5, abs=1e-9)


def test_pair_step_follows_the_soft_bounds_closed_form():
    """One reference SET pulse moves G by alpha_set (g_max - G): from the window middle, on G+ or on G-."""
    spec = reference_spec()
    g_mid = 0.5 * (spec.pairs.g_min + spec.pairs.g_max)
    want = DEV.alpha_set * (DEV.g_max - g_mid) / (spec.pairs.g_max - spec.pairs.g_min)
    # the engine's RK4 holds states to ~2e-5 of G (test_slot_engine); a step of ~6 % of G to ~1e-3 of itself
    assert pair_step(spec) == pytest.approx(want, rel=1e-3)
    both = reference_spec(pair_update="both")  # SET on one device, RESET (alpha_reset (G - g_min)) on the other
    want_both = (DEV.alpha_set * (DEV.g_max - g_mid) + DEV.alpha_reset * (g_mid - DEV.g_min)) / (
        spec.pairs.g_max - spec.pairs.g_min)
    assert pair_step(both) == pytest.approx(want_both, rel=1e-3)


def test_mixed_precision_pulses_whole_steps_and_keeps_the_rest():
    layer = AnalogLinear(2, 1, reference_spec(), bias=False)
    rule = MixedPrecisionUpdate(layer, lr=1.0)
    x, d = np.array([[1.0, 0.0]]), np.array([[-2.5 * rule.eps]])  # update of +2.5 eps on weight (0, 0)
    before = layer.tiles[0][0].array.conductance.copy()
    rep = rule.step(x, d)
    assert rep.pairs == 1 and rep.pulses == 4  # two pair pulses, SET on G+ only ("set" pairs: 2 device pulses each)
    assert rule.chi[0, 0] == pytest.approx(0.5 * rule.eps) and rule.chi[1, 0] == 0
    after = layer.tiles[0][0].array.conductance
    assert np.array_equal(after[1], before[1]) and np.array_equal(after[0, 1], before[0, 1])
    g0 = before[0, 0]
    assert after[0, 0] == pytest.approx(DEV.g_max - (DEV.g_max - g0) * (1 - DEV.alpha_set) ** 2, rel=1e-4)


def test_threshold_update_programs_only_large_updates_closed_loop():
    layer = AnalogLinear(3, 2, reference_spec(r_wire=1.0), bias=False, seed=1)
    layer.set_weights(np.zeros((3, 2)))
    rule = ThresholdUpdate(layer, lr=1.0, threshold=0.05, iterations=5)
    x = np.array([[1.0, 1.0, 1.0]])
    d = -np.array([[0.2, 0.01]])  # dW = 0.2 on column 0 (above the threshold), 0.01 on column 1 (below)
    before = layer.tiles[0][0].array.conductance.copy()
    rep = rule.step(x, d)
    after = layer.tiles[0][0].array.conductance
    assert rep.pairs == 3 and rep.verify_reads >= 6
    assert np.array_equal(after[:, 2:], before[:, 2:])  # below the threshold: not a single pulse
    w = layer.measured_weights()
    assert np.all(np.abs(w[:, 0] - 0.2) <= rule.tolerance + 1e-12)


def test_the_trainer_lets_updated_devices_relax_after_every_minibatch():
    """Nothing is left waiting to relax after a run, and relaxation moved the updated pairs off their targets."""
    from spicelim import Variability
    data = load_digits().subset(0.02)
    final = {}
    for sigma in (0.0, 0.05):
        layer = AnalogLinear(64, 10, reference_spec(variability=Variability(relaxation=sigma, seed=1)), seed=2)
        layer.set_weights(np.zeros((64, 10)))
        rule = ThresholdUpdate(layer, lr=1.0, threshold=0.01, iterations=3)
        trainer = Trainer(Network([layer]), [rule], data, epochs=1, batch_size=20, progress=False)
        trainer.run()
        assert not any(t.array.variation.unrelaxed.any() for t, _, _ in layer.blocks())  # relaxed after each step
        final[sigma] = layer.measured_weights()
    moved = np.abs(final[0.05] - final[0.0])
    assert moved.max() > 3 * rule.tolerance  # relaxation left the updated pairs off their verified targets


def test_bad_configurations_are_refused_before_anything_runs(tmp_path):
    for raw, match in [({"trainig": {}}, "unknown configuration key"),
                       ({"training": {"lr": 0}}, "training.lr"),
                       ({"training": {"rule": "adam"}}, "training.rule"),
                       ({"training": {"backends": ["fast", "nope"]}}, "training.backends"),
                       ({"training": {"backends": ["fast"]}}, "backends for 2 layers"),
                       ({"network": {"sizes": [64, 0, 10]}}, "network.sizes"),
                       ({"arrays": {"speed": 1}}, r"unknown key\(s\) in \[arrays\]"),
                       ({"data": {"name": "idx"}}, "IDX")]:
        with pytest.raises(InvalidParameterError, match=match):
            RunConfig.from_dict(raw)
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = [")
    with pytest.raises(InvalidParameterError, match="not valid TOML"):
        RunConfig.from_toml(bad)
    with pytest.raises(InvalidParameterError, match="does not fit"):
        run_experiment(RunConfig.from_dict({"network": {"sizes": [63, 10]}, "training": {"backends": ["fast"]}}),
                       progress=False)
    data = load_digits()
    net = Network([DigitalLinear(64, 10)])
    with pytest.raises(InvalidParameterError, match="one rule"):
        Trainer(net, [], data, epochs=1, batch_size=10)
    with pytest.raises(InvalidParameterError, match="classes"):
        Trainer(Network([DigitalLinear(64, 9)]), [None], data, epochs=1, batch_size=10)
    with pytest.raises(InvalidParameterError, match="learning rate"):
        DigitalSGD(net.layers[0], lr=-1)


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    data = load_digits().subset(0.05)
    net = Network([DigitalLinear(64, 10)])
    Trainer(net, [DigitalSGD(net.layers[0], 0.1)], data, epochs=1, batch_size=20, run_dir=tmp_path,
            fingerprint="a", progress=False).run()
    with pytest.raises(CheckpointMismatch):
        Trainer(net, [DigitalSGD(net.layers[0], 0.1)], data, epochs=1, batch_size=20, run_dir=tmp_path,
                fingerprint="b", progress=False).run()
    with pytest.raises(ShapeError):
        net.load_state_dict({"layer0": {"shape": [3, 3]}})


SMALL = {"seed": 3, "data": {"fraction": 0.1}, "software": {"epochs": 2}, "network": {"sizes": [64, 10]},
         "arrays": {"rows": 40, "cols": 20, "relaxation": 0.02},  # two tiles; relaxation's stream is checkpointed
         "training": {"mode": "in-situ", "rule": "mixed", "lr": 0.2, "epochs": 2, "batch_size": 8,
                      "backends": ["fast-slots"]}}
DRIVER = """
import sys, warnings
warnings.simplefilter("ignore")
from spicelim.learning.experiment import RunConfig, run_experiment
import json
run_experiment(RunConfig.from_dict(json.loads(sys.argv[1])), run_dir=sys.argv[2], progress=False)
"""


def _final_state(run_dir: Path) -> dict:
    return load_state(run_dir / CHECKPOINT)["network"]


def _assert_same(a, b):
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b)
    else:
        assert a == b


def test_a_killed_run_resumes_bit_identically(tmp_path):
    """SIGKILL mid-epoch, start again: the same device states as a run never killed, at most one minibatch repeated."""
    import json

    whole = run_experiment(RunConfig.from_dict(SMALL), run_dir=tmp_path / "whole", progress=False)
    total = whole["trainer"].minibatches_run
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(SMALL), str(killed)])
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            if (killed / CHECKPOINT).exists() and load_state(killed / CHECKPOINT)["batch"] >= 3:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    saved = load_state(killed / CHECKPOINT)
    done = saved["epoch"] * -(-whole["trainer"].data.train_y.size // 8) + saved["batch"]
    assert 0 < done < total
    resumed = run_experiment(RunConfig.from_dict(SMALL), run_dir=killed, progress=False)
    assert resumed["trainer"].minibatches_run == total - done  # nothing finished is run again
    _assert_same(_final_state(killed), _final_state(tmp_path / "whole"))
    assert [h["test_accuracy"] for h in resumed["history"]] == [h["test_accuracy"] for h in whole["history"]]
