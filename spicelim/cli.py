"""The `spicelim` command."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _doctor(args) -> int:
    from .doctor import run_doctor

    checks = run_doctor()
    bad = [c for c in checks if not c.ok]
    if args.json:
        _print_json({"ok": not bad, "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}
                                                for c in checks]})
        return 1 if bad else 0
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            print(f"     {'':<{width}}  fix: {c.fix}")
    print("all checks passed" if not bad else f"{len(bad)} check(s) failed")
    return 1 if bad else 0


def _read_study(args) -> int:
    import contextlib

    from .studies.read_study import run_read_study

    with contextlib.redirect_stdout(sys.stderr if args.json else sys.stdout):  # (the study prints its tables)
        rows = run_read_study(out_dir=args.out, map_size=args.map_size, sizes=tuple(args.sizes), r_wire=args.r_wire,
                              batch=args.batch, seed=args.seed, reference_max_size=args.reference_max_size,
                              model=args.model, reference=args.reference)
    if args.json:
        _print_json({"sizes": rows})
    return 0


#: device-curves defaults per model: sine amplitude (V) and frequency (Hz), SET and RESET pulse
#: amplitudes (V) and pulse width (s). The Stanford-PKU gap model switches only above its minimum
#: field (about 1.05 V at g_min, 1.39 V at g_max) and its SET runs away (the gap closes faster as it
#: shrinks), so it gets larger amplitudes and shorter pulses than the others. At its defaults the
#: ngspice curves leave numpy by up to ~10 % of the conductance swing at the one pulse where SET runs
#: away (a gap difference of 1.6 % of its range; ngspice's 2000-point step is coarse there), < 1 % elsewhere.
_CURVES_1V = {"sine_amplitude": 1.0, "sine_frequency": 2e4, "set_amplitude": 1.0, "reset_amplitude": -1.0,
              "pulse_width": 1e-6}
CURVE_DEFAULTS = {
    "vteam": _CURVES_1V,
    "yakopcic": _CURVES_1V,
    "soft-bounds": _CURVES_1V,
    "stanford-pku": {"sine_amplitude": 1.5, "sine_frequency": 1e6, "set_amplitude": 1.4, "reset_amplitude": -1.3,
                     "pulse_width": 2e-8},
}


def _device_curves(args) -> int:
    from .comparison import agreement
    from .devices import VTEAM, SoftBoundsRRAM, StanfordPKU, Yakopcic
    from .studies.device_curves import device_curves

    models = {"vteam": VTEAM, "yakopcic": Yakopcic, "soft-bounds": SoftBoundsRRAM, "stanford-pku": StanfordPKU}
    dev = models[args.model]()
    opts = {k: (getattr(args, k) if getattr(args, k) is not None else default)
            for k, default in CURVE_DEFAULTS[args.model].items()}
    res = device_curves(dev, args.out, pulses=args.pulses, **opts)
    g = {k: np.asarray(v) for k, v in res["ltp_ltd"].items()}
    ref = g["numpy"]
    deviation = {label: agreement(values, ref, scale=np.ptp(ref)).max_rel for label, values in g.items()}
    if args.json:
        _print_json({"ltp_ltd": res["ltp_ltd"], "max_deviation_from_numpy": deviation, "files": res["files"]})
        return 0
    for label, dev in deviation.items():
        print(f"{label:>12}: conductance after each pulse, max deviation from numpy {100 * dev:.3f} % of the swing")
    print("wrote " + ", ".join(res["files"]))
    return 0


def _program(args) -> int:
    from .studies.programming_study import run_programming_study

    res = run_programming_study(args.out, size=args.size, backend=args.backend, r_wire=args.r_wire, c2c=args.c2c,
                                d2d=args.d2d, stuck=args.stuck, max_pulses=args.max_pulses, seed=args.seed)
    if args.json:
        _print_json(res)
        return 0
    for label, m in res["methods"].items():
        print(f"{label:>12}: {100 * m['healthy_within_tolerance']:.2f} % of healthy cells within"
              f" {res['tolerance_S'] * 1e6:.2f} uS, {m['mean_pulses']:.1f} pulses per cell (max {m['max_pulses']}),"
              f" {m['stuck_cells']} stuck, {m['reported_unresponsive']} reported unresponsive, {m['seconds']:.1f} s")
    print("wrote " + ", ".join(res["files"]))
    return 0


#: Models of the disturb study.
DISTURB_MODELS = ("soft-bounds", "stanford-pku", "vteam", "yakopcic")


def _disturb_study(args) -> int:
    from .devices import VTEAM, SoftBoundsRRAM, StanfordPKU, Yakopcic
    from .programming import PulseTiming
    from .studies.disturb import (
        default_sweep,
        format_table,
        half_select_disturb,
        write_disturb_study,
    )

    dev = {"soft-bounds": SoftBoundsRRAM, "stanford-pku": StanfordPKU, "vteam": VTEAM, "yakopcic": Yakopcic}[args.model]()
    amplitudes, timing = default_sweep(dev)
    if args.pulse_width is not None:
        timing = PulseTiming(width=args.pulse_width)
    study = half_select_disturb(dev, (args.size, args.size), amplitudes=args.amplitudes or amplitudes,
                                n_pulses=args.pulses, backend=args.backend, r_wire=args.r_wire, timing=timing,
                                target=args.target)
    files = write_disturb_study(study, args.out)
    if args.json:
        _print_json({**study.to_json(), "files": files})
        return 0
    print(format_table(study))
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


def _adc_study(args) -> int:
    from .studies.adc_study import format_table, run_adc_study

    res = run_adc_study(out_dir=args.out, bits=args.bits, r_wires=args.r_wires, sizes=args.sizes, batch=args.batch,
                        backend=args.backend, check_backend=None if args.check_backend == "none" else args.check_backend,
                        check_max_size=args.check_max_size, seed=args.seed, margin=args.margin)
    if args.json:
        _print_json(res)
        return 0
    print(format_table(res))
    print("wrote " + ", ".join(res["files"]))
    return 0


def _plain(obj):
    """json.dumps fallback: numpy values, paths and dataclasses as plain JSON."""
    import dataclasses
    from pathlib import Path

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON")


def _print_json(obj) -> None:
    import json

    print(json.dumps(obj, sort_keys=True, default=_plain))


def _train(args) -> int:
    from .learning.experiment import RunConfig, run_experiment

    cfg = RunConfig.from_toml(args.config)
    res = run_experiment(cfg, run_dir=args.run_dir, progress=not args.json)
    out = {k: res[k] for k in ("baseline_accuracy", "transfer_accuracy", "trained_accuracy", "seconds")}
    if args.json:
        _print_json(out)
    else:
        print(f"software baseline {100 * out['baseline_accuracy']:.2f} %, on the arrays"
              f" {100 * out['transfer_accuracy']:.2f} %, after training on them {100 * out['trained_accuracy']:.2f} %"
              f" ({out['seconds']:.0f} s; metrics in {args.run_dir})")
    return 0


def _demo(args) -> int:
    from .learning.demo import format_table, run_demo

    res = run_demo(args.out, seed=args.seed, progress=not args.json)
    if not args.json:
        print(format_table(res))
        print("wrote " + ", ".join(res["files"]))
    summary = {k: v for k, v in res.items() if k != "files"}
    _print_json(summary)
    return 0


def _sweep(args) -> int:
    from .sweeps import SweepSpec, run_sweep

    spec = SweepSpec.from_toml(args.spec)
    res = run_sweep(spec, args.out, scheduler=args.scheduler, workers=args.workers, progress=not args.json,
                    retry_failed=not args.keep_failed)
    summary = {"points": res.points, "skipped": res.skipped, "ran": res.ran, "failed": res.failed,
               "seconds": res.seconds, "files": [str(f) for f in res.files]}
    if args.json:
        _print_json(summary)
    else:
        print(f"{res.points} points: {res.skipped} already done, {res.ran} run now ({res.failed} failed) in"
              f" {res.seconds:.1f} s")
        print("wrote " + ", ".join(summary["files"]))
    return 1 if res.failed else 0


def _add_array_args(p) -> None:
    """The options that describe an array, its conductances and its inputs (netlist and read)."""
    p.add_argument("--rows", type=int, default=4, help="rows M (default 4)")
    p.add_argument("--cols", type=int, default=4, help="columns N (default 4)")
    p.add_argument("--cell", choices=["0T1R", "1T1R"], default="0T1R")
    p.add_argument("--r-wire", type=float, default=0.0, help="ohms per segment of every line (default 0)")
    p.add_argument("--r-source", type=float, default=0.0, help="driver output resistance, ohms (default 0)")
    p.add_argument("--conductance", help="M x N conductances in siemens (.npy, or .csv with one row per line)")
    p.add_argument("--g-min", type=float, default=1e-6, help="without --conductance: uniform random from (S)")
    p.add_argument("--g-max", type=float, default=2e-5, help="... to (S)")
    p.add_argument("--inputs", help="B x M input voltages (.npy or .csv; B x N with --transposed)")
    p.add_argument("--batch", type=int, default=1, help="without --inputs: random vectors (default 1)")
    p.add_argument("--v-read", type=float, default=0.2, help="... uniform in [0, v_read] volts (default 0.2)")
    p.add_argument("--transposed", action="store_true", help="drive the columns, sense the rows")
    p.add_argument("--seed", type=int, default=0)


def _load_matrix(path: str, what: str) -> np.ndarray:
    from .errors import InvalidParameterError

    try:
        if path.endswith(".npy"):
            return np.atleast_2d(np.load(path, allow_pickle=False))
        return np.atleast_2d(np.loadtxt(path, delimiter=",", ndmin=2))
    except (OSError, ValueError) as exc:
        raise InvalidParameterError(f"cannot read the {what} from {path}: {exc}") from None


def _array_case(args):
    """(CrossbarParams, conductances, inputs) from the array options."""
    from .params import CrossbarParams
    from .validation import positive_int, real_number

    params = CrossbarParams(args.rows, args.cols, args.cell, r_row=args.r_wire, r_col=args.r_wire,
                            r_source=args.r_source)
    rng = np.random.default_rng(args.seed)
    if args.conductance:
        g = _load_matrix(args.conductance, "conductances")
    else:
        lo = real_number("--g-min (S)", args.g_min, minimum=0.0, strict=True)
        hi = real_number("--g-max (S)", args.g_max, minimum=lo)
        g = rng.uniform(lo, hi, params.shape)
    n_in = params.cols if args.transposed else params.rows
    if args.inputs:
        v = _load_matrix(args.inputs, "inputs")
    else:
        v_read = real_number("--v-read (V)", args.v_read, minimum=0.0, strict=True, maximum=100.0)
        v = rng.uniform(0.0, v_read, (positive_int("--batch", args.batch, maximum=4096), n_in))
    return params, g, v


def _netlist(args) -> int:
    from .bias import forward, transposed
    from .netlist import format_read_netlist, write_netlist

    params, g, v = _array_case(args)
    bias = (transposed if args.transposed else forward)(v, params.rows if args.transposed else params.cols,
                                                        params.r_source)
    net = format_read_netlist(params, g, bias, print_results=True, save_rows=args.transposed,
                              save_cols=not args.transposed)
    path = write_netlist(args.out, net)
    _print_json({"netlist": str(path), "rows": params.rows, "cols": params.cols, "cell": params.cell,
                 "batch": int(bias.batch), "printed": list(net.row_currents if args.transposed else net.col_currents),
                 "run": f"ngspice -b {path}"})
    return 0


def _read(args) -> int:
    from .crossbar import Crossbar

    params, g, v = _array_case(args)
    with Crossbar(params.rows, params.cols, params.cell, r_row=params.r_row, r_col=params.r_col,
                  r_source=params.r_source, backend=args.backend) as xb:
        xb.set_conductance(g)
        out = np.atleast_2d(xb.read(v, transpose=args.transposed))
    if args.json:
        _print_json({"backend": args.backend, "currents_A": out.tolist()})
    else:
        for row in out:
            print(",".join(f"{x:.9e}" for x in row))
    return 0


def _validate(args) -> int:
    from .studies.fast_model_validation import run_validation

    res = run_validation(args.out, sizes=args.sizes, r_wires=args.r_wires, cells=args.cells,
                         on_off_ratios=args.on_off_ratios, hrs_fractions=args.hrs_fractions, devices=args.devices,
                         batch=args.batch,
                         seed=args.seed, workers=args.workers, scheduler=args.scheduler, accuracy=not args.no_accuracy,
                         accuracy_r_wires=args.accuracy_r_wires, progress=not args.json)
    if args.json:
        _print_json({"grid": res["rows"], "accuracy": res["accuracy"], "files": res["files"]})
    else:
        print(res["table"])
        if res["accuracy_table"]:
            print()
            print(res["accuracy_table"])
        print("wrote " + ", ".join(res["files"]))
    return 0


def _setting(text: str) -> tuple[str, object]:
    """KEY=VALUE of --set and --vary: the value as JSON (numbers, lists, true/false) or else a string."""
    import json

    key, sep, value = text.partition("=")
    if not sep or "." not in key:
        raise argparse.ArgumentTypeError(f"expected section.key=value, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


_REPRODUCE_FLAGS = {"r_wire": "arrays.r_wire", "adc_bits": "arrays.adc_bits", "d2d": "arrays.d2d",
                    "threshold": "training.threshold", "hybrid_epochs": "training.epochs", "groups": "system.groups",
                    "workers": "system.eval_workers"}


def _reproduce(args) -> int:
    from .studies.reproduce import reproduce_yao2020, sensitivity_yao2020, with_setting
    from .validation import read_toml

    raw = read_toml("configuration", args.config) if args.config else {}
    for key, value in args.set or []:
        raw = with_setting(raw, key, value)
    for flag, key in _REPRODUCE_FLAGS.items():
        if getattr(args, flag) is not None:
            raw = with_setting(raw, key, getattr(args, flag))
    if args.fc_backend is not None:
        raw = with_setting(raw, "training.backends", [args.fc_backend])
    if args.sensitivity:
        if len(args.seeds) != 1:
            print("spicelim reproduce: the sensitivity table runs one seed (--seeds N)", file=sys.stderr)
            return 2
        raw = with_setting(raw, "seed", args.seeds[0])
        variations = None
        if args.vary:
            variations = {key: value if isinstance(value, list) else [value] for key, value in args.vary}
        res = sensitivity_yao2020(raw, args.out, variations, scheduler=args.scheduler,
                                  workers=args.workers if args.workers else 2, progress=not args.json)
        if args.json:
            _print_json({"rows": res["rows"], "files": res["files"]})
        else:
            print(res["table"])
            print("wrote " + ", ".join(res["files"]))
        return 0
    res = reproduce_yao2020(raw, args.out, seeds=args.seeds, progress=not args.json)
    if args.json:
        _print_json({"results": res["results"], "files": res["files"]})
    else:
        print(res["report"])
        print("wrote " + ", ".join(res["files"] + [f for r in res["results"] for f in r["files"]]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spicelim", description="Circuit-level crossbar simulation with ngspice.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("doctor", help="check ngspice (KLU, OSDI), libngspice, openvaf-r and PySpice; run a 2x2 read")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_doctor)
    p = sub.add_parser("read-study", help="IR-drop map and read error versus array size (plots and a table)")
    p.add_argument("--out", default="runs/read-study", help="output folder (default: runs/read-study)")
    p.add_argument("--map-size", type=int, default=128, help="array size of the IR-drop map (default 128)")
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128], help="array sizes for the error sweep")
    p.add_argument("--r-wire", type=float, default=2.5, help="wire resistance per segment, ohms (default 2.5)")
    p.add_argument("--batch", type=int, default=16, help="random input vectors per size (default 16)")
    p.add_argument("--model", default="fast", help="the backend under study (default fast; any registered name)")
    p.add_argument("--reference", default="spice", help="the backend it is checked against (default spice)")
    p.add_argument("--reference-max-size", type=int, default=128,
                   help="largest size also solved by the reference backend (default 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object (the numbers the files hold)")
    p.set_defaults(func=_read_study)
    p = sub.add_parser("device-curves", help="pinched hysteresis and conductance-vs-pulse curves of a device model")
    p.add_argument("--model", choices=sorted(CURVE_DEFAULTS), default="vteam")
    p.add_argument("--out", default="runs/device-curves")
    p.add_argument("--sine-amplitude", type=float, help="volts (default: 1, stanford-pku 1.5)")
    p.add_argument("--sine-frequency", type=float, help="hertz (default: 2e4, stanford-pku 1e6)")
    p.add_argument("--set-amplitude", type=float, help="volts (default: 1, stanford-pku 1.4)")
    p.add_argument("--reset-amplitude", type=float, help="volts (default: -1, stanford-pku -1.3)")
    p.add_argument("--pulse-width", type=float, help="seconds (default: 1e-6, stanford-pku 2e-8)")
    p.add_argument("--pulses", type=int, default=20, help="pulses of each polarity (default 20)")
    p.add_argument("--json", action="store_true", help="print one JSON object (the numbers the files hold)")
    p.set_defaults(func=_device_curves)
    p = sub.add_parser("program", help="write-verify vs open-loop programming of a 1T1R array (TaOx/HfOx preset)")
    p.add_argument("--out", default="runs/program")
    p.add_argument("--size", type=int, default=32, help="array size N (N x N, default 32)")
    p.add_argument("--backend", default="fast", help="fast, spice or any registered backend with transients")
    p.add_argument("--r-wire", type=float, default=1.0, help="wire resistance per segment, ohms (default 1)")
    p.add_argument("--c2c", type=float, default=0.1, help="cycle-to-cycle noise, relative (default 0.1)")
    p.add_argument("--d2d", type=float, default=0.1, help="device-to-device spread of alpha_set/alpha_reset (default 0.1)")
    p.add_argument("--stuck", type=float, default=0.01, help="fraction of stuck cells, half on, half off (default 0.01)")
    p.add_argument("--max-pulses", type=int, default=60, help="pulse budget per cell (default 60)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object (the numbers the files hold)")
    p.set_defaults(func=_program)
    p = sub.add_parser("disturb-study", help="half-select disturb of a passive array under the V/2 and V/3 schemes")
    p.add_argument("--model", choices=DISTURB_MODELS, default="soft-bounds")
    p.add_argument("--out", default="runs/disturb-study", help="output folder (default: runs/disturb-study)")
    p.add_argument("--backend", default="fast", help="fast, spice or any registered backend with transients")
    p.add_argument("--size", type=int, default=16, help="array size N (N x N, default 16)")
    p.add_argument("--amplitudes", type=float, nargs="+",
                   help="pulse magnitudes, volts (default: soft-bounds 1.2..2.2, vteam 0.45..0.85, yakopcic 0.2..0.44)")
    p.add_argument("--pulses", type=int, nargs="+", default=[1, 2, 5, 10, 20],
                   help="pulse counts reported (default 1 2 5 10 20)")
    p.add_argument("--pulse-width", type=float, help="seconds (default: soft-bounds 5e-8, vteam 1e-6, yakopcic 1e-5)")
    p.add_argument("--r-wire", type=float, default=2.5, help="wire resistance per segment, ohms (default 2.5)")
    p.add_argument("--target", choices=["cell", "row"], default="cell",
                   help="program the centre cell or its whole row (default cell)")
    p.add_argument("--json", action="store_true", help="print one JSON object (the numbers the files hold)")
    p.set_defaults(func=_disturb_study)
    p = sub.add_parser("adc-study", help="signed VMM error and energy versus ADC bits, wire resistance and array size")
    p.add_argument("--out", default="runs/adc-study", help="output folder (default: runs/adc-study)")
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128],
                   help="N: N x N signed weights on an N x 2N array (default 32 64 128)")
    p.add_argument("--bits", type=int, nargs="+", default=list(range(1, 11)), help="ADC resolutions (default 1 .. 10)")
    p.add_argument("--r-wires", type=float, nargs="+", default=[0.0, 1.0, 2.5, 5.0],
                   help="wire resistance per segment, ohms (default 0 1 2.5 5)")
    p.add_argument("--backend", default="fast", help="backend of the study (default fast; any registered name)")
    p.add_argument("--check-backend", default="spice",
                   help="backend that re-solves the small sizes to check the study's (default spice; none: no check)")
    p.add_argument("--batch", type=int, default=64, help="test input vectors, and as many for calibration (default 64)")
    p.add_argument("--check-max-size", type=int, default=32,
                   help="largest N also solved by the check backend (default 32; 0: none)")
    p.add_argument("--margin", type=float, default=1.25,
                   help="ADC full scale / largest calibration output, per column (default 1.25)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object (the numbers the files hold)")
    p.set_defaults(func=_adc_study)
    p = sub.add_parser("train", help="train a network on simulated arrays from a TOML configuration")
    p.add_argument("--config", required=True, help="the run's TOML file (see README: Learning on the arrays)")
    p.add_argument("--run-dir", default="runs/train",
                   help="checkpoints, metrics.csv (default runs/train); a run there resumes")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress bars")
    p.set_defaults(func=_train)
    p = sub.add_parser("demo", help="hybrid training on digits, last layer on ngspice-simulated 1T1R tiles")
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="no table or progress bars; the JSON line only")
    p.set_defaults(func=_demo)
    p = sub.add_parser("netlist", help="write the netlist of a described array and its read, for plain ngspice")
    _add_array_args(p)
    p.add_argument("--out", required=True, help="the .cir file to write (ngspice -b FILE prints the currents)")
    p.set_defaults(func=_netlist)
    p = sub.add_parser("read", help="read a described array on a backend; prints the sensed currents (A) as CSV")
    _add_array_args(p)
    p.add_argument("--backend", default="spice", help="spice, fast, ideal or any registered backend")
    p.add_argument("--json", action="store_true", help="print JSON instead of CSV")
    p.set_defaults(func=_read)
    p = sub.add_parser("validate", help="fast read models and closed forms against ngspice: report table and plots")
    p.add_argument("--out", default="runs/validate", help="output folder (default runs/validate); re-running resumes")
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    p.add_argument("--r-wires", type=float, nargs="+", default=[0.5, 1.0, 2.5], help="ohms per segment")
    p.add_argument("--cells", nargs="+", default=["0T1R", "1T1R"])
    p.add_argument("--on-off-ratios", type=float, nargs="+", default=[10.0], help="g_on / g_off")
    p.add_argument("--hrs-fractions", type=float, nargs="+", default=[0.5], help="fraction of cells in HRS")
    p.add_argument("--devices", nargs="+", default=["resistor"],
                   help="resistor, yao2020, vteam, stanford-pku (memristor models in every cell; default resistor)")
    p.add_argument("--batch", type=int, default=8, help="random input vectors per point (default 8)")
    p.add_argument("--accuracy-r-wires", type=float, nargs="+", default=[1.0, 2.5, 5.0, 10.0],
                   help="wire resistances of the trained-network check (default 1 2.5 5 10)")
    p.add_argument("--no-accuracy", action="store_true", help="skip the trained-network check")
    p.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler instead of a local cluster")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress bar")
    p.set_defaults(func=_validate)
    p = sub.add_parser("sweep", help="run a sweep described in a TOML file on Dask; re-running resumes it")
    p.add_argument("spec", help="the sweep's TOML file: task, [grid], [random] + samples, [fixed], seed, name")
    p.add_argument("--out", required=True, help="results folder (points/*.parquet, results.parquet, results.csv)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786) instead")
    p.add_argument("--keep-failed", action="store_true", help="do not run points that failed before again")
    p.add_argument("--json", action="store_true", help="print one JSON summary, no progress bar")
    p.set_defaults(func=_sweep)
    p = sub.add_parser("reproduce", help="rebuild a published system in simulation: yao2020 (memristor CNN, hybrid"
                                         " training on MNIST); re-running resumes")
    p.add_argument("system", choices=["yao2020"], help="yao2020: Yao et al., Nature 577, 641 (2020)")
    p.add_argument("--out", default="runs/yao2020", help="output folder (default runs/yao2020)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds, one run each (default 0)")
    p.add_argument("--config", help="TOML file of settings over the defaults (sections data, software, arrays,"
                                    " training, system)")
    p.add_argument("--set", type=_setting, action="append", metavar="SECTION.KEY=VALUE",
                   help="one setting, e.g. arrays.c2c=0.2 (repeatable)")
    p.add_argument("--r-wire", type=float, help="wire resistance per segment, ohms (arrays.r_wire, default 1)")
    p.add_argument("--adc-bits", type=int, help="ADC resolution (arrays.adc_bits, default 8)")
    p.add_argument("--d2d", type=float, help="device-to-device spread (arrays.d2d, default 0.1)")
    p.add_argument("--threshold", type=float, help="update threshold in pair steps (training.threshold)")
    p.add_argument("--hybrid-epochs", type=int, help="epochs of hybrid training (training.epochs)")
    p.add_argument("--groups", type=int, help="parallel convolver groups (system.groups, default 3)")
    p.add_argument("--fc-backend", help="backend of the FC layer (default spice)")
    p.add_argument("--workers", type=int, help="Dask workers of the test-set reads (system.eval_workers, default 2;"
                                               " 0: in this process), ngspice processes of the hybrid training"
                                               " and Dask workers of the sensitivity sweep")
    p.add_argument("--sensitivity", action="store_true", help="run the sensitivity table instead: one experiment"
                                                              " per value of each --vary key")
    p.add_argument("--vary", type=_setting, action="append", metavar="SECTION.KEY=[V1,V2]",
                   help="a variation of the sensitivity table (repeatable; default r_wire, ADC bits, d2d, stuck,"
                        " relaxation)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler for the sensitivity sweep")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress bars")
    p.set_defaults(func=_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import SpicelimError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SpicelimError as exc:
        print(f"spicelim {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
