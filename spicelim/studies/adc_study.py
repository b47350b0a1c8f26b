"""ADC-precision study: read error and energy of a signed vector-matrix multiply versus ADC bits.

The grid is ADC resolution (bits) x wire resistance per segment (ohms) x array size N. For
every size, an N x N matrix of signed weights W (uniform in [-1, 1], seeded) is stored as
differential conductance pairs (periphery.DifferentialPairs, G+ on column 2k, G- on column
2k + 1, w_max = 1) on an N x 2N passive (0T1R) array: N input rows, 2N device columns, N signed
outputs. Inputs are non-negative read voltages, uniform in [0, V_READ] (V_READ = 0.2 V, the read
voltage of Yao et al. 2020). Every column ends in a TIA (an ideal op-amp unless `tia_options`
say otherwise) whose feedback resistance is chosen per size so that the largest ideal column
current of the calibration batch gives `tia_full_scale` volts (1 V); every TIA output is
digitised by its own ADC whose full scale is calibrated per column (ADC.calibrate, margin x the
largest |TIA output|) on a calibration batch drawn independently of the test batch, so test
outputs may clip. The two reconstructed currents of a pair are subtracted digitally
(read_signed(..., subtraction="digital")).

The default margin is 1.25. With margin 1 (full scale at the largest calibration output) the
default grid (64 + 64 vectors, seed 0) clipped 2.3 %, 1.2 % and 1.0 % of the test outputs at
N = 32, 64 and 128, and a clipped column current enters the small difference I+ - I- whole: with
ideal wires the 10-bit error stalled at 6.6 %, 2.7 % and 2.5 % instead of falling to 0.4-0.7 %.
`clipped_fraction` in the results reports the clipping of every array.

Error metric: ||y - y_ideal|| / ||y_ideal|| over the whole test batch (Frobenius norms), where
y = I+ - I- (amperes, one per signed output) and y_ideal = v @ (G+ - G-) (no wires, no drivers,
no ADC). "No ADC" is the same metric on the TIA outputs before any conversion: the IR-drop
error alone, the floor the quantisation error falls to as the bits grow.

Speed: the TIA outputs do not depend on the ADC, so each (size, wire resistance) is simulated
once (one batch read through Crossbar.sense, plus one of the calibration batch) and the ADCs of
every resolution are applied in Python to those outputs (`quantise`). This gives the same codes
as an array built with that ADC and read with Crossbar.read_codes / read (tests/test_adc_study.py
checks it).

Note on range use: with non-negative inputs and positive conductances every column current is
positive and every TIA output negative, so a bipolar ADC calibrated to max |V_out| uses only
half of its codes (one bit is spent on a sign that never changes), and the digital subtraction
takes the difference of two large column currents: the rms signed output is 0.29, 0.22 and
0.16 of the rms column current at N = 32, 64 and 128 (`signed_over_column_rms`). Both raise
the quantisation error of this scheme above that of a unipolar ADC digitising a differential
(analog) subtraction. At 1 bit every output gets the same code (a constant half full scale per
column) and at 2 bits one magnitude threshold at half scale; the error at 2 or 3 bits can exceed
the 1-bit error. From 3 bits on it falls with every bit (about halving from 4 bits on) until it
meets the wire floor; the two errors are independent and add in quadrature (within 10 % on the
tested grid).

Energy per vector-matrix multiply (VMM), from periphery.read_cost on the simulated test batch:
drivers (sum V I t_read from the simulated source currents), feedback (I^2 r_f t_read in the TIA
feedback resistors), TIA (tia_energy_per_read per column) and ADC (energy_per_conversion per
column: 2N conversions per VMM). Digital subtraction, accumulation, control, DACs and line
charging are not counted (see periphery.energy). One VMM is N x N signed multiply-accumulates
(MACs) = 2 N^2 operations; GOP/s/W = 2 N^2 / E_VMM / 1e9 (read_cost itself counts every device
column, 2 N x 2N operations; that figure is twice this one and is reported as
`gops_per_watt_device_columns`).

Energy parameters (assumptions, not measurements):
- ADC: E_conv(bits) = FOM x 2^bits with a Walden figure of merit FOM = 10 fJ per conversion step
  (ADC_FOM), the order of good published SAR ADCs (the best Walden figures in the ADC surveys
  are a few fJ per step; most designs lie above). The nominal resolution stands in for the ENOB.
  A fixed `adc_energy_per_conversion` (joules, the same at every resolution) overrides it.
- TIA: 0.5 pJ per column and read (TIA_ENERGY_PER_READ): an op-amp biased at 10 uA from a 1 V
  supply for the 50 ns read pulse (T_READ).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..comparison import agreement, compare_backends
from ..crossbar import Crossbar
from ..errors import InvalidParameterError
from ..params import MAX_RESISTANCE
from ..periphery import ADC, TIA, DifferentialPairs, read_cost
from ..periphery.adc import MAX_BITS
from ..registry import Backends
from ..validation import (
    boolean,
    integer_list,
    non_negative_int,
    number_list,
    positive_int,
    real_number,
    show,
)
from .plots import _pyplot

G_MIN, G_MAX = 2e-6, 2e-5  # siemens: the conductance window of each device of a pair (50 kOhm .. 500 kOhm)
V_READ = 0.2  # volts: the largest input voltage
ADC_FOM = 10e-15  # joules per conversion step (Walden figure of merit), an assumption
TIA_ENERGY_PER_READ = 0.5e-12  # joules per TIA and read: 10 uA x 1 V x 50 ns, an assumption
T_READ = 50e-9  # seconds: read pulse
NO_ADC_FLOOR = 1e-12  # relative errors below this are round-off (ideal lines): not drawn on log axes


# ---------------------------------------------------------------------- building blocks
def walden_conversion_energy(bits: int, fom: float = ADC_FOM) -> float:
    """Walden scaling of the conversion energy: fom x 2^bits, joules (fom in joules per conversion step)."""
    return float(fom) * float(1 << int(bits))


def relative_error(y: np.ndarray, ref: np.ndarray) -> float:
    """||y - ref|| / ||ref|| over every element (Frobenius norms), dimensionless."""
    return agreement(y, ref).norm_error


def quantise(adc: ADC, v_out: np.ndarray, v_calibration: np.ndarray, margin: float = 1.0):
    """Digitise TIA outputs (B, L) volts with `adc`, its per-column full scale calibrated on other outputs.

    Returns (codes (B, L) int64, full scale (L,) volts). Equal to an array built with `adc` after
    Crossbar.calibrate_adc(calibration inputs, margin=margin), then read_codes(test inputs).
    """
    fs = adc.calibrate(v_calibration, margin=margin)
    return adc.convert(v_out, full_scale=fs, rng=adc.noise_stream()), fs


def signed_currents(adc: ADC | None, tia: TIA, v_out: np.ndarray, v_calibration: np.ndarray | None = None,
                    margin: float = 1.0) -> np.ndarray:
    """I+ - I- of every pair, amperes (B, K), from TIA outputs (B, 2K) volts; adc=None: no conversion.

    With an ADC the currents are reconstructed from the codes (ideal code centres, -V / r_f) and
    subtracted: what read_signed(..., subtraction="digital") returns for an array with that ADC.
    """
    if adc is None:
        i = tia.sensed_current(v_out)
    else:
        codes, fs = quantise(adc, v_out, v_calibration, margin)
        i = tia.sensed_current(adc.to_volts(codes, full_scale=fs))
    return i[..., 0::2] - i[..., 1::2]


def problem(size: int, batch: int, calibration_batch: int, seed: int, pairs: DifferentialPairs):
    """The seeded weights and inputs of one array size.

    Returns (W (N, N), G (N, 2N) siemens, test inputs (batch, N) volts, calibration inputs
    (calibration_batch, N) volts). The draws depend only on (seed, size), so a size gets the same
    problem whatever other sizes the grid holds.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(size,)))
    w = rng.uniform(-1.0, 1.0, (size, size))
    g = pairs.conductances(w, w_max=1.0)
    v_test = rng.uniform(0.0, V_READ, (batch, size))
    v_cal = rng.uniform(0.0, V_READ, (calibration_batch, size))
    return w, g, v_test, v_cal


