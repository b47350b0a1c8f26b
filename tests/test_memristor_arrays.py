"""Crossbars of memristors: reads use the present state on every backend, and never switch it."""

import numpy as np
import pytest

import spicelim
from spicelim.devices import VTEAM, SoftBoundsRRAM, Yakopcic
from spicelim.errors import InvalidParameterError


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def random_state(dev, shape, rng):
    lo, hi = dev.state_bounds
    return rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), shape)


def test_state_sets_the_chord_conductance(rng):
    dev = VTEAM(iv="exponential")
    xb = spicelim.Crossbar(3, 4, device=dev)
    w = random_state(dev, (3, 4), rng)
    xb.set_state(w)
    # exponential VTEAM: R = r_on exp(ln(r_off/r_on) (w - w_on)/(w_off - w_on)), by hand
    r = dev.r_on * np.exp(np.log(dev.r_off / dev.r_on) * (w - dev.w_on) / (dev.w_off - dev.w_on))
    np.testing.assert_allclose(xb.conductance, 1 / r, rtol=1e-9)
    v = rng.uniform(-0.2, 0.2, (2, 3))
    np.testing.assert_allclose(xb.read(v, backend="ideal"), v @ (1 / r), rtol=1e-9)


def test_device_arrays_reject_bad_state_and_switching_reads(rng):
    dev = SoftBoundsRRAM()
    xb = spicelim.Crossbar(2, 2, r_row=1.0, r_col=1.0, device=dev)
    with pytest.raises(InvalidParameterError, match="set_state"):
        xb.set_conductance(np.full((2, 2), 1e-5))
    with pytest.raises(InvalidParameterError, match="states must lie"):
        xb.set_state(np.full((2, 2), 1.0))  # 1 S is outside [g_min, g_max]
    xb.set_state(np.full((2, 2), 1e-5))
    with pytest.raises(InvalidParameterError, match="would switch"):
        xb.read(np.array([0.9, 0.1]), backend="fast")  # above the 0.8 V SET threshold
    with pytest.raises(InvalidParameterError, match="would switch"):
        xb.read_cell(0, 0, v_read=-1.0)
    with pytest.raises(InvalidParameterError, match="linear cells"):
        spicelim.Crossbar(2, 2).set_state(np.zeros((2, 2)))


@pytest.mark.spice
@pytest.mark.parametrize("dev,tol", [(VTEAM(iv="linear"), 1e-6), (VTEAM(iv="exponential"), 1e-6),
                                     (SoftBoundsRRAM(), 2e-4), (Yakopcic(), 1e-4)])
def test_spice_verilog_a_cells_match_fast(spice_backend, rng, dev, tol):
    """Passive arrays of Verilog-A devices in ngspice against the fast model's chord conductance.

    VTEAM's I-V is linear in V, so the two agree exactly; the sinh I-V of the soft-bounds and
    Yakopcic models departs from the chord at 0.2 V by (V / v_nl)^2 / 6 and (b V)^2 / 6 at most.
    """
    xb = spicelim.Crossbar(6, 5, r_row=2.5, r_col=2.5, r_source=10.0, device=dev, backends={"spice": spice_backend})
    xb.set_state(random_state(dev, (6, 5), rng))
    lim = 0.95 * min(0.2, dev.read_limit)
    v = rng.uniform(-lim, lim, (3, 6))
    u = rng.uniform(-lim, lim, (3, 5))
    assert rel_err(xb.read(v, backend="spice"), xb.read(v, backend="fast")) < tol
    assert rel_err(xb.read(u, backend="spice", transpose=True), xb.read(u, backend="fast", transpose=True)) < tol
    a = xb.read_cell(1, 2, v_read=lim, scheme="V/3", backend="spice")
    b = xb.read_cell(1, 2, v_read=lim, scheme="V/3", backend="fast")
    assert a.selected_current == pytest.approx(b.selected_current, rel=max(tol, 1e-9))


@pytest.mark.spice
def test_without_openvaf_arrays_use_the_behavioural_twin(monkeypatch, tmp_path, rng):
    from spicelim.spice import SpiceBackend, osdi

    def missing(*args, **kwargs):
        raise osdi.OpenVafMissing("openvaf-r is not available")

    monkeypatch.setattr("spicelim.spice.backend.compile_va", missing)
    backend = SpiceBackend(run_dir=tmp_path)
    dev = VTEAM()
    xb = spicelim.Crossbar(3, 3, r_row=1.0, r_col=1.0, device=dev, backends={"spice": backend})
    xb.set_state(random_state(dev, (3, 3), rng))
    v = rng.uniform(-0.2, 0.2, 3)
    with pytest.warns(UserWarning, match="behavioural twin"):
        got = xb.read(v, backend="spice")
    assert rel_err(got, xb.read(v, backend="fast")) < 1e-6
    backend.close()
