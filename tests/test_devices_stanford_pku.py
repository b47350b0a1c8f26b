"""Stanford-PKU gap model: the published equations by hand, SET/RESET polarity, read safety, and its
three implementations (Verilog-A through OSDI, behavioural twin, numpy)."""

import math

import numpy as np
import pytest
from test_devices_vteam import pulse_train

from spicelim.devices import StanfordPKU, simulate
from spicelim.errors import InvalidParameterError

DEV = StanfordPKU()
SPAN = DEV.g_max - DEV.g_min
K_B, Q = 1.380649e-23, 1.602176634e-19  # J/K, C


def published_rate(v, g, temperature=300.0):
    """dg/dt of the v1.0.0 release above its minimum field, with its default parameters (m/s)."""
    kt_q = K_B * temperature / Q
    gamma = 16.0 - 0.8 * (g / 1e-9) ** 3
    return -10.0 * math.exp(-0.6 / kt_q) * math.sinh(gamma * 0.25e-9 * v / (12e-9 * kt_q))


def published_current(v, g):
    return 1e-3 * math.exp(-g / 0.25e-9) * math.sinh(v / 0.25)


# (V, g, dg/dt in m/s, I in A): worked out from the formulas above with a calculator. Every point
# lies well above the minimum field (gate = 1 within 1e-7) and 0.2 of the range from the bound
# the gap moves toward (window = 1 within 1e-17).
HAND = [
    (1.3, 1.0e-9, -3.4285402685e-03, 1.6600079417e-03),
    (-1.25, 0.8e-9, 2.7536798363e-03, -3.0246864054e-03),
    (1.5, 1.2e-9, -1.9647888454e-02, 1.6600482616e-03),
    (-1.4, 0.5e-9, 2.5708145260e-02, -1.8298866996e-02),
]


@pytest.mark.parametrize("v,g,rate,current", HAND)
def test_equations_match_the_published_formula_by_hand(v, g, rate, current):
    assert published_rate(v, g) == pytest.approx(rate, rel=1e-9)
    assert published_current(v, g) == pytest.approx(current, rel=1e-9)
    assert DEV.state_rate(np.array([v]), np.array([g]))[0] == pytest.approx(rate, rel=1e-6)
    assert DEV.current(v, g) == pytest.approx(current, rel=1e-12)


def test_read_currents_by_hand():
    """I = i0 exp(-g/g0) sinh(V/v0): about 540 ohm at g_min and 218 kohm at g_max at 0.1 V."""
    assert DEV.current(0.1, 1e-9) == pytest.approx(7.5231912721e-06, rel=1e-9, abs=0)
    assert DEV.current(0.1, DEV.g_min) == pytest.approx(1.8456291706e-04, rel=1e-9)
    assert DEV.current(-0.2, DEV.g_max) == pytest.approx(-9.8915037161e-07, rel=1e-9, abs=0)
    assert 1 / DEV.conductance(DEV.g_max) == pytest.approx(218586, rel=1e-5)


def test_temperature_enters_through_kt():
    hot = StanfordPKU(temperature=350.0)
    assert float(hot.state_rate(1.3, 1e-9)) == pytest.approx(published_rate(1.3, 1e-9, 350.0), rel=1e-6)
    # at high field the rate is Arrhenius in the lowered barrier ea - gamma a0 V / tox = 0.188 eV
    ratio = float(hot.state_rate(1.3, 1e-9)) / float(DEV.state_rate(1.3, 1e-9))
    barrier = 0.6 - 15.2 * 0.25e-9 * 1.3 / 12e-9
    assert ratio == pytest.approx(math.exp(barrier * Q / K_B * (1 / 300 - 1 / 350)), rel=1e-3)


def test_set_closes_the_gap_and_reset_opens_it():
    g = np.linspace(DEV.g_min + 0.05 * SPAN, DEV.g_max - 0.05 * SPAN, 25)
    for amplitude in (1.2, 1.4, 2.0):
        assert np.all(DEV.state_rate(np.full_like(g, amplitude), g) < 0)  # SET: V(top) > V(bottom)
        assert np.all(DEV.state_rate(np.full_like(g, -amplitude), g) > 0)  # RESET
    # Pulses: SET raises the conductance pulse by pulse, RESET lowers it.
    t, v = pulse_train([1.25] * 4 + [-1.2] * 4, width=5e-8, gap=5e-8, edge=2.5e-9)
    res = simulate(DEV, t, v, state0=1.2e-9, backend="fast", n_points=1000)
    after = np.interp(t[4::4][:8] + 2.5e-8, res.t, res.state)  # the gap in the middle of the pause after each pulse
    steps = np.diff(np.concatenate([[1.2e-9], after]))
    assert np.all(steps[:4] < -0.01 * SPAN) and np.all(steps[4:] > 0.01 * SPAN)


def test_bounds_hold_under_long_strong_pulses():
    for amplitude, bound in ((1.6, DEV.g_min), (-1.6, DEV.g_max)):
        t, v = pulse_train([amplitude], width=1e-6, gap=1e-7, edge=1e-9)
        res = simulate(DEV, t, v, state0=0.5 * (DEV.g_min + DEV.g_max), backend="fast", n_points=500)
        assert res.state.min() >= DEV.g_min - 1e-6 * SPAN and res.state.max() <= DEV.g_max + 1e-6 * SPAN
        assert res.state[-1] == pytest.approx(bound, abs=0.01 * SPAN)


