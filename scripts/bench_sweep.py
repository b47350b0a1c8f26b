"""Sweep throughput on a LocalCluster: the same SPICE sweep on 1 worker and on 2 workers, in one run.

    .venv/bin/python scripts/bench_sweep.py [--points 40] [--size 32] [--batch 256] [--rounds 3]
                                            [--json runs/bench_sweep.json]

The sweep: `--points` read points (replicates of a size x size 1T1R array with 2.5 ohm wires,
`--batch` random input vectors each, every read solved by ngspice). Each worker count runs the whole
sweep into its own results folder. Throughput = points / wall time of the points, from the
first submission to the last saved row (the cluster's start, about 2 s, is printed apart).
The machine is shared and noisy, so the two cases alternate for `--rounds` rounds (1 then 2
workers, then 2 then 1, ...); the speed-up is total throughput of the 2-worker runs over that of
the 1-worker runs, with each round's ratio printed too. All runs' tables must hold the same
numbers: the script checks that.
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
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    spec = SweepSpec("read", grid={"replicate": list(range(args.points))},
                     fixed={"rows": args.size, "cols": args.size, "cell": "1T1R", "r_wire": 2.5, "batch": args.batch,
                            "backend": "spice"}, name="bench")
    print(machine())
    runs: dict[int, list[dict]] = {1: [], 2: []}
    numbers = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.rounds):
            for workers in ((1, 2) if k % 2 == 0 else (2, 1)):
                t0 = time.perf_counter()
                res = run_sweep(spec, Path(tmp) / f"r{k}w{workers}", workers=workers, progress=False)
                total = time.perf_counter() - t0
                assert res.ran == args.points and res.failed == 0, res.table.column("error").to_pylist()
                runs[workers].append({"points_seconds": res.seconds, "total_seconds": total})
                numbers.append([res.table.column(c).to_pylist() for c in NUMBERS])
                print(f"round {k + 1}, {workers} worker(s): {args.points} points in {res.seconds:.1f} s"
                      f" ({args.points / res.seconds:.2f} points/s; {total:.1f} s with the cluster's start and stop)")
            print(f"round {k + 1}: 2 workers / 1 worker = "
                  f"{runs[1][-1]['points_seconds'] / runs[2][-1]['points_seconds']:.2f}x")
    same = all(n == numbers[0] for n in numbers)
    seconds = {w: sum(r["points_seconds"] for r in rs) for w, rs in runs.items()}
    ratio = seconds[1] / seconds[2]
    print(f"throughput over {args.rounds} rounds: 1 worker {args.rounds * args.points / seconds[1]:.2f} points/s,"
          f" 2 workers {args.rounds * args.points / seconds[2]:.2f} points/s: {ratio:.2f}x;"
          f" same numbers in every run: {same}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        out = {"points": args.points, "size": args.size, "batch": args.batch, "rounds": args.rounds,
               "speedup": ratio, "same_numbers": same, "machine": machine(), "runs": runs}
        args.json.write_text(json.dumps(out, indent=1))
    if not same:
        raise SystemExit("the runs disagree")


if __name__ == "__main__":
    main()
