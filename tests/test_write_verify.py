"""Write-verify and open-loop programming of conductance targets."""

import numpy as np
import pytest

from spicelim import Crossbar, Variability
from spicelim.devices.presets import YAO2020_PROGRAMMING, yao2020_taox_hfox
from spicelim.errors import InvalidParameterError
from spicelim.programming import (
    WritePulses,
    measure_conductance,
    program_open_loop,
    write_verify,
)

DEV = yao2020_taox_hfox()
PULSES = WritePulses.from_conditions(YAO2020_PROGRAMMING)
TOL = YAO2020_PROGRAMMING.verify_tolerance


def test_write_verify_32x32_1t1r_reaches_targets_and_reports_stuck_cells():
    """At least 99 % of healthy cells end within tolerance; stuck cells are given up on, not looped on."""
    var = Variability(c2c=0.1, d2d={"alpha_set": 0.1, "alpha_reset": 0.1}, stuck_on=0.005, stuck_off=0.005, seed=3)
    rng = np.random.default_rng(1)
    with Crossbar(32, 32, cell="1T1R", r_row=1.0, r_col=1.0, device=DEV, variability=var, backend="fast") as xb:
        xb.set_state(rng.uniform(DEV.g_min, DEV.g_max, (32, 32)))
        target = rng.uniform(3e-6, 17e-6, (32, 32))
        budget = 60
        rep = write_verify(xb, target, PULSES, TOL, max_pulses=budget, progress=False)
        measured = measure_conductance(xb, 0.2, "fast")
    stuck = rep.stuck != 0
    assert stuck.sum() >= 4
    assert rep.healthy_success_rate >= 0.99
    np.testing.assert_allclose(rep.conductance, measured)  # the report holds what a final read measures
    assert np.all(np.abs(rep.error[rep.converged]) <= TOL)
    # every stuck cell that was outside its band was reported unresponsive after a few pulses
    needs = stuck & (np.abs(rep.error) > TOL)
    assert needs.any() and np.all(rep.unresponsive[needs])
    assert np.all(rep.pulses[rep.unresponsive] <= 12)  # 8 idle pulses; neighbours' IR drop may restart the count
    assert not np.any(rep.unresponsive & ~stuck)
    assert rep.pulses.max() <= budget and rep.iterations <= budget


def test_write_verify_with_an_impossible_tolerance_stops_at_the_budget():
    rng = np.random.default_rng(2)
    with Crossbar(4, 4, cell="1T1R", device=DEV, backend="fast") as xb:
        xb.set_state(np.full((4, 4), 4e-6))
        rep = write_verify(xb, rng.uniform(5e-6, 15e-6, (4, 4)), PULSES, 1e-12, max_pulses=12, progress=False)
    assert rep.iterations == 12 and np.all(rep.pulses == 12)
    assert not rep.converged.any()


def test_open_loop_lands_near_targets_without_noise_and_worse_with_it():
    rng = np.random.default_rng(4)
    s0 = rng.uniform(DEV.g_min, DEV.g_max, (6, 6))
    target = rng.uniform(3e-6, 17e-6, (6, 6))
    errors = {}
    for label, var in (("clean", None), ("noisy", Variability(c2c=0.3, d2d={"alpha_set": 0.3}, seed=1))):
        with Crossbar(6, 6, cell="1T1R", device=DEV, variability=var, backend="fast") as xb:
            xb.set_state(s0)
            rep = program_open_loop(xb, target, PULSES, TOL, max_pulses=60)
            errors[label] = np.abs(rep.error)
    # nominal cell, no wires: the error is the pulse quantisation, at most half a step (RESET step <= 0.28 x 18 uS)
    assert errors["clean"].max() < 0.5 * DEV.alpha_reset * (DEV.g_max - DEV.g_min) + 0.05e-6
    assert errors["noisy"].mean() > errors["clean"].mean()


