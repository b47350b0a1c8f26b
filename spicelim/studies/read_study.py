"""Read study: how much IR drop distorts a vector-matrix multiply, and how well the fast model tracks ngspice.

1. IR-drop map: an N x N passive array with every row at the read voltage; the fraction of the
   read voltage that reaches each device, solved by ngspice.
2. Read error versus array size: relative error of the column currents against the ideal v @ G
   for random inputs and conductances, for 0T1R and 1T1R arrays, solved by the fast nodal model;
   up to `spice_max_size` also by ngspice, with the fast-versus-spice disagreement reported.
3. Sneak paths: one cell of a 32x32 passive array read with the other lines floating, at V/2 and
   at V/3 (ngspice): the current through the selected device against what the sensed column adds.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..crossbar import Crossbar
from ..spice import SpiceBackend
from .plots import plot_error_vs_size, plot_ir_drop_map

G_MIN, G_MAX = 1e-6, 2e-5  # siemens: devices between 50 kOhm and 1 MOhm
V_READ = 0.2  # volts


@dataclass(frozen=True)
class SizeRow:
    size: int
    cell: str
    read_error: float  # fast model vs ideal, relative (norm over the batch)
    spice_read_error: float | None  # ngspice vs ideal
    fast_vs_spice: float | None  # max relative disagreement of fast against ngspice
    spice_s_per_read: float | None
    fast_s_per_read: float


def relative_error(a: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(a - ref) / np.linalg.norm(ref))


def sneak_study(out: Path, rng, spice: SpiceBackend, size: int = 32, r_wire: float = 2.5) -> list[dict]:
    """Read the worst-placed cell (far from driver and sense) of a size x size passive array three ways."""
    with Crossbar(size, size, "0T1R", r_row=r_wire, r_col=r_wire, spice=spice) as xb:
        xb.set_conductance(rng.uniform(G_MIN, G_MAX, xb.shape))
        row, col = 0, size - 1
        reads = [xb.read_cell(row, col, v_read=V_READ, scheme=s, backend="spice") for s in ("float", "V/2", "V/3")]
    print(f"\nSneak paths: cell ({row}, {col}) of a {size}x{size} passive array, {r_wire:g} ohm/segment,"
          f" V_read = {V_READ:g} V (ngspice)")
    print(f"{'scheme':>7} {'selected uA':>12} {'sensed uA':>10} {'sneak uA':>9} {'sensed/expected':>16}")
    rows = []
    for r in reads:
        print(f"{r.scheme:>7} {r.selected_current * 1e6:>12.4f} {r.sensed_current * 1e6:>10.4f}"
              f" {r.sneak_current * 1e6:>9.4f} {r.sensed_current / r.expected_current:>16.3f}")
        rows.append(asdict(r))
    (out / "sneak_paths.json").write_text(json.dumps(rows, indent=1))
    return rows


def run_read_study(out_dir="runs/read-study", map_size=128, sizes=(16, 32, 64, 128), r_wire=2.5, batch=16,
                   seed=0, spice_max_size=128) -> list[SizeRow]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    spice = SpiceBackend()  # one ngspice worker for the whole study
    try:
        return _study(out, rng, spice, map_size, sizes, r_wire, batch, spice_max_size)
    finally:
        spice.close()


def _study(out: Path, rng, spice: SpiceBackend, map_size, sizes, r_wire, batch, spice_max_size) -> list[SizeRow]:
    print(f"IR-drop map: {map_size}x{map_size} 0T1R, r_row = r_col = {r_wire:g} ohm, all rows at {V_READ:g} V")
    with Crossbar(map_size, map_size, "0T1R", r_row=r_wire, r_col=r_wire, spice=spice) as xb:
        xb.set_conductance(rng.uniform(G_MIN, G_MAX, xb.shape))
        op = xb.solve(np.full(map_size, V_READ), backend="spice")
    frac = op.device_voltage[0] / V_READ
    plot_ir_drop_map(out / "ir_drop_map.png", frac,
                     f"{map_size}x{map_size} passive array, {r_wire:g} ohm/segment, G in [{G_MIN:g}, {G_MAX:g}] S")
    worst = tuple(int(k) for k in np.unravel_index(frac.argmin(), frac.shape))
    print(f"  device voltage: min {frac.min() * 100:.1f}% of V_read (cell {worst}), mean {frac.mean() * 100:.1f}%")

    rows: list[SizeRow] = []
    jobs = [(n, cell) for n in sizes for cell in ("0T1R", "1T1R")]
    for n, cell in tqdm(jobs, desc="read error vs size", unit="array"):
        with Crossbar(n, n, cell, r_row=r_wire, r_col=r_wire, spice=spice) as xb:
            g = rng.uniform(G_MIN, G_MAX, (n, n))
            xb.set_conductance(g)
            v = rng.uniform(-V_READ, V_READ, (batch, n))
            ideal = xb.read(v, backend="ideal")
            t0 = time.perf_counter()
            fast = xb.read(v, backend="fast")
            t_fast = (time.perf_counter() - t0) / batch
            err_spice = agree = t_spice = None
            if n <= spice_max_size:
                t0 = time.perf_counter()
                circuit = xb.read(v, backend="spice")
                t_spice = (time.perf_counter() - t0) / batch
                err_spice = relative_error(circuit, ideal)
                agree = float(np.max(np.abs(fast - circuit)) / np.max(np.abs(circuit)))
            rows.append(SizeRow(n, cell, relative_error(fast, ideal), err_spice, agree, t_spice, t_fast))

    def f(x, fmt):
        return "-" if x is None else format(x, fmt)

    print(f"\nRead error against ideal v @ G ({r_wire:g} ohm/segment, {batch} random vectors, G in [{G_MIN:g}, {G_MAX:g}] S)")
    print(f"(s/read: one call reading the {batch} vectors, per vector; the fast time includes its factorisation)")
    print(f"{'N':>5} {'cell':>5} {'fast err %':>10} {'spice err %':>11} {'fast vs spice':>13} {'spice s/read':>12}"
          f" {'fast s/read':>11}")
    for r in rows:
        print(f"{r.size:>5} {r.cell:>5} {r.read_error * 100:>10.3f} {f(r.spice_read_error and r.spice_read_error * 100, '11.3f'):>11}"
              f" {f(r.fast_vs_spice, '13.2e'):>13} {f(r.spice_s_per_read, '12.4f'):>12} {r.fast_s_per_read:>11.5f}")
    series = {cell: [r.read_error for r in rows if r.cell == cell] for cell in ("0T1R", "1T1R")}
    plot_error_vs_size(out / "read_error_vs_size.png", list(sizes), series,
                       f"Read error from IR drop, {r_wire:g} ohm per segment (fast model)")
    (out / "read_error_vs_size.json").write_text(json.dumps([asdict(r) for r in rows], indent=1))
    sneak_study(out, rng, spice, size=min(32, max(sizes)), r_wire=r_wire)
    names = ("ir_drop_map.png", "read_error_vs_size.png", "read_error_vs_size.json", "sneak_paths.json")
    print("\nwrote " + ", ".join(str(out / nm) for nm in names))
    return rows
