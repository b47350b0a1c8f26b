"""Sweep throughput on a LocalCluster: the same SPICE sweep on 1 worker and on 2 workers, in one run.

    .venv/bin/python scripts/bench_sweep.py [--points 40] [--size 64] [--json runs/bench_sweep.json]

The sweep: `--points` read points (replicates of a size x size 1T1R array with 2.5 ohm wires,
64 random input vectors each, every read solved by ngspice). Each worker count runs the whole
sweep into its own results folder. Throughput = points / wall time of the points, from the
first submission to the last saved row (the cluster's start, about 2 s, is printed apart).
The two runs' tables must hold the same numbers: the script checks that too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from spicelim.sweeps import SweepSpec, run_sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_read import machine  # noqa: E402

NUMBERS = ("error_vs_ideal_max", "error_vs_ideal_rms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=40)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    spec = SweepSpec("read", grid={"replicate": list(range(args.points))},
                     fixed={"rows": args.size, "cols": args.size, "cell": "1T1R", "r_wire": 2.5, "batch": 64,
                            "backend": "spice"}, name="bench")
    print(machine())
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            t0 = time.perf_counter()
            res = run_sweep(spec, Path(tmp) / f"w{workers}", workers=workers, progress=False)
            total = time.perf_counter() - t0
            assert res.ran == args.points and res.failed == 0, res.table.column("error").to_pylist()
            runs[workers] = {"points_seconds": res.seconds, "total_seconds": total,
                             "points_per_second": args.points / res.seconds,
                             "numbers": [res.table.column(c).to_pylist() for c in NUMBERS]}
            print(f"{workers} worker(s): {args.points} points in {res.seconds:.1f} s"
                  f" ({runs[workers]['points_per_second']:.2f} points/s; {total:.1f} s with the cluster's start"
                  " and stop)")
    same = runs[1]["numbers"] == runs[2]["numbers"]
    ratio = runs[2]["points_per_second"] / runs[1]["points_per_second"]
    print(f"throughput 2 workers / 1 worker: {ratio:.2f}x; same numbers in both runs: {same}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        out = {"points": args.points, "size": args.size, "speedup": ratio, "same_numbers": same,
               "machine": machine(), **{f"workers_{w}": {k: v for k, v in r.items() if k != "numbers"}
                                        for w, r in runs.items()}}
        args.json.write_text(json.dumps(out, indent=1))
    if not same:
        raise SystemExit("the two runs disagree")


if __name__ == "__main__":
    main()