def feedback_resistance(g: np.ndarray, v_calibration: np.ndarray, full_scale: float) -> float:
    """r_f (ohms) putting the largest ideal column current of the calibration inputs at `full_scale` volts."""
    return float(full_scale / np.max(v_calibration @ g))


# ---------------------------------------------------------------------- validation
def _check(bits, r_wires, sizes, batch, calibration_batch, check_max_size, seed, margin, tia_full_scale,
           r_source, t_read, adc_fom, adc_energy_per_conversion_j, tia_energy_per_read):
    bits = integer_list("ADC bits", bits, 1, MAX_BITS)
    sizes = integer_list("array sizes N", sizes, 1, 1024)
    r_wires = number_list("wire resistance (ohm)", r_wires, minimum=0.0, maximum=MAX_RESISTANCE)
    batch = positive_int("batch", batch, maximum=1 << 16)
    calibration_batch = batch if calibration_batch is None else positive_int("calibration_batch", calibration_batch,
                                                                             maximum=1 << 16)
    non_negative_int("check_max_size", check_max_size)
    non_negative_int("seed", seed)
    real_number("calibration margin", margin, minimum=0.0, strict=True)
    real_number("tia_full_scale (V)", tia_full_scale, minimum=0.0, strict=True)
    real_number("r_source (ohm)", r_source, minimum=0.0)
    real_number("t_read (s)", t_read, minimum=0.0, strict=True)
    real_number("adc_fom (J/step)", adc_fom, minimum=0.0)
    if adc_energy_per_conversion_j is not None:
        real_number("adc_energy_per_conversion (J)", adc_energy_per_conversion_j, minimum=0.0)
    real_number("tia_energy_per_read (J)", tia_energy_per_read, minimum=0.0)
    return bits, r_wires, sizes, batch, calibration_batch


