"""Layers on differential tiles: forward and backward reads against the exact products, tiling, the
circuit's effect on both, ngspice against the fast model, saved state; and the data sets."""

import gzip
import struct

import numpy as np
import pytest

from spicelim import Backends, Variability
from spicelim.devices import VTEAM
from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.fast.nodal import cell_conductance
from spicelim.learning import (
    AnalogLinear,
    DifferentialTile,
    TileSpec,
    load_digits,
    load_idx,
    load_mnist_subset,
)
from spicelim.periphery import TIA
from spicelim.programming import measure_conductance

RNG = np.random.default_rng(3)
W = RNG.uniform(-0.9, 0.9, (20, 7))
B = RNG.uniform(-0.5, 0.5, 7)
X = RNG.uniform(0.0, 1.0, (5, 20))
D = RNG.normal(0.0, 1.0, (5, 7))


def ideal_spec(**kw):
    return TileSpec(r_wire=0.0, backend="ideal", **kw)


@pytest.mark.parametrize("subtraction", ["digital", "analog"])
def test_forward_and_backward_are_the_exact_products_on_ideal_arrays(subtraction):
    tia = TIA(r_f=1e4) if subtraction == "analog" else None
    layer = AnalogLinear(20, 7, ideal_spec(tia=tia, subtraction=subtraction))
    layer.set_weights(W, B)
    w, b = layer.weights()
    np.testing.assert_allclose(w, W, atol=1e-12)
    np.testing.assert_allclose(b, B, atol=1e-12)
    np.testing.assert_allclose(layer.forward(X), X @ W + B, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.backward(D), D @ W.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.forward(X[0]), X[0] @ W + B, rtol=1e-9, atol=1e-12)


def test_a_layer_split_over_tiles_adds_up_like_one_array():
    """20 inputs + bias on tiles of 8 rows and 3 pairs: a 3 x 3 grid, the same products."""
    layer = AnalogLinear(20, 7, ideal_spec(max_rows=8, max_cols=6))
    assert layer.n_tiles == 9 and [t.array.shape for t in layer.tiles[2]] == [(5, 6), (5, 6), (5, 2)]
    layer.set_weights(W, B)
    np.testing.assert_allclose(layer.forward(X), X @ W + B, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.backward(D), D @ W.T, rtol=1e-9, atol=1e-12)


def test_weights_beyond_w_max_clip_and_a_memristor_model_maps_exactly():
    spec = ideal_spec(device=VTEAM(iv="exponential"), v_read=0.1, w_max=0.5)
    tile = DifferentialTile(3, 2, spec)
    w = np.array([[0.2, -0.7], [0.5, 0.0], [-0.1, 0.9]])
    tile.set_weights(w)
    np.testing.assert_allclose(tile.weights(), np.clip(w, -0.5, 0.5), atol=1e-12)
    tile.set_weights(w, centered=True)  # the same weights, both devices about the window's middle
    np.testing.assert_allclose(tile.weights(), np.clip(w, -0.5, 0.5), atol=1e-12)
    g = tile.array.conductance
    np.testing.assert_allclose(g[:, 0::2] + g[:, 1::2], tile.pairs.g_min + tile.pairs.g_max, rtol=1e-12)


@pytest.mark.spice
def test_wires_and_selectors_distort_both_directions_and_ngspice_agrees_with_the_fast_model(spice_backend):
    """5 ohm wires on 1T1R tiles: the products move away from x W + b; SPICE and fast agree closely."""
    x, d = X[:3, :9], D[:3, :4]
    w, b = W[:9, :4], B[:4]
    out = {}
    for backend in ("fast", "spice"):
        spec = TileSpec(max_rows=6, max_cols=4, r_wire=5.0, tia=TIA(r_f=1e4, gain=1e4), backend=backend)
        layer = AnalogLinear(9, 4, spec, backends=Backends(spice=spice_backend))
        layer.set_weights(w, b)
        out[backend] = (layer.forward(x), layer.backward(d))
    exact = (x @ w + b, d @ w.T)
    for k in range(2):
        error = np.max(np.abs(out["fast"][k] - exact[k])) / np.max(np.abs(exact[k]))
        agree = np.max(np.abs(out["fast"][k] - out["spice"][k])) / np.max(np.abs(out["spice"][k]))
        assert error > 1e-3  # the circuit shows
        assert agree < 3e-3 and agree < error / 3  # the fast model's linear selector, well below the circuit's effect


