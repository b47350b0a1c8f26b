"""Regression tests of the hardening pass: each example that once escaped as an untyped error, a hang,
a silent NaN or a netlist payload now fails typed before any work, or works."""

from fractions import Fraction

import numpy as np
import pytest

import spicelim
from spicelim import Crossbar, Variability
from spicelim.bias import forward
from spicelim.devices import StanfordPKU
from spicelim.devices.nmos import NmosSelector
from spicelim.errors import InvalidParameterError, NetlistInjectionError, SpicelimError
from spicelim.netlist import format_read_netlist
from spicelim.params import CrossbarParams
from spicelim.periphery import TIA, bit_serial, pwm, read_dac, read_pwm, shift_add
from spicelim.programming import WritePulses
from spicelim.spice import SpiceBackend

G = np.full((3, 2), 1e-5)


def fast_array(**kw):
    xb = Crossbar(3, 2, backend="fast", **kw)
    xb.set_conductance(G)
    return xb


@pytest.mark.parametrize("make", [
    lambda: Crossbar(3, 2, r_row=10**400),
    lambda: Variability(levels=10**400),
    lambda: Variability(seed=10**400),
    lambda: TIA(r_f=10**400),
    lambda: NmosSelector(card_path=3),
    lambda: NmosSelector(card_path="\x00"),
    lambda: NmosSelector(w=5e-324),
    lambda: TIA(r_f=1e4, gain=1e4, gbw=5e-324),
    lambda: TIA(r_f=5e-324),
    lambda: SpiceBackend(timeout_s=float("inf")),
    lambda: Crossbar(3, 2, r_col=5e-324),
    lambda: StanfordPKU(ea=8),
    lambda: WritePulses(reset_amplitude=Fraction(1, 3)),
    lambda: WritePulses().schedule((2, 2), "0T1R", [[10**7, 0], [0, 0]]),
    lambda: read_dac(fast_array(), np.zeros(3), "dac"),
    lambda: read_pwm(fast_array(), [[0.1, 0.2], [0.3]], 4, 0.1),
    lambda: bit_serial([[1, 2], [3]], 2, 0.1),
    lambda: shift_add([[0.1, 0.2], [0.3]]),
    lambda: pwm([[0.1], [0.2, 0.3]], 4, 0.1),
    lambda: fast_array().read(np.full(3, 0.1), backend=np.array([])),
    lambda: fast_array().read(np.full(3, 0.1), quantizer=np.array([])),
])
def test_each_reported_example_fails_typed(make):
    with pytest.raises(SpicelimError):
        make()


def test_the_checked_value_is_the_stored_value():
    sel = NmosSelector(v_gate=Fraction(9, 2), w=Fraction(2, 1000000))
    assert type(sel.v_gate) is float and sel.v_gate == 4.5 and type(sel.w) is float
    pulses = WritePulses(set_amplitude=Fraction(3, 2), reset_amplitude=-Fraction(3, 2))
    assert type(pulses.set_amplitude) is float and pulses.reset_amplitude == -1.5
    assert pulses.schedule((2, 2), "0T1R", [[1, 0], [0, -1]]).shape == (2, 2)


