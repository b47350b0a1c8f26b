"""Yakopcic model: closed-form checks and agreement of Verilog-A, behavioural twin and numpy."""

import numpy as np
import pytest
from test_devices_vteam import pulse_train

from spicelim.devices import Yakopcic, simulate
from spicelim.errors import InvalidParameterError

DEV = Yakopcic()


def test_linear_growth_below_x_p_by_hand():
    """For x < x_p under positive V the window is 1: x grows by A_p (e^V - e^V_p) per second exactly."""
    t = np.array([0.0, 1e-9, 2e-6 + 1e-9, 2e-6 + 2e-9])
    v = np.array([0.0, 0.8, 0.8, 0.0])
    res = simulate(DEV, t, v, state0=0.05, backend="fast")
    rate = DEV.a_p * (np.exp(0.8) - np.exp(DEV.v_p))
    expected = 0.05 + rate * (2e-6 + 1e-9)  # the two 1 ns edges count half each
    assert res.state[-1] == pytest.approx(expected, rel=1e-4)
    assert res.state[-1] < DEV.x_p
    # Below threshold nothing moves, and the current is a1 x sinh(b V).
    assert np.all(DEV.state_rate(np.array([0.1, -0.1]), np.array([0.5, 0.5])) == 0)
    assert DEV.current(0.1, 0.5) == pytest.approx(DEV.a1 * 0.5 * np.sinh(DEV.b * 0.1))


def test_state_stays_bounded():
    t, v = pulse_train([2.0] * 30, width=1e-4, gap=1e-6, edge=1e-8)
    up = simulate(DEV, t, v, state0=0.5, backend="fast")
    t, v = pulse_train([-2.0] * 30, width=1e-4, gap=1e-6, edge=1e-8)
    down = simulate(DEV, t, v, state0=0.5, backend="fast")
    assert 0.99 < up.state.max() <= 1.0 and 0.0 <= down.state.min() < 0.01


@pytest.mark.spice
@pytest.mark.parametrize("twin", ["verilog-a", "behavioural"])
def test_spice_agrees_with_numpy(twin, tmp_path):
    t, v = pulse_train([1.0] * 10 + [-1.0] * 10, width=1e-5, gap=1e-5, edge=1e-7)
    ref = simulate(DEV, t, v, state0=0.11, backend="fast")
    res = simulate(DEV, t, v, state0=0.11, backend="spice", twin=twin, cache_dir=tmp_path)
    ref_state = np.interp(res.t, ref.t, ref.state)
    assert np.ptp(ref.state) > 0.3
    assert np.max(np.abs(res.state - ref_state)) < 0.01  # 1 % of the state range [0, 1]
    ref_i = DEV.current(res.v, ref_state)
    assert np.max(np.abs(res.current - ref_i)) < 0.01 * np.max(np.abs(ref_i))


@pytest.mark.parametrize("kwargs,match", [
    (dict(a1=0.0), "a1"), (dict(b=-1.0), "b"), (dict(v_p=-0.1), "v_p"), (dict(a_n=-1.0), "a_p and a_n"),
    (dict(x_p=1.0), "x_p"), (dict(alpha_n=-1.0), "alpha"), (dict(eta=0.5), "eta"),
])
def test_yakopcic_rejects_non_physical_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Yakopcic(**kwargs)
