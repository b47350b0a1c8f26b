"""Reads through the whole periphery: ADC codes, the netlist quantizer, calibration, signed pairs,
encoded inputs, and the energy of a read against hand-solved circuits."""

import numpy as np
import pytest

import spicelim
from spicelim import Crossbar
from spicelim.errors import InvalidParameterError, MissingCapability, ShapeError
from spicelim.periphery import (
    ADC,
    DAC,
    TIA,
    DifferentialPairs,
    read_bit_serial,
    read_cost,
    read_dac,
    read_pwm,
    read_signed,
    split_sign,
)

RNG = np.random.default_rng(11)
G = RNG.uniform(1e-6, 2e-5, (8, 6))
V = RNG.uniform(0.0, 0.2, (5, 8))


@pytest.mark.spice
@pytest.mark.parametrize("tia", [TIA(r_f=2e4), TIA(r_f=2e4, gain=300.0, v_out_max=0.6)])
def test_netlist_quantizer_agrees_with_python(tia, spice_backend):
    adc = ADC(bits=6, full_scale=0.5, dnl=0.3, inl=0.7, offset=0.01, gain_error=-0.02, seed=4)
    with Crossbar(8, 6, r_row=2.5, r_col=2.5, tia=tia, adc=adc, backends={"spice": spice_backend}) as xb:
        xb.set_conductance(G)
        python = xb.read_codes(V, backend="spice")
        netlist = xb.read_codes(V, backend="spice", quantizer="netlist")
        fast = xb.read_codes(V, backend="fast")
    np.testing.assert_array_equal(python, netlist)
    np.testing.assert_array_equal(python, fast)
    assert python.min() >= 0 and python.max() < 64 and np.unique(python).size > 5


def test_read_reconstructs_currents_from_codes_within_half_an_lsb():
    tia = TIA(r_f=2e4)
    adc = ADC(bits=8, full_scale=0.4)
    with Crossbar(8, 6, tia=tia, adc=adc) as xb:
        xb.set_conductance(G)
        currents = xb.read(V, backend="ideal")
        codes = xb.read_codes(V, backend="ideal")
    exact = V @ G
    lsb_current = 2 * 0.4 / 256 / 2e4
    assert np.max(np.abs(currents - exact)) <= lsb_current / 2 + 1e-15
    np.testing.assert_array_equal(codes, np.clip(np.floor((-exact * 2e4 + 0.4) / (0.8 / 256)), 0, 255))


def test_calibrated_full_scale_follows_each_column():
    adc = ADC(bits=6, full_scale="calibrate")
    with Crossbar(8, 6, tia=TIA(r_f=1e4), adc=adc) as xb:
        xb.set_conductance(G)
        with pytest.raises(InvalidParameterError, match="calibrate_adc"):
            xb.read(V, backend="fast")
        fs = xb.calibrate_adc(V, backend="fast", margin=1.1)
        np.testing.assert_allclose(fs, 1.1 * np.max(np.abs(V @ G * 1e4), axis=0), rtol=1e-9)
        err = np.abs(xb.read(V, backend="fast") - V @ G)
    assert np.all(err <= (2 * fs / 64 / 1e4) / 2 * (1 + 1e-9))


def test_adc_needs_a_tia_and_the_netlist_quantizer_needs_a_backend_that_simulates_it():
    with pytest.raises(InvalidParameterError, match="tia"):
        Crossbar(2, 2, adc=ADC(bits=4))
    with Crossbar(2, 2, tia=TIA(r_f=1e4), adc=ADC(bits=4)) as xb:
        xb.set_conductance(np.full((2, 2), 1e-5))
        with pytest.raises(MissingCapability, match="netlist_quantizer"):
            xb.read(np.array([0.1, 0.1]), backend="fast", quantizer="netlist")
        with pytest.raises(InvalidParameterError, match="quantizer"):
            xb.read(np.array([0.1, 0.1]), backend="fast", quantizer="verilog")
    with Crossbar(2, 2) as xb, pytest.raises(InvalidParameterError, match="no ADC"):
        xb.read_codes(np.array([0.1, 0.1]), backend="fast")


def test_signed_pairs_read_back_the_weights():
    w = RNG.uniform(-1, 1, (8, 3))
    pairs = DifferentialPairs(g_min=1e-6, g_max=2e-5)
    g = pairs.conductances(w)
    np.testing.assert_allclose(pairs.weights(g, np.max(np.abs(w))), w, rtol=1e-12)
    want = V @ (g[:, 0::2] - g[:, 1::2])
    with Crossbar(8, 6, tia=TIA(r_f=2e4)) as xb:
        xb.set_conductance(g)
        np.testing.assert_allclose(read_signed(xb, V, backend="ideal"), want, rtol=1e-12)
        np.testing.assert_allclose(read_signed(xb, V, backend="ideal", subtraction="analog"), want, rtol=1e-9,
                                   atol=1e-18)
    with Crossbar(8, 6, tia=TIA(r_f=2e4), adc=ADC(bits=6, full_scale=0.5)) as xb:
        xb.set_conductance(g)
        digital = read_signed(xb, V, backend="ideal")
        analog = read_signed(xb, V, backend="ideal", subtraction="analog", full_scale=0.5)
    lsb = 1.0 / 64 / 2e4
    assert np.max(np.abs(digital - want)) <= lsb + 1e-15  # two conversions, half an LSB each
    assert np.max(np.abs(analog - want)) <= lsb / 2 + 1e-15  # one conversion per pair