def test_a_run_dir_that_is_a_file_is_refused_at_construction(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(InvalidParameterError, match="not a folder"):
        SpiceBackend(run_dir=path)


def test_tiny_resistances_give_finite_reads_or_typed_errors():
    """Wires and feedback resistors far below any physical value used to give NaN silently or a scipy error."""
    for kw in ({"r_col": 1e-300, "r_row": 1.0}, {"r_row": 1e-300, "r_col": 1e-300}, {"r_source": 1e-300}):
        try:
            xb = Crossbar(3, 2, backend="fast", **kw)
        except InvalidParameterError:
            continue
        xb.set_conductance(G)
        assert np.all(np.isfinite(xb.read(np.full(3, 0.1))))


def test_a_transient_that_would_take_forever_is_refused_before_it_starts():
    with Crossbar(2, 2, device=spicelim.devices.SoftBoundsRRAM(), backend="fast") as xb:
        xb.set_state(np.full((2, 2), 8e-6))
        sched = WritePulses().schedule((2, 2), "0T1R", [[1, 0], [0, 0]])
        with pytest.raises(InvalidParameterError, match="max_step"):
            xb.apply_pulses(sched, max_step=1e-300)
        np.testing.assert_array_equal(xb.state, 8e-6)


@pytest.mark.parametrize("title", ["t\x1e.inc /etc/passwd", "a\x0bb", "a\x0cb", "a\x1cb", "a\x1db", "a\x85b",
                                   "a\u2028b", "x\nshell rm -rf /", "x\rshell ls", "t;shell ls", "é", "a" * 201])
def test_titles_are_an_allow_list(title):
    p = CrossbarParams(2, 2)
    with pytest.raises(NetlistInjectionError):
        format_read_netlist(p, np.full((2, 2), 1e-5), forward(np.ones((1, 2)) * 0.1, 2, 0.0), title=title)


def test_plain_titles_still_pass():
    p = CrossbarParams(2, 2)
    text = format_read_netlist(p, np.full((2, 2), 1e-5), forward(np.ones((1, 2)) * 0.1, 2, 0.0),
                               title="My array, run 3 (seed=1) +- 2.5 ohm/seg").text
    assert text.splitlines()[0] == "* My array, run 3 (seed=1) +- 2.5 ohm/seg"


def test_a_selector_card_named_like_an_internal_model_is_refused(tmp_path):
    card = tmp_path / "card.lib"
    card.write_text(".model cellmodel nmos level=1 vto=0.8 kp=1.2e-4\n")
    with pytest.raises(NetlistInjectionError, match="reserved"):
        NmosSelector(card_path=card)


PAYLOADS = ["x\n.control\nshell touch {canary}\n.endc", "x\x1e.control\x1eshell touch {canary}\x1e.endc",
            "x\x0b.control\x0bshell touch {canary}", "x\x0c.inc {canary}", "x\x85shell touch {canary}",
            "x\u2028shell touch {canary}", "x\rshell touch {canary}", "shell touch {canary}"]


@pytest.mark.spice
def test_no_payload_reaches_ngspice_through_a_title_or_a_model_card(tmp_path, spice_backend):
    """A canary `shell` command in every public text input: the writer refuses each, and whatever it
    let through would be run here, so the canary file proves nothing ran."""
    canary = tmp_path / "canary"
    p = CrossbarParams(2, 2)
    passed = []
    for payload in PAYLOADS:
        text = payload.format(canary=canary)
        try:
            netlist = format_read_netlist(p, np.full((2, 2), 1e-5), forward(np.full((1, 2), 0.1), 2, 0.0), title=text)
        except NetlistInjectionError:
            continue
        passed.append(text)
        spice_backend.worker.run(netlist.text, netlist.vectors, 1, save_failed=lambda t: "x")
    card = tmp_path / "card.lib"
    for payload in PAYLOADS:
        text = payload.format(canary=canary)
        for body in (f".model sel nmos level=1 vto=0.8 kp=1.2e-4 {text}=1\n", f".model {text} nmos level=1 vto=0.8\n"):
            card.write_text(body)
            with pytest.raises(SpicelimError):
                NmosSelector(card_path=card)
    assert passed == [] and not canary.exists()


def test_a_backend_answering_nan_is_reported_not_passed_on():
    class Broken(spicelim.ArrayBackend):
        name = "broken"

        def solve(self, array, bias, *, sensed=None, nodes=False):
            b = bias.batch
            return spicelim.OperatingPoints.from_currents(np.full((b, 3), np.nan), np.zeros((b, 2)),
                                                          array.conductance, self.name)

    xb = Crossbar(3, 2, backend=Broken())
    xb.set_conductance(G)
    with pytest.raises(spicelim.SimulationError, match="non-finite"):
        xb.read(np.full(3, 0.1))
