"""Sweeps: designs, stable point ids and seeds, Parquet results that resume, Dask runs, typed errors."""

import json
import os
import signal
import subprocess
import sys
import time

import cloudpickle
import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.stats

from spicelim.errors import EnvironmentProblem, InvalidParameterError
from spicelim.sweeps import (
    READ_DEFAULTS,
    SweepSpec,
    SweepTask,
    load_results,
    point_id,
    point_seed,
    run_point,
    run_sweep,
)

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the worker processes cannot import this module

#: columns that differ between two runs of the same points (timings, where they ran)
RUN_COLUMNS = {"seconds", "worker", "versions"}


def _compared(table):
    return sorted(c for c in table.column_names if c not in RUN_COLUMNS and not c.endswith("s_per_read"))


def same_numbers(a, b):
    cols = _compared(a)
    assert cols == _compared(b)
    assert a.select(cols).to_pylist() == b.select(cols).to_pylist()


# ----------------------------------------------------------------------------- designs
def test_grid_points_ids_and_seeds():
    spec = SweepSpec("read", grid={"rows": [4, 8], "r_wire": [0.0, 1.0, 2.5]}, fixed={"cols": 3}, seed=7)
    points = spec.points()
    assert len(points) == 6
    assert [(p.params["rows"], p.params["r_wire"]) for p in points] == [
        (4, 0.0), (4, 1.0), (4, 2.5), (8, 0.0), (8, 1.0), (8, 2.5)]
    for p in points:
        assert p.params["cols"] == 3 and p.params["batch"] == READ_DEFAULTS["batch"]
        assert p.point_id == point_id("read", dict(p.params))
        want = np.random.SeedSequence([7, int(p.point_id, 16)]).generate_state(1, np.uint32)[0]
        assert p.seed == point_seed(7, p.point_id) == want
    # the same point in another sweep has the same id (and, with the same sweep seed, the same seed)
    other = SweepSpec("read", grid={"r_wire": [2.5]}, fixed={"cols": 3, "rows": 8}, seed=7).points()[0]
    assert other.point_id == points[5].point_id and other.seed == points[5].seed
    # replicates are distinct points with their own seeds
    reps = SweepSpec("read", grid={"replicate": [0, 1, 2]}).points()
    assert len({p.point_id for p in reps}) == 3 and len({p.seed for p in reps}) == 3


def test_random_design_is_seeded_and_within_bounds():
    spec = SweepSpec("read", grid={"cell": ["0T1R", "1T1R"]}, random={"r_wire": {"log": (0.1, 10.0)},
                     "v_read": {"uniform": (0.1, 0.3)}, "rows": [4, 8]}, samples=50, seed=3)
    points = spec.points()
    assert len(points) == 100
    r = np.array([p.params["r_wire"] for p in points])
    assert np.all((r >= 0.1) & (r <= 10)) and np.all(np.isin([p.params["rows"] for p in points], [4, 8]))
    # log-uniform: log10 of the 50 draws is uniform on [-1, 1] (Kolmogorov-Smirnov)
    assert scipy.stats.kstest(np.log10(r[:50]), scipy.stats.uniform(-1, 2).cdf).pvalue > 1e-3
    assert np.array_equal(r[:50], r[50:])  # the draws are crossed with the grid
    again = SweepSpec("read", grid={"cell": ["0T1R", "1T1R"]}, random={"r_wire": {"log": (0.1, 10.0)},
                      "v_read": {"uniform": (0.1, 0.3)}, "rows": [4, 8]}, samples=50, seed=3).points()
    assert [p.point_id for p in again] == [p.point_id for p in points]
    v = [p.params["v_read"] for p in points]
    assert min(v) >= 0.1 and max(v) <= 0.3 and len(set(v)) == 50
    raw = {"task": "read", "random": {"v_read": [0.1, 0.3]}, "samples": 4}
    assert {p.params["v_read"] for p in SweepSpec.from_dict(raw).points()} <= {0.1, 0.3}  # a list: choices


