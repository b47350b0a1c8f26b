"""The TiN/TaOx/HfOx/TiN 1T1R preset against the published numbers it is fitted to.

Reference data: mean conductance change per programming pulse in ten equal bins of 2-20 uS, from
the companion code of W. Zhang et al., Science 381, 1205 (2023),
https://github.com/Tsinghua-LEMON-Lab/software_edge_learning_memristor_chip,
files Device_asymmetry/data/b2_fit.dat (SET) and Device_asymmetry/data/b1_fit.dat (RESET),
values rounded to 4 digits. "Published pulse counts" below walk a device through these bins,
one mean step per pulse, which is how that code models a pulse.
"""

import math

import numpy as np
import pytest
from test_devices_vteam import pulse_train

from spicelim.devices import (
    YAO2020_PROGRAMMING,
    NmosSelector,
    ProgrammingConditions,
    simulate,
    yao2020_taox_hfox,
)
from spicelim.errors import InvalidParameterError

DEV = yao2020_taox_hfox()
PROG = YAO2020_PROGRAMMING
EDGE = 1e-12  # near-rectangular pulses: each one is the calibrated reference pulse
G_LO, G_HI = 2e-6, 20e-6
BIN_EDGES = np.linspace(G_LO, G_HI, 11)
BIN_CENTRES = (BIN_EDGES[:-1] + BIN_EDGES[1:]) / 2
SET_STEP = 1e-6 * np.array([1.138, 0.8742, 0.8283, 0.7509, 0.6062, 0.5234, 0.4715, 0.3764, 0.2270, 0.2717])
RESET_STEP = -1e-6 * np.array([0.03857, 0.9360, 0.7813, 0.9571, 1.748, 1.799, 2.765, 3.311, 4.710, 6.259])


def published_pulse_count(steps, g0, target):
    """Pulses needed to cross `target` from `g0`, taking each bin's mean step per pulse."""
    g, n, up = g0, 0, target > g0
    while (g < target) if up else (g > target):
        k = min(int((g - G_LO) / (BIN_EDGES[1] - BIN_EDGES[0])), 9)
        g += steps[k]
        n += 1
    return n


def states_after_pulses(amplitude, n, g0):
    """Simulate n reference pulses (fast backend) and return G after each one (n + 1 values, G_0 first)."""
    t, v = pulse_train([amplitude] * n, width=DEV.t_ref, gap=DEV.t_ref, edge=EDGE)
    res = simulate(DEV, t, v, state0=g0, backend="fast", n_points=200)
    ends = t[4:4 * n + 1:4]  # end of each pulse's falling edge
    return np.concatenate([[g0], np.interp(ends, res.t, res.state)])


def test_window_read_and_pulse_width_are_the_cited_values():
    assert (DEV.g_min, DEV.g_max) == (G_LO, G_HI)
    assert DEV.t_ref == PROG.t_set == PROG.t_reset == 50e-9
    assert PROG.v_read == 0.2
    # 0.2 V reads move nothing, in either polarity, at any conductance
    g = np.linspace(G_LO, G_HI, 7)
    assert np.all(DEV.state_rate(np.full(7, PROG.v_read), g) == 0)
    assert np.all(DEV.state_rate(np.full(7, -PROG.v_read), g) == 0)
    # and the chord conductance at 0.2 V is the state to 0.01 %
    assert np.allclose(DEV.conductance(g, PROG.v_read), g, rtol=1e-4)


def test_alphas_are_the_least_squares_fit_of_the_published_steps():
    """Refit dG = alpha (bound distance) at the bin centres; the preset must agree to 2 %."""
    to_max, to_min = G_HI - BIN_CENTRES, BIN_CENTRES - G_LO
    alpha_set = (to_max @ SET_STEP) / (to_max @ to_max)
    alpha_reset = (to_min @ -RESET_STEP) / (to_min @ to_min)
    assert DEV.alpha_set == pytest.approx(alpha_set, rel=0.02)
    assert DEV.alpha_reset == pytest.approx(alpha_reset, rel=0.02)


def test_set_pulses_from_g_min_follow_the_closed_form_and_the_published_pulse_counts():
    n = 40
    g = states_after_pulses(DEV.v_set_ref, n, G_LO)
    closed = G_HI - (G_HI - G_LO) * (1 - DEV.alpha_set) ** np.arange(n + 1)
    assert np.allclose(g, closed, rtol=1e-5, atol=0)
    frac = (g - G_LO) / (G_HI - G_LO)
    half, ninety = int(np.argmax(frac >= 0.5)), int(np.argmax(frac >= 0.9))
    assert (half, ninety) == (math.ceil(math.log(0.5) / math.log(1 - DEV.alpha_set)),
                              math.ceil(math.log(0.1) / math.log(1 - DEV.alpha_set)))  # 11, 35
    # the published steps need 11 pulses to half the window and 31 to 90 % of it
    assert abs(half - published_pulse_count(SET_STEP, G_LO, G_LO + 0.5 * (G_HI - G_LO))) <= 1
    assert ninety == pytest.approx(published_pulse_count(SET_STEP, G_LO, G_LO + 0.9 * (G_HI - G_LO)), rel=0.15)


