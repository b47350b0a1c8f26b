"""The outer-product rules on arrays: stochastic pulse coincidence (Gokmen and Vlasov 2016) and Tiki-taka v2.

Reference pulses of the soft-bounds model on an ideal passive array move a device by the closed
form (one SET pulse: G -> G + alpha_set (g_max - G); one RESET pulse: G -> G - alpha_reset (G - g_min)),
and half-selected cells (V/2 = 0.75 V) sit below the 0.8 V thresholds, so every device's final
conductance follows from the pulses it was counted to get."""

import numpy as np
import pytest
from learning_cases import DEV, reference_spec

from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.learning import AnalogLinear
from spicelim.learning.rules import StochasticUpdate, TikiTakaUpdate, pair_step


def _after_pulses(g0, sets, resets):
    """Closed form of `sets` SET pulses, then `resets` RESET pulses, from conductance g0."""
    g = DEV.g_max - (DEV.g_max - g0) * (1 - DEV.alpha_set) ** sets
    return DEV.g_min + (g - DEV.g_min) * (1 - DEV.alpha_reset) ** resets


@pytest.mark.parametrize("pair_update", ["set", "both"])
def test_coincidences_move_each_device_by_the_closed_form_in_the_direction_of_x_u(pair_update):
    layer = AnalogLinear(4, 3, reference_spec(pair_update=pair_update), bias=False)
    layer.center()
    tile = layer.tiles[0][0]
    g0 = tile.array.conductance.copy()
    x = np.array([[0.9, -0.6, 0.0, 0.3]])
    u = np.array([[0.8, -0.5, 0.0]])
    res, hits = tile.coincidence_update(x, u, 60, np.random.default_rng(1))
    g1 = tile.array.conductance
    sign = np.sign(x[0][:, None] * u[0][None, :])  # +1: the weight rises
    up, down = hits[:, 0::2], hits[:, 1::2]  # device pulse counts of G+ and G-
    assert np.all(hits[[2]] == 0) and np.all(hits[:, [4, 5]] == 0)  # zero probability: never a pulse
    if pair_update == "set":  # a raise is a SET on G+, a lowering a SET on G-
        assert np.all(up[sign < 0] == 0) and np.all(down[sign > 0] == 0)
        want = np.empty_like(g0)
        want[:, 0::2] = _after_pulses(g0[:, 0::2], up, 0)
        want[:, 1::2] = _after_pulses(g0[:, 1::2], down, 0)
    else:  # a raise is a SET on G+ and a RESET on G-, drawn in two phases
        set_p = np.where(sign > 0, up, down)  # the device that got SET pulses ...
        reset_p = np.where(sign > 0, down, up)  # ... and the one that got RESET pulses
        want = np.empty_like(g0)
        want[:, 0::2] = np.where(sign > 0, _after_pulses(g0[:, 0::2], set_p, 0), _after_pulses(g0[:, 0::2], 0, reset_p))
        want[:, 1::2] = np.where(sign > 0, _after_pulses(g0[:, 1::2], 0, reset_p), _after_pulses(g0[:, 1::2], set_p, 0))
    np.testing.assert_allclose(g1, want, rtol=1e-4)
    # counts follow the coincidence probability: 60 slots x |x_i u_k| per phase (binomial, 4 sigma)
    expect = 60 * np.abs(x[0][:, None] * u[0][None, :])
    counted = up + down if pair_update == "set" else np.maximum(up, down)
    sd = np.sqrt(expect * (1 - np.abs(x[0][:, None] * u[0][None, :])))
    assert np.all(np.abs(counted - expect) <= 4 * sd + 1e-9)
    assert res.energy > 0 and res.duration > 0


def test_stochastic_rule_expects_the_gradient_step_with_balanced_probabilities():
    layer = AnalogLinear(3, 2, reference_spec(), bias=True)
    rule = StochasticUpdate(layer, lr=0.3, bl=10, seed=3)
    x = np.array([[0.5, 0.0, -1.0], [0.2, 0.1, 0.0]])
    d = np.array([[0.3, -0.1], [0.0, 0.2]])
    px, pu = rule.probabilities(x, d)
    assert 0.2 < np.max(px) < 1  # no clipping, and coincidences to see
    xa = np.hstack([x, np.ones((2, 1))])
    for b in range(2):  # bl eps p_x p_u = -lr x d, sample by sample, and the largest probabilities equal
        np.testing.assert_allclose(rule.bl * rule.eps * np.outer(px[b], pu[b]), -rule.lr * np.outer(xa[b], d[b]),
                                   rtol=1e-12, atol=1e-15)
        assert np.max(np.abs(px[b])) == pytest.approx(np.max(np.abs(pu[b])))
    before = layer.measured_weights()
    rep = rule.step(x[:1], d[:1])  # one sample: every pair can only move the way of its x_i (-d_k)
    assert rep.pulses > 0 and rep.energy > 0
    moved = layer.measured_weights() - before
    dw = -rule.lr * np.outer(xa[0], d[0])  # where it is 0 nothing moves
    assert np.all(moved[np.abs(dw) < 1e-15] == 0)
    assert np.all(np.sign(moved[np.abs(moved) > 0]) == np.sign(dw[np.abs(moved) > 0]))
    with pytest.raises(ShapeError):
        rule.step(x, d[:1])
    with pytest.raises(InvalidParameterError):
        StochasticUpdate(layer, lr=-1.0)
    with pytest.raises(InvalidParameterError):
        StochasticUpdate(layer, lr=0.1, bl=0)


