"""The example netlists in netlists/ run in plain `ngspice -b` and print the right currents."""

import importlib.util
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from reference import solve_crossbar

pytestmark = pytest.mark.spice
ROOT = Path(__file__).resolve().parent.parent


def printed_currents(text: str, n_cols: int, batch: int) -> np.ndarray:
    out = np.full((batch, n_cols), np.nan)
    header = None
    for line in text.splitlines():
        if line.startswith("Index"):
            header = line.split()
            continue
        if header and re.match(r"^\d+\s", line):
            fields = line.split()
            for name, val in zip(header[2:], fields[2:]):
                j = int(re.match(r"vt_col(\d+)#branch", name).group(1))
                out[int(fields[0]), j] = float(val)
    return out


@pytest.mark.parametrize("name,cell", [("crossbar_4x4_0T1R.cir", "0T1R"), ("crossbar_4x4_1T1R.cir", "1T1R")])
def test_golden_netlist_in_plain_ngspice(tmp_path, name, cell):
    spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "make_golden_netlists.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = subprocess.run(["ngspice", "-b", str(ROOT / "netlists" / name)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    got = printed_currents(res.stdout, 4, 2)
    p = mod.GOLDEN[name]
    want = np.array([solve_crossbar(mod.GOLDEN_G, v, p.r_row, p.r_col, p.r_source, cell) for v in mod.GOLDEN_V])
    np.testing.assert_allclose(got, want, rtol=1e-5)  # ngspice prints 7 significant digits