def test_write_verify_finds_stuck_cells_through_read_noise():
    var = Variability(read_noise=0.01, stuck_on=0.1, stuck_off=0.1, seed=6)
    rng = np.random.default_rng(3)
    with Crossbar(8, 8, cell="1T1R", device=DEV, variability=var, backend="fast") as xb:
        xb.set_state(np.full((8, 8), 1e-5))
        target = rng.uniform(4e-6, 16e-6, (8, 8))
        # read noise of 1 % is ~0.1 uS here: count a response only above 0.6 uS (cumulative, not per pulse)
        rep = write_verify(xb, target, PULSES, 0.4e-6, max_pulses=60, min_change=0.6e-6, progress=False)
    stuck = rep.stuck != 0
    needs = stuck & (np.abs(rep.error) > 0.4e-6)
    assert needs.sum() >= 4 and np.all(rep.unresponsive[needs]) and not np.any(rep.unresponsive & ~stuck)
    assert rep.healthy_success_rate >= 0.8  # the final read is noisy too: cells near the band edge flicker out


def test_targets_are_what_a_read_measures():
    """A 1T1R cell reads as the device in series with the selector: g_max itself is out of reach."""
    with Crossbar(2, 2, cell="1T1R", device=DEV, backend="fast") as xb:
        xb.set_state(np.full((2, 2), 5e-6))
        top = 1 / (1 / DEV.g_max + xb.params.selector.on_resistance)
        with pytest.raises(InvalidParameterError, match="window"):
            write_verify(xb, np.full((2, 2), DEV.g_max * 0.999), PULSES, TOL, progress=False)
        rep = program_open_loop(xb, np.full((2, 2), 0.6 * top), PULSES, TOL, max_pulses=40)
        np.testing.assert_allclose(rep.conductance, measure_conductance(xb, 0.2, "fast"))


def test_programming_rejects_bad_targets_and_options():
    with Crossbar(2, 2, cell="1T1R", device=DEV, backend="fast") as xb:
        xb.set_state(np.full((2, 2), 5e-6))
        with pytest.raises(InvalidParameterError, match="window"):
            write_verify(xb, np.full((2, 2), 50e-6), PULSES, TOL, progress=False)
        with pytest.raises(InvalidParameterError, match="v_read"):
            write_verify(xb, np.full((2, 2), 5e-6), PULSES, TOL, v_read=0.0, progress=False)
        with pytest.raises(InvalidParameterError, match="tolerance"):
            write_verify(xb, np.full((2, 2), 5e-6), PULSES, 0.0, progress=False)
        with pytest.raises(InvalidParameterError, match="max_pulses"):
            write_verify(xb, np.full((2, 2), 5e-6), PULSES, TOL, max_pulses=0, progress=False)
    with Crossbar(2, 2) as xb:
        with pytest.raises(InvalidParameterError, match="memristor"):
            write_verify(xb, np.full((2, 2), 5e-6), PULSES, TOL, progress=False)
    with pytest.raises(InvalidParameterError, match="reset_amplitude"):
        WritePulses(reset_amplitude=1.0)


def _deterministic_run(backend, backoff, spice=None):
    rng = np.random.default_rng(5)
    with Crossbar(3, 3, cell="1T1R", r_row=1.0, r_col=1.0, device=DEV, backends=None if spice is None else {"spice": spice}) as xb:
        xb.set_state(np.full((3, 3), 4e-6))
        target = rng.uniform(5e-6, 12e-6, (3, 3))
        return write_verify(xb, target, PULSES, TOL, max_pulses=40, backend=backend, backoff=backoff, progress=False)


def test_identical_pulses_can_cycle_around_a_target_and_backoff_breaks_the_cycle():
    """Without noise, SET steps of ~1 uS and RESET steps of ~1.8 uS cannot land in a +-0.29 uS band."""
    identical = _deterministic_run("fast", 1.0)
    assert not identical.converged.all() and identical.iterations == 40
    adaptive = _deterministic_run("fast", 0.8)
    assert adaptive.converged.all() and adaptive.iterations < 40


@pytest.mark.spice
def test_write_verify_in_spice(spice_backend):
    rep = _deterministic_run("spice", 0.8, spice_backend)
    assert rep.converged.all()
    assert rep.pulses.min() >= 1
