"""Seeded non-idealities: spread, cycle-to-cycle noise, stuck cells, read noise and finite levels."""

import numpy as np
import pytest

from spicelim import Crossbar, Variability, load_state, save_state
from spicelim.devices import SoftBoundsRRAM
from spicelim.errors import InvalidParameterError
from spicelim.programming import (
    PulseSchedule,
    PulseTiming,
    WritePulses,
    array_update,
    write_verify,
)

DEV = SoftBoundsRRAM()
SPAN = DEV.g_max - DEV.g_min


def programmed(var, counts, s0=8e-6, shape=(6, 6), backend="fast", spice=None):
    with Crossbar(*shape, device=DEV, variability=var, backends=None if spice is None else {"spice": spice}) as xb:
        xb.set_state(np.full(shape, s0))
        sched = PulseSchedule.from_slots(array_update(shape, "0T1R", counts, 1.5, -1.5, "V/3"), PulseTiming())
        return xb.apply_pulses(sched, backend=backend).state, xb.stuck.copy()


def test_same_seed_same_array_other_seed_other_array():
    counts = np.tile([2, -1, 0, 1, -2, 0], (6, 1))
    var = Variability(d2d={"alpha_set": 0.3}, c2c=0.2, stuck_on=0.1, stuck_off=0.1, seed=5)
    a, stuck_a = programmed(var, counts)
    b, stuck_b = programmed(var, counts)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(stuck_a, stuck_b)
    c, _ = programmed(Variability(d2d={"alpha_set": 0.3}, c2c=0.2, stuck_on=0.1, stuck_off=0.1, seed=6), counts)
    assert not np.array_equal(a, c)


def test_stuck_cells_never_move_and_sit_at_their_bound():
    counts = np.full((6, 6), 3)
    counts[::2] = -3
    out, stuck = programmed(Variability(stuck_on=0.2, stuck_off=0.2, seed=1), counts)
    assert 0 < np.sum(stuck == 1) and 0 < np.sum(stuck == -1)
    np.testing.assert_array_equal(out[stuck == 1], DEV.g_max)
    np.testing.assert_array_equal(out[stuck == -1], DEV.g_min)
    healthy, _ = programmed(None, counts)
    np.testing.assert_allclose(out[stuck == 0], healthy[stuck == 0], rtol=1e-9)  # step control sees every cell


def test_stuck_fractions_are_drawn_as_asked():
    with Crossbar(100, 100, device=DEV, variability=Variability(stuck_on=0.02, stuck_off=0.05, seed=2)) as xb:
        assert np.mean(xb.stuck == 1) == pytest.approx(0.02, abs=0.005)
        assert np.mean(xb.stuck == -1) == pytest.approx(0.05, abs=0.007)


def test_c2c_noise_scales_the_change_and_leaves_untouched_cells_alone():
    counts = np.zeros((40, 40), dtype=int)
    counts[:, :20] = 1
    clean, _ = programmed(None, counts, shape=(40, 40))
    noisy, _ = programmed(Variability(c2c=0.25, seed=3), counts, shape=(40, 40))
    change, noisy_change = clean - 8e-6, noisy - 8e-6
    assert np.all(noisy_change[:, 20:] == 0)
    ratio = noisy_change[:, :20] / change[:, :20]
    assert ratio.mean() == pytest.approx(1.0, abs=0.03)  # 800 draws: standard error 0.009
    assert ratio.std() == pytest.approx(0.25, rel=0.1)


def test_d2d_spread_is_lognormal_per_cell_and_changes_the_response():
    var = Variability(d2d={"alpha_set": 0.2}, seed=4)
    with Crossbar(60, 60, device=DEV, variability=var) as xb:
        alpha = xb.variation.cell_params["alpha_set"]
        assert np.std(np.log(alpha / DEV.alpha_set)) == pytest.approx(0.2, rel=0.05)
        assert xb.cell_device.alpha_set.shape == (60, 60)
    # the pulse response follows each cell's own alpha: one reference SET pulse moves G by alpha_ij of its distance
    counts = np.ones((4, 4), dtype=int)
    timing = PulseTiming(width=DEV.t_ref, rise=1e-13, fall=1e-13)
    with Crossbar(4, 4, device=DEV, variability=var) as xb:
        xb.set_state(np.full((4, 4), 5e-6))
        out = xb.apply_pulses(PulseSchedule.from_slots(array_update((4, 4), "0T1R", counts, DEV.v_set_ref,
                                                                    DEV.v_reset_ref, "V/3"), timing), backend="fast").state
        alpha = xb.variation.cell_params["alpha_set"]
    # later rows' pulses also disturb earlier rows at V/3 = 0.5 V < v_set_th: no disturb
    np.testing.assert_allclose(out, DEV.g_max - (DEV.g_max - 5e-6) * (1 - alpha), rtol=1e-5)


