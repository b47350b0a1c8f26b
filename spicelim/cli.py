"""The `spicelim` command."""

from __future__ import annotations

import argparse
import sys


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
