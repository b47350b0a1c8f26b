"""ADC transfer, DNL/INL, noise and calibration; DAC levels, bit-serial shift-and-add and PWM inputs."""

import math
from dataclasses import replace

import numpy as np
import pytest

from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.periphery import (
    ADC,
    DAC,
    bit_serial,
    measure_dnl_inl,
    pwm,
    shift_add,
    split_sign,
)
from spicelim.periphery.adc import MIN_CODE_WIDTH


def ramp(fs, bits, cols, per_lsb=40):
    """A dense ramp over 1.2 x the input range, (n, cols): per_lsb points per ideal LSB."""
    n = int(2.4 / 2 * (1 << bits) * per_lsb)
    return np.repeat(np.linspace(-1.2 * fs, 1.2 * fs, n)[:, None], cols, axis=1)


# ---------------------------------------------------------------- ADC transfer
@pytest.mark.parametrize("bits", [1, 4, 6, 12])
@pytest.mark.parametrize("errors", [{}, {"dnl": 0.3, "inl": 0.8, "offset": 0.01, "gain_error": -0.02}])
def test_every_code_is_reachable_and_the_transfer_is_monotonic(bits, errors):
    adc = ADC(bits=bits, full_scale=0.5, seed=3, **errors)
    v = ramp(0.5, bits, cols=3, per_lsb=int(2 / MIN_CODE_WIDTH) + 1)  # steps finer than the narrowest code
    codes = adc.convert(v)
    assert codes.dtype == np.int64 and codes.shape == v.shape
    for c in range(3):
        np.testing.assert_array_equal(np.unique(codes[:, c]), np.arange(1 << bits))
    assert np.all(np.diff(codes, axis=0) >= 0)
    t = adc.thresholds(3)
    assert t.shape == (3, (1 << bits) - 1) and np.all(np.diff(t, axis=1) > 0)


def test_ideal_adc_codes_are_floor_of_the_scaled_input():
    fs, bits = 0.8, 6
    lsb = 2 * fs / 2**bits
    rng = np.random.default_rng(1)
    v = rng.uniform(-1.3 * fs, 1.3 * fs, size=(500, 4))
    v[0] = -fs + np.array([0, 1, 17, 63]) * lsb  # exactly on thresholds: the upper code
    v[1] = [-fs - 1e-12, fs, fs - lsb, fs - lsb - 1e-12]
    expected = np.clip(np.floor((v + fs) / lsb), 0, 2**bits - 1).astype(np.int64)
    adc = ADC(bits=bits, full_scale=fs)
    np.testing.assert_array_equal(adc.convert(v), expected)
    np.testing.assert_array_equal(expected[1], [0, 63, 63, 62])
    # the same through a per-column full scale
    fs_col = np.array([0.1, 0.5, 0.8, 2.0])
    expected = np.clip(np.floor((v + fs_col) / (2 * fs_col / 2**bits)), 0, 63).astype(np.int64)
    np.testing.assert_array_equal(ADC(bits=bits, full_scale="calibrate").convert(v, full_scale=fs_col), expected)


def test_convert_matches_searchsorted_on_the_thresholds_of_each_column():
    adc = ADC(bits=8, full_scale=0.3, dnl=0.4, inl=1.0, offset=-0.004, gain_error=0.05, seed=9)
    rng = np.random.default_rng(2)
    v = rng.uniform(-0.35, 0.35, size=(2000, 5))
    t = adc.thresholds(5)
    ref = np.stack([np.searchsorted(t[c], v[:, c], side="right") for c in range(5)], axis=1)
    np.testing.assert_array_equal(adc.convert(v), ref)
    np.testing.assert_array_equal(adc.convert(v.reshape(20, 100, 5)), ref.reshape(20, 100, 5))


