"""The TIA on the sense lines: ideal limit, finite gain against closed form, saturation, both backends."""

import numpy as np
import pytest

from spicelim import Crossbar
from spicelim.errors import InvalidParameterError
from spicelim.periphery import TIA


def single_cell(g, r_series, v_in, a0, r_f, v_plus=0.0):
    """1x1 array: driver -> r_series -> device G -> sense node S -> TIA (gain a0, feedback r_f). Closed form."""
    r = r_series + 1.0 / g
    current = (v_in - a0 * v_plus / (1 + a0)) / (r + r_f / (1 + a0))
    v_s = (a0 * v_plus + current * r_f) / (1 + a0)
    return current, a0 * (v_plus - v_s), v_s


@pytest.mark.parametrize("backend", ["fast", pytest.param("spice", marks=pytest.mark.spice)])
def test_finite_gain_single_cell_matches_the_closed_form(backend, spice_backend):
    g, r_wire, r_src, v = 1e-4, 5.0, 100.0, 0.2
    tia = TIA(r_f=5e3, gain=50.0, offset=2e-3)
    with Crossbar(1, 1, r_row=r_wire, r_col=r_wire, r_source=r_src, tia=tia, backends={"spice": spice_backend}) as xb:
        xb.set_conductance([[g]])
        v_out = xb.read_tia_output(np.array([v]), backend=backend)[0]
        read = xb.read(np.array([v]), backend=backend)[0]
    current, want_out, v_s = single_cell(g, r_src + 2 * r_wire, v, 50.0, 5e3, v_plus=2e-3)
    assert v_s > 1e-3  # the sense node is visibly off ground: an imperfect virtual ground
    assert v_out == pytest.approx(want_out, rel=1e-9)
    assert read == pytest.approx(-want_out / 5e3, rel=1e-9)
    assert read != pytest.approx(current, rel=1e-3)  # the user's -V_out/r_f is not the true current


@pytest.mark.parametrize("backend", ["fast", pytest.param("spice", marks=pytest.mark.spice)])
def test_very_large_gain_matches_the_ideal_virtual_ground(backend, spice_backend):
    rng = np.random.default_rng(1)
    g = rng.uniform(1e-6, 2e-5, (8, 6))
    v = rng.uniform(0, 0.2, (3, 8))
    with Crossbar(8, 6, r_row=2.5, r_col=2.5, backends={"spice": spice_backend}) as plain:
        plain.set_conductance(g)
        ideal = plain.read(v, backend=backend)
    for tia in (TIA(r_f=1e4), TIA(r_f=1e4, gain=1e9)):
        with Crossbar(8, 6, r_row=2.5, r_col=2.5, tia=tia, backends={"spice": spice_backend}) as xb:
            xb.set_conductance(g)
            np.testing.assert_allclose(xb.read(v, backend=backend), ideal, rtol=1e-6, atol=1e-6 * np.abs(ideal).max())
            np.testing.assert_allclose(xb.read_tia_output(v, backend=backend), -ideal * 1e4, rtol=1e-6,
                                       atol=1e-6 * 1e4 * np.abs(ideal).max())


def test_finite_gain_changes_the_ir_drop_of_a_column():
    """r_f / (1 + A0) sits in series with every column: a lower gain lowers every column current."""
    rng = np.random.default_rng(2)
    g = rng.uniform(5e-5, 1e-4, (16, 4))
    v = np.full(16, 0.2)
    out = {}
    for gain in (None, 1e4, 100.0, 10.0):
        with Crossbar(16, 4, r_row=1.0, r_col=1.0, tia=TIA(r_f=1e3, gain=gain)) as xb:
            xb.set_conductance(g)
            out[gain] = xb.read(v, backend="fast")
    assert np.all(out[None] > out[1e4]) and np.all(out[1e4] > out[100.0]) and np.all(out[100.0] > out[10.0])


@pytest.mark.parametrize("backend", ["fast", pytest.param("spice", marks=pytest.mark.spice)])
def test_saturated_outputs_clip_and_the_sense_node_floats(backend, spice_backend):
    g = np.array([[1e-4, 1e-6]])
    tia = TIA(r_f=1e5, gain=1e4, v_out_max=1.0)
    with Crossbar(1, 2, tia=tia, backends={"spice": spice_backend}) as xb:
        xb.set_conductance(g)
        v_out = xb.read_tia_output(np.array([0.2]), backend=backend)
    # column 0 wants -2 V: clipped to -1 V, so its sense node rises to keep r_f's current:
    # I = (0.2 - V_S) G and V_S = -1 + I r_f  ->  I = (0.2 + 1) G / (1 + G r_f)
    i_sat = 1.2 * 1e-4 / (1 + 1e-4 * 1e5)
    assert v_out[0] == pytest.approx(-1.0, abs=1e-6)
    assert v_out[1] == pytest.approx(-0.2 * 1e-6 * 1e5 * (1e4 / (1e4 + 1 + 1e-6 * 1e5)), rel=1e-6)
    with Crossbar(1, 2, tia=tia, backends={"spice": spice_backend}) as xb:
        xb.set_conductance(g)
        assert xb.read(np.array([0.2]), backend=backend)[0] == pytest.approx(1e-5, rel=1e-6)  # -V_out / r_f
        sensed = xb.sense(np.array([0.2]), backend=backend).sensed_current[0]
    assert sensed[0] == pytest.approx(i_sat, rel=1e-6)  # the true current, below 0.2 V x 100 uS


