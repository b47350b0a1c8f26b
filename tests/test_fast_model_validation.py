"""The validation harness: each model's error against the reference, the network check, the report."""

import json

import numpy as np
import pytest

from spicelim.comparison import agreement
from spicelim.crossbar import Crossbar
from spicelim.errors import InvalidParameterError
from spicelim.studies.fast_model_validation import (
    DEFAULT_CANDIDATES,
    network_accuracy,
    run_validation,
    validation_task,
)
from spicelim.sweeps import SweepSpec, run_point


def _point(task, **fixed):
    spec = SweepSpec(task, grid={"replicate": [0]}, fixed=fixed)
    return spec.points()[0], spec.task


def test_a_point_measures_each_model_against_the_reference():
    def halved(params, g, v):  # a user's model: half the ideal current
        return 0.5 * (v @ g)

    point, task = _point(validation_task({"halved": halved}), size=6, r_wire=3.0, r_source=10.0, batch=3,
                         reference="fast", hrs_fraction=0.25, on_off_ratio=20.0)
    row = run_point(point, task)
    assert row["status"] == "ok", row["error"]
    assert row["fast_max_error"] == 0 and row["fast_mean_error"] == 0  # the reference itself
    # recompute the ideal product's error by hand from the point's seed (the task's draws, in order)
    rng = np.random.default_rng(point.seed)
    g = np.where(rng.random((6, 6)) < 0.25, 2e-5 / 20, 2e-5)
    v = rng.uniform(0, 0.2, (3, 6))
    with Crossbar(6, 6, r_row=3.0, r_col=3.0, r_source=10.0, backend="fast") as xb:
        xb.set_conductance(g)
        ref = xb.read(v)
    assert row["ideal_max_error"] == pytest.approx(agreement(v @ g, ref).max_rel, rel=1e-12)
    assert row["ideal_mean_error"] == pytest.approx(np.mean(np.abs(v @ g - ref)) / np.max(np.abs(ref)), rel=1e-12)
    assert row["halved_max_error"] == pytest.approx(agreement(0.5 * (v @ g), ref).max_rel, rel=1e-12)
    assert row["eps"] == pytest.approx((10.0 + 3.0 * 3) * np.mean(g.sum(axis=1)), rel=1e-12)
    assert row["first-order_max_error"] < row["ideal_max_error"]
    assert all(row[f"{m}_s_per_read"] > 0 for m in DEFAULT_CANDIDATES)


@pytest.mark.parametrize("device, g_on", [("yao2020", 1.5e-5), ("stanford-pku", 5e-5)])
def test_device_cells_are_set_to_the_binary_levels(device, g_on):
    """Memristor cells at the HRS/LRS conductances (chord, at the read voltage): the ideal model is their
    v @ G, and with a linear I-V (the soft-bounds preset) the fast backend is exact against itself."""
    point, task = _point(validation_task(), size=5, r_wire=2.0, batch=3, reference="fast", device=device,
                         g_on=g_on, on_off_ratio=5.0)
    row = run_point(point, task)
    assert row["status"] == "ok", row["error"]
    assert row["on_off_effective"] == pytest.approx(5.0, rel=1e-6)
    assert row["fast_max_error"] == 0
    clipped = run_point(*_point(validation_task(), size=5, batch=3, reference="fast", device=device,
                                g_on=1.0, on_off_ratio=1e6))  # beyond the window: clipped into it
    assert clipped["status"] == "ok" and 1 < clipped["on_off_effective"] < 1e6 and 0 < row["first-order_max_error"] < row["ideal_max_error"]


def test_bad_models_and_points_are_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="name"):
        validation_task({"bad name!": lambda p, g, v: v @ g})
    with pytest.raises(InvalidParameterError, match="backend name or a function"):
        validation_task({"x": 3})
    with pytest.raises(InvalidParameterError, match="on_off_ratio"):
        run_validation(tmp_path / "v", sizes=(4,), on_off_ratios=(0.5,), accuracy=False, progress=False)
    with pytest.raises(InvalidParameterError, match="unknown parameter"):
        SweepSpec(validation_task(), grid={"rows": [4]})
    assert not (tmp_path / "v").exists()


def test_network_check_with_ideal_reads_is_the_software_network():
    rows = network_accuracy(r_wires=(2.5,), cells=("0T1R",), reference="ideal")
    (row,) = rows
    assert row["reference"] == row["ideal"] == row["software"] > 0.9
    assert row["fast"] <= row["software"] + 0.01


@pytest.mark.spice
@pytest.mark.slow
def test_report_against_ngspice(tmp_path):
    res = run_validation(tmp_path / "v", sizes=(4, 8), r_wires=(1.0, 10.0), cells=("0T1R", "1T1R"), batch=4,
                         workers=2, accuracy_r_wires=(10.0,), progress=False)
    rows = res["rows"]
    assert len(rows) == 8
    for r in rows:
        # exact for resistor cells; 1T1R: the fast backend's linearised selector (README: up to 3e-5)
        assert r["fast_max_error"] < (1e-6 if r["cell"] == "0T1R" else 1e-4)
        assert r["first-order_max_error"] < r["ideal_max_error"]
        assert r["ideal_max_error"] > 0
    big = {(r["cell"], r["size"]): r for r in rows if r["r_wire"] == 10.0}
    assert big[("0T1R", 8)]["ideal_max_error"] > big[("0T1R", 4)]["ideal_max_error"]  # IR drop grows with size
    (acc_0t1r, acc_1t1r) = res["accuracy"]
    for a in (acc_0t1r, acc_1t1r):
        assert a["fast"] == pytest.approx(a["reference"], abs=0.01)
    files = [p.rsplit("/", 1)[1] for p in res["files"]]
    assert files == ["validation.md", "validation.json", "validation_error_vs_size.png",
                     "validation_error_vs_wire.png", "validation_speed_vs_error.png"]
    assert "| resistor | 10 | 0.5 | 8 | 1T1R | 10 |" in (tmp_path / "v" / "validation.md").read_text()
    assert json.loads((tmp_path / "v" / "validation.json").read_text())["models"] == list(DEFAULT_CANDIDATES)
    again = run_validation(tmp_path / "v", sizes=(4, 8), r_wires=(1.0, 10.0), cells=("0T1R", "1T1R"), batch=4,
                           workers=1, accuracy=False, progress=False)  # resumes: nothing to run
    assert again["rows"] == rows