# ---------------------------------------------------------------------- the study
def run_adc_study(out_dir="runs/adc-study", bits=range(1, 11), r_wires=(0.0, 1.0, 2.5, 5.0), sizes=(32, 64, 128),
                  batch: int = 64, calibration_batch: int | None = None, backend="fast", check_backend="spice",
                  check_max_size: int = 32, seed: int = 0, margin: float = 1.25, tia_full_scale: float = 1.0,
                  r_source: float = 0.0, t_read: float = T_READ, adc_fom: float = ADC_FOM,
                  adc_energy_per_conversion: float | None = None, tia_energy_per_read: float = TIA_ENERGY_PER_READ,
                  tia_options: dict | None = None, adc_options: dict | None = None,
                  pairs: DifferentialPairs | None = None, progress: bool = True) -> dict:
    """Run the grid bits x r_wires x sizes; write plots and adc_study.json into out_dir; return the summary.

    bits: ADC resolutions (1 .. 16). r_wires: resistance of one row and one column wire segment,
    ohms. sizes: N (N x N weights on an N x 2N array). batch / calibration_batch: input vectors
    of the test and of the ADC calibration reads (calibration_batch defaults to batch).
    backend: the backend of the study itself (a registered name or an ArrayBackend); check_backend
    (None: no check) re-solves the sizes up to check_max_size and the disagreement is reported.
    margin: ADC full scale = margin x max |TIA output| of the calibration batch, per column.
    tia_full_scale: volts the largest ideal calibration column current maps to (sets r_f).
    r_source: driver resistance, ohms. t_read: read pulse, seconds.
    adc_fom: joules per conversion step (E_conv = adc_fom x 2^bits); adc_energy_per_conversion:
    joules, the same for every resolution, overriding adc_fom. tia_energy_per_read: joules.
    tia_options / adc_options: extra TIA / ADC fields (e.g. {"gain": 1e4}, {"dnl": 0.2}).
    pairs: the conductance window (default 2 uS .. 20 uS).

    Every argument is checked before anything is simulated or written (InvalidParameterError).
    """
    bits, r_wires, sizes, batch, calibration_batch = _check(
        bits, r_wires, sizes, batch, calibration_batch, check_max_size, seed, margin, tia_full_scale,
        r_source, t_read, adc_fom, adc_energy_per_conversion, tia_energy_per_read)
    progress = boolean("progress", progress)
    if pairs is not None and not isinstance(pairs, DifferentialPairs):
        raise InvalidParameterError(f"pairs must be a DifferentialPairs, got {type(pairs).__name__}")
    pairs = pairs or DifferentialPairs(g_min=G_MIN, g_max=G_MAX)
    for name, options in (("tia_options", tia_options), ("adc_options", adc_options)):
        if options is not None and not isinstance(options, dict):
            raise InvalidParameterError(f"{name} must be a dict of field values or None, got {type(options).__name__}")
    tia_options = dict(tia_options or {})
    adc_options = dict(adc_options or {})
    for key in ("r_f", "energy_per_read"):
        if key in tia_options:
            raise InvalidParameterError(f"tia_options must not set {show(key)}: the study sets it")
    for key in ("bits", "full_scale", "energy_per_conversion"):
        if key in adc_options:
            raise InvalidParameterError(f"adc_options must not set {show(key)}: the study sets it")

    def make_adc(b: int) -> ADC:
        e = adc_energy_per_conversion if adc_energy_per_conversion is not None else walden_conversion_energy(b, adc_fom)
        return ADC(bits=b, full_scale="calibrate", energy_per_conversion=e, **adc_options)

    # Build one TIA and every ADC now: bad options fail before any simulation or file.
    try:
        TIA(r_f=1.0, energy_per_read=tia_energy_per_read, **tia_options)
        adcs = {b: make_adc(b) for b in bits}
    except TypeError as exc:  # an unknown field name
        raise InvalidParameterError(f"tia_options / adc_options: {exc}") from None

    checked = [n for n in sizes if n <= check_max_size] if check_backend is not None else []
    t_start = time.perf_counter()
    results = []
    with Backends() as backends:  # one ngspice worker for the whole grid
        main = backends.get(backend)
        check = None if check_backend is None else backends.get(check_backend)
        jobs = [(n, r) for n in sizes for r in r_wires]
        for n, r in tqdm(jobs, desc="ADC study (size, wire)", unit="array", disable=not progress):
            results.append(_one_array(n, r, bits, adcs, make_adc, pairs, batch, calibration_batch, main,
                                      check if n in checked else None, backends, seed, margin, tia_full_scale,
                                      r_source, t_read, tia_energy_per_read, tia_options))
    seconds = time.perf_counter() - t_start
    summary = {
        "description": "error of I+ - I- against v @ (G+ - G-) and energy per VMM versus ADC bits",
        "array": "N x N signed weights as differential pairs on an N x 2N passive (0T1R) array",
        "bits": bits, "r_wires_ohm": r_wires, "sizes": sizes, "batch": batch,
        "calibration_batch": calibration_batch, "backend": main.name,
        "check_backend": check.name if checked else None, "checked_sizes": checked, "seed": seed,
        "g_min_S": pairs.g_min, "g_max_S": pairs.g_max, "w_max": 1.0, "v_read_max_V": V_READ,
        "r_source_ohm": r_source, "calibration_margin": margin, "tia_full_scale_V": tia_full_scale,
        "t_read_s": t_read, "adc_fom_J_per_step": adc_fom if adc_energy_per_conversion is None else None,
        "adc_energy_per_conversion_J": {str(b): adcs[b].energy_per_conversion for b in bits},
        "tia_energy_per_read_J": tia_energy_per_read, "tia_options": tia_options, "adc_options": adc_options,
        "error_metric": "||y - y_ideal||_F / ||y_ideal||_F over the test batch, y = I+ - I- (A)",
        "operations_per_vmm": "2 N^2 (N x N signed MACs)",
        "seconds": seconds,
        "results": results,
    }
    out = Path(out_dir)  # written only once every array has been simulated
    out.mkdir(parents=True, exist_ok=True)
    summary["files"] = _plots(out, summary)
    path = out / "adc_study.json"
    summary["files"].append(str(path))
    path.write_text(json.dumps(summary, indent=1))
    return summary