def test_an_adc_on_every_line_costs_at_most_a_few_lsb():
    """8-bit ADCs calibrated per line on the inputs themselves: the output error stays within the LSB budget."""
    spec = ideal_spec(tia=TIA(r_f=2e4), adc_bits=8)
    layer = AnalogLinear(20, 7, spec)
    layer.set_weights(W, B)
    with pytest.raises(InvalidParameterError, match="calibrate"):
        layer.forward(X)
    layer.calibrate(X, D, margin=1.0)
    tile = layer.tiles[0][0]
    fs = tile.array.readout.full_scale(False)
    lsb_weight = 2 * fs / 256 / tile.spec.tia.r_f / (tile.spec.v_read * tile.gain)  # one LSB in weight units
    err = np.abs(layer.forward(X) - (X @ W + B))
    # two conversions per output (digital subtraction), each within half an LSB of its column
    assert np.all(err <= (lsb_weight[0::2] + lsb_weight[1::2]) / 2 * np.max(X, axis=1, keepdims=True) + 1e-12)
    assert np.max(err) > 0  # the ADC does quantise
    back = layer.backward(D)
    assert np.max(np.abs(back - D @ W.T)) < 0.02 * np.max(np.abs(D @ W.T))


def quantised(x, bits):
    """Each sample quantised to `bits`-bit codes of its largest magnitude, as the bit-serial drivers see it."""
    s = np.max(np.abs(x), axis=1, keepdims=True)
    top = (1 << bits) - 1
    return np.rint(np.abs(x) / s * top) / top * s * np.sign(x)


@pytest.mark.parametrize("bits", [1, 4, 8])
def test_bit_serial_inputs_give_the_product_of_the_quantised_inputs(bits):
    """Ideal arrays: b-bit trains, one read per bit, shift-and-add = the exact product of the b-bit inputs."""
    x = np.vstack([X, -X[:2], X[2:4] - 0.5])  # positive, negative and mixed-sign samples
    layer = AnalogLinear(20, 7, ideal_spec(input_bits=bits))
    layer.set_weights(W, B)
    xq = quantised(np.hstack([x, np.ones((x.shape[0], 1))]), bits)
    expected = xq @ np.vstack([W, B])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-9, atol=1e-12)
    if bits < 8:
        assert np.max(np.abs(expected - (x @ W + B))) > 1e-3  # the input quantisation shows


def test_bit_serial_reads_through_8_bit_adcs_stay_within_their_lsb_budget():
    """Every bit read is converted: the error is at most half an LSB per column and bit, weighted 2^b / 255."""
    spec = ideal_spec(tia=TIA(r_f=2e4), adc_bits=8, input_bits=8)
    tile = DifferentialTile(20, 7, spec)
    tile.set_weights(W)
    tile.calibrate(X, margin=1.0)
    fs = tile.array.readout.full_scale(False)
    lsb = 2 * fs / 256 / spec.tia.r_f / (spec.v_read * tile.gain)
    bound = (lsb[0::2] + lsb[1::2]) / 2 * np.max(X, axis=1, keepdims=True)  # sum_b 2^b / 255 = 1
    err = np.abs(tile.forward(X) - quantised(X, 8) @ W)
    assert np.all(err <= bound + 1e-12) and np.max(err) > 0
    # calibrated on bit reads: a bit read drives at most the rows set, so the full scale is below an analog one's
    analog = DifferentialTile(20, 7, ideal_spec(tia=TIA(r_f=2e4), adc_bits=8))
    analog.set_weights(W)
    analog.calibrate(X, margin=1.0)
    assert np.all(fs >= analog.array.readout.full_scale(False) - 1e-12)


