"""Regenerate the example netlists in netlists/ (run from the repository root).

    .venv/bin/python scripts/make_golden_netlists.py

Each is a 4x4 array with fixed conductances and two input vectors, written by
spicelim.netlist.format_read_netlist with `.print` lines so that plain `ngspice -b FILE` prints
the column currents. tests/test_netlist.py checks that the files still match the writer and
tests/test_golden_spice.py runs them through the ngspice binary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spicelim.bias import forward
from spicelim.netlist import format_read_netlist, write_netlist
from spicelim.params import CrossbarParams

OUT = Path(__file__).resolve().parent.parent / "netlists"

# Conductances in siemens (10 kOhm ... 1 MOhm) and two input vectors in volts, both signs.
GOLDEN_G = np.array([[1e-4, 5e-5, 2e-5, 1e-6],
                     [2e-5, 1e-4, 1e-6, 5e-5],
                     [5e-5, 1e-6, 1e-4, 2e-5],
                     [1e-6, 2e-5, 5e-5, 1e-4]])
GOLDEN_V = np.array([[0.2, 0.1, -0.1, 0.05],
                     [-0.2, 0.15, 0.2, 0.0]])
GOLDEN = {
    "crossbar_4x4_0T1R.cir": CrossbarParams(4, 4, "0T1R", r_row=2.5, r_col=2.5, r_source=10.0),
    "crossbar_4x4_1T1R.cir": CrossbarParams(4, 4, "1T1R", r_row=2.5, r_col=2.5, r_source=10.0),
}


def golden_text(params: CrossbarParams) -> str:
    bias = forward(GOLDEN_V, params.cols, params.r_source)
    return format_read_netlist(params, GOLDEN_G, bias, print_results=True).text


def main() -> None:
    for name, params in GOLDEN.items():
        path = write_netlist(OUT / name, golden_text(params))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