@pytest.mark.parametrize("kwargs, match", [
    ({"grid": {"bogus": [1]}}, "unknown parameter.*bogus"),
    ({"fixed": {"rows": 4}}, "no grid and no random"),
    ({"grid": {"rows": []}}, "is empty"),
    ({"grid": {"rows": 4}}, "must be a list"),
    ({"grid": {"rows": [4]}, "fixed": {"rows": 8}}, "more than one"),
    ({"grid": {"rows": [4, 4]}}, "identical"),
    ({"random": {"r_wire": {"uniform": (1.0, 1.0)}}, "samples": 2}, "low < high"),
    ({"random": {"r_wire": {"log": (0.0, 1.0)}}, "samples": 2}, "log-uniform"),
    ({"random": {"r_wire": [0.0, 1.0]}}, "samples >= 1"),
    ({"random": {"r_wire": {"normal": (0.0, 1.0)}}, "samples": 1}, "must be"),
    ({"random": {"r_wire": []}, "samples": 1}, "non-empty list"),
    ({"grid": {"rows": [4]}, "samples": 3}, "needs a random design"),
    ({"grid": {"rows": [4]}, "seed": -1}, "seed"),
    ({"grid": {"r_wire": [float("nan")]}}, "finite"),
    ({"grid": {"rows": [object()]}}, "must be a number"),
])
def test_bad_designs_are_refused(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        SweepSpec("read", **kwargs).points()


def test_unknown_tasks_and_description_keys_are_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="task must be"):
        SweepSpec("nope", grid={"rows": [4]})
    with pytest.raises(InvalidParameterError, match="unknown key"):
        SweepSpec.from_dict({"task": "read", "grid": {"rows": [4]}, "extra": 1})
    with pytest.raises(InvalidParameterError, match="names no task"):
        SweepSpec.from_dict({"grid": {"rows": [4]}})
    bad = tmp_path / "s.toml"
    bad.write_text("task = read\n")
    with pytest.raises(InvalidParameterError, match="not valid TOML"):
        SweepSpec.from_toml(bad)
    with pytest.raises(InvalidParameterError, match="unknown parameter.*training.bogus"):
        SweepSpec("train", grid={"training.bogus": [1]})


def test_point_parameters_are_checked_before_anything_runs(tmp_path):
    out = tmp_path / "r"
    for grid, match in [({"rows": [4, 0]}, "point 1 .*rows"), ({"adc_bits": [4]}, "needs tia_r_f"),
                        ({"device": ["nope"]}, "device"), ({"reference": ["nope"]}, "reference")]:
        with pytest.raises(InvalidParameterError, match=match):
            run_sweep(SweepSpec("read", grid=grid), out, progress=False)
    with pytest.raises(InvalidParameterError, match="training.lr"):
        run_sweep(SweepSpec("train", grid={"training.lr": [-1.0]}), out, progress=False)
    assert not out.exists()  # nothing written, no cluster started


# ----------------------------------------------------------------------------- one point, by hand
def test_read_point_matches_the_closed_form_of_a_single_cell():
    """1x1 array: I = V / (r_source + r_row + 1/G + r_col); the error against V G is 1 - 1/(1 + G R)."""
    spec = SweepSpec("read", grid={"r_wire": [0.0, 50.0, 500.0]},
                     fixed={"rows": 1, "cols": 1, "r_source": 20.0, "backend": "fast", "reference": "ideal",
                            "g_min": 1e-4, "g_max": 1e-3, "batch": 3})
    for p in spec.points():
        row = run_point(p, spec.task)
        assert row["status"] == "ok", row["error"]
        g = np.random.default_rng(p.seed).uniform(1e-4, 1e-3, (1, 1))[0, 0]  # the task's first draw
        want = 1 - 1 / (1 + g * (20.0 + 2 * p.params["r_wire"]))
        assert row["error_vs_ideal_max"] == pytest.approx(want, rel=1e-9)
        assert row["error_vs_reference_max"] == pytest.approx(want, rel=1e-9)  # ideal backend = v @ G
        assert row["backend"] == "fast" and row["seed"] == p.seed
        assert run_point(p, spec.task)["error_vs_ideal_max"] == row["error_vs_ideal_max"]  # re-run alone: same


def test_a_failing_point_becomes_a_failed_row():
    def run(params, seed, backends):
        if params["x"] == 2:
            raise RuntimeError("boom")
        return {"y": params["x"] ** 2, "x": 1} if params["x"] == 3 else {"y": params["x"] ** 2}

    task = SweepTask("square", run, {"x": 0})
    rows = [run_point(p, task) for p in SweepSpec(task, grid={"x": [1, 2, 3]}).points()]
    assert [r["status"] for r in rows] == ["ok", "failed", "failed"]
    assert rows[0]["y"] == 1 and "RuntimeError: boom" in rows[1]["error"] and "named like a parameter" in rows[2]["error"]


# ----------------------------------------------------------------------------- runs on Dask
def _square(params, seed, backends):
    if params["x"] < 0:
        raise ValueError("negative")
    return {"y": params["x"] ** 2 + params["offset"], "draw": float(np.random.default_rng(seed).random())}