def test_a_spread_that_breaks_a_cell_is_reported():
    with pytest.raises(InvalidParameterError, match="non-physical"):
        Crossbar(10, 10, device=SoftBoundsRRAM(alpha_set=0.9), variability=Variability(d2d={"alpha_set": 0.5}))
    with pytest.raises(InvalidParameterError, match="no numeric parameter"):
        Crossbar(2, 2, device=DEV, variability=Variability(d2d={"g_middle": 0.1}))


def test_finite_levels_snap_states():
    with Crossbar(3, 3, device=DEV, variability=Variability(levels=5)) as xb:
        xb.set_state(np.full((3, 3), DEV.g_min + 0.3 * SPAN))
        np.testing.assert_allclose(xb.state, DEV.g_min + 0.25 * SPAN)
        sched = PulseSchedule.from_slots(array_update((3, 3), "0T1R", np.ones((3, 3), int), 1.5, -1.5), PulseTiming())
        out = xb.apply_pulses(sched, backend="fast").state
        x = (out - DEV.g_min) / SPAN
        np.testing.assert_allclose(x * 4, np.round(x * 4), atol=1e-9)


def test_read_noise_has_the_stated_standard_deviation():
    g = np.random.default_rng(0).uniform(1e-6, 2e-5, (16, 8))
    v = np.random.default_rng(1).uniform(0, 0.2, 16)
    with Crossbar(16, 8, variability=Variability(read_noise=0.05, seed=9)) as xb:
        xb.set_conductance(g)
        reads = xb.read(np.tile(v, (4000, 1)), backend="ideal")
    want_std = 0.05 * np.sqrt((v**2) @ g**2)
    np.testing.assert_allclose(reads.mean(axis=0), v @ g, rtol=3e-3)
    np.testing.assert_allclose(reads.std(axis=0), want_std, rtol=0.06)