def test_tiki_taka_reads_a_into_h_and_pulses_whole_steps_into_c():
    layer = AnalogLinear(3, 2, reference_spec(), bias=False)
    layer.set_weights(np.zeros((3, 2)))
    rule = TikiTakaUpdate(layer, lr=0.1, bl=5, transfer_lr=1.0, transfer_rows=2, seed=0)
    eps = pair_step(layer.spec)
    assert rule.eps == eps
    a = np.array([[2.5 * eps, -0.4 * eps], [-1.2 * eps, 0.0], [5.0 * eps, 5.0 * eps]])
    rule.fast.set_weights(a)  # A as if trained; no error this step, so A does not move
    c0 = layer.tiles[0][0].array.conductance.copy()
    rep = rule.step(np.ones((1, 3)), np.zeros((1, 2)))
    # rows 0 and 1 read into H; one pulse pair (max_pulses 1) where |H| >= eps, and H keeps the rest
    np.testing.assert_allclose(rule.h[:2], a[:2] - np.array([[eps, 0], [-eps, 0]]), rtol=1e-9, atol=1e-12 * eps)
    assert np.all(rule.h[2] == 0) and rule.next_row == 2 and rep.verify_reads == 2
    c1 = layer.tiles[0][0].array.conductance
    want = c0.copy()
    want[0, 0] = _after_pulses(c0[0, 0], 1, 0)  # weight (0, 0) raised: SET on G+
    want[1, 1] = _after_pulses(c0[1, 1], 1, 0)  # weight (1, 0) lowered: SET on G-
    np.testing.assert_allclose(c1, want, rtol=1e-4)
    rule.step(np.ones((1, 3)), np.zeros((1, 2)))  # rows 2 and 0 next
    assert rule.next_row == 1 and rule.h[2, 0] == pytest.approx(4 * eps, rel=1e-9)


def test_outer_product_rules_resume_bit_identically_from_their_state():
    rng = np.random.default_rng(5)
    x, d = rng.uniform(0, 1, (4, 3)), rng.normal(0, 0.2, (4, 2))

    def build():
        layer = AnalogLinear(3, 2, reference_spec(r_wire=1.0), bias=True, seed=2)
        layer.set_weights(rng_w.uniform(-0.3, 0.3, (3, 2)))
        return layer, TikiTakaUpdate(layer, lr=0.05, bl=4, transfer_rows=2, seed=7)

    rng_w = np.random.default_rng(0)
    layer, rule = build()
    rule.step(x[:2], d[:2])
    saved = (layer.state_dict(), rule.state_dict())
    rule.step(x[2:], d[2:])
    straight = (layer.tiles[0][0].array.state.copy(), rule.fast.tiles[0][0].array.state.copy(), rule.h.copy())
    rng_w = np.random.default_rng(0)
    layer2, rule2 = build()
    layer2.load_state_dict(saved[0])
    rule2.load_state_dict(saved[1])
    rule2.step(x[2:], d[2:])
    assert np.array_equal(layer2.tiles[0][0].array.state, straight[0])
    assert np.array_equal(rule2.fast.tiles[0][0].array.state, straight[1])
    assert np.array_equal(rule2.h, straight[2])
    with pytest.raises(InvalidParameterError):
        rule2.load_state_dict({"rule": "stochastic"})


def test_chopped_tiki_taka_reads_a_back_with_the_sign_it_learnt_with():
    """chop = 1: every row's chopper flips after its read, so the next read of that row enters H negated, and
    the gradient A learns from that row is negated too (Rasch et al. 2024)."""
    layer = AnalogLinear(3, 2, reference_spec(), bias=False)
    layer.set_weights(np.zeros((3, 2)))
    rule = TikiTakaUpdate(layer, lr=0.3, bl=20, transfer_rows=2, chop=1.0, seed=0)
    eps = rule.eps
    a = np.array([[0.6 * eps, -0.4 * eps], [0.2 * eps, 0.0], [0.3 * eps, 0.7 * eps]])
    rule.fast.set_weights(a)
    rule.step(np.ones((1, 3)), np.zeros((1, 2)))  # reads rows 0, 1 with +1, then their choppers flip
    assert list(rule.chopper) == [-1, -1, 1]
    h0 = rule.h.copy()
    np.testing.assert_allclose(h0[:2], a[:2], rtol=1e-9, atol=1e-12 * eps)
    rule.step(np.ones((1, 3)), np.zeros((1, 2)))  # rows 2 (+1) and 0 (-1)
    np.testing.assert_allclose(rule.h[0], h0[0] - a[0], atol=1e-12 * eps)
    np.testing.assert_allclose(rule.h[2], a[2], rtol=1e-9)
    assert list(rule.chopper) == [1, -1, -1]
    # A now learns row 0 with the sign +1 and row 1 with -1: an error that raises every weight lowers row 1's
    before = rule.fast.measured_weights()
    rule.step(np.array([[1.0, 1.0, 0.0]]), np.array([[-0.5, -0.5]]))
    moved = rule.fast.measured_weights() - before
    assert np.all(moved[0] >= 0) and np.all(moved[1] <= 0) and np.all(moved[2] == 0)
    assert np.any(moved[0] > 0) and np.any(moved[1] < 0)
