"""Half-select disturb study: the voltages the V/2 and V/3 schemes put on cells, checked through the physics.

With ideal lines every cell of a passive array sees exactly its row level minus its column level,
so each cell must move exactly as a lone device driven by that voltage (solved independently by
spicelim.devices.simulate), and a cell held below the switching threshold must not move at all.
"""

import json

import numpy as np
import pytest

from spicelim import Backends
from spicelim.cli import main
from spicelim.devices import VTEAM, SoftBoundsRRAM, simulate
from spicelim.errors import InvalidParameterError, MissingCapability
from spicelim.programming import PulseTiming
from spicelim.studies.disturb import GROUPS, half_select_disturb

DEV = SoftBoundsRRAM()  # thresholds +0.8 V / -0.8 V
LO, HI = DEV.state_bounds
S0 = (LO + HI) / 2
# Edges of 1 ps: the plateau alone moves the devices, so the array's stepping of the edges cannot blur the comparison.
SHARP = PulseTiming(width=50e-9, rise=1e-12, fall=1e-12, gap=5e-9)


def lone_device_change(volts: float, n_pulses: int, timing: PulseTiming = SHARP) -> float:
    """State change (S) of one device, starting mid-window, under n trapezoidal pulses of `volts`."""
    t, v = [0.0], [0.0]
    for k in range(n_pulses):
        t0 = k * timing.period
        t += [t0 + timing.rise, t0 + timing.rise + timing.width, t0 + timing.rise + timing.width + timing.fall,
              t0 + timing.period]
        v += [volts, volts, 0.0, 0.0]
    return float(simulate(DEV, np.array(t), np.array(v), S0, backend="fast").state[-1] - S0)


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["SET", "RESET"])
def test_ideal_lines_v2_scheme_gives_v_half_and_zero(sign):
    """V/2 scheme, 2.0 V pulses: selected cell at V, its row and column at V/2 (above threshold), others at 0 V."""
    a, n = 2.0 * sign, 3
    study = half_select_disturb(DEV, (5, 4), amplitudes=[2.0], n_pulses=n, schemes=("V/2",), timing=SHARP,
                                cell=(3, 1), polarities=("SET" if sign > 0 else "RESET",), progress=False)
    run = study.run("V/2", a)
    g = run.groups
    assert g["selected"].sum() == 1 and g["selected"][3, 1]
    assert g["same row"].sum() == 3 and g["same column"].sum() == 4 and g["unselected"].sum() == 12
    for group, volts in (("selected", a), ("same row", a / 2), ("same column", a / 2)):
        want = lone_device_change(volts, n)
        assert abs(want) > 1e-3 * (HI - LO)  # every one of these voltages switches the device
        np.testing.assert_allclose(run.change[g[group]], want, rtol=1e-5)
        assert run.stats(group).nominal_v == pytest.approx(volts)
    assert np.all(run.change[g["unselected"]] == 0.0)  # 0 V: not a single bit moves
    assert run.stats("unselected").nominal_v == 0.0


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["SET", "RESET"])
def test_ideal_lines_v3_scheme_gives_v_third_and_minus_v_third(sign):
    """V/3 scheme: below threshold (2.0 V / 3 < 0.8 V) only the selected cell moves, by exactly the lone-device change.

    At 2.7 V, V/3 = 0.9 V crosses the threshold: the half-selected cells then move with the pulse
    and the unselected ones against it, each exactly like a lone device at +V/3 or -V/3.
    """
    pol = ("SET" if sign > 0 else "RESET",)
    study = half_select_disturb(DEV, (4, 5), amplitudes=[2.0, 2.7], n_pulses=2, schemes=("V/3",), timing=SHARP,
                                polarities=pol, progress=False)
    low, high = study.run("V/3", 2.0 * sign), study.run("V/3", 2.7 * sign)
    g = low.groups
    assert low.stats("same row").nominal_v == pytest.approx(2.0 * sign / 3)
    assert low.stats("unselected").nominal_v == pytest.approx(-2.0 * sign / 3)
    np.testing.assert_allclose(low.change[g["selected"]], lone_device_change(2.0 * sign, 2), rtol=1e-5)
    assert np.all(low.change[~g["selected"]] == 0.0)
    assert low.disturb_max == 0.0 and low.disturb_ratio == 0.0

    for group, volts in (("selected", 2.7), ("same row", 0.9), ("same column", 0.9), ("unselected", -0.9)):
        want = lone_device_change(volts * sign, 2)
        assert abs(want) > 1e-4 * (HI - LO)
        np.testing.assert_allclose(high.change[g[group]], want, rtol=1e-5)
    assert np.all(np.sign(high.change[g["unselected"]]) == -sign)  # opposite to the programming pulse