@pytest.mark.parametrize("kwargs,match", [
    (dict(c2c=-0.1), "c2c"), (dict(read_noise=2.0), "read_noise"), (dict(stuck_on=0.7, stuck_off=0.5), "exceed"),
    (dict(levels=1), "levels"), (dict(seed=-1), "seed"), (dict(d2d={"g_max": -0.2}), "d2d"),
    (dict(d2d="g_max"), "d2d"), (dict(relaxation=1.5), "relaxation"), (dict(relaxation=-0.01), "relaxation"),
])
def test_bad_variability(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Variability(**kwargs)


def test_device_effects_need_a_device():
    with pytest.raises(InvalidParameterError, match="memristor device"):
        Crossbar(2, 2, variability=Variability(c2c=0.1))
    with pytest.raises(InvalidParameterError, match="memristor device"):
        Crossbar(2, 2, variability=Variability(relaxation=0.1))
    Crossbar(2, 2, variability=Variability(read_noise=0.1)).close()


@pytest.mark.spice
def test_spice_reads_and_programs_each_cell_with_its_own_parameters(spice_backend):
    """Per-cell model cards in the netlist: SPICE and the vectorised numpy equations agree."""
    var = Variability(d2d={"g_max": 0.2, "alpha_set": 0.3, "alpha_reset": 0.3}, seed=11)
    counts = np.array([[2, -1, 0], [1, 1, -2], [0, -1, 2]])
    fast, _ = programmed(var, counts, shape=(3, 3))
    spice, _ = programmed(var, counts, shape=(3, 3), backend="spice", spice=spice_backend)
    assert np.max(np.abs(fast - spice)) < 0.01 * SPAN
    with Crossbar(3, 3, r_row=1.0, r_col=1.0, device=DEV, variability=var, backends={"spice": spice_backend}) as xb:
        xb.set_state(spice)
        v = np.array([0.1, 0.2, 0.15])
        np.testing.assert_allclose(xb.read(v, backend="spice"), xb.read(v, backend="fast"), rtol=2e-4)


@pytest.mark.parametrize("backend", ["fast", pytest.param("spice", marks=pytest.mark.spice)])
def test_spread_of_a_threshold_programs_on_both_backends(backend, spice_backend):
    """Spread thresholds: the fast engine's below-threshold skip uses the smallest threshold of any cell."""
    var = Variability(d2d={"v_set_th": 0.1, "v_reset_th": 0.1}, seed=2)
    counts = np.array([[1, 0, -1], [0, 1, 1], [-1, -1, 0]])
    sched = PulseSchedule.from_slots(array_update((3, 3), "0T1R", counts, 1.2, -1.2, "V/3"), PulseTiming())
    out = {}
    for label, variability, be in (("spread", var, backend), ("fast", var, "fast"), ("nominal", None, "fast")):
        with Crossbar(3, 3, device=DEV, variability=variability, backends={"spice": spice_backend}) as xb:
            xb.set_state(np.full((3, 3), 8e-6))
            out[label] = xb.apply_pulses(sched, backend=be).state
    assert np.max(np.abs(out["spread"] - out["fast"])) < 0.01 * SPAN
    assert np.max(np.abs(out["fast"] - out["nominal"])) > 0.002 * SPAN  # a 10 % threshold spread shows at 1.2 V


def test_reading_does_not_change_what_programming_gives():
    var = Variability(c2c=0.2, read_noise=0.05, seed=8)
    counts = np.ones((4, 4), dtype=int)
    results = []
    for reads in (0, 3):
        with Crossbar(4, 4, device=DEV, variability=var) as xb:
            xb.set_state(np.full((4, 4), 8e-6))
            for _ in range(reads):
                xb.read(np.full(4, 0.1), backend="fast")
            sched = PulseSchedule.from_slots(array_update((4, 4), "0T1R", counts, 1.5, -1.5), PulseTiming())
            results.append(xb.apply_pulses(sched, backend="fast").state)
    np.testing.assert_array_equal(results[0], results[1])


def _half_programmed(var, shape=(40, 40)):
    """An array at mid-window whose left half got one SET pulse (V/3 scheme, fast backend)."""
    xb = Crossbar(*shape, device=DEV, variability=var)
    xb.set_state(np.full(shape, DEV.g_min + SPAN / 2))
    counts = np.zeros(shape, dtype=int)
    counts[:, : shape[1] // 2] = 1
    xb.apply_pulses(PulseSchedule.from_slots(array_update(shape, "0T1R", counts, 1.5, -1.5, "V/3"), PulseTiming()))
    return xb


def test_relaxation_moves_only_programmed_cells_by_the_stated_sigma():
    sigma = 0.05
    with _half_programmed(Variability(relaxation=sigma, seed=4)) as xb:
        before = xb.state
        assert xb.variation.unrelaxed[:, :20].all() and not xb.variation.unrelaxed[:, 20:].any()
        assert xb.relax() == 800
        moved = (xb.state - before) / SPAN  # normalised change: N(0, sigma) far from the window's ends
        np.testing.assert_array_equal(moved[:, 20:], 0.0)  # unpulsed cells (V/3 disturb only) stay put
        assert moved[:, :20].mean() == pytest.approx(0.0, abs=4 * sigma / np.sqrt(800))
        assert moved[:, :20].std() == pytest.approx(sigma, rel=0.1)  # 800 draws: std's standard error 2.5 %
        after = xb.state
        assert xb.relax() == 0  # nothing programmed since: nothing moves
        np.testing.assert_array_equal(xb.state, after)


def test_without_relaxation_relax_changes_nothing():
    with _half_programmed(None, shape=(6, 6)) as xb:
        before, g = xb.state, xb.conductance
        assert xb.relax() == 0
        assert xb.state is before and xb.conductance is g  # not even re-stored (a backend's cache stays valid)


def test_relaxation_is_clipped_to_the_window_and_snaps_to_levels():
    with _half_programmed(Variability(relaxation=1.0, levels=5, seed=2), shape=(20, 20)) as xb:
        xb.relax()
        x = (xb.state - DEV.g_min) / SPAN
        assert x.min() >= 0 and x.max() <= 1
        np.testing.assert_allclose(x * 4, np.round(x * 4), atol=1e-9)
        assert np.mean(x[:, :10] == 0) > 0.2 and np.mean(x[:, :10] == 1) > 0.2  # sigma of the whole window


def test_write_verify_does_not_see_relaxation_and_a_saved_array_relaxes_alike(tmp_path):
    var = Variability(relaxation=0.04, seed=9)
    target = np.linspace(6e-6, 14e-6, 16).reshape(4, 4)
    with Crossbar(4, 4, device=DEV, variability=var) as xb:
        xb.set_state(np.full((4, 4), 10e-6))
        report = write_verify(xb, target, WritePulses(), tolerance=0.3e-6, progress=False)
        assert report.converged.all()
        path = save_state(tmp_path / "array.npz", xb.state_dict())
        xb.relax()
        relaxed = xb.conductance
        with Crossbar(4, 4, device=DEV, variability=var) as twin:
            twin.load_state_dict(load_state(path))
            twin.relax()
            np.testing.assert_array_equal(twin.conductance, relaxed)
    error = (relaxed - target) / SPAN
    assert np.abs(error).max() > 0.3e-6 / SPAN  # beyond the verify band: the verify reads came before it


def test_states_relaxed_onto_a_spread_window_end_load_back():
    """Clipped to each cell's own bounds exactly (lo + 1.0 (hi - lo) can round past hi): a saved array loads."""
    var = Variability(d2d={"g_min": 0.2, "g_max": 0.2}, relaxation=1.0, levels=7, seed=3)
    with _half_programmed(var, shape=(20, 20)) as xb:
        xb.relax()
        lo, hi = xb.cell_device.state_bounds
        assert np.any(xb.state == hi) and np.all(xb.state <= hi) and np.all(xb.state >= lo)
        with Crossbar(20, 20, device=DEV, variability=var) as twin:
            twin.load_state_dict(xb.state_dict())
            np.testing.assert_array_equal(twin.state, xb.state)