def test_reconstruction_is_the_ideal_code_centre():
    fs, bits = 1.0, 5
    adc = ADC(bits=bits, full_scale=fs)
    lsb = adc.lsb()
    assert lsb == pytest.approx(2 * fs / 32)
    np.testing.assert_allclose(adc.to_volts(np.array([0, 15, 16, 31])), [-fs + lsb / 2, -lsb / 2, lsb / 2, fs - lsb / 2])
    v = np.linspace(-fs, fs - 1e-9, 10001)[:, None]
    assert np.max(np.abs(adc.to_volts(adc.convert(v)) - v)) <= lsb / 2 + 1e-12
    # a non-ideal ADC still reconstructs with the ideal centres: its offset shows as an error
    shifted = ADC(bits=bits, full_scale=fs, offset=3 * lsb)
    v_in = np.array([[0.01]])
    np.testing.assert_array_equal(shifted.to_volts(shifted.convert(v_in)), adc.to_volts(adc.convert(v_in + 3 * lsb)))
    assert shifted.to_volts(shifted.convert(v_in))[0, 0] - v_in[0, 0] == pytest.approx(3 * lsb, abs=lsb / 2)


# ---------------------------------------------------------------- DNL / INL
def test_measured_dnl_std_matches_the_configured_dnl():
    adc = ADC(bits=10, dnl=0.3, seed=4)
    dnl, inl = measure_dnl_inl(adc.thresholds(4))
    assert dnl.shape == (4, 1022) and inl.shape == (4, 1023)
    for c in range(4):
        assert dnl[c].std() == pytest.approx(0.3, rel=0.1)
        assert abs(dnl[c].mean()) < 1e-9  # end thresholds at their ideal places
    np.testing.assert_allclose(inl[:, [0, -1]], 0, atol=1e-9)
    assert np.all(np.abs(inl).max(axis=1) > 1.0)  # a random walk of 0.3-LSB steps wanders far


def test_code_widths_are_clipped_so_the_transfer_stays_monotonic():
    adc = ADC(bits=6, dnl=0.95, inl=4.0, seed=1)
    dnl, _ = measure_dnl_inl(adc.thresholds(20))
    widths = dnl + 1
    assert widths.min() == pytest.approx(MIN_CODE_WIDTH, rel=1e-9)  # some codes hit the floor
    assert widths.min() >= MIN_CODE_WIDTH * (1 - 1e-9)


@pytest.mark.parametrize("bits", [3, 10])
def test_measured_peak_inl_equals_the_configured_inl(bits):
    adc = ADC(bits=bits, inl=1.5, full_scale=0.4)
    _, inl = measure_dnl_inl(adc.thresholds(2))
    assert np.abs(inl).max(axis=1) == pytest.approx([1.5, 1.5], rel=0.05)
    k = np.arange((1 << bits) - 1)
    np.testing.assert_allclose(inl[0], 1.5 * np.sin(np.pi * k / (k[-1])), atol=1e-9)  # the half-sine bow
    np.testing.assert_allclose(inl[0], inl[1])  # deterministic: every column the same


def test_ideal_adc_measures_zero_dnl_and_inl_and_gain_error_shows_in_ideal_lsb():
    dnl, inl = measure_dnl_inl(ADC(bits=6).thresholds(1))
    np.testing.assert_allclose(dnl, 0, atol=1e-12)
    np.testing.assert_allclose(inl, 0, atol=1e-12)
    t = ADC(bits=6, gain_error=0.1, offset=0.02).thresholds(1)
    dnl_fit, inl_fit = measure_dnl_inl(t)  # endpoint fit: neither offset nor gain shows
    np.testing.assert_allclose(dnl_fit, 0, atol=1e-12)
    np.testing.assert_allclose(inl_fit, 0, atol=1e-12)
    dnl_ideal, _ = measure_dnl_inl(t, full_scale=1.0)
    np.testing.assert_allclose(dnl_ideal, 1 / 1.1 - 1, atol=1e-12)


# ---------------------------------------------------------------- seeding
def test_seeds_and_columns_give_independent_realisations():
    a = ADC(bits=6, dnl=0.2, seed=1)
    np.testing.assert_array_equal(a.thresholds(3), ADC(bits=6, dnl=0.2, seed=1).thresholds(3))
    assert not np.array_equal(a.thresholds(3), ADC(bits=6, dnl=0.2, seed=2).thresholds(3))
    t = a.thresholds(3)
    assert not np.array_equal(t[0], t[1]) and not np.array_equal(t[1], t[2])
    np.testing.assert_array_equal(a.thresholds(5)[:3], t)  # a column's draw does not depend on the count
    assert a == ADC(bits=6, dnl=0.2, seed=1) and hash(a) == hash(ADC(bits=6, dnl=0.2, seed=1))