def test_v3_disturbs_less_than_v2_with_wires():
    """2.5 ohm lines: V/3 leaves the half-selected cells alone where V/2 (> 0.8 V) already moves them.

    At 1.4 V neither scheme reaches the threshold; at 2.0 V only V/2 does; at 2.6 V both do, V/3 far less.
    The V/2 disturb grows with the pulse count and the amplitude.
    """
    study = half_select_disturb(DEV, (6, 6), amplitudes=[1.4, 2.0, 2.6], n_pulses=(1, 4), r_wire=2.5,
                                progress=False)
    ideal = half_select_disturb(DEV, (6, 6), amplitudes=[2.0], n_pulses=4, schemes=("V/2",), progress=False)
    for sign in (1.0, -1.0):
        v2 = {a: study.run("V/2", sign * a) for a in (1.4, 2.0, 2.6)}
        v3 = {a: study.run("V/3", sign * a) for a in (1.4, 2.0, 2.6)}
        assert v2[1.4].disturb_max == 0.0 and v3[1.4].disturb_max == 0.0
        assert v2[2.0].half_selected_max > 1e-3 and v3[2.0].disturb_max == 0.0
        assert 0 < v3[2.6].half_selected_max < 0.2 * v2[2.6].half_selected_max
        assert v3[2.6].disturb_ratio < v2[2.6].disturb_ratio
        assert v2[2.0].half_selected_max < v2[2.6].half_selected_max
        assert study.run("V/2", sign * 2.0, 1).half_selected_max < v2[2.0].half_selected_max
        for r in (v2[2.0], v3[2.0]):
            assert r.selected_change * sign > 0.05  # the selected cell is programmed either way
        # The lines' IR drop only lowers the half-selected voltages: less disturb than with ideal lines.
        assert v2[2.0].half_selected_max < ideal.run("V/2", sign * 2.0).half_selected_max


def test_vteam_v2_crosses_its_threshold_and_v3_does_not():
    """VTEAM (+-0.3 V): at 0.75 V pulses V/2 = 0.375 V switches the half-selected cells, V/3 = 0.25 V cannot."""
    study = half_select_disturb(VTEAM(), (4, 4), amplitudes=[0.75], n_pulses=3, polarities=("SET",),
                                progress=False)
    assert study.run("V/2", 0.75).half_selected_max > 1e-4
    assert study.run("V/3", 0.75).disturb_max == 0.0
    assert study.run("V/3", 0.75).selected_change == pytest.approx(study.run("V/2", 0.75).selected_change, rel=1e-9)


def test_row_target_programs_the_row_and_half_selects_the_rest():
    study = half_select_disturb(DEV, (3, 4), amplitudes=[2.0], n_pulses=1, schemes=("V/2",), target="row",
                                timing=SHARP, polarities=("SET",), progress=False)
    run = study.run("V/2", 2.0)
    g = run.groups
    assert g["selected"].sum() == 4 and g["same column"].sum() == 8 and not g["same row"].any()
    np.testing.assert_allclose(run.change[g["selected"]], lone_device_change(2.0, 1), rtol=1e-5)
    np.testing.assert_allclose(run.change[g["same column"]], lone_device_change(1.0, 1), rtol=1e-5)
    assert run.stats("unselected").n_cells == 0 and run.stats("unselected").max_abs is None


