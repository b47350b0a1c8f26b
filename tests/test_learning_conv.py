"""Convolutions on arrays and the convolutional network: unrolled products against scipy's correlation,
pooling against loops, gradients against finite differences, the seed network's sizes and operation
count by hand, analog convolutions against the exact and quantised products, ngspice against fast."""

import numpy as np
import pytest
from scipy.signal import correlate

from spicelim import Backends, Variability
from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.learning.cnn import YAO2020_CNN, ConvNetSpec, ConvNetwork, train_software
from spicelim.learning.conv import (
    AnalogConv2d,
    DigitalConv2d,
    fold_patches,
    max_pool,
    max_pool_backward,
    patches,
)
from spicelim.learning.network import cross_entropy
from spicelim.learning.tiles import TileSpec
from spicelim.periphery import TIA

RNG = np.random.default_rng(11)


def correlate_by_scipy(images, w, b, k):
    """out[b, f] = sum_c correlate(images[b, c], kernel[f, c], 'valid') + bias: the definition, independently."""
    bsz, c = images.shape[:2]
    kernels = w.T.reshape(-1, c, k, k)  # (F, C, k, k) from the unrolled (c, p, q) rows
    return np.stack([np.stack([sum(correlate(images[i, ch], kernels[f, ch], mode="valid") for ch in range(c)) + b[f]
                               for f in range(kernels.shape[0])]) for i in range(bsz)])


def test_the_unrolled_convolution_is_scipys_correlation_and_folding_is_its_adjoint():
    x = RNG.normal(size=(3, 2, 7, 6))
    conv = DigitalConv2d(2, 4, 3, seed=1)
    conv.b = RNG.normal(size=4)
    np.testing.assert_allclose(conv.forward(x), correlate_by_scipy(x, conv.w, conv.b, 3), rtol=1e-12, atol=1e-12)
    cols = patches(x, 3)
    d = RNG.normal(size=cols.shape)
    assert np.sum(cols * d) == pytest.approx(np.sum(x * fold_patches(d, x.shape, 3)), rel=1e-12)


def test_max_pool_in_ceil_mode_against_loops_and_its_gradient():
    x = RNG.normal(size=(2, 3, 11, 11))
    pooled, mask = max_pool(x, 3)
    assert pooled.shape == (2, 3, 4, 4)  # the last window of each row and column covers 2 pixels
    for i in range(4):
        for j in range(4):
            np.testing.assert_array_equal(pooled[:, :, i, j], x[:, :, 3 * i:3 * i + 3, 3 * j:3 * j + 3].max(axis=(2, 3)))
    assert mask.sum() == pooled.size  # one winner per window, and the winners are the maxima
    np.testing.assert_array_equal(np.sort(x[mask]), np.sort(pooled.ravel()))
    d = RNG.normal(size=pooled.shape)
    g = max_pool_backward(d, mask, 3)
    eps, (a, c, i, j) = 1e-6, (1, 2, 10, 9)  # a pixel in a partial window
    bumped = x.copy()
    bumped[a, c, i, j] += eps
    numeric = (np.sum(max_pool(bumped, 3)[0] * d) - np.sum(pooled * d)) / eps
    assert g[a, c, i, j] == pytest.approx(numeric, abs=1e-6)


def test_the_seed_network_has_192_classifier_inputs_and_its_operations_by_hand():
    assert YAO2020_CNN.feature_shape == (12, 4, 4) and YAO2020_CNN.n_features == 192
    ops = YAO2020_CNN.operations()
    assert ops == {"conv1": 2 * 26 * 26 * 8 * (9 + 1), "conv2": 2 * 11 * 11 * 12 * (72 + 1), "fc": 2 * 10 * 193}
    with pytest.raises(ShapeError, match="does not fit"):
        ConvNetSpec(image=(6, 6), stages=((4, 3, 2), (4, 3, 2)))


def test_network_gradients_against_finite_differences():
    spec = ConvNetSpec(image=(9, 9), stages=((3, 3, 2), (4, 2, 2)), classes=3)
    net = ConvNetwork.software(spec, seed=2)
    x, y = RNG.uniform(0, 1, (4, 1, 9, 9)), np.array([0, 1, 2, 1])
    _, grads, _ = net.gradient_step(x, y)

    def loss():
        return cross_entropy(net.fc.forward(net._stages(x, 0)[0]), y)[0]

    for layer, (gw, gb) in zip(net.convs + [net.fc], grads):
        w, b = layer.weights()
        for idx in [(0, 0), (w.shape[0] - 1, w.shape[1] - 1), (1, 1)]:
            eps = 1e-6
            w2 = w.copy()
            w2[idx] += eps
            layer.set_weights(w2, b)
            up = loss()
            w2[idx] -= 2 * eps
            layer.set_weights(w2, b)
            down = loss()
            layer.set_weights(w, b)
            assert gw[idx] == pytest.approx((up - down) / (2 * eps), abs=1e-7)
        b2 = b.copy()
        b2[0] += 1e-6
        layer.set_weights(w, b2)
        up = loss()
        layer.set_weights(w, b)
        assert gb[0] == pytest.approx((up - loss()) / 1e-6, abs=1e-5)