def test_read_limit_keeps_the_state_within_a_thousandth_of_its_range_per_second():
    g = np.linspace(DEV.g_min, DEV.g_max, 301)
    lim = DEV.read_limit
    assert 0.5 < lim < 1.05  # below the minimum-field voltage f_min tox / gamma(g_min) = 1.05 V
    for sign in (1, -1):
        drift = np.max(np.abs(DEV.state_rate(np.full_like(g, sign * lim), g))) * 1.0
        assert drift <= 1e-3 * SPAN
        assert np.max(np.abs(DEV.state_rate(np.full_like(g, sign * (lim + 0.02)), g))) > 1e-3 * SPAN  # tight
    assert np.max(np.abs(DEV.state_rate(np.full_like(g, 0.2), g))) < 1e-40  # a 0.2 V read moves nothing


def test_rates_stay_finite_at_absurd_voltages():
    g = np.linspace(DEV.g_min, DEV.g_max, 7)
    assert np.all(np.isfinite(DEV.state_rate(np.full_like(g, 60.0), g)))
    assert np.all(np.isfinite(DEV.state_rate(np.full_like(g, -60.0), g)))


@pytest.fixture(scope="module")
def ngspice(tmp_path_factory):
    """One ngspice worker and one OSDI cache folder for this module's ngspice runs."""
    from spicelim.spice.worker import NgspiceWorker

    worker = NgspiceWorker()
    yield {"worker": worker, "cache_dir": tmp_path_factory.mktemp("osdi")}
    worker.close()


# SET steps, gradual RESET steps, then stronger RESET pulses that drive the gap into the g_max window.
T_TRAIN, V_TRAIN = pulse_train([1.25] * 6 + [-1.2] * 4 + [-1.5] * 4, width=5e-8, gap=5e-8, edge=2.5e-9)
G0 = 1.2e-9


@pytest.mark.spice
@pytest.mark.parametrize("twin", ["verilog-a", "behavioural"])
def test_spice_agrees_with_numpy(twin, ngspice):
    ref = simulate(DEV, T_TRAIN, V_TRAIN, state0=G0, backend="fast", n_points=4000)
    res = simulate(DEV, T_TRAIN, V_TRAIN, state0=G0, backend="spice", twin=twin, n_points=4000, **ngspice)
    assert res.backend == f"spice/{twin}"
    assert np.ptp(ref.state) > 0.3 * SPAN  # the pulses really move the gap
    assert ref.state[-1] > DEV.g_max - 0.01 * SPAN  # and end in the window at g_max
    ref_state = np.interp(res.t, ref.t, ref.state)
    assert np.max(np.abs(res.state - ref_state)) < 0.01 * SPAN
    assert abs(res.state[-1] - ref.state[-1]) < 1e-3 * SPAN  # the same window at the bound
    ref_i = DEV.current(res.v, ref_state)
    assert np.max(np.abs(res.current - ref_i)) < 0.01 * np.max(np.abs(ref_i))
    # I = i0 exp(-g/g0) sinh(V/v0) at the simulated gap, within ngspice's Newton tolerance
    np.testing.assert_allclose(res.current, DEV.current(res.v, res.state), rtol=1e-3, atol=1e-12)


# (V, g): points where the smooth parts of the model are active, so a slip in any of them shows.
PROBES = [
    (-1.15, 1.2e-9),                     # minimum-field gate half open (F = 1.0006 f_min)
    (-1.2, 1.3e-9),                      # gate at 0.85
    (1.4, DEV.g_max),                    # SET from the full gap, gate at 0.64
    (-1.5, DEV.g_max - 0.01 * SPAN),     # RESET window tanh(1) = 0.76
    (1.3, DEV.g_min + 0.015 * SPAN),     # SET window tanh(1.5) = 0.91
]


@pytest.mark.spice
@pytest.mark.parametrize("twin", ["verilog-a", "behavioural"])
def test_spice_rate_matches_numpy_where_gate_and_windows_act(twin, ngspice):
    """Hold V for the time that moves the gap by 2e-3 of its range: the increments agree to 1e-4."""
    for v, g in PROBES:
        tau = 2e-3 * SPAN / abs(float(DEV.state_rate(v, g)))
        t, volts = np.array([0.0, 1e-12, tau]), np.full(3, v)
        res = simulate(DEV, t, volts, state0=g, backend="spice", twin=twin, n_points=200, **ngspice)
        ref = simulate(DEV, t, volts, state0=g, backend="fast", n_points=200)
        step = ref.state[-1] - ref.state[0]
        assert abs(step) > 1e-3 * SPAN
        assert res.state[-1] - res.state[0] == pytest.approx(step, rel=1e-4, abs=0), (v, g)


@pytest.mark.parametrize("kwargs,match", [
    (dict(g_min=1.7e-9, g_max=1.7e-9), "g_max"),
    (dict(g_min=1e-9, g_max=0.5e-9), "g_max"),
    (dict(g_min=0.0), "g_min"),
    (dict(tox=-12e-9), "tox must be > 0"),
    (dict(tox=1e-9), "g_max .* must be < tox"),
    (dict(temperature=0.0), "temperature"),
    (dict(temperature=-300.0), "temperature"),
    (dict(i0=0.0), "i0"),
    (dict(g0=-1e-10), "g0"),
    (dict(v0=0.0), "v0"),
    (dict(vel0=-10.0), "vel0"),
    (dict(ea=0.0), "ea"),
    (dict(a0=0.0), "a0"),
    (dict(g1=0.0), "g1"),
    (dict(beta=-0.1), "beta"),
    (dict(beta=4.0), "gamma"),  # gamma = 16 - 4 (1.7)^3 < 0 at g_max
    (dict(f_min=0.0), "f_min"),
    (dict(gate_width=0.0), "gate_width"),
    (dict(window_width=0.5), "window_width"),
    (dict(i0=float("nan")), "finite"),
])
def test_rejects_non_physical_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        StanfordPKU(**kwargs)