@pytest.mark.parametrize("kwargs,match", [
    (dict(shape=(1, 4)), "2 x 2"), (dict(amplitudes=[0.0]), "amplitude"), (dict(n_pulses=0), "n_pulses"),
    (dict(schemes=("V/4",)), "schemes"), (dict(backend="hspice"), "unknown backend"), (dict(target="column"), "target"),
    (dict(cell=(5, 0)), "row"), (dict(polarities=("UP",)), "polarities"), (dict(initial_fraction=1.5), "initial"),
])
def test_bad_study_input(kwargs, match):
    args = dict(shape=(3, 3), amplitudes=[1.5], n_pulses=1, progress=False) | kwargs
    with pytest.raises(InvalidParameterError, match=match):
        half_select_disturb(DEV, **args)


def test_a_backend_without_transients_is_refused_before_any_run():
    with pytest.raises(MissingCapability, match="transient"):
        half_select_disturb(DEV, shape=(3, 3), amplitudes=[1.5], n_pulses=1, backend="ideal", progress=False)


@pytest.mark.spice
def test_spice_and_fast_agree_on_the_disturb_map(spice_backend):
    """4x4, 2.5 ohm lines, two 2.0 V pulses each way: ngspice and the fast transient within 1 % of the range."""
    kw = dict(amplitudes=[2.0], n_pulses=2, r_wire=2.5, progress=False)
    spice = half_select_disturb(DEV, (4, 4), backend="spice", backends=Backends(spice=spice_backend), **kw)
    fast = half_select_disturb(DEV, (4, 4), backend="fast", **kw)
    assert len(spice.runs) == len(fast.runs) == 4
    for s, f in zip(spice.runs, fast.runs):
        assert (s.scheme, s.amplitude) == (f.scheme, f.amplitude)
        assert np.max(np.abs(s.fraction - f.fraction)) < 0.01
        assert abs(s.selected_change) > 0.1
        if s.scheme == "V/2":
            assert s.half_selected_max > 0.003 and f.half_selected_max > 0.003
        else:
            assert s.disturb_max == 0.0 and f.disturb_max == 0.0


def test_cli_writes_plots_and_numbers(tmp_path, capsys):
    out = tmp_path / "disturb"
    assert main(["disturb-study", "--out", str(out), "--size", "4", "--backend", "fast", "--amplitudes", "1.4", "2.0",
                 "--pulses", "1", "3"]) == 0
    names = [f"softboundsrram_disturb{k}" for k in ("_maps.png", "_vs_amplitude.png", "_vs_pulses.png", ".json")]
    for name in names:
        assert (out / name).stat().st_size > 0
    res = json.loads((out / names[-1]).read_text())
    assert res["shape"] == [4, 4] and res["selected"] == [2, 2] and res["pulse_counts"] == [1, 3]
    runs = {(r["scheme"], r["amplitude_v"], r["n_pulses"]): r for r in res["runs"]}
    assert len(runs) == 2 * 2 * 2 * 2
    assert runs[("V/2", 2.0, 3)]["half_selected_max"] > 0 and runs[("V/3", 2.0, 3)]["half_selected_max"] == 0
    assert runs[("V/2", 1.4, 3)]["half_selected_max"] == 0
    assert set(runs[("V/2", 2.0, 3)]["groups"]) == set(GROUPS)
    assert len(res["maps"]) == 8 and np.asarray(res["maps"][0]["fraction"]).shape == (4, 4)
    assert "V/3" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--size", "1"], ["--amplitudes", "-1.5"], ["--pulses", "0"],
                                  ["--pulse-width", "0"]])
def test_cli_rejects_bad_input(tmp_path, capsys, argv):
    assert main(["disturb-study", "--out", str(tmp_path / "x"), "--size", "3", "--pulses", "1"] + argv) == 2
    assert "disturb-study: InvalidParameterError" in capsys.readouterr().err