SQUARE = SweepTask("square", _square, {"x": 0, "offset": 0.0})


def test_sweep_on_a_local_cluster_saves_resumes_and_records_failures(tmp_path):
    spec = SweepSpec(SQUARE, grid={"x": [-1, 1, 2, 3]}, fixed={"offset": 0.5}, seed=4)
    res = run_sweep(spec, tmp_path / "r", workers=2, progress=False)
    assert (res.points, res.ran, res.skipped, res.failed) == (4, 4, 0, 1)
    rows = res.table.to_pylist()
    assert [r["x"] for r in rows] == [-1, 1, 2, 3]
    assert [r["status"] for r in rows] == ["failed", "ok", "ok", "ok"] and "negative" in rows[0]["error"]
    assert [r["y"] for r in rows[1:]] == [1.5, 4.5, 9.5]
    assert [r["draw"] for r in rows[1:]] == [np.random.default_rng(p.seed).random() for p in spec.points()[1:]]
    assert {"seconds", "worker", "versions", "backend", "point_id", "seed"} <= set(res.table.column_names)
    assert "ngspice" in json.loads(rows[1]["versions"])
    assert pq.read_table(res.files[0]).num_rows == 4 and res.files[1].read_text().count("\n") == 5
    # re-running skips the finished points and retries the failed one
    again = run_sweep(spec, tmp_path / "r", workers=1, progress=False)
    assert (again.ran, again.skipped, again.failed) == (1, 3, 1)
    assert run_sweep(spec, tmp_path / "r", workers=1, progress=False, retry_failed=False).ran == 0
    same_numbers(load_results(tmp_path / "r"), res.table)
    # a folder of another sweep is refused
    with pytest.raises(InvalidParameterError, match="different sweep"):
        run_sweep(SweepSpec(SQUARE, grid={"x": [5]}), tmp_path / "r", progress=False)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "f.txt").write_text("x")
    with pytest.raises(InvalidParameterError, match="not a sweep"):
        run_sweep(spec, tmp_path / "junk", progress=False)


def test_unreachable_scheduler_is_a_typed_error(tmp_path):
    with pytest.raises(EnvironmentProblem, match="cannot reach the Dask scheduler"):
        run_sweep(SweepSpec(SQUARE, grid={"x": [1]}), tmp_path / "r", scheduler="tcp://127.0.0.1:9",
                  connect_timeout=1, progress=False)
    assert not (tmp_path / "r").exists()
    with pytest.raises(InvalidParameterError, match="scheduler must be"):
        run_sweep(SweepSpec(SQUARE, grid={"x": [1]}), tmp_path / "r", scheduler=3, progress=False)


# ----------------------------------------------------------------------------- SPICE, killed and resumed
KILL_SPEC = """
task = "read"
name = "kill-test"
seed = 11
[grid]
rows = [40, 48, 56, 64]
r_wire = [1.0, 2.5]
replicate = [0, 1]
[fixed]
cols = 40
batch = 48
cell = "1T1R"
reference = "fast"
"""


@pytest.mark.spice
@pytest.mark.slow
def test_a_killed_sweep_resumes_without_recomputing_and_equals_an_uninterrupted_run(tmp_path):
    spec_file = tmp_path / "kill.toml"
    spec_file.write_text(KILL_SPEC)
    out = tmp_path / "killed"
    driver = subprocess.Popen([sys.executable, "-m", "spicelim", "sweep", str(spec_file), "--out", str(out), "--json"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(list((out / "points").glob("*.parquet"))) < 5:
            assert driver.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        # the Dask workers and their ngspice processes die with the driver
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.killpg(driver.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("worker processes outlived the killed sweep driver by a minute")
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before = {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("*.parquet")}
    assert 5 <= len(before) < 16
    spec = SweepSpec.from_toml(spec_file)
    resumed = run_sweep(spec, out, workers=2, progress=False)
    assert (resumed.skipped, resumed.ran, resumed.failed) == (len(before), 16 - len(before), 0)
    after = {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("*.parquet")}
    assert {k: after[k] for k in before} == before  # 0 finished points recomputed
    fresh = run_sweep(spec, tmp_path / "fresh", workers=2, progress=False)
    same_numbers(resumed.table, fresh.table)
    rows = fresh.table.to_pylist()
    assert all(r["status"] == "ok" and r["backend"] == "spice" for r in rows)
    assert max(r["error_vs_reference_max"] for r in rows) < 0.02  # the 1T1R fast model against ngspice
    assert all(r["error_vs_ideal_max"] > 0 for r in rows)