def test_software_training_learns_a_separable_toy_problem():
    """Bright top half against bright bottom half of 8x8 images: a few epochs separate them."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = rng.uniform(0, 0.3, (200, 8, 8))
    x[y == 0, :4] += 0.7
    x[y == 1, 4:] += 0.7
    net = ConvNetwork.software(ConvNetSpec(image=(8, 8), stages=((2, 3, 2),), classes=2), seed=0)
    history = train_software(net, x, y, epochs=5, lr=0.1, batch_size=20, progress=False)
    assert history[-1]["loss"] < history[0]["loss"] and net.accuracy(x, y) > 0.95


def ideal_spec(**kw):
    return TileSpec(max_rows=32, max_cols=8, r_wire=0.0, backend="ideal", **kw)


def test_an_analog_convolution_on_ideal_arrays_is_the_exact_one_and_bit_serial_the_quantised_one():
    conv = DigitalConv2d(2, 3, 3, seed=4)
    conv.b = RNG.uniform(-0.3, 0.3, 3)
    x = RNG.uniform(0, 1, (2, 2, 6, 5))
    w_max = float(np.max(np.abs(np.vstack([conv.w, conv.b]))))
    exact = AnalogConv2d(2, 3, 3, ideal_spec(w_max=w_max))
    exact.set_weights(conv.w, conv.b)
    np.testing.assert_allclose(exact.forward(x), conv.forward(x), rtol=1e-9, atol=1e-12)
    serial = AnalogConv2d(2, 3, 3, ideal_spec(w_max=w_max, input_bits=4))
    serial.set_weights(conv.w, conv.b)
    cols = np.concatenate([patches(x, 3), np.ones(patches(x, 3).shape[:3] + (1,))], axis=-1)
    top = np.max(cols, axis=-1, keepdims=True)
    quantised = np.rint(cols / top * 15) / 15 * top
    expected = (quantised @ np.vstack([conv.w, conv.b])).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(serial.forward(x), expected, rtol=1e-9, atol=1e-12)


def test_replicated_kernels_are_separate_arrays_with_their_own_device_draws():
    spec = TileSpec(max_rows=16, max_cols=8, r_wire=0.0, backend="fast",
                    variability=Variability(stuck_on=0.1, stuck_off=0.1))
    conv = AnalogConv2d(1, 2, 3, spec, groups=3, seed=5)
    w = RNG.uniform(-0.8, 0.8, (9, 2))
    conv.set_weights(w)
    x = RNG.uniform(0, 1, (1, 1, 5, 5))
    outs = [conv.forward(x, group=g) for g in range(3)]
    assert len({tuple(np.round(o.ravel(), 12)) for o in outs}) == 3  # three device draws, three answers
    again = AnalogConv2d(1, 2, 3, spec, groups=3, seed=5)
    again.set_weights(w)
    np.testing.assert_array_equal(again.forward(x, group=2), outs[2])
    with pytest.raises(InvalidParameterError):
        conv.forward(x, group=3)


def test_a_convolution_in_ngspice_agrees_with_the_fast_model(spice_backend):
    """Two 2x2 kernels on a 1T1R tile with 2 ohm wires, 8-bit bit-serial patches through TIAs: same outputs."""
    w = RNG.uniform(-0.9, 0.9, (4, 2))
    x = RNG.uniform(0, 1, (1, 1, 4, 4))
    out = {}
    for backend in ("fast", "spice"):
        spec = TileSpec(max_rows=8, max_cols=4, r_wire=2.0, tia=TIA(r_f=1e4, gain=1e4), input_bits=8, backend=backend)
        conv = AnalogConv2d(1, 2, 2, spec, backends=Backends(spice=spice_backend))
        conv.set_weights(w)
        out[backend] = conv.forward(x)
    assert out["spice"].shape == (1, 2, 3, 3)
    assert np.max(np.abs(out["fast"] - out["spice"])) < 3e-3 * np.max(np.abs(out["spice"]))


def test_bad_convolution_input_is_typed():
    spec = ideal_spec()
    with pytest.raises(InvalidParameterError, match="fit one tile"):
        AnalogConv2d(8, 4, 3, TileSpec(max_rows=64, max_cols=8, backend="ideal"))  # 72 weights + bias > 64 rows
    conv = AnalogConv2d(1, 2, 3, spec)
    with pytest.raises(ShapeError, match="smaller than the 3x3 kernel"):
        conv.forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ShapeError):
        conv.forward(np.zeros((1, 2, 5, 5)))
    net = ConvNetwork.software(seed=0)
    with pytest.raises(ShapeError, match="28x28"):
        net.predict(np.zeros((2, 64)))
    with pytest.raises(ShapeError):
        ConvNetwork(YAO2020_CNN, net.convs[::-1], net.fc)
    with pytest.raises(InvalidParameterError, match="class numbers"):
        train_software(net, np.zeros((3, 784)), np.array([0, 1, 10]), epochs=1, progress=False)
    with pytest.raises(ShapeError):
        train_software(net, np.zeros((3, 784)), np.array([0, 1]), epochs=1, progress=False)
