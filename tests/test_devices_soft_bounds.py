"""Soft-bounds RRAM: the pulse calibration in closed form, and its three implementations."""

import numpy as np
import pytest
from test_devices_vteam import pulse_train

from spicelim.devices import SoftBoundsRRAM, simulate
from spicelim.errors import InvalidParameterError

DEV = SoftBoundsRRAM()
EDGE = 1e-12  # near-rectangular pulses, so each one is the calibrated reference pulse


@pytest.mark.parametrize("amplitude,alpha,bound", [(DEV.v_set_ref, DEV.alpha_set, DEV.g_max),
                                                   (DEV.v_reset_ref, DEV.alpha_reset, DEV.g_min)])
def test_reference_pulses_follow_soft_bounds_by_hand(amplitude, alpha, bound):
    """n reference pulses: G_n = bound - (bound - G_0) (1 - alpha)^n."""
    g0, n = 8e-6, 12
    t, v = pulse_train([amplitude] * n, width=DEV.t_ref, gap=DEV.t_ref, edge=EDGE)
    res = simulate(DEV, t, v, state0=g0, backend="fast", n_points=4000)
    want = bound - (bound - g0) * (1 - alpha) ** n
    assert res.state[-1] == pytest.approx(want, rel=1e-5)


def test_below_threshold_nothing_moves_and_current_is_ohmic():
    assert np.all(DEV.state_rate(np.array([0.5, -0.5, 0.2]), np.full(3, 1e-5)) == 0)
    assert DEV.current(0.1, 1e-5) == pytest.approx(1e-6, rel=1e-4)  # v_nl = 10 V: sinh nearly linear


@pytest.mark.spice
@pytest.mark.parametrize("twin", ["verilog-a", "behavioural"])
def test_spice_agrees_with_numpy(twin, tmp_path):
    t, v = pulse_train([1.5] * 8 + [-1.2] * 8, width=5e-8, gap=5e-8, edge=2e-9)
    ref = simulate(DEV, t, v, state0=5e-6, backend="fast")
    res = simulate(DEV, t, v, state0=5e-6, backend="spice", twin=twin, cache_dir=tmp_path)
    ref_state = np.interp(res.t, ref.t, ref.state)
    span = DEV.g_max - DEV.g_min
    assert np.ptp(ref.state) > 0.2 * span
    assert np.max(np.abs(res.state - ref_state)) < 0.01 * span
    ref_i = DEV.current(res.v, ref_state)
    assert np.max(np.abs(res.current - ref_i)) < 0.01 * np.max(np.abs(ref_i))


@pytest.mark.parametrize("kwargs,match", [
    (dict(g_min=3e-5), "g_min"), (dict(alpha_set=1.0), "alpha"), (dict(v_set_th=2.0), "v_set_th"),
    (dict(v_reset_th=0.1), "v_reset"), (dict(t_ref=0.0), "t_ref"), (dict(p_reset=0.0), "p_set and p_reset"),
])
def test_soft_bounds_rejects_non_physical_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        SoftBoundsRRAM(**kwargs)
