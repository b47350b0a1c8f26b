"""Benchmark scripts run end to end on tiny arrays; their numbers are checked, their timings are not."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.mark.spice
def test_bench_update_on_a_tiny_array(tmp_path):
    """A 3 x 3 update step: the backends agree, idle cells stay put, and the report adds up."""
    out = tmp_path / "bench_update.json"
    res = subprocess.run([sys.executable, str(SCRIPTS / "bench_update.py"), "--rows", "3", "--cols", "3", "--repeats", "1",
                          "--full-array", "--check-size", "2", "--check-steps", "row", "--json", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.read_text())
    assert [s["step"] for s in report["steps"]] == ["row", "array"]
    for step in report["steps"]:
        assert step["pulsed_cells"] == step["set_cells"] + step["reset_cells"] > 0
        assert 0 < step["worker_s"] <= step["spice_s"]
        assert step["spice_time_points"] > step["breakpoints"] and step["fast_solves"] > 0
        agree = step["agreement"]
        assert agree["mean_abs_change_of_pulsed_frac_range"] > 0.01  # the pulses moved the devices
        assert agree["pulsed"]["max_frac_range"] < 0.01  # fast within 1 % of the state range of SPICE
        if agree["not_pulsed"] is not None:
            assert agree["not_pulsed"]["max_frac_range"] < 1e-9
        assert max(step["not_pulsed_max_change_frac_range"].values()) < 1e-9
    check = report["time_step_check"][0]
    assert set(check["runs"]) == {"spice default", "spice fine", "fast default", "fast fine"}
    assert check["runs"]["spice fine"]["max_step_s"] < check["runs"]["spice default"]["max_step_s"]
    assert check["pairs"]["spice default - spice fine"]["pulsed"]["max_frac_range"] < 0.01


@pytest.mark.spice
def test_bench_update_engines_on_a_tiny_array(tmp_path):
    """A 4 x 4 tile (two pairs per row): every engine moves the cells ngspice moves, within a few per cent of the mean change."""
    out = tmp_path / "engines.json"
    res = subprocess.run([sys.executable, str(SCRIPTS / "bench_update_engines.py"), "--size", "4", "--json", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.read_text())
    assert [u["update"] for u in report["updates"]] == ["sign", "counts", "outer"]
    for u in report["updates"]:
        assert u["cells_moved"] > 0 and u["mean_abs_change_S"] > 0
        for engine in ("fast", "fast-slots"):
            assert u[engine]["rms_rel_mean_change"] < 0.05 and u[engine]["unmoved_max_change_S"] < 1e-9


def test_hybrid_seeds_reports_what_its_runs_measured(tmp_path):
    """One seed of the hybrid recipe on the fast backend: the drop and the recovered fraction follow from the
    three accuracies it reports, and each accuracy is a count of the 359 test images."""
    out = tmp_path / "hybrid.json"
    res = subprocess.run([sys.executable, str(SCRIPTS / "hybrid_seeds.py"), "--seeds", "0", "--backend", "fast-slots",
                          "--json", str(out)], capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    (row,) = json.loads(out.read_text())["seeds"]
    for key in ("baseline", "transfer", "hybrid"):
        assert row[key] * 359 == pytest.approx(round(row[key] * 359), abs=1e-6)
    assert row["drop_points"] == pytest.approx(100 * (row["baseline"] - row["transfer"]))
    assert row["recovered"] == pytest.approx((row["hybrid"] - row["transfer"]) / (row["baseline"] - row["transfer"]))
    assert row["baseline"] > 0.95 and row["transfer"] < row["baseline"]


@pytest.mark.spice
def test_bench_sweep_on_tiny_points(tmp_path):
    """Two rounds of 3 tiny ngspice points on 1 and 2 workers: every run gives the same table, the ratio adds up."""
    out = tmp_path / "bench_sweep.json"
    res = subprocess.run([sys.executable, str(SCRIPTS / "bench_sweep.py"), "--points", "3", "--size", "4",
                          "--batch", "2", "--rounds", "2", "--json", str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.read_text())
    assert report["same_numbers"] and len(report["runs"]["1"]) == len(report["runs"]["2"]) == 2
    seconds = {w: sum(r["points_seconds"] for r in runs) for w, runs in report["runs"].items()}
    assert report["speedup"] == pytest.approx(seconds["1"] / seconds["2"])


@pytest.mark.spice
@pytest.mark.slow
def test_bench_test_set_on_a_tiny_network(tmp_path):
    """784-4-10 on 128 x 128 tiles, 6 test images: ngspice on 1 and 2 workers agree with each other."""
    out = tmp_path / "bench_test_set.json"
    res = subprocess.run([sys.executable, str(SCRIPTS / "bench_test_set.py"), "--hidden", "4", "--images", "6",
                          "--batch", "3", "--calibration", "8", "--out", str(tmp_path / "runs"), "--json", str(out)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(out.read_text())
    one, two = report["runs"]["1"], report["runs"]["2"]
    assert one["accuracy"] == two["accuracy"] and one["tasks_run"] == two["tasks_run"] == 8 * 2
    assert report["speedup"] == pytest.approx(two["images_per_second"] / one["images_per_second"])


@pytest.mark.spice
def test_bench_spice_workers_on_a_small_batch(tmp_path):
    """Four images through the seed system's FC tiles on one and on two ngspice processes: the same outputs
    and verify reads (within ngspice's convergence tolerance), and a time for each."""
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(SCRIPTS / "bench_spice_workers.py"), "--images", "4", "--rounds", "1",
                          "--json", str(out)], capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.read_text())
    assert report["operating_points_forward"] == 128
    assert report["max_output_difference"] < 1e-3 and report["max_verify_difference"] < 1e-3
    assert all(report["best_seconds"][w][k] > 0 for w in ("1", "2") for k in ("forward", "verify"))
