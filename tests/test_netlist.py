"""The netlist writer as a pure function (no ngspice)."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from spicelim.bias import forward, select_cell, transposed
from spicelim.errors import InvalidParameterError
from spicelim.netlist import format_read_netlist, write_netlist
from spicelim.params import CrossbarParams

ROOT = Path(__file__).resolve().parent.parent


def lines_starting(text, prefix):
    return [ln for ln in text.splitlines() if ln.startswith(prefix)]


def test_passive_netlist_elements():
    p = CrossbarParams(3, 4, "0T1R", r_row=2.5, r_col=1.0, r_source=10.0)
    g = np.full((3, 4), 2.0**-16)
    nl = format_read_netlist(p, g, forward(np.array([[0.1, 0.2, 0.3]]), 4, 10.0))
    t = nl.text
    assert ".options klu" in t and t.rstrip().endswith(".end")
    assert len(lines_starting(t, "Rrow")) == 12 and len(lines_starting(t, "Rcol")) == 12
    assert len(lines_starting(t, "Rcell")) == 12
    assert "Rrow0_0 d0 r0_0 2.5" in t and "Rrow0_1 r0_0 r0_1 2.5" in t
    assert "Rcol2_3 c2_3 s3 1" in t and "Rcol0_3 c0_3 c1_3 1" in t
    assert "Rcell1_2 r1_2 c1_2 65536" in t
    assert "Vt_row1 d1 p_row1 0.2" in t and "Rsrc_row1 p_row1 0 10" in t
    assert "Vt_col3 s3 0 0" in t
    assert ".op" in t and ".dc" not in t
    # Only what the read needs is saved: the four sense currents.
    saved = " ".join(lines_starting(t, ".save")).split()[1:]
    assert saved == [f"i(vt_col{j})" for j in range(4)]
    assert "np." not in t


def test_batch_uses_index_sweep():
    p = CrossbarParams(2, 2, r_row=1.0, r_col=1.0)
    v = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.2]])
    t = format_read_netlist(p, np.full((2, 2), 2.0**-16), forward(v, 2, 0.0)).text
    assert "Vidx idx 0 0" in t and ".dc Vidx 0 2 1" in t
    assert "Bsrc_row0 q_row0 0 V=pwl(v(idx), 0, 0.1, 1, 0.3, 2, 0.5)" in t
    assert "Vt_row0 d0 q_row0 0" in t
    assert "Vt_row1 d1 0 0.2" not in t  # row 1 varies too
    v[:, 1] = 0.2
    t = format_read_netlist(p, np.full((2, 2), 2.0**-16), forward(v, 2, 0.0)).text
    assert "Vt_row1 d1 0 0.2" in t  # a row constant over the batch is a plain DC source


def test_ideal_lines_merge_nodes():
    p = CrossbarParams(2, 3, r_row=0.0, r_col=0.0)
    t = format_read_netlist(p, np.full((2, 3), 2.0**-16), forward(np.ones((1, 2)), 3, 0.0)).text
    assert not lines_starting(t, "Rrow") and not lines_starting(t, "Rcol")
    assert "Rcell1_2 d1 s2 65536" in t


def test_1t1r_netlist():
    p = CrossbarParams(2, 2, "1T1R", r_row=1.0, r_col=1.0)
    t = format_read_netlist(p, np.full((2, 2), 2.0**-16), forward(np.ones((1, 2)), 2, 0.0)).text
    assert "Rcell0_1 r0_1 x0_1 65536" in t
    assert "Msel0_1 x0_1 wl0 c0_1 0 nmos_1t1r w=2e-06 l=1e-06" in t
    assert "Vwl1 wl1 0 5" in t
    assert re.search(r"^\.model nmos_1t1r nmos level=1 vto=0\.8 kp=0\.00012", t, re.MULTILINE)


def test_transposed_and_selected_terminals():
    p = CrossbarParams(2, 3, r_row=1.0, r_col=1.0, r_source=5.0)
    nl = format_read_netlist(p, np.full((2, 3), 2.0**-16), transposed(np.ones((1, 3)), 2, 5.0),
                             save_rows=True, save_cols=False)
    assert "Vt_row0 d0 0 0" in nl.text and "Rsrc_col2 p_col2 0 5" in nl.text
    assert nl.row_currents == ("i(vt_row0)", "i(vt_row1)") and nl.col_currents == (None, None, None)
    nl = format_read_netlist(p, np.full((2, 3), 2.0**-16), select_cell((2, 3), 1, 2, 0.2, "float", 5.0))
    assert "Vt_row0" not in nl.text and "Vt_col0" not in nl.text  # unselected lines float
    assert "Vt_row1 d1 p_row1 0.2" in nl.text and "Vt_col2 s2 0 0" in nl.text


def test_sense_terminals_put_tias_and_injected_currents_on_the_sensed_ends():
    """Rows sensed through an ideal TIA with a read-noise current injected ahead of each ammeter."""
    from spicelim.bias import SenseTerminals
    from spicelim.periphery import TIA

    p = CrossbarParams(2, 3, r_row=1.0, r_col=1.0, r_source=5.0)
    u = np.array([[0.1, 0.2, 0.3], [0.2, 0.2, 0.2]])
    sense = SenseTerminals(rows=True, tia=TIA(r_f=1e4), v_plus=np.zeros((2, 2)),
                           injected=np.array([[1e-7, 2e-7], [3e-7, 2e-7]]))
    t = format_read_netlist(p, np.full((2, 3), 2.0**-16), transposed(u, 2, 5.0), save_rows=True, sense=sense).text
    assert "Bnz_row0 0 d0 I=pwl(v(idx), 0, 1e-07, 1, 3e-07)" in t  # current into the line end d0
    assert "Inz_row1 0 d1 2e-07" in t  # the same in every point: a plain current source
    assert "Vt_row0 d0 n_row0 0" in t and "Vvg_row0 n_row0 p_row0 0" in t  # ammeter, then the virtual ground
    assert not lines_starting(t, "Inz_col") and not lines_starting(t, "Bnz_col")  # driven columns get none
    with pytest.raises(InvalidParameterError, match="v_plus"):
        SenseTerminals(rows=False, tia=TIA(r_f=1e4))


def test_write_netlist_is_atomic(tmp_path):
    path = write_netlist(tmp_path / "a" / "x.cir", "* t\n.end\n")
    assert path.read_text() == "* t\n.end\n"
    assert [f.name for f in path.parent.iterdir()] == ["x.cir"]


def _golden_module():
    spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts" / "make_golden_netlists.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["crossbar_4x4_0T1R.cir", "crossbar_4x4_1T1R.cir"])
def test_golden_netlists_match_writer(name):
    mod = _golden_module()
    assert (ROOT / "netlists" / name).read_text() == mod.golden_text(mod.GOLDEN[name]), \
        "writer output changed: review, then run scripts/make_golden_netlists.py"
