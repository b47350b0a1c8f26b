"""Run a sweep's points as independent tasks on Dask, saving each result as it lands.

    from spicelim.sweeps import SweepSpec, run_sweep
    spec = SweepSpec("read", grid={"r_wire": [0.5, 1, 2.5], "adc_bits": [4, 6, 8]},
                     fixed={"tia_r_f": 2e4, "rows": 64, "cols": 64})
    result = run_sweep(spec, "runs/my-sweep")               # a LocalCluster of 2 worker processes
    result = run_sweep(spec, "runs/my-sweep", scheduler="tcp://10.0.0.5:8786")   # an existing cluster

Points already in the results folder are skipped (failed ones are run again unless
retry_failed=False), so a sweep killed at any moment resumes where it stopped, losing at most
the points that were running. A point that raises is saved as a failed row with its error, and
the sweep goes on. Every Dask worker holds one spicelim.Backends (so one ngspice worker process)
for all the points it runs, and closes it when the worker stops.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import socket
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from ..errors import EnvironmentProblem, InvalidParameterError
from ..validation import positive_int, real_number, show
from .design import Point, SweepSpec
from .store import ResultStore
from .tasks import DESIGN_PARAMETERS, SweepTask, plain_metric

#: columns every row has besides the parameters and the metrics
META_COLUMNS = ("point", "point_id", "seed", "status", "error", "seconds", "worker", "backend", "versions")
PLUGIN_NAME = "spicelim-backends"
#: Dask settings of the local cluster: each sweep point is one long task, so the event-loop tick
#: (every 20 ms in every process), the workers' statistical profiler (a stack sample every 10 ms),
#: work stealing and the frequent monitors only take CPU from the simulations. Idle, a 2-worker
#: cluster's driver and workers used 5.2-6.0 % + 2 x 3.9-4.4 % of a core with Dask's defaults and
#: 1.2-1.4 % + 2 x 0.3-0.4 % with these; on 2 cores that lifted 2 workers' throughput over 1 worker
#: from 1.64x to 2.01x in scripts/bench_sweep.py.
LOCAL_CLUSTER_CONFIG = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.tick.limit": "30s",
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.work-stealing": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.nanny.memory-monitor-interval": "1s",
}


@dataclass(frozen=True, eq=False)
class SweepResult:
    """What a run of run_sweep did: the whole table so far and counts of this run."""

    table: pa.Table
    path: Path
    points: int  # in the design
    skipped: int  # already finished before this run
    ran: int
    failed: int  # of those run now
    seconds: float  # wall time of this run's points (after the cluster started)
    files: tuple[Path, ...]


def _worker_plugin():
    from distributed import WorkerPlugin

    from ..registry import Backends

    class PointBackends(WorkerPlugin):
        """One Backends per Dask worker, shared by the points it runs and closed when it stops."""

        name = PLUGIN_NAME

        def setup(self, worker):
            self.backends = Backends()

        def teardown(self, worker):
            self.backends.close()

    return PointBackends()


@lru_cache(maxsize=1)
def versions() -> str:
    """The versions behind a result (JSON): spicelim, Python, numpy, scipy, ngspice."""
    out = {"python": platform.python_version()}
    for pkg in ("spicelim", "numpy", "scipy", "PySpice"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    try:
        text = subprocess.run(["ngspice", "-v"], capture_output=True, text=True, timeout=30).stdout
        out["ngspice"] = next((w for w in text.split() if w.startswith("ngspice-")), "unknown")
    except (OSError, subprocess.SubprocessError):
        out["ngspice"] = "not found"
    return json.dumps(out, sort_keys=True)


def _cell(value):
    """A parameter value as a table cell: lists become JSON text."""
    return json.dumps(value) if isinstance(value, list) else value


def _row(point: Point, error: str = "") -> dict:
    """A point's row before its metrics: its place in the design, seed, status and parameters."""
    return {"point": point.index, "point_id": point.point_id, "seed": point.seed,
            "status": "failed" if error else "ok", "error": error[:2000],
            **{k: _cell(v) for k, v in point.params.items()}}