# ---------------------------------------------------------------- offset, gain error
def test_offset_and_gain_error_shift_and_scale_the_transfer():
    fs, bits = 1.0, 8
    lsb = 2 * fs / 2**bits
    ideal = ADC(bits=bits, full_scale=fs).thresholds(1)[0]
    off = ADC(bits=bits, full_scale=fs, offset=3 * lsb)
    np.testing.assert_allclose(off.thresholds(1)[0], ideal - 3 * lsb, atol=1e-12)
    v = np.linspace(-0.5, 0.5, 999)[:, None]
    base = ADC(bits=bits, full_scale=fs).convert(v)
    np.testing.assert_array_equal(off.convert(v - 3 * lsb), base)  # 3 LSB lower input, same codes
    gain = ADC(bits=bits, full_scale=fs, gain_error=0.1)
    np.testing.assert_allclose(gain.thresholds(1)[0], ideal / 1.1, atol=1e-12)
    # 0.5 V digitised as 0.55 V: code floor((0.55 + 1) / lsb) = 198 instead of 192
    assert gain.convert(np.array([0.5]))[0] == 198 and ADC(bits=bits).convert(np.array([0.5]))[0] == 192
    assert gain.convert(np.array([0.95]))[0] == 2**bits - 1  # saturates before full scale


