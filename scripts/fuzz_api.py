"""Fuzz the public API and print what was tried: calls, inputs, typed errors, failures.

    .venv/bin/python scripts/fuzz_api.py [--examples 300] [--seed 0] [--json runs/fuzz.json]

Each public call in tests/fuzz_calls.py runs on `--examples` argument sets drawn by hypothesis
(valid arguments with some replaced by hostile values: NaN, inf, integers beyond float range,
subnormals, fractions, wrong shapes and dtypes, ragged lists, text that looks like netlist
commands). A call passes when every input either raises a spicelim typed error or returns finite
numbers within the time limit. Failures are shrunk to a minimal input and printed; the exit code
is 1 if any call failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fuzz_calls import CALLS, TIME_LIMIT_S, call_once  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402


def describe(exc: BaseException) -> str:
    """Each distinct failure: its exception, where in spicelim it was raised, and the shrunk input."""
    parts = []
    for e in getattr(exc, "exceptions", [exc]):
        frames = [f for f in traceback.extract_tb(e.__traceback__) if "/spicelim/" in f.filename]
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        case = next((n for n in getattr(e, "__notes__", []) if "kwargs" in n), "")
        parts.append(f"{type(e).__name__}{where}: {str(e)[:300]}" + (f"\n  {case[:600]}" if case else ""))
    return "\n".join(parts)


def fuzz_one(call, examples: int, rng_seed: int) -> dict:
    counts: Counter = Counter()

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(call.arguments())
    def run(kwargs):
        counts["inputs"] += 1
        counts[call_once(call, kwargs)] += 1

    t0 = time.perf_counter()
    failure = None
    try:
        run()
    except BaseException as exc:  # noqa: BLE001 - a failure of the call under test, reported below
        if isinstance(exc, KeyboardInterrupt):
            raise
        failure = describe(exc)
    return {"call": call.name, "inputs": counts["inputs"], "typed_errors": counts["typed error"],
            "ok": counts["ok"], "seconds": time.perf_counter() - t0, "failure": failure}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=300, help="argument sets per call (default 300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calls", help="comma-separated names of the calls to fuzz (default: every call)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    calls = CALLS
    if args.calls:
        wanted = args.calls.split(",")
        unknown = set(wanted) - {c.name for c in CALLS}
        if unknown:
            ap.error(f"unknown call(s): {', '.join(sorted(unknown))}")
        calls = [c for c in CALLS if c.name in wanted]
    rows = []
    for call in calls:
        row = fuzz_one(call, args.examples, args.seed)
        rows.append(row)
        mark = "FAIL" if row["failure"] else "ok"
        print(f"{mark:>4} {row['call']:<36} {row['inputs']:>6} inputs {row['typed_errors']:>6} typed errors"
              f" {row['ok']:>6} finite results {row['seconds']:>7.1f} s", flush=True)
        if row["failure"]:
            print("     " + row["failure"].replace("\n", "\n     ")[:2000])
    failed = [r for r in rows if r["failure"]]
    total = sum(r["inputs"] for r in rows)
    print(f"\n{len(rows)} public calls, {total} inputs, {sum(r['typed_errors'] for r in rows)} typed errors,"
          f" {sum(r['ok'] for r in rows)} finite results; {len(failed)} call(s) failed (time limit per input:"
          f" {TIME_LIMIT_S:g} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"examples": args.examples, "seed": args.seed, "calls": rows}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