def _one_array(n, r_wire, bits, adcs, make_adc, pairs, batch, calibration_batch, backend, check_backend, backends,
               seed, margin, tia_full_scale, r_source, t_read, tia_energy_per_read, tia_options) -> dict:
    """Simulate one (size, wire resistance) once and evaluate every ADC resolution on its TIA outputs."""
    _, g, v_test, v_cal = problem(n, batch, calibration_batch, seed, pairs)
    r_f = feedback_resistance(g, v_cal, tia_full_scale)
    tia = TIA(r_f=r_f, energy_per_read=tia_energy_per_read, **tia_options)
    ideal_cols = v_test @ g
    ideal = ideal_cols[:, 0::2] - ideal_cols[:, 1::2]

    def outputs(which):
        """(test TIA outputs, calibration TIA outputs, read cost) of the array solved on `which`."""
        with Crossbar(n, 2 * n, "0T1R", r_row=r_wire, r_col=r_wire, r_source=r_source, tia=tia,
                      backends=backends, backend=which) as xb:
            xb.set_conductance(g)
            v_cal_out = xb.read_tia_output(v_cal)
            read = xb.sense(v_test)
            return read.v_out, v_cal_out, read_cost(xb, v_test, t_read=t_read, read=read)

    if check_backend is None:
        t0 = time.perf_counter()
        v_out, v_cal_out, cost = outputs(backend)
        seconds = time.perf_counter() - t0
    else:
        cmp = compare_backends(outputs, candidate=backend, reference=check_backend, values=lambda res: res[0])
        (v_out, v_cal_out, cost), seconds = cmp.candidate_result, cmp.candidate_seconds
        w_out, w_cal_out, _ = cmp.reference_result
    errors = []
    for b in bits:
        errors.append(relative_error(signed_currents(adcs[b], tia, v_out, v_cal_out, margin), ideal))
    fs = np.max(np.abs(v_cal_out), axis=0) * margin
    row = {
        "size": n, "r_wire_ohm": r_wire, "r_f_ohm": r_f,
        "error": errors,
        "error_no_adc": relative_error(signed_currents(None, tia, v_out), ideal),
        "column_error_no_adc": relative_error(tia.sensed_current(v_out), ideal_cols),
        "clipped_fraction": float(np.mean(np.abs(v_out) > fs)),
        "max_abs_tia_output_V": float(np.max(np.abs(v_out))),
        "signed_over_column_rms": float(np.sqrt(np.mean(ideal**2) / np.mean(ideal_cols**2))),
        "simulation_s": seconds,
    }
    energy = []
    for b in bits:
        # the simulated read had no ADC: add this resolution's conversions, count N x N signed MACs
        c = replace(cost, adc=adcs[b].energy(2 * n), operations=2 * n * n)
        energy.append({
            "bits": b, "drivers_J": c.drivers, "feedback_J": c.feedback, "tia_J": c.tia, "adc_J": c.adc,
            "total_J": c.total, "energy_per_mac_J": c.energy_per_mac, "gops_per_watt": c.gops_per_watt,
            "gops_per_watt_device_columns": cost.operations / c.total / 1e9,
            "latency_s": t_read + (tia.settling_time(b) or 0.0),
        })
    row["energy"] = energy
    row["energy_no_adc_J"] = cost.drivers + cost.feedback + cost.tia + cost.dac
    if check_backend is not None:
        differ = []
        for b in bits:
            c_main, _ = quantise(make_adc(b), v_out, v_cal_out, margin)
            c_check, _ = quantise(make_adc(b), w_out, w_cal_out, margin)
            differ.append(float(np.mean(c_main != c_check)))
        row["check"] = {
            "backend": cmp.reference,
            "tia_output_max_rel_diff": cmp.agreement.max_rel,
            "error_no_adc": relative_error(signed_currents(None, tia, w_out), ideal),
            "error": [relative_error(signed_currents(make_adc(b), tia, w_out, w_cal_out, margin), ideal) for b in bits],
            "codes_differ_fraction": differ,
            "simulation_s": cmp.reference_seconds,
        }
    return row