# ---------------------------------------------------------------- noise
def test_noise_spreads_the_codes_like_a_gaussian_of_the_set_rms():
    adc = ADC(bits=8, noise=0.5, seed=11)
    k = 100
    centre = adc.to_volts(np.array([k]))[0]
    codes = adc.convert(np.full((200_000, 1), centre), rng=adc.noise_stream())
    freq = {d: np.mean(codes == k + d) for d in (-2, -1, 0, 1, 2)}

    def phi(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    sigma = 0.5
    expect = {d: phi((d + 0.5) / sigma) - phi((d - 0.5) / sigma) for d in freq}
    for d, f in freq.items():  # binomial standard error <= 0.0011
        assert f == pytest.approx(expect[d], abs=0.005)
    assert expect[0] == pytest.approx(0.6827, abs=1e-4)
    var = sum(d * d * p for d, p in expect.items())
    assert codes.std() == pytest.approx(math.sqrt(var), rel=0.02)
    # the noise stream is seeded by the ADC's seed and advances with every conversion; a noisy
    # conversion without a stream is refused
    stream = ADC(bits=8, noise=0.5, seed=11).noise_stream()
    np.testing.assert_array_equal(adc.convert(np.full((50, 1), centre), rng=stream), codes[:50])
    assert not np.array_equal(adc.convert(np.full((50, 1), centre), rng=stream), codes[:50])
    with pytest.raises(InvalidParameterError, match="rng"):
        adc.convert(np.full((5, 1), centre))
    # a noiseless ADC is deterministic
    quiet = ADC(bits=8)
    np.testing.assert_array_equal(quiet.convert(np.full((10, 1), centre)), k)


# ---------------------------------------------------------------- calibration
def test_calibration_sets_each_column_full_scale_to_its_largest_magnitude():
    rng = np.random.default_rng(3)
    scale = np.array([0.01, 0.2, 1.5])
    samples = rng.standard_normal((300, 3)) * scale
    adc = ADC(bits=6, full_scale="calibrate")
    fs = adc.calibrate(samples)
    np.testing.assert_array_equal(fs, np.abs(samples).max(axis=0))
    np.testing.assert_allclose(adc.calibrate(samples.reshape(30, 10, 3), margin=1.25), 1.25 * fs)
    codes = adc.convert(samples, full_scale=fs)
    lo, hi = np.argmin(samples, axis=0), np.argmax(samples, axis=0)
    for c in range(3):  # the extreme sample of each column reaches the end code on its side
        if -samples[lo[c], c] == fs[c]:
            assert codes[lo[c], c] == 0
        else:
            assert codes[hi[c], c] == 63
    err = np.abs(adc.to_volts(codes, full_scale=fs) - samples)
    assert np.all(err <= adc.lsb(fs) / 2 * (1 + 1e-12))
    with pytest.raises(InvalidParameterError, match="calibrate"):
        adc.convert(samples)
    with pytest.raises(ShapeError):
        adc.convert(samples, full_scale=fs[:2])
    with pytest.raises(InvalidParameterError, match=r"column\(s\) \[1\]"):
        adc.calibrate(np.array([[0.1, 0.0], [-0.2, 0.0]]))


def test_energy_is_per_conversion():
    assert ADC(energy_per_conversion=2e-12).energy(1000) == pytest.approx(2e-9)


# ---------------------------------------------------------------- DAC
def test_dac_levels_are_symmetric_and_contain_zero():
    dac = DAC(bits=3, v_max=0.2)
    np.testing.assert_allclose(dac.levels, 0.2 * np.arange(-3, 4) / 3)
    np.testing.assert_allclose(dac.encode([-1, -0.5, 0, 0.1, 0.5, 1]), [-0.2, -0.2 * 2 / 3, 0, 0, 0.2 * 2 / 3, 0.2])
    x = np.linspace(-1, 1, 2001)
    np.testing.assert_array_equal(dac.encode(-x), -dac.encode(x))
    assert np.max(np.abs(dac.encode(x) - 0.2 * x)) <= dac.step / 2 + 1e-15
    assert set(np.round(dac.encode(x) / dac.step).astype(int)) == set(range(-3, 4))
    uns = DAC(bits=2, v_max=0.3, unsigned=True)
    np.testing.assert_allclose(uns.levels, [0, 0.1, 0.2, 0.3])
    np.testing.assert_array_equal(uns.codes([0, 0.16, 0.17, 0.5, 0.84, 1]), [0, 0, 1, 2, 3, 3])
    assert len(DAC(bits=8, v_max=1, unsigned=True).levels) == 256 and len(DAC(bits=8, v_max=1).levels) == 255


@pytest.mark.parametrize("dac, x", [
    (DAC(bits=4, v_max=0.2), 1.01), (DAC(bits=4, v_max=0.2), -1.5), (DAC(bits=4, v_max=0.2), np.nan),
    (DAC(bits=4, v_max=0.2, unsigned=True), -0.1), (DAC(bits=4, v_max=0.2, unsigned=True), 1.2)])
def test_dac_rejects_inputs_out_of_range(dac, x):
    with pytest.raises(InvalidParameterError, match="DAC input"):
        dac.encode(np.array([0.0, x]))


# ---------------------------------------------------------------- bit-serial and PWM
def test_bit_serial_and_shift_add_reproduce_the_product_exactly():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(7, 12))
    w = rng.integers(-50, 51, size=(12, 5)).astype(float)
    v_read = 0.25
    slices = bit_serial(x, 8, v_read)
    assert slices.shape == (8, 7, 12)
    assert set(np.unique(slices)) <= {0.0, v_read}
    np.testing.assert_array_equal(slices[3] == v_read, (x >> 3) & 1 == 1)
    per_bit = np.stack([s @ w for s in slices])  # one read of the ideal linear array per bit
    np.testing.assert_array_equal(shift_add(per_bit), v_read * x @ w)
    np.testing.assert_array_equal(shift_add(np.stack([(x >> b) & 1 for b in range(8)])), x)  # integers stay exact
    # signed inputs: two passes
    xs = rng.integers(-255, 256, size=(7, 12))
    pos, neg = split_sign(xs)
    assert pos.min() >= 0 and neg.min() >= 0 and np.array_equal(pos - neg, xs)
    y = shift_add(np.stack([s @ w for s in bit_serial(pos, 8, v_read)])) - \
        shift_add(np.stack([s @ w for s in bit_serial(neg, 8, v_read)]))
    np.testing.assert_array_equal(y, v_read * xs @ w)


def test_pwm_slots_integrate_to_the_quantised_input():
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, size=(4, 10))
    x[0, :4] = [0, 1, 0.5 / 16, 1.49 / 16]
    g = rng.uniform(1e-6, 2e-5, size=(10, 3))
    n, v_read = 16, 0.2
    slots = pwm(x, n, v_read)
    assert slots.shape == (n, 4, 10)
    on = np.floor(x * n + 0.5)
    np.testing.assert_array_equal((slots > 0).sum(axis=0), on)
    np.testing.assert_array_equal(on[0, :4], [0, 16, 1, 1])
    assert np.all(np.diff((slots > 0).astype(int), axis=0) <= 0)  # on from the start, then off
    charge = sum(s @ g for s in slots)
    np.testing.assert_allclose(charge, n * (on / n) @ g * v_read, rtol=1e-12)
    assert np.max(np.abs(on / n - x)) <= 0.5 / n


