"""The backend contract: every registered backend answers the same calls with the same result types and
shapes, declares what it cannot do (MissingCapability before anything runs), and gives the physics;
a user's own backend (the README's example, run from the README) works through the same paths."""

import re
from pathlib import Path

import numpy as np
import pytest

import spicelim
from spicelim import (
    ArrayBackend,
    Backends,
    Crossbar,
    MissingCapability,
    OperatingPoints,
    PulseResult,
)
from spicelim.backend import (
    CAPABILITIES,
    FLOATING_LINES,
    NETLIST_QUANTIZER,
    NODE_VOLTAGES,
    TRANSIENT,
    has,
)
from spicelim.devices import SoftBoundsRRAM
from spicelim.errors import InvalidParameterError
from spicelim.periphery import ADC, TIA, read_signed
from spicelim.programming import PulseSchedule, PulseTiming, array_update
from spicelim.registry import create_backend

README = Path(__file__).resolve().parent.parent / "README.md"
DEV = SoftBoundsRRAM()
RNG = np.random.default_rng(21)
G = RNG.uniform(2e-6, 2e-5, (5, 4))
V = RNG.uniform(-0.2, 0.2, (3, 5))
U = RNG.uniform(-0.2, 0.2, (3, 4))


def readme_backend_example() -> str:
    """The python block under '#### Your own backend' in the README."""
    text = README.read_text()
    section = text[text.index("#### Your own backend"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def assert_same_state(a, b, path="state"):
    """Nested state dicts equal entry by entry (arrays exactly)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            assert_same_state(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    else:
        assert a == b, path


def register_readme_backend() -> None:
    if "series-wire" not in spicelim.backend_names():
        exec(compile(readme_backend_example(), "README.md", "exec"), {})


register_readme_backend()
BACKENDS = ["fast", "fast-slots", "ideal", "series-wire", pytest.param("spice", marks=pytest.mark.spice)]


def test_the_conformance_list_covers_every_registered_backend():
    listed = {p if isinstance(p, str) else p.values[0] for p in BACKENDS}
    assert listed == set(spicelim.backend_names())
    for name in spicelim.backend_names():
        backend = create_backend(name)
        assert isinstance(backend, ArrayBackend) and backend.name == name
        assert set(backend.capabilities) <= set(CAPABILITIES)


def array(backend, spice_backend, **kw):
    return Crossbar(5, 4, backend=backend, backends=Backends(spice=spice_backend), **kw)


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_reads_the_same_way(name, spice_backend):
    """Same calls, same types and shapes; on ideal lines every backend gives v @ G, its transpose and the
    signed transposed product (G+ - G-) d of error backpropagation."""
    with array(name, spice_backend) as xb:
        xb.set_conductance(G)
        i = xb.read(V)
        j = xb.read(U, transpose=True)
        single = xb.read(V[0])
        assert i.shape == (3, 4) and j.shape == (3, 5) and single.shape == (4,)
        np.testing.assert_allclose(i, V @ G, rtol=1e-9, atol=1e-12 * np.abs(V @ G).max())
        np.testing.assert_allclose(j, U @ G.T, rtol=1e-9, atol=1e-12 * np.abs(U @ G.T).max())
        d = U[:, :2]  # one error voltage per differential pair (columns 0/1 and 2/3)
        back = read_signed(xb, d, transpose=True)
        want = d @ (G[:, 0::2] - G[:, 1::2]).T
        assert back.shape == (3, 5)
        np.testing.assert_allclose(back, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
        r = xb.sense(V)
        assert r.sensed_current.shape == (3, 4) and r.driver_current.shape == (3, 5) and r.v_out is None
        # the drivers supply what the sense nodes take in (no other path to ground)
        np.testing.assert_allclose(-r.driver_current.sum(1), r.sensed_current.sum(1), rtol=1e-9)


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_senses_through_a_tia_and_adc_the_same_way(name, spice_backend):
    """A finite-gain TIA with rails and an ADC on every sensed line: the same description for every backend.

    On ideal lines each sensed line sees sum_i G_ij v_i through the TIA's residual resistance
    r_f / (1 + A0), shared by the whole line, or the rail behind r_f; the ideal backend solves that
    in closed form, the built-in circuit solvers as circuits, and all must agree. (The README's
    series-wire model gives each cell its own share of that resistance, so only the types and
    shapes of its answer are checked here.)"""
    tia = TIA(r_f=1e5, gain=200.0, v_out_max=0.5, offset=1e-3)
    adc = ADC(bits=6, full_scale=0.6)
    with array(name, spice_backend, tia=tia, adc=adc) as xb, Crossbar(5, 4, tia=tia, backend="ideal") as ref:
        for x in (xb, ref):
            x.set_conductance(G)
        for transpose, x in ((False, V), (True, U)):
            r = xb.sense(x, transpose=transpose, quantizer="python")
            want = ref.sense(x, transpose=transpose)
            lines = 5 if transpose else 4
            assert r.v_out.shape == r.codes.shape == r.sensed_current.shape == (3, lines)
            assert r.codes.dtype == np.int64
            np.testing.assert_array_equal(r.codes, adc.convert(r.v_out))
            assert np.any(np.abs(want.v_out) >= 0.5) and np.any(np.abs(want.v_out) < 0.5)  # rails and linear
            if name != "series-wire":
                np.testing.assert_allclose(r.v_out, want.v_out, rtol=1e-7, atol=1e-9)
                np.testing.assert_allclose(r.sensed_current, want.sensed_current, rtol=1e-7, atol=1e-15)


@pytest.mark.parametrize("name", BACKENDS)
def test_capabilities_are_declared_and_missing_ones_are_refused_before_anything_runs(name, spice_backend):
    with array(name, spice_backend, device=DEV, tia=TIA(r_f=1e4), adc=ADC(bits=4)) as xb:
        xb.set_state(np.full((5, 4), 8e-6))
        impl = xb.backend()
        before = xb.state_dict()
        if has(impl, NODE_VOLTAGES):
            op = xb.solve(V)
            assert isinstance(op, OperatingPoints)
            assert op.row_v.shape == op.col_v.shape == op.device_voltage.shape == (3, 5, 4)
        else:
            with pytest.raises(MissingCapability, match=NODE_VOLTAGES):
                xb.solve(V)
        if has(impl, FLOATING_LINES):
            cell = xb.read_cell(2, 1, scheme="float")
            assert cell.backend == name and cell.sensed_current > cell.selected_current > 0
        else:
            with pytest.raises(MissingCapability):
                xb.read_cell(2, 1, scheme="float")
        if has(impl, NETLIST_QUANTIZER):
            assert xb.read_codes(V, quantizer="netlist").shape == (3, 4)
        else:
            with pytest.raises(MissingCapability, match=NETLIST_QUANTIZER):
                xb.read_codes(V, quantizer="netlist")
        sched = PulseSchedule.from_slots(array_update((5, 4), "0T1R", RNG.integers(-1, 2, (5, 4)), 1.6, -1.6, "V/3"),
                                         PulseTiming())
        if has(impl, TRANSIENT):
            res = xb.apply_pulses(sched, measure_energy=True)
            assert isinstance(res, PulseResult) and res.state.shape == (5, 4) and res.backend == name
            assert res.energy > 0 and res.duration == pytest.approx(sched.duration)
            assert np.array_equal(res.state, xb.state)
        else:
            with pytest.raises(MissingCapability, match=TRANSIENT):
                xb.apply_pulses(sched)
            assert_same_state(xb.state_dict(), before)  # a refused call changed nothing, random streams included


def test_a_backend_that_claims_transients_without_implementing_them_says_so():
    class Claims(ArrayBackend):
        capabilities = frozenset({TRANSIENT})

        def solve(self, array, bias, *, sensed=None, nodes=False):
            raise AssertionError("not reached")

    with Crossbar(2, 2, device=DEV, backend=Claims()) as xb:
        xb.set_state(np.full((2, 2), 8e-6))
        with pytest.raises(NotImplementedError, match="apply_pulses"):
            xb.apply_pulses(PulseSchedule.from_slots(array_update((2, 2), "0T1R", np.ones((2, 2), int), 1.6, -1.6),
                                                     PulseTiming()))


def test_a_backend_returning_the_wrong_states_is_caught():
    class Wrong(ArrayBackend):
        name = "wrong"
        capabilities = frozenset({TRANSIENT})

        def solve(self, array, bias, *, sensed=None, nodes=False):
            raise AssertionError("not reached")

        def apply_pulses(self, array, schedule, *, max_step=None, energy=False):
            return PulseResult(state=np.full((3, 3), np.nan), energy=None, duration=0.0, backend="wrong")

    with Crossbar(2, 2, device=DEV, backend=Wrong()) as xb:
        xb.set_state(np.full((2, 2), 8e-6))
        with pytest.raises(InvalidParameterError, match="wrong"):
            xb.apply_pulses(PulseSchedule.from_slots(array_update((2, 2), "0T1R", np.ones((2, 2), int), 1.6, -1.6),
                                                     PulseTiming()))
        np.testing.assert_array_equal(xb.state, 8e-6)


def test_registry_rejects_bad_names_duplicates_and_factories():
    with pytest.raises(InvalidParameterError, match="already registered"):
        spicelim.register_backend("fast", lambda: None)
    with pytest.raises(InvalidParameterError, match="lower-case"):
        spicelim.register_backend("My Model", lambda: None)
    with pytest.raises(InvalidParameterError, match="callable"):
        spicelim.register_backend("broken", 3)
    spicelim.register_backend("not-a-backend", lambda: object())
    try:
        with pytest.raises(InvalidParameterError, match="not a spicelim ArrayBackend"):
            Crossbar(2, 2, backend="not-a-backend")
    finally:
        spicelim.unregister_backend("not-a-backend")
    with pytest.raises(InvalidParameterError, match="unknown backend 'hspice'"):
        Crossbar(2, 2, backend="hspice")
    with pytest.raises(InvalidParameterError, match="ArrayBackend"):
        Crossbar(2, 2, backend=42)
    with pytest.raises(InvalidParameterError, match="no backend named"):
        spicelim.unregister_backend("never-registered")


def test_backends_declared_by_an_installed_package_are_found(monkeypatch):
    from importlib.metadata import EntryPoint

    import spicelim.registry as registry

    found = [EntryPoint(name="plugged-fast", value="spicelim.fast.backend:FastBackend", group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: found if group == registry.ENTRY_POINT_GROUP else [])
    try:
        with Crossbar(3, 3, backend="plugged-fast") as xb:
            xb.set_conductance(G[:3, :3])
            np.testing.assert_allclose(xb.read(V[:, :3]), V[:, :3] @ G[:3, :3], rtol=1e-12)
            assert xb.backend().name == "plugged-fast"
    finally:
        registry._factories.pop("plugged-fast", None)


def test_a_backends_set_closes_only_what_it_created():
    class Counting(ArrayBackend):
        closed = 0

        def solve(self, array, bias, *, sensed=None, nodes=False):
            raise AssertionError("not reached")

        def close(self):
            type(self).closed += 1

    given = Counting()
    with Backends(mine=given) as shared:
        assert shared.get("mine") is given
        fast = shared.get("fast")
        assert shared.get("fast") is fast
        with Crossbar(2, 2, backends=shared, backend="fast") as xb:  # a shared set outlives its arrays
            xb.set_conductance(G[:2, :2])
            xb.read(V[:, :2])
        assert fast._cache  # not closed by the array
    assert Counting.closed == 0 and fast._cache == []
    with pytest.raises(InvalidParameterError, match="ArrayBackend"):
        Backends(spice=object())


def test_the_readme_backend_runs_a_read_study_unchanged(tmp_path, capsys):
    """The user's model against the fast model as reference: the study runs as written and measures it.

    The series-wire model gives each cell only its own current's drop along its wires; the real
    wires carry every cell's current, so the model under-estimates the IR-drop error."""
    from spicelim.studies.read_study import run_read_study

    rows = run_read_study(out_dir=tmp_path, map_size=8, sizes=(4, 8, 16), r_wire=2.5, batch=4,
                          model="series-wire", reference="fast")
    assert {r.model for r in rows} == {"series-wire"} and {r.reference for r in rows} == {"fast"}
    for r in rows:
        assert 0 < r.model_error < r.reference_error
        assert r.model_vs_reference > 0
    by = {(r.size, r.cell): r for r in rows}
    assert by[(16, "0T1R")].model_vs_reference > by[(4, "0T1R")].model_vs_reference  # worse as lines grow
    for name in ("ir_drop_map.png", "read_error_vs_size.png", "read_error_vs_size.json", "sneak_paths.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert "series-wire vs fast" in capsys.readouterr().out


def test_a_study_with_a_reference_that_cannot_solve_node_maps_fails_before_writing(tmp_path):
    from spicelim.studies.read_study import run_read_study

    with pytest.raises(MissingCapability, match=NODE_VOLTAGES):
        run_read_study(out_dir=tmp_path / "out", map_size=4, sizes=(4,), batch=2, reference="series-wire")
    assert not (tmp_path / "out").exists()