def test_signed_transposed_reads_give_the_exact_backprop_product_on_the_ideal_backend():
    """Errors on the pairs, rows sensed: (G+ - G-) d exactly, both ways of subtracting, through the TIAs and ADCs."""
    w = RNG.uniform(-1, 1, (8, 3))
    g = DifferentialPairs(g_min=1e-6, g_max=2e-5).conductances(w)
    d = RNG.uniform(-0.2, 0.2, (4, 3))
    want = d @ (g[:, 0::2] - g[:, 1::2]).T  # (4, 8): one current per row
    with Crossbar(8, 6, tia=TIA(r_f=2e4), backend="ideal") as xb:
        xb.set_conductance(g)
        for subtraction in ("digital", "analog"):
            got = read_signed(xb, d, subtraction=subtraction, transpose=True)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
        np.testing.assert_allclose(read_signed(xb, d[0], transpose=True), want[0], rtol=1e-12)
        with pytest.raises(ShapeError, match="one voltage per pair"):
            read_signed(xb, np.ones(6), transpose=True)
    with Crossbar(8, 6, tia=TIA(r_f=2e4), adc=ADC(bits=8, full_scale=0.5), backend="ideal") as xb:
        xb.set_conductance(g)
        lsb = 1.0 / 256 / 2e4
        assert np.max(np.abs(read_signed(xb, d, transpose=True) - want)) <= lsb + 1e-15  # two conversions
        assert np.max(np.abs(read_signed(xb, d, subtraction="analog", transpose=True) - want)) <= lsb / 2 + 1e-15
    with Crossbar(8, 5) as odd, pytest.raises(InvalidParameterError, match="pairs of columns"):
        odd.set_conductance(np.full((8, 5), 1e-5))
        read_signed(odd, d, transpose=True)


@pytest.mark.spice
@pytest.mark.parametrize("subtraction", ["digital", "analog"])
def test_signed_transposed_reads_fast_against_spice_with_wires(subtraction, spice_backend):
    w = RNG.uniform(-1, 1, (16, 5))
    g = DifferentialPairs(g_min=2e-6, g_max=2e-5).conductances(w)
    d = RNG.uniform(-0.2, 0.2, (6, 5))
    with Crossbar(16, 10, "1T1R", r_row=2.5, r_col=2.5, r_source=10.0, tia=TIA(r_f=1e4, gain=1e4),
                  backends={"spice": spice_backend}) as xb:
        xb.set_conductance(g)
        cmp = spicelim.compare_backends(lambda b: read_signed(xb, d, backend=b, subtraction=subtraction,
                                                              transpose=True), candidate="fast", reference="spice")
    ideal = d @ (g[:, 0::2] - g[:, 1::2]).T
    assert cmp.agreement.max_rel < 3e-3  # the 1T1R fast model's linear selector (9e-4 measured)
    assert cmp.agreement.norm_error < agreement_to(ideal, cmp.reference_result)  # wires matter more than the model
    with Crossbar(16, 10, r_row=2.5, r_col=2.5, r_source=10.0, tia=TIA(r_f=1e4, gain=1e4),
                  backends={"spice": spice_backend}) as xb:
        xb.set_conductance(g)
        cmp = spicelim.compare_backends(lambda b: read_signed(xb, d, backend=b, subtraction=subtraction,
                                                              transpose=True), candidate="fast", reference="spice")
    assert cmp.agreement.max_rel < 1e-6  # passive: both solve the same linear circuit
    assert agreement_to(ideal, cmp.reference_result) > 1e-3  # and the wires do show


def agreement_to(ideal, got) -> float:
    return spicelim.agreement(got, ideal).norm_error


def test_bit_serial_and_pwm_reads_reproduce_the_product():
    x = RNG.integers(0, 256, (4, 8))
    with Crossbar(8, 6) as xb:
        xb.set_conductance(G)
        np.testing.assert_allclose(read_bit_serial(xb, x, 8, 0.1, backend="ideal"), 0.1 * x @ G, rtol=1e-12)
        pos, neg = split_sign(x - 128)
        signed = read_bit_serial(xb, pos, 8, 0.1, backend="ideal") - read_bit_serial(xb, neg, 8, 0.1, backend="ideal")
        np.testing.assert_allclose(signed, 0.1 * (x - 128) @ G, rtol=1e-9, atol=1e-18)
        frac = RNG.uniform(0, 1, (3, 8))
        quantised = np.floor(frac * 16 + 0.5) / 16
        np.testing.assert_allclose(read_pwm(xb, frac, 16, 0.2, backend="ideal"), 0.2 * quantised @ G, rtol=1e-12)
        dac = DAC(bits=4, v_max=0.2)
        np.testing.assert_allclose(read_dac(xb, V / 0.2, dac, backend="ideal"), dac.encode(V / 0.2) @ G, rtol=1e-12)