def test_ideal_backend_saturated_line_keeps_its_feedback_resistance():
    g = np.array([[1e-4, 1e-6]])
    with Crossbar(1, 2, tia=TIA(r_f=1e5, v_out_max=1.0)) as xb:
        xb.set_conductance(g)
        sensed = xb.sense(np.array([0.2]), backend="ideal").sensed_current[0]
    assert sensed[0] == pytest.approx(1.2 * 1e-4 / (1 + 1e-4 * 1e5), rel=1e-9)
    assert sensed[1] == pytest.approx(0.2 * 1e-6, rel=1e-9)


@pytest.mark.spice
def test_mixed_sign_inputs_saturate_both_rails_like_ngspice(spice_backend):
    """Inputs of both signs drive some outputs to each rail; the fast model's regions must match the circuit."""
    rng = np.random.default_rng(7)
    tia = TIA(r_f=2e4, gain=2e3, v_out_max=0.05, offset=1e-3)
    for _ in range(12):
        g = rng.uniform(1e-6, 2e-5, (3, 3))
        v = rng.uniform(-0.2, 0.2, (4, 3))
        with Crossbar(3, 3, r_row=1.0, r_col=1.0, tia=tia, backends={"spice": spice_backend}) as xb:
            xb.set_conductance(g)
            fast = xb.read_tia_output(v, backend="fast")
            spice = xb.read_tia_output(v, backend="spice")
        np.testing.assert_allclose(fast, spice, atol=1e-7)


def test_tia_noise_is_seeded_and_has_the_stated_size():
    g = np.full((4, 3), 1e-5)
    reads = []
    for _ in range(2):
        with Crossbar(4, 3, tia=TIA(r_f=1e4, noise=1e-3, seed=5)) as xb:
            xb.set_conductance(g)
            reads.append(xb.read_tia_output(np.tile(np.full(4, 0.1), (3000, 1)), backend="fast"))
    np.testing.assert_array_equal(reads[0], reads[1])
    # the + input noise reaches the output with the noise gain 1 + r_f / R_array (R_array = 1 / (4 x 10 uS))
    assert np.std(reads[0], axis=0) == pytest.approx(1e-3 * (1 + 1e4 * 4e-5), rel=0.05)


def test_transposed_reads_sense_rows_through_tias():
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 2e-5, (5, 4))
    u = rng.uniform(0, 0.2, 4)
    with Crossbar(5, 4, tia=TIA(r_f=1e4, gain=1e6)) as xb:
        xb.set_conductance(g)
        np.testing.assert_allclose(xb.read(u, backend="fast", transpose=True), g @ u, rtol=1e-5)


@pytest.mark.parametrize("kwargs,match", [(dict(r_f=0.0), "r_f"), (dict(r_f=1e4, gain=-5.0), "gain"),
                                          (dict(r_f=1e4, gain=0.5), "gain"), (dict(r_f=1e4, gbw=0.0), "gbw"),
                                          (dict(r_f=1e4, v_out_max=-1.0), "v_out_max"),
                                          (dict(r_f=1e4, noise=-1e-3), "noise"), (dict(r_f=1e4, c_f=-1e-12), "c_f")])
def test_bad_tia_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        TIA(**kwargs)


def test_op_amp_macro_model_in_the_netlist():
    """Gain stage, a pole at gbw / A0 (1 kOhm and its capacitor), output clamp and feedback, as written."""
    from spicelim.netlist.writer import tia_subckt

    tia = TIA(r_f=1e4, c_f=1e-13, gain=1e4, gbw=1e8, v_out_max=1.2)
    text = tia_subckt("tia", tia)
    assert "Egain a 0 inp inn 10000" in text
    cap = float(next(ln for ln in text.splitlines() if ln.startswith("Cpole")).split()[-1])
    assert 1 / (2 * np.pi * 1e3 * cap) == pytest.approx(1e8 / 1e4, rel=1e-12)
    assert "max(min(v(b), 1.2), -1.2)" in text and "Rfb inn out 10000" in text and "Cfb inn out 1e-13" in text
    # single-pole closed loop: settling to 2^-10 takes 10 ln 2 / (2 pi gbw)
    assert tia.settling_time(10) == pytest.approx(10 * np.log(2) / (2 * np.pi * 1e8))
    assert TIA(r_f=1e4).settling_time(10) is None
