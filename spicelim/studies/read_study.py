"""Read study: how much IR drop distorts a vector-matrix multiply, and how well a fast model tracks circuit truth.

1. IR-drop map: an N x N passive array with every row at the read voltage; the fraction of the
   read voltage that reaches each device, solved by the reference backend (ngspice by default).
2. Read error versus array size: relative error of the column currents against the ideal v @ G
   for random inputs and conductances, for 0T1R and 1T1R arrays, solved by the model under study
   (the fast nodal model by default, or any registered backend); up to `reference_max_size` also
   by the reference, with the model-versus-reference disagreement (spicelim.comparison).
3. Sneak paths: one cell of a 32x32 passive array read with the other lines floating, at V/2 and
   at V/3 (reference backend): the current through the selected device against what the sensed
   column adds.
Files are written only once everything is simulated.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..backend import FLOATING_LINES, NODE_VOLTAGES, require
from ..comparison import agreement, compare_backends
from ..crossbar import Crossbar
from ..params import MAX_LINES, MAX_RESISTANCE
from ..registry import Backends
from ..validation import integer_list, non_negative_int, positive_int, real_number
from .plots import plot_error_vs_size, plot_ir_drop_map

G_MIN, G_MAX = 1e-6, 2e-5  # siemens: devices between 50 kOhm and 1 MOhm
V_READ = 0.2  # volts


@dataclass(frozen=True)
class SizeRow:
    size: int
    cell: str
    model: str
    reference: str | None
    model_error: float  # model vs ideal v @ G, relative (norm over the batch)
    reference_error: float | None  # reference vs ideal
    model_vs_reference: float | None  # max |model - reference| / max |reference|
    reference_s_per_read: float | None
    model_s_per_read: float


def sneak_reads(backends: Backends, rng, reference, size: int = 32, r_wire: float = 2.5) -> list:
    """Read the worst-placed cell (far from driver and sense) of a size x size passive array three ways."""
    with Crossbar(size, size, "0T1R", r_row=r_wire, r_col=r_wire, backends=backends, backend=reference) as xb:
        xb.set_conductance(rng.uniform(G_MIN, G_MAX, xb.shape))
        return [xb.read_cell(0, size - 1, v_read=V_READ, scheme=s) for s in ("float", "V/2", "V/3")]


def run_read_study(out_dir="runs/read-study", map_size=128, sizes=(16, 32, 64, 128), r_wire=2.5, batch=16,
                   seed=0, reference_max_size=128, model="fast", reference="spice") -> list[SizeRow]:
    """Run the study (see the module docstring), print its tables and write plots and JSON into out_dir.

    model: the backend under study (a registered name or an ArrayBackend). reference: the circuit
    truth it is checked against, which also solves the IR-drop map and the sneak reads (it needs
    the node_voltages and floating_lines capabilities).
    """
    map_size = positive_int("map_size", map_size, maximum=MAX_LINES)
    sizes = integer_list("sizes", sizes, 1, MAX_LINES)
    r_wire = real_number("r_wire (ohm)", r_wire, minimum=0.0, maximum=MAX_RESISTANCE)
    batch = positive_int("batch", batch, maximum=1 << 16)
    reference_max_size = non_negative_int("reference_max_size", reference_max_size, maximum=MAX_LINES)
    rng = np.random.default_rng(non_negative_int("seed", seed))
    with Backends() as backends:  # one ngspice worker for the whole study
        ref = backends.get(reference)
        require(ref, NODE_VOLTAGES, "the read study's IR-drop map (reference backend)")
        require(ref, FLOATING_LINES, "the read study's sneak reads (reference backend)")
        fraction = ir_drop_map(backends, rng, ref, map_size, r_wire)
        rows = size_sweep(backends, rng, backends.get(model), ref, sizes, r_wire, batch, reference_max_size)
        sneaks = sneak_reads(backends, rng, ref, size=min(32, max(sizes)), r_wire=r_wire)
    _report(Path(out_dir), fraction, rows, sneaks, map_size, sizes, r_wire, batch, ref.name)
    return rows


def ir_drop_map(backends: Backends, rng, reference, map_size: int, r_wire: float) -> np.ndarray:
    """(N, N) fraction of the read voltage each device receives with every row at V_READ."""
    with Crossbar(map_size, map_size, "0T1R", r_row=r_wire, r_col=r_wire, backends=backends, backend=reference) as xb:
        xb.set_conductance(rng.uniform(G_MIN, G_MAX, xb.shape))
        op = xb.solve(np.full(map_size, V_READ))
    return op.device_voltage[0] / V_READ


def size_sweep(backends: Backends, rng, model, reference, sizes, r_wire, batch, reference_max_size) -> list[SizeRow]:
    rows: list[SizeRow] = []
    jobs = [(n, cell) for n in sizes for cell in ("0T1R", "1T1R")]
    for n, cell in tqdm(jobs, desc="read error vs size", unit="array"):
        with Crossbar(n, n, cell, r_row=r_wire, r_col=r_wire, backends=backends, backend=model) as xb:
            xb.set_conductance(rng.uniform(G_MIN, G_MAX, (n, n)))
            v = rng.uniform(-V_READ, V_READ, (batch, n))
            ideal = v @ xb.conductance
            if n > reference_max_size:
                t0 = time.perf_counter()
                got = xb.read(v)
                rows.append(SizeRow(size=n, cell=cell, model=model.name, reference=None,
                                    model_error=agreement(got, ideal).norm_error, reference_error=None,
                                    model_vs_reference=None, reference_s_per_read=None,
                                    model_s_per_read=(time.perf_counter() - t0) / batch))
                continue
            cmp = compare_backends(lambda b: xb.read(v, backend=b), candidate=model, reference=reference)
            rows.append(SizeRow(
                size=n, cell=cell, model=model.name, reference=reference.name,
                model_error=agreement(cmp.candidate_result, ideal).norm_error,
                reference_error=agreement(cmp.reference_result, ideal).norm_error,
                model_vs_reference=cmp.agreement.max_rel, reference_s_per_read=cmp.reference_seconds / batch,
                model_s_per_read=cmp.candidate_seconds / batch))
    return rows


def _report(out: Path, fraction, rows, sneaks, map_size, sizes, r_wire, batch, reference: str) -> None:
    worst = tuple(int(k) for k in np.unravel_index(fraction.argmin(), fraction.shape))
    print(f"IR-drop map: {map_size}x{map_size} 0T1R, r_row = r_col = {r_wire:g} ohm, all rows at {V_READ:g} V"
          f" ({reference})")
    print(f"  device voltage: min {fraction.min() * 100:.1f}% of V_read (cell {worst}), mean {fraction.mean() * 100:.1f}%")

    def f(x, fmt):
        return "-" if x is None else format(x, fmt)

    model = rows[0].model
    print(f"\nRead error against ideal v @ G ({r_wire:g} ohm/segment, {batch} random vectors, G in [{G_MIN:g}, {G_MAX:g}] S)")
    print(f"(s/read: one call reading the {batch} vectors, per vector; the {model} time includes any factorisation)")
    print(f"{'N':>5} {'cell':>5} {model + ' err %':>10} {reference + ' err %':>11} {model + ' vs ' + reference:>13}"
          f" {reference + ' s/read':>12} {model + ' s/read':>11}")
    for r in rows:
        print(f"{r.size:>5} {r.cell:>5} {r.model_error * 100:>10.3f}"
              f" {f(r.reference_error and r.reference_error * 100, '11.3f'):>11}"
              f" {f(r.model_vs_reference, '13.2e'):>13} {f(r.reference_s_per_read, '12.4f'):>12}"
              f" {r.model_s_per_read:>11.5f}")
    sneak_size = min(32, max(sizes))
    print(f"\nSneak paths: cell (0, {sneak_size - 1}) of a {sneak_size}x{sneak_size} passive array,"
          f" {r_wire:g} ohm/segment, V_read = {V_READ:g} V ({reference})")
    print(f"{'scheme':>7} {'selected uA':>12} {'sensed uA':>10} {'sneak uA':>9} {'sensed/expected':>16}")
    for r in sneaks:
        print(f"{r.scheme:>7} {r.selected_current * 1e6:>12.4f} {r.sensed_current * 1e6:>10.4f}"
              f" {r.sneak_current * 1e6:>9.4f} {r.sensed_current / r.expected_current:>16.3f}")
    out.mkdir(parents=True, exist_ok=True)
    plot_ir_drop_map(out / "ir_drop_map.png", fraction,
                     f"{map_size}x{map_size} passive array, {r_wire:g} ohm/segment, G in [{G_MIN:g}, {G_MAX:g}] S")
    series = {cell: [r.model_error for r in rows if r.cell == cell] for cell in ("0T1R", "1T1R")}
    plot_error_vs_size(out / "read_error_vs_size.png", list(sizes), series,
                       f"Read error from IR drop, {r_wire:g} ohm per segment ({model} model)")
    (out / "read_error_vs_size.json").write_text(json.dumps([asdict(r) for r in rows], indent=1))
    (out / "sneak_paths.json").write_text(json.dumps([asdict(r) for r in sneaks], indent=1))
    names = ("ir_drop_map.png", "read_error_vs_size.png", "read_error_vs_size.json", "sneak_paths.json")
    print("\nwrote " + ", ".join(str(out / nm) for nm in names))