# ---------------------------------------------------------------- bad parameters
@pytest.mark.parametrize("kwargs, match", [
    ({"bits": 0}, "bits must be an integer in 1..16"), ({"bits": 17}, "bits"), ({"bits": 1.5}, "bits"),
    ({"bits": True}, "bits"), ({"bits": 6.0}, "bits"),
    ({"full_scale": 0.0}, "full_scale"), ({"full_scale": -1.0}, "full_scale"), ({"full_scale": "auto"}, "calibrate"),
    ({"full_scale": True}, "full_scale"), ({"full_scale": float("inf")}, "finite"), ({"full_scale": [1.0]}, "full_scale"),
    ({"offset": float("nan")}, "offset"), ({"gain_error": -1.0}, "gain_error"),
    ({"dnl": 1.0}, "dnl"), ({"dnl": -0.1}, "dnl"), ({"inl": -1}, "inl"), ({"noise": -0.1}, "noise"),
    ({"seed": -1}, "seed"), ({"seed": 1.0}, "seed"), ({"energy_per_conversion": -1e-12}, "energy"),
])
def test_bad_adc_parameters_raise(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        ADC(**kwargs)


def test_bad_conversion_arguments_raise():
    adc = ADC(bits=4)
    with pytest.raises(InvalidParameterError, match="integers"):
        adc.to_volts(np.array([1.0]))
    with pytest.raises(InvalidParameterError, match="0..15"):
        adc.to_volts(np.array([16]))
    with pytest.raises(InvalidParameterError, match="finite"):
        adc.convert(np.array([np.nan]))
    with pytest.raises(InvalidParameterError, match=r"full_scale must lie in \[1e-09, 1000\] V"):
        adc.convert(np.zeros((2, 2)), full_scale=np.array([1.0, 0.0]))
    with pytest.raises(InvalidParameterError, match="n_columns"):
        adc.thresholds(0)
    with pytest.raises(InvalidParameterError, match="margin"):
        adc.calibrate(np.ones((3, 2)), margin=0)
    with pytest.raises(ShapeError):
        measure_dnl_inl(np.arange(4.0))  # not 2^bits - 1 thresholds
    with pytest.raises(InvalidParameterError, match="strictly"):
        measure_dnl_inl(np.array([0.0, 2.0, 1.0]))
    assert replace(adc, bits=5).n_codes == 32


@pytest.mark.parametrize("make, match", [
    (lambda: DAC(bits=1, v_max=0.2), r"2\.\.16"), (lambda: DAC(bits=17, v_max=0.2, unsigned=True), "bits"),
    (lambda: DAC(bits=4, v_max=0.0), "v_max"), (lambda: DAC(bits=4.0, v_max=0.2), "bits"),
    (lambda: DAC(bits=4, v_max=0.2, unsigned="yes"), "unsigned"),
    (lambda: bit_serial(np.array([[256]]), 8, 0.2), "< 2"), (lambda: bit_serial(np.array([[-1]]), 8, 0.2), "split_sign"),
    (lambda: bit_serial(np.array([[1.5]]), 8, 0.2), "integers"), (lambda: bit_serial(np.array([[1]]), 0, 0.2), "bits"),
    (lambda: bit_serial(np.array([[1]]), 8, 0.0), "v_read"), (lambda: bit_serial(np.array(["a"]), 8, 0.2), "dtype"),
    (lambda: pwm(np.array([1.2]), 8, 0.2), r"\[0, 1\]"), (lambda: pwm(np.array([0.5]), 0, 0.2), "n_slots"),
    (lambda: pwm(np.array([0.5]), 8, -0.2), "v_read"), (lambda: shift_add(np.array(1.0)), "bits"),
])
def test_bad_input_encodings_raise(make, match):
    with pytest.raises(InvalidParameterError, match=match):
        make()
