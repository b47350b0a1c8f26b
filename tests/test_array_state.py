"""Saveable arrays: pickling after a SPICE read, state_dict round trips that continue bit-identically,
state files, and what a bad saved state does (nothing)."""

import pickle

import numpy as np
import pytest

import spicelim
from spicelim import Backends, Crossbar, Variability
from spicelim.devices import SoftBoundsRRAM
from spicelim.errors import InvalidParameterError
from spicelim.periphery import ADC, TIA
from spicelim.programming import PulseSchedule, PulseTiming, array_update

DEV = SoftBoundsRRAM()
SHAPE = (6, 4)
NOISY = Variability(d2d={"alpha_set": 0.2, "g_max": 0.05}, c2c=0.2, stuck_on=0.05, stuck_off=0.05, read_noise=0.05,
                    seed=3)


def noisy_array(spice_backend=None, backend="fast"):
    """A 6 x 4 array with every random stream in use: spread, faults, c2c, read noise, TIA and ADC noise."""
    return Crossbar(*SHAPE, r_row=1.0, r_col=1.0, r_source=5.0, device=DEV, variability=NOISY,
                    tia=TIA(r_f=2e4, gain=1e3, noise=2e-3, seed=5),
                    adc=ADC(bits=7, full_scale="calibrate", noise=0.4, dnl=0.1, seed=6),
                    backend=backend, backends=Backends(spice=spice_backend) if spice_backend else None)


def schedule(seed):
    counts = np.random.default_rng(seed).integers(-1, 2, SHAPE)
    return PulseSchedule.from_slots(array_update(SHAPE, "0T1R", counts, 1.6, -1.6, "V/3"), PulseTiming())


V = np.random.default_rng(1).uniform(0.0, 0.2, (5, 6))
U = np.random.default_rng(2).uniform(0.0, 0.2, (5, 4))


def use(xb):
    """Program, calibrate both directions and read noisily: every stream advances."""
    xb.set_state(np.random.default_rng(4).uniform(4e-6, 1.6e-5, SHAPE))
    xb.apply_pulses(schedule(1))
    xb.calibrate_adc(V, margin=1.2)
    xb.calibrate_adc(U, transpose=True, margin=1.2)
    xb.read(V)


def then(xb):
    """One more noisy read each way and one more programming call."""
    return xb.read(V), xb.read_codes(U, transpose=True), xb.apply_pulses(schedule(2)).state, xb.read(V)


def test_state_dict_round_trip_continues_bit_identically_on_the_fast_backend(tmp_path):
    with noisy_array() as original:
        use(original)
        path = spicelim.save_state(tmp_path / "array.npz", original.state_dict())
        with noisy_array() as restored:
            restored.load_state_dict(spicelim.load_state(path))
            np.testing.assert_array_equal(restored.stuck, original.stuck)
            assert np.any(restored.stuck)
            np.testing.assert_array_equal(restored.state, original.state)
            a, b = then(original), then(restored)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    with noisy_array() as fresh:  # the continuation really depends on the saved streams
        use(fresh)
        fresh.read(V)
        assert not np.array_equal(then(fresh)[0], a[0])


@pytest.mark.spice
def test_state_dict_round_trip_on_the_spice_backend(spice_backend):
    with noisy_array(spice_backend, "spice") as original:
        use(original)
        saved = original.state_dict()
        with noisy_array(spice_backend, "spice") as restored:
            restored.load_state_dict(saved)
            a, b = then(original), then(restored)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=0)


@pytest.mark.spice
def test_an_array_pickles_after_a_spice_read_and_its_copy_continues_alike(spice_backend):
    with noisy_array(backend="spice") as xb:  # its own Backends: the copy gets its own ngspice worker
        use(xb)
        xb.read(V)
        worker = xb.backend().worker
        assert worker.pid is not None
        copy = pickle.loads(pickle.dumps(xb))
        try:
            assert copy.backend() is not xb.backend() and copy.backend().worker.pid is None  # not started yet
            np.testing.assert_allclose(copy.read(V), xb.read(V), rtol=1e-9, atol=0)
            np.testing.assert_array_equal(copy.apply_pulses(schedule(3)).state, xb.apply_pulses(schedule(3)).state)
        finally:
            copy.close()


def test_every_built_in_backend_and_a_backends_set_pickle():
    for name in ("fast", "ideal", "spice"):
        backend = spicelim.create_backend(name)
        clone = pickle.loads(pickle.dumps(backend))
        assert type(clone) is type(backend) and clone.name == name and clone.capabilities == backend.capabilities
    with Backends() as shared:
        shared.get("fast")
        clone = pickle.loads(pickle.dumps(shared))
        assert clone.get("fast") is not shared.get("fast")


def test_loading_a_state_of_another_array_changes_nothing():
    with noisy_array() as xb, noisy_array() as other:
        use(xb)
        use(other)
        other.apply_pulses(schedule(5))
        before = xb.state_dict()
        bad = other.state_dict()
        bad["readout"]["adc_full_scale"]["forward"] = np.array([-1.0, 1.0, 1.0, 1.0])
        with pytest.raises(InvalidParameterError, match="full scale"):
            xb.load_state_dict(bad)
        after = xb.state_dict()
        np.testing.assert_array_equal(after["state"], before["state"])
        assert after["variability"]["c2c_noise"] == before["variability"]["c2c_noise"]
        np.testing.assert_array_equal(after["readout"]["adc_full_scale"]["forward"],
                                      before["readout"]["adc_full_scale"]["forward"])
    with Crossbar(3, 3, device=DEV) as small, noisy_array() as xb:
        with pytest.raises(InvalidParameterError, match="different array"):
            xb.load_state_dict(small.state_dict())
        with pytest.raises(InvalidParameterError, match="format"):
            xb.load_state_dict({"state": None})
        state = xb.state_dict()
        state["variability"]["c2c_noise"] = {"bit_generator": "PCG64", "state": "nonsense"}
        with pytest.raises(InvalidParameterError, match="cycle-to-cycle"):
            xb.load_state_dict(state)


def test_linear_cells_save_their_conductances(tmp_path):
    g = np.random.default_rng(0).uniform(1e-6, 2e-5, (3, 5))
    with Crossbar(3, 5, r_row=1.0, r_col=1.0, backend="fast") as xb, Crossbar(3, 5, r_row=1.0, r_col=1.0) as other:
        xb.set_conductance(g)
        other.load_state_dict(spicelim.load_state(spicelim.save_state(tmp_path / "g.npz", xb.state_dict())))
        np.testing.assert_array_equal(other.conductance, g)
        assert not other.conductance.flags.writeable


def test_state_files_are_plain_data_and_refuse_what_is_not(tmp_path):
    state = {"a": np.arange(3), "b": {"c": None, "d": [1, 2.5, "x"], "e": np.float64(2.0)}, "big": 2**100}
    back = spicelim.load_state(spicelim.save_state(tmp_path / "s.npz", state))
    np.testing.assert_array_equal(back["a"], np.arange(3))
    assert back["b"] == {"c": None, "d": [1, 2.5, "x"], "e": 2.0} and back["big"] == 2**100
    with pytest.raises(InvalidParameterError, match="plain values"):
        spicelim.save_state(tmp_path / "t.npz", {"x": object()})
    with pytest.raises(InvalidParameterError, match="without '/'"):
        spicelim.save_state(tmp_path / "t.npz", {"a/b": 1})
    assert not (tmp_path / "t.npz").exists()  # nothing half-written
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidParameterError, match="not a spicelim state file"):
        spicelim.load_state(tmp_path / "junk.npz")
