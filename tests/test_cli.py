"""The `spicelim` command: doctor and a small read study."""

import json
import subprocess
import sys

import numpy as np
import pytest

from spicelim.cli import main

pytestmark = pytest.mark.spice


def test_doctor_passes_here(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("ngspice version", "ngspice KLU", "ngspice OSDI", "PySpice", "openvaf-r", "2x2 test read"):
        assert name in out
    assert "all checks passed" in out


def test_doctor_reports_missing_ngspice(tmp_path):
    """With ngspice off the PATH, doctor fails and says how to install it."""
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "spicelim.cli", "doctor"], capture_output=True, text=True, env=env)
    assert res.returncode == 1
    assert "FAIL ngspice" in res.stdout and "bookworm-backports" in res.stdout


def test_small_read_study(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["read-study", "--out", str(out), "--map-size", "8", "--sizes", "4", "8", "--batch", "3"]) == 0
    for name in ("ir_drop_map.png", "read_error_vs_size.png", "read_error_vs_size.json", "sneak_paths.json"):
        assert (out / name).stat().st_size > 0
    rows = json.loads((out / "read_error_vs_size.json").read_text())
    assert {(r["size"], r["cell"]) for r in rows} == {(4, "0T1R"), (4, "1T1R"), (8, "0T1R"), (8, "1T1R")}
    for r in rows:
        assert (r["model"], r["reference"]) == ("fast", "spice")
        assert r["model_vs_reference"] < (1e-6 if r["cell"] == "0T1R" else 1e-3)
    error = {(r["size"], r["cell"]): r["model_error"] for r in rows}
    assert error[(8, "0T1R")] > error[(4, "0T1R")]  # longer lines, more IR drop


def test_device_curves_command(tmp_path, capsys):
    out = tmp_path / "curves"
    assert main(["device-curves", "--out", str(out), "--pulses", "4", "--pulse-width", "5e-7"]) == 0
    for name in ("vteam_hysteresis.png", "vteam_ltp_ltd.png", "vteam_curves.json"):
        assert (out / name).stat().st_size > 0
    res = json.loads((out / "vteam_curves.json").read_text())
    g = {k: np.asarray(v) for k, v in res["ltp_ltd"].items()}
    assert set(g) == {"verilog-a", "behavioural", "numpy"} and len(g["numpy"]) == 9
    swing = np.ptp(g["numpy"])
    assert swing > 0
    for values in g.values():
        assert np.max(np.abs(values - g["numpy"])) < 0.01 * swing
    # A sine through the origin: the loop is pinched (i = 0 at v = 0) on every implementation.
    for curve in res["hysteresis"].values():
        v, i = np.asarray(curve["v"]), np.asarray(curve["i"])
        assert np.all(np.abs(i[np.abs(v) < 1e-3]) < 1e-3 * np.max(np.abs(i)))


def test_program_command(tmp_path, capsys):
    out = tmp_path / "program"
    assert main(["program", "--out", str(out), "--size", "6", "--stuck", "0.1", "--seed", "2"]) == 0
    res = json.loads((out / "programming.json").read_text())
    assert (out / "programming.png").stat().st_size > 0
    wv, ol = res["methods"]["write-verify"], res["methods"]["open loop"]
    assert wv["healthy_within_tolerance"] >= 0.99
    assert wv["healthy_within_tolerance"] > ol["healthy_within_tolerance"]
    assert wv["unresponsive_that_are_stuck"] == wv["reported_unresponsive"]
    assert "write-verify" in capsys.readouterr().out


@pytest.mark.parametrize("args,match", [(["--c2c", "-1"], "c2c"), (["--size", "0"], "rows"),
                                        (["--max-pulses", "0"], "max_pulses"), (["--r-wire", "-1"], "r_row")])
def test_program_command_rejects_bad_input(tmp_path, capsys, args, match):
    assert main(["program", "--size", "4", *args, "--out", str(tmp_path / "never")]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_netlist_command_runs_in_plain_ngspice_and_matches_read(tmp_path, capsys):
    from test_golden_spice import printed_currents

    rng = np.random.default_rng(3)
    np.save(tmp_path / "g.npy", rng.uniform(1e-6, 2e-5, (5, 3)))
    np.savetxt(tmp_path / "v.csv", rng.uniform(-0.2, 0.2, (2, 5)), delimiter=",")
    array = ["--rows", "5", "--cols", "3", "--cell", "1T1R", "--r-wire", "2.5", "--r-source", "10",
             "--conductance", str(tmp_path / "g.npy"), "--inputs", str(tmp_path / "v.csv")]
    assert main(["netlist", *array, "--out", str(tmp_path / "x.cir")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["batch"] == 2 and info["run"] == f"ngspice -b {tmp_path / 'x.cir'}"
    res = subprocess.run(["ngspice", "-b", info["netlist"]], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    plain = printed_currents(res.stdout, 3, 2)
    assert main(["read", *array, "--backend", "spice", "--json"]) == 0
    spice = np.array(json.loads(capsys.readouterr().out)["currents_A"])
    np.testing.assert_allclose(plain, spice, rtol=1e-5)  # ngspice prints 7 significant digits
    assert main(["read", *array, "--backend", "fast"]) == 0
    fast = np.loadtxt(capsys.readouterr().out.splitlines(), delimiter=",")
    assert np.max(np.abs(fast - spice)) < 1e-4 * np.max(np.abs(spice))  # the linearised selector (README: up to 3e-5)


@pytest.mark.parametrize("args,match", [(["--rows", "0"], "rows"), (["--conductance", "missing.npy"], "cannot read"),
                                        (["--inputs", "bad.csv"], "cannot read"), (["--batch", "0"], "batch")])
def test_netlist_command_rejects_bad_input(tmp_path, capsys, args, match):
    assert main(["netlist", *args, "--out", str(tmp_path / "x.cir")]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "x.cir").exists()


def test_validate_command(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["validate", "--out", str(out), "--sizes", "4", "--r-wires", "2", "--cells", "0T1R",
                 "--no-accuracy", "--workers", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    (row,) = res["grid"]
    assert row["size"] == 4 and row["fast_max_error"] < 1e-6 and row["ideal_max_error"] > 0
    assert (out / "validation.md").exists() and res["accuracy"] == []
    assert main(["validate", "--out", str(tmp_path / "w"), "--sizes", "0", "--no-accuracy"]) == 2
    assert "size" in capsys.readouterr().err and not (tmp_path / "w").exists()


def test_json_output_of_the_studies(tmp_path, capsys):
    """--json prints one JSON object on stdout (the tables go to stderr) with the numbers the files hold."""
    assert main(["doctor", "--json"]) == 0
    doctor = json.loads(capsys.readouterr().out)
    assert doctor["ok"] and {"ngspice KLU", "2x2 test read"} <= {c["name"] for c in doctor["checks"]}
    out = tmp_path / "study"
    assert main(["read-study", "--out", str(out), "--map-size", "4", "--sizes", "4", "--batch", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sizes"] == json.loads((out / "read_error_vs_size.json").read_text())
    assert main(["program", "--out", str(tmp_path / "p"), "--size", "4", "--json"]) == 0
    program = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "p" / "programming.json").read_text())
    assert program["methods"]["write-verify"]["healthy_within_tolerance"] == \
        saved["methods"]["write-verify"]["healthy_within_tolerance"]
