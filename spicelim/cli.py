"""The `spicelim` command."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _doctor(args) -> int:
    from .doctor import run_doctor

    checks = run_doctor()
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            print(f"     {'':<{width}}  fix: {c.fix}")
    bad = [c for c in checks if not c.ok]
    print("all checks passed" if not bad else f"{len(bad)} check(s) failed")
    return 1 if bad else 0


def _read_study(args) -> int:
    from .studies.read_study import run_read_study

    run_read_study(out_dir=args.out, map_size=args.map_size, sizes=tuple(args.sizes), r_wire=args.r_wire,
                   batch=args.batch, seed=args.seed, spice_max_size=args.spice_max_size)
    return 0


def _device_curves(args) -> int:
    from .devices import VTEAM, SoftBoundsRRAM, Yakopcic
    from .studies.device_curves import device_curves

    models = {"vteam": VTEAM, "yakopcic": Yakopcic, "soft-bounds": SoftBoundsRRAM}
    dev = models[args.model]()
    res = device_curves(dev, args.out, sine_amplitude=args.sine_amplitude, sine_frequency=args.sine_frequency,
                        set_amplitude=args.set_amplitude, reset_amplitude=args.reset_amplitude,
                        pulse_width=args.pulse_width, pulses=args.pulses)
    g = {k: np.asarray(v) for k, v in res["ltp_ltd"].items()}
    ref = g["numpy"]
    for label, values in g.items():
        dev_pct = 100 * np.max(np.abs(values - ref)) / np.ptp(ref)
        print(f"{label:>12}: conductance after each pulse, max deviation from numpy {dev_pct:.3f} % of the swing")
    print("wrote " + ", ".join(res["files"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spicelim", description="Circuit-level crossbar simulation with ngspice.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("doctor", help="check ngspice (KLU, OSDI), libngspice, openvaf-r and PySpice; run a 2x2 read")
    p.set_defaults(func=_doctor)
    p = sub.add_parser("read-study", help="IR-drop map and read error versus array size (plots and a table)")
    p.add_argument("--out", default="runs/read-study", help="output folder (default: runs/read-study)")
    p.add_argument("--map-size", type=int, default=128, help="array size of the IR-drop map (default 128)")
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128], help="array sizes for the error sweep")
    p.add_argument("--r-wire", type=float, default=2.5, help="wire resistance per segment, ohms (default 2.5)")
    p.add_argument("--batch", type=int, default=16, help="random input vectors per size (default 16)")
    p.add_argument("--spice-max-size", type=int, default=128,
                   help="largest size also solved by ngspice to check the fast model (default 128)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_read_study)
    p = sub.add_parser("device-curves", help="pinched hysteresis and conductance-vs-pulse curves of a device model")
    p.add_argument("--model", choices=["vteam", "yakopcic", "soft-bounds"], default="vteam")
    p.add_argument("--out", default="runs/device-curves")
    p.add_argument("--sine-amplitude", type=float, default=1.0, help="volts (default 1)")
    p.add_argument("--sine-frequency", type=float, default=2e4, help="hertz (default 2e4)")
    p.add_argument("--set-amplitude", type=float, default=1.0, help="volts (default 1)")
    p.add_argument("--reset-amplitude", type=float, default=-1.0, help="volts (default -1)")
    p.add_argument("--pulse-width", type=float, default=1e-6, help="seconds (default 1e-6)")
    p.add_argument("--pulses", type=int, default=20, help="pulses of each polarity (default 20)")
    p.set_defaults(func=_device_curves)
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