def test_bit_serial_reads_in_ngspice_agree_with_the_fast_model(spice_backend):
    """8-bit trains on a 1T1R tile with 2 ohm wires: 8 reads per sample on both backends, the same pair currents."""
    out, cost = {}, {}
    for backend in ("fast", "spice"):
        spec = TileSpec(max_rows=9, max_cols=8, r_wire=2.0, tia=TIA(r_f=1e4, gain=1e4), input_bits=8,
                        backend=backend)
        tile = DifferentialTile(9, 4, spec, backends=Backends(spice=spice_backend))
        tile.set_weights(W[:9, :4])
        out[backend] = tile.forward(X[:3, :9])
        cost[backend] = tile.read_cost(X[:3, :9])
    exact = quantised(X[:3, :9], 8) @ W[:9, :4]
    assert np.max(np.abs(out["fast"] - exact)) > 1e-4 * np.max(np.abs(exact))  # the wires and selectors show
    assert np.max(np.abs(out["fast"] - out["spice"])) < 3e-3 * np.max(np.abs(out["spice"]))
    assert cost["spice"].operations == 2 * 9 * 4
    assert cost["spice"].latency == pytest.approx(8 * 50e-9)  # eight 50 ns reads (no TIA bandwidth, no ADC time)
    assert cost["fast"].drivers == pytest.approx(cost["spice"].drivers, rel=3e-3)


def test_the_read_cost_of_a_bit_serial_read_is_the_sum_of_its_bit_reads():
    """Driver energy by hand on ideal arrays: sum over bits of sum_i v_i^2 G_i t_read, per sample."""
    tile = DifferentialTile(20, 7, ideal_spec(input_bits=4))
    tile.set_weights(W)
    t_read = 40e-9
    cost = tile.read_cost(X[:2], t_read=t_read)
    top = 15
    codes = np.rint(X[:2] / np.max(X[:2], axis=1, keepdims=True) * top).astype(int)
    g_row = tile.array.conductance.sum(axis=1)
    by_hand = np.mean([sum((((c >> b) & 1) * 0.2) ** 2 @ g_row for b in range(4)) for c in codes]) * t_read
    assert cost.drivers == pytest.approx(by_hand, rel=1e-9)
    assert cost.latency == pytest.approx(4 * t_read) and cost.operations == 2 * 20 * 7


def test_device_variability_is_per_tile_and_seeded():
    var = Variability(d2d={"g_max": 0.1}, stuck_on=0.05, stuck_off=0.05, seed=0)
    a = AnalogLinear(20, 7, ideal_spec(max_rows=8, max_cols=6, variability=var), seed=1)
    b = AnalogLinear(20, 7, ideal_spec(max_rows=8, max_cols=6, variability=var), seed=1)
    c = AnalogLinear(20, 7, ideal_spec(max_rows=8, max_cols=6, variability=var), seed=2)
    stuck = [t.array.stuck for row in a.tiles for t in row]
    assert not all(np.array_equal(stuck[0], s) for s in stuck[1:] if s.shape == stuck[0].shape)
    for layer in (a, b, c):
        layer.set_weights(W, B)
    np.testing.assert_array_equal(a.forward(X), b.forward(X))
    assert not np.allclose(a.forward(X), c.forward(X))
    assert not np.allclose(a.forward(X), X @ W + B, rtol=1e-3)  # stuck cells show in the products


def test_layer_state_round_trip():
    spec = ideal_spec(max_rows=8, max_cols=6, variability=Variability(c2c=0.1, read_noise=0.02, seed=4))
    a = AnalogLinear(20, 7, spec, seed=5)
    a.set_weights(W, B)
    a.forward(X)
    b = AnalogLinear(20, 7, spec, seed=5)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.forward(X), b.forward(X))
    with pytest.raises(ShapeError):
        AnalogLinear(20, 6, spec).load_state_dict(a.state_dict())


