"""VTEAM: Verilog-A (OpenVAF/OSDI), behavioural twin and numpy against the published equations."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import spicelim
from spicelim.devices import VTEAM, simulate
from spicelim.errors import InvalidParameterError
from spicelim.spice import osdi

DEV = VTEAM(r_on=1e3, r_off=1e5, w_on=0.0, w_off=3e-9, k_on=-2e-5, k_off=2e-5, alpha_on=3, alpha_off=3,
            v_on=-0.3, v_off=0.3, a_on=0.0, a_off=3e-9, w_c=1e-10)


def pulse_train(amplitudes, width=1e-6, gap=1e-6, edge=1e-8):
    t, v = [0.0], [0.0]
    for a in amplitudes:
        t0 = t[-1] + gap
        t += [t0, t0 + edge, t0 + edge + width, t0 + 2 * edge + width]
        v += [0.0, a, a, 0.0]
    t.append(t[-1] + gap)
    v.append(0.0)
    return np.array(t), np.array(v)


def published_vteam(dev, t, v, w0):
    """Kvatinsky et al. 2015, equations (1)-(4), linear I-V, integrated with BDF (written independently)."""
    def dwdt(tt, w):
        vv = np.interp(tt, t, v)
        if vv > dev.v_off:
            return [dev.k_off * (vv / dev.v_off - 1) ** dev.alpha_off * np.exp(-np.exp((w[0] - dev.a_off) / dev.w_c))]
        if vv < dev.v_on:
            return [dev.k_on * (vv / dev.v_on - 1) ** dev.alpha_on * np.exp(-np.exp(-(w[0] - dev.a_on) / dev.w_c))]
        return [0.0]
    sol = solve_ivp(dwdt, (t[0], t[-1]), [w0], method="BDF", rtol=1e-9, atol=1e-16, max_step=5e-9, dense_output=True)
    return sol.sol


T, V = pulse_train([1.0] * 4 + [-1.0] * 4)
W0 = 1.5e-9


def test_fast_matches_published_equations():
    ref = published_vteam(DEV, T, V, W0)
    res = simulate(DEV, T, V, state0=W0, backend="fast")
    span = DEV.w_off - DEV.w_on
    assert np.max(np.abs(res.state - ref(res.t)[0])) < 0.01 * span
    assert res.state.max() - res.state.min() > 0.3 * span  # the pulses really move the state


@pytest.mark.spice
@pytest.mark.parametrize("twin", ["verilog-a", "behavioural"])
def test_spice_matches_published_equations_and_numpy(twin, tmp_path):
    ref = published_vteam(DEV, T, V, W0)
    res = simulate(DEV, T, V, state0=W0, backend="spice", twin=twin, cache_dir=tmp_path)
    assert res.backend == f"spice/{twin}"
    span = DEV.w_off - DEV.w_on
    assert np.max(np.abs(res.state - ref(res.t)[0])) < 0.01 * span
    fast = simulate(DEV, T, V, state0=W0, backend="fast")
    fast_state = np.interp(res.t, fast.t, fast.state)
    assert np.max(np.abs(res.state - fast_state)) < 0.01 * span
    # Currents agree within 1 % of the largest current during the pulses.
    fast_i = DEV.current(res.v, fast_state)
    assert np.max(np.abs(res.current - fast_i)) < 0.01 * np.max(np.abs(fast_i))
    # Ohm's law at the device, i = v / R(w), within ngspice's Newton tolerance (reltol = 1e-3).
    np.testing.assert_allclose(res.current, DEV.current(res.v, res.state), rtol=1e-3, atol=1e-12)


@pytest.mark.spice
def test_verilog_a_compile_is_cached(tmp_path):
    first = osdi.compile_va(DEV.va_file, tmp_path)
    mtime = first.stat().st_mtime_ns
    assert osdi.compile_va(DEV.va_file, tmp_path) == first and first.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


@pytest.mark.spice
def test_compile_error_shows_compiler_message(tmp_path):
    bad = tmp_path / "broken.va"
    bad.write_text('`include "disciplines.vams"\nmodule broken(p, n); inout p, n; electrical p, n;\n'
                   "analog begin I(p, n) <+ V(p, n) / undefined_thing; end\nendmodule\n")
    with pytest.raises(osdi.OsdiCompileError, match="undefined_thing"):
        osdi.compile_va(bad, tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*.osdi"))


@pytest.mark.spice
def test_without_openvaf_the_twin_is_used(monkeypatch, tmp_path):
    def missing():
        raise osdi.OpenVafMissing("openvaf-r is not available")
    monkeypatch.setattr(osdi, "openvaf_command", missing)
    with pytest.warns(UserWarning, match="behavioural twin"):
        res = simulate(DEV, T[:6], V[:6], state0=W0, backend="spice")
    assert res.backend == "spice/behavioural"
    with pytest.raises(osdi.OpenVafMissing):
        simulate(DEV, T[:6], V[:6], state0=W0, backend="spice", twin="verilog-a")


@pytest.mark.parametrize("kwargs,match", [
    (dict(r_on=1e5, r_off=1e3), "r_off"),
    (dict(w_on=3e-9, w_off=1e-9), "w_off"),
    (dict(k_on=1e-5), "k_on"),
    (dict(k_off=-1e-5), "k_off"),
    (dict(v_on=0.2), "v_on"),
    (dict(w_c=0.0), "w_c"),
    (dict(alpha_on=-1), "alpha"),
    (dict(iv="quadratic"), "iv"),
    (dict(r_on=float("nan")), "finite"),
])
def test_vteam_rejects_non_physical_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        VTEAM(**kwargs)


@pytest.mark.parametrize("t,v,state0,err", [
    (np.array([0.0, 1e-6]), np.array([0.0]), 1e-9, spicelim.ShapeError),
    (np.array([0.0, 1e-6, 5e-7]), np.zeros(3), 1e-9, InvalidParameterError),  # time goes backwards
    (np.array([0.0, 1e-6]), np.array([0.0, np.nan]), 1e-9, InvalidParameterError),
    (np.array([0.0, 1e-6]), np.zeros(2), 4e-9, InvalidParameterError),  # state outside [w_on, w_off]
])
def test_simulate_rejects_bad_input(t, v, state0, err):
    for backend in ("fast", "spice"):
        with pytest.raises(err):
            simulate(DEV, t, v, state0=state0, backend=backend)
