"""The ADC-precision study: Python-applied ADCs against arrays read with their ADC, error and energy trends, CLI."""

import json

import numpy as np
import pytest

from spicelim import Crossbar
from spicelim.cli import main
from spicelim.errors import InvalidParameterError
from spicelim.periphery import ADC, TIA, DifferentialPairs, read_cost, read_signed
from spicelim.studies.adc_study import (
    G_MAX,
    G_MIN,
    feedback_resistance,
    problem,
    quantise,
    relative_error,
    run_adc_study,
    signed_currents,
    walden_conversion_energy,
)

PAIRS = DifferentialPairs(g_min=G_MIN, g_max=G_MAX)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A small grid on the fast backend: N = 16 and 32, wires 0 / 2.5 / 5 ohm, bits 1 .. 10."""
    out = tmp_path_factory.mktemp("adc-grid")
    return run_adc_study(out, bits=range(1, 11), r_wires=(0.0, 2.5, 5.0), sizes=(16, 32), batch=32,
                         check_max_size=0, seed=3, progress=False)


def _rows(summary):
    return {(r["size"], r["r_wire_ohm"]): r for r in summary["results"]}


@pytest.mark.parametrize("bits", [1, 3, 7])
def test_python_adc_equals_the_array_read_through_its_adc(bits):
    """quantise() on simulated TIA outputs gives the codes of an array built with the ADC (read_codes)."""
    n, margin = 8, 1.25
    _, g, v_test, v_cal = problem(n, 6, 5, seed=1, pairs=PAIRS)
    tia = TIA(r_f=feedback_resistance(g, v_cal, 1.0))
    with Crossbar(n, 2 * n, r_row=2.5, r_col=2.5, r_source=1.0, tia=tia) as plain:
        plain.set_conductance(g)
        v_out = plain.sense(v_test, backend="fast").v_out
        v_cal_out = plain.read_tia_output(v_cal, backend="fast")
    adc = ADC(bits=bits, full_scale="calibrate")
    codes, fs = quantise(adc, v_out, v_cal_out, margin)
    with Crossbar(n, 2 * n, r_row=2.5, r_col=2.5, r_source=1.0, tia=tia, adc=adc) as xb:
        xb.set_conductance(g)
        np.testing.assert_array_equal(xb.calibrate_adc(v_cal, backend="fast", margin=margin), fs)
        np.testing.assert_array_equal(xb.read_codes(v_test, backend="fast"), codes)
        np.testing.assert_array_equal(read_signed(xb, v_test, backend="fast", subtraction="digital"),
                                      signed_currents(adc, tia, v_out, v_cal_out, margin))
    assert len(np.unique(codes)) > 1 or bits == 1


def test_study_numbers_equal_direct_reads_and_read_cost(tmp_path):
    """Every error and energy of the study equals an array with that ADC read directly (read_signed, read_cost)."""
    n, r_wire, bits, batch, seed = 8, 2.5, (2, 5, 9), 7, 4
    s = run_adc_study(tmp_path, bits=bits, r_wires=(r_wire,), sizes=(n,), batch=batch, check_max_size=0, seed=seed,
                      progress=False)
    row = s["results"][0]
    _, g, v_test, v_cal = problem(n, batch, batch, seed, PAIRS)
    ideal = v_test @ g[:, 0::2] - v_test @ g[:, 1::2]
    assert row["r_f_ohm"] == feedback_resistance(g, v_cal, 1.0)
    for k, b in enumerate(bits):
        tia = TIA(r_f=row["r_f_ohm"], energy_per_read=s["tia_energy_per_read_J"])
        adc = ADC(bits=b, full_scale="calibrate", energy_per_conversion=walden_conversion_energy(b))
        with Crossbar(n, 2 * n, r_row=r_wire, r_col=r_wire, tia=tia, adc=adc) as xb:
            xb.set_conductance(g)
            xb.calibrate_adc(v_cal, backend="fast", margin=s["calibration_margin"])
            y = read_signed(xb, v_test, backend="fast", subtraction="digital")
            cost = read_cost(xb, v_test, backend="fast", t_read=s["t_read_s"])
        assert row["error"][k] == pytest.approx(relative_error(y, ideal), rel=1e-12)
        e = row["energy"][k]
        for key, want in (("drivers_J", cost.drivers), ("feedback_J", cost.feedback), ("tia_J", cost.tia),
                          ("adc_J", cost.adc), ("total_J", cost.total), ("latency_s", cost.latency)):
            assert e[key] == pytest.approx(want, rel=1e-12), key
        assert e["gops_per_watt_device_columns"] == pytest.approx(cost.gops_per_watt, rel=1e-12)
        assert e["gops_per_watt"] == pytest.approx(cost.gops_per_watt / 2, rel=1e-12)  # N^2 signed MACs, not N x 2N


def test_error_falls_with_bits_to_the_wire_floor(grid):
    rows = _rows(grid)
    for (n, r), row in rows.items():
        err, floor = np.asarray(row["error"]), row["error_no_adc"]
        assert row["clipped_fraction"] == 0  # the calibration margin keeps the test batch in range
        assert err[0] > 0.3  # 1 bit: one code for every (negative) TIA output
        # From 3 bits on each extra bit lowers the error (or keeps it at the floor, within 0.2 % of it).
        assert np.all(err[3:] <= err[2:-1] * 1.002 + 1e-4), (n, r, err)
        assert np.all(err >= floor * (1 - 0.02))  # the ADC never makes the read better than the wires allow
        # Quantisation alone halves per bit: at 10 bits it is below 1 % of the signed outputs.
        assert np.sqrt(max(err[-1] ** 2 - floor**2, 0)) < 0.01
        # The quantisation error (the same array with ideal wires) and the wire error are independent:
        # they add in quadrature, within 10 %, at every resolution.
        quant = np.asarray(rows[(n, 0.0)]["error"])
        np.testing.assert_allclose(err, np.hypot(quant, floor), rtol=0.1)
        if r > 0:
            assert err[-1] < 1.1 * floor  # 10 bits: the wires dominate
            assert err[4] > 2 * floor  # 5 bits: the ADC dominates


def test_no_adc_error_grows_with_wire_resistance(grid):
    rows = _rows(grid)
    for n in grid["sizes"]:
        floors = [rows[(n, r)]["error_no_adc"] for r in grid["r_wires_ohm"]]
        assert floors[0] < 1e-12  # ideal lines, ideal drivers, ideal TIAs: exact
        assert np.all(np.diff(floors) > 0)
    assert rows[(32, 5.0)]["error_no_adc"] > rows[(16, 5.0)]["error_no_adc"]  # longer lines, more IR drop


def test_energy_grows_with_bits_under_the_walden_model(grid, tmp_path):
    for row in grid["results"]:
        total = np.array([e["total_J"] for e in row["energy"]])
        assert np.all(np.diff(total) > 0)
        n = row["size"]
        for e in row["energy"]:
            assert e["adc_J"] == pytest.approx(2 * n * 10e-15 * 2 ** e["bits"], rel=1e-12)  # 2N conversions
            assert e["total_J"] == pytest.approx(row["energy_no_adc_J"] + e["adc_J"], rel=1e-12)
            assert e["gops_per_watt"] == pytest.approx(2 * n * n / e["total_J"] / 1e9, rel=1e-12)
        assert row["energy"][0]["drivers_J"] > 0 and row["energy"][0]["feedback_J"] > 0
    # A fixed energy per conversion: the energy no longer depends on the resolution.
    s = run_adc_study(tmp_path, bits=(2, 8), r_wires=(1.0,), sizes=(8,), batch=4, check_max_size=0,
                      adc_energy_per_conversion=1e-12, progress=False)
    e = s["results"][0]["energy"]
    assert e[0]["total_J"] == e[1]["total_J"] and e[0]["adc_J"] == pytest.approx(16e-12)


def test_bad_arguments_fail_before_anything_is_written(tmp_path):
    for kwargs in ({"bits": [0]}, {"bits": [17]}, {"r_wires": [-1.0]}, {"sizes": [0]}, {"batch": 0},
                   {"backend": "no-such-backend"}, {"check_backend": "no-such-backend"}, {"margin": 0.0}, {"adc_options": {"bits": 3}}, {"tia_options": {"gain": 0.5}}):
        with pytest.raises(InvalidParameterError):
            run_adc_study(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()


def test_cli_writes_plots_and_json(tmp_path, capsys):
    out = tmp_path / "adc"
    assert main(["adc-study", "--out", str(out), "--sizes", "8", "--bits", "2", "4", "6", "--r-wires", "0", "2",
                 "--batch", "8", "--check-max-size", "0"]) == 0
    for name in ("adc_error_vs_bits.png", "adc_energy_vs_bits.png", "adc_energy_breakdown.png", "adc_study.json"):
        assert (out / name).stat().st_size > 0
    res = json.loads((out / "adc_study.json").read_text())
    assert res["bits"] == [2, 4, 6] and res["sizes"] == [8] and res["r_wires_ohm"] == [0.0, 2.0]
    assert len(res["results"]) == 2 and all(len(r["error"]) == 3 and len(r["energy"]) == 3 for r in res["results"])
    text = capsys.readouterr().out
    assert "Relative error of I+ - I-" in text and "GOP/s/W" in text and "adc_study.json" in text


@pytest.mark.parametrize("bad", [["--bits", "0"], ["--bits", "4", "17"], ["--r-wires", "-2"], ["--batch", "0"]])
def test_cli_rejects_bad_input(tmp_path, capsys, bad):
    out = tmp_path / "never"
    assert main(["adc-study", "--out", str(out), "--sizes", "4", "--check-max-size", "0"] + bad) == 2
    assert "InvalidParameterError" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.spice
def test_fast_model_against_ngspice(tmp_path):
    s = run_adc_study(tmp_path, bits=(4, 8), r_wires=(0.0, 5.0), sizes=(8,), batch=6, check_max_size=8,
                      progress=False)
    assert s["checked_sizes"] == [8] and s["check_backend"] == "spice"
    for row in s["results"]:
        c = row["check"]
        assert c["backend"] == "spice"
        assert c["tia_output_max_rel_diff"] < 1e-6
        assert c["error_no_adc"] == pytest.approx(row["error_no_adc"], rel=1e-4, abs=1e-9)
        assert max(c["codes_differ_fraction"]) <= 1 / 96  # at most one code of 6 x 16 at a threshold