def test_bad_layer_input_is_typed():
    with pytest.raises(InvalidParameterError, match="max_cols"):
        TileSpec(max_cols=5)
    with pytest.raises(InvalidParameterError, match="read limit"):
        TileSpec(v_read=1.5)
    with pytest.raises(InvalidParameterError, match="tia"):
        TileSpec(adc_bits=8)
    layer = AnalogLinear(4, 2, ideal_spec())
    with pytest.raises(ShapeError):
        layer.set_weights(np.zeros((3, 2)))
    with pytest.raises(ShapeError):
        layer.forward(np.zeros((2, 5)))
    with pytest.raises(InvalidParameterError):
        AnalogLinear(4, 2, "spec")


def test_the_bundled_data_sets_split_stratified_and_seeded():
    d = load_digits(seed=1)
    assert d.n_features == 64 and d.n_classes == 10 and d.image_shape == (8, 8)
    assert d.train_x.min() == 0 and d.train_x.max() == 1
    assert d.test_y.size == round(0.2 * 1797) and np.all(np.bincount(d.test_y) >= 35)
    again = load_digits(seed=1)
    np.testing.assert_array_equal(d.train_y, again.train_y)
    assert not np.array_equal(d.train_y, load_digits(seed=2).train_y)
    small = d.subset(0.1, seed=0)
    assert small.train_y.size == round(0.1 * d.train_y.size) and np.all(np.bincount(small.train_y) >= 13)
    m = load_mnist_subset(seed=0)
    assert m.n_features == 784 and m.train_y.size + m.test_y.size == 5000 and np.all(np.bincount(m.test_y) == 100)


def _idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(array.dtype.newbyteorder(">")).tobytes()))


def test_idx_files_load_and_bad_ones_are_refused(tmp_path):
    images = RNG.integers(0, 256, (40, 4, 5), dtype=np.uint8)
    labels = np.repeat(np.arange(4, dtype=np.uint8), 10)
    _idx(tmp_path / "img.gz", images, 0x08)
    _idx(tmp_path / "lab.gz", labels, 0x08)
    d = load_idx(tmp_path / "img.gz", tmp_path / "lab.gz", test_fraction=0.25, seed=0)
    assert d.image_shape == (4, 5) and d.n_classes == 4 and d.test_y.size == 10
    np.testing.assert_allclose(np.sort(np.concatenate([d.train_x, d.test_x]).ravel()), np.sort(images.ravel() / 255))
    (tmp_path / "junk").write_bytes(b"not an idx file")
    with pytest.raises(InvalidParameterError, match="not an IDX file"):
        load_idx(tmp_path / "junk", tmp_path / "lab.gz")
    _idx(tmp_path / "short.gz", labels[:30], 0x08)
    with pytest.raises(ShapeError, match="30 labels"):
        load_idx(tmp_path / "img.gz", tmp_path / "short.gz")
    _idx(tmp_path / "flat.gz", images.reshape(40, 20), 0x08)
    with pytest.raises(ShapeError, match="height, width"):
        load_idx(tmp_path / "flat.gz", tmp_path / "lab.gz")
    _idx(tmp_path / "bad.gz", np.full(40, 7, dtype=np.uint8), 0x08)
    with pytest.raises(InvalidParameterError, match="classes"):
        load_idx(tmp_path / "img.gz", tmp_path / "bad.gz")


def test_the_tiles_of_a_layer_share_one_ngspice_worker_and_keep_their_own_fast_caches():
    layer = AnalogLinear(20, 7, ideal_spec(max_rows=8, max_cols=6))
    tiles = [t for row in layer.tiles for t in row]
    assert len({id(t.array.backend("spice")) for t in tiles}) == 1
    assert len({id(t.array.backend("fast")) for t in tiles}) == len(tiles)
    layer.close()