def test_reset_pulses_from_g_max_follow_the_closed_form_and_the_published_pulse_counts():
    n = 12
    g = states_after_pulses(DEV.v_reset_ref, n, G_HI)
    closed = G_LO + (G_HI - G_LO) * (1 - DEV.alpha_reset) ** np.arange(n + 1)
    assert np.allclose(g, closed, rtol=1e-5, atol=0)
    frac = (g - G_LO) / (G_HI - G_LO)
    half, ten = int(np.argmax(frac <= 0.5)), int(np.argmax(frac <= 0.1))
    assert (half, ten) == (3, 8)
    # the published steps need 2 pulses to half the window and 9 to within 10 % of g_min;
    # RESET steps are not proportional to G - g_min, so the model is allowed one pulse either way
    # at half the window and two near g_min
    assert abs(half - published_pulse_count(RESET_STEP, G_HI, G_LO + 0.5 * (G_HI - G_LO))) <= 1
    assert abs(ten - published_pulse_count(RESET_STEP, G_HI, G_LO + 0.1 * (G_HI - G_LO))) <= 2


def test_reset_is_stronger_than_set_as_published():
    """SET/RESET asymmetry: one pulse from each bound, and the bin-averaged published steps."""
    set_step = np.diff(states_after_pulses(DEV.v_set_ref, 1, G_LO))[0]
    reset_step = -np.diff(states_after_pulses(DEV.v_reset_ref, 1, G_HI))[0]
    assert reset_step / set_step == pytest.approx(DEV.alpha_reset / DEV.alpha_set, rel=1e-4)  # 4.4
    # model and published mean |step| over the ten bins: 25.2/5.76 = 4.4 against 23.3/6.07 = 3.8
    model = (DEV.alpha_reset * (BIN_CENTRES - G_LO)).sum() / (DEV.alpha_set * (G_HI - BIN_CENTRES)).sum()
    published = -RESET_STEP.sum() / SET_STEP.sum()
    assert published > 3
    assert model == pytest.approx(published, rel=0.20)


def _device_voltage(v_line, v_gate, g, source_at_device):
    """Voltage across a device of conductance g in series with the project's default selector.

    With source_at_device the transistor's source is the node it shares with the device (RESET:
    the source line is driven), so V_GS = v_gate - V_device, solved by fixed-point iteration.
    """
    v_dev = v_line
    for _ in range(60):
        v_gs = v_gate - v_dev if source_at_device else v_gate
        v_dev = v_line / (1 + g * NmosSelector(v_gate=v_gs).on_resistance)
    return v_dev


def test_reference_pulses_are_the_line_pulses_minus_the_selector_drop():
    g_mid = (G_LO + G_HI) / 2
    v_set = _device_voltage(PROG.v_set_bl, PROG.v_set_gate, g_mid, source_at_device=False)
    v_reset = _device_voltage(PROG.v_reset_sl, PROG.v_reset_gate, g_mid, source_at_device=True)
    assert DEV.v_set_ref == pytest.approx(v_set, rel=0.01)
    assert -DEV.v_reset_ref == pytest.approx(v_reset, rel=0.01)
    assert DEV.v_set_ref < PROG.v_set_bl and -DEV.v_reset_ref < PROG.v_reset_sl
    # the switching thresholds sit between the read voltage and the reference pulses
    assert PROG.v_read < DEV.read_limit
    assert DEV.v_set_th < DEV.v_set_ref and DEV.v_reset_ref < DEV.v_reset_th


def test_verify_tolerance_separates_32_levels():
    """32 non-overlapping programmed states in the window need a band of at most half their spacing."""
    spacing = (DEV.g_max - DEV.g_min) / 31
    assert PROG.verify_tolerance <= spacing / 2
    assert PROG.verify_tolerance >= 0.4 * spacing  # not tighter than needed: about half the spacing


@pytest.mark.parametrize("field", ["v_set_bl", "t_set", "v_reset_gate", "v_read", "verify_tolerance"])
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_programming_conditions_reject_non_physical_values(field, bad):
    kwargs = {f: getattr(PROG, f) for f in PROG.__dataclass_fields__}
    kwargs[field] = bad
    with pytest.raises(InvalidParameterError, match=field):
        ProgrammingConditions(**kwargs)