# ---------------------------------------------------------------------- report
def format_table(summary: dict, energy_bits=(4, 6, 8)) -> str:
    """Text tables: error (%) versus bits for every (size, wire), then energy per VMM and GOP/s/W."""
    bits = summary["bits"]
    lines = [(f"Relative error of I+ - I- against v @ (G+ - G-), % ({summary['batch']} test vectors,"
              f" {summary['backend']} backend; 'no ADC': TIA outputs before conversion)")]
    head = f"{'N':>4} {'ohm':>5} " + " ".join(f"{str(b) + 'b':>7}" for b in bits) + f" {'no ADC':>8}"
    lines.append(head)
    for r in summary["results"]:
        lines.append(f"{r['size']:>4} {r['r_wire_ohm']:>5g} " + " ".join(f"{100 * e:>7.3f}" for e in r["error"])
                     + f" {100 * r['error_no_adc']:>8.4f}")
    shown = [b for b in energy_bits if b in bits] or bits
    lines.append("")
    lines.append("Energy per VMM (N x N signed MACs): pJ per VMM / fJ per MAC / GOP/s/W"
                 f" (ADC energy {'FOM x 2^bits' if summary['adc_fom_J_per_step'] is not None else 'fixed'})")
    lines.append(f"{'N':>4} {'ohm':>5} " + " ".join(f"{f'{b} bits':>26}" for b in shown)
                 + f" {'no ADC pJ':>10}")
    for r in summary["results"]:
        cells = []
        for b in shown:
            e = r["energy"][bits.index(b)]
            cells.append(f"{e['total_J'] * 1e12:>9.1f} /{e['energy_per_mac_J'] * 1e15:>6.2f} /{e['gops_per_watt']:>7.0f}")
        lines.append(f"{r['size']:>4} {r['r_wire_ohm']:>5g} " + " ".join(f"{c:>26}" for c in cells)
                     + f" {r['energy_no_adc_J'] * 1e12:>10.1f}")
    checked = [r for r in summary["results"] if "check" in r]
    if checked:
        lines.append("")
        c0 = checked[0]["check"]["backend"]
        lines.append(f"{summary['backend']} against {c0}: max |dV_out| / max |V_out|, no-ADC error"
                     f" ({summary['backend']} / {c0}), fraction of ADC codes that differ at {bits[-1]} bits")
        for r in checked:
            c = r["check"]
            lines.append(f"{r['size']:>4} {r['r_wire_ohm']:>5g}   {c['tia_output_max_rel_diff']:.2e}"
                         f"   {100 * r['error_no_adc']:.4f} % / {100 * c['error_no_adc']:.4f} %"
                         f"   {c['codes_differ_fraction'][-1]:.2e}")
    lines.append(f"\n{len(summary['results'])} arrays in {summary['seconds']:.1f} s")
    return "\n".join(lines)