@pytest.mark.parametrize("levels", [None, 8])
def test_write_verify_transfer_lands_each_device_on_its_target_or_level(levels):
    """program_weights: every device of a 1T1R tile (1 ohm wires) within the verify band of its target, which
    with levels is the nearest of `levels` conductances evenly spaced over the pair window (Yao et al.: 8)."""
    spec = TileSpec(r_wire=1.0, backend="fast-slots")
    layer = AnalogLinear(4, 3, spec, seed=0)
    w = np.array([[0.9, -0.3, 0.05], [-0.6, 0.0, 0.45], [0.2, -1.0, 0.7], [0.33, 0.1, -0.8]])
    b = np.array([0.1, -0.2, 0.0])
    reports = layer.program_weights(w, b, levels=levels)
    assert all(r.converged.all() for r in reports)
    tile = layer.tiles[0][0]
    g = tile.pairs.conductances(np.vstack([w, b]), w_max=spec.w_max)
    if levels is not None:
        step = (tile.pairs.g_max - tile.pairs.g_min) / (levels - 1)
        g = tile.pairs.g_min + step * np.round((g - tile.pairs.g_min) / step)
        assert len(np.unique(np.round((g - tile.pairs.g_min) / step))) > 2  # several levels in use
    measured = measure_conductance(tile.array, spec.v_read)
    np.testing.assert_array_less(np.abs(measured - cell_conductance(tile.array.params, g)), spec.verify_tolerance)


def test_compensated_transfer_puts_a_pairs_weight_on_its_healthy_device():
    """Stuck devices (20 % stuck on, 10 % stuck off): with compensate, where one device of a pair failed its
    write-verify, the pair's weight lands on the closed form: the target clipped to what the healthy partner
    can reach against the failed device's conductance, (g_s - g_max .. g_s - g_min) / gain for a failed G+,
    within the partner's verify band. Without it the same pairs miss by far more; healthy pairs are alike."""
    spec = TileSpec(r_wire=1.0, backend="fast-slots", variability=Variability(stuck_on=0.2, stuck_off=0.1))
    w = np.random.default_rng(5).uniform(-0.8, 0.8, (12, 6))
    plain, fixed = DifferentialTile(12, 6, spec, seed=4), DifferentialTile(12, 6, spec, seed=4)
    first = plain.program_weights(w)
    report = fixed.program_weights(w, compensate=True)
    np.testing.assert_array_equal(plain.array.stuck, fixed.array.stuck)
    failed = ~first.converged
    one = failed[:, 0::2] ^ failed[:, 1::2]  # pairs with exactly one failed device
    assert one.sum() >= 8 and failed[plain.array.stuck == 1].all()  # stuck on: above the pair window's top
    g = fixed.array.conductance
    lo, hi, gain = fixed.pairs.g_min, fixed.pairs.g_max, fixed.gain
    reach_lo = np.where(failed[:, 0::2], (g[:, 0::2] - hi) / gain, (lo - g[:, 1::2]) / gain)
    reach_hi = np.where(failed[:, 0::2], (g[:, 0::2] - lo) / gain, (hi - g[:, 1::2]) / gain)
    expected = np.clip(w, reach_lo, reach_hi)
    band = 1.2 * spec.verify_tolerance / gain  # the partner's band, and the verify read's 1-ohm wires
    error = np.abs(fixed.weights() - expected)[one]
    assert error.max() < band
    reachable = one & (w >= reach_lo) & (w <= reach_hi)
    assert reachable.sum() >= 4 and np.abs(plain.weights() - w)[reachable].mean() > 5 * band
    healthy = ~failed[:, 0::2] & ~failed[:, 1::2]
    np.testing.assert_array_less(np.abs(fixed.weights() - w)[healthy], 2 * spec.verify_tolerance / gain)
    assert report.pulses.sum() > first.pulses.sum() and report.iterations > first.iterations
    assert np.all(report.unresponsive[first.unresponsive])
    with pytest.raises(InvalidParameterError, match="compensate"):
        fixed.program_weights(w, compensate="yes")