@pytest.mark.parametrize("backend", ["fast", pytest.param("spice", marks=pytest.mark.spice)])
def test_read_energy_of_a_single_cell_by_hand(backend, spice_backend):
    """1x1 cell, driver resistance r_s, TIA with gain A0: every energy term in closed form."""
    g, r_s, v, r_f, a0, t = 1e-4, 200.0, 0.2, 5e3, 100.0, 50e-9
    tia = TIA(r_f=r_f, gain=a0, energy_per_read=3e-13)
    adc = ADC(bits=6, full_scale=1.0, energy_per_conversion=2e-12)
    with Crossbar(1, 1, r_source=r_s, tia=tia, adc=adc, backends={"spice": spice_backend}) as xb:
        xb.set_conductance([[g]])
        cost = read_cost(xb, np.array([[v]]), backend=backend, t_read=t, t_adc=20e-9, dac_energy=1e-13)
    current = v / (r_s + 1 / g + r_f / (1 + a0))
    assert cost.drivers == pytest.approx(v * current * t, rel=1e-7)
    assert cost.feedback == pytest.approx(current**2 * r_f * t, rel=1e-7)
    assert (cost.tia, cost.adc, cost.dac) == pytest.approx((3e-13, 2e-12, 1e-13))
    assert cost.latency == pytest.approx(70e-9)
    assert cost.gops_per_watt == pytest.approx(2 / cost.total / 1e9)
    assert cost.energy_per_mac == pytest.approx(cost.total)


def test_bad_encoded_read_input():
    with Crossbar(2, 2) as xb:
        xb.set_conductance(np.full((2, 2), 1e-5))
        with pytest.raises(InvalidParameterError):
            read_bit_serial(xb, np.array([[300, 1]]), 8, 0.1, backend="ideal")
        with pytest.raises(InvalidParameterError):
            read_pwm(xb, np.array([[1.5, 0.0]]), 8, 0.1, backend="ideal")
        with pytest.raises(InvalidParameterError, match="t_read"):
            read_cost(xb, np.array([0.1, 0.1]), t_read=0.0)
    with pytest.raises(InvalidParameterError, match="g_min"):
        DifferentialPairs(g_min=2e-5, g_max=1e-6)


@pytest.mark.spice
@pytest.mark.parametrize("tia", [TIA(r_f=2e4), TIA(r_f=2e4, gain=300.0, v_out_max=0.6)])
def test_read_noise_enters_at_the_sense_node_on_every_backend_and_quantizer(tia, spice_backend):
    """Device read noise is a current into each sense node: the TIA (and its rails), the netlist
    quantizer and the Python one all see it, and the same seed gives the same codes everywhere."""
    from spicelim import Variability

    adc = ADC(bits=6, full_scale=0.5, seed=4)
    codes = {}
    for how in ("python", "netlist", "fast", "quiet"):
        var = Variability(read_noise=0.0 if how == "quiet" else 0.3, seed=9)
        with Crossbar(8, 6, r_row=2.5, r_col=2.5, tia=tia, adc=adc, variability=var,
                      backends={"spice": spice_backend}) as xb:
            xb.set_conductance(G)
            backend = "fast" if how == "fast" else "spice"
            codes[how] = xb.read_codes(V, backend=backend, quantizer="netlist" if how == "netlist" else "python")
    np.testing.assert_array_equal(codes["python"], codes["netlist"])
    np.testing.assert_array_equal(codes["python"], codes["fast"])
    assert np.mean(codes["python"] != codes["quiet"]) > 0.3  # 30 % per device: about 10 % of each line current


def test_netlist_quantizer_needs_an_adc():
    with Crossbar(2, 2, tia=TIA(r_f=1e4)) as xb:
        xb.set_conductance(np.full((2, 2), 1e-5))
        with pytest.raises(InvalidParameterError, match="needs an ADC"):
            xb.read(np.array([0.1, 0.1]), backend="spice", quantizer="netlist")


@pytest.mark.spice
def test_public_read_through_tia_and_adc_in_spice(spice_backend):
    """The documented call: Crossbar(..., tia=TIA(r_f), adc=ADC(bits, full_scale)).read(v, backend="spice")."""
    import spicelim

    fs = 0.5
    tia, adc = TIA(r_f=2e4), ADC(bits=6, full_scale=fs)
    xb = spicelim.Crossbar(rows=8, cols=6, cell="0T1R", r_row=0.0, r_col=0.0, r_source=0.0, tia=tia, adc=adc,
                           backends={"spice": spice_backend})
    xb.set_conductance(G)
    i = xb.read(V, backend="spice")
    assert i.shape == (5, 6)
    assert np.max(np.abs(i - V @ G)) <= (2 * fs / 64 / 2e4) / 2 * (1 + 1e-6)
    xb.close()