def _plots(out: Path, summary: dict) -> list[str]:
    plt = _pyplot()
    bits, sizes, r_wires = summary["bits"], summary["sizes"], summary["r_wires_ohm"]
    by = {(r["size"], r["r_wire_ohm"]): r for r in summary["results"]}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    files = []

    fig, axes = plt.subplots(1, len(sizes), figsize=(4.6 * len(sizes), 4.4), squeeze=False, sharey=True)
    for ax, n in zip(axes[0], sizes):
        for k, r in enumerate(r_wires):
            row, c = by[(n, r)], colors[k % len(colors)]
            ax.plot(bits, np.asarray(row["error"]) * 100, marker="o", ms=4, color=c, label=f"{r:g} ohm")
            if row["error_no_adc"] > NO_ADC_FLOOR:
                ax.axhline(row["error_no_adc"] * 100, color=c, ls="--", lw=1)
        ax.set_yscale("log")
        ax.set_xticks(bits)
        ax.set_xlabel("ADC resolution (bits)")
        ax.set_title(f"N = {n}: {n}x{n} weights, {n}x{2 * n} array", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("relative error of I+ - I- vs ideal (%)")
    axes[0][0].legend(title="wire per segment", fontsize=8)
    fig.suptitle("Signed VMM error vs ADC bits (solid) and without ADC, IR drop only (dashed);"
                 " 0 ohm without ADC is exact", fontsize=10)
    fig.tight_layout()
    path = out / "adc_error_vs_bits.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    files.append(str(path))

    fig, axes = plt.subplots(2, len(sizes), figsize=(4.6 * len(sizes), 7.6), squeeze=False, sharex=True)
    for j, n in enumerate(sizes):
        for k, r in enumerate(r_wires):
            e = by[(n, r)]["energy"]
            c, ls = colors[k % len(colors)], ("-", "--", "-.", ":")[k % 4]
            axes[0][j].plot(bits, [x["total_J"] * 1e12 for x in e], marker="o", ms=3, color=c, ls=ls, label=f"{r:g} ohm")
            axes[1][j].plot(bits, [x["gops_per_watt"] for x in e], marker="o", ms=3, color=c, ls=ls, label=f"{r:g} ohm")
        axes[0][j].set_yscale("log")
        axes[1][j].set_yscale("log")
        axes[0][j].set_title(f"N = {n} ({n * n} signed MACs per VMM)", fontsize=10)
        axes[1][j].set_xlabel("ADC resolution (bits)")
        axes[1][j].set_xticks(bits)
        for ax in axes[:, j]:
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("energy per VMM (pJ)")
    axes[1][0].set_ylabel("GOP/s/W (2 N^2 operations per VMM)")
    axes[0][0].legend(title="wire per segment", fontsize=8)
    adc = ("ADC E = FOM x 2^bits, FOM = " + f"{summary['adc_fom_J_per_step'] * 1e15:g} fJ/step"
           if summary["adc_fom_J_per_step"] is not None else "fixed ADC energy per conversion")
    fig.suptitle(f"Energy per signed VMM vs ADC bits ({adc}; TIA {summary['tia_energy_per_read_J'] * 1e12:g} pJ"
                 f" per read; {summary['t_read_s'] * 1e9:g} ns read)", fontsize=10)
    fig.tight_layout()
    path = out / "adc_energy_vs_bits.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    files.append(str(path))

    r_show = r_wires[0]
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.6 * len(sizes), 4.2), squeeze=False)
    parts = (("drivers_J", "drivers"), ("feedback_J", "TIA feedback"), ("tia_J", "TIA bias"), ("adc_J", "ADC"))
    for ax, n in zip(axes[0], sizes):
        e = by[(n, r_show)]["energy"]
        bottom = np.zeros(len(bits))
        for key, label in parts:
            vals = np.array([x[key] for x in e]) * 1e12
            ax.bar(bits, vals, bottom=bottom, label=label)
            bottom += vals
        ax.set_xticks(bits)
        ax.set_xlabel("ADC resolution (bits)")
        ax.set_title(f"N = {n}, {r_show:g} ohm per segment", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("energy per VMM (pJ)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Where the energy of one signed VMM goes", fontsize=10)
    fig.tight_layout()
    path = out / "adc_energy_breakdown.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    files.append(str(path))
    return files
