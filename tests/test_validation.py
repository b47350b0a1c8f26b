"""Bad input gets a typed error with a clear message before anything is simulated."""

import sys

import numpy as np
import pytest

import spicelim
from spicelim.devices import NmosSelector
from spicelim.errors import InvalidParameterError, NetlistInjectionError, ShapeError
from spicelim.netlist import fmt, safe_name, safe_text
from spicelim.spice import SpiceBackend


@pytest.mark.parametrize("kwargs,match", [
    (dict(rows=0, cols=4), "rows"),
    (dict(rows=4, cols=2.5), "cols"),
    (dict(rows=4, cols=4, cell="2T2R"), "cell"),
    (dict(rows=4, cols=4, r_row=-1.0), "r_row"),
    (dict(rows=4, cols=4, r_col=float("nan")), "r_col"),
    (dict(rows=4, cols=4, r_source=float("inf")), "r_source"),
    (dict(rows=4, cols=4, r_row="1"), "r_row"),
])
def test_bad_array_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        spicelim.Crossbar(**kwargs)


@pytest.fixture
def xb(tmp_path):
    backend = SpiceBackend(run_dir=tmp_path / "runs")
    x = spicelim.Crossbar(3, 4, r_row=1.0, r_col=1.0, backends={"spice": backend})
    yield x
    backend.close()


@pytest.mark.parametrize("g,err,match", [
    (np.ones((4, 3)) * 1e-5, ShapeError, r"shape \(3, 4\)"),
    (np.full((3, 4), np.nan), InvalidParameterError, "finite"),
    (np.full((3, 4), np.inf), InvalidParameterError, "finite"),
    (np.zeros((3, 4)), InvalidParameterError, "> 0"),
    (-np.ones((3, 4)) * 1e-5, InvalidParameterError, "> 0"),
    ([["a"] * 4] * 3, InvalidParameterError, "numeric"),
])
def test_bad_conductance(xb, g, err, match):
    with pytest.raises(err, match=match):
        xb.set_conductance(g)


@pytest.mark.parametrize("backend", ["spice", "fast", "ideal"])
@pytest.mark.parametrize("v,transpose,err", [
    (np.ones(4), False, ShapeError),
    (np.ones((2, 2)), False, ShapeError),
    (np.ones((2, 3, 1)), False, ShapeError),
    (np.array([0.1, np.nan, 0.1]), False, InvalidParameterError),
    (np.array([0.1, np.inf, 0.1, 0.0]), True, InvalidParameterError),
    (np.ones(3), True, ShapeError),
    (np.ones((0, 3)), False, ShapeError),
])
def test_bad_inputs_fail_before_simulation(xb, tmp_path, backend, v, transpose, err):
    xb.set_conductance(np.full((3, 4), 1e-5))
    with pytest.raises(err):
        xb.read(v, backend=backend, transpose=transpose)
    spice = xb.backend("spice")
    assert spice.worker.pid is None, "ngspice must not be started for bad input"
    assert not (tmp_path / "runs").exists(), "nothing may be written for bad input"


def test_unknown_backend_and_missing_state(xb):
    with pytest.raises(InvalidParameterError, match="no device state"):
        xb.read(np.ones(3), backend="fast")
    xb.set_conductance(np.full((3, 4), 1e-5))
    with pytest.raises(InvalidParameterError, match="unknown backend"):
        xb.read(np.ones(3), backend="hspice")


def test_bad_cell_selection(xb):
    xb.set_conductance(np.full((3, 4), 1e-5))
    with pytest.raises(InvalidParameterError, match="scheme"):
        xb.read_cell(0, 0, scheme="V/4")
    with pytest.raises(InvalidParameterError, match="row"):
        xb.read_cell(3, 0)
    with pytest.raises(InvalidParameterError, match="v_read"):
        xb.read_cell(0, 0, v_read=0.0)


def test_selector_parameters(tmp_path):
    with pytest.raises(InvalidParameterError, match="threshold"):
        NmosSelector(v_gate=0.5)
    with pytest.raises(InvalidParameterError, match="w"):
        NmosSelector(w=-1e-6)
    with pytest.raises(InvalidParameterError, match="selector"):
        spicelim.CrossbarParams(2, 2, "1T1R", selector="big one")


@pytest.mark.parametrize("card", [
    ".model nmos_x nmos level=1 vto=0.8\n.control\nshell rm -rf /\n.endc\n",
    ".model bad;name nmos vto=0.8\n",
    ".model shell nmos vto=0.8\n",
    ".model nmos_x nmos vto=0.8 kp=shell\n",
    ".include /etc/passwd\n",
])
def test_model_card_injection_rejected(tmp_path, card):
    path = tmp_path / "card.lib"
    path.write_text(card)
    with pytest.raises(InvalidParameterError):
        NmosSelector(card_path=path)


@pytest.mark.parametrize("name", ["a\nb", "x .control", ".control", "shell", "a;b", "", "1abc", "n" * 65, 3])
def test_safe_name_rejects(name):
    with pytest.raises(NetlistInjectionError):
        safe_name(name)


@pytest.mark.parametrize("text", ["t\n.control", ".include x", "x shell y", "a; b", "+cont"])
def test_safe_text_rejects(text):
    with pytest.raises(NetlistInjectionError):
        safe_text(text)


def test_fmt_is_explicit():
    assert fmt(np.float64(2.5)) == "2.5"
    assert float(fmt(np.float32(1e-5))) == float(np.float32(1e-5))
    assert fmt(10000.0) == "10000"
    assert "np." not in fmt(np.float64(1e-7))
    for bad in (float("nan"), float("inf"), "1", True, None):
        with pytest.raises(NetlistInjectionError):
            fmt(bad)


def test_import_does_not_load_heavy_dependencies():
    import subprocess

    code = "import spicelim, sys; print(sorted(m for m in ('PySpice', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("g,match", [(1e-320, r"\[1e-15, 1000\]"), (1e300, r"\[1e-15, 1000\]"),
                                     (True, "real numeric"), ("1e-5", "real numeric"), (1e-5 + 1e-6j, "real numeric")])
def test_conductance_range_and_type(xb, g, match):
    with pytest.raises(InvalidParameterError, match=match):
        xb.set_conductance(np.full((3, 4), g))


def test_more_typed_errors(xb, tmp_path):
    xb.set_conductance(np.full((3, 4), 1e-5))
    with pytest.raises(InvalidParameterError, match="transpose"):
        xb.read(np.ones(3), backend="fast", transpose="no")
    with pytest.raises(InvalidParameterError, match="real numeric"):
        xb.read(["0.1", "0.2", "0.3"], backend="fast")
    with pytest.raises(InvalidParameterError, match="cannot read"):
        NmosSelector(card_path=tmp_path / "missing.lib")
    with pytest.raises(InvalidParameterError, match="max_batch"):
        SpiceBackend(max_batch="x")
    with pytest.raises(InvalidParameterError, match="timeout_s"):
        SpiceBackend(timeout_s=-1)
    with pytest.raises(InvalidParameterError, match="selector"):
        spicelim.Crossbar(2, 2, "0T1R", selector=NmosSelector())
    with pytest.raises(NetlistInjectionError):
        safe_name("nmos_x\n")
