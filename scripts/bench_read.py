"""Benchmark of the read path: ngspice through spicelim, plain `ngspice -b`, and the fast model.

    .venv/bin/python scripts/bench_read.py [--sizes 16 32 64 128 256] [--batch 64] [--json runs/bench_read.json]

For N x N passive (0T1R) and 1T1R arrays (2.5 ohm per wire segment, ideal drivers, devices
between 50 kOhm and 1 MOhm, random inputs in +-0.2 V) it prints, per size:
  spice s/read   spicelim's batched SPICE read (netlist writing, worker, ngspice, results) / batch
  raw s/read     `ngspice -b -r out.raw` on the same netlist (same analysis, same saved vectors) / batch
  ratio          spice / raw
  fast s/read    fast backend, factorisation included, / batch   (and solve only, factor cached)
Every time is the best of three runs (SPICE and plain ngspice alternate), except that arrays
larger than --repeat-max-size run ngspice once.
  speed-up       spice s/read / fast s/read
  max rel err    max |fast - spice| / max |spice| over the batch
  peak MB        resident peak of the ngspice worker, of plain ngspice, and numpy's peak during the fast read
Then 1,000 consecutive small SPICE reads, with the memory growth of the worker and this process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
from tqdm import tqdm

import spicelim
from spicelim.bias import forward
from spicelim.comparison import agreement
from spicelim.netlist import format_read_netlist, write_netlist
from spicelim.spice import SpiceBackend


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# Runs one command and prints its wall time, peak RSS (KiB) and exit code. A small launcher is
# needed: Linux counts the resident peak of the process that forked (or vforked) a child into the
# child's ru_maxrss, so timing ngspice straight from this (large) process would report our peak.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def raw_ngspice(netlist_text: str) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of `ngspice -b -r out.raw netlist` in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_netlist(Path(tmp) / "read.cir", netlist_text)
        raw = Path(tmp) / "out.raw"
        res = subprocess.run([sys.executable, "-c", _LAUNCHER, shutil.which("ngspice"), "-b", "-r", str(raw), str(path)],
                             capture_output=True, text=True, check=True, cwd=tmp)
        seconds, peak_kb, code = res.stdout.split()
        if int(code) != 0 or not raw.exists():
            raise RuntimeError(f"plain ngspice failed on the netlist (exit {code})")
    return float(seconds), int(peak_kb) / 1024


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ng = subprocess.run(["ngspice", "-v"], capture_output=True, text=True).stdout
    ng = next((ln.strip("* ").strip() for ln in ng.splitlines() if "ngspice-" in ln), "?")
    return (f"{cpu}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB;"
            f" Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}; {ng}")


def bench_one(n: int, cell: str, batch: int, repeats: int, rng) -> dict:
    g = rng.uniform(1e-6, 2e-5, (n, n))
    v = rng.uniform(-0.2, 0.2, (batch, n))
    backend = SpiceBackend(timeout_s=3600)
    with spicelim.Crossbar(2, 2, backends={"spice": backend}) as warm:  # start the worker outside the timing
        warm.set_conductance(np.full((2, 2), 1e-5))
        warm.read(np.ones(2), backend="spice")
    xb = spicelim.Crossbar(n, n, cell, r_row=2.5, r_col=2.5, r_source=0.0, backends={"spice": backend})
    xb.set_conductance(g)
    text = format_read_netlist(xb.params, xb.conductance, forward(v, n, 0.0)).text
    t_spice = t_raw = np.inf
    for _ in range(repeats):  # alternate the two so that machine noise hits both alike
        t0 = time.perf_counter()
        i_spice = xb.read(v, backend="spice")
        t_spice = min(t_spice, time.perf_counter() - t0)
        seconds, raw_peak = raw_ngspice(text)
        t_raw = min(t_raw, seconds)
    worker_peak = status_kb(backend.worker.pid, "VmHWM") / 1024
    backend.close()

    # Fast: best of three fresh arrays (factorisation included), then best of three cached solves.
    t_fast = t_solve = np.inf
    for _ in range(3):
        fresh = spicelim.Crossbar(n, n, cell, r_row=2.5, r_col=2.5, r_source=0.0)
        fresh.set_conductance(g)
        t0 = time.perf_counter()
        i_fast = fresh.read(v, backend="fast")
        t_fast = min(t_fast, time.perf_counter() - t0)
    for _ in range(3):
        t0 = time.perf_counter()
        fresh.read(v, backend="fast")
        t_solve = min(t_solve, time.perf_counter() - t0)
    tracemalloc.start()  # peak of numpy allocations in one more fresh read (tracing slows it: not timed)
    traced = spicelim.Crossbar(n, n, cell, r_row=2.5, r_col=2.5, r_source=0.0)
    traced.set_conductance(g)
    traced.read(v, backend="fast")
    fast_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    err = agreement(i_fast, i_spice).max_rel
    return dict(n=n, cell=cell, batch=batch, spice_s=t_spice / batch, raw_s=t_raw / batch, ratio=t_spice / t_raw,
                fast_s=t_fast / batch, fast_solve_s=t_solve / batch, speedup=t_spice / t_fast, max_rel_err=err,
                worker_peak_mb=worker_peak, raw_peak_mb=raw_peak, fast_numpy_peak_mb=fast_peak)


def bench_memory(reads: int, rng) -> dict:
    backend = SpiceBackend()
    xb = spicelim.Crossbar(16, 16, r_row=2.5, r_col=2.5, backends={"spice": backend})
    xb.set_conductance(rng.uniform(1e-6, 2e-5, (16, 16)))
    v = rng.uniform(-0.2, 0.2, (4, 16))
    for _ in range(50):
        xb.read(v, backend="spice")
    pid = backend.worker.pid
    before = status_kb(pid, "VmRSS"), status_kb(os.getpid(), "VmRSS")
    for _ in tqdm(range(reads), desc="consecutive reads", unit="read", leave=False):
        xb.read(v, backend="spice")
    after = status_kb(pid, "VmRSS"), status_kb(os.getpid(), "VmRSS")
    backend.close()
    return dict(reads=reads, worker_growth_mb=(after[0] - before[0]) / 1024, caller_growth_mb=(after[1] - before[1]) / 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    ap.add_argument("--cells", nargs="+", default=["0T1R", "1T1R"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--memory-reads", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3, help="SPICE and plain-ngspice runs per size (best kept)")
    ap.add_argument("--repeat-max-size", type=int, default=128, help="larger arrays run once")
    ap.add_argument("--json", default="runs/bench_read.json")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(machine())
    jobs = [(n, c) for c in args.cells for n in args.sizes]
    rows = [bench_one(n, c, args.batch, args.repeats if n <= args.repeat_max_size else 1, rng)
            for n, c in tqdm(jobs, desc="arrays", unit="array")]
    print(f"\nbatch of {args.batch} input vectors per read call; times are per input vector")
    print("| N | cell | spice s/read | raw ngspice s/read | spice/raw | fast s/read (factor + solve) | fast s/read (solve) "
          "| spice/fast | max rel err fast vs spice | peak MB worker / raw ngspice / fast numpy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']} | {r['cell']} | {r['spice_s']:.4f} | {r['raw_s']:.4f} | {r['ratio']:.3f} | {r['fast_s']:.2e} "
              f"| {r['fast_solve_s']:.2e} | {r['speedup']:.0f}x | {r['max_rel_err']:.1e} "
              f"| {r['worker_peak_mb']:.0f} / {r['raw_peak_mb']:.0f} / {r['fast_numpy_peak_mb']:.0f} |")
    mem = bench_memory(args.memory_reads, rng) if args.memory_reads else None
    if mem:
        print(f"\n{mem['reads']} consecutive 16x16 SPICE reads (batch 4): worker RSS grew {mem['worker_growth_mb']:.1f} MB,"
              f" caller RSS grew {mem['caller_growth_mb']:.1f} MB")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "rows": rows, "memory": mem}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