def run_point(point: Point, task: SweepTask, backends=None) -> dict:
    """Run one point (in this process) and return its row; an exception becomes a failed row.

    backends: the spicelim.Backends to run on; default: the Dask worker's, or a set of its own
    (closed afterwards) outside Dask.
    """
    own = None
    if backends is None:
        try:
            from distributed import get_worker

            backends = get_worker().plugins[PLUGIN_NAME].backends
        except (ImportError, ValueError, KeyError, AttributeError):
            from ..registry import Backends

            backends = own = Backends()
    params = {k: v for k, v in point.params.items() if k not in DESIGN_PARAMETERS}
    row = _row(point)
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=1):  # one BLAS thread per worker process: workers share the cores
            metrics = task.run(dict(params), point.seed, backends)
        if not isinstance(metrics, dict):
            raise InvalidParameterError(f"task {task.name!r} returned {show(metrics)}, not a dict of metrics")
        clash = set(metrics) & (set(row) | set(META_COLUMNS))
        if clash:
            raise InvalidParameterError(f"task {task.name!r} returned metric(s) named like a parameter or a"
                                        f" column of the table: {', '.join(sorted(map(str, clash)))}")
        row.update({str(k): plain_metric(str(k), v) for k, v in metrics.items()})
    except Exception as exc:  # noqa: BLE001 - a failed point is a result, not the end of the sweep
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        if own is not None:
            own.close()
    backend = params.get(task.backend_parameter) if task.backend_parameter else None
    row.update(seconds=time.perf_counter() - t0, worker=f"{socket.gethostname()}:{os.getpid()}",
               backend="" if backend is None else str(_cell(backend)), versions=versions())
    return row


def _connect(scheduler, workers: int, connect_timeout: float):
    """(client, cluster we started or None)."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, None
    if scheduler is None:
        import dask

        with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the nannies hand this configuration on to their workers
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InvalidParameterError(f"scheduler must be None (a local cluster), an address such as"
                                    f" 'tcp://host:8786' or a distributed.Client, got {show(scheduler)}")
    try:
        return Client(scheduler, timeout=connect_timeout), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise EnvironmentProblem(f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s"
                                 f" ({type(exc).__name__}: {exc})") from None


def run_sweep(spec: SweepSpec, out, *, scheduler=None, workers: int = 2, retry_failed: bool = True,
              progress: bool = True, connect_timeout: float = 10.0) -> SweepResult:
    """Run every point of `spec` not yet in the results folder `out`; returns the whole table.

    scheduler: None for a LocalCluster of `workers` single-threaded worker processes (started
        and closed here), a scheduler address ("tcp://host:8786") or a distributed.Client (left open).
    retry_failed: run points that failed before again.
    """
    if not isinstance(spec, SweepSpec):
        raise InvalidParameterError(f"spec must be a SweepSpec, got {type(spec).__name__}")
    workers = positive_int("workers", workers, maximum=1024)
    connect_timeout = real_number("connect_timeout (s)", connect_timeout, minimum=0.0, strict=True, maximum=3600)
    points = spec.points()
    if spec.task.check is not None:
        for p in points:  # every point's parameters are checked before anything runs
            try:
                spec.task.check({k: v for k, v in p.params.items() if k not in DESIGN_PARAMETERS})
            except InvalidParameterError as exc:
                raise type(exc)(f"point {p.index} ({_describe(spec, p)}): {exc}") from None
    store = ResultStore(out, spec.describe(), spec.fingerprint())
    done = store.finished()
    pending = [p for p in points if p.point_id not in done or (retry_failed and done[p.point_id] == "failed")]
    failed, seconds = 0, 0.0
    if pending:
        client, cluster = _connect(scheduler, workers, connect_timeout)
        try:
            store.create()
            failed, seconds = _run_pending(client, spec.task, pending, store, progress, spec.name)
        finally:
            if cluster is not None:
                client.close()
                cluster.close()
    files = store.export()
    return SweepResult(table=store.table(), path=store.path, points=len(points), skipped=len(points) - len(pending),
                       ran=len(pending), failed=failed, seconds=seconds, files=files)


def _describe(spec: SweepSpec, p: Point) -> str:
    varied = [*spec.grid, *spec.random]
    return ", ".join(f"{k}={p.params[k]!r}" for k in varied)


def _run_pending(client, task: SweepTask, pending: list[Point], store: ResultStore, progress: bool,
                 name: str) -> tuple[int, float]:
    from distributed import as_completed

    client.register_plugin(_worker_plugin(), name=PLUGIN_NAME)
    t0 = time.perf_counter()
    futures = {client.submit(run_point, p, task, pure=False): p for p in pending}
    failed = 0
    bar = tqdm(total=len(pending), desc=f"sweep {name}", unit="point", disable=not progress)
    try:
        for future in as_completed(futures):
            p = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. the worker process died (KilledWorker)
                row = {**_row(p, f"{type(exc).__name__}: {exc}"), "seconds": 0.0, "worker": "", "backend": "",
                       "versions": versions()}
            store.write(row)
            failed += row["status"] != "ok"
            bar.update(1)
            bar.set_postfix(failed=failed)
    finally:
        bar.close()
        for future in futures:
            future.cancel()
    return failed, time.perf_counter() - t0
